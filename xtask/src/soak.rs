//! `cargo xtask soak --seeds N`: a long sweep of chaos seeds, 60 s of
//! simulated time each, on every core. It runs `raftlab chaos` (built with
//! the fast profile), so whatever a chaos run checks (safety, convergence in
//! the calm period, a run that stops making progress) the soak checks too;
//! at the end it repeats every failing, stuck or hung seed with the command
//! that reproduces it, and the rate in seeds per second.

use std::time::Instant;

use crate::util::{announce, fmt_duration, run_collecting, Ctx};

const USAGE: &str = "\
usage: cargo xtask soak [--seeds N] [--first-seed S] [--until T] [--nodes A..B] [--jobs J]

  --seeds N        seeds to run (default 1000)
  --first-seed S   the first seed (default 1)
  --until T        simulated time per seed (default 60s)
  --nodes A..B     cluster sizes, picked per seed (default 3..7)
  --jobs J         parallel threads (default: every core)

Exit status: 0 when every seed passed, non-zero when any failed.";

/// What to soak.
#[derive(Debug, PartialEq)]
struct Opts {
    seeds: u64,
    first_seed: u64,
    until: String,
    nodes: String,
    jobs: Option<u64>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            seeds: 1000,
            first_seed: 1,
            until: "60s".into(),
            nodes: "3..7".into(),
            jobs: None,
        }
    }
}

fn parse(args: &[String]) -> Result<Option<Opts>, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        if matches!(name, "-h" | "--help") {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or(format!("{name} needs a value\n\n{USAGE}"))
        };
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{name} wants a number, not `{v}`"))
        };
        match name {
            "--seeds" => o.seeds = number(value()?)?,
            "--first-seed" => o.first_seed = number(value()?)?,
            "--until" => o.until = value()?,
            "--nodes" => o.nodes = value()?,
            "--jobs" => o.jobs = Some(number(value()?)?),
            _ => return Err(format!("unknown option `{arg}`\n\n{USAGE}")),
        }
    }
    if o.seeds == 0 {
        return Err("--seeds wants at least one seed".into());
    }
    Ok(Some(o))
}

/// The `raftlab chaos` arguments for `o`.
fn chaos_args(o: &Opts) -> Vec<String> {
    let mut args: Vec<String> = [
        "chaos",
        "--seeds",
        &o.seeds.to_string(),
        "--first-seed",
        &o.first_seed.to_string(),
        "--until",
        &o.until,
        "--nodes",
        &o.nodes,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(j) = o.jobs {
        args.extend(["--jobs".to_string(), j.to_string()]);
    }
    args
}

/// The lines of `raftlab chaos`'s output worth repeating at the end: each
/// seed that failed (unsafe, stuck, hung, panicked), its reproduction
/// command, and the closing count.
fn keep(line: &str) -> bool {
    (line.starts_with("seed ") && line.contains(" nodes): "))
        || line.starts_with("  reproduce: ")
        || line.starts_with("  first: ")
        || line.contains(" seeds run, ")
}

/// `cargo xtask soak`.
pub fn main(ctx: &Ctx, args: &[String]) -> Result<i32, String> {
    let Some(o) = parse(args)? else {
        println!("{USAGE}");
        return Ok(0);
    };
    announce(&format!(
        "Soak: {} chaos seeds from {}, {} simulated each, on {} (fast profile)",
        o.seeds,
        o.first_seed,
        o.until,
        o.jobs
            .map_or_else(|| "every core".to_string(), |j| format!("{j} threads"))
    ));
    let mut cmd = ctx.cmd("cargo");
    cmd.args([
        "run",
        "--quiet",
        "--profile",
        "fast",
        "-p",
        "raftlab-cli",
        "--",
    ])
    .args(chaos_args(&o));
    let started = Instant::now();
    let (result, kept) = run_collecting(cmd, keep);
    let took = started.elapsed();

    announce("Soak summary");
    let failures: Vec<&String> = kept
        .iter()
        .filter(|l| !l.contains(" seeds run, "))
        .collect();
    for line in &failures {
        println!("{line}");
    }
    if let Some(total) = kept.iter().find(|l| l.contains(" seeds run, ")) {
        println!("{total}");
    }
    println!(
        "{} seeds in {} (build included): {:.1} seeds/s",
        o.seeds,
        fmt_duration(took),
        o.seeds as f64 / took.as_secs_f64().max(1e-9)
    );
    if !failures.is_empty() {
        println!("(`raftlab` above is `cargo run --profile fast -p raftlab-cli --`)");
    }
    match result {
        Ok(()) => {
            println!("Soak passed: every seed safe, converged and finished.");
            Ok(0)
        }
        Err(e) => {
            println!("Soak FAILED: {e}");
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_become_the_chaos_command() {
        let o = parse(&strings(&[
            "--seeds",
            "2000",
            "--first-seed=7",
            "--jobs",
            "4",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            chaos_args(&o).join(" "),
            "chaos --seeds 2000 --first-seed 7 --until 60s --nodes 3..7 --jobs 4"
        );
        assert_eq!(parse(&strings(&["--help"])).unwrap(), None);
        assert!(parse(&strings(&["--seeds"])).is_err());
        assert!(parse(&strings(&["--seeds", "many"])).is_err());
        assert!(parse(&strings(&["--seeds", "0"])).is_err());
        assert!(parse(&strings(&["--frobnicate"])).is_err());
    }

    #[test]
    fn failing_seeds_and_the_count_are_kept_progress_is_not() {
        for line in [
            "seed 207742 (3 nodes): HUNG: the simulation stopped making progress: ...",
            "seed 12 (5 nodes): UNSAFE (election_safety x1)",
            "  first: election_safety at event 9: two leaders",
            "  reproduce: raftlab run --chaos --seed 12 --nodes 5 --until 60s --trace fail-12.jsonl",
            "2000 seeds run, 0 failed (0 unsafe, 0 stuck, 0 hung), 12 events in 1.0 s",
        ] {
            assert!(keep(line), "{line}");
        }
        for line in [
            "chaos: 500/2000 seeds (25.0%), 10.0 seeds/s, 2m30s left, 0 failed",
            "seed 12: FAILED",
            "raftlab chaos: seeds 1..2000 (2000 seeds), 60s each",
        ] {
            assert!(!keep(line), "{line}");
        }
    }
}
