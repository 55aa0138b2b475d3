//! Routing clients: each keeps a cached slot table, read from the meta
//! group's leader through ReadIndex, and sends each operation to the leader
//! of the group owning the key's slot. A group's refusal (wrong group, or
//! slot frozen by a move) certainly did not take effect: the client drops
//! its cached table, asks the meta group again and retries with the same
//! sequence number, so the sessions (which move with the slot) apply a write
//! once. Outcomes are `ok`, `fail` (certainly not applied) or `timeout`.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::kv::KvOp;
use crate::meta::{slot_of, GroupId, MetaAnswer, ShardAnswer, ShardCommand, QUERY_SHARDS};
use crate::sim::clients::{self, propose, ClientSim, InFlight as Attempt};
use crate::sim::config::SimConfig;
use crate::sim::ClientOp;
use crate::trace::{ClientPhase, EventKind};
use crate::types::{Index, NodeId, Term};

use super::{ShardNode, ShardedSim, GROUP_CLIENTS};

/// How long a client waits after a refusal before asking again, in ms.
const REFUSED_BACKOFF_MS: u64 = 20;

#[derive(Clone, Debug, Default)]
struct Client {
    next_seq: u64,
    table: Option<(u64, Vec<GroupId>)>,
    leaders: BTreeMap<GroupId, NodeId>,
    current: Option<InFlight>,
    done: VecDeque<ClientOp>,
}

#[derive(Clone, Debug)]
struct InFlight {
    /// The operation as any client keeps it (its `read` is a KV read).
    base: Attempt,
    /// A slot-table read waiting at (meta node, read id).
    meta_read: Option<(NodeId, u64)>,
    target_group: Option<GroupId>,
}

/// What the page shows of a sharded client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShardClientView {
    /// The client id.
    pub id: u64,
    /// The version of its cached slot table (None: it has none).
    pub table_version: Option<u64>,
    /// The group its operation in flight goes to, once known.
    pub target_group: Option<GroupId>,
    /// Whether it is waiting for the meta group's table.
    pub asking_meta: bool,
    /// Its operation in flight.
    pub current: Option<ClientOp>,
    /// Its latest finished operations, newest last.
    pub done: Vec<ClientOp>,
}

/// All clients of a sharded run.
#[derive(Clone, Debug, Default)]
pub(super) struct Clients {
    map: BTreeMap<u64, Client>,
    next_read_id: u64,
}

impl Clients {
    pub(super) fn next_timer(&self) -> Option<(u64, u64)> {
        self.map
            .iter()
            .filter_map(|(&id, c)| c.current.as_ref().map(|f| (f.base.timer, id)))
            .min()
    }

    pub(super) fn busy(&self, client: u64) -> bool {
        self.map.get(&client).is_some_and(|c| c.current.is_some())
    }

    pub(super) fn views(&self) -> Vec<ShardClientView> {
        self.map
            .iter()
            .map(|(&id, c)| ShardClientView {
                id,
                table_version: c.table.as_ref().map(|t| t.0),
                target_group: c.current.as_ref().and_then(|f| f.target_group),
                asking_meta: c.current.as_ref().is_some_and(|f| f.meta_read.is_some()),
                current: c.current.as_ref().map(|f| f.base.op.clone()),
                done: c.done.iter().cloned().collect(),
            })
            .collect()
    }
}

impl ClientSim for ShardedSim {
    fn client_settings(&self) -> (u64, &SimConfig) {
        (self.state.run.now, &self.state.cfg.sim)
    }
    fn in_flight(&self, client: u64) -> Option<&Attempt> {
        let c = self.state.clients.map.get(&client)?;
        c.current.as_ref().map(|f| &f.base)
    }
    fn next_seq(&mut self, client: u64) -> u64 {
        let c = self.state.clients.map.entry(client).or_default();
        c.next_seq += 1;
        c.next_seq
    }
    // A routing client's operation also waits for the slot table and
    // learns its target group.
    fn start_op(&mut self, client: u64, base: Attempt) {
        let c = self.state.clients.map.entry(client).or_default();
        c.current = Some(InFlight {
            base,
            meta_read: None,
            target_group: None,
        });
    }
    fn end_op(&mut self, client: u64) -> Option<(Attempt, &mut VecDeque<ClientOp>)> {
        let c = self.state.clients.map.get_mut(&client)?;
        let f = c.current.take()?;
        Some((f.base, &mut c.done))
    }
    // Client events belong to no one group.
    fn emit_client(&mut self, ev: EventKind) {
        self.emit(GROUP_CLIENTS.into(), ev);
    }
    fn client_attempt(&mut self, client: u64) {
        ShardedSim::client_attempt(self, client);
    }
}

impl ShardedSim {
    /// The node of `group` the client tries: its leader guess, else the
    /// next one round the group.
    fn client_target(&mut self, client: u64, group: GroupId) -> Option<NodeId> {
        let nodes = self.group_nodes(group).to_vec();
        let c = self.state.clients.map.get_mut(&client)?;
        let f = c.current.as_mut()?;
        match c.leaders.get(&group) {
            Some(l) if nodes.contains(l) => Some(*l),
            _ => f.base.next_in_turn(client, &nodes),
        }
    }

    /// One attempt: ask the meta group for the table if there is none
    /// cached, else send the operation to the owning group.
    fn client_attempt(&mut self, client: u64) {
        let now = self.state.run.now;
        let retry = self.state.cfg.sim.client_retry_ms;
        let Some(c) = self.state.clients.map.get(&client) else {
            return;
        };
        let Some(f) = c.current.as_ref() else {
            return;
        };
        let op = f.base.op.clone();
        let group = c
            .table
            .as_ref()
            .and_then(|(_, t)| t.get(usize::from(slot_of(&op.key))).copied());
        let asking_meta = group.is_none();
        let g = group.unwrap_or(0);
        let Some(target) = self.client_target(client, g) else {
            return;
        };
        let read_id = self.state.clients.next_read_id + 1;
        let node = self.state.run.nodes.get_mut(&target);
        let read = asking_meta || op.op == KvOp::Get;
        let outcome = propose(node, client, &op, read, read_id, |cmd| {
            ShardCommand::Kv(cmd).encode()
        });
        let Some(c) = self.state.clients.map.get_mut(&client) else {
            return;
        };
        let Some(f) = c.current.as_mut() else {
            return;
        };
        if !asking_meta {
            f.base.op.tried.push(target);
            f.target_group = Some(g);
        }
        let attempted = f.base.attempted(target, outcome, now, retry);
        if attempted.reading {
            self.state.clients.next_read_id = read_id;
            if asking_meta {
                f.meta_read = Some((target, read_id));
            } else {
                f.base.read = Some((target, read_id));
            }
        }
        match attempted.leader {
            Some(l) => c.leaders.insert(g, l),
            None => c.leaders.remove(&g),
        };
        self.drain(target);
    }

    fn client_finish(&mut self, client: u64, phase: ClientPhase, result: Option<Option<String>>) {
        clients::finish(self, client, phase, result);
    }

    /// The group refused: forget the table, ask again shortly.
    fn client_refused(&mut self, client: u64) {
        let now = self.state.run.now;
        if let Some(c) = self.state.clients.map.get_mut(&client) {
            c.table = None;
            if let Some(f) = c.current.as_mut() {
                f.base.read = None;
                f.base.timer = now + REFUSED_BACKOFF_MS;
            }
        }
    }

    /// A node applied `(index, term)`: completes (or refuses) the write
    /// waiting for it.
    pub(super) fn client_applied(&mut self, node: NodeId, index: Index, term: Term, output: &[u8]) {
        let waiting = self.state.clients.map.iter().find_map(|(&id, c)| {
            c.current
                .as_ref()
                .filter(|f| f.base.appended.contains(&(node, index, term)))
                .map(|_| id)
        });
        let Some(client) = waiting else {
            return;
        };
        let answer = ShardAnswer::decode(output).unwrap_or_default();
        if answer.ok {
            self.client_finish(client, ClientPhase::Ok, None);
            return;
        }
        // Refused: that entry certainly did not take effect.
        if let Some(f) = self
            .state
            .clients
            .map
            .get_mut(&client)
            .and_then(|c| c.current.as_mut())
        {
            f.base.appended.retain(|a| *a != (node, index, term));
        }
        self.client_refused(client);
    }

    /// A ReadIndex read is safe at `node`: answer a get, or take the slot
    /// table and go on with the operation.
    pub(super) fn client_read_ready(&mut self, node: NodeId, read_id: u64) {
        let waiting = self.state.clients.map.iter().find_map(|(&id, c)| {
            let f = c.current.as_ref()?;
            if f.base.read == Some((node, read_id)) {
                Some((id, false, f.base.op.key.clone()))
            } else if f.meta_read == Some((node, read_id)) {
                Some((id, true, f.base.op.key.clone()))
            } else {
                None
            }
        });
        let Some((client, meta, key)) = waiting else {
            return;
        };
        let Some(ShardNode::Up(s)) = self.state.run.nodes.get(&node) else {
            return;
        };
        if meta {
            let answer = MetaAnswer::decode(&s.read_state_machine(QUERY_SHARDS));
            let table = answer.and_then(|a| a.slots.map(|t| (a.version, t)));
            if let Some(c) = self.state.clients.map.get_mut(&client) {
                if let Some(f) = c.current.as_mut() {
                    f.meta_read = None;
                }
                if table.is_some() {
                    c.table = table;
                }
            }
            self.client_attempt(client);
            return;
        }
        let answer = ShardAnswer::decode(&s.read_state_machine(key.as_bytes())).unwrap_or_default();
        if answer.ok {
            self.client_finish(client, ClientPhase::Ok, Some(answer.value));
        } else {
            self.client_refused(client);
        }
    }

    /// A read failed at `node`: retry soon elsewhere.
    pub(super) fn client_read_failed(&mut self, node: NodeId, read_id: u64) {
        let now = self.state.run.now;
        for c in self.state.clients.map.values_mut() {
            if let Some(f) = c.current.as_mut() {
                if f.base.read == Some((node, read_id)) || f.meta_read == Some((node, read_id)) {
                    let g = f
                        .target_group
                        .filter(|_| f.base.read.is_some())
                        .unwrap_or(0);
                    f.base.read = None;
                    f.meta_read = None;
                    f.base.timer = now + 1;
                    c.leaders.remove(&g);
                }
            }
        }
    }
}
