//! Breakpoints: pause the clock at the very event when a node becomes
//! candidate or leader, an index commits, a term changes, a snapshot
//! completes, or the checker finds a violation.

use raftlab_core::lesson::Breakpoint;
use raftlab_core::types::NodeId;
use yew::prelude::*;

use super::form::select_value;
use crate::state::{BreakpointMsg, Msg, ViewMsg};

#[derive(Properties, PartialEq)]
pub struct BreakpointsProps {
    /// The breakpoints set, in the order they were added.
    pub list: Vec<Breakpoint>,
    /// The nodes a breakpoint may be about.
    pub nodes: Vec<NodeId>,
    pub onmsg: Callback<Msg>,
}

const KINDS: [(&str, &str); 6] = [
    ("leader", "becomes leader"),
    ("candidate", "becomes candidate"),
    ("commit", "commits index…"),
    ("term", "changes term"),
    ("snapshot", "completes a snapshot"),
    ("violation", "breaks a safety rule"),
];

fn build(kind: &str, node: Option<NodeId>, index: Option<u64>) -> Option<Breakpoint> {
    Some(match kind {
        "leader" => Breakpoint::Leader { node },
        "candidate" => Breakpoint::Candidate { node },
        "commit" => Breakpoint::Commit { index, node },
        "term" => Breakpoint::Term { node, above: 0 },
        "snapshot" => Breakpoint::Snapshot { node, source: None },
        "violation" => Breakpoint::Violation { rule: None },
        _ => return None,
    })
}

#[function_component(Breakpoints)]
pub fn breakpoints(props: &BreakpointsProps) -> Html {
    let kind = use_state(|| "leader".to_string());
    let node = use_state(String::new);
    let index = use_state(String::new);
    let list = &props.list;
    let ids = &props.nodes;

    let onkind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| kind.set(select_value(&e)))
    };
    let onnode = {
        let node = node.clone();
        Callback::from(move |e: Event| node.set(select_value(&e)))
    };
    let onindex = {
        let index = index.clone();
        Callback::from(move |e: InputEvent| {
            let v = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            index.set(v);
        })
    };
    let onadd = {
        let (kind, node, index) = (kind.clone(), node.clone(), index.clone());
        let onmsg = props.onmsg.clone();
        Callback::from(move |_| {
            let n = node.parse::<NodeId>().ok();
            let i = index.trim();
            let i = if i.is_empty() {
                None
            } else {
                match i.parse::<u64>() {
                    Ok(v) if v > 0 => Some(v),
                    _ => {
                        onmsg.emit(Msg::View(ViewMsg::Problem(format!(
                            "A breakpoint's index is a whole number from 1, not {i:?}."
                        ))));
                        return;
                    }
                }
            };
            if let Some(bp) = build(&kind, n, i) {
                onmsg.emit(Msg::Breakpoint(BreakpointMsg::Add(bp)));
            }
        })
    };
    let items = list.iter().enumerate().map(|(i, bp)| {
        let onmsg = props.onmsg.clone();
        let onclick = Callback::from(move |_| onmsg.emit(Msg::Breakpoint(BreakpointMsg::Remove(i))));
        html! {
            <li data-testid={format!("breakpoint-{i}")}>
                <span class="bp-dot" aria-hidden="true" />
                { format!("Pause when {}", bp.describe()) }
                <button type="button" class="close" data-testid={format!("breakpoint-remove-{i}")} {onclick}
                    title="remove this breakpoint">{ "×" }</button>
            </li>
        }
    });
    let needs_node = *kind != "violation";
    html! {
        <section class="panel breakpoints" data-testid="breakpoints" data-count={list.len().to_string()} aria-label="breakpoints">
            <h2>{ "Breakpoints" }</h2>
            <div class="bp-form">
                <span>{ "Pause when" }</span>
                if needs_node {
                    <select data-testid="breakpoint-node" onchange={onnode} aria-label="which node">
                        <option value="" selected={node.is_empty()}>{ "any node" }</option>
                        { for ids.iter().map(|id| html! { <option value={id.to_string()} selected={*node == id.to_string()}>{ format!("S{id}") }</option> }) }
                    </select>
                }
                <select data-testid="breakpoint-kind" onchange={onkind} aria-label="what happens">
                    { for KINDS.iter().map(|(v, label)| html! { <option value={*v} selected={*kind == *v}>{ *label }</option> }) }
                </select>
                if *kind == "commit" {
                    <input type="text" inputmode="numeric" size="4" placeholder="any" data-testid="breakpoint-index"
                        value={(*index).clone()} oninput={onindex} aria-label="index" />
                }
                <button type="button" data-testid="breakpoint-add" onclick={onadd}>{ "Add" }</button>
            </div>
            if list.is_empty() {
                <p class="hint">{ "No breakpoints: the clock runs until you pause it." }</p>
            } else {
                <ul class="bp-list">{ for items }</ul>
            }
        </section>
    }
}
