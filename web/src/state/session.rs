//! Which run is on: a fresh one, or one opened from a session (a link, a
//! file, the break-it hunt) or a trace.

use raftlab_core::session::Session;
use raftlab_core::trace::TraceEvent;

use super::{SessionMsg, Setup, Source, UiState};
use crate::clock::Clock;
use crate::lab::Lab;

impl UiState {
    /// Starts a fresh run or opens one.
    pub(super) fn on_session(&mut self, m: SessionMsg) {
        match m {
            SessionMsg::Reset(setup) => {
                match Lab::new(setup.seed, setup.nodes, setup.cfg.clone()) {
                    Ok(lab) => self.install(lab, setup),
                    Err(e) => self.error(format!("Cannot reset: {e}.")),
                }
            }
            SessionMsg::OpenFile { name, text } => self.open_file(&name, &text),
            SessionMsg::Open(session, kind, origin) => self.open_session(&session, kind, &origin),
        }
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
}
