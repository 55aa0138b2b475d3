//! The caption under the ring: the newest event in words, as the clock
//! stands (stepping forward or back changes it), so a class watching the
//! projector need not read the feed; and, while the cluster is joint, the
//! two configurations every decision needs a majority of. Heartbeat traffic
//! is passed over: it would hide what changed.

use raftlab_core::trace::describe as narrate;
use yew::prelude::*;

use crate::components::panels::names;
use crate::model;
use crate::state::LabHandle;

/// How far back the caption looks for an event that is not a heartbeat.
const LOOK_BACK: usize = 400;

#[derive(Properties, PartialEq)]
pub struct CaptionProps {
    pub lab: LabHandle,
    /// The live revision: the caption follows every event.
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
    let newest = newest_event(&lab);
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
            // Not a live region: `a11y::Announcer` reads the same words
            // aloud, throttled while playing, and can be switched off.
            <p class="newest">
                if let Some((time, seq, text)) = newest {
                    <span class="ev-time">{ format!("{time} ms · #{seq}") }</span>
                    <span class="ev-text">{ text }</span>
                } else {
                    <span class="ev-text">{ "Nothing has happened yet: press ▶ Play or Step." }</span>
                }
            </p>
            if let Some(j) = joint {
                <p class="joint" data-testid="joint-caption">{ j }</p>
            }
        </div>
    }
}
