//! Trace events told in plain words: who did what, and why, in the words
//! the core gives (turned from "my log" into "S3's log" so the sentence
//! reads from outside the node). One telling for every reader: the page's
//! event feed, `raftlab replay --narrate`, and the transcript tests, so a
//! sentence a student reads in the page is the one a test pins down.

use std::collections::BTreeMap;

mod reasons;

use crate::kv::{KvCommand, KvOp, KvResult};
use crate::network::SnapshotSource;
use crate::sim::Action;
use crate::trace::{ClientPhase, DropReason, EventKind, SendBody, TraceEvent};
use crate::types::{EntryKind, MessageBody, NodeId, Role};

/// What an event is about, so a reader can group or filter it (the page
/// gives each its icon and colour; heartbeats can be hidden).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Elections: roles and votes.
    Election,
    /// The log: appends, commits, applies, snapshots, configuration.
    Log,
    /// Messages on the wire.
    Message,
    /// Heartbeats and their answers.
    Heartbeat,
    /// Faults: crashes, partitions, lost messages.
    Fault,
    /// What the user (or a client) did.
    User,
}

/// Rewrites a node's first-person reason ("my log", "I am") in the third
/// person ("S3's log", "S3 is").
pub fn third_person(node: NodeId, reason: &str) -> String {
    let name = format!("S{node}");
    let words: Vec<(&str, &str, &str)> = reason.split(' ').map(split_punct).collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let (lead, core, tail) = words[i];
        let next = words.get(i + 1).map(|w| w.1);
        let replaced = match core {
            "I" if next == Some("am") => {
                i += 1;
                format!("{name} is{}", words[i].2)
            }
            "I" => name.clone(),
            "my" | "My" | "mine" => format!("{name}'s"),
            "me" => name.clone(),
            other => other.to_string(),
        };
        out.push(format!("{lead}{replaced}{tail}"));
        i += 1;
    }
    out.join(" ")
}

/// ": <the node's reason, in the third person>", or nothing without one.
fn because(node: NodeId, reason: Option<&str>) -> String {
    reason
        .map(|r| format!(": {}", third_person(node, r)))
        .unwrap_or_default()
}

/// Splits leading "(" and trailing punctuation off a word.
fn split_punct(word: &str) -> (&str, &str, &str) {
    let start = word.len() - word.trim_start_matches(['(', '"']).len();
    let (lead, rest) = word.split_at(start);
    let core_len = rest.trim_end_matches([',', '.', ';', ':', ')', '"']).len();
    let (core, tail) = rest.split_at(core_len);
    (lead, core, tail)
}

/// A short description of a log entry's payload.
pub fn entry_label(kind: EntryKind, data: &[u8]) -> String {
    let ids = || {
        crate::types::parse_ids(data)
            .iter()
            .map(|i| format!("S{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    match kind {
        EntryKind::NoOp => "no-op".into(),
        EntryKind::Normal => match KvCommand::decode(data) {
            Ok(cmd) => command_label(&cmd),
            Err(_) => String::from_utf8_lossy(data).chars().take(16).collect(),
        },
        EntryKind::JoinNoVoteNode => format!("+learner {}", ids()),
        EntryKind::JoinNode => format!("+voter {}", ids()),
        EntryKind::LeaveNode => format!("remove {}", ids()),
        EntryKind::JointEnter => format!("joint → {{{}}}", ids()),
        EntryKind::JointLeave => "leave joint".into(),
    }
}

/// A KV command as `put k=v`, `get k`, `delete k`.
pub fn command_label(cmd: &KvCommand) -> String {
    match (&cmd.op, &cmd.value) {
        (KvOp::Put, Some(v)) => format!("put {}={}", cmd.key, v),
        (KvOp::Put, None) => format!("put {}", cmd.key),
        (KvOp::Get, _) => format!("get {}", cmd.key),
        (KvOp::Delete, _) => format!("delete {}", cmd.key),
    }
}

/// A message described for people: "AppendEntries with 3 entries",
/// "PreVote request for term 4", "heartbeat".
pub fn message_label(body: &MessageBody) -> String {
    match body {
        MessageBody::RequestVote(r) => format!(
            "{} request for term {} (last entry {} of term {})",
            if r.prevote { "PreVote" } else { "Vote" },
            r.term,
            r.last_log_idx,
            r.last_log_term
        ),
        MessageBody::RequestVoteResp(r) => format!(
            "{} {} (term {})",
            if r.prevote { "prevote" } else { "vote" },
            if r.vote_granted { "granted" } else { "refused" },
            r.request_term
        ),
        MessageBody::AppendEntries(a) if a.timeout_now => "TimeoutNow (leadership transfer)".into(),
        MessageBody::AppendEntries(a) if a.entries.is_empty() => {
            format!("heartbeat (commit {})", a.leader_commit)
        }
        MessageBody::AppendEntries(a) => format!(
            "AppendEntries with {} entr{} from index {} (commit {})",
            a.entries.len(),
            if a.entries.len() == 1 { "y" } else { "ies" },
            a.prev_log_idx + 1,
            a.leader_commit
        ),
        MessageBody::AppendEntriesResp(r) if r.success => {
            format!("append ok up to {}", r.curr_index)
        }
        MessageBody::AppendEntriesResp(r) => {
            format!("append refused (last index {})", r.curr_index)
        }
        MessageBody::Snapshot(s) => format!(
            "snapshot chunk at byte {} ({} bytes{}) of the snapshot up to index {}",
            s.block.offset,
            s.block.data.len(),
            if s.block.is_last_chunk { ", last" } else { "" },
            s.snapshot_index
        ),
        MessageBody::SnapshotResp(r) if r.is_last_chunk => "snapshot installed".into(),
        MessageBody::SnapshotResp(r) if r.success => format!("chunk ok, next byte {}", r.offset),
        MessageBody::SnapshotResp(r) => format!("chunk refused, expects byte {}", r.offset),
    }
}

/// A message in one short line, for a list of messages waiting to be
/// delivered by hand: "S1 → S2 · vote request · term 2 · last log 5@1".
pub fn message_line(from: NodeId, to: NodeId, body: &MessageBody) -> String {
    let what = match body {
        MessageBody::RequestVote(r) => format!(
            "{} request · term {} · last log {}@{}",
            if r.prevote { "prevote" } else { "vote" },
            r.term,
            r.last_log_idx,
            r.last_log_term
        ),
        MessageBody::RequestVoteResp(r) => format!(
            "{} {} · term {}",
            if r.prevote { "prevote" } else { "vote" },
            if r.vote_granted { "granted" } else { "refused" },
            r.request_term
        ),
        MessageBody::AppendEntries(a) if a.timeout_now => format!("TimeoutNow · term {}", a.term),
        MessageBody::AppendEntries(a) if a.entries.is_empty() => format!(
            "heartbeat · term {} · after {}@{} · commit {}",
            a.term, a.prev_log_idx, a.prev_log_term, a.leader_commit
        ),
        MessageBody::AppendEntries(a) => format!(
            "append {} entr{} · term {} · after {}@{} · commit {}",
            a.entries.len(),
            if a.entries.len() == 1 { "y" } else { "ies" },
            a.term,
            a.prev_log_idx,
            a.prev_log_term,
            a.leader_commit
        ),
        MessageBody::AppendEntriesResp(r) => format!(
            "append {} · term {} · up to {}",
            if r.success { "ok" } else { "refused" },
            r.term,
            r.curr_index
        ),
        MessageBody::Snapshot(s) => format!(
            "snapshot chunk at byte {} · term {} · up to {}",
            s.block.offset, s.term, s.snapshot_index
        ),
        MessageBody::SnapshotResp(r) => format!(
            "snapshot chunk {} · next byte {}",
            if r.success { "ok" } else { "refused" },
            r.offset
        ),
    };
    format!("S{from} → S{to} · {what}")
}

/// Whether a message is heartbeat traffic (an empty append or its answer
/// that only confirms what was already known).
pub fn is_heartbeat(body: &MessageBody) -> bool {
    match body {
        MessageBody::AppendEntries(a) => a.entries.is_empty() && !a.timeout_now,
        _ => false,
    }
}

/// Whether an event is heartbeat traffic, the send or the delivery of a
/// heartbeat (the events the feed tells with `Tone::Heartbeat`), decided
/// without building the sentence: the page's caption skips many of them
/// on every frame.
pub fn is_heartbeat_event<'a>(
    e: &TraceEvent,
    send_of: impl Fn(u64) -> Option<&'a TraceEvent>,
) -> bool {
    let body = match &e.kind {
        EventKind::Send { .. } => Some(e),
        EventKind::Deliver { id, .. } => send_of(*id),
        _ => None,
    };
    matches!(
        body.map(|s| &s.kind),
        Some(EventKind::Send {
            body: SendBody::Message(b),
            ..
        }) if is_heartbeat(b)
    )
}

/// A role in words, as the feed names it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::PreCandidate => "pre-candidate",
        Role::Candidate => "candidate",
        Role::Leader => "leader",
    }
}

/// What a state machine answered, for people: `ok`, the value read, or a
/// note that a retried command was answered from the client's session.
pub fn apply_output(output: &str) -> String {
    match KvResult::decode(output.as_bytes()) {
        Some(r) if r.duplicate => {
            "a retry: answered from the client's session, not applied again (thesis §6.3)".into()
        }
        Some(r) if !r.ok => "malformed command".into(),
        Some(KvResult { value: Some(v), .. }) => format!("value {v}"),
        Some(_) => "ok".into(),
        None => output.to_string(),
    }
}

/// The message `deliver_next`/`drop_next` picks, in words.
fn next_what(msg: &str, prevote: Option<bool>) -> String {
    match prevote {
        Some(true) => format!("prevote {msg}"),
        Some(false) => format!("{msg} (real vote)"),
        None => msg.to_string(),
    }
}

/// Describes a user action.
pub fn action_label(action: &Action) -> String {
    match action {
        Action::Crash { node } => format!("crash S{node}"),
        Action::Restart { node } => format!("restart S{node}"),
        Action::Timeout { node } => format!("fire S{node}'s election timeout"),
        Action::Partition { groups } => format!(
            "partition the network into {}",
            groups
                .iter()
                .map(|g| format!(
                    "{{{}}}",
                    g.iter()
                        .map(|n| format!("S{n}"))
                        .collect::<Vec<_>>()
                        .join(",")
                ))
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        Action::Heal => "heal the network".into(),
        Action::Cut { from, to } => format!("cut the link S{from} → S{to}"),
        Action::Restore { from, to } => format!("restore the link S{from} → S{to}"),
        Action::AddLearner { node } => format!("add S{node} as a learner"),
        Action::AddVoter { node } => format!("make S{node} a voter"),
        Action::Remove { node } => format!("remove S{node} from the cluster"),
        Action::Joint { voters } => format!(
            "change the voters to {{{}}} (joint consensus)",
            voters
                .iter()
                .map(|n| format!("S{n}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Action::Transfer { to } => format!("hand leadership to S{to}"),
        Action::Snapshot { node } => format!("snapshot S{node}'s state"),
        Action::Client {
            client,
            op,
            key,
            value,
        } => {
            let cmd = KvCommand {
                client: *client,
                seq: 0,
                op: op.clone(),
                key: key.clone(),
                value: value.clone(),
            };
            format!("client {client}: {}", command_label(&cmd))
        }
        Action::DropMessage { id } => format!("drop message #{id}"),
        Action::Deliver { id } => format!("deliver message #{id} now"),
        Action::Hold { from, to } => {
            format!("hold the link S{from} → S{to} (its messages wait)")
        }
        Action::Release { from, to } => {
            format!("release the link S{from} → S{to} (what waited arrives, oldest first)")
        }
        Action::Heartbeat { node } => format!("S{node} sends a heartbeat round now"),
        Action::Manual { on: true, timers } => format!(
            "deliver messages by hand{}",
            if *timers {
                " (timers keep running)"
            } else {
                "; timers stand still"
            }
        ),
        Action::Manual { on: false, .. } => {
            "deliver messages by themselves again (what waited arrives now)".into()
        }
        Action::DeliverNext {
            from,
            to,
            msg,
            prevote,
        } => format!(
            "deliver the oldest {} from S{from} to S{to} now",
            next_what(msg, *prevote)
        ),
        Action::DropNext {
            from,
            to,
            msg,
            prevote,
        } => format!(
            "drop the oldest {} from S{from} to S{to}",
            next_what(msg, *prevote)
        ),
        Action::Calm { ms } => format!(
            "calm for {:.1} s: heal the network, no loss, restart every crashed server",
            *ms as f64 / 1000.0
        ),
        Action::Network {
            latency_ms, loss, ..
        } => {
            let mut parts = Vec::new();
            if let Some([lo, hi]) = latency_ms {
                parts.push(format!("latency {lo}–{hi} ms"));
            }
            if let Some(l) = loss {
                parts.push(format!("loss {:.0}%", l * 100.0));
            }
            format!("set the network: {}", parts.join(", "))
        }
    }
}

/// An event in words, and how the feed shows it. `send_of` finds a
/// message's send event by id, to say which message a delivery was.
pub fn narrate<'a>(
    e: &TraceEvent,
    send_of: impl Fn(u64) -> Option<&'a TraceEvent>,
) -> (Tone, String) {
    let named = |id: u64| -> Option<(NodeId, NodeId, &'a MessageBody)> {
        match &send_of(id)?.kind {
            EventKind::Send {
                from,
                to,
                body: SendBody::Message(b),
                ..
            } => Some((*from, *to, b)),
            _ => None,
        }
    };
    match &e.kind {
        EventKind::Role {
            node,
            role,
            term,
            reason,
            ..
        } => {
            let why = because(*node, reason.as_deref());
            (
                Tone::Election,
                format!("S{node} is {} in term {term}{why}", role_name(*role)),
            )
        }
        EventKind::Vote {
            node,
            candidate,
            term,
            prevote,
            granted,
            reason,
        } => {
            let what = if *prevote { "prevote" } else { "vote" };
            let why = because(*node, reason.as_deref());
            let text = if *granted {
                format!("S{node} granted S{candidate} its {what} for term {term}{why}")
            } else {
                format!("S{node} refused S{candidate}'s {what} for term {term}{why}")
            };
            (Tone::Election, text)
        }
        EventKind::Append {
            node,
            index,
            term,
            kind,
            data,
        } => (
            Tone::Log,
            format!(
                "S{node} appended entry {index} of term {term}: {}",
                entry_label(*kind, data.as_bytes())
            ),
        ),
        EventKind::Truncate { node, from } => (
            Tone::Fault,
            format!("S{node} deleted its conflicting entries from index {from} on (§5.3)"),
        ),
        EventKind::Commit {
            node,
            index,
            reason,
        } => {
            let why = because(*node, reason.as_deref());
            (
                Tone::Log,
                format!("S{node} committed up to index {index}{why}"),
            )
        }
        EventKind::Apply {
            node,
            index,
            output,
            ..
        } => {
            let out = output
                .as_deref()
                .map(|o| format!(" → {}", apply_output(o)))
                .unwrap_or_default();
            (
                Tone::Log,
                format!("S{node} applied entry {index} to its state machine{out}"),
            )
        }
        EventKind::Snapshot {
            node,
            index,
            term,
            source,
        } => (
            Tone::Log,
            match source {
                SnapshotSource::Local => format!(
                    "S{node} took a snapshot up to index {index} (term {term}) and compacted its log"
                ),
                SnapshotSource::Install => format!(
                    "S{node} installed the leader's snapshot up to index {index} (term {term})"
                ),
            },
        ),
        EventKind::Config {
            node,
            voters,
            learners,
            outgoing,
        } => {
            let list = |s: &std::collections::BTreeSet<NodeId>| {
                s.iter()
                    .map(|n| format!("S{n}"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let mut text = format!("S{node} now uses voters {{{}}}", list(voters));
            if !outgoing.is_empty() {
                text.push_str(&format!(" jointly with {{{}}}", list(outgoing)));
            }
            if !learners.is_empty() {
                text.push_str(&format!(", learners {{{}}}", list(learners)));
            }
            (Tone::Log, text)
        }
        EventKind::Send {
            id,
            from,
            to,
            body,
            msg,
            ..
        } => match body {
            SendBody::Message(b) => (
                if is_heartbeat(b) {
                    Tone::Heartbeat
                } else {
                    Tone::Message
                },
                format!("S{from} → S{to}: {} (#{id})", message_label(b)),
            ),
            SendBody::Other(_) => (Tone::Message, format!("S{from} → S{to}: {msg} (#{id})")),
        },
        EventKind::Deliver { id, outcome } => {
            let (tone, what) = match named(*id) {
                Some((from, to, b)) => (
                    if is_heartbeat(b) {
                        Tone::Heartbeat
                    } else {
                        Tone::Message
                    },
                    format!("S{to} received S{from}'s {}", message_label(b)),
                ),
                None => (Tone::Message, format!("message #{id} arrived")),
            };
            match (outcome, named(*id)) {
                (Some(o), Some((_, to, _))) => (
                    Tone::Message,
                    format!("{what} and rejected it: {}", third_person(to, o)),
                ),
                (Some(o), None) => (Tone::Message, format!("{what}, rejected: {o}")),
                _ => (tone, what),
            }
        }
        EventKind::Drop { id, reason } => {
            let why = match reason {
                DropReason::Partition => "the link is cut",
                DropReason::Loss => "lost on the way",
                DropReason::Crashed => "its receiver is down",
            };
            let what = match named(*id) {
                Some((from, to, b)) => format!("S{from} → S{to} {}", message_label(b)),
                None => format!("message #{id}"),
            };
            (Tone::Fault, format!("dropped {what}: {why}"))
        }
        EventKind::Crash { node } => (
            Tone::Fault,
            format!("S{node} crashed: only its term, vote, log and snapshot survive on disk"),
        ),
        EventKind::Restart { node } => (
            Tone::Fault,
            format!("S{node} restarted from its disk as a follower"),
        ),
        EventKind::Partition { groups } => (
            Tone::Fault,
            format!(
                "the network split into {}",
                groups
                    .iter()
                    .map(|g| format!(
                        "{{{}}}",
                        g.iter().map(|n| format!("S{n}")).collect::<Vec<_>>().join(",")
                    ))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        ),
        EventKind::Heal {} => (Tone::Fault, "the network healed: every link is up".into()),
        EventKind::Link { from, to, up } => (
            Tone::Fault,
            format!(
                "the link S{from} → S{to} is {}",
                if *up { "restored" } else { "cut" }
            ),
        ),
        EventKind::Action { action } => {
            let text = match serde_json::from_value::<Action>(action.clone()) {
                Ok(a) => action_label(&a),
                Err(_) => action.to_string(),
            };
            (Tone::User, format!("you: {text}"))
        }
        EventKind::Client {
            client,
            op,
            key,
            value,
            phase,
            result,
        } => {
            // The label shows op, key and value only, so a named client
            // (another tool's trace) needs no number here.
            let cmd = KvCommand {
                client: client.as_num().unwrap_or_default(),
                seq: 0,
                op: op.clone(),
                key: key.clone(),
                value: value.clone(),
            };
            let what = command_label(&cmd);
            let text = match phase {
                ClientPhase::Invoke => format!("client {client} sends {what}"),
                ClientPhase::Ok => match result {
                    Some(Some(v)) => format!("client {client}: {what} → {v}"),
                    Some(None) => format!("client {client}: {what} → (absent)"),
                    None => format!("client {client}: {what} → ok"),
                },
                ClientPhase::Fail => format!("client {client}: {what} failed (not applied)"),
                ClientPhase::Timeout => {
                    format!("client {client}: {what} timed out (outcome unknown)")
                }
            };
            (Tone::User, text)
        }
    }
}

/// Tells a run event by event, remembering each message's `send` so a later
/// delivery or loss can say which message it was. For readers that see the
/// events one at a time (the CLI, the transcript tests); the page looks its
/// sends up in its own history instead.
#[derive(Debug, Default)]
pub struct Narrator {
    sends: BTreeMap<u64, TraceEvent>,
}

impl Narrator {
    /// A narrator that has seen no event yet.
    pub fn new() -> Self {
        Narrator::default()
    }

    /// The event in words, with its tone.
    pub fn tell(&mut self, e: &TraceEvent) -> (Tone, String) {
        if let EventKind::Send { id, .. } = e.kind {
            self.sends.insert(id, e.clone());
        }
        let sends = &self.sends;
        narrate(e, |id| sends.get(&id))
    }
}

/// One line of a told run: the event's time in seconds and its seq before
/// the words, as `  1.234s #57    S3 granted S1 its vote …`, so lines of a
/// long run stay aligned and can be found again by seq in the trace.
pub fn feed_line(e: &TraceEvent, text: &str) -> String {
    format!(
        "{:>3}.{:03}s #{:<5} {text}",
        e.time / 1000,
        e.time % 1000,
        e.seq
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cheap_heartbeat_test_agrees_with_the_feeds_tone() {
        let mut sim = crate::sim::Sim::new(3, 5, crate::sim::SimConfig::default()).unwrap();
        sim.run_until(2_000);
        let events = sim.events();
        let send_of = |id: u64| {
            events
                .iter()
                .find(|e| matches!(&e.kind, EventKind::Send { id: i, .. } if *i == id))
        };
        let mut heartbeats = 0;
        for e in events {
            let told = narrate(e, send_of).0 == Tone::Heartbeat;
            assert_eq!(is_heartbeat_event(e, send_of), told, "#{}", e.seq);
            heartbeats += usize::from(told);
        }
        assert!(heartbeats > 20, "only {heartbeats} heartbeat events");
    }

    #[test]
    fn first_person_becomes_third() {
        assert_eq!(
            third_person(
                3,
                "my log is more up to date: my last entry is of term 7 (§5.4.1)"
            ),
            "S3's log is more up to date: S3's last entry is of term 7 (§5.4.1)"
        );
        assert_eq!(
            third_person(
                2,
                "I am the leader and a majority is still with me (thesis §4.2.3)"
            ),
            "S2 is the leader and a majority is still with S2 (thesis §4.2.3)"
        );
        assert_eq!(
            third_person(4, "I already voted for S1 in term 3 (§5.2)"),
            "S4 already voted for S1 in term 3 (§5.2)"
        );
    }

    #[test]
    fn apply_outputs_read_well() {
        assert_eq!(apply_output(r#"{"ok":true,"value":null}"#), "ok");
        assert_eq!(apply_output(r#"{"ok":true,"value":"7"}"#), "value 7");
        let retry = apply_output(r#"{"ok":true,"value":null,"duplicate":true}"#);
        assert!(retry.contains("session") && retry.contains("not applied again"));
        assert_eq!(apply_output("hello"), "hello");
    }

    #[test]
    fn punctuation_stays() {
        assert_eq!(third_person(1, "not me, you"), "not S1, you");
        assert_eq!(
            third_person(1, "a late answer (I am candidate in term 1)"),
            "a late answer (S1 is candidate in term 1)"
        );
        assert_eq!(
            third_person(2, "a term above mine, and 1 is not above 1"),
            "a term above S2's, and 1 is not above 1"
        );
    }

    #[test]
    fn membership_entries_read_well() {
        assert_eq!(entry_label(EntryKind::JoinNoVoteNode, b"6"), "+learner S6");
        assert_eq!(entry_label(EntryKind::NoOp, b""), "no-op");
        let cmd = KvCommand {
            client: 1,
            seq: 1,
            op: KvOp::Put,
            key: "x".into(),
            value: Some("1".into()),
        };
        assert_eq!(entry_label(EntryKind::Normal, &cmd.encode()), "put x=1");
    }

    #[test]
    fn every_event_of_a_run_has_words() {
        let mut sim = crate::sim::Sim::new(3, 5, crate::sim::SimConfig::default()).unwrap();
        sim.run_until(1200);
        let events = sim.events().to_vec();
        for e in &events {
            let (_, text) = narrate(e, |id| {
                events
                    .iter()
                    .find(|x| matches!(x.kind, EventKind::Send { id: i, .. } if i == id))
            });
            assert!(!text.is_empty());
        }
    }

    #[test]
    fn a_delivery_is_told_as_the_message_its_send_carried() {
        let mut sim = crate::sim::Sim::new(3, 3, crate::sim::SimConfig::default()).unwrap();
        sim.run_until(1200);
        let mut narrator = Narrator::new();
        let told: Vec<String> = sim.events().iter().map(|e| narrator.tell(e).1).collect();
        assert!(told.iter().any(|t| t.contains(" received S")));
        assert!(!told.iter().any(|t| t.starts_with("message #")));
    }

    #[test]
    fn feed_lines_carry_time_and_seq() {
        let e = TraceEvent {
            seq: 57,
            time: 1234,
            kind: EventKind::Commit {
                node: 3,
                index: 2,
                reason: None,
            },
        };
        assert_eq!(
            feed_line(&e, "S3 committed up to index 2"),
            "  1.234s #57    S3 committed up to index 2"
        );
    }
}
