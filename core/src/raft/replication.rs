//! Log replication (§5.3): AppendEntries on both sides, the leader's
//! sending (probe, pipeline, heartbeat, commit announcement), commit
//! (§5.4.2) and apply, and client proposals.

use crate::log::{AppendRefusal, Appended};
use crate::types::{
    AppendEntriesReq, AppendEntriesResp, Entry, EntryKind, Index, NodeId, Role, Term, NO_NODE,
};

use super::conf_change::next_config;
use super::progress::{Progress, ReplicaState};

use crate::config::Bug;
use crate::kv::StateMachine;
use crate::log::LogStore;
use crate::network::{Network, RaftEvent};
use crate::storage::Storage;
use crate::why::{CommitCap, CommitWhy, Refusal, RoleWhy};

use super::{ProposeError, RaftServer};

impl<S: Storage, L: LogStore, M: StateMachine, N: Network> RaftServer<S, L, M, N> {
    /// AppendEntries (§5.3): consistency check, conflict truncation (never of
    /// committed entries), commit = min(leader_commit, last new entry).
    pub(super) fn handle_append_entries_req(
        &mut self,
        from: NodeId,
        req: &AppendEntriesReq,
    ) -> AppendEntriesResp {
        let fail = |s: &mut Self, reason: Refusal| {
            s.reject(from, "append_entries", reason);
            AppendEntriesResp {
                message_token: req.message_token,
                term: s.current_term,
                success: false,
                curr_index: s.log.last_index(),
            }
        };
        if req.term < self.current_term {
            return fail(
                self,
                Refusal::StaleLeader {
                    term: req.term,
                    mine: self.current_term,
                },
            );
        }
        if req.leader_id != from {
            return fail(
                self,
                Refusal::LeaderMismatch {
                    claimed: req.leader_id,
                    sender: from,
                },
            );
        }
        if req.term == self.current_term && self.state == Role::Leader {
            return fail(self, Refusal::SameTermLeader { term: req.term });
        }
        self.follow_leader(from, req.term);

        // Validate the batch before touching the log.
        for (i, e) in req.entries.iter().enumerate() {
            let want = req.prev_log_idx.checked_add(i as Index + 1);
            if want != Some(e.index) || e.term > req.term {
                return fail(
                    self,
                    Refusal::MalformedBatch {
                        position: i,
                        index: e.index,
                        term: e.term,
                        prev: req.prev_log_idx,
                        leader_term: req.term,
                    },
                );
            }
        }
        let appended = match self.log.maybe_append(
            req.prev_log_idx,
            req.prev_log_term,
            &req.entries,
            self.commit_idx,
        ) {
            Ok(Some(appended)) => appended,
            Ok(None) => {
                // The whole request lies inside the snapshot: committed here.
                return AppendEntriesResp {
                    message_token: req.message_token,
                    term: self.current_term,
                    success: true,
                    curr_index: req.prev_log_idx + req.entries.len() as Index,
                };
            }
            Err(refusal) => {
                let reason = match refusal {
                    AppendRefusal::Mismatch {
                        index,
                        mine,
                        leader,
                    } => Refusal::LogMismatch {
                        index,
                        mine,
                        leader,
                    },
                    AppendRefusal::Missing { index, last } => Refusal::MissingEntry { index, last },
                    AppendRefusal::Committed(index) => Refusal::WouldOverwriteCommitted { index },
                    AppendRefusal::Truncate(index) => Refusal::CannotTruncate { index },
                    AppendRefusal::Append { index, done } => {
                        self.appended(&req.entries, &done);
                        Refusal::CannotAppend { index }
                    }
                };
                return fail(self, reason);
            }
        };
        let config_changed = self.appended(&req.entries, &appended);
        self.log.sync();
        if config_changed {
            let c = self.config().clone();
            self.net.event(RaftEvent::Config(c));
        }
        let last_new = appended.last_new;
        // Figure 2, AppendEntries rule 5: min(leaderCommit, last new entry).
        let (target, cap) = if req.leader_commit <= last_new {
            (req.leader_commit, CommitCap::LeaderCommit)
        } else if self.cfg.bugs.has(Bug::CommitWithoutMin) {
            (req.leader_commit, CommitCap::Uncapped)
        } else {
            (last_new, CommitCap::LastNew)
        };
        if target > self.commit_idx {
            self.commit_to(
                target,
                CommitWhy::Leader {
                    leader_commit: req.leader_commit,
                    last_new,
                    cap,
                },
            );
        }
        let resp = AppendEntriesResp {
            message_token: req.message_token,
            term: self.current_term,
            success: true,
            curr_index: last_new,
        };
        if req.timeout_now && self.can_campaign() {
            // Campaign right after the answer goes out (see `step`).
            self.transfer_requested = Some(from);
        }
        resp
    }

    /// Tells what `maybe_append` did to the log (a truncation, then each
    /// new entry) and follows it in the configuration history: a cut
    /// suffix takes its configurations along, a new membership entry is in
    /// force at once (thesis §4.1). Returns whether the configuration may
    /// have changed.
    fn appended(&mut self, entries: &[Entry], done: &Appended) -> bool {
        let mut changed = false;
        if let Some(from) = done.truncated_from {
            self.net.event(RaftEvent::Truncate { from });
            self.config_log.retain(|(i, _)| *i < from);
            changed = true;
        }
        for e in &entries[done.new.clone()] {
            self.net.event(RaftEvent::Append(e.clone()));
            if e.kind.is_membership() {
                let next = next_config(self.config(), e);
                self.config_log.push((e.index, next));
                changed = true;
            }
        }
        changed
    }

    /// The checks every answer to the leader passes first: a higher term
    /// deposes it (§5.1); an answer from an older term, or reaching a
    /// server that no longer leads, is stale; only members have progress;
    /// an answer older than one already handled (by token) is ignored.
    /// A fresh answer marks its sender active (CheckQuorum) and records its
    /// token. Returns whether the handler goes on.
    pub(super) fn accept_answer(
        &mut self,
        from: NodeId,
        term: Term,
        token: u64,
        msg: &'static str,
    ) -> bool {
        if term > self.current_term {
            self.become_follower(term, NO_NODE, RoleWhy::HigherTermAnswer { from, term });
            return false;
        }
        if self.state != Role::Leader || term < self.current_term {
            self.reject(from, msg, Refusal::StaleAnswer);
            return false;
        }
        let Some(pr) = self.lead.progress.get_mut(&from) else {
            self.reject(from, msg, Refusal::NotMember { id: from });
            return false;
        };
        if let Err(acked) = pr.answered(token) {
            self.reject(from, msg, Refusal::StaleToken { token, acked });
            return false;
        }
        true
    }

    /// The leader's side of AppendEntries: advances `match_index`, or jumps
    /// `next_index` back using the follower's `curr_index`.
    pub(super) fn handle_append_entries_resp(&mut self, from: NodeId, resp: &AppendEntriesResp) {
        if !self.accept_answer(from, resp.term, resp.message_token, "append_entries_resp") {
            return;
        }
        let last_index = self.log.last_index();
        let Some(pr) = self.lead.progress.get_mut(&from) else {
            return;
        };
        let commit_before = self.commit_idx;
        let record = pr.free_to(resp.message_token);
        if resp.success {
            pr.maybe_update(resp.curr_index.min(last_index));
            pr.become_replicate();
            pr.resend_if_window_lost();
            self.maybe_commit();
        } else if let Some(rec) = record {
            if pr.is_snapshotting() {
                return;
            }
            // Jump to just past the follower's last entry, but never past the
            // index that just failed, nor below what is known to match.
            pr.become_probe(Progress::probe_point(rec.prev, resp.curr_index));
        }
        self.advance_reads();
        self.maybe_send_timeout_now(from);
        self.send_append(from);
        if self.commit_idx > commit_before {
            let ids: Vec<NodeId> = self.lead.progress.keys().copied().collect();
            for id in ids {
                self.send_commit(id);
            }
        } else {
            self.send_commit(from);
        }
    }

    // ----- replication (leader) -----

    /// A request from the leader of `term` (already checked to be at least
    /// this server's): follow it, note the contact (leader stickiness) and
    /// restart the election timer (§5.2).
    pub(super) fn follow_leader(&mut self, from: NodeId, term: Term) {
        if term > self.current_term || self.state != Role::Follower || self.leader_id != from {
            self.become_follower(term, from, RoleWhy::NewLeader { leader: from, term });
        }
        self.leader_contact = Some(0);
        self.reset_election_timer();
    }

    pub(super) fn new_token(&mut self) -> u64 {
        let t = self.lead.next_token;
        self.lead.next_token += 1;
        t
    }

    pub(super) fn bcast_append(&mut self) {
        let ids: Vec<NodeId> = self.lead.progress.keys().copied().collect();
        for id in ids {
            self.send_append(id);
        }
    }

    pub(super) fn bcast_heartbeat(&mut self) {
        let ids: Vec<NodeId> = self.lead.progress.keys().copied().collect();
        for id in ids {
            self.send_heartbeat(id);
        }
    }

    /// Sends entries to `id` as its progress allows: one probe at a time, or
    /// pipelined up to `max_inflight` while replicating.
    pub(super) fn send_append(&mut self, id: NodeId) {
        loop {
            let last = self.log.last_index();
            let Some(pr) = self.lead.progress.get(&id) else {
                return;
            };
            if pr.is_paused(last, self.cfg.max_inflight) {
                return;
            }
            if !self.send_append_from(id, false) {
                return;
            }
            if self.lead.progress.get(&id).is_some_and(|p| p.is_probing()) {
                return;
            }
        }
    }

    /// Builds and sends one AppendEntries from `next_index`; switches to a
    /// snapshot when the entries are compacted (§7). Returns whether it sent.
    pub(super) fn send_append_from(&mut self, id: NodeId, timeout_now: bool) -> bool {
        let Some(pr) = self.lead.progress.get(&id) else {
            return false;
        };
        let next = pr.next_index.max(1);
        let prev = next - 1;
        let Some(prev_term) = self.log.term_at(prev) else {
            return self.start_snapshot_transfer(id);
        };
        if next <= self.log.base_index() {
            return self.start_snapshot_transfer(id);
        }
        let entries = self.log.entries(next, self.cfg.max_entries_per_msg);
        let token = self.new_token();
        let last = prev + entries.len() as Index;
        let me = self.id();
        let req = AppendEntriesReq {
            leader_id: me,
            message_token: token,
            term: self.current_term,
            prev_log_idx: prev,
            prev_log_term: prev_term,
            leader_commit: self.commit_idx,
            entries,
            timeout_now,
        };
        let commit = self.commit_idx;
        if let Some(pr) = self.lead.progress.get_mut(&id) {
            pr.sent_append(token, prev, last, commit);
        }
        self.net.send_append_entries(me, id, req);
        true
    }

    fn send_heartbeat(&mut self, id: NodeId) {
        let Some(pr) = self.lead.progress.get(&id) else {
            return;
        };
        match pr.state {
            ReplicaState::Snapshot { .. } => {}
            ReplicaState::Probe => {
                // Resend the probe: the last one may be lost.
                if let Some(pr) = self.lead.progress.get_mut(&id) {
                    pr.forget_inflight();
                }
                self.send_append_from(id, false);
            }
            ReplicaState::Replicate => {
                // Anchor at the known match so in-flight entries never make
                // the heartbeat fail; commit travels up to that point.
                let prev = pr.match_index;
                let Some(prev_term) = self.log.term_at(prev) else {
                    self.start_snapshot_transfer(id);
                    return;
                };
                if pr.is_window_full(self.cfg.max_inflight) {
                    // The window may be stuck on lost appends: restart from the match.
                    if let Some(pr) = self.lead.progress.get_mut(&id) {
                        pr.forget_inflight();
                        pr.resend_from_match();
                    }
                }
                let token = self.new_token();
                let me = self.id();
                let commit = self.commit_idx;
                if let Some(pr) = self.lead.progress.get_mut(&id) {
                    pr.commit_sent(commit.min(prev));
                }
                let req = AppendEntriesReq {
                    leader_id: me,
                    message_token: token,
                    term: self.current_term,
                    prev_log_idx: prev,
                    prev_log_term: prev_term,
                    leader_commit: commit,
                    entries: Vec::new(),
                    timeout_now: false,
                };
                self.net.send_append_entries(me, id, req);
                self.send_append(id);
            }
        }
    }

    /// Tells an idle, caught-up follower a commit index it has not heard
    /// yet, with an empty append anchored at its match (as etcd does): the
    /// last entries of a burst then commit everywhere without waiting for
    /// a heartbeat. A follower with appends in flight hears it with the
    /// next append its answer triggers.
    fn send_commit(&mut self, id: NodeId) {
        let Some(pr) = self.lead.progress.get(&id) else {
            return;
        };
        if !self.cfg.announce_commit
            || !pr.is_idle_replicating()
            || pr.commit_sent >= self.commit_idx.min(pr.match_index)
        {
            return;
        }
        self.send_append_from(id, false);
    }

    /// Commits the highest index a quorum holds, but only if it is from the
    /// current term: older entries commit indirectly (§5.4.2, Figure 8).
    pub(super) fn maybe_commit(&mut self) {
        if self.state != Role::Leader {
            return;
        }
        let me = self.id();
        let last = self.log.last_index();
        let candidate = self.config().committed_index(
            |id| {
                if id == me {
                    last
                } else {
                    self.lead
                        .progress
                        .get(&id)
                        .map(|p| p.match_index)
                        .unwrap_or(0)
                }
            },
            self.cfg.bugs.has(Bug::LearnerInQuorum),
        );
        if candidate <= self.commit_idx {
            return;
        }
        let entry_term = self.log.term_at(candidate).unwrap_or(0);
        if entry_term == self.current_term || self.cfg.bugs.has(Bug::Figure8) {
            let learners = if self.cfg.bugs.has(Bug::LearnerInQuorum) {
                let c = self.config();
                self.lead
                    .progress
                    .iter()
                    .filter(|(&id, p)| p.match_index >= candidate && !c.is_voter(id))
                    .map(|(&id, _)| id)
                    .collect()
            } else {
                Vec::new()
            };
            self.commit_to(
                candidate,
                CommitWhy::Majority {
                    entry_term,
                    my_term: self.current_term,
                    learners,
                },
            );
        }
    }

    pub(super) fn commit_to(&mut self, index: Index, reason: CommitWhy) {
        debug_assert!(index > self.commit_idx, "a commit index never goes back");
        self.commit_idx = index;
        self.net.event(RaftEvent::Commit { index, reason });
        self.apply_committed();
    }

    /// Applies committed entries in order, then acts on committed
    /// membership changes.
    pub(super) fn apply_committed(&mut self) {
        while self.last_applied_idx < self.commit_idx {
            let Some(e) = self.log.get(self.last_applied_idx + 1) else {
                break; // not held (only with the commit-without-min bug)
            };
            let output = if e.kind == EntryKind::Normal {
                self.sm.apply(&e)
            } else {
                Vec::new()
            };
            self.last_applied_idx = e.index;
            self.last_applied_term = e.term;
            self.net.event(RaftEvent::Apply {
                index: e.index,
                term: e.term,
                output,
            });
            if e.kind.is_membership() && self.state == Role::Leader {
                self.on_membership_committed(&e);
            }
        }
        debug_assert!(self.last_applied_idx <= self.commit_idx);
        self.maybe_leave_joint();
        self.advance_reads();
    }

    pub(super) fn append_own(&mut self, e: Entry) {
        if self.log.append(e.clone()).is_err() {
            return;
        }
        self.log.sync();
        self.net.event(RaftEvent::Append(e.clone()));
        if e.kind.is_membership() {
            let next = next_config(self.config(), &e);
            self.config_log.push((e.index, next.clone()));
            self.net.event(RaftEvent::Config(next));
            self.sync_peers();
        }
    }

    // ----- proposals -----

    /// Appends a client command (ERaftKV `ProposeEntry`) and starts
    /// replicating it. Returns where it went, so the caller can match the
    /// apply.
    pub fn propose_entry(&mut self, data: Vec<u8>) -> Result<(Index, Term), ProposeError> {
        self.propose(EntryKind::Normal, data)
    }

    pub(super) fn propose(
        &mut self,
        kind: EntryKind,
        data: Vec<u8>,
    ) -> Result<(Index, Term), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::NotLeader(self.leader_id()));
        }
        if self.lead.transfer.is_some() {
            return Err(ProposeError::Transferring);
        }
        let index = self.log.last_index() + 1;
        let term = self.current_term;
        self.append_own(Entry {
            term,
            index,
            kind,
            data,
        });
        self.maybe_commit();
        self.bcast_new_entries();
        Ok((index, term))
    }

    /// Sends a new proposal to followers with nothing in flight. Busy
    /// pipelines take it with their next answer, so proposals made in quick
    /// succession travel together: batching without a timer.
    fn bcast_new_entries(&mut self) {
        let idle: Vec<NodeId> = self
            .lead
            .progress
            .iter()
            .filter(|(_, p)| p.inflight.is_empty())
            .map(|(&id, _)| id)
            .collect();
        for id in idle {
            self.send_append(id);
        }
    }
}
