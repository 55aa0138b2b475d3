//! The cluster drawn as a ring: nodes with role, term, election timer,
//! vote tally and crown; one-way links that can be cut by a click; and
//! every message in flight at its exact position for the visual time
//! (painted on a canvas over the SVG: see `flights`).

mod clear;
mod flights;

use std::collections::{BTreeMap, HashMap};
use std::f64::consts::TAU;
use std::rc::Rc;

use raftlab_core::raft::{RaftServer, ReplicaState};
use raftlab_core::sim::{Flight, Sim, SimNode};
use raftlab_core::types::{MessageBody, NodeId, Role};
use raftlab_core::{MemLogStore, MemNetwork, MemStorage, StateMachine};
use yew::prelude::*;

use self::clear::{Footprint, WordKind, LANE};
use self::flights::{
    Emphasis, FlightLayer, Flying, Glyph, Listed, ListedLost, Lost, Scene, TimerArc, Word,
};
use crate::model::{self, Standing};
use crate::ring;
use crate::state::{LabHandle, Stamp};
use crate::vocab::Selection;
use raftlab_core::trace::describe as narrate;

// VIEW: side of the square drawing, in user units.
use self::flights::VIEW;
/// How long a lost message stays drawn, simulated ms (the sim's memory).
const FADE_MS: f64 = 400.0;
/// The leader's crown, centred on (0, 0), 30 units wide.
pub const CROWN: &str = "M-15,7 L-15,-5 L-7.5,1 L0,-10 L7.5,1 L15,-5 L15,7 Z";

fn f(x: f64) -> String {
    format!("{x:.1}")
}

#[derive(Properties, PartialEq)]
pub struct ClusterProps {
    pub lab: LabHandle,
    /// The live stamp (`UiState::stamp`): it follows every frame.
    pub stamp: Stamp,
    pub selected: Option<NodeId>,
    pub onselect: Callback<Option<NodeId>>,
    pub onlink: Callback<(NodeId, NodeId)>,
    pub ondrop: Callback<u64>,
    /// A click on a message the teacher delivers (by hand, or waiting on
    /// a held link).
    pub ondeliver: Callback<u64>,
    /// What the lesson draws attention to.
    #[prop_or_default]
    pub highlight: raftlab_core::lesson::Highlight,
    /// The message or event picked in any view.
    #[prop_or_default]
    pub linked: Option<Selection>,
    /// Presenting to a room: larger nodes and words (`ring::layout`).
    #[prop_or_default]
    pub large: bool,
}

/// What is drawn of a message in flight that does not change while it
/// flies, made once per message: every frame then only moves it (the ring
/// redraws on every frame, with hundreds of messages in flight).
struct FlightLook {
    glyph: Glyph,
    footprint: Footprint,
    kind: &'static str,
    text: AttrValue,
    title: AttrValue,
    from: AttrValue,
    to: AttrValue,
    /// The titles while delivering by hand, and while waiting on a held
    /// link: a click delivers then.
    hand_title: AttrValue,
    held_title: AttrValue,
}

impl FlightLook {
    fn of(sim: &Sim, fl: &Flight) -> FlightLook {
        let (glyph, text) = glyph(sim, fl);
        FlightLook {
            glyph,
            footprint: glyph.footprint(&text),
            kind: fl.msg.body.kind(),
            text: text.into(),
            title: format!(
                "#{} S{} → S{}: {} — click to drop it",
                fl.id,
                fl.msg.from,
                fl.msg.to,
                narrate::message_label(&fl.msg.body)
            )
            .into(),
            from: fl.msg.from.to_string().into(),
            to: fl.msg.to.to_string().into(),
            hand_title: format!(
                "#{} S{} → S{}: {} — click to deliver it now, shift-click to drop it",
                fl.id,
                fl.msg.from,
                fl.msg.to,
                narrate::message_label(&fl.msg.body)
            )
            .into(),
            held_title: format!(
                "#{} S{} → S{}: {} — waits on a held link: click to deliver it now, shift-click to drop it",
                fl.id,
                fl.msg.from,
                fl.msg.to,
                narrate::message_label(&fl.msg.body)
            )
            .into(),
        }
    }
}

/// What the ring kept from its last frame.
#[derive(Default)]
struct Kept {
    /// The looks of the messages in flight, by id.
    looks: HashMap<u64, Rc<FlightLook>>,
    /// The hidden lists last shown: the same `Rc`s while their content is
    /// the same, so the list is left alone.
    listed: Rc<Vec<Listed>>,
    listed_lost: Rc<Vec<ListedLost>>,
}

#[function_component(Cluster)]
pub fn cluster(props: &ClusterProps) -> Html {
    let kept = use_mut_ref(Kept::default);
    let reduced_motion = crate::hooks::use_media(ring::REDUCED_MOTION);
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let vt = lab.vt();
    let ids: Vec<NodeId> = sim.nodes().keys().copied().collect();
    let layout = ring::layout(ids.len(), VIEW, props.large);
    // The node as drawn (lanes start at its edge); its inner drawing is
    // made at `layout.node_r` and zoomed.
    let r = layout.radius();
    let c = VIEW / 2.0;
    let centres = centres(&ids, c, layout.ring);
    let config = model::cluster_config(sim);

    // The links' click handlers, made once per set of nodes (a new
    // handler on every frame would be registered again on every frame).
    let link_clicks = use_memo((ids.clone(), props.onlink.clone()), |(ids, onlink)| {
        let mut out = BTreeMap::new();
        for &a in ids {
            for &b in ids {
                out.insert((a, b), click_sends(onlink, (a, b)));
            }
        }
        out
    });
    // Each link's state: the links are redrawn only when one changes.
    let link_state: Vec<LinkState> = ids
        .iter()
        .flat_map(|&a| ids.iter().map(move |&b| (a, b)))
        .filter(|(a, b)| a != b)
        .map(|(a, b)| LinkState {
            from: a,
            to: b,
            up: sim.link_up(a, b),
            cut: sim.cut_links().contains(&(a, b)),
            held: sim.held_links().contains(&(a, b)),
        })
        .collect();
    let linked_msg = match props.linked {
        Some(Selection::Message(id)) => Some(id),
        _ => None,
    };
    let linked_node = match props.linked {
        Some(Selection::Event(seq)) => sim.event(seq).and_then(Selection::node_of),
        Some(Selection::Message(id)) => lab.send_of(id).and_then(Selection::node_of),
        None => None,
    };
    let mut arcs = Vec::with_capacity(ids.len());
    let nodes: Vec<Html> = ids
        .iter()
        .map(|&id| {
            let node = &sim.nodes()[&id];
            let hl = props.highlight.nodes.contains(&id);
            let emphasis = match (hl, linked_node == Some(id)) {
                (_, true) => Some("linked"),
                (true, false) => Some("hl"),
                _ => None,
            };
            let (look, arc) = node_look(
                sim,
                id,
                node,
                centres[&id],
                layout,
                vt,
                Standing::of(&config, id),
                props.selected == Some(id),
                emphasis,
            );
            arcs.extend(arc);
            html! { <RingNode key={id.to_string()} {look} onselect={props.onselect.clone()} /> }
        })
        .collect();
    let mut kept = kept.borrow_mut();
    // Forget the messages no longer in flight; make the new ones' looks.
    let flying: Vec<Rc<FlightLook>> = sim
        .flights()
        .map(|fl| {
            let fresh = || Rc::new(FlightLook::of(sim, fl));
            // A snapshot chunk's "k/n" follows the leader's progress.
            if matches!(fl.msg.body, MessageBody::Snapshot(_)) {
                return fresh();
            }
            kept.looks.entry(fl.id).or_insert_with(fresh).clone()
        })
        .collect();
    if kept.looks.len() > flying.len() {
        let ids: std::collections::HashSet<u64> = sim.flights().map(|fl| fl.id).collect();
        kept.looks.retain(|id, _| ids.contains(id));
    }
    let mut scene = Scene {
        vt,
        flights: Vec::with_capacity(flying.len()),
        lost: Vec::new(),
        // The nodes' words, painted again above a message covering them.
        words: ids
            .iter()
            .flat_map(|&id| {
                let node = &sim.nodes()[&id];
                let server = model::up(node);
                let role = model::role_word(
                    server.is_some(),
                    server.map(|s| s.state()).unwrap_or(Role::Follower),
                    Standing::of(&config, id),
                );
                let texts = [
                    (WordKind::Name, format!("S{id}")),
                    (WordKind::Term, format!("term {}", model::term_of(node))),
                    (WordKind::Role, role.to_string()),
                ];
                let centre = centres[&id];
                texts.map(|(kind, text)| {
                    // Made for the node's unzoomed drawing, then zoomed
                    // about its centre as the node is.
                    let b = clear::word_box(kind, centre, layout.node_r, text.chars().count());
                    let bbox = clear::Box2 {
                        x: b.x,
                        y: centre.1 + (b.y - centre.1) * layout.zoom,
                        hw: b.hw * layout.zoom,
                        hh: b.hh * layout.zoom,
                    };
                    Word {
                        node: id,
                        kind,
                        text: text.into(),
                        role,
                        x: bbox.x,
                        y: bbox.y,
                        bbox,
                    }
                })
            })
            .collect(),
        zoom: layout.zoom,
        arcs,
    };
    let mut listed = Vec::with_capacity(flying.len());
    // Delivering by hand (or on a held link), a message that has reached
    // its receiver waits there: queued along its lane, the oldest nearest
    // the receiver, until the teacher delivers it.
    let mut queued: HashMap<(NodeId, NodeId), usize> = HashMap::new();
    let manual = sim.manual();
    for (fl, look) in sim.flights().zip(flying) {
        let emphasis = if linked_msg == Some(fl.id) {
            Emphasis::Linked
        } else if props
            .highlight
            .messages
            .iter()
            .any(|k| k == fl.msg.body.kind())
        {
            Emphasis::Highlight
        } else {
            Emphasis::None
        };
        let (Some(&a), Some(&b)) = (centres.get(&fl.msg.from), centres.get(&fl.msg.to)) else {
            continue;
        };
        let lane = ring::lane(a, b, r, LANE);
        let waiting = sim.is_waiting(fl.id);
        let (x, y) = if waiting {
            let place = queued.entry((fl.msg.from, fl.msg.to)).or_default();
            let at = ring::along(lane, ring::queue_place(*place));
            *place += 1;
            at
        } else {
            let span = (fl.arrive_at.saturating_sub(fl.sent_at)).max(1) as f64;
            let along = ring::travelled((vt - fl.sent_at as f64) / span, reduced_motion);
            ring::along(lane, along)
        };
        scene.flights.push(Flying {
            id: fl.id,
            x,
            y,
            glyph: look.glyph,
            footprint: look.footprint,
            text: look.text.clone(),
            title: if manual {
                look.hand_title.clone()
            } else if waiting {
                look.held_title.clone()
            } else {
                look.title.clone()
            },
            emphasis,
            waiting,
            // By hand, a click delivers (shift-click drops); otherwise it
            // drops.
            delivers: manual || waiting,
        });
        let ((x0, y0), (x1, y1)) = lane;
        listed.push(Listed {
            id: fl.id,
            kind: look.kind,
            from: look.from.clone(),
            to: look.to.clone(),
            text: look.text.clone(),
            emphasis,
            sent: fl.sent_at,
            arrive: fl.arrive_at,
            lane: [x0, y0, x1, y1],
            waits_at: waiting.then_some((x, y)),
        });
    }
    let mut listed_lost = Vec::new();
    for d in sim.dropped() {
        let at = d.at as f64;
        if vt < at || vt - at > FADE_MS {
            continue;
        }
        let fl = &d.flight;
        let (Some(&a), Some(&b)) = (centres.get(&fl.msg.from), centres.get(&fl.msg.to)) else {
            continue;
        };
        let span = (fl.arrive_at.saturating_sub(fl.sent_at)).max(1) as f64;
        let frac = (at - fl.sent_at as f64) / span;
        let (x, y) = ring::along(ring::lane(a, b, r, LANE), frac);
        let title: AttrValue = format!("lost: {:?}", d.reason).into();
        scene.lost.push(Lost {
            x,
            y,
            opacity: 1.0 - (vt - at) / FADE_MS,
            title: title.clone(),
        });
        listed_lost.push(ListedLost {
            id: fl.id,
            kind: fl.msg.body.kind(),
            title,
        });
    }
    if *kept.listed != listed {
        kept.listed = Rc::new(listed);
    }
    if *kept.listed_lost != listed_lost {
        kept.listed_lost = Rc::new(listed_lost);
    }
    let (listed, listed_lost) = (kept.listed.clone(), kept.listed_lost.clone());
    drop(kept);
    let partition = sim.groups().map(|groups| {
        let text = groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|n| format!("S{n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("  |  ");
        html! { <text class="partition-label" x="12" y="24">{ format!("partition: {text}") }</text> }
    });

    html! {
        <FlightLayer scene={Rc::new(scene)} {listed} {listed_lost} ondrop={props.ondrop.clone()}
            ondeliver={props.ondeliver.clone()} clock={AttrValue::from(format!("t = {vt:.1} ms"))}>
            <svg class={classes!("cluster", (ids.len() > 7).then_some("many"))} viewBox={format!("0 0 {VIEW} {VIEW}")} role="img"
                aria-label={format!("A cluster of {} Raft nodes", ids.len())}>
                <rect class="backdrop" width={f(VIEW)} height={f(VIEW)} data-testid="ring-backdrop"
                    onclick={props.onselect.reform(|_: MouseEvent| None)} />
                <circle class="ring" cx={f(c)} cy={f(c)} r={f(layout.ring)} />
                <Links state={link_state} centres={centres.clone()} r={r} clicks={link_clicks} />
                <g class="nodes">{ for nodes }</g>
                { for partition }
            </svg>
        </FlightLayer>
    }
}

/// Where each of the nodes `ids` sits on a ring of `radius` around
/// (`c`, `c`), the first at the top and the rest clockwise.
pub fn centres(ids: &[NodeId], c: f64, radius: f64) -> BTreeMap<NodeId, (f64, f64)> {
    ids.iter()
        .copied()
        .zip(ring::positions(ids.len(), c, c, radius))
        .collect()
}

/// What the shapes and colours mean.
#[function_component(Legend)]
pub fn legend() -> Html {
    let swatch = |class: &'static str, shape: Html, text: &'static str, label: &'static str| {
        html! {
            <span class="key">
                <svg viewBox="-20 -12 40 24" width="30" height="18" aria-hidden="true">
                    <g class={classes!("msg", class)}>{ shape }
                        if !text.is_empty() { <text>{ text }</text> }
                    </g>
                </svg>
                { label }
            </span>
        }
    };
    let role = |class: &'static str, label: &'static str| {
        html! {
            <span class="key">
                <svg viewBox="-12 -12 24 24" width="18" height="18" aria-hidden="true">
                    <g class={classes!("node", class)}><circle class="body" r="9" /></g>
                </svg>
                { label }
            </span>
        }
    };
    html! {
        <div class="legend-keys" aria-label="legend">
            <div>
                { role("follower", "follower") }
                { role("precandidate", "pre-candidate") }
                { role("candidate", "candidate") }
                { role("leader", "leader") }
                { role("learner", "learner") }
                { role("crashed", "crashed") }
                <span class="key"><span class="arc-key" />{ "election timer" }</span>
            </div>
            <div>
                { swatch("m-prevote", html! { <circle class="shape" r="10" /> }, "PV", "prevote") }
                { swatch("m-vote", html! { <circle class="shape" r="10" /> }, "V", "vote") }
                { swatch("m-yes", html! { <circle class="shape" r="10" /> }, "✓", "granted") }
                { swatch("m-no", html! { <circle class="shape" r="10" /> }, "✗", "refused") }
                { swatch("m-heartbeat", html! { <rect class="shape" x="-9" y="-6" width="18" height="12" rx="2" /> }, "", "heartbeat") }
                { swatch("m-append", html! { <rect class="shape" x="-12" y="-9" width="24" height="18" rx="3" /> }, "3", "entries") }
                { swatch("m-ack", html! { <rect class="shape" x="-7.5" y="-7.5" width="15" height="15" rx="7.5" /> }, "", "append ok") }
                { swatch("m-nack", html! { <rect class="shape" x="-8" y="-8" width="16" height="16" rx="3" /> }, "", "append refused") }
                { swatch("m-snapshot", html! { <rect class="shape" x="-17" y="-10" width="34" height="20" rx="3" /> }, "1/3", "snapshot chunk") }
                <span class="key">
                    <svg viewBox="-20 -12 40 24" width="30" height="18" aria-hidden="true">
                        <g class="msg m-vote"><circle class="shape" r="7" /></g>
                        <circle class="wait-key" r="10.5" />
                    </svg>
                    { "waits for you (by hand, held link)" }
                </span>
                <span class="key">
                    <svg viewBox="-12 -12 24 24" width="18" height="18" aria-hidden="true">
                        <g class="pause-key"><rect class="pause-back" x="-8" y="-8" width="16" height="16" rx="3" />
                            <rect class="pause-bar" x="-4.5" y="-5" width="3" height="10" />
                            <rect class="pause-bar" x="1.5" y="-5" width="3" height="10" /></g>
                    </svg>
                    { "timer or link stopped by you" }
                </span>
            </div>
        </div>
    }
}

/// What a one-way link is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkState {
    pub from: NodeId,
    pub to: NodeId,
    /// It carries messages (no partition between its ends, not cut).
    pub up: bool,
    /// Cut by the teacher: its messages are lost.
    pub cut: bool,
    /// Held by the teacher: its messages wait at the receiver.
    pub held: bool,
}

#[derive(Properties, PartialEq)]
struct LinksProps {
    /// Every ordered pair of nodes.
    state: Vec<LinkState>,
    centres: BTreeMap<NodeId, (f64, f64)>,
    r: f64,
    clicks: Rc<BTreeMap<(NodeId, NodeId), Callback<MouseEvent>>>,
}

/// The one-way links, a component of their own so that the frames that
/// only move messages leave them alone.
#[function_component(Links)]
fn links(props: &LinksProps) -> Html {
    let r = props.r;
    let links = props.state.iter().filter_map(|&l| {
        let pa = *props.centres.get(&l.from)?;
        let pb = *props.centres.get(&l.to)?;
        let lane = ring::lane(pa, pb, r + 4.0, LANE);
        Some(link(l, lane, props.clicks.get(&(l.from, l.to)).cloned()))
    });
    html! { <g class="links">{ for links }</g> }
}

/// The one-way link drawn along `lane`: up, or down across a partition,
/// or cut by a click (which `onclick` sends), and marked while held (two
/// bars across it, a pause sign, near its middle). Both views draw their
/// links with it.
pub fn link(
    l: LinkState,
    ((x0, y0), (x1, y1)): ((f64, f64), (f64, f64)),
    onclick: Option<Callback<MouseEvent>>,
) -> Html {
    let (a, b) = (l.from, l.to);
    let mut title = if l.cut {
        format!("S{a} → S{b} is cut: click to restore")
    } else if !l.up {
        format!("S{a} → S{b} crosses the partition")
    } else {
        format!("S{a} → S{b}: click to cut this direction")
    };
    if l.held {
        title.push_str(" · held: its messages wait at the receiver until released");
    }
    let pause = l.held.then(|| {
        // Two short bars across the lane at 60% of the way, in the lane's
        // own frame.
        let (dx, dy) = (x1 - x0, y1 - y0);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        let (cx, cy) = (x0 + dx * 0.6, y0 + dy * 0.6);
        let bar = |off: f64| {
            let (bx, by) = (cx + ux * off, cy + uy * off);
            html! {
                <line x1={f(bx - uy * 7.0)} y1={f(by + ux * 7.0)}
                    x2={f(bx + uy * 7.0)} y2={f(by - ux * 7.0)} />
            }
        };
        html! { <g class="held-mark">{ bar(-3.0) }{ bar(3.0) }</g> }
    });
    html! {
        <g class={classes!("link", (!l.up).then_some("down"), l.cut.then_some("cut"), l.held.then_some("held"))}
            key={format!("{a}-{b}")} data-testid={format!("link-{a}-{b}")}
            data-up={l.up.to_string()} data-held={l.held.to_string()} {onclick}>
            <title>{ title }</title>
            <line class="lane" x1={f(x0)} y1={f(y0)} x2={f(x1)} y2={f(y1)} />
            { for pause }
            <line class="hit" x1={f(x0)} y1={f(y0)} x2={f(x1)} y2={f(y1)} />
        </g>
    }
}

/// A click on a part of the drawing that sends `value` and goes no
/// further (a click on the drawing itself would unselect the node).
pub fn click_sends<T: Clone + 'static>(cb: &Callback<T>, value: T) -> Callback<MouseEvent> {
    let cb = cb.clone();
    Callback::from(move |e: MouseEvent| {
        e.stop_propagation();
        cb.emit(value.clone());
    })
}

/// What is left of a live node's timer, as a fraction, and which timer
/// it is: the heartbeat interval while it leads, else its election timeout.
/// `frac_tick` is how far the drawing's time is past the simulator's (less
/// than a ms).
pub fn timer_left<M: StateMachine>(
    s: &RaftServer<MemStorage, MemLogStore, M, MemNetwork>,
    frac_tick: f64,
) -> (TimerKind, f64) {
    if s.state() == Role::Leader {
        let hb = s.settings().heartbeat_interval.max(1) as f64;
        let left = 1.0 - ((s.heartbeat_elapsed() as f64 + frac_tick) / hb).clamp(0.0, 1.0);
        (TimerKind::Heartbeat, left)
    } else {
        let (elapsed, timeout) = s.election_timer();
        let left = 1.0 - ((elapsed as f64 + frac_tick) / timeout.max(1) as f64).clamp(0.0, 1.0);
        (TimerKind::Election, left)
    }
}

/// Which of a node's timers runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// A leader's heartbeat interval.
    Heartbeat,
    /// A follower's or candidate's election timeout.
    Election,
}

impl TimerKind {
    fn class(self) -> &'static str {
        match self {
            TimerKind::Heartbeat => "heartbeat-arc",
            TimerKind::Election => "timer-arc",
        }
    }
}

/// A live node's timer as an SVG arc of radius `rr` around its centre,
/// shrinking as the timer runs out (sharded mode's rings, whose nodes are
/// few and small, draw it so).
pub fn timer_arc<M: StateMachine>(
    s: &RaftServer<MemStorage, MemLogStore, M, MemNetwork>,
    frac_tick: f64,
    (x, y): (f64, f64),
    rr: f64,
) -> Html {
    let (kind, left) = timer_left(s, frac_tick);
    let circ = TAU * rr;
    html! {
        <circle class={kind.class()} cx={f(x)} cy={f(y)} r={f(rr)}
            stroke-dasharray={format!("{:.1} {:.1}", circ * left, circ)}
            transform={format!("rotate(-90 {} {})", f(x), f(y))} />
    }
}

/// A timer the teacher holds (delivering by hand): it stands still, so it
/// is drawn in the SVG, dashed, with a pause sign at its top.
fn paused_arc(kind: TimerKind, left: f64, (x, y): (f64, f64), rr: f64) -> Html {
    let circ = TAU * rr;
    let (bx, by) = (x, y - rr);
    html! {
        <g class="timer-paused" data-testid="timer-paused">
            <title>{ "timer stopped: it fires only when you say so (delivery by hand)" }</title>
            <circle class={classes!(kind.class(), "paused")} cx={f(x)} cy={f(y)} r={f(rr)}
                stroke-dasharray={dashes(circ * left, circ)}
                transform={format!("rotate(-90 {} {})", f(x), f(y))} />
            <rect class="pause-back" x={f(bx - 8.0)} y={f(by - 8.0)} width="16" height="16" rx="3" />
            <rect class="pause-bar" x={f(bx - 4.5)} y={f(by - 5.0)} width="3" height="10" />
            <rect class="pause-bar" x={f(bx + 1.5)} y={f(by - 5.0)} width="3" height="10" />
        </g>
    }
}

/// A dash pattern that draws `len` of a circle of circumference `circ` as
/// short dashes, and leaves the rest blank.
fn dashes(len: f64, circ: f64) -> String {
    const DASH: f64 = 6.0;
    const GAP: f64 = 4.0;
    let n = (len / (DASH + GAP)).floor() as usize;
    let mut out = String::new();
    for _ in 0..n {
        out.push_str(&format!("{DASH} {GAP} "));
    }
    let rest = len - n as f64 * (DASH + GAP);
    out.push_str(&format!("{:.1} {:.1}", rest.min(DASH), circ));
    out
}

/// Everything a node is drawn from but the time. Between two frames the
/// look is mostly the same, and then the node's SVG is left alone: its
/// running timer, the one part that moves on every frame, is painted on
/// the canvas with the messages (`flights::TimerArc`).
#[derive(Clone, Debug, PartialEq)]
struct NodeLook {
    id: NodeId,
    centre: (f64, f64),
    layout: ring::Layout,
    alive: bool,
    role: Role,
    term: u64,
    commit: u64,
    standing: Standing,
    selected: bool,
    emphasis: Option<&'static str>,
    /// Voters and their answers while it campaigns.
    tally: Option<Vec<(NodeId, Option<bool>)>>,
    snapshot_note: Option<String>,
    /// Its side of a partition ('A', 'B', …).
    group: Option<char>,
    /// A timer stopped by the teacher: which, and what is left of it.
    paused: Option<(TimerKind, u64)>,
}

/// The look of node `id`, and its running timer for the canvas.
#[allow(clippy::too_many_arguments)]
fn node_look(
    sim: &Sim,
    id: NodeId,
    node: &SimNode,
    (x, y): (f64, f64),
    layout: ring::Layout,
    vt: f64,
    standing: Standing,
    selected: bool,
    emphasis: Option<&'static str>,
) -> (NodeLook, Option<TimerArc>) {
    let r = layout.node_r;
    let server = model::up(node);
    let alive = server.is_some();
    let role = server.map(|s| s.state()).unwrap_or(Role::Follower);
    let frac_tick = (vt - sim.now() as f64).clamp(0.0, 1.0);
    let paused = !sim.timers_run();

    // Election timer: what is left of it, as a shrinking arc (learners and
    // servers outside the configuration never stand for election).
    let timer = server
        .filter(|s| s.state() == Role::Leader || standing == Standing::Voter)
        .map(|s| timer_left(s, if paused { 0.0 } else { frac_tick }));
    let arc = timer.filter(|_| !paused).map(|(kind, left)| TimerArc {
        x,
        y,
        r: (r + 8.0) * layout.zoom,
        width: match kind {
            TimerKind::Heartbeat => 3.0,
            TimerKind::Election => 5.0,
        } * layout.zoom,
        left,
        leader: kind == TimerKind::Heartbeat,
    });

    // Vote tally while (pre)candidate: one dot per voter.
    let tally = server
        .filter(|s| matches!(s.state(), Role::PreCandidate | Role::Candidate))
        .map(|s| {
            let cfg = s.config();
            cfg.voters
                .union(&cfg.outgoing)
                .map(|v| (*v, s.votes().get(v).copied()))
                .collect()
        });
    let snapshot_note = server
        .and_then(|s| s.incoming_snapshot())
        .map(|(idx, _, bytes)| {
            let total = model::snapshot_total(sim, id);
            match total {
                Some(total) => format!("receiving snapshot ≤{idx}: {bytes}/{total} B"),
                None => format!("receiving snapshot ≤{idx}: {bytes} B"),
            }
        });
    let group = sim.groups().and_then(|gs| {
        gs.iter()
            .position(|g| g.contains(&id))
            .map(|i| (b'A' + i as u8) as char)
    });
    let look = NodeLook {
        id,
        centre: (x, y),
        layout,
        alive,
        role,
        term: model::term_of(node),
        commit: server.map(|s| s.commit_idx()).unwrap_or(0),
        standing,
        selected,
        emphasis,
        tally,
        snapshot_note,
        group,
        // Whole thousandths: a stopped timer compares equal frame to frame.
        paused: timer
            .filter(|_| paused)
            .map(|(kind, left)| (kind, (left * 1000.0).round() as u64)),
    };
    (look, arc)
}

#[derive(Properties, PartialEq)]
struct RingNodeProps {
    look: NodeLook,
    onselect: Callback<Option<NodeId>>,
}

/// One node of the ring: re-rendered only when its look changes.
#[function_component(RingNode)]
fn ring_node(props: &RingNodeProps) -> Html {
    let l = &props.look;
    let id = l.id;
    let (x, y) = l.centre;
    let r = l.layout.node_r;
    let (alive, role, term, commit) = (l.alive, l.role, l.term, l.commit);
    let timer = l
        .paused
        .map(|(kind, left)| paused_arc(kind, left as f64 / 1000.0, (x, y), r + 8.0));
    let crown = (alive && role == Role::Leader).then(|| {
        let cy = y - r - 18.0;
        html! {
            <path class="crown" transform={format!("translate({} {})", f(x), f(cy))} d={CROWN} />
        }
    });
    let tally = l.tally.as_ref().map(|voters| {
        let n = voters.len() as f64;
        let dots = voters.iter().enumerate().map(|(i, &(v, answer))| {
            let dx = (i as f64 - (n - 1.0) / 2.0) * 21.0;
            let (class, mark, said) = match answer {
                Some(true) => ("vote granted", "✓", "granted"),
                Some(false) => ("vote refused", "✗", "refused"),
                None => ("vote pending", "", "no answer yet"),
            };
            html! {
                <g class={class} transform={format!("translate({} {})", f(x + dx), f(y + r + 42.0))}>
                    <title>{ format!("S{v}: {said}") }</title>
                    <circle r="9.5" />
                    <text>{ if mark.is_empty() { v.to_string() } else { mark.to_string() } }</text>
                </g>
            }
        });
        html! { <g class="tally">{ for dots }</g> }
    });
    let role_word = model::role_word(alive, role, l.standing);
    let snapshot_note = l.snapshot_note.as_ref().map(|text| {
        html! {
            <text class="snapnote" x={f(x)} y={f(y + r + 40.0)} data-testid={format!("snapshot-progress-{id}")}>
                { text.clone() }
            </text>
        }
    });

    // A click on the selected node keeps it selected (a teacher clicks a
    // crashed leader again to restart it); Esc or a click on empty space
    // deselects.
    let onclick = use_callback(
        (id, props.onselect.clone()),
        |e: MouseEvent, (id, onselect)| {
            e.stop_propagation();
            onselect.emit(Some(*id));
        },
    );
    let standing = l.standing;
    let selected = l.selected;
    let emphasis = l.emphasis;
    let class = classes!(
        "node",
        role.as_str(),
        (!alive).then_some("crashed"),
        (standing == Standing::Learner).then_some("learner"),
        (standing == Standing::Outside).then_some("outside"),
        selected.then_some("selected"),
        emphasis,
    );
    let group_badge = l.group.map(|g| {
        html! {
            <g class="group-badge" transform={format!("translate({} {})", f(x + r * 0.8), f(y - r * 0.8))}>
                <circle r="11" />
                <text>{ g.to_string() }</text>
            </g>
        }
    });
    // Presenting, the node and all its marks are zoomed about its centre.
    let zoom = (l.layout.zoom != 1.0).then(|| {
        format!(
            "translate({} {}) scale({}) translate({} {})",
            f(x),
            f(y),
            l.layout.zoom,
            f(-x),
            f(-y)
        )
    });
    html! {
        <g class={class} {onclick} data-testid={format!("ring-node-{id}")}
            data-emphasis={emphasis.unwrap_or_default()} transform={zoom}>
            if emphasis.is_some() {
                <circle class="emphasis-ring" cx={f(x)} cy={f(y)} r={f(r + 22.0)} />
            }
            { for timer }
            if selected {
                <circle class="select-ring" cx={f(x)} cy={f(y)} r={f(r + 15.0)} />
            }
            <circle class="body"
                cx={f(x)} cy={f(y)} r={f(r)}
                data-testid={format!("node-{id}")}
                data-role={role.as_str()}
                data-term={term.to_string()}
                data-alive={alive.to_string()}
                data-commit={commit.to_string()}
                data-standing={match standing { Standing::Voter => "voter", Standing::Learner => "learner", Standing::Outside => "outside" }}
                data-selected={selected.to_string()}
            >
                <title>{ format!("S{id}: {role_word}, term {term}, commit index {commit} — click to inspect") }</title>
            </circle>
            <text class="label" x={f(x)} y={f(y + clear::NAME.0)}>{ format!("S{id}") }</text>
            <text class="term" x={f(x)} y={f(y + clear::TERM.0)}>{ format!("term {term}") }</text>
            <text class="detail" x={f(x)} y={f(y + r + clear::ROLE_DY)}>{ role_word }</text>
            { for crown }
            { for tally }
            { for snapshot_note }
            { for group_badge }
        </g>
    }
}

/// What a message looks like: its glyph and the short text on it.
fn glyph(sim: &Sim, fl: &Flight) -> (Glyph, String) {
    match &fl.msg.body {
        MessageBody::RequestVote(r) if r.prevote => (Glyph::Prevote, "PV".into()),
        MessageBody::RequestVote(_) => (Glyph::Vote, "V".into()),
        MessageBody::RequestVoteResp(r) => (
            if r.vote_granted {
                Glyph::Yes
            } else {
                Glyph::No
            },
            format!(
                "{}{}",
                if r.prevote { "p" } else { "" },
                if r.vote_granted { "✓" } else { "✗" }
            ),
        ),
        MessageBody::AppendEntries(a) if a.timeout_now => (Glyph::TimeoutNow, "TN".into()),
        MessageBody::AppendEntries(a) if a.entries.is_empty() => (Glyph::Heartbeat, String::new()),
        MessageBody::AppendEntries(a) => (Glyph::Append, a.entries.len().to_string()),
        MessageBody::AppendEntriesResp(r) => (
            if r.success { Glyph::Ack } else { Glyph::Nack },
            String::new(),
        ),
        MessageBody::Snapshot(s) => {
            let chunk = sim.config().snapshot_chunk_bytes.max(1) as u64;
            let number = s.block.offset / chunk + 1;
            let total = sim
                .server(fl.msg.from)
                .and_then(|srv| srv.progress().get(&fl.msg.to))
                .and_then(|p| match p.state {
                    ReplicaState::Snapshot { total, .. } => Some(total.div_ceil(chunk)),
                    _ => None,
                });
            let text = match total {
                Some(t) if t >= number => format!("{number}/{t}"),
                _ => format!("#{number}"),
            };
            (Glyph::Snapshot, text)
        }
        MessageBody::SnapshotResp(r) => (
            if r.success { Glyph::SnapAck } else { Glyph::No },
            String::new(),
        ),
    }
}
