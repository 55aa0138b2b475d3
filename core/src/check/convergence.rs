//! Convergence as a checked property: after the faults stop, the cluster
//! recovers. Safety (the other checkers) proves that nothing bad happens;
//! this proves that something good does, from the trace alone.
//!
//! A chaos run ends with a *calm period*, announced in the trace by an
//! `action` event of kind `calm` with its length `ms`: every partition and
//! cut link healed, no loss, every crashed server restarted, and no new
//! faults until the run ends, `ms` after it (clients keep writing). By the
//! end of the calm period the run must have reached:
//!
//! * exactly one leader, every live voter of its configuration following it
//!   in its term (§5.2);
//! * every live member's commit index at least what any server had
//!   committed half-way through the calm period, and every committed entry
//!   applied (§5.3, Figure 2);
//! * no joint configuration left and no configuration change uncommitted
//!   (thesis §4.3: the leader that finds C_old,new committed moves on to
//!   C_new), no leadership transfer pending (thesis §3.10);
//! * every client operation invoked before the calm period answered, `ok`
//!   or `fail`, not timed out;
//! * in a sharded run, no slot migration left half done.
//!
//! A run that misses one is **stuck**, reported with the first unmet
//! condition in plain words. Raft promises this only with PreVote and
//! CheckQuorum (thesis §4.2.3): without them a removed server that never
//! learns of its removal keeps campaigning and deposes every leader. When
//! such a server deposed a leader in the calm period of a run with either
//! switched off, the run is **not judged** and the cause is named. It is
//! not judged either when a fault breaks the calm period.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::trace::{
    ClientId, ClientPhase, EventKind, TraceError, TraceEvent, TraceHeader, TraceReader,
};
use crate::types::{EntryKind, Index, NodeId, Role, Term};

/// The stable names of the conditions a calm period must reach.
pub mod conditions {
    /// Exactly one live leader at the end (§5.2).
    pub const ONE_LEADER: &str = "one_leader";
    /// Every live voter of the leader's configuration follows it in its
    /// term (§5.2).
    pub const FOLLOWERS: &str = "voters_follow_leader";
    /// No live member still in C_old,new (thesis §4.3).
    pub const JOINT_LEFT: &str = "joint_left";
    /// The leader's last configuration entry is committed (thesis §4.1).
    pub const CHANGE_COMMITTED: &str = "change_committed";
    /// No leadership transfer pending (thesis §3.10).
    pub const TRANSFER_FINISHED: &str = "transfer_finished";
    /// Every live member committed what was committed half-way through the
    /// calm period (§5.3).
    pub const COMMIT_REACHED: &str = "commit_reached";
    /// Every live member applied every entry it knows committed (Figure 2).
    pub const COMMITTED_APPLIED: &str = "committed_applied";
    /// Every client operation invoked before the calm period ended `ok` or
    /// `fail`.
    pub const CLIENTS_ANSWERED: &str = "clients_answered";
    /// Every slot migration started before the calm period finished or
    /// failed cleanly (sharded runs).
    pub const MIGRATIONS_FINISHED: &str = "migrations_finished";
}

/// The verdict on a run's calm period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The trace has no calm period: there is nothing to judge.
    NoCalm,
    /// Every condition was reached.
    Converged,
    /// Some condition was not reached: a liveness bug.
    Stuck,
    /// Conditions were missed, but Raft does not promise them for this run
    /// (PreVote or CheckQuorum off with a disruptive removed server, or a
    /// fault inside the calm period).
    NotJudged,
}

/// Where the calm period is in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CalmPeriod {
    /// The seq of the `calm` action.
    pub seq: u64,
    /// When it began, ms.
    pub from: u64,
    /// How long it lasts, ms.
    pub ms: u64,
}

/// A condition the calm period did not reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unmet {
    /// The condition's stable name (one of [`conditions`]).
    pub condition: &'static str,
    /// What is wrong, in plain words, naming servers S1, S2, ...
    pub message: String,
}

/// What the convergence check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConvergenceReport {
    /// The verdict.
    pub verdict: Verdict,
    /// The calm period, if the trace has one.
    pub calm: Option<CalmPeriod>,
    /// The conditions not reached, the first (most basic) first.
    pub unmet: Vec<Unmet>,
    /// Why the run is not judged, when it is not.
    pub cause: Option<String>,
}

impl ConvergenceReport {
    /// True when the run is stuck (a failure; not-judged runs are not).
    pub fn is_stuck(&self) -> bool {
        self.verdict == Verdict::Stuck
    }

    /// One line for people: the verdict and the first unmet condition.
    pub fn summary(&self) -> String {
        let first = self.unmet.first().map_or("", |u| u.message.as_str());
        match self.verdict {
            Verdict::NoCalm => "no calm period in the trace: convergence not checked".into(),
            Verdict::Converged => {
                let secs = self.calm.map_or(0.0, |c| c.ms as f64 / 1000.0);
                format!("CONVERGED (every condition reached in a {secs:.1} s calm period)")
            }
            Verdict::Stuck => format!("STUCK: {first}"),
            Verdict::NotJudged => format!(
                "NOT JUDGED: {} (unmet: {first})",
                self.cause.as_deref().unwrap_or("")
            ),
        }
    }
}

/// Which conditions a checker judges: a sharded run splits them between a
/// checker per group (Raft and migrations) and one over the clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Parts {
    pub raft: bool,
    pub clients: bool,
    pub migrations: bool,
}

/// What the trace says about one node.
#[derive(Clone, Debug, Default)]
struct Node {
    seen: bool,
    alive: bool,
    role: Option<Role>,
    term: Term,
    leader: Option<NodeId>,
    commit: Index,
    applied: Index,
    /// Index of its latest snapshot (persisted).
    snapshot: Index,
    /// The configuration it acts on; `None` until a `config` event (the
    /// header's voters until then).
    config: Option<Config>,
    /// Membership entries in its log, by index (persisted).
    changes: BTreeMap<Index, (Term, EntryKind, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Config {
    voters: BTreeSet<NodeId>,
    learners: BTreeSet<NodeId>,
    outgoing: BTreeSet<NodeId>,
}

impl Config {
    fn is_voter(&self, n: NodeId) -> bool {
        self.voters.contains(&n) || self.outgoing.contains(&n)
    }
    fn members(&self) -> BTreeSet<NodeId> {
        self.voters
            .iter()
            .chain(&self.learners)
            .chain(&self.outgoing)
            .copied()
            .collect()
    }
}

/// A client operation in flight.
#[derive(Clone, Debug)]
struct Op {
    what: String,
    invoked: u64,
}

/// A slot migration, as the source group's log shows it.
#[derive(Clone, Debug, Default)]
struct Migration {
    slot: u64,
    started: u64,
    /// Freeze applied with an `ok` answer.
    frozen: bool,
    /// Finished: dropped, or the freeze refused.
    done: bool,
}

/// The incremental convergence checker: `new`, `observe` every event in
/// order, `finish`.
#[derive(Clone, Debug)]
pub struct ConvergenceChecker {
    parts: Parts,
    initial: Config,
    prevote: bool,
    check_quorum: bool,
    transfer_timeout_ms: u64,
    nodes: BTreeMap<NodeId, Node>,
    calm: Option<CalmPeriod>,
    last_time: u64,
    /// Highest commit index any live node held half-way through the calm
    /// period, with the node; taken at the first event past that point.
    mid_commit: Option<(Index, NodeId)>,
    /// First fault inside the calm period: what and when.
    calm_broken: Option<(String, u64)>,
    /// Candidates per term, for deposed leaders.
    candidates: BTreeMap<Term, BTreeSet<NodeId>>,
    /// Leaders each removed server deposed in the calm period.
    deposed: BTreeMap<NodeId, u64>,
    /// Pending transfer: (leader, its term, target, requested at).
    transfer: Option<(NodeId, Term, NodeId, u64)>,
    /// Client operations in flight.
    in_flight: BTreeMap<ClientId, Op>,
    /// Clients whose operation was in flight when the calm period began.
    owed: BTreeMap<ClientId, Op>,
    /// Operations that timed out although they should have been answered.
    timed_out: Vec<(ClientId, Op, u64)>,
    /// When, in the calm period, a leader first committed an entry of its
    /// term: from then on the cluster can answer clients.
    ready: Option<u64>,
    /// A client's wait between attempts, ms (header `client_retry_ms`).
    client_retry_ms: u64,
    /// Migration steps by (index, term): (migration id, freeze?).
    steps: BTreeMap<(Index, Term), (u64, bool)>,
    migrations: BTreeMap<u64, Migration>,
}

/// Reads a setting from a header's `config`, with raftlab's default.
fn setting(header: &TraceHeader, name: &str, default: bool) -> bool {
    header.config[name].as_bool().unwrap_or(default)
}

impl ConvergenceChecker {
    /// A checker for the run `header` describes. PreVote and CheckQuorum
    /// are read from the header's `config` (`prevote`, `check_quorum`),
    /// and count as on, raftlab's default, when absent.
    pub fn new(header: &TraceHeader) -> Self {
        Self::with_parts(
            header,
            Parts {
                raft: true,
                clients: true,
                migrations: false,
            },
        )
    }

    pub(crate) fn with_parts(header: &TraceHeader, parts: Parts) -> Self {
        let transfer_timeout_ms = header.config["election_timeout_ms"][0]
            .as_u64()
            .unwrap_or(150);
        ConvergenceChecker {
            parts,
            initial: Config {
                voters: header.nodes.iter().copied().collect(),
                learners: BTreeSet::new(),
                outgoing: BTreeSet::new(),
            },
            prevote: setting(header, "prevote", true),
            check_quorum: setting(header, "check_quorum", true),
            transfer_timeout_ms,
            nodes: BTreeMap::new(),
            calm: None,
            last_time: 0,
            mid_commit: None,
            calm_broken: None,
            candidates: BTreeMap::new(),
            deposed: BTreeMap::new(),
            transfer: None,
            in_flight: BTreeMap::new(),
            owed: BTreeMap::new(),
            timed_out: Vec::new(),
            ready: None,
            client_retry_ms: header.config["client_retry_ms"].as_u64().unwrap_or(400),
            steps: BTreeMap::new(),
            migrations: BTreeMap::new(),
        }
    }

    /// The calm period, once its `calm` action has been seen.
    pub fn calm(&self) -> Option<CalmPeriod> {
        self.calm
    }

    fn in_calm(&self) -> bool {
        self.calm.is_some()
    }

    fn config_of(&self, n: NodeId) -> &Config {
        self.nodes
            .get(&n)
            .and_then(|x| x.config.as_ref())
            .unwrap_or(&self.initial)
    }

    /// Takes in one event.
    pub fn observe(&mut self, e: &TraceEvent) {
        if let Some(c) = self.calm {
            let mid = c.from.saturating_add(c.ms / 2);
            if self.mid_commit.is_none() && e.time > mid {
                self.mid_commit = Some(self.highest_commit());
            }
        }
        self.last_time = e.time;
        match &e.kind {
            EventKind::Role {
                node,
                role,
                term,
                leader,
                ..
            } => self.role(*node, *role, *term, *leader),
            EventKind::Append {
                node,
                index,
                term,
                kind,
                data,
            } => self.append(*node, *index, *term, *kind, data),
            EventKind::Truncate { node, from } => {
                let n = self.nodes.entry(*node).or_default();
                n.changes.retain(|&i, _| i < *from);
            }
            EventKind::Commit { node, index, .. } => {
                let n = self.nodes.entry(*node).or_default();
                n.commit = n.commit.max(*index);
                if self.ready.is_none() && self.calm.is_some() && n.role == Some(Role::Leader) {
                    self.ready = Some(e.time);
                }
            }
            EventKind::Apply {
                node,
                index,
                term,
                output,
            } => {
                let n = self.nodes.entry(*node).or_default();
                n.applied = n.applied.max(*index);
                self.applied_step(*index, *term, output.as_deref(), e.time);
            }
            EventKind::Snapshot { node, index, .. } => {
                let n = self.nodes.entry(*node).or_default();
                n.snapshot = n.snapshot.max(*index);
                n.commit = n.commit.max(*index);
                n.applied = n.applied.max(*index);
                n.changes.retain(|&i, _| i > *index);
            }
            EventKind::Config {
                node,
                voters,
                learners,
                outgoing,
            } => {
                self.nodes.entry(*node).or_default().config = Some(Config {
                    voters: voters.clone(),
                    learners: learners.clone(),
                    outgoing: outgoing.clone(),
                });
            }
            EventKind::Crash { node } => {
                let n = self.nodes.entry(*node).or_default();
                n.alive = false;
                n.commit = 0;
                n.applied = 0;
                if self.transfer.is_some_and(|t| t.0 == *node) {
                    self.transfer = None;
                }
            }
            EventKind::Restart { node } => {
                let n = self.nodes.entry(*node).or_default();
                n.alive = true;
                n.commit = 0;
                n.applied = n.snapshot;
            }
            EventKind::Action { action } => self.action(action, e.seq, e.time),
            EventKind::Client {
                client,
                op,
                key,
                phase,
                ..
            } => {
                let op = match op {
                    crate::kv::KvOp::Put => "put",
                    crate::kv::KvOp::Get => "get",
                    crate::kv::KvOp::Delete => "delete",
                };
                self.client(client, op, key, *phase, e.time)
            }
            _ => {}
        }
    }

    fn role(&mut self, node: NodeId, role: Role, term: Term, leader: Option<NodeId>) {
        let calm = self.in_calm();
        let before = self.nodes.get(&node).map(|n| (n.role, n.term));
        let config = self.config_of(node).clone();
        if let Some((Some(Role::Leader), old_term)) = before {
            let deposed = role != Role::Leader || term != old_term;
            if deposed && calm && term > old_term {
                // Who campaigned in the new term without being a voter of
                // the deposed leader's configuration (thesis §4.2.3)?
                let outsiders: Vec<NodeId> = self
                    .candidates
                    .get(&term)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&c| !config.is_voter(c))
                    .collect();
                for c in outsiders {
                    *self.deposed.entry(c).or_insert(0) += 1;
                }
            }
            if deposed && self.transfer.is_some_and(|t| t.0 == node) {
                self.transfer = None;
            }
        }
        if role == Role::Candidate {
            self.candidates.entry(term).or_default().insert(node);
            // Only recent terms matter.
            while self.candidates.len() > 64 {
                self.candidates.pop_first();
            }
        }
        if role == Role::Leader && self.transfer.is_some_and(|t| t.2 == node) {
            self.transfer = None;
        }
        let n = self.nodes.entry(node).or_default();
        n.seen = true;
        n.alive = true;
        n.role = Some(role);
        n.term = term;
        n.leader = leader;
    }

    fn append(&mut self, node: NodeId, index: Index, term: Term, kind: EntryKind, data: &str) {
        let n = self.nodes.entry(node).or_default();
        if kind.is_membership() {
            n.changes.insert(index, (term, kind, data.to_string()));
        } else {
            n.changes.remove(&index);
        }
        if self.parts.migrations {
            self.migration_step(index, term, data);
        }
    }

    /// Notes a slot-migration entry (`{"freeze":{...}}` or
    /// `{"drop_slot":{...}}` in a KV group's log; see `docs/sharding.md`).
    fn migration_step(&mut self, index: Index, term: Term, data: &str) {
        let freeze = data.starts_with("{\"freeze\"");
        if !freeze && !data.starts_with("{\"drop_slot\"") {
            return;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(data) else {
            return;
        };
        let body = if freeze {
            &v["freeze"]
        } else {
            &v["drop_slot"]
        };
        let (Some(mig), Some(slot)) = (body["mig"].as_u64(), body["slot"].as_u64()) else {
            return;
        };
        self.steps.insert((index, term), (mig, freeze));
        if freeze {
            let started = self.last_time;
            self.migrations.entry(mig).or_insert(Migration {
                slot,
                started,
                ..Migration::default()
            });
        }
    }

    fn applied_step(&mut self, index: Index, term: Term, output: Option<&str>, _time: u64) {
        let Some(&(mig, freeze)) = self.steps.get(&(index, term)) else {
            return;
        };
        let Some(m) = self.migrations.get_mut(&mig) else {
            return;
        };
        if freeze {
            let ok = output
                .and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok())
                .and_then(|v| v["ok"].as_bool())
                .unwrap_or(true);
            if ok {
                m.frozen = true;
            } else if !m.frozen {
                m.done = true;
            }
        } else {
            m.done = true;
        }
    }

    fn action(&mut self, action: &serde_json::Value, seq: u64, time: u64) {
        let kind = action["kind"].as_str().unwrap_or("");
        match kind {
            "calm" if self.calm.is_none() => {
                self.calm = Some(CalmPeriod {
                    seq,
                    from: time,
                    ms: action["ms"].as_u64().unwrap_or(0),
                });
                self.owed = self.in_flight.clone();
                self.deposed.clear();
            }
            "transfer" => {
                let Some(to) = action["to"].as_u64() else {
                    return;
                };
                if let Some((l, t)) = self.leader_now() {
                    let same = self
                        .transfer
                        .is_some_and(|p| p.0 == l && p.1 == t && p.2 == to);
                    // Thesis §3.10: asking again does not extend the
                    // transfer's deadline.
                    if !same && l != to {
                        self.transfer = Some((l, t, to, time));
                    }
                }
            }
            _ => {}
        }
        let fault = matches!(
            kind,
            "crash"
                | "timeout"
                | "partition"
                | "cut"
                | "network"
                | "add_learner"
                | "add_voter"
                | "remove"
                | "joint"
                | "move_slot"
                | "drop_message"
        );
        if fault && self.in_calm() && self.calm_broken.is_none() {
            let what = match action["node"].as_u64().or(action["to"].as_u64()) {
                Some(n) => format!("a {kind} action on S{n}"),
                None => format!("a {kind} action"),
            };
            self.calm_broken = Some((what, time));
        }
    }

    fn client(&mut self, client: &ClientId, op: &str, key: &str, phase: ClientPhase, time: u64) {
        match phase {
            ClientPhase::Invoke => {
                self.in_flight.insert(
                    client.clone(),
                    Op {
                        what: format!("{op} {key}"),
                        invoked: time,
                    },
                );
            }
            _ => {
                let op = self.in_flight.remove(client);
                let owed = self.owed.remove(client).is_some();
                // A client gives up on its own clock: a timeout before the
                // cluster could answer (a leader committing in its term,
                // then the client's next attempt) is the client's policy,
                // not a stuck cluster. After that, it is.
                let answerable = self.ready.map(|r| r.saturating_add(self.client_retry_ms));
                if let (Some(op), true) = (op, phase == ClientPhase::Timeout) {
                    let late = answerable.is_some_and(|a| time >= a);
                    if late && (owed || self.in_calm()) {
                        self.timed_out.push((client.clone(), op, time));
                    }
                }
            }
        }
    }

    /// The live leader of the highest term, if any.
    fn leader_now(&self) -> Option<(NodeId, Term)> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.alive && n.role == Some(Role::Leader))
            .map(|(&id, n)| (n.term, id))
            .max()
            .map(|(t, id)| (id, t))
    }

    fn highest_commit(&self) -> (Index, NodeId) {
        self.nodes
            .iter()
            .filter(|(_, n)| n.alive)
            .map(|(&id, n)| (n.commit, id))
            .max_by_key(|&(c, id)| (c, std::cmp::Reverse(id)))
            .unwrap_or((0, 0))
    }

    /// Judges the calm period.
    pub fn finish(&self) -> ConvergenceReport {
        let Some(calm) = self.calm else {
            return ConvergenceReport {
                verdict: Verdict::NoCalm,
                calm: None,
                unmet: Vec::new(),
                cause: None,
            };
        };
        let unmet = self.unmet(calm);
        let (verdict, cause) = if unmet.is_empty() {
            (Verdict::Converged, None)
        } else if let Some(cause) = self.excuse() {
            (Verdict::NotJudged, Some(cause))
        } else {
            (Verdict::Stuck, None)
        };
        ConvergenceReport {
            verdict,
            calm: Some(calm),
            unmet,
            cause,
        }
    }

    /// Why Raft does not promise convergence for this run, if it does not.
    fn excuse(&self) -> Option<String> {
        if let Some((what, time)) = &self.calm_broken {
            return Some(format!(
                "{what} at {} broke the calm period, so convergence is not promised",
                secs(*time)
            ));
        }
        if self.prevote && self.check_quorum {
            return None;
        }
        let (&node, &count) = self.deposed.iter().max_by_key(|(&n, &c)| (c, n))?;
        let off = match (self.prevote, self.check_quorum) {
            (false, false) => "PreVote and CheckQuorum are off",
            (false, true) => "PreVote is off",
            _ => "CheckQuorum is off",
        };
        Some(format!(
            "S{node}, removed, deposed {count} leader{} in the calm period; {off} — thesis §4.2.3",
            if count == 1 { "" } else { "s" }
        ))
    }

    fn unmet(&self, calm: CalmPeriod) -> Vec<Unmet> {
        let mut out = Vec::new();
        // The state judged is the one at the trace's last event: say how
        // far into the calm period that is (a cut-short trace ends early).
        let into = self.last_time.saturating_sub(calm.from).min(calm.ms);
        let after = format!("{} after the calm period began", secs(into));
        let mut push = |condition: &'static str, message: String| {
            out.push(Unmet { condition, message });
        };
        if self.parts.raft {
            self.raft_unmet(&after, &mut push);
        }
        if self.parts.migrations {
            for (mig, m) in &self.migrations {
                if m.started <= calm.from && !m.done {
                    let stage = if m.frozen {
                        "frozen at its source, not yet dropped"
                    } else {
                        "its freeze not yet applied"
                    };
                    push(
                        conditions::MIGRATIONS_FINISHED,
                        format!(
                            "migration {mig} of slot {} left half done ({stage}) {after}",
                            m.slot
                        ),
                    );
                }
            }
        }
        if self.parts.clients {
            for (client, op, at) in &self.timed_out {
                push(
                    conditions::CLIENTS_ANSWERED,
                    format!(
                        "client {client}'s {} invoked at {} timed out at {}, {} after a leader could answer in the calm period",
                        op.what,
                        secs(op.invoked),
                        secs(*at),
                        secs(at.saturating_sub(self.ready.unwrap_or(calm.from)))
                    ),
                );
            }
            for (client, op) in &self.owed {
                push(
                    conditions::CLIENTS_ANSWERED,
                    format!(
                        "client {client}'s {} invoked at {} still has no answer {after}",
                        op.what,
                        secs(op.invoked)
                    ),
                );
            }
        }
        out
    }

    fn raft_unmet(&self, after: &str, push: &mut dyn FnMut(&'static str, String)) {
        let leaders: Vec<(NodeId, Term)> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.alive && n.role == Some(Role::Leader))
            .map(|(&id, n)| (id, n.term))
            .collect();
        let (leader, term) = match leaders.as_slice() {
            [one] => *one,
            [] => {
                push(conditions::ONE_LEADER, format!("no leader {after}"));
                return;
            }
            many => {
                let list: Vec<String> = many
                    .iter()
                    .map(|(n, t)| format!("S{n} in term {t}"))
                    .collect();
                push(
                    conditions::ONE_LEADER,
                    format!(
                        "{} leaders at once {after}: {}",
                        many.len(),
                        list.join(", ")
                    ),
                );
                return;
            }
        };
        let config = self.config_of(leader).clone();
        let alive = |n: NodeId| self.nodes.get(&n).is_some_and(|x| x.alive && x.seen);
        for v in config.voters.iter().chain(&config.outgoing) {
            let Some(x) = self.nodes.get(v).filter(|_| alive(*v) && *v != leader) else {
                continue;
            };
            if x.role == Some(Role::Follower) && x.term == term && x.leader == Some(leader) {
                continue;
            }
            let what = match (x.role, x.leader) {
                (Some(Role::Follower), Some(l)) => format!("follows S{l} in term {}", x.term),
                (Some(Role::Follower), None) => format!("knows no leader in term {}", x.term),
                (Some(r), _) => format!("is a {} in term {}", r.as_str(), x.term),
                (None, _) => "has no role".into(),
            };
            push(
                conditions::FOLLOWERS,
                format!("S{v} {what}, not a follower of S{leader} (leader of term {term}) {after}"),
            );
            return;
        }
        let mut members: Vec<NodeId> = vec![leader];
        members.extend(
            config
                .members()
                .into_iter()
                .filter(|&m| m != leader && alive(m)),
        );
        for &m in &members {
            let c = self.config_of(m);
            if !c.outgoing.is_empty() {
                push(
                    conditions::JOINT_LEFT,
                    format!(
                        "S{m}{} still in the joint configuration {} / {} {after}",
                        if m == leader { " (the leader)" } else { "" },
                        ids(&c.outgoing),
                        ids(&c.voters)
                    ),
                );
                return;
            }
        }
        let lead = self.nodes.get(&leader).cloned().unwrap_or_default();
        if let Some((&index, (_, kind, data))) = lead.changes.last_key_value() {
            if index > lead.commit {
                push(
                    conditions::CHANGE_COMMITTED,
                    format!(
                        "the leader S{leader}'s configuration change at index {index} ({} {data}) is not committed {after}",
                        kind.as_str()
                    ),
                );
                return;
            }
        }
        if let Some((l, _, to, since)) = self.transfer {
            if self.last_time < since.saturating_add(self.transfer_timeout_ms) {
                push(
                    conditions::TRANSFER_FINISHED,
                    format!(
                        "S{l} is still transferring leadership to S{to} (asked at {}) {after}",
                        secs(since)
                    ),
                );
                return;
            }
        }
        let (target, holder) = self.mid_commit.unwrap_or_else(|| self.highest_commit());
        for &m in &members {
            let x = self.nodes.get(&m).cloned().unwrap_or_default();
            if x.commit < target {
                push(
                    conditions::COMMIT_REACHED,
                    format!(
                        "S{m}'s commit index is {}, below the {target} S{holder} had committed half-way through the calm period; {after}",
                        x.commit
                    ),
                );
                return;
            }
        }
        for &m in &members {
            let x = self.nodes.get(&m).cloned().unwrap_or_default();
            if x.applied < x.commit {
                push(
                    conditions::COMMITTED_APPLIED,
                    format!(
                        "S{m} applied entries up to {} of the {} it knows committed {after}",
                        x.applied, x.commit
                    ),
                );
                return;
            }
        }
    }
}

fn ids(set: &BTreeSet<NodeId>) -> String {
    let list: Vec<String> = set.iter().map(|n| n.to_string()).collect();
    format!("{{{}}}", list.join(","))
}

/// "9.0 s" for 9000 ms.
fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// Reads a trace and judges its calm period.
pub fn check_convergence_str(text: &str) -> Result<ConvergenceReport, TraceError> {
    let mut reader = TraceReader::new(text)?;
    let mut checker = ConvergenceChecker::new(reader.header());
    for event in reader.by_ref() {
        checker.observe(&event?);
    }
    Ok(checker.finish())
}

/// Judges the calm period of events already in memory (a simulation's).
pub fn convergence_of(header: &TraceHeader, events: &[TraceEvent]) -> ConvergenceReport {
    let mut checker = ConvergenceChecker::new(header);
    for e in events {
        checker.observe(e);
    }
    checker.finish()
}
