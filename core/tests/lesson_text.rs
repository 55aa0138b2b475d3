//! The lessons' text uses only the markup the page renders (docs/lessons.md,
//! "Text and markup"): `**bold**` and `` `code` `` in narration, none at all
//! in titles, prompts, choices and feedback. Anything else would reach the
//! student as stray asterisks and backquotes.

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
