//! The logs: one row per node, one column per index. Each entry is coloured
//! by its term and marked with its kind; uncommitted entries are dashed;
//! the snapshot base is shaded; the commit and applied positions and the
//! leader's next/match index for each follower are marked.

use raftlab_core::raft::ReplicaState;
use raftlab_core::types::{EntryKind, Index, NodeId, Role};
use yew::prelude::*;

use super::parts;
use crate::model;
use crate::state::LabHandle;
use crate::vocab::Selection;
use raftlab_core::trace::describe as narrate;

/// Most columns drawn; older ones are summarised.
const MAX_COLUMNS: u64 = 160;

#[derive(Properties, PartialEq)]
pub struct LogsProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from (`UiState::rev` when its panel
    /// group was last refreshed): it is redrawn when that changes.
    pub rev: u64,
    pub selected: Option<NodeId>,
    pub onselect: Callback<Option<NodeId>>,
    /// Log indexes the lesson draws attention to.
    #[prop_or_default]
    pub highlight: Vec<Index>,
    /// The message or event picked in any view.
    #[prop_or_default]
    pub linked: Option<Selection>,
    /// Clicking an entry picks the event that wrote it.
    #[prop_or_default]
    pub onpick: Callback<Option<Selection>>,
}

/// The CSS class that colours term `t` (eight hues, repeating).
pub fn term_class(t: u64) -> String {
    format!("t{}", t % 8)
}

fn kind_mark(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Normal => "",
        EntryKind::NoOp => "∅",
        EntryKind::JoinNoVoteNode | EntryKind::JoinNode | EntryKind::LeaveNode => "⚙",
        EntryKind::JointEnter | EntryKind::JointLeave => "⚙⚙",
    }
}

fn short_label(kind: EntryKind, data: &[u8]) -> String {
    let full = narrate::entry_label(kind, data);
    match kind {
        EntryKind::NoOp => "no-op".into(),
        EntryKind::Normal => parts::shorten(&full, 12).into_owned(),
        EntryKind::JoinNoVoteNode => full.replace("+learner ", "+L "),
        EntryKind::JoinNode => full.replace("+voter ", "+V "),
        EntryKind::LeaveNode => full.replace("remove ", "−"),
        EntryKind::JointEnter => "joint".into(),
        EntryKind::JointLeave => "leave jt".into(),
    }
}

#[function_component(Logs)]
pub fn logs(props: &LogsProps) -> Html {
    let scroller = use_node_ref();
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let leader = sim.leader().and_then(|l| sim.server(l));
    let hi: Index = sim
        .nodes()
        .values()
        .map(|n| model::log_bounds(n).2)
        .max()
        .unwrap_or(0)
        + 1;
    let lo: Index = hi.saturating_sub(MAX_COLUMNS - 1).max(1);

    {
        // Keep the newest entries in view as the logs grow.
        let scroller = scroller.clone();
        use_effect_with(hi, move |_| {
            if let Some(el) = scroller.cast::<web_sys::Element>() {
                el.set_scroll_left(el.scroll_width());
            }
        });
    }

    let linked_cells: Vec<(NodeId, Index)> = match props.linked {
        Some(Selection::Event(seq)) => sim.event(seq).map(Selection::cells).unwrap_or_default(),
        Some(Selection::Message(id)) => lab.send_of(id).map(Selection::cells).unwrap_or_default(),
        None => Vec::new(),
    };
    let header = (lo..=hi).map(|i| {
        html! { <th scope="col" class={classes!("idx", props.highlight.contains(&i).then_some("hl"))}>{ i }</th> }
    });
    let rows = sim.nodes().iter().map(|(&id, node)| {
        let server = model::up(node);
        let (base, base_term, last) = model::log_bounds(node);
        let commit = server.map(|s| s.commit_idx()).unwrap_or(0);
        let applied = server.map(|s| s.last_applied_idx()).unwrap_or(0);
        let progress = leader
            .filter(|l| l.id() != id)
            .and_then(|l| l.progress().get(&id));
        let (next, matched) = progress
            .map(|p| (Some(p.next_index), Some(p.match_index)))
            .unwrap_or((None, None));
        let is_leader = server.is_some_and(|s| s.state() == Role::Leader);
        let cells = (lo..=hi).map(|i| {
            let mut marks = Vec::new();
            if next == Some(i) {
                marks.push(html! { <span class="mk next" title="leader's next_index for this follower">{ "next▸" }</span> });
            }
            if i <= base {
                let class = classes!("cell", "compacted", (i == base).then_some("base-edge"));
                return html! {
                    <td class={class} title={format!("compacted into the snapshot (base {base}, term {base_term})")}>
                        if i == base { <span class="snapmark">{ format!("snap ≤{base}") }</span> }
                        { for marks }
                    </td>
                };
            }
            match model::entry_at(node, i) {
                Some(e) => {
                    let committed = i <= commit;
                    let linked = linked_cells.contains(&(id, i));
                    let class = classes!(
                        "cell",
                        "entry",
                        term_class(e.term),
                        props.highlight.contains(&i).then_some("hl"),
                        linked.then_some("linked"),
                        (!committed).then_some("uncommitted"),
                        (i == commit).then_some("commit-edge"),
                        (i <= applied).then_some("applied"),
                        (matched == Some(i)).then_some("matched"),
                        e.kind.is_membership().then_some("membership"),
                    );
                    let label = short_label(e.kind, &e.data);
                    let title = format!(
                        "S{id} entry {i}, term {}: {}{}",
                        e.term,
                        narrate::entry_label(e.kind, &e.data),
                        if committed { " (committed)" } else { " (not committed)" }
                    );
                    let onclick = {
                        let onpick = props.onpick.clone();
                        let lab = props.lab.clone();
                        Callback::from(move |_| {
                            // The event that wrote this entry, latest first.
                            let seq = lab.0.borrow().past().iter().rev().find(|e| {
                                matches!(e.kind, raftlab_core::trace::EventKind::Append { node, index, .. } if node == id && index == i)
                            }).map(|e| e.seq);
                            onpick.emit(if linked { None } else { seq.map(Selection::Event) });
                        })
                    };
                    html! {
                        <td class={class} title={title} {onclick}
                            data-linked={linked.then_some("true")}
                            data-testid={format!("log-{id}-{i}")}
                            data-term={e.term.to_string()}
                            data-committed={committed.to_string()}
                            data-kind={e.kind.as_str()}>
                            <span class="et">{ e.term }{ kind_mark(e.kind) }</span>
                            <span class="el">{ label }</span>
                            { for marks }
                        </td>
                    }
                }
                None => {
                    let class = classes!("cell", "empty", (i == last + 1).then_some("tail"));
                    html! { <td class={class}>{ for marks }</td> }
                }
            }
        });
        let onclick = {
            let onselect = props.onselect.clone();
            Callback::from(move |_| onselect.emit(Some(id)))
        };
        let snap = match progress.map(|p| &p.state) {
            Some(ReplicaState::Snapshot { offset, total, .. }) => {
                format!(" · snapshot {offset}/{total} B")
            }
            _ => String::new(),
        };
        let who = html! {
            <th scope="row" class={classes!("who", (props.selected == Some(id)).then_some("selected"))} {onclick}>
                <span class="who-name">{ format!("S{id}") }{ if is_leader { " ♛" } else if server.is_none() { " ✝" } else { "" } }</span>
                <span class="who-sub">
                    { format!("commit {commit} · applied {applied}") }
                    if let (Some(n), Some(m)) = (next, matched) {
                        <br />{ format!("next {n} · match {m}{snap}") }
                    }
                </span>
            </th>
        };
        html! {
            <tr key={id.to_string()} class={classes!(server.is_none().then_some("down"))}
                data-testid={format!("log-row-{id}")}
                data-base={base.to_string()} data-last={last.to_string()}
                data-commit={commit.to_string()} data-applied={applied.to_string()}>
                { who }
                { for cells }
            </tr>
        }
    });
    let older = (lo > 1).then(|| {
        html! { <p class="older">{ format!("Entries before index {lo} are not drawn.") }</p> }
    });
    html! {
        <section class="panel logs-panel" aria-label="logs">
            <h2>{ "Logs" }
                <span class="legend">
                    <span class="lg solid">{ "committed" }</span>
                    <span class="lg dashed">{ "not committed" }</span>
                    <span class="lg edge">{ "commit index" }</span>
                    <span class="lg applied-dot">{ "applied" }</span>
                    <span class="lg matchbar">{ "leader's match" }</span>
                    <span class="lg snapcell">{ "snapshot" }</span>
                    <span>{ "∅ no-op · ⚙ membership" }</span>
                </span>
            </h2>
            { for older }
            <div class="logs-scroll" ref={scroller} data-testid="logs">
                <table class="logs">
                    <thead><tr><th class="corner">{ "index" }</th>{ for header }</tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        </section>
    }
}
