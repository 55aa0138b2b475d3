//! The page's state and the reducer that changes it. The simulator sits
//! behind one handle (`LabHandle`); `version` counts its changes so that
//! components can compare props cheaply.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use raftlab_core::kv::KvOp;
use raftlab_core::sim::{Action, SimConfig};
use raftlab_core::types::NodeId;
use yew::prelude::*;

use crate::lab::Lab;
use crate::model;

/// Slowest speed: simulated ms per wall-clock ms.
pub const SPEED_MIN: f64 = 0.001;
/// Fastest speed: real time.
pub const SPEED_MAX: f64 = 1.0;
/// The speed a page starts at: an election takes a few seconds to watch.
pub const SPEED_DEFAULT: f64 = 0.05;
/// Longest wall-clock frame counted, ms (a tab in the background stalls).
const MAX_FRAME_MS: f64 = 100.0;

/// The one handle on the simulator. Equal when it is the same lab.
#[derive(Clone)]
pub struct LabHandle(pub Rc<RefCell<Lab>>);

impl PartialEq for LabHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// What a reset builds.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// The seed.
    pub seed: u64,
    /// Voters at the start.
    pub nodes: u64,
    /// Settings.
    pub cfg: SimConfig,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            seed: 1,
            nodes: 5,
            cfg: SimConfig::default(),
        }
    }
}

/// A message for the user, shown until dismissed or replaced.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// The text.
    pub text: String,
    /// An error (refused action, bad setting, violation) or just news.
    pub error: bool,
}

/// Verbs that act on the selected node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeVerb {
    /// Crash it.
    Crash,
    /// Restart it.
    Restart,
    /// Fire its election timeout.
    Timeout,
    /// Hand it leadership.
    Transfer,
    /// Snapshot it.
    Snapshot,
    /// Remove it from the configuration.
    Remove,
    /// Promote a learner to voter.
    Promote,
}

/// What can happen to the page.
pub enum Msg {
    /// An animation frame: wall-clock ms since the last one.
    Frame(f64),
    /// Start the clock.
    Play,
    /// Stop the clock.
    Pause,
    /// Play or pause.
    TogglePlay,
    /// To the next event.
    Step,
    /// Back one event.
    StepBack,
    /// Jump ahead this many simulated ms.
    Forward(u64),
    /// Move the clock to a simulated time.
    Scrub(f64),
    /// Move to just after an event.
    GotoEvent(u64),
    /// Change the speed (simulated ms per wall ms).
    SetSpeed(f64),
    /// Select a node (or none).
    Select(Option<NodeId>),
    /// Act on the selected node.
    Node(NodeVerb),
    /// Add a node with the smallest free id, as learner or straight as voter.
    AddNode {
        /// Straight as voter.
        voter: bool,
    },
    /// Move a node to the next partition group.
    CycleGroup(NodeId),
    /// Split the network as picked.
    Partition,
    /// Add or take a node out of the picked new voter set.
    ToggleJoint(NodeId),
    /// Change the voters to the picked set.
    Joint,
    /// Cut or restore the one-way link.
    ToggleLink(NodeId, NodeId),
    /// Any simulator action (heal, drop a message, ...).
    Act(Action),
    /// A client operation.
    Client(KvOp, String, Option<String>),
    /// Latency slider (ms, the top of the range).
    SetLatency(u64),
    /// Loss slider, percent.
    SetLoss(u64),
    /// A fresh run.
    Reset(Setup),
    /// Show a problem found by a form.
    Problem(String),
    /// Hide the notice.
    Dismiss,
    /// Open or close the shortcut list.
    Help(bool),
    /// Presentation mode on or off.
    Present(bool),
    /// Feed filter: show message traffic.
    FeedMessages(bool),
    /// Feed filter: show heartbeats.
    FeedHeartbeats(bool),
}

/// The page's state.
#[derive(Clone, PartialEq)]
pub struct UiState {
    /// The simulator and visual clock.
    pub lab: LabHandle,
    /// Bumped on every change to the lab.
    pub version: u64,
    /// Whether the clock runs.
    pub playing: bool,
    /// Simulated ms per wall ms.
    pub speed: f64,
    /// The node the inspector and node controls are about.
    pub selected: Option<NodeId>,
    /// Partition picks: group number per node (0 = A).
    pub groups: BTreeMap<NodeId, u8>,
    /// The picked new voter set for a joint change.
    pub joint: BTreeSet<NodeId>,
    /// The latest message for the user.
    pub notice: Option<Notice>,
    /// The latest client operation: (client, seq).
    pub last_client: Option<(u64, u64)>,
    /// What the current run was built from.
    pub setup: Setup,
    /// The shortcut list is open.
    pub help: bool,
    /// Presentation mode (large type).
    pub present: bool,
    /// Feed shows messages.
    pub feed_messages: bool,
    /// Feed shows heartbeats.
    pub feed_heartbeats: bool,
    /// Violations already reported.
    pub violations_seen: usize,
    /// Latency slider position (ms).
    pub latency: u64,
    /// Loss slider position (%).
    pub loss: u64,
}

impl UiState {
    /// The page for `setup`, or the default run and a notice when `setup`
    /// is refused.
    pub fn new(setup: Setup, speed: f64, playing: bool, present: bool) -> UiState {
        let (lab, setup, notice) = match Lab::new(setup.seed, setup.nodes, setup.cfg.clone()) {
            Ok(lab) => (lab, setup, None),
            Err(e) => {
                let fallback = Setup::default();
                let lab = Lab::new(fallback.seed, fallback.nodes, fallback.cfg.clone())
                    .expect("the default settings are valid");
                let notice = Notice {
                    text: format!("Those settings were refused ({e}); running the defaults."),
                    error: true,
                };
                (lab, fallback, Some(notice))
            }
        };
        let latency = setup.cfg.latency_ms[1];
        let loss = (setup.cfg.loss * 100.0).round() as u64;
        UiState {
            lab: LabHandle(Rc::new(RefCell::new(lab))),
            version: 0,
            playing,
            speed: speed.clamp(SPEED_MIN, SPEED_MAX),
            selected: None,
            groups: BTreeMap::new(),
            joint: BTreeSet::new(),
            notice,
            last_client: None,
            setup,
            help: false,
            present,
            feed_messages: false,
            feed_heartbeats: false,
            violations_seen: 0,
            latency,
            loss,
        }
    }

    fn changed(&mut self) {
        self.version += 1;
        let first_new = {
            let lab = self.lab.0.borrow();
            let violations = lab.sim().violations();
            (violations.len() > self.violations_seen)
                .then(|| violations[self.violations_seen].clone())
        };
        if let Some(v) = first_new {
            // Stop the clock exactly at the event that broke the rule.
            self.playing = false;
            let mut lab = self.lab.0.borrow_mut();
            lab.goto_event(v.seq);
            self.notice = Some(Notice {
                text: format!(
                    "Safety violation ({}) at event #{}: {} — the clock stopped there.",
                    v.rule, v.seq, v.message
                ),
                error: true,
            });
        }
        self.violations_seen = self.lab.0.borrow().sim().violations().len();
    }

    fn act(&mut self, action: Action) {
        let result = self.lab.0.borrow_mut().act(action);
        match result {
            Ok(()) => {
                if matches!(&self.notice, Some(n) if !n.error) {
                    self.notice = None;
                }
            }
            Err(e) => {
                self.notice = Some(Notice {
                    text: format!("Not done: {e}."),
                    error: true,
                })
            }
        }
        self.changed();
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: true,
        });
    }

    fn node_verb(&mut self, verb: NodeVerb) {
        let Some(node) = self.selected else {
            return self.error("Select a node first: click it in the cluster.");
        };
        let action = match verb {
            NodeVerb::Crash => Action::Crash { node },
            NodeVerb::Restart => Action::Restart { node },
            NodeVerb::Timeout => Action::Timeout { node },
            NodeVerb::Transfer => Action::Transfer { to: node },
            NodeVerb::Snapshot => Action::Snapshot { node },
            NodeVerb::Remove => Action::Remove { node },
            NodeVerb::Promote => Action::AddVoter { node },
        };
        self.act(action);
    }

    fn client(&mut self, op: KvOp, key: String, value: Option<String>) {
        let key = key.trim().to_string();
        if key.is_empty() {
            return self.error("Type a key first.");
        }
        if op == KvOp::Put && value.as_deref().is_none_or(str::is_empty) {
            return self.error("A put needs a value.");
        }
        let value = if op == KvOp::Put { value } else { None };
        // The first client that is not busy sends it.
        let client = {
            let lab = self.lab.0.borrow();
            let views = lab.sim().clients();
            (1..)
                .find(|c| !views.iter().any(|v| v.id == *c && v.current.is_some()))
                .unwrap_or(1)
        };
        self.act(Action::Client {
            client,
            op,
            key,
            value,
        });
        let lab = self.lab.0.borrow();
        let seq = lab
            .sim()
            .clients()
            .into_iter()
            .find(|v| v.id == client)
            .and_then(|v| {
                v.current
                    .map(|op| op.seq)
                    .or_else(|| v.done.last().map(|op| op.seq))
            });
        drop(lab);
        self.last_client = seq.map(|s| (client, s));
    }
}

impl Reducible for UiState {
    type Action = Msg;

    fn reduce(self: Rc<Self>, msg: Msg) -> Rc<Self> {
        let mut s = (*self).clone();
        match msg {
            Msg::Frame(wall_ms) => {
                if !s.playing {
                    return self;
                }
                let dt = wall_ms.clamp(0.0, MAX_FRAME_MS) * s.speed;
                s.lab.0.borrow_mut().advance(dt);
                s.changed();
            }
            Msg::Play => s.playing = true,
            Msg::Pause => s.playing = false,
            Msg::TogglePlay => s.playing = !s.playing,
            Msg::Step => {
                s.playing = false;
                s.lab.0.borrow_mut().step();
                s.changed();
            }
            Msg::StepBack => {
                s.playing = false;
                s.lab.0.borrow_mut().step_back();
                s.changed();
            }
            Msg::Forward(ms) => {
                s.lab.0.borrow_mut().forward(ms);
                s.changed();
            }
            Msg::Scrub(t) => {
                s.playing = false;
                s.lab.0.borrow_mut().scrub(t);
                s.changed();
            }
            Msg::GotoEvent(seq) => {
                s.playing = false;
                s.lab.0.borrow_mut().goto_event(seq);
                s.changed();
            }
            Msg::SetSpeed(v) => {
                if v.is_finite() {
                    s.speed = v.clamp(SPEED_MIN, SPEED_MAX);
                }
            }
            Msg::Select(id) => s.selected = id,
            Msg::Node(verb) => s.node_verb(verb),
            Msg::AddNode { voter } => {
                let id = model::free_id(s.lab.0.borrow().sim());
                match id {
                    Some(node) => {
                        s.act(if voter {
                            Action::AddVoter { node }
                        } else {
                            Action::AddLearner { node }
                        });
                        s.selected = Some(node);
                    }
                    None => s.error("All nine node ids are in use."),
                }
            }
            Msg::CycleGroup(id) => {
                let g = s.groups.get(&id).copied().unwrap_or(0);
                s.groups.insert(id, (g + 1) % 3);
            }
            Msg::Partition => {
                let ids: Vec<NodeId> = s.lab.0.borrow().sim().nodes().keys().copied().collect();
                let mut groups: Vec<Vec<NodeId>> = vec![Vec::new(); 3];
                for id in ids {
                    let g = s.groups.get(&id).copied().unwrap_or(0) as usize;
                    groups[g.min(2)].push(id);
                }
                groups.retain(|g| !g.is_empty());
                if groups.len() < 2 {
                    s.error("Put at least one node in another group first (click the A/B chips).");
                } else {
                    s.act(Action::Partition { groups });
                }
            }
            Msg::ToggleJoint(id) => {
                if !s.joint.remove(&id) {
                    s.joint.insert(id);
                }
            }
            Msg::Joint => {
                if s.joint.is_empty() {
                    s.error("Pick the new voters first (the numbered chips).");
                } else {
                    let voters = s.joint.iter().copied().collect();
                    s.act(Action::Joint { voters });
                }
            }
            Msg::ToggleLink(from, to) => {
                let cut = s.lab.0.borrow().sim().cut_links().contains(&(from, to));
                s.act(if cut {
                    Action::Restore { from, to }
                } else {
                    Action::Cut { from, to }
                });
            }
            Msg::Act(action) => s.act(action),
            Msg::Client(op, key, value) => s.client(op, key, value),
            Msg::SetLatency(ms) => {
                let hi = ms.clamp(1, 1000);
                let lo = (hi / 5).max(1);
                s.latency = hi;
                s.act(Action::Network {
                    latency_ms: Some([lo, hi]),
                    loss: None,
                    duplicate: None,
                    reorder: None,
                });
            }
            Msg::SetLoss(pct) => {
                let pct = pct.min(100);
                s.loss = pct;
                s.act(Action::Network {
                    latency_ms: None,
                    loss: Some(pct as f64 / 100.0),
                    duplicate: None,
                    reorder: None,
                });
            }
            Msg::Reset(setup) => match Lab::new(setup.seed, setup.nodes, setup.cfg.clone()) {
                Ok(lab) => {
                    s.lab = LabHandle(Rc::new(RefCell::new(lab)));
                    s.latency = setup.cfg.latency_ms[1];
                    s.loss = (setup.cfg.loss * 100.0).round() as u64;
                    s.setup = setup;
                    s.selected = None;
                    s.groups.clear();
                    s.joint.clear();
                    s.last_client = None;
                    s.violations_seen = 0;
                    s.notice = None;
                    s.changed();
                }
                Err(e) => s.error(format!("Cannot reset: {e}.")),
            },
            Msg::Problem(text) => s.error(text),
            Msg::Dismiss => s.notice = None,
            Msg::Help(open) => s.help = open,
            Msg::Present(on) => s.present = on,
            Msg::FeedMessages(on) => s.feed_messages = on,
            Msg::FeedHeartbeats(on) => s.feed_heartbeats = on,
        }
        Rc::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Rc<UiState> {
        Rc::new(UiState::new(Setup::default(), SPEED_DEFAULT, false, false))
    }

    #[test]
    fn node_verbs_need_a_selection() {
        let s = state().reduce(Msg::Node(NodeVerb::Crash));
        assert!(s.notice.as_ref().is_some_and(|n| n.error));
    }

    #[test]
    fn refused_actions_are_notices_not_panics() {
        let s = state().reduce(Msg::Select(Some(1)));
        let s = s.reduce(Msg::Node(NodeVerb::Restart));
        assert!(s
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("not crashed")));
    }

    #[test]
    fn bad_settings_keep_the_run() {
        let s = state();
        let bad = Setup {
            nodes: 12,
            ..Setup::default()
        };
        let s2 = s.clone().reduce(Msg::Reset(bad));
        assert!(s2.lab == s.lab);
        assert!(s2.notice.is_some());
    }

    #[test]
    fn a_put_reaches_a_result() {
        let s = state().reduce(Msg::Forward(1000));
        let s = s.reduce(Msg::Client(KvOp::Put, "x".into(), Some("1".into())));
        let (client, seq) = s.last_client.expect("invoked");
        let s = s.reduce(Msg::Forward(500));
        let lab = s.lab.0.borrow();
        let view = lab
            .sim()
            .clients()
            .into_iter()
            .find(|v| v.id == client)
            .unwrap();
        assert!(view.done.iter().any(|op| op.seq == seq));
    }

    #[test]
    fn partition_needs_two_groups() {
        let s = state().reduce(Msg::Partition);
        assert!(s.notice.is_some());
        let s = s.reduce(Msg::CycleGroup(1)).reduce(Msg::Partition);
        assert!(s.lab.0.borrow().sim().groups().is_some());
    }
}
