//! Directing the protocol by hand (issue 19): manual delivery, held links,
//! heartbeats on demand, and timers that stand still; every choice is an
//! action, so a run replays exactly from its trace.

use raftlab_core::sim::{actions_of, Action, Sim, SimConfig};
use raftlab_core::trace::{read_trace, EventKind};
use raftlab_core::Role;

fn no_prevote() -> SimConfig {
    SimConfig {
        prevote: false,
        ..SimConfig::default()
    }
}

fn manual(sim: &mut Sim, timers: bool) {
    sim.act(Action::Manual { on: true, timers })
        .expect("manual on");
}

fn delivered(sim: &Sim) -> usize {
    sim.events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Deliver { .. }))
        .count()
}

/// The id of the message in flight from `from` to `to` (waiting at its
/// receiver, or still on its way: either can be delivered).
fn waiting_id(sim: &Sim, from: u64, to: u64) -> u64 {
    sim.flights()
        .find(|f| f.msg.from == from && f.msg.to == to)
        .unwrap_or_else(|| panic!("a message S{from} → S{to} waits"))
        .id
}

#[test]
fn with_manual_delivery_no_message_arrives_by_itself() {
    let mut sim = Sim::new(1, 5, no_prevote()).unwrap();
    manual(&mut sim, false);
    sim.act(Action::Timeout { node: 1 }).unwrap();
    let before = delivered(&sim);
    sim.run_until(5_000);
    assert_eq!(delivered(&sim), before, "nothing was delivered");
    let waiting: Vec<(u64, u64)> = sim.waiting().map(|f| (f.msg.from, f.msg.to)).collect();
    assert_eq!(waiting, vec![(1, 2), (1, 3), (1, 4), (1, 5)]);
    assert_eq!(sim.server(1).unwrap().state(), Role::Candidate);
}

#[test]
fn while_delivering_by_hand_timers_stand_still_unless_let_run() {
    let mut still = Sim::new(2, 5, no_prevote()).unwrap();
    manual(&mut still, false);
    still.run_until(10_000);
    assert!(
        still
            .events()
            .iter()
            .all(|e| !matches!(e.kind, EventKind::Role { term, .. } if term > 0)),
        "no timeout fired in 10 s"
    );
    assert!(!still.timers_run());

    let mut running = Sim::new(2, 5, no_prevote()).unwrap();
    manual(&mut running, true);
    running.run_until(1_000);
    assert!(running.timers_run());
    assert!(
        running.waiting().count() > 0,
        "a timeout fired and its votes wait"
    );
}

#[test]
fn a_split_vote_staged_by_hand_gives_two_candidates_two_votes_each_and_no_leader() {
    let mut sim = Sim::new(3, 5, no_prevote()).unwrap();
    manual(&mut sim, false);
    sim.act(Action::Timeout { node: 1 }).unwrap();
    sim.act(Action::Timeout { node: 2 }).unwrap();
    // S3 votes for S1, S4 for S2; S5 hears nobody.
    for (from, to) in [(1, 3), (2, 4)] {
        let id = waiting_id(&sim, from, to);
        sim.act(Action::Deliver { id }).unwrap();
    }
    for (from, to) in [(3, 1), (4, 2)] {
        let id = waiting_id(&sim, from, to);
        sim.act(Action::Deliver { id }).unwrap();
    }
    let votes = |sim: &Sim, n: u64| {
        sim.server(n)
            .unwrap()
            .votes()
            .values()
            .filter(|granted| **granted)
            .count()
    };
    assert_eq!((votes(&sim, 1), votes(&sim, 2)), (2, 2));
    assert_eq!(
        sim.server(1).unwrap().current_term(),
        sim.server(2).unwrap().current_term()
    );
    sim.run_until(sim.now() + 10_000);
    assert_eq!(sim.leader(), None, "nothing moves by itself");
    assert_eq!((votes(&sim, 1), votes(&sim, 2)), (2, 2));
}

#[test]
fn a_held_link_keeps_its_messages_and_release_delivers_them_oldest_first() {
    let mut sim = Sim::new(4, 3, no_prevote()).unwrap();
    sim.run_until(2_000);
    let leader = sim.leader().expect("a leader");
    let follower = (1..=3).find(|n| *n != leader).unwrap();
    sim.act(Action::Hold {
        from: leader,
        to: follower,
    })
    .unwrap();
    sim.run_until(sim.now() + 300);
    let held: Vec<u64> = sim
        .waiting()
        .filter(|f| (f.msg.from, f.msg.to) == (leader, follower))
        .map(|f| f.id)
        .collect();
    assert!(
        held.len() >= 2,
        "heartbeats wait on the held link: {held:?}"
    );
    assert!(sim.held_links().contains(&(leader, follower)));
    let seq = sim.events().len();
    sim.act(Action::Release {
        from: leader,
        to: follower,
    })
    .unwrap();
    sim.run_until(sim.now());
    let order: Vec<u64> = sim.events()[seq..]
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Deliver { id, .. } if held.contains(&id) => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(order, held, "delivered in the order they were sent");
    assert_eq!(sim.waiting().count(), 0);
}

#[test]
fn a_heartbeat_on_demand_comes_from_a_leader_only() {
    let mut sim = Sim::new(5, 3, no_prevote()).unwrap();
    sim.run_until(2_000);
    let leader = sim.leader().expect("a leader");
    manual(&mut sim, false);
    let waiting = sim.waiting().count();
    sim.act(Action::Heartbeat { node: leader }).unwrap();
    assert_eq!(
        sim.waiting().count() + sim.flights().filter(|f| !sim.is_waiting(f.id)).count(),
        sim.flights().count()
    );
    assert!(
        sim.flights().count() >= waiting + 2,
        "one append per follower"
    );
    let follower = (1..=3).find(|n| *n != leader).unwrap();
    let err = sim.act(Action::Heartbeat { node: follower }).unwrap_err();
    assert!(err.contains("only a leader"), "{err}");
}

#[test]
fn switching_manual_off_delivers_what_waited() {
    let mut sim = Sim::new(6, 3, no_prevote()).unwrap();
    manual(&mut sim, false);
    sim.act(Action::Timeout { node: 2 }).unwrap();
    sim.run_until(100);
    assert_eq!(sim.waiting().count(), 2);
    sim.act(Action::Manual {
        on: false,
        timers: false,
    })
    .unwrap();
    sim.run_until(400);
    assert_eq!(sim.leader(), Some(2));
}

#[test]
fn a_run_with_manual_actions_replays_identically_from_its_trace() {
    let mut sim = Sim::new(7, 5, no_prevote()).unwrap();
    manual(&mut sim, false);
    sim.act(Action::Timeout { node: 1 }).unwrap();
    sim.run_until(50);
    let id = waiting_id(&sim, 1, 2);
    sim.act(Action::Deliver { id }).unwrap();
    sim.act(Action::Hold { from: 1, to: 3 }).unwrap();
    sim.act(Action::Manual {
        on: false,
        timers: false,
    })
    .unwrap();
    sim.run_until(400);
    sim.act(Action::Release { from: 1, to: 3 }).unwrap();
    sim.run_until(900);
    let text = sim.trace_jsonl();
    let trace = read_trace(&text).expect("readable");
    let actions = actions_of(&trace.events);
    assert_eq!(actions.len(), 6);
    let mut again = Sim::from_header(&trace.header, &actions).expect("replay");
    again.run_until(sim.now());
    assert_eq!(again.trace_jsonl(), text);
}

#[test]
fn delivering_a_message_not_in_flight_or_holding_a_bad_link_is_refused() {
    let mut sim = Sim::new(8, 3, no_prevote()).unwrap();
    assert!(sim.act(Action::Deliver { id: 999 }).is_err());
    assert!(sim.act(Action::Hold { from: 1, to: 1 }).is_err());
    assert!(sim.act(Action::Release { from: 1, to: 7 }).is_err());
    assert!(sim.act(Action::Heartbeat { node: 9 }).is_err());
}
