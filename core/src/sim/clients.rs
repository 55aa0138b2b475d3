//! Simulated KV clients: each sends one operation at a time to the node it
//! believes leads, follows redirects, retries with the same sequence number
//! (so the KV sessions apply a write once), reads through ReadIndex, and
//! reports `ok`, `fail` (certainly not applied) or `timeout` (unknown).

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::kv::{KvCommand, KvOp, KvResult};
use crate::raft::ProposeError;
use crate::trace::{ClientPhase, EventKind};
use crate::types::{Index, NodeId, Term};

use super::config::SimConfig;
use super::{Node, Sim, SimNode};
use crate::kv::StateMachine;

/// One operation of a client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientOp {
    /// Sequence number within the client's session.
    pub seq: u64,
    /// put, get or delete.
    pub op: KvOp,
    /// The key.
    pub key: String,
    /// The value (put).
    pub value: Option<String>,
    /// When it was invoked.
    pub invoked_at: u64,
    /// When it ended (None while in flight).
    pub ended_at: Option<u64>,
    /// How it ended.
    pub phase: Option<ClientPhase>,
    /// For a get that succeeded: the value read (None: absent).
    pub result: Option<Option<String>>,
    /// Nodes tried, in order (the latest few).
    pub tried: Vec<NodeId>,
}

/// The state of one client.
#[derive(Clone, Debug, Default)]
pub struct ClientState {
    next_seq: u64,
    leader_guess: Option<NodeId>,
    current: Option<InFlight>,
    done: VecDeque<ClientOp>,
}

/// An operation in flight, as both kinds of client keep it: when it gives
/// up, when it tries again, where its write was appended and where its read
/// waits.
#[derive(Clone, Debug)]
pub(crate) struct InFlight {
    /// The operation, as the page shows it.
    pub op: ClientOp,
    /// When the client gives up.
    pub deadline: u64,
    /// When it next tries.
    pub timer: u64,
    /// Where a write was appended: (node, index, term).
    pub appended: Vec<(NodeId, Index, Term)>,
    /// A read waiting at (node, read id).
    pub read: Option<(NodeId, u64)>,
    rotate: u64,
}

/// Refuses a client operation that cannot start: the client is still
/// busy, the key is empty, or a put has no value.
pub(crate) fn check_op(
    busy: bool,
    client: u64,
    key: &str,
    op: &KvOp,
    value: Option<&String>,
) -> Result<(), String> {
    if busy {
        return Err(format!(
            "client {client} is still waiting for its last operation"
        ));
    }
    if key.is_empty() {
        return Err("a key cannot be empty".into());
    }
    if *op == KvOp::Put && value.is_none() {
        return Err("put needs a value".into());
    }
    Ok(())
}

/// Proposes client `client`'s operation `op` at `node`: a ReadIndex read
/// with `read_id` when `read`, else the write, as `wrap` encodes its KV
/// command. Ok(None) for a read started, Ok(Some) where a write was
/// appended; a node not running is no leader.
pub(crate) fn propose<M: StateMachine>(
    node: Option<&mut Node<M>>,
    client: u64,
    op: &ClientOp,
    read: bool,
    read_id: u64,
    wrap: impl FnOnce(KvCommand) -> Vec<u8>,
) -> Result<Option<(Index, Term)>, ProposeError> {
    let Some(Node::Up(s)) = node else {
        return Err(ProposeError::NotLeader(None));
    };
    if read {
        return s.propose_read(read_id).map(|_| None);
    }
    let cmd = KvCommand {
        client,
        seq: op.seq,
        op: op.op.clone(),
        key: op.key.clone(),
        value: op.value.clone(),
    };
    s.propose_entry(wrap(cmd)).map(Some)
}

/// What an attempt came to, for the client's idea of who leads.
pub(crate) struct Attempted {
    /// The node it now believes leads (None: it does not know).
    pub leader: Option<NodeId>,
    /// A read was started at the target (the caller records where).
    pub reading: bool,
}

impl InFlight {
    /// Operation `seq` invoked at `now`, giving up after `timeout_ms`; its
    /// first attempt is due at once. A value is kept for a put only.
    pub fn new(
        seq: u64,
        op: KvOp,
        key: String,
        value: Option<String>,
        now: u64,
        timeout_ms: u64,
    ) -> InFlight {
        let value = if op == KvOp::Put { value } else { None };
        InFlight {
            op: ClientOp {
                seq,
                op,
                key,
                value,
                invoked_at: now,
                ended_at: None,
                phase: None,
                result: None,
                tried: Vec::new(),
            },
            deadline: now + timeout_ms,
            timer: now,
            appended: Vec::new(),
            read: None,
            rotate: 0,
        }
    }

    /// The `invoke` event of the operation of `client`.
    pub fn invoke_event(&self, client: u64) -> EventKind {
        EventKind::Client {
            client: client.into(),
            op: self.op.op.clone(),
            key: self.op.key.clone(),
            value: self.op.value.clone(),
            phase: ClientPhase::Invoke,
            result: None,
        }
    }

    /// How it ends when its timer fires at `now`, if it gives up: `fail`
    /// when no write reached a log, else `timeout` (it may still commit).
    pub fn given_up(&self, now: u64) -> Option<ClientPhase> {
        if now < self.deadline {
            None
        } else if self.appended.is_empty() {
            Some(ClientPhase::Fail)
        } else {
            Some(ClientPhase::Timeout)
        }
    }

    /// The next of `nodes` to try when no leader is known, in turn (each
    /// client starts at its own place).
    pub fn next_in_turn(&mut self, client: u64, nodes: &[NodeId]) -> Option<NodeId> {
        self.rotate += 1;
        nodes
            .get((self.rotate as usize + client as usize) % nodes.len().max(1))
            .copied()
    }

    /// Records what proposing at `target` came to (an appended write, a
    /// read started, a redirect, a refusal) and sets the timer for the
    /// next attempt: after `retry_ms` while waiting, at once for a
    /// redirect, after a short pause otherwise.
    pub fn attempted(
        &mut self,
        target: NodeId,
        outcome: Result<Option<(Index, Term)>, ProposeError>,
        now: u64,
        retry_ms: u64,
    ) -> Attempted {
        let (timer, leader, reading) = match outcome {
            Ok(Some((index, term))) => {
                self.appended.push((target, index, term));
                (now + retry_ms, Some(target), false)
            }
            Ok(None) => (now + retry_ms, Some(target), true),
            Err(ProposeError::NotLeader(Some(l))) if l != target => (now + 1, Some(l), false),
            Err(_) => (now + 25, None, false),
        };
        self.timer = timer;
        Attempted { leader, reading }
    }

    /// Ends the operation at `now`: into `done` (the latest `DONE_KEPT`),
    /// and the client event to trace.
    pub fn finish(
        mut self,
        client: u64,
        now: u64,
        phase: ClientPhase,
        result: Option<Option<String>>,
        done: &mut VecDeque<ClientOp>,
    ) -> EventKind {
        self.op.ended_at = Some(now);
        self.op.phase = Some(phase);
        self.op.result = result.clone();
        let ev = EventKind::Client {
            client: client.into(),
            op: self.op.op.clone(),
            key: self.op.key.clone(),
            value: self.op.value.clone(),
            phase,
            result,
        };
        done.push_back(self.op);
        if done.len() > DONE_KEPT {
            done.pop_front();
        }
        ev
    }
}

/// What the page shows of a client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientView {
    /// The client id.
    pub id: u64,
    /// The node it will try first.
    pub leader_guess: Option<NodeId>,
    /// Its operation in flight.
    pub current: Option<ClientOp>,
    /// Its latest finished operations, newest last.
    pub done: Vec<ClientOp>,
}

/// All clients.
#[derive(Clone, Debug, Default)]
pub struct Clients {
    map: BTreeMap<u64, ClientState>,
    next_read_id: u64,
}

/// Attempts remembered per operation (the latest ones).
const TRIED_KEPT: usize = 8;

/// Finished operations remembered per client.
const DONE_KEPT: usize = 16;

impl Clients {
    /// The earliest client timer: (time, client).
    pub fn next_timer(&self) -> Option<(u64, u64)> {
        self.map
            .iter()
            .filter_map(|(&id, c)| c.current.as_ref().map(|f| (f.timer, id)))
            .min()
    }

    /// Whether `client` has an operation in flight.
    pub fn busy(&self, client: u64) -> bool {
        self.map.get(&client).is_some_and(|c| c.current.is_some())
    }

    /// Views for the page.
    pub fn views(&self) -> Vec<ClientView> {
        self.map
            .iter()
            .map(|(&id, c)| ClientView {
                id,
                leader_guess: c.leader_guess,
                current: c.current.as_ref().map(|f| f.op.clone()),
                done: c.done.iter().cloned().collect(),
            })
            .collect()
    }
}

/// What the client steps both simulators take alike need of them.
pub(crate) trait ClientSim {
    /// Simulated time now, and the client settings.
    fn client_settings(&self) -> (u64, &SimConfig);
    /// Client `client`'s operation in flight, as any client keeps it.
    fn in_flight(&self, client: u64) -> Option<&InFlight>;
    /// Client `client`'s next sequence number, the client made if new.
    fn next_seq(&mut self, client: u64) -> u64;
    /// Puts `f` in flight for `client`.
    fn start_op(&mut self, client: u64, f: InFlight);
    /// Takes client `client`'s operation in flight, with where its
    /// finished operations go.
    fn end_op(&mut self, client: u64) -> Option<(InFlight, &mut VecDeque<ClientOp>)>;
    /// Traces a client event.
    fn emit_client(&mut self, ev: EventKind);
    /// Sends client `client`'s operation (again).
    fn client_attempt(&mut self, client: u64);
}

/// Client `client` invokes an operation and makes its first attempt.
pub(crate) fn invoke<S: ClientSim>(
    s: &mut S,
    client: u64,
    op: KvOp,
    key: String,
    value: Option<String>,
) {
    let (now, cfg) = s.client_settings();
    let timeout = cfg.client_timeout_ms;
    let seq = s.next_seq(client);
    let flight = InFlight::new(seq, op, key, value, now, timeout);
    let ev = flight.invoke_event(client);
    s.start_op(client, flight);
    s.emit_client(ev);
    s.client_attempt(client);
}

/// Ends client `client`'s operation as `phase` (with a get's `result`).
pub(crate) fn finish<S: ClientSim>(
    s: &mut S,
    client: u64,
    phase: ClientPhase,
    result: Option<Option<String>>,
) {
    let (now, _) = s.client_settings();
    let Some((f, done)) = s.end_op(client) else {
        return;
    };
    let ev = f.finish(client, now, phase, result, done);
    s.emit_client(ev);
}

/// Client `client`'s timer fires: it gives up past its deadline, else
/// tries again.
pub(crate) fn timer<S: ClientSim>(s: &mut S, client: u64) {
    let (now, _) = s.client_settings();
    let Some(f) = s.in_flight(client) else {
        return;
    };
    match f.given_up(now) {
        Some(phase) => finish(s, client, phase, None),
        None => s.client_attempt(client),
    }
}

impl ClientSim for Sim {
    fn client_settings(&self) -> (u64, &SimConfig) {
        (self.state.run.now, &self.state.cfg)
    }
    fn in_flight(&self, client: u64) -> Option<&InFlight> {
        self.state.clients.map.get(&client)?.current.as_ref()
    }
    fn next_seq(&mut self, client: u64) -> u64 {
        let c = self.state.clients.map.entry(client).or_default();
        c.next_seq += 1;
        c.next_seq
    }
    fn start_op(&mut self, client: u64, f: InFlight) {
        if let Some(c) = self.state.clients.map.get_mut(&client) {
            c.current = Some(f);
        }
    }
    fn end_op(&mut self, client: u64) -> Option<(InFlight, &mut VecDeque<ClientOp>)> {
        let c = self.state.clients.map.get_mut(&client)?;
        Some((c.current.take()?, &mut c.done))
    }
    fn emit_client(&mut self, ev: EventKind) {
        self.emit(ev);
    }
    fn client_attempt(&mut self, client: u64) {
        Sim::client_attempt(self, client);
    }
}

impl Sim {
    /// Sends the operation to the node the client believes leads.
    fn client_attempt(&mut self, client: u64) {
        let now = self.state.run.now;
        let retry = self.state.cfg.client_retry_ms;
        let ids: Vec<NodeId> = self.state.run.nodes.keys().copied().collect();
        let Some(c) = self.state.clients.map.get_mut(&client) else {
            return;
        };
        let Some(f) = c.current.as_mut() else {
            return;
        };
        let target = match c.leader_guess {
            Some(l) if ids.contains(&l) => l,
            _ => match f.next_in_turn(client, &ids) {
                Some(n) => n,
                None => return,
            },
        };
        if f.op.tried.len() == TRIED_KEPT {
            f.op.tried.remove(0);
        }
        f.op.tried.push(target);
        let op = f.op.clone();
        let read_id = self.state.clients.next_read_id + 1;
        let node = self.state.run.nodes.get_mut(&target);
        let read = op.op == KvOp::Get;
        let outcome = propose(node, client, &op, read, read_id, |cmd| cmd.encode());
        let Some(c) = self.state.clients.map.get_mut(&client) else {
            return;
        };
        let Some(f) = c.current.as_mut() else {
            return;
        };
        let attempted = f.attempted(target, outcome, now, retry);
        if attempted.reading {
            self.state.clients.next_read_id = read_id;
            f.read = Some((target, read_id));
        }
        c.leader_guess = attempted.leader;
        self.drain(target);
    }

    fn client_finish(&mut self, client: u64, phase: ClientPhase, result: Option<Option<String>>) {
        finish(self, client, phase, result);
    }

    /// A node applied `(index, term)`: completes the write waiting for it.
    pub(super) fn client_applied(&mut self, node: NodeId, index: Index, term: Term, output: &[u8]) {
        let waiting = self.state.clients.map.iter().find_map(|(&id, c)| {
            c.current
                .as_ref()
                .filter(|f| f.appended.contains(&(node, index, term)))
                .map(|_| id)
        });
        if let Some(client) = waiting {
            let ok = KvResult::decode(output).is_some_and(|r| r.ok);
            let phase = if ok {
                ClientPhase::Ok
            } else {
                ClientPhase::Fail
            };
            self.client_finish(client, phase, None);
        }
    }

    /// A ReadIndex read is safe at `node`: answer the get from its state machine.
    pub(super) fn client_read_ready(&mut self, node: NodeId, read_id: u64, _index: Index) {
        let waiting = self.state.clients.map.iter().find_map(|(&id, c)| {
            c.current
                .as_ref()
                .filter(|f| f.read == Some((node, read_id)))
                .map(|f| (id, f.op.key.clone()))
        });
        let Some((client, key)) = waiting else {
            return;
        };
        let value = match self.state.run.nodes.get(&node) {
            Some(SimNode::Up(s)) => {
                KvResult::decode(&s.read_state_machine(key.as_bytes())).and_then(|r| r.value)
            }
            _ => return,
        };
        self.client_finish(client, ClientPhase::Ok, Some(value));
    }

    /// A read failed at `node`: retry soon elsewhere.
    pub(super) fn client_read_failed(&mut self, node: NodeId, read_id: u64) {
        let now = self.state.run.now;
        for c in self.state.clients.map.values_mut() {
            if let Some(f) = c.current.as_mut() {
                if f.read == Some((node, read_id)) {
                    f.read = None;
                    f.timer = now + 1;
                    c.leader_guess = None;
                }
            }
        }
    }
}
