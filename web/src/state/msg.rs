//! What can happen to the single-group page, grouped by concern: each
//! group has one handler in the reducer (`UiState::apply`).

use raftlab_core::kv::KvOp;
use raftlab_core::lesson::{Breakpoint, Lesson, LessonIndexEntry};
use raftlab_core::session::Session;
use raftlab_core::sim::Action;
use raftlab_core::types::NodeId;

use super::Setup;
use crate::components::transport::ClockCmd;
use crate::vocab::{NodeVerb, Selection};

/// What can happen to the page.
pub enum Msg {
    /// The clock: frames, play and pause, steps and jumps, the speed.
    Clock(ClockMsg),
    /// The selected node and the cluster's membership.
    Node(NodeMsg),
    /// The network: partitions, links, latency and loss.
    Net(NetMsg),
    /// Any simulator action (heal, drop a message, ...).
    Act(Action),
    /// A client operation: the operation, its key and (for a put) value.
    Client(KvOp, String, Option<String>),
    /// The guided lessons.
    Lesson(LessonMsg),
    /// Which run is on: a fresh one, or one opened from a file or a link.
    Session(SessionMsg),
    /// The breakpoints that stop the clock.
    Breakpoint(BreakpointMsg),
    /// How the page shows things: notices, help, filters, picks, zoom.
    View(ViewMsg),
}

/// Moves of the clock.
pub enum ClockMsg {
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
}

/// The selected node and the membership.
pub enum NodeMsg {
    /// Select a node (or none).
    Select(Option<NodeId>),
    /// Act on the selected node.
    Verb(NodeVerb),
    /// Add a node with the smallest free id, as learner or straight as voter.
    Add {
        /// Straight as voter.
        voter: bool,
    },
    /// Add or take a node out of the picked new voter set.
    ToggleJoint(NodeId),
    /// Change the voters to the picked set.
    Joint,
}

/// The network.
pub enum NetMsg {
    /// Move a node to the next partition group.
    CycleGroup(NodeId),
    /// Split the network as picked.
    Partition,
    /// Cut or restore the one-way link.
    ToggleLink(NodeId, NodeId),
    /// Latency slider (ms, the top of the range).
    SetLatency(u64),
    /// Loss slider, percent.
    SetLoss(u64),
}

/// The lessons.
pub enum LessonMsg {
    /// The lesson list arrived (or could not be read).
    Index(Result<Vec<LessonIndexEntry>, String>),
    /// Play this lesson from its start.
    Start(Box<Lesson>),
    /// Leave the lesson (the run stays, free to explore).
    Exit,
    /// The student picks a choice of the step's question.
    Answer(usize),
    /// Run the current step to its end at once.
    FinishStep,
    /// To the next step.
    NextStep,
    /// Back to the previous step: the lesson replays to where it began.
    BackStep,
    /// A teacher's own lesson file (opened, dropped or fetched from
    /// `?lesson-url=`): checked, then played, or its problems listed.
    OpenText {
        /// Where it came from: the file's name or the address.
        origin: String,
        /// The file's text.
        text: String,
    },
    /// Close the list of a lesson file's problems.
    DismissProblems,
}

/// Which run is on.
pub enum SessionMsg {
    /// A fresh run.
    Reset(Setup),
    /// A file the user opened or dropped: a session or a trace.
    OpenFile {
        /// Its name.
        name: String,
        /// Its text.
        text: String,
    },
    /// A session to play (from a link, a file, or the break-it hunt): the
    /// session, where it came from ("link", "session file"...) and what to
    /// call it.
    Open(Box<Session>, &'static str, String),
}

/// The breakpoints.
pub enum BreakpointMsg {
    /// Add a breakpoint.
    Add(Breakpoint),
    /// Remove the breakpoint at this position of the list.
    Remove(usize),
}

/// How the page shows things (nothing here changes the run).
pub enum ViewMsg {
    /// Show a problem found by a form.
    Problem(String),
    /// Hide the notice.
    Dismiss,
    /// Open or close the shortcut list.
    Help(bool),
    /// Presentation mode on or off.
    Present(bool),
    /// Presenting: show the panels folded away, or fold them again.
    PresentPanels(bool),
    /// Feed filter: show message traffic.
    FeedMessages(bool),
    /// Feed filter: show heartbeats.
    FeedHeartbeats(bool),
    /// Pick a message or an event (or nothing) in any view.
    Link(Option<Selection>),
    /// The space-time diagram's window, simulated ms.
    Zoom(f64),
    /// Break-it mode on or off.
    BreakIt(bool),
}

crate::components::transport::clock_messages!(ClockMsg);

impl From<ClockCmd> for Msg {
    fn from(c: ClockCmd) -> Msg {
        Msg::Clock(c.into())
    }
}

/// Each group's messages are page messages, so that a component can send
/// `ViewMsg::Dismiss.into()` or reform a callback with `Msg::from`.
macro_rules! into_msg {
    ($($group:ident => $variant:ident),* $(,)?) => {
        $(impl From<$group> for Msg {
            fn from(m: $group) -> Msg {
                Msg::$variant(m)
            }
        })*
    };
}

into_msg!(
    ClockMsg => Clock,
    NodeMsg => Node,
    NetMsg => Net,
    LessonMsg => Lesson,
    SessionMsg => Session,
    BreakpointMsg => Breakpoint,
    ViewMsg => View,
);
