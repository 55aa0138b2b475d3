//! Membership changes (thesis §4): proposing one (one at a time, once the
//! leader committed an entry of its term), the configuration each entry
//! leads to, and what happens when a change commits: a joint configuration
//! is left by appending C_new (thesis §4.3), and a removed leader steps down
//! (thesis §4.2.2).

use serde::{Deserialize, Serialize};

use crate::config::Bug;
use crate::quorum::Membership;
use crate::types::{format_ids, Entry, EntryKind, Index, NodeId, Role, Term, NO_NODE};

use crate::kv::StateMachine;
use crate::log::LogStore;
use crate::network::Network;
use crate::storage::Storage;

use super::{ProposeError, RaftServer};

/// A membership change to propose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfChange {
    /// Add a learner (`JoinNoVoteNode`).
    AddLearner(NodeId),
    /// Add a voter or promote a learner (`JoinNode`).
    AddVoter(NodeId),
    /// Remove a member (`LeaveNode`).
    Remove(NodeId),
    /// Replace the voters by this set through joint consensus (thesis §4.3).
    Joint(Vec<NodeId>),
}

impl<S: Storage, L: LogStore, M: StateMachine, N: Network> RaftServer<S, L, M, N> {
    pub(super) fn on_membership_committed(&mut self, e: &Entry) {
        let me = self.id();
        if self.config_index() <= e.index && !self.config().is_voter(me) {
            // Thesis §4.2.2: a removed leader steps down once C_new commits.
            // Its peers are forgotten as it steps down, so first tell them
            // the commit: otherwise they learn it only from the next leader.
            self.bcast_heartbeat();
            let term = self.current_term;
            self.become_follower(term, NO_NODE, crate::why::RoleWhy::Removed);
        }
    }

    /// Thesis §4.3: once C_old,new has committed, the leader appends C_new,
    /// whoever proposed the joint change: a leader elected after the
    /// proposer fell finds the joint configuration committed in its log and
    /// must finish the change, or the cluster stays joint for good. Like any
    /// configuration entry it waits until an entry of the leader's own term
    /// has committed (the 2015 raft-dev fix in the thesis errata), which a
    /// new leader's NoOp provides.
    pub(super) fn maybe_leave_joint(&mut self) {
        if self.state != Role::Leader
            || !self.config().is_joint()
            || self.config_index() > self.last_applied_idx
            || self.log.term_at(self.commit_idx) != Some(self.current_term)
            || self.cfg.bugs.has(Bug::StayJoint)
        {
            return;
        }
        let voters: Vec<NodeId> = self.config().voters.iter().copied().collect();
        let index = self.log.last_index() + 1;
        let term = self.current_term;
        self.append_own(Entry {
            term,
            index,
            kind: EntryKind::JointLeave,
            data: format_ids(&voters),
        });
        self.maybe_commit();
        self.bcast_append();
    }

    /// Proposes a membership change (ERaftKV `JoinNode`/`RemoveNode`). One
    /// change at a time (thesis §4.1), and only once the leader committed an
    /// entry of its own term (not thesis §4.1 itself: the 2015 raft-dev fix
    /// listed in the thesis errata).
    pub fn propose_conf_change(
        &mut self,
        change: ConfChange,
    ) -> Result<(Index, Term), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::NotLeader(self.leader_id()));
        }
        if self.config_index() > self.commit_idx || self.config().is_joint() {
            return Err(ProposeError::ChangePending);
        }
        if self.log.term_at(self.commit_idx) != Some(self.current_term) {
            return Err(ProposeError::LeaderNotReady);
        }
        let c = self.config().clone();
        let invalid = |s: String| Err(ProposeError::Invalid(s));
        let (kind, ids) = match change {
            ConfChange::AddLearner(NO_NODE) | ConfChange::AddVoter(NO_NODE) => {
                return invalid("node id must be positive".into());
            }
            ConfChange::AddLearner(id) => {
                if c.contains(id) {
                    return invalid(format!("S{id} is already a member"));
                }
                (EntryKind::JoinNoVoteNode, vec![id])
            }
            ConfChange::AddVoter(id) => {
                if c.is_voter(id) {
                    return invalid(format!("S{id} is already a voter"));
                }
                (EntryKind::JoinNode, vec![id])
            }
            ConfChange::Remove(id) => {
                if !c.contains(id) {
                    return invalid(format!("S{id} is not a member"));
                }
                if c.is_voter(id) && c.voters.len() == 1 {
                    return invalid("cannot remove the last voter".into());
                }
                (EntryKind::LeaveNode, vec![id])
            }
            ConfChange::Joint(mut voters) => {
                voters.sort_unstable();
                voters.dedup();
                if voters.is_empty() || voters.contains(&NO_NODE) {
                    return invalid("a joint change needs a non-empty set of positive ids".into());
                }
                if voters.iter().copied().eq(c.voters.iter().copied()) {
                    return invalid("the new voters equal the current ones".into());
                }
                (EntryKind::JointEnter, voters)
            }
        };
        self.propose(kind, format_ids(&ids))
    }

    /// The configuration in force at `index`.
    pub(super) fn config_at(&self, index: Index) -> Membership {
        self.config_log
            .iter()
            .rev()
            .find(|(i, _)| *i <= index)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| self.base_config.clone())
    }
}

/// The configuration a membership entry leads to from `prev`.
pub fn next_config(prev: &Membership, e: &Entry) -> Membership {
    let ids = e.node_ids();
    let mut c = prev.clone();
    match e.kind {
        EntryKind::JoinNoVoteNode => {
            for id in ids {
                if !c.is_voter(id) {
                    c.learners.insert(id);
                }
            }
        }
        EntryKind::JoinNode => {
            for id in ids {
                c.learners.remove(&id);
                c.voters.insert(id);
            }
        }
        EntryKind::LeaveNode => {
            for id in ids {
                c.voters.remove(&id);
                c.learners.remove(&id);
                c.outgoing.remove(&id);
            }
        }
        EntryKind::JointEnter => {
            c.outgoing = prev.voters.clone();
            c.voters = ids.into_iter().collect();
            for v in &c.voters {
                c.learners.remove(v);
            }
        }
        EntryKind::JointLeave => {
            c.outgoing.clear();
        }
        EntryKind::Normal | EntryKind::NoOp => {}
    }
    c
}
