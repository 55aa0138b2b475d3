//! Breakpoints: "pause when S3 becomes candidate", "pause when index 5
//! commits", "pause on a violation". The page keeps a [`BreakpointWatch`],
//! scans the events each frame produced, and on a hit goes back to the
//! exact event (`Sim::goto_event`) so the student sees the moment itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::network::SnapshotSource;
use crate::sim::Sim;
use crate::trace::{EventKind, TraceEvent};
use crate::types::{Index, NodeId, Role, Term};

/// Something worth pausing at. Serialised with a `kind`, like lesson
/// conditions, so the page can keep a list of them in a link or a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Breakpoint {
    /// A node (or this node) becomes candidate.
    Candidate {
        /// Only this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
    },
    /// A node (or this node) becomes leader.
    Leader {
        /// Only this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
    },
    /// A node's commit index reaches `index` (any index when absent).
    Commit {
        /// The index to reach.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<Index>,
        /// Only on this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
    },
    /// A node's term changes. With `hit` alone (no memory of earlier
    /// terms), any `role` event whose term is above `above` counts.
    Term {
        /// Only on this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
        /// Only terms above this (0: any).
        #[serde(default)]
        above: Term,
    },
    /// A snapshot is taken or installed.
    Snapshot {
        /// Only on this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
        /// Only of this source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<SnapshotSource>,
    },
    /// The checker finds a violation (of `rule`, if given). Violations are
    /// not in the events themselves: use `hit_violation` or a watch.
    Violation {
        /// The rule's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
}

fn opt_eq<T: PartialEq>(want: &Option<T>, got: &T) -> bool {
    want.as_ref().is_none_or(|w| w == got)
}

impl Breakpoint {
    /// Whether `event` fires this breakpoint, judged from the event alone.
    /// (`Violation` never fires here; `Term` fires on any role event above
    /// `above` — a [`BreakpointWatch`] fires it only on real changes.)
    pub fn hit(&self, event: &TraceEvent) -> bool {
        match (&self, &event.kind) {
            (
                Breakpoint::Candidate { node },
                EventKind::Role {
                    node: n,
                    role: Role::Candidate,
                    ..
                },
            )
            | (
                Breakpoint::Leader { node },
                EventKind::Role {
                    node: n,
                    role: Role::Leader,
                    ..
                },
            ) => opt_eq(node, n),
            (
                Breakpoint::Commit { index, node },
                EventKind::Commit {
                    node: n, index: i, ..
                },
            ) => opt_eq(node, n) && index.is_none_or(|want| *i >= want),
            (Breakpoint::Term { node, above }, EventKind::Role { node: n, term, .. }) => {
                opt_eq(node, n) && term > above
            }
            (
                Breakpoint::Snapshot { node, source },
                EventKind::Snapshot {
                    node: n, source: s, ..
                },
            ) => opt_eq(node, n) && opt_eq(source, s),
            _ => false,
        }
    }

    /// Whether a violation the checker reported fires this breakpoint.
    pub fn hit_violation(&self, v: &crate::check::Violation) -> bool {
        match self {
            Breakpoint::Violation { rule } => rule.as_deref().is_none_or(|r| r == v.rule),
            _ => false,
        }
    }

    /// The breakpoint in words, for the page's list.
    pub fn describe(&self) -> String {
        let who = |n: &Option<NodeId>| n.map_or("a node".to_string(), |n| format!("S{n}"));
        match self {
            Breakpoint::Candidate { node } => format!("{} becomes candidate", who(node)),
            Breakpoint::Leader { node } => format!("{} becomes leader", who(node)),
            Breakpoint::Commit { index, node } => match index {
                Some(i) => format!("{} commits index {i}", who(node)),
                None => format!("{} commits", who(node)),
            },
            Breakpoint::Term { node, above } if *above > 0 => {
                format!("{} enters a term above {above}", who(node))
            }
            Breakpoint::Term { node, .. } => format!("{}'s term changes", who(node)),
            Breakpoint::Snapshot { node, .. } => format!("{} snapshots", who(node)),
            Breakpoint::Violation { rule } => match rule {
                Some(r) => format!("a violation of {r}"),
                None => "a violation".into(),
            },
        }
    }
}

/// A breakpoint that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BreakpointHit {
    /// The event at which it fired (go there with `Sim::goto_event`).
    pub seq: u64,
    /// Which breakpoint of the watch's list.
    pub index: usize,
}

/// A list of breakpoints with the memory `Term` needs (each node's last
/// term), scanning a simulation's new events since the previous scan.
#[derive(Clone, Debug, Default)]
pub struct BreakpointWatch {
    /// The breakpoints, in the page's order.
    pub breakpoints: Vec<Breakpoint>,
    terms: BTreeMap<NodeId, Term>,
    cursor: u64,
}

impl BreakpointWatch {
    /// A watch over `breakpoints`, starting at `sim`'s present (events
    /// already emitted do not fire).
    pub fn new(breakpoints: Vec<Breakpoint>, sim: &Sim) -> Self {
        let mut w = BreakpointWatch {
            breakpoints,
            terms: BTreeMap::new(),
            cursor: 0,
        };
        w.reset(sim);
        w
    }

    /// Forgets what was scanned and starts again at `sim`'s present (after
    /// the page jumps in time).
    pub fn reset(&mut self, sim: &Sim) {
        self.terms.clear();
        for e in super::events_between(sim, 0, sim.position()) {
            if let EventKind::Role { node, term, .. } = e.kind {
                self.terms.insert(node, term);
            }
        }
        if sim.history_start().seq > 1 {
            // A node's last role event may be older than the kept history:
            // its term now is the one that event announced.
            for (&id, node) in sim.nodes() {
                let term = match node {
                    crate::sim::SimNode::Up(s) => s.current_term(),
                    crate::sim::SimNode::Down(st, _) => crate::storage::Storage::load_meta(st).0,
                };
                self.terms.entry(id).or_insert(term);
            }
        }
        self.cursor = sim.position();
    }

    /// Scans the events emitted since the last scan and returns the first
    /// breakpoint that fired, if any. After a hit, scanning resumes just
    /// after that event, so the next scan can find later hits.
    pub fn scan(&mut self, sim: &Sim) -> Option<BreakpointHit> {
        let position = sim.position();
        if position < self.cursor {
            self.reset(sim);
            return None;
        }
        let violations: Vec<&crate::check::Violation> = sim
            .violations()
            .iter()
            .filter(|v| v.seq > self.cursor && v.seq <= position)
            .collect();
        for e in super::events_between(sim, self.cursor, position) {
            self.cursor = e.seq;
            let term_changed = match e.kind {
                EventKind::Role { node, term, .. } => {
                    let before = self.terms.insert(node, term);
                    before.is_none_or(|b| b != term)
                }
                _ => false,
            };
            for (index, bp) in self.breakpoints.iter().enumerate() {
                let fired = match bp {
                    Breakpoint::Term { .. } => term_changed && bp.hit(e),
                    Breakpoint::Violation { .. } => violations
                        .iter()
                        .any(|v| v.seq == e.seq && bp.hit_violation(v)),
                    _ => bp.hit(e),
                };
                if fired {
                    return Some(BreakpointHit { seq: e.seq, index });
                }
            }
        }
        self.cursor = position;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Action, SimConfig};

    /// Every hit of `bps` scanning `sim` as the page does, a few ms at a time.
    fn hits(sim: &mut Sim, bps: Vec<Breakpoint>, until: u64) -> Vec<(u64, usize)> {
        let mut watch = BreakpointWatch::new(bps, sim);
        let mut out = Vec::new();
        let mut t = sim.now();
        while t < until {
            t += 7;
            sim.run_until(t);
            while let Some(hit) = watch.scan(sim) {
                out.push((hit.seq, hit.index));
            }
        }
        out
    }

    #[test]
    fn a_watch_reads_a_bounded_history_by_seq() {
        let bps = vec![
            Breakpoint::Leader { node: None },
            Breakpoint::Term {
                node: None,
                above: 0,
            },
        ];
        let run = |limit: Option<u64>| {
            let mut sim = Sim::new(5, 5, SimConfig::default()).expect("valid");
            sim.set_history_limit(limit);
            sim.run_until(20_000);
            let leader = sim.leader().expect("leader");
            sim.act(Action::Crash { node: leader }).expect("crash");
            let hits = hits(&mut sim, bps.clone(), 25_000);
            (hits, sim)
        };
        let (full, _) = run(None);
        let (bounded, sim) = run(Some(500));
        assert!(sim.history_start().seq > 1, "history was dropped");
        assert!(!full.is_empty(), "the crash causes an election");
        assert_eq!(full, bounded);
        let start = sim.history_start().seq;
        for (seq, _) in bounded.into_iter().filter(|&(seq, _)| seq >= start) {
            assert!(matches!(
                sim.event(seq).map(|e| &e.kind),
                Some(EventKind::Role { .. })
            ));
        }
    }
}
