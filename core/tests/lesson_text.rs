//! The lessons' text uses only the markup the page renders (docs/lessons.md,
//! "Text and markup"): `**bold**` and `` `code` `` in narration, none at all
//! in titles, prompts, choices and feedback. Anything else would reach the
//! student as stray asterisks and backquotes. Citations say which work they
//! cite (docs/lessons.md, "Citations"), and time is in milliseconds.

use std::path::PathBuf;

use raftlab_core::lesson::{narration_paragraphs, parse_lesson};

fn lessons() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../static/lessons");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("static/lessons")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "index.json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Markup characters left over in text the page shows as typed.
fn stray(text: &str) -> bool {
    text.contains('*') || text.contains('`')
}

#[test]
fn lesson_text_uses_only_the_markup_the_page_renders() {
    let files = lessons();
    assert!(files.len() >= 10, "found the lessons: {}", files.len());
    let mut bad = Vec::new();
    for (name, text) in &files {
        let lesson = parse_lesson(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, step) in lesson.steps.iter().enumerate() {
            let shown: Vec<String> = narration_paragraphs(&step.narration)
                .into_iter()
                .flatten()
                .filter(|s| !s.code)
                .map(|s| s.text)
                .collect();
            for s in shown.iter().filter(|s| stray(s)) {
                bad.push(format!("{name} step {i} narration: {s:?}"));
            }
            let mut plain: Vec<&String> = step.title.iter().collect();
            if let Some(q) = &step.question {
                plain.push(&q.prompt);
                plain.extend(&q.choices);
                plain.extend(&q.feedback);
            }
            for s in plain.into_iter().filter(|s| stray(s)) {
                bad.push(format!("{name} step {i} (plain text): {s:?}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "markup the page shows as typed:\n{}",
        bad.join("\n")
    );
}

#[test]
fn stray_markup_is_caught() {
    let spans: Vec<String> = narration_paragraphs("they *would* vote, **bold** and `code`")
        .into_iter()
        .flatten()
        .filter(|s| !s.code)
        .map(|s| s.text)
        .collect();
    assert!(spans.iter().any(|s| stray(s)), "{spans:?}");
    let clean: Vec<String> = narration_paragraphs("they **would** vote, and `x*y`")
        .into_iter()
        .flatten()
        .filter(|s| !s.code)
        .map(|s| s.text)
        .collect();
    assert!(!clean.iter().any(|s| stray(s)), "{clean:?}");
}

/// Every piece of text a lesson shows: summary, titles, narration,
/// prompts, choices and feedback, with where it comes from.
fn all_text() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, text) in lessons() {
        let lesson = parse_lesson(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((format!("{name} summary"), lesson.summary.clone()));
        for (i, step) in lesson.steps.iter().enumerate() {
            let at = format!("{name} step {}", i + 1);
            out.extend(step.title.iter().map(|t| (at.clone(), t.clone())));
            out.push((at.clone(), step.narration.clone()));
            if let Some(q) = &step.question {
                out.push((at.clone(), q.prompt.clone()));
                out.extend(q.choices.iter().map(|c| (at.clone(), c.clone())));
                out.extend(q.feedback.iter().map(|f| (at.clone(), f.clone())));
            }
        }
    }
    out
}

/// The sections of the extended Raft paper: a bare § number must be one of
/// them (anything else is the thesis, and must say so).
fn paper_section(number: &str) -> bool {
    const SECTIONS: [&str; 23] = [
        "1", "2", "3", "4", "5", "5.1", "5.2", "5.3", "5.4", "5.4.1", "5.4.2", "5.4.3", "5.5",
        "5.6", "6", "7", "8", "9", "9.1", "9.2", "9.3", "10", "11",
    ];
    SECTIONS.contains(&number)
}

/// Citations in `text` that neither name the thesis nor are a section of
/// the paper, e.g. a bare "§6.4" meant as the thesis.
fn bare_thesis_citations(text: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (at, _) in text.match_indices('§') {
        let number: String = text[at + '§'.len_utf8()..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let number = number.trim_end_matches('.');
        let before = text[..at].trim_end().to_lowercase();
        if !before.ends_with("thesis") && !paper_section(number) {
            bad.push(format!("§{number}"));
        }
    }
    bad
}

#[test]
fn citations_of_the_thesis_say_thesis() {
    let bad: Vec<String> = all_text()
        .into_iter()
        .flat_map(|(at, text)| {
            bare_thesis_citations(&text)
                .into_iter()
                .map(move |c| format!("{at}: {c}"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "not a section of the paper; write \"thesis §...\":\n{}",
        bad.join("\n")
    );
}

#[test]
fn bare_thesis_citations_are_caught() {
    assert_eq!(bare_thesis_citations("safe (§6.4)."), vec!["§6.4"]);
    assert_eq!(
        bare_thesis_citations("(thesis §4.2.3 and §9.6)"),
        vec!["§9.6"]
    );
    assert!(bare_thesis_citations("(§5.4.1, thesis §6.4; Thesis §9.6; §7.)").is_empty());
}

#[test]
fn lessons_measure_time_in_milliseconds_not_ticks() {
    let bad: Vec<String> = all_text()
        .into_iter()
        .filter(|(_, text)| {
            text.to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w == "tick" || w == "ticks")
        })
        .map(|(at, text)| format!("{at}: {text}"))
        .collect();
    assert!(bad.is_empty(), "say ms, not ticks:\n{}", bad.join("\n"));
}
