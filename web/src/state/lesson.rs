//! The lessons' messages: the list, starting and leaving a lesson, the
//! student's answers and the moves between steps. A lesson runs the clock
//! itself, at its own speed, whenever its step waits for the simulation
//! (after the start, an answer, Next or Back), so a student needs only the
//! answers and Next; the page's Play stays for exploring.

use raftlab_core::lesson::{check_lesson, Lesson, StepStatus};

use super::{LessonMsg, Setup, UiState};
use crate::lab::Lab;

/// A teacher's lesson file that does not read: every problem found, for
/// the page to list (nothing of it is loaded).
#[derive(Clone, Debug, PartialEq)]
pub struct LessonProblems {
    /// The file's name or address.
    pub origin: String,
    /// Each problem in words, naming the step and the field.
    pub problems: Vec<String>,
}

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
                self.own_lesson = None;
            }
            LessonMsg::OpenText { origin, text } => self.open_own(origin, &text),
            LessonMsg::DismissProblems => self.lesson_problems = None,
            LessonMsg::Answer(choice) => {
                let fb = self.lab.0.borrow_mut().answer(choice);
                if let Some(fb) = fb {
                    self.feedback = Some(fb);
                    self.changed();
                    // Predicted: now watch what really happens.
                    self.playing = self.lesson_wants_clock();
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
                self.playing = self.lesson_wants_clock();
            }
            LessonMsg::BackStep => {
                let (lesson, back) = {
                    let lab = self.lab.0.borrow();
                    match lab.lesson() {
                        Some(r) => (r.lesson().clone(), r.step_index().saturating_sub(1)),
                        None => return,
                    }
                };
                let own = self.own_lesson.clone();
                self.replay_to(lesson, back);
                self.own_lesson = own;
            }
        }
    }

    /// Opens a teacher's own lesson, checked by the parser the native
    /// tests use: played like one of the page's, or, when it does not
    /// read, every problem listed and the current run left as it was.
    fn open_own(&mut self, origin: String, text: &str) {
        match check_lesson(text) {
            Ok(lesson) => {
                self.lesson_problems = None;
                self.start(lesson);
                if self.lab.0.borrow().lesson().is_some() {
                    self.own_lesson = Some(origin);
                }
            }
            Err(problems) => self.lesson_problems = Some(LessonProblems { origin, problems }),
        }
    }

    /// Whether the lesson's step waits for the simulation, so the clock
    /// should run (not for an answer, not done, not failed).
    fn lesson_wants_clock(&mut self) -> bool {
        self.lab.0.borrow_mut().lesson_wants_clock()
    }

    /// Plays `lesson` from its start, at its speed.
    fn start(&mut self, lesson: Lesson) {
        let setup = setup_of(&lesson);
        let speed = lesson.speed;
        match Lab::with_lesson(lesson) {
            Ok(lab) => {
                self.install(lab, setup);
                self.speed = crate::clock::speed(speed, self.speed);
                self.playing = self.lesson_wants_clock();
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
        self.playing = self.lesson_wants_clock();
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use raftlab_core::lesson::{parse_index, parse_lesson, Lesson, StepStatus};
    use yew::prelude::*;

    use crate::state::{ClockMsg, LessonMsg, Msg, Setup, UiState};
    use crate::vocab::SPEED_DEFAULT;

    /// Wall-clock ms between animation frames.
    const FRAME_MS: f64 = 16.0;

    fn lessons() -> Vec<Lesson> {
        let dir = format!("{}/../static/lessons", env!("CARGO_MANIFEST_DIR"));
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
        parse_index(&read("index.json"))
            .unwrap()
            .iter()
            .map(|e| parse_lesson(&read(&e.file)).unwrap())
            .collect()
    }

    /// The page, paused as after `?paused=1`, then the lesson picked.
    fn started(lesson: &Lesson) -> Rc<UiState> {
        Rc::new(UiState::new(Setup::default(), SPEED_DEFAULT, false, false))
            .reduce(Msg::Lesson(LessonMsg::Start(Box::new(lesson.clone()))))
    }

    #[test]
    fn every_lesson_reaches_its_end_with_only_answers_next_and_frames() {
        for lesson in lessons() {
            let mut s = started(&lesson);
            assert_eq!(s.speed, lesson.speed, "{}: plays at its speed", lesson.id);
            let mut wall = vec![0.0; lesson.steps.len()];
            for _ in 0..100_000 {
                let index = s.lab.0.borrow().lesson().map_or(0, |r| r.step_index());
                s = match s.lesson_status.clone() {
                    Some(StepStatus::Finished) => break,
                    Some(StepStatus::Done) => s.reduce(Msg::Lesson(LessonMsg::NextStep)),
                    Some(StepStatus::Waiting) if s.lab.0.borrow().lesson_holds() => {
                        let right = lesson.steps[index].question.as_ref().unwrap().answer;
                        s.reduce(Msg::Lesson(LessonMsg::Answer(right)))
                    }
                    Some(StepStatus::Waiting) => {
                        assert!(
                            s.playing,
                            "{}, step {}: waits with the clock stopped ({:?})",
                            lesson.id,
                            index + 1,
                            s.notice.as_ref().map(|n| &n.text)
                        );
                        wall[index] += FRAME_MS;
                        s.reduce(Msg::Clock(ClockMsg::Frame(FRAME_MS)))
                    }
                    other => panic!("{}: {other:?}: {:?}", lesson.id, s.notice),
                };
            }
            assert_eq!(s.lesson_status, Some(StepStatus::Finished), "{}", lesson.id);
            for (i, w) in wall.iter().enumerate() {
                assert!(*w <= 10_000.0, "{}, step {}: {w} ms", lesson.id, i + 1);
            }
            // Expected violations raise no alarm; there are none elsewhere.
            assert!(s.notice.is_none(), "{}: {:?}", lesson.id, s.notice);
            let violations = !s.lab.0.borrow().sim().violations().is_empty();
            assert_eq!(
                violations,
                !lesson.setup.config.bugs.is_empty(),
                "{}",
                lesson.id
            );
        }
    }

    fn open_own(s: Rc<UiState>, origin: &str, text: &str) -> Rc<UiState> {
        s.reduce(Msg::Lesson(LessonMsg::OpenText {
            origin: origin.into(),
            text: text.into(),
        }))
    }

    #[test]
    fn a_teachers_lesson_file_plays_like_one_of_the_pages_and_is_marked_as_theirs() {
        let lesson = &lessons()[0];
        let text = raftlab_core::lesson::lesson_json(lesson);
        let s = Rc::new(UiState::new(Setup::default(), SPEED_DEFAULT, true, false));
        let s = open_own(s, "mine.json", &text);
        assert_eq!(s.own_lesson.as_deref(), Some("mine.json"));
        assert_eq!(s.lesson_problems, None);
        let id = s.lab.0.borrow().lesson().map(|r| r.lesson().id.clone());
        assert_eq!(id.as_deref(), Some(lesson.id.as_str()));
        // Back keeps the mark; leaving the lesson drops it.
        let s = s.reduce(Msg::Lesson(LessonMsg::BackStep));
        assert_eq!(s.own_lesson.as_deref(), Some("mine.json"));
        let s = s.reduce(Msg::Lesson(LessonMsg::Exit));
        assert_eq!(s.own_lesson, None);
    }

    #[test]
    fn a_broken_lesson_file_lists_its_problems_and_leaves_the_run_alone() {
        let s = Rc::new(UiState::new(Setup::default(), SPEED_DEFAULT, true, false)).reduce(
            Msg::Lesson(LessonMsg::Start(Box::new(lessons()[1].clone()))),
        );
        let before = s.lab.0.borrow().lesson().map(|r| r.lesson().id.clone());
        let text = raftlab_core::lesson::lesson_json(&lessons()[0])
            .replace("\"kind\": \"leader\"", "\"kind\": \"leadr\"");
        let s = open_own(s, "broken.json", &text);
        let p = s.lesson_problems.clone().expect("problems listed");
        assert_eq!(p.origin, "broken.json");
        assert!(
            p.problems
                .iter()
                .any(|e| e.contains("wait_for") && e.contains("\"leadr\"")),
            "{p:?}"
        );
        let after = s.lab.0.borrow().lesson().map(|r| r.lesson().id.clone());
        assert_eq!(after, before, "nothing half-loaded");
        let s = s.reduce(Msg::Lesson(LessonMsg::DismissProblems));
        assert_eq!(s.lesson_problems, None);
    }

    #[test]
    fn a_violation_the_step_does_not_expect_stops_the_clock_with_a_notice() {
        let mut lesson = lessons()
            .into_iter()
            .find(|l| l.id == "figure8-broken")
            .unwrap();
        for step in &mut lesson.steps {
            step.expects_violations.clear();
        }
        let mut s = started(&lesson);
        for _ in 0..100_000 {
            let notice = s.notice.as_ref().is_some_and(|n| n.error);
            if notice {
                break;
            }
            s = match s.lesson_status.clone() {
                Some(StepStatus::Done) => s.reduce(Msg::Lesson(LessonMsg::NextStep)),
                Some(StepStatus::Waiting) if s.lab.0.borrow().lesson_holds() => {
                    s.reduce(Msg::Lesson(LessonMsg::Answer(0)))
                }
                _ => s.reduce(Msg::Clock(ClockMsg::Frame(FRAME_MS))),
            };
        }
        assert!(!s.playing);
        let text = &s.notice.as_ref().unwrap().text;
        assert!(text.contains("leader_commits_current_term"), "{text}");
        assert_eq!(s.lesson_status, Some(StepStatus::Waiting));
    }
}
