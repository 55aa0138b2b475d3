//! `RaftServer`: one Raft server in the shape of the ERaftKV design.
//!
//! The server is a deterministic state machine: it changes only when the
//! owner calls `tick` (ERaftKV `RunCycles`), one of the six message handlers,
//! or an operation (propose, read, membership change, snapshot, transfer).
//! Everything it does that others may see leaves through its `Network`, in
//! order: messages, and events for the trace and the page.
//!
//! Rules are cited by section: "§5.x" is the Raft paper (Ongaro & Ousterhout,
//! 2014), "thesis §x" Ongaro's dissertation (2014).

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::{Bug, Config};
use crate::kv::StateMachine;
use crate::log::{LogStore, RaftLog};
use crate::network::{Network, RaftEvent, SnapshotSource};
use crate::quorum::{Membership, VoteResult};
use crate::storage::{ChunkError, Snapshot, Storage};
use crate::types::{
    format_ids, AppendEntriesReq, AppendEntriesResp, Entry, EntryKind, Index, Message, MessageBody,
    NodeId, RequestVoteReq, RequestVoteResp, Role, SnapshotReq, SnapshotResp, Term, NO_NODE,
};

/// How the leader is replicating to one follower (the shape of raft-rs's
/// `Progress`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum ReplicaState {
    /// Searching for the point where the logs match: one append at a time.
    Probe,
    /// Logs match: appends are pipelined, up to `max_inflight`.
    Replicate,
    /// The follower needs entries the leader compacted: sending a snapshot.
    Snapshot {
        /// Index the snapshot covers.
        index: Index,
        /// Its term.
        term: Term,
        /// Bytes acknowledged so far.
        offset: u64,
        /// Total bytes.
        total: u64,
        /// Ticks since the last chunk was sent.
        since_sent: u64,
    },
}

/// An append in flight, remembered by its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inflight {
    /// The token it was sent with.
    pub token: u64,
    /// Its `prev_log_idx`.
    pub prev: Index,
    /// Index of its last entry (`prev` for a heartbeat).
    pub last: Index,
}

/// The leader's view of one follower (Figure 2's `nextIndex`/`matchIndex`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Next index to send.
    pub next_index: Index,
    /// Highest index known to be replicated there.
    pub match_index: Index,
    /// Probe, replicate or snapshot.
    pub state: ReplicaState,
    /// Appends sent and not yet answered.
    pub inflight: VecDeque<Inflight>,
    /// Highest token the follower has answered; older answers are stale.
    pub acked_token: u64,
    /// Heard from since the last CheckQuorum round (thesis §6.2).
    pub recent_active: bool,
    /// Highest commit index this follower can have learned from what was
    /// sent to it (`leader_commit`, capped at the request's last index).
    #[serde(default)]
    pub commit_sent: Index,
}

impl Progress {
    fn new(next_index: Index) -> Self {
        Progress {
            next_index,
            match_index: 0,
            state: ReplicaState::Probe,
            inflight: VecDeque::new(),
            acked_token: 0,
            recent_active: true,
            commit_sent: 0,
        }
    }
}

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

/// A membership change to propose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfChange {
    /// Add a learner (`JoinNoVoteNode`).
    AddLearner(NodeId),
    /// Add a voter or promote a learner (`JoinNode`).
    AddVoter(NodeId),
    /// Remove a member (`LeaveNode`).
    Remove(NodeId),
    /// Replace the voters by this set through joint consensus (thesis §4.3).
    Joint(Vec<NodeId>),
}

/// A ReadIndex read waiting to be served (thesis §6.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRead {
    /// The caller's id for the read.
    pub read_id: u64,
    /// Commit index when the read arrived: the state it must see.
    pub index: Index,
    /// Acknowledgements with a token at least this confirm leadership.
    pub token: u64,
    /// True once a quorum confirmed.
    pub confirmed: bool,
    /// True while the leader has not committed an entry of its term; the
    /// read index is then taken once it has.
    pub awaiting_term_commit: bool,
}

/// The configuration an applied snapshot carried, plus the state machine's bytes.
fn snapshot_bytes(config: &Membership, state: &[u8]) -> Vec<u8> {
    let mut out = serde_json::to_vec(config).unwrap_or_default();
    out.push(b'\n');
    out.extend_from_slice(state);
    out
}

/// Splits a snapshot image into its configuration and state bytes.
pub fn parse_snapshot(data: &[u8]) -> Result<(Membership, &[u8]), String> {
    let nl = data
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| "snapshot has no configuration header".to_string())?;
    let config: Membership = serde_json::from_slice(&data[..nl])
        .map_err(|e| format!("snapshot configuration unreadable: {e}"))?;
    Ok((config, &data[nl + 1..]))
}

/// One Raft server (ERaftKV `RaftServer`).
#[derive(Clone)]
pub struct RaftServer<S: Storage, L: LogStore, M: StateMachine, N: Network> {
    cfg: Config,
    // Persistent state (Figure 2), mirrored in `storage` before any answer.
    current_term: Term,
    voted_for: NodeId,
    // Volatile state.
    commit_idx: Index,
    last_applied_idx: Index,
    last_applied_term: Term,
    state: Role,
    leader_id: NodeId,
    log: RaftLog<L>,
    storage: S,
    sm: M,
    net: N,
    rng: ChaCha8Rng,
    // Membership: the configuration at the snapshot base, then one per
    // membership entry in the log. The newest is in force (thesis §4.1:
    // a server uses the latest configuration in its log, committed or not).
    base_config: Membership,
    config_log: Vec<(Index, Membership)>,
    // Timers, in ticks.
    election_elapsed: u64,
    election_timeout: u64,
    heartbeat_elapsed: u64,
    leader_contact: Option<u64>,
    check_quorum_elapsed: u64,
    // Candidate state.
    votes: BTreeMap<NodeId, bool>,
    // Leader state.
    peers: BTreeMap<NodeId, Progress>,
    next_token: u64,
    reads: VecDeque<PendingRead>,
    transfer: Option<(NodeId, u64)>,
    transfer_sent: bool,
    transfer_requested: Option<NodeId>,
    elected_by: Vec<NodeId>,
    elected_config: Membership,
    // Local snapshot between begin and end.
    snapshot_in_progress: Option<Snapshot>,
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
            heartbeat_elapsed: 0,
            leader_contact: None,
            check_quorum_elapsed: 0,
            votes: BTreeMap::new(),
            peers: BTreeMap::new(),
            next_token: 1,
            reads: VecDeque::new(),
            transfer: None,
            transfer_sent: false,
            transfer_requested: None,
            elected_by: Vec::new(),
            elected_config: Membership::default(),
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
            reason: "started from persisted state".into(),
        });
        if server.commit_idx > 0 {
            let index = server.commit_idx;
            server.net.event(RaftEvent::Commit { index });
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
    pub fn save_meta_data(&mut self, term: Term, vote: NodeId) {
        self.current_term = term;
        self.voted_for = vote;
        self.storage.save_meta(term, vote);
    }

    /// Loads term and vote (ERaftKV `LoadMetaData`).
    pub fn load_meta_data(&mut self) {
        let (term, vote) = self.storage.load_meta();
        self.current_term = term;
        self.voted_for = if self.cfg.bugs.has(Bug::ForgetVoteOnRestart) {
            NO_NODE
        } else {
            vote
        };
    }

    /// Installs the persisted snapshot into the state machine on start
    /// (ERaftKV `RestoreSnapshotAfterRestart`): commit and apply resume from
    /// its index (§7).
    pub fn restore_snapshot_after_restart(&mut self) -> Result<(), String> {
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
    pub fn restore_log(&mut self) {
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
        &self.peers
    }
    /// Votes received in the current (pre)election: `true` granted, `false` refused.
    pub fn votes(&self) -> &BTreeMap<NodeId, bool> {
        &self.votes
    }
    /// Voters whose votes elected this leader (empty unless leader).
    pub fn elected_by(&self) -> &[NodeId] {
        &self.elected_by
    }
    /// The configuration whose quorum elected this leader (it may have
    /// changed since).
    pub fn elected_config(&self) -> &Membership {
        &self.elected_config
    }
    /// Ticks since the election timer was reset, and the timeout drawn.
    pub fn election_timer(&self) -> (u64, u64) {
        (self.election_elapsed, self.election_timeout)
    }
    /// Ticks since the last heartbeat round (leader).
    pub fn heartbeat_elapsed(&self) -> u64 {
        self.heartbeat_elapsed
    }
    /// Reads waiting for confirmation or apply.
    pub fn pending_reads(&self) -> &VecDeque<PendingRead> {
        &self.reads
    }
    /// Leadership transfer in progress: target and ticks spent.
    pub fn transfer_target(&self) -> Option<(NodeId, u64)> {
        self.transfer
    }
    /// Snapshot being received: `(index, term, bytes so far)`.
    pub fn incoming_snapshot(&self) -> Option<(Index, Term, u64)> {
        self.storage.incoming_snapshot()
    }
    /// Nodes this leader holds progress for that acknowledged `index`.
    pub fn acked(&self, index: Index) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.match_index >= index)
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

    // ----- timers -----

    fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        let span = self.cfg.election_timeout_max - self.cfg.election_timeout_min + 1;
        self.election_timeout = self.cfg.election_timeout_min + self.rng.next_u64() % span;
    }

    /// Advances time by one tick (ERaftKV `RunCycles`): election timeout for
    /// followers and candidates (§5.2), heartbeats, CheckQuorum and transfer
    /// timeouts for leaders.
    pub fn tick(&mut self) {
        if let Some(c) = self.leader_contact.as_mut() {
            *c = c.saturating_add(1);
        }
        match self.state {
            Role::Leader => self.tick_leader(),
            _ => {
                self.election_elapsed += 1;
                if self.election_elapsed >= self.election_timeout {
                    if self.can_campaign() {
                        self.campaign(false, "election timeout");
                    } else {
                        self.reset_election_timer();
                    }
                }
            }
        }
    }

    fn tick_leader(&mut self) {
        self.heartbeat_elapsed += 1;
        self.check_quorum_elapsed += 1;
        if let Some((target, spent)) = self.transfer.as_mut() {
            *spent += 1;
            if *spent >= self.cfg.election_timeout_min {
                let target = *target;
                self.transfer = None;
                self.net.event(RaftEvent::Rejected {
                    from: target,
                    msg: "transfer",
                    reason: format!("leadership transfer to S{target} timed out; aborted"),
                });
            }
        }
        // Snapshot chunks are stop-and-wait; resend one that got no answer.
        let ids: Vec<NodeId> = self.peers.keys().copied().collect();
        for id in &ids {
            let resend = match self.peers.get_mut(id) {
                Some(Progress {
                    state: ReplicaState::Snapshot { since_sent, .. },
                    ..
                }) => {
                    *since_sent += 1;
                    *since_sent >= self.cfg.snapshot_retry_ticks
                }
                _ => false,
            };
            if resend {
                self.send_snapshot_chunk(*id);
            }
        }
        if self.cfg.check_quorum && self.check_quorum_elapsed >= self.cfg.election_timeout_min {
            self.check_quorum_elapsed = 0;
            let me = self.id();
            let active =
                |id: NodeId| id == me || self.peers.get(&id).is_some_and(|p| p.recent_active);
            let ok = self
                .config()
                .has_quorum(active, self.cfg.bugs.has(Bug::LearnerInQuorum));
            for p in self.peers.values_mut() {
                p.recent_active = false;
            }
            if !ok {
                let term = self.current_term;
                self.become_follower(
                    term,
                    NO_NODE,
                    "CheckQuorum: no majority heard from within an election timeout (thesis §6.2)",
                );
                return;
            }
        }
        if self.heartbeat_elapsed >= self.cfg.heartbeat_interval {
            self.heartbeat_elapsed = 0;
            self.bcast_heartbeat();
        }
    }

    fn can_campaign(&self) -> bool {
        let me = self.id();
        self.config().is_voter(me)
            && self.snapshot_in_progress.is_none()
            && self.current_term < Term::MAX
    }

    /// Fires the election timeout now, as if it had expired: a student's
    /// "force timeout". Learners and removed servers do not campaign.
    pub fn force_timeout(&mut self) -> Result<(), ProposeError> {
        if self.state == Role::Leader {
            return Err(ProposeError::Invalid(
                "the leader has no election timer".into(),
            ));
        }
        if !self.can_campaign() {
            return Err(ProposeError::Invalid(
                "only a voter of its configuration may campaign".into(),
            ));
        }
        self.campaign(false, "election timeout forced");
        Ok(())
    }

    // ----- roles -----

    fn emit_role(&mut self, reason: &str) {
        let leader = self.leader_id();
        self.net.event(RaftEvent::Role {
            role: self.state,
            term: self.current_term,
            leader,
            reason: reason.to_string(),
        });
    }

    fn become_follower(&mut self, term: Term, leader: NodeId, reason: &str) {
        let was_leader = self.state == Role::Leader;
        let changed =
            self.state != Role::Follower || self.current_term != term || self.leader_id != leader;
        if term > self.current_term {
            self.save_meta_data(term, NO_NODE);
        }
        self.state = Role::Follower;
        self.leader_id = leader;
        self.votes.clear();
        if was_leader {
            self.peers.clear();
            self.transfer = None;
            self.transfer_sent = false;
            self.elected_by.clear();
            let reads: Vec<u64> = self.reads.drain(..).map(|r| r.read_id).collect();
            for read_id in reads {
                self.net.event(RaftEvent::ReadFailed {
                    read_id,
                    reason: "the leader stepped down before the read was confirmed".into(),
                });
            }
        }
        self.reset_election_timer();
        if changed {
            self.emit_role(reason);
        }
    }

    fn campaign(&mut self, transfer: bool, why: &str) {
        if self.cfg.prevote && !transfer {
            self.become_pre_candidate(why);
        } else {
            self.become_candidate(transfer, why);
        }
    }

    fn become_pre_candidate(&mut self, why: &str) {
        // Thesis §9.6: ask at term + 1 but change neither term nor vote.
        self.state = Role::PreCandidate;
        self.leader_id = NO_NODE;
        self.leader_contact = None;
        self.votes.clear();
        self.reset_election_timer();
        self.emit_role(&format!("{why}: asking for prevotes first (thesis §9.6)"));
        self.request_votes(true, false);
    }

    fn become_candidate(&mut self, transfer: bool, why: &str) {
        // §5.2: increment the term, vote for self (persisted), ask the others.
        let me = self.id();
        let term = self.current_term.saturating_add(1);
        self.save_meta_data(term, me);
        self.state = Role::Candidate;
        self.leader_id = NO_NODE;
        self.leader_contact = None;
        self.votes.clear();
        self.reset_election_timer();
        self.emit_role(why);
        self.request_votes(false, transfer);
    }

    fn request_votes(&mut self, prevote: bool, transfer: bool) {
        let me = self.id();
        let term = if prevote {
            self.current_term.saturating_add(1)
        } else {
            self.current_term
        };
        self.votes.insert(me, true);
        if self.tally() != VoteResult::Pending {
            self.decide_election(prevote);
            return;
        }
        let req = RequestVoteReq {
            prevote,
            term,
            candidate_id: me,
            last_log_idx: self.log.last_index(),
            last_log_term: self.log.last_term(),
            transfer,
        };
        let voters: Vec<NodeId> = self.voters_to_ask();
        for id in voters {
            self.net.send_request_vote(me, id, req.clone());
        }
    }

    fn voters_to_ask(&self) -> Vec<NodeId> {
        let me = self.id();
        let c = self.config();
        let mut ids: Vec<NodeId> = if self.cfg.bugs.has(Bug::LearnerInQuorum) {
            c.members().into_iter().collect()
        } else {
            c.voters.union(&c.outgoing).copied().collect()
        };
        ids.retain(|&id| id != me);
        ids
    }

    fn tally(&self) -> VoteResult {
        self.config().vote_result(
            |id| self.votes.get(&id).copied(),
            self.cfg.bugs.has(Bug::LearnerInQuorum),
        )
    }

    fn decide_election(&mut self, prevote: bool) {
        match self.tally() {
            VoteResult::Won if prevote => {
                self.become_candidate(false, "a majority granted prevotes")
            }
            VoteResult::Won => self.become_leader(),
            VoteResult::Lost => {
                let term = self.current_term;
                let what = if prevote { "prevote" } else { "election" };
                self.become_follower(
                    term,
                    NO_NODE,
                    &format!("lost the {what}: a majority refused"),
                );
            }
            VoteResult::Pending => {}
        }
    }

    /// Takes leadership after winning an election (ERaftKV `BecomeLeader`):
    /// resets every follower's progress and appends a NoOp of the new term,
    /// whose commit also commits everything before it (§5.4.2, §8).
    pub fn become_leader(&mut self) {
        let me = self.id();
        self.state = Role::Leader;
        self.leader_id = me;
        self.leader_contact = None;
        self.heartbeat_elapsed = 0;
        self.check_quorum_elapsed = 0;
        self.transfer = None;
        self.elected_config = self.config().clone();
        self.elected_by = self
            .votes
            .iter()
            .filter(|(_, &g)| g)
            .map(|(&id, _)| id)
            .collect();
        self.votes.clear();
        self.peers.clear();
        self.sync_peers();
        self.emit_role("won the election: a majority granted votes");
        let term = self.current_term;
        let index = self.log.last_index() + 1;
        self.append_own(Entry {
            term,
            index,
            kind: EntryKind::NoOp,
            data: Vec::new(),
        });
        self.maybe_commit();
        self.bcast_append();
    }

    /// Keeps one progress per member other than self, as the configuration
    /// in force says.
    fn sync_peers(&mut self) {
        if self.state != Role::Leader {
            return;
        }
        let me = self.id();
        let members = self.config().members();
        let next = self.log.last_index() + 1;
        self.peers.retain(|id, _| members.contains(id));
        for id in members {
            if id != me {
                self.peers.entry(id).or_insert_with(|| Progress::new(next));
            }
        }
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
                reason: format!(
                    "misaddressed message (from S{} to S{}, I am S{me})",
                    msg.from, msg.to
                ),
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
                    self.campaign(
                        true,
                        &format!("S{old} handed over leadership (thesis §3.10)"),
                    );
                }
            }
            MessageBody::AppendEntriesResp(resp) => self.handle_append_entries_resp(from, &resp),
            MessageBody::Snapshot(req) => {
                let resp = self.handle_snapshot_req(from, &req);
                self.reply(from, MessageBody::SnapshotResp(resp));
            }
            MessageBody::SnapshotResp(resp) => self.handle_snapshot_resp(from, &resp),
        }
    }

    fn reply(&mut self, to: NodeId, body: MessageBody) {
        let me = self.id();
        self.net.send(Message { from: me, to, body });
    }

    fn reject(&mut self, from: NodeId, msg: &'static str, reason: String) {
        self.net.event(RaftEvent::Rejected { from, msg, reason });
    }

    /// Whether this server heard from a live leader within the minimum
    /// election timeout: then it refuses to help depose it (thesis §4.2.3,
    /// leader stickiness; paired with CheckQuorum as in raft-rs).
    fn in_lease(&self) -> bool {
        if !self.cfg.check_quorum {
            return false;
        }
        if self.state == Role::Leader {
            return true;
        }
        self.leader_id != NO_NODE
            && self
                .leader_contact
                .is_some_and(|t| t < self.cfg.election_timeout_min)
    }

    fn log_up_to_date(&self, last_idx: Index, last_term: Term) -> Result<(), String> {
        // §5.4.1: compare last terms, then last indexes.
        let my_term = self.log.last_term();
        let my_idx = self.log.last_index();
        if self.cfg.bugs.has(Bug::NoUpToDateCheck) {
            return Ok(());
        }
        if last_term > my_term || (last_term == my_term && last_idx >= my_idx) {
            Ok(())
        } else if last_term < my_term {
            Err(format!(
                "my log is more up to date (last term {my_term} > {last_term}) (§5.4.1)"
            ))
        } else {
            Err(format!(
                "my log is longer (last index {my_idx} > {last_idx}, same last term {my_term}) (§5.4.1)"
            ))
        }
    }

    /// RequestVote and PreVote (§5.2, §5.4.1, thesis §9.6). Term and vote
    /// are persisted before the answer is returned.
    pub fn handle_request_vote_req(
        &mut self,
        from: NodeId,
        req: &RequestVoteReq,
    ) -> RequestVoteResp {
        let refuse = |s: &mut Self, reason: String| {
            let resp = RequestVoteResp {
                prevote: req.prevote,
                request_term: req.term,
                term: s.current_term,
                vote_granted: false,
            };
            s.net.event(RaftEvent::Vote {
                candidate: req.candidate_id,
                term: req.term,
                prevote: req.prevote,
                granted: false,
                reason,
            });
            resp
        };
        if req.candidate_id != from {
            return refuse(
                self,
                format!(
                    "candidate id S{} differs from the sender S{from}",
                    req.candidate_id
                ),
            );
        }
        if req.term < self.current_term {
            return refuse(
                self,
                format!(
                    "its term {} is behind my term {}",
                    req.term, self.current_term
                ),
            );
        }
        if !req.transfer && self.in_lease() && self.leader_id != from {
            let reason = if self.state == Role::Leader {
                "I am the leader and a majority is still with me (thesis §4.2.3)".to_string()
            } else {
                format!(
                    "I heard from leader S{} {} ticks ago (leader stickiness, thesis §4.2.3)",
                    self.leader_id,
                    self.leader_contact.unwrap_or(0)
                )
            };
            return refuse(self, reason);
        }
        if req.prevote {
            if self.cfg.bugs.has(Bug::PrevoteRaisesTerm) && req.term > self.current_term {
                self.become_follower(req.term, NO_NODE, "adopted a prevote's term (bug)");
            }
            if req.term <= self.current_term && !self.cfg.bugs.has(Bug::PrevoteRaisesTerm) {
                return refuse(
                    self,
                    format!(
                        "a prevote must ask for a term above mine ({} <= {})",
                        req.term, self.current_term
                    ),
                );
            }
            if let Err(why) = self.log_up_to_date(req.last_log_idx, req.last_log_term) {
                return refuse(self, why);
            }
            self.net.event(RaftEvent::Vote {
                candidate: from,
                term: req.term,
                prevote: true,
                granted: true,
                reason:
                    "its log is at least as up to date as mine; my term is unchanged (thesis §9.6)"
                        .into(),
            });
            return RequestVoteResp {
                prevote: true,
                request_term: req.term,
                term: req.term,
                vote_granted: true,
            };
        }
        if req.term > self.current_term {
            self.become_follower(
                req.term,
                NO_NODE,
                &format!("S{from} asked for votes in a higher term (§5.1)"),
            );
        }
        // Thesis §4.1: a server answers votes without consulting its own
        // configuration. It may not yet hold the entry that made it a voter;
        // the candidate's configuration decides whose votes count (learners
        // are neither asked nor counted), so refusing here only risks an
        // election no one can win.
        if self.voted_for != NO_NODE && self.voted_for != from {
            let v = self.voted_for;
            return refuse(
                self,
                format!(
                    "I already voted for S{v} in term {} (§5.2)",
                    self.current_term
                ),
            );
        }
        if let Err(why) = self.log_up_to_date(req.last_log_idx, req.last_log_term) {
            return refuse(self, why);
        }
        // Persist before answering (Figure 2).
        let term = self.current_term;
        self.save_meta_data(term, from);
        self.reset_election_timer();
        self.net.event(RaftEvent::Vote {
            candidate: from,
            term,
            prevote: false,
            granted: true,
            reason: "first vote of the term, and its log is at least as up to date (§5.2, §5.4.1)"
                .into(),
        });
        RequestVoteResp {
            prevote: false,
            request_term: req.term,
            term,
            vote_granted: true,
        }
    }

    /// Counts a (pre)vote answer (§5.2, thesis §9.6). Answers to an older
    /// round are recognised by `request_term` and ignored.
    pub fn handle_request_vote_resp(&mut self, from: NodeId, resp: &RequestVoteResp) {
        if resp.term > self.current_term && !(resp.prevote && resp.vote_granted) {
            self.become_follower(
                resp.term,
                NO_NODE,
                &format!("S{from} answered from a higher term {} (§5.1)", resp.term),
            );
            return;
        }
        let (expected_role, expected_term) = if resp.prevote {
            (Role::PreCandidate, self.current_term.saturating_add(1))
        } else {
            (Role::Candidate, self.current_term)
        };
        if self.state != expected_role || resp.request_term != expected_term {
            self.reject(
                from,
                "request_vote_resp",
                format!(
                    "stale answer for term {} (I am {} in term {})",
                    resp.request_term,
                    self.state.as_str(),
                    self.current_term
                ),
            );
            return;
        }
        self.votes.insert(from, resp.vote_granted);
        self.decide_election(resp.prevote);
    }

    /// AppendEntries (§5.3): consistency check, conflict truncation (never of
    /// committed entries), commit = min(leader_commit, last new entry).
    pub fn handle_append_entries_req(
        &mut self,
        from: NodeId,
        req: &AppendEntriesReq,
    ) -> AppendEntriesResp {
        let fail = |s: &mut Self, reason: String| {
            s.reject(from, "append_entries", reason);
            AppendEntriesResp {
                message_token: req.message_token,
                term: s.current_term,
                success: false,
                curr_index: s.log.last_index(),
            }
        };
        if req.term < self.current_term {
            return fail(
                self,
                format!(
                    "stale leader: term {} < my term {}",
                    req.term, self.current_term
                ),
            );
        }
        if req.leader_id != from {
            return fail(
                self,
                format!(
                    "leader id S{} differs from the sender S{from}",
                    req.leader_id
                ),
            );
        }
        if req.term == self.current_term && self.state == Role::Leader {
            return fail(
                self,
                format!(
                    "S{from} claims leadership of my own term {} (§5.2)",
                    req.term
                ),
            );
        }
        if req.term > self.current_term || self.state != Role::Follower || self.leader_id != from {
            self.become_follower(
                req.term,
                from,
                &format!("S{from} is leader of term {}", req.term),
            );
        }
        self.leader_contact = Some(0);
        self.reset_election_timer();

        // Validate the batch before touching the log.
        for (i, e) in req.entries.iter().enumerate() {
            let want = req.prev_log_idx.checked_add(i as Index + 1);
            if want != Some(e.index) || e.term > req.term {
                return fail(
                    self,
                    format!(
                        "malformed batch: entry {} has index {} term {} (prev {}, term {})",
                        i, e.index, e.term, req.prev_log_idx, req.term
                    ),
                );
            }
        }
        let mut prev = req.prev_log_idx;
        let mut prev_term = req.prev_log_term;
        let mut entries: &[Entry] = &req.entries;
        let base = self.log.base_index();
        if prev < base {
            // Everything up to the base is committed, so it matches (§5.4).
            let behind = base - prev;
            if behind >= entries.len() as Index {
                // The whole request lies inside the snapshot.
                return AppendEntriesResp {
                    message_token: req.message_token,
                    term: self.current_term,
                    success: true,
                    curr_index: prev + entries.len() as Index,
                };
            }
            entries = &entries[behind as usize..];
            prev = base;
            prev_term = self.log.base_term();
        }
        match self.log.term_at(prev) {
            Some(t) if t == prev_term => {}
            Some(t) => {
                return fail(
                    self,
                    format!(
                        "log mismatch at index {prev}: my term {t}, leader's {prev_term} (§5.3)"
                    ),
                )
            }
            None => {
                return fail(
                    self,
                    format!(
                        "no entry at index {prev} (my last index is {}) (§5.3)",
                        self.log.last_index()
                    ),
                )
            }
        }
        let mut truncated = false;
        for e in entries {
            match self.log.term_at(e.index) {
                Some(t) if t == e.term => continue, // already held: a duplicate never truncates
                Some(_) => {
                    if e.index <= self.commit_idx {
                        return fail(
                            self,
                            format!("refusing to overwrite committed entry {} (§5.4)", e.index),
                        );
                    }
                    if self.log.truncate_from(e.index).is_err() {
                        return fail(self, format!("cannot truncate at {}", e.index));
                    }
                    self.net.event(RaftEvent::Truncate { from: e.index });
                    truncated = true;
                    self.config_log.retain(|(i, _)| *i < e.index);
                }
                None => {}
            }
            if self.log.append(e.clone()).is_err() {
                return fail(self, format!("cannot append entry {}", e.index));
            }
            self.net.event(RaftEvent::Append(e.clone()));
            if e.kind.is_membership() {
                let next = next_config(self.config(), e);
                self.config_log.push((e.index, next));
                truncated = true;
            }
        }
        self.log.sync();
        if truncated {
            let c = self.config().clone();
            self.net.event(RaftEvent::Config(c));
        }
        let last_new = prev + entries.len() as Index;
        let target = if self.cfg.bugs.has(Bug::CommitWithoutMin) {
            req.leader_commit
        } else {
            req.leader_commit.min(last_new)
        };
        if target > self.commit_idx {
            self.commit_to(target);
        }
        let resp = AppendEntriesResp {
            message_token: req.message_token,
            term: self.current_term,
            success: true,
            curr_index: last_new,
        };
        if req.timeout_now && self.can_campaign() {
            // Campaign right after the answer goes out (see `step`).
            self.transfer_requested = Some(from);
        }
        resp
    }

    /// The checks every answer to the leader passes first: a higher term
    /// deposes it (§5.1); an answer from an older term, or reaching a
    /// server that no longer leads, is stale; only members have progress;
    /// an answer older than one already handled (by token) is ignored.
    /// A fresh answer marks its sender active (CheckQuorum) and records its
    /// token. Returns whether the handler goes on.
    fn accept_answer(&mut self, from: NodeId, term: Term, token: u64, msg: &'static str) -> bool {
        if term > self.current_term {
            self.become_follower(
                term,
                NO_NODE,
                &format!("S{from} answered from a higher term {term} (§5.1)"),
            );
            return false;
        }
        if self.state != Role::Leader || term < self.current_term {
            self.reject(from, msg, "stale answer (not leader of its term)".into());
            return false;
        }
        let Some(pr) = self.peers.get_mut(&from) else {
            self.reject(from, msg, format!("S{from} is not a member"));
            return false;
        };
        pr.recent_active = true;
        if token < pr.acked_token {
            let acked = pr.acked_token;
            self.reject(
                from,
                msg,
                format!("stale token {token} (already have an answer to {acked})"),
            );
            return false;
        }
        pr.acked_token = token;
        true
    }

    /// The leader's side of AppendEntries: advances `match_index`, or jumps
    /// `next_index` back using the follower's `curr_index`.
    pub fn handle_append_entries_resp(&mut self, from: NodeId, resp: &AppendEntriesResp) {
        if !self.accept_answer(from, resp.term, resp.message_token, "append_entries_resp") {
            return;
        }
        let last_index = self.log.last_index();
        let Some(pr) = self.peers.get_mut(&from) else {
            return;
        };
        let commit_before = self.commit_idx;
        let record = pr
            .inflight
            .iter()
            .find(|f| f.token == resp.message_token)
            .copied();
        pr.inflight.retain(|f| f.token > resp.message_token);
        if resp.success {
            let matched = resp.curr_index.min(last_index);
            if matched > pr.match_index {
                pr.match_index = matched;
            }
            if pr.next_index <= pr.match_index {
                pr.next_index = pr.match_index + 1;
            }
            if pr.state == ReplicaState::Probe {
                pr.state = ReplicaState::Replicate;
            }
            if pr.inflight.is_empty() && pr.next_index > pr.match_index + 1 {
                // Everything sent is answered yet not all matched: some
                // appends were lost; resend from the match.
                pr.next_index = pr.match_index + 1;
            }
            self.maybe_commit();
        } else if let Some(rec) = record {
            if matches!(pr.state, ReplicaState::Snapshot { .. }) {
                return;
            }
            // Jump to just past the follower's last entry, but never past the
            // index that just failed, nor below what is known to match.
            let next = resp.curr_index.saturating_add(1).min(rec.prev.max(1));
            pr.next_index = next.max(pr.match_index + 1);
            pr.state = ReplicaState::Probe;
            pr.inflight.clear();
        }
        self.advance_reads();
        self.maybe_send_timeout_now(from);
        self.send_append(from);
        if self.commit_idx > commit_before {
            let ids: Vec<NodeId> = self.peers.keys().copied().collect();
            for id in ids {
                self.send_commit(id);
            }
        } else {
            self.send_commit(from);
        }
    }

    /// A snapshot chunk (§7): checked against the offset expected next;
    /// duplicates and gaps are answered with that offset; the last chunk
    /// installs the snapshot.
    pub fn handle_snapshot_req(&mut self, from: NodeId, req: &SnapshotReq) -> SnapshotResp {
        let answer = |s: &Self, offset: u64, success: bool, last: bool| SnapshotResp {
            term: s.current_term,
            message_token: req.message_token,
            offset,
            success,
            is_last_chunk: last,
        };
        if req.term < self.current_term {
            self.reject(
                from,
                "snapshot",
                format!(
                    "stale leader: term {} < my term {}",
                    req.term, self.current_term
                ),
            );
            return answer(self, 0, false, false);
        }
        if req.leader_id != from || (req.term == self.current_term && self.state == Role::Leader) {
            self.reject(
                from,
                "snapshot",
                "sender is not the leader of this term".into(),
            );
            return answer(self, 0, false, false);
        }
        if req.term > self.current_term || self.state != Role::Follower || self.leader_id != from {
            self.become_follower(
                req.term,
                from,
                &format!("S{from} is leader of term {}", req.term),
            );
        }
        self.leader_contact = Some(0);
        self.reset_election_timer();
        if req.snapshot_index <= self.commit_idx {
            // Older than what this server already has: ignore it (§7), but
            // tell the leader it may move on.
            self.storage.clear_snapshot();
            self.reject(
                from,
                "snapshot",
                format!(
                    "snapshot at {} is not newer than my commit index {}",
                    req.snapshot_index, self.commit_idx
                ),
            );
            return answer(self, req.block.offset, true, true);
        }
        self.begin_load_snapshot(req.snapshot_term, req.snapshot_index);
        match self
            .storage
            .store_snapshot_block(req.snapshot_index, req.snapshot_term, &req.block)
        {
            Ok(next) => {
                if req.block.is_last_chunk {
                    match self.end_load_snapshot() {
                        Ok(()) => answer(self, next, true, true),
                        Err(why) => {
                            self.storage.clear_snapshot();
                            self.reject(from, "snapshot", why);
                            answer(self, 0, false, false)
                        }
                    }
                } else {
                    answer(self, next, true, false)
                }
            }
            Err(ChunkError::WrongOffset { expected, got }) => {
                self.reject(
                    from,
                    "snapshot",
                    format!("chunk at offset {got}, expected {expected}"),
                );
                answer(self, expected, false, false)
            }
            Err(ChunkError::BadSize) => {
                self.reject(
                    from,
                    "snapshot",
                    "block_size differs from the data's length".into(),
                );
                let expected = self.storage.incoming_snapshot().map(|s| s.2).unwrap_or(0);
                answer(self, expected, false, false)
            }
        }
    }

    /// Prepares to receive a snapshot (ERaftKV `BeginLoadSnapshot`): a chunk
    /// of a different snapshot than the one in progress starts it over.
    pub fn begin_load_snapshot(&mut self, last_included_term: Term, last_included_index: Index) {
        if let Some((i, t, _)) = self.storage.incoming_snapshot() {
            if (i, t) != (last_included_index, last_included_term) {
                self.storage.clear_snapshot();
            }
        }
    }

    /// Installs the fully received snapshot (ERaftKV `EndLoadSnapshot`): the
    /// state machine takes its image; the log keeps a suffix that matches it
    /// and discards the rest (§7).
    pub fn end_load_snapshot(&mut self) -> Result<(), String> {
        let Some((index, term, _)) = self.storage.incoming_snapshot() else {
            return Err("no snapshot being received".into());
        };
        // Validate before committing to it: a malformed image must not
        // become the persisted snapshot, or the next restart fails.
        let Some(data) = self.storage.incoming_snapshot_data() else {
            return Err("no snapshot being received".into());
        };
        let (config, state) = parse_snapshot(&data)?;
        self.sm.restore(state)?;
        if self.storage.finish_incoming_snapshot().is_none() {
            return Err("no snapshot being received".into());
        }
        if self.log.term_at(index) == Some(term) && index >= self.log.first_index() {
            let _ = self.log.compact_to(index);
        } else if self.log.term_at(index) != Some(term) {
            self.log.reset(index, term);
        }
        self.base_config = config;
        self.restore_log();
        self.last_applied_idx = index;
        self.last_applied_term = term;
        self.net.event(RaftEvent::Snapshot {
            index,
            term,
            source: SnapshotSource::Install,
        });
        if index > self.commit_idx {
            self.commit_idx = index;
            self.net.event(RaftEvent::Commit { index });
        }
        let c = self.config().clone();
        self.net.event(RaftEvent::Config(c));
        self.apply_committed();
        Ok(())
    }

    /// The leader's side of a snapshot chunk: move to the offset the
    /// follower expects; after the last chunk, resume appends after the
    /// snapshot index.
    pub fn handle_snapshot_resp(&mut self, from: NodeId, resp: &SnapshotResp) {
        if !self.accept_answer(from, resp.term, resp.message_token, "snapshot_resp") {
            return;
        }
        let Some(pr) = self.peers.get_mut(&from) else {
            return;
        };
        let ReplicaState::Snapshot {
            index,
            offset,
            total,
            ..
        } = pr.state.clone()
        else {
            self.reject(
                from,
                "snapshot_resp",
                "no snapshot transfer in progress".into(),
            );
            return;
        };
        if resp.success && resp.is_last_chunk {
            pr.match_index = pr.match_index.max(index);
            pr.next_index = pr.match_index + 1;
            pr.state = ReplicaState::Probe;
            pr.inflight.clear();
            self.maybe_commit();
            self.advance_reads();
            self.send_append(from);
            return;
        }
        if resp.offset > total {
            self.reject(
                from,
                "snapshot_resp",
                format!("offset {} past the end", resp.offset),
            );
            return;
        }
        // Go on from the offset the follower expects (after a duplicate or
        // a gap it says where it is).
        let _ = offset;
        if let ReplicaState::Snapshot { offset: o, .. } = &mut pr.state {
            *o = resp.offset;
        }
        self.advance_reads();
        self.send_snapshot_chunk(from);
    }

    // ----- replication (leader) -----

    fn new_token(&mut self) -> u64 {
        let t = self.next_token;
        self.next_token += 1;
        t
    }

    fn bcast_append(&mut self) {
        let ids: Vec<NodeId> = self.peers.keys().copied().collect();
        for id in ids {
            self.send_append(id);
        }
    }

    fn bcast_heartbeat(&mut self) {
        let ids: Vec<NodeId> = self.peers.keys().copied().collect();
        for id in ids {
            self.send_heartbeat(id);
        }
    }

    /// Sends entries to `id` as its progress allows: one probe at a time, or
    /// pipelined up to `max_inflight` while replicating.
    fn send_append(&mut self, id: NodeId) {
        loop {
            let last = self.log.last_index();
            let Some(pr) = self.peers.get(&id) else {
                return;
            };
            match pr.state {
                ReplicaState::Snapshot { .. } => return,
                ReplicaState::Probe if !pr.inflight.is_empty() => return,
                ReplicaState::Replicate
                    if pr.inflight.len() >= self.cfg.max_inflight || pr.next_index > last =>
                {
                    return
                }
                _ => {}
            }
            if !self.send_append_from(id, false) {
                return;
            }
            if matches!(
                self.peers.get(&id).map(|p| &p.state),
                Some(ReplicaState::Probe)
            ) {
                return;
            }
        }
    }

    /// Builds and sends one AppendEntries from `next_index`; switches to a
    /// snapshot when the entries are compacted (§7). Returns whether it sent.
    fn send_append_from(&mut self, id: NodeId, timeout_now: bool) -> bool {
        let Some(pr) = self.peers.get(&id) else {
            return false;
        };
        let next = pr.next_index.max(1);
        let prev = next - 1;
        let Some(prev_term) = self.log.term_at(prev) else {
            return self.start_snapshot_transfer(id);
        };
        if next <= self.log.base_index() {
            return self.start_snapshot_transfer(id);
        }
        let entries = self.log.entries(next, self.cfg.max_entries_per_msg);
        let token = self.new_token();
        let last = prev + entries.len() as Index;
        let me = self.id();
        let req = AppendEntriesReq {
            leader_id: me,
            message_token: token,
            term: self.current_term,
            prev_log_idx: prev,
            prev_log_term: prev_term,
            leader_commit: self.commit_idx,
            entries,
            timeout_now,
        };
        let commit = self.commit_idx;
        if let Some(pr) = self.peers.get_mut(&id) {
            pr.inflight.push_back(Inflight { token, prev, last });
            if pr.state == ReplicaState::Replicate {
                pr.next_index = last + 1;
            }
            pr.commit_sent = pr.commit_sent.max(commit.min(last));
        }
        self.net.send_append_entries(me, id, req);
        true
    }

    fn send_heartbeat(&mut self, id: NodeId) {
        let Some(pr) = self.peers.get(&id) else {
            return;
        };
        match pr.state {
            ReplicaState::Snapshot { .. } => {}
            ReplicaState::Probe => {
                // Resend the probe: the last one may be lost.
                if let Some(pr) = self.peers.get_mut(&id) {
                    pr.inflight.clear();
                }
                self.send_append_from(id, false);
            }
            ReplicaState::Replicate => {
                // Anchor at the known match so in-flight entries never make
                // the heartbeat fail; commit travels up to that point.
                let prev = pr.match_index;
                let Some(prev_term) = self.log.term_at(prev) else {
                    self.start_snapshot_transfer(id);
                    return;
                };
                if pr.inflight.len() >= self.cfg.max_inflight {
                    // The window may be stuck on lost appends: restart from the match.
                    if let Some(pr) = self.peers.get_mut(&id) {
                        pr.inflight.clear();
                        pr.next_index = pr.match_index + 1;
                    }
                }
                let token = self.new_token();
                let me = self.id();
                let commit = self.commit_idx;
                if let Some(pr) = self.peers.get_mut(&id) {
                    pr.commit_sent = pr.commit_sent.max(commit.min(prev));
                }
                let req = AppendEntriesReq {
                    leader_id: me,
                    message_token: token,
                    term: self.current_term,
                    prev_log_idx: prev,
                    prev_log_term: prev_term,
                    leader_commit: commit,
                    entries: Vec::new(),
                    timeout_now: false,
                };
                self.net.send_append_entries(me, id, req);
                self.send_append(id);
            }
        }
    }

    /// Tells an idle, caught-up follower a commit index it has not heard
    /// yet, with an empty append anchored at its match (as etcd does): the
    /// last entries of a burst then commit everywhere without waiting for
    /// a heartbeat. A follower with appends in flight hears it with the
    /// next append its answer triggers.
    fn send_commit(&mut self, id: NodeId) {
        let Some(pr) = self.peers.get(&id) else {
            return;
        };
        if !self.cfg.announce_commit
            || pr.state != ReplicaState::Replicate
            || !pr.inflight.is_empty()
            || pr.next_index != pr.match_index + 1
            || pr.commit_sent >= self.commit_idx.min(pr.match_index)
        {
            return;
        }
        self.send_append_from(id, false);
    }

    fn start_snapshot_transfer(&mut self, id: NodeId) -> bool {
        let Some(snap) = self.storage.load_snapshot() else {
            return false;
        };
        if let Some(pr) = self.peers.get_mut(&id) {
            pr.state = ReplicaState::Snapshot {
                index: snap.index,
                term: snap.term,
                offset: 0,
                total: snap.data.len() as u64,
                since_sent: 0,
            };
            pr.inflight.clear();
        }
        self.send_snapshot_chunk(id);
        true
    }

    fn send_snapshot_chunk(&mut self, id: NodeId) {
        let Some(snap_meta) = self.storage.load_snapshot().map(|s| (s.index, s.term)) else {
            return;
        };
        let Some(pr) = self.peers.get_mut(&id) else {
            return;
        };
        let ReplicaState::Snapshot {
            index,
            term,
            offset,
            since_sent,
            ..
        } = &mut pr.state
        else {
            return;
        };
        if (*index, *term) != snap_meta {
            // A newer snapshot was taken meanwhile: start over with it.
            return self.restart_snapshot(id);
        }
        *since_sent = 0;
        let offset = *offset;
        let (snapshot_index, snapshot_term) = snap_meta;
        let Some(block) = self
            .storage
            .get_snapshot_block(offset, self.cfg.snapshot_chunk_bytes)
        else {
            return;
        };
        let token = self.new_token();
        let me = self.id();
        let req = SnapshotReq {
            term: self.current_term,
            leader_id: me,
            message_token: token,
            snapshot_index,
            snapshot_term,
            block,
        };
        self.net.send_snapshot(me, id, req);
    }

    fn restart_snapshot(&mut self, id: NodeId) {
        if let Some(pr) = self.peers.get_mut(&id) {
            pr.state = ReplicaState::Probe;
        }
        self.start_snapshot_transfer(id);
    }

    /// Commits the highest index a quorum holds, but only if it is from the
    /// current term: older entries commit indirectly (§5.4.2, Figure 8).
    fn maybe_commit(&mut self) {
        if self.state != Role::Leader {
            return;
        }
        let me = self.id();
        let last = self.log.last_index();
        let candidate = self.config().committed_index(
            |id| {
                if id == me {
                    last
                } else {
                    self.peers.get(&id).map(|p| p.match_index).unwrap_or(0)
                }
            },
            self.cfg.bugs.has(Bug::LearnerInQuorum),
        );
        if candidate <= self.commit_idx {
            return;
        }
        let current_term_entry = self.log.term_at(candidate) == Some(self.current_term);
        if current_term_entry || self.cfg.bugs.has(Bug::Figure8) {
            self.commit_to(candidate);
        }
    }

    fn commit_to(&mut self, index: Index) {
        self.commit_idx = index;
        self.net.event(RaftEvent::Commit { index });
        self.apply_committed();
    }

    /// Applies committed entries in order, then acts on committed
    /// membership changes.
    fn apply_committed(&mut self) {
        while self.last_applied_idx < self.commit_idx {
            let Some(e) = self.log.get(self.last_applied_idx + 1) else {
                break; // not held (only with the commit-without-min bug)
            };
            let output = if e.kind == EntryKind::Normal {
                self.sm.apply(&e)
            } else {
                Vec::new()
            };
            self.last_applied_idx = e.index;
            self.last_applied_term = e.term;
            self.net.event(RaftEvent::Apply {
                index: e.index,
                term: e.term,
                output,
            });
            if e.kind.is_membership() && self.state == Role::Leader {
                self.on_membership_committed(&e);
            }
        }
        self.maybe_leave_joint();
        self.advance_reads();
    }

    fn on_membership_committed(&mut self, e: &Entry) {
        let me = self.id();
        if self.config_index() <= e.index && !self.config().is_voter(me) {
            // Thesis §4.2.2: a removed leader steps down once C_new commits.
            // Its peers are forgotten as it steps down, so first tell them
            // the commit: otherwise they learn it only from the next leader.
            self.bcast_heartbeat();
            let term = self.current_term;
            self.become_follower(
                term,
                NO_NODE,
                "removed from the configuration; stepping down now that the change committed (thesis §4.2.2)",
            );
        }
    }

    /// Thesis §4.3: once C_old,new has committed, the leader appends C_new,
    /// whoever proposed the joint change: a leader elected after the
    /// proposer fell finds the joint configuration committed in its log and
    /// must finish the change, or the cluster stays joint for good. Like any
    /// configuration entry it waits until an entry of the leader's own term
    /// has committed (the 2015 raft-dev fix in the thesis errata), which a
    /// new leader's NoOp provides.
    fn maybe_leave_joint(&mut self) {
        if self.state != Role::Leader
            || !self.config().is_joint()
            || self.config_index() > self.last_applied_idx
            || self.log.term_at(self.commit_idx) != Some(self.current_term)
            || self.cfg.bugs.has(Bug::StayJoint)
        {
            return;
        }
        let voters: Vec<NodeId> = self.config().voters.iter().copied().collect();
        let index = self.log.last_index() + 1;
        let term = self.current_term;
        self.append_own(Entry {
            term,
            index,
            kind: EntryKind::JointLeave,
            data: format_ids(&voters),
        });
        self.maybe_commit();
        self.bcast_append();
    }

    fn append_own(&mut self, e: Entry) {
        if self.log.append(e.clone()).is_err() {
            return;
        }
        self.log.sync();
        self.net.event(RaftEvent::Append(e.clone()));
        if e.kind.is_membership() {
            let next = next_config(self.config(), &e);
            self.config_log.push((e.index, next.clone()));
            self.net.event(RaftEvent::Config(next));
            self.sync_peers();
        }
    }

    // ----- proposals -----

    /// Appends a client command (ERaftKV `ProposeEntry`) and starts
    /// replicating it. Returns where it went, so the caller can match the
    /// apply.
    pub fn propose_entry(&mut self, data: Vec<u8>) -> Result<(Index, Term), ProposeError> {
        self.propose(EntryKind::Normal, data)
    }

    fn propose(&mut self, kind: EntryKind, data: Vec<u8>) -> Result<(Index, Term), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::NotLeader(self.leader_id()));
        }
        if self.transfer.is_some() {
            return Err(ProposeError::Transferring);
        }
        let index = self.log.last_index() + 1;
        let term = self.current_term;
        self.append_own(Entry {
            term,
            index,
            kind,
            data,
        });
        self.maybe_commit();
        self.bcast_new_entries();
        Ok((index, term))
    }

    /// Sends a new proposal to followers with nothing in flight. Busy
    /// pipelines take it with their next answer, so proposals made in quick
    /// succession travel together: batching without a timer.
    fn bcast_new_entries(&mut self) {
        let idle: Vec<NodeId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.inflight.is_empty())
            .map(|(&id, _)| id)
            .collect();
        for id in idle {
            self.send_append(id);
        }
    }

    /// Proposes a membership change (ERaftKV `JoinNode`/`RemoveNode`). One
    /// change at a time (thesis §4.1), and only once the leader committed an
    /// entry of its own term.
    pub fn propose_conf_change(
        &mut self,
        change: ConfChange,
    ) -> Result<(Index, Term), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::NotLeader(self.leader_id()));
        }
        if self.config_index() > self.commit_idx || self.config().is_joint() {
            return Err(ProposeError::ChangePending);
        }
        if self.log.term_at(self.commit_idx) != Some(self.current_term) {
            return Err(ProposeError::LeaderNotReady);
        }
        let c = self.config().clone();
        let invalid = |s: String| Err(ProposeError::Invalid(s));
        let (kind, ids) = match change {
            ConfChange::AddLearner(NO_NODE) | ConfChange::AddVoter(NO_NODE) => {
                return invalid("node id must be positive".into());
            }
            ConfChange::AddLearner(id) => {
                if c.contains(id) {
                    return invalid(format!("S{id} is already a member"));
                }
                (EntryKind::JoinNoVoteNode, vec![id])
            }
            ConfChange::AddVoter(id) => {
                if c.is_voter(id) {
                    return invalid(format!("S{id} is already a voter"));
                }
                (EntryKind::JoinNode, vec![id])
            }
            ConfChange::Remove(id) => {
                if !c.contains(id) {
                    return invalid(format!("S{id} is not a member"));
                }
                if c.is_voter(id) && c.voters.len() == 1 {
                    return invalid("cannot remove the last voter".into());
                }
                (EntryKind::LeaveNode, vec![id])
            }
            ConfChange::Joint(mut voters) => {
                voters.sort_unstable();
                voters.dedup();
                if voters.is_empty() || voters.contains(&NO_NODE) {
                    return invalid("a joint change needs a non-empty set of positive ids".into());
                }
                if voters.iter().copied().eq(c.voters.iter().copied()) {
                    return invalid("the new voters equal the current ones".into());
                }
                (EntryKind::JointEnter, voters)
            }
        };
        self.propose(kind, format_ids(&ids))
    }

    /// Starts a ReadIndex read (ERaftKV `ProposeReadReq`, thesis §6.4). It is
    /// served (a `ReadReady` event) once a quorum acknowledged a token at
    /// least as new as the read's, the leader committed an entry of its term,
    /// and the state machine applied the read index.
    pub fn propose_read(&mut self, read_id: u64) -> Result<(), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::NotLeader(self.leader_id()));
        }
        let token = self.next_token;
        let awaiting_term_commit = self.log.term_at(self.commit_idx) != Some(self.current_term);
        self.reads.push_back(PendingRead {
            read_id,
            index: self.commit_idx,
            token,
            confirmed: false,
            awaiting_term_commit,
        });
        // Confirm leadership with a round of heartbeats now.
        self.heartbeat_elapsed = 0;
        self.bcast_heartbeat();
        self.advance_reads();
        Ok(())
    }

    fn advance_reads(&mut self) {
        if self.state != Role::Leader || self.reads.is_empty() {
            return;
        }
        // The NoOp of this term must have committed: before that the leader
        // may not know the latest commit index (thesis §6.4 step 1).
        if self.log.term_at(self.commit_idx) != Some(self.current_term) {
            return;
        }
        let me = self.id();
        let learners_count = self.cfg.bugs.has(Bug::LearnerInQuorum);
        let commit = self.commit_idx;
        let mut ready = Vec::new();
        let mut i = 0;
        while i < self.reads.len() {
            let token = self.reads[i].token;
            if !self.reads[i].confirmed {
                let peers = &self.peers;
                let ok = self.config().has_quorum(
                    |id| id == me || peers.get(&id).is_some_and(|p| p.acked_token >= token),
                    learners_count,
                );
                if ok {
                    self.reads[i].confirmed = true;
                }
            }
            let r = &mut self.reads[i];
            if r.awaiting_term_commit {
                // It arrived before this term's NoOp committed: only now is
                // the commit index known to be the cluster's (thesis §6.4).
                r.index = r.index.max(commit);
                r.awaiting_term_commit = false;
            }
            if r.confirmed && self.last_applied_idx >= r.index {
                ready.push((r.read_id, r.index));
                self.reads.remove(i);
            } else {
                i += 1;
            }
        }
        for (read_id, index) in ready {
            self.net.event(RaftEvent::ReadReady { read_id, index });
        }
    }

    /// Answers a read-only query from the local state machine. Call it on
    /// `ReadReady` only: elsewhere the answer may be stale.
    pub fn read_state_machine(&self, query: &[u8]) -> Vec<u8> {
        self.sm.read(query)
    }

    // ----- leadership transfer (thesis §3.10) -----

    /// Hands leadership to `target`: stop taking proposals, bring its log up
    /// to date, then tell it to campaign at once (TimeoutNow, carried by an
    /// AppendEntries with `timeout_now`). Aborts after an election timeout.
    pub fn transfer_leadership(&mut self, target: NodeId) -> Result<(), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::NotLeader(self.leader_id()));
        }
        if target == self.id() {
            return Err(ProposeError::Invalid("already the leader".into()));
        }
        if !self.config().is_voter(target) {
            return Err(ProposeError::Invalid(format!("S{target} is not a voter")));
        }
        if matches!(self.transfer, Some((t, _)) if t == target) {
            // Already under way: asking again must not extend its deadline,
            // or a retrying client keeps proposals refused for ever
            // (thesis §3.10; raft-rs and etcd ignore it too).
            return Ok(());
        }
        self.transfer = Some((target, 0));
        self.transfer_sent = false;
        self.maybe_send_timeout_now(target);
        self.send_append(target);
        Ok(())
    }

    fn maybe_send_timeout_now(&mut self, id: NodeId) {
        let Some((target, _)) = self.transfer else {
            return;
        };
        if target != id {
            return;
        }
        let last = self.log.last_index();
        let caught_up = self.peers.get(&id).is_some_and(|p| p.match_index == last);
        if caught_up && !self.transfer_sent {
            self.transfer_sent = true;
            // Send it as a one-off append from the match point.
            if let Some(pr) = self.peers.get_mut(&id) {
                pr.next_index = last + 1;
            }
            self.send_append_from(id, true);
        }
    }

    // ----- snapshots (§7) -----

    /// Captures a snapshot of the applied state (ERaftKV `BeginSnapshot`).
    pub fn begin_snapshot(&mut self) -> Result<(), String> {
        if self.snapshot_in_progress.is_some() {
            return Err("a snapshot is already being taken".into());
        }
        let index = self.last_applied_idx;
        if index <= self.log.base_index() {
            return Err(format!(
                "nothing to compact: applied index {index} is at the snapshot base"
            ));
        }
        let term = self.last_applied_term;
        let config = self.config_at(index);
        let data = snapshot_bytes(&config, &self.sm.snapshot());
        self.snapshot_in_progress = Some(Snapshot { index, term, data });
        Ok(())
    }

    /// Stores the captured snapshot and compacts the log up to it (ERaftKV
    /// `EndSnapshot`).
    pub fn end_snapshot(&mut self) -> Result<(), String> {
        let Some(snap) = self.snapshot_in_progress.take() else {
            return Err("no snapshot was begun".into());
        };
        let (index, term) = (snap.index, snap.term);
        if index <= self.log.base_index() {
            return Err("the log was already compacted past this snapshot".into());
        }
        let config = self.config_at(index);
        self.storage.create_snapshot(snap);
        self.log.compact_to(index).map_err(|e| e.to_string())?;
        self.base_config = config;
        self.config_log.retain(|(i, _)| *i > index);
        self.net.event(RaftEvent::Snapshot {
            index,
            term,
            source: SnapshotSource::Local,
        });
        Ok(())
    }

    /// Begins and ends a snapshot in one go.
    pub fn take_snapshot(&mut self) -> Result<Index, String> {
        self.begin_snapshot()?;
        self.end_snapshot()?;
        Ok(self.log.base_index())
    }

    /// The configuration in force at `index`.
    fn config_at(&self, index: Index) -> Membership {
        self.config_log
            .iter()
            .rev()
            .find(|(i, _)| *i <= index)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| self.base_config.clone())
    }
}

/// The configuration a membership entry leads to from `prev`.
pub fn next_config(prev: &Membership, e: &Entry) -> Membership {
    let ids = e.node_ids();
    let mut c = prev.clone();
    match e.kind {
        EntryKind::JoinNoVoteNode => {
            for id in ids {
                if !c.is_voter(id) {
                    c.learners.insert(id);
                }
            }
        }
        EntryKind::JoinNode => {
            for id in ids {
                c.learners.remove(&id);
                c.voters.insert(id);
            }
        }
        EntryKind::LeaveNode => {
            for id in ids {
                c.voters.remove(&id);
                c.learners.remove(&id);
                c.outgoing.remove(&id);
            }
        }
        EntryKind::JointEnter => {
            c.outgoing = prev.voters.clone();
            c.voters = ids.into_iter().collect();
            for v in &c.voters {
                c.learners.remove(v);
            }
        }
        EntryKind::JointLeave => {
            c.outgoing.clear();
        }
        EntryKind::Normal | EntryKind::NoOp => {}
    }
    c
}
