//! The guided walkthrough of sharded mode, as data: steps with narration,
//! actions the reader can take, and a condition on the run that says the
//! step's point has been seen. The steps live in
//! `static/lessons/sharded/walkthrough.json` (compiled in); the lesson
//! engine in `raftlab_core::lesson` drives one-group runs only.

use raftlab_core::kv::KvOp;
use raftlab_core::meta::slot_of;
use raftlab_core::sim::sharded::{MigrationPhase, ShardedSim};
use raftlab_core::trace::{ClientPhase, EventKind};
use serde_json::Value;

/// The walkthrough file shipped with the page.
pub const WALKTHROUGH_JSON: &str = include_str!("../../../static/lessons/sharded/walkthrough.json");

/// A whole walkthrough.
#[derive(Clone, Debug, PartialEq)]
pub struct Walkthrough {
    /// Its title.
    pub title: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Heading.
    pub title: String,
    /// Paragraphs of narration.
    pub text: Vec<String>,
    /// Buttons: (label, what it does).
    pub actions: Vec<(String, WalkAction)>,
    /// When the step's point has been seen.
    pub wait: Cond,
    /// The condition in words.
    pub waiting: String,
}

/// What a walkthrough button does.
#[derive(Clone, Debug, PartialEq)]
pub enum WalkAction {
    /// Jump the clock ahead.
    Forward(u64),
    /// Look a key up (highlights its slot).
    PickKey(String),
    /// A client operation.
    Client(KvOp, String, Option<String>),
    /// Move the key's slot to the next KV group.
    MoveKey(String),
    /// Crash the leader of the group owning the key's slot.
    CrashLeader(String),
    /// Restart every crashed node.
    RestartAll,
}

/// A condition on the run (and the page), checked since the step began.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// Nothing to wait for.
    Always,
    /// Every group has a leader.
    AllLeaders,
    /// The key is the one looked up.
    PickedKey(String),
    /// An operation on the key finished ok since the step began.
    ClientOk(String),
    /// A move of the key's slot, still running or finished since the step
    /// began, reached the phase (or a later one).
    Migration(String, MigrationPhase),
    /// A move of the key's slot finished that started after a crash in
    /// this step.
    MigrationAfterCrash(String),
}

fn text(v: &Value, field: &str) -> Result<String, String> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or(format!("`{field}` is missing or not text"))
}

fn op_of(s: &str) -> Result<KvOp, String> {
    match s {
        "put" => Ok(KvOp::Put),
        "get" => Ok(KvOp::Get),
        "delete" => Ok(KvOp::Delete),
        other => Err(format!("unknown client op `{other}`")),
    }
}

fn phase_of(s: &str) -> Result<MigrationPhase, String> {
    Ok(match s {
        "freeze" => MigrationPhase::Freeze,
        "import" => MigrationPhase::Import,
        "record" => MigrationPhase::Record,
        "drop" => MigrationPhase::Drop,
        "done" => MigrationPhase::Done,
        other => return Err(format!("unknown migration phase `{other}`")),
    })
}

/// How far along a migration is (failed is never "along").
pub fn phase_rank(p: MigrationPhase) -> u8 {
    match p {
        MigrationPhase::Freeze => 1,
        MigrationPhase::Import => 2,
        MigrationPhase::Record => 3,
        MigrationPhase::Drop => 4,
        MigrationPhase::Done => 5,
        MigrationPhase::Failed => 0,
    }
}

fn action_of(v: &Value) -> Result<WalkAction, String> {
    let key = || text(v, "key");
    Ok(match text(v, "kind")?.as_str() {
        "forward" => WalkAction::Forward(v.get("ms").and_then(Value::as_u64).unwrap_or(100)),
        "pick_key" => WalkAction::PickKey(key()?),
        "client" => WalkAction::Client(op_of(&text(v, "op")?)?, key()?, text(v, "value").ok()),
        "move_key" => WalkAction::MoveKey(key()?),
        "crash_leader" => WalkAction::CrashLeader(key()?),
        "restart_all" => WalkAction::RestartAll,
        other => return Err(format!("unknown action `{other}`")),
    })
}

fn cond_of(v: Option<&Value>) -> Result<Cond, String> {
    let Some(v) = v else {
        return Ok(Cond::Always);
    };
    let key = || text(v, "key");
    Ok(match text(v, "kind")?.as_str() {
        "always" => Cond::Always,
        "all_leaders" => Cond::AllLeaders,
        "picked_key" => Cond::PickedKey(key()?),
        "client_ok" => Cond::ClientOk(key()?),
        "migration" => Cond::Migration(key()?, phase_of(&text(v, "phase")?)?),
        "migration_after_crash" => Cond::MigrationAfterCrash(key()?),
        other => return Err(format!("unknown condition `{other}`")),
    })
}

impl Walkthrough {
    /// Reads a walkthrough from its JSON text, saying what is wrong.
    pub fn parse(json: &str) -> Result<Walkthrough, String> {
        let v: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let steps = v
            .get("steps")
            .and_then(Value::as_array)
            .ok_or("`steps` is missing")?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let step = || -> Result<Step, String> {
                    let paragraphs = s
                        .get("text")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let actions = s
                        .get("actions")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .map(|b| {
                                    let label = text(b, "label")?;
                                    let act = action_of(b.get("do").ok_or("`do` is missing")?)?;
                                    Ok((label, act))
                                })
                                .collect::<Result<Vec<_>, String>>()
                        })
                        .transpose()?
                        .unwrap_or_default();
                    Ok(Step {
                        title: text(s, "title")?,
                        text: paragraphs,
                        actions,
                        wait: cond_of(s.get("wait"))?,
                        waiting: text(s, "waiting").unwrap_or_default(),
                    })
                };
                step().map_err(|e| format!("step {}: {e}", i + 1))
            })
            .collect::<Result<Vec<_>, String>>()?;
        if steps.is_empty() {
            return Err("no steps".into());
        }
        Ok(Walkthrough {
            title: text(&v, "title")?,
            steps,
        })
    }

    /// The shipped walkthrough.
    pub fn shipped() -> Result<Walkthrough, String> {
        Walkthrough::parse(WALKTHROUGH_JSON)
    }
}

impl Cond {
    /// Whether the condition holds now, for a step that began at simulated
    /// time `since`, with `picked` the key looked up on the page.
    pub fn holds(&self, sim: &ShardedSim, since: u64, picked: &str) -> bool {
        match self {
            Cond::Always => true,
            Cond::AllLeaders => sim.groups().iter().all(|g| sim.leader(g.id).is_some()),
            Cond::PickedKey(k) => picked.trim() == k,
            Cond::ClientOk(k) => sim.clients().iter().any(|c| {
                c.done.iter().any(|op| {
                    &op.key == k
                        && op.phase == Some(ClientPhase::Ok)
                        && op.ended_at.is_some_and(|t| t >= since)
                })
            }),
            Cond::Migration(k, phase) => {
                let slot = slot_of(k);
                sim.migrations().iter().any(|m| {
                    m.slot == slot
                        && m.ended_at.is_none_or(|t| t >= since)
                        && phase_rank(m.phase) >= phase_rank(*phase)
                })
            }
            Cond::MigrationAfterCrash(k) => {
                let slot = slot_of(k);
                let events = &sim.events()[..(sim.position() as usize).min(sim.events().len())];
                let first = events.partition_point(|e| e.event.time < since);
                let crash_at = events[first..].iter().find_map(|e| match e.event.kind {
                    EventKind::Crash { .. } => Some(e.event.time),
                    _ => None,
                });
                crash_at.is_some_and(|t| {
                    sim.migrations().iter().any(|m| {
                        m.slot == slot && m.started_at >= t && m.phase == MigrationPhase::Done
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_walkthrough_reads() {
        let w = Walkthrough::shipped().expect("parses");
        assert!((5..=8).contains(&w.steps.len()), "{} steps", w.steps.len());
        assert!(w.steps.iter().all(|s| !s.text.is_empty()));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(Walkthrough::parse("{").is_err());
        assert!(Walkthrough::parse(r#"{"title":"t","steps":[]}"#).is_err());
        let e =
            Walkthrough::parse(r#"{"title":"t","steps":[{"title":"a","wait":{"kind":"nope"}}]}"#)
                .unwrap_err();
        assert!(e.contains("step 1") && e.contains("nope"), "{e}");
    }
}
