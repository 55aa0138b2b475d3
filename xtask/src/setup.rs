//! Installing what raftlab's build needs, each step announced before it
//! runs and skipped when the right version is already there.
//!
//! | tool | from | needed by |
//! |---|---|---|
//! | wasm32-unknown-unknown | rustup | every web build |
//! | trunk | crates.io (`cargo install`) | serve, build |
//! | wasm-bindgen-cli | crates.io, version from Cargo.lock | serve, build |
//! | wasm-opt, playwright-core, axe-core | npm (`npm ci` in e2e/) | release builds, e2e |
//! | chromium | Debian (`apt-get`) | e2e |

use std::path::PathBuf;

use crate::pins::{Pins, TRUNK_VERSION};
use crate::util::{announce, run, Ctx};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Building trunk and wasm-bindgen-cli with thin LTO off and 16 codegen units
/// halves their compile time; they are build tools, so speed of the tools
/// themselves barely matters.
fn cargo_install(ctx: &Ctx) -> std::process::Command {
    let mut cmd = ctx.cmd("cargo");
    cmd.arg("install")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    cmd
}

fn ok(what: &str) {
    println!("    ok: {what}");
}

/// `rustup target add wasm32-unknown-unknown` unless the toolchain has it.
pub fn wasm_target(ctx: &Ctx) -> Result<(), String> {
    let sysroot = ctx
        .output_of("rustc", &["--print", "sysroot"])
        .ok_or("cannot run `rustc --print sysroot`: is Rust installed (https://rustup.rs)?")?;
    let lib = PathBuf::from(sysroot).join("lib/rustlib").join(WASM_TARGET);
    if lib.is_dir() {
        ok(&format!("Rust target {WASM_TARGET}"));
        return Ok(());
    }
    announce(&format!(
        "Adding the Rust target {WASM_TARGET} (a one-off download by rustup)"
    ));
    let mut cmd = ctx.cmd("rustup");
    cmd.args(["target", "add", WASM_TARGET]);
    run(cmd)
}

/// `cargo install --locked trunk` at [`TRUNK_VERSION`] unless installed.
pub fn trunk(ctx: &Ctx) -> Result<(), String> {
    let want = format!("trunk {TRUNK_VERSION}");
    if ctx.output_of("trunk", &["--version"]).as_deref() == Some(want.as_str()) {
        ok(&want);
        return Ok(());
    }
    announce(&format!(
        "Installing {want} from crates.io: it compiles from source, about 5 minutes on 2 cores, once"
    ));
    let mut cmd = cargo_install(ctx);
    cmd.args(["--locked", "trunk", "--version", TRUNK_VERSION]);
    run(cmd)?;
    verify(ctx, "trunk", &want)
}

/// `cargo install wasm-bindgen-cli` at Cargo.lock's wasm-bindgen version.
/// Not `--locked`: its lockfile pins a crate version the registry lacks.
pub fn wasm_bindgen(ctx: &Ctx, pins: &Pins) -> Result<(), String> {
    let want = format!("wasm-bindgen {}", pins.wasm_bindgen);
    if ctx.output_of("wasm-bindgen", &["--version"]).as_deref() == Some(want.as_str()) {
        ok(&want);
        return Ok(());
    }
    announce(&format!(
        "Installing wasm-bindgen-cli {} (the version in Cargo.lock) from crates.io: \
         it compiles from source, about 4 minutes on 2 cores, once",
        pins.wasm_bindgen
    ));
    let mut cmd = cargo_install(ctx);
    cmd.args([
        "wasm-bindgen-cli",
        "--version",
        &format!("={}", pins.wasm_bindgen),
    ]);
    run(cmd)?;
    verify(ctx, "wasm-bindgen", &want)
}

fn verify(ctx: &Ctx, program: &str, want: &str) -> Result<(), String> {
    match ctx.output_of(program, &["--version"]) {
        Some(got) if got == want => Ok(()),
        got => Err(format!(
            "installed {want} but `{program} --version` now says {got:?}; \
             is another {program} earlier on PATH?"
        )),
    }
}

/// The e2e/ npm packages (playwright-core, and binaryen for wasm-opt),
/// installed by `npm ci` from the committed lockfile whenever
/// e2e/node_modules does not match it.
pub fn node_packages(ctx: &Ctx, pins: &Pins) -> Result<(), String> {
    let node = ctx.output_of("node", &["--version"]).ok_or(
        "Node.js is not installed: raftlab's release build (wasm-opt) and browser tests need \
         Node.js 20 or newer with npm (https://nodejs.org)",
    )?;
    let major: u32 = node
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(format!(
            "Node.js {node} is too old: raftlab needs 20 or newer"
        ));
    }
    let e2e = ctx.root.join("e2e");
    let lock = std::fs::read(e2e.join("package-lock.json"))
        .map_err(|e| format!("cannot read e2e/package-lock.json: {e}"))?;
    let stamp = e2e.join("node_modules/.raftlab-installed-lock");
    let current = std::fs::read(&stamp).is_ok_and(|installed| installed == lock)
        && wasm_opt_version(ctx).as_deref() == Some(pins.wasm_opt.as_str());
    if current {
        ok(&format!("e2e npm packages (wasm-opt {})", pins.binaryen));
        return Ok(());
    }
    announce(&format!(
        "Installing e2e/'s npm packages from e2e/package-lock.json (playwright-core, axe-core; \
         binaryen {} for wasm-opt): about a minute",
        pins.binaryen
    ));
    let mut cmd = ctx.cmd("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&e2e);
    run(cmd)?;
    std::fs::write(&stamp, &lock).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    match wasm_opt_version(ctx) {
        Some(v) if v == pins.wasm_opt => Ok(()),
        other => Err(format!(
            "after npm ci, wasm-opt reports {other:?}, not {}",
            pins.wasm_opt
        )),
    }
}

/// trunk's spelling (`version_132`) of what the wasm-opt trunk will find
/// says it is (e2e/node_modules/.bin comes first on xtask's PATH).
fn wasm_opt_version(ctx: &Ctx) -> Option<String> {
    let out = ctx.output_of("wasm-opt", &["--version"])?;
    // "wasm-opt version 132 (version_132)"
    out.split(' ').nth(2).map(|n| format!("version_{n}"))
}

/// The Chromium the browser tests drive: `$CHROMIUM_PATH`, by default
/// Debian's /usr/bin/chromium.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Debian's chromium and chromium-driver, installed by apt-get when running
/// as root; otherwise the command to run is printed.
pub fn chromium(ctx: &Ctx) -> Result<(), String> {
    let path = chromium_path();
    if path.is_file() {
        ok(&format!("Chromium at {}", path.display()));
        return Ok(());
    }
    const INSTALL: &str = "apt-get install -y chromium chromium-driver";
    let root = ctx.output_of("id", &["-u"]).as_deref() == Some("0");
    if !root {
        return Err(format!(
            "Chromium is missing at {} (the browser tests drive it). Install it with:\n\n    \
             sudo apt-get update && sudo {INSTALL}\n\n\
             or point CHROMIUM_PATH at another Chromium.",
            path.display()
        ));
    }
    announce("Installing Chromium from Debian's packages (apt-get update, then apt-get install)");
    let mut update = ctx.cmd("apt-get");
    update
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(update)?;
    let mut install = ctx.cmd("apt-get");
    install
        .args(INSTALL.split(' ').skip(1))
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install)?;
    if path.is_file() {
        Ok(())
    } else {
        Err(format!(
            "apt-get installed chromium but {} is still missing",
            path.display()
        ))
    }
}

/// `cargo fetch`: trunk runs cargo with `--offline` (Trunk.toml), so every
/// crate must be downloaded before trunk builds.
pub fn fetch_crates(ctx: &Ctx) -> Result<(), String> {
    let mut cmd = ctx.cmd("cargo");
    cmd.args(["fetch", "--quiet"]);
    run(cmd)
}

/// What a web build needs: the wasm target, trunk, wasm-bindgen, crates,
/// and (for release builds) the npm packages that bring wasm-opt.
pub fn web_build(ctx: &Ctx, release: bool) -> Result<(), String> {
    let pins = Pins::read(&ctx.root)?;
    wasm_target(ctx)?;
    trunk(ctx)?;
    wasm_bindgen(ctx, &pins)?;
    if release {
        node_packages(ctx, &pins)?;
    }
    fetch_crates(ctx)
}
