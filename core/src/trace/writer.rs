//! The trace writer: JSON Lines, header first, `seq` assigned from 1 without
//! gaps, byte-deterministic (field order is declaration order; JSON objects
//! kept as raw values have sorted keys).

use std::io::Write;

use serde::Serialize;

use super::{EventKind, TraceError, TraceErrorKind, TraceEvent, TraceHeader};

/// The header as written: `"type":"header"` first, then the header fields.
#[derive(Serialize)]
struct HeaderLine<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    format: &'a str,
    version: u64,
    seed: u64,
    nodes: &'a [u64],
    config: &'a serde_json::Value,
}

/// The header as one JSON line, without the line end.
pub fn header_line(header: &TraceHeader) -> String {
    let line = HeaderLine {
        ty: "header",
        format: &header.format,
        version: header.version,
        seed: header.seed,
        nodes: &header.nodes,
        config: &header.config,
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// Writes a trace to any byte sink (a `Vec<u8>` in the browser, a file in
/// the command-line runner), numbering events itself so `seq` can never
/// have gaps, and refusing time that goes backwards so the output is always
/// a valid trace.
#[derive(Debug)]
pub struct TraceWriter<W: Write> {
    out: W,
    next_seq: u64,
    last_time: u64,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace on `out` by writing the header line.
    pub fn new(mut out: W, header: &TraceHeader) -> Result<Self, TraceError> {
        write_line(&mut out, &header_line(header), 1)?;
        Ok(TraceWriter {
            out,
            next_seq: 1,
            last_time: 0,
        })
    }

    /// Numbers `kind` as the next event at `time`, writes it, and returns
    /// the event (to feed the checker or keep for display).
    pub fn emit(&mut self, time: u64, kind: EventKind) -> Result<TraceEvent, TraceError> {
        let event = TraceEvent {
            seq: self.next_seq,
            time,
            kind,
        };
        self.write_event(&event)?;
        Ok(event)
    }

    /// Writes an already numbered event (e.g. when copying a trace); its
    /// `seq` must be the next one and its time must not go backwards.
    pub fn write_event(&mut self, event: &TraceEvent) -> Result<(), TraceError> {
        let line = self.lines_written() + 1;
        if event.seq != self.next_seq {
            return Err(TraceError {
                line,
                kind: TraceErrorKind::SeqGap {
                    expected: self.next_seq,
                    found: event.seq,
                },
            });
        }
        if event.time < self.last_time {
            return Err(TraceError {
                line,
                kind: TraceErrorKind::TimeDecreasing {
                    previous: self.last_time,
                    found: event.time,
                },
            });
        }
        write_line(&mut self.out, &event.to_line(), line)?;
        self.next_seq += 1;
        self.last_time = event.time;
        Ok(())
    }

    /// The seq the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Lines written so far, the header included.
    pub fn lines_written(&self) -> usize {
        usize::try_from(self.next_seq).unwrap_or(usize::MAX)
    }

    /// Flushes and returns the sink.
    pub fn finish(mut self) -> Result<W, TraceError> {
        let line = self.lines_written();
        self.out.flush().map_err(|e| TraceError {
            line,
            kind: TraceErrorKind::Write(e.to_string()),
        })?;
        Ok(self.out)
    }
}

fn write_line<W: Write>(out: &mut W, text: &str, line: usize) -> Result<(), TraceError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|e| TraceError {
            line,
            kind: TraceErrorKind::Write(e.to_string()),
        })
}
