//! Safety checker over traces and live simulations.
//!
//! The checker is incremental: `Checker::new(&header)`, then
//! `observe(&event)` for each event as it happens (the simulator feeds it
//! live; `check_trace_str` feeds it from a file), then `finish()` for the
//! `Report`. It keeps per-node models of what the trace says (term, votes,
//! log, commit and apply positions, liveness) and global facts (leaders per
//! term, committed and applied entries, messages in flight), and checks each
//! rule of Raft as soon as an event could break it. Every rule has a stable
//! name in [`rules`], cited by paper section.

pub mod convergence;
mod linearizability;
mod safety;
pub mod sharded;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::trace::{TraceError, TraceEvent, TraceHeader, TraceReader};
use crate::types::{Index, NodeId, Term};

pub use convergence::{
    check_convergence_str, convergence_of, ConvergenceChecker, ConvergenceReport, Unmet, Verdict,
};
pub use linearizability::{KeyReport, LinStatus};

/// The stable names of the rules the checker enforces. Tools and tests
/// match on these; the wording of messages may change, the names do not.
pub mod rules {
    /// §5.2: at most one leader per term (and followers only follow it).
    pub const ELECTION_SAFETY: &str = "election_safety";
    /// §5.2: a leader won a majority of real votes in its term (of both
    /// halves while joint, learners not counted — thesis §4.2.1, §4.3).
    pub const LEADER_QUORUM: &str = "leader_quorum";
    /// §5.1: a node's term never decreases (it is persisted, so not across a
    /// restart either), and it rises only by the node's own election or by a
    /// message carrying the higher term.
    pub const TERM_MONOTONICITY: &str = "term_monotonicity";
    /// §5.2 / Figure 2: one real vote per term per node, across restarts.
    pub const ONE_VOTE_PER_TERM: &str = "one_vote_per_term";
    /// §5.4.1: a vote (or prevote) is granted only to a candidate whose log is
    /// at least as up to date as the voter's.
    pub const VOTE_UP_TO_DATE: &str = "vote_up_to_date";
    /// Thesis §9.6: a prevote request, or a granted prevote answer, never
    /// changes anybody's term.
    pub const PREVOTE_TERM_UNCHANGED: &str = "prevote_term_unchanged";
    /// §5.3: a leader never overwrites or deletes entries in its log, and
    /// creates entries only in its own term.
    pub const LEADER_APPEND_ONLY: &str = "leader_append_only";
    /// §5.3: two logs holding an entry with the same index and term are
    /// identical up to that index.
    pub const LOG_MATCHING: &str = "log_matching";
    /// §5.4: every committed entry is in the log of every leader of a later
    /// term (and hence no node ever deletes a committed entry).
    pub const LEADER_COMPLETENESS: &str = "leader_completeness";
    /// §5.4.2 (Figure 8): a leader commits by counting replicas only an entry
    /// of its own term.
    pub const LEADER_COMMITS_CURRENT_TERM: &str = "leader_commits_current_term";
    /// §5.4.3: no two nodes commit or apply different entries at one index.
    pub const STATE_MACHINE_SAFETY: &str = "state_machine_safety";
    /// Figure 2 and spec rules 1, 8: the commit index only rises (a crash
    /// resets it) and never passes the node's last log index.
    pub const COMMIT_ORDER: &str = "commit_order";
    /// Figure 2 and spec rule 8: entries are applied one by one, in index
    /// order, only once committed, and exactly as the log holds them; a
    /// snapshot holds applied state only.
    pub const APPLY_ORDER: &str = "apply_order";
    /// Spec rule 9: a message carries at most its sender's term (a prevote
    /// request may ask for term + 1; a granted prevote answer may carry the
    /// term asked for).
    pub const MESSAGE_TERM: &str = "message_term";
    /// Spec rule 5: `deliver`/`drop` name a message sent earlier and not yet
    /// delivered or dropped; ids are not reused; client outcomes follow
    /// their invocations.
    pub const CAUSAL_ORDER: &str = "causal_order";
    /// Spec rule 7: nothing is delivered across a partition, over a cut
    /// link, or to a crashed node.
    pub const NETWORK_DELIVERY: &str = "network_delivery";
    /// Spec rules 2 and 6: appends extend the log by one index, truncates and
    /// snapshots stay within it, terms in a log never decrease.
    pub const LOG_WELL_FORMED: &str = "log_well_formed";
    /// A crashed node does nothing until it restarts.
    pub const CRASHED_NODE_SILENT: &str = "crashed_node_silent";
    /// Spec rule 4: each key's client history is linearizable.
    pub const LINEARIZABILITY: &str = "linearizability";
    /// §5.3 and Figure 2 (leaders: commit N once a majority of matchIndex
    /// reaches N): a leader advances its commit index only onto an entry that a
    /// majority of its configuration's voters (of each half while joint,
    /// thesis §4.3; learners never, §4.2.1) store, per the trace's
    /// `append`, `truncate` and `snapshot` events.
    pub const COMMIT_QUORUM: &str = "commit_quorum";
    /// Figure 2 (persistent state is updated on stable storage before
    /// responding to RPCs): a node acknowledges only entries it stored, and
    /// still holds them after a restart.
    pub const ACKNOWLEDGED_ENTRIES_PERSIST: &str = "acknowledged_entries_persist";

    /// Every rule name, in a stable order.
    pub const ALL: [&str; 21] = [
        ELECTION_SAFETY,
        LEADER_QUORUM,
        TERM_MONOTONICITY,
        ONE_VOTE_PER_TERM,
        VOTE_UP_TO_DATE,
        PREVOTE_TERM_UNCHANGED,
        LEADER_APPEND_ONLY,
        LOG_MATCHING,
        LEADER_COMPLETENESS,
        LEADER_COMMITS_CURRENT_TERM,
        STATE_MACHINE_SAFETY,
        COMMIT_ORDER,
        APPLY_ORDER,
        MESSAGE_TERM,
        CAUSAL_ORDER,
        NETWORK_DELIVERY,
        LOG_WELL_FORMED,
        CRASHED_NODE_SILENT,
        LINEARIZABILITY,
        COMMIT_QUORUM,
        ACKNOWLEDGED_ENTRIES_PERSIST,
    ];
}

/// A broken rule, found at one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The event at which the rule broke.
    pub seq: u64,
    /// The rule's stable name (one of [`rules`]).
    pub rule: &'static str,
    /// What happened, in plain language, naming nodes S1, S2, ...
    pub message: String,
    /// Seqs of earlier events that led here, oldest first.
    pub related: Vec<u64>,
}

/// Limits that keep the checker bounded on any input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckerOptions {
    /// Violations kept in full; later ones are only counted.
    pub max_violations: usize,
    /// Search steps per key for the linearizability check before it answers
    /// `Unknown`.
    pub linearizability_max_steps: u64,
}

impl Default for CheckerOptions {
    fn default() -> Self {
        CheckerOptions {
            max_violations: 1000,
            linearizability_max_steps: 200_000,
        }
    }
}

/// What a checked run amounts to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Events observed.
    pub events: u64,
    /// Events per `type`.
    pub event_counts: BTreeMap<&'static str, u64>,
    /// The leader of each term that had one.
    pub leaders: BTreeMap<Term, NodeId>,
    /// The highest term any node reached.
    pub max_term: Term,
    /// The highest index any node committed.
    pub max_commit: Index,
    /// Distinct committed indexes whose term is known.
    pub committed_entries: u64,
    /// Violations per rule, all of them counted.
    pub violation_counts: BTreeMap<&'static str, u64>,
    /// The first violations in full (see `CheckerOptions::max_violations`).
    pub violations: Vec<Violation>,
    /// The linearizability verdict per key.
    pub linearizability: Vec<KeyReport>,
}

impl Report {
    /// True when no rule broke and no key's history is known to be
    /// non-linearizable (an `Unknown` verdict does not count as unsafe).
    pub fn is_safe(&self) -> bool {
        self.violation_counts.is_empty()
    }

    /// True when some key's linearizability could not be decided.
    pub fn has_unknown(&self) -> bool {
        self.linearizability
            .iter()
            .any(|k| matches!(k.status, LinStatus::Unknown { .. }))
    }
}

/// The incremental checker. Feed it every event of one run, in order.
#[derive(Clone, Debug)]
pub struct Checker {
    opts: CheckerOptions,
    state: safety::State,
    events: u64,
    counts: BTreeMap<&'static str, u64>,
    violations: Vec<Violation>,
    violation_counts: BTreeMap<&'static str, u64>,
    /// Index into `violations` where the current event's violations start.
    fresh_from: usize,
}

impl Checker {
    /// A checker for the run `header` describes, with default limits.
    pub fn new(header: &TraceHeader) -> Self {
        Self::with_options(header, CheckerOptions::default())
    }

    /// A checker with explicit limits.
    pub fn with_options(header: &TraceHeader, opts: CheckerOptions) -> Self {
        Checker {
            opts,
            state: safety::State::new(&header.nodes),
            events: 0,
            counts: BTreeMap::new(),
            violations: Vec::new(),
            violation_counts: BTreeMap::new(),
            fresh_from: 0,
        }
    }

    /// Checks one event; returns the violations it revealed (empty when it
    /// is fine). All violations are also kept for `violations` and `finish`.
    pub fn observe(&mut self, event: &TraceEvent) -> &[Violation] {
        self.events += 1;
        *self.counts.entry(event.kind.type_name()).or_insert(0) += 1;
        self.fresh_from = self.violations.len();
        let mut found = Vec::new();
        self.state.observe(event, &mut found);
        for v in found {
            self.record(v);
        }
        self.violations.get(self.fresh_from..).unwrap_or(&[])
    }

    fn record(&mut self, v: Violation) {
        *self.violation_counts.entry(v.rule).or_insert(0) += 1;
        if self.violations.len() < self.opts.max_violations {
            self.violations.push(v);
        }
    }

    /// Violations found so far (the first `max_violations`).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Total violations found so far, including those not kept in full.
    pub fn violation_count(&self) -> u64 {
        self.violation_counts.values().sum()
    }

    /// The linearizability verdict of every key's history so far; operations
    /// still in flight count as outcome unknown. Costs a search per key, so
    /// call it when needed (e.g. when the clients are quiet), not per event.
    pub fn linearizability(&self) -> Vec<KeyReport> {
        self.state
            .histories
            .check_all(self.opts.linearizability_max_steps)
    }

    /// Ends the run: checks linearizability and summarises everything.
    pub fn finish(mut self) -> Report {
        let lin = self.linearizability();
        let last_seq = self.state.last_seq;
        for k in &lin {
            if let LinStatus::Violation { message, related } = &k.status {
                let seq = related.last().copied().unwrap_or(last_seq);
                self.record(Violation {
                    seq,
                    rule: rules::LINEARIZABILITY,
                    message: message.clone(),
                    related: related.clone(),
                });
            }
        }
        Report {
            events: self.events,
            event_counts: self.counts,
            leaders: self
                .state
                .leaders
                .iter()
                .map(|(t, (n, _))| (*t, *n))
                .collect(),
            max_term: self.state.max_term,
            max_commit: self.state.max_commit,
            committed_entries: u64::try_from(self.state.committed.len()).unwrap_or(u64::MAX),
            violation_counts: self.violation_counts,
            violations: self.violations,
            linearizability: lin,
        }
    }
}

/// Reads and checks a whole trace, streaming: events are checked as they
/// are parsed and never held all at once. A malformed trace is an error;
/// a well-formed trace that breaks Raft gives a report with violations.
pub fn check_trace_str(text: &str) -> Result<Report, TraceError> {
    check_trace_str_with(text, CheckerOptions::default())
}

/// `check_trace_str` with explicit limits.
pub fn check_trace_str_with(text: &str, opts: CheckerOptions) -> Result<Report, TraceError> {
    let mut reader = TraceReader::new(text)?;
    let mut checker = Checker::with_options(reader.header(), opts);
    for event in reader.by_ref() {
        checker.observe(&event?);
    }
    Ok(checker.finish())
}

/// "S3" for node 3: how messages name nodes.
pub(crate) fn s(node: NodeId) -> String {
    format!("S{node}")
}
