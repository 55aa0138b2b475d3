//! Sharing and replaying runs: a session (seed, settings, timed actions)
//! as a link or a JSON file, and the trace (format v1) as a download; a
//! session file or a trace from `raftlab run` opened from disk.

use raftlab_core::lesson::{lesson_from_session, lesson_json};
use raftlab_core::session::Session;
use yew::prelude::*;

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
            let (json, now) = {
                let l = lab.0.borrow();
                (Session::from_sim(l.sim()).to_json(), l.sim().now())
            };
            if let Err(e) = io::download(
                &format!("raftlab-session-seed{seed}-{now}ms.json"),
                "application/json",
                &json,
            ) {
                onmsg.emit(Msg::View(ViewMsg::Problem(e)));
            }
        })
    };
    let onlesson = {
        let lab = lab.clone();
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| {
            let (lesson, now) = {
                let l = lab.0.borrow();
                (
                    lesson_from_session(&Session::from_sim(l.sim())),
                    l.sim().now(),
                )
            };
            let saved = lesson.and_then(|lesson| {
                io::download(
                    &format!("raftlab-lesson-seed{seed}-{now}ms.json"),
                    "application/json",
                    &lesson_json(&lesson),
                )
            });
            if let Err(e) = saved {
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
