//! The network interface (ERaftKV `RaftNetworkInterface`): how a server's
//! messages and observable events leave it. The core never does I/O itself;
//! it hands everything to this trait, in the order it happened.

use serde::{Deserialize, Serialize};

use crate::quorum::Membership;
use crate::types::{
    AppendEntriesReq, Entry, Index, Message, MessageBody, NodeId, RequestVoteReq, Role,
    SnapshotReq, Term,
};
use crate::why::{CommitWhy, ReadFailure, Refusal, RoleWhy, VoteWhy};

/// Where a snapshot came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotSource {
    /// Compacted locally.
    Local,
    /// Installed from the leader's chunks.
    Install,
}

/// Something a server did that the outside world may observe: the
/// simulator turns these into trace events, the page into its event feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftEvent {
    /// Role, term or known leader changed (ERaftKV `StateChangeEvent`).
    Role {
        /// The new role.
        role: Role,
        /// The current term.
        term: Term,
        /// The leader this server knows of.
        leader: Option<NodeId>,
        /// Why.
        reason: RoleWhy,
    },
    /// This server answered a (pre)vote request.
    Vote {
        /// Who asked.
        candidate: NodeId,
        /// The term asked for.
        term: Term,
        /// Prevote or real vote.
        prevote: bool,
        /// The answer.
        granted: bool,
        /// Why.
        reason: VoteWhy,
    },
    /// An entry was written to the log.
    Append(Entry),
    /// Entries with index >= `from` were deleted.
    Truncate {
        /// First deleted index.
        from: Index,
    },
    /// The commit index rose.
    Commit {
        /// The new commit index.
        index: Index,
        /// Why.
        reason: CommitWhy,
    },
    /// An entry was applied to the state machine.
    Apply {
        /// Its index.
        index: Index,
        /// Its term.
        term: Term,
        /// What the state machine answered (for client commands).
        output: Vec<u8>,
    },
    /// The log was compacted, or a snapshot installed.
    Snapshot {
        /// Last index covered.
        index: Index,
        /// Its term.
        term: Term,
        /// Local or install.
        source: SnapshotSource,
    },
    /// The membership this server acts on changed (ERaftKV `ConfChangeEvent`).
    Config(Membership),
    /// A ReadIndex read is safe to serve at `index` (thesis §6.4).
    ReadReady {
        /// The id the read was proposed with.
        read_id: u64,
        /// The read index; the state machine has applied at least this.
        index: Index,
    },
    /// A read could not be served.
    ReadFailed {
        /// The id the read was proposed with.
        read_id: u64,
        /// Why.
        reason: ReadFailure,
    },
    /// A message was refused or ignored; never silently.
    Rejected {
        /// The sender.
        from: NodeId,
        /// The message kind.
        msg: &'static str,
        /// Why.
        reason: Refusal,
    },
}

/// How a server's output leaves it.
pub trait Network {
    /// Puts a message on the wire.
    fn send(&mut self, msg: Message);
    /// Reports an event.
    fn event(&mut self, event: RaftEvent);

    /// Sends a (pre)vote request (ERaftKV `SendRequestVote`).
    fn send_request_vote(&mut self, from: NodeId, to: NodeId, req: RequestVoteReq) {
        self.send(Message {
            from,
            to,
            body: MessageBody::RequestVote(req),
        });
    }

    /// Sends entries or a heartbeat (ERaftKV `SendAppendEntries`).
    fn send_append_entries(&mut self, from: NodeId, to: NodeId, req: AppendEntriesReq) {
        self.send(Message {
            from,
            to,
            body: MessageBody::AppendEntries(req),
        });
    }

    /// Sends a snapshot chunk (ERaftKV `SendSnapshot`).
    fn send_snapshot(&mut self, from: NodeId, to: NodeId, req: SnapshotReq) {
        self.send(Message {
            from,
            to,
            body: MessageBody::Snapshot(req),
        });
    }
}

/// One item of output, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A message to deliver.
    Send(Message),
    /// An event to observe.
    Event(RaftEvent),
}

/// `Network` in memory: collects output for the simulator (or a test) to
/// drain after each call into the server.
#[derive(Clone, Debug, Default)]
pub struct MemNetwork {
    /// Output not yet drained, oldest first.
    pub outbox: Vec<Output>,
}

impl MemNetwork {
    /// Takes everything collected so far.
    pub fn drain(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outbox)
    }
}

impl Network for MemNetwork {
    fn send(&mut self, msg: Message) {
        self.outbox.push(Output::Send(msg));
    }

    fn event(&mut self, event: RaftEvent) {
        self.outbox.push(Output::Event(event));
    }
}
