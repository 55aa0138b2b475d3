//! Every lesson shipped in `static/lessons` runs to its end natively, its
//! questions' right answers are what the run shows, and the lesson engine
//! and breakpoints behave as `docs/lessons.md` documents.

use std::path::PathBuf;
use std::time::Instant;

use proptest::prelude::*;
use raftlab_core::lesson::{
    narration_paragraphs, parse_index, parse_lesson, run_lesson, run_to_end, Breakpoint,
    BreakpointWatch, Lesson, LessonRun, StepStatus,
};
use raftlab_core::sim::{Sim, SimConfig};
use raftlab_core::trace::{EventKind, TraceEvent};

fn lessons_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../static/lessons")
}

fn read(file: &str) -> String {
    std::fs::read_to_string(lessons_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn load(file: &str) -> Lesson {
    parse_lesson(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn index() -> Vec<raftlab_core::lesson::LessonIndexEntry> {
    parse_index(&read("index.json")).expect("index.json")
}

/// Generous bound on a whole lesson's simulated time.
const LESSON_MAX_MS: u64 = 120_000;

#[test]
fn every_lesson_in_the_index_runs_to_its_end() {
    let entries = index();
    assert!(entries.len() >= 10, "at least ten lessons");
    for e in &entries {
        let started = Instant::now();
        let lesson = load(&e.file);
        assert_eq!(lesson.id, e.id, "{}: id differs from the index", e.file);
        assert_eq!(
            lesson.title, e.title,
            "{}: title differs from the index",
            e.file
        );
        let (report, sim) =
            run_lesson(&lesson, LESSON_MAX_MS).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert_eq!(report.steps.len(), lesson.steps.len(), "{}", e.file);
        // Only the break-it lesson may break Raft's rules.
        if lesson.setup.config.bugs.is_empty() {
            assert!(
                sim.violations().is_empty(),
                "{}: {:?}",
                e.file,
                sim.violations().first()
            );
        } else {
            assert!(
                !report.violations.is_empty(),
                "{}: the bug went unnoticed",
                e.file
            );
        }
        eprintln!(
            "{}: {} steps, {} simulated ms, {} events, {:?}",
            e.file,
            report.steps.len(),
            report.end_ms,
            report.events,
            started.elapsed()
        );
    }
}

#[test]
fn every_lesson_file_is_listed_once_in_the_index() {
    let listed: Vec<String> = index().into_iter().map(|e| e.file).collect();
    let mut files: Vec<String> = std::fs::read_dir(lessons_dir())
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json") && f != "index.json")
        .collect();
    files.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, files, "index.json and the lesson files disagree");
    assert_eq!(
        listed, sorted,
        "index.json lists lessons in file-name order"
    );
}

#[test]
fn lessons_ask_questions_and_prove_their_answers() {
    let mut questions = 0;
    let mut verified = 0;
    for e in index() {
        let lesson = load(&e.file);
        let qs: Vec<_> = lesson
            .steps
            .iter()
            .filter_map(|s| s.question.as_ref())
            .collect();
        assert!(!qs.is_empty(), "{}: no question at all", e.file);
        questions += qs.len();
        verified += qs.iter().filter(|q| q.verify.is_some()).count();
        for s in &lesson.steps {
            assert!(!narration_paragraphs(&s.narration).is_empty());
        }
    }
    // run_to_end checks every verify condition; almost every question has one.
    assert!(
        verified * 10 >= questions * 9,
        "{verified} of {questions} questions verified"
    );
}

#[test]
fn figure8_broken_loses_a_committed_write_and_the_correct_core_does_not() {
    let (broken, sim_b) = run_lesson(&load("06-figure8-broken.json"), LESSON_MAX_MS).unwrap();
    assert!(broken
        .violations
        .iter()
        .any(|r| r == "leader_commits_current_term"));
    assert!(broken.violations.iter().any(|r| r == "leader_completeness"));
    let acked = |sim: &Sim| {
        sim.events().iter().any(|e| {
            matches!(&e.kind, EventKind::Client { client, phase, .. }
                if *client == 4 && *phase == raftlab_core::trace::ClientPhase::Ok)
        })
    };
    assert!(acked(&sim_b), "the broken leader acknowledged X");
    let (correct, sim_c) = run_lesson(&load("07-figure8-correct.json"), LESSON_MAX_MS).unwrap();
    assert!(correct.violations.is_empty());
    assert!(!acked(&sim_c), "the correct leader never acknowledged X");
    // The same script: both runs take the same actions at the same times.
    let kinds = |sim: &Sim| {
        sim.script()
            .iter()
            .map(|a| (a.time, serde_json::to_string(&a.action).unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(&sim_b), kinds(&sim_c));
}

#[test]
fn prevote_keeps_the_isolated_servers_term_and_the_leader() {
    let max_term = |sim: &Sim| {
        sim.nodes()
            .keys()
            .filter_map(|&id| sim.server(id))
            .map(|s| s.current_term())
            .max()
            .unwrap()
    };
    let (_, off) = run_lesson(&load("08-prevote-off.json"), LESSON_MAX_MS).unwrap();
    let (_, on) = run_lesson(&load("09-prevote-on.json"), LESSON_MAX_MS).unwrap();
    assert!(max_term(&off) >= 8, "without PreVote the term climbs");
    assert_eq!(max_term(&on), 1, "with PreVote nobody's term moves");
    assert_eq!(on.leader(), Some(2));
}

#[test]
fn a_lesson_plays_the_same_way_twice() {
    let lesson = load("05-partition.json");
    let (_, a) = run_lesson(&lesson, LESSON_MAX_MS).unwrap();
    let (_, b) = run_lesson(&lesson, LESSON_MAX_MS).unwrap();
    assert_eq!(a.trace_jsonl(), b.trace_jsonl());
}

// ----- the engine -----

fn tiny(steps: &str) -> String {
    format!(
        r#"{{"id":"tiny","title":"Tiny","summary":"s","setup":{{"seed":3,"nodes":3}},"steps":{steps}}}"#
    )
}

#[test]
fn progress_answers_and_stepping_by_hand() {
    let text = tiny(
        r#"[
        {"narration":"one","wait_for":{"kind":"leader"},
         "question":{"prompt":"p","choices":["a","b"],"answer":1,"feedback":["no","yes"]}},
        {"narration":"two","wait_for":{"kind":"time","after_ms":100}}
    ]"#,
    );
    let lesson = parse_lesson(&text).unwrap();
    let (mut run, mut sim) = LessonRun::new(lesson).unwrap();
    assert_eq!(run.progress(), (1, 2));
    assert!(run.needs_answer());
    assert_eq!(run.poll(&sim), StepStatus::Waiting);
    // Not done yet: advance does nothing.
    assert_eq!(run.advance(&mut sim), StepStatus::Waiting);
    assert_eq!(run.progress(), (1, 2));
    let fb = run.answer(0).unwrap();
    assert!(!fb.correct);
    assert_eq!((fb.text.as_str(), fb.right), ("no", 1));
    assert!(run.answer(1).unwrap().correct);
    assert!(run.answer(7).is_none());
    assert!(!run.needs_answer());
    assert_eq!(run.answer_of(0), Some(1));
    assert_eq!(run.waiting_for(), "a node becomes leader");
    assert_eq!(run.drive(&mut sim, 5000), StepStatus::Done);
    assert!(sim.leader().is_some());
    assert_eq!(run.advance(&mut sim), StepStatus::Waiting);
    assert_eq!(run.progress(), (2, 2));
    assert!(run.answer(0).is_none(), "step 2 has no question");
    let began = run.step_began_at();
    assert_eq!(run.drive(&mut sim, 10_000), StepStatus::Done);
    assert_eq!(
        sim.now(),
        began + 100,
        "the step stops in the millisecond it completes"
    );
    assert_eq!(run.advance(&mut sim), StepStatus::Finished);
    assert_eq!(run.progress(), (2, 2));
    assert!(run.current_step().is_none());
}

#[test]
fn polling_while_the_page_runs_the_sim_its_own_way_works_too() {
    let text = tiny(r#"[{"narration":"x","wait_for":{"kind":"committed","index":1,"on":"all"}}]"#);
    let (mut run, mut sim) = LessonRun::new(parse_lesson(&text).unwrap()).unwrap();
    let mut status = StepStatus::Waiting;
    while status == StepStatus::Waiting && sim.now() < 5000 {
        sim.run_until(sim.now() + 16);
        status = run.poll(&sim);
    }
    assert_eq!(status, StepStatus::Done);
    // Stepping back in time and forward again is harmless.
    let here = sim.step_count();
    sim.goto_step(here / 2);
    let _ = run.poll(&sim);
    sim.goto_step(here);
    assert_eq!(run.poll(&sim), StepStatus::Done);
}

#[test]
fn a_refused_action_fails_the_step_with_the_simulators_reason() {
    let text = tiny(
        r#"[{"narration":"x","actions":[{"kind":"restart","node":2}],"wait_for":{"kind":"leader"}}]"#,
    );
    let err = run_to_end(&parse_lesson(&text).unwrap(), 10_000).unwrap_err();
    assert!(err.contains("lesson \"tiny\", step 1, actions[0]"), "{err}");
    assert!(err.contains("S2 is not crashed"), "{err}");
    // Delayed: an add_learner before any leader exists.
    let text = tiny(
        r#"[{"narration":"x","actions":[{"kind":"add_learner","node":4,"after_ms":5}],"wait_for":{"kind":"time","after_ms":50}}]"#,
    );
    let err = run_to_end(&parse_lesson(&text).unwrap(), 10_000).unwrap_err();
    assert!(
        err.contains("step 1, actions[0]") && err.contains("refused"),
        "{err}"
    );
}

#[test]
fn a_step_that_never_completes_is_named() {
    let text = tiny(
        r#"[{"narration":"x","wait_for":{"kind":"leader"}},
            {"title":"Hopeless","narration":"y","max_ms":500,"wait_for":{"kind":"term","at_least":99}}]"#,
    );
    let err = run_to_end(&parse_lesson(&text).unwrap(), 60_000).unwrap_err();
    assert!(err.contains("step 2 (\"Hopeless\")"), "{err}");
    assert!(err.contains("not complete after 500 ms"), "{err}");
    assert!(err.contains("some node reaches term 99"), "{err}");
    // The whole-run bound also names the step.
    let err = run_to_end(
        &parse_lesson(&tiny(
            r#"[{"narration":"x","wait_for":{"kind":"term","at_least":99}}]"#,
        ))
        .unwrap(),
        300,
    )
    .unwrap_err();
    assert!(err.contains("step 1") && err.contains("300 ms"), "{err}");
}

#[test]
fn a_wrong_answer_in_a_lesson_file_is_caught() {
    let text = tiny(
        r#"[{"narration":"x","wait_for":{"kind":"leader"},
             "question":{"prompt":"Will S1 win?","choices":["yes","no"],"answer":0,"feedback":["a","b"],
                         "verify":{"kind":"leader","node":9}}}]"#,
    );
    let err = run_to_end(&parse_lesson(&text).unwrap(), 10_000).unwrap_err();
    assert!(err.contains("question") && err.contains("\"yes\""), "{err}");
}

#[test]
fn conditions_combine() {
    let text = tiny(
        r#"[{"narration":"x","wait_for":{"kind":"all","of":[
              {"kind":"any","of":[{"kind":"term","at_least":50},{"kind":"leader"}]},
              {"kind":"not","of":{"kind":"violation"}},
              {"kind":"converged"},
              {"kind":"sent","msg":"append_entries","at_least":3},
              {"kind":"config","voters":[1,2,3],"learners":[]}
            ]}}]"#,
    );
    run_to_end(&parse_lesson(&text).unwrap(), 10_000).unwrap();
}

fn parse_err(text: &str) -> String {
    parse_lesson(text).expect_err("should be refused")
}

#[test]
fn malformed_lessons_get_errors_naming_lesson_step_and_field() {
    let cases: &[(&str, &[&str])] = &[
        ("not json", &["not valid JSON"]),
        (r#"{"id":"a"}"#, &["lesson \"a\"", "title"]),
        (r#"[1,2]"#, &["lesson (no id)"]),
        (&tiny("[]"), &["steps", "1 to 200 steps"]),
        (
            &tiny(r#"[{"narration":"x","wiat_for":{}}]"#),
            &["step 1", "wiat_for"],
        ),
        (
            &tiny(r#"[{"narration":"x","wait_for":{"kind":"leadr"}}]"#),
            &["step 1, wait_for", "leadr"],
        ),
        (
            &tiny(r#"[{"narration":"x","wait_for":{"kind":"leader","nod":1}}]"#),
            &["wait_for", "nod"],
        ),
        (
            &tiny(
                r#"[{"narration":"x","wait_for":{"kind":"leader"}},{"narration":"y","actions":[{"kind":"crsh","node":1}],"wait_for":{"kind":"leader"}}]"#,
            ),
            &["step 2, actions[0]", "crsh"],
        ),
        (
            &tiny(
                r#"[{"narration":"x","actions":[{"kind":"crash","node":1,"after_ms":-3}],"wait_for":{"kind":"leader"}}]"#,
            ),
            &["actions[0]", "after_ms"],
        ),
        (
            &tiny(
                r#"[{"narration":"x","actions":[{"kind":"crash","node":12}],"wait_for":{"kind":"leader"}}]"#,
            ),
            &["actions[0]", "1 to 9"],
        ),
        (
            &tiny(r#"[{"narration":"x","actions":[7],"wait_for":{"kind":"leader"}}]"#),
            &["actions[0]"],
        ),
        (
            &tiny(r#"[{"narration":" ","wait_for":{"kind":"leader"}}]"#),
            &["narration"],
        ),
        (
            &tiny(
                r#"[{"narration":"x","wait_for":{"kind":"leader"},"question":{"prompt":"p","choices":["a","b"],"answer":2,"feedback":["1","2"]}}]"#,
            ),
            &["question.answer", "0 to 1"],
        ),
        (
            &tiny(
                r#"[{"narration":"x","wait_for":{"kind":"leader"},"question":{"prompt":"p","choices":["a","b"],"answer":0,"feedback":["1"]}}]"#,
            ),
            &["question.feedback", "one feedback per choice"],
        ),
        (
            &tiny(
                r#"[{"narration":"x","wait_for":{"kind":"leader"},"question":{"prompt":"p","choices":["a"],"answer":0,"feedback":["1"]}}]"#,
            ),
            &["question.choices"],
        ),
        (
            &tiny(r#"[{"narration":"x","wait_for":{"kind":"violation","rule":"nope"}}]"#),
            &["wait_for", "unknown rule \"nope\""],
        ),
        (
            &tiny(r#"[{"narration":"x","wait_for":{"kind":"all","of":[]}}]"#),
            &["wait_for", "at least one condition"],
        ),
        (
            &tiny(r#"[{"narration":"x","wait_for":{"kind":"sent","msg":"hello"}}]"#),
            &["unknown message kind"],
        ),
        (
            &tiny(
                r#"[{"narration":"x","wait_for":{"kind":"leader"},"highlight":{"messages":["hi"]}}]"#,
            ),
            &["highlight.messages"],
        ),
        (
            &tiny(r#"[{"narration":"x","wait_for":{"kind":"leader"},"highlight":{"nodez":[1]}}]"#),
            &["highlight", "nodez"],
        ),
        (
            &tiny(r#"[{"narration":"x","max_ms":0,"wait_for":{"kind":"leader"}}]"#),
            &["max_ms"],
        ),
        (
            r#"{"id":"b","title":"t","setup":{"seed":1,"nodes":0},"steps":[]}"#,
            &["lesson \"b\"", "setup.nodes"],
        ),
        (
            r#"{"id":"c","title":"t","setup":{"seed":1,"nodes":3,"config":{"prevte":false}},"steps":[]}"#,
            &["setup.config", "prevte", "known settings"],
        ),
        (
            r#"{"id":"d","title":"t","setup":{"seed":1,"nodes":3,"config":{"bugs":["nope"]}},"steps":[]}"#,
            &["setup.config", "nope"],
        ),
        (
            r#"{"id":"e","title":"t","setup":{"seed":1,"nodes":3,"config":{"heartbeat_ms":500}},"steps":[]}"#,
            &["setup.config", "heartbeat"],
        ),
        (
            r#"{"id":"Bad Id","title":"t","setup":{"seed":1,"nodes":3},"steps":[{"narration":"x","wait_for":{"kind":"leader"}}]}"#,
            &["id", "lowercase"],
        ),
    ];
    for (text, wants) in cases {
        let err = parse_err(text);
        for w in *wants {
            assert!(
                err.contains(w),
                "error {err:?} should mention {w:?} (input {text})"
            );
        }
    }
}

#[test]
fn the_index_is_checked() {
    assert!(parse_index("{}").is_err());
    assert!(parse_index(r#"{"lessons":[{"id":"a","file":"../x.json","title":"t"}]}"#).is_err());
    assert!(parse_index(r#"{"lessons":[{"id":"a","file":"a.json","title":"t"},{"id":"a","file":"b.json","title":"t"}]}"#).is_err());
}

#[test]
fn narration_becomes_paragraphs_of_spans() {
    let p = narration_paragraphs(
        "A **bold** move and `code`.\nSame paragraph.\n\n\nSecond ** unmatched",
    );
    assert_eq!(p.len(), 2);
    let texts: Vec<(&str, bool, bool)> = p[0]
        .iter()
        .map(|s| (s.text.as_str(), s.bold, s.code))
        .collect();
    assert_eq!(
        texts,
        vec![
            ("A ", false, false),
            ("bold", true, false),
            (" move and ", false, false),
            ("code", false, true),
            (". Same paragraph.", false, false)
        ]
    );
    assert_eq!(p[1].len(), 1);
    assert_eq!(p[1][0].text, "Second ** unmatched");
    assert!(narration_paragraphs("").is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics_the_lesson_reader(s in ".{0,300}") {
        let _ = parse_lesson(&s);
        let _ = parse_index(&s);
        let _ = narration_paragraphs(&s);
    }

    #[test]
    fn damaged_lesson_files_never_panic(cut in 0usize..4000, byte in any::<u8>(), at in 0usize..4000) {
        let text = read("10-membership.json");
        let mut bytes = text.into_bytes();
        let cut = cut.min(bytes.len());
        bytes.truncate(cut.max(1));
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = parse_lesson(&String::from_utf8_lossy(&bytes));
    }
}

// ----- breakpoints -----

fn first_hit<'a>(sim: &'a Sim, bp: &Breakpoint) -> Option<&'a TraceEvent> {
    sim.events().iter().find(|e| bp.hit(e))
}

#[test]
fn breakpoints_fire_on_the_events_they_name() {
    let mut sim = Sim::new(3, 5, SimConfig::default()).unwrap();
    sim.run_until(1000);
    let leader = sim.leader().unwrap();
    let e = first_hit(&sim, &Breakpoint::Leader { node: None }).unwrap();
    assert!(matches!(e.kind, EventKind::Role { node, .. } if node == leader));
    assert!(first_hit(
        &sim,
        &Breakpoint::Leader {
            node: Some(leader % 5 + 1)
        }
    )
    .is_none());
    let c = first_hit(&sim, &Breakpoint::Candidate { node: None }).unwrap();
    assert!(c.seq < e.seq, "a candidate comes before the leader");
    let commit = first_hit(
        &sim,
        &Breakpoint::Commit {
            index: Some(1),
            node: Some(leader),
        },
    )
    .unwrap();
    assert!(matches!(commit.kind, EventKind::Commit { node, index: 1, .. } if node == leader));
    assert!(first_hit(
        &sim,
        &Breakpoint::Commit {
            index: Some(2),
            node: None
        }
    )
    .is_none());
    assert!(first_hit(
        &sim,
        &Breakpoint::Snapshot {
            node: None,
            source: None
        }
    )
    .is_none());
    assert!(first_hit(
        &sim,
        &Breakpoint::Term {
            node: None,
            above: 0
        }
    )
    .is_some());
    assert!(first_hit(
        &sim,
        &Breakpoint::Term {
            node: None,
            above: 1
        }
    )
    .is_none());
    // Violations never fire from the event alone.
    assert!(first_hit(&sim, &Breakpoint::Violation { rule: None }).is_none());
    // Breakpoints are data too.
    let bp: Breakpoint = serde_json::from_str(r#"{"kind":"commit","index":3}"#).unwrap();
    assert_eq!(
        bp,
        Breakpoint::Commit {
            index: Some(3),
            node: None
        }
    );
    assert_eq!(bp.describe(), "a node commits index 3");
}

#[test]
fn a_watch_pauses_at_each_hit_in_turn() {
    let mut sim = Sim::new(3, 5, SimConfig::default()).unwrap();
    let mut watch = BreakpointWatch::new(
        vec![
            Breakpoint::Term {
                node: Some(1),
                above: 0,
            },
            Breakpoint::Leader { node: None },
        ],
        &sim,
    );
    sim.run_until(1000);
    // S1's term changes from 0 to 1 once: one term hit for it, then the leader.
    let first = watch.scan(&sim).unwrap();
    let second = watch.scan(&sim).unwrap();
    let mut hits = vec![first, second];
    while let Some(h) = watch.scan(&sim) {
        hits.push(h);
    }
    let term_hits = hits.iter().filter(|h| h.index == 0).count();
    let leader_hits = hits.iter().filter(|h| h.index == 1).count();
    assert_eq!((term_hits, leader_hits), (1, 1), "{hits:?}");
    assert!(hits.windows(2).all(|w| w[0].seq < w[1].seq));
    // The page pauses exactly at a hit.
    sim.goto_event(hits[0].seq);
    assert!(sim.position() >= hits[0].seq);
    watch.reset(&sim);
    assert!(watch.scan(&sim).is_none());
}

#[test]
fn a_watch_pauses_at_a_violation() {
    let lesson = load("06-figure8-broken.json");
    let (_, sim) = run_lesson(&lesson, LESSON_MAX_MS).unwrap();
    let first = sim.violations()[0].clone();
    let mut fresh = Sim::new(
        lesson.setup.seed,
        lesson.setup.nodes,
        lesson.setup.config.clone(),
    )
    .unwrap();
    let mut watch = BreakpointWatch::new(
        vec![Breakpoint::Violation {
            rule: Some("leader_commits_current_term".into()),
        }],
        &fresh,
    );
    for a in sim.script() {
        fresh.schedule(a.time, a.action.clone());
    }
    fresh.run_until(sim.now());
    let hit = watch.scan(&fresh).expect("the violation is hit");
    assert_eq!(hit.seq, first.seq);
    assert!(Breakpoint::Violation { rule: None }.hit_violation(&first));
    assert!(!Breakpoint::Violation {
        rule: Some("log_matching".into())
    }
    .hit_violation(&first));
}

/// Developer aid: `LESSON=05-partition.json cargo test -p raftlab-core
/// --test lessons explore -- --ignored --nocapture` prints the run's key
/// events, to write narration that matches what happens.
#[test]
#[ignore]
fn explore() {
    let file = std::env::var("LESSON").unwrap_or_else(|_| "01-leader-election.json".into());
    let lesson = load(&file);
    let (mut run, mut sim) = LessonRun::new(lesson.clone()).unwrap();
    let mut status = run.poll(&sim);
    let mut printed = 0;
    loop {
        let k = run.step_index();
        if let Some(step) = run.current_step() {
            let bound = run.step_began_at() + step.max_ms;
            if status == StepStatus::Waiting {
                status = run.drive(&mut sim, bound);
            }
        }
        for e in &sim.events()[printed..] {
            let show = match &e.kind {
                EventKind::Role { .. } => true,
                EventKind::Send { .. } | EventKind::Deliver { .. } | EventKind::Vote { .. } => {
                    std::env::var("ALL").is_ok()
                }
                EventKind::Apply { .. } => false,
                _ => true,
            };
            if show {
                println!("  {}", e.to_line().chars().take(220).collect::<String>());
            }
        }
        printed = sim.events().len();
        println!("== step {} -> {:?} at {} ms", k + 1, status, sim.now());
        for v in sim.violations().iter().take(3) {
            println!("   violation {} at {}: {}", v.rule, v.seq, v.message);
        }
        match status {
            StepStatus::Done => {
                println!("   verified: {:?}", run.question_verified(&sim));
                status = run.advance(&mut sim);
            }
            _ => break,
        }
    }
}

/// Developer aid: which seeds make `LESSON` run to its end.
#[test]
#[ignore]
fn seed_scan() {
    let file = std::env::var("LESSON").unwrap_or_else(|_| "01-leader-election.json".into());
    let mut lesson = load(&file);
    for seed in 1..60 {
        lesson.setup.seed = seed;
        match run_to_end(&lesson, 120_000) {
            Ok(r) => println!("seed {seed}: ok, ends at {} ms", r.end_ms),
            Err(e) => println!("seed {seed}: {}", e.chars().take(160).collect::<String>()),
        }
    }
}

// ----- the flow: only answers and Next, at the lesson's speed -----

/// Wall-clock ms between the page's animation frames (60 per second).
const FRAME_MS: f64 = 16.0;
/// The longest a student may wait at one step, wall-clock ms.
const LONGEST_WAIT_MS: f64 = 10_000.0;

/// What taking a lesson with only answers and Next showed.
#[derive(Debug)]
struct Taken {
    /// Wall-clock ms each step ran before it completed.
    waits: Vec<f64>,
    /// The expected violations that the clock went on through: (step, rule).
    went_through: Vec<(usize, &'static str)>,
}

/// Takes `lesson` to its end the way the page does when the student only
/// answers questions and presses Next: the clock runs whenever the step
/// waits for the simulation (`wants_clock`, after the start, an answer and
/// Next), each animation frame advances it by `FRAME_MS` times the lesson's
/// speed through `drive` (as `Lab::advance` does), a step that completes
/// stops it, and a violation the step does not expect stops it too. A
/// step left waiting with the clock stopped is where a student would be
/// stuck without Play or Skip: an error naming it.
fn take_with_answers_and_next(lesson: &Lesson) -> Result<Taken, String> {
    let (mut run, mut sim) = LessonRun::new(lesson.clone())?;
    let mut playing = run.wants_clock(&sim);
    let mut vt = sim.now() as f64;
    let mut seen = 0;
    let mut taken = Taken {
        waits: vec![0.0; lesson.steps.len()],
        went_through: Vec::new(),
    };
    // Far more frames than any lesson needs: 10 minutes of wall time.
    for _ in 0..40_000 {
        for v in sim.violations().get(seen..).unwrap_or(&[]) {
            if run.expects_violation(v.rule) {
                taken.went_through.push((run.step_index() + 1, v.rule));
            } else {
                playing = false;
            }
        }
        seen = sim.violations().len();
        let at = run.step_index();
        match run.poll(&sim) {
            StepStatus::Finished => return Ok(taken),
            StepStatus::Failed(why) => return Err(why),
            StepStatus::Done => {
                // Next.
                run.advance(&mut sim);
                vt = vt.max(sim.now() as f64);
                playing = run.wants_clock(&sim);
            }
            StepStatus::Waiting if run.needs_answer() => {
                let q = run.current_step().and_then(|s| s.question.clone());
                run.answer(q.map_or(0, |q| q.answer));
                playing = run.wants_clock(&sim);
            }
            StepStatus::Waiting if !playing => {
                let last = sim.violations().last().map(|v| v.rule).unwrap_or("none");
                return Err(format!(
                    "{}: step {} waits for \"{}\" with the clock stopped (latest violation: {last}); only Play or Skip would go on",
                    lesson.id,
                    at + 1,
                    run.waiting_for()
                ));
            }
            StepStatus::Waiting => {
                let target = vt + FRAME_MS * lesson.speed;
                let status = run.drive(&mut sim, target.floor() as u64);
                vt = if status == StepStatus::Waiting {
                    target
                } else {
                    sim.now() as f64
                };
                taken.waits[at] += FRAME_MS;
            }
        }
    }
    Err(format!("{}: not finished after 10 minutes", lesson.id))
}

#[test]
fn every_lesson_reaches_its_end_with_only_answers_and_next() {
    for e in index() {
        let lesson = load(&e.file);
        let taken = take_with_answers_and_next(&lesson).unwrap_or_else(|err| panic!("{err}"));
        for (i, wait) in taken.waits.iter().enumerate() {
            assert!(
                *wait <= LONGEST_WAIT_MS,
                "{}: step {} ran {wait} ms of wall time",
                e.file,
                i + 1
            );
        }
        // The same run as the native one: playing it frame by frame
        // changes nothing that the lesson shows.
        let report = run_to_end(&lesson, LESSON_MAX_MS).unwrap();
        assert_eq!(taken.waits.len(), report.steps.len(), "{}", e.file);
        if lesson.setup.config.bugs.is_empty() {
            assert!(taken.went_through.is_empty(), "{}", e.file);
        }
    }
}

#[test]
fn every_step_waits_at_most_ten_seconds_at_its_lessons_speed() {
    for e in index() {
        let lesson = load(&e.file);
        let report = run_to_end(&lesson, LESSON_MAX_MS).unwrap();
        let longest = report
            .steps
            .iter()
            .map(|s| (s.completed_at_ms - s.began_at_ms) as f64 / lesson.speed)
            .fold(0.0, f64::max);
        assert!(
            longest <= LONGEST_WAIT_MS,
            "{}: a step waits {:.1} s at speed {}",
            e.file,
            longest / 1000.0,
            lesson.speed
        );
        // Every shipped lesson chooses its speed.
        assert!(
            read(&e.file).contains("\"speed\""),
            "{}: no speed set",
            e.file
        );
    }
}

#[test]
fn a_break_it_lesson_goes_on_through_the_violations_it_expects() {
    let lesson = load("06-figure8-broken.json");
    let taken = take_with_answers_and_next(&lesson).unwrap();
    let rules_in = |step: usize| -> Vec<&str> {
        taken
            .went_through
            .iter()
            .filter(|(s, _)| *s == step)
            .map(|(_, r)| *r)
            .collect()
    };
    assert_eq!(rules_in(5), ["leader_commits_current_term"]);
    assert_eq!(rules_in(6), ["leader_completeness"]);
    assert!(rules_in(7).contains(&"state_machine_safety"));
    // The panel explains what the step expected, found during the step.
    let (mut run, mut sim) = LessonRun::new(lesson.clone()).unwrap();
    while run.step_index() < 4 {
        if run.needs_answer() {
            run.answer(0);
        }
        let until = sim.now() + 1000;
        run.drive(&mut sim, until);
        run.advance(&mut sim);
    }
    assert!(run.expected_violations(&sim).is_empty());
    run.answer(0);
    let until = sim.now() + 1000;
    assert_eq!(run.drive(&mut sim, until), StepStatus::Done);
    let found = run.expected_violations(&sim);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, "leader_commits_current_term");
}

#[test]
fn an_undeclared_violation_still_stops_the_clock() {
    let mut lesson = load("06-figure8-broken.json");
    for s in &mut lesson.steps {
        s.expects_violations.clear();
    }
    let err = take_with_answers_and_next(&lesson).unwrap_err();
    assert!(
        err.contains("step 5") && err.contains("leader_commits_current_term"),
        "{err}"
    );
    // Declared in one step only, it stops the clock in the next.
    let mut lesson = load("06-figure8-broken.json");
    lesson.steps[6].expects_violations.clear();
    let err = take_with_answers_and_next(&lesson).unwrap_err();
    assert!(err.contains("step 7"), "{err}");
}

#[test]
fn a_lesson_chooses_its_speed_and_names_the_violations_it_expects() {
    let at = |speed: &str, expects: &str| {
        format!(
            r#"{{"id":"tiny","title":"Tiny","setup":{{"seed":3,"nodes":3}},{speed}"steps":[{{"narration":"x","wait_for":{{"kind":"leader"}}{expects}}}]}}"#
        )
    };
    let plain = parse_lesson(&at("", "")).unwrap();
    assert_eq!(plain.speed, raftlab_core::lesson::DEFAULT_LESSON_SPEED);
    assert!(plain.steps[0].expects_violations.is_empty());
    let set = parse_lesson(&at(
        r#""speed":0.25,"#,
        r#","expects_violations":["state_machine_safety"]"#,
    ))
    .unwrap();
    assert_eq!(set.speed, 0.25);
    assert_eq!(set.steps[0].expects_violations, ["state_machine_safety"]);
    for bad in ["0", "2", "-0.5"] {
        let err = parse_err(&at(&format!(r#""speed":{bad},"#), ""));
        assert!(err.contains("lesson \"tiny\", speed"), "{err}");
    }
    let err = parse_err(&at("", r#","expects_violations":["state_machine"]"#));
    assert!(
        err.contains("step 1, expects_violations") && err.contains("\"state_machine\""),
        "{err}"
    );
}
