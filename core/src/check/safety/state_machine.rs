//! What reaches the state machine: the rules a `commit`, `apply` or
//! `snapshot` event could break.
//!
//! * `commit_order` (Figure 2): a commit index only rises (a crash resets
//!   it) and never passes the end of the node's log.
//! * `leader_commits_current_term` (§5.4.2, Figure 8): a leader commits by
//!   counting replicas only of entries of its own term.
//! * `state_machine_safety` (§5.4.3): no two nodes commit, apply or
//!   snapshot different entries at one index.
//! * `apply_order` (Figure 2, spec rule 8; §7): entries are applied one at a
//!   time, in order, only once committed, as the log holds them, and a
//!   snapshot holds only applied state.
//! * `log_well_formed` (§7): a node compacts only entries its log holds.
//!
//! Commits are counted against the leader's configuration in
//! `replication.rs` (`commit_quorum`).

use super::super::rules::{
    APPLY_ORDER, COMMIT_ORDER, LEADER_COMMITS_CURRENT_TERM, LOG_WELL_FORMED, STATE_MACHINE_SAFETY,
};
use super::super::s;
use super::{CommitRec, State};
use crate::network::SnapshotSource;
use crate::types::{Index, NodeId, Term};

impl State {
    pub(super) fn on_commit(
        &mut self,
        seq: u64,
        node: NodeId,
        index: Index,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        self.check_commit_quorum(node, index, v);
        let n = self.node(node);
        if index <= n.commit {
            v(
                COMMIT_ORDER,
                format!(
                    "{}'s commit index went from {} to {index}; it only rises (only a crash resets it) (Figure 2)",
                    s(node),
                    n.commit
                ),
                vec![n.commit_seq],
            );
        }
        let last = n.log.last_index();
        if index > last {
            v(
                COMMIT_ORDER,
                format!(
                    "{} committed up to {index} but its log ends at {last}; commitIndex = min(leaderCommit, index of last new entry) (Figure 2)",
                    s(node)
                ),
                vec![],
            );
        }
        if n.is_leader() && index > n.commit {
            // §5.4.2: a leader commits by counting only its own term's entries.
            if let Some(t) = n.log.term_at(index) {
                if t != n.term {
                    v(
                        LEADER_COMMITS_CURRENT_TERM,
                        format!(
                            "leader {} of term {} advanced its commit index to {index}, an entry of term {t}; a leader commits by counting replicas only entries of its own term (§5.4.2, Figure 8)",
                            s(node),
                            n.term
                        ),
                        vec![n.log.slot(index).map(|e| e.1).unwrap_or(0)],
                    );
                }
            }
        }
        // Record (and compare) every newly committed index with a known term.
        let upto = index.min(last);
        let start = n.verified.saturating_add(1).max(n.log.base).max(1);
        let commit_term = n.term;
        let mut newly: Vec<(Index, Term, u64)> = Vec::new();
        if start <= upto {
            for i in start..=upto {
                if let Some(t) = n.log.term_at(i) {
                    let aseq = n.log.slot(i).map(|e| e.1).unwrap_or(0);
                    newly.push((i, t, aseq));
                }
            }
        }
        n.verified = n.verified.max(upto);
        n.commit = index;
        n.commit_seq = seq;
        self.max_commit = self.max_commit.max(index);
        for (i, t, aseq) in newly {
            match self.committed.get(&i) {
                None => {
                    self.committed.insert(
                        i,
                        CommitRec {
                            term: t,
                            commit_term,
                            node,
                            seq,
                        },
                    );
                }
                Some(c) if c.term != t => v(
                    STATE_MACHINE_SAFETY,
                    format!(
                        "{} committed entry {i} of term {t}, but {} committed entry {i} of term {}; no two servers commit different entries at one index (§5.4.3)",
                        s(node),
                        s(c.node),
                        c.term
                    ),
                    vec![c.seq, aseq],
                ),
                Some(_) => {}
            }
        }
    }

    pub(super) fn on_apply(
        &mut self,
        seq: u64,
        node: NodeId,
        index: Index,
        term: Term,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let n = self.node(node);
        if index != n.applied.saturating_add(1) {
            v(
                APPLY_ORDER,
                format!(
                    "{} applied entry {index} when the next to apply was {}; entries are applied one at a time, in order, resuming after the snapshot on restart or install (spec rule 8)",
                    s(node),
                    n.applied.saturating_add(1)
                ),
                vec![n.apply_seq],
            );
        }
        if index > n.commit {
            v(
                APPLY_ORDER,
                format!(
                    "{} applied entry {index} before committing it (its commit index is {}); Figure 2 never lets a server apply past its commit index",
                    s(node),
                    n.commit
                ),
                vec![n.commit_seq],
            );
        }
        match n.log.term_at(index) {
            Some(t) if t != term => v(
                APPLY_ORDER,
                format!(
                    "{} applied entry {index} as term {term}, but its log holds term {t} there",
                    s(node)
                ),
                vec![n.log.slot(index).map(|e| e.1).unwrap_or(0)],
            ),
            None if index > n.log.last_index() => v(
                APPLY_ORDER,
                format!(
                    "{} applied entry {index}, past the end of its log ({})",
                    s(node),
                    n.log.last_index()
                ),
                vec![],
            ),
            _ => {}
        }
        n.applied = index;
        n.apply_seq = seq;
        // §5.4.3 State Machine Safety.
        match self.applied.get(&index) {
            None => {
                self.applied.insert(index, (term, node, seq));
            }
            Some(&(t, other, oseq)) if t != term => v(
                STATE_MACHINE_SAFETY,
                format!(
                    "{} applied entry {index} of term {term}, but {} applied a different entry there (term {t}); every server applies the same command at each index (§5.4.3)",
                    s(node),
                    s(other)
                ),
                vec![oseq],
            ),
            Some(_) => {}
        }
    }

    pub(super) fn on_snapshot(
        &mut self,
        seq: u64,
        node: NodeId,
        index: Index,
        term: Term,
        source: SnapshotSource,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if let Some(c) = self.committed.get(&index) {
            if c.term != term {
                v(
                    STATE_MACHINE_SAFETY,
                    format!(
                        "{}'s snapshot ends at entry {index} of term {term}, but {} committed entry {index} of term {} (§5.4.3)",
                        s(node),
                        s(c.node),
                        c.term
                    ),
                    vec![c.seq],
                );
            }
        }
        let n = self.node(node);
        match source {
            SnapshotSource::Local => {
                let last = n.log.last_index();
                if index < n.log.base || index > last {
                    v(
                        LOG_WELL_FORMED,
                        format!(
                            "{} compacted up to {index}, outside its log ({}..={last})",
                            s(node),
                            n.log.base
                        ),
                        vec![],
                    );
                } else if index > n.log.base && n.log.term_at(index) != Some(term) {
                    v(
                        LOG_WELL_FORMED,
                        format!(
                            "{} compacted up to entry {index} as term {term}, but its log holds term {} there",
                            s(node),
                            n.log.term_at(index).unwrap_or(0)
                        ),
                        vec![],
                    );
                }
                if index > n.applied {
                    v(
                        APPLY_ORDER,
                        format!(
                            "{} took a snapshot up to {index} having applied only up to {}; a snapshot holds applied state (§7)",
                            s(node),
                            n.applied
                        ),
                        vec![n.apply_seq],
                    );
                }
                if index >= n.log.base {
                    n.log.compact(index, Some(term));
                    n.base_seq = seq;
                }
            }
            SnapshotSource::Install => {
                // The log keeps what follows only if it held a matching entry.
                if index > n.log.base && n.log.term_at(index) == Some(term) {
                    n.log.compact(index, Some(term));
                } else {
                    n.log.reset(index, Some(term));
                    n.verified = n.verified.min(index);
                }
                n.base_seq = seq;
                // Spec rule 8: applies continue after the snapshot.
                n.applied = index;
                n.apply_seq = seq;
            }
        }
    }
}
