//! Pieces both views' panels are built of: a button that sends a message,
//! a chip of the new voter set, a slider of whole numbers, the client form
//! and what became of a client's operation, and the notice bar. Each view
//! feeds them its own state and its own messages.

use raftlab_core::kv::KvOp;
use raftlab_core::sim::ClientOp;
use raftlab_core::trace::ClientPhase;
use raftlab_core::types::NodeId;
use yew::prelude::*;

use super::form::{bind_text, input_text, input_value};

/// A button that sends `msg()` when clicked.
pub fn button<M: 'static>(
    testid: &str,
    label: &str,
    title: &str,
    disabled: bool,
    onmsg: &Callback<M>,
    msg: impl Fn() -> M + 'static,
) -> Html {
    let onmsg = onmsg.clone();
    let onclick = Callback::from(move |_| onmsg.emit(msg()));
    html! {
        <button type="button" data-testid={testid.to_string()} title={title.to_string()}
            {disabled} {onclick}>{ label.to_string() }</button>
    }
}

/// Node `id`'s chip in the voter set picked for a joint change: `on` when
/// picked, marked new when there is no such node yet.
pub fn joint_chip(id: NodeId, on: bool, known: bool, onclick: Callback<MouseEvent>) -> Html {
    html! {
        <button type="button" class={classes!("chip", on.then_some("on"), (!known).then_some("new"))}
            data-testid={format!("joint-{id}")} aria-pressed={on.to_string()} {onclick}
            title={if known { format!("S{id} in the new voter set") } else { format!("a new node S{id} in the new voter set") }}>
            { format!("S{id}") }
        </button>
    }
}

/// When a slider sends its value.
#[derive(Clone, Copy, PartialEq)]
pub enum Sends {
    /// At every move.
    AsItMoves,
    /// Once let go.
    WhenLetGo,
}

/// A slider of whole numbers from `min` to `max` in steps of `step`, in a
/// `<label class="slider">` after `label`; it sends what it is set to.
pub fn slider(
    label: Html,
    testid: &str,
    [min, max, step]: [u64; 3],
    value: u64,
    sends: Sends,
    onvalue: &Callback<u64>,
) -> Html {
    let send = {
        let onvalue = onvalue.clone();
        move |text: String| {
            if let Ok(v) = text.parse::<u64>() {
                onvalue.emit(v);
            }
        }
    };
    let (oninput, onchange) = match sends {
        Sends::AsItMoves => (
            Some(Callback::from(move |e: InputEvent| send(input_text(&e)))),
            None,
        ),
        Sends::WhenLetGo => (
            None,
            Some(Callback::from(move |e: Event| send(input_value(&e)))),
        ),
    };
    html! {
        <label class="slider">{ label }
            <input type="range" data-testid={testid.to_string()} min={min.to_string()} max={max.to_string()}
                step={step.to_string()} value={value.to_string()} {oninput} {onchange} />
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct ClientFormProps {
    /// What the key and value fields hold at first.
    pub start_key: AttrValue,
    pub start_value: AttrValue,
    /// The fields' widths, in characters.
    pub key_size: u32,
    pub value_size: u32,
    /// An operation on a key, with the value typed (used by put only).
    pub onsend: Callback<(KvOp, String, String)>,
}

/// The key and value fields and the put, get and delete buttons.
#[function_component(ClientForm)]
pub fn client_form(props: &ClientFormProps) -> Html {
    let key = use_state(|| props.start_key.to_string());
    let value = use_state(|| props.start_value.to_string());
    let send = |op: KvOp| {
        let onsend = props.onsend.clone();
        let key = key.clone();
        let value = value.clone();
        Callback::from(move |_| onsend.emit((op.clone(), (*key).clone(), (*value).clone())))
    };
    html! {
        <>
            <div class="client-form">
                <label>{ "key" }<input type="text" data-testid="client-key" value={(*key).clone()} oninput={bind_text(&key)} size={props.key_size.to_string()} /></label>
                <label>{ "value" }<input type="text" data-testid="client-value" value={(*value).clone()} oninput={bind_text(&value)} size={props.value_size.to_string()} /></label>
            </div>
            <div class="buttons">
                <button type="button" data-testid="put" onclick={send(KvOp::Put)}>{ "Put" }</button>
                <button type="button" data-testid="get" onclick={send(KvOp::Get)}>{ "Get" }</button>
                <button type="button" data-testid="delete" onclick={send(KvOp::Delete)}>{ "Delete" }</button>
            </div>
        </>
    }
}

/// What became of a client operation that has ended: its phase (a class)
/// and the words after the operation ("→ 3", "→ failed, not applied");
/// `None` while it has not.
pub fn outcome(op: &ClientOp) -> Option<(&'static str, String)> {
    Some(match (&op.phase, &op.result) {
        (Some(ClientPhase::Ok), Some(Some(v))) => ("ok", format!("→ {v}")),
        (Some(ClientPhase::Ok), Some(None)) => ("ok", "→ (absent)".into()),
        (Some(ClientPhase::Ok), None) => ("ok", "→ ok".into()),
        (Some(ClientPhase::Fail), _) => ("fail", "→ failed, not applied".into()),
        (Some(ClientPhase::Timeout), _) => ("timeout", "→ timed out: outcome unknown".into()),
        _ => return None,
    })
}

/// The notice bar: a message for the reader (an error or news) until it
/// is dismissed.
pub fn notice(text: String, error: bool, ondismiss: Callback<MouseEvent>) -> Html {
    html! {
        <div class={classes!("notice", error.then_some("error"))} data-testid="notice" role="status">
            <span>{ text }</span>
            <button type="button" class="close" onclick={ondismiss} title="dismiss">{ "×" }</button>
        </div>
    }
}
