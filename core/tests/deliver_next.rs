//! Naming a message by what it is (issue 19): `deliver_next` and
//! `drop_next` pick the oldest message in flight on a one-way link of a
//! given kind, so a lesson reads "S2's vote reaches S1" rather than
//! "deliver message 17". Each is an action like any other: recorded in the
//! trace, replayed exactly, and refused in words when nothing matches.

use raftlab_core::sim::{actions_of, Action, Sim, SimConfig};
use raftlab_core::trace::{describe, read_trace, EventKind};
use raftlab_core::Role;

fn cfg(prevote: bool) -> SimConfig {
    SimConfig {
        prevote,
        check_quorum: false,
        ..SimConfig::default()
    }
}

fn manual(sim: &mut Sim) {
    sim.act(Action::Manual {
        on: true,
        timers: false,
    })
    .expect("manual on");
}

fn next(from: u64, to: u64, msg: &str) -> Action {
    Action::DeliverNext {
        from,
        to,
        msg: msg.into(),
        prevote: None,
    }
}

/// The ids of the messages in flight from `from` to `to`, oldest first.
fn in_flight(sim: &Sim, from: u64, to: u64) -> Vec<u64> {
    sim.flights()
        .filter(|f| (f.msg.from, f.msg.to) == (from, to))
        .map(|f| f.id)
        .collect()
}

/// The ids of the messages handed over (`deliver`) or lost (`drop`) in
/// the events after `after`.
fn fates(sim: &Sim, after: usize) -> Vec<(&'static str, u64)> {
    sim.events()[after..]
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Deliver { id, .. } => Some(("deliver", id)),
            EventKind::Drop { id, .. } => Some(("drop", id)),
            _ => None,
        })
        .collect()
}

#[test]
fn deliver_next_hands_over_the_oldest_matching_message_and_only_it() {
    let mut sim = Sim::new(11, 3, cfg(false)).unwrap();
    manual(&mut sim);
    // Two elections of S1 in a row: two vote requests wait on S1 → S2.
    sim.act(Action::Timeout { node: 1 }).unwrap();
    sim.act(Action::Timeout { node: 1 }).unwrap();
    let waiting = in_flight(&sim, 1, 2);
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    let before = sim.events().len();
    sim.act(next(1, 2, "request_vote")).unwrap();
    assert_eq!(fates(&sim, before), vec![("deliver", waiting[0])]);
    assert_eq!(in_flight(&sim, 1, 2), vec![waiting[1]]);
    // The older request asked for term 1, S1 is in term 2: S2 answers it,
    // and S1 refuses that answer as a vote for a round that is over.
    let before = sim.events().len();
    sim.act(next(2, 1, "request_vote_resp")).unwrap();
    let refused = sim.events()[before..].iter().any(
        |e| matches!(&e.kind, EventKind::Deliver { outcome: Some(o), .. } if o.contains("term 1")),
    );
    assert!(refused, "the stale answer is refused with a reason");
    assert_eq!(sim.server(1).unwrap().state(), Role::Candidate);
}

#[test]
fn deliver_next_tells_prevote_requests_from_real_ones() {
    let mut sim = Sim::new(12, 3, cfg(true)).unwrap();
    manual(&mut sim);
    sim.act(Action::Timeout { node: 3 }).unwrap();
    let real = Action::DeliverNext {
        from: 3,
        to: 1,
        msg: "request_vote".into(),
        prevote: Some(false),
    };
    let err = sim.act(real).unwrap_err();
    assert_eq!(
        err,
        "nothing to pick: no request_vote (not prevote) from S3 to S1 is in flight"
    );
    let pre = Action::DeliverNext {
        from: 3,
        to: 1,
        msg: "request_vote".into(),
        prevote: Some(true),
    };
    let before = sim.events().len();
    sim.act(pre).unwrap();
    let granted = sim.events()[before..].iter().any(|e| {
        matches!(
            e.kind,
            EventKind::Vote {
                node: 1,
                candidate: 3,
                prevote: true,
                granted: true,
                ..
            }
        )
    });
    assert!(granted, "S1 granted S3's prevote");
}

#[test]
fn drop_next_loses_the_oldest_matching_message() {
    let mut sim = Sim::new(13, 3, cfg(false)).unwrap();
    manual(&mut sim);
    sim.act(Action::Timeout { node: 2 }).unwrap();
    let waiting = in_flight(&sim, 2, 3);
    let before = sim.events().len();
    sim.act(Action::DropNext {
        from: 2,
        to: 3,
        msg: "request_vote".into(),
        prevote: None,
    })
    .unwrap();
    assert_eq!(fates(&sim, before), vec![("drop", waiting[0])]);
    assert!(in_flight(&sim, 2, 3).is_empty());
    // S2 → S1 is untouched.
    assert_eq!(in_flight(&sim, 2, 1).len(), 1);
}

#[test]
fn when_nothing_matches_the_action_is_refused_in_words_and_leaves_no_trace() {
    let mut sim = Sim::new(14, 3, cfg(false)).unwrap();
    manual(&mut sim);
    sim.act(Action::Timeout { node: 1 }).unwrap();
    let events = sim.events().len();
    for (action, words) in [
        (
            next(1, 2, "append_entries"),
            "nothing to pick: no append_entries from S1 to S2 is in flight",
        ),
        (
            next(2, 1, "request_vote"),
            "nothing to pick: no request_vote from S2 to S1 is in flight",
        ),
        (
            next(1, 9, "request_vote"),
            "nothing to pick: no request_vote from S1 to S9 is in flight",
        ),
        (
            next(1, 2, "vote"),
            "unknown message kind \"vote\"; known: request_vote, request_vote_resp, append_entries, append_entries_resp, snapshot, snapshot_resp",
        ),
    ] {
        assert_eq!(sim.act(action).unwrap_err(), words);
    }
    assert_eq!(sim.events().len(), events, "no event for a refusal");
    assert_eq!(in_flight(&sim, 1, 2).len(), 1, "nothing moved");
}

#[test]
fn a_run_directed_by_message_kind_replays_identically_from_its_trace() {
    let mut sim = Sim::new(15, 3, cfg(false)).unwrap();
    manual(&mut sim);
    sim.act(Action::Timeout { node: 1 }).unwrap();
    sim.run_until(40);
    sim.act(next(1, 2, "request_vote")).unwrap();
    sim.act(next(2, 1, "request_vote_resp")).unwrap();
    assert_eq!(sim.leader(), Some(1));
    sim.act(Action::DropNext {
        from: 1,
        to: 3,
        msg: "request_vote".into(),
        prevote: None,
    })
    .unwrap();
    sim.run_until(90);
    sim.act(next(1, 2, "append_entries")).unwrap();
    sim.act(next(2, 1, "append_entries_resp")).unwrap();
    assert_eq!(sim.server(1).unwrap().commit_idx(), 1);
    sim.run_until(200);
    let text = sim.trace_jsonl();
    let trace = read_trace(&text).expect("readable");
    let actions = actions_of(&trace.events);
    let kinds: Vec<&str> = trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Action { action } => action["kind"].as_str(),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "manual",
            "timeout",
            "deliver_next",
            "deliver_next",
            "drop_next",
            "deliver_next",
            "deliver_next"
        ]
    );
    let mut again = Sim::from_header(&trace.header, &actions).expect("replay");
    again.run_until(sim.now());
    assert_eq!(again.trace_jsonl(), text);
}

#[test]
fn the_feed_says_which_message_deliver_next_picks() {
    let label = describe::action_label(&Action::DeliverNext {
        from: 2,
        to: 1,
        msg: "request_vote_resp".into(),
        prevote: None,
    });
    assert_eq!(
        label,
        "deliver the oldest request_vote_resp from S2 to S1 now"
    );
    let label = describe::action_label(&Action::DropNext {
        from: 1,
        to: 3,
        msg: "request_vote".into(),
        prevote: Some(true),
    });
    assert_eq!(label, "drop the oldest prevote request_vote from S1 to S3");
}

#[test]
fn a_refusals_reason_survives_going_back_and_forward_again() {
    let mut sim = Sim::new(16, 3, cfg(false)).unwrap();
    manual(&mut sim);
    sim.act(Action::Timeout { node: 1 }).unwrap();
    sim.act(Action::Timeout { node: 1 }).unwrap();
    // The term-1 request's answer reaches S1 in term 2: refused, with a reason.
    sim.act(next(1, 2, "request_vote")).unwrap();
    sim.act(next(2, 1, "request_vote_resp")).unwrap();
    // Much more history after it (more than the 64 events a reason is
    // looked for in), so replaying cannot find it by chance in the future.
    sim.act(Action::Manual {
        on: false,
        timers: true,
    })
    .unwrap();
    sim.run_until(3_000);
    let before = sim.trace_jsonl();
    assert!(before.contains("a late answer for term 1"), "{before}");
    assert!(sim.events().len() > 200);
    let end = sim.step_count();
    sim.goto_step(0);
    sim.goto_step(end);
    assert_eq!(sim.trace_jsonl(), before, "replaying the known history");
}
