//! Settings of one server, and the deliberate bugs raftlab can switch on for
//! teaching and for proving that its tests and checker can fail.

use serde::{Deserialize, Serialize};

use crate::types::NodeId;

/// A named, off-by-default fault in the core. Each breaks one rule of Raft;
/// a test per bug shows that the rule's test fails with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Bug {
    /// Commit older-term entries by counting replicas (breaks §5.4.2, Figure 8).
    #[serde(rename = "figure8")]
    Figure8,
    /// Grant votes without comparing logs (breaks the up-to-date check, §5.4.1).
    #[serde(rename = "no-up-to-date-check")]
    NoUpToDateCheck,
    /// A prevote request raises the receiver's term (breaks thesis §9.6).
    #[serde(rename = "prevote-raises-term")]
    PrevoteRaisesTerm,
    /// Lose `voted_for` across a restart (breaks Figure 2's persistent state).
    #[serde(rename = "forget-vote-on-restart")]
    ForgetVoteOnRestart,
    /// Follower sets commit to `leader_commit` without the min (breaks Figure 2, AppendEntries rule 5).
    #[serde(rename = "commit-without-min")]
    CommitWithoutMin,
    /// Count learners in quorums (breaks thesis §4.2.1).
    #[serde(rename = "learner-in-quorum")]
    LearnerInQuorum,
    /// Test-only: a leader never appends C_new once C_old,new commits, so
    /// the cluster stays joint (breaks thesis §4.3's progress, not safety).
    /// Hidden from `ALL`, so neither the page nor the CLI offers it; the
    /// convergence tests use it to show that a stuck run is reported.
    #[doc(hidden)]
    #[serde(rename = "stay-joint")]
    StayJoint,
}

impl Bug {
    /// Every bug, in a stable order.
    pub const ALL: [Bug; 6] = [
        Bug::Figure8,
        Bug::NoUpToDateCheck,
        Bug::PrevoteRaisesTerm,
        Bug::ForgetVoteOnRestart,
        Bug::CommitWithoutMin,
        Bug::LearnerInQuorum,
    ];

    /// The bug's name as users type it.
    pub fn name(self) -> &'static str {
        match self {
            Bug::Figure8 => "figure8",
            Bug::NoUpToDateCheck => "no-up-to-date-check",
            Bug::PrevoteRaisesTerm => "prevote-raises-term",
            Bug::ForgetVoteOnRestart => "forget-vote-on-restart",
            Bug::CommitWithoutMin => "commit-without-min",
            Bug::LearnerInQuorum => "learner-in-quorum",
            Bug::StayJoint => "stay-joint",
        }
    }

    /// Looks a bug up by name.
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }

    /// What rule the bug breaks, in a sentence for the page.
    pub fn explain(self) -> &'static str {
        match self {
            Bug::Figure8 => "a leader commits entries from older terms by counting replicas (Raft §5.4.2, Figure 8)",
            Bug::NoUpToDateCheck => "voters grant votes without checking that the candidate's log is at least as up to date (§5.4.1)",
            Bug::PrevoteRaisesTerm => "a prevote request makes the receiver adopt the asked-for term (thesis §9.6)",
            Bug::ForgetVoteOnRestart => "a restarted server forgets whom it voted for in its current term (Figure 2)",
            Bug::CommitWithoutMin => "a follower sets its commit index to leader_commit even past its own last new entry (Figure 2)",
            Bug::LearnerInQuorum => "learners are counted in vote and commit quorums (thesis §4.2.1)",
            Bug::StayJoint => "a leader never moves from C_old,new to C_new (thesis §4.3)",
        }
    }
}

/// The set of bugs switched on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bugs(pub Vec<Bug>);

impl Bugs {
    /// No bugs: the correct core.
    pub fn none() -> Self {
        Bugs(Vec::new())
    }

    /// Whether `bug` is on.
    pub fn has(&self, bug: Bug) -> bool {
        self.0.contains(&bug)
    }
}

/// Settings of one `RaftServer`. Times are in ticks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// This server's id (positive).
    pub id: NodeId,
    /// Lower bound of the randomized election timeout (§5.2).
    pub election_timeout_min: u64,
    /// Upper bound (inclusive) of the randomized election timeout.
    pub election_timeout_max: u64,
    /// Ticks between heartbeats; must be well below the election timeout.
    pub heartbeat_interval: u64,
    /// Run a prevote round before each election (thesis §9.6).
    pub prevote: bool,
    /// A leader steps down when a majority is silent for an election timeout
    /// (thesis §6.2).
    pub check_quorum: bool,
    /// Most entries in one AppendEntries.
    pub max_entries_per_msg: usize,
    /// Most AppendEntries in flight to one follower while replicating.
    pub max_inflight: usize,
    /// Bytes per snapshot chunk.
    pub snapshot_chunk_bytes: usize,
    /// Ticks a leader waits for a snapshot chunk's answer before resending it.
    pub snapshot_retry_ticks: u64,
    /// When the leader's commit index rises, tell followers that have
    /// nothing in flight at once, with an empty AppendEntries, instead of
    /// with the next append or heartbeat (as etcd does, and raft-rs unless
    /// `skip_bcast_commit`).
    #[serde(default = "yes")]
    pub announce_commit: bool,
    /// Deliberate bugs switched on.
    pub bugs: Bugs,
}

fn yes() -> bool {
    true
}

impl Config {
    /// Sensible settings for `id`: timeouts 150-300 ticks, heartbeat 50,
    /// PreVote, CheckQuorum and commit announcements on.
    pub fn new(id: NodeId) -> Self {
        Config {
            id,
            election_timeout_min: 150,
            election_timeout_max: 300,
            heartbeat_interval: 50,
            prevote: true,
            check_quorum: true,
            max_entries_per_msg: 64,
            max_inflight: 8,
            snapshot_chunk_bytes: 1024,
            snapshot_retry_ticks: 100,
            announce_commit: true,
            bugs: Bugs::none(),
        }
    }

    /// Checks the settings and says what is wrong, so bad input never panics.
    pub fn validate(&self) -> Result<(), String> {
        if self.id == 0 {
            return Err("node id must be positive".into());
        }
        if self.election_timeout_min == 0 {
            return Err("election timeout must be at least 1 tick".into());
        }
        if self.election_timeout_max < self.election_timeout_min {
            return Err(format!(
                "election timeout range is empty: max {} < min {}",
                self.election_timeout_max, self.election_timeout_min
            ));
        }
        if self.heartbeat_interval == 0 {
            return Err("heartbeat interval must be at least 1 tick".into());
        }
        if self.heartbeat_interval >= self.election_timeout_min {
            return Err(format!(
                "heartbeat interval {} must be below the minimum election timeout {}",
                self.heartbeat_interval, self.election_timeout_min
            ));
        }
        if self.max_entries_per_msg == 0 || self.max_inflight == 0 {
            return Err("max entries per message and max in-flight must be positive".into());
        }
        if self.snapshot_chunk_bytes == 0 {
            return Err("snapshot chunk size must be positive".into());
        }
        if self.snapshot_retry_ticks == 0 {
            return Err("snapshot retry interval must be positive".into());
        }
        Ok(())
    }
}
