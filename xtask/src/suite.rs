//! `cargo xtask test`: the whole suite, step by step, with a summary.
//!
//! Every step runs even after one fails (unless `--fail-fast`), so one run
//! shows everything that is wrong; the exit code is non-zero if any step
//! failed or could not run.

use std::time::{Duration, Instant};

use crate::pins::Pins;
use crate::setup;
use crate::util::{announce, fmt_duration, run, run_collecting, Ctx};

/// What a step needs installed before it can run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    /// The wasm32 target.
    Wasm,
    /// Everything for a release web build (trunk, wasm-bindgen, wasm-opt).
    WebBuild,
    /// The npm packages and Chromium, plus a built dist/.
    Browser,
}

struct Step {
    name: &'static str,
    about: &'static str,
    needs: Needs,
    /// Part of `--quick`.
    quick: bool,
}

const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        about: "formatting (cargo fmt --check)",
        needs: Needs::Nothing,
        quick: true,
    },
    Step {
        name: "clippy",
        about: "lints, native, every crate and target",
        needs: Needs::Nothing,
        quick: true,
    },
    Step {
        name: "clippy-wasm",
        about: "lints of the web crate for wasm32",
        needs: Needs::Wasm,
        quick: false,
    },
    Step {
        name: "test",
        about: "native tests of every crate but the web app",
        needs: Needs::Nothing,
        quick: true,
    },
    Step {
        name: "test-web",
        about: "the web crate's own unit tests, run natively",
        needs: Needs::Nothing,
        quick: true,
    },
    Step {
        name: "build",
        about: "release build of the web app into dist/ (trunk build --release)",
        needs: Needs::WebBuild,
        quick: false,
    },
    Step {
        name: "e2e",
        about: "browser tests in headless Chromium against dist/",
        needs: Needs::Browser,
        quick: false,
    },
];

/// How a step ended.
enum Outcome {
    Ok,
    Failed(String),
    Skipped(String),
}

struct Record {
    name: &'static str,
    outcome: Outcome,
    took: Duration,
    closing: Vec<String>,
}

struct Options {
    selected: Vec<&'static Step>,
    fail_fast: bool,
}

const USAGE: &str = "\
usage: cargo xtask test [--quick] [--only STEP,...] [--skip STEP,...] [--fail-fast] [--list]

  --quick       only the fast native steps (fmt, clippy, test, test-web)
  --only        run just these steps
  --skip        leave these steps out
  --fail-fast   stop at the first failed step
  --list        list the steps and exit";

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut quick = false;
    let mut only: Option<Vec<String>> = None;
    let mut skip: Vec<String> = Vec::new();
    let mut fail_fast = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or(format!("{flag} needs a list of steps\n\n{USAGE}"))
        };
        match flag {
            "--quick" => quick = true,
            "--fail-fast" => fail_fast = true,
            "--only" => only = Some(split_names(&value()?)?),
            "--skip" => skip.extend(split_names(&value()?)?),
            "--list" => {
                for step in STEPS {
                    let quick = if step.quick { " (quick)" } else { "" };
                    println!("{:<12} {}{quick}", step.name, step.about);
                }
                return Ok(None);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
        }
    }
    let selected = STEPS
        .iter()
        .filter(|s| !quick || s.quick)
        .filter(|s| only.as_ref().is_none_or(|o| o.iter().any(|n| n == s.name)))
        .filter(|s| !skip.iter().any(|n| n == s.name))
        .collect::<Vec<_>>();
    if selected.is_empty() {
        return Err("no steps left to run".into());
    }
    Ok(Some(Options {
        selected,
        fail_fast,
    }))
}

fn split_names(list: &str) -> Result<Vec<String>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            if STEPS.iter().any(|s| s.name == n) {
                Ok(n.to_string())
            } else {
                let names: Vec<_> = STEPS.iter().map(|s| s.name).collect();
                Err(format!("unknown step `{n}` (steps: {})", names.join(", ")))
            }
        })
        .collect()
}

/// Runs the suite; returns the process exit code.
pub fn main(ctx: &Ctx, args: &[String]) -> Result<i32, String> {
    let Some(opts) = parse(args)? else {
        return Ok(0);
    };
    let started = Instant::now();
    let names: Vec<_> = opts.selected.iter().map(|s| s.name).collect();
    println!("raftlab: cargo xtask test: {}", names.join(", "));
    if ctx.ci {
        for (tool, args) in [
            ("rustc", "--version"),
            ("cargo", "--version"),
            ("node", "--version"),
        ] {
            let v = ctx.output_of(tool, &[args]);
            println!("    {tool}: {}", v.as_deref().unwrap_or("not found"));
        }
    }

    let mut records = Vec::new();
    let ready = setup_for(ctx, &opts.selected, &mut records);

    let mut stop = opts.fail_fast && records.iter().any(|r| !matches!(r.outcome, Outcome::Ok));
    let mut built_ok = None;
    for (i, step) in opts.selected.iter().enumerate() {
        let record = if stop {
            skipped(step.name, "an earlier step failed (--fail-fast)")
        } else if let Some(why) = ready.blocker(step.needs) {
            skipped(step.name, why)
        } else if step.name == "e2e" && built_ok == Some(false) {
            skipped(step.name, "the release build failed")
        } else {
            announce(&format!(
                "[{}/{}] {}: {}",
                i + 1,
                opts.selected.len(),
                step.name,
                step.about
            ));
            let t = Instant::now();
            let (result, closing) = run_step(ctx, step.name);
            let outcome = match result {
                Ok(()) => Outcome::Ok,
                Err(e) => {
                    eprintln!("\n{} FAILED: {e}", step.name);
                    Outcome::Failed(e)
                }
            };
            Record {
                name: step.name,
                outcome,
                took: t.elapsed(),
                closing,
            }
        };
        if step.name == "build" {
            built_ok = Some(matches!(record.outcome, Outcome::Ok));
        }
        stop |= opts.fail_fast && !matches!(record.outcome, Outcome::Ok);
        records.push(record);
    }
    Ok(summarise(&records, started.elapsed()))
}

fn skipped(name: &'static str, why: &str) -> Record {
    Record {
        name,
        outcome: Outcome::Skipped(why.to_string()),
        took: Duration::ZERO,
        closing: Vec::new(),
    }
}

/// Which needs could not be met, and why.
#[derive(Default)]
struct Ready {
    wasm: Option<String>,
    web_build: Option<String>,
    browser: Option<String>,
}

impl Ready {
    fn blocker(&self, needs: Needs) -> Option<&str> {
        match needs {
            Needs::Nothing => None,
            Needs::Wasm => self.wasm.as_deref(),
            Needs::WebBuild => self.web_build.as_deref(),
            Needs::Browser => self.browser.as_deref(),
        }
    }
}

/// Installs what the selected steps need, recorded as a step called setup.
fn setup_for(ctx: &Ctx, steps: &[&Step], records: &mut Vec<Record>) -> Ready {
    let needs = |n: Needs| steps.iter().any(|s| s.needs == n);
    let mut ready = Ready::default();
    if !(needs(Needs::Wasm) || needs(Needs::WebBuild) || needs(Needs::Browser)) {
        return ready;
    }
    announce("setup: checking the tools the selected steps need");
    let t = Instant::now();
    let mut errors = Vec::new();
    let fail = |e: String, errors: &mut Vec<String>| {
        eprintln!("\nsetup FAILED: {e}");
        errors.push(e.clone());
        Some("setup failed".to_string())
    };
    if needs(Needs::Wasm) || needs(Needs::WebBuild) {
        if let Err(e) = setup::wasm_target(ctx) {
            let why = fail(e, &mut errors);
            ready.wasm.clone_from(&why);
            ready.web_build = why;
        }
    }
    let pins = match Pins::read(&ctx.root) {
        Ok(p) => Some(p),
        Err(e) => {
            let why = fail(e, &mut errors);
            ready.web_build.clone_from(&why);
            ready.browser = why;
            None
        }
    };
    if let Some(pins) = &pins {
        if needs(Needs::WebBuild) && ready.web_build.is_none() {
            let r = setup::trunk(ctx)
                .and_then(|()| setup::wasm_bindgen(ctx, pins))
                .and_then(|()| setup::node_packages(ctx, pins))
                .and_then(|()| setup::fetch_crates(ctx));
            if let Err(e) = r {
                ready.web_build = fail(e, &mut errors);
            }
        }
        if needs(Needs::Browser) {
            let r = setup::node_packages(ctx, pins).and_then(|()| setup::chromium(ctx));
            if let Err(e) = r {
                ready.browser = fail(e, &mut errors);
            }
        }
    }
    records.push(Record {
        name: "setup",
        outcome: if errors.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Failed(errors.join("; "))
        },
        took: t.elapsed(),
        closing: Vec::new(),
    });
    ready
}

/// cargo test's and node's test runner's closing lines.
fn is_closing_line(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("test result:")
        || [
            "ℹ tests ",
            "ℹ pass ",
            "ℹ fail ",
            "ℹ skipped ",
            "ℹ cancelled ",
        ]
        .iter()
        .any(|p| line.starts_with(p))
}

fn run_step(ctx: &Ctx, name: &str) -> (Result<(), String>, Vec<String>) {
    let cargo = |args: &[&str]| {
        let mut cmd = ctx.cmd("cargo");
        cmd.args(args);
        cmd
    };
    let plain = |cmd| (run(cmd), Vec::new());
    match name {
        "fmt" => plain(cargo(&["fmt", "--all", "--check"])),
        "clippy" => plain(cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
        "clippy-wasm" => plain(cargo(&[
            "clippy",
            "-p",
            "raftlab-web",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
        "test" => run_collecting(
            cargo(&["test", "--workspace", "--exclude", "raftlab-web"]),
            is_closing_line,
        ),
        "test-web" => run_collecting(cargo(&["test", "-p", "raftlab-web"]), is_closing_line),
        "build" => plain(trunk_build(ctx)),
        "e2e" => {
            if !ctx.root.join("dist/index.html").is_file() {
                let err = "dist/index.html is missing: run the build step first".to_string();
                return (Err(err), Vec::new());
            }
            let mut cmd = ctx.cmd("npm");
            cmd.args(["run", "--silent", "test"])
                .current_dir(ctx.root.join("e2e"))
                .env("CHROMIUM_PATH", setup::chromium_path());
            run_collecting(cmd, is_closing_line)
        }
        other => unreachable!("unknown step {other}"),
    }
}

/// `trunk build --release`, which also runs wasm-opt (found on xtask's PATH
/// in e2e/node_modules/.bin).
pub fn trunk_build(ctx: &Ctx) -> std::process::Command {
    let mut cmd = ctx.cmd("trunk");
    cmd.args(["build", "--release"]);
    cmd
}

fn summarise(records: &[Record], total: Duration) -> i32 {
    println!("\n==> summary");
    let mut bad = 0;
    for r in records {
        let (word, note) = match &r.outcome {
            Outcome::Ok => ("ok", String::new()),
            Outcome::Failed(e) => {
                bad += 1;
                ("FAILED", format!("  ({e})"))
            }
            Outcome::Skipped(why) => {
                bad += 1;
                ("skipped", format!("  ({why})"))
            }
        };
        println!(
            "    {word:<8} {:<12} {:>8}{note}",
            r.name,
            fmt_duration(r.took)
        );
        for line in &r.closing {
            println!("                          {line}");
        }
    }
    if bad == 0 {
        println!(
            "xtask test: all {} steps ok in {}",
            records.len(),
            fmt_duration(total)
        );
    } else {
        println!(
            "xtask test: {bad} of {} steps FAILED or did not run, in {}",
            records.len(),
            fmt_duration(total)
        );
    }
    let counts = records
        .iter()
        .flat_map(|r| &r.closing)
        .fold(Counts::default(), |acc, line| acc.add(line));
    let skipped = if counts.skipped > 0 {
        format!(", {} skipped", counts.skipped)
    } else {
        String::new()
    };
    // The test runners' totals, added up, as the very last line.
    println!(
        "tests: {} passed, {} failed{skipped}",
        counts.passed, counts.failed
    );
    i32::from(bad > 0)
}

/// Test counts added up from closing lines.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    passed: u64,
    failed: u64,
    skipped: u64,
}

impl Counts {
    /// Adds the counts of one closing line: cargo's `test result: ok. 8
    /// passed; 0 failed; 1 ignored; ...` or node's `ℹ pass 7`.
    fn add(mut self, line: &str) -> Counts {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("test result:") {
            for part in rest.split(['.', ';']) {
                let mut words = part.split_whitespace();
                if let (Some(n), Some(what)) = (words.next(), words.next()) {
                    if let Ok(n) = n.parse::<u64>() {
                        match what {
                            "passed" => self.passed += n,
                            "failed" => self.failed += n,
                            "ignored" => self.skipped += n,
                            _ => {}
                        }
                    }
                }
            }
        } else if let Some(rest) = line.strip_prefix("ℹ ") {
            let mut words = rest.split_whitespace();
            if let (Some(what), Some(Ok(n))) = (words.next(), words.next().map(str::parse::<u64>)) {
                match what {
                    "pass" => self.passed += n,
                    "fail" | "cancelled" => self.failed += n,
                    "skipped" => self.skipped += n,
                    _ => {}
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: &[&str]) -> Vec<&'static str> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&args)
            .unwrap()
            .unwrap()
            .selected
            .iter()
            .map(|s| s.name)
            .collect()
    }

    #[test]
    fn default_runs_everything_in_order() {
        assert_eq!(
            names(&[]),
            [
                "fmt",
                "clippy",
                "clippy-wasm",
                "test",
                "test-web",
                "build",
                "e2e"
            ]
        );
    }

    #[test]
    fn quick_only_and_skip_filter_steps() {
        assert_eq!(names(&["--quick"]), ["fmt", "clippy", "test", "test-web"]);
        assert_eq!(names(&["--only", "build,e2e"]), ["build", "e2e"]);
        assert_eq!(names(&["--only=e2e"]), ["e2e"]);
        assert_eq!(
            names(&["--quick", "--skip", "fmt"]),
            ["clippy", "test", "test-web"]
        );
    }

    #[test]
    fn bad_options_are_rejected() {
        let parse_strs = |a: &[&str]| parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(parse_strs(&["--only", "bench"]).is_err());
        assert!(parse_strs(&["--frobnicate"]).is_err());
        assert!(parse_strs(&["--only"]).is_err());
        assert!(parse_strs(&["--quick", "--only", "e2e"]).is_err());
    }

    #[test]
    fn closing_lines_add_up() {
        let lines = [
            "test result: ok. 8 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
            "ℹ tests 9",
            "ℹ pass 7",
            "ℹ fail 1",
            "ℹ cancelled 1",
            "ℹ skipped 2",
        ];
        let counts = lines.iter().fold(Counts::default(), |acc, l| acc.add(l));
        assert_eq!(
            counts,
            Counts {
                passed: 18,
                failed: 4,
                skipped: 3
            }
        );
    }

    #[test]
    fn closing_lines_of_both_runners_are_recognised() {
        assert!(is_closing_line(
            "test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
        ));
        assert!(is_closing_line("ℹ pass 3"));
        assert!(is_closing_line("ℹ fail 0"));
        assert!(!is_closing_line("test ring::tests::x ... ok"));
        assert!(!is_closing_line("ℹ duration_ms 812"));
    }
}
