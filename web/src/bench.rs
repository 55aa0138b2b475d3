//! Benchmark modes of the page, for `e2e/bench/` (never part of the app's
//! normal use): instead of the app, `?bench=...` runs a measurement in the
//! page's wasm and writes the result as attributes of an
//! `<output data-testid="bench-result">` element.
//!
//! - `?bench=sim&secs=N&warmup=W`: the simulator under chaos with client
//!   load, the same workload as `core/examples/bench_sim.rs speed N W`
//!   natively (5 nodes, default settings and chaos, seed 7): simulated
//!   seconds per wall second, to compare wasm with native. The run is timed
//!   after W untimed runs of the same workload (default 1), as natively:
//!   a freshly loaded wasm module runs first in the browser's baseline
//!   compiler and is optimised only as it gets hot, so a short cold run
//!   measures the compiler more than the simulator.
//! - `?bench=memory&secs=N&history=H`: the page's default simulator
//!   (5 nodes, default settings, seed 1) run N simulated seconds a second
//!   at a time, with the history bounded to H events (0: unbounded); the
//!   simulator is kept alive so the page's memory can be read afterwards.

use raftlab_core::sim::chaos::{Chaos, ChaosOptions};
use raftlab_core::sim::{Sim, SimConfig};

use crate::url::Bench;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn perf_now() -> f64;
}

/// Runs the benchmark the URL asks for, if any; returns whether it did
/// (then the app is not started).
pub fn run_if_asked() -> bool {
    let query = crate::url::read(&crate::url::search());
    let mut result = match query.bench {
        Some(Bench::Sim { secs, warmup }) => sim_speed(secs, warmup),
        Some(Bench::Memory { secs, history }) => memory(secs, history),
        None => return false,
    };
    // A value the benchmark could not use is named with the result, so a
    // measurement never silently runs other numbers than asked.
    let notices: Vec<String> = query.notices.into_iter().map(|n| n.text).collect();
    result.push(("notices", notices.join(" | ")));
    show(&result);
    true
}

fn chaos_run(secs: u64) -> Sim {
    let mut sim = Sim::new(7, 5, SimConfig::default()).expect("valid settings");
    Chaos::new(7, ChaosOptions::default()).drive(&mut sim, secs * 1000);
    sim
}

fn sim_speed(secs: u64, warmup: u64) -> Vec<(&'static str, String)> {
    let warm_started = perf_now();
    for _ in 0..warmup {
        chaos_run(secs);
    }
    let warmup_ms = perf_now() - warm_started;
    let started = perf_now();
    let sim = chaos_run(secs);
    let wall_ms = perf_now() - started;
    vec![
        ("sim-secs", secs.to_string()),
        ("warmup", warmup.to_string()),
        ("warmup-ms", format!("{warmup_ms:.1}")),
        ("wall-ms", format!("{wall_ms:.1}")),
        ("events", sim.position().to_string()),
        ("steps", sim.step_count().to_string()),
    ]
}

fn memory(secs: u64, history: u64) -> Vec<(&'static str, String)> {
    let started = perf_now();
    let mut sim = Sim::new(1, 5, SimConfig::default()).expect("valid settings");
    if history > 0 {
        sim.set_history_limit(Some(history));
    }
    for s in 1..=secs {
        sim.run_until(s * 1000);
    }
    let wall_ms = perf_now() - started;
    let out = vec![
        ("sim-secs", secs.to_string()),
        ("wall-ms", format!("{wall_ms:.1}")),
        ("events", sim.position().to_string()),
        ("kept-events", sim.events().len().to_string()),
    ];
    // Kept alive for the measurement that follows.
    std::mem::forget(sim);
    out
}

fn show(attrs: &[(&'static str, String)]) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let (Ok(el), Some(body)) = (doc.create_element("output"), doc.body()) else {
        return;
    };
    let _ = el.set_attribute("data-testid", "bench-result");
    let mut text = String::new();
    for (k, v) in attrs {
        let _ = el.set_attribute(&format!("data-{k}"), v);
        text.push_str(&format!("{k}={v} "));
    }
    el.set_text_content(Some(text.trim_end()));
    let _ = body.append_child(&el);
}
