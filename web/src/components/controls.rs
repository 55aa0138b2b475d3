//! The controls: the clock (play, pause, step, speed), the selected node's
//! actions, membership changes, the network and the clients. Each control
//! has a `data-testid` named after what it does.

use raftlab_core::kv::KvOp;
use raftlab_core::sim::Action;
use raftlab_core::trace::ClientPhase;
use raftlab_core::types::{NodeId, Role};
use yew::prelude::*;

use super::parts::{button, full_title, joint_chip, outcome, shorten, slider, ClientForm, Sends};
use crate::model::{self, Standing};
use crate::state::{LabHandle, Msg, NetMsg, NodeMsg};
use crate::vocab::NodeVerb;
use raftlab_core::trace::describe as narrate;

/// The clock bar, with this view's messages.
pub type Transport = super::transport::Transport<Msg>;

#[derive(Properties, PartialEq)]
pub struct NodePanelProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    pub selected: Option<NodeId>,
    pub joint: std::collections::BTreeSet<NodeId>,
    pub onmsg: Callback<Msg>,
}

/// What can be done to the selected node, and to the membership.
#[function_component(NodePanel)]
pub fn node_panel(props: &NodePanelProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let onmsg = &props.onmsg;
    let node = model::selected(sim, props.selected);
    let config = model::cluster_config(sim);
    let (alive, role, standing) = match node {
        Some((id, n)) => (
            model::up(n).is_some(),
            model::up(n).map(|s| s.state()),
            Some(Standing::of(&config, id)),
        ),
        None => (false, None, None),
    };
    let none = node.is_none();
    let heading = match node {
        Some((id, _)) => format!("Selected: S{id}"),
        None => "No node selected".into(),
    };
    let free = model::free_id(sim);
    let chips = (1..=9u64).map(|id| {
        let on = props.joint.contains(&id);
        let known = sim.nodes().contains_key(&id);
        joint_chip(
            id,
            on,
            known,
            onmsg.reform(move |_| Msg::Node(NodeMsg::ToggleJoint(id))),
        )
    });
    html! {
        <section class="panel node-panel" aria-label="node controls">
            <h2>{ heading }</h2>
            if none {
                <p class="hint">{ "Click a node to act on it." }</p>
            }
            <div class="buttons">
                { button("crash", "Crash", "crash the selected node (c)", none || !alive, onmsg, || Msg::Node(NodeMsg::Verb(NodeVerb::Crash))) }
                { button("restart", "Restart", "restart the selected node from its disk (r)", none || alive, onmsg, || Msg::Node(NodeMsg::Verb(NodeVerb::Restart))) }
                { button("timeout", "Time out", "fire its election timeout now (t)", none || !alive, onmsg, || Msg::Node(NodeMsg::Verb(NodeVerb::Timeout))) }
                { button("transfer", "Make leader", "hand leadership to it (thesis §3.10)", none || role == Some(Role::Leader), onmsg, || Msg::Node(NodeMsg::Verb(NodeVerb::Transfer))) }
                { button("snapshot", "Snapshot", "compact its log into a snapshot now (s)", none || !alive, onmsg, || Msg::Node(NodeMsg::Verb(NodeVerb::Snapshot))) }
                { button("remove", "Remove", "remove it from the configuration", none || standing == Some(Standing::Outside), onmsg, || Msg::Node(NodeMsg::Verb(NodeVerb::Remove))) }
                { button("promote", "Promote", "promote the learner to voter", none || standing != Some(Standing::Learner), onmsg, || Msg::Node(NodeMsg::Verb(NodeVerb::Promote))) }
            </div>
            <h3>{ "Membership" }</h3>
            <div class="buttons">
                { button("add-learner", &free.map(|i| format!("Add S{i} as learner")).unwrap_or_else(|| "Add learner".into()),
                    "boot a new empty node and add it as a non-voting learner (thesis §4.2.1)", free.is_none(), onmsg, || Msg::Node(NodeMsg::Add { voter: false })) }
                { button("add-voter", &free.map(|i| format!("Add S{i} as voter")).unwrap_or_else(|| "Add voter".into()),
                    "boot a new node and add it straight as a voter", free.is_none(), onmsg, || Msg::Node(NodeMsg::Add { voter: true })) }
            </div>
            <div class="chips" aria-label="new voter set">{ for chips }</div>
            { button("joint", "Change voters (joint)", "move to the picked voter set through joint consensus (thesis §4.3)", props.joint.is_empty(), onmsg, || Msg::Node(NodeMsg::Joint)) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct NetworkProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    pub groups: std::collections::BTreeMap<NodeId, u8>,
    pub latency: u64,
    pub loss: u64,
    pub onmsg: Callback<Msg>,
}

/// Partitions, healing, latency and loss.
#[function_component(NetworkPanel)]
pub fn network_panel(props: &NetworkProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let onmsg = &props.onmsg;
    let chips = sim.nodes().keys().map(|&id| {
        let g = props.groups.get(&id).copied().unwrap_or(0);
        let letter = (b'A' + g) as char;
        let onmsg = onmsg.clone();
        let onclick = Callback::from(move |_| onmsg.emit(Msg::Net(NetMsg::CycleGroup(id))));
        html! {
            <button type="button" class={classes!("chip", format!("g{g}"))} data-testid={format!("part-{id}")}
                data-group={letter.to_string()} {onclick} title="click to move to the next group">
                { format!("S{id}·{letter}") }
            </button>
        }
    });
    // Every one-way link, for the keyboard (the drawing's links are
    // clicked): cut or restore it, hold or release it.
    let ids: Vec<NodeId> = sim.nodes().keys().copied().collect();
    let pairs = ids
        .iter()
        .flat_map(|&a| ids.iter().filter(move |&&b| b != a).map(move |&b| (a, b)));
    let links = pairs.map(|(from, to)| {
        let cut = sim.cut_links().contains(&(from, to));
        let held = sim.held_links().contains(&(from, to));
        let state = if cut {
            "cut"
        } else if !sim.link_up(from, to) {
            "blocked by the partition"
        } else if held {
            "held"
        } else {
            "up"
        };
        let (cut_text, hold_text) = (if cut { "Restore" } else { "Cut" }, if held { "Release" } else { "Hold" });
        let onmsg = onmsg.clone();
        let oncut = {
            let onmsg = onmsg.clone();
            Callback::from(move |_| onmsg.emit(Msg::Net(NetMsg::ToggleLink(from, to))))
        };
        let onhold = Callback::from(move |_| {
            onmsg.emit(Msg::Act(if held { Action::Release { from, to } } else { Action::Hold { from, to } }))
        });
        html! {
            <li data-testid={format!("link-row-{from}-{to}")} data-state={state}>
                <span class="line">{ format!("S{from} → S{to}: {state}") }</span>
                <span class="acts">
                    <button type="button" data-testid={format!("link-cut-{from}-{to}")} onclick={oncut}
                        aria-label={format!("{cut_text} the link S{from} to S{to}")}>{ cut_text }</button>
                    <button type="button" data-testid={format!("link-hold-{from}-{to}")} onclick={onhold}
                        aria-label={format!("{hold_text} the link S{from} to S{to}")}>{ hold_text }</button>
                </span>
            </li>
        }
    });
    let [lo, hi] = sim.config().latency_ms;
    let status = match sim.groups() {
        Some(_) => "partitioned".to_string(),
        None if !sim.cut_links().is_empty() => format!("{} link(s) cut", sim.cut_links().len()),
        None => "all links up".to_string(),
    };
    html! {
        <section class="panel network-panel" aria-label="network">
            <h2>{ "Network" }<span class="sub" data-testid="network-status">{ status }</span></h2>
            <div class="chips">{ for chips }</div>
            <div class="buttons">
                { button("partition", "Partition A | B | C", "split the network into the groups above", false, onmsg, || Msg::Net(NetMsg::Partition)) }
                { button("heal", "Heal", "reconnect everything (h)", false, onmsg, || Msg::Act(Action::Heal)) }
            </div>
            <p class="hint">{ "Click a link in the drawing to cut one direction; click a message to drop it." }</p>
            <details class="links" data-testid="links">
                <summary>{ "Links, one way: cut or hold" }</summary>
                <ul class="link-list">{ for links }</ul>
            </details>
            { slider(html! { <span>{ format!("latency {lo}–{hi} ms") }</span> }, "latency", [1, 200, 1],
                props.latency, Sends::WhenLetGo, &onmsg.reform(|v| Msg::Net(NetMsg::SetLatency(v)))) }
            { slider(html! { <span>{ format!("loss {:.0}%", sim.config().loss * 100.0) }</span> }, "loss", [0, 50, 1],
                props.loss, Sends::WhenLetGo, &onmsg.reform(|v| Msg::Net(NetMsg::SetLoss(v)))) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ClientProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    pub last: Option<(u64, u64)>,
    pub onmsg: Callback<Msg>,
}

/// Put, get and delete through simulated clients; reads use ReadIndex.
#[function_component(ClientPanel)]
pub fn client_panel(props: &ClientProps) -> Html {
    let lab = props.lab.0.borrow();
    let views = lab.sim().clients();
    // The latest operation's fate.
    let (phase, result, title) = match props.last {
        None => ("none", "—".to_string(), None),
        Some((client, seq)) => {
            let view = views.iter().find(|v| v.id == client);
            let current = view
                .and_then(|v| v.current.as_ref())
                .filter(|op| op.seq == seq);
            let done = view.and_then(|v| v.done.iter().find(|op| op.seq == seq));
            // The words with a long key or value cut, and whole.
            let words = |max: Option<usize>| match (current, done) {
                (Some(op), _) => Some((
                    "pending",
                    format!(
                        "{} … waiting (tried {})",
                        op_label(op, max),
                        tried_label(&op.tried)
                    ),
                )),
                (None, Some(op)) => Some(match outcome(op, max) {
                    Some((phase, out)) => (phase, format!("{} {out}", op_label(op, max))),
                    None => ("pending", op_label(op, max)),
                }),
                (None, None) => None,
            };
            match (words(Some(SHOWN_CHARS)), words(None)) {
                (Some((phase, shown)), Some((_, whole))) => {
                    let title = full_title(&shown, &whole);
                    (phase, shown, title)
                }
                _ => ("none", "— (not in this branch)".to_string(), None),
            }
        }
    };
    let onsend = props
        .onmsg
        .reform(|(op, key, value): (KvOp, String, String)| Msg::Client(op, key, Some(value)));
    let mut recent: Vec<_> = views
        .iter()
        .flat_map(|v| v.done.iter().map(move |op| (v.id, op)))
        .collect();
    recent.sort_by_key(|(_, op)| std::cmp::Reverse(op.ended_at));
    let recent = recent.into_iter().take(5).map(|(c, op)| {
        let words = |max: Option<usize>| {
            let outcome = match (&op.phase, &op.result) {
                (Some(ClientPhase::Ok), Some(Some(v))) => match max {
                    Some(max) => shorten(v, max).into_owned(),
                    None => v.clone(),
                },
                (Some(ClientPhase::Ok), Some(None)) => "(absent)".into(),
                (Some(ClientPhase::Ok), None) => "ok".into(),
                (Some(ClientPhase::Fail), _) => "failed".into(),
                (Some(ClientPhase::Timeout), _) => "unknown".into(),
                _ => "…".into(),
            };
            format!(
                "c{c} · {} → {outcome} ({}–{} ms)",
                op_label(op, max),
                op.invoked_at,
                op.ended_at.unwrap_or(0)
            )
        };
        let (shown, whole) = (words(Some(SHOWN_CHARS)), words(None));
        html! {
            <li title={full_title(&shown, &whole)}>{ shown.clone() }</li>
        }
    });
    html! {
        <section class="panel client-panel" aria-label="clients">
            <h2>{ "Clients" }<span class="sub">{ "reads use ReadIndex" }</span></h2>
            <ClientForm start_key="x" start_value="1" key_size={6} value_size={6} {onsend} />
            <p class={classes!("client-result", phase)} data-testid="client-result" data-phase={phase} {title}>{ result }</p>
            <ul class="recent">{ for recent }</ul>
        </section>
    }
}

/// The nodes a client tried, latest last, at most four.
fn tried_label(tried: &[NodeId]) -> String {
    let shown: Vec<String> = tried
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(|n| format!("S{n}"))
        .collect();
    let more = tried.len().saturating_sub(4);
    if more > 0 {
        format!("… {}", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The most characters of a key or a value the client panel shows.
const SHOWN_CHARS: usize = 20;

/// An operation in words ("put x=1"); with `max`, its key and value cut to
/// that many characters each.
fn op_label(op: &raftlab_core::sim::ClientOp, max: Option<usize>) -> String {
    let cut = |t: &str| match max {
        Some(max) => shorten(t, max).into_owned(),
        None => t.to_string(),
    };
    narrate::command_label(&raftlab_core::kv::KvCommand {
        client: 0,
        seq: op.seq,
        op: op.op.clone(),
        key: cut(&op.key),
        value: op.value.as_deref().map(cut),
    })
}

#[derive(Properties, PartialEq)]
pub struct SelectionBarProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from: redrawn when that changes.
    pub rev: u64,
    pub selected: Option<NodeId>,
    pub onmsg: Callback<Msg>,
}

/// The selected node's common actions right under the ring, for where the
/// node panel is out of reach: presenting (the panels are folded away), a
/// phone or a tablet (the panels come far below). Nothing when no node is
/// selected. Its buttons send the same messages as the node panel's.
#[function_component(SelectionBar)]
pub fn selection_bar(props: &SelectionBarProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let Some((id, node)) = model::selected(sim, props.selected) else {
        return html! {};
    };
    let onmsg = &props.onmsg;
    let server = model::up(node);
    let alive = server.is_some();
    let role = server.map(|s| s.state()).unwrap_or(Role::Follower);
    let standing = Standing::of(&model::cluster_config(sim), id);
    let word = model::role_word(alive, role, standing);
    let term = model::term_of(node);
    let verb = |testid: &str, label: &str, title: &str, disabled: bool, v: NodeVerb| {
        button(testid, label, title, disabled, onmsg, move || {
            Msg::Node(NodeMsg::Verb(v))
        })
    };
    html! {
        <div class="selection-bar" data-testid="selection-bar" data-node={id.to_string()}
            role="group" aria-label={format!("actions on S{id}")}>
            <span class="who"><strong>{ format!("S{id}") }</strong>{ format!(" {word}, term {term}") }</span>
            if alive {
                { verb("bar-crash", "Crash", "crash it (c)", false, NodeVerb::Crash) }
            } else {
                { verb("bar-restart", "Restart", "restart it from its disk (r)", false, NodeVerb::Restart) }
            }
            { verb("bar-timeout", "Time out", "fire its election timeout now (t)", !alive || role == Role::Leader, NodeVerb::Timeout) }
            { verb("bar-transfer", "Make leader", "hand leadership to it (thesis §3.10)", !alive || role == Role::Leader, NodeVerb::Transfer) }
            { verb("bar-snapshot", "Snapshot", "compact its log into a snapshot now (s)", !alive, NodeVerb::Snapshot) }
            <button type="button" class="deselect" data-testid="bar-deselect" aria-label={format!("deselect S{id}")}
                title="deselect (Esc)" onclick={onmsg.reform(|_| Msg::Node(NodeMsg::Select(None)))}>{ "×" }</button>
        </div>
    }
}
