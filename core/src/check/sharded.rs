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
    let mut reader = TraceReader::new(text).map_err(|e| e.to_string())?;
    let groups = groups_of(reader.header())?;
    let mut checker = ShardedChecker::new(reader.header().seed, &groups);
    // The reader yields typed events; the group field is read from the line.
    let mut lines = text.lines().skip(1).filter(|l| !l.trim().is_empty());
    for event in reader.by_ref() {
        let event = event.map_err(|e| e.to_string())?;
        let line = lines.next().unwrap_or_default();
        let g: GroupField =
            serde_json::from_str(line).map_err(|e| format!("event {}: {e}", event.seq))?;
        let Some(group) = g.group else {
            return Err(format!("event {} has no group field", event.seq));
        };
        checker.observe(&group, &event);
    }
    Ok(checker.finish())
}
