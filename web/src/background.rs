//! Work the page does in the background: many seeded runs for an
//! experiment (`experiment`, run by the experiment worker, a Web Worker),
//! and the break-it hunt for a seed that shows a bug (run here a slice at a
//! time between animation frames by `run_slices` in the components). Plain
//! Rust over `Sim`, tested natively.

// The app only sends jobs and files results; the runs themselves go in the
// worker (and in this module's tests).
#[cfg_attr(not(test), allow(dead_code))]
pub mod experiment;

use raftlab_core::config::Bug;
use raftlab_core::session::Session;
use raftlab_core::sim::chaos::{nodes_for_seed, standard_setup, Chaos};
use raftlab_core::sim::Sim;

/// The break-it hunt: chaos runs (as `raftlab chaos` makes them) with one
/// deliberate bug, seed after seed, until the checker catches it.
pub struct Hunt {
    /// The bug hunted.
    pub bug: Bug,
    /// Seeds tried so far.
    pub tried: u64,
    /// The most seeds to try.
    pub max_seeds: u64,
    until: u64,
    current: Option<(u64, Sim, Chaos)>,
    /// The run that broke a rule, as a session to open.
    pub found: Option<(u64, Session)>,
}

impl Hunt {
    /// A hunt for `bug`, `until` ms of chaos per seed.
    pub fn new(bug: Bug, until: u64, max_seeds: u64) -> Hunt {
        Hunt {
            bug,
            tried: 0,
            max_seeds,
            until,
            current: None,
            found: None,
        }
    }

    /// Whether the hunt is over (found, or out of seeds).
    pub fn over(&self) -> bool {
        self.found.is_some() || (self.tried >= self.max_seeds && self.current.is_none())
    }

    /// Runs a slice of the current seed; returns whether there is more to do.
    pub fn work(&mut self) -> bool {
        if self.over() {
            return false;
        }
        if self.current.is_none() {
            let seed = self.tried + 1;
            self.tried += 1;
            let (cfg, opts) = standard_setup(seed, &[self.bug]);
            let nodes = nodes_for_seed(seed, 3, 7);
            match Sim::new(seed, nodes, cfg) {
                Ok(sim) => self.current = Some((seed, sim, Chaos::new(seed, opts))),
                Err(_) => return !self.over(),
            }
        }
        if let Some((seed, sim, chaos)) = self.current.as_mut() {
            // A chaos run calms down at 80% of its length, so it is run whole.
            chaos.drive(sim, self.until);
            if !sim.violations().is_empty() {
                self.found = Some((*seed, Session::from_sim(sim)));
            }
            self.current = None;
        }
        !self.over()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hunt_finds_figure8() {
        let mut h = Hunt::new(Bug::Figure8, 10_000, 40);
        while h.work() {}
        let (seed, session) = h.found.expect("a seed breaks a rule");
        let sim = session.replay().unwrap();
        assert!(
            !sim.violations().is_empty(),
            "seed {seed} replays its violation"
        );
    }
}
