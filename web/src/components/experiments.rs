//! Experiment mode and the break-it hunt: many seeded runs in the
//! background, a slice of work per animation frame so the page stays
//! responsive, with a progress bar; experiments end in a plot of the
//! distribution, the hunt in the run that broke a rule.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_render::{request_animation_frame, AnimationFrame};
use raftlab_core::config::Bug;
use yew::prelude::*;

use crate::background::{Experiment, ExperimentKind, Group, Hunt};
use crate::io;
use crate::state::Msg;

/// Wall-clock ms of work per frame.
const SLICE_MS: f64 = 12.0;

/// Something that advances a little at a time.
pub trait Slices {
    /// One small piece of work; `false` once finished.
    fn work(&mut self) -> bool;
}

impl Slices for Experiment {
    fn work(&mut self) -> bool {
        Experiment::work(self)
    }
}

impl Slices for Hunt {
    fn work(&mut self) -> bool {
        Hunt::work(self)
    }
}

/// Runs `job` a slice per animation frame until it is finished (or the job
/// is replaced or dropped), calling `redraw` after every slice and `finished`
/// once at the end.
pub fn run_slices<T: Slices + 'static>(
    job: Rc<RefCell<Option<T>>>,
    frames: Rc<RefCell<Option<AnimationFrame>>>,
    redraw: Callback<()>,
    finished: Callback<()>,
) {
    let next = frames.clone();
    let frame = request_animation_frame(move |_| {
        let start = io::now_ms();
        let more = {
            let mut guard = job.borrow_mut();
            let Some(j) = guard.as_mut() else {
                return;
            };
            let mut more = true;
            while more && io::now_ms() - start < SLICE_MS {
                more = j.work();
            }
            more
        };
        redraw.emit(());
        if more {
            run_slices(job, next, redraw, finished);
        } else {
            finished.emit(());
        }
    });
    *frames.borrow_mut() = Some(frame);
}

/// A plot of each group's values: a dot per run on a shared axis, with
/// the median marked.
fn plot(kind: ExperimentKind, groups: &[Group]) -> Html {
    let all: Vec<f64> = groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    let max = all.iter().copied().fold(1.0f64, f64::max);
    let (w, left, right, row) = (640.0, 120.0, 20.0, 46.0);
    let h = 30.0 + row * groups.len() as f64;
    let x = |v: f64| left + v / max * (w - left - right);
    let rows = groups.iter().enumerate().map(|(i, g)| {
        let yc = 20.0 + row * (i as f64 + 0.5);
        let mut sorted: Vec<f64> = g.values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied();
        // Stack equal-ish values so the dots show the distribution's shape.
        let mut seen: Vec<(f64, u32)> = Vec::new();
        let dots = sorted.iter().map(|&v| {
            let px = x(v);
            let k = seen.iter().filter(|(p, _)| (p - px).abs() < 5.0).count() as f64;
            seen.push((px, 0));
            let dy = if (k as u32).is_multiple_of(2) { -k / 2.0 } else { (k + 1.0) / 2.0 } * 5.0;
            html! { <circle class="dot" cx={format!("{px:.1}")} cy={format!("{:.1}", yc + dy.clamp(-18.0, 18.0))} r="3.2" /> }
        });
        let med = median.map(|m| {
            html! {
                <g class="median">
                    <line x1={format!("{:.1}", x(m))} x2={format!("{:.1}", x(m))} y1={format!("{:.1}", yc - 19.0)} y2={format!("{:.1}", yc + 19.0)} />
                    <text x={format!("{:.1}", x(m) + 4.0)} y={format!("{:.1}", yc - 10.0)}>{ format!("median {m:.0}") }</text>
                </g>
            }
        });
        html! {
            <g class="row" data-testid={format!("experiment-group-{i}")} data-n={g.values.len().to_string()}
                data-median={median.map(|m| format!("{m:.0}")).unwrap_or_default()}>
                <line class="base" x1={format!("{left:.1}")} x2={format!("{:.1}", w - right)} y1={format!("{yc:.1}")} y2={format!("{yc:.1}")} />
                <text class="glabel" x={format!("{:.1}", left - 8.0)} y={format!("{yc:.1}")}>{ g.label.clone() }</text>
                { for dots }
                { for med }
            </g>
        }
    });
    let ticks = (0..=4).map(|q| {
        let v = max * q as f64 / 4.0;
        html! { <text class="tick" x={format!("{:.1}", x(v))} y={format!("{:.1}", h - 4.0)}>{ format!("{v:.0}") }</text> }
    });
    html! {
        <svg class="experiment-plot" data-testid="experiment-plot" viewBox={format!("0 0 {w} {:.0}", h + 14.0)}
            role="img" aria-label={format!("distribution of {}", kind.unit())}>
            { for rows }
            { for ticks }
            <text class="axis" x={format!("{:.1}", (left + w - right) / 2.0)} y={format!("{:.1}", h + 12.0)}>{ kind.unit() }</text>
        </svg>
    }
}

#[derive(Properties, PartialEq)]
pub struct ExperimentsProps {}

/// Experiment mode.
#[function_component(Experiments)]
pub fn experiments(_props: &ExperimentsProps) -> Html {
    let kind = use_state(|| ExperimentKind::ElectionTimeout);
    let runs = use_state(|| 30u64);
    let job: Rc<RefCell<Option<Experiment>>> = use_mut_ref(|| None);
    let frames = use_mut_ref(|| None::<AnimationFrame>);
    let running = use_state(|| false);
    let redraw = use_force_update();

    let onkind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_dyn_into::<web_sys::HtmlSelectElement>()
                .map(|s| s.value())
                .unwrap_or_default();
            if let Some(k) = ExperimentKind::ALL.into_iter().find(|k| k.id() == v) {
                kind.set(k);
            }
        })
    };
    let onruns = {
        let runs = runs.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_dyn_into::<web_sys::HtmlSelectElement>()
                .and_then(|s| s.value().parse::<u64>().ok())
                .unwrap_or(30);
            runs.set(v);
        })
    };
    let onrun = {
        let (kind, runs, job, frames, running) = (
            kind.clone(),
            runs.clone(),
            job.clone(),
            frames.clone(),
            running.clone(),
        );
        let redraw = redraw.clone();
        Callback::from(move |_| {
            *job.borrow_mut() = Some(Experiment::new(*kind, *runs));
            running.set(true);
            let redraw = redraw.clone();
            let running = running.clone();
            run_slices(
                job.clone(),
                frames.clone(),
                Callback::from(move |_| redraw.force_update()),
                Callback::from(move |_| running.set(false)),
            );
        })
    };
    let onstop = {
        let (frames, running) = (frames.clone(), running.clone());
        Callback::from(move |_| {
            frames.borrow_mut().take();
            running.set(false);
        })
    };
    let guard = job.borrow();
    let (done, total) = guard.as_ref().map_or((0, 0), |e| e.progress());
    let shown_kind = guard.as_ref().map_or(*kind, |e| e.kind);
    let pct = if total > 0 {
        done as f64 / total as f64 * 100.0
    } else {
        0.0
    };
    html! {
        <section class="panel experiments" data-testid="experiments" aria-label="experiments">
            <h2>{ "Experiments" }<span class="sub">{ "many seeded runs, in the background" }</span></h2>
            <div class="exp-form">
                <select data-testid="experiment-kind" onchange={onkind} disabled={*running}>
                    { for ExperimentKind::ALL.iter().map(|k| html! { <option value={k.id()} selected={*kind == *k}>{ k.title() }</option> }) }
                </select>
                <select data-testid="experiment-runs" onchange={onruns} disabled={*running} aria-label="seeds per setting">
                    { for [10u64, 30, 100].iter().map(|n| html! { <option value={n.to_string()} selected={*runs == *n}>{ format!("{n} seeds each") }</option> }) }
                </select>
                if *running {
                    <button type="button" data-testid="experiment-stop" onclick={onstop}>{ "Stop" }</button>
                } else {
                    <button type="button" class="primary" data-testid="experiment-run" onclick={onrun}>{ "▶ Run experiment" }</button>
                }
            </div>
            <p class="hint">{ kind.about() }</p>
            if total > 0 {
                <div class="progress" data-testid="experiment-progress" data-done={done.to_string()} data-total={total.to_string()}
                    role="progressbar" aria-valuemin="0" aria-valuemax={total.to_string()} aria-valuenow={done.to_string()}>
                    <div class="bar" style={format!("width:{pct:.1}%")} />
                    <span>{ format!("{done} of {total} runs") }</span>
                </div>
                { plot(shown_kind, guard.as_ref().map(|e| e.groups.as_slice()).unwrap_or(&[])) }
            }
            <p class="hint small">{ "The runs go a slice at a time between animation frames, on the page's own thread, so the cluster above keeps animating." }</p>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct HuntProps {
    pub bug: Bug,
    pub onmsg: Callback<Msg>,
}

/// The break-it hunt: chaos seeds with the picked bug until one breaks a
/// rule; that run opens in the page, stopped at the violation.
#[function_component(HuntButton)]
pub fn hunt_button(props: &HuntProps) -> Html {
    let job: Rc<RefCell<Option<Hunt>>> = use_mut_ref(|| None);
    let frames = use_mut_ref(|| None::<AnimationFrame>);
    let running = use_state(|| false);
    let redraw = use_force_update();
    {
        // A different bug: forget the old hunt.
        let (job, frames, running) = (job.clone(), frames.clone(), running.clone());
        use_effect_with(props.bug, move |_| {
            frames.borrow_mut().take();
            job.borrow_mut().take();
            running.set(false);
        });
    }
    let onhunt = {
        let (job, frames, running) = (job.clone(), frames.clone(), running.clone());
        let bug = props.bug;
        let onmsg = props.onmsg.clone();
        let redraw = redraw.clone();
        Callback::from(move |_| {
            *job.borrow_mut() = Some(Hunt::new(bug, 10_000, 60));
            running.set(true);
            let redraw = redraw.clone();
            let running = running.clone();
            let job2 = job.clone();
            let onmsg = onmsg.clone();
            run_slices(
                job.clone(),
                frames.clone(),
                Callback::from(move |_| redraw.force_update()),
                Callback::from(move |_| {
                    running.set(false);
                    let found = job2.borrow().as_ref().and_then(|h| h.found.clone());
                    if let Some((seed, session)) = found {
                        onmsg.emit(Msg::OpenSession(
                            Box::new(session),
                            "break-it run",
                            format!("chaos seed {seed} with the {} bug", bug.name()),
                        ));
                    }
                }),
            );
        })
    };
    let guard = job.borrow();
    let status = guard.as_ref().map(|h| match (&h.found, *running) {
        (Some((seed, _)), _) => format!(
            "Caught on seed {seed} after {} seeds: opened below.",
            h.tried
        ),
        (None, true) => format!("Trying seed {} of at most {}…", h.tried, h.max_seeds),
        (None, false) => format!("No violation in {} seeds.", h.tried),
    });
    let pct = guard
        .as_ref()
        .map_or(0.0, |h| h.tried as f64 / h.max_seeds as f64 * 100.0);
    html! {
        <div class="hunt">
            <button type="button" class="primary" data-testid="breakit-hunt" onclick={onhunt} disabled={*running}
                title="run random faults (as raftlab chaos does) seed after seed until the checker catches the bug">
                { "Hunt with random faults" }
            </button>
            if let Some(s) = status {
                <div class="progress small" data-testid="breakit-progress" data-running={running.to_string()}>
                    <div class="bar" style={format!("width:{pct:.1}%")} />
                    <span>{ s }</span>
                </div>
            }
        </div>
    }
}
