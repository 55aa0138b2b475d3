//! Break-it mode: switch on one of the core's deliberate bugs, run (a
//! lesson, or random faults until the checker catches it), and read the
//! first violation explained with the events that led there.

use raftlab_core::config::Bug;
use raftlab_core::lesson::LessonIndexEntry;
use yew::prelude::*;

use crate::components::experiments::HuntButton;
use crate::components::lesson::fetch_lesson;
use crate::state::{ClockMsg, LabHandle, Msg, SessionMsg, Setup, ViewMsg};
use raftlab_core::trace::describe as narrate;

#[derive(Properties, PartialEq)]
pub struct BreakItProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    pub setup: Setup,
    pub lessons: Vec<LessonIndexEntry>,
    pub onmsg: Callback<Msg>,
    pub ongoto: Callback<u64>,
    /// The run's first violation (kept when the clock goes back before it).
    pub violation: Option<raftlab_core::check::Violation>,
}

/// The lesson that shows a bug, if there is one.
fn lesson_for(bug: Bug) -> Option<&'static str> {
    match bug {
        Bug::Figure8 => Some("figure8-broken"),
        Bug::NoUpToDateCheck => Some("broken-up-to-date-check"),
        Bug::PrevoteRaisesTerm => Some("broken-prevote-term"),
        Bug::ForgetVoteOnRestart => Some("broken-forgotten-vote"),
        Bug::CommitWithoutMin => Some("broken-commit-min"),
        Bug::LearnerInQuorum => Some("broken-learner-quorum"),
        Bug::StayJoint => None,
    }
}

#[function_component(BreakIt)]
pub fn break_it(props: &BreakItProps) -> Html {
    let bug = use_state(|| {
        props
            .setup
            .cfg
            .bugs
            .first()
            .copied()
            .unwrap_or(Bug::Figure8)
    });
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let active: Vec<Bug> = sim.config().bugs.clone();

    let choices = Bug::ALL.iter().map(|&b| {
        let onclick = {
            let bug = bug.clone();
            Callback::from(move |_| bug.set(b))
        };
        html! {
            <label class={classes!("bug", (*bug == b).then_some("picked"))}>
                <input type="radio" name="breakit-bug" data-testid={format!("breakit-bug-{}", b.name())}
                    checked={*bug == b} {onclick} />
                <span class="bug-name">{ b.name() }</span>
                <span class="bug-what">{ b.explain() }</span>
            </label>
        }
    });
    let onquiet = {
        let onmsg = props.onmsg.clone();
        let mut setup = props.setup.clone();
        setup.cfg.bugs = vec![*bug];
        Callback::from(move |_| {
            onmsg.emit(Msg::Session(SessionMsg::Reset(setup.clone())));
            onmsg.emit(Msg::Clock(ClockMsg::Play));
        })
    };
    let lesson = lesson_for(*bug).and_then(|id| props.lessons.iter().find(|l| l.id == id).cloned());
    let onlesson = lesson.clone().map(|entry| {
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| fetch_lesson(entry.clone(), onmsg.clone()))
    });

    // The first violation, explained with the events that led there.
    let explained = props.violation.as_ref().map(|v| {
        let line = |seq: u64, main: bool| {
            // Events older than the kept history are not listed.
            let e = sim.event(seq)?;
            let (_, text) = narrate::narrate(e, |id| lab.send_of(id));
            let ongoto = props.ongoto.clone();
            let onclick = Callback::from(move |_| ongoto.emit(seq));
            Some(html! {
                <li class={classes!(main.then_some("culprit"))}>
                    <button type="button" data-testid={format!("related-{seq}")} {onclick} title="go to this moment">
                        <span class="ev-time">{ format!("{} ms", e.time) }</span>
                        <span class="ev-seq">{ format!("#{seq}") }</span>
                        <span class="ev-text">{ text }</span>
                    </button>
                </li>
            })
        };
        let related = v.related.iter().filter_map(|&s| line(s, false));
        html! {
            <div class="violation-explain" data-testid="violation-explain" data-rule={v.rule} data-seq={v.seq.to_string()}>
                <h3>{ format!("Broken: {}", v.rule.replace('_', " ")) }</h3>
                <p class="what">{ v.message.clone() }</p>
                <p class="label">{ "How it came about (click to go there):" }</p>
                <ol class="feed related">
                    { for related }
                    { for line(v.seq, true) }
                </ol>
            </div>
        }
    });
    let onclose = {
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| onmsg.emit(Msg::View(ViewMsg::BreakIt(false))))
    };
    html! {
        <section class="panel breakit" data-testid="breakit-panel" aria-label="break-it mode"
            data-bug={bug.name()} data-active={active.iter().map(|b| b.name()).collect::<Vec<_>>().join(",")}>
            <div class="lesson-head">
                <h2>{ "Break it" }</h2>
                <button type="button" class="close" onclick={onclose} title="close break-it mode">{ "×" }</button>
            </div>
            <p class="hint">{ "Switch on one deliberate bug in every node's Raft core. The live checker stops the clock at the first broken rule and shows how it happened." }</p>
            <div class="bugs-list">{ for choices }</div>
            <div class="buttons">
                if let Some(onclick) = onlesson {
                    <button type="button" class="primary" data-testid="breakit-lesson" {onclick}>
                        { format!("Play lesson “{}”", lesson.map(|l| l.title).unwrap_or_default()) }
                    </button>
                }
                <button type="button" data-testid="breakit-run" onclick={onquiet}
                    title="a fresh run with this bug and no faults: some bugs need faults to show">{ "▶ Run with this bug" }</button>
            </div>
            <HuntButton bug={*bug} onmsg={props.onmsg.clone()} />
            if let Some(x) = explained {
                { x }
            } else if !active.is_empty() {
                <p class="hint" data-testid="violation-none">{ format!("Bug on: {}. No rule broken yet ({} events checked).", active.iter().map(|b| b.name()).collect::<Vec<_>>().join(", "), sim.position()) }</p>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Break-it offers a lesson for every bug it offers, and each names a
    /// lesson the index lists and whose file switches that bug on.
    #[test]
    fn every_bug_break_it_offers_has_its_lesson() {
        let index = include_str!("../../../static/lessons/index.json");
        for bug in Bug::ALL {
            let id = lesson_for(bug).unwrap_or_else(|| panic!("{} has no lesson", bug.name()));
            let needle = format!("\"id\": \"{id}\"");
            let at = index
                .find(&needle)
                .unwrap_or_else(|| panic!("{id} is not in index.json"));
            let line = &index[at..index[at..].find('\n').map_or(index.len(), |e| at + e)];
            let file = line
                .split("\"file\": \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("a file");
            let text = std::fs::read_to_string(format!(
                "{}/../static/lessons/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("the lesson file");
            assert!(
                text.contains(&format!("\"{}\"", bug.name())),
                "{file} switches {} on",
                bug.name()
            );
        }
    }
}
