//! The micro-step loop both simulators drive the same way: run the next
//! micro-step due, run up to a time, run an action just scheduled, and go
//! back to an earlier step or time from a checkpoint (a clone of the run's
//! state) by replay. What a micro-step is and does is each simulator's own.
//!
//! Every micro-step goes through a guard: a run whose clock stops moving
//! (more than a budget of micro-steps in one simulated millisecond) stops
//! with a [`Stalled`] error instead of spinning for ever, so a runner, a
//! sweep of seeds or the page can say what looped and go on.

use std::fmt;

/// Micro-steps one simulated millisecond may take before the run counts as
/// stalled. A busy millisecond of a nine-node cluster under chaos takes a
/// few hundred; this is far above any real one and still found in a
/// fraction of a second.
pub(crate) const STALL_STEPS: u64 = 100_000;

/// A run that stopped making progress in simulated time: the clock stayed
/// at `time` for more micro-steps than the guard allows. It names the seed
/// and the time, so the run can be reproduced, and what was looping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stalled {
    /// The run's seed.
    pub seed: u64,
    /// The simulated time the clock stayed at, ms.
    pub time: u64,
    /// Micro-steps taken when the guard stopped the run.
    pub step: u64,
    /// Micro-steps run at `time` without the clock moving.
    pub steps: u64,
    /// What was looping: the micro-step that would have run next, and the
    /// micro-steps of that millisecond by kind.
    pub looping: String,
}

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the simulation stopped making progress: seed {}, simulated time {} ms \
             (micro-step {}): {} micro-steps without the clock moving; looping: {}",
            self.seed, self.time, self.step, self.steps, self.looping
        )
    }
}

impl std::error::Error for Stalled {}

/// Micro-step kinds the guard counts (a simulator numbers its own).
const KINDS: usize = 8;

/// The guard's count of the current millisecond, part of the run's state
/// (a checkpoint restored brings back its count, and clears a stall found
/// later: running forward again finds it again, at the same step).
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    seed: u64,
    /// The millisecond being counted.
    time: u64,
    /// Micro-steps run in it.
    steps: u64,
    /// The same, by kind.
    by_kind: [u64; KINDS],
    stalled: Option<Stalled>,
}

impl Guard {
    /// A guard for the run of `seed`, at time 0.
    pub fn new(seed: u64) -> Guard {
        Guard {
            seed,
            time: 0,
            steps: 0,
            by_kind: [0; KINDS],
            stalled: None,
        }
    }

    /// Why the run stopped, if the guard stopped it.
    pub fn stalled(&self) -> Option<&Stalled> {
        self.stalled.as_ref()
    }

    /// Counts a micro-step of `kind` at `time`; false when it is one more
    /// than `budget` in that millisecond.
    fn count(&mut self, time: u64, kind: usize, budget: u64) -> bool {
        if time != self.time {
            self.time = time;
            self.steps = 0;
            self.by_kind = [0; KINDS];
        }
        if self.steps >= budget {
            return false;
        }
        self.steps += 1;
        self.by_kind[kind.min(KINDS - 1)] += 1;
        true
    }
}

/// What a checkpoint is: the cloneable state of a run, and where it stands.
pub(crate) trait RunState: Clone {
    /// Micro-steps taken.
    fn step(&self) -> u64;
    /// Simulated time of the latest micro-step, in ms.
    fn now(&self) -> u64;
    /// How many actions of the script have run.
    fn actions_done(&self) -> usize;
    /// The progress guard.
    fn guard(&self) -> &Guard;
}

/// Clones of the run's state taken as it goes, spaced `every` micro-steps
/// apart; past `most` of them every other one is dropped and the spacing
/// doubles, so a long run keeps a bounded number.
#[derive(Clone)]
pub(crate) struct Checkpoints<S> {
    list: Vec<S>,
    every: u64,
    first_every: u64,
    most: usize,
}

impl<S: RunState> Checkpoints<S> {
    /// No checkpoints yet; they will be `every` micro-steps apart at first.
    pub fn new(every: u64, most: usize) -> Self {
        Checkpoints {
            list: Vec::new(),
            every,
            first_every: every,
            most,
        }
    }

    /// Takes a checkpoint of `state` now (the run's start).
    pub fn take(&mut self, state: &S) {
        self.list.push(state.clone());
    }

    /// Takes a checkpoint of `state` if it is due; returns whether it did.
    pub fn maybe_take(&mut self, state: &S) -> bool {
        let last = self.list.last().map(|c| c.step()).unwrap_or(0);
        if state.step() < last + self.every {
            return false;
        }
        self.list.push(state.clone());
        if self.list.len() > self.most {
            // Thin: keep every other one (the first stays).
            let mut i = 0;
            self.list.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.every *= 2;
        }
        true
    }

    /// The checkpoints, oldest first.
    pub fn list(&self) -> &[S] {
        &self.list
    }

    /// The latest checkpoint `at_or_before` accepts, else the first.
    pub fn latest(&self, at_or_before: impl Fn(&S) -> bool) -> Option<&S> {
        self.list
            .iter()
            .rev()
            .find(|c| at_or_before(c))
            .or(self.list.first())
    }

    /// Forgets the checkpoints after micro-step `step` (a new branch).
    pub fn forget_after(&mut self, step: u64) {
        self.list.retain(|c| c.step() <= step);
    }

    /// Forgets the first `n` checkpoints (history dropped), spacing the
    /// rest closer again while there are few, so the spacing follows the
    /// history kept and never grows without end.
    pub fn forget_first(&mut self, n: usize) {
        self.list.drain(..n);
        while self.every > self.first_every && self.list.len() * 2 < self.most {
            self.every /= 2;
        }
    }
}

/// An action of a script, at its time.
pub(crate) trait Timed {
    /// Its simulated time, ms.
    fn time(&self) -> u64;
}

/// Puts `action` into `script` after the `done` actions already run and
/// the others due by its time (so actions of one ms run in the order made).
pub(crate) fn schedule<T: Timed>(script: &mut Vec<T>, done: usize, action: T) {
    let time = action.time();
    let at = script[done..].partition_point(|a| a.time() <= time) + done;
    script.insert(at, action);
}

/// A simulator's micro-step loop, for the driving functions below.
pub(crate) trait Engine {
    /// The cloneable state of the run.
    type State: RunState;
    /// A micro-step due.
    type Due: Copy;
    /// When `due` is due.
    fn due_time(due: Self::Due) -> u64;
    /// Names of the kinds of micro-step, by `due_kind` (at most 8).
    const KIND_NAMES: &'static [&'static str];
    /// The kind of `due`, an index into `KIND_NAMES`.
    fn due_kind(due: Self::Due) -> usize;
    /// What `due` is, in words, for a stall's report.
    fn describe(&self, due: Self::Due) -> String;
    /// The progress guard, to count with.
    fn guard_mut(&mut self) -> &mut Guard;
    /// Micro-steps one millisecond may take (`STALL_STEPS` unless a test
    /// asks for fewer).
    fn stall_budget(&self) -> u64;
    /// Moves the clock to `time` if it is behind: the run has reached it.
    fn reach(&mut self, time: u64);
    /// The next micro-step due, actions included.
    fn next_due(&self) -> Option<Self::Due>;
    /// Runs one micro-step; an action's refusal comes back.
    fn run_due(&mut self, due: Self::Due) -> Result<(), String>;
    /// The state of the run.
    fn state(&self) -> &Self::State;
    /// Puts the run back to a checkpoint.
    fn restore(&mut self, state: Self::State);
    /// The checkpoints.
    fn checkpoints(&self) -> &Checkpoints<Self::State>;
}

/// Runs `due` unless the guard stops the run: a stall found now or
/// before comes back as the error, else what the micro-step came to.
fn run_guarded<E: Engine>(e: &mut E, due: E::Due) -> Result<Result<(), String>, Stalled> {
    if let Some(s) = e.state().guard().stalled() {
        return Err(s.clone());
    }
    // The clock never goes back: this is the time the micro-step runs at.
    let time = E::due_time(due).max(e.state().now());
    let budget = e.stall_budget();
    if !e.guard_mut().count(time, E::due_kind(due), budget) {
        let g = e.state().guard();
        let counts: Vec<String> = g
            .by_kind
            .iter()
            .zip(E::KIND_NAMES)
            .filter(|(n, _)| **n > 0)
            .map(|(n, name)| format!("{n} {name}"))
            .collect();
        let stalled = Stalled {
            seed: g.seed,
            time,
            step: e.state().step(),
            steps: g.steps,
            looping: format!(
                "{} next (this millisecond: {})",
                e.describe(due),
                counts.join(", ")
            ),
        };
        e.guard_mut().stalled = Some(stalled.clone());
        return Err(stalled);
    }
    Ok(e.run_due(due))
}

/// Runs micro-steps until the action just scheduled has run (the
/// `actions_done`-th and those before it); returns what it came to.
pub(crate) fn run_action<E: Engine>(e: &mut E) -> Result<(), String> {
    let target = e.state().actions_done() + 1;
    loop {
        let Some(due) = e.next_due() else {
            return Err("nothing to run".into());
        };
        let result = run_guarded(e, due).map_err(|s| s.to_string())?;
        if e.state().actions_done() >= target {
            return result;
        }
    }
}

/// Runs the next micro-step, if any (none once the run has stalled).
pub(crate) fn step<E: Engine>(e: &mut E) {
    if let Some(due) = e.next_due() {
        let _ = run_guarded(e, due);
    }
}

/// Runs every micro-step due at or before `time`, and moves the clock to
/// `time`: the run has reached it even when nothing was due (a cluster
/// whose every node is down), so whoever drives the run by the clock
/// sees it move. Stops early, with the error, if the run stalls.
pub(crate) fn run_until<E: Engine>(e: &mut E, time: u64) -> Result<(), Stalled> {
    while let Some(due) = e.next_due() {
        if E::due_time(due) > time {
            break;
        }
        let _ = run_guarded(e, due)?;
    }
    if let Some(s) = e.state().guard().stalled() {
        return Err(s.clone());
    }
    e.reach(time);
    Ok(())
}

/// Rebuilds the run as it was after micro-step `step`: backwards from the
/// nearest checkpoint (or the first, before the history kept) by replay,
/// forwards by running.
pub(crate) fn goto_step<E: Engine>(e: &mut E, step: u64) {
    if step < e.state().step() {
        let Some(cp) = e.checkpoints().latest(|c| c.step() <= step).cloned() else {
            return;
        };
        e.restore(cp);
    }
    while e.state().step() < step {
        let Some(due) = e.next_due() else {
            break;
        };
        if run_guarded(e, due).is_err() {
            break;
        }
    }
}

/// Goes to simulated time `time`: every micro-step due at or before it has
/// run, none after (unless the run stalls on the way).
pub(crate) fn goto_time<E: Engine>(e: &mut E, time: u64) -> Result<(), Stalled> {
    if time < e.state().now() {
        let Some(cp) = e.checkpoints().latest(|c| c.now() <= time).cloned() else {
            return Ok(());
        };
        e.restore(cp);
    }
    run_until(e, time)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run whose every micro-step is due at the same ms and never moves
    /// the clock: a simulator bug of the kind the guard is there for.
    #[derive(Clone)]
    struct Stuck {
        now: u64,
        step: u64,
        guard: Guard,
        checkpoints: Checkpoints<Stuck>,
    }

    impl RunState for Stuck {
        fn step(&self) -> u64 {
            self.step
        }
        fn now(&self) -> u64 {
            self.now
        }
        fn actions_done(&self) -> usize {
            0
        }
        fn guard(&self) -> &Guard {
            &self.guard
        }
    }

    impl Engine for Stuck {
        type State = Stuck;
        type Due = (u64, u8);
        const KIND_NAMES: &'static [&'static str] = &["loops", "other"];
        fn due_time(due: (u64, u8)) -> u64 {
            due.0
        }
        fn due_kind(due: (u64, u8)) -> usize {
            due.1 as usize
        }
        fn describe(&self, due: (u64, u8)) -> String {
            format!("loop {}", due.1)
        }
        fn guard_mut(&mut self) -> &mut Guard {
            &mut self.guard
        }
        fn stall_budget(&self) -> u64 {
            STALL_STEPS
        }
        fn reach(&mut self, time: u64) {
            self.now = self.now.max(time);
        }
        fn next_due(&self) -> Option<(u64, u8)> {
            Some((5, 0))
        }
        fn run_due(&mut self, due: (u64, u8)) -> Result<(), String> {
            self.now = self.now.max(due.0);
            self.step += 1;
            Ok(())
        }
        fn state(&self) -> &Stuck {
            self
        }
        fn restore(&mut self, state: Stuck) {
            *self = state;
        }
        fn checkpoints(&self) -> &Checkpoints<Stuck> {
            &self.checkpoints
        }
    }

    fn stuck() -> Stuck {
        Stuck {
            now: 0,
            step: 0,
            guard: Guard::new(9),
            checkpoints: Checkpoints::new(1 << 40, 1),
        }
    }

    #[test]
    fn a_loop_that_never_moves_the_clock_ends_with_a_stall_not_a_hang() {
        let mut e = stuck();
        let s = run_until(&mut e, 10).expect_err("stalls");
        assert_eq!((s.seed, s.time, s.steps), (9, 5, STALL_STEPS));
        assert_eq!(e.step, STALL_STEPS);
        assert_eq!(
            s.looping,
            format!("loop 0 next (this millisecond: {STALL_STEPS} loops)")
        );
        // Every way of driving the run stops there too.
        assert_eq!(run_until(&mut e, 10), Err(s.clone()));
        assert_eq!(run_action(&mut e), Err(s.to_string()));
        step(&mut e);
        goto_step(&mut e, STALL_STEPS + 5);
        assert_eq!(e.step, STALL_STEPS);
    }

    #[test]
    fn the_count_starts_again_each_millisecond() {
        let mut g = Guard::new(1);
        for t in 0..10 {
            assert!((0..3).all(|_| g.count(t, 0, 3)));
        }
        assert!(!g.count(9, 1, 3));
        assert!(g.count(10, 1, 3));
    }
}
