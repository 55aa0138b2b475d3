//! `raftlab`: the native runner. It simulates clusters and writes their
//! traces (`run`), checks any trace from the file alone (`check`), proves a
//! trace reproduces from its header and actions (`replay`), and sweeps many
//! seeds of random faults looking for safety violations (`chaos`). `run
//! --sharded` simulates a sharded cluster (a meta group and KV groups);
//! `check` and `replay` recognise a sharded trace by its header.
//!
//! Exit codes are part of the interface, so scripts and CI can rely on them:
//! 0 means safe / identical, 1 means a violation or a difference was found,
//! 2 means the input or the arguments could not be used, 3 means a chaos
//! run was safe but stuck: it did not converge in its calm period.
//! (`check::convergence`).

mod chaos;
mod check;
mod progress;
mod replay;
mod run;
mod sharded;
mod summary;
mod units;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use units::{Millis, NodeRange};

/// Simulate, check and replay Raft runs.
#[derive(Parser, Debug)]
#[command(name = "raftlab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate one cluster run, print a summary and optionally write its trace.
    Run(RunArgs),
    /// Check a trace file for Raft safety and linearizability violations.
    Check(CheckArgs),
    /// Re-simulate a trace from its header and actions; confirm it is identical.
    Replay(ReplayArgs),
    /// Run many seeds with random faults and report every failing seed.
    Chaos(ChaosArgs),
}

/// Arguments of `raftlab run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Number of voters the cluster starts with (1 to 9; default 5). With
    /// --sharded: voters per KV group (default 3).
    #[arg(long)]
    pub nodes: Option<u64>,
    /// Simulate a sharded cluster: a meta group holding the slot table and
    /// KV groups serving the slots (with --chaos: crashes, partitions, slot
    /// moves and membership changes in every group, under client load).
    #[arg(long)]
    pub sharded: bool,
    /// With --sharded: number of KV groups (1 to 3).
    #[arg(long, default_value_t = 2)]
    pub groups: u32,
    /// With --sharded: voters of the meta group (1 to 9).
    #[arg(long, default_value_t = 3)]
    pub meta_nodes: u64,
    /// The simulator's seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated time to run, e.g. 60s, 1500ms, 2m.
    #[arg(long, default_value = "10s")]
    pub until: Millis,
    /// Mix every fault (crashes, partitions, cut links, loss, membership,
    /// transfers, snapshots in small chunks) with client load: the same run
    /// `raftlab chaos` makes for this seed.
    #[arg(long)]
    pub chaos: bool,
    /// With --chaos: the calm period that ends the run (healed, restarted,
    /// no faults, clients still writing), within which the cluster must
    /// converge; capped at half of --until. 0 for none.
    #[arg(long, default_value = "10s")]
    pub calm: Millis,
    /// Chance that a message is lost, 0 to 1.
    #[arg(long)]
    pub loss: Option<f64>,
    /// Number of KV clients sending operations (with or without --chaos).
    #[arg(long)]
    pub clients: Option<u64>,
    /// Take a snapshot when this many applied entries can be compacted (0: never).
    #[arg(long)]
    pub snapshot_every: Option<u64>,
    /// Snapshot chunk size in bytes.
    #[arg(long)]
    pub chunk_bytes: Option<usize>,
    /// Switch on a deliberate bug (may repeat): figure8, no-up-to-date-check,
    /// prevote-raises-term, forget-vote-on-restart, commit-without-min,
    /// learner-in-quorum; with --sharded: no-freeze.
    #[arg(long = "bug", value_name = "NAME")]
    pub bugs: Vec<String>,
    /// Disable PreVote.
    #[arg(long)]
    pub no_prevote: bool,
    /// Disable CheckQuorum (and leader stickiness).
    #[arg(long)]
    pub no_check_quorum: bool,
    /// Write the trace (JSON Lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
    /// Violations to explain in full.
    #[arg(long, default_value_t = 3)]
    pub explain: usize,
    /// Tell the run first, as the page's event feed does: one line per
    /// event with its time and seq.
    #[arg(long)]
    pub narrate: bool,
}

/// Arguments of `raftlab check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The trace file (`-` for standard input).
    pub trace: std::path::PathBuf,
    /// Violations to explain in full.
    #[arg(long, default_value_t = 3)]
    pub explain: usize,
}

/// Arguments of `raftlab replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The trace file.
    pub trace: std::path::PathBuf,
    /// Tell the trace first, as the page's event feed does: one line per
    /// event with its time and seq.
    #[arg(long)]
    pub narrate: bool,
}

/// Arguments of `raftlab chaos`.
#[derive(Args, Debug)]
pub struct ChaosArgs {
    /// Number of seeds to run.
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Simulated time per seed, e.g. 30s.
    #[arg(long, default_value = "30s")]
    pub until: Millis,
    /// The calm period that ends each seed's run, within which the cluster
    /// must converge; capped at half of --until.
    #[arg(long, default_value = "10s")]
    pub calm: Millis,
    /// Cluster size per seed: a number, or a range like 3..7 (inclusive),
    /// from which each seed picks its size deterministically.
    #[arg(long, default_value = "3..7")]
    pub nodes: NodeRange,
    /// Parallel threads (default: the machine's available parallelism).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Switch on a deliberate bug (may repeat).
    #[arg(long = "bug", value_name = "NAME")]
    pub bugs: Vec<String>,
    /// Stop starting new seeds once one fails.
    #[arg(long)]
    pub fail_fast: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run::main(&a),
        Command::Check(a) => check::main(&a),
        Command::Replay(a) => replay::main(&a),
        Command::Chaos(a) => chaos::main(&a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
