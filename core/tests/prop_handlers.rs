//! Property tests: every handler takes arbitrary and malformed messages
//! (any term up to u64::MAX, indexes out of range, wrong offsets, unknown or
//! forged senders, misaddressed messages, entries with bad indexes),
//! interleaved with ticks, real traffic, drops, duplicates, reordering,
//! crashes and operations. The core never panics, and the persistent state
//! never moves backwards: the term never decreases, within a term the vote
//! never changes once cast, and committed entries never leave the log except
//! by compaction.

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use raftlab_core::harness::Cluster;
use raftlab_core::raft::ConfChange;
use raftlab_core::{
    AppendEntriesReq, AppendEntriesResp, Config, Entry, EntryKind, Index, Message, MessageBody,
    NodeId, RequestVoteReq, RequestVoteResp, SnapshotBlock, SnapshotReq, SnapshotResp, Term,
};

const IDS: [NodeId; 3] = [1, 2, 3];

/// One step of the story.
#[derive(Clone, Debug)]
enum Action {
    Tick(u8),
    Deliver(u8),
    DropHead,
    DuplicateHead,
    ReorderHead,
    Inject(Message),
    StepDirect(NodeId, Message),
    Propose(NodeId),
    Read(NodeId),
    Snapshot(NodeId),
    Crash(NodeId),
    Restart(NodeId),
    Timeout(NodeId),
    Change(NodeId, ConfChange),
    Transfer(NodeId, NodeId),
}

fn any_id() -> impl Strategy<Value = NodeId> {
    prop_oneof![
        4 => prop::sample::select(vec![1u64, 2, 3]),
        1 => prop::sample::select(vec![0u64, 4, 99, u64::MAX]),
    ]
}

fn any_term() -> impl Strategy<Value = Term> {
    prop_oneof![
        6 => 0u64..6,
        1 => Just(u64::MAX),
        1 => Just(u64::MAX - 1),
        1 => any::<u64>(),
    ]
}

fn any_index() -> impl Strategy<Value = Index> {
    prop_oneof![
        6 => 0u64..16,
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
}

fn any_kind() -> impl Strategy<Value = EntryKind> {
    prop::sample::select(vec![
        EntryKind::Normal,
        EntryKind::NoOp,
        EntryKind::JoinNoVoteNode,
        EntryKind::JoinNode,
        EntryKind::LeaveNode,
        EntryKind::JointEnter,
        EntryKind::JointLeave,
    ])
}

fn any_data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"1".to_vec()),
        Just(b"2,3".to_vec()),
        Just(b"4".to_vec()),
        Just(b"{\"client\":1,\"seq\":1,\"op\":\"put\",\"key\":\"k\",\"value\":\"v\"}".to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn any_entries() -> BoxedStrategy<Vec<Entry>> {
    // Either well-formed runs after a random prev, or arbitrary garbage.
    prop_oneof![
        (0u64..12, 0u64..5, 0usize..4, any_kind(), any_data()).prop_map(
            |(prev, term, n, kind, data)| {
                (1..=n as u64)
                    .map(|i| Entry {
                        term,
                        index: prev + i,
                        kind: if i == 1 { kind } else { EntryKind::Normal },
                        data: data.clone(),
                    })
                    .collect()
            }
        ),
        prop::collection::vec(
            (any_term(), any_index(), any_kind(), any_data()).prop_map(
                |(term, index, kind, data)| Entry {
                    term,
                    index,
                    kind,
                    data,
                }
            ),
            0..3
        ),
    ]
    .boxed()
}

fn any_body() -> BoxedStrategy<MessageBody> {
    prop_oneof![
        (
            any::<bool>(),
            any_term(),
            any_id(),
            any_index(),
            any_term(),
            any::<bool>()
        )
            .prop_map(|(prevote, term, candidate_id, i, t, transfer)| {
                MessageBody::RequestVote(RequestVoteReq {
                    prevote,
                    term,
                    candidate_id,
                    last_log_idx: i,
                    last_log_term: t,
                    transfer,
                })
            }),
        (any::<bool>(), any_term(), any_term(), any::<bool>()).prop_map(
            |(prevote, request_term, term, vote_granted)| {
                MessageBody::RequestVoteResp(RequestVoteResp {
                    prevote,
                    request_term,
                    term,
                    vote_granted,
                })
            }
        ),
        (
            any_id(),
            any::<u64>(),
            any_term(),
            (any_index(), any_term()),
            any_index(),
            any_entries(),
            any::<bool>()
        )
            .prop_map(
                |(leader_id, token, term, prev, commit, entries, timeout_now)| {
                    MessageBody::AppendEntries(AppendEntriesReq {
                        leader_id,
                        message_token: token,
                        term,
                        prev_log_idx: prev.0,
                        prev_log_term: prev.1,
                        leader_commit: commit,
                        entries,
                        timeout_now,
                    })
                }
            ),
        (any::<u64>(), any_term(), any::<bool>(), any_index()).prop_map(
            |(token, term, success, curr_index)| {
                MessageBody::AppendEntriesResp(AppendEntriesResp {
                    message_token: token,
                    term,
                    success,
                    curr_index,
                })
            }
        ),
        (
            any_term(),
            any_id(),
            any::<u64>(),
            (any_index(), any_term()),
            (any_index(), any_data(), any::<bool>(), any::<bool>())
        )
            .prop_map(
                |(term, leader_id, token, at, (offset, data, honest, last))| {
                    let block_size = if honest { data.len() as u64 } else { offset };
                    MessageBody::Snapshot(SnapshotReq {
                        term,
                        leader_id,
                        message_token: token,
                        snapshot_index: at.0,
                        snapshot_term: at.1,
                        block: SnapshotBlock {
                            offset: offset % 64,
                            data,
                            block_size,
                            is_last_chunk: last,
                        },
                    })
                }
            ),
        (
            any_term(),
            any::<u64>(),
            any_index(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(term, token, offset, success, last)| {
                MessageBody::SnapshotResp(SnapshotResp {
                    term,
                    message_token: token,
                    offset,
                    success,
                    is_last_chunk: last,
                })
            }),
    ]
    .boxed()
}

fn any_message() -> BoxedStrategy<Message> {
    (any_id(), any_id(), any_body())
        .prop_map(|(from, to, body)| Message { from, to, body })
        .boxed()
}

fn node() -> impl Strategy<Value = NodeId> {
    prop::sample::select(IDS.to_vec())
}

fn any_change() -> BoxedStrategy<ConfChange> {
    prop_oneof![
        (0u64..6).prop_map(ConfChange::AddLearner),
        (0u64..6).prop_map(ConfChange::AddVoter),
        (0u64..6).prop_map(ConfChange::Remove),
        prop::collection::vec(0u64..6, 0..4).prop_map(ConfChange::Joint),
    ]
    .boxed()
}

/// Ticks, deliveries, network faults and operations: what a real
/// cluster sees.
fn real_action() -> BoxedStrategy<Action> {
    prop_oneof![
        8 => (1u8..8).prop_map(Action::Tick),
        8 => (1u8..20).prop_map(Action::Deliver),
        1 => Just(Action::DropHead),
        1 => Just(Action::DuplicateHead),
        1 => Just(Action::ReorderHead),
        3 => node().prop_map(Action::Propose),
        1 => node().prop_map(Action::Read),
        1 => node().prop_map(Action::Snapshot),
        1 => node().prop_map(Action::Crash),
        2 => node().prop_map(Action::Restart),
        1 => node().prop_map(Action::Timeout),
        1 => (node(), any_change()).prop_map(|(n, c)| Action::Change(n, c)),
        1 => (node(), any_id()).prop_map(|(n, t)| Action::Transfer(n, t)),
    ]
    .boxed()
}

/// Real traffic mixed with forged, malformed and misaddressed messages.
fn action() -> BoxedStrategy<Action> {
    prop_oneof![
        6 => real_action(),
        2 => any_message().prop_map(Action::Inject),
        1 => (node(), any_message()).prop_map(|(n, m)| Action::StepDirect(n, m)),
    ]
    .boxed()
}

/// What each node has shown so far, to check it never goes back.
#[derive(Default)]
struct Seen {
    /// Highest (term, vote) persisted.
    meta: BTreeMap<NodeId, (Term, NodeId)>,
    /// Entries each node knew committed in its current life.
    committed: BTreeMap<NodeId, BTreeMap<Index, Term>>,
    /// Commit and apply indexes in the current life.
    progress: BTreeMap<NodeId, (Index, Index)>,
}

impl Seen {
    fn restarted(&mut self, id: NodeId) {
        // The commit index is volatile (Figure 2): a new life starts over.
        self.committed.remove(&id);
        self.progress.remove(&id);
    }

    fn check(&mut self, c: &Cluster) -> Result<(), TestCaseError> {
        for id in IDS {
            if !c.is_up(id) {
                continue;
            }
            let s = c.node(id);
            let (term, vote) = (s.current_term(), s.voted_for());
            prop_assert_eq!(
                raftlab_core::Storage::load_meta(s.storage()),
                (term, vote),
                "S{} runs on unpersisted term/vote",
                id
            );
            if let Some(&(t0, v0)) = self.meta.get(&id) {
                prop_assert!(term >= t0, "S{} term went back {} -> {}", id, t0, term);
                if term == t0 && v0 != 0 {
                    prop_assert_eq!(vote, v0, "S{} changed its vote in term {}", id, term);
                }
            }
            self.meta.insert(id, (term, vote));

            let (commit, applied) = (s.commit_idx(), s.last_applied_idx());
            prop_assert!(
                applied <= commit,
                "S{} applied {} > commit {}",
                id,
                applied,
                commit
            );
            if let Some(&(c0, a0)) = self.progress.get(&id) {
                prop_assert!(
                    commit >= c0,
                    "S{} commit went back {} -> {}",
                    id,
                    c0,
                    commit
                );
                prop_assert!(
                    applied >= a0,
                    "S{} apply went back {} -> {}",
                    id,
                    a0,
                    applied
                );
            }
            self.progress.insert(id, (commit, applied));

            let log = s.log();
            let known = self.committed.entry(id).or_default();
            for (&i, &t) in known.iter() {
                if i > log.base_index() {
                    prop_assert_eq!(
                        log.term_at(i),
                        Some(t),
                        "S{} lost committed entry {} (term {})",
                        id,
                        i,
                        t
                    );
                }
            }
            let from = known
                .keys()
                .next_back()
                .map_or(log.first_index(), |&i| i + 1);
            for i in from.max(log.first_index())..=commit.min(log.last_index()) {
                if let Some(t) = log.term_at(i) {
                    known.insert(i, t);
                }
            }
        }
        Ok(())
    }
}

fn settings(prevote: bool, check_quorum: bool) -> Config {
    let mut cfg = Config::new(1);
    cfg.election_timeout_min = 10;
    cfg.election_timeout_max = 20;
    cfg.heartbeat_interval = 3;
    cfg.prevote = prevote;
    cfg.check_quorum = check_quorum;
    cfg.max_entries_per_msg = 3;
    cfg.max_inflight = 2;
    cfg.snapshot_chunk_bytes = 16;
    cfg.snapshot_retry_ticks = 5;
    cfg
}

fn run(prevote: bool, check_quorum: bool, actions: Vec<Action>) -> Result<(), TestCaseError> {
    let mut c = Cluster::new(3, settings(prevote, check_quorum));
    let mut seen = Seen::default();
    let mut seq = 0;
    for a in actions {
        match a {
            Action::Tick(n) => {
                for _ in 0..n {
                    c.tick_all();
                }
            }
            Action::Deliver(n) => {
                for _ in 0..n {
                    c.deliver_one();
                }
            }
            Action::DropHead => {
                let mut q = c.take_queue();
                if !q.is_empty() {
                    q.remove(0);
                }
                c.queue.extend(q);
            }
            Action::DuplicateHead => {
                let q = c.take_queue();
                if let Some(m) = q.first().cloned() {
                    c.deliver(m);
                }
                c.queue.extend(q);
            }
            Action::ReorderHead => {
                let mut q = c.take_queue();
                if !q.is_empty() {
                    let m = q.remove(0);
                    q.push(m);
                }
                c.queue.extend(q);
            }
            Action::Inject(m) => c.deliver(m),
            Action::StepDirect(id, m) => {
                if c.is_up(id) {
                    c.node_mut(id).step(m);
                    c.collect(id);
                }
            }
            Action::Propose(id) => {
                if c.is_up(id) {
                    seq += 1;
                    let _ = c.node_mut(id).propose_entry(common::put_cmd(seq, "k", "v"));
                }
            }
            Action::Read(id) => {
                if c.is_up(id) {
                    let _ = c.node_mut(id).propose_read(seq);
                }
            }
            Action::Snapshot(id) => {
                if c.is_up(id) {
                    let _ = c.node_mut(id).take_snapshot();
                }
            }
            Action::Crash(id) => c.crash(id),
            Action::Restart(id) => {
                if !c.is_up(id) {
                    c.restart(id);
                    seen.restarted(id);
                }
            }
            Action::Timeout(id) => {
                if c.is_up(id) {
                    let _ = c.node_mut(id).force_timeout();
                }
            }
            Action::Change(id, ch) => {
                if c.is_up(id) {
                    let _ = c.node_mut(id).propose_conf_change(ch);
                }
            }
            Action::Transfer(id, target) => {
                if c.is_up(id) {
                    let _ = c.node_mut(id).transfer_leadership(target);
                }
            }
        }
        for id in IDS {
            c.collect(id);
        }
        seen.check(&c)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// No panic, and term, vote and committed entries never go back, with
    /// PreVote and CheckQuorum on or off.
    #[test]
    fn handlers_survive_arbitrary_messages_and_state_never_moves_back(
        prevote in any::<bool>(),
        check_quorum in any::<bool>(),
        actions in prop::collection::vec(action(), 1..80),
    ) {
        run(prevote, check_quorum, actions)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Real traffic only (no forged messages): safety across the cluster,
    /// not just per node: no two servers apply different entries at one
    /// index, and no term has two leaders.
    #[test]
    fn real_traffic_with_faults_keeps_the_cluster_safe(
        actions in prop::collection::vec(real_action(), 1..150),
    ) {
        let mut c = Cluster::new(3, settings(true, true));
        let mut seq = 0;
        for a in actions {
            match a {
                Action::Tick(n) => (0..n).for_each(|_| c.tick_all()),
                Action::Deliver(n) => (0..n).for_each(|_| { c.deliver_one(); }),
                Action::DropHead => { c.take_queue().into_iter().skip(1).for_each(|m| c.queue.push_back(m)); }
                Action::Propose(id) if c.is_up(id) => {
                    seq += 1;
                    let _ = c.node_mut(id).propose_entry(common::put_cmd(seq, "k", "v"));
                }
                Action::Snapshot(id) if c.is_up(id) => { let _ = c.node_mut(id).take_snapshot(); }
                Action::Crash(id) => c.crash(id),
                Action::Restart(id) => c.restart(id),
                Action::Timeout(id) if c.is_up(id) => { let _ = c.node_mut(id).force_timeout(); }
                Action::Transfer(id, t) if c.is_up(id) => { let _ = c.node_mut(id).transfer_leadership(t); }
                Action::Change(id, ch) if c.is_up(id) => { let _ = c.node_mut(id).propose_conf_change(ch); }
                Action::Read(id) if c.is_up(id) => { let _ = c.node_mut(id).propose_read(seq); }
                Action::DuplicateHead => {
                    let q = c.take_queue();
                    if let Some(m) = q.first().cloned() {
                        c.deliver(m);
                    }
                    c.queue.extend(q);
                }
                Action::ReorderHead => {
                    let mut q = c.take_queue();
                    if !q.is_empty() {
                        let m = q.remove(0);
                        q.push(m);
                    }
                    c.queue.extend(q);
                }
                _ => {}
            }
            for id in IDS {
                c.collect(id);
            }
        }
        if let Err(why) = common::check_applied_agree(&c) {
            return Err(TestCaseError::fail(why));
        }
        if let Err(why) = common::check_one_leader_per_term(&c) {
            return Err(TestCaseError::fail(why));
        }
    }
}
