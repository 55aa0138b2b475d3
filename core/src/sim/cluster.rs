//! The micro-steps both simulators run the same way: what is due next, the
//! clock and step count moving on, a message arriving, a node ticking, its
//! output going onto the network and into the trace, automatic snapshots.
//! Each simulator says, through [`Cluster`], where its parts are, how it
//! labels an event, and what its own timers and actions do. Generic, not
//! `dyn`: this is the per-millisecond loop.

use std::collections::BTreeMap;

use crate::kv::StateMachine;
use crate::network::{Output, RaftEvent};
use crate::trace::EventKind;
use crate::types::{Message, NodeId};

use super::config::SimConfig;
use super::engine::{Checkpoints, Engine, Guard, RunState, STALL_STEPS};
use super::net::{self, Lost, Net};
use super::nodes::{Node, Ticks};

/// A micro-step due, in the order they run within one millisecond:
/// arrivals (by message id), client timers (by client), the simulator's
/// own timers (`X`), node ticks (by node id), then actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Due<X> {
    /// Message `id` arrives at `t`: (t, id).
    Arrival(u64, u64),
    /// A client's timer fires: (t, client).
    ClientTimer(u64, u64),
    /// One of the simulator's own timers fires (the sharded coordinator's).
    Own(u64, X),
    /// A node ticks: (t, node).
    Tick(u64, NodeId),
    /// An action of the script runs: (t, its index).
    Action(u64, usize),
}

impl<X> Due<X> {
    /// When it is due.
    pub fn time(&self) -> u64 {
        match *self {
            Due::Arrival(t, _)
            | Due::ClientTimer(t, _)
            | Due::Own(t, _)
            | Due::Tick(t, _)
            | Due::Action(t, _) => t,
        }
    }

    /// (time, kind): orders micro-steps of different kinds, which is all
    /// `next_due` compares (one candidate per kind).
    fn rank(&self) -> (u64, u8) {
        match *self {
            Due::Arrival(t, _) => (t, 0),
            Due::ClientTimer(t, _) => (t, 1),
            Due::Own(t, _) => (t, 2),
            Due::Tick(t, _) => (t, 3),
            Due::Action(t, _) => (t, 4),
        }
    }
}

/// The part of a run's state both simulators keep alike: the network, the
/// nodes, the clock, the counts and the progress guard (checkpointed with
/// the rest).
#[derive(Clone)]
pub(crate) struct Run<M: StateMachine> {
    /// The network and the run's random draws.
    pub net: Net,
    /// The clock: the time of the latest micro-step, or the time the run
    /// was last run up to if that is later (nothing was due then).
    pub now: u64,
    /// Micro-steps taken.
    pub step: u64,
    /// The nodes, by id.
    pub nodes: BTreeMap<NodeId, Node<M>>,
    /// Node ticks still due in the current ms.
    pub ticks: Ticks,
    /// How many actions of the script have run.
    pub actions_done: usize,
    /// Counts the micro-steps of the current millisecond, to stop a run
    /// whose clock no longer moves.
    pub guard: Guard,
}

impl<M: StateMachine> Run<M> {
    /// No nodes yet, at time 0, with the network's draws from `seed`.
    pub fn new(seed: u64) -> Self {
        Run {
            net: Net::new(seed),
            now: 0,
            step: 0,
            nodes: BTreeMap::new(),
            ticks: Ticks::default(),
            actions_done: 0,
            guard: Guard::new(seed),
        }
    }
}

/// A run's cloneable state, which holds a [`Run`].
pub(crate) trait HasRun: Clone {
    /// What its nodes run.
    type Machine: StateMachine;
    /// The part kept alike.
    fn run(&self) -> &Run<Self::Machine>;
}

impl<S: HasRun> RunState for S {
    fn step(&self) -> u64 {
        self.run().step
    }
    fn now(&self) -> u64 {
        self.run().now
    }
    fn actions_done(&self) -> usize {
        self.run().actions_done
    }
    fn guard(&self) -> &Guard {
        &self.run().guard
    }
}

/// A simulator's parts the shared micro-steps change.
pub(crate) struct Parts<'a, M: StateMachine> {
    /// Timing, network and client settings.
    pub cfg: &'a SimConfig,
    /// The network, the nodes, the clock and the counts.
    pub run: &'a mut Run<M>,
    /// A node's output being handled (kept for its room; not run state).
    pub outputs: &'a mut Vec<Output>,
}

/// What the shared micro-steps need of a simulator.
pub(crate) trait Cluster {
    /// What its nodes run.
    type Machine: StateMachine;
    /// Its own timers (none for one group).
    type Timer: Copy + std::fmt::Debug;
    /// The cloneable state of the run.
    type State: HasRun<Machine = Self::Machine>;

    /// The state of the run.
    fn run_state(&self) -> &Self::State;
    /// Puts the run back to a checkpoint.
    fn restore_state(&mut self, state: Self::State);
    /// The checkpoints.
    fn run_checkpoints(&self) -> &Checkpoints<Self::State>;

    /// Its parts, to change.
    fn parts(&mut self) -> Parts<'_, Self::Machine>;
    /// The earliest client timer: (time, client).
    fn client_due(&self) -> Option<(u64, u64)>;
    /// The earliest of its own timers.
    fn own_due(&self) -> Option<(u64, Self::Timer)>;
    /// The next action of the script: (its time, its index).
    fn action_due(&self) -> Option<(u64, usize)>;

    /// Records the micro-step just begun (the clock and count have moved).
    fn step_begun(&mut self);
    /// Finishes the micro-step (a checkpoint, if one is due).
    fn step_ended(&mut self);
    /// Client `client`'s timer fires.
    fn client_timer(&mut self, client: u64);
    /// One of its own timers fires.
    fn own_timer(&mut self, timer: Self::Timer);
    /// Runs action `i` of the script (counted as run already).
    fn scripted_action(&mut self, i: usize) -> Result<(), String>;
    /// Emits an event about a message sent by `from`.
    fn emit_msg(&mut self, from: NodeId, kind: EventKind);
    /// Handles node `node`'s Raft event.
    fn node_event(&mut self, node: NodeId, e: RaftEvent);
    /// Micro-steps one simulated millisecond may take before the run
    /// counts as stalled.
    fn stall_budget(&self) -> u64 {
        STALL_STEPS
    }
}

impl<C: Cluster> Engine for C {
    type State = C::State;
    type Due = Due<C::Timer>;
    fn due_time(due: Self::Due) -> u64 {
        due.time()
    }
    const KIND_NAMES: &'static [&'static str] = &[
        "message arrivals",
        "client timers",
        "simulator timers",
        "node ticks",
        "actions",
    ];
    fn due_kind(due: Self::Due) -> usize {
        due.rank().1 as usize
    }
    fn describe(&self, due: Self::Due) -> String {
        match due {
            Due::Arrival(_, id) => match self.run_state().run().net.flight(id) {
                Some(f) => format!(
                    "the arrival of message {id} from S{} to S{}",
                    f.msg.from, f.msg.to
                ),
                None => format!("the arrival of message {id}"),
            },
            Due::ClientTimer(_, client) => format!("client {client}'s timer"),
            Due::Own(_, timer) => format!("the simulator's timer {timer:?}"),
            Due::Tick(_, node) => format!("S{node}'s tick"),
            Due::Action(_, i) => format!("action #{} of the script", i + 1),
        }
    }
    fn guard_mut(&mut self) -> &mut Guard {
        &mut self.parts().run.guard
    }
    fn stall_budget(&self) -> u64 {
        Cluster::stall_budget(self)
    }
    fn reach(&mut self, time: u64) {
        let run = self.parts().run;
        run.now = run.now.max(time);
    }
    fn next_due(&self) -> Option<Self::Due> {
        next_due(self)
    }
    fn run_due(&mut self, due: Self::Due) -> Result<(), String> {
        run_due(self, due)
    }
    fn state(&self) -> &C::State {
        self.run_state()
    }
    fn restore(&mut self, state: C::State) {
        self.restore_state(state)
    }
    fn checkpoints(&self) -> &Checkpoints<C::State> {
        self.run_checkpoints()
    }
}

/// The next micro-step, actions included.
fn next_due<C: Cluster>(c: &C) -> Option<Due<C::Timer>> {
    let Run {
        net,
        nodes,
        ticks,
        now,
        ..
    } = c.run_state().run();
    let now = *now;
    let mut best: Option<Due<C::Timer>> = None;
    let mut consider = |d: Due<C::Timer>| {
        if best.is_none_or(|b| d.rank() < b.rank()) {
            best = Some(d);
        }
    };
    if let Some((t, id)) = net.next_arrival() {
        consider(Due::Arrival(t, id));
    }
    if let Some((t, client)) = c.client_due() {
        consider(Due::ClientTimer(t, client));
    }
    if let Some((t, timer)) = c.own_due() {
        consider(Due::Own(t, timer));
    }
    if let Some((t, id)) = ticks.next(nodes, now) {
        consider(Due::Tick(t, id));
    }
    if let Some((t, i)) = c.action_due() {
        consider(Due::Action(t.max(now), i));
    }
    best
}

/// Runs one micro-step; an action's refusal comes back.
fn run_due<C: Cluster>(c: &mut C, due: Due<C::Timer>) -> Result<(), String> {
    let run = c.parts().run;
    run.now = run.now.max(due.time());
    run.step += 1;
    c.step_begun();
    let result = match due {
        Due::Arrival(_, id) => {
            arrive(c, id);
            Ok(())
        }
        Due::ClientTimer(_, client) => {
            c.client_timer(client);
            Ok(())
        }
        Due::Own(_, timer) => {
            c.own_timer(timer);
            Ok(())
        }
        Due::Tick(t, id) => {
            let Run { ticks, nodes, .. } = c.parts().run;
            ticks.run(nodes, t, id);
            drain(c, id);
            after_node_step(c, id);
            Ok(())
        }
        Due::Action(_, i) => {
            c.parts().run.actions_done = i + 1;
            c.scripted_action(i)
        }
    };
    let run = c.parts().run;
    run.net.expire_dropped(run.now);
    c.step_ended();
    result
}

/// Moves node `id`'s output into the network and the trace.
pub(crate) fn drain<C: Cluster>(c: &mut C, id: NodeId) {
    let p = c.parts();
    let Some(node) = p.run.nodes.get_mut(&id) else {
        return;
    };
    if !node.has_outputs() {
        // Most ticks put out nothing.
        return;
    }
    // The node gets back an empty buffer with room, so neither side
    // allocates for the next output.
    let mut outputs = std::mem::take(p.outputs);
    node.swap_outputs(&mut outputs);
    for out in outputs.drain(..) {
        match out {
            Output::Send(m) => send(c, m),
            Output::Event(e) => c.node_event(id, e),
        }
    }
    *c.parts().outputs = outputs;
}

/// Puts `msg` on the network, with its `send` event (and its copies').
fn send<C: Cluster>(c: &mut C, msg: Message) {
    let from = msg.from;
    let p = c.parts();
    // The event is made before the message moves onto the wire.
    let mut first = Some(EventKind::send(p.run.net.next_id(), &msg));
    let ids = p.run.net.send(p.cfg, p.run.now, msg);
    for id in ids {
        let net = &c.run_state().run().net;
        if let Some(kind) = first.take().or_else(|| net::send_event(net, id)) {
            c.emit_msg(from, kind);
        }
    }
}

/// Traces a message lost.
pub(crate) fn lost<C: Cluster>(c: &mut C, lost: Lost) {
    let kind = EventKind::Drop {
        id: lost.id,
        reason: lost.reason,
    };
    c.emit_msg(lost.from, kind);
}

/// Loses message `id`, if it is in flight (a `drop_message` action).
pub(crate) fn drop_message<C: Cluster>(c: &mut C, id: u64) {
    let run = c.parts().run;
    if let Some(l) = run.net.drop_message(id, run.now) {
        lost(c, l);
    }
}

/// Message `id` arrives: delivered to a running node, or lost.
fn arrive<C: Cluster>(c: &mut C, id: u64) {
    let Run {
        net, nodes, now, ..
    } = c.parts().run;
    let up = |n: NodeId| matches!(nodes.get(&n), Some(Node::Up(_)));
    let flight = match net.arrive(id, *now, up) {
        None => return,
        Some(Err(l)) => return lost(c, l),
        Some(Ok(flight)) => flight,
    };
    let (from, to) = (flight.msg.from, flight.msg.to);
    c.emit_msg(from, EventKind::Deliver { id, outcome: None });
    if let Some(Node::Up(s)) = c.parts().run.nodes.get_mut(&to) {
        s.step(flight.msg);
    }
    drain(c, to);
    after_node_step(c, to);
}

/// Automatic snapshots every `snapshot_every` applied entries.
fn after_node_step<C: Cluster>(c: &mut C, id: NodeId) {
    let p = c.parts();
    let every = p.cfg.snapshot_every;
    if every == 0 {
        return;
    }
    if let Some(node) = p.run.nodes.get_mut(&id) {
        node.auto_snapshot(every);
    }
    drain(c, id);
}
