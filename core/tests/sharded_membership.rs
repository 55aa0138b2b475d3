//! Membership changes inside the groups of a sharded run (issue 8): the
//! single-group changes of the thesis — one server at a time (§4.1, with
//! learners §4.2.1 and a removed leader stepping down §4.2.2) and joint
//! consensus (§4.3) — on any group, meta included, with the meta group's
//! record of each KV group's members kept in step through its log.

use raftlab_core::check::sharded::check_sharded_trace_str;
use raftlab_core::kv::KvOp;
use raftlab_core::meta::{slot_of, GroupId, MetaCommand};
use raftlab_core::sim::sharded::chaos::{ShardedChaos, ShardedChaosOptions};
use raftlab_core::sim::sharded::{
    sharded_actions_of, ShardedAction, ShardedConfig, ShardedSim, ShardedTimedAction,
};
use raftlab_core::sim::ClientOp;
use raftlab_core::trace::{ClientPhase, EventKind};
use raftlab_core::types::{NodeId, Role};

fn sim(seed: u64) -> ShardedSim {
    let mut s = ShardedSim::new(seed, ShardedConfig::default()).expect("valid config");
    s.run_until(1500);
    s
}

fn run_for(s: &mut ShardedSim, ms: u64) {
    let t = s.now() + ms;
    s.run_until(t);
}

/// A key whose slot group `g` owns at the start.
fn key_of(s: &ShardedSim, g: GroupId) -> String {
    (0..)
        .map(|i| format!("k{i}"))
        .find(|k| s.slot_owner(slot_of(k)) == g)
        .expect("a key of the group")
}

fn op(s: &mut ShardedSim, client: u64, op: KvOp, key: &str, value: Option<&str>) -> ClientOp {
    s.act(ShardedAction::Client {
        client,
        op,
        key: key.into(),
        value: value.map(str::to_string),
    })
    .expect("client idle");
    let end = s.now() + 5000;
    while s.client_busy(client) && s.now() < end {
        run_for(s, 5);
    }
    s.clients()
        .into_iter()
        .find(|c| c.id == client)
        .and_then(|c| c.done.last().cloned())
        .expect("the client finished")
}

fn put_ok(s: &mut ShardedSim, client: u64, key: &str, value: &str) {
    let done = op(s, client, KvOp::Put, key, Some(value));
    assert_eq!(
        done.phase,
        Some(ClientPhase::Ok),
        "put {key}={value}: {done:?}"
    );
}

fn get_is(s: &mut ShardedSim, client: u64, key: &str, value: &str) {
    let done = op(s, client, KvOp::Get, key, None);
    assert_eq!(done.phase, Some(ClientPhase::Ok), "get {key}: {done:?}");
    assert_eq!(done.result, Some(Some(value.to_string())), "get {key}");
}

/// Runs until `cond` holds (at most `limit` ms).
fn until(s: &mut ShardedSim, limit: u64, mut cond: impl FnMut(&ShardedSim) -> bool) -> bool {
    let end = s.now() + limit;
    while !cond(s) && s.now() < end {
        run_for(s, 5);
    }
    cond(s)
}

fn leader(s: &ShardedSim, g: GroupId) -> NodeId {
    s.leader(g).expect("the group has a leader")
}

/// The leader's committed view of its group's voters and learners.
fn voters(s: &ShardedSim, g: GroupId) -> Vec<NodeId> {
    let c = s.member_config(leader(s, g)).expect("leader runs");
    c.voters.iter().copied().collect()
}

fn learners(s: &ShardedSim, g: GroupId) -> Vec<NodeId> {
    let c = s.member_config(leader(s, g)).expect("leader runs");
    c.learners.iter().copied().collect()
}

/// Whether group `g`'s leader has committed its latest configuration.
fn committed(s: &ShardedSim, g: GroupId) -> bool {
    s.leader(g)
        .and_then(|l| s.server(l))
        .is_some_and(|l| l.config_index() <= l.commit_idx())
}

/// Whether every live member of the meta group applied a `join` of `g`
/// with `members` through the meta log.
fn meta_recorded(s: &ShardedSim, g: GroupId, members: &[NodeId]) -> bool {
    let Some(meta) = s.leader(0).and_then(|l| s.member_config(l)) else {
        return false;
    };
    meta.members().into_iter().all(|n| {
        s.server(n)
            .and_then(|x| x.state_machine().meta())
            .is_none_or(|m| m.groups.get(&g).map(Vec::as_slice) == Some(members))
    })
}

fn meta_joins(s: &ShardedSim, g: GroupId) -> usize {
    s.events()
        .iter()
        .filter(|e| e.group == "meta")
        .filter(|e| match &e.event.kind {
            EventKind::Append { data, .. } => matches!(
                MetaCommand::decode(data.as_bytes()),
                Ok(MetaCommand::Join { group, epoch, .. }) if group == g && epoch > 0
            ),
            _ => false,
        })
        .count()
}

fn assert_clean(s: &ShardedSim) {
    assert!(s.violations().is_empty(), "{:#?}", &s.violations()[..1]);
    let report = check_sharded_trace_str(&s.trace_jsonl()).expect("trace reads back");
    assert!(report.is_safe(), "{:#?}", report.violations());
}

#[test]
fn s4_2_1_a_learner_joins_g1_catches_up_without_voting_then_is_promoted_s4_1() {
    let mut s = sim(3);
    let key = key_of(&s, 1);
    put_ok(&mut s, 1, &key, "before");
    let new = s.fresh_node_id(1).expect("a free id");
    assert_eq!(new, 14, "g1's next id is in its range");
    s.act(ShardedAction::AddLearner {
        group: 1,
        node: new,
    })
    .expect("g1 has a leader");
    assert_eq!(s.group_of(new), Some(1));
    assert_eq!(s.group_nodes(1), &[11, 12, 13, 14]);
    assert!(until(&mut s, 2000, |s| learners(s, 1) == [new]));
    // The learner catches up with g1's log and state machine, votes in no
    // election, and is never counted as a voter.
    assert!(until(&mut s, 2000, |s| {
        let l = s.server(leader(s, 1)).unwrap();
        s.server(new).unwrap().last_applied_idx() == l.commit_idx()
    }));
    let kv = s.server(new).unwrap().state_machine().kv().unwrap();
    assert_eq!(kv.kv.data.get(&key).map(String::as_str), Some("before"));
    assert_eq!(voters(&s, 1), [11, 12, 13]);
    // The meta group records the learner among g1's members, through its log.
    assert!(until(&mut s, 2000, |s| meta_recorded(
        s,
        1,
        &[11, 12, 13, 14]
    )));
    assert!(meta_joins(&s, 1) >= 1, "a join entry in the meta log");

    s.act(ShardedAction::AddVoter {
        group: 1,
        node: new,
    })
    .expect("promote");
    assert!(until(&mut s, 2000, |s| voters(s, 1) == [11, 12, 13, 14]
        && learners(s, 1).is_empty()));
    put_ok(&mut s, 2, &key, "after");
    get_is(&mut s, 3, &key, "after");
    // Now a voter, the new node can lead g1.
    s.act(ShardedAction::Transfer { to: new })
        .expect("transfer");
    assert!(until(&mut s, 2000, |s| s.leader(1) == Some(new)));
    put_ok(&mut s, 1, &key, "led by 14");
    get_is(&mut s, 2, &key, "led by 14");
    assert_clean(&s);
}

#[test]
fn s4_2_2_removing_g1s_leader_it_steps_down_a_new_leader_serves_writes_and_meta_records_it() {
    let mut s = sim(5);
    let key = key_of(&s, 1);
    put_ok(&mut s, 1, &key, "v1");
    let old = leader(&s, 1);
    s.act(ShardedAction::Remove { node: old })
        .expect("remove the leader");
    let rest: Vec<NodeId> = [11, 12, 13].into_iter().filter(|&n| n != old).collect();
    assert!(until(&mut s, 3000, |s| s
        .leader(1)
        .is_some_and(|l| l != old)));
    assert_eq!(voters(&s, 1), rest);
    // The removed leader stepped down and stays out: it does not campaign.
    assert_ne!(s.server(old).unwrap().state(), Role::Leader);
    let stepped = s.events().iter().any(|e| {
        matches!(&e.event.kind, EventKind::Role { node, role: Role::Follower, reason: Some(r), .. }
            if *node == old && r.contains("§4.2.2"))
    });
    assert!(stepped, "the old leader says why it stepped down");
    put_ok(&mut s, 2, &key, "v2");
    get_is(&mut s, 3, &key, "v2");
    assert!(until(&mut s, 2000, |s| meta_recorded(s, 1, &rest)));
    let term = s.server(leader(&s, 1)).unwrap().current_term();
    run_for(&mut s, 3000);
    assert_eq!(
        s.server(leader(&s, 1)).unwrap().current_term(),
        term,
        "the removed server does not disrupt g1"
    );
    assert_clean(&s);
}

#[test]
fn s4_3_joint_consensus_replaces_a_voter_of_g2_with_a_new_node() {
    let mut s = sim(7);
    let key = key_of(&s, 2);
    put_ok(&mut s, 1, &key, "x");
    let new = s.fresh_node_id(2).expect("free id");
    assert_eq!(new, 24);
    s.act(ShardedAction::Joint {
        group: 2,
        voters: vec![22, 23, new],
    })
    .expect("joint change");
    // C_old,new first, then C_new; the group serves throughout.
    let joint_seen = until(&mut s, 2000, |s| {
        s.member_config(leader(s, 2)).is_some_and(|c| c.is_joint())
    });
    let second = op(&mut s, 2, KvOp::Put, &key, Some("y"));
    assert_eq!(second.phase, Some(ClientPhase::Ok));
    assert!(until(&mut s, 4000, |s| s.leader(2).is_some()
        && voters(s, 2) == [22, 23, new]
        && !s.member_config(leader(s, 2)).unwrap().is_joint()));
    assert!(
        joint_seen
            || s.events().iter().any(|e| matches!(&e.event.kind,
                EventKind::Config { node, .. } if s.group_of(*node) == Some(2))),
        "the group went through C_old,new"
    );
    assert!(until(&mut s, 3000, |s| meta_recorded(s, 2, &[22, 23, new])));
    get_is(&mut s, 3, &key, "y");
    assert_clean(&s);
}

#[test]
fn s4_1_the_meta_group_changes_members_and_clients_still_find_the_slot_table() {
    let mut s = sim(11);
    let key = key_of(&s, 2);
    let new = s.fresh_node_id(0).expect("free meta id");
    assert_eq!(new, 4, "meta ids are 1..=9");
    s.act(ShardedAction::AddLearner {
        group: 0,
        node: new,
    })
    .expect("add a meta learner");
    assert!(until(&mut s, 2000, |s| learners(s, 0) == [new] && committed(s, 0)));
    s.act(ShardedAction::AddVoter {
        group: 0,
        node: new,
    })
    .expect("promote it");
    assert!(until(&mut s, 2000, |s| voters(s, 0) == [1, 2, 3, 4]
        && committed(s, 0)));
    let old = leader(&s, 0);
    s.act(ShardedAction::Remove { node: old })
        .expect("remove the meta leader");
    assert!(until(&mut s, 3000, |s| s
        .leader(0)
        .is_some_and(|l| l != old)
        && voters(s, 0).len() == 3));
    // A slot move goes through the new meta group, and clients (with no
    // table cached yet) find it.
    let slot = slot_of(&key);
    s.act(ShardedAction::MoveSlot { slot, to: 1 })
        .expect("move");
    assert!(until(&mut s, 4000, |s| s
        .migrations_in_progress()
        .is_empty()));
    assert_eq!(s.slot_owner(slot), 1);
    put_ok(&mut s, 5, &key, "moved");
    get_is(&mut s, 6, &key, "moved");
    assert_clean(&s);
}

#[test]
fn new_node_ids_are_unique_across_the_cluster_and_changes_wait_for_each_other() {
    let mut s = sim(13);
    // Another group's node, an id out of the group's range, an unknown group.
    let e = s
        .act(ShardedAction::AddLearner { group: 1, node: 21 })
        .unwrap_err();
    assert!(e.contains("S21 belongs to g2"), "{e}");
    let e = s
        .act(ShardedAction::AddLearner { group: 1, node: 25 })
        .unwrap_err();
    assert!(e.contains("from 11 to 19"), "{e}");
    let e = s
        .act(ShardedAction::AddVoter { group: 7, node: 71 })
        .unwrap_err();
    assert!(e.contains("not a group"), "{e}");
    let e = s
        .act(ShardedAction::Joint {
            group: 0,
            voters: vec![1, 2, 12],
        })
        .unwrap_err();
    assert!(e.contains("S12 belongs to g1"), "{e}");
    // One change at a time per group (thesis §4.1); other groups are free.
    s.act(ShardedAction::AddLearner { group: 1, node: 14 })
        .expect("first");
    let e = s
        .act(ShardedAction::AddLearner { group: 1, node: 15 })
        .unwrap_err();
    assert!(e.contains("not committed yet"), "{e}");
    s.act(ShardedAction::AddLearner { group: 2, node: 24 })
        .expect("g2 is another group");
    run_for(&mut s, 500);
    assert_eq!(s.fresh_node_id(1), Some(15));
    s.act(ShardedAction::AddLearner { group: 1, node: 15 })
        .expect("after the first committed");
    // Ids are never reused across groups: every node is in exactly one.
    let mut all: Vec<NodeId> = s.groups().iter().flat_map(|g| g.nodes.clone()).collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n);
    assert_eq!(s.nodes().len(), n);
    assert_clean(&s);
}

#[test]
fn a_slot_moves_into_a_group_while_its_leader_is_being_removed() {
    let mut s = sim(17);
    let key = key_of(&s, 2);
    put_ok(&mut s, 1, &key, "a");
    s.act(ShardedAction::AddLearner { group: 1, node: 14 })
        .unwrap();
    run_for(&mut s, 300);
    s.act(ShardedAction::AddVoter { group: 1, node: 14 })
        .unwrap();
    run_for(&mut s, 300);
    let slot = slot_of(&key);
    s.act(ShardedAction::MoveSlot { slot, to: 1 }).unwrap();
    let old = leader(&s, 1);
    s.act(ShardedAction::Remove { node: old }).unwrap();
    assert!(until(&mut s, 5000, |s| s
        .migrations_in_progress()
        .is_empty()));
    assert_eq!(s.settled_owner(slot), 1);
    get_is(&mut s, 2, &key, "a");
    put_ok(&mut s, 3, &key, "b");
    get_is(&mut s, 4, &key, "b");
    assert_clean(&s);
}

#[test]
fn membership_actions_replay_from_the_trace_and_rewind_exactly() {
    let mut s = sim(19);
    s.act(ShardedAction::AddLearner { group: 1, node: 14 })
        .unwrap();
    run_for(&mut s, 400);
    s.act(ShardedAction::AddVoter { group: 1, node: 14 })
        .unwrap();
    run_for(&mut s, 400);
    let l = leader(&s, 2);
    s.act(ShardedAction::Remove { node: l }).unwrap();
    run_for(&mut s, 400);
    s.act(ShardedAction::Joint {
        group: 0,
        voters: vec![1, 2, 4],
    })
    .unwrap();
    run_for(&mut s, 1500);
    let trace = s.trace_jsonl();
    let actions: Vec<ShardedTimedAction> = sharded_actions_of(s.events());
    assert!(actions
        .iter()
        .any(|a| matches!(a.action, ShardedAction::Joint { group: 0, .. })));
    let mut again = ShardedSim::from_header(s.header(), &actions).unwrap();
    again.run_until(s.now());
    assert_eq!(again.trace_jsonl(), trace, "replays event for event");
    // Rewind to before node 14 existed, then forward again.
    let add_seq = s
        .events()
        .iter()
        .position(|e| matches!(&e.event.kind, EventKind::Action { action } if action["kind"] == "add_learner"))
        .unwrap() as u64;
    let end = s.step_count();
    let before = s.step_of_event(add_seq + 1) - 1;
    s.goto_step(before);
    assert_eq!(s.group_of(14), None, "rewound before the node was added");
    assert_eq!(s.group_nodes(1), &[11, 12, 13]);
    s.goto_step(end);
    assert_eq!(s.group_of(14), Some(1));
    assert_eq!(s.trace_jsonl(), trace);
    // The members of g1 and g2 went to the meta log as join entries.
    assert!(meta_joins(&s, 1) >= 1 && meta_joins(&s, 2) >= 1);
    assert_clean(&s);
}

#[test]
fn sharded_chaos_with_membership_changes_stays_safe_and_changes_happen() {
    let mut changes = 0;
    let mut removed_leaders = 0;
    for seed in 1..=8u64 {
        let cfg = ShardedConfig {
            kv_groups: if seed % 2 == 0 { 2 } else { 3 },
            ..ShardedConfig::default()
        };
        let mut s = ShardedSim::new(seed, cfg).unwrap();
        // Faults for the first 9.6 s, then a short calm period.
        let opts = ShardedChaosOptions {
            fault_every_ms: 150,
            calm_ms: 2_400,
            ..ShardedChaosOptions::default()
        };
        ShardedChaos::new(seed, opts).drive(&mut s, 12_000);
        let report = check_sharded_trace_str(&s.trace_jsonl()).expect("trace reads");
        assert!(report.is_safe(), "seed {seed}: {:#?}", report.violations());
        assert!(!report.clients.has_unknown(), "seed {seed}: undecided key");
        for e in s.events() {
            if let EventKind::Action { action } = &e.event.kind {
                let kind = action["kind"].as_str().unwrap_or("");
                if ["add_learner", "add_voter", "remove", "joint"].contains(&kind) {
                    changes += 1;
                }
            }
            if let EventKind::Role {
                reason: Some(r), ..
            } = &e.event.kind
            {
                if r.contains("§4.2.2") {
                    removed_leaders += 1;
                }
            }
        }
        // Every group still has members the meta group knows, and the meta
        // record caught up with each KV group's configuration.
        let kv: Vec<GroupId> = s
            .groups()
            .iter()
            .map(|g| g.id)
            .filter(|&g| g != 0)
            .collect();
        for g in kv {
            let ok = until(&mut s, 3000, |s| {
                s.leader(g).is_some_and(|l| {
                    let c = s.member_config(l).unwrap();
                    let members: Vec<NodeId> = c.members().into_iter().collect();
                    !c.is_joint() && meta_recorded(s, g, &members)
                })
            });
            assert!(
                ok,
                "seed {seed}: meta's record of g{g} caught up: {:?} {:?} {:?}",
                s.member_syncs(),
                s.recorded_members(g),
                s.leader(g).and_then(|l| s.member_config(l))
            );
        }
    }
    assert!(changes >= 40, "membership changes across seeds: {changes}");
    assert!(removed_leaders >= 1, "a removed leader stepped down");
}
