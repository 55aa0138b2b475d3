//! Lessons as data: a teacher writes a JSON file (see `docs/lessons.md`)
//! describing a cluster, a sequence of steps with narration, actions to
//! perform, a condition that ends each step, and optional "predict what
//! happens next" questions. This module reads and checks those files;
//! [`LessonRun`] plays one against a live [`Sim`](crate::sim::Sim), and
//! [`run_to_end`] drives one natively from start to end (what the tests do
//! for every lesson shipped, so a lesson that no longer works is caught).
//!
//! Nothing here panics on input: a malformed file gives an error naming the
//! lesson, the step and the field.

mod breakpoint;
mod condition;
mod export;
mod flow;
mod run;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sim::{Action, SimConfig};
use crate::types::{Index, NodeId};

pub use breakpoint::{Breakpoint, BreakpointHit, BreakpointWatch};
pub use condition::{CommitScope, Condition};
pub use export::{lesson_from_session, lesson_json, SAVED_LONGEST_WAIT_REAL_MS, SAVED_TAIL_MS};
pub use flow::{DEFAULT_LESSON_SPEED, MAX_LESSON_SPEED, MIN_LESSON_SPEED};
pub use run::{run_lesson, run_to_end, Feedback, LessonReport, LessonRun, StepReport, StepStatus};

/// The kept events with seq in `after + 1..=upto`. A simulator with a
/// bounded history (`Sim::set_history_limit`) no longer has the oldest
/// events: `events()[0]` has seq `history_start().seq`, so positions in
/// `events()` are not seqs, and events before the kept history are skipped.
pub(crate) fn events_between(
    sim: &crate::sim::Sim,
    after: u64,
    upto: u64,
) -> &[crate::trace::TraceEvent] {
    let first = sim.history_start().seq;
    let events = sim.events();
    let from = after.saturating_add(1).max(first) - first;
    let to = upto.saturating_add(1).max(first) - first;
    let (from, to) = (
        usize::try_from(from).unwrap_or(usize::MAX),
        usize::try_from(to).unwrap_or(usize::MAX).min(events.len()),
    );
    events.get(from..to).unwrap_or(&[])
}

/// How long a step may take, in simulated ms, when it does not say.
pub const DEFAULT_STEP_MAX_MS: u64 = 20_000;
/// The most steps a lesson may have (keeps a bad file from being huge).
pub const MAX_STEPS: usize = 200;
/// The deepest `all`/`any`/`not` nesting accepted in a condition.
pub const MAX_CONDITION_DEPTH: usize = 16;

/// A whole lesson: what the page shows in its lesson list and everything
/// needed to play it, deterministically, from the same seed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lesson {
    /// Short stable name, lowercase letters, digits and dashes (used in links).
    pub id: String,
    /// The title shown in the lesson list.
    pub title: String,
    /// One or two sentences saying what the lesson teaches.
    pub summary: String,
    /// The cluster the lesson starts from.
    pub setup: Setup,
    /// The steps, played in order.
    pub steps: Vec<Step>,
    /// Simulated ms per wall-clock ms the page plays the lesson at, so its
    /// waits last seconds, not minutes ([`DEFAULT_LESSON_SPEED`] unless set).
    pub speed: f64,
}

/// The cluster a lesson starts from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setup {
    /// The simulator's seed: same seed, same run.
    pub seed: u64,
    /// Number of voters, named S1..Sn (1 to 9).
    pub nodes: u64,
    /// The full settings: the defaults with the lesson's overrides applied.
    pub config: SimConfig,
}

/// One step of a lesson.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// Optional short heading.
    pub title: Option<String>,
    /// What the student reads: paragraphs separated by blank lines, with
    /// `**bold**` and `` `code` `` (see [`narration_paragraphs`]).
    pub narration: String,
    /// What the lesson does to the cluster when the step begins.
    pub actions: Vec<StepAction>,
    /// What must happen before the step is complete.
    pub wait_for: Condition,
    /// Simulated ms the step may take before the lesson counts as broken.
    pub max_ms: u64,
    /// An optional "predict what happens next" question, asked as the step begins.
    pub question: Option<Question>,
    /// What the page should draw attention to during the step.
    pub highlight: Highlight,
    /// Rules the checker is meant to find broken during this step (a
    /// break-it lesson): the clock goes on through them and the lesson
    /// panel explains them; any other violation stops the clock.
    pub expects_violations: Vec<String>,
    /// Before its actions, return the run to the end of this earlier step
    /// (numbered from 1), discarding what came after: a second future of
    /// the same past (Figure 8's (d) and (e) are two futures of (c)).
    pub back_to_step: Option<usize>,
}

/// An action a step performs, possibly some time after the step begins.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepAction {
    /// Simulated ms after the step begins (0: at once).
    pub after_ms: u64,
    /// The action, exactly as the trace's `action` events hold it.
    pub action: Action,
}

/// A multiple-choice question with feedback for every choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The question.
    pub prompt: String,
    /// The choices, in the order shown.
    pub choices: Vec<String>,
    /// The index (from 0) of the right choice.
    pub answer: usize,
    /// What to tell a student who picks each choice (same order as `choices`).
    pub feedback: Vec<String>,
    /// A condition that must hold when the step completes, proving that the
    /// run shows what the right answer says (checked by `run_to_end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Condition>,
}

/// Hints for the page: what to draw attention to during a step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Highlight {
    /// Node ids to emphasise.
    pub nodes: Vec<NodeId>,
    /// Log indexes to emphasise (in every node's log).
    pub indexes: Vec<Index>,
    /// Message kinds to emphasise (`request_vote`, `append_entries`, ...).
    pub messages: Vec<String>,
}

/// The message kinds a highlight or a `sent` condition may name.
pub const MESSAGE_KINDS: [&str; 6] = [
    "request_vote",
    "request_vote_resp",
    "append_entries",
    "append_entries_resp",
    "snapshot",
    "snapshot_resp",
];

/// One entry of `static/lessons/index.json`: which file holds which lesson,
/// in the order the page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonIndexEntry {
    /// The lesson's id (must match the file's `id`).
    pub id: String,
    /// The file name, relative to the index.
    pub file: String,
    /// The lesson's title (must match the file's `title`).
    pub title: String,
}

/// Reads `index.json`: `{"lessons": [{"id", "file", "title"}, ...]}`.
pub fn parse_index(text: &str) -> Result<Vec<LessonIndexEntry>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Index {
        lessons: Vec<LessonIndexEntry>,
    }
    let index: Index = serde_json::from_str(text)
        .map_err(|e| format!("lesson index: {}", crate::json::error_words(&e, true)))?;
    for (i, e) in index.lessons.iter().enumerate() {
        if e.file.contains('/') || e.file.contains('\\') || !e.file.ends_with(".json") {
            return Err(format!(
                "lesson index, entry {}: file {:?} must be a plain name ending in .json",
                i + 1,
                e.file
            ));
        }
        if index.lessons[..i].iter().any(|o| o.id == e.id) {
            return Err(format!("lesson index: id {:?} listed twice", e.id));
        }
    }
    Ok(index.lessons)
}

// ----- reading a lesson file -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    id: String,
    title: String,
    #[serde(default)]
    summary: String,
    setup: RawSetup,
    steps: Vec<Value>,
    #[serde(default)]
    speed: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetup {
    seed: u64,
    nodes: u64,
    #[serde(default)]
    config: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    title: Option<String>,
    narration: String,
    #[serde(default)]
    actions: Vec<Value>,
    wait_for: Value,
    #[serde(default)]
    max_ms: Option<u64>,
    #[serde(default)]
    question: Option<Value>,
    #[serde(default)]
    highlight: Option<Value>,
    #[serde(default)]
    expects_violations: Vec<String>,
    #[serde(default)]
    back_to_step: Option<usize>,
}

/// Reads and checks a lesson file. Errors name the lesson, the step
/// (counted from 1) and the field, e.g. `lesson "split-vote", step 3,
/// wait_for: ...`; of several, this is the first ([`check_lesson`] lists all).
pub fn parse_lesson(text: &str) -> Result<Lesson, String> {
    check_lesson(text).map_err(|problems| problems.into_iter().next().unwrap_or_default())
}

/// Reads and checks a lesson file, naming every problem found rather than
/// only the first, so a teacher fixes a file in one pass: each problem of
/// every step (by step number and field), plus the file's own. A file
/// that is not JSON, or not shaped as a lesson at its top, gives one.
pub fn check_lesson(text: &str) -> Result<Lesson, Vec<String>> {
    // The readers below keep serde's phrases; the page shows words.
    read_lesson(text).map_err(|list| list.iter().map(|e| crate::json::plain_tail(e)).collect())
}

/// `check_lesson`, in serde's words where it failed on a field.
fn read_lesson(text: &str) -> Result<Lesson, Vec<String>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        vec![format!(
            "this is not a raftlab lesson: {}",
            crate::json::error_words(&e, true)
        )]
    })?;
    let name = value
        .get("id")
        .and_then(Value::as_str)
        .map(|s| format!("lesson {s:?}"))
        .unwrap_or_else(|| "lesson (no id)".to_string());
    let raw: RawLesson = serde_json::from_value(value)
        .map_err(|e| vec![format!("{name}: {}", crate::json::error_words(&e, false))])?;
    let mut problems = Vec::new();
    let config = setup_config(&raw.setup.config)
        .map_err(|e| problems.push(format!("{name}, setup.config: {e}")))
        .ok();
    if !(1..=9).contains(&raw.setup.nodes) {
        problems.push(format!(
            "{name}, setup.nodes: a cluster has 1 to 9 nodes, not {}",
            raw.setup.nodes
        ));
    }
    head_problems(&name, &raw.id, &raw.title, &mut problems);
    if raw.steps.is_empty() || raw.steps.len() > MAX_STEPS {
        problems.push(format!(
            "{name}, steps: a lesson has 1 to {MAX_STEPS} steps, not {}",
            raw.steps.len()
        ));
        return Err(problems);
    }
    let mut steps = Vec::with_capacity(raw.steps.len());
    for (i, v) in raw.steps.into_iter().enumerate() {
        let at = format!("{name}, step {}", i + 1);
        if let Some(step) = read_step(&at, v, &mut problems) {
            if let Some(n) = step.back_to_step.filter(|n| !(1..=i).contains(n)) {
                problems.push(format!(
                    "{at}, back_to_step: a step returns to the end of an earlier step (1 to {i}), not {n}"
                ));
            }
            steps.push(step);
        }
    }
    let Some(config) = config.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let lesson = Lesson {
        id: raw.id,
        title: raw.title,
        summary: raw.summary,
        setup: Setup {
            seed: raw.setup.seed,
            nodes: raw.setup.nodes,
            config,
        },
        steps,
        speed: raw.speed.unwrap_or(DEFAULT_LESSON_SPEED),
    };
    flow::check(&lesson).map_err(|e| vec![e])?;
    Ok(lesson)
}

/// The defaults with `overrides` applied, checked. Unknown names are errors
/// (a typo would otherwise be silently ignored).
fn setup_config(overrides: &serde_json::Map<String, Value>) -> Result<SimConfig, String> {
    let mut base = serde_json::to_value(SimConfig::default()).map_err(|e| e.to_string())?;
    let Some(map) = base.as_object_mut() else {
        return Err("the default settings are not an object".into());
    };
    for (k, v) in overrides {
        if !map.contains_key(k) {
            let known: Vec<&str> = map.keys().map(String::as_str).collect();
            return Err(format!(
                "unknown setting {k:?}; known settings: {}",
                known.join(", ")
            ));
        }
        map.insert(k.clone(), v.clone());
    }
    let cfg: SimConfig = serde_json::from_value(base).map_err(|e| e.to_string())?;
    cfg.validate()?;
    Ok(cfg)
}

/// Parses and checks one step (`at` names it), pushing every problem of
/// every field to `out` (not only the first); `None` if there was any.
fn read_step(at: &str, v: Value, out: &mut Vec<String>) -> Option<Step> {
    let raw: RawStep = match serde_json::from_value(v) {
        Ok(raw) => raw,
        Err(e) => {
            out.push(format!("{at}: {e}"));
            return None;
        }
    };
    let before = out.len();
    if raw.narration.trim().is_empty() {
        out.push(format!("{at}, narration: must not be empty"));
    }
    if raw.max_ms == Some(0) {
        out.push(format!("{at}, max_ms: must be positive"));
    }
    let mut actions = Vec::with_capacity(raw.actions.len());
    for (j, a) in raw.actions.into_iter().enumerate() {
        match parse_action(a).and_then(|a| validate_action(&a.action).map(|_| a)) {
            Ok(a) => actions.push(a),
            Err(e) => out.push(format!("{at}, actions[{j}]: {e}")),
        }
    }
    let wait_for = match serde_json::from_value::<Condition>(raw.wait_for) {
        Ok(c) => c
            .validate(0)
            .map(|_| c)
            .map_err(|e| out.push(format!("{at}, wait_for: {e}")))
            .ok(),
        Err(e) => {
            out.push(format!("{at}, wait_for: {e}"));
            None
        }
    };
    let question = match raw.question {
        None => None,
        Some(mut q) => {
            // Read apart, so a problem in it is named `question.verify`.
            let verify = match q.as_object_mut().and_then(|o| o.remove("verify")) {
                None | Some(Value::Null) => None,
                Some(v) => serde_json::from_value::<Condition>(v)
                    .map_err(|e| out.push(format!("{at}, question.verify: {e}")))
                    .ok(),
            };
            match serde_json::from_value::<Question>(q) {
                Ok(q) => {
                    let q = Question { verify, ..q };
                    question_problems(at, &q, out);
                    Some(q)
                }
                Err(e) => {
                    out.push(format!("{at}, question: {e}"));
                    None
                }
            }
        }
    };
    let highlight = match raw.highlight {
        None => Highlight::default(),
        Some(h) => match serde_json::from_value::<Highlight>(h) {
            Ok(h) => {
                highlight_problems(at, &h, out);
                h
            }
            Err(e) => {
                out.push(format!("{at}, highlight: {e}"));
                Highlight::default()
            }
        },
    };
    let wait_for = wait_for.filter(|_| out.len() == before)?;
    Some(Step {
        title: raw.title,
        narration: raw.narration,
        actions,
        wait_for,
        max_ms: raw.max_ms.unwrap_or(DEFAULT_STEP_MAX_MS),
        question,
        highlight,
        expects_violations: raw.expects_violations,
        back_to_step: raw.back_to_step,
    })
}

/// An action object with an optional `after_ms` beside its `kind`.
fn parse_action(v: Value) -> Result<StepAction, String> {
    let Value::Object(mut map) = v else {
        return Err("an action is an object with a \"kind\"".into());
    };
    let after_ms = match map.remove("after_ms") {
        None => 0,
        Some(t) => t
            .as_u64()
            .ok_or_else(|| format!("after_ms must be a whole number of ms, not {t}"))?,
    };
    let action: Action = serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())?;
    Ok(StepAction { after_ms, action })
}

fn valid_node(n: NodeId) -> bool {
    (1..=9).contains(&n)
}

/// Checks the lesson's own fields that the types cannot: its id and title.
fn head_problems(name: &str, id: &str, title: &str, out: &mut Vec<String>) {
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        out.push(format!(
            "{name}, id: use lowercase letters, digits and dashes only"
        ));
    }
    if title.trim().is_empty() {
        out.push(format!("{name}, title: must not be empty"));
    }
}

/// Checks what the types cannot in a step's question: a prompt, choices,
/// an answer among them, one feedback per choice.
fn question_problems(at: &str, q: &Question, out: &mut Vec<String>) {
    if q.prompt.trim().is_empty() {
        out.push(format!("{at}, question.prompt: must not be empty"));
    }
    if q.choices.len() < 2 {
        out.push(format!("{at}, question.choices: give at least two choices"));
    }
    if q.answer >= q.choices.len() {
        out.push(format!(
            "{at}, question.answer: {} is not a choice (choices are numbered from 0 to {})",
            q.answer,
            q.choices.len().saturating_sub(1)
        ));
    }
    if q.feedback.len() != q.choices.len() {
        out.push(format!(
            "{at}, question.feedback: give one feedback per choice ({} choices, {} feedbacks)",
            q.choices.len(),
            q.feedback.len()
        ));
    }
    if let Some(c) = &q.verify {
        if let Err(e) = c.validate(0) {
            out.push(format!("{at}, question.verify: {e}"));
        }
    }
}

/// Checks a step's highlight: node ids and message kinds that exist.
fn highlight_problems(at: &str, h: &Highlight, out: &mut Vec<String>) {
    if let Some(n) = h.nodes.iter().find(|n| !valid_node(**n)) {
        out.push(format!(
            "{at}, highlight.nodes: node ids run from 1 to 9, not {n}"
        ));
    }
    if let Some(m) = h
        .messages
        .iter()
        .find(|m| !MESSAGE_KINDS.contains(&m.as_str()))
    {
        out.push(format!(
            "{at}, highlight.messages: unknown message kind {m:?}; known: {}",
            MESSAGE_KINDS.join(", ")
        ));
    }
}

fn validate_action(a: &Action) -> Result<(), String> {
    let ids: Vec<NodeId> = match a {
        Action::Crash { node }
        | Action::Restart { node }
        | Action::Timeout { node }
        | Action::AddLearner { node }
        | Action::AddVoter { node }
        | Action::Remove { node }
        | Action::Snapshot { node } => vec![*node],
        Action::Transfer { to } => vec![*to],
        Action::Cut { from, to }
        | Action::Restore { from, to }
        | Action::Hold { from, to }
        | Action::Release { from, to } => vec![*from, *to],
        Action::DeliverNext { from, to, msg, .. } | Action::DropNext { from, to, msg, .. } => {
            if !MESSAGE_KINDS.contains(&msg.as_str()) {
                return Err(format!(
                    "unknown message kind {msg:?}; known: {}",
                    MESSAGE_KINDS.join(", ")
                ));
            }
            vec![*from, *to]
        }
        Action::Partition { groups } => groups.iter().flatten().copied().collect(),
        Action::Joint { voters } => voters.clone(),
        _ => Vec::new(),
    };
    match ids.iter().find(|n| !valid_node(**n)) {
        Some(n) => Err(format!("node ids run from 1 to 9, not {n}")),
        None => Ok(()),
    }
}

// ----- narration -----

/// A piece of narration text with its emphasis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The text.
    pub text: String,
    /// Written between `**`.
    pub bold: bool,
    /// Written between backquotes.
    pub code: bool,
}

/// Splits narration into paragraphs (separated by blank lines) of spans,
/// so the page only has to draw them. Line breaks inside a paragraph
/// become spaces; an unmatched `**` or backquote is kept as text.
pub fn narration_paragraphs(text: &str) -> Vec<Vec<Span>> {
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(spans(&current.join(" ")));
                current.clear();
            }
        } else {
            current.push(line.trim());
        }
    }
    paragraphs
}

fn spans(p: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut rest = p;
    let push = |out: &mut Vec<Span>, text: &str, bold: bool, code: bool| {
        if text.is_empty() {
            return;
        }
        if let Some(last) = out.last_mut() {
            if last.bold == bold && last.code == code {
                last.text.push_str(text);
                return;
            }
        }
        out.push(Span {
            text: text.to_string(),
            bold,
            code,
        });
    };
    while !rest.is_empty() {
        let bold_at = rest.find("**");
        let code_at = rest.find('`');
        let (at, marker, code) = match (bold_at, code_at) {
            (Some(b), Some(c)) if c < b => (c, "`", true),
            (Some(b), _) => (b, "**", false),
            (None, Some(c)) => (c, "`", true),
            (None, None) => {
                push(&mut out, rest, false, false);
                break;
            }
        };
        let after = &rest[at + marker.len()..];
        match after.find(marker) {
            Some(end) if end > 0 => {
                push(&mut out, &rest[..at], false, false);
                push(&mut out, &after[..end], !code, code);
                rest = &after[end + marker.len()..];
            }
            _ => {
                // Unmatched: keep the marker as text.
                push(&mut out, &rest[..at + marker.len()], false, false);
                rest = after;
            }
        }
    }
    out
}
