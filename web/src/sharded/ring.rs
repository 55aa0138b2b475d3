//! One Raft group drawn as a ring, in the single-group view's visual
//! language (the same role classes, crown, timer arc and message glyphs):
//! its nodes, its one-way links (click to cut), its messages in flight
//! (click to drop), and in the middle what other parts of the system ask of
//! it right now: client operations routed to it and migration steps
//! proposed to it.

use std::collections::BTreeMap;

use raftlab_core::meta::GroupId;
use raftlab_core::sim::sharded::{MigrationPhase, ShardedSim};
use raftlab_core::sim::Flight;
use raftlab_core::types::{MessageBody, NodeId, Role};
use yew::prelude::*;

use super::lab::{name, Standing};
use super::op_word;
use super::state::ShardedHandle;
use crate::components::cluster;
use crate::ring;

/// Side of the square drawing, user units.
const VIEW: f64 = 300.0;
/// Ring radius.
const RING: f64 = 92.0;
/// Room above the ring for the top node's role word.
const TOP: f64 = -22.0;
/// Half the gap between the two directions of a link.
const LANE: f64 = 5.0;
/// How long a lost message stays drawn, simulated ms.
const FADE_MS: f64 = 400.0;

fn f(x: f64) -> String {
    format!("{x:.1}")
}

fn node_radius(count: usize) -> f64 {
    match count {
        0..=4 => 30.0,
        5 => 27.0,
        _ => 21.0,
    }
}

#[derive(Properties, PartialEq)]
pub struct GroupRingProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub group: GroupId,
    pub selected: Option<NodeId>,
    pub onselect: Callback<Option<NodeId>>,
    pub onlink: Callback<(NodeId, NodeId)>,
    pub ondrop: Callback<u64>,
}

/// One group's ring with its title.
#[function_component(GroupRing)]
pub fn group_ring(props: &GroupRingProps) -> Html {
    let reduced_motion = crate::hooks::use_media(ring::REDUCED_MOTION);
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let vt = lab.vt();
    let g = props.group;
    let gname = name(g);
    let ids: Vec<NodeId> = sim.group_nodes(g).to_vec();
    let r = node_radius(ids.len());
    let c = VIEW / 2.0;
    let centres = cluster::centres(&ids, c, RING);
    // Tall enough for a node at the bottom of the ring and its role word
    // (an even number of nodes puts one there).
    let bottom = centres.values().map(|p| p.1).fold(0.0, f64::max) + r + 20.0;
    let height = (VIEW - TOP - 36.0).max(bottom - TOP);
    let leader = sim.leader(g);
    let leader_term = leader.map(|l| lab.term_of(l));

    let links = ids.iter().flat_map(|&a| {
        let centres = &centres;
        ids.iter().filter(move |&&b| b != a).map(move |&b| {
            let lane = ring::lane(centres[&a], centres[&b], r + 3.0, LANE);
            let state = cluster::LinkState {
                from: a,
                to: b,
                up: sim.link_up(a, b),
                cut: sim.cut_links().contains(&(a, b)),
                held: sim.held_links().contains(&(a, b)),
            };
            let onclick = cluster::click_sends(&props.onlink, (a, b));
            cluster::link(state, lane, Some(onclick))
        })
    });
    let nodes = ids.iter().map(|&id| {
        draw_node(
            sim,
            &gname,
            id,
            centres[&id],
            r,
            vt,
            lab.term_of(id),
            lab.standing(id),
            props.selected == Some(id),
            &props.onselect,
        )
    });
    let mut queued = std::collections::HashMap::new();
    let flights = sim
        .flights()
        .filter(|fl| centres.contains_key(&fl.msg.from))
        .filter_map(|fl| {
            // On a held link a message waits at its receiver, queued along
            // the lane, the oldest nearest (as in the single-group ring).
            let wait = sim.is_waiting(fl.id).then(|| {
                let place = queued.entry((fl.msg.from, fl.msg.to)).or_insert(0usize);
                *place += 1;
                *place - 1
            });
            draw_flight(fl, &centres, r, (vt, reduced_motion), wait, &props.ondrop)
        });
    let dropped = sim.dropped().iter().filter_map(|d| {
        let at = d.at as f64;
        let age = vt - at;
        if !(0.0..=FADE_MS).contains(&age) {
            return None;
        }
        let fl = &d.flight;
        let a = *centres.get(&fl.msg.from)?;
        let b = *centres.get(&fl.msg.to)?;
        let span = fl.arrive_at.saturating_sub(fl.sent_at).max(1) as f64;
        let (x, y) = ring::along(ring::lane(a, b, r, LANE), (at - fl.sent_at as f64) / span);
        Some(html! {
            <g class="dropped" data-testid="dropped" transform={format!("translate({} {})", f(x), f(y))}
                opacity={format!("{:.2}", 1.0 - age / FADE_MS)}>
                <title>{ format!("lost: {:?}", d.reason) }</title>
                <path class="drop-x" d="M-6,-6 L6,6 M6,-6 L-6,6" />
            </g>
        })
    });

    // What other parts of the system ask of this group right now.
    let mut asks: Vec<(String, &'static str)> = Vec::new();
    for m in sim.migrations_in_progress() {
        let (target, what) = match m.phase {
            MigrationPhase::Freeze => (m.from, "freeze"),
            MigrationPhase::Import => (m.to, "import"),
            MigrationPhase::Record => (0, "record"),
            MigrationPhase::Drop => (m.from, "drop"),
            _ => continue,
        };
        if target == g {
            asks.push((format!("#{} {what} slot {}", m.id, m.slot), "ask-mig"));
        }
    }
    for cv in sim.clients() {
        let Some(op) = &cv.current else { continue };
        let at_meta = cv.asking_meta || cv.target_group.is_none();
        let here = if at_meta {
            g == 0
        } else {
            cv.target_group == Some(g)
        };
        if here {
            let text = if at_meta {
                format!("c{}: table? (for {})", cv.id, op.key)
            } else {
                format!("c{}: {} {}", cv.id, op_word(&op.op), op.key)
            };
            asks.push((text, "ask-client"));
        }
    }
    // Between the top node and the crowns of the lower ones.
    let shown = asks.len().min(4);
    let asks_svg = asks.iter().take(shown).enumerate().map(|(i, (text, class))| {
        let y = c - 24.0 - (shown as f64 - 1.0) * 7.0 + i as f64 * 14.0;
        html! { <text class={classes!("ask", *class)} x={f(c)} y={f(y)}>{ text.clone() }</text> }
    });

    // Which partition side(s) the group's nodes are on.
    let side = sim.partition().map(|sides| {
        let mut letters: Vec<char> = ids
            .iter()
            .filter_map(|n| sides.iter().position(|s| s.contains(n)))
            .map(|i| (b'A' + (i as u8).min(25)) as char)
            .collect();
        letters.sort_unstable();
        letters.dedup();
        let list: Vec<String> = letters.iter().map(char::to_string).collect();
        if letters.len() == 1 {
            format!("side {}", list.join(""))
        } else {
            format!("split {}", list.join("/"))
        }
    });
    let slots = (g != 0).then(|| lab.slots_owned(g));
    let subtitle = match leader {
        Some(l) => format!("S{l} leads · term {}", leader_term.unwrap_or(0)),
        None => "no leader".into(),
    };
    let role = if g == 0 {
        "slot table".to_string()
    } else {
        format!("{} slots", slots.unwrap_or(0))
    };
    html! {
        <figure class={classes!("group-ring", format!("gc-{gname}"))} data-testid={format!("group-{gname}")}
            data-leader={leader.map(|l| l.to_string()).unwrap_or_default()}
            data-term={leader_term.map(|t| t.to_string()).unwrap_or_default()}
            data-slots={slots.map(|s| s.to_string()).unwrap_or_default()}>
            <figcaption>
                <span class="gname">{ gname.clone() }</span>
                <span class="grole">{ role }</span>
                if let Some(side) = side {
                    <span class="gside" data-testid={format!("side-{gname}")}>{ side }</span>
                }
                <span class="glead">{ subtitle }</span>
            </figcaption>
            <svg class="cluster mini" viewBox={format!("0 {TOP} {VIEW} {}", f(height))} role="img"
                aria-label={format!("Raft group {gname}: {} nodes", ids.len())}>
                <circle class="ring" cx={f(c)} cy={f(c)} r={f(RING)} />
                <g class="links">{ for links }</g>
                <g class="asks">{ for asks_svg }</g>
                <g class="nodes">{ for nodes }</g>
                <g class="flights">{ for flights }{ for dropped }</g>
            </svg>
        </figure>
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_node(
    sim: &ShardedSim,
    gname: &str,
    id: NodeId,
    (x, y): (f64, f64),
    r: f64,
    vt: f64,
    term: u64,
    standing: Standing,
    selected: bool,
    onselect: &Callback<Option<NodeId>>,
) -> Html {
    let server = sim.server(id);
    let alive = server.is_some();
    let role = server.map(|s| s.state()).unwrap_or(Role::Follower);
    let commit = server.map(|s| s.commit_idx()).unwrap_or(0);
    let applied = server.map(|s| s.last_applied_idx()).unwrap_or(0);
    let frac_tick = (vt - sim.now() as f64).clamp(0.0, 1.0);
    // Every live node's timer, learners' too.
    let timer = server.map(|s| cluster::timer_arc(s, frac_tick, (x, y), r + 6.0));
    let crown = (alive && role == Role::Leader).then(|| {
        html! {
            <path class="crown" transform={format!("translate({} {}) scale(0.75)", f(x), f(y - r - 13.0))}
                d={cluster::CROWN} />
        }
    });
    let word = if !alive {
        "crashed"
    } else if standing != Standing::Voter && role != Role::Leader {
        // A learner or a removed server: what it is matters more than its role.
        standing.word()
    } else {
        match role {
            Role::Leader => "leader",
            Role::Candidate => "candidate",
            Role::PreCandidate => "pre-candidate",
            Role::Follower => "follower",
        }
    };
    let onclick = cluster::click_sends(onselect, (!selected).then_some(id));
    // Below the node on the lower half of the ring, above it on the upper.
    let below = y >= VIEW / 2.0 - 1.0;
    let detail_y = if below { y + r + 14.0 } else { y - r - 30.0 };
    html! {
        <g class={classes!("node", role.as_str(), (!alive).then_some("crashed"), selected.then_some("selected"),
            (standing != Standing::Voter).then_some(standing.word()))}
            key={id.to_string()} {onclick}>
            { for timer }
            if selected {
                <circle class="select-ring" cx={f(x)} cy={f(y)} r={f(r + 11.0)} />
            }
            <circle class="body" cx={f(x)} cy={f(y)} r={f(r)}
                data-testid={format!("node-{id}")}
                data-group={gname.to_string()}
                data-role={role.as_str()}
                data-term={term.to_string()}
                data-alive={alive.to_string()}
                data-commit={commit.to_string()}
                data-applied={applied.to_string()}
                data-selected={selected.to_string()}
                data-member={standing.word()}>
                <title>{ format!("S{id} of {gname}: {word} ({}), term {term}, commit {commit} — click to select", standing.word()) }</title>
            </circle>
            <text class="label" x={f(x)} y={f(y - 6.0)}>{ format!("S{id}") }</text>
            <text class="term" x={f(x)} y={f(y + 12.0)}>{ format!("term {term}") }</text>
            <text class="detail" x={f(x)} y={f(detail_y)}>{ word }</text>
            { for crown }
        </g>
    }
}

/// A message's css class (shared with the single-group view) and its text.
fn glyph(fl: &Flight) -> (&'static str, String) {
    match &fl.msg.body {
        MessageBody::RequestVote(r) if r.prevote => ("m-prevote", "PV".into()),
        MessageBody::RequestVote(_) => ("m-vote", "V".into()),
        MessageBody::RequestVoteResp(r) => (
            if r.vote_granted { "m-yes" } else { "m-no" },
            if r.vote_granted { "✓" } else { "✗" }.into(),
        ),
        MessageBody::AppendEntries(a) if a.timeout_now => ("m-timeoutnow", "TN".into()),
        MessageBody::AppendEntries(a) if a.entries.is_empty() => ("m-heartbeat", String::new()),
        MessageBody::AppendEntries(a) => ("m-append", a.entries.len().to_string()),
        MessageBody::AppendEntriesResp(r) => {
            (if r.success { "m-ack" } else { "m-nack" }, String::new())
        }
        MessageBody::Snapshot(_) => ("m-snapshot", "snap".into()),
        MessageBody::SnapshotResp(r) => {
            (if r.success { "m-snapack" } else { "m-no" }, String::new())
        }
    }
}

fn draw_flight(
    fl: &Flight,
    centres: &BTreeMap<NodeId, (f64, f64)>,
    r: f64,
    (vt, reduced_motion): (f64, bool),
    waits: Option<usize>,
    ondrop: &Callback<u64>,
) -> Option<Html> {
    let a = *centres.get(&fl.msg.from)?;
    let b = *centres.get(&fl.msg.to)?;
    let span = fl.arrive_at.saturating_sub(fl.sent_at).max(1) as f64;
    let frac = match waits {
        Some(k) => ring::queue_place(k),
        None => ring::travelled((vt - fl.sent_at as f64) / span, reduced_motion),
    };
    let (x, y) = ring::along(ring::lane(a, b, r, LANE), frac);
    let (class, text) = glyph(fl);
    let id = fl.id;
    let onclick = cluster::click_sends(ondrop, id);
    let shape = match class {
        "m-prevote" | "m-vote" | "m-yes" | "m-no" => html! { <circle class="shape" r="9" /> },
        "m-heartbeat" => {
            html! { <rect class="shape" x="-6" y="-4" width="12" height="8" rx="2" /> }
        }
        "m-ack" | "m-snapack" => {
            html! { <rect class="shape" x="-5" y="-5" width="10" height="10" rx="5" /> }
        }
        "m-nack" => html! { <rect class="shape" x="-6" y="-6" width="12" height="12" rx="2" /> },
        _ => html! { <rect class="shape" x="-10" y="-7" width="20" height="14" rx="3" /> },
    };
    Some(html! {
        <g class={classes!("msg", class, waits.is_some().then_some("waiting"))} key={id.to_string()} data-testid="msg"
            data-kind={fl.msg.body.kind()} data-id={id.to_string()}
            data-from={fl.msg.from.to_string()} data-to={fl.msg.to.to_string()}
            data-waiting={waits.is_some().to_string()}
            transform={format!("translate({} {})", f(x), f(y))} {onclick}>
            <title>{ format!("#{id} S{} → S{}: {}{} — click to drop it", fl.msg.from, fl.msg.to, fl.msg.body.kind(),
                if waits.is_some() { ", waiting on a held link until it is released" } else { "" }) }</title>
            if waits.is_some() { <circle class="wait-ring" r="13" /> }
            { shape }
            if !text.is_empty() {
                <text>{ text }</text>
            }
        </g>
    })
}
