//! The trace reader: line by line, so a million-event file never has to be
//! held as parsed events, with an error naming the line and the problem.

use crate::json::{plain_words, syntax_words};

use super::{
    EventKind, Trace, TraceError, TraceErrorKind, TraceEvent, TraceHeader, TRACE_FORMAT,
    TRACE_VERSION,
};

/// A push parser: feed it lines (without their `\n`) in order. It checks
/// the header, `seq` continuity and non-decreasing `time`, and ignores
/// unknown fields. Use it directly to stream from a file; `TraceReader`
/// wraps it for text already in memory.
#[derive(Clone, Debug, Default)]
pub struct TraceParser {
    header: Option<TraceHeader>,
    line: usize,
    next_seq: u64,
    last_time: u64,
}

impl TraceParser {
    /// A parser expecting the header line first.
    pub fn new() -> Self {
        TraceParser {
            header: None,
            line: 0,
            next_seq: 1,
            last_time: 0,
        }
    }

    /// The header, once line 1 has been read.
    pub fn header(&self) -> Option<&TraceHeader> {
        self.header.as_ref()
    }

    /// Lines fed so far.
    pub fn lines_read(&self) -> usize {
        self.line
    }

    /// Reads the next line: `Ok(None)` for the header, `Ok(Some(event))`
    /// for an event.
    pub fn push_line(&mut self, text: &str) -> Result<Option<TraceEvent>, TraceError> {
        self.line += 1;
        let line = self.line;
        let err = |kind| TraceError { line, kind };
        if text.trim().is_empty() {
            return Err(err(TraceErrorKind::BlankLine));
        }
        if self.header.is_none() {
            self.header = Some(parse_header(text).map_err(err)?);
            return Ok(None);
        }
        let event = parse_event(text).map_err(err)?;
        if event.seq != self.next_seq {
            return Err(err(TraceErrorKind::SeqGap {
                expected: self.next_seq,
                found: event.seq,
            }));
        }
        if event.time < self.last_time {
            return Err(err(TraceErrorKind::TimeDecreasing {
                previous: self.last_time,
                found: event.time,
            }));
        }
        self.next_seq = self.next_seq.saturating_add(1);
        self.last_time = event.time;
        Ok(Some(event))
    }
}

/// A line's JSON, or where it stops being JSON in words.
fn parse_json(text: &str) -> Result<serde_json::Value, TraceErrorKind> {
    serde_json::from_str(text).map_err(|e| TraceErrorKind::BadJson(syntax_words(&e, false)))
}

fn parse_header(text: &str) -> Result<TraceHeader, TraceErrorKind> {
    let value = parse_json(text)?;
    let Some(obj) = value.as_object() else {
        return Err(TraceErrorKind::MissingHeader);
    };
    if obj.get("type").and_then(|t| t.as_str()) != Some("header") {
        return Err(TraceErrorKind::MissingHeader);
    }
    match obj.get("format") {
        Some(serde_json::Value::String(f)) if f == TRACE_FORMAT => {}
        Some(other) => return Err(TraceErrorKind::UnknownFormat(display(other))),
        None => return Err(TraceErrorKind::BadHeader("\"format\" is missing".into())),
    }
    match obj.get("version") {
        Some(v) if v.as_u64() == Some(TRACE_VERSION) => {}
        // A text version is quoted: the message prints it bare.
        Some(serde_json::Value::String(v)) => {
            return Err(TraceErrorKind::UnsupportedVersion(format!("{v:?}")))
        }
        Some(other) => return Err(TraceErrorKind::UnsupportedVersion(display(other))),
        None => return Err(TraceErrorKind::BadHeader("\"version\" is missing".into())),
    }
    TraceHeader::from_json(&value).map_err(|e| TraceErrorKind::BadHeader(plain_words(&e)))
}

/// A header value as its error quotes it: text and numbers as they are,
/// anything else by its kind (an object's braces are no name).
fn display(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Array(_) => "a list".into(),
        serde_json::Value::Object(_) => "an object".into(),
    }
}

/// Parses an event line: once into a `Value`, then by hand (see
/// `super::json`); the tag is checked first so that an unknown or missing
/// `type` is reported as such rather than as a field error.
fn parse_event(text: &str) -> Result<TraceEvent, TraceErrorKind> {
    let value = parse_json(text)?;
    let Some(obj) = value.as_object() else {
        return Err(TraceErrorKind::BadJson(
            "an event is a JSON object, in braces".into(),
        ));
    };
    match obj.get("type") {
        None => return Err(TraceErrorKind::BadEvent("\"type\" is missing".into())),
        Some(serde_json::Value::String(t)) if t == "header" => {
            return Err(TraceErrorKind::BadEvent(
                "a second header (only line 1 is a header)".into(),
            ))
        }
        Some(serde_json::Value::String(t)) if !EventKind::TYPES.contains(&t.as_str()) => {
            return Err(TraceErrorKind::UnknownEventType(t.clone()))
        }
        Some(serde_json::Value::String(_)) => {}
        Some(other) => return Err(TraceErrorKind::UnknownEventType(display(other))),
    }
    TraceEvent::from_json(&value).map_err(|e| TraceErrorKind::BadEvent(plain_words(&e)))
}

/// Streams the events of a trace held in memory. The header is read by
/// `new`; iteration yields each event or the first error, then stops.
#[derive(Debug)]
pub struct TraceReader<'a> {
    lines: std::str::Lines<'a>,
    parser: TraceParser,
    failed: bool,
}

impl<'a> TraceReader<'a> {
    /// Reads the header of `text`.
    pub fn new(text: &'a str) -> Result<Self, TraceError> {
        let mut lines = text.lines();
        let mut parser = TraceParser::new();
        let Some(first) = lines.next() else {
            return Err(TraceError {
                line: 0,
                kind: TraceErrorKind::Empty,
            });
        };
        parser.push_line(first)?;
        Ok(TraceReader {
            lines,
            parser,
            failed: false,
        })
    }

    /// The trace's header.
    pub fn header(&self) -> &TraceHeader {
        // `new` only succeeds after the header parsed; this cannot be None,
        // but a fallback keeps the code free of panics.
        match self.parser.header() {
            Some(h) => h,
            None => &FALLBACK_HEADER,
        }
    }

    /// Lines read so far, the header included.
    pub fn lines_read(&self) -> usize {
        self.parser.lines_read()
    }
}

static FALLBACK_HEADER: TraceHeader = TraceHeader {
    format: String::new(),
    version: 0,
    seed: 0,
    nodes: Vec::new(),
    config: serde_json::Value::Null,
};

impl Iterator for TraceReader<'_> {
    type Item = Result<TraceEvent, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let text = self.lines.next()?;
        match self.parser.push_line(text) {
            Ok(Some(event)) => Some(Ok(event)),
            // The parser returns None only for the header, already read.
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads a whole trace into memory.
pub fn read_trace(text: &str) -> Result<Trace, TraceError> {
    let mut reader = TraceReader::new(text)?;
    let mut events = Vec::new();
    for event in reader.by_ref() {
        events.push(event?);
    }
    Ok(Trace {
        header: reader.header().clone(),
        events,
    })
}
