//! Helpers shared by the paper tests: settings, hand-built logs, forged
//! messages, and the safety checks a scenario ends with.
//!
//! Each integration-test file compiles this module on its own, so not every
//! helper is used everywhere.
#![allow(dead_code)]

pub mod lessons;
pub mod scenarios;

use std::collections::BTreeMap;

use raftlab_core::harness::{Cluster, Server};
use raftlab_core::{
    AppendEntriesReq, Bugs, Config, Entry, EntryKind, Index, KvCommand, KvOp, KvStore, LogStore,
    MemLogStore, MemNetwork, MemStorage, Membership, Message, MessageBody, NodeId, Output,
    RaftEvent, RequestVoteReq, Storage, Term,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// Settings for the paper tests: the defaults with the given bugs, tweaked
/// by `f`.
pub fn config(bugs: &Bugs, f: impl FnOnce(&mut Config)) -> Config {
    let mut cfg = Config::new(1);
    cfg.bugs = bugs.clone();
    f(&mut cfg);
    cfg
}

/// Plain Raft of the paper: no PreVote, no CheckQuorum (so no leader
/// stickiness either).
pub fn classic(bugs: &Bugs) -> Config {
    config(bugs, |c| {
        c.prevote = false;
        c.check_quorum = false;
    })
}

/// A normal entry.
pub fn entry(index: Index, term: Term) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: format!("e{index}t{term}").into_bytes(),
    }
}

/// A log store holding one normal entry per term given, from index 1.
pub fn log_of(terms: &[Term]) -> MemLogStore {
    let mut log = MemLogStore::new();
    for (i, &t) in terms.iter().enumerate() {
        log.append(entry(i as Index + 1, t)).unwrap();
    }
    log
}

/// Storage that persisted `term` and `vote`.
pub fn storage_at(term: Term, vote: NodeId) -> MemStorage {
    let mut st = MemStorage::new();
    st.save_meta(term, vote);
    st
}

/// The terms of a server's log, index 1 first (compacted entries skipped).
pub fn log_terms(s: &Server) -> Vec<Term> {
    let log = s.log();
    (log.first_index()..=log.last_index())
        .filter_map(|i| log.term_at(i))
        .collect()
}

/// One server on its own, started from a hand-built log, term and vote;
/// its output is read with `sent`/`events`.
pub fn lone(
    cfg: &Config,
    id: NodeId,
    voters: &[NodeId],
    st: MemStorage,
    log: MemLogStore,
) -> Server {
    let mut cfg = cfg.clone();
    cfg.id = id;
    Server::new(
        cfg,
        Membership::with_voters(voters.iter().copied()),
        st,
        log,
        KvStore::new(),
        MemNetwork::default(),
        ChaCha8Rng::seed_from_u64(id),
    )
    .unwrap()
}

/// Drains a lone server's output: the messages it sent and its events.
pub fn drain(s: &mut Server) -> (Vec<Message>, Vec<RaftEvent>) {
    let mut msgs = Vec::new();
    let mut events = Vec::new();
    for out in s.net_mut().drain() {
        match out {
            Output::Send(m) => msgs.push(m),
            Output::Event(e) => events.push(e),
        }
    }
    (msgs, events)
}

/// An AppendEntries from `from` to `to`.
#[allow(clippy::too_many_arguments)]
pub fn append(
    from: NodeId,
    to: NodeId,
    term: Term,
    token: u64,
    prev: (Index, Term),
    commit: Index,
    entries: Vec<Entry>,
) -> Message {
    Message {
        from,
        to,
        body: MessageBody::AppendEntries(AppendEntriesReq {
            leader_id: from,
            message_token: token,
            term,
            prev_log_idx: prev.0,
            prev_log_term: prev.1,
            leader_commit: commit,
            entries,
            timeout_now: false,
        }),
    }
}

/// A (pre)vote request from `from` to `to`.
pub fn vote_req(
    from: NodeId,
    to: NodeId,
    prevote: bool,
    term: Term,
    last: (Index, Term),
) -> Message {
    Message {
        from,
        to,
        body: MessageBody::RequestVote(RequestVoteReq {
            prevote,
            term,
            candidate_id: from,
            last_log_idx: last.0,
            last_log_term: last.1,
            transfer: false,
        }),
    }
}

/// Whether `m` is an AppendEntries to `to`.
pub fn is_append_to(m: &Message, to: NodeId) -> bool {
    m.to == to && matches!(m.body, MessageBody::AppendEntries(_))
}

/// Whether `m` is an AppendEntries carrying at least one entry.
pub fn carries_entries(m: &Message) -> bool {
    matches!(&m.body, MessageBody::AppendEntries(r) if !r.entries.is_empty())
}

/// Whether `m` is an answer to AppendEntries from `from`.
pub fn is_append_resp_from(m: &Message, from: NodeId) -> bool {
    m.from == from && matches!(m.body, MessageBody::AppendEntriesResp(_))
}

/// A KV put as an entry payload.
pub fn put_cmd(seq: u64, key: &str, value: &str) -> Vec<u8> {
    KvCommand {
        client: 1,
        seq,
        op: KvOp::Put,
        key: key.into(),
        value: Some(value.into()),
    }
    .encode()
}

/// Proposes `n` puts on `leader` and settles the network; returns the last
/// index.
pub fn propose_n(c: &mut Cluster, leader: NodeId, n: u64) -> Index {
    let mut last = 0;
    for _ in 0..n {
        let seq = c.node(leader).log().last_index() + 1;
        let (idx, _) = c
            .node_mut(leader)
            .propose_entry(put_cmd(seq, &format!("k{seq}"), "v"))
            .unwrap();
        last = idx;
        c.deliver_all();
    }
    last
}

/// Votes (not prevotes) `id` granted, by term, as its events tell.
pub fn votes_granted(c: &Cluster, id: NodeId) -> BTreeMap<Term, Vec<NodeId>> {
    let mut by_term: BTreeMap<Term, Vec<NodeId>> = BTreeMap::new();
    for e in c.events_of(id) {
        if let RaftEvent::Vote {
            candidate,
            term,
            prevote: false,
            granted: true,
            ..
        } = e
        {
            by_term.entry(*term).or_default().push(*candidate);
        }
    }
    by_term
}

/// State Machine Safety (§5.4.3): no two servers ever applied different
/// entries at the same index. Reads every node's Apply events.
pub fn check_applied_agree(c: &Cluster) -> Result<(), String> {
    let mut seen: BTreeMap<Index, (Term, NodeId)> = BTreeMap::new();
    for (&id, events) in &c.events {
        for e in events {
            if let RaftEvent::Apply { index, term, .. } = e {
                match seen.get(index) {
                    Some(&(t, other)) if t != *term => {
                        return Err(format!(
                            "state machine safety broken at index {index}: S{other} applied term {t}, S{id} term {term}"
                        ))
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(*index, (*term, id));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Election Safety (§5.2): at most one leader per term, by Role events.
pub fn check_one_leader_per_term(c: &Cluster) -> Result<(), String> {
    let mut leaders: BTreeMap<Term, NodeId> = BTreeMap::new();
    for (&id, events) in &c.events {
        for e in events {
            if let RaftEvent::Role {
                role: raftlab_core::Role::Leader,
                term,
                ..
            } = e
            {
                if let Some(&other) = leaders.get(term) {
                    if other != id {
                        return Err(format!("two leaders in term {term}: S{other} and S{id}"));
                    }
                }
                leaders.insert(*term, id);
            }
        }
    }
    Ok(())
}

/// Delivers queued messages one by one, at most `budget` of them; `Err`
/// if they keep coming (a livelock), so a broken core fails a scenario
/// instead of hanging it.
pub fn settle(c: &mut Cluster, budget: usize) -> Result<(), String> {
    for _ in 0..budget {
        if !c.deliver_one() {
            return Ok(());
        }
    }
    Err(format!(
        "messages still flowing after {budget} deliveries (livelock)"
    ))
}

/// Like `settle`, but loses each message for which `lose(cluster, msg)`
/// holds at the moment it would be delivered (the rule may look at the
/// receiver's state).
pub fn settle_losing(
    c: &mut Cluster,
    budget: usize,
    mut lose: impl FnMut(&Cluster, &Message) -> bool,
) -> Result<(), String> {
    for _ in 0..budget {
        let mut next = c.hold_queued(|_| true);
        if next.is_empty() {
            return Ok(());
        }
        let m = next.remove(0);
        c.queue.extend(next);
        if !lose(c, &m) {
            c.deliver(m);
        }
    }
    Err(format!(
        "messages still flowing after {budget} deliveries (livelock)"
    ))
}

/// Turns a check into a test failure with its message.
pub fn ok(r: Result<(), String>) {
    if let Err(why) = r {
        panic!("{why}");
    }
}

/// Fails the scenario with `why` unless `cond` holds.
pub fn ensure(cond: bool, why: impl Into<String>) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(why.into())
    }
}
