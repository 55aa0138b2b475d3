//! The simulator: determinism, time travel, chaos without violations.

use raftlab_core::sim::chaos::{Chaos, ChaosOptions};
use raftlab_core::sim::{Action, Sim, SimConfig};
use raftlab_core::trace::read_trace;
use raftlab_core::{KvOp, Role};

fn chaos_run(seed: u64, nodes: u64, until: u64) -> Sim {
    let mut sim = Sim::new(seed, nodes, SimConfig::default()).expect("sim");
    let mut chaos = Chaos::new(seed, ChaosOptions::default());
    chaos.drive(&mut sim, until);
    sim
}

#[test]
fn a_leader_is_elected_within_a_second() {
    let mut sim = Sim::new(1, 5, SimConfig::default()).unwrap();
    sim.run_until(1000);
    let l = sim.leader().expect("a leader");
    assert_eq!(sim.server(l).unwrap().state(), Role::Leader);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn same_seed_same_trace_byte_for_byte() {
    let a = chaos_run(7, 5, 5000).trace_jsonl();
    let b = chaos_run(7, 5, 5000).trace_jsonl();
    assert_eq!(a, b);
    let c = chaos_run(8, 5, 5000).trace_jsonl();
    assert_ne!(a, c);
}

#[test]
fn replaying_a_traces_header_and_actions_reproduces_it() {
    let sim = chaos_run(11, 5, 5000);
    let text = sim.trace_jsonl();
    let trace = read_trace(&text).expect("readable");
    let actions = raftlab_core::sim::actions_of(&trace.events);
    let mut again = Sim::from_header(&trace.header, &actions).expect("replay");
    again.run_until(sim.now());
    assert_eq!(again.trace_jsonl(), text);
}

#[test]
fn chaos_finds_no_violation_in_a_few_seeds() {
    for seed in 1..=5 {
        let sim = chaos_run(seed, 5, 10_000);
        assert!(
            sim.violations().is_empty(),
            "seed {seed}: {:?}",
            &sim.violations()[..1]
        );
        assert!(sim.events().len() > 1000);
    }
}

#[test]
fn stepping_back_and_forward_returns_to_the_same_state() {
    let mut sim = Sim::new(3, 5, SimConfig::default()).unwrap();
    sim.run_until(2000);
    sim.act(Action::Client {
        client: 1,
        op: KvOp::Put,
        key: "x".into(),
        value: Some("1".into()),
    })
    .unwrap();
    sim.run_until(3000);
    let step = sim.step_count();
    let trace = sim.trace_jsonl();
    let fingerprint = |s: &Sim| {
        s.nodes()
            .keys()
            .map(|&id| {
                s.server(id)
                    .map(|n| (n.current_term(), n.commit_idx(), n.log().last_index()))
            })
            .collect::<Vec<_>>()
    };
    let here = fingerprint(&sim);
    sim.goto_step(step / 3);
    assert!(sim.now() < 3000);
    sim.goto_step(step);
    assert_eq!(fingerprint(&sim), here);
    assert_eq!(sim.trace_jsonl(), trace);
    // Acting in the past starts a branch: the old future is gone.
    sim.goto_step(step / 2);
    let t = sim.now();
    sim.act(Action::Timeout { node: 2 }).ok();
    assert!(sim.events().iter().all(|e| e.time <= t + 1));
}

#[test]
fn going_to_a_time_back_and_forth_gives_the_same_states() {
    let mut sim = chaos_run(5, 5, 4000);
    let at = |s: &Sim| (s.now(), s.position(), s.leader());
    sim.goto_time(1500);
    let mid = at(&sim);
    assert!(mid.0 <= 1500);
    sim.goto_time(3900);
    sim.goto_time(1500);
    assert_eq!(at(&sim), mid);
}
