//! The page's few contacts with the browser beyond drawing: fetching the
//! lesson files (the page's, or a teacher's from `?lesson-url=`),
//! downloading a file the page made, reading a file the user picked or
//! dropped (and telling that one is being dragged), and the address bar. Every failure is a `String` for
//! a notice; nothing here panics.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn js_error(what: &str, e: JsValue) -> String {
    let detail = e
        .as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|err| String::from(err.message()))
        })
        .unwrap_or_else(|| "unknown error".into());
    format!("{what}: {detail}")
}

/// Fetches a text file relative to the page (so `dist/` works from any folder).
pub async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| js_error(&format!("cannot fetch {url}"), e))?;
    let resp: web_sys::Response = resp
        .dyn_into()
        .map_err(|_| format!("cannot fetch {url}: not a response"))?;
    if !resp.ok() {
        return Err(format!("cannot fetch {url}: HTTP {}", resp.status()));
    }
    let text = resp
        .text()
        .map_err(|e| js_error(&format!("cannot read {url}"), e))?;
    let text = JsFuture::from(text)
        .await
        .map_err(|e| js_error(&format!("cannot read {url}"), e))?;
    text.as_string()
        .ok_or_else(|| format!("cannot read {url}: not text"))
}

/// Reads a file the user picked or dropped, as text.
pub async fn read_file(file: web_sys::File) -> Result<(String, String), String> {
    let name = file.name();
    let text = JsFuture::from(file.text())
        .await
        .map_err(|e| js_error(&format!("cannot read {name}"), e))?;
    let text = text
        .as_string()
        .ok_or_else(|| format!("cannot read {name}: not text"))?;
    Ok((name, text))
}

/// Offers `text` as a file download named `name`.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)
        .map_err(|e| js_error("cannot make the file", e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|e| js_error("cannot make the file", e))?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(|e| js_error("cannot make the link", e))?
        .dyn_into()
        .map_err(|_| "cannot make the link".to_string())?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The page's address without its fragment.
pub fn page_address() -> String {
    let Some(loc) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    let href = loc.href().unwrap_or_default();
    match href.split_once('#') {
        Some((base, _)) => base.to_string(),
        None => href,
    }
}

/// The fragment (after `#`), if any.
pub fn fragment() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
        .trim_start_matches('#')
        .to_string()
}

/// The browser's storage key that remembers a dismissed first-visit line.
const WELCOMED_KEY: &str = "raftlab.welcomed";

/// Whether this browser has dismissed the first-visit guidance (storage
/// that cannot be read counts as not yet).
pub fn welcomed() -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(WELCOMED_KEY).ok().flatten())
        .is_some()
}

/// Remembers that the first-visit guidance was dismissed (best effort: a
/// browser that refuses storage shows it again next time).
pub fn set_welcomed() {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(WELCOMED_KEY, "1");
    }
}

/// A yes/no preference this browser remembers under `key` (the keyboard
/// shortcuts, announcements); `default` when never set or unreadable.
pub fn pref(key: &str, default: bool) -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(key).ok().flatten())
        .map_or(default, |v| v == "1")
}

/// Remembers a yes/no preference (best effort, like `set_welcomed`).
pub fn set_pref(key: &str, on: bool) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(key, if on { "1" } else { "0" });
    }
}

/// Puts `fragment` in the address bar without reloading the page.
pub fn set_fragment(fragment: &str) {
    let Some(w) = web_sys::window() else {
        return;
    };
    let url = format!("{}#{fragment}", page_address());
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// Copies `text` to the clipboard when the browser allows it; returns
/// whether the copy was attempted (the page shows the link either way).
pub fn copy_text(text: &str) -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    let clipboard = w.navigator().clipboard();
    let promise = clipboard.write_text(text);
    yew::platform::spawn_local(async move {
        // Refused without a user gesture or permission: the link is on screen.
        let _ = JsFuture::from(promise).await;
    });
    true
}

/// Milliseconds from a monotonic clock, for slicing background work.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// The outer markup of the element with this id (for the SVG export).
pub fn outer_html(id: &str) -> Option<String> {
    web_sys::window()?
        .document()?
        .get_element_by_id(id)
        .map(|e| e.outer_html())
}

/// The first file of a file input's change event.
pub fn picked_file(e: &web_sys::Event) -> Option<web_sys::File> {
    let input: web_sys::HtmlInputElement = e.target()?.dyn_into().ok()?;
    let file = input.files()?.get(0);
    // Let the same file be picked again later.
    input.set_value("");
    file
}

/// Whether a drag over the page carries files (not text or a link), so
/// the drop hint shows only when dropping would open something.
pub fn dragging_files(e: &web_sys::DragEvent) -> bool {
    e.data_transfer().is_some_and(|d| {
        d.types()
            .iter()
            .any(|t| t.as_string().as_deref() == Some("Files"))
    })
}

/// The first file of a drop event.
pub fn dropped_file(e: &web_sys::DragEvent) -> Option<web_sys::File> {
    e.data_transfer()?.files()?.get(0)
}
