//! Rules that judge replication from the trace alone, so that a trace from
//! any implementation (not only raftlab's core) is checked for what its
//! leaders counted and what its followers kept:
//!
//! * `commit_quorum` (§5.3, Figure 2; thesis §4.3): when a leader's commit
//!   index rises, the entry it now covers is stored, per the `append`,
//!   `truncate` and `snapshot` events so far, by a majority of the leader's
//!   configuration (of each half while joint; learners never count). Older
//!   entries below it are covered by Log Matching, so only the new commit
//!   index is counted.
//! * `leader_quorum`, the acting half (§5.2): only a node shown elected in a
//!   term sends AppendEntries or InstallSnapshot in that term, so a trace
//!   cannot skip the election that the `role` rule checks.
//! * `acknowledged_entries_persist` (Figure 2, persistent state): a node
//!   acknowledges only entries it stored, and what it stored before a
//!   restart is still there after it: it does not write it again, drop it
//!   unprompted, or report a shorter log in a vote request or an
//!   AppendEntries answer.

use super::super::rules::{ACKNOWLEDGED_ENTRIES_PERSIST, COMMIT_QUORUM, LEADER_QUORUM};
use super::super::s;
use super::{NodeLog, State};
use crate::trace::SendBody;
use crate::types::{Index, MessageBody, NodeId, Term};

/// Something a node stored before its latest restart and no longer holds.
struct Lost {
    index: Index,
    /// Its term, when known.
    term: Option<Term>,
    /// Seq of the event that stored it (its `append`, or the `snapshot`).
    stored_seq: u64,
    restart_seq: u64,
    /// True when it was covered by a snapshot rather than an entry.
    in_snapshot: bool,
}

impl Lost {
    fn what(&self) -> String {
        let term = self
            .term
            .map(|t| format!(" (term {t})"))
            .unwrap_or_default();
        if self.in_snapshot {
            format!("its snapshot up to entry {}{term}", self.index)
        } else {
            format!("entry {}{term}", self.index)
        }
    }
}

/// How far back `history_term` follows a snapshot's history; past it the
/// snapshot is given the benefit of the doubt (this bounds the work per
/// commit on any input).
const HISTORY_STEPS: u64 = 10_000;

fn names(ids: impl IntoIterator<Item = NodeId>) -> String {
    let v: Vec<String> = ids.into_iter().map(s).collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

impl State {
    /// Whether `log` stores entry `index` of `term`. An entry its snapshot
    /// covers counts as stored when the snapshot's history holds it there:
    /// the history ending at the snapshot's last entry is followed back
    /// through the entries seen so far (Log Matching makes it unique).
    fn stores(&self, log: &NodeLog, index: Index, term: Term) -> bool {
        if index > log.base {
            return log.term_at(index) == Some(term);
        }
        match log.base_term {
            Some(t) => self
                .history_term(index, log.base, t)
                .is_none_or(|h| h == term),
            None => true,
        }
    }

    /// The term at `index` in the history whose entry at `at` has term
    /// `term`, if the trace shows it.
    fn history_term(&self, index: Index, at: Index, term: Term) -> Option<Term> {
        if at.saturating_sub(index) > HISTORY_STEPS {
            return None;
        }
        let (mut i, mut t) = (at, term);
        while i > index {
            t = self.entries.get(&(i, t))?.prev_term?;
            i -= 1;
        }
        Some(t)
    }

    /// §5.3, Figure 2: a leader's commit index rises to `index` only once a
    /// majority of its configuration stores that entry.
    pub(super) fn check_commit_quorum(
        &self,
        node: NodeId,
        index: Index,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let Some(n) = self.nodes.get(&node) else {
            return;
        };
        if !n.is_leader() || index <= n.commit || index <= n.log.base {
            return;
        }
        // Past the end of its log: `commit_order` reports that.
        let Some(&(term, aseq)) = n.log.slot(index) else {
            return;
        };
        let holds = |id: NodeId| {
            self.nodes
                .get(&id)
                .is_some_and(|m| self.stores(&m.log, index, term))
        };
        let m = &n.membership;
        if m.has_quorum(holds, false) {
            return;
        }
        let part = |set: &std::collections::BTreeSet<NodeId>| {
            let have: Vec<NodeId> = set.iter().copied().filter(|&id| holds(id)).collect();
            format!(
                "{} of the voters {} ({} store it, {} needed)",
                have.len(),
                names(set.iter().copied()),
                names(have.iter().copied()),
                set.len() / 2 + 1
            )
        };
        let mut whose = part(&m.voters);
        if m.is_joint() {
            whose.push_str(&format!(
                " and {} of the outgoing configuration; while joint both must be majorities (thesis §4.3)",
                part(&m.outgoing)
            ));
        }
        let learners: Vec<NodeId> = m.learners.iter().copied().filter(|&id| holds(id)).collect();
        if !learners.is_empty() {
            whose.push_str(&format!(
                "; learners {} hold it but never count (thesis §4.2.1)",
                names(learners)
            ));
        }
        v(
            COMMIT_QUORUM,
            format!(
                "leader {} of term {} advanced its commit index to {index} (an entry of term {term}) when only {whose}; a leader commits an entry only once a majority of its configuration stores it (§5.3, Figure 2)",
                s(node),
                n.term
            ),
            vec![aseq],
        );
    }

    /// §5.2: AppendEntries and InstallSnapshot come only from the leader of
    /// their term, and a `role` event must have shown it elected.
    pub(super) fn check_leader_messages(
        &self,
        from: NodeId,
        msg: &str,
        term: Term,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if (msg == "append_entries" || msg == "snapshot") && !self.elected.contains(&(term, from)) {
            let who = match self.leaders.get(&term) {
                Some(&(l, _)) => format!("; the trace shows {} elected in that term", s(l)),
                None => String::new(),
            };
            v(
                LEADER_QUORUM,
                format!(
                    "{} sent {msg} in term {term} without having become leader of term {term}{who}; only a leader elected by a majority of its configuration replicates (§5.2, Figure 2)",
                    s(from)
                ),
                vec![],
            );
        }
    }

    /// What `node` stored from index `from` on before its latest restart,
    /// if anything, and still holds per its events.
    fn stored_before_restart(&self, node: NodeId, from: Index) -> Option<Lost> {
        let n = self.nodes.get(&node)?;
        if n.restarted_at == 0 || from == 0 || from > n.log.last_index() {
            return None;
        }
        // Entries sit in the log in the order they were appended, so the
        // one at `from` is the oldest of those from `from` on.
        let (term, stored_seq, index, in_snapshot) = if from <= n.log.base {
            (n.log.base_term, n.base_seq, n.log.base, true)
        } else {
            let &(t, aseq) = n.log.slot(from)?;
            (Some(t), aseq, from, false)
        };
        (stored_seq < n.restarted_at).then_some(Lost {
            index,
            term,
            stored_seq,
            restart_seq: n.restarted_at,
            in_snapshot,
        })
    }

    /// Figure 2: a node writing entry `index` again, without a truncate,
    /// after a restart, shows that the restart lost what it had stored.
    /// Returns whether it reported that.
    pub(super) fn check_rewrite_after_restart(
        &self,
        node: NodeId,
        index: Index,
        term: Term,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) -> bool {
        let Some(lost) = self.stored_before_restart(node, index) else {
            return false;
        };
        v(
            ACKNOWLEDGED_ENTRIES_PERSIST,
            format!(
                "{} wrote entry {index} (term {term}) again after its restart, without a truncate: it had stored {} before the restart, so the restart lost it; a server's log is persistent state, kept across restarts (Figure 2)",
                s(node),
                lost.what()
            ),
            vec![lost.stored_seq, lost.restart_seq],
        );
        true
    }

    /// Figure 2: after a restart a node deletes what it stored before only
    /// when a leader's AppendEntries conflicts with it (§5.3), never on its
    /// own.
    pub(super) fn check_unprovoked_truncate(
        &self,
        node: NodeId,
        from: Index,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let prompted = self.delivered.as_ref().is_some_and(|d| {
            d.msg.to == node && (d.msg.msg == "append_entries" || d.msg.msg == "snapshot")
        });
        if prompted {
            return;
        }
        if let Some(lost) = self.stored_before_restart(node, from) {
            v(
                ACKNOWLEDGED_ENTRIES_PERSIST,
                format!(
                    "{} deleted its entries from {from} on after its restart with no leader's AppendEntries to prompt it, losing {} stored before the restart; the log is persistent state (Figure 2) and only a conflicting AppendEntries removes entries (§5.3)",
                    s(node),
                    lost.what()
                ),
                vec![lost.stored_seq, lost.restart_seq],
            );
        }
    }

    /// Figure 2: what a node reports of its log in a vote request or an
    /// AppendEntries answer (raftlab's message bodies) agrees with what it
    /// stored: a success acknowledges only entries it holds, and the last
    /// index it reports (a vote request, or a refusal, which carries the
    /// follower's last index) is not short of entries stored before a
    /// restart.
    pub(super) fn check_reported_log(
        &self,
        from: NodeId,
        body: &SendBody,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let SendBody::Message(body) = body else {
            return;
        };
        let (reported, what) = match body {
            MessageBody::RequestVote(r) => (
                r.last_log_idx,
                format!(
                    "asked for {} in term {} with a log ending at index {}",
                    if r.prevote { "prevotes" } else { "votes" },
                    r.term,
                    r.last_log_idx
                ),
            ),
            MessageBody::AppendEntriesResp(r) if r.success => {
                let last = self.nodes.get(&from).map_or(0, |n| n.log.last_index());
                if r.curr_index > last {
                    v(
                        ACKNOWLEDGED_ENTRIES_PERSIST,
                        format!(
                            "{} acknowledged entries up to index {} but its log ends at {last}; a follower stores entries before acknowledging them (Figure 2; spec rule 5)",
                            s(from),
                            r.curr_index
                        ),
                        vec![],
                    );
                }
                return;
            }
            MessageBody::AppendEntriesResp(r) => (
                r.curr_index,
                format!(
                    "refused an AppendEntries reporting a log ending at index {}",
                    r.curr_index
                ),
            ),
            _ => return,
        };
        if let Some(lost) = self.stored_before_restart(from, reported.saturating_add(1)) {
            v(
                ACKNOWLEDGED_ENTRIES_PERSIST,
                format!(
                    "{} {what}, but it had stored {} before its restart and nothing removed it: the restart lost it; a server's log is persistent state, kept across restarts (Figure 2)",
                    s(from),
                    lost.what()
                ),
                vec![lost.stored_seq, lost.restart_seq],
            );
        }
    }
}
