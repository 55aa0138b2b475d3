//! The network: the rules a `send`, `deliver` or `drop` event could break.
//!
//! * `causal_order` (spec rule 5): every send has a new id, and a message is
//!   delivered or dropped at most once, and only after it was sent.
//! * `message_term` (spec rule 9): a message carries at most its sender's
//!   term (a prevote request the next term; thesis §9.6).
//! * `network_delivery` (spec rule 7): nothing is delivered to a crashed
//!   node, across a partition or over a cut link.
//!
//! A sent message is also judged for what it says of the sender's role and
//! log (`replication.rs`).

use std::collections::BTreeMap;

use super::super::rules::{CAUSAL_ORDER, MESSAGE_TERM, NETWORK_DELIVERY};
use super::super::s;
use super::{Delivered, InFlight, State};
use crate::trace::SendBody;
use crate::types::{MessageBody, NodeId, Term};

/// Sorted disjoint ranges of used message ids (ids are usually dense, so
/// this stays tiny where a set of a million ids would not).
#[derive(Clone, Debug, Default)]
pub(super) struct IdSet {
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

impl State {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_send(
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

    pub(super) fn unknown_message(&self, what: &str, id: u64) -> String {
        if self.sent.contains(id) {
            format!("message {id} was {what} after it had already been delivered or dropped; each send is delivered or dropped at most once (spec rule 5)")
        } else {
            format!("message {id} was {what} but never sent; a send comes before its deliver or drop (spec rule 5)")
        }
    }

    pub(super) fn on_deliver(
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
}
