//! Sharded mode's module: a wasm binary of its own, which the page fetches
//! only for `?mode=sharded` (`raftlab_web::start_page`), so that the
//! single-group page does not carry it. Built by trunk next to the app
//! (`data-type="worker"` in index.html, for wasm-bindgen's `no-modules`
//! output, which runs on the page's own thread just as well); `main` runs
//! when the page starts the module.

fn main() {
    raftlab_web::start_sharded();
}
