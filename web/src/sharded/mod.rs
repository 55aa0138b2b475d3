//! Sharded mode (`?mode=sharded`): a meta group holding the slot table and
//! two or three KV groups, each a real Raft group, on one simulated network
//! (`raftlab_core::sim::sharded::ShardedSim`). One ring per group side by
//! side, the slot table as a strip coloured by owner with migrations
//! animated, clients routed by slot, node and network actions on any group,
//! membership changes inside any group, an event feed of every group, the
//! live checkers, and a guided walkthrough.
//!
//! URL parameters: `seed`, `groups` (KV groups, 1 to 3), `nodes` (per KV
//! group), `meta` (meta nodes), `speed`, `paused=1`, `walk=0` (walkthrough
//! closed), `latency` (max ms), read by `crate::url::read` with a notice
//! for each value that cannot be used.

mod feed;
mod lab;
mod panels;
mod ring;
mod slots;
mod state;
mod walk;

use std::rc::Rc;

use raftlab_core::kv::KvOp;
use raftlab_core::types::NodeId;
use yew::prelude::*;

use feed::ShardedFeed;
use lab::name;
use panels::{
    Checker, ClientPanel, Migrations, NetworkPanel, NodePanel, RunPanel, SlotPanel, Transport,
    WalkPanel,
};
use ring::GroupRing;
use slots::{Moving, SlotStrip};
use state::{Msg, ShardedSetup, ShardedState, SPEED_DEFAULT};

/// A KV operation's word.
pub fn op_word(op: &KvOp) -> &'static str {
    match op {
        KvOp::Put => "put",
        KvOp::Get => "get",
        KvOp::Delete => "delete",
    }
}

/// The first run's settings and clock, from what the URL asks for (each
/// value already checked by `crate::url::read`).
fn setup_from(q: &crate::url::Query) -> (ShardedSetup, f64, bool, bool) {
    let mut setup = ShardedSetup::default();
    if let Some(v) = q.seed {
        setup.seed = v;
    }
    if let Some(v) = q.groups {
        setup.cfg.kv_groups = v;
    }
    if let Some(v) = q.nodes {
        setup.cfg.nodes_per_group = v;
    }
    if let Some(v) = q.meta {
        setup.cfg.meta_nodes = v;
    }
    if let Some(v) = q.latency {
        setup.cfg.sim.latency_ms = [(v / 5).max(1), v];
    }
    let speed = q.speed.unwrap_or(SPEED_DEFAULT);
    (setup, speed, !q.paused, q.walk.unwrap_or(true))
}

/// The sharded page.
#[function_component(ShardedApp)]
pub fn sharded_app() -> Html {
    // The query is read once; what it could not use is listed above the
    // page until dismissed.
    let query = use_memo((), |_| crate::url::read(&crate::url::search()));
    let url_notices = {
        let query = query.clone();
        use_state(move || query.notices.clone())
    };
    let on_url_dismiss = {
        let url_notices = url_notices.clone();
        Callback::from(move |i: usize| {
            let mut list = (*url_notices).clone();
            if i < list.len() {
                list.remove(i);
            }
            url_notices.set(list);
        })
    };
    let state = use_reducer(|| {
        let (setup, speed, playing, walk) = setup_from(&query);
        ShardedState::new(setup, speed, playing, walk)
    });
    let onmsg = {
        let state = state.clone();
        Callback::from(move |m: Msg| state.dispatch(m))
    };

    // The render loop: one frame after another while playing.
    {
        let dispatch = state.dispatcher();
        crate::hooks::use_frame_loop(
            state.playing,
            Callback::from(move |ms| dispatch.dispatch(Msg::Frame(ms))),
        );
    }

    // Keyboard: space plays or pauses, arrows step; only when the focus is
    // on no field or control (Space and Enter press a focused one).
    {
        let dispatch = state.dispatcher();
        crate::hooks::use_keys(Rc::new(move |e: &web_sys::KeyboardEvent| {
            let target = crate::hooks::key_target(e);
            if target != crate::hooks::KeyTarget::Page && e.key() != "Escape" {
                return false;
            }
            let msg = match e.key().as_str() {
                " " => Msg::TogglePlay,
                "ArrowRight" => Msg::Step,
                "ArrowLeft" => Msg::StepBack,
                "Escape" => Msg::Select(None),
                _ => return false,
            };
            dispatch.dispatch(msg);
            true
        }));
    }

    let lab = state.lab.clone();
    let version = state.version;
    let (
        vt,
        now,
        step,
        position,
        in_past,
        branches,
        groups,
        leaders,
        leaders_words,
        table,
        moving,
        migrating,
    ) = {
        let l = lab.0.borrow();
        let sim = l.sim();
        let groups: Vec<_> = sim.groups().iter().map(|g| g.id).collect();
        let leaders = sim
            .groups()
            .iter()
            .map(|g| {
                format!(
                    "{}={}",
                    g.name,
                    sim.leader(g.id).map(|n| n.to_string()).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        // The same, in words for the status line: "leaders: meta S1, g1
        // S4, g2 none yet".
        let leaders_words = format!(
            "leaders: {}",
            sim.groups()
                .iter()
                .map(|g| match sim.leader(g.id) {
                    Some(n) => format!("{} S{n}", g.name),
                    None => format!("{} none yet", g.name),
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        let in_progress = sim.migrations_in_progress();
        let moving: Vec<Moving> = in_progress
            .iter()
            .map(|m| (m.slot, m.from, m.to, m.phase))
            .collect();
        (
            l.vt(),
            sim.now(),
            sim.step_count(),
            sim.position(),
            l.in_past(),
            l.branches(),
            groups,
            leaders,
            leaders_words,
            Rc::new(sim.slot_table()),
            moving,
            in_progress.len(),
        )
    };
    let down = panels::down_count(lab.0.borrow().sim());
    let onselect = onmsg.reform(Msg::Select);
    let onlink = onmsg.reform(|(a, b): (NodeId, NodeId)| Msg::ToggleLink(a, b));
    let ondrop = onmsg.reform(Msg::DropMessage);
    let onpick = onmsg.reform(Msg::PickSlot);
    let ongoto = onmsg.reform(Msg::GotoEvent);
    let rings = groups.iter().map(|&g| {
        html! {
            <GroupRing key={g} lab={lab.clone()} version={version} group={g} selected={state.selected}
                onselect={onselect.clone()} onlink={onlink.clone()} ondrop={ondrop.clone()} />
        }
    });
    let swatches = groups.iter().filter(|&&g| g != 0).map(|&g| {
        html! { <span class="key"><span class={classes!("swatch", format!("own-{}", name(g)))} />{ name(g) }</span> }
    });
    let notice = state
        .notice
        .clone()
        .map(|n| crate::components::parts::notice(n.text, n.error, onmsg.reform(|_| Msg::Dismiss)));
    let walk_toggle = {
        let onmsg = onmsg.clone();
        let open = state.walk_open;
        Callback::from(move |_| onmsg.emit(Msg::WalkOpen(!open)))
    };
    let phases_note = moving
        .iter()
        .map(|&(slot, from, to, p)| {
            format!(
                "slot {slot}: {} → {} · {}",
                name(from),
                name(to),
                slots::phase_word(p)
            )
        })
        .collect::<Vec<_>>()
        .join("   ");

    html! {
        <div class="app sharded">
            <header class="masthead">
                <h1>{ "raftlab" }</h1>
                <p class="tagline">{ "sharded: one Raft group per ring" }</p>
                <Transport playing={state.playing} speed={state.speed} vt={vt} in_past={in_past} onmsg={onmsg.clone()} />
                if branches > 0 {
                    <span class="branch-note" data-testid="branch" title="you acted in the past: the old future was discarded">
                        { format!("⑂ branch {}", branches + 1) }
                    </span>
                }
                <div class="view-buttons">
                    <button type="button" data-testid="walk-open" aria-pressed={state.walk_open.to_string()}
                        onclick={walk_toggle} title="the guided walkthrough of sharded mode">{ "Walkthrough" }</button>
                    <a class="mode-link" href="?" data-testid="mode-switch" title="back to one Raft group">{ "Single group" }</a>
                </div>
            </header>
            // A named region, as in the single-group view.
            <section class="status-area" aria-label="Run status and notices">
            <div class="status" data-testid="status" aria-live="off"
                data-now={now.to_string()} data-step={step.to_string()} data-position={position.to_string()}
                data-leaders={leaders.clone()} data-playing={state.playing.to_string()}
                data-migrations={migrating.to_string()} data-version={version.to_string()}
                data-in-past={in_past.to_string()} data-down={down.to_string()}>
                { format!("{} · seed {} · {position} events", leaders_words, state.setup.seed) }
                if down > 0 { { format!(" · {down} node(s) down") } }
            </div>
            { for notice }
            { crate::url::notices(&url_notices, &on_url_dismiss) }
            </section>
            <main class="sharded-layout">
                <section class="rings" aria-label="Raft groups">{ for rings }</section>
                <section class="panel strip-panel" aria-label="slot table">
                    <h2>
                        { "Slot table" }
                        <span class="sub">{ "as the meta group holds it; click a slot" }</span>
                        <span class="strip-keys">{ for swatches }
                            <span class="key"><span class="swatch moving-key" />{ "moving" }</span>
                        </span>
                    </h2>
                    <SlotStrip table={table} moving={moving.clone()} picked={state.picked} onpick={onpick.clone()} />
                    if !phases_note.is_empty() {
                        <p class="moving-note" data-testid="moving-note">{ phases_note }</p>
                    }
                </section>
                <div class="sharded-cols">
                    <div class="col">
                        if state.walk_open {
                            <WalkPanel lab={lab.clone()} version={version} walk={state.walk.clone()} step={state.walk_step}
                                since={state.walk_since} lookup={state.lookup.clone()} onmsg={onmsg.clone()} />
                        }
                        <SlotPanel lab={lab.clone()} version={version} lookup={state.lookup.clone()} picked={state.picked} onmsg={onmsg.clone()} />
                        <Migrations lab={lab.clone()} version={version} onpick={onpick} />
                    </div>
                    <div class="col">
                        <ClientPanel lab={lab.clone()} version={version} last={state.last_client} onmsg={onmsg.clone()} />
                        <NodePanel lab={lab.clone()} version={version} selected={state.selected}
                            group={state.member_group} joint={state.joint.clone()} onmsg={onmsg.clone()} />
                        <ShardedFeed lab={lab.clone()} version={version} picked={state.picked_event}
                            log={state.feed_log} group={state.feed_group.clone()} onmsg={onmsg.clone()} />
                    </div>
                    <div class="col">
                        <Checker lab={lab.clone()} version={version} ongoto={ongoto} />
                        <NetworkPanel lab={lab.clone()} version={version} sides={state.sides.clone()}
                            latency={state.latency} loss={state.loss} onmsg={onmsg.clone()} />
                        <RunPanel setup={state.setup.clone()} onmsg={onmsg.clone()} />
                    </div>
                </div>
            </main>
        </div>
    }
}
