//! The lessons' messages: the list, starting and leaving a lesson, the
//! student's answers and the moves between steps.

use raftlab_core::lesson::{Lesson, StepStatus};

use super::{LessonMsg, Setup, UiState};
use crate::lab::Lab;

/// What a lesson's run is built from.
fn setup_of(lesson: &Lesson) -> Setup {
    Setup {
        seed: lesson.setup.seed,
        nodes: lesson.setup.nodes,
        cfg: lesson.setup.config.clone(),
    }
}

impl UiState {
    /// Lists, starts, leaves or moves through a lesson.
    pub(super) fn on_lesson(&mut self, m: LessonMsg) {
        match m {
            LessonMsg::Index(Ok(list)) => self.lessons = list,
            LessonMsg::Index(Err(e)) => self.error(format!("The lesson list is unavailable: {e}.")),
            LessonMsg::Start(lesson) => self.start(*lesson),
            LessonMsg::Exit => {
                self.lab.0.borrow_mut().leave_lesson();
                self.lesson_status = None;
                self.feedback = None;
            }
            LessonMsg::Answer(choice) => {
                let fb = self.lab.0.borrow_mut().answer(choice);
                if let Some(fb) = fb {
                    self.feedback = Some(fb);
                    // Predicted: now watch what really happens.
                    self.playing = true;
                    self.changed();
                }
            }
            LessonMsg::FinishStep => {
                self.lab.0.borrow_mut().finish_step();
                self.changed();
                self.playing = false;
            }
            LessonMsg::NextStep => {
                let status = self.lab.0.borrow_mut().next_step();
                self.feedback = None;
                if let Some(StepStatus::Failed(why)) = &status {
                    self.error(format!("This step cannot run: {why}"));
                }
                self.changed();
                let holds = self.lab.0.borrow().lesson_holds();
                self.playing = !holds && status == Some(StepStatus::Waiting);
            }
            LessonMsg::BackStep => {
                let (lesson, back) = {
                    let lab = self.lab.0.borrow();
                    match lab.lesson() {
                        Some(r) => (r.lesson().clone(), r.step_index().saturating_sub(1)),
                        None => return,
                    }
                };
                self.replay_to(lesson, back);
            }
        }
    }

    /// Plays `lesson` from its start.
    fn start(&mut self, lesson: Lesson) {
        let setup = setup_of(&lesson);
        match Lab::with_lesson(lesson) {
            Ok(lab) => {
                self.install(lab, setup);
                self.playing = false;
            }
            Err(e) => self.error(format!("This lesson cannot start: {e}.")),
        }
    }

    /// Plays `lesson` again from its start up to the beginning of step
    /// `target` (0-based), giving the answers the student gave (or the
    /// right ones): "back" in a lesson.
    fn replay_to(&mut self, lesson: Lesson, target: usize) {
        let answers: Vec<Option<usize>> = {
            let lab = self.lab.0.borrow();
            (0..lesson.steps.len())
                .map(|i| lab.lesson().and_then(|r| r.answer_of(i)))
                .collect()
        };
        let setup = setup_of(&lesson);
        let rights: Vec<usize> = lesson
            .steps
            .iter()
            .map(|s| s.question.as_ref().map_or(0, |q| q.answer))
            .collect();
        let mut lab = match Lab::with_lesson(lesson) {
            Ok(lab) => lab,
            Err(e) => return self.error(format!("This lesson cannot start: {e}.")),
        };
        for (i, right) in rights.iter().enumerate().take(target) {
            if lab.lesson_holds() {
                lab.answer(answers[i].unwrap_or(*right));
            }
            lab.finish_step();
            if lab.lesson_status() != Some(StepStatus::Done) {
                break;
            }
            lab.next_step();
        }
        self.install(lab, setup);
        self.playing = false;
    }
}
