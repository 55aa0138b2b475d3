//! Sharded mode (issue 8): a meta group and KV groups on one network, slot
//! routing, safe slot migration, per-group and per-key checking, chaos.

use raftlab_core::check::sharded::check_sharded_trace_str;
use raftlab_core::kv::KvOp;
use raftlab_core::meta::{slot_of, GroupId};
use raftlab_core::sim::sharded::chaos::{ShardedChaos, ShardedChaosOptions};
use raftlab_core::sim::sharded::{
    sharded_actions_of, MigrationPhase, ShardedAction, ShardedConfig, ShardedSim,
};
use raftlab_core::trace::{ClientPhase, EventKind};

fn sim(seed: u64) -> ShardedSim {
    let mut s = ShardedSim::new(seed, ShardedConfig::default()).expect("valid config");
    s.run_until(1500);
    s
}

fn put(s: &mut ShardedSim, client: u64, key: &str, value: &str) {
    s.act(ShardedAction::Client {
        client,
        op: KvOp::Put,
        key: key.into(),
        value: Some(value.into()),
    })
    .expect("client idle");
}

fn get(s: &mut ShardedSim, client: u64, key: &str) {
    s.act(ShardedAction::Client {
        client,
        op: KvOp::Get,
        key: key.into(),
        value: None,
    })
    .expect("client idle");
}

/// Runs until `client` is idle (or `limit` ms pass); returns its last op.
fn wait(s: &mut ShardedSim, client: u64, limit: u64) -> raftlab_core::sim::ClientOp {
    let end = s.now() + limit;
    while s.client_busy(client) && s.now() < end {
        let t = s.now() + 5;
        s.run_until(t);
    }
    s.clients()
        .into_iter()
        .find(|c| c.id == client)
        .and_then(|c| c.done.last().cloned())
        .expect("the client finished an operation")
}

fn wait_migrations(s: &mut ShardedSim, limit: u64) {
    let end = s.now() + limit;
    while !s.migrations_in_progress().is_empty() && s.now() < end {
        let t = s.now() + 10;
        s.run_until(t);
    }
}

fn other_group(s: &ShardedSim, slot: u16) -> GroupId {
    let owner = s.slot_owner(slot);
    s.groups()
        .iter()
        .map(|g| g.id)
        .find(|&g| g != 0 && g != owner)
        .expect("another KV group")
}

fn assert_clean(s: &ShardedSim) {
    assert!(s.violations().is_empty(), "{:#?}", &s.violations()[..1]);
    let report = check_sharded_trace_str(&s.trace_jsonl()).expect("trace reads back");
    assert!(report.is_safe(), "{:#?}", report.violations());
}

#[test]
fn every_group_elects_its_own_leader_with_globally_unique_ids() {
    let s = sim(1);
    let names: Vec<&str> = s.groups().iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["meta", "g1", "g2"]);
    assert_eq!(s.group_nodes(1), &[11, 12, 13]);
    for g in s.groups() {
        let l = s.leader(g.id).expect("each group has a leader");
        assert!(g.nodes.contains(&l), "{} is led by its own node", g.name);
    }
    assert!(s.events().iter().all(|e| !e.group.is_empty()));
    assert_clean(&s);
}

#[test]
fn clients_route_by_slot_to_the_owning_group() {
    let mut s = sim(2);
    // Find keys in each group per the bootstrap table.
    let k1 = (0..)
        .map(|i| format!("a{i}"))
        .find(|k| s.slot_owner(slot_of(k)) == 1)
        .unwrap();
    let k2 = (0..)
        .map(|i| format!("b{i}"))
        .find(|k| s.slot_owner(slot_of(k)) == 2)
        .unwrap();
    put(&mut s, 1, &k1, "x");
    assert_eq!(wait(&mut s, 1, 3000).phase, Some(ClientPhase::Ok));
    put(&mut s, 1, &k2, "y");
    let op = wait(&mut s, 1, 3000);
    assert_eq!(op.phase, Some(ClientPhase::Ok));
    assert!(
        op.tried.iter().all(|n| (21..=23).contains(n)),
        "g2 served {k2}: {:?}",
        op.tried
    );
    get(&mut s, 2, &k1);
    assert_eq!(wait(&mut s, 2, 3000).result, Some(Some("x".into())));
    assert_clean(&s);
}

#[test]
fn slot_move_carries_data_and_updates_the_table() {
    let mut s = sim(3);
    let key = "apple";
    let slot = slot_of(key);
    put(&mut s, 1, key, "red");
    assert_eq!(wait(&mut s, 1, 3000).phase, Some(ClientPhase::Ok));
    let to = other_group(&s, slot);
    s.act(ShardedAction::MoveSlot { slot, to }).unwrap();
    wait_migrations(&mut s, 5000);
    let m = s.migrations().pop().unwrap();
    assert_eq!(m.phase, MigrationPhase::Done, "{m:?}");
    assert_eq!(m.keys, 1);
    s.run_until(s.now() + 200);
    assert_eq!(s.slot_owner(slot), to);
    assert_eq!(s.slot_table()[usize::from(slot)], to);
    get(&mut s, 2, key);
    let op = wait(&mut s, 2, 3000);
    assert_eq!(op.result, Some(Some("red".into())));
    let nodes = s.group_nodes(to).to_vec();
    assert!(
        nodes.contains(op.tried.last().unwrap()),
        "served by the new owner"
    );
    // The source dropped the slot's data.
    let from = m.from;
    for &n in s.group_nodes(from) {
        if let Some(kv) = s.server(n).and_then(|x| x.state_machine().kv()) {
            assert!(!kv.owned.contains(&slot));
            assert!(!kv.kv.data.contains_key(key));
        }
    }
    assert_clean(&s);
}

#[test]
fn slot_move_with_the_source_leader_crashed_finishes_and_later_writes_succeed() {
    let mut s = sim(4);
    let key = "pear";
    let slot = slot_of(key);
    put(&mut s, 1, key, "v1");
    assert_eq!(wait(&mut s, 1, 3000).phase, Some(ClientPhase::Ok));
    let from = s.slot_owner(slot);
    let to = other_group(&s, slot);
    let leader = s.leader(from).unwrap();
    s.act(ShardedAction::Crash { node: leader }).unwrap();
    s.act(ShardedAction::MoveSlot { slot, to }).unwrap();
    wait_migrations(&mut s, 10_000);
    assert_eq!(s.migrations().pop().unwrap().phase, MigrationPhase::Done);
    s.act(ShardedAction::Restart { node: leader }).unwrap();
    s.run_until(s.now() + 300);
    assert_eq!(s.slot_owner(slot), to, "the slot table shows the new owner");
    put(&mut s, 1, key, "v2");
    assert_eq!(wait(&mut s, 1, 3000).phase, Some(ClientPhase::Ok));
    get(&mut s, 2, key);
    assert_eq!(wait(&mut s, 2, 3000).result, Some(Some("v2".into())));
    assert_clean(&s);
}

#[test]
fn a_write_during_migration_is_retried_or_lands_exactly_once() {
    for seed in 10..16 {
        let mut s = sim(seed);
        let key = "plum";
        let slot = slot_of(key);
        let to = other_group(&s, slot);
        // Writes race the move: each ends ok (applied once) and the last
        // acknowledged value is what a later read sees.
        s.act(ShardedAction::MoveSlot { slot, to }).unwrap();
        for i in 0..4 {
            put(&mut s, 1, key, &format!("w{i}"));
            let op = wait(&mut s, 1, 4000);
            assert_eq!(op.phase, Some(ClientPhase::Ok), "seed {seed}: {op:?}");
        }
        wait_migrations(&mut s, 5000);
        get(&mut s, 2, key);
        assert_eq!(wait(&mut s, 2, 3000).result, Some(Some("w3".into())));
        // Exactly once: across all groups, each write took effect (applied
        // ok, not as a duplicate) at exactly one (group, index, term).
        let mut data = std::collections::BTreeMap::new();
        let mut effective = std::collections::BTreeSet::new();
        for e in s.events() {
            match &e.event.kind {
                EventKind::Append {
                    index,
                    term,
                    data: d,
                    ..
                } => {
                    data.insert((e.group.clone(), *index, *term), d.clone());
                }
                EventKind::Apply {
                    index,
                    term,
                    output: Some(o),
                    ..
                } if o.starts_with("{\"ok\":true") && !o.contains("duplicate") => {
                    if let Some(d) = data.get(&(e.group.clone(), *index, *term)) {
                        if d.contains("\"client\":1,") {
                            effective.insert((e.group.clone(), *index, *term, d.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
        for i in 0..4 {
            let n = effective
                .iter()
                .filter(|x| x.3.contains(&format!("\"value\":\"w{i}\"")))
                .count();
            assert_eq!(n, 1, "seed {seed}: w{i} took effect {n} times");
        }
        assert_clean(&s);
    }
}

#[test]
fn the_trace_replays_from_its_header_and_actions() {
    let mut s = sim(5);
    let mut chaos = ShardedChaos::new(5, ShardedChaosOptions::default());
    chaos.drive(&mut s, 4000);
    let actions = sharded_actions_of(s.events());
    let mut again = ShardedSim::from_header(s.header(), &actions).unwrap();
    again.run_until(s.now());
    assert_eq!(again.trace_jsonl(), s.trace_jsonl());
}

#[test]
fn goto_step_rebuilds_an_earlier_state_exactly() {
    let mut s = sim(6);
    let mut chaos = ShardedChaos::new(6, ShardedChaosOptions::default());
    chaos.drive(&mut s, 3000);
    let step = s.step_count() / 2;
    let end = s.step_count();
    let trace = s.trace_jsonl();
    s.goto_step(step);
    assert_eq!(s.step_count(), step);
    assert_eq!(s.position(), s.events_before_step(step + 1));
    s.goto_step(end);
    assert_eq!(s.trace_jsonl(), trace);
}

fn chaos_run(seed: u64, ms: u64) -> (ShardedSim, usize) {
    let cfg = ShardedConfig {
        kv_groups: if seed.is_multiple_of(2) { 2 } else { 3 },
        ..ShardedConfig::default()
    };
    let mut s = ShardedSim::new(seed, cfg).unwrap();
    let mut chaos = ShardedChaos::new(seed, ShardedChaosOptions::default());
    chaos.drive(&mut s, ms);
    let done = s
        .migrations()
        .iter()
        .filter(|m| m.phase == MigrationPhase::Done)
        .count();
    (s, done)
}

/// Refusals the KV groups answered (frozen or wrong group) in a run.
fn refusals(s: &ShardedSim) -> usize {
    s.events()
        .iter()
        .filter(|e| match &e.event.kind {
            EventKind::Apply {
                output: Some(o), ..
            } => o.contains("\"error\":\"frozen\"") || o.contains("wrong_group"),
            _ => false,
        })
        .count()
}

#[test]
fn sharded_chaos_50_seeds_20s_has_no_violation_per_group_or_per_key() {
    let seeds: Vec<u64> = (1..=50).collect();
    let results: Vec<(u64, usize, usize, bool, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .chunks(25)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&seed| {
                            let (s, done) = chaos_run(seed, 20_000);
                            // The live checkers' verdict, linearizability
                            // included; every tenth seed also through the
                            // written trace, as an outside tool would.
                            let report = if seed.is_multiple_of(10) {
                                check_sharded_trace_str(&s.trace_jsonl()).expect("trace reads")
                            } else {
                                s.checker().clone().finish()
                            };
                            let live = s.violations().len();
                            if live > 0 || !report.is_safe() {
                                eprintln!("seed {seed}: {:#?}", report.violations());
                            }
                            assert!(!report.clients.has_unknown(), "seed {seed}: undecided key");
                            (seed, done, live, report.is_safe(), refusals(&s))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let moves: usize = results.iter().map(|r| r.1).sum();
    let refused: usize = results.iter().map(|r| r.4).sum();
    let bad: Vec<u64> = results
        .iter()
        .filter(|r| r.2 > 0 || !r.3)
        .map(|r| r.0)
        .collect();
    assert!(bad.is_empty(), "violations in seeds {bad:?}");
    assert!(moves >= 500, "slot moves finished across seeds: {moves}");
    assert!(refused > 0, "some operations met a frozen or moved slot");
}

#[test]
fn the_sharded_checker_needs_groups_a_plain_checker_sees_two_leaders_per_term() {
    // Every group elects a leader in term 1: fine per group, but a
    // version-1 reader checking the whole trace as one cluster objects.
    let s = sim(7);
    let text = s.trace_jsonl();
    assert!(check_sharded_trace_str(&text).unwrap().is_safe());
    let plain = raftlab_core::check_trace_str(&text).expect("a v1 reader reads it");
    assert!(plain.violation_counts.contains_key("election_safety"));
}

#[test]
fn the_sharded_checker_finds_a_stale_read_across_groups() {
    // A write acknowledged by g1, then a read served by g2 that misses it:
    // each group is fine, the key's history is not.
    let mut s = sim(8);
    let text = s.trace_jsonl();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut seq = s.position();
    let mut push = |phase: &str, op: &str, extra: &str| {
        seq += 1;
        lines.push(format!(
            "{{\"group\":\"clients\",\"seq\":{seq},\"time\":2000,\"type\":\"client\",\"client\":9,\"op\":\"{op}\",\"key\":\"z\",{extra}\"phase\":\"{phase}\"}}"
        ));
    };
    push("invoke", "put", "\"value\":\"1\",");
    push("ok", "put", "\"value\":\"1\",");
    push("invoke", "get", "");
    push("ok", "get", "\"result\":null,");
    let report = check_sharded_trace_str(&(lines.join("\n") + "\n")).unwrap();
    assert!(!report.is_safe());
    assert!(report
        .clients
        .violation_counts
        .contains_key("linearizability"));
    let _ = s.step();
}

#[test]
fn a_slot_moved_there_and_back_keeps_its_latest_value() {
    // Migration ids keep a late retry of the first move from undoing the
    // second (meta.rs: last migration per slot).
    let mut s = sim(9);
    let key = "fig";
    let slot = slot_of(key);
    let home = s.slot_owner(slot);
    let away = other_group(&s, slot);
    for (i, to) in [away, home, away].into_iter().enumerate() {
        put(&mut s, 1, key, &format!("v{i}"));
        assert_eq!(wait(&mut s, 1, 3000).phase, Some(ClientPhase::Ok));
        s.act(ShardedAction::MoveSlot { slot, to }).unwrap();
        wait_migrations(&mut s, 5000);
        assert_eq!(s.settled_owner(slot), to);
    }
    s.run_until(s.now() + 200);
    assert_eq!(s.slot_owner(slot), away);
    get(&mut s, 2, key);
    assert_eq!(wait(&mut s, 2, 3000).result, Some(Some("v2".into())));
    assert_eq!(
        s.act(ShardedAction::MoveSlot { slot, to: away }),
        Err(format!("slot {slot} is already g{away}'s"))
    );
    assert_clean(&s);
}

#[test]
fn sharded_chaos_on_a_lossy_network_with_snapshots_stays_safe() {
    // Loss, duplication and reordering, frequent snapshots (so lagging
    // followers install the slot-aware state machine), short client
    // timeouts (so outcomes are sometimes unknown).
    let results: Vec<(u64, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = [[101u64, 102, 103, 104, 105], [106, 107, 108, 109, 110]]
            .into_iter()
            .map(|seeds| {
                scope.spawn(move || {
                    seeds
                        .iter()
                        .map(|&seed| {
                            let mut cfg = ShardedConfig {
                                kv_groups: 3,
                                ..ShardedConfig::default()
                            };
                            cfg.sim.loss = 0.05;
                            cfg.sim.duplicate = 0.05;
                            cfg.sim.reorder = 0.05;
                            cfg.sim.snapshot_every = 16;
                            cfg.sim.snapshot_chunk_bytes = 256;
                            cfg.sim.client_timeout_ms = 1200;
                            let mut s = ShardedSim::new(seed, cfg).unwrap();
                            let opts = ShardedChaosOptions {
                                fault_every_ms: 150,
                                ..ShardedChaosOptions::default()
                            };
                            ShardedChaos::new(seed, opts).drive(&mut s, 15_000);
                            let report = s.checker().clone().finish();
                            if !report.is_safe() {
                                eprintln!("seed {seed}: {:#?}", report.violations());
                            }
                            let installs = s
                                .events()
                                .iter()
                                .filter(|e| {
                                    matches!(
                                        e.event.kind,
                                        EventKind::Snapshot {
                                            source: raftlab_core::SnapshotSource::Install,
                                            ..
                                        }
                                    )
                                })
                                .count();
                            eprintln!(
                                "seed {seed}: installs {installs}, moves {}",
                                s.migrations().len()
                            );
                            (seed, report.is_safe() && s.violations().is_empty())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let bad: Vec<u64> = results.iter().filter(|r| !r.1).map(|r| r.0).collect();
    assert!(bad.is_empty(), "violations in seeds {bad:?}");
}

#[test]
fn moving_a_slot_without_freezing_it_loses_a_write_and_the_key_check_says_so() {
    // The bug ShardBug::NoFreeze copies the slot while the source still
    // serves it: a write acknowledged by the source after the copy is gone
    // once the destination takes over. Each group's log is fine; only the
    // per-key check across groups sees it.
    let cfg = ShardedConfig {
        bugs: vec![raftlab_core::sim::sharded::ShardBug::NoFreeze],
        ..ShardedConfig::default()
    };
    let mut s = ShardedSim::new(12, cfg).unwrap();
    s.run_until(1500);
    let key = "lime";
    let slot = slot_of(key);
    put(&mut s, 1, key, "old");
    assert_eq!(wait(&mut s, 1, 3000).phase, Some(ClientPhase::Ok));
    let to = other_group(&s, slot);
    s.act(ShardedAction::MoveSlot { slot, to }).unwrap();
    put(&mut s, 1, key, "new");
    assert_eq!(wait(&mut s, 1, 3000).phase, Some(ClientPhase::Ok));
    wait_migrations(&mut s, 5000);
    get(&mut s, 2, key);
    assert_eq!(wait(&mut s, 2, 3000).result, Some(Some("old".into())));
    let report = s.checker().clone().finish();
    assert!(
        report.groups.values().all(|r| r.is_safe()),
        "every group is fine"
    );
    assert!(report
        .clients
        .violation_counts
        .contains_key("linearizability"));
}

/// Issue 19: a link held inside a KV group keeps its messages until
/// released, then they arrive oldest first; the run replays exactly.
#[test]
fn a_held_link_in_a_group_waits_and_is_released_in_order() {
    let mut s = sim(8);
    let g = s.groups()[1].id;
    let leader = s.leader(g).expect("the group has a leader");
    let follower = *s
        .group_nodes(g)
        .iter()
        .find(|n| **n != leader)
        .expect("a follower");
    s.act(ShardedAction::Hold {
        from: leader,
        to: follower,
    })
    .unwrap();
    let t = s.now() + 300;
    s.run_until(t);
    let held: Vec<u64> = s
        .waiting()
        .filter(|f| (f.msg.from, f.msg.to) == (leader, follower))
        .map(|f| f.id)
        .collect();
    assert!(held.len() >= 2, "{held:?}");
    let from = s.events().len();
    s.act(ShardedAction::Release {
        from: leader,
        to: follower,
    })
    .unwrap();
    let t = s.now();
    s.run_until(t);
    let order: Vec<u64> = s.events()[from..]
        .iter()
        .filter_map(|e| match e.event.kind {
            EventKind::Deliver { id, .. } if held.contains(&id) => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(order, held);
    let t = s.now() + 200;
    s.run_until(t);
    let actions = sharded_actions_of(s.events());
    let mut again = ShardedSim::from_header(s.header(), &actions).unwrap();
    again.run_until(s.now());
    assert_eq!(again.trace_jsonl(), s.trace_jsonl());
}
