//! Writing lessons: a lesson back into the file format a teacher edits
//! ([`lesson_json`]), and a lesson made from a session ("Save this run as
//! a lesson" on the page, [`lesson_from_session`]): the run's settings and
//! one step per action, each with a placeholder narration to replace.
//! Pure: the session is replayed in memory to learn which actions ran and
//! which rules the run broke, nothing else.

use serde_json::{json, Map, Value};

use crate::session::Session;
use crate::sim::{Action, SimConfig};
use crate::trace::describe::action_label;
use crate::trace::EventKind;

use super::{
    Condition, Highlight, Lesson, Setup, Step, StepAction, DEFAULT_LESSON_SPEED,
    DEFAULT_STEP_MAX_MS, MAX_LESSON_SPEED, MAX_STEPS,
};

/// Simulated ms the last step watches when the run was saved right at its
/// last action (so the class sees what that action did).
pub const SAVED_TAIL_MS: u64 = 1_000;
/// Real ms the longest wait of an exported lesson may last at its speed:
/// the speed is raised (up to real time, so a wait longer than this in
/// simulated time lasts as long as it did) until every wait fits.
pub const SAVED_LONGEST_WAIT_REAL_MS: f64 = 8_000.0;
/// Events the replay of a saved run keeps while it reads it.
const REPLAY_HISTORY: u64 = 10_000;
/// Simulated ms a step may run past its wait before the lesson counts as
/// broken (a margin for a page that overshoots a little per frame).
const STEP_MARGIN_MS: u64 = 5_000;

/// The lesson file's JSON for `lesson`, as a teacher would write it: only
/// the settings that differ from the defaults, an action's `after_ms` beside
/// its `kind`, and no field left at its default. `parse_lesson` reads it
/// back to the same lesson.
pub fn lesson_json(lesson: &Lesson) -> String {
    let mut top = Map::new();
    top.insert("id".into(), json!(lesson.id));
    top.insert("title".into(), json!(lesson.title));
    if !lesson.summary.is_empty() {
        top.insert("summary".into(), json!(lesson.summary));
    }
    if lesson.speed != DEFAULT_LESSON_SPEED {
        top.insert("speed".into(), json!(lesson.speed));
    }
    top.insert(
        "setup".into(),
        json!({
            "seed": lesson.setup.seed,
            "nodes": lesson.setup.nodes,
            "config": config_overrides(&lesson.setup.config),
        }),
    );
    let steps: Vec<Value> = lesson.steps.iter().map(step_json).collect();
    top.insert("steps".into(), Value::Array(steps));
    let mut text = serde_json::to_string_pretty(&Value::Object(top)).unwrap_or_default();
    text.push('\n');
    text
}

/// The settings of `config` that differ from `SimConfig::default()`.
fn config_overrides(config: &SimConfig) -> Map<String, Value> {
    let (Ok(Value::Object(mine)), Ok(Value::Object(base))) = (
        serde_json::to_value(config),
        serde_json::to_value(SimConfig::default()),
    ) else {
        return Map::new();
    };
    // Inserted one by one: collecting into the map would sort first, and
    // the sort's code would weigh on the page for nothing (keys are sorted).
    let mut out = Map::new();
    for (k, v) in mine {
        if base.get(&k) != Some(&v) {
            out.insert(k, v);
        }
    }
    out
}

fn step_json(step: &Step) -> Value {
    let mut m = Map::new();
    if let Some(t) = &step.title {
        m.insert("title".into(), json!(t));
    }
    m.insert("narration".into(), json!(step.narration));
    if !step.actions.is_empty() {
        let actions: Vec<Value> = step.actions.iter().map(action_json).collect();
        m.insert("actions".into(), Value::Array(actions));
    }
    m.insert(
        "wait_for".into(),
        serde_json::to_value(&step.wait_for).unwrap_or(Value::Null),
    );
    if step.max_ms != DEFAULT_STEP_MAX_MS {
        m.insert("max_ms".into(), json!(step.max_ms));
    }
    if let Some(q) = &step.question {
        m.insert(
            "question".into(),
            serde_json::to_value(q).unwrap_or(Value::Null),
        );
    }
    if step.highlight != Highlight::default() {
        m.insert(
            "highlight".into(),
            serde_json::to_value(&step.highlight).unwrap_or(Value::Null),
        );
    }
    if !step.expects_violations.is_empty() {
        m.insert("expects_violations".into(), json!(step.expects_violations));
    }
    if let Some(n) = step.back_to_step {
        m.insert("back_to_step".into(), json!(n));
    }
    Value::Object(m)
}

/// An action as a lesson file writes it: its own object, with `after_ms`
/// beside `kind` when it is delayed.
fn action_json(a: &StepAction) -> Value {
    let mut v = serde_json::to_value(&a.action).unwrap_or(Value::Null);
    if let (Value::Object(m), true) = (&mut v, a.after_ms > 0) {
        m.insert("after_ms".into(), json!(a.after_ms));
    }
    v
}

/// An action that ran, where the replay put it.
struct Ran {
    time: u64,
    seq: u64,
    action: Action,
}

/// A lesson that replays `session`: its seed, nodes and settings, then one
/// step per action that ran, in order. Each step performs its action as it
/// begins, at the time the session had it, and waits (a `time` condition)
/// until the next action's time, or to where the run was saved after the
/// last one ([`SAVED_TAIL_MS`] if it was saved right at it). When the first
/// action is not at time 0 an opening step watches the cluster until then.
/// Rules the run broke (a deliberate bug) are declared on the steps where
/// they broke, so the lesson flows through them as a break-it lesson does.
/// Narrations are placeholders ("Describe what happens after …") for the
/// teacher to replace; the speed is raised so no wait lasts more than
/// [`SAVED_LONGEST_WAIT_REAL_MS`] of real time.
pub fn lesson_from_session(session: &Session) -> Result<Lesson, String> {
    let mut sim = session
        .build()
        .map_err(|e| format!("this run cannot be replayed: {e}"))?;
    // Read as it runs, so a long run is never held whole: each action's
    // event is the newest when its millisecond ends.
    sim.set_history_limit(Some(REPLAY_HISTORY));
    let mut ran: Vec<Ran> = Vec::new();
    let mut seen = sim.position();
    let times = session.actions.iter().map(|a| a.time);
    for t in times.filter(|t| *t <= session.until).chain([session.until]) {
        sim.run_until(t);
        let now = sim.position();
        for e in super::events_between(&sim, seen, now) {
            if let EventKind::Action { action } = &e.kind {
                if let Ok(action) = serde_json::from_value::<Action>(action.clone()) {
                    ran.push(Ran {
                        time: e.time,
                        seq: e.seq,
                        action,
                    });
                }
            }
        }
        seen = now;
    }
    let opening = ran.first().is_none_or(|r| r.time > 0);
    let count = ran.len() + usize::from(opening);
    if count > MAX_STEPS {
        return Err(format!(
            "this run has {} actions, but a lesson has at most {MAX_STEPS} steps; save a shorter run",
            ran.len()
        ));
    }
    // Step k runs from `starts[k]` (an action's time) to `ends[k]`.
    let mut starts: Vec<u64> = Vec::with_capacity(count);
    if opening {
        starts.push(0);
    }
    starts.extend(ran.iter().map(|r| r.time));
    let saved = session.until.max(starts.last().copied().unwrap_or(0));
    let mut ends: Vec<u64> = starts.iter().skip(1).copied().collect();
    ends.push(if saved > *starts.last().unwrap_or(&0) {
        saved
    } else {
        saved.saturating_add(SAVED_TAIL_MS)
    });
    // Events from `firsts[k]` on belong to step k (its action's event).
    let mut firsts: Vec<u64> = Vec::with_capacity(count);
    if opening {
        firsts.push(0);
    }
    firsts.extend(ran.iter().map(|r| r.seq));
    let mut steps = Vec::with_capacity(count);
    let mut actions = ran.into_iter();
    for k in 0..count {
        let wait = ends[k].saturating_sub(starts[k]);
        let (narration, actions) = if opening && k == 0 {
            (
                "Describe what the cluster does on its own before anything is done to it."
                    .to_string(),
                Vec::new(),
            )
        } else {
            let action = actions.next().map(|r| r.action);
            let words = action.as_ref().map(action_label).unwrap_or_default();
            (
                format!("Describe what happens after this step's action: {words}."),
                action
                    .into_iter()
                    .map(|action| StepAction {
                        after_ms: 0,
                        action,
                    })
                    .collect(),
            )
        };
        let from = firsts[k];
        let to = firsts.get(k + 1).copied().unwrap_or(u64::MAX);
        let mut broken: Vec<String> = Vec::new();
        for v in sim
            .violations()
            .iter()
            .filter(|v| v.seq >= from && v.seq < to)
        {
            if !broken.iter().any(|r| r == v.rule) {
                broken.push(v.rule.to_string());
            }
        }
        steps.push(Step {
            title: None,
            narration,
            actions,
            wait_for: Condition::Time { after_ms: wait },
            max_ms: wait.saturating_add(STEP_MARGIN_MS).max(DEFAULT_STEP_MAX_MS),
            question: None,
            highlight: Highlight::default(),
            expects_violations: broken,
            back_to_step: None,
        });
    }
    let longest = ends
        .iter()
        .zip(&starts)
        .map(|(e, s)| e.saturating_sub(*s))
        .max()
        .unwrap_or(0);
    let needed = longest as f64 / SAVED_LONGEST_WAIT_REAL_MS;
    let speed = if needed > DEFAULT_LESSON_SPEED {
        // Rounded up to a speed a person reads: 0.1, 0.2, 0.5, 1.
        [0.1, 0.2, 0.5, MAX_LESSON_SPEED]
            .into_iter()
            .find(|s| *s >= needed)
            .unwrap_or(MAX_LESSON_SPEED)
    } else {
        DEFAULT_LESSON_SPEED
    };
    Ok(Lesson {
        id: format!("my-run-seed-{}", session.seed),
        title: format!("My run (seed {})", session.seed),
        summary: "Say in one or two sentences what this lesson shows.".into(),
        setup: Setup {
            seed: session.seed,
            nodes: session.nodes,
            config: session.config.clone(),
        },
        steps,
        speed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::parse_lesson;

    #[test]
    fn a_run_without_actions_is_one_step_that_watches_it() {
        let mut s = Session::new(3, 3, SimConfig::default());
        s.until = 2_500;
        let l = lesson_from_session(&s).unwrap();
        assert_eq!(l.steps.len(), 1);
        assert!(l.steps[0].actions.is_empty());
        assert_eq!(l.steps[0].wait_for, Condition::Time { after_ms: 2_500 });
        assert_eq!(parse_lesson(&lesson_json(&l)), Ok(l));
    }

    #[test]
    fn only_changed_settings_are_written() {
        let cfg = SimConfig {
            prevote: !SimConfig::default().prevote,
            ..SimConfig::default()
        };
        let o = config_overrides(&cfg);
        assert_eq!(o.keys().collect::<Vec<_>>(), ["prevote"]);
    }
}
