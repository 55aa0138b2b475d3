//! A node's latest messages as they happened, read from the trace up to the
//! present: "in" are the deliveries it received (a message on the wire to a
//! crashed or cut-off node never reached it), "out" are its sends with
//! their fate. Computed from the kept events alone, so stepping back shows
//! the fates as of that moment.

use raftlab_core::trace::describe::{message_label, third_person};
use raftlab_core::trace::{DropReason, EventKind, SendBody, TraceEvent};
use raftlab_core::types::{MessageBody, NodeId, Term};

/// What became of a message the node sent, as of the present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Still on the network.
    InFlight,
    /// Handed to its receiver at this time (ms).
    Delivered(u64),
    /// Lost.
    Dropped {
        /// When (ms).
        at: u64,
        /// The `drop` event's reason.
        reason: DropReason,
        /// Whether a `drop_message` action removed it (the trace records
        /// that as a loss; the action just before says who lost it).
        by_hand: bool,
    },
}

impl Fate {
    /// The row's `data-fate`.
    pub fn key(&self) -> &'static str {
        match self {
            Fate::InFlight => "in-flight",
            Fate::Delivered(_) => "delivered",
            Fate::Dropped { .. } => "dropped",
        }
    }

    /// When it was delivered or lost, if it was.
    pub fn at(&self) -> Option<u64> {
        match self {
            Fate::InFlight => None,
            Fate::Delivered(t) | Fate::Dropped { at: t, .. } => Some(*t),
        }
    }

    /// The fate in words.
    pub fn words(&self, to: NodeId) -> String {
        match self {
            Fate::InFlight => "in flight".into(),
            Fate::Delivered(t) => format!("delivered at {t} ms"),
            Fate::Dropped {
                at, by_hand: true, ..
            } => {
                format!("dropped at {at} ms by hand (a drop-message action)")
            }
            Fate::Dropped { at, reason, .. } => {
                let why = match reason {
                    DropReason::Partition => "the link is cut (partition)".into(),
                    DropReason::Loss => "lost on the way (random loss)".into(),
                    DropReason::Crashed => format!("S{to} was down (crashed)"),
                };
                format!("dropped at {at} ms: {why}")
            }
        }
    }
}

/// What the receiver made of a delivery, as the trace recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No refusal was recorded: the core records every refused or ignored
    /// message, so the receiver took it in.
    Accepted,
    /// The receiver refused or ignored it; the reason the delivery carries,
    /// told from outside the node.
    Rejected(String),
    /// A vote request, answered: granted or not, and the vote event's reason.
    Vote {
        /// Whether it granted the (pre)vote.
        granted: bool,
        /// Why, told from outside the node.
        reason: Option<String>,
    },
    /// A vote request whose answer is not in the kept events.
    Unrecorded,
}

impl Outcome {
    /// The row's `data-outcome`.
    pub fn key(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected(_) => "rejected",
            Outcome::Vote { granted: true, .. } => "granted",
            Outcome::Vote { granted: false, .. } => "refused",
            Outcome::Unrecorded => "received",
        }
    }

    /// The outcome in words.
    pub fn words(&self) -> String {
        match self {
            Outcome::Accepted => "accepted".into(),
            Outcome::Rejected(why) => format!("rejected: {why}"),
            Outcome::Vote { granted, reason } => {
                let verdict = if *granted { "granted" } else { "refused" };
                match reason {
                    Some(why) => format!("{verdict}: {why}"),
                    None => verdict.into(),
                }
            }
            Outcome::Unrecorded => "received; its answer is not in the kept history".into(),
        }
    }
}

/// One message the node sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Out {
    /// The message id (`send` event's `id`).
    pub id: u64,
    /// When it was sent (ms).
    pub time: u64,
    /// Receiver.
    pub to: NodeId,
    /// The term it carries.
    pub term: Term,
    /// Its kind and contents in words.
    pub what: String,
    /// What became of it.
    pub fate: Fate,
}

/// One message delivered to the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct In {
    /// The message id.
    pub id: u64,
    /// When it arrived (ms).
    pub time: u64,
    /// Sender.
    pub from: NodeId,
    /// The term it carries.
    pub term: Term,
    /// Its kind and contents in words.
    pub what: String,
    /// What the node made of it.
    pub outcome: Outcome,
}

/// A node's latest messages each way, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Messages {
    /// Its sends.
    pub sent: Vec<Out>,
    /// Its deliveries.
    pub received: Vec<In>,
}

/// The latest `count` sends of node `me` and deliveries to it in `past`
/// (events up to the present, oldest first), looking back at most
/// `look_back` events. `send_of` finds a message's `send` event by id,
/// also when it lies before the events looked at.
pub fn latest<'a>(
    me: NodeId,
    past: &'a [TraceEvent],
    send_of: impl Fn(u64) -> Option<&'a TraceEvent>,
    count: usize,
    look_back: usize,
) -> Messages {
    let start = past.len().saturating_sub(look_back);
    let window = &past[start..];
    let mut out = Messages::default();
    // Fates of the messages seen arriving or lost after the point reached:
    // newer than any send still ahead in this backward walk.
    let mut fates: Vec<(u64, Fate)> = Vec::new();
    for (i, e) in window.iter().enumerate().rev() {
        if out.sent.len() >= count && out.received.len() >= count {
            break;
        }
        match &e.kind {
            EventKind::Deliver { id, outcome } => {
                fates.push((*id, Fate::Delivered(e.time)));
                if out.received.len() >= count {
                    continue;
                }
                let Some((from, to, term, msg, body)) = send_of(*id).and_then(send_parts) else {
                    continue;
                };
                if to != me {
                    continue;
                }
                let outcome = match (outcome, body) {
                    (Some(why), _) => Outcome::Rejected(third_person(me, why)),
                    (None, SendBody::Message(MessageBody::RequestVote(r))) => {
                        vote_answer(me, from, r.term, r.prevote, &window[i + 1..])
                    }
                    (None, _) => Outcome::Accepted,
                };
                out.received.push(In {
                    id: *id,
                    time: e.time,
                    from,
                    term,
                    what: label(msg, body),
                    outcome,
                });
            }
            EventKind::Drop { id, reason } => {
                let by_hand = i
                    .checked_sub(1)
                    .is_some_and(|j| drops_by_hand(&window[j], *id));
                fates.push((
                    *id,
                    Fate::Dropped {
                        at: e.time,
                        reason: *reason,
                        by_hand,
                    },
                ));
            }
            EventKind::Send {
                id,
                from,
                to,
                msg,
                term,
                body,
                ..
            } if *from == me && out.sent.len() < count => {
                let fate = fates
                    .iter()
                    .rev()
                    .find(|(f, _)| f == id)
                    .map_or(Fate::InFlight, |(_, f)| f.clone());
                out.sent.push(Out {
                    id: *id,
                    time: e.time,
                    to: *to,
                    term: *term,
                    what: label(msg, body),
                    fate,
                });
            }
            _ => {}
        }
    }
    out
}

/// Whether `e` is the `drop_message` action that removes message `id`.
fn drops_by_hand(e: &TraceEvent, id: u64) -> bool {
    match &e.kind {
        EventKind::Action { action } => {
            action.get("kind").and_then(|k| k.as_str()) == Some("drop_message")
                && action.get("id").and_then(|i| i.as_u64()) == Some(id)
        }
        _ => false,
    }
}

/// A send event's sender, receiver, term, kind and body.
fn send_parts(e: &TraceEvent) -> Option<(NodeId, NodeId, Term, &str, &SendBody)> {
    match &e.kind {
        EventKind::Send {
            from,
            to,
            msg,
            term,
            body,
            ..
        } => Some((*from, *to, *term, msg.as_str(), body)),
        _ => None,
    }
}

/// The answer node `me` gave to `candidate`'s vote request delivered just
/// before `after`: the `vote` event its handling emitted, which comes
/// before the next delivery or loss.
fn vote_answer(
    me: NodeId,
    candidate: NodeId,
    term: Term,
    prevote: bool,
    after: &[TraceEvent],
) -> Outcome {
    for e in after {
        match &e.kind {
            EventKind::Vote {
                node,
                candidate: c,
                term: t,
                prevote: p,
                granted,
                reason,
            } if *node == me && *c == candidate && *t == term && *p == prevote => {
                return Outcome::Vote {
                    granted: *granted,
                    reason: reason.as_deref().map(|r| third_person(me, r)),
                };
            }
            EventKind::Deliver { .. } | EventKind::Drop { .. } => break,
            _ => {}
        }
    }
    Outcome::Unrecorded
}

/// A message's kind and contents in plain words; for AppendEntries, the
/// entry range it carries or that it is a heartbeat. A body raftlab does
/// not know (a trace from another tool) is named by its `msg` kind.
pub fn label(msg: &str, body: &SendBody) -> String {
    match body {
        SendBody::Message(MessageBody::AppendEntries(a))
            if !a.timeout_now && !a.entries.is_empty() =>
        {
            let first = a.prev_log_idx.saturating_add(1);
            let last = a.prev_log_idx.saturating_add(a.entries.len() as u64);
            if first == last {
                format!(
                    "AppendEntries with entry {first} (commit {})",
                    a.leader_commit
                )
            } else {
                format!(
                    "AppendEntries with entries {first}–{last} (commit {})",
                    a.leader_commit
                )
            }
        }
        SendBody::Message(b) => message_label(b),
        SendBody::Other(_) => msg.to_string(),
    }
}

#[cfg(test)]
mod tests;
