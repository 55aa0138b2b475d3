//! Reading form controls, for every panel of both views.

use yew::prelude::*;

/// The text of the `<input>` an event came from ("" if it came from
/// elsewhere).
pub fn input_value(e: &Event) -> String {
    e.target_dyn_into::<web_sys::HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

/// The text of the `<input>` being typed in.
pub fn input_text(e: &InputEvent) -> String {
    e.target_dyn_into::<web_sys::HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

/// Whether the checkbox an event came from is ticked (false if it came
/// from elsewhere).
pub fn input_checked(e: &Event) -> bool {
    e.target_dyn_into::<web_sys::HtmlInputElement>()
        .is_some_and(|i| i.checked())
}

/// The chosen value of the `<select>` an event came from.
pub fn select_value(e: &Event) -> String {
    e.target_dyn_into::<web_sys::HtmlSelectElement>()
        .map(|s| s.value())
        .unwrap_or_default()
}

/// An `oninput` that keeps `text` equal to what the field shows.
pub fn bind_text(text: &UseStateHandle<String>) -> Callback<InputEvent> {
    let text = text.clone();
    Callback::from(move |e: InputEvent| text.set(input_text(&e)))
}
