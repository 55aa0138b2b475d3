//! The caption under the ring: the newest event in words, as the clock
//! stands (stepping forward or back changes it), so a class watching the
//! projector need not read the feed; and, while the cluster is joint, the
//! two configurations every decision needs a majority of. Heartbeat traffic
//! is passed over: it would hide what changed.

use raftlab_core::sim::Action;
use raftlab_core::trace::describe as narrate;
use raftlab_core::trace::{EventKind, TraceEvent};
use yew::prelude::*;

use crate::components::panels::names;
use crate::model;
use crate::state::LabHandle;

/// How far back the caption looks for an event that is not a heartbeat.
const LOOK_BACK: usize = 400;
/// The most consequences of one of the teacher's actions told under it
/// (the feed has them all).
const CAUSED_MAX: usize = 6;

/// The newest events when they are one of the teacher's own moves while
/// directing the protocol (delivering by hand, or any deliver, drop, hold,
/// release or heartbeat): the action and what it caused in the same
/// micro-step, in order. Stepping forward in manual mode goes from one such
/// move to the next, and the caption then tells the whole move: which
/// message was handed over and what the receiver decided, not only the
/// last message it sent.
fn teacher_move(lab: &crate::lab::Lab) -> Option<(&TraceEvent, Option<Action>, Vec<&TraceEvent>)> {
    let sim = lab.sim();
    let past = lab.past();
    let last = past.last()?;
    let step = sim.step_of_event(last.seq);
    // The events of the newest micro-step (an action's consequences are
    // few; a long run of them is not one move).
    let start = past
        .iter()
        .rev()
        .take(64)
        .take_while(|e| sim.step_of_event(e.seq) == step)
        .count();
    let batch = &past[past.len() - start..];
    let (first, rest) = batch.split_first()?;
    let EventKind::Action { action } = &first.kind else {
        return None;
    };
    // Read once: the caption names the message a deliver or drop picked.
    let action = serde_json::from_value::<Action>(action.clone()).ok();
    let directing = matches!(
        action,
        Some(
            Action::Deliver { .. }
                | Action::DeliverNext { .. }
                | Action::DropNext { .. }
                | Action::DropMessage { .. }
                | Action::Hold { .. }
                | Action::Release { .. }
                | Action::Heartbeat { .. }
                | Action::Manual { .. }
        )
    );
    (directing || sim.manual()).then(|| (first, action, rest.iter().collect()))
}

/// The teacher's action in words, naming the message a deliver or a drop
/// picked ("you: deliver message #2 now — S1 → S3: vote request …").
fn move_text<'a>(
    event: &TraceEvent,
    action: Option<&Action>,
    send_of: impl Fn(u64) -> Option<&'a TraceEvent> + Copy,
) -> String {
    let said = narrate::narrate(event, send_of).1;
    let id = match action {
        Some(Action::Deliver { id } | Action::DropMessage { id }) => Some(*id),
        _ => None,
    };
    match id.and_then(send_of) {
        Some(send) => format!("{said} — {}", narrate::narrate(send, send_of).1),
        None => said,
    }
}

#[derive(Properties, PartialEq)]
pub struct CaptionProps {
    pub lab: LabHandle,
    /// The revision the feed was last drawn from: the caption follows the
    /// events with it (every event when the clock stops or steps).
    pub rev: u64,
}

/// The newest event that is not heartbeat traffic, as the clock stands:
/// its time, seq and words.
pub fn newest_event(lab: &crate::lab::Lab) -> Option<(u64, u64, String)> {
    let send_of = |id| lab.send_of(id);
    lab.past()
        .iter()
        .rev()
        .take(LOOK_BACK)
        .find(|e| !narrate::is_heartbeat_event(e, send_of))
        .map(|e| (e.time, e.seq, narrate::narrate(e, send_of).1))
}

#[function_component(RingCaption)]
pub fn ring_caption(props: &CaptionProps) -> Html {
    let lab = props.lab.0.borrow();
    let send_of = |id| lab.send_of(id);
    let newest = newest_event(&lab);
    let caused = teacher_move(&lab).map(|(event, action, rest)| {
        let shown = rest.len().min(CAUSED_MAX);
        let items = rest[..shown].iter().map(|e| {
            html! { <li data-seq={e.seq.to_string()}>{ narrate::narrate(e, send_of).1 }</li> }
        });
        let more = rest.len() - shown;
        html! {
            <div class="teacher-move" data-testid="caption-move" data-seq={event.seq.to_string()}
                data-caused={rest.len().to_string()}>
                <p class="move"><span class="ev-time">{ format!("{} ms · #{}", event.time, event.seq) }</span>
                    <span class="ev-text">{ move_text(event, action.as_ref(), send_of) }</span></p>
                if rest.is_empty() {
                    <p class="caused-none">{ "It changed nothing else yet." }</p>
                } else {
                    <ol class="caused" aria-label="what it caused">{ for items }
                        if more > 0 { <li class="more">{ format!("… and {more} more (see the feed)") }</li> }
                    </ol>
                }
            </div>
        }
    });
    let config = model::cluster_config(lab.sim());
    let joint = config.is_joint().then(|| {
        format!(
            "Joint consensus: every election and commit needs a majority of the old voters {{{}}} and of the new {{{}}} (thesis §4.3).",
            names(&config.outgoing),
            names(&config.voters)
        )
    });
    html! {
        <div class="ring-caption" data-testid="ring-caption"
            data-seq={newest.as_ref().map(|n| n.1.to_string()).unwrap_or_default()}>
            // Not live regions: `a11y::Announcer` reads the same words
            // aloud, throttled while playing, and can be switched off.
            if caused.is_none() {
                <p class="newest">
                    if let Some((time, seq, text)) = newest {
                        <span class="ev-time">{ format!("{time} ms · #{seq}") }</span>
                        <span class="ev-text">{ text }</span>
                    } else {
                        <span class="ev-text">{ "Nothing has happened yet: press ▶ Play or Step." }</span>
                    }
                </p>
            }
            { for caused }
            if let Some(j) = joint {
                <p class="joint" data-testid="joint-caption">{ j }</p>
            }
        </div>
    }
}
