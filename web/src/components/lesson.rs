//! Lessons: the picker (from `lessons/index.json`, fetched at run time),
//! and the panel of the lesson being played — step k of n, the speed it
//! plays at, narration, the actions the step performed, the question to
//! answer before the run goes on, what the step waits for (with its own
//! Play when the clock is paused), the violations a break-it step expects,
//! explained, and back / finish / next.

use raftlab_core::lesson::{
    narration_paragraphs, parse_lesson, Feedback, LessonIndexEntry, StepStatus,
};
use yew::prelude::*;

use crate::components::transport::speed_label;
use crate::io;
use crate::state::{ClockMsg, LabHandle, LessonMsg, LessonProblems, Msg, ViewMsg};
use crate::url;
use raftlab_core::trace::describe as narrate;

/// How many expected violations the lesson panel spells out.
const EXPLAINED: usize = 3;

/// Where the lesson files are, relative to the page.
pub const LESSON_DIR: &str = "lessons";

/// Fetches the lesson list and sends it to the page.
pub fn fetch_index(onmsg: Callback<Msg>) {
    yew::platform::spawn_local(async move {
        let list = io::fetch_text(&format!("{LESSON_DIR}/index.json"))
            .await
            .and_then(|t: String| raftlab_core::lesson::parse_index(&t));
        onmsg.emit(Msg::Lesson(LessonMsg::Index(list)));
    });
}

/// Fetches one lesson and starts it; it plays at once, unless the page's
/// link names it with `paused=1` (opened paused on purpose: the lesson
/// panel then says so and holds a Play control).
pub fn fetch_lesson(entry: LessonIndexEntry, onmsg: Callback<Msg>) {
    let q = url::read(&url::search());
    let paused = q.paused && q.lesson.as_deref() == Some(entry.id.as_str());
    load_lesson(entry, paused, onmsg);
}

/// Fetches one lesson and starts it, playing or `paused`.
fn load_lesson(entry: LessonIndexEntry, paused: bool, onmsg: Callback<Msg>) {
    yew::platform::spawn_local(async move {
        let lesson = io::fetch_text(&format!("{LESSON_DIR}/{}", entry.file))
            .await
            .and_then(|t: String| parse_lesson(&t));
        match lesson {
            Ok(l) => {
                onmsg.emit(Msg::Lesson(LessonMsg::Start(Box::new(l))));
                if paused {
                    onmsg.emit(Msg::Clock(ClockMsg::Pause));
                }
            }
            Err(e) => onmsg.emit(Msg::View(ViewMsg::Problem(format!(
                "The lesson {:?} could not be loaded: {e}",
                entry.title
            )))),
        }
    });
}

/// Whether `text` is meant as a lesson file (a JSON object with `steps`),
/// so a dropped file goes to the lesson checker rather than the session
/// reader, and its problems are named as a lesson's.
pub fn is_lesson_text(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .is_some_and(|v| v.get("steps").is_some())
}

/// Reads a teacher's lesson file (picked or dropped) and hands it to the
/// page to check and play.
pub fn open_lesson_file(file: web_sys::File, onmsg: Callback<Msg>) {
    yew::platform::spawn_local(async move {
        match io::read_file(file).await {
            Ok((origin, text)) => onmsg.emit(Msg::Lesson(LessonMsg::OpenText { origin, text })),
            Err(e) => onmsg.emit(Msg::View(ViewMsg::Problem(format!(
                "{e}. The current run is unchanged."
            )))),
        }
    });
}

/// Fetches a teacher's lesson from `?lesson-url=` and hands it to the page
/// to check and play; a failed fetch is `onfail`'s, with the reason (the
/// HTTP status, or why the browser could not fetch it).
pub fn fetch_lesson_url(url: String, onmsg: Callback<Msg>, onfail: Callback<(String, String)>) {
    yew::platform::spawn_local(async move {
        match io::fetch_text(&url).await {
            Ok(text) => onmsg.emit(Msg::Lesson(LessonMsg::OpenText { origin: url, text })),
            Err(e) => {
                let why = e
                    .strip_prefix(&format!("cannot fetch {url}: "))
                    .unwrap_or(&e)
                    .to_string();
                onfail.emit((url, why));
            }
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct PickerProps {
    pub lessons: Vec<LessonIndexEntry>,
    /// The id of the lesson playing.
    pub current: Option<String>,
    /// When the lesson playing is a teacher's own: its title and where it
    /// came from (a file's name or an address).
    #[prop_or_default]
    pub own: Option<(String, String)>,
    pub onmsg: Callback<Msg>,
}

/// The lesson list as a menu in the masthead, and the button that opens a
/// teacher's own lesson file.
///
/// A lesson starts only on a committed choice: picked in the open list
/// (mouse, or Enter there), or Enter on the closed menu. Chromium changes a
/// closed select's value on each arrow or letter key and fires `change`, so
/// keys only browse the titles; leaving the menu uncommitted puts back the
/// running lesson's title.
#[function_component(LessonPicker)]
pub fn lesson_picker(props: &PickerProps) -> Html {
    let select = use_node_ref();
    // A key moved the closed menu's choice: not a commitment.
    let browsing = use_mut_ref(|| false);
    let start = {
        let lessons = props.lessons.clone();
        let onmsg = props.onmsg.clone();
        let current = props.current.clone();
        move |v: String| {
            if current.as_deref() == Some(v.as_str()) {
                return;
            }
            if let Some(entry) = lessons.iter().find(|l| l.id == v) {
                load_lesson(entry.clone(), false, onmsg.clone());
            }
        }
    };
    let value_of = |select: &NodeRef| {
        select
            .cast::<web_sys::HtmlSelectElement>()
            .map(|s| s.value())
            .unwrap_or_default()
    };
    let onchange = {
        let (select, browsing, start) = (select.clone(), browsing.clone(), start.clone());
        Callback::from(move |_: Event| {
            if !std::mem::take(&mut *browsing.borrow_mut()) {
                start(value_of(&select));
            }
        })
    };
    let onkeydown = {
        let (select, browsing) = (select.clone(), browsing.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                *browsing.borrow_mut() = false;
                e.prevent_default();
                start(value_of(&select));
            }
            "Tab" | "Escape" | " " | "Shift" => {}
            _ => *browsing.borrow_mut() = true,
        })
    };
    let onpointerdown = {
        let browsing = browsing.clone();
        Callback::from(move |_: PointerEvent| *browsing.borrow_mut() = false)
    };
    let onpick = {
        let onmsg = props.onmsg.clone();
        Callback::from(move |e: Event| {
            if let Some(file) = io::picked_file(&e) {
                open_lesson_file(file, onmsg.clone());
            }
        })
    };
    let own = props.own.clone();
    let current = if own.is_some() {
        String::new()
    } else {
        props.current.clone().unwrap_or_default()
    };
    let options = props.lessons.iter().map(|l| {
        html! { <option value={l.id.clone()} selected={l.id == current}>{ l.title.clone() }</option> }
    });
    let own_option = own.as_ref().map(|(title, _)| {
        html! { <option value="" selected=true data-testid="lesson-own-option">{ format!("Your lesson: {title}") }</option> }
    });
    let own_note = own.map(|(_, origin)| {
        html! {
            <span class="own-lesson" data-testid="lesson-own" title={format!("your own lesson, from {origin}")}>
                { format!("from {origin}") }
            </span>
        }
    });
    let none_selected = current.is_empty() && own_option.is_none();
    let onblur = {
        // The option the menu shows: "Lessons…", the teacher's own, or
        // the running lesson.
        let shown = if own_option.is_some() {
            1
        } else {
            props
                .lessons
                .iter()
                .position(|l| l.id == current)
                .map_or(0, |i| i as i32 + 1)
        };
        let (select, browsing) = (select.clone(), browsing.clone());
        Callback::from(move |_: FocusEvent| {
            *browsing.borrow_mut() = false;
            if let Some(s) = select.cast::<web_sys::HtmlSelectElement>() {
                s.set_selected_index(shown);
            }
        })
    };
    html! {
        <div class="lesson-pick-row">
            <label class="lesson-pick">
                <span class="vh">{ "Lesson" }</span>
                <select data-testid="lesson-picker" ref={select} {onchange} {onkeydown} {onpointerdown} {onblur} disabled={props.lessons.is_empty() && own_option.is_none()}
                    title="play a guided lesson">
                    <option value="" selected={none_selected}>{ "Lessons…" }</option>
                    { for own_option }
                    { for options }
                </select>
            </label>
            <label class="file-button lesson-open" title="open a lesson file (.json) you wrote or saved: it is checked, then played">
                { "Open lesson file…" }
                <input type="file" accept=".json,application/json" data-testid="lesson-open-file" onchange={onpick} />
            </label>
            { for own_note }
        </div>
    }
}

/// A problem without the lesson's name in front (the list says the file
/// once): `lesson "id", step 3, wait_for: …` reads `step 3, wait_for: …`,
/// `lesson "id": "title" is missing` reads `"title" is missing`.
fn without_lesson_name(e: &str) -> &str {
    let Some(rest) = e.strip_prefix("lesson ") else {
        return e;
    };
    // The name is `(no id)` or the id as a quoted string (quotes in it escaped).
    let end = if rest.starts_with("(no id)") {
        "(no id)".len()
    } else if rest.starts_with('"') {
        let mut escaped = false;
        let close = rest.char_indices().skip(1).find(|&(_, c)| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        });
        match close {
            Some((i, _)) => i + 1,
            None => return e,
        }
    } else {
        return e;
    };
    rest[end..]
        .strip_prefix(", ")
        .or_else(|| rest[end..].strip_prefix(": "))
        .unwrap_or(e)
}

#[derive(Properties, PartialEq)]
pub struct ProblemsProps {
    pub problems: Option<LessonProblems>,
    pub onmsg: Callback<Msg>,
}

/// The problems of a teacher's lesson file that does not read, one per
/// line, each naming its step and field (the file's own name is said once
/// above them, not on every line).
#[function_component(LessonFileProblems)]
pub fn lesson_file_problems(props: &ProblemsProps) -> Html {
    let Some(p) = &props.problems else {
        return html! {};
    };
    let items = p
        .problems
        .iter()
        .map(|e| html! { <li>{ without_lesson_name(e).to_string() }</li> });
    let count = match p.problems.len() {
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    let ondismiss = props
        .onmsg
        .reform(|_: MouseEvent| Msg::Lesson(LessonMsg::DismissProblems));
    html! {
        <section class="notice error lesson-problems" data-testid="lesson-file-problems" role="alert"
            aria-label="problems in the lesson file" data-count={p.problems.len().to_string()}>
            <div>
                <p><strong>{ p.origin.clone() }</strong>{ format!(" is not a lesson raftlab can play yet ({count}); nothing of it was loaded. Fix these and open it again:") }</p>
                <ul>{ for items }</ul>
            </div>
            <button type="button" class="close" data-testid="lesson-file-problems-dismiss" onclick={ondismiss}
                aria-label="dismiss the lesson file's problems" title="dismiss">{ "×" }</button>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct LessonProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    pub status: Option<StepStatus>,
    pub feedback: Option<Feedback>,
    /// The page's speed, simulated ms per wall ms (the lesson sets it).
    pub speed: f64,
    /// Whether the clock runs.
    pub playing: bool,
    pub onmsg: Callback<Msg>,
}

fn paragraphs(text: &str) -> Html {
    let ps = narration_paragraphs(text).into_iter().map(|spans| {
        let spans = spans.into_iter().map(|s| {
            if s.code {
                html! { <code>{ s.text }</code> }
            } else if s.bold {
                html! { <strong>{ s.text }</strong> }
            } else {
                html! { { s.text } }
            }
        });
        html! { <p>{ for spans }</p> }
    });
    html! { { for ps } }
}

/// The lesson being played.
#[function_component(LessonPanel)]
pub fn lesson_panel(props: &LessonProps) -> Html {
    let lab = props.lab.0.borrow();
    // A new step is read from its start: where the panel scrolls inside
    // its column (presenting), it goes back to the top.
    let panel = use_node_ref();
    {
        let step = lab
            .lesson()
            .map(|r| (r.lesson().id.clone(), r.step_index()));
        let panel = panel.clone();
        use_effect_with(step, move |_| {
            if let Some(el) = panel.cast::<web_sys::Element>() {
                el.set_scroll_top(0);
            }
        });
    }
    let Some(run) = lab.lesson() else {
        return html! {};
    };
    let lesson = run.lesson();
    let (k, n) = run.progress();
    let index = run.step_index();
    let status = props.status.clone().unwrap_or(StepStatus::Waiting);
    let finished = status == StepStatus::Finished;
    let step = run.current_step();
    let emit = |m: fn() -> Msg| {
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| onmsg.emit(m()))
    };
    let needs_answer = run.needs_answer();
    let status_word = match (&status, needs_answer) {
        (StepStatus::Finished, _) => "finished",
        (_, true) => "question",
        (StepStatus::Waiting, _) => "waiting",
        (StepStatus::Done, _) => "done",
        (StepStatus::Failed(_), _) => "failed",
    };

    let pips = (0..n).map(|i| {
        let class = classes!(
            "pip",
            (i < index || finished).then_some("past"),
            (i == index && !finished).then_some("now")
        );
        html! { <span {class} /> }
    });

    let body = match step {
        None => html! {
            <div class="lesson-end" data-testid="lesson-finished">
                <p class="big">{ "✓ Lesson complete." }</p>
                <p>{ "The cluster is yours: keep playing, step back through what happened, or pick another lesson." }</p>
            </div>
        },
        Some(step) => {
            let actions = (!step.actions.is_empty()).then(|| {
                let items = step.actions.iter().map(|a| {
                    let when = if a.after_ms > 0 {
                        format!(" (after {} ms)", a.after_ms)
                    } else {
                        String::new()
                    };
                    html! { <li>{ narrate::action_label(&a.action) }{ when }</li> }
                });
                html! {
                    <div class="lesson-actions">
                        <span class="label">{ "This step does:" }</span>
                        <ul>{ for items }</ul>
                    </div>
                }
            });
            let question = step.question.as_ref().map(|q| {
                let answered = run.answer_of(index);
                let choices = q.choices.iter().enumerate().map(|(i, c)| {
                    let onmsg = props.onmsg.clone();
                    let onclick = Callback::from(move |_| onmsg.emit(Msg::Lesson(LessonMsg::Answer(i))));
                    let class = classes!(
                        "choice",
                        (answered == Some(i)).then_some("picked"),
                        (answered.is_some() && i == q.answer).then_some("right"),
                        (answered == Some(i) && i != q.answer).then_some("wrong"),
                    );
                    html! {
                        <li>
                            <button type="button" {class} data-testid={format!("choice-{i}")}
                                disabled={answered.is_some()} {onclick}>
                                <span class="letter">{ (b'A' + i as u8) as char }</span>
                                <span>{ c.clone() }</span>
                            </button>
                        </li>
                    }
                });
                let feedback = props.feedback.as_ref().filter(|_| answered.is_some()).map(|fb| {
                    html! {
                        <div class={classes!("feedback", if fb.correct { "correct" } else { "incorrect" })}
                            data-testid="lesson-feedback" data-correct={fb.correct.to_string()}>
                            <strong>{ if fb.correct { "✓ " } else { "✗ " } }</strong>
                            { fb.text.clone() }
                        </div>
                    }
                });
                html! {
                    <div class="lesson-question" data-testid="lesson-question"
                        data-answered={answered.is_some().to_string()}>
                        <p class="prompt"><span class="label">{ "Predict: " }</span>{ q.prompt.clone() }</p>
                        <ol class="choices">{ for choices }</ol>
                        { for feedback }
                    </div>
                }
            });
            let waiting = match &status {
                _ if needs_answer => html! {
                    <p class="lesson-wait hold" data-testid="lesson-waiting">{ "Answer the question first: the cluster waits for your prediction." }</p>
                },
                StepStatus::Waiting if !props.playing => {
                    let onplay = emit(|| Msg::Clock(ClockMsg::Play));
                    html! {
                        <div class="lesson-wait paused" data-testid="lesson-waiting" data-paused="true">
                            <p>{ "The clock is paused. This step goes on when it runs, until " }<strong>{ run.waiting_for() }</strong>{ "." }</p>
                            <button type="button" class="primary" data-testid="lesson-play" onclick={onplay}>{ "▶ Play" }</button>
                        </div>
                    }
                }
                StepStatus::Waiting => html! {
                    <p class="lesson-wait" data-testid="lesson-waiting">
                        <span class="spinner" aria-hidden="true" />{ "Waiting until " }<strong>{ run.waiting_for() }</strong>
                    </p>
                },
                StepStatus::Done => html! {
                    <p class="lesson-wait ok" data-testid="lesson-waiting">{ "✓ Done: " }{ run.waiting_for() }{ ". Press Next." }</p>
                },
                StepStatus::Failed(why) => html! {
                    <p class="lesson-wait failed" data-testid="lesson-waiting" role="alert">{ format!("This step cannot complete: {why}") }</p>
                },
                StepStatus::Finished => html! {},
            };
            let expected = run.expected_violations(lab.sim());
            let expected = (!expected.is_empty()).then(|| {
                // A chain of them (Figure 8's last step) is summed up after a few.
                let more = expected.len().saturating_sub(EXPLAINED);
                let items = expected.iter().take(EXPLAINED).map(|v| html! {
                    <li data-rule={v.rule} data-seq={v.seq.to_string()}>
                        <strong>{ v.rule.replace('_', " ") }</strong>{ format!(" (event #{}): ", v.seq) }{ v.message.clone() }
                    </li>
                });
                html! {
                    <div class="lesson-violations" data-testid="lesson-violations" role="status">
                        <p class="label">{ "This step breaks Raft on purpose. The checker found:" }</p>
                        <ul>{ for items }</ul>
                        if more > 0 {
                            <p class="more">{ format!("…and {more} more; the Safety panel lists the latest.") }</p>
                        }
                    </div>
                }
            });
            html! {
                <>
                    if let Some(t) = &step.title {
                        <h3 class="step-title">{ t.clone() }</h3>
                    }
                    <div class="narration" data-testid="lesson-narration">{ paragraphs(&step.narration) }</div>
                    { for actions }
                    { for question }
                    { waiting }
                    { for expected }
                </>
            }
        }
    };
    let can_next = status == StepStatus::Done;
    let can_finish = status == StepStatus::Waiting && !needs_answer;
    html! {
        <section class="panel lesson-panel" ref={panel} data-testid="lesson" data-lesson={lesson.id.clone()}
            data-status={status_word} data-step={k.to_string()} data-steps={n.to_string()}
            data-index={index.to_string()} aria-label="lesson">
            <div class="lesson-head">
                <h2>{ lesson.title.clone() }</h2>
                <button type="button" class="close" data-testid="lesson-exit" onclick={emit(|| Msg::Lesson(LessonMsg::Exit))}
                    title="leave the lesson (the cluster stays)">{ "×" }</button>
            </div>
            <div class="lesson-progress" data-testid="lesson-progress" data-step={k.to_string()} data-steps={n.to_string()}>
                <span class="pips">{ for pips }</span>
                <span class="count">{ if finished { format!("all {n} steps done") } else { format!("step {k} of {n}") } }</span>
            </div>
            <p class="lesson-speed" data-testid="lesson-speed" data-speed={props.speed.to_string()}>
                { format!("Plays at {}", speed_label(props.speed)) }
                if (props.speed - lesson.speed).abs() > 1e-9 {
                    { format!(" (this lesson is set to {})", speed_label(lesson.speed)) }
                }
            </p>
            { body }
            <div class="lesson-nav">
                <button type="button" data-testid="lesson-back" disabled={index == 0}
                    onclick={emit(|| Msg::Lesson(LessonMsg::BackStep))} title="replay the lesson to the start of the previous step">{ "◀ Back" }</button>
                <button type="button" data-testid="lesson-finish" disabled={!can_finish}
                    onclick={emit(|| Msg::Lesson(LessonMsg::FinishStep))} title="run this step to its end at once">{ "Skip step ▸▸" }</button>
                <button type="button" class="primary" data-testid="lesson-next" disabled={!can_next}
                    onclick={emit(|| Msg::Lesson(LessonMsg::NextStep))} title="to the next step">{ "Next ▶" }</button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::without_lesson_name;

    #[test]
    fn a_problem_is_shown_without_the_lesson_name_the_list_already_says() {
        let cases = [
            ("lesson \"a\", step 3, wait_for: x", "step 3, wait_for: x"),
            ("lesson \"a\": \"title\" is missing", "\"title\" is missing"),
            (
                "lesson \"a, b\\\"c\", step 1, narration: y",
                "step 1, narration: y",
            ),
            (
                "lesson (no id): \"format\" is not a field (it reads id, title)",
                "\"format\" is not a field (it reads id, title)",
            ),
            (
                "this is not a raftlab lesson: line 1",
                "this is not a raftlab lesson: line 1",
            ),
            ("lesson \"unclosed", "lesson \"unclosed"),
        ];
        for (given, shown) in cases {
            assert_eq!(without_lesson_name(given), shown, "{given}");
        }
    }
}
