//! Experiment mode and the break-it hunt. An experiment is many seeded
//! runs in a Web Worker (the `experiment-worker` binary, see
//! `src/bin/experiment-worker.rs`), with a progress bar and a plot of the
//! distribution that fills in as the worker's results arrive; the page's
//! own thread only draws. The hunt runs a slice of work per animation frame
//! on the page's thread, so the page stays responsive, and ends in the run
//! that broke a rule.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_render::{request_animation_frame, AnimationFrame};
use raftlab_core::config::Bug;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, Worker};
use yew::prelude::*;

use crate::background::experiment::{Experiment, ExperimentKind, Group, Job, Report};
use crate::background::Hunt;
use crate::io;
use crate::state::{Msg, SessionMsg};

/// Wall-clock ms of work per frame.
const SLICE_MS: f64 = 12.0;

/// Something that advances a little at a time.
pub trait Slices {
    /// One small piece of work; `false` once finished.
    fn work(&mut self) -> bool;
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

/// The experiment worker's binary. Trunk writes its loader shim
/// (`data-loader-shim`), which loads the worker's script and wasm relative
/// to itself, next to index.html; `crate::module_stem` gives the files'
/// names, which follow their content.
pub(crate) const WORKER_BIN: &str = "experiment-worker";

/// A round step for an axis up to `max` with about four ticks.
fn tick_step(max: f64) -> f64 {
    let rough = (max / 4.0).max(1.0);
    let mag = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * mag)
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// A figure as the plot writes it: whole numbers as such, halves (an even
/// count's median) with their decimal.
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A plot of each group's values: a row per setting, a dot per run on a
/// shared axis (runs that land on the same spot stack up and down, so the
/// row's shape is the distribution), the median marked and written out.
fn plot(kind: ExperimentKind, groups: &[Group]) -> Html {
    let max = groups
        .iter()
        .flat_map(|g| g.finite())
        .fold(1.0f64, f64::max);
    let step = tick_step(max);
    let top = (max / step).ceil().max(1.0) * step;
    // The right margin holds "median 1234.5" whole at the plot's font size.
    let (w, left, right, row, head) = (800.0, 130.0, 160.0, 64.0, 8.0);
    let inner = w - left - right;
    let h = head + row * groups.len() as f64;
    let x = |v: f64| left + v / top * inner;
    let rows = groups.iter().enumerate().map(|(i, g)| {
        let yc = head + row * (i as f64 + 0.5);
        let mut sorted: Vec<f64> = g.finite().collect();
        sorted.sort_by(f64::total_cmp);
        let med = median(&sorted);
        // Bins one dot wide; a full bin squeezes its dots to fit the row.
        let r = 4.0;
        let bins: Vec<usize> = sorted.iter().map(|&v| ((x(v) - left) / (2.0 * r)).round() as usize).collect();
        let tallest = bins.chunk_by(|a, b| a == b).map(|c| c.len()).max().unwrap_or(1) as f64;
        let pitch = (2.0 * r).min((row - 14.0) / tallest.max(1.0));
        let mut k = 0usize;
        let dots = sorted.iter().enumerate().map(|(j, &v)| {
            k = if j > 0 && bins[j] == bins[j - 1] { k + 1 } else { 0 };
            // 0, +1, -1, +2, -2, ... around the baseline.
            let off = if k % 2 == 1 { (k as f64 + 1.0) / 2.0 } else { -(k as f64) / 2.0 };
            let cx = left + bins[j] as f64 * 2.0 * r;
            html! { <circle class="dot" cx={format!("{cx:.1}")} cy={format!("{:.1}", yc + off * pitch)} r={format!("{r}")}>
                <title>{ format!("{v:.0}") }</title></circle> }
        });
        // Over the dots, with a white halo so it shows in a dense stack.
        let med_mark = med.map(|m| {
            let (mx, y1, y2) = (format!("{:.1}", x(m)), format!("{:.1}", yc - row / 2.0 + 4.0), format!("{:.1}", yc + row / 2.0 - 4.0));
            html! {
                <g class="median">
                    <line class="halo" x1={mx.clone()} x2={mx.clone()} y1={y1.clone()} y2={y2.clone()} />
                    <line x1={mx.clone()} x2={mx} y1={y1} y2={y2} />
                </g>
            }
        });
        let values = g
            .values
            .iter()
            .map(|(seed, v)| match v {
                Some(v) => format!("{seed}:{v}"),
                None => format!("{seed}:-"),
            })
            .collect::<Vec<_>>()
            .join(",");
        html! {
            <g class="row" data-testid={format!("experiment-group-{i}")} data-n={g.values.len().to_string()}
                data-median={med.map(number).unwrap_or_default()} data-values={values}>
                <line class="base" x1={format!("{left:.1}")} x2={format!("{:.1}", w - right)} y1={format!("{yc:.1}")} y2={format!("{yc:.1}")} />
                <text class="glabel" x={format!("{:.1}", left - 10.0)} y={format!("{yc:.1}")}>{ g.label.clone() }</text>
                { for dots }
                { for med_mark }
                <text class="gmedian" x={format!("{:.1}", w - right + 12.0)} y={format!("{yc:.1}")}>
                    { med.map(|m| format!("median {}", number(m))).unwrap_or_default() }
                </text>
            </g>
        }
    });
    let ticks = (0..=((top / step).round() as u32)).map(|q| {
        let v = step * q as f64;
        html! {
            <g class="tick">
                <line x1={format!("{:.1}", x(v))} x2={format!("{:.1}", x(v))} y1={format!("{head:.1}")} y2={format!("{:.1}", h + 2.0)} />
                <text x={format!("{:.1}", x(v))} y={format!("{:.1}", h + 18.0)}>{ format!("{v:.0}") }</text>
            </g>
        }
    });
    html! {
        <svg class="experiment-plot" data-testid="experiment-plot" viewBox={format!("0 0 {w} {:.0}", h + 44.0)}
            role="img" aria-label={format!("{}: distribution of {}", kind.title(), kind.unit())}>
            { for ticks }
            { for rows }
            <text class="axis" x={format!("{:.1}", left + inner / 2.0)} y={format!("{:.1}", h + 38.0)}>{ kind.unit() }</text>
        </svg>
    }
}

/// Where an experiment is.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    /// Runs under way since this wall-clock ms.
    Running(f64),
    /// All runs in: wall-clock ms the page waited, and the worker's own.
    Finished {
        page_ms: f64,
        worker_ms: f64,
    },
    Stopped,
    Failed(String),
}

/// The worker and its handlers; dropping it stops the worker.
struct Runner {
    worker: Worker,
    /// Said `ready`: messages posted now are heard.
    ready: bool,
    /// A job to post once it is ready.
    pending: Option<String>,
    /// Failed to load or crashed: start a new one next time.
    broken: bool,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(ErrorEvent)>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// What the panel holds between renders (shared with the worker's handlers).
struct Panel {
    experiment: Option<Experiment>,
    phase: Phase,
    runner: Option<Runner>,
    jobs: u32,
}

type Shared = Rc<RefCell<Panel>>;

/// Starts the worker, its messages handled by `on_report`.
fn start_worker(panel: &Shared, redraw: Callback<()>) -> Result<Runner, String> {
    let loader = format!("./{}_loader.js", crate::module_stem(WORKER_BIN)?);
    let worker = Worker::new(&loader).map_err(|e| format!("{e:?}"))?;
    let onmessage = {
        let (panel, redraw) = (panel.clone(), redraw.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let text = e.data().as_string().unwrap_or_default();
            let report = Report::from_json(&text).unwrap_or_else(|err| Report::Refused {
                reason: format!("an unreadable message from the worker: {err}"),
            });
            if on_report(&mut panel.borrow_mut(), report) {
                redraw.emit(());
            }
        })
    };
    let onerror = {
        let panel = panel.clone();
        Closure::<dyn FnMut(ErrorEvent)>::new(move |e: ErrorEvent| {
            e.prevent_default();
            let mut p = panel.borrow_mut();
            if let Some(r) = p.runner.as_mut() {
                r.broken = true;
            }
            p.phase = Phase::Failed(format!("The experiment worker failed: {}", e.message()));
            redraw.emit(());
        })
    };
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    Ok(Runner {
        worker,
        ready: false,
        pending: None,
        broken: false,
        _onmessage: onmessage,
        _onerror: onerror,
    })
}

/// Takes in one report of the worker; whether the panel changed.
fn on_report(p: &mut Panel, report: Report) -> bool {
    let current = p.experiment.as_ref().map(|e| e.job.id);
    match report {
        Report::Ready => {
            if let Some(r) = p.runner.as_mut() {
                r.ready = true;
                if let Some(text) = r.pending.take() {
                    let _ = r.worker.post_message(&JsValue::from_str(&text));
                }
            }
            false
        }
        Report::Results { job, results } => {
            let Some(e) = p.experiment.as_mut().filter(|_| current == Some(job)) else {
                return false;
            };
            for r in results {
                e.add(r);
            }
            true
        }
        Report::Finished { job, ms } => {
            if current != Some(job) {
                return false;
            }
            if let Phase::Running(start) = p.phase {
                p.phase = Phase::Finished {
                    page_ms: io::now_ms() - start,
                    worker_ms: ms,
                };
            }
            true
        }
        // The panel never asks for a lesson (the Share panel's own worker does).
        Report::Lesson { .. } => false,
        Report::Refused { reason } => {
            p.phase = Phase::Failed(format!("The experiment worker refused the job: {reason}"));
            true
        }
    }
}

/// Hands `job` to the worker, starting one if there is none (or it broke).
fn run_job(panel: &Shared, kind: ExperimentKind, runs: u64, redraw: Callback<()>) {
    let mut p = panel.borrow_mut();
    p.jobs += 1;
    let job = Job::new(p.jobs, kind, runs);
    let text = serde_json::to_string(&job).unwrap_or_default();
    p.experiment = Some(Experiment::new(job));
    p.phase = Phase::Running(io::now_ms());
    if p.runner.as_ref().is_some_and(|r| r.broken) {
        p.runner = None;
    }
    if p.runner.is_none() {
        // The handlers borrow the panel: start the worker unborrowed.
        drop(p);
        let started = start_worker(panel, redraw);
        p = panel.borrow_mut();
        match started {
            Ok(r) => p.runner = Some(r),
            Err(e) => {
                p.phase = Phase::Failed(format!("Could not start the experiment worker: {e}"));
                return;
            }
        }
    }
    if let Some(r) = p.runner.as_mut() {
        if r.ready {
            let _ = r.worker.post_message(&JsValue::from_str(&text));
        } else {
            r.pending = Some(text);
        }
    }
}

fn seconds(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

#[derive(Properties, PartialEq)]
pub struct ExperimentsProps {}

/// Experiment mode.
#[function_component(Experiments)]
pub fn experiments(_props: &ExperimentsProps) -> Html {
    let kind = use_state(|| ExperimentKind::ElectionTimeout);
    let runs = use_state(|| 30u64);
    let panel: Shared = use_mut_ref(|| Panel {
        experiment: None,
        phase: Phase::Idle,
        runner: None,
        jobs: 0,
    });
    let update = use_force_update();
    let redraw = Callback::from(move |_| update.force_update());
    {
        // Leaving the page's layout stops the worker.
        let panel = panel.clone();
        use_effect_with((), move |_| move || drop(panel.borrow_mut().runner.take()));
    }
    let onkind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_dyn_into::<web_sys::HtmlSelectElement>()
                .map(|s| s.value())
                .unwrap_or_default();
            if let Some(k) = ExperimentKind::from_id(&v) {
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
        let (kind, runs, panel, redraw) =
            (kind.clone(), runs.clone(), panel.clone(), redraw.clone());
        Callback::from(move |_| {
            run_job(&panel, *kind, *runs, redraw.clone());
            redraw.emit(());
        })
    };
    let onstop = {
        let (panel, redraw) = (panel.clone(), redraw.clone());
        Callback::from(move |_| {
            let mut p = panel.borrow_mut();
            // Terminates the worker mid-run; a new one starts next time.
            p.runner = None;
            p.phase = Phase::Stopped;
            drop(p);
            redraw.emit(());
        })
    };

    let p = panel.borrow();
    let running = matches!(p.phase, Phase::Running(_));
    let (done, total) = p.experiment.as_ref().map_or((0, 0), |e| e.progress());
    let shown_kind = p.experiment.as_ref().map_or(*kind, |e| e.job.kind);
    let pct = if total > 0 {
        done as f64 / total as f64 * 100.0
    } else {
        0.0
    };
    let (phase, status) = match &p.phase {
        Phase::Idle => ("idle", String::new()),
        Phase::Running(_) if done == 0 => ("running", "starting the worker…".to_string()),
        Phase::Running(start) => (
            "running",
            format!("{done} of {total} runs · {}", seconds(io::now_ms() - start)),
        ),
        Phase::Finished { page_ms, .. } => {
            ("finished", format!("{total} runs in {}", seconds(*page_ms)))
        }
        Phase::Stopped => ("stopped", format!("stopped after {done} of {total} runs")),
        Phase::Failed(why) => ("failed", why.clone()),
    };
    let worker_ms = match &p.phase {
        Phase::Finished { worker_ms, page_ms } => format!("{worker_ms:.0}/{page_ms:.0}"),
        _ => String::new(),
    };
    html! {
        <section class="panel experiments" data-testid="experiments" aria-label="experiments" data-phase={phase}>
            <h2>{ "Experiments" }<span class="sub">{ "many seeded runs in a background worker" }</span></h2>
            <div class="exp-form">
                <select data-testid="experiment-kind" onchange={onkind} disabled={running} aria-label="experiment">
                    { for ExperimentKind::ALL.iter().map(|k| html! { <option value={k.id()} selected={*kind == *k}>{ k.title() }</option> }) }
                </select>
                <select data-testid="experiment-runs" onchange={onruns} disabled={running} aria-label="seeds per setting">
                    { for [10u64, 30, 100].iter().map(|n| html! { <option value={n.to_string()} selected={*runs == *n}>{ format!("{n} seeds each") }</option> }) }
                </select>
                if running {
                    <button type="button" data-testid="experiment-stop" onclick={onstop}>{ "■ Stop" }</button>
                } else {
                    <button type="button" class="primary" data-testid="experiment-run" onclick={onrun}>{ "▶ Run experiment" }</button>
                }
            </div>
            <p class="hint">{ kind.about() }</p>
            if total > 0 || matches!(p.phase, Phase::Failed(_)) {
                <div class={classes!("progress", (phase == "failed").then_some("failed"))} data-testid="experiment-progress"
                    data-done={done.to_string()} data-total={total.to_string()} data-phase={phase} data-ms={worker_ms}
                    role="progressbar" aria-valuemin="0" aria-valuemax={total.to_string()} aria-valuenow={done.to_string()}>
                    <div class="bar" style={format!("width:{pct:.1}%")} />
                    <span>{ status }</span>
                </div>
            }
            if total > 0 {
                <h3 class="exp-title">{ shown_kind.title() }</h3>
                { plot(shown_kind, p.experiment.as_ref().map(|e| e.groups.as_slice()).unwrap_or(&[])) }
            }
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
                        onmsg.emit(Msg::Session(SessionMsg::Open(
                            Box::new(session),
                            "break-it run",
                            format!("chaos seed {seed} with the {} bug", bug.name()),
                        )));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_steps_are_round_and_cover_the_data() {
        for (max, step) in [
            (1.0, 1.0),
            (24.0, 10.0),
            (30.0, 10.0),
            (830.0, 250.0),
            (10_000.0, 2500.0),
        ] {
            assert_eq!(tick_step(max), step, "max {max}");
            assert!(tick_step(max) * 5.0 >= max);
        }
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 9.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 3.0, 9.0]), Some(2.5));
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(16.0), "16");
    }
}
