//! The page's state and the reducer that changes it. The simulator sits
//! behind one handle (`LabHandle`); `version` counts its changes so that
//! components can compare props cheaply.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use raftlab_core::kv::KvOp;
use raftlab_core::lesson::{Breakpoint, Feedback, Lesson, LessonIndexEntry, StepStatus};
use raftlab_core::session::Session;
use raftlab_core::sim::{Action, SimConfig};
use raftlab_core::trace::{EventKind, TraceEvent};
use raftlab_core::types::NodeId;
use yew::prelude::*;

use crate::clock::{self, Clock, Move};
use crate::lab::Lab;
use crate::model;

/// Slowest speed: simulated ms per wall-clock ms.
pub const SPEED_MIN: f64 = 0.001;
/// Fastest speed: real time.
pub const SPEED_MAX: f64 = 1.0;
/// The speed a page starts at: an election takes a few seconds to watch.
pub const SPEED_DEFAULT: f64 = 0.05;
/// While the clock plays, the panels that follow the simulator's events
/// (rather than the animation) are redrawn at most this often, wall ms:
/// at full speed events happen on every frame, and redrawing the logs, the
/// feed and the space-time diagram 60 times a second would miss the frame
/// budget. When the clock stops, or the user acts, they are redrawn at once.
pub const REFRESH_MS: f64 = 100.0;
/// Fewest frames from one refresh to the next: when frames are slow (a
/// busy machine), at least half of them only move the ring.
pub const REFRESH_FRAMES: u32 = 2 * GROUPS as u32;
/// The panel groups, each redrawn on its own frame of a refresh so that no
/// single frame redraws them all: the space-time diagram; the logs and the
/// feed; the other panels (controls, quorums, inspector, safety, lesson...).
pub const GROUPS: usize = 3;
/// The space-time diagram's group.
pub const G_SPACETIME: usize = 0;
/// The logs' and the feed's group.
pub const G_LISTS: usize = 1;
/// The other panels' group.
pub const G_PANELS: usize = 2;

/// The one handle on a view's lab (the simulator and its clock). Equal
/// when it is the same lab.
pub struct Handle<L>(pub Rc<RefCell<L>>);

impl<L> Handle<L> {
    /// A handle on a new lab.
    pub fn new(lab: L) -> Self {
        Handle(Rc::new(RefCell::new(lab)))
    }
}

// By hand: a handle is cloned, not its lab.
impl<L> Clone for Handle<L> {
    fn clone(&self) -> Self {
        Handle(Rc::clone(&self.0))
    }
}

impl<L> PartialEq for Handle<L> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

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

/// A message for the user, shown until dismissed or replaced (in both
/// views).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// The text.
    pub text: String,
    /// An error (refused action, bad setting, violation) or just news.
    pub error: bool,
}

/// What is picked in the space-time diagram, the feed, the ring or the
/// logs, highlighted in all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// A message, by its trace id (its send, delivery or drop).
    Message(u64),
    /// An event, by its seq.
    Event(u64),
}

impl Selection {
    /// The node an event is about (the sender, for a send), if any.
    pub fn node_of(e: &TraceEvent) -> Option<raftlab_core::types::NodeId> {
        match &e.kind {
            EventKind::Send { from, .. } => Some(*from),
            kind => kind.node(),
        }
    }

    /// The log cells an event or message is about: (node, index).
    pub fn cells(e: &TraceEvent) -> Vec<(raftlab_core::types::NodeId, u64)> {
        match &e.kind {
            EventKind::Append { node, index, .. }
            | EventKind::Commit { node, index }
            | EventKind::Apply { node, index, .. } => vec![(*node, *index)],
            EventKind::Send {
                to,
                body:
                    raftlab_core::trace::SendBody::Message(
                        raftlab_core::types::MessageBody::AppendEntries(a),
                    ),
                ..
            } => a.entries.iter().map(|en| (*to, en.index)).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `e` is the selection or one of its events.
    pub fn covers(&self, e: &TraceEvent) -> bool {
        match *self {
            Selection::Event(seq) => e.seq == seq,
            Selection::Message(id) => matches!(
                e.kind,
                EventKind::Send { id: i, .. } | EventKind::Deliver { id: i, .. } | EventKind::Drop { id: i, .. } if i == id
            ),
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

/// Verbs that act on the selected node (in both views; each maps them to
/// its own simulator's actions).
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
    /// Remove it from the configuration (its group's, in sharded mode).
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
    /// The lesson list arrived (or could not be read).
    LessonIndex(Result<Vec<LessonIndexEntry>, String>),
    /// Play this lesson from its start.
    StartLesson(Box<Lesson>),
    /// Leave the lesson (the run stays, free to explore).
    ExitLesson,
    /// The student picks a choice of the step's question.
    Answer(usize),
    /// Run the current step to its end at once.
    FinishStep,
    /// To the next step.
    NextStep,
    /// Back to the previous step: the lesson replays to where it began.
    BackStep,
    /// Pick a message or an event (or nothing) in any view.
    Link(Option<Selection>),
    /// A file the user opened or dropped: a session or a trace.
    OpenFile {
        /// Its name.
        name: String,
        /// Its text.
        text: String,
    },
    /// A session to play (from a link, a file, or the break-it hunt).
    OpenSession(Box<Session>, &'static str, String),
    /// Add a breakpoint.
    AddBreakpoint(Breakpoint),
    /// Remove the breakpoint at this position of the list.
    RemoveBreakpoint(usize),
    /// The space-time diagram's window, simulated ms.
    Zoom(f64),
    /// Break-it mode on or off.
    BreakIt(bool),
}

/// The page's state.
#[derive(Clone, PartialEq)]
pub struct UiState {
    /// The simulator and visual clock.
    pub lab: LabHandle,
    /// Bumped on every change to the lab (every animation frame too).
    pub version: u64,
    /// Events of history kept (`lab::HISTORY_LIMIT` unless the URL says).
    pub history_limit: u64,
    /// Bumped when what the panels show may have changed: an event, a
    /// move in the history, a branch, or any message but a frame.
    pub rev: u64,
    /// The lab's state when `rev` was last bumped (`Lab::revision_key`).
    rev_key: crate::lab::RevisionKey,
    /// What each panel group was last drawn from (see `GROUPS`).
    pub shown: [Shown; GROUPS],
    /// Wall ms since the last refresh of the panel groups, while playing.
    since_refresh: f64,
    /// Frames since the last refresh began, while playing.
    frames_since_refresh: u32,
    /// The group the next frame refreshes, during a refresh.
    refreshing: Option<usize>,
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
    /// The lessons listed in `lessons/index.json` (empty until fetched).
    pub lessons: Vec<LessonIndexEntry>,
    /// Where the lesson's step stands, when a lesson is playing.
    pub lesson_status: Option<StepStatus>,
    /// Feedback on the current step's answer.
    pub feedback: Option<Feedback>,
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
    pub first_violation: Option<raftlab_core::check::Violation>,
}

/// What a panel group was drawn from: its props carry this, so it is left
/// alone while neither changes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Shown {
    /// `UiState::rev` then.
    pub rev: u64,
    /// The visual time then, simulated ms.
    pub vt: f64,
}

/// Narrowest and widest space-time window, simulated ms.
pub const WINDOW_MIN: f64 = 50.0;
/// Widest space-time window, simulated ms.
pub const WINDOW_MAX: f64 = 60_000.0;

/// A client operation as the user typed it (in both views): the key
/// trimmed, and the value for a put only; or what is missing.
pub fn typed_op(
    op: &KvOp,
    key: String,
    value: Option<String>,
) -> Result<(String, Option<String>), &'static str> {
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err("Type a key first.");
    }
    let put = *op == KvOp::Put;
    if put && value.as_deref().is_none_or(str::is_empty) {
        return Err("A put needs a value.");
    }
    Ok((key, if put { value } else { None }))
}

/// The partition picked with the chips (in both views): the nodes `ids` by
/// the side picked for each (0, 1 or 2; unpicked: 0), the empty sides left
/// out; `None` unless that splits them.
pub fn picked_partition(
    ids: impl IntoIterator<Item = NodeId>,
    picks: &BTreeMap<NodeId, u8>,
) -> Option<Vec<Vec<NodeId>>> {
    let mut sides: Vec<Vec<NodeId>> = vec![Vec::new(); 3];
    for id in ids {
        let side = picks.get(&id).copied().unwrap_or(0) as usize;
        sides[side.min(2)].push(id);
    }
    sides.retain(|side| !side.is_empty());
    (sides.len() >= 2).then_some(sides)
}

/// The lesson the lab plays, if any.
fn lesson_of(lab: &Lab) -> Option<Lesson> {
    lab.lesson().map(|r| r.lesson().clone())
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
            rev_key: lab.revision_key(),
            shown: [Shown {
                rev: 0,
                vt: lab.vt(),
            }; GROUPS],
            lab: Handle::new(lab),
            version: 0,
            rev: 0,
            history_limit: crate::lab::HISTORY_LIMIT,
            since_refresh: 0.0,
            frames_since_refresh: 0,
            refreshing: None,
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
            lessons: Vec::new(),
            lesson_status: None,
            feedback: None,
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
        self.first_violation = None;
        self.changed();
    }

    /// Plays `lesson` from its start.
    fn start_lesson(&mut self, lesson: Lesson) {
        let setup = Setup {
            seed: lesson.setup.seed,
            nodes: lesson.setup.nodes,
            cfg: lesson.setup.config.clone(),
        };
        match Lab::with_lesson(lesson) {
            Ok(lab) => {
                self.install(lab, setup);
                self.playing = false;
            }
            Err(e) => self.error(format!("This lesson cannot start: {e}.")),
        }
    }

    /// Plays `lesson` again from its start up to the beginning of step
    /// `target` (0-based), giving the answers the student gave (or the
    /// right ones): "back" in a lesson.
    fn replay_lesson_to(&mut self, lesson: Lesson, target: usize) {
        let answers: Vec<Option<usize>> = {
            let lab = self.lab.0.borrow();
            (0..lesson.steps.len())
                .map(|i| lab.lesson().and_then(|r| r.answer_of(i)))
                .collect()
        };
        let setup = Setup {
            seed: lesson.setup.seed,
            nodes: lesson.setup.nodes,
            cfg: lesson.setup.config.clone(),
        };
        let rights: Vec<usize> = lesson
            .steps
            .iter()
            .map(|s| s.question.as_ref().map_or(0, |q| q.answer))
            .collect();
        let mut lab = match Lab::with_lesson(lesson) {
            Ok(lab) => lab,
            Err(e) => return self.error(format!("This lesson cannot start: {e}.")),
        };
        for (i, right) in rights.iter().enumerate().take(target) {
            if lab.lesson_holds() {
                lab.answer(answers[i].unwrap_or(*right));
            }
            lab.finish_step();
            if lab.lesson_status() != Some(StepStatus::Done) {
                break;
            }
            lab.next_step();
        }
        self.install(lab, setup);
        self.playing = false;
    }

    /// Opens a session: the run it describes, replayed to where it was.
    pub fn open_session(&mut self, session: &Session, kind: &'static str, origin: &str) {
        match session.build() {
            Ok(sim) => {
                let setup = Setup {
                    seed: session.seed,
                    nodes: session.nodes,
                    cfg: session.config.clone(),
                };
                let mut lab = Lab::from_sim(sim);
                lab.forward(session.until);
                self.install(lab, setup);
                self.playing = false;
                self.source = Some(Source {
                    kind,
                    text: format!(
                        "{origin}: seed {}, {} nodes, {} actions, replayed to {} ms",
                        session.seed,
                        session.nodes,
                        session.actions.len(),
                        session.until
                    ),
                    matched: None,
                });
            }
            Err(e) => self.error(format!(
                "Could not open the {kind}: {e}. The current run is unchanged."
            )),
        }
    }

    /// Opens a trace (`raftlab run --trace`): the run replayed from its
    /// header and actions, checked against the file event for event, and
    /// put back at time 0 with the whole run ahead as known future.
    fn open_trace(&mut self, name: &str, text: &str) {
        let session = match Session::from_trace_str(text) {
            Ok(s) => s,
            Err(e) => {
                return self.error(format!(
                    "Could not load the trace {name}: {e}. The current run is unchanged."
                ))
            }
        };
        let mut sim = match session.build() {
            Ok(sim) => sim,
            Err(e) => {
                return self.error(format!(
                    "Could not load the trace {name}: {e}. The current run is unchanged."
                ))
            }
        };
        sim.run_until(session.until);
        let file_events: Vec<&str> = text
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let first_difference = sim
            .events()
            .iter()
            .map(TraceEvent::to_line)
            .zip(file_events.iter())
            .position(|(a, b)| {
                serde_json::from_str::<serde_json::Value>(&a).ok()
                    != serde_json::from_str::<serde_json::Value>(b).ok()
            });
        let same_length = sim.events().len() == file_events.len();
        let matched = first_difference.is_none() && same_length;
        let events = sim.events().len();
        sim.goto_step(0);
        let setup = Setup {
            seed: session.seed,
            nodes: session.nodes,
            cfg: session.config.clone(),
        };
        self.install(Lab::from_sim(sim), setup);
        self.playing = false;
        let verdict = if matched {
            format!("the replay matches the file event for event ({events} events)")
        } else {
            match first_difference {
                Some(i) => format!("the replay differs from the file at event #{}", i + 1),
                None => format!(
                    "the replay has {events} events, the file {}",
                    file_events.len()
                ),
            }
        };
        self.source = Some(Source {
            kind: "trace",
            text: format!(
                "{name}: seed {}, {} nodes, {} actions, {} ms; {verdict}. Press play or step to replay it.",
                session.seed,
                session.nodes,
                session.actions.len(),
                session.until
            ),
            matched: Some(matched),
        });
    }

    /// A file the user opened: a trace if its first line is a trace
    /// header, else a session file.
    fn open_file(&mut self, name: &str, text: &str) {
        let first = text.lines().next().unwrap_or_default();
        if first.contains("\"raftlab-trace\"") {
            self.open_trace(name, text);
        } else {
            match Session::from_json(text) {
                Ok(session) => self.open_session(&session, "session file", name),
                Err(e) => self.error(format!(
                    "Could not open {name}: {e}. The current run is unchanged."
                )),
            }
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
            if self.first_violation.is_none() {
                self.first_violation = Some(v.clone());
            }
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

    /// Moves the run in time as both views do; after it went forward, a
    /// breakpoint may stop it.
    fn clock(&mut self, m: Move) {
        m.apply(&mut *self.lab.0.borrow_mut(), &mut self.playing, self.speed);
        self.changed();
        if let Some(text) = self.lab.0.borrow().stalled().map(clock::stall_notice) {
            self.notice = Some(Notice { text, error: true });
        }
        if m.runs_forward() {
            self.breakpoints();
        }
    }

    /// After the clock ran forward: a breakpoint that fired stops it there.
    fn breakpoints(&mut self) {
        let hit = self.lab.0.borrow_mut().check_breakpoints();
        if let Some((seq, what)) = hit {
            self.playing = false;
            self.linked = Some(Selection::Event(seq));
            self.notice = Some(Notice {
                text: format!("Breakpoint: {what} (event #{seq}). The clock stopped there."),
                error: false,
            });
            self.changed();
        }
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
        let frame = match msg {
            // A frame after the clock stopped changes nothing: the same
            // state, so nothing re-renders.
            Msg::Frame(_) if !self.playing => return self,
            Msg::Frame(wall_ms) => Some(wall_ms),
            _ => None,
        };
        let mut s = (*self).clone();
        s.apply(msg);
        s.settle(frame);
        Rc::new(s)
    }
}

impl UiState {
    /// Bumps `rev` if the panels' content may have changed, and decides
    /// which panel groups are redrawn: all of them at once unless the
    /// clock is playing; while it plays, one group per frame every
    /// `REFRESH_MS` of wall time (`frame`: the frame's wall ms).
    fn settle(&mut self, frame: Option<f64>) {
        let (key, vt) = {
            let lab = self.lab.0.borrow();
            (lab.revision_key(), lab.vt())
        };
        if frame.is_none() || key != self.rev_key {
            self.rev += 1;
            self.rev_key = key;
        }
        let now = Shown { rev: self.rev, vt };
        match frame {
            Some(wall_ms) if self.playing => {
                self.since_refresh += wall_ms.max(0.0);
                self.frames_since_refresh = self.frames_since_refresh.saturating_add(1);
                if self.refreshing.is_none()
                    && self.since_refresh >= REFRESH_MS
                    && self.frames_since_refresh >= REFRESH_FRAMES
                {
                    self.since_refresh = 0.0;
                    self.frames_since_refresh = 0;
                    self.refreshing = Some(0);
                }
                if let Some(g) = self.refreshing {
                    self.shown[g] = now;
                    self.refreshing = (g + 1 < GROUPS).then_some(g + 1);
                }
            }
            _ => {
                self.shown = [now; GROUPS];
                self.since_refresh = 0.0;
                self.frames_since_refresh = 0;
                self.refreshing = None;
            }
        }
    }

    fn apply(&mut self, msg: Msg) {
        let s = self;
        match msg {
            Msg::Frame(wall_ms) => s.clock(Move::Frame(wall_ms)),
            Msg::Play => s.playing = true,
            Msg::Pause => s.playing = false,
            Msg::TogglePlay => s.playing = !s.playing,
            Msg::Step => s.clock(Move::Step),
            Msg::StepBack => s.clock(Move::StepBack),
            Msg::Forward(ms) => s.clock(Move::Forward(ms)),
            // Only this view scrubs.
            Msg::Scrub(t) => {
                s.playing = false;
                s.lab.0.borrow_mut().scrub(t);
                s.changed();
            }
            Msg::GotoEvent(seq) => s.clock(Move::GotoEvent(seq)),
            Msg::SetSpeed(v) => s.speed = clock::speed(v, s.speed),
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
                match picked_partition(ids, &s.groups) {
                    Some(groups) => s.act(Action::Partition { groups }),
                    None => s.error(
                        "Put at least one node in another group first (click the A/B chips).",
                    ),
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
                Ok(lab) => s.install(lab, setup),
                Err(e) => s.error(format!("Cannot reset: {e}.")),
            },
            Msg::Problem(text) => s.error(text),
            Msg::Dismiss => s.notice = None,
            Msg::Help(open) => s.help = open,
            Msg::Present(on) => s.present = on,
            Msg::FeedMessages(on) => s.feed_messages = on,
            Msg::FeedHeartbeats(on) => s.feed_heartbeats = on,
            Msg::LessonIndex(Ok(list)) => s.lessons = list,
            Msg::LessonIndex(Err(e)) => s.error(format!("The lesson list is unavailable: {e}.")),
            Msg::StartLesson(lesson) => s.start_lesson(*lesson),
            Msg::ExitLesson => {
                s.lab.0.borrow_mut().leave_lesson();
                s.lesson_status = None;
                s.feedback = None;
                s.version += 1;
            }
            Msg::Answer(choice) => {
                let fb = s.lab.0.borrow_mut().answer(choice);
                if let Some(fb) = fb {
                    s.feedback = Some(fb);
                    // Predicted: now watch what really happens.
                    s.playing = true;
                    s.changed();
                }
            }
            Msg::FinishStep => {
                s.lab.0.borrow_mut().finish_step();
                s.changed();
                s.playing = false;
            }
            Msg::NextStep => {
                let status = s.lab.0.borrow_mut().next_step();
                s.feedback = None;
                if let Some(StepStatus::Failed(why)) = &status {
                    s.error(format!("This step cannot run: {why}"));
                }
                s.changed();
                let holds = s.lab.0.borrow().lesson_holds();
                s.playing = !holds && status == Some(StepStatus::Waiting);
            }
            Msg::BackStep => {
                let lesson = lesson_of(&s.lab.0.borrow());
                if let Some(lesson) = lesson {
                    let back = s
                        .lab
                        .0
                        .borrow()
                        .lesson()
                        .map_or(0, |r| r.step_index().saturating_sub(1));
                    s.replay_lesson_to(lesson, back);
                }
            }
            Msg::Link(sel) => s.linked = sel,
            Msg::OpenFile { name, text } => s.open_file(&name, &text),
            Msg::OpenSession(session, kind, origin) => s.open_session(&session, kind, &origin),
            Msg::AddBreakpoint(bp) => {
                let mut list = s.lab.0.borrow().breakpoints().to_vec();
                if !list.contains(&bp) {
                    list.push(bp);
                }
                s.lab.0.borrow_mut().set_breakpoints(list);
                s.version += 1;
            }
            Msg::RemoveBreakpoint(i) => {
                let mut list = s.lab.0.borrow().breakpoints().to_vec();
                if i < list.len() {
                    list.remove(i);
                }
                s.lab.0.borrow_mut().set_breakpoints(list);
                s.version += 1;
            }
            Msg::Zoom(ms) => {
                if ms.is_finite() {
                    s.window_ms = ms.clamp(WINDOW_MIN, WINDOW_MAX);
                }
            }
            Msg::BreakIt(on) => s.breakit = on,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Rc<UiState> {
        Rc::new(UiState::new(Setup::default(), SPEED_DEFAULT, false, false))
    }

    /// A frame of `ms` wall ms: the new state and whether it differs.
    fn frame(s: Rc<UiState>, ms: f64) -> Rc<UiState> {
        s.reduce(Msg::Frame(ms))
    }

    #[test]
    fn panels_keep_their_props_across_frames_without_events() {
        // Playing very slowly, after the election: frames move the clock
        // by a hundredth of a ms, and most of them see no event.
        let s = state().reduce(Msg::Forward(2000));
        let s = s.reduce(Msg::SetSpeed(SPEED_MIN));
        let s = s.reduce(Msg::Play);
        let before = s.clone();
        // The lab is shared, not copied: read it before the frames.
        let (vt0, key0) = {
            let lab = s.lab.0.borrow();
            (lab.vt(), lab.revision_key())
        };
        let mut s = s;
        for _ in 0..20 {
            s = frame(s, 10.0);
        }
        assert!(s.version > before.version, "the ring follows every frame");
        assert!(s.lab.0.borrow().vt() > vt0);
        assert_eq!(
            key0,
            s.lab.0.borrow().revision_key(),
            "no event in these 0.2 simulated ms"
        );
        // No event: what the event-driven panels get (app.rs passes the
        // groups' `rev`) is unchanged, so yew leaves them alone.
        assert_eq!(s.rev, before.rev);
        assert_eq!(s.shown[G_LISTS].rev, before.shown[G_LISTS].rev);
        assert_eq!(s.shown[G_PANELS].rev, before.shown[G_PANELS].rev);
        // And an event happened by the next refresh at normal speed.
        let s = s.reduce(Msg::SetSpeed(1.0));
        let rev = s.rev;
        let mut s = s;
        for _ in 0..40 {
            s = frame(s, 16.0);
        }
        assert!(s.rev > rev, "events happened");
        assert!(s.shown[G_LISTS].rev > rev, "the lists were refreshed");
    }

    #[test]
    fn while_playing_each_group_is_refreshed_on_its_own_frame_at_most_every_refresh_period() {
        let mut s = state().reduce(Msg::SetSpeed(1.0)).reduce(Msg::Play);
        let mut refreshes = [0usize; GROUPS];
        let mut frames = 0;
        while frames < 120 {
            let before = s.shown;
            s = frame(s, 16.0);
            frames += 1;
            let changed: Vec<usize> = (0..GROUPS).filter(|&g| s.shown[g] != before[g]).collect();
            assert!(changed.len() <= 1, "one group per frame, not {changed:?}");
            for g in changed {
                refreshes[g] += 1;
            }
        }
        // 120 frames of 16 ms: about 1.9 s of wall time, so about 19
        // refreshes of each group, not 120.
        for (g, &n) in refreshes.iter().enumerate() {
            assert!((15..=21).contains(&n), "group {g}: {n} refreshes");
        }
        // Slow frames (a busy machine): a refresh every REFRESH_FRAMES
        // frames, so most frames only move the ring.
        let mut s2 = s.clone();
        let mut refreshing_frames = 0;
        for _ in 0..60 {
            let before = s2.shown;
            s2 = frame(s2, 80.0);
            if s2.shown != before {
                refreshing_frames += 1;
            }
        }
        assert!(
            refreshing_frames <= 60 * GROUPS / REFRESH_FRAMES as usize,
            "{refreshing_frames} of 60 slow frames refreshed a group"
        );
        // Pausing shows everything exactly as it is.
        let s = s.reduce(Msg::Pause);
        let vt = s.lab.0.borrow().vt();
        for g in 0..GROUPS {
            assert_eq!(s.shown[g], Shown { rev: s.rev, vt });
        }
        // A frame after the pause is the same state: nothing re-renders.
        let again = frame(s.clone(), 16.0);
        assert!(Rc::ptr_eq(&s, &again));
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

    fn lesson_file(file: &str) -> Lesson {
        let path = format!("{}/../static/lessons/{file}", env!("CARGO_MANIFEST_DIR"));
        raftlab_core::lesson::parse_lesson(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_break_it_lesson_plays_through_its_violation() {
        let lesson = lesson_file("06-figure8-broken.json");
        let n = lesson.steps.len();
        let mut s = state().reduce(Msg::StartLesson(Box::new(lesson)));
        for _ in 0..(4 * n) {
            s = match s.lesson_status.clone() {
                Some(StepStatus::Finished) => break,
                Some(StepStatus::Done) => s.reduce(Msg::NextStep),
                Some(StepStatus::Waiting) if s.lab.0.borrow().lesson_holds() => {
                    s.reduce(Msg::Answer(0))
                }
                Some(StepStatus::Waiting) => s.reduce(Msg::FinishStep),
                other => panic!("{other:?}: {:?}", s.notice),
            };
        }
        assert_eq!(s.lesson_status, Some(StepStatus::Finished));
        assert!(!s.lab.0.borrow().sim().violations().is_empty());
    }

    #[test]
    fn a_session_opens_to_the_same_run_and_bad_ones_keep_the_run() {
        let s = state()
            .reduce(Msg::Forward(800))
            .reduce(Msg::Client(KvOp::Put, "k".into(), Some("v".into())))
            .reduce(Msg::Forward(300));
        let session = Session::from_sim(s.lab.0.borrow().sim());
        let fresh = state().reduce(Msg::OpenSession(
            Box::new(session.clone()),
            "link",
            "test".into(),
        ));
        assert_eq!(
            fresh.lab.0.borrow().sim().trace_jsonl(),
            s.lab.0.borrow().sim().trace_jsonl()
        );
        let bad = fresh.clone().reduce(Msg::OpenFile {
            name: "x.json".into(),
            text: "{nope".into(),
        });
        assert!(bad.lab == fresh.lab);
        assert!(bad.notice.as_ref().is_some_and(|n| n.error));
    }

    #[test]
    fn a_trace_loads_and_matches() {
        let s = state()
            .reduce(Msg::Forward(700))
            .reduce(Msg::Act(Action::Crash { node: 2 }))
            .reduce(Msg::Forward(700));
        let text = s.lab.0.borrow().sim().trace_jsonl();
        let t = state().reduce(Msg::OpenFile {
            name: "t.jsonl".into(),
            text,
        });
        assert_eq!(
            t.source.as_ref().and_then(|x| x.matched),
            Some(true),
            "{:?}",
            t.source
        );
        let lab = t.lab.0.borrow();
        assert_eq!(lab.sim().now(), 0, "back at the start");
        assert!(lab.future_len() > 100, "with the whole run ahead");
    }

    #[test]
    fn partition_needs_two_groups() {
        let s = state().reduce(Msg::Partition);
        assert!(s.notice.is_some());
        let s = s.reduce(Msg::CycleGroup(1)).reduce(Msg::Partition);
        assert!(s.lab.0.borrow().sim().groups().is_some());
    }
}

#[cfg(test)]
mod trace_tests {
    use super::*;

    #[test]
    fn a_loaded_trace_runs_on_past_its_end() {
        let text = std::fs::read_to_string(format!(
            "{}/../e2e/fixtures/chaos-seed3.jsonl",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let s = Rc::new(UiState::new(Setup::default(), SPEED_DEFAULT, false, false));
        let s = s.reduce(Msg::OpenFile {
            name: "f.jsonl".into(),
            text,
        });
        assert_eq!(s.source.as_ref().and_then(|x| x.matched), Some(true));
        let s = s.reduce(Msg::Forward(3000));
        let lab = s.lab.0.borrow();
        let late = lab.past().iter().filter(|e| e.time > 2500).count();
        assert!(
            late > 0,
            "now {} position {}",
            lab.sim().now(),
            lab.sim().position()
        );
    }
}
