//! The words both views share (the single-group view in `state` and
//! sharded mode in `sharded::state`): the handle on a lab, the speeds, the
//! user's notices, what can be picked, the node verbs, and how typed
//! client operations and partition picks are read. Neither view's reducer
//! lives here.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use raftlab_core::kv::KvOp;
use raftlab_core::trace::{EventKind, TraceEvent};
use raftlab_core::types::NodeId;

/// Slowest speed: simulated ms per wall-clock ms.
pub const SPEED_MIN: f64 = 0.001;
/// Fastest speed: real time.
pub const SPEED_MAX: f64 = 1.0;
/// The speed a page starts at: an election takes a few seconds to watch.
pub const SPEED_DEFAULT: f64 = 0.05;

/// The one handle on a view's lab (the simulator and its clock). Equal
/// when it is the same lab.
pub struct Handle<L>(pub Rc<RefCell<L>>);

impl<L> Handle<L> {
    /// A handle on a new lab.
    pub fn new(lab: L) -> Self {
        Handle(Rc::new(RefCell::new(lab)))
    }
}

// By hand: a handle is cloned, not its lab.
impl<L> Clone for Handle<L> {
    fn clone(&self) -> Self {
        Handle(Rc::clone(&self.0))
    }
}

impl<L> PartialEq for Handle<L> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// A message for the user, shown until dismissed or replaced (in both
/// views).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// The text.
    pub text: String,
    /// An error (refused action, bad setting, violation) or just news.
    pub error: bool,
}

/// What is picked in the space-time diagram, the feed, the ring or the
/// logs, highlighted in all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// A message, by its trace id (its send, delivery or drop).
    Message(u64),
    /// An event, by its seq.
    Event(u64),
}

impl Selection {
    /// The node an event is about (the sender, for a send), if any.
    pub fn node_of(e: &TraceEvent) -> Option<NodeId> {
        match &e.kind {
            EventKind::Send { from, .. } => Some(*from),
            kind => kind.node(),
        }
    }

    /// The log cells an event or message is about: (node, index).
    pub fn cells(e: &TraceEvent) -> Vec<(NodeId, u64)> {
        match &e.kind {
            EventKind::Append { node, index, .. }
            | EventKind::Commit { node, index, .. }
            | EventKind::Apply { node, index, .. } => vec![(*node, *index)],
            EventKind::Send {
                to,
                body:
                    raftlab_core::trace::SendBody::Message(
                        raftlab_core::types::MessageBody::AppendEntries(a),
                    ),
                ..
            } => a.entries.iter().map(|en| (*to, en.index)).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `e` is the selection or one of its events.
    pub fn covers(&self, e: &TraceEvent) -> bool {
        match *self {
            Selection::Event(seq) => e.seq == seq,
            Selection::Message(id) => matches!(
                e.kind,
                EventKind::Send { id: i, .. } | EventKind::Deliver { id: i, .. } | EventKind::Drop { id: i, .. } if i == id
            ),
        }
    }
}

/// Verbs that act on the selected node (in both views; each maps them to
/// its own simulator's actions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeVerb {
    /// Crash it.
    Crash,
    /// Restart it.
    Restart,
    /// Fire its election timeout.
    Timeout,
    /// Hand it leadership.
    Transfer,
    /// Snapshot it.
    Snapshot,
    /// Remove it from the configuration (its group's, in sharded mode).
    Remove,
    /// Promote a learner to voter.
    Promote,
}

/// A client operation as the user typed it (in both views): the key
/// trimmed, and the value for a put only; or what is missing.
pub fn typed_op(
    op: &KvOp,
    key: String,
    value: Option<String>,
) -> Result<(String, Option<String>), &'static str> {
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err("Type a key first.");
    }
    let put = *op == KvOp::Put;
    if put && value.as_deref().is_none_or(str::is_empty) {
        return Err("A put needs a value.");
    }
    Ok((key, if put { value } else { None }))
}

/// The partition picked with the chips (in both views): the nodes `ids` by
/// the side picked for each (0, 1 or 2; unpicked: 0), the empty sides left
/// out; `None` unless that splits them.
pub fn picked_partition(
    ids: impl IntoIterator<Item = NodeId>,
    picks: &BTreeMap<NodeId, u8>,
) -> Option<Vec<Vec<NodeId>>> {
    let mut sides: Vec<Vec<NodeId>> = vec![Vec::new(); 3];
    for id in ids {
        let side = picks.get(&id).copied().unwrap_or(0) as usize;
        sides[side.min(2)].push(id);
    }
    sides.retain(|side| !side.is_empty());
    (sides.len() >= 2).then_some(sides)
}
