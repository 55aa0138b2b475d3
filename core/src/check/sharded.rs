//! Checking a sharded run: one [`Checker`] per Raft group over that group's
//! events, and one more over the client events of every group, so that each
//! key's history is checked for linearizability across slot moves.
//!
//! In a sharded trace every event carries a `group` field (see
//! `docs/sharding.md`): a group's name ("meta", "g1", ...) for node and
//! message events, `"all"` for cluster-wide ones (partition, heal, network
//! settings, slot moves), and `"clients"` for client events and client
//! actions. Events of `"all"` reach every group's checker.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::trace::{TraceEvent, TraceHeader, TraceReader};
use crate::types::NodeId;

use super::convergence::{ConvergenceChecker, ConvergenceReport, Parts, Verdict};
use super::{Checker, KeyReport, Report, Violation};

/// The `group` of cluster-wide events.
pub const GROUP_ALL: &str = "all";
/// The `group` of client events.
pub const GROUP_CLIENTS: &str = "clients";

/// A group of a sharded run as its trace header lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSpec {
    /// "meta", "g1", ...
    pub name: String,
    /// The voters it starts with.
    pub nodes: Vec<NodeId>,
}

/// A violation found in one group's events (or in the clients').
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupViolation {
    /// The group's name, or "clients".
    pub group: String,
    /// The violation; its seqs are the sharded trace's.
    pub violation: Violation,
}

/// Per-group checkers plus the clients' checker, fed incrementally.
#[derive(Clone, Debug)]
pub struct ShardedChecker {
    groups: BTreeMap<String, Checker>,
    clients: Checker,
    violations: Vec<GroupViolation>,
}

/// The verdict on a sharded run: each group's report and the clients'.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShardedReport {
    /// Per group, by name.
    pub groups: BTreeMap<String, Report>,
    /// The client events' report: linearizability per key across groups.
    pub clients: Report,
}

impl ShardedReport {
    /// True when no group and no key broke a rule.
    pub fn is_safe(&self) -> bool {
        self.clients.is_safe() && self.groups.values().all(Report::is_safe)
    }

    /// Every violation, tagged with its group.
    pub fn violations(&self) -> Vec<GroupViolation> {
        let mut out: Vec<GroupViolation> = self
            .groups
            .iter()
            .flat_map(|(g, r)| {
                r.violations.iter().map(move |v| GroupViolation {
                    group: g.clone(),
                    violation: v.clone(),
                })
            })
            .collect();
        out.extend(self.clients.violations.iter().map(|v| GroupViolation {
            group: GROUP_CLIENTS.into(),
            violation: v.clone(),
        }));
        out
    }
}

impl ShardedChecker {
    /// Checkers for `groups` of a run with `seed`.
    pub fn new(seed: u64, groups: &[GroupSpec]) -> Self {
        ShardedChecker {
            groups: groups
                .iter()
                .map(|g| {
                    (
                        g.name.clone(),
                        Checker::new(&TraceHeader::new(seed, g.nodes.clone())),
                    )
                })
                .collect(),
            clients: Checker::new(&TraceHeader::new(seed, Vec::new())),
            violations: Vec::new(),
        }
    }

    /// Checks one event of `group`; returns how many violations it revealed.
    /// An unknown group name is itself reported (as a causal-order problem
    /// of the trace), never a panic.
    pub fn observe(&mut self, group: &str, event: &TraceEvent) -> usize {
        let before = self.violations.len();
        if group == GROUP_CLIENTS {
            let found = self.clients.observe(event).to_vec();
            self.record(GROUP_CLIENTS, found);
        } else if group == GROUP_ALL {
            let names: Vec<String> = self.groups.keys().cloned().collect();
            for name in names {
                if let Some(c) = self.groups.get_mut(&name) {
                    let found = c.observe(event).to_vec();
                    self.record(&name, found);
                }
            }
        } else if let Some(c) = self.groups.get_mut(group) {
            let found = c.observe(event).to_vec();
            self.record(group, found);
        } else {
            self.record(
                group,
                vec![Violation {
                    seq: event.seq,
                    rule: super::rules::CAUSAL_ORDER,
                    message: format!("event of unknown group {group:?}"),
                    related: Vec::new(),
                }],
            );
        }
        self.violations.len() - before
    }

    fn record(&mut self, group: &str, found: Vec<Violation>) {
        for v in found {
            self.violations.push(GroupViolation {
                group: group.to_string(),
                violation: v,
            });
        }
    }

    /// Violations so far, in the order found.
    pub fn violations(&self) -> &[GroupViolation] {
        &self.violations
    }

    /// The checker of one group (or "clients").
    pub fn group(&self, name: &str) -> Option<&Checker> {
        if name == GROUP_CLIENTS {
            Some(&self.clients)
        } else {
            self.groups.get(name)
        }
    }

    /// Linearizability of every key so far, across groups (a search per key:
    /// call it when needed, not per event).
    pub fn linearizability(&self) -> Vec<KeyReport> {
        self.clients.linearizability()
    }

    /// Ends the run: every group's report and the clients'.
    pub fn finish(self) -> ShardedReport {
        ShardedReport {
            groups: self
                .groups
                .into_iter()
                .map(|(name, c)| (name, c.finish()))
                .collect(),
            clients: self.clients.finish(),
        }
    }
}

#[derive(Deserialize)]
struct GroupField {
    #[serde(default)]
    group: Option<String>,
}

#[derive(Deserialize)]
struct ShardedHeaderConfig {
    #[serde(default)]
    groups: Vec<GroupSpec>,
}

/// The groups a sharded trace's header lists (`config.groups`); an error
/// for a single-group trace.
pub fn groups_of(header: &TraceHeader) -> Result<Vec<GroupSpec>, String> {
    let cfg: ShardedHeaderConfig = serde_json::from_value(header.config.clone())
        .map_err(|e| format!("header config unreadable: {e}"))?;
    if cfg.groups.is_empty() {
        return Err("not a sharded trace: the header's config lists no groups".into());
    }
    Ok(cfg.groups)
}

/// Reads and checks a whole sharded trace, routing each event by its
/// `group` field. A malformed trace, or an event without a group, is an
/// error; a well-formed trace that breaks a rule gives a report with
/// violations.
pub fn check_sharded_trace_str(text: &str) -> Result<ShardedReport, String> {
    let checker = read_grouped(
        text,
        |header, groups| ShardedChecker::new(header.seed, groups),
        |c, group, event| {
            c.observe(group, event);
        },
    )?;
    Ok(checker.finish())
}

/// Feeds every event of a sharded trace, with its group, to a checker
/// made from the header and its groups. The reader yields typed events;
/// the group field is read from the event's line.
fn read_grouped<C>(
    text: &str,
    new: impl FnOnce(&TraceHeader, &[GroupSpec]) -> C,
    mut observe: impl FnMut(&mut C, &str, &TraceEvent),
) -> Result<C, String> {
    let mut reader = TraceReader::new(text).map_err(|e| e.to_string())?;
    let groups = groups_of(reader.header())?;
    let mut checker = new(reader.header(), &groups);
    let mut lines = text.lines().skip(1).filter(|l| !l.trim().is_empty());
    for event in reader.by_ref() {
        let event = event.map_err(|e| e.to_string())?;
        let line = lines.next().unwrap_or_default();
        let g: GroupField =
            serde_json::from_str(line).map_err(|e| format!("event {}: {e}", event.seq))?;
        let Some(group) = g.group else {
            return Err(format!("event {} has no group field", event.seq));
        };
        observe(&mut checker, &group, &event);
    }
    Ok(checker)
}

/// The convergence check over a sharded run (see `check::convergence`):
/// one checker per group for its Raft conditions (and, in KV groups, the
/// slot migrations whose source it is: a freeze and its drop both go
/// through the source's log), and one over the clients. The `calm` action
/// is cluster-wide (`"all"`), so every checker sees it.
#[derive(Clone, Debug)]
pub struct ShardedConvergence {
    groups: BTreeMap<String, ConvergenceChecker>,
    clients: ConvergenceChecker,
}

/// The convergence verdict per group and over the clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShardedConvergenceReport {
    /// Per group, by name.
    pub groups: BTreeMap<String, ConvergenceReport>,
    /// The clients' operations.
    pub clients: ConvergenceReport,
}

impl ShardedConvergenceReport {
    /// Every report with its group's name, meta first, clients last.
    fn all(&self) -> Vec<(&str, &ConvergenceReport)> {
        let mut out: Vec<(&str, &ConvergenceReport)> =
            self.groups.iter().map(|(g, r)| (g.as_str(), r)).collect();
        out.sort_by_key(|(g, _)| (*g != "meta", g.to_string()));
        out.push((GROUP_CLIENTS, &self.clients));
        out
    }

    /// The run's verdict: stuck if any part is, else not judged if any part
    /// is, else converged (or no calm period at all).
    pub fn verdict(&self) -> Verdict {
        let all = self.all();
        let any = |v: Verdict| all.iter().any(|(_, r)| r.verdict == v);
        if any(Verdict::Stuck) {
            Verdict::Stuck
        } else if any(Verdict::NotJudged) {
            Verdict::NotJudged
        } else if any(Verdict::Converged) {
            Verdict::Converged
        } else {
            Verdict::NoCalm
        }
    }

    /// True when some group or the clients are stuck.
    pub fn is_stuck(&self) -> bool {
        self.verdict() == Verdict::Stuck
    }

    /// One line: the verdict, with the first part that decided it.
    pub fn summary(&self) -> String {
        let verdict = self.verdict();
        match self.all().into_iter().find(|(_, r)| r.verdict == verdict) {
            Some((g, r)) if matches!(verdict, Verdict::Stuck | Verdict::NotJudged) => {
                format!("[{g}] {}", r.summary())
            }
            Some((_, r)) => r.summary(),
            None => "no calm period in the trace: convergence not checked".into(),
        }
    }
}

impl ShardedConvergence {
    /// Checkers for the groups of the run `header` describes (its config
    /// gives PreVote and CheckQuorum, shared by every group).
    pub fn new(header: &TraceHeader, groups: &[GroupSpec]) -> Self {
        let per_group = |nodes: Vec<NodeId>| {
            let mut h = TraceHeader::new(header.seed, nodes);
            h.config = header.config.clone();
            h
        };
        ShardedConvergence {
            groups: groups
                .iter()
                .map(|g| {
                    let parts = Parts {
                        raft: true,
                        clients: false,
                        migrations: g.name != "meta",
                    };
                    let c = ConvergenceChecker::with_parts(&per_group(g.nodes.clone()), parts);
                    (g.name.clone(), c)
                })
                .collect(),
            clients: ConvergenceChecker::with_parts(
                &per_group(Vec::new()),
                Parts {
                    raft: false,
                    clients: true,
                    migrations: false,
                },
            ),
        }
    }

    /// Takes in one event of `group` (a group's name, "all" or "clients").
    pub fn observe(&mut self, group: &str, event: &TraceEvent) {
        if group == GROUP_ALL {
            for c in self.groups.values_mut() {
                c.observe(event);
            }
            self.clients.observe(event);
        } else if group == GROUP_CLIENTS {
            self.clients.observe(event);
        } else if let Some(c) = self.groups.get_mut(group) {
            c.observe(event);
        }
    }

    /// Judges every group and the clients.
    pub fn finish(&self) -> ShardedConvergenceReport {
        ShardedConvergenceReport {
            groups: self
                .groups
                .iter()
                .map(|(g, c)| (g.clone(), c.finish()))
                .collect(),
            clients: self.clients.finish(),
        }
    }
}

/// Reads a sharded trace and judges its calm period per group.
pub fn check_sharded_convergence_str(text: &str) -> Result<ShardedConvergenceReport, String> {
    let checker = read_grouped(text, ShardedConvergence::new, |c, group, event| {
        c.observe(group, event)
    })?;
    Ok(checker.finish())
}
