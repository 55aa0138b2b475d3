//! The single-group view, the page's default: one cluster of real Raft
//! nodes with every panel around it (see the crate's docs).

use std::rc::Rc;

use raftlab_core::sim::Action;
use yew::prelude::*;

use crate::components::breakit::BreakIt;
use crate::components::breakpoints::Breakpoints;
use crate::components::caption::RingCaption;
use crate::components::cluster::{Cluster, Legend};
use crate::components::controls::{ClientPanel, NetworkPanel, NodePanel, SelectionBar, Transport};
use crate::components::experiments::Experiments;
use crate::components::feed::Feed;
use crate::components::inspector::Inspector;
use crate::components::lesson::{LessonFileProblems, LessonPanel, LessonPicker};
use crate::components::logs::Logs;
use crate::components::panels::{Help, Quorums, Safety, Settings};
use crate::components::share::Share;
use crate::components::spacetime::Spacetime;
use crate::components::timeline::Timeline;
use crate::state::{
    ClockMsg, Msg, NetMsg, NodeMsg, Setup, UiState, ViewMsg, G_FEED, G_LOGS, G_PANELS, G_SPACETIME,
};
use crate::vocab::{NodeVerb, Notice, Selection, SPEED_DEFAULT};
use crate::{components, hooks, io, url};

/// The callbacks the panels get, made once: a callback made on every
/// render is a new value every frame, and its panel's props never compare
/// equal, so the panel would re-render on every frame.
#[derive(Clone, PartialEq)]
struct Handlers {
    onmsg: Callback<Msg>,
    ongoto: Callback<u64>,
    onpick: Callback<Option<Selection>>,
    onselect: Callback<Option<raftlab_core::types::NodeId>>,
    onlink: Callback<(raftlab_core::types::NodeId, raftlab_core::types::NodeId)>,
    ondrop_msg: Callback<u64>,
    ondeliver_msg: Callback<u64>,
    onscrub: Callback<f64>,
    onunselect: Callback<()>,
    onfeed_messages: Callback<bool>,
    onfeed_heartbeats: Callback<bool>,
    onzoom: Callback<f64>,
    onhelp_close: Callback<()>,
    onclock: Callback<ClockMsg>,
}

impl Handlers {
    fn new(dispatch: UseReducerDispatcher<UiState>) -> Handlers {
        let onmsg = Callback::from(move |m: Msg| dispatch.dispatch(m));
        Handlers {
            ongoto: onmsg.reform(|v| Msg::Clock(ClockMsg::GotoEvent(v))),
            onpick: onmsg.reform(|v| Msg::View(ViewMsg::Link(v))),
            onselect: onmsg.reform(|v| Msg::Node(NodeMsg::Select(v))),
            onlink: onmsg.reform(|(a, b)| Msg::Net(NetMsg::ToggleLink(a, b))),
            ondrop_msg: onmsg.reform(|id| Msg::Act(Action::DropMessage { id })),
            ondeliver_msg: onmsg.reform(|id| Msg::Act(Action::Deliver { id })),
            onscrub: onmsg.reform(|v| Msg::Clock(ClockMsg::Scrub(v))),
            onunselect: onmsg.reform(|_| Msg::Node(NodeMsg::Select(None))),
            onfeed_messages: onmsg.reform(|v| Msg::View(ViewMsg::FeedMessages(v))),
            onfeed_heartbeats: onmsg.reform(|v| Msg::View(ViewMsg::FeedHeartbeats(v))),
            onzoom: onmsg.reform(|v| Msg::View(ViewMsg::Zoom(v))),
            onhelp_close: onmsg.reform(|_| Msg::View(ViewMsg::Help(false))),
            onclock: onmsg.reform(Msg::Clock),
            onmsg,
        }
    }
}

/// The first run's settings and clock, from what the URL asks for (each
/// value already checked by `url::read`; what it could not use is a
/// notice of its own).
fn setup_from(q: &url::Query) -> (Setup, f64, bool, bool) {
    let mut setup = Setup::default();
    if let Some(v) = q.seed {
        setup.seed = v;
    }
    if let Some(v) = q.nodes {
        setup.nodes = v;
    }
    if let Some(v) = q.prevote {
        setup.cfg.prevote = v;
    }
    if let Some(v) = q.check_quorum {
        setup.cfg.check_quorum = v;
    }
    if let Some(v) = q.snapshot_every {
        setup.cfg.snapshot_every = v;
    }
    if let Some(v) = q.chunk {
        setup.cfg.snapshot_chunk_bytes = v;
    }
    if let Some(v) = q.latency {
        setup.cfg.latency_ms = [(v / 5).max(1), v];
    }
    let speed = q.speed.unwrap_or(SPEED_DEFAULT);
    (setup, speed, !q.paused, q.present)
}

/// What the keyboard handler needs to know of the current state.
#[derive(Clone, Copy, Default)]
struct KeyView {
    help: bool,
    present: bool,
    speed: f64,
    /// The single-key shortcuts are switched on (help dialog).
    shortcuts: bool,
}

/// Where this browser remembers whether the single-key shortcuts are on.
const SHORTCUTS_KEY: &str = "raftlab.shortcuts";
/// Where it remembers whether events are announced to screen readers.
const ANNOUNCE_KEY: &str = "raftlab.announce";

/// Whether a key pressed in `target` is the page's to use: Space and Enter
/// press a focused control, a field takes every key, the timeline its own
/// keys; letters, digits and signs only while the shortcuts are on (WCAG
/// 2.1.4); and while the help dialog is open, only Escape and ? act.
fn key_is_ours(key: &str, target: hooks::KeyTarget, view: &KeyView) -> bool {
    use hooks::KeyTarget;
    if key == "Escape" {
        return true;
    }
    let character = key.chars().count() == 1 && key != " ";
    if (character && !view.shortcuts) || (view.help && key != "?") {
        return false;
    }
    match target {
        KeyTarget::Field => false,
        KeyTarget::Slider => character,
        KeyTarget::Control => !matches!(key, " " | "Enter"),
        KeyTarget::Page => true,
    }
}

/// Keyboard shortcuts; `None` for keys the page leaves alone.
fn key_msg(key: &str, view: &KeyView) -> Option<Msg> {
    Some(match key {
        " " => Msg::Clock(ClockMsg::TogglePlay),
        "ArrowRight" => Msg::Clock(ClockMsg::Step),
        "ArrowLeft" => Msg::Clock(ClockMsg::StepBack),
        "f" => Msg::Clock(ClockMsg::Forward(100)),
        "?" => Msg::View(ViewMsg::Help(!view.help)),
        "Escape" => {
            if view.help {
                Msg::View(ViewMsg::Help(false))
            } else {
                Msg::Node(NodeMsg::Select(None))
            }
        }
        "p" => Msg::View(ViewMsg::Present(!view.present)),
        "c" => Msg::Node(NodeMsg::Verb(NodeVerb::Crash)),
        "r" => Msg::Node(NodeMsg::Verb(NodeVerb::Restart)),
        "t" => Msg::Node(NodeMsg::Verb(NodeVerb::Timeout)),
        "s" => Msg::Node(NodeMsg::Verb(NodeVerb::Snapshot)),
        "h" => Msg::Act(Action::Heal),
        "+" | "=" => Msg::Clock(ClockMsg::SetSpeed(view.speed * 2.0)),
        "-" | "_" => Msg::Clock(ClockMsg::SetSpeed(view.speed / 2.0)),
        k if k.len() == 1 && ("1"..="9").contains(&k) => {
            let id: u64 = k.parse().ok()?;
            Msg::Node(NodeMsg::Select(Some(id)))
        }
        _ => return None,
    })
}

#[function_component(App)]
pub fn app() -> Html {
    // The query is read once; what it could not use is listed above the
    // page until dismissed.
    let query = use_memo((), |_| url::read(&url::search()));
    let url_notices = {
        let query = query.clone();
        use_state(move || query.notices.clone())
    };
    // A first visit: no link, no lesson, no query, and never dismissed.
    let welcome = use_state(|| {
        url::search().trim_start_matches('?').is_empty()
            && io::fragment().is_empty()
            && !io::welcomed()
    });
    let state = use_reducer(|| {
        let (setup, speed, playing, present) = setup_from(&query);
        let mut s = UiState::new(setup, speed, playing, present);
        if let Some(limit) = query.history {
            s.set_history_limit(limit);
        }
        // `?manual=1`: the run starts with delivery by hand, as its first
        // action (so a link made from it replays the same).
        if query.manual {
            s.act(raftlab_core::sim::Action::Manual {
                on: true,
                timers: false,
            });
        }
        // A shared link: `#s=...` reproduces the run it was made from.
        let fragment = io::fragment();
        if fragment.starts_with(raftlab_core::session::FRAGMENT_PREFIX) {
            match raftlab_core::session::Session::from_fragment(&fragment) {
                Ok(session) => s.open_session(&session, "link", "shared link"),
                Err(e) => {
                    s.notice = Some(Notice {
                        text: format!("This link's run could not be opened: {e}. Showing a fresh cluster instead."),
                        error: true,
                    })
                }
            }
        }
        s
    });
    let handlers = {
        let dispatch = state.dispatcher();
        use_memo((), move |_| Handlers::new(dispatch))
    };
    let onmsg = handlers.onmsg.clone();

    // The lesson list, fetched once; then the lesson the URL names.
    {
        let onmsg = onmsg.clone();
        use_effect_with((), move |_| components::lesson::fetch_index(onmsg));
    }
    {
        let onmsg = onmsg.clone();
        let lessons = state.lessons.clone();
        let id = query.lesson.clone();
        let url_notices = url_notices.clone();
        use_effect_with(lessons.len(), move |_| {
            if let Some(id) = id {
                match lessons.iter().find(|l| l.id == id) {
                    Some(entry) => components::lesson::fetch_lesson(entry.clone(), onmsg),
                    None if !lessons.is_empty() => {
                        let mut list = (*url_notices).clone();
                        list.push(url::unknown_lesson(&id));
                        url_notices.set(list);
                    }
                    None => {}
                }
            }
        });
    }
    // A teacher's own lesson, `?lesson-url=`: fetched once, then checked
    // like a file; a failed fetch is a notice naming the address.
    {
        let onmsg = onmsg.clone();
        let url = query.lesson_url.clone();
        let url_notices = url_notices.clone();
        use_effect_with((), move |_| {
            if let Some(url) = url {
                let onfail = Callback::from(move |(url, why): (String, String)| {
                    let mut list = (*url_notices).clone();
                    list.push(url::lesson_url_failed(&url, &why));
                    url_notices.set(list);
                });
                components::lesson::fetch_lesson_url(url, onmsg, onfail);
            }
        });
    }
    let on_url_dismiss = {
        let url_notices = url_notices.clone();
        Callback::from(move |i: usize| {
            let mut list = (*url_notices).clone();
            if i < list.len() {
                list.remove(i);
            }
            url_notices.set(list);
        })
    };

    // The render loop: one frame after another while playing.
    {
        let dispatch = state.dispatcher();
        hooks::use_frame_loop(
            state.playing,
            Callback::from(move |ms| dispatch.dispatch(Msg::Clock(ClockMsg::Frame(ms)))),
        );
    }

    // Keyboard shortcuts, on the whole document. The listener lives as long
    // as the page and reads the current state through `latest`.
    let shortcuts = use_state(|| io::pref(SHORTCUTS_KEY, true));
    let announce = use_state(|| io::pref(ANNOUNCE_KEY, true));
    let remember = |handle: &UseStateHandle<bool>, key: &'static str| {
        let handle = handle.clone();
        Callback::from(move |on: bool| {
            io::set_pref(key, on);
            handle.set(on);
        })
    };
    let onshortcuts = remember(&shortcuts, SHORTCUTS_KEY);
    let onannounce = remember(&announce, ANNOUNCE_KEY);
    let latest = use_mut_ref(KeyView::default);
    *latest.borrow_mut() = KeyView {
        help: state.help,
        present: state.present,
        speed: state.speed,
        shortcuts: *shortcuts,
    };
    {
        let dispatch = state.dispatcher();
        let latest = latest.clone();
        hooks::use_keys(Rc::new(move |e: &web_sys::KeyboardEvent| {
            let view = *latest.borrow();
            if !key_is_ours(&e.key(), hooks::key_target(e), &view) {
                return false;
            }
            let Some(msg) = key_msg(&e.key(), &view) else {
                return false;
            };
            dispatch.dispatch(msg);
            true
        }));
    }
    // On a phone the ring is drawn with the larger nodes presenting uses,
    // so that names and terms stay readable in a 360 px drawing.
    let narrow = hooks::use_media("(max-width: 700px)");
    let lab = state.lab.clone();
    let (vt, now, step, position, leader, in_past, branches, events_len, history_start) = {
        let l = lab.0.borrow();
        let sim = l.sim();
        (
            l.vt(),
            sim.now(),
            sim.step_count(),
            sim.position(),
            sim.leader(),
            l.in_past(),
            l.branches().len(),
            l.known_seq(),
            l.history_start(),
        )
    };
    // The breakpoints panel is drawn from these alone (they change only
    // when the user acts).
    let (breakpoints, node_ids) = {
        let l = lab.0.borrow();
        let ids: Vec<raftlab_core::types::NodeId> = l.sim().nodes().keys().copied().collect();
        (l.breakpoints().to_vec(), ids)
    };
    let history_limit = lab
        .0
        .borrow()
        .sim()
        .history_limit()
        .map(|l| l.to_string())
        .unwrap_or_default();
    // The ring, the timeline and the transport follow every frame (the
    // live stamp); the other panels get what their group was last drawn
    // from (`state::Stamp`), which changes only when an event happened or
    // the user acted (and, while playing, at most every `REFRESH_MS`).
    let stamp = state.stamp();
    let [spacetime_view, logs_view, feed_view, panels_view] =
        [G_SPACETIME, G_LOGS, G_FEED, G_PANELS].map(|g| state.shown[g]);
    let panels_rev = panels_view.rev;
    // The inspector shows timers, which run between events.
    let inspector_now = state.selected.map_or(0, |_| panels_view.vt.floor() as u64);
    let ongoto = handlers.ongoto.clone();
    let onpick = handlers.onpick.clone();
    let highlight = {
        let l = lab.0.borrow();
        l.lesson()
            .and_then(|r| r.current_step())
            .map(|s| s.highlight.clone())
            .unwrap_or_default()
    };
    let lesson_id = lab.0.borrow().lesson().map(|r| r.lesson().id.clone());
    // Files dragged over the page: a hint says what dropping does.
    let dragging = use_state_eq(|| false);
    let ondragover = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(io::dragging_files(&e));
        })
    };
    let ondragleave = {
        let dragging = dragging.clone();
        // Left the page (not one element for another inside it).
        Callback::from(move |e: DragEvent| {
            if e.related_target().is_none() {
                dragging.set(false);
            }
        })
    };
    let ondrop = {
        let onmsg = onmsg.clone();
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            if let Some(file) = io::dropped_file(&e) {
                components::share::open_file(file, onmsg.clone());
            }
        })
    };
    let own_lesson = state.own_lesson.clone().and_then(|origin| {
        let l = lab.0.borrow();
        l.lesson().map(|r| (r.lesson().title.clone(), origin))
    });
    let onselect = handlers.onselect.clone();
    let onlink = handlers.onlink.clone();
    let ondrop_msg = handlers.ondrop_msg.clone();
    let ondeliver_msg = handlers.ondeliver_msg.clone();
    let onscrub = handlers.onscrub.clone();
    let notice = state.notice.clone().map(|n| {
        components::parts::notice(
            n.text,
            n.error,
            onmsg.reform(|_| Msg::View(ViewMsg::Dismiss)),
        )
    });
    let branch_note = (branches > 0).then(|| {
        html! {
            <span class="branch-note" data-testid="branch" data-branches={branches.to_string()}
                title="you acted in the past: the old future was discarded">
                { format!("⑂ branch {}", branches + 1) }
            </span>
        }
    });
    let toggle = |msg: fn(bool) -> Msg, on: bool| {
        let onmsg = onmsg.clone();
        Callback::from(move |_| onmsg.emit(msg(!on)))
    };

    html! {
            <div class={classes!("app", state.present.then_some("present"), (state.present && state.present_panels).then_some("panels-open"),
                lesson_id.is_some().then_some("in-lesson"), state.breakit.then_some("breaking"))}
                {ondragover} {ondragleave} ondrop={ondrop}>
                <components::a11y::SkipLinks />
                if *dragging {
                    <div class="drop-hint" data-testid="drop-hint" role="status">
                        <p>{ "Drop a lesson, session or trace file (.json, .jsonl) to open it" }</p>
                    </div>
                }
                <header class="masthead">
                    <h1>{ "raftlab" }</h1>
                    <p class="tagline">{ "Raft, running for real" }</p>
                    <LessonPicker lessons={state.lessons.clone()} current={lesson_id.clone()} own={own_lesson} onmsg={onmsg.clone()} />
                    <button type="button" class={classes!("mode-button", state.breakit.then_some("on"))} data-testid="breakit"
                        aria-pressed={state.breakit.to_string()} onclick={toggle(|v| Msg::View(ViewMsg::BreakIt(v)), state.breakit)}
                        title="break-it mode: switch on a deliberate bug and watch the checker catch it">{ "Break it" }</button>
                    <Transport playing={state.playing} speed={state.speed} vt={vt} in_past={in_past} onmsg={onmsg.clone()} />
                    { for branch_note }
                    <div class="view-buttons">
                        <button type="button" data-testid="present" aria-pressed={state.present.to_string()}
                            onclick={toggle(|v| Msg::View(ViewMsg::Present(v)), state.present)} title="presentation mode: the ring and the lesson large, the other panels folded away (p)">{ "Present" }</button>
                        if state.present {
                            <button type="button" data-testid="present-panels" aria-expanded={state.present_panels.to_string()}
                                aria-controls="panels" onclick={toggle(|v| Msg::View(ViewMsg::PresentPanels(v)), state.present_panels)}
                                title="show the panels folded away while presenting">
                                { if state.present_panels { "Hide panels" } else { "Panels" } }</button>
                        }
                        <button type="button" data-testid="help-open" onclick={toggle(|v| Msg::View(ViewMsg::Help(v)), state.help)} title="keyboard shortcuts (?)">{ "?" }</button>
                        <a class="mode-link" href="?mode=sharded" data-testid="mode-switch" title="several Raft groups sharing the keys">{ "Sharded mode" }</a>
                    </div>
                </header>
                // A named region: the status line and the notices under it
                // belong to a landmark, as the rest of the page does.
                <section class="status-area" aria-label="Run status and notices">
                <div class="status" data-testid="status" aria-live="polite"
                    data-now={now.to_string()} data-step={step.to_string()}
                    data-position={position.to_string()} data-events={events_len.to_string()}
                    data-history-seq={history_start.seq.to_string()} data-history-time={history_start.time.to_string()}
                    data-history-limit={history_limit}
                    data-leader={leader.map(|l| l.to_string()).unwrap_or_default()}
                    data-playing={state.playing.to_string()} data-branches={branches.to_string()}
                    data-in-past={in_past.to_string()} data-rev={stamp.rev.to_string()}>
                    { match leader {
                        Some(l) => format!("S{l} leads"),
                        None => "no leader".to_string(),
                    } }
                    // The count changes with every event: read, not announced.
                    <span aria-hidden="true">{ format!(" · seed {} · {} events", state.setup.seed, position) }</span>
                </div>
                { for notice }
                <LessonFileProblems problems={state.lesson_problems.clone()} onmsg={onmsg.clone()} />
                if *welcome && lesson_id.is_none() {
                    <FirstVisit lessons={state.lessons.clone()} onmsg={onmsg.clone()}
                        ondismiss={{
                            let welcome = welcome.clone();
                            Callback::from(move |_| {
                                io::set_welcomed();
                                welcome.set(false);
                            })
                        }} />
                }
                { url::notices(&url_notices, &on_url_dismiss) }
                </section>
                <main class="layout" id="panels">
                    <aside class="col controls-col" aria-label="Controls">
                        <NodePanel lab={lab.clone()} rev={panels_rev} selected={state.selected} joint={state.joint.clone()} onmsg={onmsg.clone()} />
                        <NetworkPanel lab={lab.clone()} rev={panels_rev} groups={state.groups.clone()} latency={state.latency} loss={state.loss} onmsg={onmsg.clone()} />
                        <components::delivery::DeliveryPanel lab={lab.clone()} rev={panels_rev} onmsg={onmsg.clone()} />
                        <ClientPanel lab={lab.clone()} rev={panels_rev} last={state.last_client} onmsg={onmsg.clone()} />
                        <Settings setup={state.setup.clone()} onmsg={onmsg.clone()} />
                    </aside>
                    <section class="col stage">
                        <Cluster lab={lab.clone()} stamp={stamp} selected={state.selected}
                            onselect={onselect.clone()} onlink={onlink} ondrop={ondrop_msg} ondeliver={ondeliver_msg}
                            highlight={highlight.clone()} linked={state.linked} large={state.present || narrow} />
                        <components::a11y::NodeTable lab={lab.clone()} rev={panels_rev} />
                        // The caption tells the newest event, as the feed's top row
                        // does: it is redrawn with the feed (at most every
                        // `FEED_MS` while playing, at once when the clock stops).
                        <RingCaption lab={lab.clone()} rev={feed_view.rev} />
                        <components::a11y::Announcer lab={lab.clone()} rev={stamp.rev} playing={state.playing} on={*announce} />
                        <SelectionBar lab={lab.clone()} rev={panels_rev} selected={state.selected} onmsg={onmsg.clone()} />
                        <Timeline lab={lab.clone()} stamp={stamp} onscrub={onscrub} onclock={handlers.onclock.clone()} />
                        <Legend />
                        <Quorums lab={lab.clone()} rev={panels_rev} />
                        <Feed lab={lab.clone()} rev={feed_view.rev} messages={state.feed_messages} heartbeats={state.feed_heartbeats}
                            ongoto={ongoto.clone()} linked={state.linked} onpick={onpick.clone()}
                            onmessages={handlers.onfeed_messages.clone()}
                            onheartbeats={handlers.onfeed_heartbeats.clone()} />
                    </section>
                    <aside class="col side-col" aria-label="Lesson and checks">
                        <LessonPanel lab={lab.clone()} rev={panels_rev} status={state.lesson_status.clone()}
                            speed={state.speed} playing={state.playing}
                            feedback={state.feedback.clone()} onmsg={onmsg.clone()} />
                        if state.breakit {
                            <BreakIt lab={lab.clone()} rev={panels_rev} setup={state.setup.clone()}
                                lessons={state.lessons.clone()} onmsg={onmsg.clone()} ongoto={ongoto.clone()}
                                violation={state.first_violation.clone()} />
                        }
                        <Inspector lab={lab.clone()} rev={panels_rev} now={inspector_now} selected={state.selected}
                            onclose={handlers.onunselect.clone()} />
                        <Safety lab={lab.clone()} rev={panels_rev} ongoto={ongoto.clone()} />
                        <Breakpoints list={breakpoints} nodes={node_ids} onmsg={onmsg.clone()} />
                        <Share lab={lab.clone()} rev={panels_rev} source={state.source.clone()} onmsg={onmsg.clone()} />
    </aside>
                    <section class="spacetime-row">
                        <Spacetime lab={lab.clone()} stamp={spacetime_view} window_ms={state.window_ms} linked={state.linked}
                            highlight={highlight.messages.clone()} onpick={onpick.clone()} ongoto={ongoto.clone()}
                            onzoom={handlers.onzoom.clone()} />
                    </section>
                    <section class="logs-row">
                        <Logs lab={lab.clone()} rev={logs_view.rev} selected={state.selected} onselect={onselect}
                            highlight={highlight.indexes.clone()} linked={state.linked} onpick={onpick} />
                    </section>
                    <section class="experiments-row">
                        <Experiments />
                    </section>
                </main>
                if state.help {
                    <Help onclose={handlers.onhelp_close.clone()} shortcuts={*shortcuts} {onshortcuts}
                        announce={*announce} {onannounce} />
                }
            </div>
        }
}

#[derive(Properties, PartialEq)]
struct FirstVisitProps {
    lessons: Vec<raftlab_core::lesson::LessonIndexEntry>,
    onmsg: Callback<Msg>,
    ondismiss: Callback<()>,
}

/// One line for a first-time visitor: what the drawing is, where to start
/// and where the keys are. Dismissed for good (this browser remembers);
/// starting lesson 1 from it dismisses it too.
#[function_component(FirstVisit)]
fn first_visit(props: &FirstVisitProps) -> Html {
    let first = props.lessons.first().cloned();
    let onlesson = first.map(|entry| {
        let (onmsg, ondismiss) = (props.onmsg.clone(), props.ondismiss.clone());
        Callback::from(move |_| {
            ondismiss.emit(());
            components::lesson::fetch_lesson(entry.clone(), onmsg.clone());
        })
    });
    let ondismiss = props.ondismiss.reform(|_: MouseEvent| ());
    html! {
        <div class="first-visit" data-testid="first-visit" role="note" aria-label="getting started">
            <p>
                { "Five servers, each running the real Raft algorithm, elect a leader while you watch. Click a server to crash or restart it, or " }
                <strong>{ "start with lesson 1" }</strong>
                { ". Press ? for the keyboard keys." }
            </p>
            if let Some(onclick) = onlesson {
                <button type="button" class="primary" data-testid="first-visit-lesson" {onclick}>{ "Start lesson 1" }</button>
            }
            <button type="button" class="close" data-testid="first-visit-dismiss" onclick={ondismiss}
                aria-label="dismiss this guidance" title="dismiss (not shown again in this browser)">{ "×" }</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::{key_is_ours, KeyView};
    use crate::hooks::KeyTarget::{Control, Field, Page, Slider};

    fn view(help: bool, shortcuts: bool) -> KeyView {
        KeyView {
            help,
            shortcuts,
            ..KeyView::default()
        }
    }

    #[test]
    fn space_and_enter_press_a_focused_control_instead_of_the_clock() {
        let v = view(false, true);
        assert!(!key_is_ours(" ", Control, &v));
        assert!(!key_is_ours("Enter", Control, &v));
        assert!(
            key_is_ours(" ", Page, &v),
            "with no control focused Space plays"
        );
        assert!(
            key_is_ours("ArrowRight", Control, &v),
            "arrows mean nothing to a button"
        );
    }

    #[test]
    fn fields_and_the_timeline_keep_their_own_keys() {
        let v = view(false, true);
        for key in ["c", "1", " ", "ArrowLeft", "+"] {
            assert!(!key_is_ours(key, Field, &v), "{key:?} types in a field");
        }
        for key in ["ArrowLeft", "ArrowRight", " ", "Enter", "Home", "PageUp"] {
            assert!(!key_is_ours(key, Slider, &v), "{key:?} moves the timeline");
        }
        assert!(
            key_is_ours("Escape", Field, &v),
            "Escape still closes and deselects"
        );
    }

    #[test]
    fn single_key_shortcuts_can_be_switched_off_wcag_2_1_4() {
        let off = view(false, false);
        for key in ["c", "r", "t", "s", "h", "p", "f", "3", "+", "-", "?"] {
            assert!(!key_is_ours(key, Page, &off), "{key:?} is off");
            assert!(key_is_ours(key, Page, &view(false, true)), "{key:?} is on");
        }
        assert!(key_is_ours(" ", Page, &off) && key_is_ours("ArrowLeft", Page, &off));
    }

    #[test]
    fn behind_the_modal_help_only_escape_and_question_mark_act() {
        let help = view(true, true);
        assert!(key_is_ours("Escape", Control, &help));
        assert!(key_is_ours("?", Page, &help));
        for key in ["c", " ", "ArrowRight", "3"] {
            assert!(
                !key_is_ours(key, Page, &help),
                "{key:?} waits for the dialog"
            );
        }
    }
}
