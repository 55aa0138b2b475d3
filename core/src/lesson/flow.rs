//! How a lesson flows on the page without the student touching the clock:
//! the speed it plays at, and the violations a break-it step expects (they
//! do not stop the clock; the lesson panel explains them instead).

use super::Lesson;
use crate::check::rules;

/// The speed a lesson plays at when its file does not say, in simulated
/// ms per wall-clock ms (the page's own default: 1/20 of real time).
pub const DEFAULT_LESSON_SPEED: f64 = 0.05;
/// The slowest speed a lesson may ask for (the page's slowest).
pub const MIN_LESSON_SPEED: f64 = 0.001;
/// The fastest speed a lesson may ask for: real time (the page's fastest).
pub const MAX_LESSON_SPEED: f64 = 1.0;

/// Checks the flow fields: a speed the page can play at, and expected
/// violations that name the checker's rules (a typo would never match, and
/// the step would stall on its own violation).
pub(super) fn check(l: &Lesson) -> Result<(), String> {
    let name = format!("lesson {:?}", l.id);
    if !(MIN_LESSON_SPEED..=MAX_LESSON_SPEED).contains(&l.speed) {
        return Err(format!(
            "{name}, speed: simulated ms per real ms, from {MIN_LESSON_SPEED} to {MAX_LESSON_SPEED} (real time), not {}",
            l.speed
        ));
    }
    for (i, s) in l.steps.iter().enumerate() {
        if let Some(r) = s
            .expects_violations
            .iter()
            .find(|r| !rules::ALL.contains(&r.as_str()))
        {
            return Err(format!(
                "{name}, step {}, expects_violations: unknown rule {r:?}; the checker's rules are: {}",
                i + 1,
                rules::ALL.join(", ")
            ));
        }
    }
    Ok(())
}
