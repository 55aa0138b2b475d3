//! The experiment worker: a second wasm binary, built by trunk next to the
//! app (`data-type="worker"` in index.html) and started by the experiments
//! panel as a Web Worker, so that hundreds of seeded runs never hold up the
//! page's own thread. It links the simulator and nothing of the page.
//!
//! Protocol (JSON strings both ways; the types are in
//! `background/experiment.rs`): the worker says `ready` once loaded; the
//! page posts a `Job`; the worker runs it seed by seed and posts `results`
//! batches as runs finish, then `finished`. The page also posts a run to
//! save as a lesson (`lesson_request`), answered by one `lesson` report:
//! the exporter lives here, not in the page's first download. Stopping is the page terminating
//! the worker.
//!
//! Natively the same code answers on the command line,
//! `experiment-worker KIND RUNS`, with one `results` line holding every run
//! and one `finished` line: the browser test compares the page's figures
//! with these.

#[path = "../background/experiment.rs"]
#[allow(dead_code)] // the page's half (`Experiment`, labels) is unused here
mod experiment;

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(target_arch = "wasm32")]
mod worker {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    use crate::experiment::{Job, Report};

    /// Wall-clock ms between two batches of results: the plot fills in
    /// smoothly without a message (and a redraw of the page) per run.
    const BATCH_MS: f64 = 50.0;

    fn post(scope: &DedicatedWorkerGlobalScope, report: &Report) {
        if let Ok(text) = serde_json::to_string(report) {
            // Posting a string cannot fail to clone; nothing to do if it did.
            let _ = scope.post_message(&JsValue::from_str(&text));
        }
    }

    fn run(scope: &DedicatedWorkerGlobalScope, job: &Job) {
        let start = js_sys::Date::now();
        let mut last = start;
        let mut batch = Vec::new();
        job.run(|r| {
            batch.push(r);
            let now = js_sys::Date::now();
            if now - last >= BATCH_MS {
                last = now;
                let results = std::mem::take(&mut batch);
                post(
                    scope,
                    &Report::Results {
                        job: job.id,
                        results,
                    },
                );
            }
        });
        if !batch.is_empty() {
            post(
                scope,
                &Report::Results {
                    job: job.id,
                    results: batch,
                },
            );
        }
        let ms = js_sys::Date::now() - start;
        post(scope, &Report::Finished { job: job.id, ms });
    }

    pub fn start() {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let me = scope.clone();
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let text = e.data().as_string().unwrap_or_default();
            if let Some(reply) = crate::experiment::answer_lesson_request(&text) {
                post(&me, &reply);
                return;
            }
            match serde_json::from_str::<Job>(&text) {
                Ok(job) => run(&me, &job),
                Err(err) => post(
                    &me,
                    &Report::Refused {
                        reason: format!("not a job: {err}"),
                    },
                ),
            }
        });
        scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        // The handler lives as long as the worker.
        onmessage.forget();
        post(&scope, &Report::Ready);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use experiment::{ExperimentKind, Job, Report};
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [kind, runs] => ExperimentKind::from_id(kind).zip(runs.parse::<u64>().ok()),
        _ => None,
    };
    let Some((kind, runs)) = parsed else {
        let kinds: Vec<_> = ExperimentKind::ALL.iter().map(|k| k.id()).collect();
        eprintln!(
            "usage: experiment-worker KIND RUNS   (KIND: {})",
            kinds.join(", ")
        );
        return std::process::ExitCode::from(2);
    };
    let job = Job::new(1, kind, runs);
    let start = std::time::Instant::now();
    let mut results = Vec::new();
    job.run(|r| results.push(r));
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    for report in [
        Report::Results { job: 1, results },
        Report::Finished { job: 1, ms },
    ] {
        println!(
            "{}",
            serde_json::to_string(&report).expect("reports serialise")
        );
    }
    std::process::ExitCode::SUCCESS
}
