//! The `raftlab` binary end to end: exit codes (0 safe / identical, 1
//! violation / difference, 2 unusable input, 3 stuck), summaries, replays, chaos
//! reports whose reproduction commands really reproduce.

use std::collections::BTreeMap;
use std::path::PathBuf;

use raftlab_core::trace::EventKind;

mod common;

use common::{code, raftlab, stderr, stdout, Scratch};

fn type_counts(trace: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in trace.lines().skip(1) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        *counts
            .entry(v["type"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    counts
}

/// Writes a chaos trace and returns its path.
fn chaos_trace(dir: &Scratch, seed: u64, until: &str) -> PathBuf {
    let path = dir.path(&format!("run-{seed}.jsonl"));
    let o = raftlab(
        &[
            "run",
            "--chaos",
            "--seed",
            &seed.to_string(),
            "--nodes",
            "5",
            "--until",
            until,
            "--trace",
            path.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    path
}

#[test]
fn run_check_and_replay_a_clean_chaos_run() {
    let dir = Scratch::new("cli", "clean");
    let trace = chaos_trace(&dir, 3, "20s");
    let t = trace.to_str().unwrap();

    let o = raftlab(&["check", t], &dir.0);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}");
    for needle in [
        "events per type:",
        "linearizability per key:",
        "linearizable",
        "leaders:",
        "messages:",
        "snapshots:",
        "clients:",
        "SAFE",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }

    let o = raftlab(&["replay", t], &dir.0);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("identical"));
}

#[test]
fn run_prints_the_summary() {
    let dir = Scratch::new("cli", "summary");
    let o = raftlab(&["run", "--chaos", "--seed", "7", "--until", "10s"], &dir.0);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}");
    for needle in [
        "seed 7, 5 nodes, 10s simulated, chaos",
        "max term",
        "committed",
        "sent",
        "delivered",
        "dropped",
        "local",
        "installed",
        "ok",
        "fail",
        "timeout",
        "SAFE",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

/// A real trace with one follower's `role` line turned into a second leader
/// of a term that already has one: exit 1, naming the rule and the lines.
#[test]
fn check_exits_1_on_a_flipped_leader() {
    let dir = Scratch::new("cli", "flip");
    let trace = chaos_trace(&dir, 3, "5s");
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // A follower that knows the leader of its term: make it claim leadership.
    let i = lines
        .iter()
        .position(|l| {
            l.contains("\"type\":\"role\"")
                && l.contains("\"role\":\"follower\"")
                && !l.contains("\"leader\":null")
        })
        .expect("a follower with a known leader");
    lines[i] = lines[i].replace("\"role\":\"follower\"", "\"role\":\"leader\"");
    let bad = dir.path("flipped.jsonl");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();

    let o = raftlab(&["check", bad.to_str().unwrap()], &dir.0);
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}{}", stderr(&o));
    assert!(out.contains("UNSAFE"), "{out}");
    assert!(out.contains("election_safety"), "{out}");
    // The violating event's own line is shown, marked.
    let shown = format!("> line {:>8}: ", i + 1);
    assert!(out.contains(&shown), "{shown:?} not in:\n{out}");
}

#[test]
fn check_exits_2_on_unreadable_input() {
    let dir = Scratch::new("cli", "garbage");
    let garbage = dir.path("garbage.jsonl");
    std::fs::write(&garbage, "this is not a trace\n").unwrap();
    let o = raftlab(&["check", garbage.to_str().unwrap()], &dir.0);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));

    // A good trace broken on line 5: the error names that line.
    let trace = chaos_trace(&dir, 4, "2s");
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[4] = "{\"seq\":4,\"time\":";
    let broken = dir.path("broken.jsonl");
    std::fs::write(&broken, lines.join("\n") + "\n").unwrap();
    let o = raftlab(&["check", broken.to_str().unwrap()], &dir.0);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("line 5"), "{}", stderr(&o));

    let o = raftlab(&["check", "no-such-file.jsonl"], &dir.0);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot open"), "{}", stderr(&o));

    let empty = dir.path("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let o = raftlab(&["check", empty.to_str().unwrap()], &dir.0);
    assert_eq!(code(&o), 2);
}

/// Editing an event that is not an action: the replay still produces the
/// original, so it points at exactly the edited line.
#[test]
fn replay_shows_the_first_differing_line() {
    let dir = Scratch::new("cli", "replay");
    let trace = chaos_trace(&dir, 5, "5s");
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let i = lines
        .iter()
        .rposition(|l| l.contains("\"type\":\"commit\""))
        .expect("a commit");
    lines[i] = lines[i].replace("\"type\":\"commit\"", "\"type\":\"commit\",\"note\":1");
    let edited = dir.path("edited.jsonl");
    std::fs::write(&edited, lines.join("\n") + "\n").unwrap();
    let o = raftlab(&["replay", edited.to_str().unwrap()], &dir.0);
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}{}", stderr(&o));
    assert!(
        out.contains(&format!("first difference at line {}", i + 1)),
        "{out}"
    );
}

#[test]
fn chaos_reports_a_figure8_seed_whose_command_reproduces_it() {
    let dir = Scratch::new("cli", "figure8");
    let o = raftlab(
        &[
            "chaos", "--seeds", "10", "--until", "30s", "--bug", "figure8",
        ],
        &dir.0,
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}{}", stderr(&o));
    let cmd = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("reproduce: raftlab "))
        .unwrap_or_else(|| panic!("no reproduction command in:\n{out}"));
    assert!(cmd.contains("--bug figure8"), "{cmd}");
    assert!(out.contains("leader_commits_current_term"), "{out}");

    // Run exactly what it printed: the same violation, and a trace file
    // that `check` finds unsafe on its own.
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let o = raftlab(&args, &dir.0);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("leader_commits_current_term"));
    let file = args[args.iter().position(|a| *a == "--trace").unwrap() + 1];
    let o = raftlab(&["check", file], &dir.0);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("leader_commits_current_term"));
    let o = raftlab(&["replay", file], &dir.0);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn chaos_without_bugs_exits_0() {
    let dir = Scratch::new("cli", "chaos-clean");
    let o = raftlab(
        &[
            "chaos", "--seeds", "6", "--until", "5s", "--nodes", "3..7", "--jobs", "2",
        ],
        &dir.0,
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert!(out.contains("6 seeds run, 0 failed"), "{out}");
}

/// `raftlab run --chaos` mixes every fault: its trace holds every event
/// type of the format.
#[test]
fn a_chaos_run_trace_has_every_event_type() {
    let dir = Scratch::new("cli", "types");
    let trace = chaos_trace(&dir, 5, "60s");
    let text = std::fs::read_to_string(&trace).unwrap();
    let counts = type_counts(&text);
    eprintln!("event counts, seed 5, 5 nodes, 60 s: {counts:?}");
    for ty in EventKind::TYPES {
        assert!(
            counts.get(ty).copied().unwrap_or(0) > 0,
            "no {ty} event in {counts:?}"
        );
    }
    assert!(
        text.contains("\"source\":\"install\""),
        "no snapshot install"
    );
    assert!(text.contains("\"source\":\"local\""), "no local snapshot");
}

/// `--clients` without `--chaos` is load only: client operations, loss as
/// asked, and no fault actions.
#[test]
fn clients_without_chaos_are_load_without_faults() {
    let dir = Scratch::new("cli", "load");
    let trace = dir.path("load.jsonl");
    let o = raftlab(
        &[
            "run",
            "--seed",
            "2",
            "--nodes",
            "3",
            "--until",
            "15s",
            "--clients",
            "3",
            "--loss",
            "0.05",
            "--snapshot-every",
            "50",
            "--chunk-bytes",
            "64",
            "--no-prevote",
            "--no-check-quorum",
            "--trace",
            trace.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let text = std::fs::read_to_string(&trace).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["config"]["loss"], 0.05);
    assert_eq!(header["config"]["prevote"], false);
    assert_eq!(header["config"]["check_quorum"], false);
    assert_eq!(header["config"]["snapshot_chunk_bytes"], 64);
    let counts = type_counts(&text);
    assert!(
        counts.get("client").copied().unwrap_or(0) > 100,
        "{counts:?}"
    );
    assert!(
        counts.get("snapshot").copied().unwrap_or(0) > 0,
        "{counts:?}"
    );
    for fault in ["crash", "restart", "partition", "heal", "link"] {
        assert!(!counts.contains_key(fault), "{fault} in {counts:?}");
    }
    assert!(text.contains("\"reason\":\"loss\""));
    // Without clients or chaos, a run has no actions at all.
    let o = raftlab(&["run", "--seed", "2", "--until", "2s"], &dir.0);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("0 ops"), "{}", stdout(&o));
}

#[test]
fn bad_arguments_exit_2_and_say_why() {
    let dir = Scratch::new("cli", "args");
    let o = raftlab(&["run", "--until", "60"], &dir.0);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no unit"), "{}", stderr(&o));
    let o = raftlab(&["run", "--bug", "nope", "--until", "1s"], &dir.0);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("figure8"), "{}", stderr(&o));
    let o = raftlab(&["run", "--nodes", "12", "--until", "1s"], &dir.0);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("1 to 9"), "{}", stderr(&o));
    let o = raftlab(&["chaos", "--nodes", "7..3"], &dir.0);
    assert_eq!(code(&o), 2);
    let o = raftlab(&["run", "--loss", "2", "--until", "1s"], &dir.0);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("loss"), "{}", stderr(&o));
}

/// Another program's trace (string clients, bodies not raftlab's): a
/// leader that commits what only 2 of its 5 voters wrote is UNSAFE under
/// `commit_quorum` (§5.3, Figure 2); the same trace with a third voter's
/// writes is SAFE.
#[test]
fn check_judges_a_foreign_trace_whose_leader_commits_on_2_of_5() {
    let dir = Scratch::new("cli", "foreign");
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/foreign");
    let bad = data.join("commit_by_2_of_5.jsonl");
    let o = raftlab(&["check", bad.to_str().unwrap()], &dir.0);
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}{}", stderr(&o));
    assert!(out.contains("UNSAFE"), "{out}");
    assert!(out.contains("commit_quorum"), "{out}");
    assert!(out.contains("§5.3"), "{out}");

    let good = data.join("commit_by_3_of_5.jsonl");
    let o = raftlab(&["check", good.to_str().unwrap()], &dir.0);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("SAFE"), "{}", stdout(&o));
}

/// `raftlab check` judges recovery from the trace alone: a chaos run's
/// trace converges in its calm period (exit 0, CONVERGED); the same trace
/// cut off just after the calm period began has no leader followed by
/// every voter yet, which is reported STUCK (exit 3), apart from safety.
#[test]
fn check_reports_a_trace_that_does_not_recover_in_its_calm_period_as_stuck() {
    let dir = Scratch::new("cli", "stuck");
    let trace = chaos_trace(&dir, 3, "20s");
    let o = raftlab(&["check", trace.to_str().unwrap()], &dir.0);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}");
    assert!(out.contains("convergence: CONVERGED"), "{out}");

    let text = std::fs::read_to_string(&trace).unwrap();
    let calm = text
        .lines()
        .position(|l| l.contains("\"kind\":\"calm\""))
        .expect("a chaos trace has a calm action");
    let cut: Vec<&str> = text.lines().take(calm + 2).collect();
    let cut_path = dir.path("cut.jsonl");
    std::fs::write(&cut_path, cut.join("\n") + "\n").unwrap();
    let o = raftlab(&["check", cut_path.to_str().unwrap()], &dir.0);
    let out = stdout(&o);
    assert_eq!(code(&o), 3, "{out}{}", stderr(&o));
    assert!(out.contains("SAFE"), "{out}");
    assert!(out.contains("convergence: STUCK"), "{out}");
    assert!(out.contains("after the calm period began"), "{out}");
}

/// A run directed by hand (manual delivery, a held and released link, a
/// heartbeat on demand) replays identically from its trace alone.
#[test]
fn replay_confirms_a_trace_with_deliver_hold_and_release_actions() {
    use raftlab_core::sim::{Action, Sim, SimConfig};
    let dir = Scratch::new("cli", "manual");
    let cfg = SimConfig {
        prevote: false,
        ..SimConfig::default()
    };
    let mut sim = Sim::new(9, 5, cfg).unwrap();
    sim.act(Action::Manual {
        on: true,
        timers: false,
    })
    .unwrap();
    sim.act(Action::Timeout { node: 2 }).unwrap();
    sim.run_until(40);
    let to = |sim: &Sim, from: u64, to: u64| {
        sim.flights()
            .find(|f| f.msg.from == from && f.msg.to == to)
            .map(|f| f.id)
            .unwrap()
    };
    for peer in [1, 3] {
        let id = to(&sim, 2, peer);
        sim.act(Action::Deliver { id }).unwrap();
    }
    sim.act(Action::Hold { from: 2, to: 4 }).unwrap();
    sim.run_until(80);
    for peer in [1, 3] {
        let id = to(&sim, peer, 2);
        sim.act(Action::Deliver { id }).unwrap();
    }
    assert_eq!(sim.leader(), Some(2));
    sim.act(Action::Heartbeat { node: 2 }).unwrap();
    sim.act(Action::Manual {
        on: false,
        timers: false,
    })
    .unwrap();
    sim.run_until(300);
    sim.act(Action::Release { from: 2, to: 4 }).unwrap();
    sim.run_until(600);
    let text = sim.trace_jsonl();
    for kind in ["deliver", "hold", "release", "heartbeat", "manual"] {
        assert!(
            text.contains(&format!("\"kind\":\"{kind}\"")),
            "the trace holds a {kind} action"
        );
    }
    let path = dir.path("manual.jsonl");
    std::fs::write(&path, &text).unwrap();
    let o = raftlab(&["replay", path.to_str().unwrap()], &dir.0);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("identical"));
}
