//! The timeline under the cluster: terms as bands, leader changes, crashes,
//! partitions, branches and violations marked; click or drag to scrub. It
//! is a slider in the ARIA Authoring Practices' pattern: the arrows step
//! one event, Page Up/Down a tenth of the run, Home and End go to the
//! ends of what is known.

use yew::prelude::*;

use crate::components::logs::term_class;
use crate::lab::MarkKind;
use crate::state::{ClockMsg, LabHandle, Stamp};

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub lab: LabHandle,
    /// The live stamp (`UiState::stamp`): it follows every frame.
    pub stamp: Stamp,
    pub onscrub: Callback<f64>,
    /// Steps for the slider's arrow keys.
    #[prop_or_default]
    pub onclock: Callback<ClockMsg>,
}

fn pct(t: f64, end: f64) -> String {
    format!("{:.3}%", (t / end * 100.0).clamp(0.0, 100.0))
}

#[function_component(Timeline)]
pub fn timeline(props: &TimelineProps) -> Html {
    let track = use_node_ref();
    let dragging = use_mut_ref(|| false);
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let vt = lab.vt();
    let known = lab.known_end() as f64;
    let end = (known.max(vt) * 1.02).max(500.0);

    // Term bands: from each new leader to the next.
    let leaders: Vec<(u64, u64, u64)> = lab
        .marks()
        .iter()
        .filter_map(|m| match m.kind {
            MarkKind::Leader { node, term } => Some((m.time, node, term)),
            _ => None,
        })
        .collect();
    let bands = leaders.iter().enumerate().map(|(i, &(t, node, term))| {
        let until = leaders
            .get(i + 1)
            .map(|l| l.0 as f64)
            .unwrap_or(known.max(vt));
        let width = ((until - t as f64) / end * 100.0).max(0.15);
        html! {
            <div class={classes!("band", term_class(term))}
                style={format!("left:{};width:{width:.3}%", pct(t as f64, end))}
                title={format!("term {term}: S{node} leads from {t} ms")}>
                <span>{ format!("T{term} S{node}") }</span>
            </div>
        }
    });
    // Partitions: from each split to the next heal.
    let mut splits = Vec::new();
    let mut open: Option<u64> = None;
    for m in lab.marks() {
        match m.kind {
            MarkKind::Partition if open.is_none() => open = Some(m.time),
            MarkKind::Heal => {
                if let Some(s) = open.take() {
                    splits.push((s, m.time as f64));
                }
            }
            _ => {}
        }
    }
    if let Some(s) = open {
        splits.push((s, known.max(vt)));
    }
    let splits = splits.into_iter().map(|(s, e)| {
        let width = ((e - s as f64) / end * 100.0).max(0.3);
        html! {
            <div class="split" style={format!("left:{};width:{width:.3}%", pct(s as f64, end))}
                title={format!("network partitioned from {s} ms")} />
        }
    });
    let ticks = lab.marks().iter().filter_map(|m| {
        let (class, text, title) = match m.kind {
            MarkKind::Crash(n) => (
                "tick crash",
                format!("✝{n}"),
                format!("S{n} crashed at {} ms", m.time),
            ),
            MarkKind::Restart(n) => (
                "tick restart",
                format!("↻{n}"),
                format!("S{n} restarted at {} ms", m.time),
            ),
            MarkKind::Membership(ref label) => (
                "tick membership",
                label.clone(),
                format!("membership change asked at {} ms: {label}", m.time),
            ),
            MarkKind::Leader { node, term } => (
                "tick leader",
                "♛".to_string(),
                format!("S{node} became leader of term {term} at {} ms", m.time),
            ),
            _ => return None,
        };
        Some(html! {
            <div class={class} style={format!("left:{}", pct(m.time as f64, end))} title={title}>
                <span>{ text }</span>
            </div>
        })
    });
    let branches = lab.branches().iter().map(|b| {
        html! {
            <div class="tick branch" style={format!("left:{}", pct(b.time as f64, end))}
                title={format!("a new branch started here ({} ms)", b.time)}>
                <span>{ "⑂" }</span>
            </div>
        }
    });
    let violations = sim.violations().iter().filter_map(|v| {
        let e = sim.event(v.seq)?;
        Some(html! {
            <div class="tick violation" style={format!("left:{}", pct(e.time as f64, end))}
                title={format!("{}: {}", v.rule, v.message)}>
                <span>{ "!" }</span>
            </div>
        })
    });
    // The page keeps a bounded history (`lab::HISTORY_LIMIT`): what is
    // older is shaded, and rewinding stops at its edge.
    let start = lab.history_start();
    let forgotten = (start.seq > 1).then(|| {
        let title = format!(
            "history before {} ms (event #{}) is no longer kept: rewinding stops here",
            start.time, start.seq
        );
        html! {
            <div class="history-start" data-testid="history-start"
                data-time={start.time.to_string()} data-seq={start.seq.to_string()}
                style={format!(
                    "position:absolute;top:0;bottom:0;left:0;width:{};\
                     background:repeating-linear-gradient(135deg,rgba(107,114,128,.28) 0 5px,rgba(243,244,246,.6) 5px 10px);\
                     border-right:2px solid #4b5563",
                    pct(start.time as f64, end)
                )}
                title={title}>
                <span style="position:absolute;right:3px;bottom:1px;font-size:10px;font-weight:700;color:#374151;white-space:nowrap">
                    { format!("kept from {} ms", start.time) }
                </span>
            </div>
        }
    });
    let future = (known > vt).then(|| {
        html! {
            <div class="future" style={format!("left:{};width:{:.3}%", pct(vt, end), (known - vt) / end * 100.0)}
                title="known future: replayed exactly if you step or play; acting discards it" />
        }
    });

    let scrub_at = {
        let track = track.clone();
        let onscrub = props.onscrub.clone();
        move |client_x: i32| {
            if let Some(el) = track.cast::<web_sys::Element>() {
                let rect = el.get_bounding_client_rect();
                if rect.width() > 0.0 {
                    let f = ((client_x as f64 - rect.left()) / rect.width()).clamp(0.0, 1.0);
                    onscrub.emit(f * end);
                }
            }
        }
    };
    let onpointerdown = {
        let scrub_at = scrub_at.clone();
        let dragging = dragging.clone();
        Callback::from(move |e: PointerEvent| {
            *dragging.borrow_mut() = true;
            if let Some(el) = e.target_dyn_into::<web_sys::Element>() {
                let _ = el.set_pointer_capture(e.pointer_id());
            }
            scrub_at(e.client_x());
        })
    };
    let onpointermove = {
        let scrub_at = scrub_at.clone();
        let dragging = dragging.clone();
        Callback::from(move |e: PointerEvent| {
            if *dragging.borrow() && e.buttons() != 0 {
                scrub_at(e.client_x());
            }
        })
    };
    let onpointerup = {
        let dragging = dragging.clone();
        Callback::from(move |_: PointerEvent| *dragging.borrow_mut() = false)
    };
    let scale = [0.0, 0.25, 0.5, 0.75, 1.0].map(|q| {
        let t = q * end;
        html! { <span class="scale-label" style={format!("left:{}", pct(t, end))}>{ format!("{:.0} ms", t) }</span> }
    });

    let onkeydown = {
        let (onscrub, onclock) = (props.onscrub.clone(), props.onclock.clone());
        let (home, known) = (start.time as f64, known.max(vt));
        let page = end / 10.0;
        Callback::from(move |e: KeyboardEvent| {
            match e.key().as_str() {
                "ArrowRight" | "ArrowUp" => onclock.emit(ClockMsg::Step),
                "ArrowLeft" | "ArrowDown" => onclock.emit(ClockMsg::StepBack),
                "PageUp" => onscrub.emit(vt + page),
                "PageDown" => onscrub.emit((vt - page).max(home)),
                "Home" => onscrub.emit(home),
                "End" => onscrub.emit(known),
                _ => return,
            }
            e.prevent_default();
        })
    };
    let valuetext = match lab.past().last() {
        Some(ev) => format!(
            "{vt:.0} ms, after event {} at {} ms; {:.0} ms known",
            ev.seq,
            ev.time,
            known.max(vt)
        ),
        None => format!("{vt:.0} ms, before the first event"),
    };

    html! {
        <section class="panel timeline-panel" aria-label="timeline">
            <div class="timeline" ref={track} data-testid="timeline"
                data-end={format!("{end:.0}")}
                {onpointerdown} {onpointermove} {onpointerup} {onkeydown} tabindex="0"
                role="slider" aria-label="simulated time" aria-valuetext={valuetext}
                aria-valuemin={start.time.to_string()} aria-valuemax={format!("{end:.0}")} aria-valuenow={format!("{vt:.0}")}>
                <div class="lane-terms">{ for bands }</div>
                <div class="lane-splits">{ for splits }</div>
                { for forgotten }
                { for future }
                { for ticks }
                { for branches }
                { for violations }
                <div class="cursor" style={format!("left:{}", pct(vt, end))} />
            </div>
            <div class="scale">{ for scale.into_iter() }</div>
        </section>
    }
}
