//! The micro-step loop both simulators run the same way: what is due next,
//! the clock and step count moving on, a message arriving, a node ticking,
//! its output going onto the network and into the trace, automatic
//! snapshots; and the ways of driving it: run the next micro-step, run up
//! to a time, run an action just scheduled, and go back to an earlier step
//! or time from a checkpoint (a clone of the run's state) by replay.
//! Each simulator says, through [`Cluster`], where its parts are, how it
//! labels an event, and what its own timers and actions do. Generic, not
//! `dyn`: this is the per-millisecond loop. Every micro-step goes through
//! the progress guard (see `guard`).

use std::collections::BTreeMap;

use crate::kv::StateMachine;
use crate::network::{Output, RaftEvent};
use crate::trace::EventKind;
use crate::types::{Message, NodeId};

use super::config::SimConfig;
use super::guard::{Guard, Stalled, STALL_STEPS};
use super::net::{self, Arrival, Lost, Net};
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
    /// The message being handed to its receiver right now: a rejection the
    /// receiver reports while handling it is that delivery's outcome. Any
    /// other rejection (a transfer timing out on a tick) belongs to no
    /// delivery.
    pub delivering: Option<u64>,
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
            delivering: None,
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

/// Clones of the run's state taken as it goes, spaced `every` micro-steps
/// apart; past `most` of them every other one is dropped and the spacing
/// doubles, so a long run keeps a bounded number.
#[derive(Clone)]
pub(crate) struct Checkpoints<S> {
    list: Vec<S>,
    every: u64,
    first_every: u64,
    most: usize,
}

impl<S: HasRun> Checkpoints<S> {
    /// No checkpoints yet; they will be `every` micro-steps apart at first.
    pub fn new(every: u64, most: usize) -> Self {
        Checkpoints {
            list: Vec::new(),
            every,
            first_every: every,
            most,
        }
    }

    /// Takes a checkpoint of `state` now (the run's start).
    pub fn take(&mut self, state: &S) {
        self.list.push(state.clone());
    }

    /// Takes a checkpoint of `state` if it is due; returns whether it did.
    pub fn maybe_take(&mut self, state: &S) -> bool {
        let last = self.list.last().map(|c| c.run().step).unwrap_or(0);
        if state.run().step < last + self.every {
            return false;
        }
        self.list.push(state.clone());
        if self.list.len() > self.most {
            // Thin: keep every other one (the first stays).
            let mut i = 0;
            self.list.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.every *= 2;
        }
        true
    }

    /// The checkpoints, oldest first.
    pub fn list(&self) -> &[S] {
        &self.list
    }

    /// The latest checkpoint `at_or_before` accepts, else the first.
    pub fn latest(&self, at_or_before: impl Fn(&S) -> bool) -> Option<&S> {
        self.list
            .iter()
            .rev()
            .find(|c| at_or_before(c))
            .or(self.list.first())
    }

    /// Forgets the checkpoints after micro-step `step` (a new branch).
    pub fn forget_after(&mut self, step: u64) {
        self.list.retain(|c| c.run().step <= step);
    }

    /// Forgets the first `n` checkpoints (history dropped), spacing the
    /// rest closer again while there are few, so the spacing follows the
    /// history kept and never grows without end.
    pub fn forget_first(&mut self, n: usize) {
        self.list.drain(..n);
        while self.every > self.first_every && self.list.len() * 2 < self.most {
            self.every /= 2;
        }
    }
}

/// An action of a script, at its time.
pub(crate) trait Timed {
    /// Its simulated time, ms.
    fn time(&self) -> u64;
}

/// Puts `action` into `script` after the `done` actions already run and
/// the others due by its time (so actions of one ms run in the order made).
pub(crate) fn schedule<T: Timed>(script: &mut Vec<T>, done: usize, action: T) {
    let time = action.time();
    let at = script[done..].partition_point(|a| a.time() <= time) + done;
    script.insert(at, action);
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

/// Names of the kinds of micro-step, by `Due::rank` (at most 8), for a
/// stall's report.
const KIND_NAMES: &[&str] = &[
    "message arrivals",
    "client timers",
    "simulator timers",
    "node ticks",
    "actions",
];

/// What `due` is, in words, for a stall's report.
fn describe<C: Cluster>(c: &C, due: Due<C::Timer>) -> String {
    match due {
        Due::Arrival(_, id) => match c.run_state().run().net.flight(id) {
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

/// Runs `due` unless the guard stops the run: a stall found now or
/// before comes back as the error, else what the micro-step came to.
fn run_guarded<C: Cluster>(c: &mut C, due: Due<C::Timer>) -> Result<Result<(), String>, Stalled> {
    if let Some(s) = c.run_state().run().guard.stalled() {
        return Err(s.clone());
    }
    // The clock never goes back: this is the time the micro-step runs at.
    let time = due.time().max(c.run_state().run().now);
    let budget = c.stall_budget();
    if !c
        .parts()
        .run
        .guard
        .count(time, due.rank().1 as usize, budget)
    {
        // Only now is the micro-step put in words: most never stall.
        let next = describe(c, due);
        let step = c.run_state().run().step;
        return Err(c.parts().run.guard.stall(time, step, KIND_NAMES, &next));
    }
    Ok(run_due(c, due))
}

/// Runs micro-steps until the action just scheduled has run (the
/// `actions_done`-th and those before it); returns what it came to.
pub(crate) fn run_action<C: Cluster>(c: &mut C) -> Result<(), String> {
    let target = c.run_state().run().actions_done + 1;
    loop {
        let Some(due) = next_due(c) else {
            return Err("nothing to run".into());
        };
        let result = run_guarded(c, due).map_err(|s| s.to_string())?;
        if c.run_state().run().actions_done >= target {
            return result;
        }
    }
}

/// Runs the next micro-step, if any (none once the run has stalled).
pub(crate) fn step<C: Cluster>(c: &mut C) {
    if let Some(due) = next_due(c) {
        let _ = run_guarded(c, due);
    }
}

/// Runs every micro-step due at or before `time`, and moves the clock to
/// `time`: the run has reached it even when nothing was due (a cluster
/// whose every node is down), so whoever drives the run by the clock
/// sees it move. Stops early, with the error, if the run stalls.
pub(crate) fn run_until<C: Cluster>(c: &mut C, time: u64) -> Result<(), Stalled> {
    while let Some(due) = next_due(c) {
        if due.time() > time {
            break;
        }
        let _ = run_guarded(c, due)?;
    }
    if let Some(s) = c.run_state().run().guard.stalled() {
        return Err(s.clone());
    }
    let run = c.parts().run;
    run.now = run.now.max(time);
    Ok(())
}

/// Rebuilds the run as it was after micro-step `step`: backwards from the
/// nearest checkpoint (or the first, before the history kept) by replay,
/// forwards by running.
pub(crate) fn goto_step<C: Cluster>(c: &mut C, step: u64) {
    if step < c.run_state().run().step {
        let Some(cp) = c
            .run_checkpoints()
            .latest(|s| s.run().step <= step)
            .cloned()
        else {
            return;
        };
        c.restore_state(cp);
    }
    while c.run_state().run().step < step {
        let Some(due) = next_due(c) else {
            break;
        };
        if run_guarded(c, due).is_err() {
            break;
        }
    }
}

/// Goes to simulated time `time`: every micro-step due at or before it has
/// run, none after (unless the run stalls on the way).
pub(crate) fn goto_time<C: Cluster>(c: &mut C, time: u64) -> Result<(), Stalled> {
    if time < c.run_state().run().now {
        let Some(cp) = c.run_checkpoints().latest(|s| s.run().now <= time).cloned() else {
            return Ok(());
        };
        c.restore_state(cp);
    }
    run_until(c, time)
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
    // Delivering by hand with the timers stopped, no node ticks: timeouts
    // and heartbeats happen only when the teacher says so.
    if net.timers_run() {
        if let Some((t, id)) = ticks.next(nodes, now) {
            consider(Due::Tick(t, id));
        }
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

/// Message `id` is due: delivered to a running node, lost, or left
/// waiting at its receiver (manual delivery, a held link).
fn arrive<C: Cluster>(c: &mut C, id: u64) {
    let Run {
        net, nodes, now, ..
    } = c.parts().run;
    let up = |n: NodeId| matches!(nodes.get(&n), Some(Node::Up(_)));
    match net.arrive(id, *now, up) {
        None | Some(Arrival::Waits) => {}
        Some(Arrival::Lost(l)) => lost(c, l),
        Some(Arrival::Delivered(flight)) => hand_to(c, flight),
    }
}

/// Delivers message `id` now, whether it waits or is still on its way (a
/// `deliver` action); a message the network lost, or sent over a link now
/// down or to a crashed node, is lost instead.
pub(crate) fn deliver_now<C: Cluster>(c: &mut C, id: u64) {
    let Run {
        net, nodes, now, ..
    } = c.parts().run;
    let up = |n: NodeId| matches!(nodes.get(&n), Some(Node::Up(_)));
    match net.hand_over(id, *now, up) {
        None => {}
        Some(Err(l)) => lost(c, l),
        Some(Ok(flight)) => hand_to(c, flight),
    }
}

/// Hands a message to its running receiver, with its `deliver` event.
fn hand_to<C: Cluster>(c: &mut C, flight: net::Flight) {
    let (id, from, to) = (flight.id, flight.msg.from, flight.msg.to);
    c.emit_msg(from, EventKind::Deliver { id, outcome: None });
    if let Some(Node::Up(s)) = c.parts().run.nodes.get_mut(&to) {
        s.step(flight.msg);
    }
    c.parts().run.delivering = Some(id);
    drain(c, to);
    c.parts().run.delivering = None;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::KvStore;

    /// A cluster with no nodes and one timer of its own that is always due
    /// at 5 ms and does nothing: the clock never gets past it, a simulator
    /// bug of the kind the progress guard is there for.
    struct Stuck {
        cfg: SimConfig,
        state: StuckState,
        checkpoints: Checkpoints<StuckState>,
        outputs: Vec<Output>,
        /// Times the timer fired.
        fired: u64,
    }

    #[derive(Clone)]
    struct StuckState {
        run: Run<KvStore>,
    }

    impl HasRun for StuckState {
        type Machine = KvStore;
        fn run(&self) -> &Run<KvStore> {
            &self.run
        }
    }

    impl Cluster for Stuck {
        type Machine = KvStore;
        type Timer = ();
        type State = StuckState;
        fn run_state(&self) -> &StuckState {
            &self.state
        }
        fn restore_state(&mut self, state: StuckState) {
            self.state = state;
        }
        fn run_checkpoints(&self) -> &Checkpoints<StuckState> {
            &self.checkpoints
        }
        fn parts(&mut self) -> Parts<'_, KvStore> {
            Parts {
                cfg: &self.cfg,
                run: &mut self.state.run,
                outputs: &mut self.outputs,
            }
        }
        fn client_due(&self) -> Option<(u64, u64)> {
            None
        }
        fn own_due(&self) -> Option<(u64, ())> {
            Some((5, ()))
        }
        fn action_due(&self) -> Option<(u64, usize)> {
            None
        }
        fn step_begun(&mut self) {}
        fn step_ended(&mut self) {}
        fn client_timer(&mut self, _: u64) {}
        fn own_timer(&mut self, (): ()) {
            self.fired += 1;
        }
        fn scripted_action(&mut self, _: usize) -> Result<(), String> {
            Ok(())
        }
        fn emit_msg(&mut self, _: NodeId, _: EventKind) {}
        fn node_event(&mut self, _: NodeId, _: RaftEvent) {}
    }

    fn stuck() -> Stuck {
        let state = StuckState { run: Run::new(9) };
        let mut checkpoints = Checkpoints::new(1 << 40, 1);
        checkpoints.take(&state);
        Stuck {
            cfg: SimConfig::default(),
            state,
            checkpoints,
            outputs: Vec::new(),
            fired: 0,
        }
    }

    #[test]
    fn a_loop_that_never_moves_the_clock_ends_with_a_stall_not_a_hang() {
        let mut c = stuck();
        let s = run_until(&mut c, 10).expect_err("stalls");
        assert_eq!(
            (s.seed, s.time, s.step, s.steps),
            (9, 5, STALL_STEPS, STALL_STEPS)
        );
        assert_eq!((c.fired, c.state.run.step), (STALL_STEPS, STALL_STEPS));
        assert_eq!(
            s.looping,
            format!(
                "the simulator's timer () next (this millisecond: {STALL_STEPS} simulator timers)"
            )
        );
        // Every way of driving the run stops there too.
        assert_eq!(run_until(&mut c, 10), Err(s.clone()));
        assert_eq!(run_action(&mut c), Err(s.to_string()));
        step(&mut c);
        goto_step(&mut c, STALL_STEPS + 5);
        assert_eq!(goto_time(&mut c, 10), Err(s.clone()));
        assert_eq!((c.fired, c.state.run.step), (STALL_STEPS, STALL_STEPS));
    }

    #[test]
    fn going_back_before_a_stall_runs_again_and_stalls_at_the_same_step() {
        let mut c = stuck();
        let s = run_until(&mut c, 10).expect_err("stalls");
        goto_step(&mut c, 10);
        assert_eq!(c.state.run.step, 10);
        assert!(c.state.run.guard.stalled().is_none());
        assert_eq!(run_until(&mut c, 10), Err(s));
    }
}
