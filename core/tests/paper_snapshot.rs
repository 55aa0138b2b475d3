//! Log compaction and InstallSnapshot (Raft §7), in ERaftKV's chunks.

mod common;

use common::*;
use raftlab_core::harness::Cluster;
use raftlab_core::raft::ReplicaState;
use raftlab_core::why::Refusal;
use raftlab_core::{
    Bugs, KvStore, MemStorage, Membership, Message, MessageBody, RaftEvent, SnapshotBlock,
    SnapshotReq, SnapshotResp, StateMachine, Storage,
};

fn none() -> Bugs {
    Bugs::none()
}

/// A leader S1 that compacted its log while S3 was down; S3 is back up.
fn lagging_follower(chunk: usize) -> Cluster {
    let mut c = Cluster::new(3, config(&none(), |c| c.snapshot_chunk_bytes = chunk));
    c.elect(1);
    c.crash(3);
    propose_n(&mut c, 1, 10);
    c.node_mut(1).take_snapshot().unwrap();
    c.restart(3);
    c
}

fn snapshot_answers(msgs: &[Message]) -> Vec<&SnapshotResp> {
    msgs.iter()
        .filter_map(|m| match &m.body {
            MessageBody::SnapshotResp(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// A snapshot image as the core writes it: the configuration, a newline,
/// the state machine's bytes.
fn image(voters: &[u64], kv: &KvStore) -> Vec<u8> {
    let mut data = serde_json::to_vec(&Membership::with_voters(voters.iter().copied())).unwrap();
    data.push(b'\n');
    data.extend(kv.snapshot());
    data
}

fn snapshot_msg(from: u64, to: u64, term: u64, token: u64, at: (u64, u64), data: &[u8]) -> Message {
    Message {
        from,
        to,
        body: MessageBody::Snapshot(SnapshotReq {
            term,
            leader_id: from,
            message_token: token,
            snapshot_index: at.0,
            snapshot_term: at.1,
            block: SnapshotBlock {
                offset: 0,
                data: data.to_vec(),
                block_size: data.len() as u64,
                is_last_chunk: true,
            },
        }),
    }
}

/// §7: compaction drops the applied prefix and keeps its last index and
/// term as the log's base, so the consistency check still works there.
#[test]
fn compaction_keeps_the_base_index_and_term() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    let last = propose_n(&mut c, 1, 5);
    let base = c.node_mut(1).take_snapshot().unwrap();
    assert_eq!(base, last);
    let s1 = c.node(1);
    let log = s1.log();
    assert_eq!((log.base_index(), log.base_term()), (last, 1));
    assert_eq!(log.first_index(), last + 1);
    assert_eq!(log.term_at(last), Some(1));
    assert_eq!(log.get(last), None, "the entry itself is gone");
    let snap = s1.storage().load_snapshot().unwrap();
    assert_eq!((snap.index, snap.term), (last, 1));
    // Replication goes on after the base.
    let next = propose_n(&mut c, 1, 1);
    assert_eq!(c.node(2).log().last_index(), next);
    assert_eq!(c.node(1).commit_idx(), next);
}

/// §7: a leader whose follower needs compacted entries (next_index at or
/// below the snapshot index) sends its snapshot instead.
#[test]
fn leader_switches_to_a_snapshot_when_the_follower_needs_compacted_entries() {
    let mut c = lagging_follower(1024);
    c.tick_all();
    c.run_ticks(60);
    let sent = c
        .events_of(3)
        .iter()
        .any(|e| matches!(e, RaftEvent::Snapshot { index: 11, .. }));
    assert!(sent, "S3 installed the snapshot at 11");
    assert_eq!(c.node(3).log().base_index(), 11);
    assert_eq!(c.node(3).state_machine(), c.node(1).state_machine());
    assert_eq!(c.node(1).progress()[&3].match_index, 11);
}

/// ERaftKV `snapshot_block`: the snapshot travels in chunks of the
/// configured size, at consecutive offsets, the last one flagged.
#[test]
fn snapshot_travels_in_chunks_of_the_configured_size() {
    let mut c = lagging_follower(64);
    let total = c.node(1).storage().load_snapshot().unwrap().data.len();
    let mut chunks: Vec<SnapshotBlock> = Vec::new();
    for _ in 0..200 {
        c.tick_all();
        ok(settle_losing(&mut c, 10_000, |_, m| {
            if let MessageBody::Snapshot(r) = &m.body {
                chunks.push(r.block.clone());
            }
            false
        }));
    }
    // Stop-and-wait: each chunk once, in order.
    let mut offset = 0;
    for (i, b) in chunks.iter().enumerate() {
        assert_eq!(b.offset, offset, "chunk {i}");
        assert_eq!(b.is_last_chunk, i + 1 == chunks.len());
        if !b.is_last_chunk {
            assert_eq!(b.data.len(), 64);
        }
        offset += b.data.len() as u64;
    }
    assert_eq!(offset as usize, total);
    assert!(chunks.len() > 2);
}

/// ERaftKV chunks: when an answer is lost, the leader resends the chunk;
/// the follower, already past it, refuses it naming the offset it expects,
/// and the leader goes on from there. A lost chunk is simply resent.
#[test]
fn resent_chunk_is_answered_with_the_expected_offset_and_the_leader_moves_on() {
    let mut c = lagging_follower(32);
    let (mut lost_answer, mut lost_chunk) = (false, false);
    let mut refused_at = Vec::new();
    for _ in 0..600 {
        c.tick_all();
        ok(settle_losing(&mut c, 10_000, |_, m| match &m.body {
            MessageBody::SnapshotResp(r) if r.success && r.offset == 64 && !lost_answer => {
                lost_answer = true;
                true
            }
            MessageBody::Snapshot(r) if r.block.offset == 96 && !lost_chunk => {
                lost_chunk = true;
                true
            }
            MessageBody::SnapshotResp(r) if !r.success => {
                refused_at.push(r.offset);
                false
            }
            _ => false,
        }));
    }
    assert!(lost_answer && lost_chunk);
    assert_eq!(
        refused_at,
        vec![64],
        "the resent chunk 32 was refused, naming 64"
    );
    assert_eq!(c.node(3).log().base_index(), 11, "installed in the end");
    assert_eq!(c.node(3).state_machine(), c.node(1).state_machine());
}

/// A chunk that skips ahead is refused with the expected offset; a
/// duplicate of one already stored is refused the same way and changes
/// nothing.
#[test]
fn out_of_order_and_duplicate_chunks_are_refused_with_the_expected_offset() {
    let data: Vec<u8> = image(&[1, 2, 3], &KvStore::new());
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        MemStorage::new(),
        Default::default(),
    );
    let chunk = |offset: usize, len: usize, token: u64| {
        let mut m = snapshot_msg(1, 3, 1, token, (5, 1), &data[offset..offset + len]);
        if let MessageBody::Snapshot(r) = &mut m.body {
            r.block.offset = offset as u64;
            r.block.is_last_chunk = offset + len == data.len();
        }
        m
    };
    s.step(chunk(0, 10, 1));
    s.step(chunk(20, 10, 2)); // a gap
    s.step(chunk(0, 10, 3)); // a duplicate
    let (msgs, _) = drain(&mut s);
    let answers: Vec<(bool, u64)> = snapshot_answers(&msgs)
        .iter()
        .map(|r| (r.success, r.offset))
        .collect();
    assert_eq!(answers, vec![(true, 10), (false, 10), (false, 10)]);
    assert_eq!(s.incoming_snapshot(), Some((5, 1, 10)));
    s.step(chunk(10, data.len() - 10, 4));
    let (msgs, _) = drain(&mut s);
    assert!(snapshot_answers(&msgs)[0].is_last_chunk);
    assert_eq!((s.log().base_index(), s.commit_idx()), (5, 5));
}

/// §7: a follower that crashes halfway through a chunked transfer gets the
/// rest after it restarts.
#[test]
fn follower_crash_halfway_through_a_transfer_completes_after_restart() {
    let mut c = lagging_follower(32);
    // Chunks past the first 64 bytes are lost until S3 crashes.
    for _ in 0..100 {
        c.tick_all();
        ok(settle_losing(
            &mut c,
            10_000,
            |_, m| matches!(&m.body, MessageBody::Snapshot(r) if r.block.offset >= 64),
        ));
    }
    let crashed = c
        .node(3)
        .incoming_snapshot()
        .is_some_and(|(_, _, n)| n == 64);
    c.crash(3);
    c.run_ticks(20);
    c.restart(3);
    c.run_ticks(400);
    assert!(crashed);
    assert_eq!(c.node(3).log().base_index(), 11);
    assert_eq!(c.node(3).state_machine(), c.node(1).state_machine());
    assert_eq!(c.node(3).log().last_index(), c.node(1).log().last_index());
}

/// §7: the last chunk installs the snapshot; log entries that follow the
/// snapshot and match it are kept, the rest of the log is discarded.
#[test]
fn installing_keeps_a_matching_log_suffix_and_discards_the_rest() {
    let mut kv = KvStore::new();
    kv.data.insert("k".into(), "v".into());
    let data = image(&[1, 2, 3], &kv);
    // Matching: the follower holds index 3 of term 1, as the snapshot says.
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        storage_at(1, 0),
        log_of(&[1, 1, 1, 1, 1]),
    );
    s.step(snapshot_msg(1, 3, 1, 1, (3, 1), &data));
    assert_eq!((s.log().base_index(), s.log().last_index()), (3, 5));
    assert_eq!(log_terms(&s), vec![1, 1]);
    assert_eq!(s.state_machine(), &kv);
    assert_eq!((s.commit_idx(), s.last_applied_idx()), (3, 3));
    // Not matching: index 3 has another term; the whole log goes.
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        storage_at(2, 0),
        log_of(&[1, 1, 1, 1, 1]),
    );
    s.step(snapshot_msg(1, 3, 2, 1, (3, 2), &data));
    assert_eq!(
        (
            s.log().base_index(),
            s.log().base_term(),
            s.log().last_index()
        ),
        (3, 2, 3)
    );
}

/// §7: a snapshot that is not newer than what the follower has committed
/// is ignored (the leader is told to move on).
#[test]
fn snapshot_older_than_the_followers_state_is_ignored() {
    let data = image(&[1, 2, 3], &KvStore::new());
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        storage_at(1, 0),
        log_of(&[1, 1, 1, 1, 1]),
    );
    s.step(append(1, 3, 1, 1, (5, 1), 5, vec![]));
    assert_eq!(s.commit_idx(), 5);
    drain(&mut s);
    s.step(snapshot_msg(1, 3, 1, 2, (3, 1), &data));
    let (msgs, events) = drain(&mut s);
    assert_eq!(s.log().base_index(), 0, "nothing compacted");
    assert_eq!(s.log().last_index(), 5);
    assert!(!events
        .iter()
        .any(|e| matches!(e, RaftEvent::Snapshot { .. })));
    let answer = snapshot_answers(&msgs)[0];
    assert!(answer.success && answer.is_last_chunk);
}

/// §7: after a restart, the server restores its state machine from its
/// snapshot and resumes commit and apply from the snapshot's index.
#[test]
fn snapshot_is_restored_after_a_restart() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    let last = propose_n(&mut c, 1, 5);
    c.run_ticks(60);
    c.node_mut(2).take_snapshot().unwrap();
    let kv = c.node(2).state_machine().clone();
    assert_eq!(kv.data.len(), 5);
    c.crash(2);
    c.restart(2);
    let s2 = c.node(2);
    assert_eq!(s2.state_machine(), &kv);
    assert_eq!((s2.commit_idx(), s2.last_applied_idx()), (last, last));
    assert_eq!(s2.log().base_index(), last);
    let next = propose_n(&mut c, 1, 1);
    c.run_ticks(60);
    assert_eq!(c.node(2).last_applied_idx(), next);
}

/// §7 with leader changes: chunks of a deposed leader's transfer are
/// refused once a new leader exists, and the follower catches up from the
/// new leader instead.
#[test]
fn leader_change_aborts_a_transfer_in_progress() {
    let mut c = lagging_follower(32);
    // S3 gets part of S1's snapshot; S1's next chunk stays in flight.
    let mut held = None;
    for _ in 0..60 {
        c.tick_all();
        ok(settle_losing(&mut c, 10_000, |_, m| {
            let late = matches!(&m.body, MessageBody::Snapshot(r) if r.block.offset >= 64);
            if late && held.is_none() {
                held = Some(m.clone());
            }
            late
        }));
    }
    let held = held.expect("a chunk from S1 in flight");
    assert!(c.node(3).incoming_snapshot().is_some());
    c.crash(1);
    c.run_ticks(700);
    let leader = c.leaders()[0];
    assert_eq!(leader, 2);
    c.clear_events();
    c.deliver(held);
    let refused = c.events_of(3).iter().any(|e| {
        matches!(
            e,
            RaftEvent::Rejected {
                msg: "snapshot",
                reason: Refusal::StaleLeader { .. },
                ..
            }
        )
    });
    assert!(refused, "{:?}", c.events_of(3));
    c.run_ticks(120);
    assert_eq!(log_terms(c.node(3)), log_terms(c.node(2)));
    assert!(!matches!(
        c.node(2).progress()[&3].state,
        ReplicaState::Snapshot { .. }
    ));
}

/// willemt's "append after snapshot base": a follower whose log was
/// compacted accepts appends whose prefix lies inside its snapshot.
#[test]
fn append_reaching_into_the_snapshot_is_accepted() {
    let data = image(&[1, 2, 3], &KvStore::new());
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        storage_at(1, 0),
        Default::default(),
    );
    s.step(snapshot_msg(1, 3, 1, 1, (5, 1), &data));
    assert_eq!(s.log().base_index(), 5);
    let entries: Vec<_> = (4..=7).map(|i| entry(i, 1)).collect();
    s.step(append(1, 3, 1, 2, (3, 1), 5, entries));
    s.step(append(1, 3, 1, 3, (2, 1), 5, vec![entry(3, 1)])); // wholly inside
    let (msgs, _) = drain(&mut s);
    let answers: Vec<(bool, u64)> = msgs
        .iter()
        .filter_map(|m| match &m.body {
            MessageBody::AppendEntriesResp(r) => Some((r.success, r.curr_index)),
            _ => None,
        })
        .collect();
    assert_eq!(answers, vec![(true, 7), (true, 3)]);
    assert_eq!((s.log().first_index(), s.log().last_index()), (6, 7));
}

/// A snapshot whose image does not parse is refused and never becomes the
/// persisted snapshot, so the server still restarts (found by the
/// property tests: it used to be persisted before being checked).
#[test]
fn malformed_snapshot_is_refused_and_not_persisted() {
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        storage_at(1, 0),
        log_of(&[1]),
    );
    s.step(snapshot_msg(1, 3, 1, 1, (5, 1), b"no header here"));
    let (msgs, _) = drain(&mut s);
    assert!(!snapshot_answers(&msgs)[0].success);
    assert_eq!(s.storage().load_snapshot(), None);
    assert_eq!(s.incoming_snapshot(), None);
    assert_eq!((s.log().base_index(), s.commit_idx()), (0, 0));
    let (st, log) = s.into_persistent();
    let s = lone(&classic(&none()), 3, &[1, 2, 3], st, log);
    assert_eq!(s.log().last_index(), 1);
}
