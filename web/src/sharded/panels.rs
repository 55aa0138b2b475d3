//! Sharded mode's panels: the clock, node and network actions on any
//! group, clients, key lookup and slot moves, migrations, the checkers and
//! the guided walkthrough. Each control has a `data-testid` named after
//! what it does (the same names as the single-group view where they mean
//! the same).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use raftlab_core::check::LinStatus;
use raftlab_core::kv::KvOp;
use raftlab_core::log::LogStore;
use raftlab_core::meta::slot_of;
use raftlab_core::sim::sharded::{ShardNode, ShardedSim};
use raftlab_core::sim::ClientOp;
use raftlab_core::trace::ClientPhase;
use raftlab_core::types::NodeId;
use yew::prelude::*;

use super::lab::{name, Standing};
use super::op_word;
use super::state::{Msg, NodeVerb, ShardedHandle, ShardedSetup};
use super::walk::Walkthrough;
use crate::components::form::{bind_text, select_value};
use crate::components::parts::{self, button, joint_chip, slider, ClientForm, Sends};

mod slots;
pub use slots::{Migrations, SlotPanel};

/// The clock bar, with sharded mode's messages.
pub type Transport = crate::components::transport::Transport<Msg>;

crate::components::transport::clock_messages!(Msg);

#[derive(Properties, PartialEq)]
pub struct NodePanelProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub selected: Option<NodeId>,
    /// The group the membership controls act on.
    pub group: raftlab_core::meta::GroupId,
    /// The voter set picked for a joint change.
    pub joint: BTreeSet<NodeId>,
    pub onmsg: Callback<Msg>,
}

/// What can be done to the selected node, whatever its group.
#[function_component(NodePanel)]
pub fn node_panel(props: &NodePanelProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let onmsg = &props.onmsg;
    let node = props.selected.filter(|id| sim.nodes().contains_key(id));
    let alive = node.is_some_and(|id| sim.server(id).is_some());
    let role = node.and_then(|id| lab.role_of(id));
    let heading = match node {
        Some(id) => format!("S{id} of {}", name(sim.group_of(id).unwrap_or_default())),
        None => "No node selected".into(),
    };
    let none = node.is_none();
    let standing = node.map(|id| lab.standing(id));
    let detail = node.map(|id| {
        let term = lab.term_of(id);
        let (commit, applied, last) = match sim.nodes().get(&id) {
            Some(ShardNode::Up(s)) => (s.commit_idx(), s.last_applied_idx(), s.log().last_index()),
            Some(ShardNode::Down(_, log)) => (0, 0, log.last_index()),
            None => (0, 0, 0),
        };
        let machine = sim.server(id).map(|s| {
            if let Some(m) = s.state_machine().meta() {
                format!("slot table version {}", m.version)
            } else if let Some(k) = s.state_machine().kv() {
                format!(
                    "{} keys · owns {} slots{}",
                    k.kv.data.len(),
                    k.owned.len(),
                    if k.frozen.is_empty() {
                        String::new()
                    } else {
                        format!(" · frozen {:?}", k.frozen.keys().collect::<Vec<_>>())
                    }
                )
            } else {
                String::new()
            }
        });
        let word = match (alive, role) {
            (false, _) => "crashed".to_string(),
            (true, Some(r)) => r.as_str().to_string(),
            _ => String::new(),
        };
        let word = format!("{word} · {}", lab.standing(id).word());
        html! {
            <p class="hint" data-testid="node-detail">
                { if alive {
                    format!("{word} · term {term} · log ≤{last} · commit {commit} · applied {applied}")
                } else {
                    format!("crashed · term {term} · log ≤{last} on disk")
                } }
                if let Some(m) = machine { <br />{ m } }
            </p>
        }
    });
    html! {
        <section class="panel node-panel" aria-label="node actions">
            <h2>{ heading }</h2>
            if none {
                <p class="hint">{ "Click a node in any ring to act on it." }</p>
            }
            { for detail }
            <div class="buttons">
                { button("crash", "Crash", "crash it (it keeps its disk)", none || !alive, onmsg, || Msg::Node(NodeVerb::Crash)) }
                { button("restart", "Restart", "restart it from its disk", none || alive, onmsg, || Msg::Node(NodeVerb::Restart)) }
                { button("timeout", "Timeout", "fire its election timeout now", none || !alive, onmsg, || Msg::Node(NodeVerb::Timeout)) }
                { button("transfer", "Make leader", "hand its group's leadership to it", none || !alive, onmsg, || Msg::Node(NodeVerb::Transfer)) }
                { button("snapshot", "Snapshot", "compact its log now", none || !alive, onmsg, || Msg::Node(NodeVerb::Snapshot)) }
                { button("remove", "Remove", "remove it from its group's configuration, through the group's leader (a leader steps down once it commits, thesis §4.2.2)",
                    none || standing == Some(Standing::Outside), onmsg, || Msg::Node(NodeVerb::Remove)) }
                { button("promote", "Promote", "promote the learner to voter (thesis §4.1)",
                    none || standing != Some(Standing::Learner), onmsg, || Msg::Node(NodeVerb::Promote)) }
            </div>
            { membership(&lab, props.group, &props.joint, onmsg) }
        </section>
    }
}

/// The membership controls of one group: add a node, change the voters
/// through joint consensus, and the group's configuration beside the meta
/// group's record of its members.
fn membership(
    lab: &super::lab::ShardedLab,
    g: raftlab_core::meta::GroupId,
    joint: &BTreeSet<NodeId>,
    onmsg: &Callback<Msg>,
) -> Html {
    let sim = lab.sim();
    let gname = name(g);
    let free = sim.fresh_node_id(g);
    let options = sim.groups().iter().map(|info| {
        html! { <option value={info.id.to_string()} selected={info.id == g}>{ info.name.clone() }</option> }
    });
    let onpick = {
        let onmsg = onmsg.clone();
        Callback::from(move |e: Event| {
            if let Ok(g) = select_value(&e).parse() {
                onmsg.emit(Msg::MemberGroup(g));
            }
        })
    };
    let list = |ids: &BTreeSet<NodeId>| {
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.iter()
                .map(|n| format!("S{n}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let config = lab.group_config(g).map(|c| {
        let mut text = format!("voters {}", list(&c.voters));
        if !c.learners.is_empty() {
            text.push_str(&format!(" · learners {}", list(&c.learners)));
        }
        if c.is_joint() {
            text.push_str(&format!(" · joint with {}", list(&c.outgoing)));
        }
        text
    });
    // The leader's latest configuration may not be committed yet; the next
    // change waits for it (thesis §4.1).
    let pending = sim
        .leader(g)
        .and_then(|l| sim.server(l))
        .is_some_and(|s| s.config_index() > s.commit_idx() || s.config().is_joint());
    let record = (g != 0).then(|| {
        let members = sim.recorded_members(g).unwrap_or_default();
        let text = members
            .iter()
            .map(|n| format!("S{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let syncing = sim.member_syncs().iter().any(|m| m.group == g);
        html! {
            <p class="hint member-record" data-testid="member-record" data-group={gname.clone()}
                data-members={members.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")}
                data-syncing={syncing.to_string()}>
                { format!("meta records {gname}: {text}") }
                if syncing { <em>{ " · updating through the meta log…" }</em> }
            </p>
        }
    });
    let range: Vec<NodeId> = if g == 0 {
        (1..=9).collect()
    } else {
        (u64::from(g) * 10 + 1..=u64::from(g) * 10 + 9).collect()
    };
    let chips = range.into_iter().filter_map(|id| {
        let known = sim.group_of(id) == Some(g);
        // The group's nodes, and the next free id as a new one.
        if !known && Some(id) != free {
            return None;
        }
        let on = joint.contains(&id);
        Some(joint_chip(
            id,
            on,
            known,
            onmsg.reform(move |_| Msg::ToggleJoint(id)),
        ))
    });
    let label = |what: &str| match free {
        Some(i) => format!("Add S{i} to {gname} as {what}"),
        None => format!("Add {what}"),
    };
    html! {
        <div class="membership" data-testid="membership" data-group={gname.clone()}>
            <h3>
                // The heading's words are the select's visible label.
                <label for="member-group">{ "Membership of " }</label>
                <select id="member-group" data-testid="member-group" onchange={onpick} title="the group these controls act on">{ for options }</select>
            </h3>
            <p class="hint" data-testid="member-config" data-pending={pending.to_string()}>
                { config.unwrap_or_else(|| "no live node to ask".into()) }
                if pending { <em>{ " · not committed yet" }</em> }
            </p>
            { for record }
            <div class="buttons">
                { button("add-learner", &label("learner"),
                    "boot a new empty node in this group and add it as a non-voting learner (thesis §4.2.1)", free.is_none(), onmsg, || Msg::AddNode { voter: false }) }
                { button("add-voter", &label("voter"),
                    "boot a new node in this group and add it straight as a voter", free.is_none(), onmsg, || Msg::AddNode { voter: true }) }
            </div>
            <div class="chips" aria-label="new voter set">{ for chips }</div>
            { button("joint", "Change voters (joint)", "move the group to the picked voter set through joint consensus (thesis §4.3)", joint.is_empty(), onmsg, || Msg::Joint) }
        </div>
    }
}

/// Holding a one-way link inside a group (its messages wait at the
/// receiver until released, where a cut loses them), and the held links
/// with what waits on each and a Release button.
fn hold_row(
    sim: &ShardedSim,
    from: &UseStateHandle<Option<NodeId>>,
    to: &UseStateHandle<Option<NodeId>>,
    onmsg: &Callback<Msg>,
) -> Html {
    // The picked sender, else the first node; the receiver must be of
    // the sender's group (a group's Raft messages stay inside it).
    let first = sim
        .groups()
        .iter()
        .flat_map(|g| g.nodes.first())
        .next()
        .copied();
    let a = from.or(first);
    let group = a.and_then(|a| sim.group_of(a));
    let peers: Vec<NodeId> = sim
        .groups()
        .iter()
        .filter(|g| Some(g.id) == group)
        .flat_map(|g| g.nodes.iter().copied())
        .filter(|&n| Some(n) != a)
        .collect();
    let b = to.filter(|t| peers.contains(t)).or(peers.first().copied());
    let from_options = sim.groups().iter().map(|g| {
        let options = g.nodes.iter().map(|&n| {
            html! { <option value={n.to_string()} selected={Some(n) == a}>{ format!("S{n}") }</option> }
        });
        html! { <optgroup label={g.name.clone()}>{ for options }</optgroup> }
    });
    let to_options = peers.iter().map(|&n| {
        html! { <option value={n.to_string()} selected={Some(n) == b}>{ format!("S{n}") }</option> }
    });
    let pick = |state: &UseStateHandle<Option<NodeId>>| {
        let state = state.clone();
        Callback::from(move |e: Event| state.set(select_value(&e).parse().ok()))
    };
    let can_hold = matches!((a, b), (Some(a), Some(b)) if !sim.held_links().contains(&(a, b)));
    let onhold = {
        let onmsg = onmsg.clone();
        Callback::from(move |_| {
            if let (Some(a), Some(b)) = (a, b) {
                onmsg.emit(Msg::Hold(a, b));
            }
        })
    };
    let held = sim.held_links().iter().map(|&(x, y)| {
        let gname = sim.group_of(x).map(name).unwrap_or_default();
        let waiting = sim
            .waiting()
            .filter(|f| f.msg.from == x && f.msg.to == y)
            .count();
        let onclick = {
            let onmsg = onmsg.clone();
            Callback::from(move |_| onmsg.emit(Msg::Release(x, y)))
        };
        html! {
            <li data-testid="held-link" data-from={x.to_string()} data-to={y.to_string()}
                data-waiting={waiting.to_string()}>
                { format!("{gname}: S{x} → S{y} held · {waiting} waiting ") }
                <button type="button" data-testid={format!("release-{x}-{y}")} {onclick}
                    title="what waited arrives now, oldest first">{ "Release" }</button>
            </li>
        }
    });
    html! {
        <div class="hold" data-testid="hold-controls">
            <label>{ "hold from " }<select data-testid="hold-from" onchange={pick(from)}>{ for from_options }</select></label>
            <label>{ " to " }<select data-testid="hold-to" onchange={pick(to)}>{ for to_options }</select></label>
            <button type="button" data-testid="hold" disabled={!can_hold} onclick={onhold}
                title="its messages wait at the receiver until released (a cut loses them)">{ "Hold link" }</button>
            if !sim.held_links().is_empty() {
                <ul class="held">{ for held }</ul>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct NetworkPanelProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub sides: BTreeMap<NodeId, u8>,
    pub latency: u64,
    pub loss: u64,
    pub onmsg: Callback<Msg>,
}

/// Partition any nodes of any groups, heal, hold and release a link,
/// latency and loss.
#[function_component(NetworkPanel)]
pub fn network_panel(props: &NetworkPanelProps) -> Html {
    let hold_from = use_state(|| None::<NodeId>);
    let hold_to = use_state(|| None::<NodeId>);
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let onmsg = &props.onmsg;
    let hold = hold_row(sim, &hold_from, &hold_to, onmsg);
    let rows = sim.groups().iter().map(|g| {
        let chips = g.nodes.iter().map(|&id| {
            let side = props.sides.get(&id).copied().unwrap_or(0);
            let onmsg = onmsg.clone();
            let onclick = Callback::from(move |_| onmsg.emit(Msg::CycleSide(id)));
            html! {
                <button type="button" class={classes!("chip", (side > 0).then(|| format!("g{side}")))}
                    data-testid={format!("part-{id}")} data-side={((b'A' + side) as char).to_string()}
                    title="click: next side (A, B, C)" {onclick}>
                    { format!("S{id}·{}", (b'A' + side) as char) }
                </button>
            }
        });
        let gid = g.id;
        let all = {
            let onmsg = onmsg.clone();
            Callback::from(move |_| onmsg.emit(Msg::GroupSide(gid)))
        };
        html! {
            <div class="part-row">
                <button type="button" class={classes!("gtag", format!("gc-{}", g.name))} onclick={all}
                    data-testid={format!("part-group-{}", g.name)} title="move the whole group to the next side">{ g.name.clone() }</button>
                { for chips }
            </div>
        }
    });
    let status = match sim.partition() {
        Some(p) => format!("partitioned into {} sides", p.len()),
        None if !sim.cut_links().is_empty() => format!("{} links cut", sim.cut_links().len()),
        None => "healthy".into(),
    };
    html! {
        <section class="panel network-panel" aria-label="network">
            <h2>{ "Network" }<span class="sub" data-testid="network-status">{ status }</span></h2>
            <div class="part-rows">{ for rows }</div>
            <div class="buttons">
                { button("partition", "Partition", "split the network into the picked sides", false, onmsg, || Msg::Partition) }
                { button("heal", "Heal", "remove partitions and cut links", false, onmsg, || Msg::Heal) }
            </div>
            { hold }
            { slider(html! { { format!("latency up to {} ms", props.latency) } }, "latency", [5, 300, 5],
                props.latency, Sends::AsItMoves, &onmsg.reform(Msg::SetLatency)) }
            { slider(html! { { format!("loss {}%", props.loss) } }, "loss", [0, 50, 1],
                props.loss, Sends::AsItMoves, &onmsg.reform(Msg::SetLoss)) }
        </section>
    }
}

/// An operation in words ("put apple=red"); with `max`, its key and value
/// cut to that many characters each.
fn op_text(op: &ClientOp, max: Option<usize>) -> String {
    let cut = |t: &str| match max {
        Some(max) => parts::shorten(t, max).into_owned(),
        None => t.to_string(),
    };
    match (&op.op, &op.value) {
        (KvOp::Put, Some(v)) => format!("put {}={}", cut(&op.key), cut(v)),
        (o, _) => format!("{} {}", op_word(o), cut(&op.key)),
    }
}

/// The most characters of a key or a value the client panel shows.
const SHOWN_CHARS: usize = 20;

/// What became of an operation, "… waiting" while in flight; with `max`,
/// a value read cut to about that many characters.
fn outcome(op: &ClientOp, max: Option<usize>) -> (&'static str, String) {
    parts::outcome(op, max).unwrap_or_else(|| ("pending", "… waiting".into()))
}

/// An operation and its outcome in words, cut as [`op_text`] and
/// [`outcome`] cut them.
fn op_words(op: &ClientOp, max: Option<usize>) -> String {
    format!("{} {}", op_text(op, max), outcome(op, max).1)
}

/// Where an operation went: its slot and the group of the last node tried.
fn route_text(sim: &ShardedSim, op: &ClientOp) -> String {
    let slot = slot_of(&op.key);
    let group = op.tried.last().and_then(|&n| sim.group_of(n));
    match (group, op.tried.last()) {
        (Some(g), Some(n)) => format!("slot {slot} → {} (S{n})", name(g)),
        _ => format!("slot {slot} → asking meta for the table"),
    }
}

#[derive(Properties, PartialEq)]
pub struct ClientPanelProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub last: Option<(u64, u64)>,
    pub onmsg: Callback<Msg>,
}

/// Put, get and delete through routing clients, and what became of them.
#[function_component(ClientPanel)]
pub fn client_panel(props: &ClientPanelProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let views = sim.clients();
    let onsend = props
        .onmsg
        .reform(|(op, key, value): (KvOp, String, String)| Msg::Client(op, key, Some(value)));
    let find = |(client, seq): (u64, u64)| {
        let v = views.iter().find(|v| v.id == client)?;
        v.current
            .iter()
            .chain(v.done.iter())
            .find(|op| op.seq == seq)
            .cloned()
            .map(|op| (v.target_group, op))
    };
    let (phase, text, full, route) = match props.last.map(find) {
        None => ("none", "—".to_string(), None, String::new()),
        Some(None) => ("none", "— (not in this branch)".into(), None, String::new()),
        Some(Some((target, op))) => {
            let phase = outcome(&op, None).0;
            let route = if op.phase.is_none() {
                match target {
                    Some(g) => format!("slot {} → {}", slot_of(&op.key), name(g)),
                    None => format!("slot {} → asking meta for the table", slot_of(&op.key)),
                }
            } else {
                route_text(sim, &op)
            };
            let text = op_words(&op, Some(SHOWN_CHARS));
            (phase, text, Some(op_words(&op, None)), route)
        }
    };
    let title = full.and_then(|whole| parts::full_title(&text, &whole));
    let mut recent: Vec<(u64, &ClientOp)> = views
        .iter()
        .flat_map(|v| v.done.iter().map(move |op| (v.id, op)))
        .collect();
    recent.sort_by_key(|(_, op)| std::cmp::Reverse((op.ended_at, op.invoked_at)));
    let recent = recent.into_iter().take(6).map(|(c, op)| {
        let cls = outcome(op, None).0;
        let shown = format!("c{c} {}", op_words(op, Some(SHOWN_CHARS)));
        let whole = format!("c{c} {}", op_words(op, None));
        html! {
            <li class={cls}>
                <span title={parts::full_title(&shown, &whole)}>{ shown.clone() }</span>
                <span class="route">{ format!("{} · {}–{} ms", route_text(sim, op), op.invoked_at, op.ended_at.unwrap_or(0)) }</span>
            </li>
        }
    });
    html! {
        <section class="panel client-panel" aria-label="clients">
            <h2>{ "Clients" }<span class="sub">{ "routed by slot" }</span></h2>
            <ClientForm start_key="apple" start_value="red" key_size={7} value_size={5} {onsend} />
            <p class={classes!("client-result", phase)} data-testid="client-result" data-phase={phase} {title}>
                { text }
                if !route.is_empty() { <span class="route" data-testid="client-route">{ route }</span> }
            </p>
            <ul class="recent">{ for recent }</ul>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct CheckerProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub ongoto: Callback<u64>,
}

/// The live checkers: one per group, and linearizability per key.
#[function_component(Checker)]
pub fn checker(props: &CheckerProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    // The per-key search runs only when some client operation changed.
    let key_state: Vec<(u64, u64, Option<ClientPhase>)> = sim
        .clients()
        .iter()
        .map(|c| {
            let op = c.current.as_ref().or(c.done.last());
            (
                c.id,
                op.map(|o| o.seq).unwrap_or(0),
                op.and_then(|o| o.phase),
            )
        })
        .collect();
    let keys = {
        let lab = props.lab.clone();
        use_memo((props.lab.clone(), key_state), move |_| {
            lab.0.borrow().sim().checker().linearizability()
        })
    };
    let violations = sim.violations();
    let groups = sim
        .groups()
        .iter()
        .map(|g| g.name.clone())
        .chain(std::iter::once("clients".to_string()))
        .map(|gname| {
            let mine: Vec<_> = violations.iter().filter(|v| v.group == gname).collect();
            let ok = mine.is_empty();
            let first = mine.first().map(|v| {
                let seq = v.violation.seq;
                let ongoto = props.ongoto.clone();
                let onclick = Callback::from(move |_| ongoto.emit(seq));
                html! {
                    <button type="button" class="linkish" {onclick}>
                        { format!("{} at #{seq}: {}", v.violation.rule, v.violation.message) }
                    </button>
                }
            });
            html! {
                <li class={if ok { "ok" } else { "bad" }} data-testid={format!("check-{gname}")}
                    data-ok={ok.to_string()}>
                    <span class={classes!("gtag", format!("gc-{gname}"))}>{ gname.clone() }</span>
                    { if ok { "✓ safe so far".to_string() } else { format!("✗ {} violation(s)", mine.len()) } }
                    { for first }
                </li>
            }
        });
    let key_items = keys.iter().take(12).map(|k| {
        let (class, word) = match &k.status {
            LinStatus::Linearizable => ("ok", "linearizable".to_string()),
            LinStatus::Violation { .. } => ("bad", "NOT linearizable".to_string()),
            LinStatus::Unknown { .. } => ("unknown", "undecided".to_string()),
        };
        let slot = slot_of(&k.key);
        html! {
            <li class={class} data-testid={format!("check-key-{}", k.key)} data-status={class}>
                <b>{ parts::clipped(&k.key, SHOWN_CHARS) }</b>
                { format!(" · slot {slot} · {} ops · {word}", k.ops) }
            </li>
        }
    });
    let safe = violations.is_empty();
    html! {
        <section class={classes!("panel", "checker-panel", if safe { "safe" } else { "unsafe" })} aria-label="checkers"
            data-testid="checker" data-safe={safe.to_string()}>
            <h2>{ "Checker" }<span class="sub">{ "every group's Raft rules, every key across moves" }</span></h2>
            <ul class="check-groups">{ for groups }</ul>
            if !keys.is_empty() {
                <h3>{ "keys" }</h3>
                <ul class="check-keys">{ for key_items }</ul>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct WalkPanelProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub walk: Rc<Result<Walkthrough, String>>,
    pub step: usize,
    pub since: u64,
    pub lookup: String,
    pub onmsg: Callback<Msg>,
}

/// The guided walkthrough: one step at a time, with its actions and what
/// to watch for.
#[function_component(WalkPanel)]
pub fn walk_panel(props: &WalkPanelProps) -> Html {
    let onmsg = &props.onmsg;
    let close = {
        let onmsg = onmsg.clone();
        let onclick = Callback::from(move |_| onmsg.emit(Msg::WalkOpen(false)));
        html! {
            <button type="button" class="close" data-testid="walk-close" title="close the walkthrough" {onclick}>{ "×" }</button>
        }
    };
    let w = match props.walk.as_ref() {
        Ok(w) => w,
        Err(e) => {
            return html! {
                <section class="panel walk-panel" data-testid="walkthrough">
                    <h2>{ "Walkthrough" }{ close }</h2>
                    <p class="hint">{ format!("The walkthrough could not be read: {e}") }</p>
                </section>
            }
        }
    };
    let n = props.step.min(w.steps.len().saturating_sub(1));
    let Some(step) = w.steps.get(n) else {
        return Html::default();
    };
    let done = {
        let lab = props.lab.0.borrow();
        step.wait.holds(lab.sim(), props.since, &props.lookup)
    };
    let dots = (0..w.steps.len()).map(|i| {
        let onmsg = onmsg.clone();
        let onclick = Callback::from(move |_| onmsg.emit(Msg::WalkGo(i)));
        html! {
            <button type="button" class={classes!("dot", (i == n).then_some("on"))} {onclick}
                title={w.steps[i].title.clone()} aria-label={format!("step {}", i + 1)}>{ (i + 1).to_string() }</button>
        }
    });
    let actions = step.actions.iter().enumerate().map(|(i, (label, _))| {
        button(
            &format!("walk-action-{i}"),
            label,
            label,
            false,
            onmsg,
            move || Msg::WalkDo(i),
        )
    });
    let last = n + 1 >= w.steps.len();
    html! {
        <section class="panel walk-panel" data-testid="walkthrough" aria-label="walkthrough">
            <h2>{ w.title.clone() }{ close }</h2>
            <div class="dots">{ for dots }</div>
            <div class="walk-step" data-testid="walk-step" data-step={(n + 1).to_string()} data-done={done.to_string()}>
                <h3>{ format!("{}. {}", n + 1, step.title) }</h3>
                { for step.text.iter().map(|p| html! { <p>{ p.clone() }</p> }) }
                <div class="buttons">{ for actions }</div>
                <p class={classes!("waitfor", done.then_some("met"))}>
                    { if done { format!("✓ {}", step.waiting) } else { format!("… waiting: {}", step.waiting) } }
                </p>
            </div>
            <div class="buttons walk-nav">
                { button("walk-prev", "◀ Previous", "previous step", n == 0, onmsg, move || Msg::WalkGo(n.saturating_sub(1))) }
                { button("walk-next", if last { "Done" } else { "Next ▶" }, "next step", last, onmsg, move || Msg::WalkGo(n + 1)) }
            </div>
        </section>
    }
}

/// Nodes that are down, for the header summary.
pub fn down_count(sim: &ShardedSim) -> usize {
    sim.nodes()
        .values()
        .filter(|n| matches!(n, ShardNode::Down(..)))
        .count()
}

#[derive(Properties, PartialEq)]
pub struct RunPanelProps {
    pub setup: ShardedSetup,
    pub onmsg: Callback<Msg>,
}

/// A fresh run: seed, KV groups, nodes per group.
#[function_component(RunPanel)]
pub fn run_panel(props: &RunPanelProps) -> Html {
    let seed = use_state(|| props.setup.seed.to_string());
    let groups = use_state(|| props.setup.cfg.kv_groups.to_string());
    let nodes = use_state(|| props.setup.cfg.nodes_per_group.to_string());
    let onreset = {
        let (seed, groups, nodes) = (seed.clone(), groups.clone(), nodes.clone());
        let base = props.setup.clone();
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| {
            let parsed = (
                seed.trim().parse::<u64>(),
                groups.trim().parse::<u32>(),
                nodes.trim().parse::<u64>(),
            );
            match parsed {
                (Ok(seed), Ok(kv_groups), Ok(nodes_per_group)) => {
                    let mut setup = base.clone();
                    setup.seed = seed;
                    setup.cfg.kv_groups = kv_groups;
                    setup.cfg.nodes_per_group = nodes_per_group;
                    onmsg.emit(Msg::Reset(setup));
                }
                _ => onmsg.emit(Msg::Problem(
                    "Seed, groups and nodes are whole numbers.".into(),
                )),
            }
        })
    };
    html! {
        <section class="panel run-panel" aria-label="new run">
            <h2>{ "New run" }</h2>
            <div class="client-form">
                <label>{ "seed" }<input type="text" data-testid="sharded-seed" value={(*seed).clone()} oninput={bind_text(&seed)} size="5" /></label>
                <label>{ "KV groups" }<input type="number" min="1" max="3" data-testid="sharded-groups" value={(*groups).clone()} oninput={bind_text(&groups)} /></label>
                <label>{ "nodes each" }<input type="number" min="1" max="9" data-testid="sharded-nodes" value={(*nodes).clone()} oninput={bind_text(&nodes)} /></label>
            </div>
            <div class="buttons">
                <button type="button" data-testid="reset" onclick={onreset}>{ "Start over" }</button>
            </div>
        </section>
    }
}
