//! What both simulators do with their nodes the same way, whatever state
//! machine the nodes run: a node is up or crashed with its disk, live nodes
//! tick once per millisecond in id order, and a node's Raft events become
//! trace events.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::kv::StateMachine;
use crate::log::MemLogStore;
use crate::network::{MemNetwork, Output, RaftEvent};
use crate::raft::RaftServer;
use crate::storage::MemStorage;
use crate::trace::{EventKind, TraceEvent};
use crate::types::NodeId;

/// A simulated node running state machine `M`.
#[derive(Clone)]
pub enum Node<M: StateMachine> {
    /// Running.
    Up(Box<RaftServer<MemStorage, MemLogStore, M, MemNetwork>>),
    /// Crashed; its disk remains.
    Down(MemStorage, MemLogStore),
}

impl<M: StateMachine> Node<M> {
    /// Whether it runs.
    pub fn is_up(&self) -> bool {
        matches!(self, Node::Up(_))
    }

    /// Whether a running node has output waiting.
    pub(crate) fn has_outputs(&mut self) -> bool {
        match self {
            Node::Up(s) => !s.net_mut().outbox.is_empty(),
            Node::Down(..) => false,
        }
    }

    /// Swaps a running node's output (messages, events) with `buf`, which
    /// must be empty: the caller gets the output, the node `buf`'s room.
    pub(crate) fn swap_outputs(&mut self, buf: &mut Vec<Output>) {
        if let Node::Up(s) = self {
            std::mem::swap(&mut s.net_mut().outbox, buf);
        }
    }

    /// Snapshots a running node once `every` (at least 1) applied entries
    /// can be compacted.
    pub(crate) fn auto_snapshot(&mut self, every: u64) {
        if let Node::Up(s) = self {
            if s.logs_count_can_snapshot() >= every {
                let _ = s.take_snapshot();
            }
        }
    }
}

/// Node ticks: every live node once per millisecond, in id order. The
/// cursor is the next node to tick in the current millisecond (node 0: the
/// round of that millisecond has not started).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ticks(Option<(u64, NodeId)>);

impl Ticks {
    /// The next tick due, (time, node), with `now` the time of the latest
    /// micro-step.
    pub fn next<M: StateMachine>(
        &self,
        nodes: &BTreeMap<NodeId, Node<M>>,
        now: u64,
    ) -> Option<(u64, NodeId)> {
        // Continue this ms's round, or start the next ms's.
        match self.0 {
            // No node was up to tick while the clock moved on (the whole
            // cluster was down): a node booted since ticks from the next
            // ms on, not through the missed ms all at once.
            Some((t, _)) if t < now => next_live_after(nodes, None).map(|id| (now + 1, id)),
            Some((t, 0)) => next_live_after(nodes, None).map(|id| (t, id)),
            Some((t, id)) => match nodes.get(&id) {
                Some(Node::Up(_)) => Some((t, id)),
                _ => next_live_after(nodes, Some(id))
                    .map(|n| (t, n))
                    .or_else(|| next_live_after(nodes, None).map(|n| (t + 1, n))),
            },
            None => next_live_after(nodes, None).map(|id| (now + 1, id)),
        }
    }

    /// Ticks node `id` (its tick due at `t`) and moves past it.
    pub fn run<M: StateMachine>(
        &mut self,
        nodes: &mut BTreeMap<NodeId, Node<M>>,
        t: u64,
        id: NodeId,
    ) {
        self.advance(nodes, t, id);
        if let Some(Node::Up(s)) = nodes.get_mut(&id) {
            s.tick();
        }
    }

    /// Moves past node `id`'s tick at time `t`.
    pub fn advance<M: StateMachine>(
        &mut self,
        nodes: &BTreeMap<NodeId, Node<M>>,
        t: u64,
        id: NodeId,
    ) {
        self.0 = match next_live_after(nodes, Some(id)) {
            Some(next) => Some((t, next)),
            None => Some((t + 1, 0)),
        };
    }
}

/// Crashes node `id`: a running node keeps only its disk. (The caller has
/// checked that it runs.)
pub(crate) fn crash<M: StateMachine>(nodes: &mut BTreeMap<NodeId, Node<M>>, id: NodeId) {
    if let Some(Node::Up(s)) = nodes.remove(&id) {
        let (st, log) = s.into_persistent();
        nodes.insert(id, Node::Down(st, log));
    }
}

/// Takes crashed node `id`'s disk, to boot it again. (The caller has
/// checked that it is crashed.)
pub(crate) fn take_disk<M: StateMachine>(
    nodes: &mut BTreeMap<NodeId, Node<M>>,
    id: NodeId,
) -> Option<(MemStorage, MemLogStore)> {
    match nodes.remove(&id) {
        Some(Node::Down(st, log)) => Some((st, log)),
        _ => None,
    }
}

/// The first live node after `after` in id order.
fn next_live_after<M: StateMachine>(
    nodes: &BTreeMap<NodeId, Node<M>>,
    after: Option<NodeId>,
) -> Option<NodeId> {
    // A range, not a filter over all of them: this runs once per tick.
    let later = match after {
        None => nodes.range(..),
        Some(a) => nodes.range((Bound::Excluded(a), Bound::Unbounded)),
    };
    later.filter(|(_, n)| n.is_up()).map(|(&id, _)| id).next()
}

/// The trace event for node `node`'s Raft event, for the events that are
/// traced as they are. The others (applies, reads, rejections) come back:
/// each simulator handles them itself.
pub fn trace_kind(node: NodeId, e: RaftEvent) -> Result<EventKind, RaftEvent> {
    Ok(match e {
        RaftEvent::Role {
            role,
            term,
            leader,
            reason,
        } => EventKind::Role {
            node,
            role,
            term,
            leader,
            reason: Some(reason.to_string()),
        },
        RaftEvent::Vote {
            candidate,
            term,
            prevote,
            granted,
            reason,
        } => EventKind::Vote {
            node,
            candidate,
            term,
            prevote,
            granted,
            reason: Some(reason.to_string()),
        },
        RaftEvent::Append(entry) => EventKind::append(node, &entry),
        RaftEvent::Truncate { from } => EventKind::Truncate { node, from },
        RaftEvent::Commit { index, reason } => EventKind::Commit {
            node,
            index,
            reason: Some(reason.to_string()),
        },
        RaftEvent::Snapshot {
            index,
            term,
            source,
        } => EventKind::Snapshot {
            node,
            index,
            term,
            source,
        },
        RaftEvent::Config(m) => EventKind::config(node, &m),
        other => return Err(other),
    })
}

/// The `apply` event for an entry node `node` applied, with its output.
pub fn apply_kind(node: NodeId, index: u64, term: u64, output: &[u8]) -> EventKind {
    let text = String::from_utf8_lossy(output).into_owned();
    EventKind::Apply {
        node,
        index,
        term,
        output: (!text.is_empty()).then_some(text),
    }
}

/// Attaches a rejection's reason to the delivery being handled (message
/// `delivering`, among the last 64 events, newest first), if it has none
/// yet. A rejection outside a delivery (a timer's) attaches to nothing.
pub(crate) fn attach_rejection<'a>(
    newest_first: impl Iterator<Item = &'a mut TraceEvent>,
    delivering: Option<u64>,
    reason: &crate::why::Refusal,
) {
    let Some(want) = delivering else {
        return;
    };
    if let Some(TraceEvent {
        kind: EventKind::Deliver { outcome, .. },
        ..
    }) = newest_first
        .take(64)
        .find(|e| matches!(e.kind, EventKind::Deliver { id, .. } if id == want))
    {
        if outcome.is_none() {
            *outcome = Some(reason.to_string());
        }
    }
}
