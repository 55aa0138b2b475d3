//! `raftlab chaos`: many seeds of random faults in parallel, each checked,
//! every failing seed reported with the exact command that reproduces it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use raftlab_core::check::{convergence_of, Verdict};
use raftlab_core::sim::chaos::run_standard_calm;
use raftlab_core::Bug;

use crate::progress::Progress;
use crate::units::{parse_bugs, Millis};
use crate::ChaosArgs;

/// How one seed ended.
#[derive(Debug)]
enum Outcome {
    Safe,
    /// Safe, but Raft does not promise convergence for the run (PreVote or
    /// CheckQuorum off, thesis §4.2.3). Not a failure; only counted.
    NotJudged,
    /// Safe, but the cluster did not converge in the calm period: the
    /// first unmet condition.
    Stuck(String),
    /// Rules broken (name, count), and the first violation explained.
    Unsafe {
        rules: Vec<(&'static str, u64)>,
        first: String,
    },
    /// The simulator or the core panicked: a bug as well.
    Panicked(String),
    /// The run stopped making progress in simulated time (the simulator's
    /// guard stopped it): a simulator bug, with what looped.
    Hung(String),
    /// The run could not be set up.
    Error(String),
}

#[derive(Debug)]
struct SeedResult {
    seed: u64,
    nodes: u64,
    events: u64,
    outcome: Outcome,
}

/// Runs and checks one seed exactly as `raftlab run --chaos` does: safety,
/// then convergence in the calm period.
fn one_seed(seed: u64, nodes: u64, until: u64, calm: u64, bugs: &[Bug]) -> SeedResult {
    let run = catch_unwind(AssertUnwindSafe(|| {
        run_standard_calm(seed, nodes, until, calm, bugs).map(|sim| {
            let report = sim.checker().clone().finish();
            let conv = convergence_of(sim.header(), sim.events());
            let hung = sim.stalled().map(|s| s.to_string());
            (sim.events().len() as u64, report, conv, hung)
        })
    }));
    let (events, outcome) = match run {
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".to_string());
            (0, Outcome::Panicked(msg))
        }
        Ok(Err(e)) => (0, Outcome::Error(e)),
        Ok(Ok((events, _, _, Some(hung)))) => (events, Outcome::Hung(hung)),
        Ok(Ok((events, report, conv, None))) if report.is_safe() => match conv.verdict {
            Verdict::Stuck => (events, Outcome::Stuck(conv.summary())),
            Verdict::NotJudged => (events, Outcome::NotJudged),
            _ => (events, Outcome::Safe),
        },
        Ok(Ok((events, report, _, _))) => {
            let first = report
                .violations
                .first()
                .map(|v| format!("{} at event {}: {}", v.rule, v.seq, v.message))
                .unwrap_or_default();
            let rules = report.violation_counts.into_iter().collect();
            (events, Outcome::Unsafe { rules, first })
        }
    };
    SeedResult {
        seed,
        nodes,
        events,
        outcome,
    }
}

/// Whether a seed's outcome is a failure (a not-judged run is not).
fn failed(o: &Outcome) -> bool {
    !matches!(o, Outcome::Safe | Outcome::NotJudged)
}

/// The command that reproduces `seed` and writes its trace.
fn reproduce(seed: u64, nodes: u64, until: u64, calm: u64, bugs: &[Bug]) -> String {
    let mut cmd = format!(
        "raftlab run --chaos --seed {seed} --nodes {nodes} --until {}",
        Millis(until)
    );
    if calm != raftlab_core::sim::chaos::DEFAULT_CALM_MS {
        cmd.push_str(&format!(" --calm {}", Millis(calm)));
    }
    for b in bugs {
        cmd.push_str(" --bug ");
        cmd.push_str(b.name());
    }
    cmd.push_str(&format!(" --trace fail-{seed}.jsonl"));
    cmd
}

/// `raftlab chaos`.
pub fn main(args: &ChaosArgs) -> Result<u8, String> {
    let bugs = parse_bugs(&args.bugs)?;
    let until = args.until.0;
    let calm = args.calm.0;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let first = args.first_seed;
    let end = first
        .checked_add(args.seeds)
        .ok_or("the seed range overflows")?;
    println!(
        "raftlab chaos: seeds {first}..{} ({} seeds), {} each (calm {}), {}..{} nodes, {jobs} threads{}",
        end.saturating_sub(1),
        args.seeds,
        args.until,
        args.calm,
        args.nodes.min,
        args.nodes.max,
        if bugs.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = bugs.iter().map(|b| b.name()).collect();
            format!(", bugs: {}", names.join(", "))
        }
    );

    let started = std::time::Instant::now();
    let progress = Progress::new(args.seeds);
    let next = AtomicU64::new(first);
    let failed_any = AtomicBool::new(false);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                if args.fail_fast && failed_any.load(Ordering::Relaxed) {
                    return;
                }
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= end {
                    return;
                }
                let nodes = args.nodes.for_seed(seed);
                let r = one_seed(seed, nodes, until, calm, &bugs);
                let hung = matches!(r.outcome, Outcome::Hung(_));
                if failed(&r.outcome) {
                    failed_any.store(true, Ordering::Relaxed);
                    progress.println(format!(
                        "seed {seed}: {}",
                        if hung { "HUNG" } else { "FAILED" }
                    ));
                }
                progress.seed_done(failed(&r.outcome), hung);
                if let Ok(mut all) = results.lock() {
                    all.push(r);
                }
            });
        }
    });
    progress.finish();

    let mut results = results.into_inner().map_err(|_| "a worker thread died")?;
    results.sort_by_key(|r| r.seed);
    let events: u64 = results.iter().map(|r| r.events).sum();
    let (mut unsafe_runs, mut stuck, mut not_judged, mut hung) = (0, 0, 0, 0);
    for r in &results {
        let what = match &r.outcome {
            Outcome::Safe => continue,
            Outcome::NotJudged => {
                not_judged += 1;
                continue;
            }
            Outcome::Stuck(why) => {
                stuck += 1;
                println!("seed {} ({} nodes): {why}", r.seed, r.nodes);
                println!(
                    "  reproduce: {}",
                    reproduce(r.seed, r.nodes, until, calm, &bugs)
                );
                continue;
            }
            Outcome::Unsafe { rules, first } => {
                let rules: Vec<String> = rules.iter().map(|(r, n)| format!("{r} x{n}")).collect();
                format!("UNSAFE ({})\n  first: {first}", rules.join(", "))
            }
            Outcome::Panicked(m) => format!("PANICKED: {m}"),
            Outcome::Hung(m) => {
                hung += 1;
                println!("seed {} ({} nodes): HUNG: {m}", r.seed, r.nodes);
                println!(
                    "  reproduce: {}",
                    reproduce(r.seed, r.nodes, until, calm, &bugs)
                );
                continue;
            }
            Outcome::Error(e) => format!("ERROR: {e}"),
        };
        unsafe_runs += 1;
        println!("seed {} ({} nodes): {what}", r.seed, r.nodes);
        println!(
            "  reproduce: {}",
            reproduce(r.seed, r.nodes, until, calm, &bugs)
        );
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} seeds run, {} failed ({unsafe_runs} unsafe, {stuck} stuck, {hung} hung), {not_judged} not judged (PreVote or CheckQuorum off, thesis §4.2.3), {events} events in {secs:.1} s ({:.0} events/s, {:.1} seeds/s)",
        results.len(),
        unsafe_runs + stuck + hung,
        events as f64 / secs.max(1e-9),
        results.len() as f64 / secs.max(1e-9)
    );
    // A hung run is a simulator bug, as grave as a broken rule.
    Ok(if unsafe_runs + hung > 0 {
        1
    } else if stuck > 0 {
        3
    } else {
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduction_command_names_everything_that_shapes_the_run() {
        assert_eq!(
            reproduce(17, 5, 30_000, 10_000, &[Bug::Figure8]),
            "raftlab run --chaos --seed 17 --nodes 5 --until 30s --bug figure8 --trace fail-17.jsonl"
        );
    }
}
