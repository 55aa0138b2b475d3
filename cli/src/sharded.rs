//! Sharded traces on the command line (issue 8): `run --sharded` simulates
//! a meta group and KV groups and writes their trace; `check` and `replay`
//! recognise a sharded trace by its header (`config.groups`) and check it
//! per group and per key, or re-run it from its header and actions.
//!
//! A sharded trace is read whole: its events are routed by the `group`
//! field of each line, which the streaming single-group parser does not keep.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use raftlab_core::check::sharded::{
    check_sharded_trace_str, groups_of, ShardedConvergence, ShardedReport,
};
use raftlab_core::sim::sharded::chaos::{ShardedChaos, ShardedChaosOptions};
use raftlab_core::sim::sharded::{
    sharded_actions_of, ShardBug, ShardedConfig, ShardedEvent, ShardedSim,
};
use raftlab_core::trace::{read_trace, EventKind};

use crate::replay::{first_difference, show};
use crate::summary::{self, Tally};
use crate::RunArgs;

/// Whether a trace's first line is a sharded header (its config lists groups).
pub fn is_sharded_header(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v["config"]["groups"].as_array().map(|g| !g.is_empty()))
        .unwrap_or(false)
}

/// The settings `run --sharded` describes.
pub fn config(args: &RunArgs) -> Result<ShardedConfig, String> {
    let mut cfg = ShardedConfig {
        kv_groups: args.groups,
        nodes_per_group: args.nodes.unwrap_or(3),
        meta_nodes: args.meta_nodes,
        ..ShardedConfig::default()
    };
    for b in &args.bugs {
        match b.as_str() {
            "no-freeze" => cfg.bugs.push(ShardBug::NoFreeze),
            other => {
                return Err(format!(
                    "unknown sharded bug {other:?}; sharded runs know: no-freeze"
                ))
            }
        }
    }
    if let Some(l) = args.loss {
        cfg.sim.loss = l;
    }
    if let Some(n) = args.snapshot_every {
        cfg.sim.snapshot_every = n;
    }
    if let Some(n) = args.chunk_bytes {
        cfg.sim.snapshot_chunk_bytes = n;
    }
    if args.no_prevote {
        cfg.sim.prevote = false;
    }
    if args.no_check_quorum {
        cfg.sim.check_quorum = false;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Counts per group (events of "all" count for every group).
fn tallies(events: &[ShardedEvent], groups: &[String]) -> BTreeMap<String, Tally> {
    let mut out: BTreeMap<String, Tally> = BTreeMap::new();
    for e in events {
        if e.group == "all" {
            for g in groups {
                out.entry(g.clone()).or_default().observe(&e.event);
            }
        } else {
            out.entry(e.group.clone()).or_default().observe(&e.event);
        }
    }
    out
}

/// Membership actions (add_learner, add_voter, remove, joint) per group.
fn membership_changes(events: &[ShardedEvent]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for e in events {
        if let EventKind::Action { action } = &e.event.kind {
            let kind = action["kind"].as_str().unwrap_or("");
            if ["add_learner", "add_voter", "remove", "joint"].contains(&kind) {
                *out.entry(e.group.clone()).or_insert(0) += 1;
            }
        }
    }
    out
}

/// The summary of a sharded run or trace: one block per group, the
/// clients, linearizability per key, the verdict.
pub fn render(report: &ShardedReport, events: &[ShardedEvent]) -> String {
    // Meta first, then g1, g2, ... (the report's map sorts "g1" first).
    let mut names: Vec<String> = report.groups.keys().cloned().collect();
    names.sort_by_key(|n| (n != "meta", n.clone()));
    let tallies = tallies(events, &names);
    let changes = membership_changes(events);
    let moves = events
        .iter()
        .filter(|e| {
            matches!(&e.event.kind, EventKind::Action { action } if action["kind"] == "move_slot")
        })
        .count();
    let mut out = String::new();
    let last = events.last().map_or(0, |e| e.event.time);
    let _ = writeln!(
        out,
        "groups:      {} ({} events over {:.1} s simulated, {} slot moves started)",
        names.join(", "),
        events.len(),
        last as f64 / 1000.0,
        moves
    );
    for name in &names {
        let Some(r) = report.groups.get(name) else {
            continue;
        };
        let t = tallies.get(name).cloned().unwrap_or_default();
        let _ = writeln!(
            out,
            "[{name}] {} leaders (max term {}), commit index {}, {} sent / {} dropped, {} snapshots, {} membership changes: {}",
            r.leaders.len(),
            r.max_term,
            r.max_commit,
            t.sent,
            t.dropped.values().sum::<u64>(),
            t.snap_local + t.snap_install,
            changes.get(name).copied().unwrap_or(0),
            if r.is_safe() { "safe" } else { "UNSAFE" }
        );
    }
    let c = tallies.get("clients").cloned().unwrap_or_default();
    let _ = writeln!(
        out,
        "clients:     {} ops: {} ok, {} fail, {} timeout",
        c.invoked, c.ok, c.fail, c.timeout
    );
    out.push_str(&summary::render_linearizability(&report.clients));
    out
}

/// The verdict line and the first violations explained, with their group.
fn verdict(
    report: &ShardedReport,
    lines: &dyn Fn(u64) -> Option<String>,
    explain: usize,
) -> String {
    let mut out = String::new();
    let all = report.violations();
    if all.is_empty() {
        out.push_str("verdict:     SAFE (no rule broken in any group or key)\n");
        return out;
    }
    let mut per: BTreeMap<String, u64> = BTreeMap::new();
    for v in &all {
        *per.entry(format!("{} in {}", v.violation.rule, v.group))
            .or_insert(0) += 1;
    }
    let list: Vec<String> = per.iter().map(|(k, n)| format!("{k} x{n}")).collect();
    let _ = writeln!(
        out,
        "verdict:     UNSAFE: {} violations ({})",
        all.len(),
        list.join(", ")
    );
    for v in all.iter().take(explain) {
        let _ = write!(
            out,
            "[{}] {}",
            v.group,
            summary::explain(&v.violation, lines)
        );
    }
    out
}

/// `raftlab run --sharded`.
pub fn run(args: &RunArgs) -> Result<u8, String> {
    let until = args.until.0;
    let cfg = config(args)?;
    let mut sim = ShardedSim::new(args.seed, cfg)?;
    let opts = ShardedChaosOptions {
        faults: args.chaos,
        clients: args.clients.unwrap_or(if args.chaos {
            ShardedChaosOptions::default().clients
        } else {
            0
        }),
        calm_ms: args.calm.0,
        ..ShardedChaosOptions::default()
    };
    let started = std::time::Instant::now();
    // One drive over the whole time: chaos ends with its calm period, so
    // driving in slices would be another run.
    match (opts.faults || opts.clients > 0).then(|| ShardedChaos::new(args.seed, opts)) {
        Some(mut c) => c.drive(&mut sim, until),
        None => sim.run_until(until),
    }
    if let Some(stalled) = sim.stalled() {
        eprintln!("error: {stalled}");
        return Ok(1);
    }
    let report = sim.checker().clone().finish();
    let c = sim.config();
    println!(
        "raftlab run: sharded, seed {}, meta {} nodes + {} KV groups of {}, {} simulated{} in {:.2} s",
        args.seed,
        c.meta_nodes,
        c.kv_groups,
        c.nodes_per_group,
        args.until,
        if args.chaos { ", chaos" } else { "" },
        started.elapsed().as_secs_f64()
    );
    print!("{}", render(&report, sim.events()));
    if let Some(path) = &args.trace {
        let text = sim.trace_jsonl();
        std::fs::write(path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "trace:       {} ({} events, {:.1} MB)",
            path.display(),
            sim.events().len(),
            text.len() as f64 / 1e6
        );
    }
    let events = sim.events();
    let line_of = |seq: u64| -> Option<String> {
        let i = usize::try_from(seq).ok()?.checked_sub(1)?;
        events.get(i).map(ShardedEvent::to_line)
    };
    print!("{}", verdict(&report, &line_of, args.explain));
    let header = sim.header();
    let mut conv = ShardedConvergence::new(header, &groups_of(header)?);
    for e in sim.events() {
        conv.observe(&e.group, &e.event);
    }
    let conv = conv.finish();
    if args.chaos {
        println!("convergence: {}", conv.summary());
    }
    Ok(if !report.is_safe() {
        1
    } else if conv.is_stuck() {
        3
    } else {
        0
    })
}

/// The events of a sharded trace with their groups.
fn events_of(text: &str) -> Result<Vec<ShardedEvent>, String> {
    let trace = read_trace(text).map_err(|e| e.to_string())?;
    let lines = text.lines().skip(1).filter(|l| !l.trim().is_empty());
    trace
        .events
        .into_iter()
        .zip(lines)
        .map(|(event, line)| {
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| format!("event {}: {e}", event.seq))?;
            let group = v["group"]
                .as_str()
                .ok_or_else(|| format!("event {} has no group field", event.seq))?
                .to_string();
            Ok(ShardedEvent { group, event })
        })
        .collect()
}

/// `raftlab check` on a sharded trace: 0 safe, 1 violations, 2 unusable.
pub fn check(name: &str, text: &str, explain: usize) -> u8 {
    let started = std::time::Instant::now();
    let report = match check_sharded_trace_str(text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {name}: unreadable sharded trace: {e}");
            return 2;
        }
    };
    let events = match events_of(text) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {name}: unreadable sharded trace: {e}");
            return 2;
        }
    };
    println!(
        "raftlab check: {name} (sharded: {} events checked per group and per key in {:.2} s)",
        events.len(),
        started.elapsed().as_secs_f64()
    );
    print!("{}", render(&report, &events));
    let lines: Vec<&str> = text.lines().collect();
    let line_of = |seq: u64| lines.get(seq as usize).map(|l| l.to_string());
    print!("{}", verdict(&report, &line_of, explain));
    if report.is_safe() {
        0
    } else {
        1
    }
}

/// `raftlab replay` on a sharded trace: 0 identical, 1 different, 2 unusable.
pub fn replay(name: &str, text: &str) -> u8 {
    let events = match events_of(text) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {name}: unreadable sharded trace: {e}");
            return 2;
        }
    };
    let header = match read_trace(text) {
        Ok(t) => t.header,
        Err(e) => {
            eprintln!("error: {name}: unreadable trace: {e}");
            return 2;
        }
    };
    let actions = sharded_actions_of(&events);
    let until = events.last().map_or(0, |e| e.event.time);
    let mut sim = match ShardedSim::from_header(&header, &actions) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {name}: cannot re-create the sharded run: {e}");
            return 2;
        }
    };
    let started = std::time::Instant::now();
    sim.run_until(until);
    if let Some(stalled) = sim.stalled() {
        eprintln!("error: {name}: {stalled}");
        return 1;
    }
    let replayed = sim.trace_jsonl();
    println!(
        "raftlab replay: {name} (sharded, seed {}, {} groups, {} actions, {} events, {:.1} s simulated, re-run in {:.2} s)",
        header.seed,
        sim.groups().len(),
        actions.len(),
        events.len(),
        until as f64 / 1000.0,
        started.elapsed().as_secs_f64()
    );
    match first_difference(text, &replayed) {
        None => {
            println!("identical: the replay reproduces the trace byte for byte");
            0
        }
        Some((line, want, got)) => {
            println!("DIFFERENT: first difference at line {line}");
            println!("  trace:  {}", show(want));
            println!("  replay: {}", show(got));
            1
        }
    }
}
