//! The reducer's behaviour, natively: what the panels are drawn from,
//! refused actions, lessons, sessions and traces.

use std::rc::Rc;

use raftlab_core::kv::KvOp;
use raftlab_core::lesson::{Lesson, StepStatus};
use raftlab_core::session::Session;
use raftlab_core::sim::Action;
use yew::prelude::*;

use super::refresh::{logs_digest, FEED_FRAMES, REFRESH_FRAMES};
use super::*;
use crate::vocab::{NodeVerb, SPEED_DEFAULT};

fn state() -> Rc<UiState> {
    Rc::new(UiState::new(Setup::default(), SPEED_DEFAULT, false, false))
}

/// A frame of `ms` wall ms: the new state and whether it differs.
fn frame(s: Rc<UiState>, ms: f64) -> Rc<UiState> {
    s.reduce(Msg::Clock(ClockMsg::Frame(ms)))
}

#[test]
fn panels_keep_their_props_across_frames_without_events() {
    // Playing very slowly, after the election: frames move the clock
    // by a hundredth of a ms, and most of them see no event.
    let s = state().reduce(Msg::Clock(ClockMsg::Forward(2000)));
    let s = s.reduce(Msg::Clock(ClockMsg::SetSpeed(SPEED_MIN)));
    let s = s.reduce(Msg::Clock(ClockMsg::Play));
    let before = s.clone();
    // The lab is shared, not copied: read it before the frames.
    let (vt0, key0) = {
        let lab = s.lab.0.borrow();
        (lab.vt(), lab.revision_key())
    };
    let mut s = s;
    for _ in 0..20 {
        let ring = s.stamp();
        s = frame(s, 10.0);
        assert_ne!(s.stamp(), ring, "the ring follows every frame");
    }
    assert!(s.lab.0.borrow().vt() > vt0);
    assert_eq!(
        key0,
        s.lab.0.borrow().revision_key(),
        "no event in these 0.2 simulated ms"
    );
    // No event: what the event-driven panels get (app.rs passes the
    // groups' `rev`) is unchanged, so yew leaves them alone.
    assert_eq!(s.rev, before.rev);
    for g in [G_LOGS, G_FEED, G_PANELS] {
        assert_eq!(s.shown[g].rev, before.shown[g].rev, "group {g}");
    }
    // And an event happened by the next refresh at normal speed.
    let s = s.reduce(Msg::Clock(ClockMsg::SetSpeed(1.0)));
    let rev = s.rev;
    let mut s = s;
    for _ in 0..40 {
        s = frame(s, 16.0);
    }
    assert!(s.rev > rev, "events happened");
    assert!(s.shown[G_FEED].rev > rev, "the feed was refreshed");
}

#[test]
fn while_playing_at_most_one_group_is_refreshed_per_frame_each_at_most_every_period() {
    let mut s = state()
        .reduce(Msg::Clock(ClockMsg::SetSpeed(1.0)))
        .reduce(Msg::Clock(ClockMsg::Play));
    let mut refreshes = [0usize; GROUPS];
    let mut last = [0usize; GROUPS];
    for frame_no in 1..=120 {
        let before = s.shown;
        s = frame(s, 16.0);
        let changed: Vec<usize> = (0..GROUPS).filter(|&g| s.shown[g] != before[g]).collect();
        assert!(changed.len() <= 1, "one group per frame, not {changed:?}");
        for g in changed {
            let min = if g == G_FEED { 3 } else { 7 };
            assert!(
                refreshes[g] == 0 || frame_no - last[g] >= min,
                "group {g} again after {} frames",
                frame_no - last[g]
            );
            refreshes[g] += 1;
            last[g] = frame_no;
        }
    }
    // 120 frames of 16 ms: about 1.9 s of wall time. The diagram and the
    // other panels come round about every 100 ms, the feed every 33 ms
    // (3 frames), not on all 120 frames.
    for g in [G_SPACETIME, G_PANELS] {
        assert!(
            (13..=18).contains(&refreshes[g]),
            "group {g}: {refreshes:?}"
        );
    }
    assert!(
        (30..=40).contains(&refreshes[G_FEED]),
        "the feed: {refreshes:?}"
    );
    // Slow frames (a busy machine): each group waits its fewest frames,
    // so most frames only move the ring.
    let mut s2 = s.clone();
    let mut refreshing_frames = 0;
    for _ in 0..60 {
        let before = s2.shown;
        s2 = frame(s2, 80.0);
        if s2.shown != before {
            refreshing_frames += 1;
        }
    }
    let most = 60 / FEED_FRAMES + 3 * 60 / REFRESH_FRAMES;
    assert!(
        refreshing_frames <= most as usize,
        "{refreshing_frames} of 60 slow frames refreshed a group"
    );
    // Pausing shows everything exactly as it is.
    let s = s.reduce(Msg::Clock(ClockMsg::Pause));
    let vt = s.lab.0.borrow().vt();
    for g in 0..GROUPS {
        assert_eq!(s.shown[g], Stamp { rev: s.rev, vt });
    }
    // A frame after the pause is the same state: nothing re-renders.
    let again = frame(s.clone(), 16.0);
    assert!(Rc::ptr_eq(&s, &again));
}

#[test]
fn after_a_step_or_any_move_every_panel_shows_that_exact_moment() {
    // Nine nodes with slow links: many events per frame, so while playing
    // the groups lag the run by different amounts.
    let setup = Setup {
        nodes: 9,
        ..Setup::default()
    };
    let mut s = Rc::new(UiState::new(setup, 1.0, true, false));
    type Move = (&'static str, fn() -> ClockMsg);
    let moves: [Move; 4] = [
        ("a step", || ClockMsg::Step),
        ("+10 ms", || ClockMsg::Forward(10)),
        ("a step back", || ClockMsg::StepBack),
        ("a pause", || ClockMsg::Pause),
    ];
    for (m, msg) in moves {
        s = s.reduce(Msg::Clock(ClockMsg::Play));
        let mut lagged = false;
        for _ in 0..45 {
            s = frame(s, 16.0);
            lagged |= (0..GROUPS).any(|g| s.shown[g] != s.stamp());
        }
        assert!(lagged, "while playing some panel lags the ring");
        s = s.reduce(Msg::Clock(msg()));
        let now = s.stamp();
        for g in 0..GROUPS {
            assert_eq!(s.shown[g], now, "after {m}, group {g}");
        }
        assert_eq!(
            s.logs_digest,
            logs_digest(s.lab.0.borrow().sim()),
            "after {m}, the logs' digest is the run's"
        );
    }
}

#[test]
fn while_playing_the_logs_are_redrawn_only_when_what_they_show_changed() {
    // A leader, then a write: its entry spreads and commits while playing.
    let s = state().reduce(Msg::Clock(ClockMsg::Forward(2000)));
    let mut s = s
        .reduce(Msg::Client(KvOp::Put, "x".into(), Some("1".into())))
        .reduce(Msg::Clock(ClockMsg::SetSpeed(1.0)))
        .reduce(Msg::Clock(ClockMsg::Play));
    let (mut redrawn, mut kept, mut pending) = (0, 0, 0u32);
    for _ in 0..400 {
        let (before, digest_before) = (s.shown[G_LOGS], s.logs_digest);
        s = frame(s, 16.0);
        let digest = logs_digest(s.lab.0.borrow().sim());
        if s.shown[G_LOGS] != before {
            assert_ne!(digest, digest_before, "redrawn with nothing new to show");
            assert_eq!(s.logs_digest, digest);
            redrawn += 1;
            pending = 0;
        } else if digest != s.logs_digest {
            // Changed, not yet redrawn: within a period or so.
            pending += 1;
            assert!(
                pending <= 2 * REFRESH_FRAMES,
                "the logs lag {pending} frames"
            );
        } else if s.rev != s.shown[G_LOGS].rev {
            kept += 1;
        }
    }
    assert!(redrawn > 0, "the write reached the logs");
    assert!(
        kept > redrawn,
        "events that changed nothing in the logs: {kept} frames"
    );
}

#[test]
fn node_verbs_need_a_selection() {
    let s = state().reduce(Msg::Node(NodeMsg::Verb(NodeVerb::Crash)));
    assert!(s.notice.as_ref().is_some_and(|n| n.error));
}

#[test]
fn refused_actions_are_notices_not_panics() {
    let s = state().reduce(Msg::Node(NodeMsg::Select(Some(1))));
    let s = s.reduce(Msg::Node(NodeMsg::Verb(NodeVerb::Restart)));
    assert!(s
        .notice
        .as_ref()
        .is_some_and(|n| n.text.contains("not crashed")));
}

#[test]
fn bad_settings_keep_the_run() {
    let s = state();
    let bad = Setup {
        nodes: 12,
        ..Setup::default()
    };
    let s2 = s.clone().reduce(Msg::Session(SessionMsg::Reset(bad)));
    assert!(s2.lab == s.lab);
    assert!(s2.notice.is_some());
}

#[test]
fn a_put_reaches_a_result() {
    let s = state().reduce(Msg::Clock(ClockMsg::Forward(1000)));
    let s = s.reduce(Msg::Client(KvOp::Put, "x".into(), Some("1".into())));
    let (client, seq) = s.last_client.expect("invoked");
    let s = s.reduce(Msg::Clock(ClockMsg::Forward(500)));
    let lab = s.lab.0.borrow();
    let view = lab
        .sim()
        .clients()
        .into_iter()
        .find(|v| v.id == client)
        .unwrap();
    assert!(view.done.iter().any(|op| op.seq == seq));
}

fn lesson_file(file: &str) -> Lesson {
    let path = format!("{}/../static/lessons/{file}", env!("CARGO_MANIFEST_DIR"));
    raftlab_core::lesson::parse_lesson(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_break_it_lesson_plays_through_its_violation() {
    let lesson = lesson_file("06-figure8-broken.json");
    let n = lesson.steps.len();
    let mut s = state().reduce(Msg::Lesson(LessonMsg::Start(Box::new(lesson))));
    for _ in 0..(4 * n) {
        s = match s.lesson_status.clone() {
            Some(StepStatus::Finished) => break,
            Some(StepStatus::Done) => s.reduce(Msg::Lesson(LessonMsg::NextStep)),
            Some(StepStatus::Waiting) if s.lab.0.borrow().lesson_holds() => {
                s.reduce(Msg::Lesson(LessonMsg::Answer(0)))
            }
            Some(StepStatus::Waiting) => s.reduce(Msg::Lesson(LessonMsg::FinishStep)),
            other => panic!("{other:?}: {:?}", s.notice),
        };
    }
    assert_eq!(s.lesson_status, Some(StepStatus::Finished));
    assert!(!s.lab.0.borrow().sim().violations().is_empty());
}

#[test]
fn a_session_opens_to_the_same_run_and_bad_ones_keep_the_run() {
    let s = state()
        .reduce(Msg::Clock(ClockMsg::Forward(800)))
        .reduce(Msg::Client(KvOp::Put, "k".into(), Some("v".into())))
        .reduce(Msg::Clock(ClockMsg::Forward(300)));
    let session = Session::from_sim(s.lab.0.borrow().sim());
    let fresh = state().reduce(Msg::Session(SessionMsg::Open(
        Box::new(session.clone()),
        "link",
        "test".into(),
    )));
    assert_eq!(
        fresh.lab.0.borrow().sim().trace_jsonl(),
        s.lab.0.borrow().sim().trace_jsonl()
    );
    let bad = fresh.clone().reduce(Msg::Session(SessionMsg::OpenFile {
        name: "x.json".into(),
        text: "{nope".into(),
    }));
    assert!(bad.lab == fresh.lab);
    assert!(bad.notice.as_ref().is_some_and(|n| n.error));
}

#[test]
fn a_trace_loads_and_matches() {
    let s = state()
        .reduce(Msg::Clock(ClockMsg::Forward(700)))
        .reduce(Msg::Act(Action::Crash { node: 2 }))
        .reduce(Msg::Clock(ClockMsg::Forward(700)));
    let text = s.lab.0.borrow().sim().trace_jsonl();
    let t = state().reduce(Msg::Session(SessionMsg::OpenFile {
        name: "t.jsonl".into(),
        text,
    }));
    assert_eq!(
        t.source.as_ref().and_then(|x| x.matched),
        Some(true),
        "{:?}",
        t.source
    );
    let lab = t.lab.0.borrow();
    assert_eq!(lab.sim().now(), 0, "back at the start");
    assert!(lab.future_len() > 100, "with the whole run ahead");
}

#[test]
fn partition_needs_two_groups() {
    let s = state().reduce(Msg::Net(NetMsg::Partition));
    assert!(s.notice.is_some());
    let s = s
        .reduce(Msg::Net(NetMsg::CycleGroup(1)))
        .reduce(Msg::Net(NetMsg::Partition));
    assert!(s.lab.0.borrow().sim().groups().is_some());
}

#[test]
fn a_loaded_trace_runs_on_past_its_end() {
    let text = std::fs::read_to_string(format!(
        "{}/../e2e/fixtures/chaos-seed3.jsonl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let s = Rc::new(UiState::new(Setup::default(), SPEED_DEFAULT, false, false));
    let s = s.reduce(Msg::Session(SessionMsg::OpenFile {
        name: "f.jsonl".into(),
        text,
    }));
    assert_eq!(s.source.as_ref().and_then(|x| x.matched), Some(true));
    let s = s.reduce(Msg::Clock(ClockMsg::Forward(3000)));
    let lab = s.lab.0.borrow();
    let late = lab.past().iter().filter(|e| e.time > 2500).count();
    assert!(
        late > 0,
        "now {} position {}",
        lab.sim().now(),
        lab.sim().position()
    );
}

#[test]
fn the_partition_chips_follow_a_partition_made_by_an_action_and_its_healing() {
    let s = state().reduce(Msg::Act(Action::Partition {
        groups: vec![vec![1, 2], vec![3]],
    }));
    assert_eq!(s.groups.get(&3), Some(&1), "S3 is shown in group B");
    assert_eq!(s.groups.get(&1), Some(&0));
    // The user's own picks stand until the network changes again.
    let s = s.reduce(Msg::Net(NetMsg::CycleGroup(1)));
    assert_eq!(s.groups.get(&1), Some(&1));
    let s = s.reduce(Msg::Act(Action::Heal));
    assert!(s.groups.values().all(|&g| g == 0), "healed: all in A");
}

/// Issue 19: delivering by hand, every move is the teacher's; going back
/// and choosing another move starts a branch, as any action in the past
/// does, while stepping forward again replays the move made before.
#[test]
fn back_in_time_while_delivering_by_hand_another_choice_starts_a_branch() {
    let mut setup = Setup::default();
    setup.cfg.prevote = false;
    let s = Rc::new(UiState::new(setup, SPEED_DEFAULT, false, false));
    let s = s.reduce(Msg::Act(Action::Manual {
        on: true,
        timers: false,
    }));
    let s = s.reduce(Msg::Act(Action::Timeout { node: 1 }));
    // The vote requests travel to their receivers and wait there.
    let s = s.reduce(Msg::Clock(ClockMsg::Step));
    let to = |s: &UiState, n: u64| {
        let lab = s.lab.0.borrow();
        let sim = lab.sim();
        let waiting = sim.waiting().find(|f| f.msg.to == n).map(|f| f.id);
        waiting.expect("a vote request waits at the receiver")
    };
    let term = |s: &UiState, n: u64| s.lab.0.borrow().sim().server(n).map(|x| x.current_term());
    let (to3, to4) = (to(&s, 3), to(&s, 4));
    let s = s.reduce(Msg::Act(Action::Deliver { id: to3 }));
    let s = s.reduce(Msg::Act(Action::Deliver { id: to4 }));
    assert_eq!(term(&s, 4), Some(1));

    // Back one move: S4 has not heard of term 1 yet.
    let s = s.reduce(Msg::Clock(ClockMsg::StepBack));
    assert_eq!(term(&s, 4), Some(0));
    assert_eq!(term(&s, 3), Some(1));
    // A step replays the delivery made before, from the known future.
    let s = s.reduce(Msg::Clock(ClockMsg::Step));
    assert_eq!(term(&s, 4), Some(1));
    assert!(s.lab.0.borrow().branches().is_empty());
    // Back again, and dropping it instead is another history: a branch.
    let s = s.reduce(Msg::Clock(ClockMsg::StepBack));
    let s = s.reduce(Msg::Act(Action::DropMessage { id: to4 }));
    assert_eq!(s.lab.0.borrow().branches().len(), 1);
    let s = s.reduce(Msg::Clock(ClockMsg::Forward(1000)));
    assert_eq!(term(&s, 4), Some(0), "S4 never hears of term 1");
}
