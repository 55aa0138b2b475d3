//! Sessions: exactly what reproduces a run — seed, cluster size, settings
//! and the timed actions — so a student can share a link to what they saw
//! or save it as a file, and anyone can replay it event for event.
//!
//! Two encodings:
//! - a **URL fragment** `s=<base64url>` of a compact binary form (settings
//!   stored only where they differ from the defaults, times as deltas,
//!   small numbers in one byte, a checksum), so a session with twenty
//!   actions fits in a couple of hundred characters;
//! - a **JSON file** (`"format": "raftlab-session"`), readable and editable.
//!
//! Decoding never panics: bad input gives a [`SessionError`] saying what is
//! wrong (bad base64, bad JSON, unknown version, invalid settings, ...).

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::config::Bug;
use crate::kv::KvOp;
use crate::sim::{actions_of, Action, Sim, SimConfig, TimedAction};
use crate::trace::{read_trace, Trace};
use crate::types::NodeId;

/// The session format version this code writes and reads.
pub const SESSION_VERSION: u64 = 1;
/// The `format` string of a session file.
pub const SESSION_FORMAT: &str = "raftlab-session";
/// The prefix of a session's URL fragment (after the `#`).
pub const FRAGMENT_PREFIX: &str = "s=";
/// The most actions a session may hold (keeps hostile input bounded).
pub const MAX_ACTIONS: usize = 100_000;
/// The latest simulated time a session may run to, in ms (about 11 days).
pub const MAX_UNTIL_MS: u64 = 1_000_000_000;

/// The settings the binary form knows, in its order. A setting added to
/// `SimConfig` must be added here (and the version raised), or links would
/// silently lose it; a test compares this list with `SimConfig`'s fields.
pub const CONFIG_FIELDS: [&str; 15] = [
    "election_timeout_ms",
    "heartbeat_ms",
    "snapshot_chunk_bytes",
    "prevote",
    "check_quorum",
    "latency_ms",
    "loss",
    "duplicate",
    "reorder",
    "snapshot_every",
    "max_entries_per_msg",
    "max_inflight",
    "client_retry_ms",
    "client_timeout_ms",
    "bugs",
];

/// Everything that reproduces a run: `Sim::new(seed, nodes, config)`, each
/// action scheduled at its time, then run to `until`.
// Deserialize is hand-written (`from_value`), like the actions it holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Session {
    /// The format version ([`SESSION_VERSION`]).
    pub version: u64,
    /// The simulator's seed.
    pub seed: u64,
    /// Number of starting voters, S1..Sn.
    pub nodes: u64,
    /// The settings the run started with.
    pub config: SimConfig,
    /// Every action, in the order it ran.
    pub actions: Vec<TimedAction>,
    /// Simulated time the run reached, in ms: a replay runs to here.
    #[serde(default)]
    pub until: u64,
}

/// What is wrong with a session link or file.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionError {
    /// The link is not base64url.
    BadBase64(String),
    /// The file is not valid JSON, or a field has the wrong shape.
    BadJson(String),
    /// The file is not JSON at all: no raftlab trace or session, whatever
    /// it is. `line` is where reading it failed (1-based).
    NotJson {
        /// The line that is not JSON.
        line: usize,
    },
    /// The file's JSON stops before it is complete (cut short when saved or
    /// copied?).
    CutShort {
        /// The last line, where the JSON ends too early.
        line: usize,
    },
    /// The file's `format` is not `raftlab-session`.
    UnknownFormat(String),
    /// A version this code does not know.
    UnknownVersion(u64),
    /// The link ends before the session does (cut off when copied?).
    Truncated,
    /// The link's checksum does not match (a character changed?).
    Checksum,
    /// A field holds something impossible.
    BadField(String),
    /// The settings are invalid.
    InvalidConfig(String),
    /// The trace cannot be turned into a session.
    BadTrace(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::BadBase64(e) => write!(f, "the session link is damaged: {e}"),
            SessionError::BadJson(e) => write!(f, "the session file is not valid: {e}"),
            SessionError::NotJson { line } => write!(
                f,
                "this is not a raftlab trace or session: line {line} is not JSON"
            ),
            SessionError::CutShort { line } => write!(
                f,
                "the file is cut short: its JSON stops at line {line} before it is complete"
            ),
            SessionError::UnknownFormat(s) => write!(
                f,
                "not a raftlab session (format {s:?}, expected {SESSION_FORMAT:?})"
            ),
            SessionError::UnknownVersion(v) => write!(
                f,
                "session version {v} is not supported; this raftlab reads version {SESSION_VERSION}"
            ),
            SessionError::Truncated => {
                write!(f, "the session link is cut short (was it copied whole?)")
            }
            SessionError::Checksum => write!(
                f,
                "the session link is damaged: its checksum does not match (a character changed?)"
            ),
            SessionError::BadField(e) => write!(f, "the session is not valid: {e}"),
            SessionError::InvalidConfig(e) => write!(f, "the session's settings are invalid: {e}"),
            SessionError::BadTrace(e) => write!(f, "the trace cannot be replayed: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

crate::json::deserialize_via_value!(Session, Session::from_value);

impl Session {
    /// A session with no actions yet.
    pub fn new(seed: u64, nodes: u64, config: SimConfig) -> Self {
        Session {
            version: SESSION_VERSION,
            seed,
            nodes,
            config,
            actions: Vec::new(),
            until: 0,
        }
    }

    /// What reproduces `sim` as it is now: its starting settings, every
    /// action of its script, and its present time.
    pub fn from_sim(sim: &Sim) -> Self {
        let config = serde_json::from_value(sim.header().config.clone())
            .unwrap_or_else(|_| sim.config().clone());
        Session {
            version: SESSION_VERSION,
            seed: sim.seed(),
            nodes: sim.header().nodes.len() as u64,
            config,
            actions: sim.script().to_vec(),
            until: sim.now(),
        }
    }

    /// What reproduces a trace: its header's seed, nodes and settings, and
    /// its `action` events, run to its last event's time.
    pub fn from_trace(trace: &Trace) -> Result<Self, SessionError> {
        let h = &trace.header;
        let n = h.nodes.len() as u64;
        if h.nodes != (1..=n).collect::<Vec<NodeId>>() {
            return Err(SessionError::BadTrace(
                "raftlab replays clusters whose nodes are 1..=n".into(),
            ));
        }
        let config: SimConfig = serde_json::from_value(h.config.clone()).map_err(|e| {
            let why = crate::json::plain_words(&e.to_string());
            SessionError::BadTrace(format!("its header's settings cannot be read: {why}"))
        })?;
        let s = Session {
            version: SESSION_VERSION,
            seed: h.seed,
            nodes: n,
            config,
            actions: actions_of(&trace.events),
            until: trace.events.last().map_or(0, |e| e.time),
        };
        s.validate()?;
        Ok(s)
    }

    /// `from_trace` for a trace's JSON Lines text.
    pub fn from_trace_str(text: &str) -> Result<Self, SessionError> {
        let trace = read_trace(text).map_err(|e| SessionError::BadTrace(e.to_string()))?;
        Self::from_trace(&trace)
    }

    /// Checks what a decoder cannot: version, sizes, settings, order.
    pub fn validate(&self) -> Result<(), SessionError> {
        if self.version != SESSION_VERSION {
            return Err(SessionError::UnknownVersion(self.version));
        }
        if !(1..=9).contains(&self.nodes) {
            return Err(SessionError::BadField(format!(
                "\"nodes\" is {}, but a cluster has 1 to 9 nodes",
                self.nodes
            )));
        }
        self.config
            .validate()
            .map_err(SessionError::InvalidConfig)?;
        if self.actions.len() > MAX_ACTIONS {
            return Err(SessionError::BadField(format!(
                "\"actions\" holds {}, but a session holds at most {MAX_ACTIONS}",
                self.actions.len()
            )));
        }
        if let Some(i) = self.actions.windows(2).position(|w| w[1].time < w[0].time) {
            return Err(SessionError::BadField(format!(
                "\"actions\" must be in time order, but action {} at {} ms comes after one at {} ms",
                i + 2,
                self.actions[i + 1].time,
                self.actions[i].time
            )));
        }
        if self.until > MAX_UNTIL_MS {
            return Err(SessionError::BadField(format!(
                "\"until\" is {} ms, but a session runs to at most {MAX_UNTIL_MS} ms",
                self.until
            )));
        }
        Ok(())
    }

    /// The simulation with every action scheduled, not yet run (the page
    /// plays it forward at its own pace).
    pub fn build(&self) -> Result<Sim, SessionError> {
        self.validate()?;
        let mut sim = Sim::new(self.seed, self.nodes, self.config.clone())
            .map_err(SessionError::InvalidConfig)?;
        for a in &self.actions {
            sim.schedule(a.time, a.action.clone());
        }
        Ok(sim)
    }

    /// The simulation replayed to `until`.
    pub fn replay(&self) -> Result<Sim, SessionError> {
        let mut sim = self.build()?;
        sim.run_until(self.until);
        Ok(sim)
    }

    // ----- JSON file -----

    /// The session as a JSON file (pretty, for reading and editing).
    pub fn to_json(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("format".into(), Value::String(SESSION_FORMAT.into()));
        }
        let mut out = serde_json::to_string_pretty(&v).unwrap_or_default();
        out.push('\n');
        out
    }

    /// Reads a session file.
    pub fn from_json(text: &str) -> Result<Self, SessionError> {
        // A parser's words ("expected value at line 1 column 1") mean
        // nothing to a teacher who picked the wrong file: say what it is not.
        let v: Value = serde_json::from_str(text).map_err(|e| {
            let line = e.line().max(1);
            if e.is_eof() {
                SessionError::CutShort { line }
            } else {
                SessionError::NotJson { line }
            }
        })?;
        let Value::Object(mut m) = v else {
            return Err(SessionError::BadJson(
                "a session file is a JSON object".into(),
            ));
        };
        match m.remove("format") {
            Some(Value::String(f)) if f == SESSION_FORMAT => {}
            Some(Value::String(f)) => return Err(SessionError::UnknownFormat(f)),
            Some(_) => return Err(SessionError::UnknownFormat("not text".into())),
            None => return Err(SessionError::UnknownFormat(String::new())),
        }
        match m.get("version").and_then(Value::as_u64) {
            Some(SESSION_VERSION) => {}
            Some(v) => return Err(SessionError::UnknownVersion(v)),
            None => {
                return Err(SessionError::BadJson(
                    "missing or non-numeric \"version\"".into(),
                ))
            }
        }
        let s = Session::from_value(&Value::Object(m))
            .map_err(|e| SessionError::BadJson(crate::json::plain_words(&e)))?;
        s.validate()?;
        Ok(s)
    }

    /// Reads a session object's fields (no `format` check, no validation);
    /// unknown fields are ignored and `until` defaults to 0.
    fn from_value(v: &Value) -> Result<Session, String> {
        use crate::json::{object, u64_of, u64_or_zero};
        let o = object(v, "struct Session")?;
        let actions = match o.get("actions") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    TimedAction::from_json(a)
                        .map_err(|e| format!("action {}: {}", i + 1, crate::json::plain_words(&e)))
                })
                .collect::<Result<Vec<_>, String>>()?,
            Some(other) => {
                return Err(format!(
                    "field `actions`: invalid type: {}, expected a sequence",
                    crate::json::unexpected(other)
                ))
            }
            None => return Err("missing field `actions`".into()),
        };
        Ok(Session {
            version: u64_of(o, "version")?,
            seed: u64_of(o, "seed")?,
            nodes: u64_of(o, "nodes")?,
            config: match o.get("config") {
                Some(c) => serde_json::from_value(c.clone()).map_err(|e| {
                    format!(
                        "in \"config\": {}",
                        crate::json::plain_words(&e.to_string())
                    )
                })?,
                None => return Err("missing field `config`".into()),
            },
            actions,
            until: u64_or_zero(o, "until")?,
        })
    }

    // ----- URL fragment -----

    /// The compact binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Vec::new();
        put_varint(&mut w, self.version);
        put_varint(&mut w, self.seed);
        put_varint(&mut w, self.nodes);
        put_varint(&mut w, self.until);
        put_config(&mut w, &self.config);
        put_varint(&mut w, self.actions.len() as u64);
        let mut last = 0;
        for a in &self.actions {
            put_varint(&mut w, a.time.saturating_sub(last));
            last = a.time;
            put_action(&mut w, &a.action);
        }
        let sum = checksum(&w);
        w.extend_from_slice(&sum.to_le_bytes());
        w
    }

    /// Reads the compact binary form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionError> {
        if bytes.len() < 3 {
            return Err(SessionError::Truncated);
        }
        let (body, sum) = bytes.split_at(bytes.len() - 2);
        let mut r = Reader { b: body, at: 0 };
        // Check the version before the checksum, so a link from a newer
        // raftlab says so rather than "damaged".
        let version = r.varint()?;
        if version != SESSION_VERSION {
            return Err(SessionError::UnknownVersion(version));
        }
        if checksum(body).to_le_bytes() != [sum[0], sum[1]] {
            return Err(SessionError::Checksum);
        }
        let seed = r.varint()?;
        let nodes = r.varint()?;
        let until = r.varint()?;
        let config = get_config(&mut r)?;
        let count = r.varint()?;
        // Every action takes at least two bytes: a bound before allocating.
        if count > (r.left() / 2) as u64 || count > MAX_ACTIONS as u64 {
            return Err(SessionError::Truncated);
        }
        let mut actions = Vec::with_capacity(count as usize);
        let mut time = 0u64;
        for _ in 0..count {
            time = time
                .checked_add(r.varint()?)
                .ok_or_else(|| SessionError::BadField("action time overflows".into()))?;
            let action = get_action(&mut r)?;
            actions.push(TimedAction { time, action });
        }
        if r.left() != 0 {
            return Err(SessionError::BadField(format!(
                "{} unexpected bytes after the actions",
                r.left()
            )));
        }
        let s = Session {
            version,
            seed,
            nodes,
            config,
            actions,
            until,
        };
        s.validate()?;
        Ok(s)
    }

    /// The URL fragment, `s=...` (put it after a `#`).
    pub fn to_fragment(&self) -> String {
        format!("{FRAGMENT_PREFIX}{}", base64url::encode(&self.to_bytes()))
    }

    /// Reads a URL fragment, with or without the leading `#` and `s=`.
    pub fn from_fragment(fragment: &str) -> Result<Self, SessionError> {
        let f = fragment.trim();
        let f = f.strip_prefix('#').unwrap_or(f);
        let f = f.strip_prefix(FRAGMENT_PREFIX).unwrap_or(f);
        let bytes = base64url::decode(f).map_err(SessionError::BadBase64)?;
        Self::from_bytes(&bytes)
    }
}

/// FNV-1a folded to 16 bits: enough to notice a mistyped link.
fn checksum(bytes: &[u8]) -> u16 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    ((h >> 16) ^ (h & 0xffff)) as u16
}

// ----- binary writing -----

fn put_varint(w: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        w.push((x as u8) | 0x80);
        x >>= 7;
    }
    w.push(x as u8);
}

fn put_str(w: &mut Vec<u8>, s: &str) {
    put_varint(w, s.len() as u64);
    w.extend_from_slice(s.as_bytes());
}

/// A probability: exactly k/10000 in a varint when that is its value, else
/// its 8 raw bytes.
fn put_f64(w: &mut Vec<u8>, x: f64) {
    let k = (x * 10_000.0).round();
    if (0.0..=10_000.0).contains(&k) && k / 10_000.0 == x {
        w.push(0);
        put_varint(w, k as u64);
    } else {
        w.push(1);
        w.extend_from_slice(&x.to_bits().to_le_bytes());
    }
}

fn put_ids(w: &mut Vec<u8>, ids: &[NodeId]) {
    put_varint(w, ids.len() as u64);
    for &id in ids {
        put_varint(w, id);
    }
}

fn put_config(w: &mut Vec<u8>, c: &SimConfig) {
    let d = SimConfig::default();
    let differs = [
        c.election_timeout_ms != d.election_timeout_ms,
        c.heartbeat_ms != d.heartbeat_ms,
        c.snapshot_chunk_bytes != d.snapshot_chunk_bytes,
        c.prevote != d.prevote,
        c.check_quorum != d.check_quorum,
        c.latency_ms != d.latency_ms,
        c.loss.to_bits() != d.loss.to_bits(),
        c.duplicate.to_bits() != d.duplicate.to_bits(),
        c.reorder.to_bits() != d.reorder.to_bits(),
        c.snapshot_every != d.snapshot_every,
        c.max_entries_per_msg != d.max_entries_per_msg,
        c.max_inflight != d.max_inflight,
        c.client_retry_ms != d.client_retry_ms,
        c.client_timeout_ms != d.client_timeout_ms,
        c.bugs != d.bugs,
    ];
    let mask = differs
        .iter()
        .enumerate()
        .fold(0u64, |m, (i, &on)| if on { m | (1 << i) } else { m });
    put_varint(w, mask);
    for (i, _) in differs.iter().enumerate().filter(|(_, &on)| on) {
        match i {
            0 => c.election_timeout_ms.iter().for_each(|&x| put_varint(w, x)),
            1 => put_varint(w, c.heartbeat_ms),
            2 => put_varint(w, c.snapshot_chunk_bytes as u64),
            3 => w.push(u8::from(c.prevote)),
            4 => w.push(u8::from(c.check_quorum)),
            5 => c.latency_ms.iter().for_each(|&x| put_varint(w, x)),
            6 => put_f64(w, c.loss),
            7 => put_f64(w, c.duplicate),
            8 => put_f64(w, c.reorder),
            9 => put_varint(w, c.snapshot_every),
            10 => put_varint(w, c.max_entries_per_msg as u64),
            11 => put_varint(w, c.max_inflight as u64),
            12 => put_varint(w, c.client_retry_ms),
            13 => put_varint(w, c.client_timeout_ms),
            _ => {
                // Only the bugs a user can choose travel in a link; a
                // test-only one (hidden from `Bug::ALL`) has no code and is
                // left out rather than written as another bug's.
                let codes: Vec<u8> = c
                    .bugs
                    .iter()
                    .filter_map(|b| Bug::ALL.iter().position(|x| x == b))
                    .map(|k| k as u8)
                    .collect();
                put_varint(w, codes.len() as u64);
                w.extend_from_slice(&codes);
            }
        }
    }
}

/// Action kinds in the binary form: a kind's byte is its place in
/// `Action::KINDS`, so that list only ever grows at its end (shared links
/// already out there decode by it).
const KINDS: [&str; 24] = Action::KINDS;

/// The arguments of `deliver_next` and `drop_next`: the link, the kind,
/// then the prevote filter as a byte (0 either, 1 real vote, 2 prevote).
fn put_next(w: &mut Vec<u8>, from: NodeId, to: NodeId, msg: &str, prevote: Option<bool>) {
    put_varint(w, from);
    put_varint(w, to);
    put_str(w, msg);
    w.push(match prevote {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
}

fn put_action(w: &mut Vec<u8>, a: &Action) {
    let kind = |name: &str| KINDS.iter().position(|k| *k == name).unwrap_or(0) as u8;
    match a {
        Action::Crash { node } => {
            w.push(kind("crash"));
            put_varint(w, *node);
        }
        Action::Restart { node } => {
            w.push(kind("restart"));
            put_varint(w, *node);
        }
        Action::Timeout { node } => {
            w.push(kind("timeout"));
            put_varint(w, *node);
        }
        Action::Partition { groups } => {
            w.push(kind("partition"));
            put_varint(w, groups.len() as u64);
            for g in groups {
                put_ids(w, g);
            }
        }
        Action::Heal => w.push(kind("heal")),
        Action::Cut { from, to } => {
            w.push(kind("cut"));
            put_varint(w, *from);
            put_varint(w, *to);
        }
        Action::Restore { from, to } => {
            w.push(kind("restore"));
            put_varint(w, *from);
            put_varint(w, *to);
        }
        Action::AddLearner { node } => {
            w.push(kind("add_learner"));
            put_varint(w, *node);
        }
        Action::AddVoter { node } => {
            w.push(kind("add_voter"));
            put_varint(w, *node);
        }
        Action::Remove { node } => {
            w.push(kind("remove"));
            put_varint(w, *node);
        }
        Action::Joint { voters } => {
            w.push(kind("joint"));
            put_ids(w, voters);
        }
        Action::Transfer { to } => {
            w.push(kind("transfer"));
            put_varint(w, *to);
        }
        Action::Snapshot { node } => {
            w.push(kind("snapshot"));
            put_varint(w, *node);
        }
        Action::Client {
            client,
            op,
            key,
            value,
        } => {
            w.push(kind("client"));
            put_varint(w, *client);
            let op_byte = match op {
                KvOp::Put => 0,
                KvOp::Get => 1,
                KvOp::Delete => 2,
            };
            w.push(op_byte | if value.is_some() { 4 } else { 0 });
            put_str(w, key);
            if let Some(v) = value {
                put_str(w, v);
            }
        }
        Action::DropMessage { id } => {
            w.push(kind("drop_message"));
            put_varint(w, *id);
        }
        Action::Calm { ms } => {
            w.push(kind("calm"));
            put_varint(w, *ms);
        }
        Action::Deliver { id } => {
            w.push(kind("deliver"));
            put_varint(w, *id);
        }
        Action::Hold { from, to } => {
            w.push(kind("hold"));
            put_varint(w, *from);
            put_varint(w, *to);
        }
        Action::Release { from, to } => {
            w.push(kind("release"));
            put_varint(w, *from);
            put_varint(w, *to);
        }
        Action::Heartbeat { node } => {
            w.push(kind("heartbeat"));
            put_varint(w, *node);
        }
        Action::Manual { on, timers } => {
            w.push(kind("manual"));
            w.push(u8::from(*on) | u8::from(*timers) << 1);
        }
        Action::DeliverNext {
            from,
            to,
            msg,
            prevote,
        } => {
            w.push(kind("deliver_next"));
            put_next(w, *from, *to, msg, *prevote);
        }
        Action::DropNext {
            from,
            to,
            msg,
            prevote,
        } => {
            w.push(kind("drop_next"));
            put_next(w, *from, *to, msg, *prevote);
        }
        Action::Network {
            latency_ms,
            loss,
            duplicate,
            reorder,
        } => {
            w.push(kind("network"));
            let mask = u8::from(latency_ms.is_some())
                | u8::from(loss.is_some()) << 1
                | u8::from(duplicate.is_some()) << 2
                | u8::from(reorder.is_some()) << 3;
            w.push(mask);
            if let Some(l) = latency_ms {
                put_varint(w, l[0]);
                put_varint(w, l[1]);
            }
            for p in [loss, duplicate, reorder].into_iter().flatten() {
                put_f64(w, *p);
            }
        }
    }
}

// ----- binary reading -----

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }

    fn byte(&mut self) -> Result<u8, SessionError> {
        let x = *self.b.get(self.at).ok_or(SessionError::Truncated)?;
        self.at += 1;
        Ok(x)
    }

    fn varint(&mut self) -> Result<u64, SessionError> {
        let mut x: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err(SessionError::BadField("a number is too large".into()));
            }
            x |= part << shift;
            if b & 0x80 == 0 {
                return Ok(x);
            }
        }
        Err(SessionError::BadField("a number is too long".into()))
    }

    fn usize(&mut self) -> Result<usize, SessionError> {
        usize::try_from(self.varint()?)
            .map_err(|_| SessionError::BadField("a size is too large".into()))
    }

    fn bool(&mut self) -> Result<bool, SessionError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(SessionError::BadField(format!("{b} is not a yes/no value"))),
        }
    }

    fn str(&mut self) -> Result<String, SessionError> {
        let n = self.usize()?;
        if n > self.left() {
            return Err(SessionError::Truncated);
        }
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or(SessionError::Truncated)?;
        self.at += n;
        String::from_utf8(s.to_vec())
            .map_err(|_| SessionError::BadField("a text is not UTF-8".into()))
    }

    fn f64(&mut self) -> Result<f64, SessionError> {
        match self.byte()? {
            0 => {
                let k = self.varint()?;
                if k > 10_000 {
                    return Err(SessionError::BadField("a probability above 1".into()));
                }
                Ok(k as f64 / 10_000.0)
            }
            1 => {
                let mut raw = [0u8; 8];
                for r in &mut raw {
                    *r = self.byte()?;
                }
                Ok(f64::from_bits(u64::from_le_bytes(raw)))
            }
            t => Err(SessionError::BadField(format!("unknown number tag {t}"))),
        }
    }

    fn ids(&mut self) -> Result<Vec<NodeId>, SessionError> {
        let n = self.usize()?;
        if n > self.left() {
            return Err(SessionError::Truncated);
        }
        (0..n).map(|_| self.varint()).collect()
    }
}

fn get_config(r: &mut Reader<'_>) -> Result<SimConfig, SessionError> {
    let mask = r.varint()?;
    if mask >> CONFIG_FIELDS.len() != 0 {
        return Err(SessionError::BadField(
            "unknown settings in the link".into(),
        ));
    }
    let mut c = SimConfig::default();
    for i in 0..CONFIG_FIELDS.len() {
        if mask & (1 << i) == 0 {
            continue;
        }
        match i {
            0 => c.election_timeout_ms = [r.varint()?, r.varint()?],
            1 => c.heartbeat_ms = r.varint()?,
            2 => c.snapshot_chunk_bytes = r.usize()?,
            3 => c.prevote = r.bool()?,
            4 => c.check_quorum = r.bool()?,
            5 => c.latency_ms = [r.varint()?, r.varint()?],
            6 => c.loss = r.f64()?,
            7 => c.duplicate = r.f64()?,
            8 => c.reorder = r.f64()?,
            9 => c.snapshot_every = r.varint()?,
            10 => c.max_entries_per_msg = r.usize()?,
            11 => c.max_inflight = r.usize()?,
            12 => c.client_retry_ms = r.varint()?,
            13 => c.client_timeout_ms = r.varint()?,
            _ => {
                let n = r.usize()?;
                if n > Bug::ALL.len() {
                    return Err(SessionError::BadField("too many bugs".into()));
                }
                c.bugs = (0..n)
                    .map(|_| {
                        let k = r.byte()?;
                        Bug::ALL
                            .get(usize::from(k))
                            .copied()
                            .ok_or_else(|| SessionError::BadField(format!("unknown bug {k}")))
                    })
                    .collect::<Result<_, _>>()?;
            }
        }
    }
    Ok(c)
}

fn get_action(r: &mut Reader<'_>) -> Result<Action, SessionError> {
    let k = r.byte()?;
    let name = KINDS
        .get(usize::from(k))
        .ok_or_else(|| SessionError::BadField(format!("unknown action kind {k}")))?;
    Ok(match *name {
        "crash" => Action::Crash { node: r.varint()? },
        "restart" => Action::Restart { node: r.varint()? },
        "timeout" => Action::Timeout { node: r.varint()? },
        "partition" => {
            let n = r.usize()?;
            if n > r.left() {
                return Err(SessionError::Truncated);
            }
            let groups = (0..n).map(|_| r.ids()).collect::<Result<_, _>>()?;
            Action::Partition { groups }
        }
        "heal" => Action::Heal,
        "cut" => Action::Cut {
            from: r.varint()?,
            to: r.varint()?,
        },
        "restore" => Action::Restore {
            from: r.varint()?,
            to: r.varint()?,
        },
        "add_learner" => Action::AddLearner { node: r.varint()? },
        "add_voter" => Action::AddVoter { node: r.varint()? },
        "remove" => Action::Remove { node: r.varint()? },
        "joint" => Action::Joint { voters: r.ids()? },
        "transfer" => Action::Transfer { to: r.varint()? },
        "snapshot" => Action::Snapshot { node: r.varint()? },
        "client" => {
            let client = r.varint()?;
            let b = r.byte()?;
            let op = match b & 3 {
                0 => KvOp::Put,
                1 => KvOp::Get,
                2 => KvOp::Delete,
                _ => return Err(SessionError::BadField("unknown client operation".into())),
            };
            if b & !7 != 0 {
                return Err(SessionError::BadField("unknown client flags".into()));
            }
            let key = r.str()?;
            let value = if b & 4 != 0 { Some(r.str()?) } else { None };
            Action::Client {
                client,
                op,
                key,
                value,
            }
        }
        "drop_message" => Action::DropMessage { id: r.varint()? },
        "calm" => Action::Calm { ms: r.varint()? },
        "deliver" => Action::Deliver { id: r.varint()? },
        "hold" => Action::Hold {
            from: r.varint()?,
            to: r.varint()?,
        },
        "release" => Action::Release {
            from: r.varint()?,
            to: r.varint()?,
        },
        "heartbeat" => Action::Heartbeat { node: r.varint()? },
        "deliver_next" | "drop_next" => {
            let (from, to, msg) = (r.varint()?, r.varint()?, r.str()?);
            let prevote = match r.byte()? {
                0 => None,
                1 => Some(false),
                2 => Some(true),
                _ => return Err(SessionError::BadField("unknown prevote filter".into())),
            };
            if *name == "deliver_next" {
                Action::DeliverNext {
                    from,
                    to,
                    msg,
                    prevote,
                }
            } else {
                Action::DropNext {
                    from,
                    to,
                    msg,
                    prevote,
                }
            }
        }
        "manual" => {
            let b = r.byte()?;
            if b & !3 != 0 {
                return Err(SessionError::BadField(
                    "unknown manual delivery flags".into(),
                ));
            }
            Action::Manual {
                on: b & 1 != 0,
                timers: b & 2 != 0,
            }
        }
        _ => {
            let mask = r.byte()?;
            if mask & !15 != 0 {
                return Err(SessionError::BadField("unknown network settings".into()));
            }
            let latency_ms = if mask & 1 != 0 {
                Some([r.varint()?, r.varint()?])
            } else {
                None
            };
            let mut p = |bit: u8| -> Result<Option<f64>, SessionError> {
                if mask & bit != 0 {
                    r.f64().map(Some)
                } else {
                    Ok(None)
                }
            };
            let loss = p(2)?;
            let duplicate = p(4)?;
            let reorder = p(8)?;
            Action::Network {
                latency_ms,
                loss,
                duplicate,
                reorder,
            }
        }
    })
}

/// base64url without padding (RFC 4648 §5), written here so the core needs
/// no dependency for it.
pub mod base64url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// Encodes bytes as base64url, no padding.
    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                let six = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(ALPHABET[six as usize]));
            }
        }
        out
    }

    fn value(c: u8) -> Option<u32> {
        ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
    }

    /// Decodes base64url; padding `=` at the end is accepted and ignored.
    pub fn decode(text: &str) -> Result<Vec<u8>, String> {
        let text = text.trim_end_matches('=');
        let bytes = text.as_bytes();
        if bytes.len() % 4 == 1 {
            return Err("its length is not possible for base64url".into());
        }
        let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
        for (k, chunk) in bytes.chunks(4).enumerate() {
            let mut n: u32 = 0;
            for (i, &c) in chunk.iter().enumerate() {
                let v = value(c).ok_or_else(|| {
                    let at = k * 4 + i + 1;
                    // Only a visible character is worth quoting.
                    match c {
                        b'"' => format!("the quotation mark at position {at} is not base64url"),
                        c if c.is_ascii_graphic() => format!(
                            "character \"{}\" at position {at} is not base64url",
                            char::from(c)
                        ),
                        _ => format!("the character at position {at} is not base64url"),
                    }
                })?;
                n |= v << (18 - 6 * i);
            }
            let got = chunk.len() - 1;
            for i in 0..got {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        Ok(out)
    }
}
