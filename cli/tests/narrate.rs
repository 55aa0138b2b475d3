//! `raftlab run --narrate` and `raftlab replay --narrate`: the run told in
//! the page's words, one line per event with its time and seq, from the
//! core's narration (so the CLI and the page cannot tell a run differently).

use raftlab_core::trace::describe::{feed_line, Narrator};
use raftlab_core::trace::read_trace;

mod common;

use common::{code, out, raftlab, stdout, Scratch};

/// The story lines of an output: those that start with a time and a seq.
fn story(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.split_once("s #")
                .is_some_and(|(time, _)| time.parse::<f64>().is_ok())
        })
        .collect()
}

#[test]
fn run_narrate_tells_every_event_of_the_trace_it_writes() {
    let dir = Scratch::new("narrate", "run");
    let path = dir.path("run.jsonl");
    let o = raftlab(
        &[
            "run",
            "--seed",
            "4",
            "--nodes",
            "3",
            "--until",
            "2s",
            "--narrate",
            "--trace",
            path.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    let text = stdout(&o);
    let told = story(&text);
    let trace = read_trace(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(told.len(), trace.events.len(), "one line per event");
    let mut narrator = Narrator::new();
    for (line, e) in told.iter().zip(&trace.events) {
        let (_, words) = narrator.tell(e);
        assert_eq!(*line, feed_line(e, &words));
    }
    assert!(
        told.iter().any(|l| l.contains(" is leader in term ")),
        "an election is told:\n{text}"
    );
    // The summary still follows the story.
    assert!(text.contains("raftlab run: seed 4"), "{text}");
}

#[test]
fn replay_narrate_tells_the_trace_and_still_confirms_it() {
    let dir = Scratch::new("narrate", "replay");
    let path = dir.path("run.jsonl");
    let p = path.to_str().unwrap();
    let o = raftlab(
        &[
            "run",
            "--seed",
            "9",
            "--nodes",
            "3",
            "--until",
            "1500ms",
            "--narrate",
            "--trace",
            p,
        ],
        &dir.0,
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    let from_run = stdout(&o);

    let o = raftlab(&["replay", "--narrate", p], &dir.0);
    assert_eq!(code(&o), 0, "{}", out(&o));
    let from_replay = stdout(&o);
    assert_eq!(story(&from_replay), story(&from_run));
    assert!(!story(&from_replay).is_empty());
    assert!(from_replay.contains("identical"), "{from_replay}");
}

#[test]
fn replay_narrate_words_a_vote_as_the_page_does() {
    let dir = Scratch::new("narrate", "words");
    let path = dir.path("hand.jsonl");
    let trace = [
        r#"{"type":"header","format":"raftlab-trace","version":1,"seed":1,"nodes":[1,2,3],"config":{}}"#,
        r#"{"seq":1,"time":1234,"type":"vote","node":3,"candidate":1,"term":2,"prevote":false,"granted":true,"reason":"my log is no more up to date than yours (§5.4.1)"}"#,
        r#"{"seq":2,"time":1240,"type":"role","node":1,"role":"leader","term":2,"leader":1}"#,
        r#"{"seq":3,"time":1250,"type":"crash","node":2}"#,
    ]
    .join("\n")
        + "\n";
    std::fs::write(&path, trace).unwrap();
    let o = raftlab(&["replay", "--narrate", path.to_str().unwrap()], &dir.0);
    let text = stdout(&o);
    assert_eq!(
        story(&text),
        [
            "  1.234s #1     S3 granted S1 its vote for term 2: S3's log is no more up to date than yours (§5.4.1)",
            "  1.240s #2     S1 is leader in term 2",
            "  1.250s #3     S2 crashed: only its term, vote, log and snapshot survive on disk",
        ]
    );
    // A hand-made trace is not what the simulator would do: the story is
    // told all the same, and the replay still says so.
    assert_eq!(code(&o), 1, "{}", out(&o));
    assert!(text.contains("DIFFERENT"), "{text}");
}

#[test]
fn narrate_refuses_sharded_runs() {
    let dir = Scratch::new("narrate", "sharded");
    let o = raftlab(&["run", "--sharded", "--until", "1s", "--narrate"], &dir.0);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(out(&o).contains("--narrate"), "{}", out(&o));
}
