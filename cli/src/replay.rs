//! `raftlab replay`: re-simulates a trace from its header and its `action`
//! events and confirms the result is the same trace, byte for byte. This is
//! what makes a trace a complete, shareable reproduction of a run. With
//! `--narrate` it first tells the trace in the page's words, one line per
//! event.

use std::io::Write;

use raftlab_core::sim::{actions_of, Sim};
use raftlab_core::trace::describe::{feed_line, Narrator};
use raftlab_core::trace::{read_trace, TraceEvent};

use crate::run::time_bar;
use crate::ReplayArgs;

/// The first line where two traces differ: (line number, expected, found).
pub fn first_difference<'a>(
    original: &'a str,
    replayed: &'a str,
) -> Option<(usize, Option<&'a str>, Option<&'a str>)> {
    let mut a = original.split_inclusive('\n');
    let mut b = replayed.split_inclusive('\n');
    let mut line = 0;
    loop {
        line += 1;
        match (a.next(), b.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => return Some((line, x, y)),
        }
    }
}

pub fn show(line: Option<&str>) -> String {
    match line {
        None => "(end of trace)".to_string(),
        Some(l) => {
            let l = l.strip_suffix('\n').unwrap_or(l);
            if l.len() > 600 {
                let mut end = 600;
                while !l.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}...", &l[..end])
            } else {
                l.to_string()
            }
        }
    }
}

/// Tells `events` on standard output as the page's feed does, one line per
/// event with its time and seq. A closed pipe (`| head`) ends the story
/// quietly rather than as an error.
pub fn narrate(events: &[TraceEvent]) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut narrator = Narrator::new();
    for e in events {
        let (_, text) = narrator.tell(e);
        if writeln!(out, "{}", feed_line(e, &text)).is_err() {
            return;
        }
    }
    let _ = out.flush();
}

/// `raftlab replay`.
pub fn main(args: &ReplayArgs) -> Result<u8, String> {
    let path = &args.trace;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return Ok(2);
        }
    };
    if text
        .lines()
        .next()
        .is_some_and(crate::sharded::is_sharded_header)
    {
        if args.narrate {
            eprintln!("error: --narrate tells single-group traces; this one is sharded");
            return Ok(2);
        }
        return Ok(crate::sharded::replay(&path.display().to_string(), &text));
    }
    let trace = match read_trace(&text) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: unreadable trace: {e}", path.display());
            return Ok(2);
        }
    };
    if args.narrate {
        narrate(&trace.events);
    }
    let actions = actions_of(&trace.events);
    let until = trace.events.last().map(|e| e.time).unwrap_or(0);
    let mut sim = match Sim::from_header(&trace.header, &actions) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: cannot re-create the run: {e}", path.display());
            return Ok(2);
        }
    };
    let started = std::time::Instant::now();
    let bar = time_bar(until);
    let mut t = 0;
    loop {
        t = (t + 1000).min(until);
        sim.run_until(t);
        bar.set_position(t);
        if t >= until {
            break;
        }
    }
    bar.finish_and_clear();
    let replayed = sim.trace_jsonl();
    println!(
        "raftlab replay: {} (seed {}, {} nodes, {} actions, {} events, {:.1} s simulated, re-run in {:.2} s)",
        path.display(),
        trace.header.seed,
        trace.header.nodes.len(),
        actions.len(),
        trace.events.len(),
        until as f64 / 1000.0,
        started.elapsed().as_secs_f64()
    );
    match first_difference(&text, &replayed) {
        None => {
            println!("identical: the replay reproduces the trace byte for byte");
            Ok(0)
        }
        Some((line, want, got)) => {
            println!("DIFFERENT: first difference at line {line}");
            println!("  trace:  {}", show(want));
            println!("  replay: {}", show(got));
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn differences() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        assert_eq!(
            first_difference("a\nb\n", "a\nc\n"),
            Some((2, Some("b\n"), Some("c\n")))
        );
        assert_eq!(
            first_difference("a\n", "a\nb\n"),
            Some((2, None, Some("b\n")))
        );
        assert_eq!(
            first_difference("a\nb", "a\nb\n"),
            Some((2, Some("b"), Some("b\n")))
        );
    }
}
