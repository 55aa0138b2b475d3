//! The core throughput benchmark in the shape issue 7 fixes, so that its
//! figures compare with the same harness run over other Raft libraries:
//!
//! - N voters in one process; one global FIFO queue of messages, delivered
//!   instantly, nothing dropped; no ticks at all.
//! - Node 1 is elected first (untimed) and its NoOp applied everywhere.
//! - Timed: propose B entries of 16 bytes (the first 8 a big-endian
//!   sequence number) to the leader, then one *round*: every node's output
//!   is collected once and every queued message delivered. After the last
//!   proposal, rounds continue until every node applied all P entries.
//! - Each node's state machine checks that it applies the sequence numbers
//!   in order, one by one, as it applies them.
//!
//! Also the election storm: elections in a 5-node cluster, each a different
//! node campaigning, each until the new leader's NoOp is applied everywhere.
//!
//! Prints one key=value line per run. Run:
//! `cargo run -p raftlab-core --profile fast --example bench_core -- [throughput|elections|all] [ENTRIES] [ELECTIONS]`

use std::collections::VecDeque;
use std::time::Instant;

use raftlab_core::raft::RaftServer;
use raftlab_core::{
    Config, Entry, EntryKind, MemLogStore, MemNetwork, MemStorage, Membership, Message, Output,
    StateMachine,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// A state machine that only checks order: the entry it applies must carry
/// the next sequence number. Mismatches are counted, not panicked on, so
/// the loop stays branch-light; the run fails at the end if any occurred.
#[derive(Default)]
struct SeqCheck {
    next: u64,
    out_of_order: u64,
}

impl StateMachine for SeqCheck {
    fn apply(&mut self, entry: &Entry) -> Vec<u8> {
        let got = entry
            .data
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes);
        if got != Some(self.next) {
            self.out_of_order += 1;
        }
        self.next += 1;
        Vec::new()
    }
    fn snapshot(&self) -> Vec<u8> {
        self.next.to_be_bytes().to_vec()
    }
    fn restore(&mut self, data: &[u8]) -> Result<(), String> {
        let b: [u8; 8] = data.try_into().map_err(|_| "8 bytes".to_string())?;
        self.next = u64::from_be_bytes(b);
        Ok(())
    }
    fn read(&self, _query: &[u8]) -> Vec<u8> {
        Vec::new()
    }
}

type Node = RaftServer<MemStorage, MemLogStore, SeqCheck, MemNetwork>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("all");
    let entries: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let elections: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    if matches!(mode, "all" | "throughput") {
        for nodes in [3u64, 5] {
            for batch in [1u64, 64] {
                let r = throughput(nodes, batch, entries);
                println!(
                    "impl=raftlab mode=throughput nodes={nodes} entries={entries} batch={batch} secs={:.3} entries_per_sec={:.0} msgs={} msgs_per_sec={:.0}",
                    r.secs,
                    entries as f64 / r.secs,
                    r.msgs,
                    r.msgs as f64 / r.secs
                );
            }
        }
    }
    if matches!(mode, "all" | "elections") {
        let secs = election_storm(5, elections);
        println!(
            "impl=raftlab mode=elections nodes=5 elections={elections} secs={secs:.3} elections_per_sec={:.0}",
            elections as f64 / secs
        );
    }
}

/// Voters 1..=n. PreVote and CheckQuorum are off, as in raft-rs's default
/// configuration (they only act on ticks or would make followers refuse a
/// campaign that no timeout justifies). Pipelines are as deep as raft-rs's
/// default (`max_inflight_msgs` 256).
fn cluster(n: u64) -> Vec<Node> {
    let initial = Membership::with_voters(1..=n);
    (1..=n)
        .map(|id| {
            let mut cfg = Config::new(id);
            cfg.prevote = false;
            cfg.check_quorum = false;
            cfg.max_inflight = 256;
            cfg.max_entries_per_msg = 256;
            RaftServer::new(
                cfg,
                initial.clone(),
                MemStorage::new(),
                MemLogStore::new(),
                SeqCheck::default(),
                MemNetwork::default(),
                ChaCha8Rng::seed_from_u64(id),
            )
            .expect("valid config")
        })
        .collect()
}

/// One round: every node's output is collected once (messages into the
/// queue, events dropped), then every queued message is delivered.
/// Returns the number of messages delivered.
fn round(nodes: &mut [Node], queue: &mut VecDeque<Message>) -> u64 {
    for n in nodes.iter_mut() {
        for out in n.net_mut().drain() {
            if let Output::Send(m) = out {
                queue.push_back(m);
            }
        }
    }
    let k = queue.len() as u64;
    while let Some(m) = queue.pop_front() {
        let to = (m.to - 1) as usize;
        nodes[to].step(m);
    }
    k
}

/// Rounds until `done` holds; panics if a round delivers nothing first
/// (the run would need a tick, which the shape forbids).
fn rounds_until(
    nodes: &mut [Node],
    queue: &mut VecDeque<Message>,
    done: impl Fn(&[Node]) -> bool,
) -> u64 {
    let mut msgs = 0;
    while !done(nodes) {
        let d = round(nodes, queue);
        if d == 0 {
            panic!("stalled: nothing left to deliver, yet not done (a tick would be needed)");
        }
        msgs += d;
    }
    msgs
}

fn applied_everywhere(nodes: &[Node], index: u64) -> bool {
    nodes.iter().all(|n| n.last_applied_idx() >= index)
}

/// The result of one throughput run.
struct Run {
    secs: f64,
    msgs: u64,
}

fn throughput(n: u64, batch: u64, total: u64) -> Run {
    let mut nodes = cluster(n);
    let mut queue = VecDeque::new();
    nodes[0].force_timeout().expect("S1 campaigns");
    let noop = 1;
    rounds_until(&mut nodes, &mut queue, |ns| applied_everywhere(ns, noop));
    assert_eq!(
        nodes[0].log().get(noop).map(|e| e.kind),
        Some(EntryKind::NoOp)
    );
    let target = noop + total;

    let start = Instant::now();
    let mut msgs = 0u64;
    let mut seq = 0u64;
    while seq < total {
        for _ in 0..batch.min(total - seq) {
            let mut data = Vec::with_capacity(16);
            data.extend_from_slice(&seq.to_be_bytes());
            data.extend_from_slice(&[0u8; 8]);
            nodes[0].propose_entry(data).expect("S1 leads");
            seq += 1;
        }
        msgs += round(&mut nodes, &mut queue);
    }
    msgs += rounds_until(&mut nodes, &mut queue, |ns| {
        ns.iter().all(|n| n.state_machine().next == total)
    });
    let secs = start.elapsed().as_secs_f64();

    for node in &nodes {
        let sm = node.state_machine();
        assert_eq!(
            (sm.next, sm.out_of_order, node.last_applied_idx()),
            (total, 0, target),
            "S{} applied every sequence number once, in order",
            node.id()
        );
    }
    Run { secs, msgs }
}

/// `count` elections in an `n`-node cluster, node 1, 2, ... n, 1, ...
/// campaigning in turn; each ends when its NoOp is applied everywhere.
fn election_storm(n: u64, count: u64) -> f64 {
    let mut nodes = cluster(n);
    let mut queue = VecDeque::new();
    let start = Instant::now();
    for k in 0..count {
        let who = (k % n) as usize;
        nodes[who].force_timeout().expect("a follower campaigns");
        let term = nodes[who].current_term();
        let noop = nodes[who].log().last_index() + 1;
        rounds_until(&mut nodes, &mut queue, |ns| applied_everywhere(ns, noop));
        let leader = &nodes[who];
        assert_eq!(
            (
                leader.current_term(),
                leader.log().get(noop).map(|e| e.term)
            ),
            (term, Some(term)),
            "S{} won term {term} and its NoOp is applied everywhere",
            who + 1
        );
    }
    start.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_runs_complete_without_ticks() {
        for (n, b) in [(3, 1), (3, 64), (5, 7)] {
            let r = throughput(n, b, 500);
            assert!(r.msgs > 0);
        }
        election_storm(5, 25);
    }
}
