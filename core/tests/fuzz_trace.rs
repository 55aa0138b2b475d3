//! Fuzzing the trace readers (issue 17): arbitrary text and mutations of
//! real traces (the browser tests' chaos fixture and the format tests'
//! small trace) fed to `read_trace` and to the streaming `TraceParser`.
//! Never a panic; every refusal names its line and reads as words; a trace
//! that is accepted writes back to a trace that reads the same.

mod fuzz_support;

use std::sync::OnceLock;

use fuzz_support::{assert_words, mutate, mutations, repo_file, CASES};
use proptest::prelude::*;
use raftlab_core::trace::{read_trace, Trace, TraceParser};

/// Lines of the chaos fixture mutated per case: enough for every kind of
/// event near its start, few enough to keep a case cheap.
const FIXTURE_LINES: usize = 120;

fn fixtures() -> &'static [String; 2] {
    static F: OnceLock<[String; 2]> = OnceLock::new();
    F.get_or_init(|| {
        let chaos = repo_file("e2e/fixtures/chaos-seed3.jsonl");
        let head: Vec<&str> = chaos.lines().take(FIXTURE_LINES).collect();
        [
            head.join("\n") + "\n",
            repo_file("core/tests/data/valid_small.jsonl"),
        ]
    })
}

/// The trace written out again, as `raftlab run --trace` writes it.
fn written(t: &Trace) -> String {
    let mut out = t.header.to_line();
    for e in &t.events {
        out.push('\n');
        out.push_str(&e.to_line());
    }
    out.push('\n');
    out
}

/// Reads `text` both ways: whole and streamed line by line. They agree,
/// and an error names a line of the text and reads as words.
fn check(text: &str) {
    let whole = read_trace(text);
    let mut parser = TraceParser::new();
    let mut streamed = Ok(0usize);
    for line in text.lines() {
        match parser.push_line(line) {
            Ok(Some(_)) => streamed = streamed.map(|n| n + 1),
            Ok(None) => {}
            Err(e) => {
                streamed = Err(e);
                break;
            }
        }
    }
    match (&whole, &streamed) {
        (Ok(t), Ok(n)) => {
            assert_eq!(t.events.len(), *n);
            assert_eq!(read_trace(&written(t)).as_ref(), Ok(t));
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "both readers stop at the same place");
            let message = a.to_string();
            assert_words(text, &message);
            if a.line > 0 {
                assert!(
                    message.starts_with(&format!("line {}: ", a.line)),
                    "{message}"
                );
                assert!(a.line <= text.lines().count(), "{message}");
            }
        }
        // An empty text: the whole reader wants a header, the stream has
        // not been given one yet.
        (Err(a), Ok(0)) if text.lines().next().is_none() => assert_words(text, &a.to_string()),
        _ => panic!("the readers disagree on {text:?}: {whole:?} / {streamed:?}"),
    }
}

#[test]
fn the_fixtures_read_and_round_trip() {
    for f in fixtures() {
        let t = read_trace(f).expect("a good trace");
        assert!(!t.events.is_empty());
        check(f);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, .. ProptestConfig::default() })]

    #[test]
    fn any_text_as_a_trace_is_refused_in_words(text in "(.{0,80}\n?){0,4}") {
        check(&text);
    }

    #[test]
    fn any_text_after_a_good_header_is_refused_in_words(text in "(.{0,80}\n?){1,3}") {
        let header = fixtures()[1].lines().next().unwrap_or_default();
        check(&format!("{header}\n{text}"));
    }

    #[test]
    fn a_mutated_trace_is_refused_in_words_or_still_round_trips(
        which in 0usize..2,
        m in mutations(4),
    ) {
        let bytes = mutate(fixtures()[which].as_bytes(), &m);
        check(&String::from_utf8_lossy(&bytes));
    }
}

// ----- the words of a refusal -----

#[test]
fn a_line_that_is_not_json_is_named_with_its_line_in_words() {
    let e = read_trace("hello").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1: not valid JSON: it does not start as JSON"
    );
    let header = fixtures()[1].lines().next().unwrap_or_default();
    let e = read_trace(&format!("{header}\n{{\"seq\":1,\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2: not valid JSON: it stops before its JSON is complete"
    );
    let e = read_trace(&format!("{header}\n{{\"seq\":1}} x\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2: not valid JSON: it stops being JSON at character 11"
    );
    let e = read_trace(&format!("{header}\n[1]\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2: not valid JSON: an event is a JSON object, in braces"
    );
}

#[test]
fn a_header_of_the_wrong_kind_is_named_without_its_braces() {
    let e = read_trace(r#"{"type":"header","format":"raftlab-trace","version":{"major":2}}"#)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1: unsupported trace version an object; this reader knows major version 1"
    );
}
