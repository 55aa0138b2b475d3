//! raftlab in the browser: real Raft nodes (`raftlab-core`) run in the
//! deterministic simulator, drawn as they are at every moment. The page
//! owns one simulator (`lab::Lab`) behind the reducer in `state`; an
//! animation-frame loop advances its visual clock while playing, and every
//! picture is computed from (simulator state, visual time), so pausing,
//! stepping and rewinding are exact.
//!
//! URL parameters set up the first run: `seed`, `nodes`, `speed` (simulated
//! ms per wall ms), `paused=1`, `present=1`, `prevote=0`, `checkquorum=0`,
//! `snapshot_every`, `chunk`, `latency` (max ms), `lesson` (a lesson id
//! from `lessons/index.json`), `history` (events of history kept, at least
//! 1,000; default `lab::HISTORY_LIMIT`). A fragment `#s=...` opens a
//! shared session. `url::read` reads them all, for both views; a value it
//! cannot use is named in a notice with what runs instead.
//!
//! Two views, two wasm modules. The page's module (`src/main.rs`, bin
//! `raftlab-web`) holds the single-group view (`app::App`). Sharded mode
//! (`?mode=sharded`, `sharded::ShardedApp`) is a module of its own
//! (`src/bin/sharded-app.rs`), fetched only when that mode is asked for
//! (`start_page`), so the visitors who never open it do not download it.
//! Both binaries link this library; each keeps only the code it reaches.

mod app;
mod background;
mod bench;
mod clock;
mod components;
mod hooks;
mod io;
mod lab;
mod model;
mod ring;
mod sharded;
mod state;
mod url;
mod vocab;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The page's module: a benchmark if the URL asks for one, else the view
/// the URL asks for (the sharded one is loaded first).
pub fn start_page() {
    if bench::run_if_asked() {
        return;
    }
    if url::read(&url::search()).view == url::View::Sharded {
        load_module(SHARDED_BIN, "sharded mode");
    } else {
        yew::Renderer::<app::App>::new().render();
    }
}

/// The sharded module's entry: mounts the sharded view.
pub fn start_sharded() {
    yew::Renderer::<sharded::ShardedApp>::new().render();
}

/// The sharded module, as trunk builds it (`data-type="worker"` in
/// index.html): wasm-bindgen's `no-modules` output, a script that defines
/// the global init function `wasm_bindgen`, and its wasm (`module_stem`
/// names them).
const SHARDED_BIN: &str = "sharded-app";

/// How many hex digits of its content's SHA-256 name a module's files.
const DIGEST_LEN: usize = 16;

/// The stem of the file names of a module fetched on demand (`bin`, a
/// binary trunk builds with `data-type="worker"`): `bin-<digest>`, the
/// files being `<stem>.js`, `<stem>_bg.wasm` and, for a worker, its
/// `<stem>_loader.js`, next to index.html. Trunk names them after the
/// binary only; trunk's post_build hook (`tools/hash-modules.sh`) renames
/// them after a digest of their content and writes the stem into
/// index.html's `<meta name="raftlab-module-BIN">`, so that after a
/// redeploy a browser never pairs a cached old script with a new wasm. A
/// stem without its digest means the hook did not run: refused, rather than
/// loading files whose names do not follow their content.
pub(crate) fn module_stem(bin: &str) -> Result<String, String> {
    let meta = format!("meta[name=\"raftlab-module-{bin}\"]");
    let stem = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&meta).ok().flatten())
        .and_then(|m| m.get_attribute("content"))
        .ok_or_else(|| format!("the page does not name the {bin} module (no {meta})"))?;
    let digest = stem
        .strip_prefix(bin)
        .and_then(|rest| rest.strip_prefix('-'))
        .unwrap_or_default();
    if digest.len() == DIGEST_LEN
        && digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(stem)
    } else {
        Err(format!(
            "this build did not name the {bin} module after its content (\"{stem}\"): \
             trunk's post_build hook tools/hash-modules.sh (Trunk.toml) did not run"
        ))
    }
}

#[wasm_bindgen]
extern "C" {
    /// The init function a `no-modules` script defines (the last one
    /// loaded): fetches and instantiates its module, then runs its `main`.
    #[wasm_bindgen(catch, js_name = wasm_bindgen)]
    fn init_module(options: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// Shows "loading" while a view's module (`bin`: a `no-modules` module,
/// like `SHARDED_BIN`) is fetched and started, and says why (with the way
/// back) if it could not be.
fn load_module(bin: &'static str, what: &'static str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(body) = document.body() else {
        return;
    };
    let Ok(note) = document.create_element("div") else {
        return;
    };
    note.set_class_name("notice");
    // Best effort: the note is only a courtesy while the module loads.
    let _ = note.set_attribute("data-testid", "mode-loading");
    let _ = note.set_attribute("role", "status");
    note.set_text_content(Some(&format!("Loading {what}…")));
    let _ = body.append_child(&note);
    wasm_bindgen_futures::spawn_local(async move {
        let fetched = match module_stem(bin) {
            Ok(stem) => {
                let (js, wasm) = (format!("./{stem}.js"), format!("./{stem}_bg.wasm"));
                fetch_module(&document, &js, &wasm).await
            }
            Err(why) => Err(why),
        };
        match fetched {
            Ok(()) => note.remove(),
            Err(why) => {
                note.set_class_name("notice error");
                let _ = note.set_attribute("data-failed", "true");
                note.set_text_content(Some(&format!("Could not load {what}: {why}. ")));
                if let Ok(back) = document.create_element("a") {
                    let _ = back.set_attribute("href", "?");
                    let _ = back.set_attribute("data-testid", "mode-switch");
                    back.set_text_content(Some("Open the single-group view"));
                    let _ = note.append_child(&back);
                }
            }
        }
    });
}

/// Adds a module's script to the page, then starts its wasm.
async fn fetch_module(document: &web_sys::Document, js: &str, wasm: &str) -> Result<(), String> {
    let script: web_sys::HtmlScriptElement = document
        .create_element("script")
        .and_then(|e| e.dyn_into().map_err(JsValue::from))
        .map_err(describe)?;
    script.set_src(js);
    let loaded = js_sys::Promise::new(&mut |resolve, reject| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    let head = document.head().ok_or("the page has no head")?;
    head.append_child(&script).map_err(describe)?;
    JsFuture::from(loaded)
        .await
        .map_err(|_| format!("{js} did not load"))?;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"module_or_path".into(), &wasm.into()).map_err(describe)?;
    JsFuture::from(init_module(&options).map_err(describe)?)
        .await
        .map_err(describe)?;
    Ok(())
}

/// A JavaScript error's message (or its whole text).
fn describe(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
