//! The laboratory behind the page: one simulator, the visual clock that
//! animates it, and what the page remembers about the run (timeline marks,
//! branches, where each message was sent).
//!
//! Everything here is plain Rust over `raftlab_core::sim::Sim`, so it is
//! tested natively. The visual clock `vt` is in simulated milliseconds and
//! may sit between two milliseconds: the simulator has run every micro-step
//! at or before `floor(vt)`, and messages are drawn at their exact position
//! for `vt`. Pausing, stepping and rewinding only move `vt` and the
//! simulator, so the picture is always a function of (sim state, `vt`).

use std::collections::VecDeque;

use raftlab_core::lesson::{Breakpoint, BreakpointWatch, Lesson, LessonRun, StepStatus};
use raftlab_core::sim::{Action, HistoryStart, Sim, SimConfig, Stalled};
use raftlab_core::trace::{EventKind, TraceEvent};
use raftlab_core::types::{NodeId, Role};

use crate::clock::{step_back_target, Clock};

/// Most micro-steps a single "step" runs looking for the next event.
const STEP_LIMIT: u64 = 200_000;

/// Events of history the page keeps (`Sim::set_history_limit`): about
/// five simulated minutes of the default 5-node run (some 320 events a
/// second), so an hour of it at full speed stays well under 150 MB.
/// Rewinding stops where the kept history starts, which the timeline shows.
pub const HISTORY_LIMIT: u64 = 100_000;

/// What the panels' content depends on, besides the animation: the
/// present's event, the known history's end and start, the branches.
pub type RevisionKey = (u64, u64, u64, usize);

/// Something worth marking on the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// The event it comes from.
    pub seq: u64,
    /// Its simulated time.
    pub time: u64,
    /// What happened.
    pub kind: MarkKind,
}

/// The kinds of timeline marks.
#[derive(Clone, Debug, PartialEq)]
pub enum MarkKind {
    /// A node became leader of `term`.
    Leader {
        /// The new leader.
        node: NodeId,
        /// Its term.
        term: u64,
    },
    /// A node crashed.
    Crash(NodeId),
    /// A node restarted.
    Restart(NodeId),
    /// The network was split.
    Partition,
    /// The network was healed.
    Heal,
    /// The user asked for a membership change (short label).
    Membership(String),
}

/// A point where the user acted in the past and discarded the known future.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// Simulated time of the branch point.
    pub time: u64,
    /// Events kept before it.
    pub position: u64,
}

/// The simulator and its visual clock.
pub struct Lab {
    sim: Sim,
    /// Visual time, simulated ms.
    vt: f64,
    marks: Vec<Mark>,
    /// The seq of the last event scanned into `marks` and `send_seq`.
    scanned: u64,
    /// `send_seq[id - send_base]`: the seq of message `id`'s send event
    /// (0: not in the kept history). Ids whose sends left the kept history
    /// are forgotten from the front.
    send_seq: VecDeque<u64>,
    /// The message id of `send_seq[0]`.
    send_base: u64,
    branches: Vec<Branch>,
    /// The lesson being played, if any: it drives the simulator while its
    /// step waits (`LessonRun::drive`), so lessons play the same way at
    /// any frame rate.
    lesson: Option<LessonRun>,
    /// Breakpoints, scanned after the clock runs forward.
    watch: BreakpointWatch,
}

impl Lab {
    /// A fresh cluster of `nodes` voters.
    pub fn new(seed: u64, nodes: u64, cfg: SimConfig) -> Result<Lab, String> {
        Ok(Lab::from_sim(Sim::new(seed, nodes, cfg)?))
    }

    /// A lab around a simulator built elsewhere (a session, a trace), at
    /// the simulator's present.
    pub fn from_sim(mut sim: Sim) -> Lab {
        if sim.history_limit().is_none() {
            sim.set_history_limit(Some(HISTORY_LIMIT));
        }
        let mut lab = Lab {
            vt: sim.now() as f64,
            watch: BreakpointWatch::new(Vec::new(), &sim),
            sim,
            marks: Vec::new(),
            scanned: 0,
            send_seq: VecDeque::new(),
            send_base: 1,
            branches: Vec::new(),
            lesson: None,
        };
        lab.refresh();
        lab
    }

    /// Bounds the history kept to about `limit` events.
    pub fn set_history_limit(&mut self, limit: u64) {
        self.sim.set_history_limit(Some(limit));
        self.refresh();
    }

    /// The lesson's cluster at its first step.
    pub fn with_lesson(lesson: Lesson) -> Result<Lab, String> {
        let (run, sim) = LessonRun::new(lesson)?;
        let mut lab = Lab::from_sim(sim);
        lab.lesson = Some(run);
        Ok(lab)
    }

    /// The lesson being played.
    pub fn lesson(&self) -> Option<&LessonRun> {
        self.lesson.as_ref()
    }

    /// Where the lesson's current step stands (`None` without a lesson).
    pub fn lesson_status(&mut self) -> Option<StepStatus> {
        let sim = &self.sim;
        self.lesson.as_mut().map(|run| run.poll(sim))
    }

    /// Stops playing the lesson; the run stays as it is.
    pub fn leave_lesson(&mut self) {
        self.lesson = None;
    }

    /// Whether the lesson holds the clock: its step waits for an answer.
    pub fn lesson_holds(&self) -> bool {
        self.lesson.as_ref().is_some_and(|r| r.needs_answer())
    }

    /// Whether the clock should run for the lesson: its step waits for the
    /// simulation, not for an answer (`LessonRun::wants_clock`).
    pub fn lesson_wants_clock(&mut self) -> bool {
        let sim = &self.sim;
        self.lesson.as_mut().is_some_and(|run| run.wants_clock(sim))
    }

    /// Whether the lesson's step is waiting for its condition (then the
    /// lesson drives the simulator).
    fn lesson_drives(&mut self) -> bool {
        matches!(self.lesson_status(), Some(StepStatus::Waiting))
    }

    /// Records the student's answer to the current step's question.
    pub fn answer(&mut self, choice: usize) -> Option<raftlab_core::lesson::Feedback> {
        self.lesson.as_mut()?.answer(choice)
    }

    /// Runs the current step to its end (at most its time bound), as if
    /// played: the "finish this step" control.
    pub fn finish_step(&mut self) {
        let Some(run) = self.lesson.as_mut() else {
            return;
        };
        if run.needs_answer() {
            return;
        }
        let bound = run
            .step_began_at()
            .saturating_add(run.current_step().map_or(0, |s| s.max_ms))
            .saturating_add(1);
        run.drive(&mut self.sim, bound);
        self.vt = self.sim.now() as f64;
        self.refresh();
    }

    /// Moves the lesson to its next step (once the current one is done);
    /// the new step's immediate actions run now.
    pub fn next_step(&mut self) -> Option<StepStatus> {
        if self.lesson_status() != Some(StepStatus::Done) {
            return self.lesson_status();
        }
        self.branch_if_past();
        let run = self.lesson.as_mut()?;
        let before = self.sim.position();
        let status = run.advance(&mut self.sim);
        let position = self.sim.position();
        if position < before {
            // The step went back to an earlier step's end (`back_to_step`):
            // a branch of the run, drawn as one.
            self.branches.push(Branch {
                time: self.sim.now(),
                position,
            });
            self.forget_after(position);
            self.vt = self.sim.now() as f64;
        }
        self.vt = self.vt.max(self.sim.now() as f64);
        self.refresh();
        self.watch.reset(&self.sim);
        Some(status)
    }

    /// Replaces the breakpoints; they fire from the present on.
    pub fn set_breakpoints(&mut self, breakpoints: Vec<Breakpoint>) {
        self.watch = BreakpointWatch::new(breakpoints, &self.sim);
    }

    /// The breakpoints.
    pub fn breakpoints(&self) -> &[Breakpoint] {
        &self.watch.breakpoints
    }

    /// Looks for a breakpoint among the events the clock just ran through;
    /// on a hit, goes back to that very event and returns it with the
    /// breakpoint's description.
    pub fn check_breakpoints(&mut self) -> Option<(u64, String)> {
        if self.watch.breakpoints.is_empty() {
            self.watch.reset(&self.sim);
            return None;
        }
        let hit = self.watch.scan(&self.sim)?;
        let what = self
            .watch
            .breakpoints
            .get(hit.index)
            .map(|b| b.describe())
            .unwrap_or_default();
        self.sim.goto_event(hit.seq);
        self.vt = self.sim.now() as f64;
        self.refresh();
        Some((hit.seq, what))
    }

    /// After a jump in time: breakpoints look only at what runs from here.
    fn rewatch(&mut self) {
        self.watch.reset(&self.sim);
    }

    /// The simulator, to read.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// Visual time in simulated ms.
    pub fn vt(&self) -> f64 {
        self.vt
    }

    /// Timeline marks of the known history (present and known future).
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    /// Branch points, oldest first.
    pub fn branches(&self) -> &[Branch] {
        &self.branches
    }

    /// The kept events up to the present (the first has seq
    /// `history_start().seq`).
    pub fn past(&self) -> &[TraceEvent] {
        let kept = self
            .sim
            .position()
            .saturating_sub(self.sim.history_start().seq - 1) as usize;
        let events = self.sim.events();
        &events[..kept.min(events.len())]
    }

    /// Where the kept history starts: rewinding stops there.
    pub fn history_start(&self) -> HistoryStart {
        self.sim.history_start()
    }

    /// The seq of the last event known (the present's, or the end of a
    /// known future).
    pub fn known_seq(&self) -> u64 {
        self.sim.history_start().seq - 1 + self.sim.events().len() as u64
    }

    /// Events known beyond the present (after stepping back).
    pub fn future_len(&self) -> u64 {
        self.known_seq().saturating_sub(self.sim.position())
    }

    /// What the panels' content depends on besides the animation; equal
    /// keys mean no event happened and the history did not move.
    pub fn revision_key(&self) -> RevisionKey {
        (
            self.sim.position(),
            self.known_seq(),
            self.sim.history_start().seq,
            self.branches.len(),
        )
    }

    /// The run's trace as JSON Lines, header first: every event from seq 1
    /// to the end of the known history, as `docs/trace-format.md` requires
    /// (a trace starts at seq 1). When the oldest events are no longer
    /// kept, the run is replayed from its seed and actions (it is
    /// deterministic) to write them again, a simulated second at a time
    /// under the same history limit, so memory stays bounded; where the
    /// replay overlaps the kept history, the two must agree.
    pub fn trace_jsonl(&self) -> Result<String, String> {
        let sim = &self.sim;
        if sim.history_start().seq <= 1 {
            return Ok(sim.trace_jsonl());
        }
        let target = self.known_seq();
        let end = self.known_end();
        let mut replay = raftlab_core::session::Session::from_sim(sim)
            .build()
            .map_err(|e| e.to_string())?;
        replay.set_history_limit(sim.history_limit());
        let mut out = raftlab_core::trace::header_line(sim.header());
        out.push('\n');
        let mut written = 0;
        let mut t = 0;
        while written < target {
            if t > end {
                return Err(format!(
                    "replaying the run gave {written} events, not {target}"
                ));
            }
            t += 1000;
            replay.run_until(t.min(end));
            let upto = replay.position().min(target);
            for seq in written + 1..=upto {
                let Some(e) = replay.event(seq) else {
                    return Err(format!("event #{seq} was dropped before it was written"));
                };
                if sim.event(seq).is_some_and(|kept| kept != e) {
                    return Err(format!("the replay differs from the run at event #{seq}"));
                }
                out.push_str(&e.to_line());
                out.push('\n');
            }
            written = upto;
        }
        Ok(out)
    }

    /// A stalled run goes no further: the visual clock stays where the
    /// simulator's stopped.
    fn hold_if_stalled(&mut self) {
        if self.sim.stalled().is_some() {
            self.vt = self.sim.now() as f64;
        }
    }

    /// The simulated time the known history reaches.
    pub fn known_end(&self) -> u64 {
        let last = self.sim.events().last().map(|e| e.time).unwrap_or(0);
        last.max(self.sim.now())
    }

    /// The send event of message `id`, if it is in the known history.
    pub fn send_of(&self, id: u64) -> Option<&TraceEvent> {
        let seq = *self
            .send_seq
            .get(id.checked_sub(self.send_base)? as usize)?;
        self.sim.event(seq)
    }

    /// Moves the clock to simulated time `t`, backwards or forwards.
    pub fn scrub(&mut self, t: f64) {
        let t = t.max(0.0);
        let ms = t.floor() as u64;
        if ms < self.sim.now() {
            // The last event at or before `ms` marks a micro-step at or before it.
            let events = self.sim.events();
            let k = events.partition_point(|e| e.time <= ms);
            if k == 0 {
                self.sim.goto_step(0);
            } else {
                self.sim.goto_event(events[k - 1].seq);
            }
        }
        self.sim.run_until(ms);
        // Before the kept history, the clock stops where it starts.
        self.vt = t.max(self.sim.now() as f64);
        self.refresh();
        self.rewatch();
    }

    /// Whether acting now would discard a known future.
    pub fn in_past(&self) -> bool {
        self.future_len() > 0
    }

    /// Acts on the cluster now. Acting in the past starts a new branch.
    pub fn act(&mut self, action: Action) -> Result<(), String> {
        self.branch_if_past();
        let result = self.sim.act(action);
        self.vt = self.vt.max(self.sim.now() as f64);
        self.refresh();
        self.rewatch();
        result
    }

    /// Records a branch when the present is in the past (the simulator
    /// discards the known future on the next action).
    fn branch_if_past(&mut self) {
        if self.in_past() {
            let position = self.sim.position();
            self.branches.push(Branch {
                time: self.sim.now(),
                position,
            });
            self.forget_after(position);
        }
    }

    /// Forgets marks and sends after event `seq` (a discarded future).
    fn forget_after(&mut self, seq: u64) {
        self.marks.retain(|m| m.seq <= seq);
        let keep = self.send_seq.partition_point(|&s| s <= seq);
        self.send_seq.truncate(keep);
        self.scanned = self.scanned.min(seq);
    }

    /// Scans events not yet seen into the marks and the send index.
    fn refresh(&mut self) {
        let known = self.known_seq();
        if known < self.scanned {
            // Defensive: history shrank without a branch being recorded.
            self.forget_after(known);
        }
        // Sends that left the kept history: their ids are forgotten.
        let start = self.sim.history_start().seq;
        while self.send_seq.front().is_some_and(|&s| s < start) {
            self.send_seq.pop_front();
            self.send_base += 1;
        }
        let events = self.sim.events();
        let from = (self.scanned + 1).max(start) - start;
        for e in events.get(from as usize..).unwrap_or(&[]) {
            let kind = match &e.kind {
                EventKind::Role {
                    node,
                    role: Role::Leader,
                    term,
                    ..
                } => Some(MarkKind::Leader {
                    node: *node,
                    term: *term,
                }),
                EventKind::Crash { node } => Some(MarkKind::Crash(*node)),
                EventKind::Restart { node } => Some(MarkKind::Restart(*node)),
                EventKind::Partition { .. } => Some(MarkKind::Partition),
                EventKind::Heal {} => Some(MarkKind::Heal),
                EventKind::Action { action } => membership_label(action).map(MarkKind::Membership),
                EventKind::Send { id, .. } => {
                    if self.send_seq.is_empty() {
                        self.send_base = *id;
                    }
                    if let Some(idx) = id.checked_sub(self.send_base) {
                        let idx = idx as usize;
                        if idx >= self.send_seq.len() {
                            self.send_seq.resize(idx + 1, 0);
                        }
                        self.send_seq[idx] = e.seq;
                    }
                    None
                }
                _ => None,
            };
            if let Some(kind) = kind {
                self.marks.push(Mark {
                    seq: e.seq,
                    time: e.time,
                    kind,
                });
            }
        }
        self.scanned = known;
    }
}

/// The clock as the page drives it; a lesson whose step waits for an
/// answer holds it, and one whose step waits for its condition drives the
/// simulator while it runs forward.
impl Clock for Lab {
    fn advance(&mut self, dt: f64) {
        if !(dt.is_finite() && dt > 0.0) {
            return;
        }
        if self.lesson_holds() {
            return;
        }
        let target = self.vt + dt;
        if self.lesson_drives() {
            let until = target.floor() as u64;
            let run = self.lesson.as_mut().expect("a lesson drives");
            if run.drive(&mut self.sim, until) == StepStatus::Waiting {
                self.vt = target;
            } else {
                // The step completed (or failed) here: the clock stops at it.
                self.vt = self.sim.now() as f64;
            }
        } else {
            self.vt = target;
            self.sim.run_until(self.vt.floor() as u64);
        }
        self.hold_if_stalled();
        self.refresh();
    }

    /// Stops where a lesson's step completes.
    fn forward(&mut self, ms: u64) {
        if self.lesson_holds() {
            return;
        }
        let target = self.vt.floor() + ms as f64;
        if self.lesson_drives() {
            let run = self.lesson.as_mut().expect("a lesson drives");
            run.drive(&mut self.sim, target as u64);
            self.vt = self.sim.now() as f64;
        } else {
            self.vt = target;
            self.sim.run_until(self.vt as u64);
        }
        self.hold_if_stalled();
        self.refresh();
    }

    fn step(&mut self) {
        if self.lesson_holds() {
            return;
        }
        self.sim.step_event(STEP_LIMIT);
        self.vt = self.sim.now() as f64;
        self.refresh();
    }

    fn step_back(&mut self) {
        let sim = &mut self.sim;
        let target = step_back_target(sim.position(), |p| sim.step_of_event(p));
        sim.goto_step(target);
        self.vt = sim.now() as f64;
        self.rewatch();
    }

    fn stalled(&self) -> Option<&Stalled> {
        self.sim.stalled()
    }

    fn goto_event(&mut self, seq: u64) {
        self.sim.goto_event(seq);
        self.vt = self.sim.now() as f64;
        self.refresh();
        self.rewatch();
    }
}

/// A short label for a membership action (`+L6`, `+V6`, `−3`, `joint`).
fn membership_label(action: &serde_json::Value) -> Option<String> {
    let node = action.get("node").and_then(|n| n.as_u64());
    match (action.get("kind")?.as_str()?, node) {
        ("add_learner", Some(n)) => Some(format!("+L{n}")),
        ("add_voter", Some(n)) => Some(format!("+V{n}")),
        ("remove", Some(n)) => Some(format!("−{n}")),
        ("joint", _) => Some("joint".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
