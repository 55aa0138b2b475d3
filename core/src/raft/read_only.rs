//! ReadIndex (thesis §6.4): a linearizable read without a log entry. The
//! leader notes its commit index, confirms it still leads with a round of
//! heartbeats (a quorum acknowledging a token at least as new as the
//! read's), and serves the read once its state machine applied that index.
//! A read that arrives before the leader committed an entry of its term
//! waits for that commit, which fixes the index it must see.

use serde::{Deserialize, Serialize};

use crate::types::{Index, Role};

use crate::config::Bug;
use crate::kv::StateMachine;
use crate::log::LogStore;
use crate::network::{Network, RaftEvent};
use crate::storage::Storage;

use super::{ProposeError, RaftServer};

/// A ReadIndex read waiting to be served (thesis §6.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRead {
    /// The caller's id for the read.
    pub read_id: u64,
    /// Commit index when the read arrived: the state it must see.
    pub index: Index,
    /// Acknowledgements with a token at least this confirm leadership.
    pub token: u64,
    /// True once a quorum confirmed.
    pub confirmed: bool,
    /// True while the leader has not committed an entry of its term; the
    /// read index is then taken once it has.
    pub awaiting_term_commit: bool,
}

impl<S: Storage, L: LogStore, M: StateMachine, N: Network> RaftServer<S, L, M, N> {
    /// Starts a ReadIndex read (ERaftKV `ProposeReadReq`, thesis §6.4). It is
    /// served (a `ReadReady` event) once a quorum acknowledged a token at
    /// least as new as the read's, the leader committed an entry of its term,
    /// and the state machine applied the read index.
    pub fn propose_read(&mut self, read_id: u64) -> Result<(), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::NotLeader(self.leader_id()));
        }
        let token = self.lead.next_token;
        let awaiting_term_commit = self.log.term_at(self.commit_idx) != Some(self.current_term);
        self.lead.reads.push_back(PendingRead {
            read_id,
            index: self.commit_idx,
            token,
            confirmed: false,
            awaiting_term_commit,
        });
        // Confirm leadership with a round of heartbeats now.
        self.lead.heartbeat_elapsed = 0;
        self.bcast_heartbeat();
        self.advance_reads();
        Ok(())
    }

    pub(super) fn advance_reads(&mut self) {
        if self.state != Role::Leader || self.lead.reads.is_empty() {
            return;
        }
        // The NoOp of this term must have committed: before that the leader
        // may not know the latest commit index (thesis §6.4 step 1).
        if self.log.term_at(self.commit_idx) != Some(self.current_term) {
            return;
        }
        let me = self.id();
        let learners_count = self.cfg.bugs.has(Bug::LearnerInQuorum);
        let commit = self.commit_idx;
        let mut ready = Vec::new();
        let mut i = 0;
        while i < self.lead.reads.len() {
            let token = self.lead.reads[i].token;
            if !self.lead.reads[i].confirmed {
                let peers = &self.lead.progress;
                let ok = self.config().has_quorum(
                    |id| id == me || peers.get(&id).is_some_and(|p| p.acked_token >= token),
                    learners_count,
                );
                if ok {
                    self.lead.reads[i].confirmed = true;
                }
            }
            let r = &mut self.lead.reads[i];
            if r.awaiting_term_commit {
                // It arrived before this term's NoOp committed: only now is
                // the commit index known to be the cluster's (thesis §6.4).
                r.index = r.index.max(commit);
                r.awaiting_term_commit = false;
            }
            if r.confirmed && self.last_applied_idx >= r.index {
                ready.push((r.read_id, r.index));
                self.lead.reads.remove(i);
            } else {
                i += 1;
            }
        }
        for (read_id, index) in ready {
            self.net.event(RaftEvent::ReadReady { read_id, index });
        }
    }

    /// Answers a read-only query from the local state machine. Call it on
    /// `ReadReady` only: elsewhere the answer may be stale.
    pub fn read_state_machine(&self, query: &[u8]) -> Vec<u8> {
        self.sm.read(query)
    }
}
