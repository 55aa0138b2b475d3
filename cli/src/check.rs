//! `raftlab check`: checks a trace from the file alone, streaming, so a
//! trace of millions of events never has to be held in memory. A sharded
//! trace (its header lists groups) is checked per group and per key
//! instead (see `crate::sharded`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use raftlab_core::check::{Checker, ConvergenceChecker, ConvergenceReport, Report, Verdict};
use raftlab_core::trace::{TraceError, TraceErrorKind, TraceParser};

use crate::summary::{self, Tally};
use crate::CheckArgs;

/// Why a check could not finish.
enum Failure {
    /// The file could not be opened or read.
    Io(String),
    /// The trace is malformed.
    Trace(TraceError),
}

fn open(path: &Path) -> Result<(Box<dyn Read>, u64), String> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::stdin().lock()), 0));
    }
    let f = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((Box::new(f), len))
}

/// What a streamed check found.
struct Found {
    report: Report,
    convergence: ConvergenceReport,
    tally: Tally,
    kept: Vec<String>,
}

/// Feeds every line to the parser, the safety checker and the
/// convergence checker.
fn check_stream(
    input: Box<dyn Read>,
    bar: &ProgressBar,
    keep_lines: bool,
) -> Result<Found, Failure> {
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut parser = TraceParser::new();
    let mut checker: Option<(Checker, ConvergenceChecker)> = None;
    let mut tally = Tally::default();
    let mut kept = Vec::new();
    let mut buf = String::new();
    let mut read_bytes = 0u64;
    loop {
        buf.clear();
        let n = reader.read_line(&mut buf).map_err(|e| {
            Failure::Io(format!("cannot read line {}: {e}", parser.lines_read() + 1))
        })?;
        if n == 0 {
            break;
        }
        read_bytes += n as u64;
        if parser.lines_read() & 0xffff == 0 {
            bar.set_position(read_bytes);
        }
        let line = buf.strip_suffix('\n').unwrap_or(&buf);
        match parser.push_line(line).map_err(Failure::Trace)? {
            None => {
                if let Some(h) = parser.header() {
                    checker = Some((Checker::new(h), ConvergenceChecker::new(h)));
                }
            }
            Some(event) => {
                tally.observe(&event);
                if let Some((safety, convergence)) = checker.as_mut() {
                    safety.observe(&event);
                    convergence.observe(&event);
                }
            }
        }
        if keep_lines {
            kept.push(line.to_string());
        }
    }
    bar.set_position(read_bytes);
    let Some((safety, convergence)) = checker else {
        return Err(Failure::Trace(TraceError {
            line: 0,
            kind: TraceErrorKind::Empty,
        }));
    };
    Ok(Found {
        report: safety.finish(),
        convergence: convergence.finish(),
        tally,
        kept,
    })
}

/// Reads again the lines of `seqs` (line = seq + 1) from a file.
fn lines_of(path: &Path, seqs: &BTreeSet<u64>) -> BTreeMap<u64, String> {
    let mut found = BTreeMap::new();
    let Some(&last) = seqs.iter().next_back() else {
        return found;
    };
    let Ok(f) = File::open(path) else {
        return found;
    };
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let Ok(line) = line else { break };
        let seq = i as u64; // line i+1 holds event seq i
        if seq > last {
            break;
        }
        if seqs.contains(&seq) {
            found.insert(seq, line);
        }
    }
    found
}

/// `raftlab check`.
pub fn main(args: &CheckArgs) -> Result<u8, String> {
    let started = std::time::Instant::now();
    let (input, len) = match open(&args.trace) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    let stdin = args.trace.as_os_str() == "-";
    // Peek at the header: a sharded trace goes to the per-group checker.
    let mut input = BufReader::with_capacity(1 << 20, input);
    let mut first = String::new();
    if let Err(e) = input.read_line(&mut first) {
        eprintln!("error: {}: cannot read line 1: {e}", args.trace.display());
        return Ok(2);
    }
    if crate::sharded::is_sharded_header(first.trim_end()) {
        let mut text = first;
        if let Err(e) = input.read_to_string(&mut text) {
            eprintln!("error: {}: {e}", args.trace.display());
            return Ok(2);
        }
        let name = args.trace.display().to_string();
        return Ok(crate::sharded::check(&name, &text, args.explain));
    }
    let input: Box<dyn Read> = Box::new(std::io::Cursor::new(first.into_bytes()).chain(input));
    let bar = ProgressBar::new(len.max(1));
    bar.set_style(
        ProgressStyle::with_template("{spinner} checking [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let result = check_stream(input, &bar, stdin);
    bar.finish_and_clear();
    let Found {
        report,
        convergence,
        tally,
        kept,
    } = match result {
        Ok(x) => x,
        Err(Failure::Io(e)) => {
            eprintln!("error: {}: {e}", args.trace.display());
            return Ok(2);
        }
        Err(Failure::Trace(e)) => {
            eprintln!("error: {}: unreadable trace: {e}", args.trace.display());
            return Ok(2);
        }
    };
    println!(
        "raftlab check: {} ({} events checked in {:.2} s)",
        args.trace.display(),
        report.events,
        started.elapsed().as_secs_f64()
    );
    print!("{}", summary::render(&report, &tally));
    print!("{}", summary::render_types(&report));
    print!("{}", summary::render_linearizability(&report));
    print!("{}", summary::render_verdict(&report));
    // A trace with a calm period is judged on recovery too (exit 3 when
    // stuck, after safety: a violation is the graver finding).
    let stuck = convergence.verdict != Verdict::NoCalm && {
        println!("convergence: {}", convergence.summary());
        for u in convergence.unmet.iter().skip(1) {
            println!("             also: {}", u.message);
        }
        convergence.is_stuck()
    };
    if report.is_safe() {
        return Ok(if stuck { 3 } else { 0 });
    }
    let shown = &report.violations[..report.violations.len().min(args.explain)];
    let wanted: BTreeSet<u64> = shown
        .iter()
        .flat_map(|v| v.related.iter().copied().chain([v.seq]))
        .collect();
    let lines = if stdin {
        wanted
            .iter()
            .filter_map(|&s| kept.get(s as usize).map(|l| (s, l.clone())))
            .collect()
    } else {
        lines_of(&args.trace, &wanted)
    };
    for v in shown {
        print!("{}", summary::explain(v, &|seq| lines.get(&seq).cloned()));
    }
    Ok(1)
}
