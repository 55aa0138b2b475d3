//! The inspector's message lists against runs of the simulator: a crash,
//! a partition, a message dropped by hand, stepping back, vote answers and
//! refusals, each told as the trace recorded it.

use super::*;
use crate::clock::Clock;
use crate::lab::Lab;
use raftlab_core::sim::{Action, SimConfig};
use raftlab_core::types::{AppendEntriesReq, Entry, EntryKind, Index};

/// Enough rows to see every peer's latest message in these 5-node runs.
const MANY: usize = 40;

fn lab() -> Lab {
    Lab::new(7, 5, SimConfig::default()).expect("valid")
}

fn of(lab: &Lab, node: NodeId, count: usize) -> Messages {
    latest(node, lab.past(), |id| lab.send_of(id), count, 4000)
}

/// The `deliver` or `drop` event of message `id` in the present's past.
fn end_of(lab: &Lab, id: u64) -> Option<&EventKind> {
    lab.past()
        .iter()
        .map(|e| &e.kind)
        .find(|k| matches!(k, EventKind::Deliver { id: i, .. } | EventKind::Drop { id: i, .. } if *i == id))
}

fn leader_and_follower(lab: &mut Lab) -> (NodeId, NodeId) {
    lab.forward(1000);
    let leader = lab.sim().leader().expect("a leader within a second");
    let follower = *lab
        .sim()
        .nodes()
        .keys()
        .find(|&&n| n != leader)
        .expect("a follower");
    (leader, follower)
}

#[test]
fn a_crashed_node_receives_nothing_and_its_senders_see_the_drops() {
    let mut lab = lab();
    let (leader, down) = leader_and_follower(&mut lab);
    let crashed_at = lab.sim().now();
    lab.act(Action::Crash { node: down }).expect("crash");
    lab.forward(400);

    let dropped_for_it: Vec<u64> = lab
        .past()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Drop {
                id,
                reason: DropReason::Crashed,
            } => Some(id),
            _ => None,
        })
        .collect();
    assert!(
        !dropped_for_it.is_empty(),
        "messages to S{down} were dropped"
    );

    let inbox = of(&lab, down, MANY).received;
    assert!(
        !inbox.is_empty(),
        "S{down} received messages before its crash"
    );
    for m in &inbox {
        assert!(
            m.time <= crashed_at,
            "S{down} received #{} after its crash",
            m.id
        );
        assert!(
            !dropped_for_it.contains(&m.id),
            "#{} was dropped, not received",
            m.id
        );
        assert!(matches!(
            end_of(&lab, m.id),
            Some(EventKind::Deliver { .. })
        ));
    }

    let sent = of(&lab, leader, MANY).sent;
    let to_it: Vec<&Out> = sent
        .iter()
        .filter(|m| m.to == down && m.time >= crashed_at)
        .collect();
    assert!(
        to_it.iter().any(|m| matches!(m.fate, Fate::Dropped { reason: DropReason::Crashed, by_hand: false, at } if at > crashed_at)
            && m.fate.words(down).ends_with(&format!("S{down} was down (crashed)"))),
        "the leader's messages to the crashed S{down} show as dropped: {to_it:?}"
    );
    assert!(to_it.iter().all(|m| matches!(
        m.fate,
        Fate::InFlight
            | Fate::Dropped {
                reason: DropReason::Crashed,
                ..
            }
    )));
    for m in &sent {
        match (&m.fate, end_of(&lab, m.id)) {
            (Fate::InFlight, None) => {}
            (Fate::Delivered(_), Some(EventKind::Deliver { .. })) => {}
            (Fate::Dropped { reason, .. }, Some(EventKind::Drop { reason: r, .. })) => {
                assert_eq!(reason, r)
            }
            (fate, end) => panic!("#{} shown {fate:?} but the trace says {end:?}", m.id),
        }
    }
}

#[test]
fn a_partitioned_node_receives_nothing_across_the_cut() {
    let mut lab = lab();
    let (leader, cut_off) = leader_and_follower(&mut lab);
    let others: Vec<NodeId> = lab
        .sim()
        .nodes()
        .keys()
        .copied()
        .filter(|&n| n != cut_off)
        .collect();
    let split_at = lab.sim().now();
    lab.act(Action::Partition {
        groups: vec![vec![cut_off], others],
    })
    .expect("partition");
    lab.forward(2000);

    let mine = of(&lab, cut_off, MANY);
    assert!(mine.received.iter().all(|m| m.time <= split_at));
    let late: Vec<&Out> = mine.sent.iter().filter(|m| m.time > split_at).collect();
    assert!(!late.is_empty(), "S{cut_off} tried to reach the others");
    for m in late {
        assert!(
            matches!(
                m.fate,
                Fate::Dropped {
                    reason: DropReason::Partition,
                    ..
                } | Fate::InFlight
            ),
            "{m:?}"
        );
    }

    let sent = of(&lab, leader, MANY).sent;
    assert!(sent.iter().any(|m| m.to == cut_off
        && matches!(
            m.fate,
            Fate::Dropped {
                reason: DropReason::Partition,
                ..
            }
        )));
    assert!(sent
        .iter()
        .any(|m| m.to != cut_off && matches!(m.fate, Fate::Delivered(_))));
}

#[test]
fn lists_are_newest_first_and_bounded() {
    let mut lab = lab();
    let (leader, follower) = leader_and_follower(&mut lab);
    for node in [leader, follower] {
        let m = of(&lab, node, 5);
        assert_eq!(m.sent.len(), 5);
        assert_eq!(m.received.len(), 5);
        assert!(m.sent.windows(2).all(|w| w[0].id > w[1].id));
        assert!(m.received.windows(2).all(|w| w[0].time >= w[1].time));
    }
}

#[test]
fn stepping_back_shows_a_message_in_flight_until_its_delivery() {
    let mut lab = lab();
    let (leader, _) = leader_and_follower(&mut lab);
    let m = of(&lab, leader, MANY)
        .sent
        .into_iter()
        .find(|m| matches!(m.fate, Fate::Delivered(t) if t > m.time))
        .expect("a delivered message");
    let Fate::Delivered(arrived) = m.fate else {
        unreachable!()
    };

    lab.scrub(m.time as f64);
    let then = of(&lab, leader, MANY);
    let row = then
        .sent
        .iter()
        .find(|r| r.id == m.id)
        .expect("sent by then");
    assert_eq!(row.fate, Fate::InFlight);
    assert!(of(&lab, m.to, MANY).received.iter().all(|r| r.id != m.id));

    lab.scrub(arrived as f64);
    let row = of(&lab, leader, MANY)
        .sent
        .into_iter()
        .find(|r| r.id == m.id)
        .expect("still listed");
    assert_eq!(row.fate, Fate::Delivered(arrived));
    assert!(of(&lab, m.to, MANY).received.iter().any(|r| r.id == m.id));
}

#[test]
fn a_message_dropped_by_hand_says_so() {
    let mut lab = lab();
    let (leader, _) = leader_and_follower(&mut lab);
    let id = loop {
        if let Some(f) = lab.sim().flights().find(|f| f.msg.from == leader) {
            break f.id;
        }
        lab.forward(1);
    };
    lab.act(Action::DropMessage { id }).expect("in flight");
    let row = of(&lab, leader, MANY)
        .sent
        .into_iter()
        .find(|r| r.id == id)
        .expect("listed");
    assert!(
        matches!(row.fate, Fate::Dropped { by_hand: true, .. }),
        "{row:?}"
    );
    assert!(row.fate.words(row.to).contains("by hand"));
}

#[test]
fn a_vote_request_shows_the_voters_answer_and_its_reason() {
    let mut lab = lab();
    let (leader, _) = leader_and_follower(&mut lab);
    let mut granted_to_leader = false;
    for &node in lab.sim().nodes().keys() {
        for m in of(&lab, node, MANY).received {
            let ask = m.what.starts_with("Vote request") || m.what.starts_with("PreVote request");
            assert_eq!(ask, matches!(m.outcome, Outcome::Vote { .. }), "{m:?}");
            if let Outcome::Vote { granted, reason } = &m.outcome {
                let why = reason.as_deref().expect("a vote event carries its reason");
                assert!(!why.contains(" my "), "told from outside the node: {why}");
                granted_to_leader |= *granted && m.from == leader;
            }
        }
    }
    assert!(granted_to_leader, "the leader's votes show as granted");
}

fn append(from: Index, n: u64, commit: Index) -> MessageBody {
    MessageBody::AppendEntries(AppendEntriesReq {
        leader_id: 1,
        message_token: 1,
        term: 2,
        prev_log_idx: from - 1,
        prev_log_term: 1,
        leader_commit: commit,
        entries: (from..from + n)
            .map(|index| Entry {
                term: 2,
                index,
                kind: EntryKind::NoOp,
                data: Vec::new(),
            })
            .collect(),
        timeout_now: false,
    })
}

fn event(seq: u64, kind: EventKind) -> TraceEvent {
    TraceEvent {
        seq,
        time: seq,
        kind,
    }
}

#[test]
fn a_refused_delivery_carries_the_receivers_reason_in_the_third_person() {
    let events = vec![
        event(
            1,
            EventKind::Send {
                id: 9,
                from: 1,
                to: 2,
                msg: "append_entries".into(),
                term: 2,
                prevote: None,
                body: append(5, 3, 4).into(),
            },
        ),
        event(
            2,
            EventKind::Deliver {
                id: 9,
                outcome: Some("stale leader: term 2 < my term 3".into()),
            },
        ),
    ];
    let send_of = |id| {
        events
            .iter()
            .find(|e| matches!(e.kind, EventKind::Send { id: i, .. } if i == id))
    };
    let m = latest(2, &events, send_of, 5, 100);
    assert_eq!(m.received.len(), 1);
    let got = &m.received[0];
    assert_eq!((got.from, got.term, got.time), (1, 2, 2));
    assert_eq!(got.what, "AppendEntries with entries 5–7 (commit 4)");
    assert_eq!(
        got.outcome,
        Outcome::Rejected("stale leader: term 2 < S2's term 3".into())
    );
    assert_eq!(got.outcome.key(), "rejected");
    let sent = latest(1, &events, send_of, 5, 100).sent;
    assert_eq!(sent[0].fate, Fate::Delivered(2));
    assert!(latest(3, &events, send_of, 5, 100) == Messages::default());
}

#[test]
fn append_entries_name_their_range_or_heartbeat() {
    let label_of = |b: MessageBody| label("append_entries", &b.into());
    assert_eq!(
        label_of(append(5, 1, 4)),
        "AppendEntries with entry 5 (commit 4)"
    );
    assert_eq!(label_of(append(5, 0, 4)), "heartbeat (commit 4)");
    assert_eq!(
        label(
            "future_thing",
            &SendBody::Other(serde_json::json!({"x": 1}))
        ),
        "future_thing"
    );
}
