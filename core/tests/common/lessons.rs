//! Lesson files of static/lessons, and playing them as the page does, for
//! the tests that check what a lesson claims.

use std::path::PathBuf;

use raftlab_core::lesson::{parse_lesson, Lesson, LessonRun, Step, StepStatus};
use raftlab_core::sim::Sim;
use raftlab_core::trace::TraceEvent;

/// The lesson in static/lessons/`file`, parsed (a test fails on a missing
/// or invalid file).
pub fn load(file: &str) -> Lesson {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../static/lessons")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    parse_lesson(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A played lesson: the run at the end and, per step, the seqs of its
/// events (`after < seq <= upto`).
pub struct Played {
    pub sim: Sim,
    pub steps: Vec<(u64, u64)>,
}

impl Played {
    /// The events of step `n` (counting from 1, as the page does).
    pub fn step(&self, n: usize) -> Vec<&TraceEvent> {
        let (after, upto) = self.steps[n - 1];
        self.sim
            .events()
            .iter()
            .filter(|e| e.seq > after && e.seq <= upto)
            .collect()
    }
}

/// Plays `lesson` with the right answers and Next, as the page does, to
/// its end; `at_end(n, step, sim)` sees the run when step `n` (from 1)
/// completes. A step's events include its own actions, and a step that
/// went back (`back_to_step`) starts from the earlier step's end.
pub fn play_answering(lesson: Lesson, mut at_end: impl FnMut(usize, &Step, &Sim)) -> Played {
    let (mut run, mut sim) = LessonRun::new(lesson).expect("starts");
    let mut steps = Vec::new();
    // The events of step 1 include its first actions, run on creation.
    let mut began = 0;
    let mut status = run.poll(&sim);
    while let Some(step) = run.current_step().cloned() {
        if let Some(q) = &step.question {
            run.answer(q.answer);
        }
        if status == StepStatus::Waiting {
            status = run.drive(&mut sim, run.step_began_at() + step.max_ms);
        }
        assert_eq!(status, StepStatus::Done, "step {}", run.step_index() + 1);
        assert_ne!(run.question_verified(&sim), Some(false), "{:?}", step.title);
        steps.push((began, sim.position()));
        at_end(steps.len(), &step, &sim);
        began = sim.position();
        status = run.advance(&mut sim);
        // A step that went back starts from the earlier step's end (its
        // immediate actions, if it had any, would be left out of its range).
        began = began.min(sim.position());
    }
    assert_eq!(status, StepStatus::Finished);
    Played { sim, steps }
}
