//! A teacher's own lesson without a rebuild (docs/lessons.md, "Your own
//! lesson"): a file is checked with every problem named by step and field,
//! and a run saved as a lesson (`lesson_from_session`) reads back and
//! replays the run's actions at the run's times.

use std::path::PathBuf;

use raftlab_core::lesson::{
    check_lesson, lesson_from_session, lesson_json, parse_index, parse_lesson, run_lesson, Lesson,
    LessonRun, StepStatus,
};
use raftlab_core::session::Session;
use raftlab_core::sim::{actions_of, Action, Sim, SimConfig, TimedAction};
use raftlab_core::KvOp;

fn lessons_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../static/lessons")
}

fn shipped() -> Vec<Lesson> {
    let read = |f: &str| std::fs::read_to_string(lessons_dir().join(f)).unwrap();
    parse_index(&read("index.json"))
        .unwrap()
        .iter()
        .map(|e| parse_lesson(&read(&e.file)).unwrap_or_else(|err| panic!("{}: {err}", e.file)))
        .collect()
}

/// A lesson whose three steps each have their own problems.
const BROKEN: &str = r#"{
  "id": "broken",
  "title": "A lesson with mistakes",
  "setup": {"seed": 1, "nodes": 3},
  "steps": [
    {"narration": "One.", "actions": [{"kind": "crash", "node": 12}], "wait_for": {"kind": "time", "after_ms": 10}},
    {"narration": "Two.", "wait_for": {"kind": "time", "after_ms": 10},
     "question": {"prompt": "Which?", "choices": ["a", "b"], "answer": 5, "feedback": ["x", "y"],
                  "verify": {"kind": "comitted", "index": 1}}},
    {"narration": "Three.", "wait_for": {"kind": "leadr"}, "highlight": {"messages": ["vote"]}}
  ]
}"#;

#[test]
fn every_problem_of_every_step_is_named_by_step_and_field() {
    let problems = check_lesson(BROKEN).unwrap_err();
    assert_eq!(problems.len(), 5, "{problems:#?}");
    assert_eq!(
        problems[0],
        "lesson \"broken\", step 1, actions[0]: node ids run from 1 to 9, not 12"
    );
    assert!(
        problems[1].starts_with(
            "lesson \"broken\", step 2, question.verify: in \"kind\": \"comitted\" is not one of"
        ),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].starts_with("lesson \"broken\", step 2, question.answer: 5 is not a choice"),
        "{}",
        problems[2]
    );
    assert!(
        problems[3].starts_with(
            "lesson \"broken\", step 3, wait_for: in \"kind\": \"leadr\" is not one of leader, became"
        ),
        "{}",
        problems[3]
    );
    assert!(
        problems[4].starts_with(
            "lesson \"broken\", step 3, highlight.messages: unknown message kind \"vote\""
        ),
        "{}",
        problems[4]
    );
    // The one-error reader gives the first of them.
    assert_eq!(parse_lesson(BROKEN).unwrap_err(), problems[0]);
}

#[test]
fn problems_of_the_lesson_itself_are_listed_with_its_steps() {
    let text = BROKEN
        .replace("\"id\": \"broken\"", "\"id\": \"Broken Lesson\"")
        .replace("\"nodes\": 3", "\"nodes\": 12");
    let problems = check_lesson(&text).unwrap_err();
    assert!(
        problems[0].ends_with("setup.nodes: a cluster has 1 to 9 nodes, not 12"),
        "{problems:#?}"
    );
    assert!(
        problems[1].ends_with("id: use lowercase letters, digits and dashes only"),
        "{problems:#?}"
    );
    assert_eq!(problems.len(), 7, "{problems:#?}");
}

#[test]
fn a_file_that_is_not_json_is_one_problem_in_words() {
    assert_eq!(
        check_lesson("{\"id\": ").unwrap_err(),
        vec!["this is not a raftlab lesson: it stops at line 1 before its JSON is complete"]
    );
}

#[test]
fn every_shipped_lesson_is_written_back_to_a_file_that_reads_the_same() {
    for lesson in shipped() {
        let text = lesson_json(&lesson);
        assert_eq!(
            parse_lesson(&text).as_ref(),
            Ok(&lesson),
            "{}:\n{text}",
            lesson.id
        );
    }
}

/// A run a student might make: the leader crashed and restarted, a
/// partition healed, client writes, a transfer, two actions in one ms.
fn a_students_run(seed: u64) -> Session {
    let mut sim = Sim::new(seed, 5, SimConfig::default()).unwrap();
    sim.run_until(1_500);
    let leader = sim.leader().expect("a leader by 1.5 s");
    sim.act(Action::Crash { node: leader }).unwrap();
    sim.run_until(3_200);
    sim.act(Action::Restart { node: leader }).unwrap();
    sim.act(Action::Client {
        client: 1,
        op: KvOp::Put,
        key: "x".into(),
        value: Some("1".into()),
    })
    .unwrap();
    sim.run_until(4_000);
    sim.act(Action::Partition {
        groups: vec![vec![1, 2], vec![3, 4, 5]],
    })
    .unwrap();
    sim.run_until(6_500);
    sim.act(Action::Heal).unwrap();
    sim.run_until(9_000);
    if let Some(l) = sim.leader() {
        let to = if l == 5 { 4 } else { 5 };
        let _ = sim.act(Action::Transfer { to });
    }
    sim.run_until(11_000);
    Session::from_sim(&sim)
}

/// The actions a lesson's native run performed, with their times.
fn lesson_actions(lesson: &Lesson) -> (Vec<TimedAction>, Sim) {
    let (_, sim) = run_lesson(lesson, 1_000_000).unwrap_or_else(|e| panic!("{e}"));
    (actions_of(sim.events()), sim)
}

#[test]
fn a_saved_run_replays_as_a_lesson_with_the_same_actions_at_the_same_times() {
    for seed in 1..=4 {
        let session = a_students_run(seed);
        let lesson = lesson_from_session(&session).unwrap();
        let text = lesson_json(&lesson);
        let read = parse_lesson(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        assert_eq!(read, lesson);
        let wanted = actions_of(session.replay().unwrap().events());
        assert!(wanted.len() >= 5, "seed {seed}: {wanted:?}");
        // An opening step watches the election, then one step per action.
        assert_eq!(read.steps.len(), wanted.len() + 1);
        let (got, sim) = lesson_actions(&read);
        assert_eq!(got, wanted, "seed {seed}");
        // The run itself is the same, event for event, up to the save.
        let saved = session.replay().unwrap();
        let upto = saved.events().len();
        assert_eq!(
            &sim.events()[..upto],
            saved.events(),
            "seed {seed}: the lesson's run differs from the session's"
        );
        assert!(sim.now() >= session.until);
    }
}

#[test]
fn each_step_says_what_to_describe_after_its_action() {
    let lesson = lesson_from_session(&a_students_run(1)).unwrap();
    assert!(lesson.steps[0].actions.is_empty());
    assert!(lesson.steps[0]
        .narration
        .starts_with("Describe what the cluster does on its own"));
    let crash = &lesson.steps[1];
    assert!(matches!(crash.actions[0].action, Action::Crash { .. }));
    assert!(
        crash
            .narration
            .starts_with("Describe what happens after this step's action: crash S"),
        "{}",
        crash.narration
    );
    // Restart and the write ran in one ms: the write's step waits no time.
    assert_eq!(
        lesson.steps[2].wait_for,
        raftlab_core::lesson::Condition::Time { after_ms: 0 }
    );
}

#[test]
fn a_run_saved_right_at_its_last_action_watches_a_little_after_it() {
    let mut sim = Sim::new(2, 3, SimConfig::default()).unwrap();
    sim.run_until(0);
    sim.act(Action::Timeout { node: 2 }).unwrap();
    let session = Session::from_sim(&sim);
    assert_eq!(session.until, 0);
    let lesson = lesson_from_session(&session).unwrap();
    // The action at 0 ms needs no opening step.
    assert_eq!(lesson.steps.len(), 1);
    assert_eq!(
        lesson.steps[0].wait_for,
        raftlab_core::lesson::Condition::Time {
            after_ms: raftlab_core::lesson::SAVED_TAIL_MS
        }
    );
    let (got, _) = lesson_actions(&lesson);
    assert_eq!(got, actions_of(session.replay().unwrap().events()));
}

#[test]
fn a_saved_break_it_run_declares_the_rules_it_breaks_where_they_break() {
    let broken = shipped()
        .into_iter()
        .find(|l| !l.setup.config.bugs.is_empty())
        .expect("a break-it lesson");
    let (_, sim) = run_lesson(&broken, 1_000_000).unwrap();
    assert!(!sim.violations().is_empty());
    let session = Session::from_sim(&sim);
    let lesson = parse_lesson(&lesson_json(&lesson_from_session(&session).unwrap())).unwrap();
    // Taken step by step, every violation is one its step expects.
    let (mut run, mut sim) = LessonRun::new(lesson.clone()).unwrap();
    let mut seen = 0;
    loop {
        let began = sim.position();
        let bound = sim.now() + run.current_step().map_or(0, |s| s.max_ms);
        match run.drive(&mut sim, bound) {
            StepStatus::Done => {}
            StepStatus::Finished => break,
            other => panic!("{other:?}"),
        }
        for v in sim.violations().iter().filter(|v| v.seq > began) {
            assert!(run.expects_violation(v.rule), "{v:?} not expected");
            seen += 1;
        }
        run.advance(&mut sim);
    }
    assert!(seen > 0);
    assert_eq!(
        actions_of(sim.events()),
        actions_of(session.replay().unwrap().events())
    );
}

#[test]
fn a_slow_run_plays_faster_so_no_wait_outlasts_a_few_seconds() {
    for gap in [1_500, 5_000] {
        let mut sim = Sim::new(1, 3, SimConfig::default()).unwrap();
        sim.run_until(gap);
        sim.act(Action::Heal).unwrap();
        sim.run_until(gap + 100);
        let lesson = lesson_from_session(&Session::from_sim(&sim)).unwrap();
        assert!(lesson.speed > raftlab_core::lesson::DEFAULT_LESSON_SPEED);
        for s in &lesson.steps {
            let raftlab_core::lesson::Condition::Time { after_ms } = s.wait_for else {
                panic!("{:?}", s.wait_for)
            };
            let real = after_ms as f64 / lesson.speed;
            assert!(
                real <= raftlab_core::lesson::SAVED_LONGEST_WAIT_REAL_MS,
                "{after_ms} ms at {}",
                lesson.speed
            );
            assert!(s.max_ms > after_ms);
        }
    }
}

#[test]
fn a_long_run_is_read_as_it_runs_and_keeps_every_action() {
    // Nine servers for half a minute: far more events between the two
    // actions than the export's replay keeps at once.
    let mut sim = Sim::new(4, 9, SimConfig::default()).unwrap();
    sim.run_until(30_000);
    sim.act(Action::Crash { node: 9 }).unwrap();
    sim.run_until(31_000);
    sim.act(Action::Restart { node: 9 }).unwrap();
    sim.run_until(32_000);
    assert!(sim.position() > 20_000, "{} events", sim.position());
    let session = Session::from_sim(&sim);
    let lesson = lesson_from_session(&session).unwrap();
    assert_eq!(lesson.steps.len(), 3);
    let (got, _) = lesson_actions(&lesson);
    assert_eq!(got, actions_of(session.replay().unwrap().events()));
}
