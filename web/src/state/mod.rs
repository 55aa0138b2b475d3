//! The single-group page's state and the reducer that changes it, in the
//! shape of yew's todomvc: the state and its action (`Msg`, grouped by
//! concern in `msg`) in a `Reducible`, with one small handler per group of
//! messages (`clock`, `cluster`, `lesson`, `session`, and the view's and
//! breakpoints' below). The simulator sits behind one handle (`LabHandle`);
//! `UiState::rev` is the one revision stamp components compare to know
//! whether the run changed (`refresh`). The words sharded mode shares are
//! in `crate::vocab`.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use raftlab_core::check::Violation;
use raftlab_core::lesson::{Feedback, LessonIndexEntry, StepStatus};
use raftlab_core::sim::{Action, SimConfig};
use raftlab_core::types::NodeId;
use yew::prelude::*;

use crate::clock::Clock;
use crate::lab::{Lab, RevisionKey};
use crate::vocab::{Handle, Notice, Selection, SPEED_MAX, SPEED_MIN};

mod clock;
mod cluster;
mod lesson;
mod msg;
mod refresh;
mod session;
#[cfg(test)]
mod tests;

pub use lesson::LessonProblems;
pub use msg::{BreakpointMsg, ClockMsg, LessonMsg, Msg, NetMsg, NodeMsg, SessionMsg, ViewMsg};
pub use refresh::{Stamp, GROUPS, G_FEED, G_LOGS, G_PANELS, G_SPACETIME};

/// The handle on this view's lab.
pub type LabHandle = Handle<Lab>;

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

/// Where the current run came from, when it was opened rather than made.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// "link", "session file", "trace".
    pub kind: &'static str,
    /// What it says about the run.
    pub text: String,
    /// For a trace: whether the replay matched the file event for event.
    pub matched: Option<bool>,
}

/// The page's state.
#[derive(Clone, PartialEq)]
pub struct UiState {
    /// The simulator and visual clock.
    pub lab: LabHandle,
    /// Events of history kept (`lab::HISTORY_LIMIT` unless the URL says).
    pub history_limit: u64,
    /// The run's revision: bumped when what the page shows of it may have
    /// changed other than by the visual time moving on (an event, a move
    /// in the history, a branch, or any message but a frame).
    pub rev: u64,
    /// The lab's state when `rev` was last bumped (`Lab::revision_key`).
    rev_key: RevisionKey,
    /// What each panel group was last drawn from (see `refresh::GROUPS`).
    pub shown: [Stamp; GROUPS],
    /// Wall ms since each panel group's last refresh, while playing.
    since_refresh: [f64; GROUPS],
    /// Frames since each panel group's last refresh, while playing.
    frames_since_refresh: [u32; GROUPS],
    /// `refresh::logs_digest` of what the logs last drew.
    logs_digest: u64,
    /// Whether the clock runs.
    pub playing: bool,
    /// Simulated ms per wall ms.
    pub speed: f64,
    /// The node the inspector and node controls are about.
    pub selected: Option<NodeId>,
    /// Partition picks: group number per node (0 = A). They follow the
    /// network: a partition made by a lesson, a session or an action
    /// resets them to its groups, and healing to all A.
    pub groups: BTreeMap<NodeId, u8>,
    /// The network's partition when the picks last followed it.
    seen_partition: Option<Vec<Vec<NodeId>>>,
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
    /// Presenting, the panels beyond the ring and the lesson are shown.
    pub present_panels: bool,
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
    /// The lessons listed in `lessons/index.json` (empty until fetched).
    pub lessons: Vec<LessonIndexEntry>,
    /// Where the lesson's step stands, when a lesson is playing.
    pub lesson_status: Option<StepStatus>,
    /// Feedback on the current step's answer.
    pub feedback: Option<Feedback>,
    /// Where the lesson playing came from when it is a teacher's own (a
    /// file's name or an address), not one of the page's.
    pub own_lesson: Option<String>,
    /// The problems of the lesson file last refused, to list.
    pub lesson_problems: Option<LessonProblems>,
    /// The message or event picked in any view.
    pub linked: Option<Selection>,
    /// Where the run came from, when opened from a link or a file.
    pub source: Option<Source>,
    /// The space-time diagram's window, simulated ms.
    pub window_ms: f64,
    /// Break-it mode: the panel of deliberate bugs is open.
    pub breakit: bool,
    /// The run's first violation, kept when the clock goes back before it
    /// (break-it mode explains it from here).
    pub first_violation: Option<Violation>,
}

/// Narrowest and widest space-time window, simulated ms.
pub const WINDOW_MIN: f64 = 50.0;
/// Widest space-time window, simulated ms.
pub const WINDOW_MAX: f64 = 60_000.0;

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
            rev_key: lab.revision_key(),
            logs_digest: refresh::logs_digest(lab.sim()),
            shown: [Stamp {
                rev: 0,
                vt: lab.vt(),
            }; GROUPS],
            lab: Handle::new(lab),
            rev: 0,
            history_limit: crate::lab::HISTORY_LIMIT,
            since_refresh: [0.0; GROUPS],
            frames_since_refresh: [0; GROUPS],
            playing,
            speed: speed.clamp(SPEED_MIN, SPEED_MAX),
            selected: None,
            groups: BTreeMap::new(),
            seen_partition: None,
            joint: BTreeSet::new(),
            notice,
            last_client: None,
            setup,
            help: false,
            present,
            present_panels: false,
            feed_messages: false,
            feed_heartbeats: false,
            violations_seen: 0,
            latency,
            loss,
            lessons: Vec::new(),
            lesson_status: None,
            feedback: None,
            own_lesson: None,
            lesson_problems: None,
            linked: None,
            source: None,
            window_ms: 1000.0,
            breakit: false,
            first_violation: None,
        }
    }

    /// Bounds the history kept to `limit` events (at least 1,000), for this
    /// run and the next ones.
    pub fn set_history_limit(&mut self, limit: u64) {
        self.history_limit = limit.max(1000);
        self.lab
            .0
            .borrow_mut()
            .set_history_limit(self.history_limit);
    }

    /// Puts `lab` in place of the current run, forgetting what belonged
    /// to the old one.
    fn install(&mut self, lab: Lab, setup: Setup) {
        let breakpoints = self.lab.0.borrow().breakpoints().to_vec();
        let mut lab = lab;
        lab.set_breakpoints(breakpoints);
        lab.set_history_limit(self.history_limit);
        self.lab = Handle::new(lab);
        self.latency = setup.cfg.latency_ms[1];
        self.loss = (setup.cfg.loss * 100.0).round() as u64;
        self.setup = setup;
        self.selected = None;
        self.groups.clear();
        self.joint.clear();
        self.last_client = None;
        self.violations_seen = 0;
        self.notice = None;
        self.feedback = None;
        self.linked = None;
        self.source = None;
        self.lesson_status = None;
        self.own_lesson = None;
        self.first_violation = None;
        self.changed();
    }

    /// Notes what an action, a move or a new run changed beyond the lab
    /// itself: the first new safety violation stops the clock at its event
    /// with a notice (unless the lesson's step expects it: its panel
    /// explains it and the clock goes on), and a lesson step whose
    /// condition now holds stops it too.
    fn changed(&mut self) {
        let (first_any, first_new) = {
            let lab = self.lab.0.borrow();
            let new = lab
                .sim()
                .violations()
                .get(self.violations_seen..)
                .unwrap_or(&[]);
            let expected = |rule| lab.lesson().is_some_and(|r| r.expects_violation(rule));
            let first_new = new.iter().find(|v| !expected(v.rule)).cloned();
            (new.first().cloned(), first_new)
        };
        if self.first_violation.is_none() {
            self.first_violation = first_any;
        }
        if let Some(v) = first_new {
            // Stop the clock exactly at the event that broke the rule. A
            // lesson stays where its step left the run (its next step acts
            // from there), with the event picked instead.
            self.playing = false;
            let mut lab = self.lab.0.borrow_mut();
            if lab.lesson().is_some() {
                self.linked = Some(Selection::Event(v.seq));
            } else {
                lab.goto_event(v.seq);
            }
            self.notice = Some(Notice {
                text: format!(
                    "Safety violation ({}) at event #{}: {} — the clock stopped {}.",
                    v.rule,
                    v.seq,
                    v.message,
                    if lab.lesson().is_some() {
                        "right after it"
                    } else {
                        "there"
                    }
                ),
                error: true,
            });
        }
        self.violations_seen = self.lab.0.borrow().sim().violations().len();
        let status = self.lab.0.borrow_mut().lesson_status();
        if status != self.lesson_status {
            if matches!(
                status,
                Some(StepStatus::Done | StepStatus::Failed(_) | StepStatus::Finished)
            ) && self.lesson_status == Some(StepStatus::Waiting)
            {
                // The step's condition holds: stop there and offer "Next".
                self.playing = false;
            }
            self.lesson_status = status;
        }
    }

    /// Applies a simulator action; a refusal becomes the notice.
    pub(crate) fn act(&mut self, action: Action) {
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

    /// Shows `text` as an error notice.
    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: true,
        });
    }

    /// One handler per group of messages.
    fn apply(&mut self, msg: Msg) {
        match msg {
            Msg::Clock(m) => self.on_clock(m),
            Msg::Node(m) => self.on_node(m),
            Msg::Net(m) => self.on_net(m),
            Msg::Act(action) => self.act(action),
            Msg::Client(op, key, value) => self.client(op, key, value),
            Msg::Lesson(m) => self.on_lesson(m),
            Msg::Session(m) => self.on_session(m),
            Msg::Breakpoint(m) => self.on_breakpoint(m),
            Msg::View(m) => self.on_view(m),
        }
    }

    /// Resets the partition picks to the network's groups when the
    /// partition changed by any path, so the chips never show a network
    /// that is not there.
    fn follow_network(&mut self) {
        let lab = self.lab.0.borrow();
        let now = lab.sim().groups();
        if now == self.seen_partition.as_ref() {
            return;
        }
        self.groups = now
            .into_iter()
            .flatten()
            .enumerate()
            .flat_map(|(g, ids)| ids.iter().map(move |&id| (id, g.min(2) as u8)))
            .collect();
        self.seen_partition = now.cloned();
    }

    /// How the page shows things.
    fn on_view(&mut self, m: ViewMsg) {
        match m {
            ViewMsg::Problem(text) => self.error(text),
            ViewMsg::Dismiss => self.notice = None,
            ViewMsg::Help(open) => self.help = open,
            ViewMsg::Present(on) => {
                self.present = on;
                // Each time presenting starts, the panels start folded.
                self.present_panels = false;
            }
            ViewMsg::PresentPanels(on) => self.present_panels = on,
            ViewMsg::FeedMessages(on) => self.feed_messages = on,
            ViewMsg::FeedHeartbeats(on) => self.feed_heartbeats = on,
            ViewMsg::Link(sel) => self.linked = sel,
            ViewMsg::Zoom(ms) => {
                if ms.is_finite() {
                    self.window_ms = ms.clamp(WINDOW_MIN, WINDOW_MAX);
                }
            }
            ViewMsg::BreakIt(on) => self.breakit = on,
        }
    }
}

impl Reducible for UiState {
    type Action = Msg;

    fn reduce(self: Rc<Self>, msg: Msg) -> Rc<Self> {
        let frame = match msg {
            // A frame after the clock stopped changes nothing: the same
            // state, so nothing re-renders.
            Msg::Clock(ClockMsg::Frame(_)) if !self.playing => return self,
            Msg::Clock(ClockMsg::Frame(wall_ms)) => Some(wall_ms),
            _ => None,
        };
        let mut s = (*self).clone();
        s.apply(msg);
        s.follow_network();
        s.settle(frame);
        Rc::new(s)
    }
}
