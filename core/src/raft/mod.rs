//! `RaftServer`: one Raft server in the shape of the ERaftKV design.
//!
//! The server is a deterministic state machine: it changes only when the
//! owner calls `tick` (ERaftKV `RunCycles`), `step` with a message, or an
//! operation (propose, read, membership change, snapshot, transfer).
//! Everything it does that others may see leaves through its `Network`, in
//! order: messages, and events for the trace and the page.
//!
//! The server is written by concern, as raft-rs lays it out:
//!
//! | module | concern |
//! |---|---|
//! | this file | the state, construction, restart, accessors, `step` |
//! | `election.rs` | timers, roles, votes, PreVote, CheckQuorum, leadership transfer |
//! | `replication.rs` | AppendEntries both ways, the leader's sending, commit and apply, proposals |
//! | `snapshot.rs` | sending, receiving and taking snapshots (§7) |
//! | `conf_change.rs` | membership proposals, joint enter/leave, what a committed change does |
//! | `read_only.rs` | ReadIndex (thesis §6.4) |
//! | `progress.rs` | a leader's view of one follower |
//!
//! The log rules (up-to-date check, conflict search, `maybe_append`) live in
//! [`RaftLog`](crate::log::RaftLog).
//!
//! # Invariants
//!
//! Each is checked with `debug_assert!` where it is established (see
//! `check_invariants`, run after every `tick` and `step`):
//!
//! - `last_applied_idx <= commit_idx <= log.last_index()` (Figure 2; the
//!   second half is exactly what the `CommitWithoutMin` bug breaks, so it is
//!   not asserted with that bug on).
//! - `commit_idx` never decreases (§5.3: a committed entry stays committed).
//! - `current_term` and `voted_for` equal what the storage holds: every change
//!   goes through `save_meta_data` before anyone is answered (Figure 2).
//! - A leader's `leader_id` is itself, and it keeps no progress for itself:
//!   its own match index is its last index, as `maybe_commit` counts it.
//! - A follower's progress never has `match_index >= next_index`
//!   (`Progress` checks it where the indexes move).
//! - Leader-only state (`Leadership`) is empty of followers, reads and
//!   transfers unless the server leads.
//! - The configuration history `config_log` is sorted by index and names
//!   only entries the log holds.
//!
//! Rules are cited by section: "§5.x" is the Raft paper (Ongaro & Ousterhout,
//! 2014), "thesis §x" Ongaro's dissertation (2014).

mod conf_change;
mod election;
mod progress;
mod read_only;
mod replication;
mod snapshot;

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::{Bug, Config};
use crate::kv::StateMachine;
use crate::log::{LogStore, RaftLog};
use crate::network::{Network, RaftEvent};
use crate::quorum::Membership;
use crate::storage::{Snapshot, Storage};
use crate::types::{Entry, Index, Message, MessageBody, NodeId, Role, Term, NO_NODE};
use crate::why::{CommitWhy, Refusal, RoleWhy};

pub use conf_change::{next_config, ConfChange};
pub use progress::{Inflight, Progress, ReplicaState};
pub use read_only::PendingRead;
pub use snapshot::parse_snapshot;

/// Why a proposal or operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposeError {
    /// Only the leader takes proposals; here is who it is, if known.
    NotLeader(Option<NodeId>),
    /// A leadership transfer is under way (thesis §3.10).
    Transferring,
    /// Another membership change has not committed yet (thesis §4.1).
    ChangePending,
    /// The leader has not committed an entry of its own term yet (thesis §4.1, the 2015 fix).
    LeaderNotReady,
    /// The request makes no sense here; the text says why.
    Invalid(String),
}

impl std::fmt::Display for ProposeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProposeError::NotLeader(Some(l)) => write!(f, "not the leader (S{l} is)"),
            ProposeError::NotLeader(None) => write!(f, "not the leader (none known)"),
            ProposeError::Transferring => write!(f, "a leadership transfer is in progress"),
            ProposeError::ChangePending => {
                write!(f, "another membership change has not committed yet")
            }
            ProposeError::LeaderNotReady => {
                write!(f, "the leader has not committed an entry of its term yet")
            }
            ProposeError::Invalid(why) => write!(f, "{why}"),
        }
    }
}

/// One Raft server (ERaftKV `RaftServer`).
#[derive(Clone)]
pub struct RaftServer<S: Storage, L: LogStore, M: StateMachine, N: Network> {
    /// Settings, fixed for the server's life (and validated by `new`).
    cfg: Config,
    // ----- persistent state (Figure 2) -----
    /// Latest term seen. Mirrors the storage: changed only by
    /// `save_meta_data`, which persists it first; never decreases.
    current_term: Term,
    /// Whom this server voted for in `current_term` (`NO_NODE`: nobody).
    /// Persisted with the term so a restart cannot vote twice (§5.2).
    voted_for: NodeId,
    /// The persisted (term, vote) a restart dropped: only under the
    /// deliberate bug forget-vote-on-restart, so that a second vote in that
    /// term says why it was possible instead of "first vote of the term".
    forgotten_vote: Option<(Term, NodeId)>,
    // ----- volatile state -----
    /// Highest index known committed. Never decreases; at most the last
    /// index (unless `CommitWithoutMin`); lost on restart, then rebuilt
    /// from the snapshot index and the leader.
    commit_idx: Index,
    /// Highest index applied to the state machine; `<= commit_idx`.
    last_applied_idx: Index,
    /// Term of the entry at `last_applied_idx` (for snapshots).
    last_applied_term: Term,
    /// Follower, pre-candidate, candidate or leader.
    state: Role,
    /// The leader of `current_term` this server knows (`NO_NODE` if none);
    /// itself while leading.
    leader_id: NodeId,
    /// The entries, over the application's log store.
    log: RaftLog<L>,
    /// Term, vote and snapshots: what must survive a crash with the log.
    storage: S,
    /// The replicated state machine, fed committed entries in order.
    sm: M,
    /// The outbox: messages and events leave through it, in order.
    net: N,
    /// Draws election timeouts; the only randomness, seeded by the owner.
    rng: ChaCha8Rng,
    // ----- membership (thesis §4.1: the newest configuration is in force,
    // committed or not) -----
    /// The configuration at the snapshot base (or the bootstrap one).
    base_config: Membership,
    /// One configuration per membership entry in the log, sorted by index;
    /// truncated with the log, trimmed with compaction.
    config_log: Vec<(Index, Membership)>,
    // ----- timers, in ticks -----
    /// Ticks since the election timer was reset (followers, candidates).
    election_elapsed: u64,
    /// The timeout drawn at the last reset, in
    /// `[election_timeout_min, election_timeout_max]` (§5.2).
    election_timeout: u64,
    /// Ticks since the known leader was last heard from (`None` before any
    /// contact in this term): the leader-stickiness lease (thesis §4.2.3).
    leader_contact: Option<u64>,
    // ----- candidate state -----
    /// Answers in the current (pre)election: `true` granted. Cleared on
    /// every role change.
    votes: BTreeMap<NodeId, bool>,
    // ----- follower state -----
    /// The leader that told this server to campaign now (TimeoutNow,
    /// thesis §3.10): set while handling its append, acted on right after
    /// the answer leaves.
    transfer_requested: Option<NodeId>,
    // ----- leader state -----
    /// What only a leader keeps: followers' progress, reads, transfer...
    lead: Leadership,
    // ----- local snapshot -----
    /// A snapshot between `begin_snapshot` and `end_snapshot`; no campaign
    /// meanwhile.
    snapshot_in_progress: Option<Snapshot>,
}

/// The state only a leader keeps (raft-rs splits it over `ProgressTracker`,
/// `ReadOnly` and `lead_transferee`). It is filled when the server becomes
/// leader and emptied when it steps down; the heartbeat counter,
/// `elected_config` and `next_token` keep their last values (the page
/// shows the former two; tokens must never repeat).
#[derive(Clone)]
struct Leadership {
    /// One progress per member other than self (Figure 2's
    /// `nextIndex`/`matchIndex`), kept in step with the configuration in
    /// force by `sync_peers`. Never holds the leader itself.
    progress: BTreeMap<NodeId, Progress>,
    /// Next token for an append, heartbeat or snapshot chunk (and the token
    /// a read must see acknowledged). Increases for the server's life, so an
    /// answer is matched to its request across terms.
    next_token: u64,
    /// ReadIndex reads not yet served, oldest first (thesis §6.4).
    reads: VecDeque<PendingRead>,
    /// Leadership transfer under way: target and ticks spent (thesis
    /// §3.10). Proposals are refused meanwhile.
    transfer: Option<(NodeId, u64)>,
    /// Whether TimeoutNow went out for the transfer under way (once only).
    transfer_sent: bool,
    /// Voters whose votes elected this leader (empty unless leader).
    elected_by: Vec<NodeId>,
    /// The configuration whose quorum elected this leader.
    elected_config: Membership,
    /// Ticks since the last heartbeat round.
    heartbeat_elapsed: u64,
    /// Ticks since the last CheckQuorum round (thesis §6.2).
    check_quorum_elapsed: u64,
}

impl Leadership {
    fn new() -> Self {
        Leadership {
            progress: BTreeMap::new(),
            next_token: 1,
            reads: VecDeque::new(),
            transfer: None,
            transfer_sent: false,
            elected_by: Vec::new(),
            elected_config: Membership::default(),
            heartbeat_elapsed: 0,
            check_quorum_elapsed: 0,
        }
    }

    /// Forgets what only a leader keeps, as it steps down; returns the ids
    /// of the reads it can no longer serve (they fail, thesis §6.4).
    fn step_down(&mut self) -> Vec<u64> {
        self.progress.clear();
        self.transfer = None;
        self.transfer_sent = false;
        self.elected_by.clear();
        self.reads.drain(..).map(|r| r.read_id).collect()
    }
}

impl<S: Storage, L: LogStore, M: StateMachine, N: Network> RaftServer<S, L, M, N> {
    /// Starts a server, or restarts one from what its storage and log store
    /// persisted. `initial` is the configuration the cluster was bootstrapped
    /// with, the same on every server, including ones added later (it is in
    /// no log, and the membership entries after it only make sense on top of
    /// it); a snapshot or membership entries in the log override it. The RNG draws election timeouts; the
    /// owner seeds it.
    pub fn new(
        cfg: Config,
        initial: Membership,
        storage: S,
        log_store: L,
        sm: M,
        net: N,
        rng: ChaCha8Rng,
    ) -> Result<Self, String> {
        cfg.validate()?;
        let mut server = RaftServer {
            current_term: 0,
            voted_for: NO_NODE,
            forgotten_vote: None,
            commit_idx: 0,
            last_applied_idx: 0,
            last_applied_term: 0,
            state: Role::Follower,
            leader_id: NO_NODE,
            log: RaftLog::new(log_store),
            storage,
            sm,
            net,
            rng,
            base_config: initial,
            config_log: Vec::new(),
            election_elapsed: 0,
            election_timeout: cfg.election_timeout_min,
            leader_contact: None,
            votes: BTreeMap::new(),
            transfer_requested: None,
            lead: Leadership::new(),
            snapshot_in_progress: None,
            cfg,
        };
        server.load_meta_data();
        server.restore_snapshot_after_restart()?;
        server.restore_log();
        server.reset_election_timer();
        let term = server.current_term;
        server.net.event(RaftEvent::Role {
            role: Role::Follower,
            term,
            leader: None,
            reason: RoleWhy::Restarted {
                forgotten_vote: server.forgotten_vote.map(|(_, v)| v),
            },
        });
        if server.commit_idx > 0 {
            let index = server.commit_idx;
            server.net.event(RaftEvent::Commit {
                index,
                reason: CommitWhy::Restarted,
            });
        }
        let config = server.config().clone();
        server.net.event(RaftEvent::Config(config));
        Ok(server)
    }

    /// Hands back storage and log store: what survives a crash.
    pub fn into_persistent(self) -> (S, L) {
        (self.storage, self.log.into_store())
    }

    // ----- ERaftKV persistence operations -----

    /// Persists term and vote (ERaftKV `SaveMetaData`). Every change to
    /// either goes through here before the server answers anyone (Figure 2).
    fn save_meta_data(&mut self, term: Term, vote: NodeId) {
        debug_assert!(term >= self.current_term, "terms never go back (§5.1)");
        self.current_term = term;
        self.voted_for = vote;
        self.storage.save_meta(term, vote);
    }

    /// Loads term and vote (ERaftKV `LoadMetaData`).
    fn load_meta_data(&mut self) {
        let (term, vote) = self.storage.load_meta();
        self.current_term = term;
        self.voted_for = if self.cfg.bugs.has(Bug::ForgetVoteOnRestart) {
            self.forgotten_vote = (vote != NO_NODE).then_some((term, vote));
            NO_NODE
        } else {
            vote
        };
    }

    /// Installs the persisted snapshot into the state machine on start
    /// (ERaftKV `RestoreSnapshotAfterRestart`): commit and apply resume from
    /// its index (§7).
    fn restore_snapshot_after_restart(&mut self) -> Result<(), String> {
        let Some(snap) = self.storage.load_snapshot() else {
            return Ok(());
        };
        let (config, state) = parse_snapshot(&snap.data)?;
        self.sm.restore(state)?;
        self.base_config = config;
        self.commit_idx = snap.index;
        self.last_applied_idx = snap.index;
        self.last_applied_term = snap.term;
        if self.log.base_index() < snap.index {
            // The log store lags the snapshot: start the log at the snapshot.
            if self.log.term_at(snap.index) == Some(snap.term) {
                let _ = self.log.compact_to(snap.index);
            } else {
                self.log.reset(snap.index, snap.term);
            }
        }
        Ok(())
    }

    /// Rebuilds the membership history from the log (ERaftKV `RestoreLog`).
    fn restore_log(&mut self) {
        self.config_log.clear();
        let first = self.log.first_index();
        let last = self.log.last_index();
        let mut config = self.base_config.clone();
        let mut index = first;
        while index <= last {
            let batch = self.log.entries(index, 256);
            if batch.is_empty() {
                break;
            }
            for e in batch {
                index = e.index + 1;
                if e.kind.is_membership() {
                    config = next_config(&config, &e);
                    self.config_log.push((e.index, config.clone()));
                }
            }
            if index <= last && self.log.get(index).is_none() {
                break;
            }
        }
    }

    // ----- accessors (Figure 2 state, for the page and tests) -----

    /// This server's id.
    pub fn id(&self) -> NodeId {
        self.cfg.id
    }
    /// Settings.
    pub fn settings(&self) -> &Config {
        &self.cfg
    }
    /// Latest term seen.
    pub fn current_term(&self) -> Term {
        self.current_term
    }
    /// Vote cast in the current term, or `NO_NODE`.
    pub fn voted_for(&self) -> NodeId {
        self.voted_for
    }
    /// Highest index known committed.
    pub fn commit_idx(&self) -> Index {
        self.commit_idx
    }
    /// Highest index applied.
    pub fn last_applied_idx(&self) -> Index {
        self.last_applied_idx
    }
    /// Term of the last applied entry.
    pub fn last_applied_term(&self) -> Term {
        self.last_applied_term
    }
    /// Current role.
    pub fn state(&self) -> Role {
        self.state
    }
    /// The leader this server knows of.
    pub fn leader_id(&self) -> Option<NodeId> {
        (self.leader_id != NO_NODE).then_some(self.leader_id)
    }
    /// The log.
    pub fn log(&self) -> &RaftLog<L> {
        &self.log
    }
    /// Persistent storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }
    /// The state machine.
    pub fn state_machine(&self) -> &M {
        &self.sm
    }
    /// The network, for the owner to drain.
    pub fn net_mut(&mut self) -> &mut N {
        &mut self.net
    }
    /// The configuration in force: the newest in the log (thesis §4.1).
    pub fn config(&self) -> &Membership {
        self.config_log
            .last()
            .map(|(_, c)| c)
            .unwrap_or(&self.base_config)
    }
    /// Index of the entry that set the configuration in force (0 if none in the log).
    pub fn config_index(&self) -> Index {
        self.config_log.last().map(|(i, _)| *i).unwrap_or(0)
    }
    /// Per-follower progress while leader.
    pub fn progress(&self) -> &BTreeMap<NodeId, Progress> {
        &self.lead.progress
    }
    /// Votes received in the current (pre)election: `true` granted, `false` refused.
    pub fn votes(&self) -> &BTreeMap<NodeId, bool> {
        &self.votes
    }
    /// Voters whose votes elected this leader (empty unless leader).
    pub fn elected_by(&self) -> &[NodeId] {
        &self.lead.elected_by
    }
    /// The configuration whose quorum elected this leader (it may have
    /// changed since).
    pub fn elected_config(&self) -> &Membership {
        &self.lead.elected_config
    }
    /// Ticks since the election timer was reset, and the timeout drawn.
    pub fn election_timer(&self) -> (u64, u64) {
        (self.election_elapsed, self.election_timeout)
    }
    /// Ticks since the last heartbeat round (leader).
    pub fn heartbeat_elapsed(&self) -> u64 {
        self.lead.heartbeat_elapsed
    }
    /// Reads waiting for confirmation or apply.
    pub fn pending_reads(&self) -> &VecDeque<PendingRead> {
        &self.lead.reads
    }
    /// Leadership transfer in progress: target and ticks spent.
    pub fn transfer_target(&self) -> Option<(NodeId, u64)> {
        self.lead.transfer
    }
    /// Snapshot being received: `(index, term, bytes so far)`.
    pub fn incoming_snapshot(&self) -> Option<(Index, Term, u64)> {
        self.storage.incoming_snapshot()
    }
    /// Nodes that acknowledged `index` to this leader: the leader itself,
    /// and followers that answered it with a match at `index` or beyond. A
    /// follower that never answered (crashed before this term, say) has
    /// acknowledged nothing, not even index 0.
    pub fn acked(&self, index: Index) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self
            .lead
            .progress
            .iter()
            .filter(|(_, p)| p.acked_token > 0 && p.match_index >= index)
            .map(|(&id, _)| id)
            .collect();
        if self.state == Role::Leader && self.log.last_index() >= index {
            v.push(self.id());
            v.sort_unstable();
        }
        v
    }
    /// The entry last applied (ERaftKV `GetLastAppliedEntry`).
    pub fn last_applied_entry(&self) -> Option<Entry> {
        self.log.get(self.last_applied_idx)
    }
    /// First index still in the log (ERaftKV `GetFirstEntryIdx`).
    pub fn first_entry_index(&self) -> Index {
        self.log.first_index()
    }
    /// How many applied entries a snapshot could compact away (ERaftKV
    /// `GetLogsCountCanSnapshot`).
    pub fn logs_count_can_snapshot(&self) -> u64 {
        self.last_applied_idx.saturating_sub(self.log.base_index())
    }
    /// Whether a local snapshot is between begin and end.
    pub fn snapshot_running(&self) -> bool {
        self.snapshot_in_progress.is_some()
    }

    // ----- the six handlers -----

    /// Handles any message addressed to this server and sends the answer a
    /// request calls for. Messages for someone else are rejected with a reason.
    pub fn step(&mut self, msg: Message) {
        let me = self.id();
        if msg.to != me || msg.from == NO_NODE || msg.from == me {
            self.net.event(RaftEvent::Rejected {
                from: msg.from,
                msg: msg.body.kind(),
                reason: Refusal::Misaddressed {
                    from: msg.from,
                    to: msg.to,
                    me,
                },
            });
            return;
        }
        let from = msg.from;
        match msg.body {
            MessageBody::RequestVote(req) => {
                let resp = self.handle_request_vote_req(from, &req);
                self.reply(from, MessageBody::RequestVoteResp(resp));
            }
            MessageBody::RequestVoteResp(resp) => self.handle_request_vote_resp(from, &resp),
            MessageBody::AppendEntries(req) => {
                let resp = self.handle_append_entries_req(from, &req);
                self.reply(from, MessageBody::AppendEntriesResp(resp));
                if let Some(old) = self.transfer_requested.take() {
                    self.campaign(true, RoleWhy::HandedOver { old });
                }
            }
            MessageBody::AppendEntriesResp(resp) => self.handle_append_entries_resp(from, &resp),
            MessageBody::Snapshot(req) => {
                let resp = self.handle_snapshot_req(from, &req);
                self.reply(from, MessageBody::SnapshotResp(resp));
            }
            MessageBody::SnapshotResp(resp) => self.handle_snapshot_resp(from, &resp),
        }
        self.check_invariants();
    }

    /// Checks the invariants the module docs list (debug builds only): run
    /// after every `tick` and `step`, so a handler that breaks one is
    /// caught at the event that did it.
    fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        debug_assert!(
            self.last_applied_idx <= self.commit_idx,
            "S{}: applied {} > commit {}",
            self.id(),
            self.last_applied_idx,
            self.commit_idx
        );
        debug_assert!(
            self.cfg.bugs.has(Bug::CommitWithoutMin) || self.commit_idx <= self.log.last_index(),
            "S{}: commit {} > last index {}",
            self.id(),
            self.commit_idx,
            self.log.last_index()
        );
        debug_assert!(
            self.cfg.bugs.has(Bug::ForgetVoteOnRestart)
                || self.storage.load_meta() == (self.current_term, self.voted_for),
            "S{}: term and vote differ from what is persisted",
            self.id()
        );
        if self.state == Role::Leader {
            debug_assert_eq!(self.leader_id, self.id(), "a leader knows itself");
            debug_assert!(
                !self.lead.progress.contains_key(&self.id()),
                "a leader keeps no progress for itself: its match is its last index"
            );
        } else {
            debug_assert!(
                self.lead.progress.is_empty()
                    && self.lead.reads.is_empty()
                    && self.lead.transfer.is_none()
                    && self.lead.elected_by.is_empty(),
                "S{}: leader state kept while {}",
                self.id(),
                self.state.as_str()
            );
        }
        debug_assert!(
            self.config_log.windows(2).all(|w| w[0].0 < w[1].0)
                && self
                    .config_log
                    .last()
                    .is_none_or(|(i, _)| *i <= self.log.last_index()),
            "S{}: configuration history out of order or past the log",
            self.id()
        );
    }

    fn reply(&mut self, to: NodeId, body: MessageBody) {
        let me = self.id();
        self.net.send(Message { from: me, to, body });
    }

    fn reject(&mut self, from: NodeId, msg: &'static str, reason: Refusal) {
        self.net.event(RaftEvent::Rejected { from, msg, reason });
    }
}
