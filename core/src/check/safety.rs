//! The models the checker keeps and the rules it checks at each event.
//!
//! Per node: term, votes and log (persisted, so they survive a crash), and
//! commit/apply positions (volatile). Globally: the leader of each term,
//! every distinct entry by (index, term) with the term of the entry before
//! it, the committed and applied entry at each index, and the messages in
//! flight. Each rule is checked at the event that could break it, so a
//! million events check in linear time (logarithmic map look-ups aside).

mod replication;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use super::linearizability::Histories;
use super::rules::*;
use super::{s, Violation};
use crate::kv::KvOp;
use crate::network::SnapshotSource;
use crate::quorum::{Membership, VoteResult};
use crate::trace::{ClientId, ClientPhase, EventKind, SendBody, TraceEvent};
use crate::types::{EntryKind, Index, MessageBody, NodeId, Role, Term};

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

/// Sorted disjoint ranges of used message ids (ids are usually dense, so
/// this stays tiny where a set of a million ids would not).
#[derive(Clone, Debug, Default)]
struct IdSet {
    ranges: BTreeMap<u64, u64>,
}

impl IdSet {
    fn contains(&self, id: u64) -> bool {
        self.ranges
            .range(..=id)
            .next_back()
            .is_some_and(|(_, &end)| id <= end)
    }

    fn insert(&mut self, id: u64) {
        let mut start = id;
        let mut end = id;
        if let Some((&s0, &e0)) = self.ranges.range(..=id).next_back() {
            if e0.saturating_add(1) >= id {
                start = s0;
                end = end.max(e0);
            }
        }
        if let Some(next) = id.checked_add(1) {
            if let Some(e1) = self.ranges.remove(&next) {
                end = end.max(e1);
            }
        }
        self.ranges.insert(start, end);
    }
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
            EventKind::Commit { node, index } => self.on_commit(seq, *node, *index, &mut v),
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

    fn on_role(
        &mut self,
        seq: u64,
        node: NodeId,
        role: Role,
        term: Term,
        leader: Option<NodeId>,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let delivered = self.delivered.clone();
        let n = self.node(node);
        let old = n.term;
        if n.seen_role && term < old {
            v(
                TERM_MONOTONICITY,
                format!(
                    "{}'s term went down from {old} to {term}; a term only grows, and it is persisted, so not even a restart lowers it (§5.1, Figure 2)",
                    s(node)
                ),
                vec![n.term_seq],
            );
        } else if n.seen_role && term > old {
            let own_election = role == Role::Candidate && Some(term) == old.checked_add(1);
            let by_message = delivered
                .as_ref()
                .filter(|d| d.msg.to == node && d.msg.term >= term);
            match by_message {
                _ if own_election => {}
                Some(d) if d.msg.may_raise => {}
                Some(d) => v(
                    PREVOTE_TERM_UNCHANGED,
                    format!(
                        "{}'s term rose from {old} to {term} on receiving a prevote {} from {}; prevotes never change terms (thesis §9.6)",
                        s(node),
                        if d.msg.msg == "request_vote" { "request" } else { "answer" },
                        s(d.msg.from)
                    ),
                    vec![d.msg.seq, d.seq],
                ),
                None => v(
                    TERM_MONOTONICITY,
                    format!(
                        "{}'s term rose from {old} to {term} without an election of its own (which adds exactly 1) or a message carrying term {term} (§5.1)",
                        s(node)
                    ),
                    vec![n.term_seq],
                ),
            }
        }
        n.seen_role = true;
        if term >= n.term {
            if term > n.term {
                n.term_seq = seq;
            }
            n.term = term;
        }
        n.role = role;
        let membership = n.membership.clone();
        self.max_term = self.max_term.max(term);

        if role == Role::Candidate {
            // Rule 10: a candidate votes for itself, recorded or not.
            let n = self.node(node);
            match n.votes.get(&term) {
                Some(&(other, vseq)) if other != node => v(
                    ONE_VOTE_PER_TERM,
                    format!(
                        "{} stood as candidate in term {term}, voting for itself, after giving its term-{term} vote to {} (§5.2: one vote per term)",
                        s(node),
                        s(other)
                    ),
                    vec![vseq],
                ),
                Some(_) => {}
                None => {
                    n.votes.insert(term, (node, seq));
                }
            }
            self.grants.entry((term, node)).or_default().insert(node);
        }

        if role == Role::Leader {
            self.on_new_leader(seq, node, term, &membership, v);
        } else if let Some(l) = leader {
            if let Some(&(actual, lseq)) = self.leaders.get(&term) {
                if actual != l && l != node {
                    v(
                        ELECTION_SAFETY,
                        format!(
                            "{} follows {} as leader of term {term}, but {} is that term's leader (§5.2)",
                            s(node),
                            s(l),
                            s(actual)
                        ),
                        vec![lseq],
                    );
                }
            }
        }
    }

    fn on_new_leader(
        &mut self,
        seq: u64,
        node: NodeId,
        term: Term,
        membership: &Membership,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        self.elected.insert((term, node));
        // §5.2 Election Safety.
        match self.leaders.get(&term) {
            Some(&(other, oseq)) if other != node => v(
                ELECTION_SAFETY,
                format!(
                    "{} and {} were both leader in term {term}; at most one leader per term (§5.2)",
                    s(other),
                    s(node)
                ),
                vec![oseq],
            ),
            Some(_) => {}
            None => {
                self.leaders.insert(term, (node, seq));
            }
        }
        // §5.2: won a majority of real votes (self-vote implicit).
        if !membership.voters.is_empty() {
            let empty = BTreeSet::new();
            let granted = self.grants.get(&(term, node)).unwrap_or(&empty);
            let result = membership.vote_result(
                |id| (id == node || granted.contains(&id)).then_some(true),
                false,
            );
            if result != VoteResult::Won {
                let voters: Vec<String> = granted.iter().map(|&g| s(g)).collect();
                let members: Vec<String> = membership.voters.iter().map(|&g| s(g)).collect();
                v(
                    LEADER_QUORUM,
                    format!(
                        "{} became leader of term {term} with votes from [{}] only, not a majority of the voters [{}]{} (§5.2; learners do not vote, thesis §4.2.1)",
                        s(node),
                        voters.join(", "),
                        members.join(", "),
                        if membership.is_joint() { " and of the outgoing voters" } else { "" }
                    ),
                    vec![],
                );
            }
        }
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
    fn on_vote(
        &mut self,
        seq: u64,
        node: NodeId,
        candidate: NodeId,
        term: Term,
        prevote: bool,
        granted: bool,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if !granted {
            return;
        }
        // §5.4.1: grant only to an up-to-date candidate. The request is the
        // message just delivered.
        let request = self
            .delivered
            .as_ref()
            .filter(|d| d.msg.to == node && d.msg.from == candidate && d.msg.msg == "request_vote");
        if let Some((d, (c_idx, c_term))) = request.and_then(|d| d.msg.last_log.map(|l| (d, l))) {
            let related = vec![d.msg.seq, d.seq];
            if let Some(n) = self.nodes.get(&node) {
                if let Some(v_term) = n.log.last_term() {
                    let v_idx = n.log.last_index();
                    if (c_term, c_idx) < (v_term, v_idx) {
                        v(
                            VOTE_UP_TO_DATE,
                            format!(
                                "{} granted its {} to {} for term {term}, whose log ends at index {c_idx} term {c_term}, behind its own (index {v_idx} term {v_term}) (§5.4.1)",
                                s(node),
                                if prevote { "prevote" } else { "vote" },
                                s(candidate)
                            ),
                            related,
                        );
                    }
                }
            }
        }
        if prevote {
            return;
        }
        let n = self.node(node);
        match n.votes.get(&term) {
            Some(&(other, vseq)) if other != candidate => v(
                ONE_VOTE_PER_TERM,
                format!(
                    "{} voted for {} in term {term} after already voting for {} in that term; the vote is persisted, so one per term even across restarts (§5.2, Figure 2)",
                    s(node),
                    s(candidate),
                    s(other)
                ),
                vec![vseq],
            ),
            Some(_) => {}
            None => {
                n.votes.insert(term, (candidate, seq));
            }
        }
        self.grants
            .entry((term, candidate))
            .or_default()
            .insert(node);
    }

    #[allow(clippy::too_many_arguments)]
    fn on_append(
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

    fn on_truncate(
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

    fn on_commit(
        &mut self,
        seq: u64,
        node: NodeId,
        index: Index,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        self.check_commit_quorum(node, index, v);
        let n = self.node(node);
        if index <= n.commit {
            v(
                COMMIT_ORDER,
                format!(
                    "{}'s commit index went from {} to {index}; it only rises (only a crash resets it) (Figure 2)",
                    s(node),
                    n.commit
                ),
                vec![n.commit_seq],
            );
        }
        let last = n.log.last_index();
        if index > last {
            v(
                COMMIT_ORDER,
                format!(
                    "{} committed up to {index} but its log ends at {last}; commitIndex = min(leaderCommit, index of last new entry) (Figure 2)",
                    s(node)
                ),
                vec![],
            );
        }
        if n.is_leader() && index > n.commit {
            // §5.4.2: a leader commits by counting only its own term's entries.
            if let Some(t) = n.log.term_at(index) {
                if t != n.term {
                    v(
                        LEADER_COMMITS_CURRENT_TERM,
                        format!(
                            "leader {} of term {} advanced its commit index to {index}, an entry of term {t}; a leader commits by counting replicas only entries of its own term (§5.4.2, Figure 8)",
                            s(node),
                            n.term
                        ),
                        vec![n.log.slot(index).map(|e| e.1).unwrap_or(0)],
                    );
                }
            }
        }
        // Record (and compare) every newly committed index with a known term.
        let upto = index.min(last);
        let start = n.verified.saturating_add(1).max(n.log.base).max(1);
        let commit_term = n.term;
        let mut newly: Vec<(Index, Term, u64)> = Vec::new();
        if start <= upto {
            for i in start..=upto {
                if let Some(t) = n.log.term_at(i) {
                    let aseq = n.log.slot(i).map(|e| e.1).unwrap_or(0);
                    newly.push((i, t, aseq));
                }
            }
        }
        n.verified = n.verified.max(upto);
        n.commit = index;
        n.commit_seq = seq;
        self.max_commit = self.max_commit.max(index);
        for (i, t, aseq) in newly {
            match self.committed.get(&i) {
                None => {
                    self.committed.insert(
                        i,
                        CommitRec {
                            term: t,
                            commit_term,
                            node,
                            seq,
                        },
                    );
                }
                Some(c) if c.term != t => v(
                    STATE_MACHINE_SAFETY,
                    format!(
                        "{} committed entry {i} of term {t}, but {} committed entry {i} of term {}; no two servers commit different entries at one index (§5.4.3)",
                        s(node),
                        s(c.node),
                        c.term
                    ),
                    vec![c.seq, aseq],
                ),
                Some(_) => {}
            }
        }
    }

    fn on_apply(
        &mut self,
        seq: u64,
        node: NodeId,
        index: Index,
        term: Term,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let n = self.node(node);
        if index != n.applied.saturating_add(1) {
            v(
                APPLY_ORDER,
                format!(
                    "{} applied entry {index} when the next to apply was {}; entries are applied one at a time, in order, resuming after the snapshot on restart or install (spec rule 8)",
                    s(node),
                    n.applied.saturating_add(1)
                ),
                vec![n.apply_seq],
            );
        }
        if index > n.commit {
            v(
                APPLY_ORDER,
                format!(
                    "{} applied entry {index} before committing it (its commit index is {}); lastApplied <= commitIndex (Figure 2)",
                    s(node),
                    n.commit
                ),
                vec![n.commit_seq],
            );
        }
        match n.log.term_at(index) {
            Some(t) if t != term => v(
                APPLY_ORDER,
                format!(
                    "{} applied entry {index} as term {term}, but its log holds term {t} there",
                    s(node)
                ),
                vec![n.log.slot(index).map(|e| e.1).unwrap_or(0)],
            ),
            None if index > n.log.last_index() => v(
                APPLY_ORDER,
                format!(
                    "{} applied entry {index}, past the end of its log ({})",
                    s(node),
                    n.log.last_index()
                ),
                vec![],
            ),
            _ => {}
        }
        n.applied = index;
        n.apply_seq = seq;
        // §5.4.3 State Machine Safety.
        match self.applied.get(&index) {
            None => {
                self.applied.insert(index, (term, node, seq));
            }
            Some(&(t, other, oseq)) if t != term => v(
                STATE_MACHINE_SAFETY,
                format!(
                    "{} applied entry {index} of term {term}, but {} applied a different entry there (term {t}); every server applies the same command at each index (§5.4.3)",
                    s(node),
                    s(other)
                ),
                vec![oseq],
            ),
            Some(_) => {}
        }
    }

    fn on_snapshot(
        &mut self,
        seq: u64,
        node: NodeId,
        index: Index,
        term: Term,
        source: SnapshotSource,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if let Some(c) = self.committed.get(&index) {
            if c.term != term {
                v(
                    STATE_MACHINE_SAFETY,
                    format!(
                        "{}'s snapshot ends at entry {index} of term {term}, but {} committed entry {index} of term {} (§5.4.3)",
                        s(node),
                        s(c.node),
                        c.term
                    ),
                    vec![c.seq],
                );
            }
        }
        let n = self.node(node);
        match source {
            SnapshotSource::Local => {
                let last = n.log.last_index();
                if index < n.log.base || index > last {
                    v(
                        LOG_WELL_FORMED,
                        format!(
                            "{} compacted up to {index}, outside its log ({}..={last})",
                            s(node),
                            n.log.base
                        ),
                        vec![],
                    );
                } else if index > n.log.base && n.log.term_at(index) != Some(term) {
                    v(
                        LOG_WELL_FORMED,
                        format!(
                            "{} compacted up to entry {index} as term {term}, but its log holds term {} there",
                            s(node),
                            n.log.term_at(index).unwrap_or(0)
                        ),
                        vec![],
                    );
                }
                if index > n.applied {
                    v(
                        APPLY_ORDER,
                        format!(
                            "{} took a snapshot up to {index} having applied only up to {}; a snapshot holds applied state (§7)",
                            s(node),
                            n.applied
                        ),
                        vec![n.apply_seq],
                    );
                }
                if index >= n.log.base {
                    n.log.compact(index, Some(term));
                    n.base_seq = seq;
                }
            }
            SnapshotSource::Install => {
                // The log keeps what follows only if it held a matching entry.
                if index > n.log.base && n.log.term_at(index) == Some(term) {
                    n.log.compact(index, Some(term));
                } else {
                    n.log.reset(index, Some(term));
                    n.verified = n.verified.min(index);
                }
                n.base_seq = seq;
                // Spec rule 8: applies continue after the snapshot.
                n.applied = index;
                n.apply_seq = seq;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_send(
        &mut self,
        seq: u64,
        id: u64,
        from: NodeId,
        to: NodeId,
        msg: &str,
        term: Term,
        prevote: Option<bool>,
        body: &SendBody,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if self.sent.contains(id) {
            v(
                CAUSAL_ORDER,
                format!("message id {id} was used before; every send has a new id (a duplicate is a new send)"),
                vec![],
            );
        }
        self.sent.insert(id);
        let prevote = prevote.unwrap_or(false);
        let granted = body.vote_granted();
        let sender = self.node(from);
        let sender_term = sender.term;
        // Spec rule 9.
        let limit = if msg == "request_vote" && prevote {
            Some(sender_term.saturating_add(1))
        } else if msg == "request_vote_resp" && prevote && granted != Some(false) {
            body.request_term().map(|r| r.max(sender_term))
        } else {
            Some(sender_term)
        };
        if let Some(limit) = limit {
            if term > limit {
                v(
                    MESSAGE_TERM,
                    format!(
                        "{} sent {msg}{} with term {term} while its own term was {sender_term}; a message carries at most its sender's term (spec rule 9)",
                        s(from),
                        if prevote { " (prevote)" } else { "" }
                    ),
                    vec![sender.term_seq],
                );
            }
        }
        let may_raise = !(prevote && (msg == "request_vote" || granted != Some(false)));
        let last_log = match body {
            SendBody::Message(MessageBody::RequestVote(r)) => {
                Some((r.last_log_idx, r.last_log_term))
            }
            _ => None,
        };
        self.in_flight.insert(
            id,
            InFlight {
                from,
                to,
                term,
                msg: msg.to_string(),
                may_raise,
                last_log,
                seq,
            },
        );
        self.check_leader_messages(from, msg, term, v);
        self.check_reported_log(from, body, v);
    }

    fn unknown_message(&self, what: &str, id: u64) -> String {
        if self.sent.contains(id) {
            format!("message {id} was {what} after it had already been delivered or dropped; each send is delivered or dropped at most once (spec rule 5)")
        } else {
            format!("message {id} was {what} but never sent; a send comes before its deliver or drop (spec rule 5)")
        }
    }

    fn on_deliver(
        &mut self,
        seq: u64,
        id: u64,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let Some(m) = self.in_flight.remove(&id) else {
            v(CAUSAL_ORDER, self.unknown_message("delivered", id), vec![]);
            self.delivered = None;
            return;
        };
        let receiver_alive = self.node(m.to).alive;
        if !receiver_alive {
            v(
                NETWORK_DELIVERY,
                format!(
                    "message {id} ({}) was delivered to {}, which is crashed; it must be dropped (spec rule 7)",
                    m.msg,
                    s(m.to)
                ),
                vec![m.seq],
            );
        }
        let split = matches!(
            (self.groups.get(&m.from), self.groups.get(&m.to)),
            (Some(a), Some(b)) if a != b
        );
        if split || self.cut.contains(&(m.from, m.to)) {
            v(
                NETWORK_DELIVERY,
                format!(
                    "message {id} ({}) from {} was delivered to {} across {}; it must be dropped (spec rule 7)",
                    m.msg,
                    s(m.from),
                    s(m.to),
                    if split { "a partition" } else { "a cut link" }
                ),
                vec![m.seq],
            );
        }
        self.delivered = Some(Delivered { msg: m, seq });
    }

    #[allow(clippy::too_many_arguments)]
    fn on_client(
        &mut self,
        seq: u64,
        client: &ClientId,
        op: &KvOp,
        key: &str,
        value: Option<&str>,
        phase: ClientPhase,
        result: Option<&Option<String>>,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if phase == ClientPhase::Invoke {
            if let Some((message, related)) = self.histories.invoke(seq, client, op, key, value) {
                v(CAUSAL_ORDER, message, related);
            }
        } else if let Some(message) = self.histories.complete(seq, client, op, key, phase, result) {
            v(CAUSAL_ORDER, message, vec![]);
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
