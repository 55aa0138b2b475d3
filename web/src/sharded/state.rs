//! Sharded mode's state and reducer. The `ShardedSim` sits behind one
//! handle (`ShardedHandle`); `version` counts its changes so components can
//! compare props cheaply.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use raftlab_core::kv::KvOp;
use raftlab_core::meta::{slot_of, GroupId, Slot, SLOTS};
use raftlab_core::sim::sharded::{ShardNode, ShardedAction, ShardedConfig};
use raftlab_core::types::NodeId;
use yew::prelude::*;

use super::lab::{name, ShardedLab};
use super::walk::{WalkAction, Walkthrough};
use crate::clock::{self, Clock, Move};
use crate::vocab::{picked_partition, typed_op, Handle};

// The clock's bounds and starting speed are the single-group view's.
pub use crate::vocab::{SPEED_DEFAULT, SPEED_MAX, SPEED_MIN};

// The messages for the user and the verbs on the selected node are the
// single-group view's, and so are the lab's handle and the reading of the
// client and partition forms.
pub use crate::vocab::{NodeVerb, Notice};

/// The one handle on the simulator. Equal when it is the same lab.
pub type ShardedHandle = Handle<ShardedLab>;

/// What a reset builds.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardedSetup {
    /// The seed.
    pub seed: u64,
    /// Settings (groups, nodes, timing).
    pub cfg: ShardedConfig,
}

impl Default for ShardedSetup {
    fn default() -> Self {
        ShardedSetup {
            seed: 1,
            cfg: ShardedConfig::default(),
        }
    }
}

/// Everything that changes the page.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// An animation frame: wall ms since the last.
    Frame(f64),
    /// Start the clock.
    Play,
    /// Stop the clock.
    Pause,
    /// Start or stop.
    TogglePlay,
    /// To the next event.
    Step,
    /// Back one event.
    StepBack,
    /// Jump ahead, simulated ms.
    Forward(u64),
    /// Go to just after event `seq` (paused).
    GotoEvent(u64),
    /// Simulated ms per wall ms.
    SetSpeed(f64),
    /// Select a node (or none).
    Select(Option<NodeId>),
    /// Act on the selected node.
    Node(NodeVerb),
    /// Move a node to the next partition side.
    CycleSide(NodeId),
    /// Put a whole group on one partition side.
    GroupSide(GroupId),
    /// Split the network as picked.
    Partition,
    /// Remove partitions and cuts.
    Heal,
    /// Cut or restore a one-way link.
    ToggleLink(NodeId, NodeId),
    /// Lose a message in flight.
    DropMessage(u64),
    /// Hold a one-way link: its messages wait at the receiver.
    Hold(NodeId, NodeId),
    /// Release a held link: what waited arrives, oldest first.
    Release(NodeId, NodeId),
    /// A client operation.
    Client(KvOp, String, Option<String>),
    /// Look a key up (its slot is picked).
    Lookup(String),
    /// Pick a slot (in the strip or by number).
    PickSlot(Option<Slot>),
    /// Move slot (text) to group (name), as typed.
    MoveSlot(String, String),
    /// Latency slider, ms (top of the range).
    SetLatency(u64),
    /// Loss slider, percent.
    SetLoss(u64),
    /// A fresh run.
    Reset(ShardedSetup),
    /// Show a problem found by a form.
    Problem(String),
    /// Hide the notice.
    Dismiss,
    /// Walkthrough: open or close.
    WalkOpen(bool),
    /// Walkthrough: go to step n.
    WalkGo(usize),
    /// Walkthrough: do action `i` of the current step.
    WalkDo(usize),
    /// The group the membership controls act on.
    MemberGroup(GroupId),
    /// Boot a new node in that group and add it as a learner or a voter.
    AddNode {
        /// As a voter (else a learner).
        voter: bool,
    },
    /// Pick or unpick a node for the new voter set of a joint change.
    ToggleJoint(NodeId),
    /// Replace the group's voters by the picked set (joint consensus).
    Joint,
    /// Pick an event in the feed: go there and select its node.
    PickEvent(u64, Option<NodeId>),
    /// Feed filter: also list log events (append, commit, apply, votes).
    FeedLog(bool),
    /// Feed filter: only this group's events ("" for all).
    FeedGroup(String),
}

/// The page's state in sharded mode.
#[derive(Clone, PartialEq)]
pub struct ShardedState {
    /// The simulator and its clock.
    pub lab: ShardedHandle,
    /// Bumped on every change to the lab.
    pub version: u64,
    /// Whether the clock runs.
    pub playing: bool,
    /// Simulated ms per wall ms.
    pub speed: f64,
    /// The node the node actions are about.
    pub selected: Option<NodeId>,
    /// Partition picks: side per node (0 = A).
    pub sides: BTreeMap<NodeId, u8>,
    /// The latest message for the user.
    pub notice: Option<Notice>,
    /// The latest client operation: (client, seq).
    pub last_client: Option<(u64, u64)>,
    /// The key looked up.
    pub lookup: String,
    /// The slot picked (strip, lookup or move form).
    pub picked: Option<Slot>,
    /// What the run was built from.
    pub setup: ShardedSetup,
    /// Violations already reported.
    pub violations_seen: usize,
    /// Latency slider (ms).
    pub latency: u64,
    /// Loss slider (%).
    pub loss: u64,
    /// The walkthrough (or why it could not be read).
    pub walk: Rc<Result<Walkthrough, String>>,
    /// The walkthrough panel is open.
    pub walk_open: bool,
    /// Current walkthrough step.
    pub walk_step: usize,
    /// Simulated time the current step began.
    pub walk_since: u64,
    /// The group the membership controls act on.
    pub member_group: GroupId,
    /// The voter set picked for a joint change.
    pub joint: BTreeSet<NodeId>,
    /// The event picked in the feed.
    pub picked_event: Option<u64>,
    /// The feed lists log events too.
    pub feed_log: bool,
    /// The feed shows only this group ("" for all).
    pub feed_group: String,
}

impl ShardedState {
    /// The page for `setup`, or the default run and a notice when refused.
    pub fn new(setup: ShardedSetup, speed: f64, playing: bool, walk_open: bool) -> ShardedState {
        let (lab, setup, notice) = match ShardedLab::new(setup.seed, setup.cfg.clone()) {
            Ok(lab) => (Some(lab), setup, None),
            Err(e) => (
                None,
                ShardedSetup::default(),
                Some(Notice {
                    text: format!("Those settings were refused ({e}); running the defaults."),
                    error: true,
                }),
            ),
        };
        let lab = lab
            .or_else(|| ShardedLab::new(setup.seed, setup.cfg.clone()).ok())
            .expect("the default settings are valid");
        let latency = setup.cfg.sim.latency_ms[1];
        let loss = (setup.cfg.sim.loss * 100.0).round() as u64;
        ShardedState {
            lab: Handle::new(lab),
            version: 0,
            playing,
            speed: speed.clamp(SPEED_MIN, SPEED_MAX),
            selected: None,
            sides: BTreeMap::new(),
            notice,
            last_client: None,
            lookup: String::new(),
            picked: None,
            setup,
            violations_seen: 0,
            latency,
            loss,
            walk: Rc::new(Walkthrough::shipped()),
            walk_open,
            walk_step: 0,
            walk_since: 0,
            member_group: 1,
            joint: BTreeSet::new(),
            picked_event: None,
            feed_log: false,
            feed_group: String::new(),
        }
    }

    fn changed(&mut self) {
        self.version += 1;
        let first_new = {
            let lab = self.lab.0.borrow();
            let v = lab.sim().violations();
            (v.len() > self.violations_seen).then(|| v[self.violations_seen].clone())
        };
        if let Some(v) = first_new {
            // Stop the clock at the very event that broke the rule.
            self.playing = false;
            self.lab.0.borrow_mut().goto_event(v.violation.seq);
            self.notice = Some(Notice {
                text: format!(
                    "Safety violation in {} ({}) at event #{}: {} — the clock stopped there.",
                    v.group, v.violation.rule, v.violation.seq, v.violation.message
                ),
                error: true,
            });
        }
        self.violations_seen = self.lab.0.borrow().sim().violations().len();
    }

    /// Moves the run in time as both views do (sharded mode has no
    /// breakpoints to look for afterwards).
    fn clock(&mut self, m: Move) {
        m.apply(&mut *self.lab.0.borrow_mut(), &mut self.playing, self.speed);
        self.changed();
        if let Some(text) = self.lab.0.borrow().stalled().map(clock::stall_notice) {
            self.notice = Some(Notice { text, error: true });
        }
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: true,
        });
    }

    fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: false,
        });
    }

    fn act(&mut self, action: ShardedAction) -> bool {
        let result = self.lab.0.borrow_mut().act(action);
        let ok = result.is_ok();
        match result {
            Ok(()) => {
                if matches!(&self.notice, Some(n) if n.error) {
                    self.notice = None;
                }
            }
            Err(e) => self.error(format!("Not done: {e}.")),
        }
        self.changed();
        ok
    }

    fn node_verb(&mut self, verb: NodeVerb) {
        let Some(node) = self.selected else {
            return self.error("Select a node first: click it in any ring.");
        };
        self.act(match verb {
            NodeVerb::Crash => ShardedAction::Crash { node },
            NodeVerb::Restart => ShardedAction::Restart { node },
            NodeVerb::Timeout => ShardedAction::Timeout { node },
            NodeVerb::Transfer => ShardedAction::Transfer { to: node },
            NodeVerb::Snapshot => ShardedAction::Snapshot { node },
            NodeVerb::Remove => ShardedAction::Remove { node },
            NodeVerb::Promote => {
                let group = self.lab.0.borrow().sim().group_of(node).unwrap_or(0);
                ShardedAction::AddVoter { group, node }
            }
        });
    }

    fn add_node(&mut self, voter: bool) {
        let group = self.member_group;
        let Some(node) = self.lab.0.borrow().sim().fresh_node_id(group) else {
            return self.error(format!("{} has used every id of its range.", name(group)));
        };
        let done = self.act(if voter {
            ShardedAction::AddVoter { group, node }
        } else {
            ShardedAction::AddLearner { group, node }
        });
        if done {
            self.selected = Some(node);
        }
    }

    fn joint(&mut self) {
        if self.joint.is_empty() {
            return self.error("Pick the new voters first (the chips under the buttons).");
        }
        let voters: Vec<NodeId> = self.joint.iter().copied().collect();
        if self.act(ShardedAction::Joint {
            group: self.member_group,
            voters,
        }) {
            self.joint.clear();
        }
    }

    fn client(&mut self, op: KvOp, key: String, value: Option<String>) {
        let (key, value) = match typed_op(&op, key, value) {
            Ok(typed) => typed,
            Err(missing) => return self.error(missing),
        };
        // The first client that is not busy sends it.
        let client = {
            let lab = self.lab.0.borrow();
            let views = lab.sim().clients();
            (1..)
                .find(|c| !views.iter().any(|v| v.id == *c && v.current.is_some()))
                .unwrap_or(1)
        };
        self.lookup = key.clone();
        self.picked = Some(slot_of(&key));
        if !self.act(ShardedAction::Client {
            client,
            op,
            key,
            value,
        }) {
            return;
        }
        let seq = {
            let lab = self.lab.0.borrow();
            lab.sim()
                .clients()
                .into_iter()
                .find(|v| v.id == client)
                .and_then(|v| {
                    v.current
                        .map(|op| op.seq)
                        .or_else(|| v.done.last().map(|op| op.seq))
                })
        };
        self.last_client = seq.map(|s| (client, s));
    }

    fn move_slot(&mut self, slot: &str, to: &str) {
        let Ok(slot) = slot.trim().parse::<u32>() else {
            return self.error(format!("Type a slot number from 0 to {}.", SLOTS - 1));
        };
        let Some(slot) = u16::try_from(slot).ok().filter(|s| *s < SLOTS) else {
            return self.error(format!("Slots run from 0 to {}.", SLOTS - 1));
        };
        let to = {
            let lab = self.lab.0.borrow();
            let to = to.trim();
            if to.is_empty() {
                Some(lab.next_group(slot))
            } else {
                lab.group_by_name(to)
            }
        };
        let Some(to) = to else {
            return self.error("Pick a KV group to move the slot to.");
        };
        self.picked = Some(slot);
        self.act(ShardedAction::MoveSlot { slot, to });
    }

    fn walk_do(&mut self, i: usize) {
        let action = match self.walk.as_ref() {
            Ok(w) => w
                .steps
                .get(self.walk_step)
                .and_then(|s| s.actions.get(i))
                .map(|(_, a)| a.clone()),
            Err(_) => None,
        };
        let Some(action) = action else {
            return;
        };
        match action {
            WalkAction::Forward(ms) => {
                self.lab.0.borrow_mut().forward(ms);
                self.changed();
            }
            WalkAction::PickKey(key) => {
                self.picked = Some(slot_of(&key));
                self.lookup = key;
            }
            WalkAction::Client(op, key, value) => self.client(op, key, value),
            WalkAction::MoveKey(key) => {
                let slot = slot_of(&key);
                self.lookup = key;
                self.move_slot(&slot.to_string(), "");
            }
            WalkAction::CrashLeader(key) => {
                let slot = slot_of(&key);
                let leader = {
                    let lab = self.lab.0.borrow();
                    let g = lab.sim().settled_owner(slot);
                    lab.sim().leader(g).ok_or(name(g))
                };
                match leader {
                    Ok(node) => {
                        self.selected = Some(node);
                        self.act(ShardedAction::Crash { node });
                    }
                    Err(g) => self.error(format!("{g} has no leader right now to crash.")),
                }
            }
            WalkAction::RestartAll => {
                let down: Vec<NodeId> = {
                    let lab = self.lab.0.borrow();
                    lab.sim()
                        .nodes()
                        .iter()
                        .filter(|(_, n)| matches!(n, ShardNode::Down(..)))
                        .map(|(&id, _)| id)
                        .collect()
                };
                if down.is_empty() {
                    self.info("Every node is running.");
                }
                for node in down {
                    self.act(ShardedAction::Restart { node });
                }
            }
        }
    }
}

impl Reducible for ShardedState {
    type Action = Msg;

    fn reduce(self: Rc<Self>, msg: Msg) -> Rc<Self> {
        let mut s = (*self).clone();
        match msg {
            // A frame after the clock stopped changes nothing: the same
            // state, so nothing re-renders.
            Msg::Frame(_) if !s.playing => return self,
            Msg::Frame(wall_ms) => s.clock(Move::Frame(wall_ms)),
            Msg::Play => s.playing = true,
            Msg::Pause => s.playing = false,
            Msg::TogglePlay => s.playing = !s.playing,
            Msg::Step => s.clock(Move::Step),
            Msg::StepBack => s.clock(Move::StepBack),
            Msg::Forward(ms) => s.clock(Move::Forward(ms)),
            Msg::GotoEvent(seq) => s.clock(Move::GotoEvent(seq)),
            Msg::SetSpeed(v) => s.speed = clock::speed(v, s.speed),
            Msg::Select(id) => {
                s.selected = id;
                let g = id.and_then(|n| s.lab.0.borrow().sim().group_of(n));
                if let Some(g) = g.filter(|&g| g != s.member_group) {
                    s.member_group = g;
                    s.joint.clear();
                }
            }
            Msg::MemberGroup(g) => {
                if g != s.member_group {
                    s.member_group = g;
                    s.joint.clear();
                }
            }
            Msg::AddNode { voter } => s.add_node(voter),
            Msg::ToggleJoint(id) => {
                if !s.joint.remove(&id) {
                    s.joint.insert(id);
                }
            }
            Msg::Joint => s.joint(),
            Msg::PickEvent(seq, node) => {
                s.playing = false;
                s.lab.0.borrow_mut().goto_event(seq);
                s.picked_event = Some(seq);
                if node.is_some() {
                    s.selected = node;
                }
                s.changed();
            }
            Msg::FeedLog(on) => s.feed_log = on,
            Msg::FeedGroup(g) => s.feed_group = g,
            Msg::Node(verb) => s.node_verb(verb),
            Msg::CycleSide(id) => {
                let g = s.sides.get(&id).copied().unwrap_or(0);
                s.sides.insert(id, (g + 1) % 3);
            }
            Msg::GroupSide(g) => {
                let nodes = s.lab.0.borrow().sim().group_nodes(g).to_vec();
                let side = nodes
                    .first()
                    .map(|n| (s.sides.get(n).copied().unwrap_or(0) + 1) % 3)
                    .unwrap_or(0);
                for n in nodes {
                    s.sides.insert(n, side);
                }
            }
            Msg::Partition => {
                let ids: Vec<NodeId> = s.lab.0.borrow().sim().nodes().keys().copied().collect();
                match picked_partition(ids, &s.sides) {
                    Some(groups) => {
                        s.act(ShardedAction::Partition { groups });
                    }
                    None => s.error("Put at least one node on side B first (click its chip)."),
                }
            }
            Msg::Heal => {
                s.act(ShardedAction::Heal);
                s.sides.clear();
            }
            Msg::ToggleLink(from, to) => {
                let cut = s.lab.0.borrow().sim().cut_links().contains(&(from, to));
                s.act(if cut {
                    ShardedAction::Restore { from, to }
                } else {
                    ShardedAction::Cut { from, to }
                });
            }
            Msg::DropMessage(id) => {
                s.act(ShardedAction::DropMessage { id });
            }
            Msg::Hold(from, to) => {
                s.act(ShardedAction::Hold { from, to });
            }
            Msg::Release(from, to) => {
                s.act(ShardedAction::Release { from, to });
            }
            Msg::Client(op, key, value) => s.client(op, key, value),
            Msg::Lookup(key) => {
                let k = key.trim();
                s.picked = (!k.is_empty()).then(|| slot_of(k));
                s.lookup = key;
            }
            Msg::PickSlot(slot) => s.picked = slot.filter(|&x| x < SLOTS),
            Msg::MoveSlot(slot, to) => s.move_slot(&slot, &to),
            Msg::SetLatency(ms) => {
                let hi = ms.clamp(1, 1000);
                s.latency = hi;
                s.act(ShardedAction::Network {
                    latency_ms: Some([(hi / 5).max(1), hi]),
                    loss: None,
                    duplicate: None,
                    reorder: None,
                });
            }
            Msg::SetLoss(pct) => {
                let pct = pct.min(100);
                s.loss = pct;
                s.act(ShardedAction::Network {
                    latency_ms: None,
                    loss: Some(pct as f64 / 100.0),
                    duplicate: None,
                    reorder: None,
                });
            }
            Msg::Reset(setup) => match ShardedLab::new(setup.seed, setup.cfg.clone()) {
                Ok(lab) => {
                    s.lab = Handle::new(lab);
                    s.latency = setup.cfg.sim.latency_ms[1];
                    s.loss = (setup.cfg.sim.loss * 100.0).round() as u64;
                    s.setup = setup;
                    s.selected = None;
                    s.sides.clear();
                    s.last_client = None;
                    s.violations_seen = 0;
                    s.notice = None;
                    s.walk_step = 0;
                    s.walk_since = 0;
                    s.joint.clear();
                    s.picked_event = None;
                    s.changed();
                }
                Err(e) => s.error(format!("Cannot reset: {e}.")),
            },
            Msg::Problem(text) => s.error(text),
            Msg::Dismiss => s.notice = None,
            Msg::WalkOpen(open) => s.walk_open = open,
            Msg::WalkGo(n) => {
                let len = s.walk.as_ref().as_ref().map(|w| w.steps.len()).unwrap_or(0);
                if n < len {
                    s.walk_step = n;
                    s.walk_since = s.lab.0.borrow().sim().now();
                }
            }
            Msg::WalkDo(i) => s.walk_do(i),
        }
        Rc::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sharded::lab::Standing;
    use raftlab_core::sim::sharded::MigrationPhase;

    fn state() -> Rc<ShardedState> {
        Rc::new(ShardedState::new(
            ShardedSetup::default(),
            SPEED_DEFAULT,
            false,
            false,
        ))
    }

    #[test]
    fn bad_input_is_a_notice_not_a_panic() {
        let s = state().reduce(Msg::Node(NodeVerb::Crash));
        assert!(s.notice.as_ref().is_some_and(|n| n.error));
        for (slot, to) in [
            ("x", "g1"),
            ("5000", "g1"),
            ("-1", ""),
            ("3", "g9"),
            ("0", "g1"),
        ] {
            let s = state().reduce(Msg::MoveSlot(slot.into(), to.into()));
            assert!(s.notice.as_ref().is_some_and(|n| n.error), "{slot} {to}");
        }
        let s = state().reduce(Msg::Client(KvOp::Put, " ".into(), None));
        assert!(s.notice.is_some());
        let s = state().reduce(Msg::PickSlot(Some(9999)));
        assert_eq!(s.picked, None);
        let s = state().reduce(Msg::WalkGo(99)).reduce(Msg::WalkDo(42));
        assert_eq!(s.walk_step, 0);
    }

    #[test]
    fn membership_controls_add_promote_and_remove_in_the_picked_group() {
        let mut s = state().reduce(Msg::Forward(1500));
        let leader = s.lab.0.borrow().sim().leader(2).expect("g2 leader");
        s = s.reduce(Msg::Select(Some(leader)));
        assert_eq!(s.member_group, 2, "selecting a node picks its group");
        s = s.reduce(Msg::AddNode { voter: false });
        assert_eq!(s.selected, Some(24), "the new node is selected");
        assert!(s.notice.as_ref().is_none_or(|n| !n.error), "{:?}", s.notice);
        s = s.reduce(Msg::Forward(400));
        assert_eq!(s.lab.0.borrow().standing(24), Standing::Learner);
        s = s
            .reduce(Msg::Node(NodeVerb::Promote))
            .reduce(Msg::Forward(400));
        assert_eq!(s.lab.0.borrow().standing(24), Standing::Voter);
        s = s
            .reduce(Msg::Select(Some(leader)))
            .reduce(Msg::Node(NodeVerb::Remove));
        s = s.reduce(Msg::Forward(1500));
        assert_eq!(s.lab.0.borrow().standing(leader), Standing::Outside);
        // A joint change of the meta group, picked with chips.
        s = s.reduce(Msg::MemberGroup(0));
        for id in [1, 2, 4] {
            s = s.reduce(Msg::ToggleJoint(id));
        }
        s = s.reduce(Msg::Joint).reduce(Msg::Forward(2000));
        assert!(s.joint.is_empty());
        let lab = s.lab.0.borrow();
        assert_eq!(lab.standing(4), Standing::Voter);
        assert_eq!(lab.standing(3), Standing::Outside);
        assert!(lab.sim().violations().is_empty());
    }

    #[test]
    fn picking_an_event_goes_there_and_selects_its_node() {
        let s = state().reduce(Msg::Forward(800));
        let (seq, node) = {
            let lab = s.lab.0.borrow();
            lab.sim()
                .events()
                .iter()
                .find_map(|e| match e.event.kind {
                    raftlab_core::trace::EventKind::Role { node, .. } => Some((e.event.seq, node)),
                    _ => None,
                })
                .expect("a role event")
        };
        let s = s.reduce(Msg::PickEvent(seq, Some(node)));
        assert_eq!(s.selected, Some(node));
        assert_eq!(s.picked_event, Some(seq));
        assert!(!s.playing);
        assert_eq!(s.lab.0.borrow().sim().position(), {
            let lab = s.lab.0.borrow();
            lab.sim()
                .events_before_step(lab.sim().step_of_event(seq) + 1)
        });
    }

    #[test]
    fn the_walkthrough_can_be_followed_to_its_end() {
        let mut s = state().reduce(Msg::WalkOpen(true));
        let steps = s.walk.as_ref().as_ref().expect("parses").steps.clone();
        for (n, step) in steps.iter().enumerate() {
            s = s.reduce(Msg::WalkGo(n));
            for i in 0..step.actions.len() {
                s = s.reduce(Msg::WalkDo(i));
                s = s.reduce(Msg::Forward(50));
            }
            let mut ok = false;
            for _ in 0..60 {
                let held = {
                    let lab = s.lab.0.borrow();
                    step.wait.holds(lab.sim(), s.walk_since, &s.lookup)
                };
                if held {
                    ok = true;
                    break;
                }
                s = s.reduce(Msg::Forward(100));
            }
            assert!(ok, "step {} ({}) never held", n + 1, step.title);
        }
        let lab = s.lab.0.borrow();
        assert!(lab.sim().violations().is_empty());
        assert!(lab
            .sim()
            .migrations()
            .iter()
            .all(|m| m.phase == MigrationPhase::Done));
    }
}
