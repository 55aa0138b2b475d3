//! The lab's behaviour: the visual clock, time travel and branches,
//! lessons and breakpoints, natively.

use super::*;

fn lab() -> Lab {
    Lab::new(7, 5, SimConfig::default()).expect("valid")
}

fn fingerprint(lab: &Lab) -> String {
    let sim = lab.sim();
    let mut out = format!("t{} s{} p{} ", sim.now(), sim.step_count(), sim.position());
    for id in sim.nodes().keys() {
        if let Some(s) = sim.server(*id) {
            out.push_str(&format!(
                "{}:{:?}/{}/{}/{} ",
                id,
                s.state(),
                s.current_term(),
                s.commit_idx(),
                s.log().last_index()
            ));
        }
    }
    out.push_str(&format!("f{}", sim.flights().count()));
    out
}

#[test]
fn a_leader_is_elected_within_a_second() {
    let mut lab = lab();
    lab.forward(1000);
    assert!(lab.sim().leader().is_some());
    assert!(lab
        .marks()
        .iter()
        .any(|m| matches!(m.kind, MarkKind::Leader { .. })));
}

#[test]
fn advancing_by_frames_equals_forwarding() {
    let mut a = lab();
    let mut b = lab();
    for _ in 0..800 {
        a.advance(0.625);
    }
    b.forward(500);
    assert_eq!(a.sim().now(), b.sim().now());
    assert_eq!(fingerprint(&a), fingerprint(&b));
}

#[test]
fn step_back_then_forward_is_exact() {
    let mut lab = lab();
    lab.forward(700);
    lab.step();
    let here = fingerprint(&lab);
    lab.step_back();
    assert_ne!(fingerprint(&lab), here);
    lab.step();
    assert_eq!(fingerprint(&lab), here);
    assert!(!lab.in_past());
}

#[test]
fn acting_in_the_past_branches() {
    let mut lab = lab();
    lab.forward(800);
    let leader = lab.sim().leader().expect("leader");
    lab.scrub(400.0);
    assert!(lab.in_past());
    let _ = lab.act(Action::Crash { node: leader });
    assert_eq!(lab.branches().len(), 1);
    assert!(!lab.in_past());
    assert!(lab.marks().iter().all(|m| m.seq <= lab.sim().position()));
}

#[test]
fn scrub_back_and_forth_lands_on_the_same_state() {
    let mut lab = lab();
    lab.forward(900);
    let end = fingerprint(&lab);
    lab.scrub(300.0);
    assert_eq!(lab.sim().now(), 300);
    lab.scrub(900.0);
    assert_eq!(fingerprint(&lab), end);
}

#[test]
fn membership_actions_are_marked() {
    let mut lab = lab();
    lab.forward(1000);
    lab.act(Action::AddLearner { node: 6 }).expect("accepted");
    assert!(lab
        .marks()
        .iter()
        .any(|m| m.kind == MarkKind::Membership("+L6".into())));
}

fn lesson(file: &str) -> Lesson {
    let path = format!("{}/../static/lessons/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("lesson file");
    raftlab_core::lesson::parse_lesson(&text).expect("valid lesson")
}

/// Plays a lesson the way the page does: answer, finish, next.
fn play_to_end(lab: &mut Lab, mut frame: impl FnMut(&mut Lab)) -> usize {
    let mut steps = 0;
    loop {
        if lab.lesson_holds() {
            assert!(lab.answer(0).is_some());
        }
        match lab.lesson_status() {
            Some(StepStatus::Waiting) => frame(lab),
            Some(StepStatus::Done) => {
                steps += 1;
                lab.next_step();
            }
            Some(StepStatus::Finished) => return steps,
            other => panic!("lesson stopped: {other:?}"),
        }
    }
}

#[test]
fn every_lesson_plays_to_its_end_in_the_lab() {
    let index = std::fs::read_to_string(format!(
        "{}/../static/lessons/index.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for entry in raftlab_core::lesson::parse_index(&index).unwrap() {
        let l = lesson(&entry.file);
        let n = l.steps.len();
        let mut lab = Lab::with_lesson(l).unwrap();
        assert_eq!(
            play_to_end(&mut lab, |lab| lab.finish_step()),
            n,
            "{}",
            entry.id
        );
    }
}

#[test]
fn a_lesson_plays_the_same_at_any_frame_rate() {
    let mut a = Lab::with_lesson(lesson("06-figure8-broken.json")).unwrap();
    let mut b = Lab::with_lesson(lesson("06-figure8-broken.json")).unwrap();
    play_to_end(&mut a, |lab| lab.advance(0.7));
    play_to_end(&mut b, |lab| lab.advance(13.0));
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert!(!a.sim().violations().is_empty());
}

#[test]
fn a_breakpoint_stops_at_its_event() {
    let mut lab = lab();
    lab.set_breakpoints(vec![Breakpoint::Leader { node: None }]);
    let mut hit = None;
    for _ in 0..100 {
        lab.forward(20);
        hit = lab.check_breakpoints();
        if hit.is_some() {
            break;
        }
    }
    let (seq, what) = hit.expect("a leader is elected");
    assert!(what.contains("becomes leader"));
    let e = lab.sim().event(seq).expect("kept");
    assert!(matches!(
        e.kind,
        EventKind::Role {
            role: Role::Leader,
            ..
        }
    ));
    assert!(lab.sim().position() >= seq);
    assert!(lab.sim().leader().is_some());
}

#[test]
fn the_page_keeps_a_bounded_history() {
    let lab = lab();
    assert_eq!(lab.sim().history_limit(), Some(HISTORY_LIMIT));
    let lesson = Lab::with_lesson(lesson("06-figure8-broken.json")).unwrap();
    assert_eq!(lesson.sim().history_limit(), Some(HISTORY_LIMIT));
}

/// A lab whose simulator keeps only about `limit` events.
fn bounded(limit: u64) -> Lab {
    let mut sim = Sim::new(7, 5, SimConfig::default()).unwrap();
    sim.set_history_limit(Some(limit));
    Lab::from_sim(sim)
}

#[test]
fn rewinding_before_the_kept_history_lands_at_its_start() {
    let mut lab = bounded(2000);
    lab.forward(30_000);
    let start = lab.history_start();
    assert!(start.seq > 1, "old history was dropped");
    assert_eq!(lab.past().first().map(|e| e.seq), Some(start.seq));
    assert_eq!(lab.past().last().map(|e| e.seq), Some(lab.sim().position()));
    let end = fingerprint(&lab);
    lab.scrub(0.0);
    assert_eq!(lab.sim().now(), start.time);
    assert_eq!(lab.vt(), start.time as f64);
    assert_eq!(lab.sim().position(), start.seq - 1);
    assert!(lab.in_past());
    lab.goto_event(1);
    assert_eq!(lab.sim().now(), start.time);
    lab.step_back();
    assert_eq!(lab.sim().now(), start.time);
    // The known future replays exactly.
    lab.scrub(30_000.0);
    assert_eq!(fingerprint(&lab), end);
}

#[test]
fn marks_and_sends_are_read_by_seq_in_a_bounded_history() {
    let mut lab = bounded(2000);
    lab.forward(30_000);
    while lab.sim().flights().next().is_none() {
        lab.forward(1);
    }
    let start = lab.history_start().seq;
    assert!(start > 1);
    let mut found = 0;
    for fl in lab.sim().flights() {
        let e = lab.send_of(fl.id).expect("a flight's send is recent");
        assert!(matches!(e.kind, EventKind::Send { id, .. } if id == fl.id));
        found += 1;
    }
    assert!(found > 0);
    // A message sent before the kept history: forgotten, not mistaken.
    assert!(lab.send_of(1).is_none());
    // Marks keep pointing at their own events where those are kept.
    for m in lab.marks().iter().filter(|m| m.seq >= start) {
        assert_eq!(lab.sim().event(m.seq).map(|e| e.time), Some(m.time));
    }
}

#[test]
fn the_trace_of_a_bounded_history_is_the_whole_run() {
    let mut lab = bounded(2000);
    lab.forward(8_000);
    let leader = lab.sim().leader().expect("leader");
    lab.act(Action::Crash { node: leader }).unwrap();
    lab.forward(12_000);
    assert!(lab.history_start().seq > 1);
    let text = lab.trace_jsonl().expect("written");
    // The same run, every event kept.
    let mut full = Sim::new(7, 5, SimConfig::default()).unwrap();
    for a in lab.sim().script() {
        full.schedule(a.time, a.action.clone());
    }
    full.run_until(lab.sim().now());
    assert_eq!(text, full.trace_jsonl());
    let trace = raftlab_core::trace::read_trace(&text).expect("a valid trace");
    assert_eq!(trace.events.first().map(|e| e.seq), Some(1));
    assert_eq!(trace.events.len() as u64, lab.known_seq());
}

#[test]
fn breakpoints_fire_by_seq_in_a_bounded_history() {
    let mut lab = bounded(2000);
    lab.forward(20_000);
    assert!(lab.history_start().seq > 1);
    lab.set_breakpoints(vec![Breakpoint::Leader { node: None }]);
    let leader = lab.sim().leader().expect("leader");
    lab.act(Action::Crash { node: leader }).unwrap();
    let mut hit = None;
    for _ in 0..200 {
        lab.forward(20);
        hit = lab.check_breakpoints();
        if hit.is_some() {
            break;
        }
    }
    let (seq, _) = hit.expect("a new leader is elected");
    let e = lab.sim().event(seq).expect("kept");
    assert!(matches!(
        e.kind,
        EventKind::Role {
            role: Role::Leader,
            ..
        }
    ));
}

#[test]
fn send_index_finds_sends() {
    let mut lab = lab();
    lab.forward(400);
    let id = lab.sim().flights().next().map(|f| f.id);
    if let Some(id) = id {
        let e = lab.send_of(id).expect("send known");
        assert!(matches!(e.kind, EventKind::Send { id: i, .. } if i == id));
    }
}

#[test]
fn a_lesson_step_that_goes_back_is_a_branch_with_the_clock_at_its_start() {
    let mut lab = Lab::with_lesson(lesson("26-figure8-paper.json")).unwrap();
    let back = lab
        .lesson()
        .unwrap()
        .lesson()
        .steps
        .iter()
        .position(|s| s.back_to_step.is_some())
        .expect("a step that goes back");
    // Play until the step before it is done.
    loop {
        if lab.lesson_holds() {
            lab.answer(0);
        }
        match lab.lesson_status() {
            Some(StepStatus::Waiting) => lab.finish_step(),
            Some(StepStatus::Done) if lab.lesson().unwrap().step_index() + 1 == back => break,
            Some(StepStatus::Done) => {
                lab.next_step();
            }
            other => panic!("lesson stopped: {other:?}"),
        }
    }
    assert!(lab.branches().is_empty());
    let (before_t, before_p) = (lab.sim().now(), lab.sim().position());
    // Next goes back to the end of (c), before the step's actions.
    assert_eq!(lab.next_step(), Some(StepStatus::Waiting));
    assert_eq!(lab.branches().len(), 1, "the return is drawn as a branch");
    let b = &lab.branches()[0];
    assert!(b.time < before_t && b.position < before_p);
    assert_eq!(
        lab.vt(),
        lab.sim().now() as f64,
        "the clock is where the run is"
    );
    assert_eq!(play_to_end(&mut lab, |lab| lab.finish_step()), 2);
}
