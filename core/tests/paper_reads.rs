//! Linearizable reads with ReadIndex (thesis §6.4): served by the leader
//! only after it confirms its leadership with a quorum, after its NoOp
//! committed, and once its state machine applied the read index.

mod common;

use common::*;
use raftlab_core::harness::Cluster;
use raftlab_core::raft::ProposeError;
use raftlab_core::{Bugs, KvResult, RaftEvent};

fn none() -> Bugs {
    Bugs::none()
}

fn ready(c: &Cluster, id: u64, read_id: u64) -> Option<u64> {
    c.events_of(id).iter().find_map(|e| match e {
        RaftEvent::ReadReady { read_id: r, index } if *r == read_id => Some(*index),
        _ => None,
    })
}

fn failed(c: &Cluster, id: u64, read_id: u64) -> bool {
    c.events_of(id)
        .iter()
        .any(|e| matches!(e, RaftEvent::ReadFailed { read_id: r, .. } if *r == read_id))
}

/// Thesis §6.4 step 3: the read waits for a quorum to acknowledge a
/// heartbeat sent after it arrived; acknowledgements of older messages do
/// not count.
#[test]
fn read_is_served_once_a_quorum_acknowledges_a_token_at_least_the_reads() {
    let mut c = Cluster::new(5, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(c.config.heartbeat_interval - 1);
    c.tick_all(); // a heartbeat round whose answers we hold back
    for m in c.take_queue() {
        c.deliver(m);
    }
    let old = c.hold_queued(|m| m.to == 1);
    assert_eq!(old.len(), 4);
    c.node_mut(1).propose_read(7).unwrap();
    for m in c.take_queue() {
        c.deliver(m);
    }
    let new = c.hold_queued(|m| m.to == 1);
    for m in old {
        c.deliver(m);
    }
    assert_eq!(
        ready(&c, 1, 7),
        None,
        "answers to older heartbeats confirm nothing"
    );
    let mut new = new.into_iter();
    c.deliver(new.next().unwrap());
    assert_eq!(ready(&c, 1, 7), None, "2 of 5");
    c.deliver(new.next().unwrap());
    assert_eq!(ready(&c, 1, 7), Some(c.node(1).commit_idx()), "3 of 5");
}

/// Thesis §6.4 step 1: a new leader serves no read before its NoOp
/// commits (until then it may not know the latest commit index).
#[test]
fn read_waits_until_the_leaders_noop_commits() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.drop_if(carries_entries);
    c.elect(1);
    c.node_mut(1).propose_read(1).unwrap();
    c.deliver_all();
    c.run_ticks(60);
    assert_eq!(c.node(1).commit_idx(), 0);
    assert_eq!(
        ready(&c, 1, 1),
        None,
        "confirmed, but the NoOp has not committed"
    );
    c.recover();
    c.run_ticks(60);
    assert_eq!(c.node(1).commit_idx(), 1);
    assert_eq!(ready(&c, 1, 1), Some(1));
}

/// Thesis §6.4 step 4: the read is answered from a state machine that
/// applied at least the read index, so it sees every write committed before
/// the read arrived.
#[test]
fn read_sees_every_write_committed_before_it() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.node_mut(1).propose_entry(put_cmd(1, "x", "1")).unwrap();
    c.deliver_all();
    let committed = c.node(1).commit_idx();
    c.node_mut(1).propose_read(2).unwrap();
    c.deliver_all();
    let index = ready(&c, 1, 2).expect("served");
    assert!(index >= committed);
    assert!(c.node(1).last_applied_idx() >= index);
    let answer = KvResult::decode(&c.node(1).read_state_machine(b"x")).unwrap();
    assert_eq!(answer.value.as_deref(), Some("1"));
}

/// Thesis §6.4: only the leader serves reads; followers redirect.
#[test]
fn followers_never_serve_reads() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(60);
    let err = c.node_mut(2).propose_read(3).unwrap_err();
    assert_eq!(err, ProposeError::NotLeader(Some(1)));
}

/// Thesis §6.4: an old leader cut off from the majority cannot confirm its
/// leadership, so it never serves a read, not even while the majority
/// elects a new leader and writes; its reads fail when it steps down.
#[test]
fn partitioned_old_leader_never_serves_a_read() {
    let mut c = Cluster::new(5, config(&none(), |_| {}));
    c.elect(1);
    c.node_mut(1).propose_entry(put_cmd(1, "x", "1")).unwrap();
    c.deliver_all();
    c.isolate(1);
    c.node_mut(1).propose_read(8).unwrap();
    c.run_ticks(700);
    let new_leader = c
        .leaders()
        .into_iter()
        .find(|&l| l != 1)
        .expect("a new leader");
    c.node_mut(new_leader)
        .propose_entry(put_cmd(2, "x", "2"))
        .unwrap();
    c.deliver_all();
    assert_eq!(ready(&c, 1, 8), None, "a stale read was served");
    assert!(failed(&c, 1, 8), "the read failed when S1 stepped down");
    assert!(
        c.node_mut(1).propose_read(9).is_err(),
        "a deposed leader takes no reads"
    );
}

/// Thesis §6.4: a leader deposed by a higher term fails its pending reads
/// rather than serving them.
#[test]
fn deposed_leader_fails_its_pending_reads() {
    let mut c = Cluster::new(3, config(&none(), |c| c.check_quorum = false));
    c.elect(1);
    c.cut_link(2, 1);
    c.cut_link(3, 1);
    c.node_mut(1).propose_read(5).unwrap();
    c.deliver_all();
    c.recover();
    c.elect(2);
    c.run_ticks(60);
    assert_eq!(c.leaders(), vec![2]);
    assert_eq!(ready(&c, 1, 5), None);
    assert!(failed(&c, 1, 5));
}
