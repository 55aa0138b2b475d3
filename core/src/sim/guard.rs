//! The progress guard every micro-step goes through: a run whose clock
//! stops moving (more than a budget of micro-steps in one simulated
//! millisecond) stops with a [`Stalled`] error instead of spinning for
//! ever, so a runner, a sweep of seeds or the page can say what looped and
//! go on.

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

/// Micro-step kinds the guard counts (the simulator numbers them).
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
    /// than `budget` in that millisecond: the run must stop (see `stall`).
    pub fn count(&mut self, time: u64, kind: usize, budget: u64) -> bool {
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

    /// Stops the run at `time`, after `step` micro-steps, once `count` has
    /// refused one: the stall, with `next` (what would have run) and this
    /// millisecond's micro-steps by kind (named by `names`), is kept, so
    /// every later micro-step is refused too, and returned.
    pub fn stall(&mut self, time: u64, step: u64, names: &[&str], next: &str) -> Stalled {
        let counts: Vec<String> = self
            .by_kind
            .iter()
            .zip(names)
            .filter(|(n, _)| **n > 0)
            .map(|(n, name)| format!("{n} {name}"))
            .collect();
        let stalled = Stalled {
            seed: self.seed,
            time,
            step,
            steps: self.steps,
            looping: format!("{next} next (this millisecond: {})", counts.join(", ")),
        };
        self.stalled = Some(stalled.clone());
        stalled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_starts_again_each_millisecond() {
        let mut g = Guard::new(1);
        for t in 0..10 {
            assert!((0..3).all(|_| g.count(t, 0, 3)));
        }
        assert!(!g.count(9, 1, 3));
        assert!(g.count(10, 1, 3));
    }

    #[test]
    fn a_stall_names_the_seed_the_time_and_what_looped_and_is_kept() {
        let mut g = Guard::new(9);
        assert!((0..4).all(|_| g.count(5, 1, 6)));
        assert!((0..2).all(|_| g.count(5, 3, 6)));
        assert!(!g.count(5, 3, 6));
        let s = g.stall(5, 40, &["a", "b", "c", "d"], "d 7");
        assert_eq!((s.seed, s.time, s.step, s.steps), (9, 5, 40, 6));
        assert_eq!(s.looping, "d 7 next (this millisecond: 4 b, 2 d)");
        assert_eq!(g.stalled(), Some(&s));
    }
}
