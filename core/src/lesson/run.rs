//! Playing a lesson against a live simulation, step by step, and driving
//! one natively to its end.

use serde::Serialize;

use crate::check::Violation;
use crate::sim::Sim;

use super::condition::{Ctx, Facts};
use super::{Lesson, Step};

/// Where the current step stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "message", rename_all = "snake_case")]
pub enum StepStatus {
    /// The step's actions or condition are still pending: keep running.
    Waiting,
    /// The step's condition held: pause and offer "next" (`advance`).
    Done,
    /// The step cannot complete (an action was refused, or it ran past its
    /// time bound): the lesson does not work as written from here.
    Failed(String),
    /// Every step is complete.
    Finished,
}

/// What the page tells a student who answered a question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Feedback {
    /// Whether the choice was the right one.
    pub correct: bool,
    /// The feedback written for that choice.
    pub text: String,
    /// The index of the right choice.
    pub right: usize,
}

/// One completed step of a native run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// The step's number, from 1.
    pub number: usize,
    /// Simulated time when the step began, in ms.
    pub began_at_ms: u64,
    /// Simulated time when its condition held, in ms.
    pub completed_at_ms: u64,
    /// Events the step produced.
    pub events: u64,
}

/// What a native run of a whole lesson showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LessonReport {
    /// The lesson's id.
    pub id: String,
    /// Every step, in order.
    pub steps: Vec<StepReport>,
    /// Simulated time at the end, in ms.
    pub end_ms: u64,
    /// Events in the whole run.
    pub events: u64,
    /// The rules the checker found broken (for break-it lessons), in order.
    pub violations: Vec<String>,
}

/// A lesson being played: which step is current, what it has seen, and the
/// student's answers. It never runs the simulation by itself except in
/// `drive`; the page may also run the sim its own way and call `poll`.
#[derive(Clone, Debug)]
pub struct LessonRun {
    lesson: Lesson,
    step: usize,
    start_time: u64,
    start_seq: u64,
    /// Events observed so far (absolute count).
    cursor: u64,
    facts: Facts,
    /// Delayed actions not yet seen in the trace: (time, action as JSON, number).
    pending: Vec<(u64, serde_json::Value, usize)>,
    failure: Option<String>,
    done: bool,
    answers: Vec<Option<usize>>,
    /// The micro-step at which each step completed (for `back_to_step`).
    ends: Vec<Option<u64>>,
}

impl LessonRun {
    /// Builds the lesson's cluster and begins step 1 (its immediate actions
    /// run at once). The page draws the returned `Sim` as usual.
    pub fn new(lesson: Lesson) -> Result<(LessonRun, Sim), String> {
        let mut sim = Sim::new(
            lesson.setup.seed,
            lesson.setup.nodes,
            lesson.setup.config.clone(),
        )
        .map_err(|e| format!("lesson {:?}, setup: {e}", lesson.id))?;
        let n = lesson.steps.len();
        let mut run = LessonRun {
            lesson,
            step: 0,
            start_time: 0,
            start_seq: 0,
            cursor: 0,
            facts: Facts::default(),
            pending: Vec::new(),
            failure: None,
            done: false,
            answers: vec![None; n],
            ends: vec![None; n],
        };
        run.begin(&mut sim);
        Ok((run, sim))
    }

    /// The lesson.
    pub fn lesson(&self) -> &Lesson {
        &self.lesson
    }

    /// The current step, or `None` once the lesson is finished.
    pub fn current_step(&self) -> Option<&Step> {
        self.lesson.steps.get(self.step)
    }

    /// The current step's index, from 0 (equal to the step count when finished).
    pub fn step_index(&self) -> usize {
        self.step
    }

    /// `(k, n)`: the page shows "step k of n" (k from 1; k = n when finished).
    pub fn progress(&self) -> (usize, usize) {
        let n = self.lesson.steps.len();
        ((self.step + 1).min(n), n)
    }

    /// Simulated time when the current step began, in ms.
    pub fn step_began_at(&self) -> u64 {
        self.start_time
    }

    /// The answer given to step `index`'s question, if any.
    pub fn answer_of(&self, index: usize) -> Option<usize> {
        self.answers.get(index).copied().flatten()
    }

    /// Whether the current step has a question not answered yet (the page
    /// should hold the run until it is, so the student predicts first).
    pub fn needs_answer(&self) -> bool {
        self.current_step().is_some_and(|s| s.question.is_some())
            && self.answer_of(self.step).is_none()
    }

    /// Records the student's choice for the current step's question and
    /// returns its feedback; `None` when there is no question or no such choice.
    pub fn answer(&mut self, choice: usize) -> Option<Feedback> {
        let q = self.current_step()?.question.as_ref()?;
        let text = q.feedback.get(choice)?.clone();
        let fb = Feedback {
            correct: choice == q.answer,
            text,
            right: q.answer,
        };
        if let Some(a) = self.answers.get_mut(self.step) {
            *a = Some(choice);
        }
        Some(fb)
    }

    /// What the current step waits for, in words ("" when finished).
    pub fn waiting_for(&self) -> String {
        self.current_step()
            .map(|s| s.wait_for.describe())
            .unwrap_or_default()
    }

    fn at(&self) -> String {
        let title = self
            .current_step()
            .and_then(|s| s.title.clone())
            .map(|t| format!(" ({t:?})"))
            .unwrap_or_default();
        format!("lesson {:?}, step {}{title}", self.lesson.id, self.step + 1)
    }

    /// Starts the current step at the present: immediate actions run now
    /// (a refused one fails the step, with the simulator's reason), delayed
    /// ones are scheduled.
    fn begin(&mut self, sim: &mut Sim) {
        let back = self.current_step().and_then(|s| s.back_to_step);
        let back_failed = back.and_then(|n| self.go_back_to(sim, n).err());
        self.start_time = sim.now();
        self.start_seq = sim.position();
        self.cursor = self.start_seq;
        self.facts = Facts::default();
        self.pending.clear();
        self.failure = None;
        self.done = false;
        if back_failed.is_some() {
            self.failure = back_failed;
            return;
        }
        let Some(step) = self.lesson.steps.get(self.step).cloned() else {
            return;
        };
        let mut delayed = Vec::new();
        for (j, a) in step.actions.iter().enumerate() {
            if a.after_ms == 0 {
                if let Err(why) = sim.act(a.action.clone()) {
                    self.failure = Some(format!(
                        "{}, actions[{j}] ({}): refused by the simulator: {why}",
                        self.at(),
                        action_text(&a.action)
                    ));
                    return;
                }
            } else {
                delayed.push((j, a));
            }
        }
        for (j, a) in delayed {
            let time = self.start_time.saturating_add(a.after_ms);
            sim.schedule(time, a.action.clone());
            if let Ok(v) = serde_json::to_value(&a.action) {
                self.pending.push((time, v, j));
            }
        }
        self.pending.sort_by_key(|(t, _, j)| (*t, *j));
    }

    /// Returns the run to the end of step `n` (from 1), discarding what
    /// came after it. Refused when step `n` has not completed in this run,
    /// or its end is no longer in the history kept.
    fn go_back_to(&mut self, sim: &mut Sim, n: usize) -> Result<(), String> {
        let Some(end) = n
            .checked_sub(1)
            .and_then(|i| self.ends.get(i).copied().flatten())
        else {
            return Err(format!(
                "{}, back_to_step: step {n} has not completed in this run",
                self.at()
            ));
        };
        if end < sim.history_start().step {
            return Err(format!(
                "{}, back_to_step: the end of step {n} is older than the history kept",
                self.at()
            ));
        }
        sim.return_to_step(end);
        // The steps after it ended in the future just discarded.
        for later in self.ends.iter_mut().skip(n) {
            *later = None;
        }
        Ok(())
    }

    /// Looks at the simulation (without running it) and says where the
    /// current step stands. Cheap: it reads only the events since the
    /// last call. If the page stepped back in time, it re-reads the step.
    pub fn poll(&mut self, sim: &Sim) -> StepStatus {
        if self.step >= self.lesson.steps.len() {
            return StepStatus::Finished;
        }
        if let Some(f) = &self.failure {
            return StepStatus::Failed(f.clone());
        }
        if self.done {
            return StepStatus::Done;
        }
        let position = sim.position();
        if position < self.cursor {
            // Rewound: start the step's reading over.
            self.cursor = self.start_seq.min(position);
            self.facts = Facts::default();
        }
        let seen_before = self.facts.actions.len();
        for e in super::events_between(sim, self.cursor, position) {
            self.facts.observe(e);
        }
        self.cursor = position;
        // Delayed actions: each must show up as an action event.
        for v in self.facts.actions.get(seen_before..).unwrap_or(&[]) {
            if let Some(k) = self.pending.iter().position(|(_, p, _)| p == v) {
                self.pending.remove(k);
            }
        }
        if let Some((time, v, j)) = self.pending.first() {
            if sim.now() > *time {
                let f = format!(
                    "{}, actions[{j}] ({v}) at {time} ms: refused by the simulator (for example, no leader to ask, or the node is not running)",
                    self.at()
                );
                self.failure = Some(f.clone());
                return StepStatus::Failed(f);
            }
        }
        let Some(step) = self.lesson.steps.get(self.step) else {
            return StepStatus::Finished;
        };
        let ctx = Ctx {
            sim,
            facts: &self.facts,
            start_time: self.start_time,
            start_seq: self.start_seq,
        };
        if self.pending.is_empty() && step.wait_for.holds(&ctx) {
            self.done = true;
            return StepStatus::Done;
        }
        let deadline = self.start_time.saturating_add(step.max_ms);
        if sim.now() >= deadline {
            let f = format!(
                "{}: not complete after {} ms of simulated time; still waiting for: {}",
                self.at(),
                step.max_ms,
                step.wait_for.describe()
            );
            self.failure = Some(f.clone());
            return StepStatus::Failed(f);
        }
        StepStatus::Waiting
    }

    /// Runs the simulation one millisecond at a time up to `until` ms,
    /// stopping at the end of the millisecond in which the step completes
    /// (or fails). Driving through here makes a lesson play the same way
    /// whatever the page's frame rate, which break-it lessons rely on.
    pub fn drive(&mut self, sim: &mut Sim, until: u64) -> StepStatus {
        let mut status = self.poll(sim);
        let mut t = sim.now();
        while status == StepStatus::Waiting && t < until {
            t += 1;
            sim.run_until(t);
            status = self.poll(sim);
        }
        status
    }

    /// Moves to the next step once the current one is done, running its
    /// immediate actions; returns the new step's status. Does nothing (and
    /// returns the current status) while the step is not done.
    pub fn advance(&mut self, sim: &mut Sim) -> StepStatus {
        let status = self.poll(sim);
        if status != StepStatus::Done {
            return status;
        }
        if let Some(end) = self.ends.get_mut(self.step) {
            *end = Some(sim.step_count());
        }
        self.step += 1;
        self.begin(sim);
        self.poll(sim)
    }

    /// Whether the page's clock should run now: the current step waits for
    /// the simulation (not for an answer, not done). The page starts the
    /// clock whenever this holds after a start, an answer or Next, so a
    /// student never has to find Play.
    pub fn wants_clock(&mut self, sim: &Sim) -> bool {
        !self.needs_answer() && self.poll(sim) == StepStatus::Waiting
    }

    /// Whether the current step declares `rule` among the violations it
    /// expects (`expects_violations`): the clock goes on through them.
    pub fn expects_violation(&self, rule: &str) -> bool {
        self.current_step()
            .is_some_and(|s| s.expects_violations.iter().any(|r| r == rule))
    }

    /// The violations found since the current step began that it expects,
    /// oldest first: what the lesson panel explains.
    pub fn expected_violations<'a>(&self, sim: &'a Sim) -> Vec<&'a Violation> {
        sim.violations()
            .iter()
            .filter(|v| v.seq > self.start_seq && self.expects_violation(v.rule))
            .collect()
    }

    /// Whether the current step's question, if it has a `verify`
    /// condition, is borne out by the run so far.
    pub fn question_verified(&self, sim: &Sim) -> Option<bool> {
        let q = self.current_step()?.question.as_ref()?;
        let v = q.verify.as_ref()?;
        let ctx = Ctx {
            sim,
            facts: &self.facts,
            start_time: self.start_time,
            start_seq: self.start_seq,
        };
        Some(v.holds(&ctx))
    }
}

fn action_text(a: &crate::sim::Action) -> String {
    serde_json::to_string(a).unwrap_or_default()
}

/// Plays `lesson` natively from start to end: performs every action, runs
/// time until each step's condition holds (each within its `max_ms`, and
/// all within `max_ms` of simulated time), and checks each question's
/// `verify` condition. The error names the step that did not complete.
pub fn run_to_end(lesson: &Lesson, max_ms: u64) -> Result<LessonReport, String> {
    run_lesson(lesson, max_ms).map(|(r, _)| r)
}

/// `run_to_end`, also returning the simulation as it ends (for tests that
/// look further at the run).
pub fn run_lesson(lesson: &Lesson, max_ms: u64) -> Result<(LessonReport, Sim), String> {
    play(lesson, max_ms, None)
}

/// `run_lesson` with the simulator's history bounded to `history` events
/// (as the page bounds it).
fn play(lesson: &Lesson, max_ms: u64, history: Option<u64>) -> Result<(LessonReport, Sim), String> {
    let (mut run, mut sim) = LessonRun::new(lesson.clone())?;
    sim.set_history_limit(history);
    let mut steps = Vec::new();
    let mut status = run.poll(&sim);
    while let Some(step) = run.current_step().cloned() {
        let bound = run.start_time.saturating_add(step.max_ms).min(max_ms);
        if status == StepStatus::Waiting {
            status = run.drive(&mut sim, bound);
        }
        match status {
            StepStatus::Done => {}
            StepStatus::Finished => break,
            StepStatus::Failed(why) => return Err(why),
            StepStatus::Waiting => {
                return Err(format!(
                    "{}: not complete when the whole run reached its bound of {max_ms} ms; still waiting for: {}",
                    run.at(),
                    run.waiting_for()
                ))
            }
        }
        if run.question_verified(&sim) == Some(false) {
            let q = step.question.as_ref();
            let right = q
                .and_then(|q| q.choices.get(q.answer))
                .cloned()
                .unwrap_or_default();
            let verify = q
                .and_then(|q| q.verify.as_ref())
                .map(|v| v.describe())
                .unwrap_or_default();
            return Err(format!(
                "{}, question: the run does not show the right answer ({right:?}): \"{verify}\" does not hold when the step completes",
                run.at()
            ));
        }
        steps.push(StepReport {
            number: run.step + 1,
            began_at_ms: run.start_time,
            completed_at_ms: sim.now(),
            events: sim.position().saturating_sub(run.start_seq),
        });
        status = run.advance(&mut sim);
    }
    let report = LessonReport {
        id: lesson.id.clone(),
        steps,
        end_ms: sim.now(),
        events: sim.position(),
        violations: sim
            .violations()
            .iter()
            .map(|v| v.rule.to_string())
            .collect(),
    };
    Ok((report, sim))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lessons() -> Vec<Lesson> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../static/lessons");
        let index = std::fs::read_to_string(format!("{dir}/index.json")).expect("index");
        crate::lesson::parse_index(&index)
            .expect("valid index")
            .iter()
            .map(|e| {
                let text = std::fs::read_to_string(format!("{dir}/{}", e.file)).expect("lesson");
                crate::lesson::parse_lesson(&text).expect("valid lesson")
            })
            .collect()
    }

    #[test]
    fn lessons_play_the_same_with_a_short_history() {
        for lesson in lessons() {
            let (full, a) = play(&lesson, 120_000, None).expect("plays");
            let (short, b) = play(&lesson, 120_000, Some(300)).expect("plays bounded");
            assert_eq!(full, short, "{}", lesson.id);
            assert_eq!(a.position(), b.position(), "{}", lesson.id);
            assert_eq!(a.violations(), b.violations(), "{}", lesson.id);
            if a.position() > 1000 {
                assert!(b.history_start().seq > 1, "{}: history dropped", lesson.id);
            }
            let start = b.history_start().seq;
            assert_eq!(
                a.events().get(start as usize - 1..),
                Some(b.events()),
                "{}",
                lesson.id
            );
        }
    }
}
