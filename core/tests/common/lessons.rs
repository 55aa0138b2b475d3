//! Lesson files of static/lessons, for the tests that play them.

use std::path::PathBuf;

use raftlab_core::lesson::{parse_lesson, Lesson};

/// The lesson in static/lessons/`file`, parsed (a test fails on a missing
/// or invalid file).
pub fn load(file: &str) -> Lesson {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../static/lessons")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    parse_lesson(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}
