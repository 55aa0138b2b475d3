//! A leader's view of one follower (Figure 2's `nextIndex`/`matchIndex`),
//! in the shape of raft-rs's `Progress`: the replication state
//! (Probe/Replicate/Snapshot), the window of appends in flight, and what
//! the follower acknowledged. Every change goes through a method here, so
//! the state machine of a progress reads in one place:
//!
//! ```text
//!            append answered            entries compacted
//!   Probe ──────────────────► Replicate ────────────────► Snapshot
//!     ▲  ◄──────────────────      │                          │
//!     │    append refused         └──── (same) ──────────────┤
//!     └──────────────── last chunk acknowledged ─────────────┘
//! ```
//!
//! Invariant: `next_index > match_index` (the leader never sends what it
//! knows the follower holds); checked where `next_index` moves.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::types::{Index, Term};

/// How the leader is replicating to one follower (the shape of raft-rs's
/// `Progress`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum ReplicaState {
    /// Searching for the point where the logs match: one append at a time.
    Probe,
    /// Logs match: appends are pipelined, up to `max_inflight`.
    Replicate,
    /// The follower needs entries the leader compacted: sending a snapshot.
    Snapshot {
        /// Index the snapshot covers.
        index: Index,
        /// Its term.
        term: Term,
        /// Bytes acknowledged so far.
        offset: u64,
        /// Total bytes.
        total: u64,
        /// Ticks since the last chunk was sent.
        since_sent: u64,
    },
}

/// An append in flight, remembered by its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inflight {
    /// The token it was sent with.
    pub token: u64,
    /// Its `prev_log_idx`.
    pub prev: Index,
    /// Index of its last entry (`prev` for a heartbeat).
    pub last: Index,
}

/// The leader's view of one follower (Figure 2's `nextIndex`/`matchIndex`).
/// Fields are public to read (the page draws them); only the server
/// changes them, through the methods below.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Next index to send.
    pub next_index: Index,
    /// Highest index known to be replicated there.
    pub match_index: Index,
    /// Probe, replicate or snapshot.
    pub state: ReplicaState,
    /// Appends sent and not yet answered.
    pub inflight: VecDeque<Inflight>,
    /// Highest token the follower has answered; older answers are stale.
    pub acked_token: u64,
    /// Heard from since the last CheckQuorum round (thesis §6.2).
    pub recent_active: bool,
    /// Highest commit index this follower can have learned from what was
    /// sent to it (`leader_commit`, capped at the request's last index).
    #[serde(default)]
    pub commit_sent: Index,
}

impl Progress {
    /// A fresh progress: probing from `next_index`, nothing known to
    /// match, counted active so a new leader is not deposed by CheckQuorum
    /// before anyone could answer.
    pub(crate) fn new(next_index: Index) -> Self {
        Progress {
            next_index,
            match_index: 0,
            state: ReplicaState::Probe,
            inflight: VecDeque::new(),
            acked_token: 0,
            recent_active: true,
            commit_sent: 0,
        }
    }

    /// Whether the leader is still searching for the matching point.
    pub fn is_probing(&self) -> bool {
        self.state == ReplicaState::Probe
    }

    /// Whether the follower is replicating with nothing in flight and
    /// nothing sent past its match: an empty append would reach it at once.
    pub fn is_idle_replicating(&self) -> bool {
        self.state == ReplicaState::Replicate
            && self.inflight.is_empty()
            && self.next_index == self.match_index + 1
    }

    /// Whether a snapshot is being sent instead of entries.
    pub fn is_snapshotting(&self) -> bool {
        matches!(self.state, ReplicaState::Snapshot { .. })
    }

    fn check(&self) {
        debug_assert!(
            self.next_index > self.match_index,
            "a follower's progress has match {} >= next {}",
            self.match_index,
            self.next_index
        );
    }

    // ----- state transitions -----

    /// Back to probing from `next` (never below what is known to match):
    /// the follower refused an append, so what was in flight is void.
    pub(crate) fn become_probe(&mut self, next: Index) {
        self.next_index = next.max(self.match_index + 1);
        self.state = ReplicaState::Probe;
        self.inflight.clear();
        self.check();
    }

    /// The follower answered an append: the logs match, so pipeline from
    /// now on. Only a probing progress moves; one receiving a snapshot
    /// stays there until the snapshot is acknowledged.
    pub(crate) fn become_replicate(&mut self) {
        if self.state == ReplicaState::Probe {
            self.state = ReplicaState::Replicate;
        }
    }

    /// The entries the follower needs were compacted (§7): send the
    /// snapshot at `(index, term)` of `total` bytes from its start.
    pub(crate) fn become_snapshot(&mut self, index: Index, term: Term, total: u64) {
        self.state = ReplicaState::Snapshot {
            index,
            term,
            offset: 0,
            total,
            since_sent: 0,
        };
        self.inflight.clear();
    }

    /// The follower installed the snapshot at `index`: it holds everything
    /// up to there; probe from just after.
    pub(crate) fn snapshot_installed(&mut self, index: Index) {
        self.match_index = self.match_index.max(index);
        self.next_index = self.match_index + 1;
        self.state = ReplicaState::Probe;
        self.inflight.clear();
        self.check();
    }

    // ----- acknowledgements -----

    /// Records an answer carrying `token`: the follower is alive
    /// (CheckQuorum) whatever the token; an answer older than one already
    /// handled is stale, and `Err` carries the newest token answered.
    pub(crate) fn answered(&mut self, token: u64) -> Result<(), u64> {
        self.recent_active = true;
        if token < self.acked_token {
            return Err(self.acked_token);
        }
        self.acked_token = token;
        Ok(())
    }

    /// Starts a new CheckQuorum round: the follower must be heard again.
    pub(crate) fn reset_recent_active(&mut self) {
        self.recent_active = false;
    }

    /// The follower holds everything up to `n`: raise the match (never
    /// lower it) and keep `next_index` past it. Returns whether the match
    /// advanced.
    pub(crate) fn maybe_update(&mut self, n: Index) -> bool {
        let updated = n > self.match_index;
        if updated {
            self.match_index = n;
        }
        if self.next_index <= self.match_index {
            self.next_index = self.match_index + 1;
        }
        self.check();
        updated
    }

    /// After a refused append whose `prev` was `failed_prev`: the next
    /// index to probe, just past the follower's last entry `hint`, but never
    /// past the index that just failed.
    pub(crate) fn probe_point(failed_prev: Index, hint: Index) -> Index {
        hint.saturating_add(1).min(failed_prev.max(1))
    }

    // ----- the in-flight window -----

    /// Whether the window is closed for new appends: a snapshot is on its
    /// way, a probe is unanswered, or a replicating follower has
    /// `max_inflight` appends out or nothing left to send up to `last`.
    pub(crate) fn is_paused(&self, last: Index, max_inflight: usize) -> bool {
        match self.state {
            ReplicaState::Snapshot { .. } => true,
            ReplicaState::Probe => !self.inflight.is_empty(),
            ReplicaState::Replicate => {
                self.inflight.len() >= max_inflight || self.next_index > last
            }
        }
    }

    /// Whether the window is full (a replicating follower may be stuck on
    /// lost appends).
    pub(crate) fn is_window_full(&self, max_inflight: usize) -> bool {
        self.inflight.len() >= max_inflight
    }

    /// Remembers an append sent with `token` covering `prev + 1 ..= last`
    /// and carrying `commit`: while replicating, the next append goes on
    /// after it without waiting for the answer.
    pub(crate) fn sent_append(&mut self, token: u64, prev: Index, last: Index, commit: Index) {
        self.inflight.push_back(Inflight { token, prev, last });
        if self.state == ReplicaState::Replicate {
            self.optimistic_update(last);
        }
        self.commit_sent(commit.min(last));
    }

    /// Pipelining: assume the append up to `last` arrives.
    pub(crate) fn optimistic_update(&mut self, last: Index) {
        self.next_index = last + 1;
        self.check();
    }

    /// The follower can have learned commit index `index` from a message.
    pub(crate) fn commit_sent(&mut self, index: Index) {
        self.commit_sent = self.commit_sent.max(index);
    }

    /// Frees the window up to the answer with `token` (answers arrive in
    /// order, so older appends are answered or lost) and returns the append
    /// it answers, if still remembered.
    pub(crate) fn free_to(&mut self, token: u64) -> Option<Inflight> {
        let record = self.inflight.iter().find(|f| f.token == token).copied();
        self.inflight.retain(|f| f.token > token);
        record
    }

    /// Forgets every append in flight (the probe is sent again).
    pub(crate) fn forget_inflight(&mut self) {
        self.inflight.clear();
    }

    /// Resends from just after the match: what was sent beyond it is lost.
    pub(crate) fn resend_from_match(&mut self) {
        self.next_index = self.match_index + 1;
        self.check();
    }

    /// Everything sent is answered yet not all matched: some appends were
    /// lost; resend from the match.
    pub(crate) fn resend_if_window_lost(&mut self) {
        if self.inflight.is_empty() && self.next_index > self.match_index + 1 {
            self.resend_from_match();
        }
    }

    // ----- snapshot sending (stop-and-wait) -----

    /// One tick without an answer to the last chunk; `true` once
    /// `retry_ticks` passed and the chunk should be sent again.
    pub(crate) fn tick_snapshot(&mut self, retry_ticks: u64) -> bool {
        match &mut self.state {
            ReplicaState::Snapshot { since_sent, .. } => {
                *since_sent += 1;
                *since_sent >= retry_ticks
            }
            _ => false,
        }
    }

    /// A chunk goes out now: restart the retry count.
    pub(crate) fn snapshot_chunk_sent(&mut self) {
        if let ReplicaState::Snapshot { since_sent, .. } = &mut self.state {
            *since_sent = 0;
        }
    }

    /// The follower expects the bytes from `offset` on next.
    pub(crate) fn snapshot_acked(&mut self, offset: u64) {
        if let ReplicaState::Snapshot { offset: o, .. } = &mut self.state {
            *o = offset;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_append_probes_from_the_hint_but_never_below_the_match() {
        let mut pr = Progress::new(10);
        pr.maybe_update(4);
        pr.sent_append(1, 4, 9, 0);
        pr.become_probe(Progress::probe_point(4, 2));
        assert_eq!((pr.next_index, pr.match_index), (5, 4));
        assert!(pr.is_probing() && pr.inflight.is_empty());
    }

    #[test]
    fn replicating_pipelines_until_the_window_is_full() {
        let mut pr = Progress::new(1);
        assert!(
            !pr.is_paused(0, 2),
            "a probe goes out even with nothing to send"
        );
        pr.sent_append(1, 0, 3, 2);
        assert!(pr.is_paused(3, 2), "one probe at a time");
        assert_eq!(pr.free_to(1).map(|f| f.last), Some(3));
        pr.maybe_update(3);
        pr.become_replicate();
        pr.sent_append(2, 3, 5, 3);
        assert_eq!(
            pr.next_index, 6,
            "optimistic: the next append goes on after"
        );
        pr.sent_append(3, 5, 7, 3);
        assert!(pr.is_paused(9, 2), "the window holds two");
        assert_eq!(pr.commit_sent, 3);
    }

    #[test]
    fn a_stale_answer_still_marks_the_follower_active() {
        let mut pr = Progress::new(1);
        assert_eq!(pr.answered(5), Ok(()));
        pr.reset_recent_active();
        assert_eq!(pr.answered(4), Err(5));
        assert!(pr.recent_active);
    }

    #[test]
    fn a_snapshot_retries_after_its_ticks_and_probes_once_installed() {
        let mut pr = Progress::new(1);
        pr.sent_append(1, 0, 0, 0);
        pr.become_snapshot(20, 3, 100);
        assert!(pr.inflight.is_empty() && pr.is_snapshotting());
        assert!(!pr.tick_snapshot(2));
        assert!(pr.tick_snapshot(2));
        pr.snapshot_chunk_sent();
        assert!(!pr.tick_snapshot(2));
        pr.snapshot_acked(40);
        assert!(matches!(
            pr.state,
            ReplicaState::Snapshot { offset: 40, .. }
        ));
        pr.become_replicate();
        assert!(
            pr.is_snapshotting(),
            "an append answer does not end a snapshot"
        );
        pr.snapshot_installed(20);
        assert_eq!((pr.match_index, pr.next_index), (20, 21));
        assert!(pr.is_probing());
    }
}
