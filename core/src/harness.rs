//! A test harness: several servers in one process over a message queue that
//! delivers instantly and in order, with the faults of raft-rs's harness
//! (`isolate`, `cut`, `drop`, `recover`) plus crash and restart. Scenario
//! tests read like stories with it; benchmarks use it as the FIFO network.
//!
//! For message-level stories a test can also drop messages by rule
//! (`drop_if`, `drop_queued`), hold some back to deliver later, twice or out
//! of order (`hold_queued`, `deliver`), step the queue one message at a time
//! (`deliver_one`), and start a node from a log it built itself
//! (`start_from`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use crate::config::Config;
use crate::kv::KvStore;
use crate::log::MemLogStore;
use crate::network::{MemNetwork, Output, RaftEvent};
use crate::quorum::Membership;
use crate::raft::RaftServer;
use crate::storage::MemStorage;
use crate::types::{Message, NodeId, Role};

/// The server type the harness and the simulator run.
pub type Server = RaftServer<MemStorage, MemLogStore, KvStore, MemNetwork>;

/// A node of the harness: a live server, or the persisted state of a
/// crashed one.
pub enum Slot {
    /// Running.
    Up(Box<Server>),
    /// Crashed: only what was persisted is left.
    Down(MemStorage, MemLogStore),
}

/// A rule that says which messages the network loses.
pub type DropRule = Box<dyn Fn(&Message) -> bool>;

/// Servers plus a FIFO queue of messages between them.
pub struct Cluster {
    /// Nodes by id.
    pub nodes: BTreeMap<NodeId, Slot>,
    /// Messages sent and not yet delivered, oldest first.
    pub queue: VecDeque<Message>,
    /// Events each node reported, in order (for assertions).
    pub events: BTreeMap<NodeId, Vec<RaftEvent>>,
    /// One-way links that drop everything: `(from, to)`.
    pub cut: BTreeSet<(NodeId, NodeId)>,
    /// Settings template; each node gets a copy with its own id.
    pub config: Config,
    /// The configuration the cluster was created with.
    pub initial: Membership,
    /// Counts messages delivered.
    pub delivered: u64,
    /// Messages for which this returns true are lost on delivery (like a
    /// cut link, but chosen by content). `recover` clears it.
    pub drop_rule: Option<DropRule>,
    seed: u64,
}

impl Cluster {
    /// `n` voters with ids 1..=n and the given settings template.
    pub fn new(n: u64, config: Config) -> Self {
        let initial = Membership::with_voters(1..=n);
        let mut c = Cluster {
            nodes: BTreeMap::new(),
            queue: VecDeque::new(),
            events: BTreeMap::new(),
            cut: BTreeSet::new(),
            config,
            initial: initial.clone(),
            delivered: 0,
            drop_rule: None,
            seed: 1,
        };
        for id in 1..=n {
            c.start(id, initial.clone(), MemStorage::new(), MemLogStore::new());
        }
        c
    }

    /// Five voters with default settings.
    pub fn five() -> Self {
        Cluster::new(5, Config::new(1))
    }

    fn start(&mut self, id: NodeId, initial: Membership, st: MemStorage, log: MemLogStore) {
        let mut cfg = self.config.clone();
        cfg.id = id;
        self.seed += 1;
        let rng = ChaCha8Rng::seed_from_u64(self.seed * 7919 + id);
        match Server::new(
            cfg,
            initial,
            st,
            log,
            KvStore::new(),
            MemNetwork::default(),
            rng,
        ) {
            Ok(s) => {
                self.nodes.insert(id, Slot::Up(Box::new(s)));
            }
            Err(e) => panic!("harness: cannot start S{id}: {e}"),
        }
        self.collect(id);
    }

    /// Starts (or restarts) `id` from the persistent state given, replacing
    /// whatever ran there: lets a test build a log entry by entry (Figure 7)
    /// and bring a server up on it. Every node, even one added later, starts
    /// from the cluster's bootstrap configuration: the membership entries in
    /// the log are changes relative to it.
    pub fn start_from(&mut self, id: NodeId, st: MemStorage, log: MemLogStore) {
        self.nodes.remove(&id);
        let initial = self.initial.clone();
        self.start(id, initial, st, log);
    }

    /// Adds a brand-new empty node (to be joined by a membership change).
    /// It knows the bootstrap configuration, in which it is not a member,
    /// so it neither campaigns nor votes until a change adds it.
    pub fn add_node(&mut self, id: NodeId) {
        self.start_from(id, MemStorage::new(), MemLogStore::new());
    }

    /// The live server `id`; panics in tests if it is down.
    pub fn node(&self, id: NodeId) -> &Server {
        match self.nodes.get(&id) {
            Some(Slot::Up(s)) => s,
            _ => panic!("S{id} is not running"),
        }
    }

    /// The live server `id`, mutably; output it produces is collected by
    /// the next `deliver_all`/`collect`.
    pub fn node_mut(&mut self, id: NodeId) -> &mut Server {
        match self.nodes.get_mut(&id) {
            Some(Slot::Up(s)) => s,
            _ => panic!("S{id} is not running"),
        }
    }

    /// Whether `id` is running.
    pub fn is_up(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(&id), Some(Slot::Up(_)))
    }

    /// Moves `id`'s output into the queue and its event list.
    pub fn collect(&mut self, id: NodeId) {
        let Some(Slot::Up(s)) = self.nodes.get_mut(&id) else {
            return;
        };
        for out in s.net_mut().drain() {
            match out {
                Output::Send(m) => self.queue.push_back(m),
                Output::Event(e) => self.events.entry(id).or_default().push(e),
            }
        }
    }

    fn collect_all(&mut self) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for id in ids {
            self.collect(id);
        }
    }

    /// Delivers queued messages, and the messages they cause, until the
    /// queue is empty. Messages over cut links or to crashed nodes vanish.
    pub fn deliver_all(&mut self) {
        self.collect_all();
        let mut budget = 1_000_000u64;
        while let Some(m) = self.queue.pop_front() {
            budget -= 1;
            if budget == 0 {
                panic!("harness: messages never settle");
            }
            self.deliver(m);
        }
    }

    /// Delivers the oldest queued message (and queues what it causes).
    /// Returns false when the queue is empty.
    pub fn deliver_one(&mut self) -> bool {
        self.collect_all();
        match self.queue.pop_front() {
            Some(m) => {
                self.deliver(m);
                true
            }
            None => false,
        }
    }

    /// Delivers one message now (it bypasses the queue order). A test may
    /// hand in a message twice (a duplicate), late (reordered), or one it
    /// made up (a forged or malformed request).
    pub fn deliver(&mut self, m: Message) {
        if self.cut.contains(&(m.from, m.to)) {
            return;
        }
        if self.drop_rule.as_ref().is_some_and(|rule| rule(&m)) {
            return;
        }
        let to = m.to;
        if let Some(Slot::Up(s)) = self.nodes.get_mut(&to) {
            s.step(m);
            self.delivered += 1;
            self.collect(to);
        }
    }

    /// Loses from now on every message `rule` picks (until `recover`).
    pub fn drop_if(&mut self, rule: impl Fn(&Message) -> bool + 'static) {
        self.drop_rule = Some(Box::new(rule));
    }

    /// Removes the queued messages `pick` selects; returns how many.
    pub fn drop_queued(&mut self, pick: impl Fn(&Message) -> bool) -> usize {
        self.hold_queued(pick).len()
    }

    /// Takes the queued messages `pick` selects out of the queue, in order,
    /// so the test can deliver them later, twice, or not at all.
    pub fn hold_queued(&mut self, pick: impl Fn(&Message) -> bool) -> Vec<Message> {
        self.collect_all();
        let mut held = Vec::new();
        let mut kept = VecDeque::new();
        for m in self.queue.drain(..) {
            if pick(&m) {
                held.push(m);
            } else {
                kept.push_back(m);
            }
        }
        self.queue = kept;
        held
    }

    /// Takes every queued message out without delivering it.
    pub fn take_queue(&mut self) -> Vec<Message> {
        self.collect_all();
        self.queue.drain(..).collect()
    }

    /// Ticks every live node once.
    pub fn tick_all(&mut self) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for id in ids {
            if let Some(Slot::Up(s)) = self.nodes.get_mut(&id) {
                s.tick();
            }
            self.collect(id);
        }
    }

    /// Ticks and delivers `n` times.
    pub fn run_ticks(&mut self, n: u64) {
        for _ in 0..n {
            self.tick_all();
            self.deliver_all();
        }
    }

    /// Makes `id` campaign now and settles the network: with a healthy
    /// network it becomes leader.
    pub fn elect(&mut self, id: NodeId) {
        let _ = self.node_mut(id).force_timeout();
        self.deliver_all();
    }

    /// Cuts every link to and from `id`.
    pub fn isolate(&mut self, id: NodeId) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for other in ids {
            if other != id {
                self.cut.insert((id, other));
                self.cut.insert((other, id));
            }
        }
    }

    /// Splits the network into the given groups.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        let group_of = |id: NodeId| groups.iter().position(|g| g.contains(&id));
        for &a in &ids {
            for &b in &ids {
                if a != b && group_of(a) != group_of(b) {
                    self.cut.insert((a, b));
                }
            }
        }
    }

    /// Cuts the one-way link `from -> to`.
    pub fn cut_link(&mut self, from: NodeId, to: NodeId) {
        self.cut.insert((from, to));
    }

    /// Heals every cut and forgets the drop rule.
    pub fn recover(&mut self) {
        self.cut.clear();
        self.drop_rule = None;
    }

    /// Crashes `id`: volatile state is lost, persisted state kept.
    pub fn crash(&mut self, id: NodeId) {
        if let Some(Slot::Up(s)) = self.nodes.remove(&id) {
            let (st, log) = s.into_persistent();
            self.nodes.insert(id, Slot::Down(st, log));
        }
    }

    /// Restarts a crashed `id` from its persisted state; a running one is
    /// left as it is.
    pub fn restart(&mut self, id: NodeId) {
        if !matches!(self.nodes.get(&id), Some(Slot::Down(..))) {
            return;
        }
        if let Some(Slot::Down(st, log)) = self.nodes.remove(&id) {
            self.start_from(id, st, log);
        }
    }

    /// The live leaders.
    pub fn leaders(&self) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter_map(|(&id, s)| match s {
                Slot::Up(s) if s.state() == Role::Leader => Some(id),
                _ => None,
            })
            .collect()
    }

    /// Events of `id` so far.
    pub fn events_of(&self, id: NodeId) -> &[RaftEvent] {
        self.events.get(&id).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Forgets recorded events.
    pub fn clear_events(&mut self) {
        self.events.clear();
    }
}
