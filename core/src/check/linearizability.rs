//! Linearizability of the client history, per key (spec rule 4).
//!
//! Each key is a register: `put` sets it, `delete` empties it, `get` reads
//! it (`null` = absent). A history is linearizable when every operation can
//! be placed at one instant between its invocation and its response so that
//! the register explains every `get` (Herlihy & Wing). Keys are independent,
//! so each key is checked alone.
//!
//! The search is Wing & Gong's, with Lowe's memoisation: the state of a
//! partial linearization is (set of operations placed, register value); a
//! state seen before failed already and is not explored again. A step bound
//! turns a pathological history into `Unknown` instead of a hang.
//!
//! `fail` means the operation certainly did not take effect, so it is left
//! out. `timeout` (and an operation still in flight at the end) may or may
//! not have taken effect: its response time is open-ended, and the search
//! may leave it unplaced. A `get` without a known result constrains nothing
//! and is left out too.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::kv::KvOp;
use crate::trace::{ClientId, ClientPhase};

/// The verdict for one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LinStatus {
    /// Some order of the operations explains every result.
    Linearizable,
    /// No order does.
    Violation {
        /// Plain-language account of where every order breaks down.
        message: String,
        /// Seqs of the `client` events of the operations involved.
        related: Vec<u64>,
    },
    /// The search hit its step bound before deciding.
    Unknown {
        /// Steps taken.
        steps: u64,
    },
}

/// The linearizability result for one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    /// The key.
    pub key: String,
    /// Operations that took part in the check (fails and unanswered gets left out).
    pub ops: usize,
    /// The verdict.
    pub status: LinStatus,
}

/// What an operation did, as far as the register is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum OpKind {
    Put(String),
    Delete,
    /// A get and the value it returned (`None` = absent), if it returned.
    Get(Option<Option<String>>),
}

/// One operation of one client on one key.
#[derive(Clone, Debug)]
struct Op {
    client: ClientId,
    kind: OpKind,
    invoke_seq: u64,
    /// Seq of its outcome event, `None` while in flight.
    end_seq: Option<u64>,
    phase: ClientPhase,
}

/// The client histories of a run, gathered event by event.
#[derive(Clone, Debug, Default)]
pub(crate) struct Histories {
    keys: BTreeMap<String, Vec<Op>>,
    /// Each client's operation in flight: key and position in that key's list.
    in_flight: BTreeMap<ClientId, (String, usize)>,
}

impl Histories {
    /// Records an invocation. Returns an explanation if the client still had
    /// an operation in flight (that one is then treated as timed out).
    pub(crate) fn invoke(
        &mut self,
        seq: u64,
        client: &ClientId,
        op: &KvOp,
        key: &str,
        value: Option<&str>,
    ) -> Option<(String, Vec<u64>)> {
        let mut problem = None;
        if let Some((old_key, pos)) = self.in_flight.remove(client) {
            if let Some(old) = self.keys.get_mut(&old_key).and_then(|ops| ops.get_mut(pos)) {
                old.phase = ClientPhase::Timeout;
                problem = Some((
                    format!(
                        "client {client} started a new operation while its operation on key {old_key:?} (seq {}) had no outcome; a client has one operation in flight",
                        old.invoke_seq
                    ),
                    vec![old.invoke_seq],
                ));
            }
        }
        let kind = match op {
            KvOp::Put => OpKind::Put(value.unwrap_or_default().to_string()),
            KvOp::Delete => OpKind::Delete,
            KvOp::Get => OpKind::Get(None),
        };
        let ops = self.keys.entry(key.to_string()).or_default();
        ops.push(Op {
            client: client.clone(),
            kind,
            invoke_seq: seq,
            end_seq: None,
            phase: ClientPhase::Invoke,
        });
        self.in_flight.insert(
            client.clone(),
            (key.to_string(), ops.len().saturating_sub(1)),
        );
        problem
    }

    /// Records an outcome. Returns an explanation if it matches no operation
    /// in flight.
    pub(crate) fn complete(
        &mut self,
        seq: u64,
        client: &ClientId,
        op: &KvOp,
        key: &str,
        phase: ClientPhase,
        result: Option<&Option<String>>,
    ) -> Option<String> {
        let matches = |k: &String, kind: &OpKind| {
            k == key
                && matches!(
                    (kind, op),
                    (OpKind::Put(_), KvOp::Put)
                        | (OpKind::Delete, KvOp::Delete)
                        | (OpKind::Get(_), KvOp::Get)
                )
        };
        let found = self.in_flight.get(client).and_then(|(k, pos)| {
            let o = self.keys.get(k)?.get(*pos)?;
            matches(k, &o.kind).then(|| (k.clone(), *pos))
        });
        let Some((k, pos)) = found else {
            return Some(format!(
                "client {client} reported {} for {} on key {key:?}, but has no such operation in flight",
                phase_name(phase),
                op_name(op)
            ));
        };
        self.in_flight.remove(client);
        if let Some(o) = self.keys.get_mut(&k).and_then(|ops| ops.get_mut(pos)) {
            o.end_seq = Some(seq);
            o.phase = phase;
            if phase == ClientPhase::Ok {
                if let OpKind::Get(r) = &mut o.kind {
                    *r = result.cloned();
                }
            }
        }
        None
    }

    /// Checks every key, each within `max_steps` search steps.
    pub(crate) fn check_all(&self, max_steps: u64) -> Vec<KeyReport> {
        self.keys
            .iter()
            .map(|(key, ops)| check_key(key, ops, max_steps))
            .collect()
    }
}

fn phase_name(p: ClientPhase) -> &'static str {
    match p {
        ClientPhase::Invoke => "invoke",
        ClientPhase::Ok => "ok",
        ClientPhase::Fail => "fail",
        ClientPhase::Timeout => "timeout",
    }
}

fn op_name(op: &KvOp) -> &'static str {
    match op {
        KvOp::Put => "put",
        KvOp::Get => "get",
        KvOp::Delete => "delete",
    }
}

/// An operation ready for the search: values interned to small numbers.
#[derive(Clone, Copy, Debug)]
enum Step {
    Put(u32),
    Delete,
    Get(Option<u32>),
}

struct SearchOp {
    step: Step,
    invoke: u64,
    /// `u64::MAX` when open-ended (timeout or in flight).
    ret: u64,
    source: usize,
}

fn check_key(key: &str, ops: &[Op], max_steps: u64) -> KeyReport {
    let mut values: BTreeMap<&str, u32> = BTreeMap::new();
    let mut search: Vec<SearchOp> = Vec::new();
    for (source, op) in ops.iter().enumerate() {
        let finite = op.phase == ClientPhase::Ok;
        let open = matches!(op.phase, ClientPhase::Timeout | ClientPhase::Invoke);
        let step = match (&op.kind, finite, open) {
            (_, false, false) => continue,            // fail: certainly no effect
            (OpKind::Get(_), false, _) => continue,   // unanswered get: no effect
            (OpKind::Get(None), true, _) => continue, // ok get without a result field
            (OpKind::Get(Some(r)), true, _) => {
                Step::Get(r.as_deref().map(|s| intern(&mut values, s)))
            }
            (OpKind::Put(v), _, _) => Step::Put(intern(&mut values, v)),
            (OpKind::Delete, _, _) => Step::Delete,
        };
        let ret = if finite {
            op.end_seq.unwrap_or(u64::MAX)
        } else {
            u64::MAX
        };
        search.push(SearchOp {
            step,
            invoke: op.invoke_seq,
            ret,
            source,
        });
    }
    search.sort_by_key(|o| o.invoke);
    let status = run_search(&search, max_steps, |failed| {
        describe_failure(key, ops, &search, failed)
    });
    KeyReport {
        key: key.to_string(),
        ops: search.len(),
        status,
    }
}

/// Numbers each distinct value, so states compare cheaply.
fn intern<'a>(values: &mut BTreeMap<&'a str, u32>, s: &'a str) -> u32 {
    let next = u32::try_from(values.len()).unwrap_or(u32::MAX);
    *values.entry(s).or_insert(next)
}

/// The search state along the current path.
struct Path {
    placed: Vec<bool>,
    lo: usize,
    state: Option<u32>,
    placed_finite: usize,
}

impl Path {
    /// Operations that may be placed next: not placed, and invoked before
    /// every unplaced operation's response (real-time order). Also returns
    /// the memo key of the current state.
    fn candidates(&self, ops: &[SearchOp]) -> (Vec<usize>, (usize, Option<u32>, Vec<u64>)) {
        let mut min_ret = u64::MAX;
        let mut end = self.lo;
        for (j, op) in ops.iter().enumerate().skip(self.lo) {
            if op.invoke > min_ret {
                break;
            }
            end = j + 1;
            if !self.placed.get(j).copied().unwrap_or(true) {
                min_ret = min_ret.min(op.ret);
            }
        }
        let mut cands = Vec::new();
        let mut bits: Vec<u64> = Vec::new();
        for j in self.lo..end {
            let placed = self.placed.get(j).copied().unwrap_or(true);
            if placed {
                let off = j - self.lo;
                let word = off / 64;
                if bits.len() <= word {
                    bits.resize(word + 1, 0);
                }
                if let Some(w) = bits.get_mut(word) {
                    *w |= 1u64 << (off % 64);
                }
            } else if ops.get(j).is_some_and(|o| o.invoke < min_ret) {
                cands.push(j);
            }
        }
        (cands, (self.lo, self.state, bits))
    }

    fn apply(&self, step: Step) -> Option<Option<u32>> {
        match step {
            Step::Put(v) => Some(Some(v)),
            Step::Delete => Some(None),
            Step::Get(r) => (r == self.state).then_some(self.state),
        }
    }
}

struct Frame {
    cands: Vec<usize>,
    next: usize,
    /// The operation placed to go one level deeper, and the state before.
    chosen: Option<(usize, Option<u32>)>,
}

fn run_search(
    ops: &[SearchOp],
    max_steps: u64,
    describe: impl FnOnce(&[usize]) -> (String, Vec<u64>),
) -> LinStatus {
    let total_finite = ops.iter().filter(|o| o.ret != u64::MAX).count();
    let mut path = Path {
        placed: vec![false; ops.len()],
        lo: 0,
        state: None,
        placed_finite: 0,
    };
    if total_finite == 0 {
        return LinStatus::Linearizable;
    }
    let mut memo: BTreeSet<(usize, Option<u32>, Vec<u64>)> = BTreeSet::new();
    let (cands, key) = path.candidates(ops);
    memo.insert(key);
    let mut stack = vec![Frame {
        cands,
        next: 0,
        chosen: None,
    }];
    let mut steps: u64 = 0;
    // The deepest point reached and what could not be placed there.
    let mut best_depth = 0usize;
    let mut best_stuck: Vec<usize> = Vec::new();
    loop {
        if path.placed_finite == total_finite {
            return LinStatus::Linearizable;
        }
        if steps >= max_steps {
            return LinStatus::Unknown { steps };
        }
        let depth = stack.len();
        let Some(top) = stack.last_mut() else {
            let (message, related) = describe(&best_stuck);
            return LinStatus::Violation { message, related };
        };
        if top.next >= top.cands.len() {
            if depth > best_depth || best_stuck.is_empty() {
                best_depth = depth;
                best_stuck = top.cands.clone();
            }
            stack.pop();
            if let Some(parent) = stack.last_mut() {
                if let Some((i, before)) = parent.chosen.take() {
                    unplace(&mut path, ops, i, before);
                }
            }
            continue;
        }
        let Some(&i) = top.cands.get(top.next) else {
            continue;
        };
        top.next += 1;
        let Some(op) = ops.get(i) else { continue };
        let Some(after) = path.apply(op.step) else {
            continue;
        };
        let before = path.state;
        place(&mut path, ops, i, after);
        let (cands, key) = path.candidates(ops);
        if !memo.insert(key) {
            unplace(&mut path, ops, i, before);
            continue;
        }
        steps += 1;
        top.chosen = Some((i, before));
        stack.push(Frame {
            cands,
            next: 0,
            chosen: None,
        });
    }
}

fn place(path: &mut Path, ops: &[SearchOp], i: usize, after: Option<u32>) {
    if let Some(p) = path.placed.get_mut(i) {
        *p = true;
    }
    if ops.get(i).is_some_and(|o| o.ret != u64::MAX) {
        path.placed_finite += 1;
    }
    path.state = after;
    while path.placed.get(path.lo).copied().unwrap_or(false) {
        path.lo += 1;
    }
}

fn unplace(path: &mut Path, ops: &[SearchOp], i: usize, before: Option<u32>) {
    if let Some(p) = path.placed.get_mut(i) {
        *p = false;
    }
    if ops.get(i).is_some_and(|o| o.ret != u64::MAX) {
        path.placed_finite = path.placed_finite.saturating_sub(1);
    }
    path.state = before;
    path.lo = path.lo.min(i);
}

fn describe_failure(
    key: &str,
    ops: &[Op],
    search: &[SearchOp],
    stuck: &[usize],
) -> (String, Vec<u64>) {
    let mut parts = Vec::new();
    let mut related = Vec::new();
    for &i in stuck {
        let Some(op) = search.get(i).and_then(|s| ops.get(s.source)) else {
            continue;
        };
        related.push(op.invoke_seq);
        if let Some(end) = op.end_seq {
            related.push(end);
        }
        let what = match &op.kind {
            OpKind::Put(v) => format!("put {v:?}"),
            OpKind::Delete => "delete".to_string(),
            OpKind::Get(Some(Some(v))) => format!("get returning {v:?}"),
            OpKind::Get(_) => "get returning null (absent)".to_string(),
        };
        let when = match op.end_seq {
            Some(end) if op.phase == ClientPhase::Ok => format!("seq {}..{end}", op.invoke_seq),
            _ => format!("from seq {}, outcome unknown", op.invoke_seq),
        };
        parts.push(format!("{what} by client {} ({when})", op.client));
    }
    related.sort_unstable();
    related.dedup();
    let message = format!(
        "the operations on key {key:?} are not linearizable: no order consistent with real time explains every read; every order gets stuck before {}",
        if parts.is_empty() {
            "any operation".to_string()
        } else {
            parts.join(", or ")
        }
    );
    (message, related)
}
