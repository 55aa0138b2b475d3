//! A bounded history (`Sim::set_history_limit`): a long run keeps about the
//! limit's worth of events, can still go back to where its history starts,
//! and replays from there exactly as it ran.

use raftlab_core::sim::{Sim, SimConfig};

fn fingerprint(sim: &Sim) -> String {
    let last = sim.events().last().map(|e| e.to_line()).unwrap_or_default();
    format!(
        "now {} step {} pos {} leader {:?} last {last}",
        sim.now(),
        sim.step_count(),
        sim.position(),
        sim.leader()
    )
}

#[test]
fn a_bounded_history_keeps_about_the_limit_and_replays_exactly() {
    let limit = 2_000;
    let mut bounded = Sim::new(3, 5, SimConfig::default()).unwrap();
    bounded.set_history_limit(Some(limit));
    let mut full = Sim::new(3, 5, SimConfig::default()).unwrap();
    for s in 1..=120 {
        bounded.run_until(s * 1000);
        full.run_until(s * 1000);
        let kept = bounded.events().len() as u64;
        assert!(kept <= limit * 3, "at {s} s: {kept} events kept");
    }
    // The same run, event for event, whatever is kept.
    assert_eq!(fingerprint(&bounded), fingerprint(&full));
    let start = bounded.history_start();
    assert!(
        start.seq > 1 && start.time > 0,
        "history was dropped: {start:?}"
    );
    assert!(bounded.events().len() as u64 >= limit);
    assert_eq!(bounded.events()[0].seq, start.seq);
    assert_eq!(bounded.event(start.seq), bounded.events().first());
    assert_eq!(bounded.event(start.seq - 1), None);
    let seq = bounded.position() - 10;
    assert_eq!(bounded.event(seq), full.events().get(seq as usize - 1));
    assert_eq!(bounded.step_of_event(seq), full.step_of_event(seq));

    // Back to the start (and before it: the start), then forward again.
    let end = bounded.step_count();
    bounded.goto_step(0);
    assert_eq!(bounded.step_count(), start.step);
    assert_eq!(bounded.now(), start.time);
    assert_eq!(bounded.position(), start.seq - 1);
    bounded.goto_time(start.time + 500);
    full.goto_time(start.time + 500);
    assert_eq!(fingerprint(&bounded), fingerprint(&full));
    bounded.goto_step(end);
    full.goto_step(end);
    assert_eq!(fingerprint(&bounded), fingerprint(&full));
}

#[test]
fn without_a_limit_everything_is_kept() {
    let mut sim = Sim::new(3, 3, SimConfig::default()).unwrap();
    sim.run_until(20_000);
    assert_eq!(sim.history_limit(), None);
    assert_eq!(sim.history_start().seq, 1);
    assert_eq!(sim.events().len() as u64, sim.position());
}
