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
use crate::state::{ClockMsg, LabHandle, LessonMsg, Msg, ViewMsg};
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

#[derive(Properties, PartialEq)]
pub struct PickerProps {
    pub lessons: Vec<LessonIndexEntry>,
    /// The id of the lesson playing.
    pub current: Option<String>,
    pub onmsg: Callback<Msg>,
}

/// The lesson list as a menu in the masthead.
#[function_component(LessonPicker)]
pub fn lesson_picker(props: &PickerProps) -> Html {
    let onchange = {
        let lessons = props.lessons.clone();
        let onmsg = props.onmsg.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_dyn_into::<web_sys::HtmlSelectElement>()
                .map(|s| s.value())
                .unwrap_or_default();
            if let Some(entry) = lessons.iter().find(|l| l.id == v) {
                load_lesson(entry.clone(), false, onmsg.clone());
            }
        })
    };
    let current = props.current.clone().unwrap_or_default();
    let options = props.lessons.iter().map(|l| {
        html! { <option value={l.id.clone()} selected={l.id == current}>{ l.title.clone() }</option> }
    });
    html! {
        <label class="lesson-pick">
            <span class="vh">{ "Lesson" }</span>
            <select data-testid="lesson-picker" {onchange} disabled={props.lessons.is_empty()}
                title="play a guided lesson">
                <option value="" selected={current.is_empty()}>{ "Lessons…" }</option>
                { for options }
            </select>
        </label>
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
