//! The event feed: what happened, newest first, in plain words with the
//! reason the core gave. Clicking an event moves the clock there.

use raftlab_core::trace::{EventKind, SendBody};
use raftlab_core::types::MessageBody;
use yew::prelude::*;

use crate::narrate::{self, Tone};
use crate::state::{LabHandle, Selection};

/// Most events listed.
const SHOWN: usize = 120;
/// Most events looked at to fill the list (heartbeats are skipped).
const SCANNED: usize = 6000;

#[derive(Properties, PartialEq)]
pub struct FeedProps {
    pub lab: LabHandle,
    pub revision: (u64, usize, usize),
    pub messages: bool,
    pub heartbeats: bool,
    pub ongoto: Callback<u64>,
    pub onmessages: Callback<bool>,
    pub onheartbeats: Callback<bool>,
    /// The message or event picked in any view: its events are marked
    /// (and shown whatever the filters).
    #[prop_or_default]
    pub linked: Option<Selection>,
    #[prop_or_default]
    pub onpick: Callback<Option<Selection>>,
}

#[function_component(Feed)]
pub fn feed(props: &FeedProps) -> Html {
    let lab = props.lab.0.borrow();
    let past = lab.past();
    let send_of = |id| lab.send_of(id);
    let mut items = Vec::new();
    for e in past.iter().rev().take(SCANNED) {
        if items.len() >= SHOWN {
            break;
        }
        // Drops of heartbeats and of answers are traffic too: the feed
        // keeps the drops of requests that carry something.
        let traffic = match &e.kind {
            EventKind::Send { .. } | EventKind::Deliver { .. } => true,
            EventKind::Drop { id, .. } => match lab.send_of(*id).map(|s| &s.kind) {
                Some(EventKind::Send {
                    body: SendBody::Message(b),
                    ..
                }) => {
                    narrate::is_heartbeat(b)
                        || matches!(
                            b,
                            MessageBody::AppendEntriesResp(_)
                                | MessageBody::RequestVoteResp(_)
                                | MessageBody::SnapshotResp(_)
                        )
                }
                _ => false,
            },
            _ => false,
        };
        // A request the receiver rejected says why: keep it with the rest
        // (rejected answers are only stale ones).
        let rejected = match &e.kind {
            EventKind::Deliver {
                id,
                outcome: Some(_),
            } => matches!(
                lab.send_of(*id).map(|s| &s.kind),
                Some(EventKind::Send {
                    body: SendBody::Message(
                        MessageBody::AppendEntries(_)
                            | MessageBody::RequestVote(_)
                            | MessageBody::Snapshot(_)
                    ),
                    ..
                })
            ),
            _ => false,
        };
        let linked = props.linked.is_some_and(|s| s.covers(e));
        if traffic && !rejected && !props.messages && !linked {
            continue;
        }
        let (tone, text) = narrate::narrate(e, send_of);
        if tone == Tone::Heartbeat && !props.heartbeats && !linked {
            continue;
        }
        let seq = e.seq;
        let pick = match e.kind {
            EventKind::Send { id, .. }
            | EventKind::Deliver { id, .. }
            | EventKind::Drop { id, .. } => Selection::Message(id),
            _ => Selection::Event(seq),
        };
        let onclick = {
            let ongoto = props.ongoto.clone();
            let onpick = props.onpick.clone();
            Callback::from(move |_| {
                ongoto.emit(seq);
                onpick.emit(Some(pick));
            })
        };
        items.push(html! {
            <li key={seq.to_string()} class={classes!("ev", tone.class(), linked.then_some("linked"))}
                data-linked={linked.then_some("true")}>
                <button type="button" data-testid={format!("event-{seq}")} {onclick}
                    title="go to this moment">
                    <span class="ev-time">{ format!("{} ms", e.time) }</span>
                    <span class="ev-seq">{ format!("#{seq}") }</span>
                    <span class="ev-text">{ text }</span>
                </button>
            </li>
        });
    }
    let ahead = lab.future_len();
    let onmessages = {
        let cb = props.onmessages.clone();
        Callback::from(move |e: Event| cb.emit(checked(&e)))
    };
    let onheartbeats = {
        let cb = props.onheartbeats.clone();
        Callback::from(move |e: Event| cb.emit(checked(&e)))
    };
    html! {
        <section class="panel feed-panel" aria-label="event feed">
            <h2>{ "What happened" }</h2>
            <div class="feed-filters">
                <label><input type="checkbox" data-testid="feed-messages" checked={props.messages} onchange={onmessages} />{ " messages" }</label>
                <label><input type="checkbox" data-testid="feed-heartbeats" checked={props.heartbeats} onchange={onheartbeats} />{ " heartbeats" }</label>
            </div>
            if ahead > 0 {
                <p class="ahead" data-testid="future">
                    { format!("You are in the past: {ahead} known events lie ahead. Step or play to replay them; acting now starts a new branch.") }
                </p>
            }
            <ol class="feed" data-testid="event-feed" reversed=true>
                { for items }
            </ol>
        </section>
    }
}

fn checked(e: &Event) -> bool {
    e.target_dyn_into::<web_sys::HtmlInputElement>()
        .map(|i| i.checked())
        .unwrap_or(false)
}
