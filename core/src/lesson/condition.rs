//! The conditions that end a lesson step, and their evaluation against the
//! live simulation: its current state plus the events since the step began.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::check::rules;
use crate::kv::KvOp;
use crate::network::SnapshotSource;
use crate::sim::{Sim, SimNode};
use crate::trace::{ClientId, ClientPhase, EventKind, TraceEvent};
use crate::types::{Index, NodeId, Role, Term};

use super::{valid_node, MAX_CONDITION_DEPTH, MESSAGE_KINDS};

/// Whose commit index a `committed` condition looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitScope {
    /// The current leader's (the entry is committed in Raft's sense).
    #[default]
    Leader,
    /// A majority of the current voters'.
    Majority,
    /// Every running member's.
    All,
}

/// What must happen for a step to complete. Written in JSON with a
/// `kind`, e.g. `{"kind": "leader", "term_above": 1}`. "During the step"
/// means: in the events since the step began; the others look at the
/// cluster as it is now. See `docs/lessons.md` for every field.
// Deserialize is hand-written below (`from_json`): the derived one, a
// recursive internally tagged enum, was ~100 KB of the page's wasm.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// A node becomes leader during the step (optionally a given node, in a
    /// given term, or in a term above some number).
    Leader {
        /// Only this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
        /// Only in exactly this term.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term: Option<Term>,
        /// Only in a term greater than this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term_above: Option<Term>,
    },
    /// A node takes on `role` during the step (e.g. becomes candidate).
    Became {
        /// The role.
        role: Role,
        /// Only this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
        /// Only in exactly this term.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term: Option<Term>,
        /// Only in a term greater than this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term_above: Option<Term>,
    },
    /// Node `node` is running and its role is `role` now.
    Role {
        /// The node.
        node: NodeId,
        /// The role.
        role: Role,
    },
    /// Node `node` is running and every field given matches it now.
    Node {
        /// The node.
        node: NodeId,
        /// Its role.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
        /// Its current term.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term: Option<Term>,
        /// Whom it voted for in its current term (0: nobody).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voted_for: Option<NodeId>,
        /// Its commit index.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        commit_index: Option<Index>,
        /// Its last log index.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_index: Option<Index>,
    },
    /// Some running node's term is at least `at_least`.
    Term {
        /// The term.
        at_least: Term,
    },
    /// Index `index` is committed: by the leader (default), on a majority of
    /// voters, on every running member, or on `node` (now).
    Committed {
        /// The log index.
        index: Index,
        /// Whose commit index counts (ignored when `node` is given).
        #[serde(default)]
        on: CommitScope,
        /// Only this (running) node's commit index.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
    },
    /// A snapshot is taken (`local`) or installed (`install`) during the step.
    Snapshot {
        /// Only on this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
        /// Only of this source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<SnapshotSource>,
        /// Only covering at least this index.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index_at_least: Option<Index>,
    },
    /// The configuration in force (committed) on the leader, or on `node`,
    /// has exactly these voters (and learners, when given), not joint.
    Config {
        /// The voters.
        voters: Vec<NodeId>,
        /// The learners (not checked when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        learners: Option<Vec<NodeId>>,
        /// Look at this node instead of the leader.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
    },
    /// A client operation ends (or starts) with `phase` during the step.
    Client {
        /// The phase: invoke, ok, fail or timeout.
        phase: ClientPhase,
        /// Only this client.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<u64>,
        /// Only this operation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        op: Option<KvOp>,
        /// Only a get that read this value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<String>,
    },
    /// At least `at_least` messages of kind `msg` were sent during the step.
    Sent {
        /// The message kind (`append_entries`, `snapshot`, ...).
        msg: String,
        /// Only from this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<NodeId>,
        /// Only to this node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<NodeId>,
        /// How many (default 1).
        #[serde(default = "one")]
        at_least: u64,
    },
    /// `after_ms` simulated ms have passed since the step began.
    Time {
        /// Milliseconds.
        after_ms: u64,
    },
    /// The checker found a violation during the step (of `rule`, if given).
    Violation {
        /// The rule's name (see the checker's rules).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    /// There is a leader, and every running member of its configuration
    /// has the same last log index and term and the same commit index.
    Converged,
    /// Every condition holds.
    All {
        /// The conditions.
        of: Vec<Condition>,
    },
    /// At least one condition holds.
    Any {
        /// The conditions.
        of: Vec<Condition>,
    },
    /// The condition does not hold.
    Not {
        /// The condition.
        of: Box<Condition>,
    },
}

// ----- reading conditions (hand-written: see `crate::json` for why) -----

impl Condition {
    /// Every condition kind with the fields it accepts, in declaration order.
    const KINDS: [(&'static str, &'static [&'static str]); 16] = [
        ("leader", &["node", "term", "term_above"]),
        ("became", &["role", "node", "term", "term_above"]),
        ("role", &["node", "role"]),
        (
            "node",
            &[
                "node",
                "role",
                "term",
                "voted_for",
                "commit_index",
                "last_index",
            ],
        ),
        ("term", &["at_least"]),
        ("committed", &["index", "on", "node"]),
        ("snapshot", &["node", "source", "index_at_least"]),
        ("config", &["voters", "learners", "node"]),
        ("client", &["phase", "client", "op", "result"]),
        ("sent", &["msg", "from", "to", "at_least"]),
        ("time", &["after_ms"]),
        ("violation", &["rule"]),
        ("converged", &[]),
        ("all", &["of"]),
        ("any", &["of"]),
        ("not", &["of"]),
    ];

    /// Reads a condition object: a `kind` and that kind's fields, and no
    /// others (a misspelt field is an error, not silently ignored).
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        use crate::json::{
            ids_of, object, opt_string, opt_u64, pick, str_of, string_of, u64_of, unknown_variant,
        };
        let o = object(v, "internally tagged enum Condition")?;
        let kind = str_of(o, "kind")?;
        let Some(i) = Self::KINDS.iter().position(|(k, _)| *k == kind) else {
            return Err(unknown_variant(
                "kind",
                kind,
                Self::KINDS.iter().map(|(k, _)| *k),
            ));
        };
        let allowed = Self::KINDS[i].1;
        if let Some(extra) = o
            .keys()
            .find(|k| *k != "kind" && !allowed.contains(&k.as_str()))
        {
            let expected: Vec<String> = allowed.iter().map(|f| format!("`{f}`")).collect();
            return Err(if expected.is_empty() {
                format!("unknown field `{extra}`, there are no fields")
            } else {
                format!(
                    "unknown field `{extra}`, expected one of {}",
                    expected.join(", ")
                )
            });
        }
        let opt_role = |f: &str| -> Result<Option<Role>, String> {
            match o.get(f) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(_) => pick(o, f, &Role::NAMES).map(Some),
            }
        };
        let list = |f: &str| -> Result<Vec<Condition>, String> {
            match o.get(f) {
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(j, c)| Condition::from_json(c).map_err(|e| format!("{f}[{j}]: {e}")))
                    .collect(),
                Some(other) => Err(format!(
                    "field `{f}`: invalid type: {}, expected a sequence",
                    crate::json::unexpected(other)
                )),
                None => Err(format!("missing field `{f}`")),
            }
        };
        Ok(match i {
            0 => Condition::Leader {
                node: opt_u64(o, "node")?,
                term: opt_u64(o, "term")?,
                term_above: opt_u64(o, "term_above")?,
            },
            1 => Condition::Became {
                role: pick(o, "role", &Role::NAMES)?,
                node: opt_u64(o, "node")?,
                term: opt_u64(o, "term")?,
                term_above: opt_u64(o, "term_above")?,
            },
            2 => Condition::Role {
                node: u64_of(o, "node")?,
                role: pick(o, "role", &Role::NAMES)?,
            },
            3 => Condition::Node {
                node: u64_of(o, "node")?,
                role: opt_role("role")?,
                term: opt_u64(o, "term")?,
                voted_for: opt_u64(o, "voted_for")?,
                commit_index: opt_u64(o, "commit_index")?,
                last_index: opt_u64(o, "last_index")?,
            },
            4 => Condition::Term {
                at_least: u64_of(o, "at_least")?,
            },
            5 => Condition::Committed {
                index: u64_of(o, "index")?,
                on: match o.get("on") {
                    None => CommitScope::default(),
                    Some(_) => pick(o, "on", &CommitScope::NAMES)?,
                },
                node: opt_u64(o, "node")?,
            },
            6 => Condition::Snapshot {
                node: opt_u64(o, "node")?,
                source: match o.get("source") {
                    None | Some(serde_json::Value::Null) => None,
                    Some(_) => Some(pick(o, "source", &crate::trace::SNAPSHOT_SOURCES)?),
                },
                index_at_least: opt_u64(o, "index_at_least")?,
            },
            7 => Condition::Config {
                voters: ids_of(o, "voters")?,
                learners: match o.get("learners") {
                    None | Some(serde_json::Value::Null) => None,
                    Some(_) => Some(ids_of(o, "learners")?),
                },
                node: opt_u64(o, "node")?,
            },
            8 => Condition::Client {
                phase: pick(o, "phase", &crate::trace::CLIENT_PHASES)?,
                client: opt_u64(o, "client")?,
                op: match o.get("op") {
                    None | Some(serde_json::Value::Null) => None,
                    Some(_) => Some(pick(o, "op", &crate::trace::KV_OPS)?),
                },
                result: opt_string(o, "result")?,
            },
            9 => Condition::Sent {
                msg: string_of(o, "msg")?,
                from: opt_u64(o, "from")?,
                to: opt_u64(o, "to")?,
                at_least: match o.get("at_least") {
                    None => one(),
                    Some(_) => u64_of(o, "at_least")?,
                },
            },
            10 => Condition::Time {
                after_ms: u64_of(o, "after_ms")?,
            },
            11 => Condition::Violation {
                rule: opt_string(o, "rule")?,
            },
            12 => Condition::Converged,
            13 => Condition::All { of: list("of")? },
            14 => Condition::Any { of: list("of")? },
            _ => Condition::Not {
                of: match o.get("of") {
                    Some(c) => Box::new(Condition::from_json(c).map_err(|e| format!("of: {e}"))?),
                    None => return Err("missing field `of`".into()),
                },
            },
        })
    }
}

impl CommitScope {
    const NAMES: [(&'static str, CommitScope); 3] = [
        ("leader", CommitScope::Leader),
        ("majority", CommitScope::Majority),
        ("all", CommitScope::All),
    ];
}

crate::json::deserialize_via_value!(Condition, Condition::from_json);

fn one() -> u64 {
    1
}

/// What the events of the current step showed so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    /// Role changes: (node, role, term).
    became: Vec<(NodeId, Role, Term)>,
    /// Snapshots: (node, source, index).
    snapshots: Vec<(NodeId, SnapshotSource, Index)>,
    /// Client phases: (client, op, phase, value read).
    clients: Vec<(ClientId, KvOp, ClientPhase, Option<String>)>,
    /// Messages sent: (kind, from, to) -> count.
    sent: BTreeMap<(String, NodeId, NodeId), u64>,
    /// Actions seen, as their JSON.
    pub(crate) actions: Vec<serde_json::Value>,
}

impl Facts {
    /// Takes note of one event.
    pub(crate) fn observe(&mut self, e: &TraceEvent) {
        match &e.kind {
            EventKind::Role {
                node, role, term, ..
            } if !self.became.contains(&(*node, *role, *term)) => {
                self.became.push((*node, *role, *term));
            }
            EventKind::Snapshot {
                node,
                index,
                source,
                ..
            } => self.snapshots.push((*node, *source, *index)),
            EventKind::Client {
                client,
                op,
                phase,
                result,
                ..
            } => self
                .clients
                .push((client.clone(), op.clone(), *phase, result.clone().flatten())),
            EventKind::Send { msg, from, to, .. } => {
                *self.sent.entry((msg.clone(), *from, *to)).or_insert(0) += 1;
            }
            EventKind::Action { action } => self.actions.push(action.clone()),
            _ => {}
        }
    }
}

/// Where the step began and what it saw.
pub(crate) struct Ctx<'a> {
    pub(crate) sim: &'a Sim,
    pub(crate) facts: &'a Facts,
    pub(crate) start_time: u64,
    pub(crate) start_seq: u64,
}

fn opt_eq<T: PartialEq>(want: &Option<T>, got: &T) -> bool {
    want.as_ref().is_none_or(|w| w == got)
}

fn ids(list: &[NodeId]) -> String {
    let v: Vec<String> = list.iter().map(|n| format!("S{n}")).collect();
    v.join(", ")
}

impl Condition {
    /// Whether the condition holds now.
    pub(crate) fn holds(&self, c: &Ctx<'_>) -> bool {
        let sim = c.sim;
        match self {
            Condition::Leader {
                node,
                term,
                term_above,
            } => became(c, Role::Leader, node, term, term_above),
            Condition::Became {
                role,
                node,
                term,
                term_above,
            } => became(c, *role, node, term, term_above),
            Condition::Role { node, role } => sim.server(*node).is_some_and(|s| s.state() == *role),
            Condition::Node {
                node,
                role,
                term,
                voted_for,
                commit_index,
                last_index,
            } => sim.server(*node).is_some_and(|s| {
                opt_eq(role, &s.state())
                    && opt_eq(term, &s.current_term())
                    && opt_eq(voted_for, &s.voted_for())
                    && opt_eq(commit_index, &s.commit_idx())
                    && opt_eq(last_index, &s.log().last_index())
            }),
            Condition::Term { at_least } => sim
                .nodes()
                .keys()
                .filter_map(|&id| sim.server(id))
                .any(|s| s.current_term() >= *at_least),
            Condition::Committed { index, on, node } => committed(sim, *index, *on, *node),
            Condition::Snapshot {
                node,
                source,
                index_at_least,
            } => c.facts.snapshots.iter().any(|(n, s, i)| {
                opt_eq(node, n) && opt_eq(source, s) && index_at_least.is_none_or(|m| *i >= m)
            }),
            Condition::Config {
                voters,
                learners,
                node,
            } => {
                let who = node.or_else(|| sim.leader());
                let Some(s) = who.and_then(|id| sim.server(id)) else {
                    return false;
                };
                let m = s.config();
                let want: BTreeSet<NodeId> = voters.iter().copied().collect();
                m.voters == want
                    && m.outgoing.is_empty()
                    && learners
                        .as_ref()
                        .is_none_or(|l| m.learners == l.iter().copied().collect())
                    && s.config_index() <= s.commit_idx()
            }
            Condition::Client {
                phase,
                client,
                op,
                result,
            } => c.facts.clients.iter().any(|(cl, o, p, r)| {
                p == phase
                    && client.is_none_or(|c| *cl == c)
                    && opt_eq(op, o)
                    && result.as_ref().is_none_or(|want| r.as_ref() == Some(want))
            }),
            Condition::Sent {
                msg,
                from,
                to,
                at_least,
            } => {
                let n: u64 = c
                    .facts
                    .sent
                    .iter()
                    .filter(|((m, f, t), _)| m == msg && opt_eq(from, f) && opt_eq(to, t))
                    .map(|(_, n)| *n)
                    .sum();
                n >= *at_least
            }
            Condition::Time { after_ms } => sim.now() >= c.start_time.saturating_add(*after_ms),
            Condition::Violation { rule } => sim
                .violations()
                .iter()
                .any(|v| v.seq > c.start_seq && rule.as_deref().is_none_or(|r| r == v.rule)),
            Condition::Converged => converged(sim),
            Condition::All { of } => of.iter().all(|x| x.holds(c)),
            Condition::Any { of } => of.iter().any(|x| x.holds(c)),
            Condition::Not { of } => !of.holds(c),
        }
    }

    /// Checks names and ids, and that nesting stays shallow.
    pub(crate) fn validate(&self, depth: usize) -> Result<(), String> {
        if depth > MAX_CONDITION_DEPTH {
            return Err(format!(
                "conditions nest at most {MAX_CONDITION_DEPTH} deep"
            ));
        }
        let node_ok = |n: &Option<NodeId>| match n {
            Some(n) if !valid_node(*n) => Err(format!("node ids run from 1 to 9, not {n}")),
            _ => Ok(()),
        };
        match self {
            Condition::Leader { node, .. } | Condition::Became { node, .. } => node_ok(node),
            Condition::Role { node, .. } | Condition::Node { node, .. } => node_ok(&Some(*node)),
            Condition::Committed { node, .. } | Condition::Snapshot { node, .. } => node_ok(node),
            Condition::Config {
                voters,
                learners,
                node,
            } => {
                node_ok(node)?;
                if voters.is_empty() {
                    return Err("a configuration needs at least one voter".into());
                }
                for n in voters.iter().chain(learners.iter().flatten()) {
                    node_ok(&Some(*n))?;
                }
                Ok(())
            }
            Condition::Sent { msg, from, to, .. } => {
                node_ok(from)?;
                node_ok(to)?;
                if !MESSAGE_KINDS.contains(&msg.as_str()) {
                    return Err(format!(
                        "unknown message kind {msg:?}; known: {}",
                        MESSAGE_KINDS.join(", ")
                    ));
                }
                Ok(())
            }
            Condition::Violation { rule: Some(r) } if !rules::ALL.contains(&r.as_str()) => {
                Err(format!(
                    "unknown rule {r:?}; the checker's rules are: {}",
                    rules::ALL.join(", ")
                ))
            }
            Condition::All { of } | Condition::Any { of } => {
                if of.is_empty() {
                    return Err("\"all\" and \"any\" need at least one condition in \"of\"".into());
                }
                of.iter().try_for_each(|x| x.validate(depth + 1))
            }
            Condition::Not { of } => of.validate(depth + 1),
            _ => Ok(()),
        }
    }

    /// The condition in words, for the page ("waiting for: ...") and for errors.
    pub fn describe(&self) -> String {
        let term_words = |term: &Option<Term>, above: &Option<Term>| {
            let mut s = String::new();
            if let Some(t) = term {
                s.push_str(&format!(" in term {t}"));
            }
            if let Some(t) = above {
                s.push_str(&format!(" in a term above {t}"));
            }
            s
        };
        let who = |n: &Option<NodeId>| n.map_or("a node".to_string(), |n| format!("S{n}"));
        match self {
            Condition::Leader {
                node,
                term,
                term_above,
            } => format!(
                "{} becomes leader{}",
                who(node),
                term_words(term, term_above)
            ),
            Condition::Became {
                role,
                node,
                term,
                term_above,
            } => format!(
                "{} becomes {}{}",
                who(node),
                role.as_str(),
                term_words(term, term_above)
            ),
            Condition::Role { node, role } => format!("S{node} is {}", role.as_str()),
            Condition::Node {
                node,
                role,
                term,
                voted_for,
                commit_index,
                last_index,
            } => {
                let mut parts = Vec::new();
                if let Some(r) = role {
                    parts.push(format!("role {}", r.as_str()));
                }
                if let Some(t) = term {
                    parts.push(format!("term {t}"));
                }
                if let Some(v) = voted_for {
                    parts.push(format!("vote {v}"));
                }
                if let Some(i) = commit_index {
                    parts.push(format!("commit index {i}"));
                }
                if let Some(i) = last_index {
                    parts.push(format!("last log index {i}"));
                }
                format!("S{node} is running with {}", parts.join(", "))
            }
            Condition::Term { at_least } => format!("some node reaches term {at_least}"),
            Condition::Committed { index, on, node } => match (node, on) {
                (Some(n), _) => format!("S{n} has committed index {index}"),
                (None, CommitScope::Leader) => format!("the leader has committed index {index}"),
                (None, CommitScope::Majority) => {
                    format!("a majority of voters have committed index {index}")
                }
                (None, CommitScope::All) => {
                    format!("every running member has committed index {index}")
                }
            },
            Condition::Snapshot {
                node,
                source,
                index_at_least,
            } => {
                let what = match source {
                    Some(SnapshotSource::Local) => "takes a snapshot",
                    Some(SnapshotSource::Install) => "installs a snapshot",
                    None => "takes or installs a snapshot",
                };
                let upto =
                    index_at_least.map_or(String::new(), |i| format!(" up to index {i} or later"));
                format!("{} {what}{upto}", who(node))
            }
            Condition::Config {
                voters,
                learners,
                node,
            } => {
                let whose = node.map_or("the leader".to_string(), |n| format!("S{n}"));
                let l = learners
                    .as_ref()
                    .map_or(String::new(), |l| format!(" and learners {{{}}}", ids(l)));
                format!(
                    "{whose} acts on the committed configuration with voters {{{}}}{l}",
                    ids(voters)
                )
            }
            Condition::Client {
                phase,
                client,
                op,
                result,
            } => {
                let c = client.map_or("a client".to_string(), |c| format!("client {c}"));
                let o = op
                    .as_ref()
                    .map_or("operation".to_string(), |o| format!("{o:?}").to_lowercase());
                let p = format!("{phase:?}").to_lowercase();
                let r = result
                    .as_ref()
                    .map_or(String::new(), |r| format!(", reading {r:?}"));
                format!("{c}'s {o} ends with {p}{r}").replace("ends with invoke", "starts")
            }
            Condition::Sent {
                msg,
                from,
                to,
                at_least,
            } => {
                let f = from.map_or(String::new(), |n| format!(" from S{n}"));
                let t = to.map_or(String::new(), |n| format!(" to S{n}"));
                format!("{at_least} {msg} message(s) sent{f}{t}")
            }
            Condition::Time { after_ms } => format!("{after_ms} ms pass"),
            Condition::Violation { rule } => match rule {
                Some(r) => format!("the checker finds a violation of {r}"),
                None => "the checker finds a violation".into(),
            },
            Condition::Converged => "every member's log matches the leader's".into(),
            Condition::All { of } => {
                let v: Vec<String> = of.iter().map(Condition::describe).collect();
                v.join(" and ")
            }
            Condition::Any { of } => {
                let v: Vec<String> = of.iter().map(Condition::describe).collect();
                format!("either {}", v.join(" or "))
            }
            Condition::Not { of } => format!("not ({})", of.describe()),
        }
    }
}

fn became(
    c: &Ctx<'_>,
    role: Role,
    node: &Option<NodeId>,
    term: &Option<Term>,
    term_above: &Option<Term>,
) -> bool {
    c.facts.became.iter().any(|(n, r, t)| {
        *r == role && opt_eq(node, n) && opt_eq(term, t) && term_above.is_none_or(|a| *t > a)
    })
}

/// The voters now: the leader's configuration (both halves while joint),
/// or the starting voters when there is no leader.
fn current_voters(sim: &Sim) -> BTreeSet<NodeId> {
    match sim.leader().and_then(|l| sim.server(l)) {
        Some(s) => s.config().voters.clone(),
        None => sim.header().nodes.iter().copied().collect(),
    }
}

fn running_members(sim: &Sim) -> Vec<NodeId> {
    let members = sim
        .leader()
        .and_then(|l| sim.server(l))
        .map(|s| s.config().members());
    sim.nodes()
        .iter()
        .filter(|(_, n)| matches!(n, SimNode::Up(_)))
        .map(|(&id, _)| id)
        .filter(|id| members.as_ref().is_none_or(|m| m.contains(id)))
        .collect()
}

fn committed(sim: &Sim, index: Index, on: CommitScope, node: Option<NodeId>) -> bool {
    let has = |id: NodeId| sim.server(id).is_some_and(|s| s.commit_idx() >= index);
    if let Some(n) = node {
        return has(n);
    }
    match on {
        CommitScope::Leader => sim.leader().is_some_and(has),
        CommitScope::Majority => {
            let voters = current_voters(sim);
            let n = voters.iter().filter(|&&v| has(v)).count();
            n * 2 > voters.len()
        }
        CommitScope::All => {
            let members = running_members(sim);
            !members.is_empty() && members.into_iter().all(has)
        }
    }
}

fn converged(sim: &Sim) -> bool {
    let Some(l) = sim.leader().and_then(|l| sim.server(l)) else {
        return false;
    };
    let key =
        |s: &crate::harness::Server| (s.log().last_index(), s.log().last_term(), s.commit_idx());
    let want = key(l);
    running_members(sim)
        .into_iter()
        .all(|id| sim.server(id).is_some_and(|s| key(s) == want))
}
