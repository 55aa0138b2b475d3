//! What `run` and `check` print about a run: the checker's report plus the
//! counts a reader wants at a glance (messages, snapshots, client outcomes),
//! and violations explained with the trace lines that led to them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use raftlab_core::check::{LinStatus, Report, Violation};
use raftlab_core::trace::{ClientPhase, DropReason, EventKind, TraceEvent};
use raftlab_core::SnapshotSource;

/// Counts the checker's report does not keep, gathered event by event.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Messages put on the network.
    pub sent: u64,
    /// Messages handed to their receivers.
    pub delivered: u64,
    /// Messages lost, per reason.
    pub dropped: BTreeMap<&'static str, u64>,
    /// Local snapshots (compactions).
    pub snap_local: u64,
    /// Snapshots installed from a leader.
    pub snap_install: u64,
    /// Client operations started.
    pub invoked: u64,
    /// Client outcomes.
    pub ok: u64,
    /// Client operations that certainly did not take effect.
    pub fail: u64,
    /// Client operations with unknown outcome.
    pub timeout: u64,
    /// Commit-index rises, over all nodes.
    pub commits: u64,
    /// Simulated time of the last event.
    pub last_time: u64,
}

impl Tally {
    /// Counts one event.
    pub fn observe(&mut self, e: &TraceEvent) {
        self.last_time = e.time;
        match &e.kind {
            EventKind::Send { .. } => self.sent += 1,
            EventKind::Deliver { .. } => self.delivered += 1,
            EventKind::Drop { reason, .. } => {
                let r = match reason {
                    DropReason::Partition => "partition",
                    DropReason::Loss => "loss",
                    DropReason::Crashed => "crashed",
                };
                *self.dropped.entry(r).or_insert(0) += 1;
            }
            EventKind::Snapshot { source, .. } => match source {
                SnapshotSource::Local => self.snap_local += 1,
                SnapshotSource::Install => self.snap_install += 1,
            },
            EventKind::Client { phase, .. } => match phase {
                ClientPhase::Invoke => self.invoked += 1,
                ClientPhase::Ok => self.ok += 1,
                ClientPhase::Fail => self.fail += 1,
                ClientPhase::Timeout => self.timeout += 1,
            },
            EventKind::Commit { .. } => self.commits += 1,
            _ => {}
        }
    }
}

/// Leaders as `t1:S3 t2:S1 ...`, eliding the middle of very long lists.
fn leaders_line(report: &Report) -> String {
    let all: Vec<String> = report
        .leaders
        .iter()
        .map(|(t, n)| format!("t{t}:S{n}"))
        .collect();
    if all.len() <= 24 {
        all.join(" ")
    } else {
        format!(
            "{} ... {}",
            all[..12].join(" "),
            all[all.len() - 12..].join(" ")
        )
    }
}

/// The summary block shared by `run` and `check`.
pub fn render(report: &Report, tally: &Tally) -> String {
    let mut out = String::new();
    let dropped: u64 = tally.dropped.values().sum();
    let reasons: Vec<String> = tally
        .dropped
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "events:      {} over {:.1} s simulated",
        report.events,
        tally.last_time as f64 / 1000.0
    );
    let _ = writeln!(
        out,
        "leaders:     {} terms with a leader, max term {}",
        report.leaders.len(),
        report.max_term
    );
    if !report.leaders.is_empty() {
        let _ = writeln!(out, "             {}", leaders_line(report));
    }
    let _ = writeln!(
        out,
        "commits:     highest index {}, {} entries committed, {} commit events",
        report.max_commit, report.committed_entries, tally.commits
    );
    let _ = writeln!(
        out,
        "messages:    {} sent, {} delivered, {} dropped{}",
        tally.sent,
        tally.delivered,
        dropped,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        }
    );
    let _ = writeln!(
        out,
        "snapshots:   {} local, {} installed",
        tally.snap_local, tally.snap_install
    );
    let _ = writeln!(
        out,
        "clients:     {} ops: {} ok, {} fail, {} timeout, {} unfinished",
        tally.invoked,
        tally.ok,
        tally.fail,
        tally.timeout,
        tally
            .invoked
            .saturating_sub(tally.ok + tally.fail + tally.timeout)
    );
    out
}

/// Event counts per type, in the format's order.
pub fn render_types(report: &Report) -> String {
    let mut out = String::from("events per type:\n");
    for ty in EventKind::TYPES {
        let n = report.event_counts.get(ty).copied().unwrap_or(0);
        let _ = writeln!(out, "  {ty:<10} {n}");
    }
    out
}

/// The linearizability verdict per key.
pub fn render_linearizability(report: &Report) -> String {
    let mut out = String::from("linearizability per key:\n");
    if report.linearizability.is_empty() {
        out.push_str("  (no client operations)\n");
    }
    for k in &report.linearizability {
        let verdict = match &k.status {
            LinStatus::Linearizable => "linearizable".to_string(),
            LinStatus::Violation { .. } => "NOT linearizable".to_string(),
            LinStatus::Unknown { steps } => format!("undecided after {steps} search steps"),
        };
        let _ = writeln!(out, "  {:<8} {:>5} ops  {verdict}", k.key, k.ops);
    }
    out
}

/// The verdict line: counts per rule.
pub fn render_verdict(report: &Report) -> String {
    if report.is_safe() {
        return "verdict:     SAFE (no rule broken)\n".to_string();
    }
    let total: u64 = report.violation_counts.values().sum();
    let rules: Vec<String> = report
        .violation_counts
        .iter()
        .map(|(r, n)| format!("{r} x{n}"))
        .collect();
    format!(
        "verdict:     UNSAFE: {total} violations ({})\n",
        rules.join(", ")
    )
}

/// Longest event line printed when explaining; send bodies can be long.
const MAX_LINE: usize = 400;

fn clip(line: &str) -> String {
    if line.len() <= MAX_LINE {
        return line.to_string();
    }
    let mut end = MAX_LINE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &line[..end])
}

/// Explains one violation with the trace lines it cites (`line_of` maps a
/// seq to its JSON line, when known).
pub fn explain(v: &Violation, line_of: &dyn Fn(u64) -> Option<String>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "violation of {} at event {} (line {}): {}",
        v.rule,
        v.seq,
        v.seq + 1,
        v.message
    );
    let mut seqs = v.related.clone();
    seqs.push(v.seq);
    seqs.sort_unstable();
    seqs.dedup();
    for seq in seqs {
        let mark = if seq == v.seq { ">" } else { " " };
        match line_of(seq) {
            Some(l) => {
                let _ = writeln!(out, "  {mark} line {:>8}: {}", seq + 1, clip(&l));
            }
            None => {
                let _ = writeln!(out, "  {mark} line {:>8}: (not in the trace)", seq + 1);
            }
        }
    }
    out
}
