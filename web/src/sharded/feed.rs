//! Sharded mode's event feed: what happened, newest first, each event
//! tagged with its group's name and colour. It lists the present (the
//! events up to the simulator's position), so stepping and rewinding move
//! it exactly. Clicking an event moves the clock to just after it and
//! selects its node in its ring.

use raftlab_core::meta::{MetaCommand, ShardCommand};
use raftlab_core::sim::sharded::{ShardedAction, ShardedEvent};
use raftlab_core::trace::{ClientPhase, EventKind};
use raftlab_core::types::{NodeId, Role};
use yew::prelude::*;

use super::op_word;
use super::state::{Msg, ShardedHandle};
use crate::components::form::select_value;
use crate::components::{feed, parts};
use raftlab_core::trace::describe::{self as narrate, Tone};

/// Most events listed.
const SHOWN: usize = 80;
/// Most events looked at to fill the list.
const SCANNED: usize = 8000;

/// The node an event is about, if one.
pub fn node_of(e: &ShardedEvent) -> Option<NodeId> {
    match &e.event.kind {
        EventKind::Action { action } => action["node"].as_u64().or_else(|| {
            action["to"]
                .as_u64()
                .filter(|_| action["kind"] == "transfer")
        }),
        kind => kind.node(),
    }
}

fn ids(list: &[NodeId]) -> String {
    list.iter()
        .map(|n| format!("S{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A sharded action in words.
fn action_words(a: &ShardedAction) -> String {
    let g = |g: u32| super::lab::name(g);
    match a {
        ShardedAction::AddLearner { group, node } => {
            format!("add a new node S{node} to {} as a learner", g(*group))
        }
        ShardedAction::AddVoter { group, node } => {
            format!("make S{node} a voter of {}", g(*group))
        }
        ShardedAction::Remove { node } => format!("remove S{node} from its group"),
        ShardedAction::Joint { group, voters } => format!(
            "change {}'s voters to {} (joint consensus)",
            g(*group),
            ids(voters)
        ),
        ShardedAction::MoveSlot { slot, to } => format!("move slot {slot} to {}", g(*to)),
        ShardedAction::Crash { node } => format!("crash S{node}"),
        ShardedAction::Restart { node } => format!("restart S{node}"),
        ShardedAction::Timeout { node } => format!("fire S{node}'s election timeout"),
        ShardedAction::Transfer { to } => format!("hand leadership to S{to}"),
        ShardedAction::Snapshot { node } => format!("snapshot S{node}"),
        ShardedAction::Partition { groups } => format!(
            "partition the network: {}",
            groups
                .iter()
                .map(|s| format!("[{}]", ids(s)))
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        ShardedAction::Heal => "heal the network".into(),
        ShardedAction::Cut { from, to } => format!("cut the link S{from} → S{to}"),
        ShardedAction::Restore { from, to } => format!("restore the link S{from} → S{to}"),
        ShardedAction::Client {
            client,
            op,
            key,
            value,
        } => match value {
            Some(v) => format!("client {client}: {} {key}={v}", op_word(op)),
            None => format!("client {client}: {} {key}", op_word(op)),
        },
        ShardedAction::DropMessage { id } => format!("lose message #{id}"),
        ShardedAction::Hold { from, to } => {
            format!("hold the link S{from} → S{to} (its messages wait)")
        }
        ShardedAction::Release { from, to } => {
            format!("release the link S{from} → S{to} (what waited arrives, oldest first)")
        }
        ShardedAction::Calm { ms } => format!(
            "calm for {:.1} s: heal the network, no loss, restart every crashed server",
            *ms as f64 / 1000.0
        ),
        ShardedAction::Network { .. } => "change the network settings".into(),
    }
}

/// A log entry of a sharded run in words (meta or shard commands).
fn entry_words(data: &str) -> Option<String> {
    if let Ok(c) = MetaCommand::decode(data.as_bytes()) {
        return Some(match c {
            MetaCommand::Join { group, members, .. } => format!(
                "record {}'s members: {}",
                super::lab::name(group),
                ids(&members)
            ),
            MetaCommand::Leave { group } => format!("{} leaves", super::lab::name(group)),
            MetaCommand::MoveSlot { slot, to, .. } => {
                format!("record slot {slot} → {}", super::lab::name(to))
            }
            MetaCommand::QueryShards | MetaCommand::QueryMembers => "query".into(),
        });
    }
    match ShardCommand::decode(data.as_bytes()).ok()? {
        ShardCommand::Kv(c) => Some(match c.value {
            Some(v) => format!("{} {}={v}", op_word(&c.op), c.key),
            None => format!("{} {}", op_word(&c.op), c.key),
        }),
        ShardCommand::Freeze { slot, .. } => Some(format!("freeze slot {slot}")),
        ShardCommand::Import { slot, data, .. } => {
            Some(format!("import slot {slot} ({} keys)", data.len()))
        }
        ShardCommand::DropSlot { slot, .. } => Some(format!("drop slot {slot}")),
    }
}

/// Whether the feed lists an event, and how it says it. Traffic is never
/// listed (the rings show it); log events only when asked.
fn describe(e: &ShardedEvent, log: bool) -> Option<(Tone, String)> {
    let never = |_: u64| None;
    match &e.event.kind {
        EventKind::Send { .. } | EventKind::Deliver { .. } | EventKind::Drop { .. } => None,
        EventKind::Action { action } => {
            let text = serde_json::from_value::<ShardedAction>(action.clone())
                .map(|a| action_words(&a))
                .unwrap_or_else(|_| action.to_string());
            Some((Tone::User, format!("you: {text}")))
        }
        EventKind::Append {
            node, index, data, ..
        } => {
            let words = entry_words(data)?;
            // Membership and migration entries are shown at the leader
            // that appended them; the rest only with the log filter.
            let notable = words.starts_with("record")
                || words.starts_with("freeze")
                || words.starts_with("import")
                || words.starts_with("drop slot");
            (log || notable).then(|| (Tone::Log, format!("S{node} appends #{index}: {words}")))
        }
        EventKind::Vote { .. } | EventKind::Commit { .. } | EventKind::Apply { .. } => {
            if !log {
                return None;
            }
            Some(narrate::narrate(&e.event, never))
        }
        EventKind::Role { role, .. } if !log && *role == Role::Follower => {
            // Stepping down says why (a removed leader, a higher term).
            let (tone, text) = narrate::narrate(&e.event, never);
            text.contains("§4.2.2").then_some((tone, text))
        }
        EventKind::Client { phase, .. } if *phase == ClientPhase::Invoke => None,
        _ => Some(narrate::narrate(&e.event, never)),
    }
}

#[derive(Properties, PartialEq)]
pub struct FeedProps {
    pub lab: ShardedHandle,
    pub version: u64,
    pub picked: Option<u64>,
    pub log: bool,
    pub group: String,
    pub onmsg: Callback<Msg>,
}

/// What happened, newest first, per group.
#[function_component(ShardedFeed)]
pub fn sharded_feed(props: &FeedProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let past = &sim.events()[..sim.position() as usize];
    let mut items = Vec::new();
    for e in past.iter().rev().take(SCANNED) {
        if items.len() >= SHOWN {
            break;
        }
        if !props.group.is_empty() && e.group != props.group && e.group != "all" {
            continue;
        }
        let Some((tone, text)) = describe(e, props.log) else {
            continue;
        };
        // A sentence quoting a long key or value is shown cut, whole on hover.
        let shown = parts::feed_text(&text);
        let seq = e.event.seq;
        let node = node_of(e);
        let onclick = {
            let onmsg = props.onmsg.clone();
            Callback::from(move |_| onmsg.emit(Msg::PickEvent(seq, node)))
        };
        let linked = props.picked == Some(seq);
        items.push(html! {
            <li key={seq.to_string()} class={classes!("ev", feed::tone_class(tone), linked.then_some("linked"))}
                data-linked={linked.then_some("true")}>
                <button type="button" data-testid={format!("event-{seq}")} data-group={e.group.clone()}
                    data-node={node.map(|n| n.to_string())} {onclick} title="go to this moment and select its node">
                    <span class={classes!("gtag", format!("gc-{}", e.group))}>{ e.group.clone() }</span>
                    <span class="ev-time">{ format!("{} ms", e.event.time) }</span>
                    <span class="ev-seq">{ format!("#{seq}") }</span>
                    <span class="ev-text" title={parts::full_title(&shown, &text)}>{ shown.to_string() }</span>
                </button>
            </li>
        });
    }
    let ahead = sim.events().len() as u64 - sim.position();
    let ongroup = props
        .onmsg
        .reform(|e: Event| Msg::FeedGroup(select_value(&e)));
    let options = sim.groups().iter().map(|g| {
        html! { <option value={g.name.clone()} selected={props.group == g.name}>{ g.name.clone() }</option> }
    });
    html! {
        <section class="panel feed-panel sharded-feed" aria-label="event feed">
            <h2>{ "What happened" }<span class="sub">{ "every group; click one to go there" }</span></h2>
            <div class="feed-filters">
                <label>{ "group " }
                    <select data-testid="feed-group" onchange={ongroup}>
                        <option value="" selected={props.group.is_empty()}>{ "all" }</option>
                        <option value="clients" selected={props.group == "clients"}>{ "clients" }</option>
                        { for options }
                    </select>
                </label>
                { feed::filter("feed-log", " log, votes, commits", props.log, &props.onmsg.reform(Msg::FeedLog)) }
            </div>
            { feed::events(ahead, items) }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raftlab_core::sim::sharded::{ShardedConfig, ShardedSim};

    #[test]
    fn membership_changes_and_stepping_down_are_told_per_group() {
        let mut sim = ShardedSim::new(4, ShardedConfig::default()).unwrap();
        sim.run_until(1500);
        sim.act(ShardedAction::AddLearner { group: 1, node: 14 })
            .unwrap();
        sim.run_until(2000);
        let leader = sim.leader(1).unwrap();
        sim.act(ShardedAction::Remove { node: leader }).unwrap();
        sim.run_until(3500);
        let told: Vec<(String, String)> = sim
            .events()
            .iter()
            .filter_map(|e| describe(e, false).map(|(_, t)| (e.group.clone(), t)))
            .collect();
        let has = |g: &str, needle: &str| told.iter().any(|(x, t)| x == g && t.contains(needle));
        assert!(
            has("g1", "add a new node S14 to g1 as a learner"),
            "{told:#?}"
        );
        assert!(has("g1", &format!("remove S{leader}")), "{told:#?}");
        assert!(
            has("g1", "§4.2.2"),
            "the old leader stepping down: {told:#?}"
        );
        assert!(has("meta", "record g1's members"), "{told:#?}");
        // No traffic, and the removed leader's event names its node.
        assert!(!told.iter().any(|(_, t)| t.contains("sends")));
        let remove = sim
            .events()
            .iter()
            .find(|e| matches!(&e.event.kind, EventKind::Action { action } if action["kind"] == "remove"))
            .unwrap();
        assert_eq!(node_of(remove), Some(leader));
    }
}
