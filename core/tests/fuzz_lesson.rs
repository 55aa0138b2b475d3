//! Fuzzing the lesson readers (issue 17): arbitrary text and mutations of
//! every shipped lesson and of the lesson index, fed to `parse_lesson` and
//! `parse_index`. Never a panic; every refusal reads as words.

mod fuzz_support;

use std::sync::OnceLock;

use fuzz_support::{assert_words, mutate, mutations, repo_file, CASES};
use proptest::prelude::*;
use raftlab_core::lesson::{parse_index, parse_lesson};

/// The index and every lesson it lists, as shipped.
fn shipped() -> &'static (String, Vec<String>) {
    static F: OnceLock<(String, Vec<String>)> = OnceLock::new();
    F.get_or_init(|| {
        let index = repo_file("static/lessons/index.json");
        let lessons = parse_index(&index)
            .expect("the shipped index reads")
            .iter()
            .map(|e| repo_file(&format!("static/lessons/{}", e.file)))
            .collect();
        (index, lessons)
    })
}

#[test]
fn every_shipped_lesson_reads() {
    let (_, lessons) = shipped();
    assert!(lessons.len() >= 10);
    for text in lessons {
        parse_lesson(text).expect("a shipped lesson reads");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, .. ProptestConfig::default() })]

    #[test]
    fn any_text_as_a_lesson_or_index_is_refused_in_words(text in "(.{0,80}\n?){0,4}") {
        if let Err(e) = parse_lesson(&text) {
            assert_words(&text, &e);
        }
        if let Err(e) = parse_index(&text) {
            assert_words(&text, &e);
        }
    }

    #[test]
    fn a_mutated_lesson_is_refused_in_words(which in any::<prop::sample::Index>(), m in mutations(3)) {
        let lessons = &shipped().1;
        let text = &lessons[which.index(lessons.len())];
        let bytes = mutate(text.as_bytes(), &m);
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = parse_lesson(&text) {
            assert_words(&format!("{m:?}"), &e);
        }
    }

    #[test]
    fn a_mutated_index_is_refused_in_words(m in mutations(3)) {
        let bytes = mutate(shipped().0.as_bytes(), &m);
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = parse_index(&text) {
            assert_words(&format!("{m:?}"), &e);
        }
    }
}

// ----- the words of a refusal -----

#[test]
fn a_file_that_is_not_a_lesson_says_so_in_words_with_its_line() {
    assert_eq!(
        parse_lesson("not json").unwrap_err(),
        "this is not a raftlab lesson: line 1 is not valid JSON"
    );
    assert_eq!(
        parse_lesson("{\n  \"id\": \"a\",\n").unwrap_err(),
        "this is not a raftlab lesson: it stops at line 3 before its JSON is complete"
    );
    assert_eq!(
        parse_lesson(r#"{"id":"a"}"#).unwrap_err(),
        "lesson \"a\": \"title\" is missing"
    );
    let e = parse_lesson(r#"{"id":"a","title":"t","setup":{"seed":"one","nodes":3},"steps":[]}"#)
        .unwrap_err();
    assert_eq!(
        e,
        "lesson \"a\": the text \"one\" where a whole number belongs"
    );
    let e = parse_lesson(
        r#"{"id":"a","title":"t","sumary":"s","setup":{"seed":1,"nodes":3},"steps":[]}"#,
    )
    .unwrap_err();
    assert!(e.starts_with("lesson \"a\": \"sumary\" is not a field raftlab reads here (it reads id, title, summary"), "{e}");
}

#[test]
fn an_index_that_cannot_be_read_says_so_in_words() {
    assert_eq!(
        parse_index("{\"lessons\": [\n").unwrap_err(),
        "lesson index: it stops at line 2 before its JSON is complete"
    );
    assert_eq!(
        parse_index("{\"lessons\": 3}").unwrap_err(),
        "lesson index: the number 3 where a list belongs (line 1)"
    );
}
