//! Sharded mode's slot panels: look a key up, move a slot to another
//! group, and follow the migrations under way.

use raftlab_core::meta::{slot_of, SLOTS};
use raftlab_core::sim::sharded::MigrationPhase;
use yew::prelude::*;

use crate::components::form::{input_text, select_value};
use crate::components::parts;
use crate::sharded::lab::name;
use crate::sharded::slots::phase_word;
use crate::sharded::state::{Msg, ShardedHandle};
use crate::sharded::walk::phase_rank;

/// The most characters of a key this panel shows (the full key on hover).
const KEY_SHOWN: usize = 24;

#[derive(Properties, PartialEq)]
pub struct SlotPanelProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub lookup: String,
    pub picked: Option<u16>,
    pub onmsg: Callback<Msg>,
}

/// Key → slot → group, any slot's owner, and moving a slot.
#[function_component(SlotPanel)]
pub fn slot_panel(props: &SlotPanelProps) -> Html {
    let to = use_state(String::new);
    let slot_text = use_state(String::new);
    {
        let slot_text = slot_text.clone();
        use_effect_with(props.picked, move |p| {
            slot_text.set(p.map(|s| s.to_string()).unwrap_or_default());
        });
    }
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let onmsg = &props.onmsg;
    let onlookup = {
        let onmsg = onmsg.clone();
        Callback::from(move |e: InputEvent| onmsg.emit(Msg::Lookup(input_text(&e))))
    };
    let key = props.lookup.trim();
    let key_route = (!key.is_empty()).then(|| {
        let slot = slot_of(key);
        let owner = sim.slot_owner(slot);
        let leader = sim.leader(owner);
        html! {
            <p class="route-line">
                <span class="kk">{ "\"" }{ parts::clipped(key, KEY_SHOWN) }{ "\"" }</span>{ " → slot " }
                <b data-testid="key-slot">{ slot.to_string() }</b>{ " → " }
                <b class={classes!("gtag", format!("gc-{}", name(owner)))} data-testid="key-owner">{ name(owner) }</b>
                { match leader { Some(l) => format!(" (leader S{l})"), None => " (no leader)".into() } }
            </p>
        }
    });
    let onslot = {
        let onmsg = onmsg.clone();
        let slot_text = slot_text.clone();
        Callback::from(move |e: InputEvent| {
            let t = input_text(&e);
            onmsg.emit(Msg::PickSlot(t.trim().parse::<u16>().ok()));
            slot_text.set(t);
        })
    };
    let picked = props.picked.filter(|&s| s < SLOTS);
    let owner_line = picked.map(|slot| {
        let owner = sim.slot_owner(slot);
        let keys: Vec<String> = sim
            .leader(owner)
            .and_then(|l| sim.server(l))
            .and_then(|s| s.state_machine().kv())
            .map(|k| k.slot_data(slot).keys().take(5).cloned().collect())
            .unwrap_or_default();
        let shown_keys = keys
            .iter()
            .map(|k| parts::shorten(k, KEY_SHOWN))
            .collect::<Vec<_>>()
            .join(", ");
        html! {
            <p class="route-line">
                { format!("slot {slot} → ") }
                <b class={classes!("gtag", format!("gc-{}", name(owner)))} data-testid="slot-owner">{ name(owner) }</b>
                if !keys.is_empty() {
                    <span class="keys" title={parts::full_title(&shown_keys, &keys.join(", "))}>{ format!(" keys: {shown_keys}") }</span>
                }
            </p>
        }
    });
    let groups = lab.kv_groups();
    // The destination shown is the one used: the reader's pick, else the
    // next group after the slot's owner, else the first KV group.
    let chosen = if to.is_empty() {
        picked
            .map(|s| lab.next_group(s))
            .or(groups.first().copied())
            .map(name)
            .unwrap_or_default()
    } else {
        (*to).clone()
    };
    let options = groups.iter().map(|&g| {
        let selected = chosen == name(g);
        html! { <option value={name(g)} {selected}>{ name(g) }</option> }
    });
    let onto = {
        let to = to.clone();
        Callback::from(move |e: Event| to.set(select_value(&e)))
    };
    let onmove = {
        let onmsg = onmsg.clone();
        let slot_text = slot_text.clone();
        let chosen = chosen.clone();
        Callback::from(move |_| onmsg.emit(Msg::MoveSlot((*slot_text).clone(), chosen.clone())))
    };
    html! {
        <section class="panel slot-panel" aria-label="slots">
            <h2>{ "Slots" }<span class="sub">{ "slot = fnv1a(key) mod 1024" }</span></h2>
            <label class="field">{ "key" }
                <input type="text" data-testid="key-lookup" placeholder="look up a key" value={props.lookup.clone()} oninput={onlookup} size="10" />
            </label>
            { for key_route }
            <label class="field">{ "slot" }
                <input type="number" min="0" max={(SLOTS - 1).to_string()} data-testid="slot-query"
                    value={(*slot_text).clone()} oninput={onslot.clone()} />
            </label>
            { for owner_line }
            <div class="move-form">
                <label class="field">{ "move slot" }
                    <input type="number" min="0" max={(SLOTS - 1).to_string()} data-testid="move-slot-slot"
                        value={(*slot_text).clone()} oninput={onslot} />
                </label>
                <label class="field">{ "to" }
                    <select data-testid="move-slot-to" onchange={onto}>{ for options }</select>
                </label>
                <button type="button" class="primary" data-testid="move-slot" onclick={onmove}
                    title="freeze at the source, import at the destination, record in meta, drop at the source">{ "Move" }</button>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct MigrationsProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub onpick: Callback<Option<u16>>,
}

const PHASES: [MigrationPhase; 4] = [
    MigrationPhase::Freeze,
    MigrationPhase::Import,
    MigrationPhase::Record,
    MigrationPhase::Drop,
];

/// Every slot move, newest first, with its four phases.
#[function_component(Migrations)]
pub fn migrations(props: &MigrationsProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let list = sim.migrations();
    let items = list.iter().rev().take(8).map(|m| {
        let rank = phase_rank(m.phase);
        let steps = PHASES.iter().map(|&p| {
            let group = match p {
                MigrationPhase::Freeze | MigrationPhase::Drop => m.from,
                MigrationPhase::Import => m.to,
                _ => 0,
            };
            let class = if m.phase == MigrationPhase::Failed {
                "skipped"
            } else if phase_rank(p) < rank {
                "done"
            } else if phase_rank(p) == rank {
                "now"
            } else {
                "todo"
            };
            html! {
                <li class={class} title={format!("{} through {}'s log", phase_word(p), name(group))}>
                    <span class="pword">{ phase_word(p) }</span>
                    <span class={classes!("pgroup", format!("gc-{}", name(group)))}>{ name(group) }</span>
                </li>
            }
        });
        let slot = m.slot;
        let onclick = {
            let onpick = props.onpick.clone();
            Callback::from(move |_: MouseEvent| onpick.emit(Some(slot)))
        };
        let when = match m.ended_at {
            Some(t) => format!("{}–{t} ms", m.started_at),
            None => format!("since {} ms", m.started_at),
        };
        html! {
            <li class={classes!("migration", phase_word(m.phase))} data-testid={format!("migration-{}", m.id)}
                data-phase={phase_word(m.phase)} data-slot={m.slot.to_string()}
                data-from={name(m.from)} data-to={name(m.to)} {onclick}>
                <div class="mhead">
                    <b>{ format!("#{} slot {}", m.id, m.slot) }</b>
                    <span class={classes!("gtag", format!("gc-{}", name(m.from)))}>{ name(m.from) }</span>
                    { "→" }
                    <span class={classes!("gtag", format!("gc-{}", name(m.to)))}>{ name(m.to) }</span>
                    <span class="mphase">{ phase_word(m.phase) }</span>
                </div>
                <ol class="phases">{ for steps }</ol>
                <div class="mnote">
                    { format!("{when} · {} proposals · {} keys", m.proposals, m.keys) }
                    if let Some(n) = &m.note { <br />{ n.clone() } }
                </div>
            </li>
        }
    });
    html! {
        <section class="panel migrations-panel" aria-label="migrations">
            <h2>{ "Migrations" }<span class="sub">{ "freeze → import → record → drop" }</span></h2>
            if list.is_empty() {
                <p class="hint">{ "No slot has moved yet: pick a slot in the strip and move it." }</p>
            }
            <ul class="migrations">{ for items }</ul>
        </section>
    }
}
