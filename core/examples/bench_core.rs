//! The core throughput benchmark in the shape issue 7 fixes: N voters in one
//! process, one global FIFO queue delivered instantly, no ticks; node 1 is
//! elected first (untimed); then proposals of B 16-byte entries at a time,
//! each followed by one round in which every node's output is collected and
//! every queued message delivered; until all P entries are applied
//! everywhere. Also the election storm. Prints key=value lines.

use std::collections::VecDeque;
use std::time::Instant;

use raftlab_core::harness::Server;
use raftlab_core::{
    Config, Entry, KvStore, MemLogStore, MemNetwork, MemStorage, Membership, Message, Output,
    RaftEvent,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let entries: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    for nodes in [3u64, 5] {
        for batch in [1u64, 64] {
            throughput(nodes, batch, entries);
        }
    }
    elections(
        5,
        args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000),
    );
}

fn cluster(n: u64) -> Vec<Server> {
    let initial = Membership::with_voters(1..=n);
    (1..=n)
        .map(|id| {
            let mut cfg = Config::new(id);
            cfg.max_inflight = 256;
            cfg.max_entries_per_msg = 256;
            Server::new(
                cfg,
                initial.clone(),
                MemStorage::new(),
                MemLogStore::new(),
                KvStore::new(),
                MemNetwork::default(),
                ChaCha8Rng::seed_from_u64(id),
            )
            .expect("valid")
        })
        .collect()
}

/// One round: collect every node's output, then deliver every queued message.
fn round(nodes: &mut [Server], queue: &mut VecDeque<Message>, applied: &mut [u64]) -> u64 {
    for (i, n) in nodes.iter_mut().enumerate() {
        for out in n.net_mut().drain() {
            match out {
                Output::Send(m) => queue.push_back(m),
                Output::Event(RaftEvent::Apply { index, .. }) => applied[i] = index,
                Output::Event(_) => {}
            }
        }
    }
    let mut delivered = 0;
    let k = queue.len();
    for _ in 0..k {
        if let Some(m) = queue.pop_front() {
            let to = (m.to - 1) as usize;
            nodes[to].step(m);
            delivered += 1;
        }
    }
    delivered
}

fn settle(nodes: &mut [Server], queue: &mut VecDeque<Message>, applied: &mut [u64]) -> u64 {
    let mut msgs = 0;
    loop {
        let d = round(nodes, queue, applied);
        msgs += d;
        if d == 0 && queue.is_empty() && nodes.iter_mut().all(|n| n.net_mut().outbox.is_empty()) {
            return msgs;
        }
    }
}

fn throughput(n: u64, batch: u64, total: u64) {
    let mut nodes = cluster(n);
    let mut queue = VecDeque::new();
    let mut applied = vec![0u64; n as usize];
    let _ = nodes[0].force_timeout();
    settle(&mut nodes, &mut queue, &mut applied);
    // Let the NoOp commit reach everyone.
    for _ in 0..60 {
        for node in nodes.iter_mut() {
            node.tick();
        }
        settle(&mut nodes, &mut queue, &mut applied);
    }
    let base = nodes[0].log().last_index();
    assert!(
        applied.iter().all(|&a| a == base),
        "NoOp applied everywhere"
    );
    let target = base + total;
    let start = Instant::now();
    let mut msgs = 0u64;
    let mut seq = 0u64;
    while seq < total {
        for _ in 0..batch.min(total - seq) {
            let mut data = seq.to_be_bytes().to_vec();
            data.extend_from_slice(&[0u8; 8]);
            nodes[0].propose_entry(data).expect("leader");
            seq += 1;
        }
        msgs += round(&mut nodes, &mut queue, &mut applied);
    }
    while applied.iter().any(|&a| a < target) {
        let d = round(&mut nodes, &mut queue, &mut applied);
        msgs += d;
        if d == 0 {
            // Commit travels with the next append or heartbeat.
            for node in nodes.iter_mut() {
                node.tick();
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    // Every node applied the sequence numbers in order.
    for node in &nodes {
        for (expect, i) in (base + 1..=target).enumerate() {
            let e: Entry = node.log().get(i).expect("entry");
            let got = u64::from_be_bytes(e.data[..8].try_into().expect("8 bytes"));
            assert_eq!(got, expect as u64);
        }
    }
    println!(
        "impl=raftlab mode=throughput nodes={n} entries={total} batch={batch} secs={secs:.3} entries_per_sec={:.0} msgs={msgs} msgs_per_sec={:.0}",
        total as f64 / secs,
        msgs as f64 / secs
    );
}

fn elections(n: u64, count: u64) {
    let mut nodes = cluster(n);
    let mut queue = VecDeque::new();
    let mut applied = vec![0u64; n as usize];
    let start = Instant::now();
    for k in 0..count {
        let who = (k % n) as usize;
        let _ = nodes[who].force_timeout();
        settle(&mut nodes, &mut queue, &mut applied);
        // The new leader's NoOp must be applied everywhere: one heartbeat round.
        let last = nodes[who].log().last_index();
        while applied.iter().any(|&a| a < last) {
            for _ in 0..50 {
                nodes[who].tick();
            }
            settle(&mut nodes, &mut queue, &mut applied);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "impl=raftlab mode=elections nodes={n} elections={count} secs={secs:.3} elections_per_sec={:.0}",
        count as f64 / secs
    );
}
