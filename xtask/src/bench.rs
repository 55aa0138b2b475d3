//! `cargo xtask bench`: raftlab's benchmarks (issue 7), run several times
//! each, printed as one table (best run and spread) and, for a full run,
//! written into BENCHMARKS.md between its generated-section markers.
//!
//! | part | what | how |
//! |---|---|---|
//! | core | throughput (N=3,5 × B=1,64) and the election storm | `core/examples/bench_core.rs` |
//! | sim | simulated s per wall s, native and wasm; memory after an hour | `core/examples/bench_sim.rs`, `e2e/bench/sim-speed.mjs` |
//! | check | checker events/s on a million-event trace | `core/examples/check_bench.rs` |
//! | page | gzipped sizes, first render, frame times, page memory | `e2e/bench/page.mjs` |
//!
//! Every benchmark prints `key=value` lines (`impl=raftlab mode=...`); this
//! module runs them, collects those lines and summarises them. Nothing here
//! is a test: no figure fails the command, budgets are only reported.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::pins::Pins;
use crate::setup;
use crate::suite;
use crate::util::{announce, describe, run, Ctx};

const USAGE: &str = "\
usage: cargo xtask bench [core|sim|check|page|all] [--runs N] [--quick]

  core     core throughput and the election storm (prints key=value lines)
  sim      simulator speed natively and in wasm (headless Chromium), memory
  check    the checker on a million-event trace
  page     release build sizes, first render, frame times, page memory
  all      everything (the default); also rewrites BENCHMARKS.md
  --runs   runs per benchmark (default 3): the best is reported, with the spread
  --quick  smaller inputs (a smoke run; BENCHMARKS.md is not written)";

const BEGIN: &str = "<!-- xtask bench: generated table begins -->";
const END: &str = "<!-- xtask bench: generated table ends -->";

/// One `key=value` line of a benchmark (with the line itself under [`RAW`]).
type Line = BTreeMap<String, String>;
const RAW: &str = "_line";

fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim();
    if !line.starts_with("impl=") {
        return None;
    }
    let mut parsed: Line = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parsed.insert(RAW.to_string(), line.to_string());
    Some(parsed)
}

/// A figure measured several times.
#[derive(Clone, Debug, Default)]
struct Figure {
    values: Vec<f64>,
}

impl Figure {
    fn best(&self, higher_is_better: bool) -> f64 {
        let it = self.values.iter().copied();
        if higher_is_better {
            it.fold(f64::MIN, f64::max)
        } else {
            it.fold(f64::MAX, f64::min)
        }
    }
    fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::MAX, f64::min)
    }
    fn max(&self) -> f64 {
        self.values.iter().copied().fold(f64::MIN, f64::max)
    }
}

/// A row of the table.
struct Row {
    item: &'static str,
    what: String,
    unit: &'static str,
    higher_is_better: bool,
    figure: Figure,
    /// A reference figure or budget, as text, and whether the best meets it.
    target: Option<(String, bool)>,
}

struct Options {
    parts: Vec<&'static str>,
    runs: usize,
    quick: bool,
}

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut parts = Vec::new();
    let mut runs = 3;
    let mut quick = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "core" => parts.push("core"),
            "sim" => parts.push("sim"),
            "check" => parts.push("check"),
            "page" => parts.push("page"),
            "all" => parts.extend(["core", "sim", "check", "page"]),
            "--quick" => quick = true,
            "--runs" => {
                runs = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs needs a positive number")?
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => match other.strip_prefix("--runs=") {
                Some(n) => {
                    runs = n
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or("--runs needs a positive number")?
                }
                None => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
            },
        }
    }
    if parts.is_empty() {
        parts.extend(["core", "sim", "check", "page"]);
    }
    parts.dedup();
    Ok(Some(Options { parts, runs, quick }))
}

/// Runs `cmd`, echoing its output, and returns its key=value lines.
fn collect(mut cmd: Command) -> Result<Vec<Line>, String> {
    let line = describe(&cmd);
    println!("    $ {line}");
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    for l in text.lines() {
        println!("    {l}");
    }
    if !out.status.success() {
        return Err(format!("`{line}` failed ({})", out.status));
    }
    Ok(text.lines().filter_map(parse_line).collect())
}

fn example(ctx: &Ctx, name: &str, args: &[&str]) -> Command {
    let mut cmd = ctx.cmd("cargo");
    cmd.args([
        "run",
        "--quiet",
        "--profile",
        "fast",
        "-p",
        "raftlab-core",
        "--example",
        name,
        "--",
    ])
    .args(args);
    cmd
}

/// Where the benchmarks' release build goes (not dist/, which others use).
const BENCH_DIST: &str = "target/bench/dist";

fn node_script(ctx: &Ctx, script: &str, args: &[&str]) -> Command {
    let mut cmd = ctx.cmd("node");
    cmd.arg(ctx.root.join("e2e/bench").join(script))
        .args(args)
        .current_dir(ctx.root.join("e2e"))
        .env("CHROMIUM_PATH", setup::chromium_path())
        .env("RAFTLAB_DIST", ctx.root.join(BENCH_DIST));
    cmd
}

fn num(line: &Line, key: &str) -> Option<f64> {
    line.get(key)?.parse().ok()
}

fn matches(line: &Line, pairs: &[(&str, &str)]) -> bool {
    pairs
        .iter()
        .all(|(k, v)| line.get(*k).map(String::as_str) == Some(*v))
}

/// Every value of `key` over the lines that match `pairs`.
fn figure(lines: &[Line], pairs: &[(&str, &str)], key: &str) -> Figure {
    Figure {
        values: lines
            .iter()
            .filter(|l| matches(l, pairs))
            .filter_map(|l| num(l, key))
            .collect(),
    }
}

/// tikv raft-rs in the same shape on these machines (issue 7).
const RAFT_RS: [(u64, u64, f64); 4] = [
    (3, 1, 283_000.0),
    (3, 64, 463_000.0),
    (5, 1, 185_000.0),
    (5, 64, 222_000.0),
];
const RAFT_RS_ELECTIONS: f64 = 89_000.0;

pub fn main(ctx: &Ctx, args: &[String]) -> Result<i32, String> {
    let Some(opts) = parse(args)? else {
        return Ok(0);
    };
    let load = ctx.output_of("uptime", &[]).unwrap_or_default();
    println!("raftlab: cargo xtask bench: {}", opts.parts.join(", "));
    println!("    machine: {load}");
    let mut lines: Vec<Line> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let runs = opts.runs;
    let has = |p: &str| opts.parts.contains(&p);

    if has("core") {
        announce(&format!(
            "core: throughput and election storm, {runs} runs (fast profile)"
        ));
        let (entries, elections) = if opts.quick {
            ("20000", "1000")
        } else {
            ("200000", "10000")
        };
        for _ in 0..runs {
            lines.extend(collect(example(
                ctx,
                "bench_core",
                &["all", entries, elections],
            ))?);
        }
        for (n, b, reference) in RAFT_RS {
            let (ns, bs) = (n.to_string(), b.to_string());
            let sel = [("mode", "throughput"), ("nodes", &ns), ("batch", &bs)];
            let f = figure(&lines, &sel, "entries_per_sec");
            let ok = f.best(true) > reference;
            rows.push(Row {
                item: "1 core",
                what: format!("throughput, {n} nodes, batch {b}"),
                unit: "entries/s",
                higher_is_better: true,
                figure: f,
                target: Some((format!("raft-rs {}", human(reference)), ok)),
            });
            rows.push(Row {
                item: "1 core",
                what: format!("messages, {n} nodes, batch {b}"),
                unit: "msgs/s",
                higher_is_better: true,
                figure: figure(&lines, &sel, "msgs_per_sec"),
                target: None,
            });
        }
        let f = figure(&lines, &[("mode", "elections")], "elections_per_sec");
        let ok = f.best(true) > RAFT_RS_ELECTIONS;
        rows.push(Row {
            item: "2 elections",
            what: "election storm, 5 nodes".into(),
            unit: "elections/s",
            higher_is_better: true,
            figure: f,
            target: Some((format!("raft-rs {}", human(RAFT_RS_ELECTIONS)), ok)),
        });
    }

    let need_dist = has("page") || has("sim");
    if need_dist {
        announce("release build of the page into dist/ (for the browser benchmarks)");
        setup::web_build(ctx, true)?;
        setup::node_packages(ctx, &Pins::read(&ctx.root)?)?;
        setup::chromium(ctx)?;
        // Its own dist folder: dist/ may be rebuilt by someone else meanwhile.
        let mut build = suite::trunk_build(ctx);
        build.arg("--dist").arg(ctx.root.join(BENCH_DIST));
        run(build)?;
    }

    if has("sim") {
        let secs = if opts.quick { "10" } else { "300" };
        announce(&format!(
            "sim: {secs} simulated s of 5 nodes under chaos, native and wasm, {runs} runs"
        ));
        for _ in 0..runs {
            lines.extend(collect(example(ctx, "bench_sim", &["speed", secs]))?);
        }
        let runs_s = runs.to_string();
        // The page's wasm twice: cold (the first run after the page loads,
        // partly in V8's baseline compiler) and after one untimed run of the
        // same workload, as natively. The budget is read warm: experiments
        // and fast-forward run far longer than the tier-up takes.
        for warmup in ["0", "1"] {
            lines.extend(collect(node_script(
                ctx,
                "sim-speed.mjs",
                &["--secs", secs, "--runs", &runs_s, "--warmup", warmup],
            ))?);
        }
        let native = figure(
            &lines,
            &[("mode", "sim"), ("target", "native")],
            "sim_secs_per_sec",
        );
        let wasm = figure(
            &lines,
            &[("mode", "sim"), ("target", "wasm"), ("warmup", "1")],
            "sim_secs_per_sec",
        );
        let cold = figure(
            &lines,
            &[("mode", "sim"), ("target", "wasm"), ("warmup", "0")],
            "sim_secs_per_sec",
        );
        let cold_ratio = if native.values.is_empty() || cold.values.is_empty() {
            None
        } else {
            Some(cold.best(true) / native.best(true))
        };
        let ratio = if native.values.is_empty() || wasm.values.is_empty() {
            None
        } else {
            Some(wasm.best(true) / native.best(true))
        };
        rows.push(Row {
            item: "3 sim",
            what: "simulator, native".into(),
            unit: "sim s/s",
            higher_is_better: true,
            figure: native,
            target: None,
        });
        rows.push(Row {
            item: "3 sim",
            what: match cold_ratio {
                Some(r) => format!(
                    "simulator, wasm (Chromium), cold: the first run after load ({r:.2}× native)"
                ),
                None => "simulator, wasm (Chromium), cold: the first run after load".into(),
            },
            unit: "sim s/s",
            higher_is_better: true,
            figure: cold,
            target: None,
        });
        rows.push(Row {
            item: "3 sim",
            what: "simulator, wasm (Chromium), after a warm-up run".into(),
            unit: "sim s/s",
            higher_is_better: true,
            figure: wasm,
            target: ratio.map(|r| (format!("{r:.2}× native; budget ≥ 0.5×"), r >= 0.5)),
        });
        let hour = if opts.quick { "300" } else { "3600" };
        announce(&format!(
            "sim: memory after {hour} simulated s (the page's default run), native"
        ));
        lines.extend(collect(example(ctx, "bench_sim", &["memory", hour, "0"]))?);
        lines.extend(collect(example(
            ctx,
            "bench_sim",
            &["memory", hour, PAGE_HISTORY],
        ))?);
        for history in ["0", PAGE_HISTORY] {
            let sel = [
                ("mode", "memory"),
                ("target", "native"),
                ("history", history),
            ];
            rows.push(Row {
                item: "3 sim",
                what: format!(
                    "heap after {hour} s, history {}",
                    if history == "0" { "unbounded" } else { history }
                ),
                unit: "MB",
                higher_is_better: false,
                figure: figure(&lines, &sel, "live_mb"),
                target: None,
            });
        }
    }

    if has("page") {
        announce(&format!(
            "page: sizes, first render, frame times and memory in headless Chromium, {runs} runs"
        ));
        let runs_s = runs.to_string();
        let hour = if opts.quick { "300" } else { "3600" };
        lines.extend(collect(node_script(
            ctx,
            "page.mjs",
            &["--runs", &runs_s, "--hour", hour, "--history", PAGE_HISTORY],
        ))?);
        page_rows(&lines, &mut rows);
    }

    if has("check") {
        let events = if opts.quick { "100000" } else { "1000000" };
        announce(&format!(
            "check: the checker over {events} events, {runs} runs"
        ));
        for _ in 0..runs {
            lines.extend(collect(example(ctx, "check_bench", &[events]))?);
        }
        rows.push(Row {
            item: "5 checker",
            what: format!("checker, {events}-event trace"),
            unit: "events/s",
            higher_is_better: true,
            figure: figure(&lines, &[("mode", "check")], "events_per_sec"),
            target: None,
        });
    }

    let table = render(&rows);
    announce("results (best of the runs; spread is min–max)");
    println!("{table}");
    if has("core") {
        println!("key=value lines of the core runs:");
        for l in lines.iter().filter(|l| {
            matches!(
                l.get("mode").map(String::as_str),
                Some("throughput" | "elections")
            )
        }) {
            println!("    {}", l[RAW]);
        }
    }
    let full = ["core", "sim", "check", "page"]
        .iter()
        .all(|p| opts.parts.contains(p));
    let load_after = ctx.output_of("uptime", &[]).unwrap_or_default();
    println!("    machine at the end: {load_after}");
    if full && !opts.quick {
        let load = format!("at the start `{load}`, at the end `{load_after}`");
        write_benchmarks(&ctx.root, &table, &load, runs)?;
        println!("\nwrote the table into BENCHMARKS.md");
    }
    Ok(0)
}

/// The history limit the page benchmarks try (events).
const PAGE_HISTORY: &str = "100000";

fn page_rows(lines: &[Line], rows: &mut Vec<Row>) {
    let size = |file: &str| figure(lines, &[("mode", "size"), ("file", file)], "gzip_kb");
    let total = size("total");
    let t = total.best(false);
    rows.push(Row {
        item: "4 page",
        what: "wasm, gzipped".into(),
        unit: "KB",
        higher_is_better: false,
        figure: size("wasm"),
        target: None,
    });
    rows.push(Row {
        item: "4 page",
        what: "JS, gzipped".into(),
        unit: "KB",
        higher_is_better: false,
        figure: size("js"),
        target: None,
    });
    rows.push(Row {
        item: "4 page",
        what: "wasm + JS, gzipped".into(),
        unit: "KB",
        higher_is_better: false,
        figure: total,
        target: Some(("budget < 250".into(), t < 250.0)),
    });
    // Fetched on demand, not part of the page's load: the experiment worker
    // when an experiment starts, sharded mode's module for ?mode=sharded.
    rows.push(Row {
        item: "4 page",
        what: "experiment worker (wasm + JS), gzipped".into(),
        unit: "KB",
        higher_is_better: false,
        figure: size("worker"),
        target: None,
    });
    rows.push(Row {
        item: "4 page",
        what: "sharded mode's module (wasm + JS), gzipped".into(),
        unit: "KB",
        higher_is_better: false,
        figure: size("sharded"),
        target: None,
    });
    let first = |view: &str| figure(lines, &[("mode", "first_render"), ("view", view)], "ms");
    let single = first("single");
    let f = single.best(false);
    rows.push(Row {
        item: "4 page",
        what: "navigation → first cluster".into(),
        unit: "ms",
        higher_is_better: false,
        figure: single,
        target: Some(("budget < 500".into(), f < 500.0)),
    });
    // Sharded mode: the page's module, then sharded mode's own, fetched and
    // started before its first group is drawn.
    rows.push(Row {
        item: "4 page",
        what: "navigation → first cluster, ?mode=sharded".into(),
        unit: "ms",
        higher_is_better: false,
        figure: first("sharded"),
        target: None,
    });
    let frames = |k: &str| figure(lines, &[("mode", "frames")], k);
    let inflight = frames("in_flight_median").best(true);
    rows.push(Row {
        item: "4 page",
        what: format!("frame interval, median (9 nodes, ~{inflight:.0} msgs in flight)"),
        unit: "ms",
        higher_is_better: false,
        figure: frames("median_ms"),
        target: None,
    });
    // The frame budget, read as a 60 Hz display allows: frames arrive
    // every 16.7 ms at best, so the intervals' p95 is never under 16 ms.
    // What "p95 frame under 16 ms" can ask is that 95% of frames take under
    // 16 ms of main-thread work (from a Chromium trace) and come on time.
    rows.push(Row {
        item: "4 page",
        what: "frame interval, p95 (60 Hz: 16.7 ms at best)".into(),
        unit: "ms",
        higher_is_better: false,
        figure: frames("p95_ms"),
        target: None,
    });
    let on_time = frames("on_time_pct");
    let o = on_time.best(true);
    rows.push(Row {
        item: "4 page",
        what: "frames on time (interval ≤ 1.5 display frames)".into(),
        unit: "%",
        higher_is_better: true,
        figure: on_time,
        target: Some(("budget ≥ 95%".into(), o >= 95.0)),
    });
    let work = |k: &str| figure(lines, &[("mode", "frame_work")], k);
    rows.push(Row {
        item: "4 page",
        what: "main-thread work per frame, median".into(),
        unit: "ms",
        higher_is_better: false,
        figure: work("main_median_ms"),
        target: None,
    });
    let work_p95 = work("main_p95_ms");
    let w = work_p95.best(false);
    rows.push(Row {
        item: "4 page",
        what: "main-thread work per frame, p95".into(),
        unit: "ms",
        higher_is_better: false,
        figure: work_p95,
        target: Some(("budget < 16".into(), w < 16.0)),
    });
    for history in ["0", PAGE_HISTORY] {
        let mem = figure(
            lines,
            &[("mode", "page_memory"), ("history", history)],
            "total_mb",
        );
        let m = mem.best(false);
        let hours = lines
            .iter()
            .find(|l| matches(l, &[("mode", "page_memory")]))
            .and_then(|l| num(l, "sim_secs"))
            .unwrap_or(0.0);
        rows.push(Row {
            item: "4 page",
            what: format!(
                "JS heap + wasm memory after {hours:.0} sim s, history {}",
                if history == "0" { "unbounded" } else { history }
            ),
            unit: "MB",
            higher_is_better: false,
            figure: mem,
            // The budget is about the page as it runs (bounded history);
            // the unbounded row shows what the bound saves.
            target: if history == "0" {
                None
            } else {
                Some(("budget < 150".into(), m < 150.0))
            },
        });
    }
    // The app itself (every panel, the page's own history limit) after the
    // same simulated hour, driven a second at a time.
    let app = figure(lines, &[("mode", "app_memory")], "total_mb");
    if !app.values.is_empty() {
        let m = app.best(false);
        let secs = lines
            .iter()
            .find(|l| matches(l, &[("mode", "app_memory")]))
            .and_then(|l| num(l, "sim_secs"))
            .unwrap_or(0.0);
        rows.push(Row {
            item: "4 page",
            what: format!(
                "the app's JS heap + wasm memory after {secs:.0} sim s (its own history limit)"
            ),
            unit: "MB",
            higher_is_better: false,
            figure: app,
            target: Some(("budget < 150".into(), m < 150.0)),
        });
    }
}

/// 283k, 1.4M, 12.5.
fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| item | benchmark | best | spread (min–max) | runs | reference / budget |\n|---|---|---:|---:|---:|---|\n",
    );
    for r in rows {
        let f = &r.figure;
        let (best, spread) = if f.values.is_empty() {
            ("—".to_string(), "not measured".to_string())
        } else {
            (
                format!("{} {}", human(f.best(r.higher_is_better)), r.unit),
                format!("{}–{}", human(f.min()), human(f.max())),
            )
        };
        let target = match &r.target {
            Some((t, ok)) if !f.values.is_empty() => {
                format!("{t} {}", if *ok { "✅" } else { "❌" })
            }
            Some((t, _)) => t.clone(),
            None => String::new(),
        };
        out.push_str(&format!(
            "| {} | {} | {best} | {spread} | {} | {target} |\n",
            r.item,
            r.what,
            f.values.len()
        ));
    }
    out
}

fn write_benchmarks(root: &Path, table: &str, load: &str, runs: usize) -> Result<(), String> {
    let path = root.join("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        format!("# raftlab benchmarks\n\nRun `cargo xtask bench`.\n\n{BEGIN}\n{END}\n")
    });
    let (Some(b), Some(e)) = (old.find(BEGIN), old.find(END)) else {
        return Err(format!(
            "BENCHMARKS.md lacks the markers `{BEGIN}` and `{END}`"
        ));
    };
    let generated = format!(
        "{BEGIN}\n\nLatest `cargo xtask bench` ({runs} runs each; machine {load}):\n\n{table}\n{END}"
    );
    let new = format!("{}{generated}{}", &old[..b], &old[e + END.len()..]);
    std::fs::write(&path, new).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_lines_are_parsed_and_summarised() {
        let lines: Vec<Line> = [
            "impl=raftlab mode=throughput nodes=3 entries=200000 batch=1 secs=0.41 entries_per_sec=487000 msgs=1600000 msgs_per_sec=3900000",
            "noise",
            "impl=raftlab mode=throughput nodes=3 entries=200000 batch=1 secs=0.39 entries_per_sec=512000 msgs=1600000 msgs_per_sec=4100000",
        ]
        .iter()
        .filter_map(|l| parse_line(l))
        .collect();
        assert_eq!(lines.len(), 2);
        let f = figure(
            &lines,
            &[("mode", "throughput"), ("nodes", "3")],
            "entries_per_sec",
        );
        assert_eq!(f.best(true), 512_000.0);
        assert_eq!((f.min(), f.max()), (487_000.0, 512_000.0));
        let table = render(&[Row {
            item: "1 core",
            what: "x".into(),
            unit: "entries/s",
            higher_is_better: true,
            figure: f,
            target: Some(("raft-rs 283k".into(), true)),
        }]);
        assert!(table.contains("| 1 core | x | 512k entries/s | 487k–512k | 2 | raft-rs 283k ✅ |"));
    }

    #[test]
    fn first_render_has_a_row_per_view() {
        let lines: Vec<Line> = [
            "impl=raftlab mode=first_render view=single ms=150",
            "impl=raftlab mode=first_render view=sharded ms=240",
            "impl=raftlab mode=first_render view=single ms=130",
            "impl=raftlab mode=first_render view=sharded ms=210",
        ]
        .iter()
        .filter_map(|l| parse_line(l))
        .collect();
        let mut rows = Vec::new();
        page_rows(&lines, &mut rows);
        let row = |what: &str| rows.iter().find(|r| r.what == what).expect(what);
        let single = row("navigation → first cluster");
        assert_eq!((single.figure.min(), single.figure.max()), (130.0, 150.0));
        assert_eq!(single.target, Some(("budget < 500".into(), true)));
        let sharded = row("navigation → first cluster, ?mode=sharded");
        assert_eq!((sharded.figure.min(), sharded.figure.max()), (210.0, 240.0));
    }

    #[test]
    fn options() {
        let p = |a: &[&str]| parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let o = p(&[]).unwrap().unwrap();
        assert_eq!(o.parts, ["core", "sim", "check", "page"]);
        assert_eq!(o.runs, 3);
        let o = p(&["core", "--runs", "5"]).unwrap().unwrap();
        assert_eq!((o.parts, o.runs), (vec!["core"], 5));
        assert!(p(&["--runs", "0"]).is_err());
        assert!(p(&["frobnicate"]).is_err());
    }
}
