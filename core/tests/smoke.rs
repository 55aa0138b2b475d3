//! End-to-end stories over the harness: the core's main paths work together.

use raftlab_core::harness::Cluster;
use raftlab_core::raft::ConfChange;
use raftlab_core::{Config, KvCommand, KvOp, RaftEvent, Role};

fn put(c: &mut Cluster, leader: u64, seq: u64, key: &str, value: &str) -> u64 {
    let cmd = KvCommand {
        client: 1,
        seq,
        op: KvOp::Put,
        key: key.into(),
        value: Some(value.into()),
    };
    let (idx, _) = c
        .node_mut(leader)
        .propose_entry(cmd.encode())
        .expect("leader takes it");
    c.deliver_all();
    idx
}

#[test]
fn a_forced_timeout_elects_a_leader_that_commits_its_noop() {
    let mut c = Cluster::five();
    c.elect(1);
    assert_eq!(c.leaders(), vec![1]);
    for id in 1..=5 {
        assert_eq!(c.node(id).current_term(), 1);
        assert_eq!(c.node(id).log().last_index(), 1);
    }
    assert_eq!(c.node(1).commit_idx(), 1);
    c.run_ticks(60); // a heartbeat carries the commit index
    for id in 2..=5 {
        assert_eq!(c.node(id).commit_idx(), 1, "S{id}");
    }
}

#[test]
fn elections_happen_by_timeout_alone() {
    let mut c = Cluster::five();
    c.run_ticks(400);
    assert_eq!(c.leaders().len(), 1);
}

#[test]
fn entries_replicate_and_apply_everywhere() {
    let mut c = Cluster::five();
    c.elect(1);
    for i in 0..100 {
        put(&mut c, 1, i + 1, &format!("k{i}"), "v");
    }
    c.run_ticks(60);
    for id in 1..=5 {
        assert_eq!(c.node(id).last_applied_idx(), 101, "S{id}");
        assert_eq!(c.node(id).state_machine().data.len(), 100);
    }
}

#[test]
fn a_crashed_leader_is_replaced_and_catches_up_after_restart() {
    let mut c = Cluster::five();
    c.elect(1);
    put(&mut c, 1, 1, "a", "1");
    c.crash(1);
    c.run_ticks(700);
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1);
    let l = leaders[0];
    assert!(c.node(l).current_term() >= 2);
    put(&mut c, l, 2, "b", "2");
    c.restart(1);
    c.run_ticks(200);
    assert_eq!(c.node(1).state(), Role::Follower);
    assert_eq!(c.node(1).log().last_index(), c.node(l).log().last_index());
    assert_eq!(
        c.node(1).state_machine().data.get("b").map(String::as_str),
        Some("2")
    );
}

#[test]
fn a_lagging_follower_gets_a_chunked_snapshot() {
    let mut cfg = Config::new(1);
    cfg.snapshot_chunk_bytes = 16;
    let mut c = Cluster::new(3, cfg);
    c.elect(1);
    c.isolate(3);
    for i in 0..20 {
        put(&mut c, 1, i + 1, &format!("key{i}"), "value");
    }
    c.node_mut(1).take_snapshot().expect("snapshot");
    assert!(c.node(1).log().base_index() >= 20);
    c.recover();
    c.run_ticks(400);
    let n3 = c.node(3);
    assert_eq!(n3.state_machine().data.len(), 20);
    assert!(n3.log().base_index() >= 20, "S3's log base moved");
    let chunks = c
        .events_of(3)
        .iter()
        .filter(|e| matches!(e, RaftEvent::Snapshot { .. }))
        .count();
    assert_eq!(chunks, 1);
}

#[test]
fn membership_learner_promote_remove_leader_and_joint() {
    let mut c = Cluster::new(3, Config::new(1));
    c.elect(1);
    c.add_node(4);
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddLearner(4))
        .expect("learner");
    c.deliver_all();
    c.run_ticks(60);
    assert!(c.node(4).config().is_learner(4));
    assert_eq!(c.node(4).log().last_index(), c.node(1).log().last_index());
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddVoter(4))
        .expect("promote");
    c.deliver_all();
    c.run_ticks(60);
    assert!(c.node(4).config().is_voter(4));
    // Remove the leader.
    c.node_mut(1)
        .propose_conf_change(ConfChange::Remove(1))
        .expect("remove");
    c.deliver_all();
    assert_eq!(
        c.node(1).state(),
        Role::Follower,
        "removed leader steps down"
    );
    c.run_ticks(700);
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1);
    let l = leaders[0];
    assert_ne!(l, 1);
    // Joint change: voters {2,3,4} -> {2,3,5}.
    c.add_node(5);
    c.run_ticks(400);
    let l = c.leaders()[0];
    c.node_mut(l)
        .propose_conf_change(ConfChange::Joint(vec![2, 3, 5]))
        .expect("joint");
    c.deliver_all();
    c.run_ticks(200);
    let l = c.leaders()[0];
    let conf = c.node(l).config().clone();
    assert!(!conf.is_joint(), "left the joint configuration: {conf:?}");
    assert_eq!(
        conf.voters.iter().copied().collect::<Vec<_>>(),
        vec![2, 3, 5]
    );
}

#[test]
fn leadership_transfer_hands_over() {
    let mut c = Cluster::five();
    c.elect(1);
    c.node_mut(1).transfer_leadership(3).expect("transfer");
    c.deliver_all();
    assert_eq!(c.leaders(), vec![3]);
}

#[test]
fn read_index_is_served_after_a_quorum_confirms() {
    let mut c = Cluster::five();
    c.elect(1);
    put(&mut c, 1, 1, "x", "1");
    c.node_mut(1).propose_read(7).expect("read");
    c.deliver_all();
    let ready = c
        .events_of(1)
        .iter()
        .any(|e| matches!(e, RaftEvent::ReadReady { read_id: 7, .. }));
    assert!(ready);
    // A partitioned old leader cannot confirm.
    c.isolate(1);
    c.clear_events();
    c.node_mut(1).propose_read(8).expect("read");
    c.deliver_all();
    let ready = c
        .events_of(1)
        .iter()
        .any(|e| matches!(e, RaftEvent::ReadReady { read_id: 8, .. }));
    assert!(!ready);
}
