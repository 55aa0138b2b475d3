//! `raftlab run --sharded`, and `check` / `replay` on sharded traces: the
//! trace is recognised by its header, checked per group and per key, and
//! re-run from its header and actions.

use std::path::PathBuf;

mod common;

use common::{code, out, raftlab, Scratch};

fn sharded_trace(dir: &Scratch, seed: u64, groups: u32) -> PathBuf {
    let path = dir.path(&format!("sharded-{seed}.jsonl"));
    let o = raftlab(
        &[
            "run",
            "--sharded",
            "--chaos",
            "--groups",
            &groups.to_string(),
            "--seed",
            &seed.to_string(),
            "--until",
            "15s",
            "--trace",
            path.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    let text = out(&o);
    for needle in [
        "sharded, seed",
        "[meta]",
        "[g1]",
        "linearizability per key",
        "SAFE",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    path
}

#[test]
fn a_sharded_chaos_run_writes_a_trace_that_checks_per_group_and_replays() {
    let dir = Scratch::new("cli-sh", "clean");
    let trace = sharded_trace(&dir, 5, 3);
    let text = std::fs::read_to_string(&trace).unwrap();
    // Every event names its group; the header lists the groups.
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let groups: Vec<&str> = header["config"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["meta", "g1", "g2", "g3"]);
    let mut kinds = std::collections::BTreeSet::new();
    for line in text.lines().skip(1) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["group"].is_string(), "no group: {line}");
        if v["type"] == "action" {
            kinds.insert(v["action"]["kind"].as_str().unwrap().to_string());
        }
    }
    for k in ["move_slot", "crash", "client"] {
        assert!(kinds.contains(k), "no {k} action in {kinds:?}");
    }
    assert!(
        ["add_learner", "remove", "joint"]
            .iter()
            .any(|k| kinds.contains(*k)),
        "chaos changed no group's members: {kinds:?}"
    );

    let t = trace.to_str().unwrap();
    let o = raftlab(&["check", t], &dir.0);
    let s = out(&o);
    assert_eq!(code(&o), 0, "{s}");
    for needle in [
        "sharded:",
        "per group and per key",
        "[meta]",
        "[g3]",
        "linearizable",
        "SAFE",
    ] {
        assert!(s.contains(needle), "{needle:?} not in:\n{s}");
    }
    // The same through standard input.
    let o = std::process::Command::new(common::BIN)
        .args(["check", "-"])
        .stdin(std::fs::File::open(&trace).unwrap())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("[g2]"));

    let o = raftlab(&["replay", t], &dir.0);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("identical"), "{}", out(&o));
}

#[test]
fn check_finds_two_leaders_in_one_term_of_one_group() {
    let dir = Scratch::new("cli-sh", "two-leaders");
    let trace = sharded_trace(&dir, 2, 2);
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // A g1 follower that knows its leader now claims leadership too.
    let i = lines
        .iter()
        .position(|l| {
            l.contains("\"group\":\"g1\"")
                && l.contains("\"type\":\"role\"")
                && l.contains("\"role\":\"follower\"")
                && !l.contains("\"leader\":null")
        })
        .expect("a g1 follower with a known leader");
    lines[i] = lines[i].replace("\"role\":\"follower\"", "\"role\":\"leader\"");
    let bad = dir.path("bad.jsonl");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let o = raftlab(&["check", bad.to_str().unwrap()], &dir.0);
    let s = out(&o);
    assert_eq!(code(&o), 1, "{s}");
    assert!(s.contains("UNSAFE"), "{s}");
    assert!(s.contains("election_safety in g1"), "{s}");
    assert!(s.contains(&format!("> line {:>8}: ", i + 1)), "{s}");
    // The edited event is not an action: the replay points at that line.
    let o = raftlab(&["replay", bad.to_str().unwrap()], &dir.0);
    assert_eq!(code(&o), 1, "{}", out(&o));
    assert!(out(&o).contains(&format!("first difference at line {}", i + 1)));
}

#[test]
fn sharded_client_load_without_faults_and_bad_arguments() {
    let dir = Scratch::new("cli-sh", "load");
    let path = dir.path("load.jsonl");
    let o = raftlab(
        &[
            "run",
            "--sharded",
            "--clients",
            "2",
            "--nodes",
            "5",
            "--meta-nodes",
            "1",
            "--until",
            "5s",
            "--trace",
            path.to_str().unwrap(),
        ],
        &dir.0,
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(
        out(&o).contains("meta 1 nodes + 2 KV groups of 5"),
        "{}",
        out(&o)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        header["config"]["groups"][1]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let kinds: std::collections::BTreeSet<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "action")
        .map(|v| v["action"]["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["client"]);

    for (args, says) in [
        (
            vec!["run", "--sharded", "--groups", "5", "--until", "1s"],
            "1 to 3 KV groups",
        ),
        (
            vec!["run", "--sharded", "--bug", "figure8", "--until", "1s"],
            "no-freeze",
        ),
        (
            vec!["run", "--sharded", "--meta-nodes", "0", "--until", "1s"],
            "1 to 9",
        ),
    ] {
        let o = raftlab(&args, &dir.0);
        assert_eq!(code(&o), 2, "{args:?}: {}", out(&o));
        assert!(out(&o).contains(says), "{args:?}: {}", out(&o));
    }
    // A sharded trace without its group fields cannot be checked per group.
    let stripped: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("group");
                v.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let bad = dir.path("nogroup.jsonl");
    std::fs::write(&bad, stripped + "\n").unwrap();
    let o = raftlab(&["check", bad.to_str().unwrap()], &dir.0);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(out(&o).contains("no group field"), "{}", out(&o));
}
