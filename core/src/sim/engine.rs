//! The micro-step loop both simulators drive the same way: run the next
//! micro-step due, run up to a time, run an action just scheduled, and go
//! back to an earlier step or time from a checkpoint (a clone of the run's
//! state) by replay. What a micro-step is and does is each simulator's own.

/// What a checkpoint is: the cloneable state of a run, and where it stands.
pub(crate) trait RunState: Clone {
    /// Micro-steps taken.
    fn step(&self) -> u64;
    /// Simulated time of the latest micro-step, in ms.
    fn now(&self) -> u64;
    /// How many actions of the script have run.
    fn actions_done(&self) -> usize;
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

/// Runs micro-steps until the action just scheduled has run (the
/// `actions_done`-th and those before it); returns what it came to.
pub(crate) fn run_action<E: Engine>(e: &mut E) -> Result<(), String> {
    let target = e.state().actions_done() + 1;
    loop {
        let Some(due) = e.next_due() else {
            return Err("nothing to run".into());
        };
        let result = e.run_due(due);
        if e.state().actions_done() >= target {
            return result;
        }
    }
}

/// Runs the next micro-step, if any.
pub(crate) fn step<E: Engine>(e: &mut E) {
    if let Some(due) = e.next_due() {
        let _ = e.run_due(due);
    }
}

/// Runs every micro-step due at or before `time`.
pub(crate) fn run_until<E: Engine>(e: &mut E, time: u64) {
    while let Some(due) = e.next_due() {
        if E::due_time(due) > time {
            break;
        }
        let _ = e.run_due(due);
    }
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
        if e.next_due().is_none() {
            break;
        }
        self::step(e);
    }
}

/// Goes to simulated time `time`: every micro-step due at or before it has
/// run, none after.
pub(crate) fn goto_time<E: Engine>(e: &mut E, time: u64) {
    if time < e.state().now() {
        let Some(cp) = e.checkpoints().latest(|c| c.now() <= time).cloned() else {
            return;
        };
        e.restore(cp);
    }
    run_until(e, time);
}
