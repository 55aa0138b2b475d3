//! The space-time diagram: one lane per node, time running right. Each
//! message is an arrow from (send time, sender) to (arrival, receiver);
//! lost ones end in a ✗ where they vanished; messages still in flight stop
//! at the present. Elections, commits, crashes and restarts are marked on
//! their lanes. The window follows the clock and zooms. Clicking an arrow
//! or a mark picks it, which highlights it in the ring, the logs and the
//! feed too. The drawing carries its own style, so its markup exports as
//! a standalone SVG file for slides. The arrows are a few paths, one per
//! look (`arrows`): an element per arrow made the diagram's refresh the
//! slowest frame of the page.

mod arrows;

use std::collections::BTreeMap;
use std::rc::Rc;

use raftlab_core::trace::{DropReason, EventKind, SendBody, TraceEvent};
use raftlab_core::types::{MessageBody, NodeId, Role};
use yew::prelude::*;

use crate::io;
use crate::lab::Lab;
use crate::state::{LabHandle, Stamp, WINDOW_MAX, WINDOW_MIN};
use crate::vocab::Selection;
use arrows::{fit, Arrows, Drawn};
use raftlab_core::trace::describe as narrate;

/// Width of the drawing, user units.
const W: f64 = 1000.0;
/// Height of one lane.
const LANE_H: f64 = 40.0;
/// Room above the lanes for the time axis.
const TOP: f64 = 24.0;
/// Room left of the lanes for their names.
const GUTTER: f64 = 40.0;
/// How far before the window arrows are looked for (their sends).
const LOOKBACK_MS: u64 = 3000;
/// Most arrows drawn; heartbeats go first when there are more.
const MAX_ARROWS: usize = 700;
/// The drawing's element id, for the export.
pub const SVG_ID: &str = "spacetime-svg";

/// The style inside the SVG: the page and an exported file look the same.
/// The arrows' strokes are also in `arrows::stroke_of`, for the canvas.
/// Text and the marks under white text use the darker green (#007a5a) and
/// vermillion (#b34700), for 4.5:1 (docs/accessibility.md).
const STYLE: &str = "
.st-bg{fill:#fff}
.st-lane{stroke:#d6dbe3;stroke-width:1}
.st-lane-down{stroke:#9ca3af;stroke-width:6;stroke-opacity:.35}
.st-name{font:600 14px system-ui,sans-serif;fill:#1f2937;dominant-baseline:middle}
.st-axis{font:11px system-ui,sans-serif;fill:#4b5563;text-anchor:middle}
.st-grid{stroke:#eef0f3;stroke-width:1}
.st-now{stroke:#d55e00;stroke-width:2}
.st-nowlabel{font:600 11px system-ui,sans-serif;fill:#b34700;text-anchor:middle}
.st-arrow{stroke-width:1.6;fill:none;cursor:pointer}
.st-arrow .hit{stroke:transparent;stroke-width:9}
.st-vote .line{stroke:#e69f00}
.st-voteok .line{stroke:#009e73}
.st-voteno .line{stroke:#d55e00}
.st-append .line{stroke:#0072b2;stroke-width:2.4}
.st-ack .line{stroke:#56b4e9}
.st-nack .line{stroke:#d55e00;stroke-dasharray:5 3}
.st-hb .line{stroke:#b9c0ca;stroke-width:1}
.st-snap .line{stroke:#cc79a7;stroke-width:2.4}
.st-lost .line{stroke-dasharray:3 3}
.st-x{stroke:#d55e00;stroke-width:2.2}
.st-head{stroke:none}
.st-vote .st-head{fill:#e69f00}.st-voteok .st-head{fill:#009e73}.st-voteno .st-head{fill:#d55e00}
.st-append .st-head{fill:#0072b2}.st-ack .st-head{fill:#56b4e9}.st-nack .st-head{fill:#d55e00}
.st-hb .st-head{fill:#b9c0ca}.st-snap .st-head{fill:#cc79a7}
.st-linked .line{stroke:#1f2937;stroke-width:4}
.st-linked .st-head{fill:#1f2937}
.st-hl .line{stroke-width:3.2}
.st-mark{cursor:pointer}
.st-mark text{font:700 13px system-ui,sans-serif;text-anchor:middle;dominant-baseline:central}
.st-leader circle{fill:#0072b2}.st-leader text{fill:#fff}
.st-cand circle{fill:#e69f00}.st-cand text{fill:#1f2937}
.st-commit rect{fill:#007a5a}.st-commit text{fill:#fff;font-size:10px}
.st-crash text{fill:#b34700;font-size:16px}
.st-restart text{fill:#007a5a;font-size:16px}
.st-violation text{fill:#fff}.st-violation circle{fill:#b34700}
.st-mark.st-linked circle,.st-mark.st-linked rect{stroke:#1f2937;stroke-width:3}
";

#[derive(Properties, PartialEq)]
pub struct SpacetimeProps {
    pub lab: LabHandle,
    /// The revision and visual time it is drawn for: while the clock plays
    /// it is redrawn at most every `REFRESH_MS` (see `state::Stamp`).
    pub stamp: Stamp,
    /// Window width, simulated ms.
    pub window_ms: f64,
    pub linked: Option<Selection>,
    /// Message kinds the lesson draws attention to.
    pub highlight: Vec<String>,
    pub onpick: Callback<Option<Selection>>,
    pub onzoom: Callback<f64>,
    pub ongoto: Callback<u64>,
}

/// One message in the window.
struct Arrow {
    id: u64,
    from: NodeId,
    to: NodeId,
    sent: u64,
    send_seq: u64,
    class: &'static str,
    kind: &'static str,
    /// Arrival or loss: (time, lost, why).
    end: Option<(u64, Option<DropReason>)>,
}

/// A message's class in the drawing's style and its kind.
fn class_of(body: &SendBody) -> (&'static str, &'static str) {
    let SendBody::Message(b) = body else {
        return ("st-hb", "other");
    };
    let class = match b {
        MessageBody::RequestVote(_) => "st-vote",
        MessageBody::RequestVoteResp(r) if r.vote_granted => "st-voteok",
        MessageBody::RequestVoteResp(_) => "st-voteno",
        MessageBody::AppendEntries(a) if a.entries.is_empty() && !a.timeout_now => "st-hb",
        MessageBody::AppendEntries(_) => "st-append",
        MessageBody::AppendEntriesResp(_) if narrate::is_heartbeat(b) => "st-hb",
        MessageBody::AppendEntriesResp(r) if r.success => "st-ack",
        MessageBody::AppendEntriesResp(_) => "st-nack",
        MessageBody::Snapshot(_) | MessageBody::SnapshotResp(_) => "st-snap",
    };
    (class, b.kind())
}

/// A message's label, made only when shown (a title, the export): a
/// refresh would otherwise make one for every message in the window.
fn label_of(lab: &Lab, id: u64) -> String {
    match lab.send_of(id).map(|e| &e.kind) {
        Some(EventKind::Send {
            body: SendBody::Message(b),
            ..
        }) => narrate::message_label(b),
        _ => "message".into(),
    }
}

/// A round step for axis ticks about a fifth of `span`.
fn tick_step(span: f64) -> f64 {
    let raw = (span / 5.0).max(1.0);
    let p = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if raw <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

fn f(x: f64) -> String {
    format!("{x:.1}")
}

#[function_component(Spacetime)]
pub fn spacetime(props: &SpacetimeProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let vt = lab.vt();
    let w = props.window_ms.clamp(WINDOW_MIN, WINDOW_MAX);
    // The present sits at four fifths of the window once there is room.
    let t0 = (vt - 0.8 * w).max(0.0);
    let t1 = t0 + w;
    let scale = (W - GUTTER - 10.0) / w;
    let x = |t: f64| GUTTER + (t - t0) * scale;
    // Arrows and marks are drawn in a scrolling group, in its coordinates
    // from `base` (which moves a whole window at a time): as the window
    // follows the clock only the group's transform changes, not the
    // coordinates of every arrow.
    let base = (t0 / w).floor() * w;
    let sx = |t: f64| (t - base) * scale;
    let shift = GUTTER - (t0 - base) * scale;
    let ids: Vec<NodeId> = sim.nodes().keys().copied().collect();
    let lane_of: BTreeMap<NodeId, usize> = ids.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let y = |n: NodeId| lane_of.get(&n).map(|&i| TOP + LANE_H * (i as f64 + 0.5));
    let height = TOP + LANE_H * ids.len() as f64 + 8.0;

    let past = lab.past();
    let from_t = (t0 as u64).saturating_sub(LOOKBACK_MS);
    let start = past.partition_point(|e| e.time < from_t);
    let events: &[TraceEvent] = &past[start..];

    // Messages and marks in the window.
    let mut arrows: BTreeMap<u64, Arrow> = BTreeMap::new();
    let mut marks = Vec::new();
    // Crashed stretches per node: (from, to).
    let mut down: Vec<(NodeId, f64, f64)> = Vec::new();
    let mut crashed_at: BTreeMap<NodeId, f64> = BTreeMap::new();
    for e in events {
        match &e.kind {
            EventKind::Send {
                id, from, to, body, ..
            } => {
                let (class, kind) = class_of(body);
                arrows.insert(
                    *id,
                    Arrow {
                        id: *id,
                        from: *from,
                        to: *to,
                        sent: e.time,
                        send_seq: e.seq,
                        class,
                        kind,
                        end: None,
                    },
                );
            }
            EventKind::Deliver { id, .. } => {
                if let Some(a) = arrows.get_mut(id) {
                    a.end = Some((e.time, None));
                }
            }
            EventKind::Drop { id, reason } => {
                if let Some(a) = arrows.get_mut(id) {
                    a.end = Some((e.time, Some(*reason)));
                }
            }
            EventKind::Crash { node } => {
                crashed_at.insert(*node, e.time as f64);
            }
            EventKind::Restart { node } => {
                if let Some(s) = crashed_at.remove(node) {
                    down.push((*node, s, e.time as f64));
                }
            }
            _ => {}
        }
        if (e.time as f64) < t0 {
            continue;
        }
        let mark = match &e.kind {
            EventKind::Role {
                node,
                role: Role::Leader,
                term,
                ..
            } => Some((
                *node,
                "st-leader",
                "♛".to_string(),
                format!("S{node} becomes leader of term {term}"),
            )),
            EventKind::Role {
                node,
                role: Role::Candidate,
                term,
                ..
            } => Some((
                *node,
                "st-cand",
                "C".to_string(),
                format!("S{node} starts an election for term {term}"),
            )),
            EventKind::Commit { node, index, .. } => Some((
                *node,
                "st-commit",
                index.to_string(),
                format!("S{node} commits up to index {index}"),
            )),
            EventKind::Crash { node } => {
                Some((*node, "st-crash", "✝".into(), format!("S{node} crashes")))
            }
            EventKind::Restart { node } => {
                Some((*node, "st-restart", "↻".into(), format!("S{node} restarts")))
            }
            _ => None,
        };
        if let Some(m) = mark {
            marks.push((e.seq, e.time, m));
        }
    }
    for (node, s) in crashed_at {
        down.push((node, s, vt));
    }
    let violations: Vec<(u64, u64, String)> = sim
        .violations()
        .iter()
        .filter_map(|v| {
            let e = sim.event(v.seq)?;
            (e.seq <= sim.position() && e.time as f64 >= t0)
                .then(|| (v.seq, e.time, format!("{}: {}", v.rule, v.message)))
        })
        .collect();

    let flights: BTreeMap<u64, u64> = sim.flights().map(|fl| (fl.id, fl.arrive_at)).collect();
    let linked_msg = match props.linked {
        Some(Selection::Message(id)) => Some(id),
        _ => None,
    };
    let linked_seq = match props.linked {
        Some(Selection::Event(seq)) => Some(seq),
        _ => None,
    };
    let mut visible: Vec<&Arrow> = arrows
        .values()
        .filter(|a| {
            let end = a.end.map_or(vt, |(t, _)| t as f64);
            end >= t0 && (a.sent as f64) <= t1
        })
        .collect();
    if visible.len() > MAX_ARROWS {
        visible.retain(|a| a.class != "st-hb" || Some(a.id) == linked_msg);
        let cut = visible.len().saturating_sub(MAX_ARROWS);
        visible.drain(..cut);
    }
    let drawn = visible.len();

    let onpick = props.onpick.clone();
    let drawn_arrows: Vec<Drawn> = visible
        .iter()
        .filter_map(|a| {
            let (ya, yb) = (y(a.from)?, y(a.to)?);
            let xa = sx(a.sent as f64);
            // Where it ends: its arrival, where it was lost, or the present.
            let (t_end, lost, arrive) = match a.end {
                Some((t, reason)) => (t as f64, reason, t as f64),
                None => {
                    let arrive = flights.get(&a.id).map_or(vt, |&t| t as f64);
                    (vt.min(arrive), None, arrive)
                }
            };
            let span = (arrive - a.sent as f64).max(1.0);
            let frac = ((t_end - a.sent as f64) / span).clamp(0.0, 1.0);
            // A lost message ends short of the receiver's lane.
            let frac = if lost.is_some() {
                frac.clamp(0.35, 0.6)
            } else {
                frac
            };
            let ye = ya + (yb - ya) * frac;
            Some(Drawn {
                id: a.id,
                from: a.from,
                to: a.to,
                sent: a.sent,
                send_seq: a.send_seq,
                end: a.end,
                class: a.class,
                kind: a.kind,
                hl: props.highlight.iter().any(|k| k == a.kind),
                linked: linked_msg == Some(a.id),
                line: [xa, ya, sx(t_end), ye],
            })
        })
        .collect();
    let arrows = Rc::new(Arrows {
        list: drawn_arrows,
        shift,
        size: (W, height),
        clip_x: GUTTER,
        time_map: (GUTTER - t0 * scale, scale),
    });
    // Clicks and hover titles: the arrows are hit-tested on their geometry
    // (they are a few paths, not an element each).
    let svg_ref = use_node_ref();
    let tip = use_node_ref();
    let hovered = use_mut_ref(|| None::<u64>);
    let arrow_at = {
        let svg_ref = svg_ref.clone();
        let arrows = arrows.clone();
        move |e: &MouseEvent| -> Option<Drawn> {
            let svg = svg_ref.cast::<web_sys::Element>()?;
            let r = svg.get_bounding_client_rect();
            let (s, ox, oy) = fit(arrows.size, r.width(), r.height());
            if s <= 0.0 {
                return None;
            }
            let x = (e.client_x() as f64 - r.left() - ox) / s;
            let y = (e.client_y() as f64 - r.top() - oy) / s;
            arrows.hit(x, y).cloned()
        }
    };
    let onhover = {
        let arrow_at = arrow_at.clone();
        let (svg_ref, tip, hovered) = (svg_ref.clone(), tip.clone(), hovered.clone());
        let lab = props.lab.clone();
        Callback::from(move |e: MouseEvent| {
            let a = arrow_at(&e);
            if a.as_ref().map(|a| a.id) == *hovered.borrow() {
                return;
            }
            *hovered.borrow_mut() = a.as_ref().map(|a| a.id);
            if let Some(svg) = svg_ref.cast::<web_sys::Element>() {
                let _ = svg.class_list().toggle_with_force("on-arrow", a.is_some());
            }
            if let Some(tip) = tip.cast::<web_sys::Element>() {
                let text = a.map(|a| a.title(&label_of(&lab.0.borrow(), a.id)));
                tip.set_text_content(text.as_deref());
            }
        })
    };
    let onbg = {
        let onpick = props.onpick.clone();
        Callback::from(move |e: MouseEvent| {
            onpick.emit(match arrow_at(&e) {
                Some(a) if !a.linked => Some(Selection::Message(a.id)),
                _ => None,
            })
        })
    };
    let arrow_paths = arrows.groups().into_iter().map(|g| {
        html! {
            <g key={g.classes.clone()} class={g.classes}>
                <path class="line" d={g.lines} />
                if !g.heads.is_empty() { <path class="st-head" d={g.heads} /> }
                if !g.crosses.is_empty() { <path class="st-x" d={g.crosses} /> }
            </g>
        }
    });
    // The hidden list follows the arrows outside yew: most of them are the
    // same from one refresh to the next, and a list of 700 items diffed by
    // yew cost more than the rest of the refresh.
    let list_ref = use_node_ref();
    let listed = use_mut_ref(arrows::Listed::default);
    {
        let list_ref = list_ref.clone();
        use_effect_with(arrows.clone(), move |arrows| {
            if let Some(ul) = list_ref.cast::<web_sys::Element>() {
                listed.borrow_mut().sync(&ul, &arrows.list);
            }
        });
    }

    let mark_html = marks.iter().filter_map(|(seq, t, (node, class, text, title))| {
        let (cx, cy) = (sx(*t as f64), y(*node)?);
        let seq = *seq;
        let linked = linked_seq == Some(seq);
        let onclick = {
            let onpick = onpick.clone();
            Callback::from(move |e: MouseEvent| {
                e.stop_propagation();
                onpick.emit(if linked { None } else { Some(Selection::Event(seq)) });
            })
        };
        let shape = match *class {
            "st-commit" => html! { <rect x={f(cx - 9.0)} y={f(cy - 17.0)} width="18" height="12" rx="3" /> },
            "st-crash" | "st-restart" => html! {},
            _ => html! { <circle cx={f(cx)} cy={f(cy)} r="9" /> },
        };
        let ty = if *class == "st-commit" { cy - 11.0 } else { cy };
        Some(html! {
            <g class={classes!("st-mark", *class, linked.then_some("st-linked"))} key={format!("m{seq}")}
                data-testid={format!("st-event-{seq}")} {onclick}>
                <title>{ format!("#{seq} at {t} ms: {title}") }</title>
                { shape }
                <text x={f(cx)} y={f(ty)}>{ text.clone() }</text>
            </g>
        })
    });
    let violation_html = violations.iter().map(|(seq, t, title)| {
        let cx = sx(*t as f64);
        let seq = *seq;
        let ongoto = props.ongoto.clone();
        let onclick = Callback::from(move |_| ongoto.emit(seq));
        html! {
            <g class="st-mark st-violation" key={format!("v{seq}")} {onclick}>
                <title>{ format!("violation at event #{seq}: {title}") }</title>
                <circle cx={f(cx)} cy={f(TOP - 10.0)} r="8" />
                <text x={f(cx)} y={f(TOP - 10.0)}>{ "!" }</text>
            </g>
        }
    });

    let lanes = ids.iter().map(|&n| {
        let yy = y(n).unwrap_or(0.0);
        html! {
            <g key={format!("l{n}")}>
                <line class="st-lane" x1={f(GUTTER)} y1={f(yy)} x2={f(W - 6.0)} y2={f(yy)} />
                <text class="st-name" x="6" y={f(yy)}>{ format!("S{n}") }</text>
            </g>
        }
    });
    let outages = down.iter().filter_map(|&(n, s, e)| {
        let yy = y(n)?;
        let (s, e) = (s.max(t0), e.min(t1));
        (e > s).then(|| {
            html! {
                <line class="st-lane-down" x1={f(x(s))} y1={f(yy)} x2={f(x(e))} y2={f(yy)} />
            }
        })
    });
    let step = tick_step(w);
    let first = (t0 / step).ceil() * step;
    let ticks = (0..12).map(|i| first + i as f64 * step).take_while(|&t| t <= t1).map(|t| {
        html! {
            <g>
                <line class="st-grid" x1={f(x(t))} y1={f(TOP)} x2={f(x(t))} y2={f(height - 6.0)} />
                <text class="st-axis" x={f(x(t))} y="12">{ format!("{t:.0} ms") }</text>
            </g>
        }
    });
    let now_x = x(vt);

    // The selection, described, with ways to go there.
    let detail = props.linked.and_then(|sel| {
        let ongoto = props.ongoto.clone();
        let clear = {
            let onpick = props.onpick.clone();
            Callback::from(move |_| onpick.emit(None))
        };
        let (text, targets): (String, Vec<(&'static str, u64)>) = match sel {
            Selection::Message(id) => {
                let send = lab.send_of(id)?;
                let (from, to) = match &send.kind {
                    EventKind::Send { from, to, .. } => (*from, *to),
                    _ => return None,
                };
                let label = label_of(&lab, id);
                let after = (send.seq + 1).saturating_sub(lab.history_start().seq) as usize;
                let end = sim.events().iter().skip(after).take(200_000).find(|e| {
                    matches!(e.kind, EventKind::Deliver { id: i, .. } | EventKind::Drop { id: i, .. } if i == id)
                });
                let mut targets = vec![("go to its send", send.seq)];
                let fate = match end.map(|e| (&e.kind, e.time, e.seq)) {
                    Some((EventKind::Drop { reason, .. }, t, seq)) => {
                        targets.push(("go to its loss", seq));
                        format!("lost at {t} ms ({reason:?})").to_lowercase()
                    }
                    Some((_, t, seq)) => {
                        targets.push(("go to its arrival", seq));
                        format!("arrived at {t} ms")
                    }
                    None => "still in flight".into(),
                };
                (format!("Message #{id}: S{from} → S{to}, {label}; sent at {} ms, {fate}.", send.time), targets)
            }
            Selection::Event(seq) => {
                let e = sim.event(seq)?;
                let (_, text) = narrate::narrate(e, |id| lab.send_of(id));
                (format!("Event #{seq} at {} ms: {text}.", e.time), vec![("go there", seq)])
            }
        };
        let buttons = targets.into_iter().map(|(label, seq)| {
            let ongoto = ongoto.clone();
            html! { <button type="button" onclick={Callback::from(move |_| ongoto.emit(seq))}>{ label }</button> }
        });
        Some(html! {
            <div class="st-detail" data-testid="selection">
                <span>{ text }</span>
                { for buttons }
                <button type="button" class="close" onclick={clear} title="clear the selection">{ "×" }</button>
            </div>
        })
    });

    let zoom = |factor: f64| {
        let onzoom = props.onzoom.clone();
        Callback::from(move |_| onzoom.emit(w * factor))
    };
    let export = Callback::from(move |_| {
        if let Some(svg) = io::outer_html(SVG_ID) {
            let file = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n");
            let _ = io::download(
                &format!("raftlab-spacetime-{:.0}ms.svg", vt),
                "image/svg+xml",
                &file,
            );
        }
    });
    let view_box = format!("0 0 {W} {:.0}", height);
    html! {
        <section class="panel spacetime-panel" aria-label="space-time diagram">
            <h2>{ "Space-time" }
                <span class="sub">{ format!("{:.0}–{:.0} ms · {drawn} messages", t0, t1) }</span>
                <span class="st-tools">
                    <button type="button" data-testid="spacetime-zoom-in" onclick={zoom(0.5)} title="zoom in: a shorter window" disabled={w <= WINDOW_MIN}>{ "+" }</button>
                    <button type="button" data-testid="spacetime-zoom-out" onclick={zoom(2.0)} title="zoom out: a longer window" disabled={w >= WINDOW_MAX}>{ "−" }</button>
                    <button type="button" data-testid="export-svg" onclick={export} title="download this diagram as an SVG file for slides">{ "Export SVG" }</button>
                </span>
            </h2>
            { for detail }
            <div class="st-box">
                <svg id={SVG_ID} class="spacetime" xmlns="http://www.w3.org/2000/svg" data-testid="spacetime"
                    viewBox={view_box} data-window-ms={format!("{w:.0}")}
                    data-from={format!("{t0:.0}")} data-to={format!("{t1:.0}")} data-arrows={drawn.to_string()}
                    data-map={format!("{} {}", arrows.time_map.0, arrows.time_map.1)}
                    role="img" aria-label="space-time diagram of messages between nodes"
                    ref={svg_ref} onmousemove={onhover}>
                    <style>{ STYLE }</style>
                    // Beneath everything, it takes the clicks that are not on
                    // a mark: on an arrow (hit-tested) or nowhere.
                    <rect class="st-bg" x="0" y="0" width={f(W)} height={f(height)} onclick={onbg}>
                        <title ref={tip}></title>
                    </rect>
                    // Each list in its own group: flattened into the svg's
                    // children, a list whose length changes shifts every
                    // sibling, and yew then re-creates the whole drawing.
                    <g class="st-ticks">{ for ticks }</g>
                    <g class="st-lanes">{ for lanes }</g>
                    <g class="st-outages">{ for outages }</g>
                    <clipPath id="st-clip">
                        <rect x={f(GUTTER)} y="0" width={f(W - GUTTER)} height={f(height)} />
                    </clipPath>
                    <g clip-path="url(#st-clip)">
                        <g class="st-scroll" transform={format!("translate({} 0)", f(shift))}>
                            <g class="st-arrows">{ for arrow_paths }</g>
                            <g class="st-marks">{ for mark_html }</g>
                            <g class="st-violations">{ for violation_html }</g>
                        </g>
                    </g>
                    <line class="st-now" x1={f(now_x)} y1={f(TOP - 4.0)} x2={f(now_x)} y2={f(height - 4.0)} />
                </svg>
                <ul class="st-list" hidden=true ref={list_ref}></ul>
            </div>
            <p class="hint">{ "Arrows run from sender to receiver; a ✗ marks a lost message. ♛ leader elected · C election started · green boxes: commit index reached · ✝ crash · ↻ restart. Click an arrow or a mark to find it in the ring, the logs and the feed." }</p>
        </section>
    }
}
