//! Experiment mode's runs: many seeded simulator runs, one number each.
//!
//! Plain Rust over `Sim` and nothing of the page, so that the same code runs
//! in the experiment worker (`src/bin/experiment-worker.rs`, a second wasm
//! binary the page starts as a Web Worker), natively in the tests, and
//! natively from the command line (`cargo run -p raftlab-web --bin
//! experiment-worker -- KIND RUNS`), which the browser test uses to check the
//! page's figures against native ones: the runs are deterministic.
//!
//! The page sends the worker a [`Job`] (the experiment, its settings and the
//! seeds) as JSON; the worker answers with [`Report`]s as JSON: `ready` once
//! loaded, then batches of [`RunResult`]s as the runs finish, then `finished`.

use raftlab_core::sim::{Action, Sim, SimConfig};
use raftlab_core::trace::EventKind;
use raftlab_core::types::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Simulated ms a run advances between looks at its events (a run that has
/// its answer early stops early).
const CHUNK_MS: u64 = 50;

/// Servers in every run.
const NODES: u64 = 5;

/// The experiments on offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExperimentKind {
    /// Time to elect the first leader against the election timeout range.
    #[serde(rename = "election-timeout")]
    ElectionTimeout,
    /// Elections in 10 s with a flaky server, PreVote off and on.
    #[serde(rename = "prevote-flaky")]
    PreVoteFlaky,
}

impl ExperimentKind {
    /// Every experiment, in menu order.
    pub const ALL: [ExperimentKind; 2] = [
        ExperimentKind::ElectionTimeout,
        ExperimentKind::PreVoteFlaky,
    ];

    /// Its name in links, test ids and the worker's messages.
    pub fn id(self) -> &'static str {
        match self {
            ExperimentKind::ElectionTimeout => "election-timeout",
            ExperimentKind::PreVoteFlaky => "prevote-flaky",
        }
    }

    /// The experiment called `id`.
    pub fn from_id(id: &str) -> Option<ExperimentKind> {
        ExperimentKind::ALL.into_iter().find(|k| k.id() == id)
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

    /// The parameter grid: each setting's label and simulator settings.
    pub fn settings(self) -> Vec<Setting> {
        match self {
            ExperimentKind::ElectionTimeout => {
                [[150, 155], [150, 175], [150, 225], [150, 300], [150, 450]]
                    .into_iter()
                    .map(|range| Setting {
                        label: format!("{}–{} ms", range[0], range[1]),
                        config: SimConfig {
                            election_timeout_ms: range,
                            ..SimConfig::default()
                        },
                    })
                    .collect()
            }
            ExperimentKind::PreVoteFlaky => [false, true]
                .into_iter()
                .map(|prevote| Setting {
                    label: format!("PreVote {}", if prevote { "on" } else { "off" }),
                    config: SimConfig {
                        prevote,
                        check_quorum: false,
                        ..SimConfig::default()
                    },
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

    /// The faults of the experiment, scheduled before the run starts.
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
}

/// One setting of an experiment's parameter grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// The setting, in words (a row of the plot).
    pub label: String,
    /// The simulator settings of its runs.
    pub config: SimConfig,
}

/// What the page asks the worker to run: every seed under every setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Tells this job's reports from an earlier job's.
    pub id: u32,
    /// What each run measures, and its faults.
    pub kind: ExperimentKind,
    /// The parameter grid.
    pub settings: Vec<Setting>,
    /// The seeds, each run under every setting.
    pub seeds: Vec<u64>,
}

impl Job {
    /// Seeds 1..=`runs` under each of `kind`'s settings.
    pub fn new(id: u32, kind: ExperimentKind, runs: u64) -> Job {
        Job {
            id,
            kind,
            settings: kind.settings(),
            seeds: (1..=runs.max(1)).collect(),
        }
    }

    /// How many runs in all.
    pub fn total(&self) -> usize {
        self.settings.len() * self.seeds.len()
    }

    /// The runs in the order the worker does them, as (setting, seed): seed
    /// by seed, every setting for each, so that every row of the plot fills
    /// in at the same pace and a stopped job still compares like with like.
    pub fn runs(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.seeds
            .iter()
            .flat_map(move |&seed| (0..self.settings.len()).map(move |s| (s, seed)))
    }

    /// Runs every run in order, handing each result to `emit` as it
    /// finishes.
    pub fn run(&self, mut emit: impl FnMut(RunResult)) {
        for (setting, seed) in self.runs() {
            let value = run_one(self.kind, &self.settings[setting].config, seed);
            emit(RunResult {
                setting,
                seed,
                value,
            });
        }
    }
}

/// One finished run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RunResult {
    /// Index of its setting in the job.
    pub setting: usize,
    /// Its seed.
    pub seed: u64,
    /// What it measured; `None` if the simulator refused the setting.
    pub value: Option<f64>,
}

/// What the worker tells the page (read back by [`Report::from_json`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Report {
    /// The worker is loaded and listening (a job posted earlier would be lost).
    Ready,
    /// Runs finished since the last report, in order.
    Results {
        /// The job they belong to.
        job: u32,
        /// The runs.
        results: Vec<RunResult>,
    },
    /// Every run of the job is done.
    Finished {
        /// The job.
        job: u32,
        /// Wall-clock ms the worker spent on it.
        ms: f64,
    },
    /// A run saved as a lesson: the lesson file's text (the answer to a
    /// [`lesson_request`]).
    Lesson {
        /// The lesson file, as `lesson_json` writes it.
        text: String,
    },
    /// A message the worker could not read as a job (or a run that could
    /// not be saved as a lesson).
    Refused {
        /// Why.
        reason: String,
    },
}

impl Report {
    /// Reads a report the worker sent. Hand-written over `serde_json::Value`
    /// (the page already parses JSON into one) because the derived,
    /// internally tagged `Deserialize` was about 11 KB of the page's wasm.
    /// Errors use serde's words; unknown fields are ignored.
    pub fn from_json(text: &str) -> Result<Report, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let field = |name: &str| v.get(name).ok_or_else(|| format!("missing field `{name}`"));
        let string = |name: &str| {
            field(name)?
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("field `{name}`: expected a string"))
        };
        let job = || {
            field("job")?
                .as_u64()
                .and_then(|j| u32::try_from(j).ok())
                .ok_or_else(|| "field `job`: expected u32".to_string())
        };
        match v.get("type").and_then(Value::as_str) {
            Some("ready") => Ok(Report::Ready),
            Some("results") => Ok(Report::Results {
                job: job()?,
                results: field("results")?
                    .as_array()
                    .ok_or("field `results`: expected a sequence")?
                    .iter()
                    .map(RunResult::from_value)
                    .collect::<Result<_, _>>()?,
            }),
            Some("finished") => Ok(Report::Finished {
                job: job()?,
                ms: field("ms")?.as_f64().ok_or("field `ms`: expected f64")?,
            }),
            Some("lesson") => Ok(Report::Lesson {
                text: string("text")?,
            }),
            Some("refused") => Ok(Report::Refused {
                reason: string("reason")?,
            }),
            Some(other) => Err(format!("unknown variant `{other}`")),
            None => Err("missing field `type`".into()),
        }
    }
}

impl RunResult {
    /// One run of a `results` report (see [`Report::from_json`]).
    fn from_value(v: &Value) -> Result<RunResult, String> {
        let uint = |name: &str| {
            v.get(name)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("a result's `{name}`: expected an unsigned integer"))
        };
        let value = match v.get("value") {
            None | Some(Value::Null) => None,
            Some(x) => Some(x.as_f64().ok_or("a result's `value`: expected f64")?),
        };
        Ok(RunResult {
            setting: usize::try_from(uint("setting")?).map_err(|e| e.to_string())?,
            seed: uint("seed")?,
            value,
        })
    }
}

/// The key of a lesson request: the only job that is not an experiment.
const LESSON_KEY: &str = "lesson_of";

/// Asks the worker to save a run as a lesson: the session's JSON wrapped as
/// `{"lesson_of": SESSION}`. The exporter (`raftlab_core::lesson::export`)
/// lives in the worker so that the page's first download does not carry it.
pub fn lesson_request(session_json: &str) -> String {
    format!("{{\"{LESSON_KEY}\":{session_json}}}")
}

/// The worker's answer to `text` if it is a lesson request: the lesson
/// file, or why the run could not be saved as one. `None` for any other
/// message (a job).
pub fn answer_lesson_request(text: &str) -> Option<Report> {
    if !text.starts_with(&format!("{{\"{LESSON_KEY}\":")) {
        return None;
    }
    let reply = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| e.to_string())
        .and_then(|mut v| {
            let session = v
                .get_mut(LESSON_KEY)
                .map(serde_json::Value::take)
                .unwrap_or_default();
            raftlab_core::session::Session::from_json(&session.to_string())
                .map_err(|e| e.to_string())
        })
        .and_then(|session| raftlab_core::lesson::lesson_from_session(&session))
        .map(|lesson| raftlab_core::lesson::lesson_json(&lesson));
    Some(match reply {
        Ok(text) => Report::Lesson { text },
        Err(reason) => Report::Refused { reason },
    })
}

/// Runs one seed under one setting and measures it: the time of the first
/// leader (or the horizon if none), or the elections started by the end.
/// `None` if the simulator refuses the setting.
pub fn run_one(kind: ExperimentKind, config: &SimConfig, seed: u64) -> Option<f64> {
    let mut sim = Sim::new(seed, NODES, config.clone()).ok()?;
    kind.prepare(&mut sim);
    let horizon = kind.horizon();
    match kind {
        ExperimentKind::ElectionTimeout => {
            let mut seen = 0;
            while sim.now() < horizon {
                sim.run_until((sim.now() + CHUNK_MS).min(horizon));
                let events = sim.events();
                let leader = events[seen..].iter().find(|e| {
                    matches!(
                        e.kind,
                        EventKind::Role {
                            role: Role::Leader,
                            ..
                        }
                    )
                });
                if let Some(e) = leader {
                    return Some(e.time as f64);
                }
                seen = events.len();
            }
            Some(horizon as f64)
        }
        ExperimentKind::PreVoteFlaky => {
            sim.run_until(horizon);
            let elections = sim
                .events()
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
                .count();
            Some(elections as f64)
        }
    }
}

/// One row of the plot: a setting and what its runs measured so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The setting, in words.
    pub label: String,
    /// (seed, value) per finished run, in the order they finished.
    pub values: Vec<(u64, Option<f64>)>,
}

impl Group {
    /// The measured values (runs the simulator refused left out).
    pub fn finite(&self) -> impl Iterator<Item = f64> + '_ {
        self.values
            .iter()
            .filter_map(|(_, v)| *v)
            .filter(|v| v.is_finite())
    }
}

/// A job and its results so far, as the page holds them.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// What was asked.
    pub job: Job,
    /// Results so far, one group per setting.
    pub groups: Vec<Group>,
}

impl Experiment {
    /// No results yet.
    pub fn new(job: Job) -> Experiment {
        let groups = job
            .settings
            .iter()
            .map(|s| Group {
                label: s.label.clone(),
                values: Vec::new(),
            })
            .collect();
        Experiment { job, groups }
    }

    /// Files one run's result; one for no setting of the job is ignored.
    pub fn add(&mut self, r: RunResult) {
        if let Some(g) = self.groups.get_mut(r.setting) {
            g.values.push((r.seed, r.value));
        }
    }

    /// (runs finished, runs in all).
    pub fn progress(&self) -> (usize, usize) {
        let done = self.groups.iter().map(|g| g.values.len()).sum();
        (done, self.job.total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_all(job: &Job) -> Experiment {
        let mut e = Experiment::new(job.clone());
        job.run(|r| e.add(r));
        e
    }

    #[test]
    fn the_worker_saves_a_posted_run_as_the_lesson_the_exporter_writes() {
        let mut sim = Sim::new(7, 3, SimConfig::default()).expect("a run");
        sim.schedule(300, Action::Crash { node: 1 });
        sim.run_until(2_000);
        let session = raftlab_core::session::Session::from_sim(&sim);
        let want = raftlab_core::lesson::lesson_from_session(&session)
            .map(|l| raftlab_core::lesson::lesson_json(&l))
            .expect("a lesson");
        let answer = answer_lesson_request(&lesson_request(&session.to_json()));
        assert_eq!(answer, Some(Report::Lesson { text: want.clone() }));
        // The answer survives the trip to the page as JSON.
        let sent = serde_json::to_string(&Report::Lesson { text: want }).expect("serialises");
        assert_eq!(Report::from_json(&sent).ok(), answer);
    }

    #[test]
    fn a_lesson_request_with_a_broken_session_is_refused_and_a_job_is_not_one() {
        let refused = answer_lesson_request(&lesson_request("{\"seed\": \"x\"}"));
        assert!(
            matches!(refused, Some(Report::Refused { .. })),
            "{refused:?}"
        );
        let job = serde_json::to_string(&Job::new(1, ExperimentKind::PreVoteFlaky, 1)).unwrap();
        assert_eq!(answer_lesson_request(&job), None);
    }

    #[test]
    fn an_experiment_runs_every_seed_of_every_setting() {
        let e = run_all(&Job::new(1, ExperimentKind::ElectionTimeout, 3));
        assert_eq!(e.progress(), (15, 15));
        assert!(e.groups.iter().all(|g| g.values.len() == 3));
        assert!(e.groups.iter().all(|g| g.finite().count() == 3));
        assert!(e
            .groups
            .iter()
            .flat_map(|g| g.finite())
            .all(|v| v > 0.0 && v < 10_000.0));
    }

    #[test]
    fn runs_go_seed_by_seed_across_the_settings() {
        let job = Job::new(1, ExperimentKind::PreVoteFlaky, 3);
        let order: Vec<_> = job.runs().collect();
        assert_eq!(order, [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (1, 3)]);
    }

    #[test]
    fn a_run_is_the_same_every_time() {
        let cfg = &ExperimentKind::ElectionTimeout.settings()[0].config;
        let a = run_one(ExperimentKind::ElectionTimeout, cfg, 7);
        assert_eq!(a, run_one(ExperimentKind::ElectionTimeout, cfg, 7));
        assert!(a.is_some());
    }

    #[test]
    fn the_first_leader_is_found_at_its_time_not_at_a_chunk_boundary() {
        // Run whole, then look: the same time as stopping early.
        let setting = &ExperimentKind::ElectionTimeout.settings()[1];
        for seed in 1..=5 {
            let mut sim = Sim::new(seed, NODES, setting.config.clone()).unwrap();
            sim.run_until(10_000);
            let first = sim
                .events()
                .iter()
                .find(|e| {
                    matches!(
                        e.kind,
                        EventKind::Role {
                            role: Role::Leader,
                            ..
                        }
                    )
                })
                .map(|e| e.time as f64);
            assert_eq!(
                run_one(ExperimentKind::ElectionTimeout, &setting.config, seed),
                first
            );
        }
    }

    #[test]
    fn a_narrow_timeout_range_elects_more_slowly_than_a_wide_one() {
        let e = run_all(&Job::new(1, ExperimentKind::ElectionTimeout, 12));
        let mean = |g: &Group| g.finite().sum::<f64>() / g.finite().count() as f64;
        let (narrow, wide) = (mean(&e.groups[0]), mean(&e.groups[3]));
        assert!(narrow > wide, "150–155: {narrow}, 150–300: {wide}");
    }

    #[test]
    fn prevote_keeps_a_flaky_server_from_forcing_elections() {
        let e = run_all(&Job::new(1, ExperimentKind::PreVoteFlaky, 4));
        let mean = |g: &Group| g.finite().sum::<f64>() / g.finite().count() as f64;
        assert!(mean(&e.groups[0]) > mean(&e.groups[1]), "{:?}", e.groups);
    }

    #[test]
    fn a_refused_setting_is_an_empty_run_not_a_failure() {
        let mut job = Job::new(1, ExperimentKind::ElectionTimeout, 2);
        job.settings[0].config.election_timeout_ms = [300, 150];
        let e = run_all(&job);
        assert_eq!(e.progress(), (10, 10));
        assert!(e.groups[0].values.iter().all(|(_, v)| v.is_none()));
        assert_eq!(e.groups[1].finite().count(), 2);
    }

    #[test]
    fn jobs_and_reports_cross_the_worker_boundary_as_json() {
        let job = Job::new(9, ExperimentKind::PreVoteFlaky, 2);
        let text = serde_json::to_string(&job).unwrap();
        assert!(text.contains("\"prevote-flaky\""), "{text}");
        assert_eq!(serde_json::from_str::<Job>(&text).unwrap(), job);
        let report = Report::Results {
            job: 9,
            results: vec![RunResult {
                setting: 1,
                seed: 2,
                value: None,
            }],
        };
        let text = serde_json::to_string(&report).unwrap();
        assert!(text.contains("\"type\":\"results\""), "{text}");
        assert_eq!(Report::from_json(&text), Ok(report));
        let finished = Report::Finished { job: 3, ms: 12.5 };
        let text = serde_json::to_string(&finished).unwrap();
        assert_eq!(Report::from_json(&text), Ok(finished));
        let text = serde_json::to_string(&Report::Ready).unwrap();
        assert_eq!(Report::from_json(&text), Ok(Report::Ready));
        assert_eq!(
            Report::from_json("{\"type\":\"results\",\"job\":1}"),
            Err("missing field `results`".to_string())
        );
        assert!(Report::from_json("{\"type\":\"nope\"}").is_err());
        assert!(serde_json::from_str::<Job>("{\"kind\":\"nope\"}").is_err());
    }

    #[test]
    fn a_result_for_no_setting_is_ignored() {
        let mut e = Experiment::new(Job::new(1, ExperimentKind::PreVoteFlaky, 1));
        e.add(RunResult {
            setting: 5,
            seed: 1,
            value: Some(1.0),
        });
        assert_eq!(e.progress(), (0, 2));
    }
}
