//! Pieces both views' panels are built of: a button that sends a message,
//! a chip of the new voter set, a slider of whole numbers, the client form
//! and what became of a client's operation, the notice bar, and the
//! shortening of long text from users and files. Each view feeds them its
//! own state and its own messages.

use std::borrow::Cow;

use raftlab_core::kv::{check_typed, KvOp, TooLong, MAX_KEY_CHARS, MAX_VALUE_CHARS};
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

/// The key and value fields and the put, get and delete buttons. A key
/// over [`MAX_KEY_CHARS`] or a value over [`MAX_VALUE_CHARS`] characters is
/// refused: the reason shows under the fields as soon as it is typed, the
/// field is marked invalid and described by it, and a button that would
/// send it moves the focus to that field instead.
#[function_component(ClientForm)]
pub fn client_form(props: &ClientFormProps) -> Html {
    let key = use_state(|| props.start_key.to_string());
    let value = use_state(|| props.start_value.to_string());
    let key_ref = use_node_ref();
    let value_ref = use_node_ref();
    let key_problem = check_typed(&key, None).err();
    let value_problem = check_typed("", Some(&value)).err();
    let send = |op: KvOp| {
        let onsend = props.onsend.clone();
        let key = key.clone();
        let value = value.clone();
        let (key_ref, value_ref) = (key_ref.clone(), value_ref.clone());
        Callback::from(move |_| {
            // Get and delete send no value: only the key can stop them.
            let refused = match check_typed(&key, (op == KvOp::Put).then_some(value.as_str())) {
                Ok(()) => None,
                Err(TooLong::Key { .. }) => Some(&key_ref),
                Err(TooLong::Value { .. }) => Some(&value_ref),
            };
            match refused {
                Some(field) => {
                    if let Some(input) = field.cast::<web_sys::HtmlElement>() {
                        let _ = input.focus();
                    }
                }
                None => onsend.emit((op.clone(), (*key).clone(), (*value).clone())),
            }
        })
    };
    let reason = |id: &'static str, testid: &'static str, problem: Option<TooLong>| {
        problem.map(|p| {
            html! { <p class="field-error" {id} data-testid={testid} data-limit={p.limit().to_string()}>{ format!("⚠ {p}") }</p> }
        })
    };
    html! {
        <>
            <div class="client-form">
                <label>{ "key" }<input type="text" data-testid="client-key" ref={key_ref.clone()} value={(*key).clone()}
                    title={format!("up to {MAX_KEY_CHARS} characters")}
                    oninput={bind_text(&key)} size={props.key_size.to_string()}
                    aria-invalid={key_problem.map(|_| "true")}
                    aria-describedby={key_problem.map(|_| "client-key-limit")} /></label>
                <label>{ "value" }<input type="text" data-testid="client-value" ref={value_ref.clone()} value={(*value).clone()}
                    title={format!("up to {MAX_VALUE_CHARS} characters")}
                    oninput={bind_text(&value)} size={props.value_size.to_string()}
                    aria-invalid={value_problem.map(|_| "true")}
                    aria-describedby={value_problem.map(|_| "client-value-limit")} /></label>
            </div>
            <div class="field-errors" aria-live="polite">
                { for reason("client-key-limit", "client-key-limit", key_problem) }
                { for reason("client-value-limit", "client-value-limit", value_problem) }
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
/// and the words after the operation ("→ 3", "→ failed, not applied"), a
/// value read cut to `max` characters if given; `None` while it has not.
pub fn outcome(op: &ClientOp, max: Option<usize>) -> Option<(&'static str, String)> {
    Some(match (&op.phase, &op.result) {
        (Some(ClientPhase::Ok), Some(Some(v))) => match max {
            Some(max) => ("ok", format!("→ {}", shorten(v, max))),
            None => ("ok", format!("→ {v}")),
        },
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

/// The ellipsis that marks where text was cut.
const ELLIPSIS: char = '…';

/// `text` in at most `max` characters: cut at the end, the cut marked with
/// "…". Borrowed unchanged when it fits. A value or key from a user or a
/// file can be any length; the places that show it cannot.
pub fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().count() <= max {
        return Cow::Borrowed(text);
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push(ELLIPSIS);
    Cow::Owned(out)
}

/// `text` in at most `max` characters, cut in the middle ("put k=vvv…vvv
/// at index 4"): a sentence keeps its start and its end, where the
/// reason is.
pub fn shorten_middle(text: &str, max: usize) -> Cow<'_, str> {
    let len = text.chars().count();
    if len <= max {
        return Cow::Borrowed(text);
    }
    let keep = max.saturating_sub(1);
    let tail = keep / 3;
    let head = keep - tail;
    let mut out: String = text.chars().take(head).collect();
    out.push(ELLIPSIS);
    out.extend(text.chars().skip(len - tail));
    Cow::Owned(out)
}

/// `text` with every run of characters without a space longer than `max`
/// shortened to `max` (see [`shorten`]): a sentence that quotes a long
/// value keeps its words around it.
pub fn shorten_words(text: &str, max: usize) -> Cow<'_, str> {
    if !text.split_whitespace().any(|w| w.chars().count() > max) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(4 * max));
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(&shorten(word, max));
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    Cow::Owned(out)
}

/// A sentence of the feed as shown: long words and then the whole cut
/// (see [`shorten_words`], [`shorten_middle`]).
pub fn feed_text(text: &str) -> Cow<'_, str> {
    match shorten_words(text, 40) {
        Cow::Borrowed(b) => shorten_middle(b, 300),
        Cow::Owned(o) => Cow::Owned(shorten_middle(&o, 300).into_owned()),
    }
}

/// The hover text for something shown as `shown` in place of `full`: the
/// full text when it was cut, none otherwise.
pub fn full_title(shown: &str, full: &str) -> Option<AttrValue> {
    (shown != full).then(|| AttrValue::from(full.to_string()))
}

/// `text` in a span of at most `max` characters, with the full text on
/// hover when cut. Yew sets it as text, never as HTML.
pub fn clipped(text: &str, max: usize) -> Html {
    let shown = shorten(text, max);
    let title = full_title(&shown, text);
    html! { <span class="clipped" {title}>{ shown.into_owned() }</span> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_fits_is_shown_unchanged() {
        assert!(matches!(shorten("put x=1", 7), Cow::Borrowed("put x=1")));
        assert!(matches!(shorten_middle("abc", 3), Cow::Borrowed("abc")));
        assert!(matches!(shorten_words("a b c", 1), Cow::Borrowed("a b c")));
        assert_eq!(shorten("", 0), "");
    }

    #[test]
    fn long_text_is_cut_to_the_limit_with_an_ellipsis() {
        let long = "v".repeat(10_000);
        let shown = shorten(&long, 24);
        assert_eq!(shown.chars().count(), 24);
        assert!(shown.ends_with('…') && shown.starts_with("vvvv"));
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abcdef", 1), "…");
    }

    #[test]
    fn shortening_counts_characters_and_never_splits_one() {
        // Each is several bytes: a byte cut would panic or garble.
        let shown = shorten("ééééé🦀🦀🦀", 6);
        assert_eq!(shown, "ééééé…");
        let shown = shorten_middle("🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀", 7);
        assert_eq!(shown.chars().count(), 7);
        assert_eq!(shown, "🦀🦀🦀🦀…🦀🦀");
    }

    #[test]
    fn a_middle_cut_keeps_the_start_and_the_end() {
        let text = format!("S1 appended put k={} at index 5", "v x".repeat(500));
        let shown = shorten_middle(&text, 60);
        assert_eq!(shown.chars().count(), 60);
        assert!(shown.starts_with("S1 appended put k="));
        assert!(shown.ends_with("at index 5"));
        assert_eq!(shown.matches('…').count(), 1);
    }

    #[test]
    fn only_the_long_words_of_a_sentence_are_cut() {
        let text = format!("S2 applied put k={} (term 3)", "v".repeat(10_000));
        let shown = shorten_words(&text, 12);
        assert_eq!(shown, "S2 applied put k=vvvvvvvvv… (term 3)");
        assert_eq!(shorten_words("a  bb\tccc", 2), "a  bb\tc…");
    }

    #[test]
    fn a_feed_sentence_quoting_any_value_stays_short_and_keeps_its_reason() {
        for value in ["v".repeat(10_000), "lorem ipsum ".repeat(900)] {
            let text = format!("S1 appended put k={value} at index 5: it is the leader");
            let shown = feed_text(&text);
            assert!(shown.chars().count() <= 300, "{}", shown.chars().count());
            assert!(shown.ends_with("it is the leader"));
            assert!(shown.split_whitespace().all(|w| w.chars().count() <= 40));
        }
        assert!(matches!(feed_text("S1 became leader"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_full_text_is_the_title_only_when_cut() {
        assert_eq!(full_title("abc", "abc"), None);
        let long = "v".repeat(100);
        let shown = shorten(&long, 10);
        assert_eq!(full_title(&shown, &long).as_deref(), Some(long.as_str()));
    }
}
