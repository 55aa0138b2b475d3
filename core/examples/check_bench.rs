//! Measures how long the checker takes over a synthetic trace of a healthy
//! 5-node cluster: elections, replication, commits, applies, snapshots and
//! client operations. Run: `cargo run -p raftlab-core --profile fast
//! --example check_bench [-- EVENTS]` (default 1,000,000 events).

use std::time::Instant;

use raftlab_core::check::check_trace_str;
use raftlab_core::kv::KvOp;
use raftlab_core::network::SnapshotSource;
use raftlab_core::trace::{ClientPhase, EventKind, TraceHeader, TraceWriter};
use raftlab_core::types::{
    AppendEntriesReq, AppendEntriesResp, Entry, EntryKind, Message, MessageBody, RequestVoteReq,
    RequestVoteResp, Role,
};

const NODES: [u64; 5] = [1, 2, 3, 4, 5];
const KEYS: u64 = 10;

struct Gen {
    w: TraceWriter<Vec<u8>>,
    time: u64,
    next_id: u64,
    term: u64,
    leader: u64,
    last: u64,
    values: Vec<Option<String>>,
    term_of_last: u64,
    /// Each node's commit index (indexed by node id).
    commits: [u64; 6],
    /// Each node's last applied index.
    applied: [u64; 6],
    /// Term of each index (index 1 at position 0); all logs agree.
    terms: Vec<u64>,
}

impl Gen {
    fn emit(&mut self, kind: EventKind) {
        self.w.emit(self.time, kind).expect("write");
    }

    fn send(&mut self, from: u64, to: u64, body: MessageBody) {
        let id = self.next_id;
        self.next_id += 1;
        self.emit(EventKind::send(id, &Message { from, to, body }));
        self.time += 1;
        self.emit(EventKind::Deliver { id, outcome: None });
    }

    /// Commits `node` up to `to` and applies everything up to there.
    fn advance(&mut self, node: u64, to: u64) {
        let n = node as usize;
        if to <= self.commits[n] {
            return;
        }
        self.commits[n] = to;
        self.emit(EventKind::Commit {
            node,
            index: to,
            reason: None,
        });
        while self.applied[n] < to {
            let index = self.applied[n] + 1;
            let term = self.terms[index as usize - 1];
            self.emit(EventKind::Apply {
                node,
                index,
                term,
                output: None,
            });
            self.applied[n] = index;
        }
    }

    fn elect(&mut self, cand: u64) {
        self.term += 1;
        let term = self.term;
        self.emit(EventKind::Role {
            node: cand,
            role: Role::Candidate,
            term,
            leader: None,
            reason: None,
        });
        let last_term = if self.last == 0 { 0 } else { term - 1 };
        for v in NODES.into_iter().filter(|&n| n != cand) {
            self.send(
                cand,
                v,
                MessageBody::RequestVote(RequestVoteReq {
                    prevote: false,
                    term,
                    candidate_id: cand,
                    last_log_idx: self.last,
                    last_log_term: last_term,
                    transfer: false,
                }),
            );
            self.emit(EventKind::Role {
                node: v,
                role: Role::Follower,
                term,
                leader: None,
                reason: None,
            });
            self.emit(EventKind::Vote {
                node: v,
                candidate: cand,
                term,
                prevote: false,
                granted: true,
                reason: None,
            });
            self.send(
                v,
                cand,
                MessageBody::RequestVoteResp(RequestVoteResp {
                    prevote: false,
                    request_term: term,
                    term,
                    vote_granted: true,
                }),
            );
        }
        self.emit(EventKind::Role {
            node: cand,
            role: Role::Leader,
            term,
            leader: Some(cand),
            reason: None,
        });
        self.leader = cand;
        // The new leader's no-op, so every entry in a term-t log has term t.
        self.replicate(EntryKind::NoOp, String::new());
    }

    fn replicate(&mut self, kind: EntryKind, data: String) {
        let (leader, term) = (self.leader, self.term);
        let index = self.last + 1;
        let prev_term = if self.last == 0 { 0 } else { self.term_of_last };
        let entry = Entry {
            term,
            index,
            kind,
            data: data.clone().into_bytes(),
        };
        self.emit(EventKind::append(leader, &entry));
        for f in NODES.into_iter().filter(|&n| n != leader) {
            self.send(
                leader,
                f,
                MessageBody::AppendEntries(AppendEntriesReq {
                    leader_id: leader,
                    message_token: index,
                    term,
                    prev_log_idx: index - 1,
                    prev_log_term: prev_term,
                    leader_commit: index - 1,
                    entries: vec![entry.clone()],
                    timeout_now: false,
                }),
            );
            self.emit(EventKind::append(f, &entry));
            self.advance(f, index - 1);
            self.send(
                f,
                leader,
                MessageBody::AppendEntriesResp(AppendEntriesResp {
                    message_token: index,
                    term,
                    success: true,
                    curr_index: index,
                }),
            );
        }
        self.terms.push(term);
        self.advance(leader, index);
        self.last = index;
        self.term_of_last = term;
    }
}

fn main() {
    let target: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let header = TraceHeader::new(7, NODES.to_vec());
    let mut g = Gen {
        w: TraceWriter::new(Vec::new(), &header).expect("header"),
        time: 0,
        next_id: 1,
        term: 0,
        leader: 1,
        last: 0,
        values: vec![None; KEYS as usize],
        term_of_last: 0,
        commits: [0; 6],
        applied: [0; 6],
        terms: Vec::new(),
    };
    for n in NODES {
        g.emit(EventKind::Role {
            node: n,
            role: Role::Follower,
            term: 0,
            leader: None,
            reason: None,
        });
    }
    g.elect(1);
    let mut op: u64 = 0;
    while g.w.next_seq() <= target {
        op += 1;
        g.time += 1;
        let key = format!("k{}", op % KEYS);
        let slot = (op % KEYS) as usize;
        let client = op % 7;
        if op.is_multiple_of(3001) {
            // A follower compacts what it applied (one behind the leader).
            let f = g.leader % 5 + 1;
            let (index, term) = (g.last - 1, g.term);
            g.emit(EventKind::Snapshot {
                node: f,
                index,
                term,
                source: SnapshotSource::Local,
            });
        }
        if op.is_multiple_of(2003) {
            let next = g.leader % 5 + 1;
            g.elect(next);
        }
        if op.is_multiple_of(4) {
            // A read served by the leader.
            g.emit(EventKind::Client {
                client: client.into(),
                op: KvOp::Get,
                key: key.clone(),
                value: None,
                phase: ClientPhase::Invoke,
                result: None,
            });
            let result = Some(g.values[slot].clone());
            g.emit(EventKind::Client {
                client: client.into(),
                op: KvOp::Get,
                key,
                value: None,
                phase: ClientPhase::Ok,
                result,
            });
            continue;
        }
        let value = format!("v{op}");
        g.emit(EventKind::Client {
            client: client.into(),
            op: KvOp::Put,
            key: key.clone(),
            value: Some(value.clone()),
            phase: ClientPhase::Invoke,
            result: None,
        });
        let cmd = format!(
            r#"{{"client":{client},"seq":{op},"op":"put","key":"{key}","value":"{value}"}}"#
        );
        g.replicate(EntryKind::Normal, cmd);
        g.values[slot] = Some(value);
        g.emit(EventKind::Client {
            client: client.into(),
            op: KvOp::Put,
            key,
            value: None,
            phase: ClientPhase::Ok,
            result: None,
        });
    }
    let text = String::from_utf8(g.w.finish().expect("finish")).expect("utf8");
    let events = text.lines().count() - 1;
    let generated = started.elapsed();
    let started = Instant::now();
    let report = check_trace_str(&text).expect("valid trace");
    let checked = started.elapsed();
    println!(
        "{events} events ({:.0} MB) generated in {:.2?}; checked in {:.2?} ({:.0} events/s)",
        text.len() as f64 / 1e6,
        generated,
        checked,
        events as f64 / checked.as_secs_f64()
    );
    println!(
        "impl=raftlab mode=check events={events} secs={:.3} events_per_sec={:.0} violations={}",
        checked.as_secs_f64(),
        events as f64 / checked.as_secs_f64(),
        report.violation_counts.values().sum::<u64>()
    );
    println!(
        "terms {}, commit {}, violations {}, keys {} ({})",
        report.max_term,
        report.max_commit,
        report.violation_counts.values().sum::<u64>(),
        report.linearizability.len(),
        if report
            .linearizability
            .iter()
            .all(|k| k.status == raftlab_core::check::LinStatus::Linearizable)
        {
            "all linearizable"
        } else {
            "NOT all linearizable"
        }
    );
    for v in report.violations.iter().take(5) {
        println!("  {} @{}: {}", v.rule, v.seq, v.message);
    }
}
