//! The log: the rules an `append` or `truncate` event could break, and
//! Leader Completeness when a leader is elected.
//!
//! * `log_well_formed` (spec rules 2 and 6): indexes start at 1, appends
//!   extend the log one index at a time, terms in a log never decrease, an
//!   overwrite follows a truncate, and a truncate deletes held entries.
//! * `leader_append_only` (§5.3): a leader appends only entries of its own
//!   term and never overwrites or deletes its log.
//! * `log_matching` (§5.3): the same (index, term) always means the same
//!   entry preceded by the same term, checked inductively at every append.
//! * `leader_completeness` (§5.4): a new leader holds every entry committed
//!   in an earlier term, and no node deletes a committed entry.

use std::sync::Arc;

use super::super::rules::{LEADER_APPEND_ONLY, LEADER_COMPLETENESS, LOG_MATCHING, LOG_WELL_FORMED};
use super::super::s;
use super::{EntryRec, State};
use crate::types::{EntryKind, Index, NodeId, Term};

impl State {
    /// §5.4 Leader Completeness, checked when `node` becomes leader of
    /// `term`.
    pub(super) fn check_leader_completeness(
        &self,
        node: NodeId,
        term: Term,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        // §5.4 Leader Completeness: the highest entry committed in an
        // earlier term must be in the new leader's log; by Log Matching
        // (checked at every append) so is everything before it.
        let found = self
            .committed
            .iter()
            .rev()
            .find(|(_, c)| c.commit_term < term)
            .map(|(&i, &c)| (i, c));
        if let Some((index, c)) = found {
            let Some(n) = self.nodes.get(&node) else {
                return;
            };
            let holds = index <= n.log.base || n.log.term_at(index) == Some(c.term);
            if !holds {
                let has = match n.log.term_at(index) {
                    Some(t) => format!("holds an entry of term {t} there"),
                    None => format!("its log ends at {}", n.log.last_index()),
                };
                v(
                    LEADER_COMPLETENESS,
                    format!(
                        "{} became leader of term {term} without entry {index} (term {}), which {} committed; it {has} (§5.4: a leader holds every committed entry)",
                        s(node),
                        c.term,
                        s(c.node)
                    ),
                    vec![c.seq],
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_append(
        &mut self,
        seq: u64,
        node: NodeId,
        index: Index,
        term: Term,
        kind: EntryKind,
        data: &str,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if index == 0 {
            v(
                LOG_WELL_FORMED,
                format!(
                    "{} appended an entry at index 0; indexes start at 1",
                    s(node)
                ),
                vec![],
            );
            return;
        }
        let n = self.node(node);
        let leader = n.is_leader();
        if leader && term != n.term {
            v(
                LEADER_APPEND_ONLY,
                format!(
                    "leader {} of term {} appended an entry of term {term}; a leader creates entries only in its own term (§5.3)",
                    s(node),
                    n.term
                ),
                vec![n.term_seq],
            );
        }
        let last = n.log.last_index();
        if index <= last {
            let old = n.log.slot(index).copied();
            // A rewrite of what was stored before a restart means the
            // restart lost it: that names the real cause for a follower.
            let lost = self.check_rewrite_after_restart(node, index, term, v);
            let (rule, who) = if leader {
                (LEADER_APPEND_ONLY, format!("leader {}", s(node)))
            } else {
                (LOG_WELL_FORMED, s(node))
            };
            if leader || !lost {
                v(
                    rule,
                    format!(
                        "{who} wrote entry {index} (term {term}) over an entry it already held{}; {}",
                        old.map(|o| format!(" (term {})", o.0)).unwrap_or_default(),
                        if leader {
                            "a leader never overwrites its log (§5.3)"
                        } else {
                            "an overwrite must follow a truncate (spec rule 6)"
                        }
                    ),
                    old.map(|o| vec![o.1]).unwrap_or_default(),
                );
            }
            self.remove_entries(seq, node, index, v);
            let n = self.node(node);
            if index <= n.log.base {
                n.log.reset(index - 1, None);
            }
        } else if index > last.saturating_add(1) {
            v(
                LOG_WELL_FORMED,
                format!(
                    "{} appended entry {index} but its log ends at {last}; appends extend the log one index at a time (spec rule 2)",
                    s(node)
                ),
                vec![],
            );
            n.log.reset(index - 1, None);
        }
        let n = self.node(node);
        let prev_term = n.log.term_at(index - 1);
        if let Some(p) = prev_term {
            if term < p {
                v(
                    LOG_WELL_FORMED,
                    format!(
                        "{} appended entry {index} of term {term} after an entry of term {p}; terms in a log never decrease",
                        s(node)
                    ),
                    vec![],
                );
            }
        }
        n.log.entries.push_back((term, seq));
        // §5.3 Log Matching, inductively: the same (index, term) always
        // means the same entry preceded by the same term.
        match self.entries.get_mut(&(index, term)) {
            None => {
                self.entries.insert(
                    (index, term),
                    EntryRec {
                        kind,
                        data: Arc::from(data),
                        prev_term,
                        node,
                        seq,
                    },
                );
            }
            Some(rec) => {
                if rec.kind != kind || *rec.data != *data {
                    v(
                        LOG_MATCHING,
                        format!(
                            "{} and {} hold different entries at index {index} in term {term} ({} {:?} vs {} {:?}); a leader creates at most one entry per index in a term (§5.3)",
                            s(rec.node),
                            s(node),
                            rec.kind.as_str(),
                            rec.data,
                            kind.as_str(),
                            data
                        ),
                        vec![rec.seq],
                    );
                }
                match (rec.prev_term, prev_term) {
                    (Some(a), Some(b)) if a != b => v(
                        LOG_MATCHING,
                        format!(
                            "{} and {} both hold entry {index} of term {term}, but the entry before it has term {a} in {}'s log and {b} in {}'s; logs that agree on an entry agree on all before it (§5.3)",
                            s(rec.node),
                            s(node),
                            s(rec.node),
                            s(node)
                        ),
                        vec![rec.seq],
                    ),
                    (None, Some(b)) => rec.prev_term = Some(b),
                    _ => {}
                }
            }
        }
    }

    /// Removes `node`'s entries from `from` on, reporting any committed one.
    fn remove_entries(
        &mut self,
        seq: u64,
        node: NodeId,
        from: Index,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let _ = seq;
        let Some(n) = self.nodes.get(&node) else {
            return;
        };
        let last = n.log.last_index();
        let start = from.max(n.log.base.saturating_add(1));
        if start <= last {
            let lost = self
                .committed
                .range(start..=last)
                .find(|(&i, c)| n.log.term_at(i) == Some(c.term))
                .map(|(&i, &c)| (i, c));
            if let Some((i, c)) = lost {
                v(
                    LEADER_COMPLETENESS,
                    format!(
                        "{} deleted entry {i} (term {}), which {} had committed; committed entries stay in every future leader's log, so no leader could have made it delete it (§5.4)",
                        s(node),
                        c.term,
                        s(c.node)
                    ),
                    vec![c.seq],
                );
            }
        }
        if let Some(n) = self.nodes.get_mut(&node) {
            n.log.truncate(from);
            n.verified = n.verified.min(from.saturating_sub(1));
        }
    }

    pub(super) fn on_truncate(
        &mut self,
        seq: u64,
        node: NodeId,
        from: Index,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let n = self.node(node);
        let (base, last) = (n.log.base, n.log.last_index());
        if n.is_leader() {
            v(
                LEADER_APPEND_ONLY,
                format!(
                    "leader {} of term {} deleted its entries from {from} on; a leader never deletes from its log (§5.3)",
                    s(node),
                    n.term
                ),
                vec![n.term_seq],
            );
        }
        if from <= base || from > last {
            v(
                LOG_WELL_FORMED,
                format!(
                    "{} truncated from index {from}, outside its log (entries {}..={last}); a truncate deletes entries the log holds (spec rule 6)",
                    s(node),
                    base.saturating_add(1)
                ),
                vec![],
            );
        }
        self.check_unprovoked_truncate(node, from, v);
        self.remove_entries(seq, node, from, v);
    }
}
