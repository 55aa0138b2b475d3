//! For keyboards and screen readers (issue 20): skip links, the spoken
//! narration of each step, and the ring as a table of words.

use raftlab_core::sim::SimNode;
use raftlab_core::trace::describe as narrate;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::caption::newest_event;
use crate::model::{self, Standing};
use crate::state::LabHandle;

/// While the clock plays, at most one announcement per this many wall
/// milliseconds: a screen reader cannot read faster than events happen.
const ANNOUNCE_EVERY_MS: f64 = 5000.0;

/// Moves the focus to the first element matching one of `selectors` (made
/// focusable for the purpose), so the next Tab goes on from there.
fn focus_first(selectors: &[&str]) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let found = selectors
        .iter()
        .find_map(|s| doc.query_selector(s).ok().flatten());
    if let Some(el) = found.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        if !el.has_attribute("tabindex") {
            let _ = el.set_attribute("tabindex", "-1");
        }
        let _ = el.focus();
    }
}

/// The first stops of the Tab order, shown only when focused: past the
/// masthead and the controls to the cluster, the lesson and the feed. They
/// move the focus themselves rather than change the address (the page's
/// fragment holds shared runs).
#[function_component(SkipLinks)]
pub fn skip_links() -> Html {
    let link = |testid: &'static str, text: &'static str, targets: &'static [&'static str]| {
        let onclick = Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            focus_first(targets);
        });
        html! { <a href="#" class="skip-link" data-testid={testid} {onclick}>{ text }</a> }
    };
    html! {
        <nav class="skip-links" aria-label="skip links">
            { link("skip-cluster", "Skip to the cluster", &[".col.stage"]) }
            // Without a lesson running, its picker.
            { link("skip-lesson", "Skip to the lesson", &["[data-testid=lesson]", "[data-testid=lesson-picker]"]) }
            { link("skip-feed", "Skip to the event feed", &[".feed-panel"]) }
        </nav>
    }
}

#[derive(Properties, PartialEq)]
pub struct AnnouncerProps {
    pub lab: LabHandle,
    /// The live revision: the announcer looks at every change.
    pub rev: u64,
    pub playing: bool,
    /// The "announce events" switch.
    pub on: bool,
}

/// What was last announced: the run, the event's seq, when (wall ms) and
/// the words.
#[derive(Default)]
struct Said {
    run: Option<LabHandle>,
    seq: Option<u64>,
    at: f64,
    text: String,
}

/// A polite live region that reads the newest event aloud: each step's
/// while stepping, and while playing one every few seconds (the newest
/// that is not heartbeat traffic).
#[function_component(Announcer)]
pub fn announcer(props: &AnnouncerProps) -> Html {
    let said = use_mut_ref(Said::default);
    let mut said = said.borrow_mut();
    if !props.on {
        *said = Said::default();
    } else {
        let now = crate::io::now_ms();
        let due = !props.playing || now - said.at >= ANNOUNCE_EVERY_MS;
        if due {
            // Stepping, the step's own event (a heartbeat too: it is what
            // the step did); playing, the newest that is not traffic.
            let lab = props.lab.0.borrow();
            let newest = if props.playing {
                newest_event(&lab)
            } else {
                lab.past().last().map(|e| {
                    let words = narrate::narrate(e, |id| lab.send_of(id)).1;
                    (e.time, e.seq, words)
                })
            };
            let seq = newest.as_ref().map(|n| n.1);
            if seq != said.seq {
                // Only within one run is a smaller seq a step back.
                let same_run = said.run.as_ref() == Some(&props.lab);
                let back = same_run && matches!((seq, said.seq), (Some(a), Some(b)) if a < b);
                said.text = match newest {
                    Some((time, _, text)) if back => format!("Back to {time} ms: {text}"),
                    Some((time, _, text)) => format!("{time} ms: {text}"),
                    None => "Back to the start: nothing has happened yet.".to_string(),
                };
                said.seq = seq;
                said.at = now;
                said.run = Some(props.lab.clone());
            }
        }
    }
    html! {
        <div class="vh" data-testid="announcer" aria-live="polite" aria-atomic="true"
            data-seq={said.seq.map(|s| s.to_string()).unwrap_or_default()}>
            { said.text.clone() }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct NodeTableProps {
    pub lab: LabHandle,
    /// The run's revision it is drawn from: redrawn when that changes.
    pub rev: u64,
}

/// The ring's text alternative: each node's role, term, log end and commit
/// index, visually hidden (the drawing shows the same).
#[function_component(NodeTable)]
pub fn node_table(props: &NodeTableProps) -> Html {
    let lab = props.lab.0.borrow();
    let sim = lab.sim();
    let config = model::cluster_config(sim);
    let rows = sim.nodes().iter().map(|(&id, node)| {
        let server = model::up(node);
        let alive = server.is_some();
        let role = server.map_or(raftlab_core::types::Role::Follower, |s| s.state());
        let (base, base_term, last) = model::log_bounds(node);
        let last_term = if last == base {
            base_term
        } else {
            model::entry_at(node, last).map_or(base_term, |e| e.term)
        };
        let commit = match node {
            SimNode::Up(s) => s.commit_idx().to_string(),
            SimNode::Down(..) => "lost while crashed".to_string(),
        };
        html! {
            <tr data-node={id.to_string()}>
                <th scope="row">{ format!("S{id}") }</th>
                <td>{ model::role_word(alive, role, Standing::of(&config, id)) }</td>
                <td>{ model::term_of(node) }</td>
                <td>{ last }</td>
                <td>{ last_term }</td>
                <td>{ commit }</td>
                <td>{ if alive { "yes" } else { "no" } }</td>
            </tr>
        }
    });
    html! {
        // In a clipped box: a table is never narrower than its content.
        <div class="vh">
        <table data-testid="ring-table">
            <caption>{ "The servers in the ring" }</caption>
            <thead><tr>
                <th scope="col">{ "Server" }</th><th scope="col">{ "Role" }</th><th scope="col">{ "Term" }</th>
                <th scope="col">{ "Last log index" }</th><th scope="col">{ "Last log term" }</th>
                <th scope="col">{ "Commit index" }</th><th scope="col">{ "Alive" }</th>
            </tr></thead>
            <tbody>{ for rows }</tbody>
        </table>
        </div>
    }
}
