//! The node inspector: every field of the paper's Figure 2 for the selected
//! node, its configuration, snapshots, key-value store and latest messages.

use std::collections::BTreeSet;

use raftlab_core::raft::ReplicaState;
use raftlab_core::storage::Storage;
use raftlab_core::trace::DropReason;
use raftlab_core::types::{NodeId, Role, NO_NODE};
use yew::prelude::*;

use crate::model;
use crate::state::LabHandle;

pub mod messages;

use messages::Fate;

/// Events looked back through for a node's latest messages.
const LOOK_BACK: usize = 4000;
/// Messages listed each way, newest first.
const LAST_MESSAGES: usize = 5;

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    /// Simulated ms when last drawn (its timers run between events).
    #[prop_or_default]
    pub now: u64,
    pub selected: Option<NodeId>,
    pub onclose: Callback<()>,
}

fn set(s: &BTreeSet<NodeId>) -> String {
    if s.is_empty() {
        "—".into()
    } else {
        s.iter()
            .map(|n| format!("S{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A sent message's row: when, to whom, what, and its fate so far.
fn out_row(m: &messages::Out) -> Html {
    let reason = match m.fate {
        Fate::Dropped { reason, .. } => Some(drop_key(reason)),
        _ => None,
    };
    html! {
        <li data-testid="inspector-out-row" data-id={m.id.to_string()} data-peer={m.to.to_string()}
            data-time={m.time.to_string()} data-fate={m.fate.key()}
            data-at={m.fate.at().map(|t| t.to_string())} data-reason={reason}>
            <span class="msg-head">{ format!("{} ms → S{} · term {}", m.time, m.to, m.term) }</span>
            { " " }<span class="msg-what">{ m.what.clone() }</span>
            <span class={classes!("msg-fate", m.fate.key())}>{ m.fate.words(m.to) }</span>
        </li>
    }
}

/// A delivered message's row: when it arrived, from whom, what, and what
/// the node made of it.
fn in_row(m: &messages::In) -> Html {
    html! {
        <li data-testid="inspector-in-row" data-id={m.id.to_string()} data-peer={m.from.to_string()}
            data-time={m.time.to_string()} data-fate="delivered" data-outcome={m.outcome.key()}>
            <span class="msg-head">{ format!("{} ms ← S{} · term {}", m.time, m.from, m.term) }</span>
            { " " }<span class="msg-what">{ m.what.clone() }</span>
            <span class={classes!("msg-fate", m.outcome.key())}>{ m.outcome.words() }</span>
        </li>
    }
}

/// A drop reason's name as the trace writes it (`data-reason`).
fn drop_key(why: DropReason) -> &'static str {
    match why {
        DropReason::Partition => "partition",
        DropReason::Loss => "loss",
        DropReason::Crashed => "crashed",
    }
}

fn row(name: &str, value: String) -> Html {
    html! { <tr><th scope="row">{ name.to_string() }</th><td>{ value }</td></tr> }
}

#[function_component(Inspector)]
pub fn inspector(props: &InspectorProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let Some((id, node)) = model::selected(sim, props.selected) else {
        return html! {
            <section class="panel inspector empty" data-testid="inspector" aria-label="node inspector">
                <h2>{ "Inspector" }</h2>
                <p class="hint">{ "Click a node in the cluster (or press 1–9) to see its Raft state: every field of Figure 2, its configuration, snapshot and key-value store." }</p>
            </section>
        };
    };
    let onclose = {
        let cb = props.onclose.clone();
        Callback::from(move |_| cb.emit(()))
    };
    let server = model::up(node);
    let (base, base_term, last) = model::log_bounds(node);
    let term = model::term_of(node);
    let vote = model::vote_of(node);
    let vote = if vote == NO_NODE {
        "nobody".to_string()
    } else {
        format!("S{vote}")
    };

    let persistent = vec![
        row("currentTerm", term.to_string()),
        row("votedFor", vote),
        row(
            "log[]",
            if last > base {
                format!("entries {}..={last} (last term {})", base + 1, {
                    model::entry_at(node, last)
                        .map(|e| e.term)
                        .unwrap_or(base_term)
                })
            } else {
                "empty".into()
            },
        ),
        row(
            "snapshot base",
            if base > 0 {
                format!("index {base}, term {base_term}")
            } else {
                "none".into()
            },
        ),
    ];
    let mut volatile = Vec::new();
    let mut leader_rows = Vec::new();
    let mut extra = Vec::new();
    match server {
        None => volatile.push(row(
            "state",
            "crashed: commitIndex, lastApplied and the state machine are lost until it restarts"
                .into(),
        )),
        Some(s) => {
            volatile.push(row("state", s.state().as_str().into()));
            volatile.push(row("commitIndex", s.commit_idx().to_string()));
            volatile.push(row(
                "lastApplied",
                format!("{} (term {})", s.last_applied_idx(), s.last_applied_term()),
            ));
            volatile.push(row(
                "leader known",
                s.leader_id()
                    .map(|l| format!("S{l}"))
                    .unwrap_or_else(|| "none".into()),
            ));
            let (elapsed, timeout) = s.election_timer();
            if s.state() == Role::Leader {
                volatile.push(row(
                    "heartbeat",
                    format!(
                        "{} / {} ms since the last round",
                        s.heartbeat_elapsed(),
                        s.settings().heartbeat_interval
                    ),
                ));
            } else {
                volatile.push(row(
                    "election timer",
                    format!("{elapsed} of {timeout} ms elapsed"),
                ));
            }
            if matches!(s.state(), Role::Candidate | Role::PreCandidate) {
                let granted: BTreeSet<NodeId> = s
                    .votes()
                    .iter()
                    .filter(|(_, g)| **g)
                    .map(|(n, _)| *n)
                    .collect();
                let refused: BTreeSet<NodeId> = s
                    .votes()
                    .iter()
                    .filter(|(_, g)| !**g)
                    .map(|(n, _)| *n)
                    .collect();
                volatile.push(row(
                    "votes",
                    format!("granted {} · refused {}", set(&granted), set(&refused)),
                ));
            }
            if s.state() == Role::Leader {
                let by: BTreeSet<NodeId> = s.elected_by().iter().copied().collect();
                volatile.push(row("elected by", set(&by)));
                for (peer, p) in s.progress() {
                    let mode = match &p.state {
                        ReplicaState::Probe => "probe".to_string(),
                        ReplicaState::Replicate => "replicate".to_string(),
                        ReplicaState::Snapshot {
                            index,
                            offset,
                            total,
                            ..
                        } => format!("snapshot ≤{index}: {offset} of {total} bytes"),
                    };
                    leader_rows.push(html! {
                        <tr>
                            <th scope="row">{ format!("S{peer}") }</th>
                            <td>{ p.next_index }</td>
                            <td>{ p.match_index }</td>
                            <td>{ mode }</td>
                            <td>{ p.inflight.len() }</td>
                        </tr>
                    });
                }
                if let Some((to, ticks)) = s.transfer_target() {
                    volatile.push(row(
                        "transfer",
                        format!("handing over to S{to} ({ticks} ms so far)"),
                    ));
                }
                if !s.pending_reads().is_empty() {
                    volatile.push(row(
                        "ReadIndex",
                        s.pending_reads()
                            .iter()
                            .map(|r| {
                                format!(
                                    "read at {}{}",
                                    r.index,
                                    if r.confirmed {
                                        " (confirmed)"
                                    } else {
                                        " (confirming leadership)"
                                    }
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    ));
                }
            }
            let cfg = s.config();
            extra.push(row("voters", set(&cfg.voters)));
            if cfg.is_joint() {
                extra.push(row("old voters (joint)", set(&cfg.outgoing)));
            }
            extra.push(row("learners", set(&cfg.learners)));
            extra.push(row("config entry", s.config_index().to_string()));
            if let Some(snap) = s.storage().load_snapshot() {
                extra.push(row(
                    "snapshot held",
                    format!(
                        "up to {} (term {}), {} bytes",
                        snap.index,
                        snap.term,
                        snap.data.len()
                    ),
                ));
            }
            if let Some((idx, t, bytes)) = s.incoming_snapshot() {
                let total = model::snapshot_total(sim, id);
                extra.push(row(
                    "receiving snapshot",
                    match total {
                        Some(total) => format!("≤{idx} (term {t}): {bytes} of {total} bytes"),
                        None => format!("≤{idx} (term {t}): {bytes} bytes so far"),
                    },
                ));
            }
        }
    }

    let kv = server.map(|s| {
        let data = &s.state_machine().data;
        if data.is_empty() {
            html! { <p class="hint">{ "The key-value store is empty." }</p> }
        } else {
            html! {
                <table class="kv" data-testid="kv">
                    <thead><tr><th>{ "key" }</th><th>{ "value" }</th></tr></thead>
                    <tbody>
                        { for data.iter().map(|(k, v)| html! { <tr><td title={k.clone()}>{ k }</td><td title={v.clone()}>{ v }</td></tr> }) }
                    </tbody>
                </table>
            }
        }
    });

    // Latest messages in and out, as of the present.
    let msgs = messages::latest(id, lab.past(), |m| lab.send_of(m), LAST_MESSAGES, LOOK_BACK);
    let none = || html! { <p class="hint">{ "none in the recent events" }</p> };
    let out_list = if msgs.sent.is_empty() {
        none()
    } else {
        html! {
            <ol class="msgs" data-testid="inspector-out" aria-labelledby="inspector-out-title">
                { for msgs.sent.iter().map(out_row) }
            </ol>
        }
    };
    let in_list = if msgs.received.is_empty() {
        none()
    } else {
        html! {
            <ol class="msgs" data-testid="inspector-in" aria-labelledby="inspector-in-title">
                { for msgs.received.iter().map(in_row) }
            </ol>
        }
    };

    let title = match server {
        Some(s) => format!("S{id} · {} · term {term}", s.state().as_str()),
        None => format!("S{id} · crashed · term {term}"),
    };
    html! {
        <section class="panel inspector" data-testid="inspector" data-node={id.to_string()} aria-label="node inspector">
            <h2>{ title }
                <button type="button" class="close" onclick={onclose} title="close (Esc)">{ "×" }</button>
            </h2>
            <h3>{ "Persistent state" }</h3>
            <table class="fields">{ for persistent }</table>
            <h3>{ "Volatile state" }</h3>
            <table class="fields">{ for volatile }</table>
            if !leader_rows.is_empty() {
                <h3>{ "Leader state" }</h3>
                <table class="fields progress">
                    <thead><tr><th>{ "peer" }</th><th>{ "nextIndex" }</th><th>{ "matchIndex" }</th><th>{ "mode" }</th><th>{ "in flight" }</th></tr></thead>
                    <tbody>{ for leader_rows }</tbody>
                </table>
            }
            if !extra.is_empty() {
                <h3>{ "Configuration and snapshot" }</h3>
                <table class="fields">{ for extra }</table>
            }
            if let Some(kv) = kv {
                <h3>{ "Key-value store" }</h3>
                { kv }
            }
            <h3 id="inspector-out-title">{ "Last messages out" }</h3>
            { out_list }
            <h3 id="inspector-in-title">{ "Last messages in (delivered)" }</h3>
            { in_list }
        </section>
    }
}
