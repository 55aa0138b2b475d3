//! The event feed: what happened, newest first, in plain words with the
//! reason the core gave. Clicking an event moves the clock there.
//!
//! While the clock plays at full speed a third of the list is new at each
//! refresh: an event's words are made once (kept by seq for the run and
//! branch they belong to) and each row is a component of plain values, so
//! a refresh builds and diffs only the new rows.

use std::collections::HashMap;

use raftlab_core::trace::{EventKind, SendBody};
use raftlab_core::types::MessageBody;
use yew::prelude::*;

use super::form::input_checked;
use super::parts;
use crate::state::LabHandle;
use crate::vocab::Selection;
use raftlab_core::trace::describe::{self as narrate, Tone};

/// Most events listed.
const SHOWN: usize = 120;
/// Most events looked at to fill the list (heartbeats are skipped).
const SCANNED: usize = 6000;

#[derive(Properties, PartialEq)]
pub struct FeedProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
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

/// The words of the events listed last, by seq, and the run they belong
/// to: the lab and how many branches it had (a branch gives the seqs after
/// its start to other events).
#[derive(Default)]
struct Words {
    run: Option<(LabHandle, usize)>,
    by_seq: HashMap<u64, (Tone, AttrValue)>,
}

#[function_component(Feed)]
pub fn feed(props: &FeedProps) -> Html {
    let words = use_mut_ref(Words::default);
    let lab = props.lab.0.borrow();
    let past = lab.past();
    let send_of = |id| lab.send_of(id);
    let mut words = words.borrow_mut();
    let run = Some((props.lab.clone(), lab.branches().len()));
    if words.run != run {
        words.run = run;
        words.by_seq.clear();
    }
    let mut kept = HashMap::new();
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
        let (tone, text) = words.by_seq.remove(&e.seq).unwrap_or_else(|| {
            let (tone, text) = narrate::narrate(e, send_of);
            (tone, AttrValue::from(text))
        });
        kept.insert(e.seq, (tone, text.clone()));
        if tone == Tone::Heartbeat && !props.heartbeats && !linked {
            continue;
        }
        let pick = match e.kind {
            EventKind::Send { id, .. }
            | EventKind::Deliver { id, .. }
            | EventKind::Drop { id, .. } => Selection::Message(id),
            _ => Selection::Event(e.seq),
        };
        items.push(html! {
            <Row key={e.seq} seq={e.seq} time={e.time} {tone} {text} {linked} {pick}
                ongoto={props.ongoto.clone()} onpick={props.onpick.clone()} />
        });
    }
    // Only what this list showed (or looked at) is kept for the next one.
    words.by_seq = kept;
    drop(words);
    html! {
        <section class="panel feed-panel" aria-label="event feed">
            <h2>{ "What happened" }</h2>
            <div class="feed-filters">
                { filter("feed-messages", " messages", props.messages, &props.onmessages) }
                { filter("feed-heartbeats", " heartbeats", props.heartbeats, &props.onheartbeats) }
            </div>
            { events(lab.future_len(), items) }
        </section>
    }
}

/// A filter of the feed: a ticked box and what it shows; it sends whether
/// it is ticked.
pub fn filter(testid: &str, label: &str, on: bool, ontoggle: &Callback<bool>) -> Html {
    let onchange = ontoggle.reform(|e: Event| input_checked(&e));
    html! {
        <label><input type="checkbox" data-testid={testid.to_string()} checked={on} {onchange} />{ label.to_string() }</label>
    }
}

/// The events listed, newest first, under a note of how many known events
/// lie ahead while the clock is in the past.
pub fn events(ahead: u64, items: Vec<Html>) -> Html {
    html! {
        <>
            if ahead > 0 {
                <p class="ahead" data-testid="future">
                    { format!("You are in the past: {ahead} known events lie ahead. Step or play to replay them; acting now starts a new branch.") }
                </p>
            }
            <ol class="feed" data-testid="event-feed" reversed=true>
                { for items }
            </ol>
        </>
    }
}

/// The CSS class that gives a tone its icon and colour (style.css).
pub fn tone_class(tone: Tone) -> &'static str {
    match tone {
        Tone::Election => "tone-election",
        Tone::Log => "tone-log",
        Tone::Message => "tone-message",
        Tone::Heartbeat => "tone-heartbeat",
        Tone::Fault => "tone-fault",
        Tone::User => "tone-user",
    }
}

#[derive(Properties, PartialEq)]
struct RowProps {
    seq: u64,
    time: u64,
    tone: Tone,
    text: AttrValue,
    linked: bool,
    /// What a click picks: the message, or the event.
    pick: Selection,
    ongoto: Callback<u64>,
    onpick: Callback<Option<Selection>>,
}

/// One event of the feed.
#[function_component(Row)]
fn row(props: &RowProps) -> Html {
    let seq = props.seq;
    // A sentence quoting a long key or value is shown cut, whole on hover.
    let shown = parts::feed_text(&props.text);
    let title = parts::full_title(&shown, &props.text);
    let onclick = {
        let (ongoto, onpick, pick) = (props.ongoto.clone(), props.onpick.clone(), props.pick);
        Callback::from(move |_| {
            ongoto.emit(seq);
            onpick.emit(Some(pick));
        })
    };
    html! {
        <li class={classes!("ev", tone_class(props.tone), props.linked.then_some("linked"))}
            data-linked={props.linked.then_some("true")}>
            <button type="button" data-testid={format!("event-{seq}")} {onclick}
                title="go to this moment">
                <span class="ev-time">{ format!("{} ms", props.time) }</span>
                <span class="ev-seq">{ format!("#{seq}") }</span>
                <span class="ev-text" {title}>{ shown.into_owned() }</span>
            </button>
        </li>
    }
}
