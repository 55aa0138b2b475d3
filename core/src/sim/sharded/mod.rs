//! Sharded mode: one meta group and two or three KV groups, each a Raft
//! group of its own (own nodes, terms and logs), on one in-memory network,
//! one simulated clock, one message-id space and one trace. Clients ask the
//! meta group for the slot table and send each operation to the leader of
//! the group owning its key's slot; a coordinator moves slots between
//! groups (freeze, import, record, drop: see [`crate::meta`]) with retries.
//!
//! The engine mirrors [`super::Sim`]: micro-steps in a fixed order within a
//! millisecond (arrivals by message id, client timers by client, migration
//! timers by migration, node ticks by node id, then actions), checkpoints,
//! `goto_step` by replay. Every event carries a `group` (see
//! `docs/sharding.md`), and is checked live by a [`ShardedChecker`]: one
//! checker per group plus one over all client events, so each key is
//! checked for linearizability across slot moves.
//!
//! Node ids are global: the meta group has 1..=m, KV group g has
//! 10g+1..=10g+n.

pub mod chaos;
mod clients;
mod members;
mod migrate;

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::check::sharded::{GroupSpec, GroupViolation, ShardedChecker, GROUP_ALL, GROUP_CLIENTS};
use crate::kv::KvOp;
use crate::log::MemLogStore;
use crate::meta::{even_table, group_name, GroupId, GroupMachine, MetaStore, ShardKv, Slot, SLOTS};
use crate::network::{MemNetwork, Output, RaftEvent};
use crate::quorum::Membership;
use crate::raft::{ConfChange, RaftServer};
use crate::storage::MemStorage;
use crate::trace::{EventKind, TraceEvent, TraceHeader};
use crate::types::{NodeId, Role};

use super::cluster::{self, Checkpoints, Cluster, Run};
use super::config::SimConfig;
use super::net;
use super::nodes::{self, Node};
use super::{Dropped, Flight};

pub use clients::ShardClientView;
pub use members::MemberSync;
pub use migrate::{Migration, MigrationPhase};

/// The server every node of a sharded run is: a `RaftServer` whose state
/// machine is the meta store or a slot-aware KV store.
pub type ShardServer = RaftServer<MemStorage, MemLogStore, GroupMachine, MemNetwork>;

/// A node of a sharded run.
pub type ShardNode = Node<GroupMachine>;

/// The shape of a sharded run besides the seed and the actions. It is the
/// trace header's `config` (with `groups` added), so a trace can be re-run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShardedConfig {
    /// Timing, network and client settings, as for one group.
    #[serde(flatten)]
    pub sim: SimConfig,
    /// KV groups (1 to 3).
    pub kv_groups: u32,
    /// Voters per KV group (1 to 9).
    pub nodes_per_group: u64,
    /// Voters of the meta group (1 to 9).
    pub meta_nodes: u64,
    /// How long the coordinator waits before proposing a migration step
    /// again, in ms.
    pub migration_retry_ms: u64,
    /// Deliberate migration bugs, for lessons and to show the checker
    /// catching them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bugs: Vec<ShardBug>,
}

/// A deliberate mistake in the migration protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardBug {
    /// Copy the slot to the destination without freezing it first (the
    /// freeze comes only after the meta group recorded the move): writes
    /// the source accepts after the copy are lost.
    NoFreeze,
}

impl Default for ShardedConfig {
    fn default() -> Self {
        ShardedConfig {
            sim: SimConfig::default(),
            kv_groups: 2,
            nodes_per_group: 3,
            meta_nodes: 3,
            migration_retry_ms: 300,
            bugs: Vec::new(),
        }
    }
}

impl ShardedConfig {
    /// Checks the settings and says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        self.sim.validate()?;
        if !(1..=3).contains(&self.kv_groups) {
            return Err(format!("1 to 3 KV groups, not {}", self.kv_groups));
        }
        for (what, n) in [
            ("a KV group", self.nodes_per_group),
            ("the meta group", self.meta_nodes),
        ] {
            if !(1..=9).contains(&n) {
                return Err(format!("{what} has 1 to 9 nodes, not {n}"));
            }
        }
        if self.migration_retry_ms == 0 {
            return Err("the migration retry must be positive".into());
        }
        Ok(())
    }
}

/// One group of the run, for the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupInfo {
    /// 0 for meta, 1.. for KV groups.
    pub id: GroupId,
    /// "meta", "g1", ...
    pub name: String,
    /// Its nodes: the bootstrap voters, then every node added since (in
    /// the order added; a removed node stays listed, it still runs).
    pub nodes: Vec<NodeId>,
}

/// An event of a sharded trace: a version-1 event plus the group it
/// belongs to ("meta", "g1", ..., "all" or "clients").
#[derive(Clone, Debug, PartialEq)]
pub struct ShardedEvent {
    /// The group's name.
    pub group: String,
    /// The event.
    pub event: TraceEvent,
}

impl ShardedEvent {
    /// The event as one JSON line with `group` first.
    pub fn to_line(&self) -> String {
        let line = self.event.to_line();
        let group = serde_json::to_string(&self.group).unwrap_or_default();
        match line.strip_prefix('{') {
            Some(rest) => format!("{{\"group\":{group},{rest}"),
            None => line,
        }
    }
}

/// Something acting on a sharded cluster from outside. Serialised with a
/// string `kind`, as the trace's `action` event holds it.
// Apart from `Action` on purpose, though many kinds look alike: these name
// groups, and both are trace formats (one group's keeps its hand-written,
// smaller Deserialize), so neither may change shape for the other.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShardedAction {
    /// Crash a node.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// Restart a crashed node.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// Fire a node's election timeout now.
    Timeout {
        /// The node.
        node: NodeId,
    },
    /// Split the network (of all groups) into sides.
    Partition {
        /// The sides.
        groups: Vec<Vec<NodeId>>,
    },
    /// Remove every partition and cut.
    Heal,
    /// Cut the one-way link `from -> to`.
    Cut {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// Restore the one-way link `from -> to`.
    Restore {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// Start a new empty node in `group` and add it as a learner, through
    /// the group's leader (thesis §4.2.1). Re-adding a node of the group
    /// that was removed adds it back with its log.
    AddLearner {
        /// The group (0 for meta).
        group: GroupId,
        /// The node: an id of the group's range (see `fresh_node_id`).
        node: NodeId,
    },
    /// Add a voter to `group`, or promote its learner (thesis §4.1).
    AddVoter {
        /// The group (0 for meta).
        group: GroupId,
        /// The node.
        node: NodeId,
    },
    /// Remove a member from its group, through its leader; removing the
    /// leader itself is allowed (it steps down once the change commits).
    Remove {
        /// The node.
        node: NodeId,
    },
    /// Replace `group`'s voters through joint consensus (thesis §4.3).
    Joint {
        /// The group (0 for meta).
        group: GroupId,
        /// The new voters.
        voters: Vec<NodeId>,
    },
    /// Hand leadership of `to`'s group to `to`.
    Transfer {
        /// The new leader.
        to: NodeId,
    },
    /// Take a snapshot on a node now.
    Snapshot {
        /// The node.
        node: NodeId,
    },
    /// A client operation (routed by the key's slot).
    Client {
        /// The client id.
        client: u64,
        /// put, get or delete.
        op: KvOp,
        /// The key.
        key: String,
        /// The value (put only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// Start moving `slot` to KV group `to`.
    MoveSlot {
        /// The slot.
        slot: Slot,
        /// The destination group.
        to: GroupId,
    },
    /// Lose one message in flight.
    DropMessage {
        /// The message's id.
        id: u64,
    },
    /// Change network settings from now on.
    Network {
        /// New latency range, ms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency_ms: Option<[u64; 2]>,
        /// New loss chance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        loss: Option<f64>,
        /// New duplication chance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duplicate: Option<f64>,
        /// New reordering chance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reorder: Option<f64>,
    },
    /// Hold the one-way link `from -> to` (as `Action::Hold`): its
    /// messages wait at the receiver until released.
    Hold {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// Release a held link: what waited arrives now, oldest first.
    Release {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// Begin the calm period that ends a chaos run (as `Action::Calm`):
    /// heal everything, no loss, duplication or reordering, restart every
    /// crashed server; no faults or slot moves for `ms` after it.
    Calm {
        /// The length of the calm period, ms (the run ends at its end).
        ms: u64,
    },
}

/// A sharded action at a simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardedTimedAction {
    /// Simulated ms; it runs after everything else of that millisecond.
    pub time: u64,
    /// What to do.
    pub action: ShardedAction,
}

impl cluster::Timed for ShardedTimedAction {
    fn time(&self) -> u64 {
        self.time
    }
}

const CHECKPOINT_EVERY: u64 = 1024;
const MAX_CHECKPOINTS: usize = 48;

/// The cloneable part of a run: everything but the event history.
#[derive(Clone)]
pub(crate) struct State {
    cfg: ShardedConfig,
    /// The network, the nodes, the clock and the counts.
    run: Run<GroupMachine>,
    clients: clients::Clients,
    migrations: migrate::Migrations,
    checker: ShardedChecker,
    emitted: u64,
    /// The groups with every node added so far.
    groups: Vec<GroupInfo>,
    /// Node -> group id.
    group_of: BTreeMap<NodeId, GroupId>,
    syncs: members::MemberSyncs,
}

/// The sharded simulator's own timers, in the order they run within one
/// millisecond (after client timers, before node ticks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A migration's retry timer, by migration.
    Migration(u64),
    /// A group's member-sync timer, by group.
    Sync(GroupId),
}

/// A deterministic sharded cluster with its trace, checkers and history.
pub struct ShardedSim {
    seed: u64,
    header: TraceHeader,
    /// The groups as they start (their nodes are the bootstrap voters).
    initial: Vec<GroupInfo>,
    bootstrap_table: Vec<GroupId>,
    state: State,
    events: Vec<ShardedEvent>,
    step_starts: Vec<u64>,
    checkpoints: Checkpoints<State>,
    script: Vec<ShardedTimedAction>,
    /// A node's output being handled (kept for its room; not run state).
    outputs: Vec<Output>,
}

impl ShardedSim {
    /// A sharded cluster for `seed` and `cfg`: the meta group, then KV
    /// groups g1.., with the slots spread evenly in contiguous ranges.
    pub fn new(seed: u64, cfg: ShardedConfig) -> Result<ShardedSim, String> {
        cfg.validate()?;
        let mut groups = vec![GroupInfo {
            id: 0,
            name: group_name(0),
            nodes: (1..=cfg.meta_nodes).collect(),
        }];
        for g in 1..=cfg.kv_groups {
            let base = u64::from(g) * 10;
            groups.push(GroupInfo {
                id: g,
                name: group_name(g),
                nodes: (base + 1..=base + cfg.nodes_per_group).collect(),
            });
        }
        let group_of: BTreeMap<NodeId, GroupId> = groups
            .iter()
            .flat_map(|g| g.nodes.iter().map(move |&n| (n, g.id)))
            .collect();
        let specs: Vec<GroupSpec> = groups
            .iter()
            .map(|g| GroupSpec {
                name: g.name.clone(),
                nodes: g.nodes.clone(),
            })
            .collect();
        let all: Vec<NodeId> = group_of.keys().copied().collect();
        let mut header = TraceHeader::new(seed, all.clone());
        let mut config = serde_json::to_value(&cfg).map_err(|e| e.to_string())?;
        if let Some(obj) = config.as_object_mut() {
            obj.insert(
                "groups".into(),
                serde_json::to_value(&specs).map_err(|e| e.to_string())?,
            );
        }
        header.config = config;
        let state = State {
            run: Run::new(seed),
            clients: clients::Clients::default(),
            migrations: migrate::Migrations::default(),
            checker: ShardedChecker::new(seed, &specs),
            emitted: 0,
            cfg: cfg.clone(),
            groups: groups.clone(),
            group_of,
            syncs: members::MemberSyncs::default(),
        };
        let mut sim = ShardedSim {
            seed,
            header,
            initial: groups,
            bootstrap_table: even_table(cfg.kv_groups),
            state,
            events: Vec::new(),
            step_starts: Vec::new(),
            checkpoints: Checkpoints::new(CHECKPOINT_EVERY, MAX_CHECKPOINTS),
            script: Vec::new(),
            outputs: Vec::new(),
        };
        for id in all {
            sim.boot(id, MemStorage::new(), MemLogStore::new())?;
        }
        sim.checkpoints.take(&sim.state);
        Ok(sim)
    }

    /// Re-creates the run a sharded trace header describes, with its
    /// actions scheduled at their times.
    pub fn from_header(
        header: &TraceHeader,
        actions: &[ShardedTimedAction],
    ) -> Result<ShardedSim, String> {
        let cfg: ShardedConfig = serde_json::from_value(header.config.clone())
            .map_err(|e| format!("trace header config unreadable: {e}"))?;
        let mut sim = ShardedSim::new(header.seed, cfg)?;
        if sim.header.nodes != header.nodes {
            return Err("the header's nodes do not match its sharded settings".into());
        }
        for a in actions {
            sim.schedule(a.time, a.action.clone());
        }
        Ok(sim)
    }

    /// The state machine a node of `group` starts from (it is in no log).
    fn bootstrap_machine(&self, group: GroupId) -> GroupMachine {
        if group == 0 {
            let members = self
                .initial
                .iter()
                .filter(|g| g.id != 0)
                .map(|g| (g.id, g.nodes.clone()))
                .collect();
            GroupMachine::Meta(MetaStore::bootstrap(members, self.bootstrap_table.clone()))
        } else {
            let owned = (0..SLOTS)
                .filter(|&s| self.bootstrap_table[usize::from(s)] == group)
                .collect();
            GroupMachine::Kv(ShardKv::bootstrap(group, owned))
        }
    }

    fn boot(&mut self, id: NodeId, st: MemStorage, log: MemLogStore) -> Result<(), String> {
        let group = self
            .group_of(id)
            .ok_or(format!("S{id} belongs to no group"))?;
        // Every node of a group, added ones too, starts from the group's
        // bootstrap configuration: it is in no log.
        let voters = self
            .initial
            .iter()
            .find(|g| g.id == group)
            .map(|g| g.nodes.clone())
            .unwrap_or_default();
        let initial = Membership::with_voters(voters);
        let node_seed = self.state.run.net.node_seed();
        let server = RaftServer::new(
            self.state.cfg.sim.core_config(id),
            initial,
            st,
            log,
            self.bootstrap_machine(group),
            MemNetwork::default(),
            ChaCha8Rng::seed_from_u64(node_seed),
        )?;
        self.state
            .run
            .nodes
            .insert(id, ShardNode::Up(Box::new(server)));
        self.drain(id);
        Ok(())
    }

    // ----- reading the run -----

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The settings.
    pub fn config(&self) -> &ShardedConfig {
        &self.state.cfg
    }
    /// The trace header (its `config` lists the groups).
    pub fn header(&self) -> &TraceHeader {
        &self.header
    }
    /// The groups: meta first, then g1, g2, ...
    pub fn groups(&self) -> &[GroupInfo] {
        &self.state.groups
    }
    /// The group node `id` belongs to.
    pub fn group_of(&self, id: NodeId) -> Option<GroupId> {
        self.state.group_of.get(&id).copied()
    }
    /// The nodes of group `g` (empty for an unknown group), added ones and
    /// removed ones included; see `member_config` for who is a member.
    pub fn group_nodes(&self, g: GroupId) -> &[NodeId] {
        self.state
            .groups
            .iter()
            .find(|i| i.id == g)
            .map(|i| i.nodes.as_slice())
            .unwrap_or(&[])
    }
    /// Simulated time of the latest micro-step, in ms.
    pub fn now(&self) -> u64 {
        self.state.run.now
    }
    /// Micro-steps taken.
    pub fn step_count(&self) -> u64 {
        self.state.run.step
    }
    /// Every event so far (plus the known future after stepping back; see
    /// `position`).
    pub fn events(&self) -> &[ShardedEvent] {
        &self.events
    }
    /// Events emitted up to the present.
    pub fn position(&self) -> u64 {
        self.state.emitted
    }
    /// Number of events emitted before micro-step `step` ran.
    pub fn events_before_step(&self, step: u64) -> u64 {
        if step == 0 {
            return 0;
        }
        self.step_starts
            .get((step - 1) as usize)
            .copied()
            .unwrap_or(self.state.emitted)
    }
    /// The micro-step that emitted event `seq`.
    pub fn step_of_event(&self, seq: u64) -> u64 {
        self.step_starts.partition_point(|&before| before < seq) as u64
    }
    /// Every node, by id.
    pub fn nodes(&self) -> &BTreeMap<NodeId, ShardNode> {
        &self.state.run.nodes
    }
    /// The live server `id`, if running.
    pub fn server(&self, id: NodeId) -> Option<&ShardServer> {
        match self.state.run.nodes.get(&id) {
            Some(ShardNode::Up(s)) => Some(s),
            _ => None,
        }
    }
    /// The leader of group `g`: its live leader with the highest term.
    pub fn leader(&self, g: GroupId) -> Option<NodeId> {
        self.state.leader_of(self.group_nodes(g))
    }
    /// Messages in flight, by id.
    pub fn flights(&self) -> impl Iterator<Item = &Flight> {
        self.state.run.net.flights()
    }
    /// Messages lost recently (for fading them out).
    pub fn dropped(&self) -> &[Dropped] {
        self.state.run.net.dropped()
    }
    /// The partition in force, if any.
    pub fn partition(&self) -> Option<&Vec<Vec<NodeId>>> {
        self.state.run.net.partition()
    }
    /// Cut one-way links.
    pub fn cut_links(&self) -> &BTreeSet<(NodeId, NodeId)> {
        self.state.run.net.cut_links()
    }
    /// Held one-way links (their messages wait until released).
    pub fn held_links(&self) -> &BTreeSet<(NodeId, NodeId)> {
        self.state.run.net.held_links()
    }
    /// The messages waiting at their receivers, oldest first.
    pub fn waiting(&self) -> impl Iterator<Item = &Flight> {
        self.state.run.net.waiting()
    }
    /// Whether message `id` waits at its receiver (on a held link).
    pub fn is_waiting(&self, id: u64) -> bool {
        self.state.run.net.is_waiting(id)
    }
    /// Whether the link `from -> to` carries messages now.
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        self.state.run.net.link_up(from, to)
    }
    /// The slot table as the meta group holds it: the table of the live
    /// meta node that applied the most (committed state, possibly a little
    /// behind the leader's), or the bootstrap table when every meta node is
    /// down.
    pub fn slot_table(&self) -> Vec<GroupId> {
        self.meta_store()
            .map(|m| m.slots.clone())
            .unwrap_or_else(|| self.bootstrap_table.clone())
    }
    /// The owner of `slot` per `slot_table`.
    pub fn slot_owner(&self, slot: Slot) -> GroupId {
        self.meta_store().map(|m| m.owner(slot)).unwrap_or_else(|| {
            self.bootstrap_table
                .get(usize::from(slot))
                .copied()
                .unwrap_or(0)
        })
    }
    /// The most advanced live meta node's state.
    pub fn meta_store(&self) -> Option<&MetaStore> {
        self.group_nodes(0)
            .iter()
            .filter_map(|&n| self.server(n))
            .max_by_key(|s| (s.last_applied_idx(), std::cmp::Reverse(s.id())))
            .and_then(|s| s.state_machine().meta())
    }
    /// The owner of `slot` as the coordinator knows it: the destination of
    /// the last finished move, else the bootstrap owner. Exact, since every
    /// move goes through the coordinator.
    pub fn settled_owner(&self, slot: Slot) -> GroupId {
        self.state
            .migrations
            .settled
            .get(&slot)
            .copied()
            .unwrap_or_else(|| {
                self.bootstrap_table
                    .get(usize::from(slot))
                    .copied()
                    .unwrap_or(0)
            })
    }
    /// Migrations, in progress and finished (oldest first; the finished
    /// ones are trimmed to the latest few).
    pub fn migrations(&self) -> Vec<Migration> {
        self.state.migrations.views()
    }
    /// Migrations still in progress.
    pub fn migrations_in_progress(&self) -> Vec<Migration> {
        self.migrations()
            .into_iter()
            .filter(|m| m.phase.in_progress())
            .collect()
    }
    /// The clients and their operations.
    pub fn clients(&self) -> Vec<ShardClientView> {
        self.state.clients.views()
    }
    /// Whether `client` has an operation in flight.
    pub fn client_busy(&self, client: u64) -> bool {
        self.state.clients.busy(client)
    }
    /// Violations found so far, by group ("clients" for linearizability).
    pub fn violations(&self) -> &[GroupViolation] {
        self.state.checker.violations()
    }
    /// The live checkers.
    pub fn checker(&self) -> &ShardedChecker {
        &self.state.checker
    }
    /// Every action, run or scheduled, in order.
    pub fn script(&self) -> &[ShardedTimedAction] {
        &self.script
    }
    /// The trace so far as JSON Lines (header first, then the events of
    /// the present, each with its `group`).
    pub fn trace_jsonl(&self) -> String {
        let mut out = crate::trace::header_line(&self.header);
        out.push('\n');
        for e in &self.events[..self.state.emitted as usize] {
            out.push_str(&e.to_line());
            out.push('\n');
        }
        out
    }

    // ----- driving the run -----

    /// Schedules `action` at `time` (at the end of that millisecond).
    pub fn schedule(&mut self, time: u64, action: ShardedAction) {
        let timed = ShardedTimedAction {
            time: time.max(self.state.run.now),
            action,
        };
        cluster::schedule(&mut self.script, self.state.run.actions_done, timed);
    }

    /// Acts now (discarding any known future). Returns whether it took
    /// effect, and why not.
    pub fn act(&mut self, action: ShardedAction) -> Result<(), String> {
        self.branch_here();
        let now = self.state.run.now;
        self.schedule(now, action);
        cluster::run_action(self)
    }

    fn branch_here(&mut self) {
        self.script.truncate(self.state.run.actions_done);
        self.events.truncate(self.state.emitted as usize);
        self.step_starts.truncate(self.state.run.step as usize);
        self.checkpoints.forget_after(self.state.run.step);
    }

    /// Runs one micro-step; returns how many events it emitted.
    pub fn step(&mut self) -> u64 {
        let before = self.state.emitted;
        cluster::step(self);
        self.state.emitted - before
    }

    /// Runs every micro-step due at or before `time`.
    pub fn run_until(&mut self, time: u64) {
        let _ = cluster::run_until(self, time);
    }

    /// Why the run stopped making progress (its clock stopped moving), if
    /// it did: nothing runs after that.
    pub fn stalled(&self) -> Option<&super::Stalled> {
        self.state.run.guard.stalled()
    }

    /// Rebuilds the run as it was after micro-step `step` (from the nearest
    /// checkpoint, by replay); the known future is kept.
    pub fn goto_step(&mut self, step: u64) {
        cluster::goto_step(self, step);
    }

    // ----- events -----

    fn name_of(&self, node: NodeId) -> String {
        self.state
            .group_of
            .get(&node)
            .map(|&g| group_name(g))
            .unwrap_or_else(|| GROUP_ALL.to_string())
    }

    fn emit(&mut self, group: String, kind: EventKind) {
        self.state.emitted += 1;
        let event = TraceEvent {
            seq: self.state.emitted,
            time: self.state.run.now,
            kind,
        };
        self.state.checker.observe(&group, &event);
        let idx = (event.seq - 1) as usize;
        let e = ShardedEvent { group, event };
        if idx < self.events.len() {
            self.events[idx] = e;
        } else {
            self.events.push(e);
        }
    }

    fn drain(&mut self, id: NodeId) {
        cluster::drain(self, id);
    }

    fn node_event(&mut self, node: NodeId, e: RaftEvent) {
        let group = self.name_of(node);
        if let RaftEvent::Config(_) = e {
            if let Some(g) = self.group_of(node) {
                self.members_changed(g);
            }
        }
        match nodes::trace_kind(node, e) {
            Ok(kind) => self.emit(group, kind),
            Err(RaftEvent::Apply {
                index,
                term,
                output,
            }) => {
                self.emit(group, nodes::apply_kind(node, index, term, &output));
                self.client_applied(node, index, term, &output);
                self.migration_applied(node, index, term, &output);
            }
            Err(RaftEvent::ReadReady { read_id, .. }) => self.client_read_ready(node, read_id),
            Err(RaftEvent::ReadFailed { read_id, .. }) => self.client_read_failed(node, read_id),
            Err(RaftEvent::Rejected { reason, .. }) => {
                let delivering = self.state.run.delivering;
                let present = &mut self.events[..self.state.emitted as usize];
                let events = present.iter_mut().rev().map(|e| &mut e.event);
                nodes::attach_rejection(events, delivering, &reason);
            }
            Err(_) => {}
        }
    }

    // ----- network -----

    // ----- actions -----

    /// The group an action's event belongs to.
    fn action_group(&self, action: &ShardedAction) -> String {
        match action {
            ShardedAction::Crash { node }
            | ShardedAction::Restart { node }
            | ShardedAction::Timeout { node }
            | ShardedAction::Snapshot { node }
            | ShardedAction::Transfer { to: node }
            | ShardedAction::Remove { node } => self.name_of(*node),
            ShardedAction::AddLearner { group, .. }
            | ShardedAction::AddVoter { group, .. }
            | ShardedAction::Joint { group, .. } => group_name(*group),
            ShardedAction::Cut { from, to }
            | ShardedAction::Restore { from, to }
            | ShardedAction::Hold { from, to }
            | ShardedAction::Release { from, to } => {
                if self.group_of(*from) == self.group_of(*to) {
                    self.name_of(*from)
                } else {
                    GROUP_ALL.into()
                }
            }
            ShardedAction::DropMessage { id } => self
                .state
                .run
                .net
                .flight(*id)
                .map(|f| self.name_of(f.msg.from))
                .unwrap_or_else(|| GROUP_ALL.into()),
            ShardedAction::Client { .. } => GROUP_CLIENTS.into(),
            ShardedAction::Partition { .. }
            | ShardedAction::Heal
            | ShardedAction::MoveSlot { .. }
            | ShardedAction::Network { .. }
            | ShardedAction::Calm { .. } => GROUP_ALL.into(),
        }
    }

    fn apply_action(&mut self, action: ShardedAction) -> Result<(), String> {
        self.check_action(&action)?;
        let value = serde_json::to_value(&action).map_err(|e| e.to_string())?;
        let group = self.action_group(&action);
        self.emit(group.clone(), EventKind::Action { action: value });
        match action {
            ShardedAction::Crash { node } => {
                nodes::crash(&mut self.state.run.nodes, node);
                self.emit(group, EventKind::Crash { node });
            }
            ShardedAction::Restart { node } => {
                if let Some((st, log)) = nodes::take_disk(&mut self.state.run.nodes, node) {
                    self.emit(group, EventKind::Restart { node });
                    self.boot(node, st, log)?;
                }
            }
            ShardedAction::Timeout { node } => {
                let r = match self.state.run.nodes.get_mut(&node) {
                    Some(ShardNode::Up(s)) => s.force_timeout().map_err(|e| e.to_string()),
                    _ => Err(format!("S{node} is not running")),
                };
                self.drain(node);
                r?;
            }
            ShardedAction::Partition { groups } => {
                self.emit(
                    group,
                    EventKind::Partition {
                        groups: groups.clone(),
                    },
                );
                self.state.run.net.set_partition(groups);
            }
            ShardedAction::Heal => {
                self.state.run.net.heal();
                self.emit(group, EventKind::Heal {});
            }
            ShardedAction::Cut { from, to } => {
                self.state.run.net.set_link(from, to, false);
                self.emit(
                    group,
                    EventKind::Link {
                        from,
                        to,
                        up: false,
                    },
                );
            }
            ShardedAction::Restore { from, to } => {
                self.state.run.net.set_link(from, to, true);
                self.emit(group, EventKind::Link { from, to, up: true });
            }
            ShardedAction::Hold { from, to } => self.state.run.net.hold(from, to),
            ShardedAction::Release { from, to } => {
                let now = self.state.run.now;
                self.state.run.net.release(from, to, now);
            }
            ShardedAction::AddLearner { group, node } => {
                self.change_members(group, &[node], ConfChange::AddLearner(node))?;
            }
            ShardedAction::AddVoter { group, node } => {
                self.change_members(group, &[node], ConfChange::AddVoter(node))?;
            }
            ShardedAction::Remove { node } => {
                let g = self.group_of(node).unwrap_or(0);
                self.change_members(g, &[], ConfChange::Remove(node))?;
            }
            ShardedAction::Joint { group, voters } => {
                self.change_members(group, &voters, ConfChange::Joint(voters.clone()))?;
            }
            ShardedAction::Transfer { to } => {
                let g = self.group_of(to).unwrap_or(0);
                let leader = self.leader(g).ok_or("that group has no leader right now")?;
                let r = match self.state.run.nodes.get_mut(&leader) {
                    Some(ShardNode::Up(s)) => s.transfer_leadership(to).map_err(|e| e.to_string()),
                    _ => Err("the leader is not running".into()),
                };
                self.drain(leader);
                r?;
            }
            ShardedAction::Snapshot { node } => {
                let r = match self.state.run.nodes.get_mut(&node) {
                    Some(ShardNode::Up(s)) => s.take_snapshot().map(|_| ()),
                    _ => Err(format!("S{node} is not running")),
                };
                self.drain(node);
                r?;
            }
            ShardedAction::Client {
                client,
                op,
                key,
                value,
            } => super::clients::invoke(self, client, op, key, value),
            ShardedAction::MoveSlot { slot, to } => self.migration_start(slot, to),
            ShardedAction::DropMessage { id } => cluster::drop_message(self, id),
            ShardedAction::Network {
                latency_ms,
                loss,
                duplicate,
                reorder,
            } => {
                let c = &self.state.cfg.sim;
                self.state.cfg.sim = net::network_changed(c, latency_ms, loss, duplicate, reorder)?;
            }
            ShardedAction::Calm { .. } => {
                let now = self.state.run.now;
                self.state.run.net.let_go(now);
                self.state.run.net.heal();
                self.emit(group, EventKind::Heal {});
                let zero = Some(0.0);
                let c = &self.state.cfg.sim;
                self.state.cfg.sim = net::network_changed(c, None, zero, zero, zero)?;
                let down: Vec<NodeId> = self
                    .state
                    .run
                    .nodes
                    .iter()
                    .filter(|(_, n)| matches!(n, ShardNode::Down(..)))
                    .map(|(&id, _)| id)
                    .collect();
                for node in down {
                    if let Some((st, log)) = nodes::take_disk(&mut self.state.run.nodes, node) {
                        self.emit(self.name_of(node), EventKind::Restart { node });
                        self.boot(node, st, log)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Refuses actions that cannot take effect, before anything is recorded.
    fn check_action(&self, action: &ShardedAction) -> Result<(), String> {
        let up = |n: NodeId| matches!(self.state.run.nodes.get(&n), Some(ShardNode::Up(_)));
        let exists = |n: NodeId| self.state.run.nodes.contains_key(&n);
        match action {
            ShardedAction::Crash { node }
            | ShardedAction::Timeout { node }
            | ShardedAction::Snapshot { node } => {
                if !up(*node) {
                    return Err(format!("S{node} is not running"));
                }
            }
            ShardedAction::Restart { node } => {
                if !exists(*node) || up(*node) {
                    return Err(format!("S{node} is not crashed"));
                }
            }
            ShardedAction::Partition { groups } => net::check_partition(groups, exists)?,
            ShardedAction::Cut { from, to }
            | ShardedAction::Restore { from, to }
            | ShardedAction::Hold { from, to }
            | ShardedAction::Release { from, to } => net::check_link(*from, *to, exists)?,
            ShardedAction::Transfer { to } => {
                let g = self.group_of(*to).ok_or(format!("S{to} is in no group"))?;
                if self.leader(g).is_none() {
                    return Err(format!("{} has no leader right now", group_name(g)));
                }
            }
            ShardedAction::AddLearner { group, node } | ShardedAction::AddVoter { group, node } => {
                self.check_new_ids(*group, &[*node])?;
                self.check_change(*group)?;
            }
            ShardedAction::Joint { group, voters } => {
                if voters.is_empty() {
                    return Err("a joint change needs voters".into());
                }
                self.check_new_ids(*group, voters)?;
                self.check_change(*group)?;
            }
            ShardedAction::Remove { node } => {
                let g = self
                    .group_of(*node)
                    .ok_or(format!("S{node} is in no group"))?;
                self.check_change(g)?;
            }
            ShardedAction::Client {
                client,
                key,
                op,
                value,
            } => {
                let busy = self.state.clients.busy(*client);
                crate::sim::clients::check_op(busy, *client, key, op, value.as_ref())?;
            }
            ShardedAction::MoveSlot { slot, to } => {
                if *slot >= SLOTS {
                    return Err(format!("slots run from 0 to {}", SLOTS - 1));
                }
                if *to == 0 || !self.groups().iter().any(|g| g.id == *to) {
                    return Err(format!("{} is not a KV group", group_name(*to)));
                }
                if self.state.migrations.active_for(*slot) {
                    return Err(format!("slot {slot} is already moving"));
                }
                if self.settled_owner(*slot) == *to {
                    return Err(format!("slot {slot} is already {}'s", group_name(*to)));
                }
            }
            ShardedAction::DropMessage { id } => self.state.run.net.check_in_flight(*id)?,
            ShardedAction::Network {
                latency_ms,
                loss,
                duplicate,
                reorder,
            } => {
                let c = &self.state.cfg.sim;
                net::network_changed(c, *latency_ms, *loss, *duplicate, *reorder)?;
            }
            ShardedAction::Heal | ShardedAction::Calm { .. } => {}
        }
        Ok(())
    }
}

impl cluster::HasRun for State {
    type Machine = GroupMachine;
    fn run(&self) -> &cluster::Run<GroupMachine> {
        &self.run
    }
}

impl Cluster for ShardedSim {
    type Machine = GroupMachine;
    type Timer = Timer;
    type State = State;
    fn run_state(&self) -> &State {
        &self.state
    }
    fn restore_state(&mut self, state: State) {
        self.state = state;
    }
    fn run_checkpoints(&self) -> &Checkpoints<State> {
        &self.checkpoints
    }
    fn parts(&mut self) -> cluster::Parts<'_, GroupMachine> {
        cluster::Parts {
            cfg: &self.state.cfg.sim,
            run: &mut self.state.run,
            outputs: &mut self.outputs,
        }
    }
    fn client_due(&self) -> Option<(u64, u64)> {
        self.state.clients.next_timer()
    }
    fn own_due(&self) -> Option<(u64, Timer)> {
        let migration = self.state.migrations.next_timer();
        let sync = self.state.syncs.next_timer();
        let migration = migration.map(|(t, m)| (t, Timer::Migration(m)));
        migration
            .into_iter()
            .chain(sync.map(|(t, g)| (t, Timer::Sync(g))))
            .min()
    }
    fn action_due(&self) -> Option<(u64, usize)> {
        let next = self.state.run.actions_done;
        self.script.get(next).map(|a| (a.time, next))
    }
    // The whole history is kept: where each micro-step's events start, and
    // checkpoints that never drop any (unlike one group's bounded history).
    fn step_begun(&mut self) {
        let k = (self.state.run.step - 1) as usize;
        if k < self.step_starts.len() {
            self.step_starts[k] = self.state.emitted;
        } else {
            self.step_starts.push(self.state.emitted);
        }
    }
    fn step_ended(&mut self) {
        self.checkpoints.maybe_take(&self.state);
    }
    fn client_timer(&mut self, client: u64) {
        super::clients::timer(self, client);
    }
    fn own_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Migration(id) => self.migration_timer(id),
            Timer::Sync(group) => self.sync_timer(group),
        }
    }
    fn scripted_action(&mut self, i: usize) -> Result<(), String> {
        let action = self.script.get(i).map(|a| a.action.clone());
        action.map_or(Ok(()), |a| self.apply_action(a))
    }
    // A message's events belong to its sender's group.
    fn emit_msg(&mut self, from: NodeId, kind: EventKind) {
        let group = self.name_of(from);
        self.emit(group, kind);
    }
    fn node_event(&mut self, node: NodeId, e: RaftEvent) {
        ShardedSim::node_event(self, node, e);
    }
}

/// The actions recorded in a sharded trace's events, with their times.
pub fn sharded_actions_of(events: &[ShardedEvent]) -> Vec<ShardedTimedAction> {
    events
        .iter()
        .filter_map(|e| match &e.event.kind {
            EventKind::Action { action } => serde_json::from_value::<ShardedAction>(action.clone())
                .ok()
                .map(|action| ShardedTimedAction {
                    time: e.event.time,
                    action,
                }),
            _ => None,
        })
        .collect()
}

impl State {
    fn leader_of(&self, nodes: &[NodeId]) -> Option<NodeId> {
        nodes
            .iter()
            .filter_map(|id| match self.run.nodes.get(id) {
                Some(ShardNode::Up(s)) if s.state() == Role::Leader => {
                    Some((s.current_term(), *id))
                }
                _ => None,
            })
            .max()
            .map(|(_, id)| id)
    }
}
