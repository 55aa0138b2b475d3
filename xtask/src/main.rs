//! raftlab's developer commands, run as `cargo xtask <command>`
//! (an alias in .cargo/config.toml).
//!
//! Each command first installs what it needs and is missing, announcing
//! every install before it runs, so a machine with only rustup and cargo
//! (plus Node.js for release builds and browser tests) is enough.

mod bench;
mod pins;
mod setup;
mod soak;
mod suite;
mod util;

use std::process::ExitCode;

use util::{announce, run, Ctx};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  serve [--port N] [--release]   build the app and serve it at http://127.0.0.1:8080/
                                 (rebuilds when a source file changes)
  build                          release build of the app into dist/ (host it anywhere)
  test [--quick] [--only ...]    the whole suite: fmt, clippy, tests, release build,
                                 browser tests (`cargo xtask test --help` for options)
  setup                          install every tool the commands above use
  bench [core|sim|check|page]    benchmarks: one table, written into BENCHMARKS.md
                                 (`cargo xtask bench --help` for options)
  soak [--seeds N]               N chaos seeds x 60 s on every core (safety, convergence,
                                 runs that hang); every failing seed with its command
                                 (`cargo xtask soak --help` for options)

The first run installs trunk and wasm-bindgen-cli from source (about 10 minutes);
later runs skip what is already installed.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ctx = Ctx::new();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&ctx, &args[1..]),
        Some("build") => build(&ctx, &args[1..]),
        Some("test") => suite::main(&ctx, &args[1..]),
        Some("setup") => setup_all(&ctx, &args[1..]),
        Some("bench") => bench::main(&ctx, &args[1..]),
        Some("soak") => soak::main(&ctx, &args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(0)
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_string()),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::FAILURE
        }
    }
}

fn no_options(command: &str, args: &[String]) -> Result<(), String> {
    match args.first() {
        None => Ok(()),
        Some(a) => Err(format!("`cargo xtask {command}` takes no option `{a}`")),
    }
}

/// `trunk serve`, after installing what it needs.
fn serve(ctx: &Ctx, args: &[String]) -> Result<i32, String> {
    let mut port: u16 = 8080;
    let mut release = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.split_once('=') {
            Some(("--port", v)) => port = parse_port(v)?,
            _ if arg == "--port" => port = parse_port(it.next().ok_or("--port needs a number")?)?,
            _ if arg == "--release" => release = true,
            _ => {
                return Err(format!(
                    "unknown option `{arg}`; usage: cargo xtask serve [--port N] [--release]"
                ))
            }
        }
    }
    let pins = pins::Pins::read(&ctx.root)?;
    setup::wasm_target(ctx)?;
    setup::trunk(ctx)?;
    setup::wasm_bindgen(ctx, &pins)?;
    // wasm-opt is only used by release builds: without Node.js a development
    // server still works.
    if let Err(e) = setup::node_packages(ctx, &pins) {
        if release {
            return Err(e);
        }
        println!("    note: {e}\n    (only release builds need it; serving anyway)");
    }
    setup::fetch_crates(ctx)?;

    let mode = if release { "release" } else { "development" };
    announce(&format!(
        "Serving raftlab ({mode} build) at http://127.0.0.1:{port}/ — Ctrl-C stops it"
    ));
    let mut cmd = ctx.cmd("trunk");
    cmd.args(["serve", "--port", &port.to_string()]);
    if release {
        cmd.arg("--release");
    }
    let line = util::describe(&cmd);
    println!("    $ {line}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
    Ok(status.code().unwrap_or(1))
}

fn parse_port(s: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or(format!("--port wants a number from 1 to 65535, not `{s}`"))
}

/// `trunk build --release` into dist/.
fn build(ctx: &Ctx, args: &[String]) -> Result<i32, String> {
    no_options("build", args)?;
    setup::web_build(ctx, true)?;
    announce("Building the web app for release into dist/");
    run(suite::trunk_build(ctx))?;
    let dist = ctx.root.join("dist");
    println!(
        "\nBuilt {}: serve that folder with any static web server.",
        dist.display()
    );
    Ok(0)
}

/// Every tool, including Chromium for the browser tests.
fn setup_all(ctx: &Ctx, args: &[String]) -> Result<i32, String> {
    no_options("setup", args)?;
    setup::web_build(ctx, true)?;
    setup::chromium(ctx)?;
    println!("\nAll set: `cargo xtask serve` and `cargo xtask test` are ready.");
    Ok(0)
}
