//! Every simulated run ends: the clock reaches the time asked for even when
//! the whole cluster is down, nodes that come back tick from then on, and a
//! run whose clock stops moving all the same stops with an error that names
//! the seed, the time and what looped, instead of hanging.
//!
//! Two chaos seeds hung for ever before (issue 15): with every node of a
//! three-node cluster crashed nothing was due, so running to a time left the
//! clock behind it, and the chaos driver, drawing its next times from that
//! clock, kept asking for times before the next client timer.

use raftlab_core::sim::chaos::{run_standard, run_standard_calm};
use raftlab_core::sim::{Action, Sim, SimConfig};
use raftlab_core::trace::EventKind;

/// Runs `seed` as `raftlab run --chaos --nodes 3 --until <until>` does
/// (and with the calm period of a fifth of the run it had when the hang was
/// found), and checks that both runs end at `until` without stalling.
fn ends_at(seed: u64, until: u64) {
    let runs = [
        run_standard(seed, 3, until, &[]),
        run_standard_calm(seed, 3, until, until / 5, &[]),
    ];
    for run in runs {
        let sim = run.expect("the run is set up");
        assert_eq!(sim.stalled(), None, "seed {seed} stalled");
        assert_eq!(sim.now(), until, "seed {seed} ends at the time asked for");
        let last = sim.events().last().map_or(0, |e| e.time);
        assert!(last <= until, "seed {seed}: an event after the end");
    }
}

#[test]
fn chaos_seed_214038_with_every_node_down_ends_at_24s() {
    ends_at(214_038, 24_000);
}

#[test]
fn chaos_seed_207742_with_every_node_down_ends_at_60s() {
    ends_at(207_742, 60_000);
}

fn crash_all(sim: &mut Sim) {
    for node in 1..=3 {
        sim.act(Action::Crash { node }).expect("crash");
    }
}

#[test]
fn the_clock_reaches_the_time_asked_for_while_every_node_is_down() {
    let mut sim = Sim::new(5, 3, SimConfig::default()).unwrap();
    sim.run_until(500);
    crash_all(&mut sim);
    for t in [501, 900, 2_000] {
        sim.try_run_until(t).expect("no stall");
        assert_eq!(sim.now(), t);
    }
    // An action then happens at the time reached, not back at the crash.
    sim.act(Action::Heal).unwrap();
    assert_eq!(sim.events().last().unwrap().time, 2_000);
}

#[test]
fn a_node_back_after_a_whole_cluster_outage_does_not_tick_through_the_outage_raft_5_2() {
    // Its election timeout (150-300 ms, §5.2) counts from its restart: the
    // ms it was down are not ticked through at once, which would time it
    // out, and start an election, the instant it is back.
    let mut sim = Sim::new(5, 3, SimConfig::default()).unwrap();
    sim.run_until(500);
    crash_all(&mut sim);
    sim.run_until(5_000);
    sim.act(Action::Restart { node: 1 }).unwrap();
    let restarted = sim.position();
    sim.run_until(5_140);
    let campaigning = sim.events()[restarted as usize..]
        .iter()
        .find(|e| matches!(e.kind, EventKind::Send { from: 1, .. }));
    assert_eq!(
        campaigning, None,
        "S1 campaigned within 140 ms of its restart"
    );
    // It still times out in time: a lone node's (pre)vote requests go out.
    sim.run_until(5_400);
    assert!(sim.events()[restarted as usize..]
        .iter()
        .any(|e| matches!(e.kind, EventKind::Send { from: 1, .. })));
}

#[test]
fn a_run_whose_clock_stops_moving_stops_with_an_error_naming_seed_time_and_loop() {
    // A budget of 2 micro-steps per ms: ms 1 has three node ticks, so the
    // guard stops the run before S3's.
    let mut sim = Sim::new(77, 3, SimConfig::default()).unwrap();
    sim.set_stall_budget(2);
    let stalled = sim.try_run_until(1_000).expect_err("the guard stops it");
    assert_eq!((stalled.seed, stalled.time, stalled.steps), (77, 1, 2));
    assert_eq!(
        stalled.looping,
        "S3's tick next (this millisecond: 2 node ticks)"
    );
    let text = stalled.to_string();
    for part in ["seed 77", "simulated time 1 ms", "S3's tick"] {
        assert!(text.contains(part), "{text}");
    }
    // Nothing runs any more, and the clock stays where it stopped.
    let step = sim.step_count();
    assert_eq!(sim.step(), 0);
    sim.run_until(2_000);
    assert_eq!((sim.step_count(), sim.now()), (step, 1));
    assert_eq!(sim.stalled(), Some(&stalled));
    assert!(sim.act(Action::Heal).is_err());
}

#[test]
fn the_guard_leaves_a_run_that_keeps_moving_alone() {
    let mut sim = Sim::new(77, 3, SimConfig::default()).unwrap();
    sim.set_stall_budget(64);
    sim.try_run_until(3_000)
        .expect("a healthy run never stalls");
    assert_eq!(sim.now(), 3_000);
    assert!(sim.leader().is_some());
}

#[test]
fn going_back_before_a_stall_clears_it_and_running_on_finds_it_again() {
    let mut sim = Sim::new(77, 3, SimConfig::default()).unwrap();
    sim.set_stall_budget(2);
    let first = sim.try_run_until(1_000).unwrap_err();
    sim.goto_step(0);
    assert_eq!(sim.stalled(), None);
    assert_eq!(sim.try_run_until(1_000).unwrap_err(), first);
}
