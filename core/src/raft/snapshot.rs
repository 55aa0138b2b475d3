//! Snapshots (§7): taking one locally and compacting the log, sending one
//! in chunks to a follower that needs compacted entries (stop-and-wait,
//! resent after `snapshot_retry_ticks`), and receiving and installing one.

use crate::network::SnapshotSource;
use crate::quorum::Membership;
use crate::storage::{ChunkError, Snapshot};
use crate::types::{Index, NodeId, Role, SnapshotReq, SnapshotResp, Term};
use crate::why::{CommitWhy, Refusal};

use super::progress::ReplicaState;

use crate::kv::StateMachine;
use crate::log::LogStore;
use crate::network::{Network, RaftEvent};
use crate::storage::Storage;

use super::RaftServer;

/// The configuration an applied snapshot carried, plus the state machine's bytes.
fn snapshot_bytes(config: &Membership, state: &[u8]) -> Vec<u8> {
    let mut out = serde_json::to_vec(config).unwrap_or_default();
    out.push(b'\n');
    out.extend_from_slice(state);
    out
}

/// Splits a snapshot image into its configuration and state bytes.
pub fn parse_snapshot(data: &[u8]) -> Result<(Membership, &[u8]), String> {
    let nl = data
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| "snapshot has no configuration header".to_string())?;
    let config: Membership = serde_json::from_slice(&data[..nl])
        .map_err(|e| format!("snapshot configuration unreadable: {e}"))?;
    Ok((config, &data[nl + 1..]))
}

impl<S: Storage, L: LogStore, M: StateMachine, N: Network> RaftServer<S, L, M, N> {
    /// A snapshot chunk (§7): checked against the offset expected next;
    /// duplicates and gaps are answered with that offset; the last chunk
    /// installs the snapshot.
    pub(super) fn handle_snapshot_req(&mut self, from: NodeId, req: &SnapshotReq) -> SnapshotResp {
        let answer = |s: &Self, offset: u64, success: bool, last: bool| SnapshotResp {
            term: s.current_term,
            message_token: req.message_token,
            offset,
            success,
            is_last_chunk: last,
        };
        if req.term < self.current_term {
            self.reject(
                from,
                "snapshot",
                Refusal::StaleLeader {
                    term: req.term,
                    mine: self.current_term,
                },
            );
            return answer(self, 0, false, false);
        }
        if req.leader_id != from || (req.term == self.current_term && self.state == Role::Leader) {
            self.reject(from, "snapshot", Refusal::SnapshotNotFromLeader);
            return answer(self, 0, false, false);
        }
        self.follow_leader(from, req.term);
        if req.snapshot_index <= self.commit_idx {
            // Older than what this server already has: ignore it (§7), but
            // tell the leader it may move on.
            self.storage.clear_snapshot();
            self.reject(
                from,
                "snapshot",
                Refusal::SnapshotNotNewer {
                    index: req.snapshot_index,
                    commit: self.commit_idx,
                },
            );
            return answer(self, req.block.offset, true, true);
        }
        self.begin_load_snapshot(req.snapshot_term, req.snapshot_index);
        match self
            .storage
            .store_snapshot_block(req.snapshot_index, req.snapshot_term, &req.block)
        {
            Ok(next) => {
                if req.block.is_last_chunk {
                    match self.end_load_snapshot() {
                        Ok(()) => answer(self, next, true, true),
                        Err(why) => {
                            self.storage.clear_snapshot();
                            self.reject(
                                from,
                                "snapshot",
                                Refusal::SnapshotUnusable { detail: why },
                            );
                            answer(self, 0, false, false)
                        }
                    }
                } else {
                    answer(self, next, true, false)
                }
            }
            Err(ChunkError::WrongOffset { expected, got }) => {
                self.reject(from, "snapshot", Refusal::ChunkOffset { got, expected });
                answer(self, expected, false, false)
            }
            Err(ChunkError::BadSize) => {
                self.reject(from, "snapshot", Refusal::ChunkSize);
                let expected = self.storage.incoming_snapshot().map(|s| s.2).unwrap_or(0);
                answer(self, expected, false, false)
            }
        }
    }

    /// Prepares to receive a snapshot (ERaftKV `BeginLoadSnapshot`): a chunk
    /// of a different snapshot than the one in progress starts it over.
    fn begin_load_snapshot(&mut self, last_included_term: Term, last_included_index: Index) {
        if let Some((i, t, _)) = self.storage.incoming_snapshot() {
            if (i, t) != (last_included_index, last_included_term) {
                self.storage.clear_snapshot();
            }
        }
    }

    /// Installs the fully received snapshot (ERaftKV `EndLoadSnapshot`): the
    /// state machine takes its image; the log keeps a suffix that matches it
    /// and discards the rest (§7).
    fn end_load_snapshot(&mut self) -> Result<(), String> {
        let Some((index, term, _)) = self.storage.incoming_snapshot() else {
            return Err("no snapshot being received".into());
        };
        // Validate before committing to it: a malformed image must not
        // become the persisted snapshot, or the next restart fails.
        let Some(data) = self.storage.incoming_snapshot_data() else {
            return Err("no snapshot being received".into());
        };
        let (config, state) = parse_snapshot(&data)?;
        self.sm.restore(state)?;
        if self.storage.finish_incoming_snapshot().is_none() {
            return Err("no snapshot being received".into());
        }
        if self.log.term_at(index) == Some(term) && index >= self.log.first_index() {
            let _ = self.log.compact_to(index);
        } else if self.log.term_at(index) != Some(term) {
            self.log.reset(index, term);
        }
        self.base_config = config;
        self.restore_log();
        self.last_applied_idx = index;
        self.last_applied_term = term;
        self.net.event(RaftEvent::Snapshot {
            index,
            term,
            source: SnapshotSource::Install,
        });
        if index > self.commit_idx {
            self.commit_idx = index;
            self.net.event(RaftEvent::Commit {
                index,
                reason: CommitWhy::Snapshot,
            });
        }
        let c = self.config().clone();
        self.net.event(RaftEvent::Config(c));
        self.apply_committed();
        Ok(())
    }

    /// The leader's side of a snapshot chunk: move to the offset the
    /// follower expects; after the last chunk, resume appends after the
    /// snapshot index.
    pub(super) fn handle_snapshot_resp(&mut self, from: NodeId, resp: &SnapshotResp) {
        if !self.accept_answer(from, resp.term, resp.message_token, "snapshot_resp") {
            return;
        }
        let Some(pr) = self.lead.progress.get_mut(&from) else {
            return;
        };
        let ReplicaState::Snapshot { index, total, .. } = pr.state else {
            self.reject(from, "snapshot_resp", Refusal::NoSnapshotTransfer);
            return;
        };
        if resp.success && resp.is_last_chunk {
            pr.snapshot_installed(index);
            self.maybe_commit();
            self.advance_reads();
            self.send_append(from);
            return;
        }
        if resp.offset > total {
            self.reject(
                from,
                "snapshot_resp",
                Refusal::OffsetPastEnd {
                    offset: resp.offset,
                },
            );
            return;
        }
        // Go on from the offset the follower expects (after a duplicate or
        // a gap it says where it is).
        pr.snapshot_acked(resp.offset);
        self.advance_reads();
        self.send_snapshot_chunk(from);
    }

    pub(super) fn start_snapshot_transfer(&mut self, id: NodeId) -> bool {
        let Some(snap) = self.storage.load_snapshot() else {
            return false;
        };
        if let Some(pr) = self.lead.progress.get_mut(&id) {
            pr.become_snapshot(snap.index, snap.term, snap.data.len() as u64);
        }
        self.send_snapshot_chunk(id);
        true
    }

    pub(super) fn send_snapshot_chunk(&mut self, id: NodeId) {
        let Some(snap_meta) = self.storage.load_snapshot().map(|s| (s.index, s.term)) else {
            return;
        };
        let Some(pr) = self.lead.progress.get_mut(&id) else {
            return;
        };
        let ReplicaState::Snapshot {
            index,
            term,
            offset,
            ..
        } = pr.state
        else {
            return;
        };
        if (index, term) != snap_meta {
            // A newer snapshot was taken meanwhile: start over with it.
            self.start_snapshot_transfer(id);
            return;
        }
        pr.snapshot_chunk_sent();
        let (snapshot_index, snapshot_term) = snap_meta;
        let Some(block) = self
            .storage
            .get_snapshot_block(offset, self.cfg.snapshot_chunk_bytes)
        else {
            return;
        };
        let token = self.new_token();
        let me = self.id();
        let req = SnapshotReq {
            term: self.current_term,
            leader_id: me,
            message_token: token,
            snapshot_index,
            snapshot_term,
            block,
        };
        self.net.send_snapshot(me, id, req);
    }

    // ----- snapshots (§7) -----

    /// Captures a snapshot of the applied state (ERaftKV `BeginSnapshot`).
    fn begin_snapshot(&mut self) -> Result<(), String> {
        if self.snapshot_in_progress.is_some() {
            return Err("a snapshot is already being taken".into());
        }
        let index = self.last_applied_idx;
        if index <= self.log.base_index() {
            return Err(format!(
                "nothing to compact: applied index {index} is at the snapshot base"
            ));
        }
        let term = self.last_applied_term;
        let config = self.config_at(index);
        let data = snapshot_bytes(&config, &self.sm.snapshot());
        self.snapshot_in_progress = Some(Snapshot { index, term, data });
        Ok(())
    }

    /// Stores the captured snapshot and compacts the log up to it (ERaftKV
    /// `EndSnapshot`).
    fn end_snapshot(&mut self) -> Result<(), String> {
        let Some(snap) = self.snapshot_in_progress.take() else {
            return Err("no snapshot was begun".into());
        };
        let (index, term) = (snap.index, snap.term);
        if index <= self.log.base_index() {
            return Err("the log was already compacted past this snapshot".into());
        }
        let config = self.config_at(index);
        self.storage.create_snapshot(snap);
        self.log.compact_to(index).map_err(|e| e.to_string())?;
        self.base_config = config;
        self.config_log.retain(|(i, _)| *i > index);
        self.net.event(RaftEvent::Snapshot {
            index,
            term,
            source: SnapshotSource::Local,
        });
        Ok(())
    }

    /// Begins and ends a snapshot in one go.
    pub fn take_snapshot(&mut self) -> Result<Index, String> {
        self.begin_snapshot()?;
        self.end_snapshot()?;
        Ok(self.log.base_index())
    }
}
