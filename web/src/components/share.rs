//! Sharing and replaying runs: a session (seed, settings, timed actions)
//! as a link or a JSON file, and the trace (format v1) as a download; a
//! session file or a trace from `raftlab run` opened from disk.

use std::cell::RefCell;
use std::rc::Rc;

use raftlab_core::session::Session;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, Worker};
use yew::prelude::*;

use crate::background::experiment::{lesson_request, Report};
use crate::components::experiments::WORKER_BIN;

use crate::components::lesson::is_lesson_text;
use crate::io;
use crate::state::{LabHandle, LessonMsg, Msg, SessionMsg, Source, ViewMsg};

/// Reads a picked or dropped file and hands it to the page: a lesson file
/// to the lesson checker, anything else to the session and trace reader.
pub fn open_file(file: web_sys::File, onmsg: Callback<Msg>) {
    yew::platform::spawn_local(async move {
        match io::read_file(file).await {
            Ok((origin, text)) if is_lesson_text(&text) => {
                onmsg.emit(Msg::Lesson(LessonMsg::OpenText { origin, text }))
            }
            Ok((name, text)) => onmsg.emit(Msg::Session(SessionMsg::OpenFile { name, text })),
            Err(e) => onmsg.emit(Msg::View(ViewMsg::Problem(format!(
                "{e}. The current run is unchanged."
            )))),
        }
    });
}

/// A worker saving one run as a lesson, dropped (and so ended) once it
/// answers. The exporter runs in the experiment worker, loaded on this
/// click, so the page's first download does not carry it.
struct LessonSaver {
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(ErrorEvent)>,
}

impl Drop for LessonSaver {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

type SaverSlot = Rc<RefCell<Option<LessonSaver>>>;

/// Ends the saver in `slot` after the current event (a closure must not be
/// dropped while it runs).
fn end_saver(slot: &SaverSlot) {
    let slot = slot.clone();
    yew::platform::spawn_local(async move {
        slot.borrow_mut().take();
    });
}

/// Starts a worker that turns `session_json` into a lesson file and
/// downloads it as `name`; a problem is reported through `onmsg`.
fn save_lesson(
    slot: &SaverSlot,
    session_json: String,
    name: String,
    onmsg: Callback<Msg>,
) -> Result<(), String> {
    let loader = format!("./{}_loader.js", crate::module_stem(WORKER_BIN)?);
    let worker = Worker::new(&loader).map_err(|e| format!("{e:?}"))?;
    let fail = {
        let onmsg = onmsg.clone();
        move |reason: String| {
            onmsg.emit(Msg::View(ViewMsg::Problem(format!(
                "This run could not be saved as a lesson: {reason}."
            ))))
        }
    };
    let onmessage = {
        let (slot, worker, fail) = (slot.clone(), worker.clone(), fail.clone());
        let request = lesson_request(&session_json);
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let text = e.data().as_string().unwrap_or_default();
            match Report::from_json(&text) {
                Ok(Report::Ready) => {
                    if worker.post_message(&JsValue::from_str(&request)).is_err() {
                        fail("the worker could not be asked".into());
                        end_saver(&slot);
                    }
                }
                Ok(Report::Lesson { text }) => {
                    if let Err(e) = io::download(&name, "application/json", &text) {
                        fail(e);
                    }
                    end_saver(&slot);
                }
                Ok(Report::Refused { reason }) => {
                    fail(reason);
                    end_saver(&slot);
                }
                Ok(Report::Results { .. } | Report::Finished { .. }) => {}
                Err(err) => {
                    fail(format!("an unreadable message from the worker: {err}"));
                    end_saver(&slot);
                }
            }
        })
    };
    let onerror = {
        let slot = slot.clone();
        Closure::<dyn FnMut(ErrorEvent)>::new(move |e: ErrorEvent| {
            e.prevent_default();
            fail(format!("the worker failed: {}", e.message()));
            end_saver(&slot);
        })
    };
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    // A second click before the first answer replaces (and ends) the first.
    *slot.borrow_mut() = Some(LessonSaver {
        worker,
        _onmessage: onmessage,
        _onerror: onerror,
    });
    Ok(())
}

#[derive(Properties, PartialEq)]
pub struct ShareProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    pub source: Option<Source>,
    pub onmsg: Callback<Msg>,
}

#[function_component(Share)]
pub fn share(props: &ShareProps) -> Html {
    let link = use_state(|| None::<String>);
    let lab = props.lab.clone();
    let seed = lab.0.borrow().sim().seed();

    let oncopy = {
        let lab = lab.clone();
        let link = link.clone();
        Callback::from(move |_| {
            let fragment = Session::from_sim(lab.0.borrow().sim()).to_fragment();
            io::set_fragment(&fragment);
            let url = format!("{}#{fragment}", io::page_address());
            io::copy_text(&url);
            link.set(Some(url));
        })
    };
    let ondownload = {
        let lab = lab.clone();
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| {
            let (json, now) = session_now(&lab);
            if let Err(e) = io::download(
                &format!("raftlab-session-seed{seed}-{now}ms.json"),
                "application/json",
                &json,
            ) {
                onmsg.emit(Msg::View(ViewMsg::Problem(e)));
            }
        })
    };
    let saver: SaverSlot = use_mut_ref(|| None);
    let onlesson = {
        let lab = lab.clone();
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| {
            let (json, now) = session_now(&lab);
            let name = format!("raftlab-lesson-seed{seed}-{now}ms.json");
            if let Err(e) = save_lesson(&saver, json, name, onmsg.clone()) {
                onmsg.emit(Msg::View(ViewMsg::Problem(format!(
                    "This run could not be saved as a lesson: {e}."
                ))));
            }
        })
    };
    let onexport = {
        let lab = lab.clone();
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| {
            let (text, now) = {
                let l = lab.0.borrow();
                (l.trace_jsonl(), l.sim().now())
            };
            let text = match text {
                Ok(text) => text,
                Err(e) => {
                    onmsg.emit(Msg::View(ViewMsg::Problem(format!(
                        "The trace could not be written: {e}."
                    ))));
                    return;
                }
            };
            if let Err(e) = io::download(
                &format!("raftlab-trace-seed{seed}-{now}ms.jsonl"),
                "application/x-ndjson",
                &text,
            ) {
                onmsg.emit(Msg::View(ViewMsg::Problem(e)));
            }
        })
    };
    let onpick = {
        let onmsg = props.onmsg.clone();
        Callback::from(move |e: Event| {
            if let Some(file) = io::picked_file(&e) {
                open_file(file, onmsg.clone());
            }
        })
    };
    let source = props.source.as_ref().map(|s| {
        let class = classes!(
            "source",
            (s.matched == Some(true)).then_some("ok"),
            (s.matched == Some(false)).then_some("bad")
        );
        html! {
            <p {class} data-testid="source" data-kind={s.kind}
                data-match={s.matched.map(|m| m.to_string()).unwrap_or_default()}>
                <strong>{ format!("Opened {}: ", s.kind) }</strong>{ s.text.clone() }
            </p>
        }
    });
    let shown = (*link).clone().map(|url| {
        html! {
            <input class="link" type="text" readonly=true data-testid="session-link" value={url}
                onfocus={Callback::from(|e: FocusEvent| {
                    if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() { i.select(); }
                })} />
        }
    });
    html! {
        <section class="panel share" data-testid="share" aria-label="share and replay">
            <h2>{ "Share & replay" }</h2>
            <p class="hint">{ "A session is the seed, the settings and every action with its time: it replays this exact run anywhere." }</p>
            <div class="buttons">
                <button type="button" data-testid="copy-link" onclick={oncopy} title="put this run in the address bar and copy the link">{ "Copy link" }</button>
                <button type="button" data-testid="download-session" onclick={ondownload} title="save this run as a session file (JSON)">{ "Save session" }</button>
                <button type="button" data-testid="save-as-lesson" onclick={onlesson} title="save this run as a lesson file: its settings and one step per action, with narration for you to write">{ "Save as lesson" }</button>
                <button type="button" data-testid="export-trace" onclick={onexport} title="the full event trace, format v1 (JSON Lines), as raftlab run writes it">{ "Export trace" }</button>
            </div>
            { for shown }
            <div class="buttons">
                <label class="file-button" title="open a session file (.json) saved from raftlab">
                    { "Open session…" }
                    <input type="file" accept=".json,application/json" data-testid="open-session" onchange={onpick.clone()} />
                </label>
                <label class="file-button" title="load a trace written by raftlab run --trace (.jsonl) and replay it here">
                    { "Load trace…" }
                    <input type="file" accept=".jsonl,.ndjson,.json,.txt" data-testid="load-trace" onchange={onpick} />
                </label>
            </div>
            <p class="hint">{ "Or drop a session, trace or lesson file anywhere on the page. Save as lesson writes this run as a lesson to annotate (see docs/lessons.md) and open with Open lesson file." }</p>
            { for source }
        </section>
    }
}

/// The current run as a session (JSON), and the simulated time it is at.
fn session_now(lab: &LabHandle) -> (String, u64) {
    let l = lab.0.borrow();
    (Session::from_sim(l.sim()).to_json(), l.sim().now())
}
