//! Trace format version 1 (see `docs/trace-format.md`): the types of a
//! trace's header and events, a writer that produces byte-deterministic JSON
//! Lines, and a reader that streams a trace back with clear errors.
//!
//! A trace is the record the simulator leaves and the checker reads, so the
//! types here are exactly the wire shape: one `TraceEvent` is one line,
//! `{"seq":3,"time":12,"type":"vote","node":2,...}`. Field order on output is
//! the declaration order below, which makes the output deterministic.

pub mod describe;
mod reader;
mod writer;

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::json::{
    self, bad, bool_of, deserialize_via_value, groups_of, id_set_or_empty, ids_of, object,
    opt_bool, opt_string, opt_u64, pick, pick_name, present_or_null, required, str_of, string_of,
    u64_of, Obj,
};
use crate::kv::KvOp;
use crate::network::SnapshotSource;
use crate::quorum::Membership;
use crate::types::{Entry, EntryKind, Index, Message, MessageBody, NodeId, Role, Term};

pub use reader::{read_trace, TraceParser, TraceReader};
pub use writer::{header_line, TraceWriter};

/// The `format` string every raftlab trace header carries.
pub const TRACE_FORMAT: &str = "raftlab-trace";
/// The major version this code writes and reads.
pub const TRACE_VERSION: u64 = 1;

/// Line 1 of a trace: what was run, so the same seed can be re-run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceHeader {
    /// Always `"raftlab-trace"`; readers reject anything else.
    pub format: String,
    /// Major version of the format; readers reject versions they do not know.
    pub version: u64,
    /// The simulator's seed.
    pub seed: u64,
    /// The voters the cluster starts with.
    pub nodes: Vec<NodeId>,
    /// Every setting needed to re-run the seed. Kept as raw JSON so settings
    /// this crate does not know survive a read/write round trip.
    #[serde(default = "empty_object")]
    pub config: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

impl TraceHeader {
    /// The header as its JSON line, without the line end.
    pub fn to_line(&self) -> String {
        writer::header_line(self)
    }

    /// A version-1 header for `seed` and the starting voters `nodes`, with
    /// an empty `config` object for the caller to fill.
    pub fn new(seed: u64, nodes: Vec<NodeId>) -> Self {
        TraceHeader {
            format: TRACE_FORMAT.to_string(),
            version: TRACE_VERSION,
            seed,
            nodes,
            config: empty_object(),
        }
    }
}

/// One line after the header: something that happened, in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    /// Position in the trace, from 1, without gaps.
    pub seq: u64,
    /// Simulated milliseconds; never decreases.
    pub time: u64,
    /// What happened; its `type` and fields sit in the same JSON object.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl TraceEvent {
    /// The event as one JSON line, without the line end.
    pub fn to_line(&self) -> String {
        // Serialising plain data into a String cannot fail: every map key is
        // a string and no Serialize impl here returns an error.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why the network lost a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DropReason {
    /// The message would have crossed a partition boundary or a cut link.
    Partition,
    /// Random loss.
    Loss,
    /// The receiver was crashed when the message arrived.
    Crashed,
}

/// Who runs a client operation. raftlab numbers its clients; other tools
/// and students' implementations often name them (`"c7"`). The format only
/// needs an identity, so both are accepted and written back as read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum ClientId {
    /// A numbered client (what raftlab writes).
    Num(u64),
    /// A named client.
    Name(String),
}

impl ClientId {
    /// The number of a numbered client.
    pub fn as_num(&self) -> Option<u64> {
        match self {
            ClientId::Num(n) => Some(*n),
            ClientId::Name(_) => None,
        }
    }
}

impl From<u64> for ClientId {
    fn from(n: u64) -> Self {
        ClientId::Num(n)
    }
}

impl PartialEq<u64> for ClientId {
    fn eq(&self, other: &u64) -> bool {
        self.as_num() == Some(*other)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientId::Num(n) => write!(f, "{n}"),
            ClientId::Name(s) => f.write_str(s),
        }
    }
}

/// The stage of a client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientPhase {
    /// The client sends the operation.
    Invoke,
    /// The operation took effect and answered.
    Ok,
    /// The operation certainly did not take effect.
    Fail,
    /// The outcome is unknown: it may or may not have taken effect.
    Timeout,
}

/// A `send` event's `body`: the whole message. Typed when it parses as one of
/// raftlab's six messages; kept as raw JSON otherwise, so a trace from
/// another tool with a different body shape still reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SendBody {
    /// One of raftlab's messages.
    Message(MessageBody),
    /// Anything else, as written.
    Other(serde_json::Value),
}

impl From<MessageBody> for SendBody {
    fn from(body: MessageBody) -> Self {
        SendBody::Message(body)
    }
}

impl SendBody {
    /// For a vote answer, whether it grants the (pre)vote; `None` when the
    /// body is not a vote answer or does not say.
    pub fn vote_granted(&self) -> Option<bool> {
        match self {
            SendBody::Message(MessageBody::RequestVoteResp(r)) => Some(r.vote_granted),
            SendBody::Message(_) => None,
            SendBody::Other(v) => v.get("vote_granted").and_then(serde_json::Value::as_bool),
        }
    }

    /// For a vote answer, the term its request asked for, if known.
    pub fn request_term(&self) -> Option<Term> {
        match self {
            SendBody::Message(MessageBody::RequestVoteResp(r)) => Some(r.request_term),
            SendBody::Message(_) => None,
            SendBody::Other(v) => v.get("request_term").and_then(serde_json::Value::as_u64),
        }
    }
}

/// What an event says happened. Serialised with its `type` tag inside the
/// event object; each variant's fields are the spec's fields, in its order,
/// followed by raftlab's optional extras (which other readers ignore).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A node starts or restarts, or its role, term or known leader changes.
    Role {
        /// The node.
        node: NodeId,
        /// Its new role.
        role: Role,
        /// Its current term.
        term: Term,
        /// The leader it knows of, or null.
        leader: Option<NodeId>,
        /// raftlab extra: why, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A node answers a (pre)vote request.
    Vote {
        /// The voter.
        node: NodeId,
        /// Who asked.
        candidate: NodeId,
        /// The term asked for.
        term: Term,
        /// Prevote (thesis §9.6) or real vote (§5.2).
        prevote: bool,
        /// The answer.
        granted: bool,
        /// raftlab extra: why, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An entry is written to a node's log.
    Append {
        /// The node.
        node: NodeId,
        /// The entry's index.
        index: Index,
        /// The entry's term.
        term: Term,
        /// What the entry carries.
        kind: EntryKind,
        /// Its payload as text (node ids for membership kinds).
        data: String,
    },
    /// A node deletes its entries with index >= `from`.
    Truncate {
        /// The node.
        node: NodeId,
        /// First deleted index.
        from: Index,
    },
    /// A node's commit index rises.
    Commit {
        /// The node.
        node: NodeId,
        /// The new commit index.
        index: Index,
        /// raftlab extra: why, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A node applies an entry to its state machine.
    Apply {
        /// The node.
        node: NodeId,
        /// The entry's index.
        index: Index,
        /// The entry's term.
        term: Term,
        /// raftlab extra: what the state machine answered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// A node compacts its log, or finishes installing a leader's snapshot.
    Snapshot {
        /// The node.
        node: NodeId,
        /// Last index covered.
        index: Index,
        /// Term of that index.
        term: Term,
        /// Local compaction or install.
        source: SnapshotSource,
    },
    /// The membership a node acts on changes.
    Config {
        /// The node.
        node: NodeId,
        /// Voters (of the incoming configuration while joint).
        #[serde(default)]
        voters: BTreeSet<NodeId>,
        /// Non-voting learners.
        #[serde(default)]
        learners: BTreeSet<NodeId>,
        /// Voters of the outgoing configuration while joint, else empty.
        #[serde(default)]
        outgoing: BTreeSet<NodeId>,
    },
    /// A message is put on the network.
    Send {
        /// The message's id, which `deliver`/`drop` refer to.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message kind (`request_vote`, `append_entries`, ...).
        msg: String,
        /// The term the message carries.
        term: Term,
        /// For vote messages, whether it is a prevote one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prevote: Option<bool>,
        /// The whole message.
        body: SendBody,
    },
    /// A message is handed to its receiver.
    Deliver {
        /// The `send` id.
        id: u64,
        /// raftlab extra: what the receiver made of it (e.g. why it refused).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
    /// The network loses a message.
    Drop {
        /// The `send` id.
        id: u64,
        /// Why.
        reason: DropReason,
    },
    /// A node stops; only its persisted state survives.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A node comes back from its persisted state.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// The network is split into groups.
    Partition {
        /// The groups; no message crosses from one to another.
        groups: Vec<Vec<NodeId>>,
    },
    /// Every partition and cut link is removed.
    Heal {},
    /// A one-way link is cut or restored.
    Link {
        /// Sending side.
        from: NodeId,
        /// Receiving side.
        to: NodeId,
        /// False when cut, true when restored.
        up: bool,
    },
    /// Something outside the Raft core acts on the cluster.
    Action {
        /// The action: an object with a string `kind` and its arguments.
        action: serde_json::Value,
    },
    /// A client operation starts or ends.
    Client {
        /// The client's id (a number or a string); a client has at most one
        /// operation in flight.
        client: ClientId,
        /// The operation.
        op: KvOp,
        /// The key.
        key: String,
        /// The value written (put only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
        /// Invoke, ok, fail or timeout.
        phase: ClientPhase,
        /// For a get that ended ok: `Some(Some(v))` for a value,
        /// `Some(None)` for null (key absent); `None` when the field is
        /// absent. Two levels of `Option` keep "absent" and `null` apart.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Option<String>>,
    },
}

impl EventKind {
    /// Every event type name, in the spec's order.
    pub const TYPES: [&'static str; 18] = [
        "role",
        "vote",
        "append",
        "truncate",
        "commit",
        "apply",
        "snapshot",
        "config",
        "send",
        "deliver",
        "drop",
        "crash",
        "restart",
        "partition",
        "heal",
        "link",
        "action",
        "client",
    ];

    /// The event's `type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Role { .. } => "role",
            EventKind::Vote { .. } => "vote",
            EventKind::Append { .. } => "append",
            EventKind::Truncate { .. } => "truncate",
            EventKind::Commit { .. } => "commit",
            EventKind::Apply { .. } => "apply",
            EventKind::Snapshot { .. } => "snapshot",
            EventKind::Config { .. } => "config",
            EventKind::Send { .. } => "send",
            EventKind::Deliver { .. } => "deliver",
            EventKind::Drop { .. } => "drop",
            EventKind::Crash { .. } => "crash",
            EventKind::Restart { .. } => "restart",
            EventKind::Partition { .. } => "partition",
            EventKind::Heal {} => "heal",
            EventKind::Link { .. } => "link",
            EventKind::Action { .. } => "action",
            EventKind::Client { .. } => "client",
        }
    }

    /// The node whose own state the event records (its role, vote, log,
    /// commit, state machine, snapshot, configuration, crash or restart);
    /// `None` for network, action and client events, which views read in
    /// their own ways.
    pub fn node(&self) -> Option<NodeId> {
        match self {
            EventKind::Role { node, .. }
            | EventKind::Vote { node, .. }
            | EventKind::Append { node, .. }
            | EventKind::Truncate { node, .. }
            | EventKind::Commit { node, .. }
            | EventKind::Apply { node, .. }
            | EventKind::Snapshot { node, .. }
            | EventKind::Config { node, .. }
            | EventKind::Crash { node }
            | EventKind::Restart { node } => Some(*node),
            _ => None,
        }
    }

    /// The `send` event for `message` with network id `id`; `msg`, `term`
    /// and `prevote` are taken from the body so they cannot disagree.
    pub fn send(id: u64, message: &Message) -> Self {
        EventKind::Send {
            id,
            from: message.from,
            to: message.to,
            msg: message.body.kind().to_string(),
            term: message.body.term(),
            prevote: message.body.prevote(),
            body: SendBody::Message(message.body.clone()),
        }
    }

    /// The `append` event for `entry` written to `node`'s log. Non-UTF-8
    /// payloads are written lossily, since the format's `data` is text.
    pub fn append(node: NodeId, entry: &Entry) -> Self {
        EventKind::Append {
            node,
            index: entry.index,
            term: entry.term,
            kind: entry.kind,
            data: String::from_utf8_lossy(&entry.data).into_owned(),
        }
    }

    /// The `config` event for `node` acting on `membership`.
    pub fn config(node: NodeId, membership: &Membership) -> Self {
        EventKind::Config {
            node,
            voters: membership.voters.clone(),
            learners: membership.learners.clone(),
            outgoing: membership.outgoing.clone(),
        }
    }
}

// ----- decoding (hand-written: see `json` for why) -----

impl TraceHeader {
    /// Reads a header object's fields (the `type`, `format` and `version`
    /// checks are the reader's); `config` defaults to `{}`.
    pub(crate) fn from_json(v: &Value) -> Result<Self, String> {
        let o = object(v, "struct TraceHeader")?;
        Ok(TraceHeader {
            format: string_of(o, "format")?,
            version: u64_of(o, "version")?,
            seed: u64_of(o, "seed")?,
            nodes: ids_of(o, "nodes")?,
            config: o.get("config").cloned().unwrap_or_else(empty_object),
        })
    }
}

impl TraceEvent {
    /// Reads an event line already parsed as JSON.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let o = object(v, "an event object")?;
        Ok(TraceEvent {
            seq: u64_of(o, "seq")?,
            time: u64_of(o, "time")?,
            kind: EventKind::from_obj(o)?,
        })
    }
}

impl DropReason {
    const NAMES: [(&'static str, DropReason); 3] = [
        ("partition", DropReason::Partition),
        ("loss", DropReason::Loss),
        ("crashed", DropReason::Crashed),
    ];
}

impl ClientPhase {
    const NAMES: [(&'static str, ClientPhase); 4] = [
        ("invoke", ClientPhase::Invoke),
        ("ok", ClientPhase::Ok),
        ("fail", ClientPhase::Fail),
        ("timeout", ClientPhase::Timeout),
    ];
}

/// Client phases with their trace names.
pub(crate) const CLIENT_PHASES: [(&str, ClientPhase); 4] = ClientPhase::NAMES;

/// Snapshot sources with their trace names.
pub(crate) const SNAPSHOT_SOURCES: [(&str, SnapshotSource); 2] = [
    ("local", SnapshotSource::Local),
    ("install", SnapshotSource::Install),
];

/// KV operations with their trace names (shared with actions).
pub(crate) const KV_OPS: [(&str, KvOp); 3] = [
    ("put", KvOp::Put),
    ("get", KvOp::Get),
    ("delete", KvOp::Delete),
];

impl SendBody {
    /// A body is a raftlab message when it reads as one; anything else is
    /// kept as written.
    fn from_json(v: &Value) -> Self {
        match MessageBody::from_json(v) {
            Ok(m) => SendBody::Message(m),
            Err(_) => SendBody::Other(v.clone()),
        }
    }
}

impl EventKind {
    /// Reads the `type` tag and that type's fields from an event object.
    pub(crate) fn from_obj(o: &Obj) -> Result<Self, String> {
        let ty = str_of(o, "type")?;
        let Some(i) = Self::TYPES.iter().position(|t| *t == ty) else {
            return Err(json::unknown_variant(
                "type",
                ty,
                Self::TYPES.iter().copied(),
            ));
        };
        let node = || u64_of(o, "node");
        Ok(match i {
            0 => EventKind::Role {
                node: node()?,
                role: pick(o, "role", &Role::NAMES)?,
                term: u64_of(o, "term")?,
                leader: opt_u64(o, "leader")?,
                reason: opt_string(o, "reason")?,
            },
            1 => EventKind::Vote {
                node: node()?,
                candidate: u64_of(o, "candidate")?,
                term: u64_of(o, "term")?,
                prevote: bool_of(o, "prevote")?,
                granted: bool_of(o, "granted")?,
                reason: opt_string(o, "reason")?,
            },
            2 => EventKind::Append {
                node: node()?,
                index: u64_of(o, "index")?,
                term: u64_of(o, "term")?,
                kind: pick(o, "kind", &EntryKind::NAMES)?,
                data: string_of(o, "data")?,
            },
            3 => EventKind::Truncate {
                node: node()?,
                from: u64_of(o, "from")?,
            },
            4 => EventKind::Commit {
                node: node()?,
                index: u64_of(o, "index")?,
                reason: opt_string(o, "reason")?,
            },
            5 => EventKind::Apply {
                node: node()?,
                index: u64_of(o, "index")?,
                term: u64_of(o, "term")?,
                output: opt_string(o, "output")?,
            },
            6 => EventKind::Snapshot {
                node: node()?,
                index: u64_of(o, "index")?,
                term: u64_of(o, "term")?,
                source: pick(o, "source", &SNAPSHOT_SOURCES)?,
            },
            7 => EventKind::Config {
                node: node()?,
                voters: id_set_or_empty(o, "voters")?,
                learners: id_set_or_empty(o, "learners")?,
                outgoing: id_set_or_empty(o, "outgoing")?,
            },
            8 => EventKind::Send {
                id: u64_of(o, "id")?,
                from: u64_of(o, "from")?,
                to: u64_of(o, "to")?,
                msg: string_of(o, "msg")?,
                term: u64_of(o, "term")?,
                prevote: opt_bool(o, "prevote")?,
                body: match o.get("body") {
                    Some(b) => SendBody::from_json(b),
                    None => return Err("missing field `body`".into()),
                },
            },
            9 => EventKind::Deliver {
                id: u64_of(o, "id")?,
                outcome: opt_string(o, "outcome")?,
            },
            10 => EventKind::Drop {
                id: u64_of(o, "id")?,
                reason: pick(o, "reason", &DropReason::NAMES)?,
            },
            11 => EventKind::Crash { node: node()? },
            12 => EventKind::Restart { node: node()? },
            13 => EventKind::Partition {
                groups: groups_of(o, "groups")?,
            },
            14 => EventKind::Heal {},
            15 => EventKind::Link {
                from: u64_of(o, "from")?,
                to: u64_of(o, "to")?,
                up: bool_of(o, "up")?,
            },
            16 => EventKind::Action {
                action: match o.get("action") {
                    Some(a) => a.clone(),
                    None => return Err("missing field `action`".into()),
                },
            },
            _ => EventKind::Client {
                client: client_id_of(o, "client")?,
                op: pick(o, "op", &KV_OPS)?,
                key: string_of(o, "key")?,
                value: opt_string(o, "value")?,
                phase: pick(o, "phase", &ClientPhase::NAMES)?,
                result: present_or_null(o, "result")?,
            },
        })
    }

    /// Reads an event kind from an object carrying its `type`.
    fn from_json(v: &Value) -> Result<Self, String> {
        Self::from_obj(object(v, "internally tagged enum EventKind")?)
    }
}

fn drop_reason(v: &Value) -> Result<DropReason, String> {
    named(v, "DropReason", &DropReason::NAMES)
}

fn client_phase(v: &Value) -> Result<ClientPhase, String> {
    named(v, "ClientPhase", &ClientPhase::NAMES)
}

fn send_body(v: &Value) -> Result<SendBody, String> {
    Ok(SendBody::from_json(v))
}

/// A unit enum written as its name.
/// A required client identifier: an unsigned integer (raftlab numbers its
/// clients) or a string (other tools name them, e.g. `"c7"`). Either is
/// only an identity, so both are accepted and kept as written.
fn client_id_of(o: &Obj, field: &str) -> Result<ClientId, String> {
    match required(o, field)? {
        Value::String(s) => Ok(ClientId::Name(s.clone())),
        v => v
            .as_u64()
            .map(ClientId::Num)
            .ok_or_else(|| bad(field, v, "a client id (an unsigned integer or a string)")),
    }
}

fn named<T: Clone>(v: &Value, what: &str, table: &[(&str, T)]) -> Result<T, String> {
    match v.as_str() {
        Some(s) => pick_name(what, s, table),
        None => Err(format!(
            "invalid type: {}, expected {what}",
            json::unexpected(v)
        )),
    }
}

deserialize_via_value!(TraceHeader, TraceHeader::from_json);
deserialize_via_value!(TraceEvent, TraceEvent::from_json);
deserialize_via_value!(EventKind, EventKind::from_json);
deserialize_via_value!(SendBody, send_body);
deserialize_via_value!(DropReason, drop_reason);
deserialize_via_value!(ClientPhase, client_phase);

/// A whole trace in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Line 1.
    pub header: TraceHeader,
    /// Every event, in order.
    pub events: Vec<TraceEvent>,
}

impl Trace {
    /// The trace as JSON Lines, byte for byte what `TraceWriter` produces.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        out.push_str(&writer::header_line(&self.header));
        out.push('\n');
        for ev in &self.events {
            out.push_str(&ev.to_line());
            out.push('\n');
        }
        out
    }
}

/// What is wrong with a trace, and on which line (1-based; 0 when the
/// problem is not tied to a line, e.g. an empty input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: TraceErrorKind,
}

/// The kinds of trace errors, so tools can react to each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceErrorKind {
    /// The input has no lines at all.
    Empty,
    /// A line is not a JSON object.
    BadJson(String),
    /// Line 1 is not a header (`"type":"header"` missing).
    MissingHeader,
    /// The header's `format` is not `raftlab-trace`.
    UnknownFormat(String),
    /// The header's major `version` is not one this reader knows.
    UnsupportedVersion(String),
    /// The header is missing a field or has one of the wrong type.
    BadHeader(String),
    /// A blank line (the format has none).
    BlankLine,
    /// `seq` is not the previous one plus 1 (or 1 on the first event).
    SeqGap {
        /// The seq that should have come.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// `time` went backwards.
    TimeDecreasing {
        /// The previous event's time.
        previous: u64,
        /// This event's time.
        found: u64,
    },
    /// An event `type` this reader does not know.
    UnknownEventType(String),
    /// An event of a known type with a missing or malformed field.
    BadEvent(String),
    /// The writer could not write (only for writers over I/O sinks).
    Write(String),
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        match &self.kind {
            TraceErrorKind::Empty => write!(f, "the trace is empty (no header line)"),
            TraceErrorKind::BadJson(e) => write!(f, "not valid JSON: {e}"),
            TraceErrorKind::MissingHeader => write!(
                f,
                "this is not a raftlab trace: its first line must be its header, `{{\"type\":\"header\",\"format\":\"{TRACE_FORMAT}\",...}}`"
            ),
            TraceErrorKind::UnknownFormat(s) => write!(
                f,
                "unknown trace format {s:?}; this reader knows only {TRACE_FORMAT:?}"
            ),
            TraceErrorKind::UnsupportedVersion(v) => write!(
                f,
                "unsupported trace version {v}; this reader knows major version {TRACE_VERSION}"
            ),
            TraceErrorKind::BadHeader(e) => write!(f, "bad header: {e}"),
            TraceErrorKind::BlankLine => write!(f, "blank line (a trace has one JSON object per line)"),
            TraceErrorKind::SeqGap { expected, found } => {
                write!(f, "seq {found} where {expected} was expected (seq counts from 1 without gaps)")
            }
            TraceErrorKind::TimeDecreasing { previous, found } => {
                write!(f, "time {found} is before the previous event's time {previous}")
            }
            TraceErrorKind::UnknownEventType(t) => write!(f, "unknown event type {t:?}"),
            TraceErrorKind::BadEvent(e) => write!(f, "bad event: {e}"),
            TraceErrorKind::Write(e) => write!(f, "cannot write the trace: {e}"),
        }
    }
}

impl std::error::Error for TraceError {}
