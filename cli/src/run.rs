//! `raftlab run`: one simulated run, its summary, and optionally its trace.

use std::fs::File;
use std::io::{BufWriter, Write};

use indicatif::{ProgressBar, ProgressStyle};
use raftlab_core::sim::chaos::{standard_setup, Chaos, ChaosOptions};
use raftlab_core::sim::{Sim, SimConfig};
use raftlab_core::trace::TraceEvent;

use crate::summary::{self, Tally};
use crate::units::parse_bugs;
use crate::RunArgs;

/// Builds the simulation and load generator `args` describe. With
/// `--chaos` the base is `standard_setup`, the very settings `raftlab
/// chaos` uses, so its reproduction commands replay exactly; flags given
/// explicitly override it.
pub fn setup(args: &RunArgs) -> Result<(Sim, Option<Chaos>), String> {
    let bugs = parse_bugs(&args.bugs)?;
    let (mut cfg, mut opts) = if args.chaos {
        standard_setup(args.seed, &bugs)
    } else {
        let cfg = SimConfig {
            bugs: bugs.clone(),
            ..SimConfig::default()
        };
        let opts = ChaosOptions {
            faults: false,
            membership: false,
            clients: 0,
            ..ChaosOptions::default()
        };
        (cfg, opts)
    };
    if let Some(l) = args.loss {
        cfg.loss = l;
    }
    if let Some(n) = args.snapshot_every {
        cfg.snapshot_every = n;
    }
    if let Some(n) = args.chunk_bytes {
        cfg.snapshot_chunk_bytes = n;
    }
    if args.no_prevote {
        cfg.prevote = false;
    }
    if args.no_check_quorum {
        cfg.check_quorum = false;
    }
    if let Some(c) = args.clients {
        opts.clients = c;
    }
    opts.calm_ms = args.calm.0;
    let sim = Sim::new(args.seed, args.nodes.unwrap_or(5), cfg)?;
    let chaos = (opts.faults || opts.clients > 0).then(|| Chaos::new(args.seed, opts));
    Ok((sim, chaos))
}

/// A progress bar over simulated time, drawn only on a terminal.
pub fn time_bar(until: u64) -> ProgressBar {
    let bar = ProgressBar::new(until);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating [{bar:40}] {msg} ({elapsed}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Runs the simulation to `until` ms, with the load generator if any.
pub fn simulate(sim: &mut Sim, chaos: Option<Chaos>, until: u64, bar: &ProgressBar) {
    let mut show = |t: u64| {
        bar.set_position(t);
        bar.set_message(format!(
            "{:.1}/{:.1} s",
            t as f64 / 1000.0,
            until as f64 / 1000.0
        ));
    };
    match chaos {
        Some(mut c) => c.drive_observed(sim, until, &mut show),
        None => {
            // In slices, so the bar moves; the result is the same as one call.
            let mut t = 0;
            while t < until {
                t = (t + 1000).min(until);
                sim.run_until(t);
                show(t);
            }
        }
    }
}

/// Writes the trace as JSON Lines, byte for byte `Sim::trace_jsonl`, without
/// building the whole text in memory.
pub fn write_trace(path: &std::path::Path, sim: &Sim) -> Result<u64, String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut out = BufWriter::new(File::create(path).map_err(fail)?);
    let mut bytes = 0u64;
    let header = sim.header().to_line();
    writeln!(out, "{header}").map_err(fail)?;
    bytes += header.len() as u64 + 1;
    for e in sim.events() {
        let line = e.to_line();
        out.write_all(line.as_bytes()).map_err(fail)?;
        out.write_all(b"\n").map_err(fail)?;
        bytes += line.len() as u64 + 1;
    }
    out.flush().map_err(fail)?;
    Ok(bytes)
}

/// `raftlab run`.
pub fn main(args: &RunArgs) -> Result<u8, String> {
    if args.sharded {
        if args.narrate {
            return Err("--narrate tells single-group runs; it does not go with --sharded".into());
        }
        return crate::sharded::run(args);
    }
    let until = args.until.0;
    let (mut sim, chaos) = setup(args)?;
    let started = std::time::Instant::now();
    let bar = time_bar(until);
    simulate(&mut sim, chaos, until, &bar);
    bar.finish_and_clear();
    if let Some(stalled) = sim.stalled() {
        // What ran before it stopped is kept, to look at.
        if let Some(path) = &args.trace {
            write_trace(path, &sim)?;
        }
        eprintln!("error: {stalled}");
        return Ok(1);
    }
    let elapsed = started.elapsed();
    if args.narrate {
        crate::replay::narrate(sim.events());
    }

    let report = sim.checker().clone().finish();
    let mut tally = Tally::default();
    for e in sim.events() {
        tally.observe(e);
    }
    let bugs = if args.bugs.is_empty() {
        String::new()
    } else {
        format!(", bugs: {}", args.bugs.join(", "))
    };
    println!(
        "raftlab run: seed {}, {} nodes, {} simulated{}{} in {:.2} s",
        args.seed,
        args.nodes.unwrap_or(5),
        args.until,
        if args.chaos { ", chaos" } else { "" },
        bugs,
        elapsed.as_secs_f64()
    );
    print!("{}", summary::render(&report, &tally));
    if let Some(path) = &args.trace {
        let bytes = write_trace(path, &sim)?;
        println!(
            "trace:       {} ({} events, {:.1} MB)",
            path.display(),
            sim.events().len(),
            bytes as f64 / 1e6
        );
    }
    print!("{}", summary::render_verdict(&report));
    let conv = raftlab_core::check::convergence_of(sim.header(), sim.events());
    if args.chaos {
        println!("convergence: {}", conv.summary());
        for u in conv.unmet.iter().skip(1) {
            println!("             also: {}", u.message);
        }
    }
    if report.is_safe() {
        return Ok(if conv.is_stuck() { 3 } else { 0 });
    }
    let events = sim.events();
    let line_of = |seq: u64| -> Option<String> {
        let i = usize::try_from(seq).ok()?.checked_sub(1)?;
        events.get(i).map(TraceEvent::to_line)
    };
    for v in report.violations.iter().take(args.explain) {
        print!("{}", summary::explain(v, &line_of));
    }
    Ok(1)
}
