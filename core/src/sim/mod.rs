//! The deterministic cluster simulator: real `RaftServer`s over an in-memory
//! network with latency, loss, duplication, reordering, partitions and cut
//! links, on a simulated millisecond clock, with crashes, restarts,
//! membership changes, snapshots and KV clients. One seed plus the timed
//! actions gives the same run, event for event, natively and in wasm.
//!
//! The run advances in *micro-steps*. Within one millisecond they come in a
//! fixed order: message arrivals (by message id), client timers (by client),
//! node ticks (by node id), then actions (in the order they were made). Each
//! micro-step may emit trace events; the page steps, rewinds and scrubs by
//! micro-step, and `goto_step` rebuilds any earlier one exactly from a
//! checkpoint and replay.

mod action_json;
pub mod chaos;
pub(crate) mod clients;
mod cluster;
mod config;
mod guard;
mod net;
mod nodes;
pub mod sharded;

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::Serialize;

use crate::check::{Checker, Violation};
use crate::harness::Server;
use crate::kv::{KvOp, KvStore};
use crate::log::MemLogStore;
use crate::network::{MemNetwork, Output, RaftEvent};
use crate::quorum::Membership;
use crate::raft::ConfChange;
use crate::storage::MemStorage;
use crate::trace::{EventKind, TraceEvent, TraceHeader};
use crate::types::{NodeId, Role};

pub use clients::{ClientOp, ClientState, ClientView};
pub use config::SimConfig;
pub use guard::Stalled;
pub use net::{Dropped, Flight};
pub use nodes::{apply_kind, trace_kind, Node};

/// Something from outside the Raft core acting on the cluster. Serialised
/// with a string `kind`, as the trace's `action` event holds it.
// Deserialize is hand-written (action_json.rs): the derived one was 88 KB of wasm.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
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
    /// Split the network into groups.
    Partition {
        /// The groups.
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
    /// Start a new empty node and add it as a learner (through the leader).
    AddLearner {
        /// The new node's id.
        node: NodeId,
    },
    /// Add a voter, or promote a learner (through the leader).
    AddVoter {
        /// The node.
        node: NodeId,
    },
    /// Remove a member (through the leader).
    Remove {
        /// The node.
        node: NodeId,
    },
    /// Replace the voters through joint consensus.
    Joint {
        /// The new voters.
        voters: Vec<NodeId>,
    },
    /// Hand leadership to a node.
    Transfer {
        /// The new leader.
        to: NodeId,
    },
    /// Take a snapshot on a node now.
    Snapshot {
        /// The node.
        node: NodeId,
    },
    /// A client operation.
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
    /// Deliver one message now, whether it waits at its receiver (manual
    /// delivery, a held link) or is still on its way.
    Deliver {
        /// The message's id.
        id: u64,
    },
    /// Hold the one-way link `from -> to`: its messages wait at the
    /// receiver until released (unlike a cut, which loses them).
    Hold {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// Release a held link: its waiting messages arrive now, oldest first.
    Release {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// The leader sends a heartbeat round now.
    Heartbeat {
        /// The leader.
        node: NodeId,
    },
    /// Manual delivery on or off. While on, no message arrives by itself
    /// (each waits at its receiver for a `deliver`), and the nodes' timers
    /// stand still unless `timers` says they run. Switched off, the
    /// waiting messages arrive at once, oldest first.
    Manual {
        /// On or off.
        on: bool,
        /// While on, whether election timeouts and heartbeats still fire
        /// by themselves.
        #[serde(default)]
        timers: bool,
    },
    /// Deliver now the oldest message in flight from `from` to `to` of
    /// kind `msg` (waiting at its receiver or still on its way): a lesson
    /// can name a message by what it is, not by an id that depends on
    /// everything sent before it. Refused, in words, when none matches.
    DeliverNext {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message kind, as in the trace's `send` events
        /// (`request_vote`, `append_entries`, ...).
        msg: String,
        /// For vote messages: only a prevote one (true) or only a real
        /// one (false); either when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prevote: Option<bool>,
    },
    /// Lose now the oldest message in flight that `deliver_next` with the
    /// same arguments would deliver. Refused, in words, when none matches.
    DropNext {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message kind.
        msg: String,
        /// For vote messages: prevote or real vote; either when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prevote: Option<bool>,
    },
    /// Begin the calm period that ends a chaos run: heal every partition
    /// and cut link, stop loss, duplication and reordering, and restart
    /// every crashed server. The generator adds no faults for `ms` after
    /// it, so the trace alone tells the convergence checker when to judge
    /// (see `check::convergence`).
    Calm {
        /// The length of the calm period, ms (the run ends at its end).
        ms: u64,
    },
}

/// An action at a simulated time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimedAction {
    /// Simulated ms; it runs after everything else of that millisecond.
    pub time: u64,
    /// What to do.
    pub action: Action,
}

impl cluster::Timed for TimedAction {
    fn time(&self) -> u64 {
        self.time
    }
}

/// Where a simulator's kept history starts (see `Sim::set_history_limit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryStart {
    /// The first micro-step that can be returned to.
    pub step: u64,
    /// Its simulated time, ms.
    pub time: u64,
    /// The seq of the first event kept.
    pub seq: u64,
}

/// A node of the simulation.
pub type SimNode = Node<KvStore>;

/// Micro-steps between checkpoints at first (the spacing doubles as the
/// list is thinned).
const CHECKPOINT_EVERY: u64 = 512;
/// Most checkpoints kept.
const MAX_CHECKPOINTS: usize = 64;

/// The cloneable part of a run: everything but the event history.
#[derive(Clone)]
pub(crate) struct State {
    cfg: SimConfig,
    /// The network, the nodes, the clock and the counts.
    run: cluster::Run<KvStore>,
    initial: Membership,
    clients: clients::Clients,
    checker: Checker,
    /// Number of events emitted so far (the next seq is this + 1).
    emitted: u64,
}

/// A deterministic simulated cluster with its trace, checker and history.
pub struct Sim {
    seed: u64,
    header: TraceHeader,
    state: State,
    events: Vec<TraceEvent>,
    /// The micro-step that emitted each event (`event_steps[i]` for
    /// `events[i]`): maps steps and events both ways. One entry per event,
    /// not per micro-step: most micro-steps (ticks) emit nothing.
    event_steps: Vec<u64>,
    /// Micro-steps run in the known history (the present, or the end of a
    /// known future).
    known_steps: u64,
    checkpoints: cluster::Checkpoints<State>,
    /// Every action taken, in order (the session's script).
    script: Vec<TimedAction>,
    /// Keep about this many events of history (None: all of them).
    history_limit: Option<u64>,
    /// Events and micro-steps dropped from the front of the history:
    /// `events[0]` has seq `dropped_events + 1`, and the history starts
    /// after micro-step `dropped_steps`.
    dropped_events: u64,
    dropped_steps: u64,
    /// A node's output being handled (kept for its room; not run state).
    outputs: Vec<Output>,
    /// Micro-steps one simulated ms may take before the run stalls.
    stall_budget: u64,
}

impl Sim {
    /// A cluster of voters `1..=nodes` for `seed` and `cfg`.
    pub fn new(seed: u64, nodes: u64, cfg: SimConfig) -> Result<Sim, String> {
        if nodes == 0 || nodes > 9 {
            return Err(format!("a cluster has 1 to 9 nodes, not {nodes}"));
        }
        cfg.validate()?;
        let voters: Vec<NodeId> = (1..=nodes).collect();
        let mut header = TraceHeader::new(seed, voters.clone());
        header.config = serde_json::to_value(&cfg).map_err(|e| e.to_string())?;
        let checker = Checker::new(&header);
        let state = State {
            run: cluster::Run::new(seed),
            initial: Membership::with_voters(voters.iter().copied()),
            clients: clients::Clients::default(),
            checker,
            emitted: 0,
            cfg,
        };
        let mut sim = Sim {
            seed,
            header,
            state,
            events: Vec::new(),
            event_steps: Vec::new(),
            known_steps: 0,
            checkpoints: cluster::Checkpoints::new(CHECKPOINT_EVERY, MAX_CHECKPOINTS),
            script: Vec::new(),
            history_limit: None,
            dropped_events: 0,
            dropped_steps: 0,
            outputs: Vec::new(),
            stall_budget: guard::STALL_STEPS,
        };
        for id in voters {
            sim.boot(id, MemStorage::new(), MemLogStore::new())?;
        }
        sim.checkpoints.take(&sim.state);
        Ok(sim)
    }

    /// Re-creates the run a trace header describes, with its actions
    /// scheduled at their times.
    pub fn from_header(header: &TraceHeader, actions: &[TimedAction]) -> Result<Sim, String> {
        let cfg: SimConfig = serde_json::from_value(header.config.clone())
            .map_err(|e| format!("trace header config unreadable: {e}"))?;
        let n = header.nodes.len() as u64;
        if header.nodes != (1..=n).collect::<Vec<_>>() {
            return Err("raftlab replays clusters whose nodes are 1..=n".into());
        }
        let mut sim = Sim::new(header.seed, n, cfg)?;
        for a in actions {
            sim.schedule(a.time, a.action.clone());
        }
        Ok(sim)
    }

    /// Starts (or restarts) a node. Every node gets the cluster's bootstrap
    /// configuration: it is not in any log, so a node added later needs it
    /// to read the membership entries that follow it correctly.
    fn boot(&mut self, id: NodeId, st: MemStorage, log: MemLogStore) -> Result<(), String> {
        let initial = self.state.initial.clone();
        let node_seed = self.state.run.net.node_seed();
        let server = Server::new(
            self.state.cfg.core_config(id),
            initial,
            st,
            log,
            KvStore::new(),
            MemNetwork::default(),
            ChaCha8Rng::seed_from_u64(node_seed),
        )?;
        self.state
            .run
            .nodes
            .insert(id, SimNode::Up(Box::new(server)));
        self.drain(id);
        Ok(())
    }

    // ----- reading the run -----

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The settings.
    pub fn config(&self) -> &SimConfig {
        &self.state.cfg
    }
    /// The trace header.
    pub fn header(&self) -> &TraceHeader {
        &self.header
    }
    /// Simulated time of the latest micro-step, in ms.
    pub fn now(&self) -> u64 {
        self.state.run.now
    }
    /// Micro-steps taken.
    pub fn step_count(&self) -> u64 {
        self.state.run.step
    }
    /// Every event of the history kept (all of them unless a history
    /// limit is set): `events()[0]` has seq `history_start().seq`.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }
    /// Number of events emitted before micro-step `step` ran (for a step
    /// before the history kept: the events before the history).
    pub fn events_before_step(&self, step: u64) -> u64 {
        if step <= self.dropped_steps {
            return if step == 0 { 0 } else { self.dropped_events };
        }
        if step > self.known_steps {
            return self.state.emitted;
        }
        // event_steps is non-decreasing: count the events of earlier steps.
        self.dropped_events + self.event_steps.partition_point(|&s| s < step) as u64
    }
    /// The micro-step that emitted event `seq` (for an event before the
    /// history kept: where the history starts).
    pub fn step_of_event(&self, seq: u64) -> u64 {
        match seq.checked_sub(self.dropped_events + 1) {
            None => self.dropped_steps,
            Some(i) => self
                .event_steps
                .get(i as usize)
                .copied()
                .unwrap_or(self.known_steps),
        }
    }

    /// Bounds the history to about `limit` events (None: keep everything,
    /// the default). Older events, their micro-steps and checkpoints are
    /// dropped a checkpoint at a time, keeping at least `limit` events
    /// and at most about 1.5 times as many; the run then starts at
    /// `history_start()`, and going to an earlier step or time lands there.
    /// A long run at full speed needs this to stay in bounded memory.
    pub fn set_history_limit(&mut self, limit: Option<u64>) {
        self.history_limit = limit.map(|l| l.max(1));
        self.prune_history();
    }
    /// The history limit in force.
    pub fn history_limit(&self) -> Option<u64> {
        self.history_limit
    }
    /// Where the history kept starts: its first micro-step, simulated time
    /// and event seq (step 0, time 0, seq 1 unless history was dropped).
    pub fn history_start(&self) -> HistoryStart {
        let first = self.checkpoints.list().first();
        HistoryStart {
            step: first.map_or(0, |c| c.run.step),
            time: first.map_or(0, |c| c.run.now),
            seq: self.dropped_events + 1,
        }
    }
    /// The kept event with sequence number `seq`, if any.
    pub fn event(&self, seq: u64) -> Option<&TraceEvent> {
        let idx = seq.checked_sub(self.dropped_events + 1)?;
        self.events.get(idx as usize)
    }
    /// The nodes, by id.
    pub fn nodes(&self) -> &BTreeMap<NodeId, SimNode> {
        &self.state.run.nodes
    }
    /// The live server `id`, if running.
    pub fn server(&self, id: NodeId) -> Option<&Server> {
        match self.state.run.nodes.get(&id) {
            Some(SimNode::Up(s)) => Some(s),
            _ => None,
        }
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
    pub fn groups(&self) -> Option<&Vec<Vec<NodeId>>> {
        self.state.run.net.partition()
    }
    /// Cut one-way links.
    pub fn cut_links(&self) -> &BTreeSet<(NodeId, NodeId)> {
        self.state.run.net.cut_links()
    }
    /// Whether the link `from -> to` carries messages now.
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        self.state.run.net.link_up(from, to)
    }
    /// Held one-way links (their messages wait until released).
    pub fn held_links(&self) -> &BTreeSet<(NodeId, NodeId)> {
        self.state.run.net.held_links()
    }
    /// Whether delivery is by hand.
    pub fn manual(&self) -> bool {
        self.state.run.net.manual()
    }
    /// Whether the nodes' timers run (they stand still while delivering by
    /// hand, unless switched on).
    pub fn timers_run(&self) -> bool {
        self.state.run.net.timers_run()
    }
    /// The messages waiting at their receivers, oldest first.
    pub fn waiting(&self) -> impl Iterator<Item = &Flight> {
        self.state.run.net.waiting()
    }
    /// Whether message `id` waits at its receiver.
    pub fn is_waiting(&self, id: u64) -> bool {
        self.state.run.net.is_waiting(id)
    }
    /// Every action, run or scheduled, in order: with the seed and the
    /// settings, this reproduces the run.
    pub fn script(&self) -> &[TimedAction] {
        &self.script
    }
    /// How many actions of the script have run.
    pub fn actions_done(&self) -> usize {
        self.state.run.actions_done
    }
    /// Events emitted up to the present (the rest of `events` is a known
    /// future, after stepping back).
    pub fn position(&self) -> u64 {
        self.state.emitted
    }
    /// The live checker's violations so far.
    pub fn violations(&self) -> &[Violation] {
        self.state.checker.violations()
    }
    /// The live checker.
    pub fn checker(&self) -> &Checker {
        &self.state.checker
    }
    /// The clients and their operations.
    pub fn clients(&self) -> Vec<ClientView> {
        self.state.clients.views()
    }
    /// The current leader: the live leader with the highest term.
    pub fn leader(&self) -> Option<NodeId> {
        self.state.leader()
    }
    /// The trace so far as JSON Lines (header first).
    pub fn trace_jsonl(&self) -> String {
        let mut out = crate::trace::header_line(&self.header);
        out.push('\n');
        for e in &self.events {
            out.push_str(&e.to_line());
            out.push('\n');
        }
        out
    }

    // ----- driving the run -----

    /// Schedules `action` at `time` (at the end of that millisecond, after
    /// actions already scheduled then). A time in the past means now.
    pub fn schedule(&mut self, time: u64, action: Action) {
        let timed = TimedAction {
            time: time.max(self.state.run.now),
            action,
        };
        cluster::schedule(&mut self.script, self.state.run.actions_done, timed);
    }

    /// Acts now. Any known future is discarded (a new branch starts here);
    /// the action runs at the end of the current millisecond. Returns
    /// whether it took effect, and why not.
    pub fn act(&mut self, action: Action) -> Result<(), String> {
        self.branch_here();
        let now = self.state.run.now;
        self.schedule(now, action);
        cluster::run_action(self)
    }

    /// Returns to micro-step `step` and discards everything after it (a
    /// new branch starts there, as when acting in the past). A step before
    /// the history kept lands where the history starts.
    pub fn return_to_step(&mut self, step: u64) {
        self.goto_step(step);
        self.branch_here();
    }

    /// Forgets everything after the present: scheduled actions, the known
    /// future of events, and checkpoints past now.
    fn branch_here(&mut self) {
        self.script.truncate(self.state.run.actions_done);
        self.events
            .truncate((self.state.emitted - self.dropped_events) as usize);
        self.event_steps
            .truncate((self.state.emitted - self.dropped_events) as usize);
        self.known_steps = self.state.run.step;
        self.checkpoints.forget_after(self.state.run.step);
    }

    /// Runs one micro-step; returns how many events it emitted.
    pub fn step(&mut self) -> u64 {
        let before = self.state.emitted;
        cluster::step(self);
        self.state.emitted - before
    }

    /// Runs micro-steps until one emits an event (or `limit` steps pass);
    /// returns whether one did.
    pub fn step_event(&mut self, limit: u64) -> bool {
        (0..limit).any(|_| self.step() > 0)
    }

    /// Runs every micro-step due at or before `time`; the clock then
    /// reads `time` (unless the run stalled: see `stalled`).
    pub fn run_until(&mut self, time: u64) {
        let _ = cluster::run_until(self, time);
    }

    /// `run_until`, saying whether the run stalled: its clock stopped
    /// moving, so it cannot reach `time` (a simulator bug, reported with
    /// the seed, the time and what looped instead of hanging).
    pub fn try_run_until(&mut self, time: u64) -> Result<(), Stalled> {
        cluster::run_until(self, time)
    }

    /// Why the run stopped making progress, if it did: nothing runs after
    /// that (going back to an earlier step or time clears it).
    pub fn stalled(&self) -> Option<&Stalled> {
        self.state.run.guard.stalled()
    }

    /// Lets one simulated ms take at most `steps` micro-steps before the
    /// run counts as stalled (default: far above any real run's). A small
    /// budget provokes the guard, to test what reports it.
    pub fn set_stall_budget(&mut self, steps: u64) {
        self.stall_budget = steps;
    }

    /// Rebuilds the run as it was after micro-step `step`: backwards from
    /// the nearest checkpoint by replay, forwards by running. The known
    /// future is kept, so stepping forward again gives the same states.
    pub fn goto_step(&mut self, step: u64) {
        cluster::goto_step(self, step);
    }

    /// Goes to just after the micro-step that emitted event `seq`.
    pub fn goto_event(&mut self, seq: u64) {
        let step = self.step_of_event(seq);
        self.goto_step(step);
    }

    /// Goes to simulated time `time`: every micro-step due at or before it
    /// has run, none after. Backwards through a checkpoint, forwards by
    /// running (and so into the known future, if there is one).
    pub fn goto_time(&mut self, time: u64) {
        let _ = cluster::goto_time(self, time);
    }

    fn maybe_checkpoint(&mut self) {
        if self.checkpoints.maybe_take(&self.state) {
            self.prune_history();
        }
    }

    /// Drops history older than the limit allows, at a checkpoint: the
    /// latest checkpoint that still leaves `limit` events after it becomes
    /// the first. Only the present's past is dropped (never a known future
    /// the page is replaying).
    fn prune_history(&mut self) {
        let Some(limit) = self.history_limit else {
            return;
        };
        let end = self
            .state
            .emitted
            .max(self.dropped_events + self.events.len() as u64);
        if end - self.dropped_events <= limit + limit / 2 {
            return;
        }
        let present = self.state.run.step;
        let Some(keep_from) = self
            .checkpoints
            .list()
            .iter()
            .rposition(|c| c.run.step <= present && end - c.emitted >= limit)
        else {
            return;
        };
        if keep_from == 0 {
            return;
        }
        self.checkpoints.forget_first(keep_from);
        let first = &self.checkpoints.list()[0];
        let (events, steps) = (first.emitted, first.run.step);
        self.events.drain(..(events - self.dropped_events) as usize);
        self.event_steps
            .drain(..(events - self.dropped_events) as usize);
        self.dropped_events = events;
        self.dropped_steps = steps;
    }

    // ----- events -----

    fn emit(&mut self, kind: EventKind) {
        self.state.emitted += 1;
        let event = TraceEvent {
            seq: self.state.emitted,
            time: self.state.run.now,
            kind,
        };
        self.state.checker.observe(&event);
        let idx = (event.seq - 1 - self.dropped_events) as usize;
        if idx < self.events.len() {
            // Replaying known history: it must agree with what is stored.
            self.events[idx] = event;
            self.event_steps[idx] = self.state.run.step;
        } else {
            self.events.push(event);
            self.event_steps.push(self.state.run.step);
        }
    }

    /// Moves a node's output into the network and the trace.
    fn drain(&mut self, id: NodeId) {
        cluster::drain(self, id);
    }

    fn node_event(&mut self, node: NodeId, e: RaftEvent) {
        match nodes::trace_kind(node, e) {
            Ok(kind) => self.emit(kind),
            Err(RaftEvent::Apply {
                index,
                term,
                output,
            }) => {
                self.emit(nodes::apply_kind(node, index, term, &output));
                self.client_applied(node, index, term, &output);
            }
            Err(RaftEvent::ReadReady { read_id, index }) => {
                self.client_read_ready(node, read_id, index);
            }
            Err(RaftEvent::ReadFailed { read_id, .. }) => self.client_read_failed(node, read_id),
            Err(RaftEvent::Rejected { reason, .. }) => {
                let delivering = self.state.run.delivering;
                // Up to the present only: when replaying known history
                // (after going back), the events past it are the future.
                let upto = (self.state.emitted - self.dropped_events) as usize;
                let present = self.events.get_mut(..upto).unwrap_or_default();
                nodes::attach_rejection(present.iter_mut().rev(), delivering, &reason);
            }
            Err(_) => {}
        }
    }

    // ----- network -----

    // ----- actions -----

    fn apply_action(&mut self, action: Action) -> Result<(), String> {
        self.check_action(&action)?;
        let value = serde_json::to_value(&action).map_err(|e| e.to_string())?;
        self.emit(EventKind::Action { action: value });
        match action {
            Action::Crash { node } => {
                nodes::crash(&mut self.state.run.nodes, node);
                self.emit(EventKind::Crash { node });
            }
            Action::Restart { node } => {
                if let Some((st, log)) = nodes::take_disk(&mut self.state.run.nodes, node) {
                    self.emit(EventKind::Restart { node });
                    self.boot(node, st, log)?;
                }
            }
            Action::Timeout { node } => {
                let r = self.with_server(node, |s| s.force_timeout().map_err(|e| e.to_string()));
                self.drain(node);
                r?;
            }
            Action::Partition { groups } => {
                self.emit(EventKind::Partition {
                    groups: groups.clone(),
                });
                self.state.run.net.set_partition(groups);
            }
            Action::Heal => {
                self.state.run.net.heal();
                self.emit(EventKind::Heal {});
            }
            Action::Cut { from, to } => {
                self.state.run.net.set_link(from, to, false);
                self.emit(EventKind::Link {
                    from,
                    to,
                    up: false,
                });
            }
            Action::Restore { from, to } => {
                self.state.run.net.set_link(from, to, true);
                self.emit(EventKind::Link { from, to, up: true });
            }
            Action::AddLearner { node } => {
                if !self.state.run.nodes.contains_key(&node) {
                    self.boot(node, MemStorage::new(), MemLogStore::new())?;
                }
                self.via_leader(|s| s.propose_conf_change(ConfChange::AddLearner(node)))?;
            }
            Action::AddVoter { node } => {
                if !self.state.run.nodes.contains_key(&node) {
                    self.boot(node, MemStorage::new(), MemLogStore::new())?;
                }
                self.via_leader(|s| s.propose_conf_change(ConfChange::AddVoter(node)))?;
            }
            Action::Remove { node } => {
                self.via_leader(|s| s.propose_conf_change(ConfChange::Remove(node)))?;
            }
            Action::Joint { voters } => {
                for &v in &voters {
                    if !self.state.run.nodes.contains_key(&v) {
                        self.boot(v, MemStorage::new(), MemLogStore::new())?;
                    }
                }
                self.via_leader(|s| s.propose_conf_change(ConfChange::Joint(voters.clone())))?;
            }
            Action::Transfer { to } => {
                self.via_leader(|s| s.transfer_leadership(to).map(|_| (0, 0)))?;
            }
            Action::Snapshot { node } => {
                let r = self.with_server(node, |s| s.take_snapshot().map(|_| ()));
                self.drain(node);
                r?;
            }
            Action::Client {
                client,
                op,
                key,
                value,
            } => {
                clients::invoke(self, client, op, key, value);
            }
            Action::DropMessage { id } => cluster::drop_message(self, id),
            Action::Deliver { id } => cluster::deliver_now(self, id),
            Action::DeliverNext {
                from,
                to,
                msg,
                prevote,
            } => {
                let id = self.state.run.net.next_matching(from, to, &msg, prevote)?;
                cluster::deliver_now(self, id);
            }
            Action::DropNext {
                from,
                to,
                msg,
                prevote,
            } => {
                let id = self.state.run.net.next_matching(from, to, &msg, prevote)?;
                cluster::drop_message(self, id);
            }
            Action::Hold { from, to } => self.state.run.net.hold(from, to),
            Action::Release { from, to } => {
                let now = self.state.run.now;
                self.state.run.net.release(from, to, now);
            }
            Action::Heartbeat { node } => {
                let r = self.with_server(node, |s| s.force_heartbeat().map_err(|e| e.to_string()));
                self.drain(node);
                r?;
            }
            Action::Manual { on, timers } => {
                let now = self.state.run.now;
                self.state.run.net.set_manual(on, timers, now);
            }
            Action::Network {
                latency_ms,
                loss,
                duplicate,
                reorder,
            } => {
                self.state.cfg =
                    net::network_changed(&self.state.cfg, latency_ms, loss, duplicate, reorder)?;
            }
            Action::Calm { .. } => {
                let now = self.state.run.now;
                self.state.run.net.let_go(now);
                self.state.run.net.heal();
                self.emit(EventKind::Heal {});
                let zero = Some(0.0);
                self.state.cfg = net::network_changed(&self.state.cfg, None, zero, zero, zero)?;
                let down: Vec<NodeId> = self
                    .state
                    .run
                    .nodes
                    .iter()
                    .filter(|(_, n)| matches!(n, SimNode::Down(..)))
                    .map(|(&id, _)| id)
                    .collect();
                for node in down {
                    if let Some((st, log)) = nodes::take_disk(&mut self.state.run.nodes, node) {
                        self.emit(EventKind::Restart { node });
                        self.boot(node, st, log)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Refuses actions that cannot take effect, before anything is recorded.
    fn check_action(&self, action: &Action) -> Result<(), String> {
        let up = |n: NodeId| matches!(self.state.run.nodes.get(&n), Some(SimNode::Up(_)));
        let exists = |n: NodeId| self.state.run.nodes.contains_key(&n);
        let valid_id = |n: NodeId| (1..=9).contains(&n);
        let leader_needed = || {
            self.state
                .leader()
                .map(|_| ())
                .ok_or_else(|| "there is no leader to ask right now".to_string())
        };
        match action {
            Action::Crash { node } | Action::Timeout { node } | Action::Snapshot { node } => {
                if !up(*node) {
                    return Err(format!("S{node} is not running"));
                }
            }
            Action::Restart { node } => {
                if !exists(*node) || up(*node) {
                    return Err(format!("S{node} is not crashed"));
                }
            }
            Action::Partition { groups } => net::check_partition(groups, exists)?,
            Action::Cut { from, to } | Action::Restore { from, to } => {
                net::check_link(*from, *to, exists)?
            }
            Action::AddLearner { node } | Action::AddVoter { node } => {
                if !valid_id(*node) {
                    return Err("node ids run from 1 to 9".into());
                }
                leader_needed()?;
            }
            Action::Joint { voters } => {
                if voters.is_empty() || voters.iter().any(|v| !valid_id(*v)) {
                    return Err("a joint change needs voters with ids 1 to 9".into());
                }
                leader_needed()?;
            }
            Action::Remove { .. } | Action::Transfer { .. } => leader_needed()?,
            Action::Client {
                client,
                key,
                op,
                value,
            } => {
                let busy = self.state.clients.busy(*client);
                crate::sim::clients::check_op(busy, *client, key, op, value.as_ref())?;
            }
            Action::DropMessage { id } | Action::Deliver { id } => {
                self.state.run.net.check_in_flight(*id)?
            }
            Action::Hold { from, to } | Action::Release { from, to } => {
                net::check_link(*from, *to, exists)?
            }
            Action::DeliverNext {
                from,
                to,
                msg,
                prevote,
            }
            | Action::DropNext {
                from,
                to,
                msg,
                prevote,
            } => {
                self.state
                    .run
                    .net
                    .next_matching(*from, *to, msg, *prevote)?;
            }
            Action::Heartbeat { node } => {
                if !up(*node) {
                    return Err(format!("S{node} is not running"));
                }
            }
            Action::Network {
                latency_ms,
                loss,
                duplicate,
                reorder,
            } => {
                net::network_changed(&self.state.cfg, *latency_ms, *loss, *duplicate, *reorder)?;
            }
            Action::Heal | Action::Calm { .. } | Action::Manual { .. } => {}
        }
        Ok(())
    }

    fn with_server<T>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut Server) -> Result<T, String>,
    ) -> Result<T, String> {
        match self.state.run.nodes.get_mut(&id) {
            Some(SimNode::Up(s)) => f(s),
            _ => Err(format!("S{id} is not running")),
        }
    }

    fn via_leader(
        &mut self,
        f: impl FnOnce(&mut Server) -> Result<(u64, u64), crate::raft::ProposeError>,
    ) -> Result<(), String> {
        let leader = self
            .state
            .leader()
            .ok_or("there is no leader to ask right now")?;
        let r = self.with_server(leader, |s| f(s).map_err(|e| e.to_string()));
        self.drain(leader);
        r.map(|_| ())
    }
}

impl cluster::HasRun for State {
    type Machine = KvStore;
    fn run(&self) -> &cluster::Run<KvStore> {
        &self.run
    }
}

impl cluster::Cluster for Sim {
    type Machine = KvStore;
    type Timer = std::convert::Infallible;
    type State = State;
    fn run_state(&self) -> &State {
        &self.state
    }
    fn restore_state(&mut self, state: State) {
        self.state = state;
    }
    fn run_checkpoints(&self) -> &cluster::Checkpoints<State> {
        &self.checkpoints
    }
    fn parts(&mut self) -> cluster::Parts<'_, KvStore> {
        cluster::Parts {
            cfg: &self.state.cfg,
            run: &mut self.state.run,
            outputs: &mut self.outputs,
        }
    }
    fn client_due(&self) -> Option<(u64, u64)> {
        self.state.clients.next_timer()
    }
    fn own_due(&self) -> Option<(u64, Self::Timer)> {
        None
    }
    fn action_due(&self) -> Option<(u64, usize)> {
        let i = self.state.run.actions_done;
        self.script.get(i).map(|a| (a.time, i))
    }
    // The history kept is bounded (`set_history_limit`): the known steps
    // and a checkpoint taken may drop old history, which the sharded
    // simulator, keeping all of it, has no need of.
    fn step_begun(&mut self) {
        self.known_steps = self.known_steps.max(self.state.run.step);
    }
    fn step_ended(&mut self) {
        self.maybe_checkpoint();
    }
    fn client_timer(&mut self, client: u64) {
        clients::timer(self, client);
    }
    fn own_timer(&mut self, timer: Self::Timer) {
        match timer {}
    }
    fn scripted_action(&mut self, i: usize) -> Result<(), String> {
        match self.script.get(i).map(|a| a.action.clone()) {
            Some(a) => self.apply_action(a),
            None => Ok(()),
        }
    }
    // One group: no event says which group it belongs to.
    fn emit_msg(&mut self, _from: NodeId, kind: EventKind) {
        self.emit(kind);
    }
    fn node_event(&mut self, node: NodeId, e: RaftEvent) {
        Sim::node_event(self, node, e);
    }
    fn stall_budget(&self) -> u64 {
        self.stall_budget
    }
}

/// The actions recorded in a trace's events, with their times: with the
/// header, what `Sim::from_header` needs to replay the run.
pub fn actions_of(events: &[TraceEvent]) -> Vec<TimedAction> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Action { action } => serde_json::from_value::<Action>(action.clone())
                .ok()
                .map(|action| TimedAction {
                    time: e.time,
                    action,
                }),
            _ => None,
        })
        .collect()
}

impl State {
    fn leader(&self) -> Option<NodeId> {
        self.run
            .nodes
            .iter()
            .filter_map(|(&id, n)| match n {
                SimNode::Up(s) if s.state() == Role::Leader => Some((s.current_term(), id)),
                _ => None,
            })
            .max()
            .map(|(_, id)| id)
    }
}
