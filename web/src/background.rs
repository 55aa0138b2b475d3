//! Work the page does in the background, a slice at a time between
//! animation frames (so the page stays responsive): many seeded runs for
//! an experiment, and the break-it hunt for a seed that shows a bug. Plain
//! Rust over `Sim`, tested natively; `use_slices` in the components calls
//! `work` each frame until it says it is done.

use raftlab_core::config::Bug;
use raftlab_core::session::Session;
use raftlab_core::sim::chaos::{nodes_for_seed, standard_setup, Chaos};
use raftlab_core::sim::{Action, Sim, SimConfig};
use raftlab_core::trace::EventKind;
use raftlab_core::types::Role;

/// Simulated ms a run advances per slice.
const CHUNK_MS: u64 = 50;

/// The experiments on offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExperimentKind {
    /// Time to elect the first leader against the election timeout range.
    ElectionTimeout,
    /// Elections in 10 s with a flaky server, PreVote off and on.
    PreVoteFlaky,
}

impl ExperimentKind {
    /// Every experiment, in menu order.
    pub const ALL: [ExperimentKind; 2] = [
        ExperimentKind::ElectionTimeout,
        ExperimentKind::PreVoteFlaky,
    ];

    /// Its name in links and test ids.
    pub fn id(self) -> &'static str {
        match self {
            ExperimentKind::ElectionTimeout => "election-timeout",
            ExperimentKind::PreVoteFlaky => "prevote-flaky",
        }
    }

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            ExperimentKind::ElectionTimeout => "Time to elect a leader vs. election timeout range",
            ExperimentKind::PreVoteFlaky => "Elections with a flaky server: PreVote off vs. on",
        }
    }

    /// What is measured, for the axis.
    pub fn unit(self) -> &'static str {
        match self {
            ExperimentKind::ElectionTimeout => "ms until the first leader",
            ExperimentKind::PreVoteFlaky => "elections started in 10 s",
        }
    }

    /// What the experiment shows, in a sentence.
    pub fn about(self) -> &'static str {
        match self {
            ExperimentKind::ElectionTimeout => "Five servers start together. With a narrow timeout range several time out at once and split the vote; a wide range lets one go first. Each dot is one seed.",
            ExperimentKind::PreVoteFlaky => "S5 is cut off for 600 ms every 1.5 s (CheckQuorum off). Without PreVote it raises its term while alone and forces an election each time it returns; with PreVote it must first win a pre-vote, which it cannot. Each dot is one seed.",
        }
    }

    fn groups(self) -> Vec<(String, SimConfig)> {
        match self {
            ExperimentKind::ElectionTimeout => {
                [[150, 155], [150, 175], [150, 225], [150, 300], [150, 450]]
                    .into_iter()
                    .map(|range| {
                        let cfg = SimConfig {
                            election_timeout_ms: range,
                            ..SimConfig::default()
                        };
                        (format!("{}–{} ms", range[0], range[1]), cfg)
                    })
                    .collect()
            }
            ExperimentKind::PreVoteFlaky => [false, true]
                .into_iter()
                .map(|prevote| {
                    let cfg = SimConfig {
                        prevote,
                        check_quorum: false,
                        ..SimConfig::default()
                    };
                    (
                        format!("PreVote {}", if prevote { "on" } else { "off" }),
                        cfg,
                    )
                })
                .collect(),
        }
    }

    /// How long one run may take, simulated ms.
    fn horizon(self) -> u64 {
        match self {
            ExperimentKind::ElectionTimeout => 10_000,
            ExperimentKind::PreVoteFlaky => 10_000,
        }
    }

    fn prepare(self, sim: &mut Sim) {
        if self == ExperimentKind::PreVoteFlaky {
            let mut t = 1000;
            while t < self.horizon() {
                sim.schedule(
                    t,
                    Action::Partition {
                        groups: vec![vec![1, 2, 3, 4], vec![5]],
                    },
                );
                sim.schedule(t + 600, Action::Heal);
                t += 1500;
            }
        }
    }

    /// The measurement once the run is over, or `None` while it goes on.
    fn measure(self, sim: &Sim, done: bool) -> Option<f64> {
        match self {
            ExperimentKind::ElectionTimeout => {
                let first = sim.events().iter().find(|e| {
                    matches!(
                        e.kind,
                        EventKind::Role {
                            role: Role::Leader,
                            ..
                        }
                    )
                });
                match first {
                    Some(e) => Some(e.time as f64),
                    None if done => Some(self.horizon() as f64),
                    None => None,
                }
            }
            ExperimentKind::PreVoteFlaky => done.then(|| {
                sim.events()
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.kind,
                            EventKind::Role {
                                role: Role::Candidate,
                                ..
                            }
                        )
                    })
                    .count() as f64
            }),
        }
    }
}

/// One bar of the plot: a setting and what its runs measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The setting, in words.
    pub label: String,
    /// One value per finished run.
    pub values: Vec<f64>,
}

/// Many seeded runs, advanced a slice at a time.
pub struct Experiment {
    /// Which experiment.
    pub kind: ExperimentKind,
    /// Results so far.
    pub groups: Vec<Group>,
    configs: Vec<SimConfig>,
    runs: u64,
    /// Next run to start: (group, seed index).
    next: (usize, u64),
    current: Option<(usize, Sim)>,
}

impl Experiment {
    /// `runs` seeds for each setting of `kind`.
    pub fn new(kind: ExperimentKind, runs: u64) -> Experiment {
        let (labels, configs): (Vec<String>, Vec<SimConfig>) = kind.groups().into_iter().unzip();
        Experiment {
            kind,
            groups: labels
                .into_iter()
                .map(|label| Group {
                    label,
                    values: Vec::new(),
                })
                .collect(),
            configs,
            runs: runs.max(1),
            next: (0, 0),
            current: None,
        }
    }

    /// (runs finished, runs in all).
    pub fn progress(&self) -> (u64, u64) {
        let done: usize = self.groups.iter().map(|g| g.values.len()).sum();
        (done as u64, self.runs * self.groups.len() as u64)
    }

    /// Whether every run is finished.
    pub fn done(&self) -> bool {
        let (d, n) = self.progress();
        d >= n
    }

    /// Advances the experiment by a little simulated time; returns whether
    /// there is more to do.
    pub fn work(&mut self) -> bool {
        if self.done() {
            return false;
        }
        if self.current.is_none() {
            let (g, i) = self.next;
            let seed = 1 + i;
            let Ok(mut sim) = Sim::new(seed, 5, self.configs[g].clone()) else {
                // A setting the simulator refuses: count the run as empty.
                self.groups[g].values.push(f64::NAN);
                self.advance_next();
                return !self.done();
            };
            self.kind.prepare(&mut sim);
            self.current = Some((g, sim));
            self.advance_next();
        }
        let horizon = self.kind.horizon();
        if let Some((g, sim)) = self.current.as_mut() {
            let t = (sim.now() + CHUNK_MS).min(horizon);
            sim.run_until(t);
            let over = t >= horizon;
            if let Some(v) = self.kind.measure(sim, over) {
                self.groups[*g].values.push(v);
                self.current = None;
            }
        }
        !self.done()
    }

    fn advance_next(&mut self) {
        let (g, i) = self.next;
        self.next = if i + 1 < self.runs {
            (g, i + 1)
        } else {
            (g + 1, 0)
        };
        if self.next.0 >= self.groups.len() {
            self.next = (self.groups.len(), 0);
        }
    }
}

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
    fn an_experiment_runs_every_seed_of_every_setting() {
        let mut e = Experiment::new(ExperimentKind::ElectionTimeout, 3);
        let mut slices = 0;
        while e.work() {
            slices += 1;
            assert!(slices < 10_000);
        }
        assert_eq!(e.progress(), (15, 15));
        assert!(e.groups.iter().all(|g| g.values.len() == 3));
        assert!(e
            .groups
            .iter()
            .flat_map(|g| &g.values)
            .all(|v| *v > 0.0 && *v < 10_000.0));
    }

    #[test]
    fn prevote_keeps_a_flaky_server_from_forcing_elections() {
        let mut e = Experiment::new(ExperimentKind::PreVoteFlaky, 4);
        while e.work() {}
        let mean = |g: &Group| g.values.iter().sum::<f64>() / g.values.len() as f64;
        assert!(mean(&e.groups[0]) > mean(&e.groups[1]), "{:?}", e.groups);
    }

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
