//! raftlab-core: a Raft server in the shape of the ERaftKV design, pure and
//! deterministic (no I/O, no clock, no global randomness, no threads), plus
//! the cluster simulator, trace format and safety checker built on it.
//!
//! Time is ticks; the only randomness is a seeded RNG handed in by the owner.
//! Every handler accepts any input and rejects what it cannot use, saying why.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod check;
pub mod config;
pub mod harness;
pub(crate) mod json;
pub mod kv;
pub mod lesson;
pub mod log;
pub mod meta;
pub mod network;
pub mod quorum;
pub mod raft;
pub mod session;
pub mod sim;
pub mod storage;
pub mod trace;
pub mod types;
pub mod why;

pub use check::{check_trace_str, Checker, Report, Violation};
pub use config::{Bug, Bugs, Config};
pub use kv::{KvCommand, KvOp, KvResult, KvStore, StateMachine};
pub use log::{LogError, LogStore, MemLogStore, RaftLog};
pub use network::{MemNetwork, Network, Output, RaftEvent, SnapshotSource};
pub use quorum::{Membership, VoteResult};
pub use storage::{MemStorage, Snapshot, Storage};
pub use trace::{read_trace, EventKind, Trace, TraceError, TraceEvent, TraceHeader, TraceWriter};
pub use types::*;
