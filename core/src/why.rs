//! Why a server did what it did, as data. Each reason is built on the code
//! path that made the decision, with the facts that decided it, so what a
//! trace, the feed or the page says can never be a fixed sentence printed
//! whatever happened: under a deliberate bug the reason records that a
//! check was skipped or changed, not that it passed. The words live in one
//! place, `trace::describe` (the `Display` of each type here).

use crate::types::{Index, NodeId, Role, Term};

/// Why a server's role, term or known leader changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleWhy {
    /// Booted from its persisted state (Figure 2). `forgotten_vote` is the
    /// vote it had persisted but dropped (deliberate bug
    /// forget-vote-on-restart).
    Restarted {
        /// The vote lost on restart, if the bug erased one.
        forgotten_vote: Option<NodeId>,
    },
    /// Its election timeout fired (§5.2), or a user fired it.
    Timeout {
        /// Fired by the user rather than by the timer.
        forced: bool,
        /// Asking for prevotes first (thesis §9.6).
        prevote: bool,
    },
    /// The leader handed leadership over with TimeoutNow (thesis §3.10).
    HandedOver {
        /// The leader that handed over.
        old: NodeId,
    },
    /// A majority granted prevotes (thesis §9.6): now a real candidate.
    WonPrevote {
        /// Learners whose prevotes were counted (deliberate bug
        /// learner-in-quorum); empty otherwise.
        learners: Vec<NodeId>,
    },
    /// A majority granted votes (§5.2).
    Won {
        /// Learners whose votes were counted (deliberate bug
        /// learner-in-quorum); empty otherwise.
        learners: Vec<NodeId>,
    },
    /// A majority refused (raftlab steps back at once; the paper's
    /// candidate waits for its timeout, §5.2).
    Lost {
        /// It was a prevote round.
        prevote: bool,
    },
    /// A vote request carried a higher term (§5.1).
    HigherTermRequest {
        /// The candidate.
        from: NodeId,
    },
    /// A prevote request raised this server's term: only under the
    /// deliberate bug prevote-raises-term (thesis §9.6 forbids it).
    PrevoteRaisedTerm {
        /// The pre-candidate.
        from: NodeId,
    },
    /// An answer carried a higher term (§5.1).
    HigherTermAnswer {
        /// Who answered.
        from: NodeId,
        /// The term it answered from.
        term: Term,
    },
    /// A leader of this term or a later one spoke (§5.2).
    NewLeader {
        /// The leader.
        leader: NodeId,
        /// Its term.
        term: Term,
    },
    /// CheckQuorum: no majority answered within an election timeout
    /// (thesis §6.2).
    LostQuorum,
    /// Removed from the configuration; the change committed (thesis §4.2.2).
    Removed,
}

/// How a vote compared the candidate's log with the voter's (§5.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogCheck {
    /// Compared: the candidate's log is at least as up to date.
    Passed,
    /// Not compared: the deliberate bug no-up-to-date-check is on.
    /// `behind` says what the comparison would have found.
    Skipped {
        /// The candidate's log is behind the voter's: the check would
        /// have refused.
        behind: bool,
    },
}

/// How a prevote treated the term it asks for (thesis §9.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrevoteTerm {
    /// Above the voter's term, which stays as it was.
    Above,
    /// The voter adopted it (deliberate bug prevote-raises-term).
    RaisedMine {
        /// The voter's term before.
        old: Term,
    },
    /// Not above the voter's term, and not checked (deliberate bug
    /// prevote-raises-term skips the check).
    Unchecked {
        /// The voter's term.
        mine: Term,
    },
}

/// Why a (pre)vote was granted or refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoteWhy {
    /// A prevote granted (thesis §9.6).
    PrevoteGranted {
        /// The log comparison.
        log: LogCheck,
        /// What happened to the voter's term.
        term: PrevoteTerm,
    },
    /// A vote granted (§5.2, §5.4.1) and persisted before the answer.
    Granted {
        /// The log comparison.
        log: LogCheck,
        /// It had already voted for this candidate in this term.
        again: bool,
        /// A vote in this term that a restart erased (deliberate bug
        /// forget-vote-on-restart): without the bug it would have refused.
        forgotten: Option<NodeId>,
    },
    /// The request names a candidate other than its sender.
    CandidateMismatch {
        /// The id in the request.
        candidate: NodeId,
        /// Who sent it.
        sender: NodeId,
    },
    /// The request's term is behind the voter's (§5.1).
    TermBehind {
        /// The term asked for.
        asked: Term,
        /// The voter's term.
        mine: Term,
    },
    /// A leader is alive (leader stickiness, thesis §4.2.3).
    LeaderAlive {
        /// The leader the voter heard from, or `None` if the voter is it.
        leader: Option<NodeId>,
        /// Ticks since it heard from that leader.
        ticks: u64,
    },
    /// A prevote asks for a term that is not above the voter's.
    PrevoteTermNotAbove {
        /// The term asked for.
        asked: Term,
        /// The voter's term.
        mine: Term,
    },
    /// Already voted for someone else in this term (§5.2).
    AlreadyVoted {
        /// Whom it voted for.
        candidate: NodeId,
        /// The term.
        term: Term,
    },
    /// The voter's last entry has a later term (§5.4.1).
    LogNewerTerm {
        /// The voter's last term.
        mine: Term,
        /// The candidate's last term.
        theirs: Term,
    },
    /// Same last term, but the voter's log is longer (§5.4.1).
    LogLonger {
        /// The voter's last index.
        mine: Index,
        /// The candidate's last index.
        theirs: Index,
        /// The last term they share.
        term: Term,
    },
}

/// How a follower chose its new commit index from the leader's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitCap {
    /// The leader's commit index was within what this request appended.
    LeaderCommit,
    /// Capped at the last new entry (Figure 2, AppendEntries rule 5).
    LastNew,
    /// Not capped: the deliberate bug commit-without-min is on.
    Uncapped,
}

/// Why a server's commit index rose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitWhy {
    /// A leader counted replicas of the entry at `index` (§5.4.2).
    Majority {
        /// The entry's term.
        entry_term: Term,
        /// The leader's term.
        my_term: Term,
        /// Learners counted (deliberate bug learner-in-quorum).
        learners: Vec<NodeId>,
    },
    /// A follower followed the leader's commit index (Figure 2).
    Leader {
        /// The leader's commit index.
        leader_commit: Index,
        /// The last entry this request matched or appended.
        last_new: Index,
        /// Which bound applied.
        cap: CommitCap,
    },
    /// An installed snapshot covers it (§7).
    Snapshot,
    /// The persisted snapshot covers it, on restart.
    Restarted,
}

/// Why a message was refused or ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not addressed to this server, or from no one.
    Misaddressed {
        /// The sender.
        from: NodeId,
        /// The addressee.
        to: NodeId,
        /// This server.
        me: NodeId,
    },
    /// A leadership transfer ran out of time (thesis §3.10).
    TransferTimedOut {
        /// The target.
        target: NodeId,
    },
    /// A vote answer for a round that is over.
    StaleVoteAnswer {
        /// The term the answer is for.
        request_term: Term,
        /// This server's role now.
        role: Role,
        /// This server's term now.
        term: Term,
    },
    /// A leader message from an older term (§5.1).
    StaleLeader {
        /// Its term.
        term: Term,
        /// This server's term.
        mine: Term,
    },
    /// The request names a leader other than its sender.
    LeaderMismatch {
        /// The id in the request.
        claimed: NodeId,
        /// Who sent it.
        sender: NodeId,
    },
    /// Another server claims leadership of this leader's own term: at most
    /// one leader per term (§5.2).
    SameTermLeader {
        /// The term.
        term: Term,
    },
    /// A batch whose entries do not follow `prev` in order.
    MalformedBatch {
        /// Position in the batch.
        position: usize,
        /// The entry's index.
        index: Index,
        /// The entry's term.
        term: Term,
        /// The batch's previous index.
        prev: Index,
        /// The request's term.
        leader_term: Term,
    },
    /// The entry before the batch differs (§5.3).
    LogMismatch {
        /// Its index.
        index: Index,
        /// The term this server holds there.
        mine: Term,
        /// The term the leader expects.
        leader: Term,
    },
    /// No entry before the batch (§5.3).
    MissingEntry {
        /// The index expected.
        index: Index,
        /// This server's last index.
        last: Index,
    },
    /// The batch would overwrite a committed entry (§5.4).
    WouldOverwriteCommitted {
        /// Its index.
        index: Index,
    },
    /// The log store could not truncate.
    CannotTruncate {
        /// Where.
        index: Index,
    },
    /// The log store could not append.
    CannotAppend {
        /// Where.
        index: Index,
    },
    /// An answer from a term this server no longer leads.
    StaleAnswer,
    /// An answer from a server outside the configuration.
    NotMember {
        /// The server.
        id: NodeId,
    },
    /// An answer to a request already answered (`message_token`).
    StaleToken {
        /// The answer's token.
        token: u64,
        /// The token already answered.
        acked: u64,
    },
    /// A snapshot from a server that is not the leader of its term.
    SnapshotNotFromLeader,
    /// A snapshot no newer than what is committed here (§7).
    SnapshotNotNewer {
        /// Its index.
        index: Index,
        /// This server's commit index.
        commit: Index,
    },
    /// The snapshot could not be installed.
    SnapshotUnusable {
        /// What was wrong with it.
        detail: String,
    },
    /// A chunk at another offset than the one expected next.
    ChunkOffset {
        /// Its offset.
        got: u64,
        /// The offset expected.
        expected: u64,
    },
    /// A chunk whose `block_size` differs from its data's length.
    ChunkSize,
    /// A snapshot answer with no transfer in progress.
    NoSnapshotTransfer,
    /// A snapshot answer with an offset past the snapshot's end.
    OffsetPastEnd {
        /// The offset.
        offset: u64,
    },
}

/// Why a read could not be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFailure {
    /// The leader stepped down before a majority confirmed it (thesis §6.4).
    SteppedDown,
}
