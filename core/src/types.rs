//! Wire and log types of the ERaftKV design: roles, entries and the six RPC
//! messages. Every type is `serde`, because each one appears in traces and on
//! screen exactly as the core sees it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::{
    bool_of, bool_or_false, bytes_of, deserialize_via_value, object, pick, u64_of, Obj,
};

/// A server's id. Ids are positive; 0 means "nobody" (as in the paper).
pub type NodeId = u64;
/// A term number; 0 means "no term yet".
pub type Term = u64;
/// A log index; 0 means "no entry" (the log starts at 1).
pub type Index = u64;

/// The id that stands for "no node" (no leader known, no vote cast).
pub const NO_NODE: NodeId = 0;

/// The role a server plays (ERaftKV `StateEnum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Follows a leader and answers its RPCs.
    Follower,
    /// Asks for prevotes at term+1 without changing any term (thesis §9.6).
    PreCandidate,
    /// Asks for votes in its own, incremented term (§5.2).
    Candidate,
    /// Replicates its log and commits entries (§5.3).
    Leader,
}

impl Role {
    /// The name the trace format uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Follower => "follower",
            Role::PreCandidate => "precandidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        }
    }
}

/// What an entry carries (ERaftKV `entry_type` plus the two joint-consensus
/// entries of thesis §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    /// A client command for the state machine.
    #[serde(rename = "normal")]
    Normal,
    /// The empty entry a new leader appends to commit its predecessors' entries (§5.4.2, §8).
    #[serde(rename = "noop")]
    NoOp,
    /// Adds a non-voting learner (thesis §4.2.1).
    #[serde(rename = "join_learner")]
    JoinNoVoteNode,
    /// Adds a voter, or promotes a learner to voter.
    #[serde(rename = "join_voter")]
    JoinNode,
    /// Removes a voter or learner.
    #[serde(rename = "leave")]
    LeaveNode,
    /// Enters the joint configuration C_old,new; `data` lists C_new's voters.
    #[serde(rename = "joint_enter")]
    JointEnter,
    /// Leaves the joint configuration for C_new.
    #[serde(rename = "joint_leave")]
    JointLeave,
}

impl EntryKind {
    /// The name the trace format uses.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Normal => "normal",
            EntryKind::NoOp => "noop",
            EntryKind::JoinNoVoteNode => "join_learner",
            EntryKind::JoinNode => "join_voter",
            EntryKind::LeaveNode => "leave",
            EntryKind::JointEnter => "joint_enter",
            EntryKind::JointLeave => "joint_leave",
        }
    }

    /// Whether the entry changes the membership.
    pub fn is_membership(self) -> bool {
        !matches!(self, EntryKind::Normal | EntryKind::NoOp)
    }
}

/// One log entry. Membership entries carry the node id(s) they involve as
/// comma-separated decimal text in `data`, so traces stay readable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The term in which the leader created the entry.
    pub term: Term,
    /// Its position in the log (ERaftKV calls it `id`).
    pub index: Index,
    /// What the entry does.
    pub kind: EntryKind,
    /// The payload: a command for `Normal`, node ids for membership kinds.
    #[serde(with = "bytes_text")]
    pub data: Vec<u8>,
}

impl Entry {
    /// Node ids named by a membership entry's data; malformed ids are skipped.
    pub fn node_ids(&self) -> Vec<NodeId> {
        parse_ids(&self.data)
    }
}

/// Parses comma-separated positive ids, skipping anything malformed.
pub fn parse_ids(data: &[u8]) -> Vec<NodeId> {
    std::str::from_utf8(data)
        .unwrap_or("")
        .split(',')
        .filter_map(|s| s.trim().parse::<NodeId>().ok())
        .filter(|&id| id != NO_NODE)
        .collect()
}

/// Formats ids as the comma-separated text membership entries carry.
pub fn format_ids(ids: &[NodeId]) -> Vec<u8> {
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",")
        .into_bytes()
}

/// RequestVote (§5.2), also used for PreVote (thesis §9.6) with `prevote` set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestVoteReq {
    /// True for a prevote: nobody's term or vote changes.
    pub prevote: bool,
    /// The term asked for (the candidate's term, or its term + 1 for a prevote).
    pub term: Term,
    /// Who asks.
    pub candidate_id: NodeId,
    /// Index of the candidate's last entry, for the up-to-date check (§5.4.1).
    pub last_log_idx: Index,
    /// Term of the candidate's last entry.
    pub last_log_term: Term,
    /// Set when the election follows a leadership transfer (thesis §3.10),
    /// so voters set leader stickiness aside.
    #[serde(default, skip_serializing_if = "is_false")]
    pub transfer: bool,
}

/// The answer to a RequestVote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestVoteResp {
    /// Echoes the request's flag.
    pub prevote: bool,
    /// Echoes the request's term so late answers to old rounds are recognised.
    pub request_term: Term,
    /// The voter's current term (a granted prevote may carry the term asked for).
    pub term: Term,
    /// Whether the (pre)vote is granted.
    pub vote_granted: bool,
}

/// AppendEntries (§5.3), also the heartbeat and, with `timeout_now`, the
/// leadership-transfer signal (thesis §3.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppendEntriesReq {
    /// The leader, so followers can redirect clients.
    pub leader_id: NodeId,
    /// A leader-wide increasing number the follower echoes; it orders answers
    /// and confirms leadership for ReadIndex (thesis §6.4).
    pub message_token: u64,
    /// The leader's term.
    pub term: Term,
    /// Index of the entry just before `entries`.
    pub prev_log_idx: Index,
    /// Term of that entry.
    pub prev_log_term: Term,
    /// The leader's commit index.
    pub leader_commit: Index,
    /// Entries to store (empty for a heartbeat).
    pub entries: Vec<Entry>,
    /// Asks the receiver to start an election at once (leadership transfer).
    #[serde(default, skip_serializing_if = "is_false")]
    pub timeout_now: bool,
}

/// The answer to an AppendEntries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppendEntriesResp {
    /// Echoes the request's token.
    pub message_token: u64,
    /// The follower's current term.
    pub term: Term,
    /// Whether the entries matched and were stored.
    pub success: bool,
    /// On success the highest index the request matched; on failure the
    /// follower's last index, so the leader can jump `next_index`.
    pub curr_index: Index,
}

/// One chunk of a snapshot (ERaftKV `snapshot_block`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotBlock {
    /// Byte offset of this chunk in the snapshot.
    pub offset: u64,
    /// The chunk's bytes.
    #[serde(with = "bytes_text")]
    pub data: Vec<u8>,
    /// Length of `data` as the sender declares it.
    pub block_size: u64,
    /// True on the final chunk.
    pub is_last_chunk: bool,
}

/// InstallSnapshot (§7), in chunks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotReq {
    /// The leader's term.
    pub term: Term,
    /// The leader.
    pub leader_id: NodeId,
    /// Echoed like AppendEntries' token.
    pub message_token: u64,
    /// Last index the snapshot covers.
    pub snapshot_index: Index,
    /// Term of that index.
    pub snapshot_term: Term,
    /// This chunk.
    pub block: SnapshotBlock,
}

/// The answer to one snapshot chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotResp {
    /// The follower's current term.
    pub term: Term,
    /// Echoes the request's token.
    pub message_token: u64,
    /// The offset the follower expects next (its received byte count).
    pub offset: u64,
    /// Whether the chunk was accepted.
    pub success: bool,
    /// True once the whole snapshot is installed.
    pub is_last_chunk: bool,
}

/// Any of the six RPC messages. Requests and answers travel alike, as
/// messages on the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum MessageBody {
    /// A vote or prevote request.
    RequestVote(RequestVoteReq),
    /// Its answer.
    RequestVoteResp(RequestVoteResp),
    /// Entries or a heartbeat.
    AppendEntries(AppendEntriesReq),
    /// Its answer.
    AppendEntriesResp(AppendEntriesResp),
    /// A snapshot chunk.
    Snapshot(SnapshotReq),
    /// Its answer.
    SnapshotResp(SnapshotResp),
}

impl MessageBody {
    /// The trace format's `msg` name.
    pub fn kind(&self) -> &'static str {
        match self {
            MessageBody::RequestVote(_) => "request_vote",
            MessageBody::RequestVoteResp(_) => "request_vote_resp",
            MessageBody::AppendEntries(_) => "append_entries",
            MessageBody::AppendEntriesResp(_) => "append_entries_resp",
            MessageBody::Snapshot(_) => "snapshot",
            MessageBody::SnapshotResp(_) => "snapshot_resp",
        }
    }

    /// The term the message carries.
    pub fn term(&self) -> Term {
        match self {
            MessageBody::RequestVote(m) => m.term,
            MessageBody::RequestVoteResp(m) => m.term,
            MessageBody::AppendEntries(m) => m.term,
            MessageBody::AppendEntriesResp(m) => m.term,
            MessageBody::Snapshot(m) => m.term,
            MessageBody::SnapshotResp(m) => m.term,
        }
    }

    /// The prevote flag of vote messages; `None` for the others.
    pub fn prevote(&self) -> Option<bool> {
        match self {
            MessageBody::RequestVote(m) => Some(m.prevote),
            MessageBody::RequestVoteResp(m) => Some(m.prevote),
            _ => None,
        }
    }
}

/// A message with its addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// The RPC.
    pub body: MessageBody,
}

// ----- decoding (hand-written: see `crate::json` for why) -----

impl Role {
    /// Every role with its trace name.
    pub(crate) const NAMES: [(&'static str, Role); 4] = [
        ("follower", Role::Follower),
        ("precandidate", Role::PreCandidate),
        ("candidate", Role::Candidate),
        ("leader", Role::Leader),
    ];
}

impl EntryKind {
    /// Every kind with its trace name.
    pub(crate) const NAMES: [(&'static str, EntryKind); 7] = [
        ("normal", EntryKind::Normal),
        ("noop", EntryKind::NoOp),
        ("join_learner", EntryKind::JoinNoVoteNode),
        ("join_voter", EntryKind::JoinNode),
        ("leave", EntryKind::LeaveNode),
        ("joint_enter", EntryKind::JointEnter),
        ("joint_leave", EntryKind::JointLeave),
    ];
}

impl Entry {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = object(v, "struct Entry")?;
        Ok(Entry {
            term: u64_of(o, "term")?,
            index: u64_of(o, "index")?,
            kind: pick(o, "kind", &EntryKind::NAMES)?,
            data: bytes_of(o, "data")?,
        })
    }
}

fn entries_of(o: &Obj) -> Result<Vec<Entry>, String> {
    match o.get("entries") {
        None => Err("missing field `entries`".into()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|e| Entry::from_json(e).map_err(|m| format!("entries: {m}")))
            .collect(),
        Some(other) => Err(format!(
            "field `entries`: invalid type: {}, expected a sequence",
            crate::json::unexpected(other)
        )),
    }
}

impl SnapshotBlock {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = object(v, "struct SnapshotBlock")?;
        Ok(SnapshotBlock {
            offset: u64_of(o, "offset")?,
            data: bytes_of(o, "data")?,
            block_size: u64_of(o, "block_size")?,
            is_last_chunk: bool_of(o, "is_last_chunk")?,
        })
    }
}

impl MessageBody {
    /// The message kinds with their `msg` names, in declaration order.
    const NAMES: [(&'static str, u8); 6] = [
        ("request_vote", 0),
        ("request_vote_resp", 1),
        ("append_entries", 2),
        ("append_entries_resp", 3),
        ("snapshot", 4),
        ("snapshot_resp", 5),
    ];

    /// Reads a body as the trace holds it: an object tagged by `msg`.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let o = object(v, "internally tagged enum MessageBody")?;
        Self::from_obj(o)
    }

    fn from_obj(o: &Obj) -> Result<Self, String> {
        Ok(match pick(o, "msg", &Self::NAMES)? {
            0 => MessageBody::RequestVote(RequestVoteReq {
                prevote: bool_of(o, "prevote")?,
                term: u64_of(o, "term")?,
                candidate_id: u64_of(o, "candidate_id")?,
                last_log_idx: u64_of(o, "last_log_idx")?,
                last_log_term: u64_of(o, "last_log_term")?,
                transfer: bool_or_false(o, "transfer")?,
            }),
            1 => MessageBody::RequestVoteResp(RequestVoteResp {
                prevote: bool_of(o, "prevote")?,
                request_term: u64_of(o, "request_term")?,
                term: u64_of(o, "term")?,
                vote_granted: bool_of(o, "vote_granted")?,
            }),
            2 => MessageBody::AppendEntries(AppendEntriesReq {
                leader_id: u64_of(o, "leader_id")?,
                message_token: u64_of(o, "message_token")?,
                term: u64_of(o, "term")?,
                prev_log_idx: u64_of(o, "prev_log_idx")?,
                prev_log_term: u64_of(o, "prev_log_term")?,
                leader_commit: u64_of(o, "leader_commit")?,
                entries: entries_of(o)?,
                timeout_now: bool_or_false(o, "timeout_now")?,
            }),
            3 => MessageBody::AppendEntriesResp(AppendEntriesResp {
                message_token: u64_of(o, "message_token")?,
                term: u64_of(o, "term")?,
                success: bool_of(o, "success")?,
                curr_index: u64_of(o, "curr_index")?,
            }),
            4 => MessageBody::Snapshot(SnapshotReq {
                term: u64_of(o, "term")?,
                leader_id: u64_of(o, "leader_id")?,
                message_token: u64_of(o, "message_token")?,
                snapshot_index: u64_of(o, "snapshot_index")?,
                snapshot_term: u64_of(o, "snapshot_term")?,
                block: match o.get("block") {
                    Some(b) => SnapshotBlock::from_json(b).map_err(|m| format!("block: {m}"))?,
                    None => return Err("missing field `block`".into()),
                },
            }),
            _ => MessageBody::SnapshotResp(SnapshotResp {
                term: u64_of(o, "term")?,
                message_token: u64_of(o, "message_token")?,
                offset: u64_of(o, "offset")?,
                success: bool_of(o, "success")?,
                is_last_chunk: bool_of(o, "is_last_chunk")?,
            }),
        })
    }
}

impl Message {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = object(v, "struct Message")?;
        Ok(Message {
            from: u64_of(o, "from")?,
            to: u64_of(o, "to")?,
            body: match o.get("body") {
                Some(b) => MessageBody::from_json(b)?,
                None => return Err("missing field `body`".into()),
            },
        })
    }
}

deserialize_via_value!(Entry, Entry::from_json);
deserialize_via_value!(SnapshotBlock, SnapshotBlock::from_json);
deserialize_via_value!(MessageBody, MessageBody::from_json);
deserialize_via_value!(Message, Message::from_json);

fn is_false(b: &bool) -> bool {
    !*b
}

/// Serialises bytes as a JSON string when they are UTF-8 (commands, ids) and
/// as an array of numbers otherwise; reads either back.
pub mod bytes_text {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `bytes` as text when possible.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.collect_seq(bytes.iter()),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Raw(Vec<u8>),
    }

    /// Reads text or a number array.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(match Either::deserialize(d)? {
            Either::Text(t) => t.into_bytes(),
            Either::Raw(r) => r,
        })
    }
}
