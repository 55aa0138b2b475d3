//! Directing the protocol by hand (issue 19): manual delivery and its
//! timers, the messages waiting at their receivers (deliver or drop each,
//! the oldest, or all), a heartbeat on demand, and links held and released.
//! Not delivering by hand, the messages on their way can be dropped from a
//! list too: the keyboard's way to what the drawing's clicks do.
//! Every control sends a simulator action, so each choice is part of the
//! session: timed, replayed exactly, in links and files.

use raftlab_core::sim::Action;
use raftlab_core::trace::describe as narrate;
use raftlab_core::types::NodeId;
use yew::prelude::*;

use super::form::select_value;
use crate::state::{LabHandle, Msg};

#[derive(Properties, PartialEq)]
pub struct DeliveryProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from: redrawn when that changes.
    pub rev: u64,
    pub onmsg: Callback<Msg>,
}

/// The waiting messages and the switches that decide when messages arrive.
#[function_component(DeliveryPanel)]
pub fn delivery_panel(props: &DeliveryProps) -> Html {
    let hold_from = use_state(|| 1u64);
    let hold_to = use_state(|| 2u64);
    // The list of messages on their way is drawn only while open: with
    // hundreds in flight its rows were the heaviest refresh of a frame.
    let flying_open = use_state(|| false);
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let onmsg = &props.onmsg;
    let act = |a: Action| {
        let onmsg = onmsg.clone();
        Callback::from(move |_| onmsg.emit(Msg::Act(a.clone())))
    };
    let manual = sim.manual();
    let timers = manual && sim.timers_run();
    // Delivering by hand, every message in flight is the teacher's to
    // deliver (on its way or already waiting); otherwise only what waits on
    // a held link. Oldest first.
    let waiting: Vec<_> = if manual {
        sim.flights().collect()
    } else {
        sim.waiting().collect()
    };
    let oldest = waiting.first().map(|f| f.id);
    // The rest of the messages in flight (none when delivering by hand:
    // then all are listed above).
    let on_way: Vec<_> = if manual {
        Vec::new()
    } else {
        sim.flights().filter(|f| !sim.is_waiting(f.id)).collect()
    };
    let ids: Vec<NodeId> = sim.nodes().keys().copied().collect();
    // The leader the status line names (the newest term's, should two lead).
    let leader = sim.leader();

    let onmanual = {
        let onmsg = onmsg.clone();
        Callback::from(move |e: Event| {
            let on = super::form::input_checked(&e);
            onmsg.emit(Msg::Act(Action::Manual { on, timers: false }));
        })
    };
    let ontimers = {
        let onmsg = onmsg.clone();
        Callback::from(move |e: Event| {
            let timers = super::form::input_checked(&e);
            onmsg.emit(Msg::Act(Action::Manual { on: true, timers }));
        })
    };
    let row = |f: &&raftlab_core::sim::Flight, deliver: bool| {
        let (id, from, to) = (f.id, f.msg.from, f.msg.to);
        html! {
            <li data-testid={if deliver { "waiting-msg" } else { "flight-msg" }} data-id={id.to_string()} data-from={from.to_string()}
                data-to={to.to_string()} data-kind={f.msg.body.kind()}>
                <span class="line">{ narrate::message_line(from, to, &f.msg.body) }
                    if !sim.is_waiting(id) { <span class="on-way">{ " (on its way)" }</span> }</span>
                <span class="acts">
                    if deliver {
                        <button type="button" data-testid={format!("deliver-{id}")} onclick={act(Action::Deliver { id })}
                            aria-label={format!("deliver message {id} now")}>{ "Deliver" }</button>
                    }
                    <button type="button" data-testid={format!("drop-{id}")} onclick={act(Action::DropMessage { id })}
                        aria-label={format!("drop message {id}")}>{ "Drop" }</button>
                </span>
            </li>
        }
    };
    let rows = waiting.iter().map(|f| row(f, true));
    let flying = on_way
        .iter()
        .filter(|_| *flying_open)
        .map(|f| row(f, false));
    let ontoggle = {
        let flying_open = flying_open.clone();
        Callback::from(move |e: Event| {
            let open = e
                .target()
                .and_then(|t| js_sys::Reflect::get(&t, &"open".into()).ok())
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            flying_open.set(open);
        })
    };
    let held = sim.held_links().iter().map(|&(from, to)| {
        html! {
            <li data-testid="held-link" data-from={from.to_string()} data-to={to.to_string()}>
                { format!("S{from} → S{to} held") }
                <button type="button" data-testid={format!("release-{from}-{to}")}
                    onclick={act(Action::Release { from, to })}>{ "Release" }</button>
            </li>
        }
    });
    let pick = |state: &UseStateHandle<u64>, testid: &'static str, label: &'static str| {
        let onchange = {
            let state = state.clone();
            Callback::from(move |e: Event| {
                if let Ok(v) = select_value(&e).parse() {
                    state.set(v);
                }
            })
        };
        let options = ids.iter().map(|&n| {
            html! { <option value={n.to_string()} selected={n == **state}>{ format!("S{n}") }</option> }
        });
        html! {
            <label>{ label }<select data-testid={testid} {onchange}>{ for options }</select></label>
        }
    };
    let (from, to) = (*hold_from, *hold_to);
    let can_hold = from != to && !sim.held_links().contains(&(from, to));

    html! {
        <section class="panel delivery-panel" aria-label="message delivery">
            <h2>{ "Delivery" }
                <span class="sub" data-testid="delivery-status">{
                    if manual { format!("by hand · {} waiting", waiting.len()) }
                    else if waiting.is_empty() { "messages arrive by themselves".to_string() }
                    else { format!("{} waiting on held links", waiting.len()) }
                }</span>
            </h2>
            <label class="switch">
                <input type="checkbox" data-testid="manual" checked={manual} onchange={onmanual} />
                { "Deliver messages by hand" }
            </label>
            <label class="switch">
                <input type="checkbox" data-testid="manual-timers" checked={timers} disabled={!manual} onchange={ontimers} />
                { "Timers run by themselves" }
            </label>
            if manual {
                <p class="hint">{ if timers {
                    "Messages wait at their receivers; election timeouts and heartbeats still fire."
                } else {
                    "Messages wait at their receivers and timers stand still: time out a follower or send a heartbeat yourself."
                } }</p>
            }
            <div class="buttons">
                <button type="button" data-testid="deliver-oldest" disabled={oldest.is_none()}
                    onclick={act(Action::Deliver { id: oldest.unwrap_or(0) })}>{ "Deliver the oldest" }</button>
                <button type="button" data-testid="deliver-all" disabled={waiting.is_empty()}
                    onclick={{
                        let onmsg = onmsg.clone();
                        let all: Vec<u64> = waiting.iter().map(|f| f.id).collect();
                        Callback::from(move |_| for &id in &all {
                            onmsg.emit(Msg::Act(Action::Deliver { id }));
                        })
                    }}>{ "Deliver all" }</button>
                <button type="button" data-testid="heartbeat" disabled={leader.is_none()}
                    title="the leader sends a heartbeat round now"
                    onclick={act(Action::Heartbeat { node: leader.unwrap_or(0) })}>{
                        match leader { Some(l) => format!("S{l} sends heartbeat"), None => "Send heartbeat".into() }
                    }</button>
            </div>
            if !waiting.is_empty() {
                <ol class="waiting" aria-label="messages waiting, oldest first">{ for rows }</ol>
            }
            if !manual {
                <details class="in-flight" data-testid="in-flight" data-count={on_way.len().to_string()}
                    open={*flying_open} {ontoggle}>
                    <summary>{ format!("Messages on their way ({})", on_way.len()) }</summary>
                    <ol class="waiting" aria-label="messages on their way, oldest first">{ for flying }</ol>
                </details>
            }
            <div class="hold">
                { pick(&hold_from, "hold-from", "from ") }
                { pick(&hold_to, "hold-to", " to ") }
                <button type="button" data-testid="hold" disabled={!can_hold}
                    title="its messages wait at the receiver until released (a cut loses them)"
                    onclick={act(Action::Hold { from, to })}>{ "Hold link" }</button>
            </div>
            if !sim.held_links().is_empty() {
                <ul class="held">{ for held }</ul>
            }
        </section>
    }
}
