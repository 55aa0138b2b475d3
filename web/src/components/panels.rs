//! Smaller panels: quorums, the safety checker, settings and the shortcut
//! list.

use std::collections::BTreeSet;

use raftlab_core::config::Bug;
use raftlab_core::sim::SimConfig;
use raftlab_core::types::NodeId;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::model;
use crate::state::{LabHandle, Msg, SessionMsg, Setup, ViewMsg};

/// "S1 S2 S3", or "nobody".
pub fn names(s: &BTreeSet<NodeId>) -> String {
    if s.is_empty() {
        "nobody".into()
    } else {
        s.iter()
            .map(|n| format!("S{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Properties, PartialEq)]
pub struct QuorumProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
}

/// Who elected the leader, and who acknowledged its commit index; both
/// halves while joint.
#[function_component(Quorums)]
pub fn quorums(props: &QuorumProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let Some(leader) = sim.leader().and_then(|l| sim.server(l)) else {
        return html! {
            <section class="panel quorums" data-testid="quorums" aria-label="quorums">
                <h2>{ "Quorums" }</h2>
                <p class="hint">{ "No leader right now: no quorum to show." }</p>
            </section>
        };
    };
    let cfg = leader.config();
    let commit = leader.commit_idx();
    // Under the deliberate bug learner-in-quorum learners do count: the
    // panel says so rather than repeat the rule the bug breaks.
    let learners_count = sim
        .config()
        .bugs
        .contains(&raftlab_core::config::Bug::LearnerInQuorum);
    let elected: BTreeSet<NodeId> = leader.elected_by().iter().copied().collect();
    let acked: BTreeSet<NodeId> = leader.acked(commit).into_iter().collect();
    let halves: Vec<(&str, &BTreeSet<NodeId>)> = if cfg.is_joint() {
        vec![("new voters", &cfg.voters), ("old voters", &cfg.outgoing)]
    } else {
        vec![("voters", &cfg.voters)]
    };
    let line = |what: &str, who: &BTreeSet<NodeId>, voters: &BTreeSet<NodeId>| {
        let inside: BTreeSet<NodeId> = who.intersection(voters).copied().collect();
        let need = model::majority(voters.len());
        let ok = inside.len() >= need;
        let chips = voters.iter().map(|v| {
            let yes = who.contains(v);
            html! { <span class={classes!("qchip", yes.then_some("yes"))}>{ format!("S{v}") }{ if yes { " ✓" } else { "" } }</span> }
        });
        html! {
            <div class={classes!("qline", ok.then_some("ok"))}>
                <span class="qwhat">{ what.to_string() }</span>
                { for chips }
                <span class="qcount">{ format!("{} of {} (need {need})", inside.len(), voters.len()) }</span>
            </div>
        }
    };
    html! {
        <section class="panel quorums" data-testid="quorums" aria-label="quorums"
            data-elected-by={names(&elected)} data-acked={names(&acked)}>
            <h2>{ format!("Quorums of S{}, term {}", leader.id(), leader.current_term()) }</h2>
            <h3>{ "Elected by" }</h3>
            <div class="qline ok">
                <span class="qwhat">{ "votes from" }</span>
                { for elected.iter().map(|v| html! { <span class="qchip yes">{ format!("S{v} ✓") }</span> }) }
                <span class="qcount">{ if learners_count {
                    format!("{} granted, a majority once learners' votes count (deliberate bug learner-in-quorum is on)", elected.len())
                } else {
                    format!("{} granted, a majority of the voters at the election", elected.len())
                } }</span>
            </div>
            <h3>{ format!("Commit index {commit} acknowledged by") }</h3>
            { for halves.iter().map(|(what, voters)| line(what, &acked, voters)) }
            if !cfg.learners.is_empty() {
                <p class="hint">{ if learners_count {
                    format!("Learners {} count in this run's quorums: deliberate bug learner-in-quorum is on (thesis §4.2.1 says they never count).", names(&cfg.learners))
                } else {
                    format!("Learners {} receive the log but never count.", names(&cfg.learners))
                } }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct SafetyProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    pub ongoto: Callback<u64>,
}

/// The live checker: every Raft safety rule, checked at every event.
#[function_component(Safety)]
pub fn safety(props: &SafetyProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let violations = sim.violations();
    let count = sim.checker().violation_count();
    let bugs = &sim.config().bugs;
    let items = violations.iter().rev().take(8).map(|v| {
        let seq = v.seq;
        let ongoto = props.ongoto.clone();
        let onclick = Callback::from(move |_| ongoto.emit(seq));
        html! {
            <li>
                <button type="button" data-testid={format!("violation-{seq}")} {onclick}>
                    <strong>{ v.rule }</strong>{ format!(" at event #{seq}: {}", v.message) }
                </button>
            </li>
        }
    });
    let ok = violations.is_empty();
    html! {
        <section class={classes!("panel", "safety", if ok { "safe" } else { "unsafe" })}
            data-testid="safety" data-status={if ok { "ok" } else { "violated" }}
            data-violations={count.to_string()} aria-label="safety checker">
            <h2>{ if ok { "✓ Safe" } else { "✗ Safety violated" } }</h2>
            if ok {
                <p>{ format!("The checker watched all {} events: election safety, log matching, leader completeness, state machine safety and {} more rules hold.", sim.position(), raftlab_core::check::rules::ALL.len() - 4) }</p>
            } else {
                <ol class="violations">{ for items }</ol>
            }
            if !bugs.is_empty() {
                <p class="bugs">{ format!("Deliberate bug on: {}", bugs.iter().map(|b| b.explain()).collect::<Vec<_>>().join("; ")) }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub setup: Setup,
    pub onmsg: Callback<Msg>,
}

/// The form behind a reset: seed, size and every timing setting.
#[derive(Clone, PartialEq)]
struct Form {
    seed: String,
    nodes: String,
    emin: String,
    emax: String,
    heartbeat: String,
    lat_min: String,
    lat_max: String,
    snapshot_every: String,
    chunk: String,
    prevote: bool,
    check_quorum: bool,
    bug: String,
}

impl Form {
    fn of(s: &Setup) -> Form {
        Form {
            seed: s.seed.to_string(),
            nodes: s.nodes.to_string(),
            emin: s.cfg.election_timeout_ms[0].to_string(),
            emax: s.cfg.election_timeout_ms[1].to_string(),
            heartbeat: s.cfg.heartbeat_ms.to_string(),
            lat_min: s.cfg.latency_ms[0].to_string(),
            lat_max: s.cfg.latency_ms[1].to_string(),
            snapshot_every: s.cfg.snapshot_every.to_string(),
            chunk: s.cfg.snapshot_chunk_bytes.to_string(),
            prevote: s.cfg.prevote,
            check_quorum: s.cfg.check_quorum,
            bug: s
                .cfg
                .bugs
                .first()
                .map(|b| b.name().to_string())
                .unwrap_or_default(),
        }
    }

    fn parse(&self, base: &SimConfig) -> Result<Setup, String> {
        fn num(name: &str, v: &str) -> Result<u64, String> {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{name} must be a whole number, not {v:?}"))
        }
        let nodes = num("nodes", &self.nodes)?;
        if !(1..=9).contains(&nodes) {
            return Err(format!("a cluster has 1 to 9 nodes, not {nodes}"));
        }
        let mut cfg = base.clone();
        cfg.election_timeout_ms = [
            num("election timeout min", &self.emin)?,
            num("election timeout max", &self.emax)?,
        ];
        cfg.heartbeat_ms = num("heartbeat", &self.heartbeat)?;
        cfg.latency_ms = [
            num("latency min", &self.lat_min)?,
            num("latency max", &self.lat_max)?,
        ];
        cfg.snapshot_every = num("snapshot every", &self.snapshot_every)?;
        cfg.snapshot_chunk_bytes = num("chunk size", &self.chunk)? as usize;
        cfg.prevote = self.prevote;
        cfg.check_quorum = self.check_quorum;
        cfg.bugs = Bug::from_name(&self.bug).into_iter().collect();
        cfg.validate()?;
        Ok(Setup {
            seed: num("seed", &self.seed)?,
            nodes,
            cfg,
        })
    }
}

#[function_component(Settings)]
pub fn settings(props: &SettingsProps) -> Html {
    let form = use_state(|| Form::of(&props.setup));
    let error = use_state(|| None::<String>);
    {
        let form = form.clone();
        use_effect_with(props.setup.clone(), move |s| {
            form.set(Form::of(s));
        });
    }
    let text = |testid: &'static str,
                label: &'static str,
                get: fn(&Form) -> &String,
                put: fn(&mut Form, String)| {
        let form2 = form.clone();
        let oninput = Callback::from(move |e: InputEvent| {
            let v = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            let mut f = (*form2).clone();
            put(&mut f, v);
            form2.set(f);
        });
        html! {
            <label class="field">
                <span>{ label }</span>
                <input type="text" inputmode="numeric" data-testid={testid} value={get(&form).clone()} {oninput} size="6" />
            </label>
        }
    };
    let check = |testid: &'static str,
                 label: &'static str,
                 hint: &'static str,
                 get: fn(&Form) -> bool,
                 put: fn(&mut Form, bool)| {
        let form2 = form.clone();
        let onchange = Callback::from(move |e: Event| {
            let v = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.checked())
                .unwrap_or(false);
            let mut f = (*form2).clone();
            put(&mut f, v);
            form2.set(f);
        });
        html! {
            <label class="field check">
                <input type="checkbox" data-testid={testid} checked={get(&form)} {onchange}
                    aria-describedby={format!("{testid}-hint")} />
                <span>{ label }</span>
                <span class="check-hint" id={format!("{testid}-hint")}>{ hint }</span>
            </label>
        }
    };
    let onbug = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_dyn_into::<web_sys::HtmlSelectElement>()
                .map(|s| s.value())
                .unwrap_or_default();
            let mut f = (*form).clone();
            f.bug = v;
            form.set(f);
        })
    };
    let onreset = {
        let form = form.clone();
        let error = error.clone();
        let onmsg = props.onmsg.clone();
        let base = props.setup.cfg.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match form.parse(&base) {
                Ok(setup) => {
                    error.set(None);
                    onmsg.emit(Msg::Session(SessionMsg::Reset(setup)));
                }
                Err(problem) => {
                    error.set(Some(problem.clone()));
                    onmsg.emit(Msg::View(ViewMsg::Problem(format!(
                        "Settings not applied: {problem}."
                    ))));
                }
            }
        })
    };
    let bug_options = Bug::ALL.iter().map(|b| {
        html! { <option value={b.name()} selected={form.bug == b.name()}>{ b.name() }</option> }
    });
    html! {
        <section class="panel settings" data-testid="settings" aria-label="settings">
            <h2>{ "New run" }</h2>
            <form onsubmit={onreset}>
                <div class="fields">
                    { text("seed", "seed", |f| &f.seed, |f, v| f.seed = v) }
                    { text("nodes", "nodes", |f| &f.nodes, |f, v| f.nodes = v) }
                    { text("election-min", "election min ms", |f| &f.emin, |f, v| f.emin = v) }
                    { text("election-max", "election max ms", |f| &f.emax, |f, v| f.emax = v) }
                    { text("heartbeat", "heartbeat ms", |f| &f.heartbeat, |f, v| f.heartbeat = v) }
                    { text("latency-min", "latency min ms", |f| &f.lat_min, |f, v| f.lat_min = v) }
                    { text("latency-max", "latency max ms", |f| &f.lat_max, |f, v| f.lat_max = v) }
                    { text("snapshot-every", "snapshot every", |f| &f.snapshot_every, |f, v| f.snapshot_every = v) }
                    { text("chunk", "chunk bytes", |f| &f.chunk, |f, v| f.chunk = v) }
                    { check("prevote", "PreVote",
                        "a server whose timer runs out first asks whether it could win, without raising its term (thesis §9.6)",
                        |f| f.prevote, |f, v| f.prevote = v) }
                    { check("check-quorum", "CheckQuorum",
                        "a leader that has not heard from a majority for an election timeout steps down (thesis §6.2); in raftlab it also switches leader stickiness (thesis §4.2.3), the half of PreVote that refuses while a leader is heard from",
                        |f| f.check_quorum, |f, v| f.check_quorum = v) }
                    <label class="field">
                        <span>{ "deliberate bug" }</span>
                        <select data-testid="bug" onchange={onbug}>
                            <option value="" selected={form.bug.is_empty()}>{ "none" }</option>
                            { for bug_options }
                        </select>
                    </label>
                </div>
                if let Some(problem) = &*error {
                    <p class="error" data-testid="settings-error" role="alert">{ problem.clone() }</p>
                }
                <button type="submit" data-testid="reset" class="primary">{ "Reset with these settings" }</button>
            </form>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct HelpProps {
    pub onclose: Callback<()>,
    /// Whether the single-key shortcuts are on (a switch here, WCAG 2.1.4).
    pub shortcuts: bool,
    pub onshortcuts: Callback<bool>,
    /// Whether each step's narration is announced to screen readers.
    pub announce: bool,
    pub onannounce: Callback<bool>,
}

/// What a Tab press can land on inside the dialog.
const FOCUSABLE: &str =
    "button:not([disabled]), input:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";

/// The keyboard shortcuts and the switches for keys and announcements: a
/// modal dialog (focus moves in on open, Tab stays inside, Escape closes,
/// and focus goes back to what opened it).
#[function_component(Help)]
pub fn help(props: &HelpProps) -> Html {
    let sheet = use_node_ref();
    {
        let sheet = sheet.clone();
        use_effect_with((), move |_| {
            let opener = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(el) = sheet.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
            move || {
                if let Some(el) = opener {
                    let _ = el.focus();
                }
            }
        });
    }
    let onclose = {
        let cb = props.onclose.clone();
        Callback::from(move |_| cb.emit(()))
    };
    // Tab and Shift+Tab wrap around inside the sheet.
    let onkeydown = {
        let sheet = sheet.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() != "Tab" {
                return;
            }
            let Some(el) = sheet.cast::<web_sys::Element>() else {
                return;
            };
            let Ok(list) = el.query_selector_all(FOCUSABLE) else {
                return;
            };
            let at = |i: u32| {
                list.get(i)
                    .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
            };
            let (Some(first), Some(last)) = (at(0), at(list.length().saturating_sub(1))) else {
                return;
            };
            let active = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element());
            let on = |x: &web_sys::HtmlElement| {
                active
                    .as_ref()
                    .is_some_and(|a| a == x.unchecked_ref::<web_sys::Element>())
            };
            let on_sheet = active.as_ref().is_some_and(|a| a == &el);
            if e.shift_key() && (on(&first) || on_sheet) {
                e.prevent_default();
                let _ = last.focus();
            } else if !e.shift_key() && on(&last) {
                e.prevent_default();
                let _ = first.focus();
            }
        })
    };
    let switch = |testid: &'static str, on: bool, cb: &Callback<bool>, label: &'static str| {
        let cb = cb.clone();
        let onchange = Callback::from(move |e: Event| cb.emit(super::form::input_checked(&e)));
        html! {
            <label class="switch">
                <input type="checkbox" data-testid={testid} checked={on} {onchange} />
                { label }
            </label>
        }
    };
    let keys = [
        ("space", "play or pause (when no button has the focus)"),
        ("→", "step to the next event"),
        ("←", "step back one event"),
        ("f", "jump 100 ms ahead"),
        ("1 … 9", "select node S1 … S9"),
        ("Esc", "deselect, close this"),
        ("c", "crash the selected node"),
        ("r", "restart it"),
        ("t", "fire its election timeout"),
        ("s", "snapshot it"),
        ("h", "heal the network"),
        ("+ / −", "faster / slower"),
        ("p", "presentation mode (large type)"),
        ("?", "this list"),
    ];
    html! {
        <div class="overlay" data-testid="help" onclick={onclose.clone()}>
            <div class="sheet" ref={sheet} role="dialog" aria-modal="true" aria-labelledby="help-title" tabindex="-1"
                {onkeydown} onclick={Callback::from(|e: MouseEvent| e.stop_propagation())}>
                <h2 id="help-title">{ "Keyboard shortcuts" }</h2>
                { switch("shortcuts-switch", props.shortcuts, &props.onshortcuts, "Single-key shortcuts (letters, digits, + − ?)") }
                { switch("announce-switch", props.announce, &props.onannounce, "Announce events to screen readers") }
                <table>
                    { for keys.iter().map(|(k, what)| html! { <tr><th><kbd>{ *k }</kbd></th><td>{ *what }</td></tr> }) }
                </table>
                <p class="hint">{ "Space and Enter press the button that has the focus; the timeline takes the arrows, Page Up/Down, Home and End. Shortcuts never act in a form field. This browser remembers both switches." }</p>
                <p class="hint">{ "On a touch screen: tap a node to select it, tap a link to cut it, tap a message to drop it. With a keyboard: the network panel lists the links, the delivery panel the messages." }</p>
                <button type="button" data-testid="help-close" onclick={onclose}>{ "Close" }</button>
            </div>
        </div>
    }
}
