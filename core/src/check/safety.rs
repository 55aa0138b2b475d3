//! The models the checker keeps and the rules it checks at each event.
//!
//! Per node: term, votes and log (persisted, so they survive a crash), and
//! commit/apply positions (volatile). Globally: the leader of each term,
//! every distinct entry by (index, term) with the term of the entry before
//! it, the committed and applied entry at each index, and the messages in
//! flight. Each rule is checked at the event that could break it, so a
//! million events check in linear time (logarithmic map look-ups aside).
//!
//! This file holds the models and the dispatch; the rules live by concern,
//! as raft-rs splits its modules:
//!
//! * `elections`: terms, votes and leaders (§5.1, §5.2, §5.4.1; thesis
//!   §9.6).
//! * `log`: Log Matching, append-only leaders and Leader Completeness
//!   (§5.3, §5.4).
//! * `state_machine`: commits, applies and snapshots (§5.4.2, §5.4.3, §7).
//! * `replication`: what leaders counted and followers kept, persistence
//!   across restarts included (§5.2, §5.3, Figure 2).
//! * `network`: sends, deliveries and drops (spec rules 5, 7 and 9).
//! * `clients`: the client histories (spec rules 4 and 5).

mod clients;
mod elections;
mod log;
mod network;
mod replication;
mod state_machine;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use self::network::IdSet;
use super::linearizability::Histories;
use super::rules::{CAUSAL_ORDER, CRASHED_NODE_SILENT};
use super::{s, Violation};
use crate::quorum::Membership;
use crate::trace::{EventKind, TraceEvent};
use crate::types::{EntryKind, Index, NodeId, Role, Term};

/// A node's log as its `append`/`truncate`/`snapshot` events leave it
/// (spec rule 2): entries `base+1 ..= base+len`, each with its term and the
/// seq of the `append` that wrote it.
#[derive(Clone, Debug, Default)]
struct NodeLog {
    /// Last index covered by the snapshot (0 if none).
    base: Index,
    /// Term at `base`; `None` when unknown (after a malformed gap).
    base_term: Option<Term>,
    entries: VecDeque<(Term, u64)>,
}

impl NodeLog {
    fn last_index(&self) -> Index {
        self.base
            .saturating_add(u64::try_from(self.entries.len()).unwrap_or(u64::MAX))
    }

    fn slot(&self, index: Index) -> Option<&(Term, u64)> {
        if index <= self.base {
            return None;
        }
        let k = usize::try_from(index - self.base - 1).ok()?;
        self.entries.get(k)
    }

    /// The term at `index`: `Some(0)` for index 0, the snapshot term at the
    /// base, `None` when compacted away (below the base) or past the end.
    fn term_at(&self, index: Index) -> Option<Term> {
        if index == 0 {
            Some(0)
        } else if index == self.base {
            self.base_term
        } else {
            self.slot(index).map(|e| e.0)
        }
    }

    /// Term of the last entry (or of the snapshot).
    fn last_term(&self) -> Option<Term> {
        match self.entries.back() {
            Some(e) => Some(e.0),
            None => self
                .base_term
                .or(if self.base == 0 { Some(0) } else { None }),
        }
    }

    /// Deletes entries with index >= `from` (clamped to the log).
    fn truncate(&mut self, from: Index) {
        let keep = from.saturating_sub(self.base).saturating_sub(1);
        let keep = usize::try_from(keep).unwrap_or(usize::MAX);
        if keep < self.entries.len() {
            self.entries.truncate(keep);
        }
    }

    /// Drops entries up to `index`, which becomes the base with `term`.
    fn compact(&mut self, index: Index, term: Option<Term>) {
        while self.base < index {
            if self.entries.pop_front().is_none() {
                self.base = index;
                break;
            }
            self.base += 1;
        }
        self.base = self.base.max(index);
        self.base_term = term;
    }

    /// Empties the log and restarts it after `index`.
    fn reset(&mut self, index: Index, term: Option<Term>) {
        self.entries.clear();
        self.base = index;
        self.base_term = term;
    }
}

/// What the checker knows of one node.
#[derive(Clone, Debug)]
struct Node {
    alive: bool,
    /// Whether a `role` event has been seen (the first one sets the term).
    seen_role: bool,
    // Persisted.
    term: Term,
    term_seq: u64,
    /// Real votes granted (or cast for itself), by term: candidate and seq.
    votes: BTreeMap<Term, (NodeId, u64)>,
    log: NodeLog,
    // Volatile.
    role: Role,
    commit: Index,
    commit_seq: u64,
    applied: Index,
    apply_seq: u64,
    /// Indexes up to this one have been compared with the committed map.
    verified: Index,
    membership: Membership,
    /// Seq of the latest `restart` (0 if none): entries written before it
    /// must still be there after it (Figure 2, persistent state).
    restarted_at: u64,
    /// Seq of the `snapshot` event that set the log's base.
    base_seq: u64,
}

impl Node {
    fn new(voters: &[NodeId]) -> Self {
        Node {
            alive: true,
            seen_role: false,
            term: 0,
            term_seq: 0,
            votes: BTreeMap::new(),
            log: NodeLog::default(),
            role: Role::Follower,
            commit: 0,
            commit_seq: 0,
            applied: 0,
            apply_seq: 0,
            verified: 0,
            membership: Membership::with_voters(voters.iter().copied()),
            restarted_at: 0,
            base_seq: 0,
        }
    }

    fn is_leader(&self) -> bool {
        self.alive && self.role == Role::Leader
    }
}

/// A distinct entry, identified by (index, term).
#[derive(Clone, Debug)]
struct EntryRec {
    kind: EntryKind,
    /// Shared, not owned: the simulator clones the checker with every
    /// checkpoint, and this map holds every entry of the run.
    data: Arc<str>,
    /// Term of the entry before it, as first seen.
    prev_term: Option<Term>,
    node: NodeId,
    seq: u64,
}

/// The first report that an index is committed.
#[derive(Clone, Copy, Debug)]
pub(super) struct CommitRec {
    term: Term,
    /// The committing node's term at the time: leaders of later terms must
    /// hold the entry.
    commit_term: Term,
    node: NodeId,
    seq: u64,
}

/// A message on the network.
#[derive(Clone, Debug)]
struct InFlight {
    from: NodeId,
    to: NodeId,
    term: Term,
    msg: String,
    /// May this message raise its receiver's term? Not a prevote request,
    /// not a granted prevote answer (thesis §9.6).
    may_raise: bool,
    /// For a vote request: the candidate's last log (index, term).
    last_log: Option<(Index, Term)>,
    seq: u64,
}

/// The message most recently delivered, while its receiver reacts.
#[derive(Clone, Debug)]
struct Delivered {
    msg: InFlight,
    seq: u64,
}

/// Everything the checker knows.
#[derive(Clone, Debug)]
pub(super) struct State {
    initial_voters: Vec<NodeId>,
    nodes: BTreeMap<NodeId, Node>,
    pub(super) leaders: BTreeMap<Term, (NodeId, u64)>,
    /// Real votes granted, by (term, candidate): the voters.
    grants: BTreeMap<(Term, NodeId), BTreeSet<NodeId>>,
    /// Every (term, node) that a `role` event showed becoming leader.
    elected: BTreeSet<(Term, NodeId)>,
    entries: BTreeMap<(Index, Term), EntryRec>,
    pub(super) committed: BTreeMap<Index, CommitRec>,
    applied: BTreeMap<Index, (Term, NodeId, u64)>,
    in_flight: BTreeMap<u64, InFlight>,
    sent: IdSet,
    delivered: Option<Delivered>,
    /// Partition group of each node listed in the last `partition`.
    groups: BTreeMap<NodeId, usize>,
    cut: BTreeSet<(NodeId, NodeId)>,
    pub(super) histories: Histories,
    pub(super) max_term: Term,
    pub(super) max_commit: Index,
    pub(super) last_seq: u64,
}

impl State {
    pub(super) fn new(voters: &[NodeId]) -> Self {
        State {
            initial_voters: voters.to_vec(),
            nodes: BTreeMap::new(),
            leaders: BTreeMap::new(),
            grants: BTreeMap::new(),
            elected: BTreeSet::new(),
            entries: BTreeMap::new(),
            committed: BTreeMap::new(),
            applied: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            sent: IdSet::default(),
            delivered: None,
            groups: BTreeMap::new(),
            cut: BTreeSet::new(),
            histories: Histories::default(),
            max_term: 0,
            max_commit: 0,
            last_seq: 0,
        }
    }

    fn node(&mut self, id: NodeId) -> &mut Node {
        let voters = &self.initial_voters;
        self.nodes.entry(id).or_insert_with(|| Node::new(voters))
    }

    pub(super) fn observe(&mut self, ev: &TraceEvent, out: &mut Vec<Violation>) {
        let seq = ev.seq;
        self.last_seq = seq;
        let mut v = |rule: &'static str, message: String, related: Vec<u64>| {
            let mut related: Vec<u64> = related.into_iter().filter(|&r| r > 0 && r < seq).collect();
            related.sort_unstable();
            related.dedup();
            out.push(Violation {
                seq,
                rule,
                message,
                related,
            });
        };
        // A node-scoped event at another node ends the receiver's reaction
        // to the last delivered message.
        if let Some(actor) = actor(&ev.kind) {
            if self.delivered.as_ref().is_some_and(|d| d.msg.to != actor) {
                self.delivered = None;
            }
            let n = self.node(actor);
            if !n.alive {
                v(
                    CRASHED_NODE_SILENT,
                    format!(
                        "{} is crashed but recorded a {} event; a crashed node does nothing until it restarts",
                        s(actor),
                        ev.kind.type_name()
                    ),
                    vec![],
                );
            }
        }
        match &ev.kind {
            EventKind::Role {
                node,
                role,
                term,
                leader,
                ..
            } => self.on_role(seq, *node, *role, *term, *leader, &mut v),
            EventKind::Vote {
                node,
                candidate,
                term,
                prevote,
                granted,
                ..
            } => self.on_vote(seq, *node, *candidate, *term, *prevote, *granted, &mut v),
            EventKind::Append {
                node,
                index,
                term,
                kind,
                data,
            } => self.on_append(seq, *node, *index, *term, *kind, data, &mut v),
            EventKind::Truncate { node, from } => self.on_truncate(seq, *node, *from, &mut v),
            EventKind::Commit { node, index, .. } => self.on_commit(seq, *node, *index, &mut v),
            EventKind::Apply {
                node, index, term, ..
            } => self.on_apply(seq, *node, *index, *term, &mut v),
            EventKind::Snapshot {
                node,
                index,
                term,
                source,
            } => self.on_snapshot(seq, *node, *index, *term, *source, &mut v),
            EventKind::Config {
                node,
                voters,
                learners,
                outgoing,
            } => {
                let n = self.node(*node);
                n.membership = Membership {
                    voters: voters.clone(),
                    learners: learners.clone(),
                    outgoing: outgoing.clone(),
                };
            }
            EventKind::Send {
                id,
                from,
                to,
                msg,
                term,
                prevote,
                body,
            } => self.on_send(seq, *id, *from, *to, msg, *term, *prevote, body, &mut v),
            EventKind::Deliver { id, .. } => self.on_deliver(seq, *id, &mut v),
            EventKind::Drop { id, .. } => {
                if self.in_flight.remove(id).is_none() {
                    v(CAUSAL_ORDER, self.unknown_message("dropped", *id), vec![]);
                }
            }
            EventKind::Crash { node } => {
                let n = self.node(*node);
                n.alive = false;
                n.role = Role::Follower;
                if self.delivered.as_ref().is_some_and(|d| d.msg.to == *node) {
                    self.delivered = None;
                }
            }
            EventKind::Restart { node } => {
                // Spec rules 1 and 8: persisted state survives; commit
                // starts again from zero, applies from the snapshot.
                let n = self.node(*node);
                n.alive = true;
                n.role = Role::Follower;
                n.commit = 0;
                n.applied = n.log.base;
                n.restarted_at = seq;
                self.delivered = None;
            }
            EventKind::Partition { groups } => {
                self.groups.clear();
                for (i, g) in groups.iter().enumerate() {
                    for &id in g {
                        self.groups.insert(id, i);
                    }
                }
            }
            EventKind::Heal {} => {
                self.groups.clear();
                self.cut.clear();
            }
            EventKind::Link { from, to, up } => {
                if *up {
                    self.cut.remove(&(*from, *to));
                } else {
                    self.cut.insert((*from, *to));
                }
            }
            EventKind::Action { .. } => self.delivered = None,
            EventKind::Client {
                client,
                op,
                key,
                value,
                phase,
                result,
            } => self.on_client(
                seq,
                client,
                op,
                key,
                value.as_deref(),
                *phase,
                result.as_ref(),
                &mut v,
            ),
        }
    }
}

/// The node an event is about (for sends, the sender), if any.
fn actor(kind: &EventKind) -> Option<NodeId> {
    match kind {
        EventKind::Role { node, .. }
        | EventKind::Vote { node, .. }
        | EventKind::Append { node, .. }
        | EventKind::Truncate { node, .. }
        | EventKind::Commit { node, .. }
        | EventKind::Apply { node, .. }
        | EventKind::Snapshot { node, .. }
        | EventKind::Config { node, .. } => Some(*node),
        EventKind::Send { from, .. } => Some(*from),
        _ => None,
    }
}
