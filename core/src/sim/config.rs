//! The settings of a simulated run: timing, network and client settings
//! and the deliberate bugs. Every part of the simulator reads them from
//! here, and the trace header records them, so a trace can be re-run from
//! its header alone.

use serde::{Deserialize, Serialize};

use crate::config::{Bug, Bugs, Config};
use crate::types::NodeId;

/// Everything that shapes a run besides the seed and the actions. It is the
/// trace header's `config`, so a trace can be re-run from its header alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// `[min, max]` of the randomized election timeout, in ms (one tick = 1 ms).
    pub election_timeout_ms: [u64; 2],
    /// Heartbeat interval in ms.
    pub heartbeat_ms: u64,
    /// Snapshot chunk size in bytes.
    pub snapshot_chunk_bytes: usize,
    /// Run PreVote before elections (thesis §9.6).
    pub prevote: bool,
    /// Leaders step down without a majority (thesis §6.2); also enables leader stickiness.
    pub check_quorum: bool,
    /// `[min, max]` one-way latency in ms.
    pub latency_ms: [u64; 2],
    /// Chance that a message is lost, in [0, 1].
    pub loss: f64,
    /// Chance that a message is duplicated, in [0, 1].
    pub duplicate: f64,
    /// Chance that a message is held back by extra latency (reordering), in [0, 1].
    pub reorder: f64,
    /// Take a snapshot on a node when this many applied entries can be compacted (0: never).
    pub snapshot_every: u64,
    /// Most entries per AppendEntries.
    pub max_entries_per_msg: usize,
    /// Most AppendEntries in flight per follower.
    pub max_inflight: usize,
    /// How long a client waits for one attempt before retrying, in ms.
    pub client_retry_ms: u64,
    /// How long a client tries in all before giving up (outcome unknown), in ms.
    pub client_timeout_ms: u64,
    /// Deliberate bugs switched on in every node's core.
    pub bugs: Vec<Bug>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            election_timeout_ms: [150, 300],
            heartbeat_ms: 50,
            snapshot_chunk_bytes: 1024,
            prevote: true,
            check_quorum: true,
            latency_ms: [5, 25],
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            snapshot_every: 0,
            max_entries_per_msg: 64,
            max_inflight: 8,
            client_retry_ms: 400,
            client_timeout_ms: 3000,
            bugs: Vec::new(),
        }
    }
}

impl SimConfig {
    /// Checks the settings and says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        self.core_config(1).validate()?;
        if self.latency_ms[0] > self.latency_ms[1] {
            return Err(format!(
                "latency range is empty: min {} > max {}",
                self.latency_ms[0], self.latency_ms[1]
            ));
        }
        if self.latency_ms[1] > 60_000 {
            return Err("latency above 60 s is not supported".into());
        }
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be between 0 and 1, not {p}"));
            }
        }
        if self.client_retry_ms == 0 || self.client_timeout_ms < self.client_retry_ms {
            return Err("client retry must be positive and below the client timeout".into());
        }
        Ok(())
    }

    /// The core settings for node `id`.
    pub fn core_config(&self, id: NodeId) -> Config {
        let mut c = Config::new(id);
        c.election_timeout_min = self.election_timeout_ms[0];
        c.election_timeout_max = self.election_timeout_ms[1];
        c.heartbeat_interval = self.heartbeat_ms;
        c.prevote = self.prevote;
        c.check_quorum = self.check_quorum;
        c.snapshot_chunk_bytes = self.snapshot_chunk_bytes;
        c.max_entries_per_msg = self.max_entries_per_msg;
        c.max_inflight = self.max_inflight;
        c.snapshot_retry_ticks = (self.latency_ms[1] * 2 + 20).max(self.heartbeat_ms);
        c.bugs = Bugs(self.bugs.clone());
        // Followers learn a new commit index with the next append or
        // heartbeat, as the lessons narrate; recorded runs replay unchanged.
        c.announce_commit = false;
        c
    }
}
