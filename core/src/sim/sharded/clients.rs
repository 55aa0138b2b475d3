//! Routing clients: each keeps a cached slot table, read from the meta
//! group's leader through ReadIndex, and sends each operation to the leader
//! of the group owning the key's slot. A group's refusal (wrong group, or
//! slot frozen by a move) certainly did not take effect: the client drops
//! its cached table, asks the meta group again and retries with the same
//! sequence number, so the sessions (which move with the slot) apply a write
//! once. Outcomes are `ok`, `fail` (certainly not applied) or `timeout`.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::kv::{KvCommand, KvOp};
use crate::meta::{slot_of, GroupId, MetaAnswer, ShardAnswer, ShardCommand, QUERY_SHARDS};
use crate::raft::ProposeError;
use crate::sim::ClientOp;
use crate::trace::{ClientPhase, EventKind};
use crate::types::{Index, NodeId, Term};

use super::{ShardNode, ShardedSim, GROUP_CLIENTS};

/// How long a client waits after a refusal before asking again, in ms.
const REFUSED_BACKOFF_MS: u64 = 20;
/// Finished operations remembered per client.
const DONE_KEPT: usize = 16;

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
    op: ClientOp,
    deadline: u64,
    timer: u64,
    /// Writes that may still apply: (node, index, term).
    appended: Vec<(NodeId, Index, Term)>,
    /// A KV read waiting at (node, read id).
    read: Option<(NodeId, u64)>,
    /// A slot-table read waiting at (meta node, read id).
    meta_read: Option<(NodeId, u64)>,
    rotate: u64,
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
            .filter_map(|(&id, c)| c.current.as_ref().map(|f| (f.timer, id)))
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
                current: c.current.as_ref().map(|f| f.op.clone()),
                done: c.done.iter().cloned().collect(),
            })
            .collect()
    }
}

impl ShardedSim {
    pub(super) fn client_invoke(
        &mut self,
        client: u64,
        op: KvOp,
        key: String,
        value: Option<String>,
    ) {
        let now = self.state.now;
        let timeout = self.state.cfg.sim.client_timeout_ms;
        let c = self.state.clients.map.entry(client).or_default();
        c.next_seq += 1;
        let value = if op == KvOp::Put { value } else { None };
        c.current = Some(InFlight {
            op: ClientOp {
                seq: c.next_seq,
                op: op.clone(),
                key: key.clone(),
                value: value.clone(),
                invoked_at: now,
                ended_at: None,
                phase: None,
                result: None,
                tried: Vec::new(),
            },
            deadline: now + timeout,
            timer: now,
            appended: Vec::new(),
            read: None,
            meta_read: None,
            rotate: 0,
            target_group: None,
        });
        self.emit(
            GROUP_CLIENTS.into(),
            EventKind::Client {
                client,
                op,
                key,
                value,
                phase: ClientPhase::Invoke,
                result: None,
            },
        );
        self.client_attempt(client);
    }

    pub(super) fn client_timer(&mut self, client: u64) {
        let now = self.state.now;
        let Some(f) = self
            .state
            .clients
            .map
            .get(&client)
            .and_then(|c| c.current.as_ref())
        else {
            return;
        };
        if now >= f.deadline {
            let phase = if f.appended.is_empty() {
                ClientPhase::Fail
            } else {
                ClientPhase::Timeout
            };
            self.client_finish(client, phase, None);
            return;
        }
        self.client_attempt(client);
    }

    /// The node of `group` the client tries: its leader guess, else the
    /// next one round the group.
    fn client_target(&mut self, client: u64, group: GroupId) -> Option<NodeId> {
        let nodes = self.group_nodes(group).to_vec();
        let c = self.state.clients.map.get_mut(&client)?;
        let f = c.current.as_mut()?;
        match c.leaders.get(&group) {
            Some(l) if nodes.contains(l) => Some(*l),
            _ => {
                f.rotate += 1;
                nodes
                    .get((f.rotate as usize + client as usize) % nodes.len().max(1))
                    .copied()
            }
        }
    }

    /// One attempt: ask the meta group for the table if there is none
    /// cached, else send the operation to the owning group.
    fn client_attempt(&mut self, client: u64) {
        let now = self.state.now;
        let retry = self.state.cfg.sim.client_retry_ms;
        let Some(c) = self.state.clients.map.get(&client) else {
            return;
        };
        let Some(f) = c.current.as_ref() else {
            return;
        };
        let op = f.op.clone();
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
        let outcome: Result<Option<(Index, Term)>, ProposeError> =
            match self.state.nodes.get_mut(&target) {
                Some(ShardNode::Up(s)) => {
                    if asking_meta || op.op == KvOp::Get {
                        s.propose_read(read_id).map(|_| None)
                    } else {
                        let cmd = ShardCommand::Kv(KvCommand {
                            client,
                            seq: op.seq,
                            op: op.op.clone(),
                            key: op.key.clone(),
                            value: op.value.clone(),
                        });
                        s.propose_entry(cmd.encode()).map(Some)
                    }
                }
                _ => Err(ProposeError::NotLeader(None)),
            };
        let Some(c) = self.state.clients.map.get_mut(&client) else {
            return;
        };
        let Some(f) = c.current.as_mut() else {
            return;
        };
        if !asking_meta {
            f.op.tried.push(target);
            f.target_group = Some(g);
        }
        match outcome {
            Ok(Some(at)) => {
                f.appended.push((target, at.0, at.1));
                f.timer = now + retry;
                c.leaders.insert(g, target);
            }
            Ok(None) => {
                self.state.clients.next_read_id = read_id;
                if asking_meta {
                    f.meta_read = Some((target, read_id));
                } else {
                    f.read = Some((target, read_id));
                }
                f.timer = now + retry;
                c.leaders.insert(g, target);
            }
            Err(ProposeError::NotLeader(Some(l))) if l != target => {
                c.leaders.insert(g, l);
                f.timer = now + 1;
            }
            Err(_) => {
                c.leaders.remove(&g);
                f.timer = now + 25;
            }
        }
        self.drain(target);
    }

    fn client_finish(&mut self, client: u64, phase: ClientPhase, result: Option<Option<String>>) {
        let now = self.state.now;
        let Some(c) = self.state.clients.map.get_mut(&client) else {
            return;
        };
        let Some(mut f) = c.current.take() else {
            return;
        };
        f.op.ended_at = Some(now);
        f.op.phase = Some(phase);
        f.op.result = result.clone();
        let ev = EventKind::Client {
            client,
            op: f.op.op.clone(),
            key: f.op.key.clone(),
            value: f.op.value.clone(),
            phase,
            result,
        };
        c.done.push_back(f.op);
        if c.done.len() > DONE_KEPT {
            c.done.pop_front();
        }
        self.emit(GROUP_CLIENTS.into(), ev);
    }

    /// The group refused: forget the table, ask again shortly.
    fn client_refused(&mut self, client: u64) {
        let now = self.state.now;
        if let Some(c) = self.state.clients.map.get_mut(&client) {
            c.table = None;
            if let Some(f) = c.current.as_mut() {
                f.read = None;
                f.timer = now + REFUSED_BACKOFF_MS;
            }
        }
    }

    /// A node applied `(index, term)`: completes (or refuses) the write
    /// waiting for it.
    pub(super) fn client_applied(&mut self, node: NodeId, index: Index, term: Term, output: &[u8]) {
        let waiting = self.state.clients.map.iter().find_map(|(&id, c)| {
            c.current
                .as_ref()
                .filter(|f| f.appended.contains(&(node, index, term)))
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
            f.appended.retain(|a| *a != (node, index, term));
        }
        self.client_refused(client);
    }

    /// A ReadIndex read is safe at `node`: answer a get, or take the slot
    /// table and go on with the operation.
    pub(super) fn client_read_ready(&mut self, node: NodeId, read_id: u64) {
        let waiting = self.state.clients.map.iter().find_map(|(&id, c)| {
            let f = c.current.as_ref()?;
            if f.read == Some((node, read_id)) {
                Some((id, false, f.op.key.clone()))
            } else if f.meta_read == Some((node, read_id)) {
                Some((id, true, f.op.key.clone()))
            } else {
                None
            }
        });
        let Some((client, meta, key)) = waiting else {
            return;
        };
        let Some(ShardNode::Up(s)) = self.state.nodes.get(&node) else {
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
        let now = self.state.now;
        for c in self.state.clients.map.values_mut() {
            if let Some(f) = c.current.as_mut() {
                if f.read == Some((node, read_id)) || f.meta_read == Some((node, read_id)) {
                    let g = f.target_group.filter(|_| f.read.is_some()).unwrap_or(0);
                    f.read = None;
                    f.meta_read = None;
                    f.timer = now + 1;
                    c.leaders.remove(&g);
                }
            }
        }
    }
}
