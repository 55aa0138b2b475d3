//! Chaos finds every deliberate bug: with one bug switched on, the standard
//! chaos runs (`chaos::run_standard`, as `raftlab chaos --bug NAME` makes
//! them) break the rule that bug breaks within a bounded number of seeds,
//! and the checker sees it from the trace's events alone. The same seed
//! without the bug is safe, so the violation is the bug's doing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use raftlab_core::check::rules;
use raftlab_core::check::Report;
use raftlab_core::sim::chaos::{nodes_for_seed, run_standard};
use raftlab_core::Bug;

/// At most this many seeds to find a bug.
const MAX_SEEDS: u64 = 200;
/// Simulated time per seed, ms.
const UNTIL: u64 = 30_000;

fn report(seed: u64, bugs: &[Bug]) -> (u64, Report) {
    let nodes = nodes_for_seed(seed, 3, 7);
    let sim = run_standard(seed, nodes, UNTIL, bugs).expect("valid setup");
    (nodes, sim.checker().clone().finish())
}

/// The first seed (in 1..=MAX_SEEDS) whose run with `bug` is unsafe.
/// Seeds are tried in order on all cores; the lowest failing one wins, so
/// the answer does not depend on scheduling.
fn first_failing_seed(bug: Bug) -> Option<(u64, u64, Report)> {
    let next = AtomicU64::new(1);
    let found = Mutex::new(None::<(u64, u64, Report)>);
    let stop = AtomicBool::new(false);
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed > MAX_SEEDS || stop.load(Ordering::Relaxed) {
                    return;
                }
                let (nodes, r) = report(seed, &[bug]);
                if !r.is_safe() {
                    let mut f = found.lock().unwrap();
                    if f.as_ref().is_none_or(|(s, ..)| seed < *s) {
                        *f = Some((seed, nodes, r));
                    }
                    stop.store(true, Ordering::Relaxed);
                }
            });
        }
    });
    found.into_inner().unwrap()
}

/// Chaos with `bug` breaks `rule` within MAX_SEEDS seeds, and the failing
/// seed is safe without the bug.
fn chaos_catches(bug: Bug, rule: &str) {
    let Some((seed, nodes, r)) = first_failing_seed(bug) else {
        panic!(
            "chaos found no violation with {} in {MAX_SEEDS} seeds",
            bug.name()
        );
    };
    let first = &r.violations[0];
    eprintln!(
        "{}: seed {seed} ({nodes} nodes): {:?}; first: {} at event {}: {}",
        bug.name(),
        r.violation_counts,
        first.rule,
        first.seq,
        first.message
    );
    assert!(
        r.violation_counts.contains_key(rule),
        "{} at seed {seed} broke {:?} but not {rule}",
        bug.name(),
        r.violation_counts
    );
    let (_, clean) = report(seed, &[]);
    assert!(
        clean.is_safe(),
        "seed {seed} is unsafe even without {}: {:?}",
        bug.name(),
        clean.violations.first()
    );
}

/// §5.4.2, Figure 8: a leader commits an older term's entry by counting.
#[test]
fn chaos_catches_figure8() {
    chaos_catches(Bug::Figure8, rules::LEADER_COMMITS_CURRENT_TERM);
}

/// §5.4.1: a vote for a candidate whose log is behind.
#[test]
fn chaos_catches_no_up_to_date_check() {
    chaos_catches(Bug::NoUpToDateCheck, rules::VOTE_UP_TO_DATE);
}

/// Thesis §9.6: a prevote request raises the receiver's term.
#[test]
fn chaos_catches_prevote_raises_term() {
    chaos_catches(Bug::PrevoteRaisesTerm, rules::PREVOTE_TERM_UNCHANGED);
}

/// Figure 2: a restarted node votes a second time in its current term.
#[test]
fn chaos_catches_forget_vote_on_restart() {
    chaos_catches(Bug::ForgetVoteOnRestart, rules::ONE_VOTE_PER_TERM);
}

/// Figure 2, AppendEntries rule 5: commit past the last new entry.
#[test]
fn chaos_catches_commit_without_min() {
    chaos_catches(Bug::CommitWithoutMin, rules::COMMIT_ORDER);
}

/// Thesis §4.2.1: learners counted in a quorum make an unelected leader.
#[test]
fn chaos_catches_learner_in_quorum() {
    chaos_catches(Bug::LearnerInQuorum, rules::LEADER_QUORUM);
}

#[test]
fn every_bug_has_a_chaos_test() {
    // Keep this list in step with the tests above when a bug is added.
    let tested = [
        Bug::Figure8,
        Bug::NoUpToDateCheck,
        Bug::PrevoteRaisesTerm,
        Bug::ForgetVoteOnRestart,
        Bug::CommitWithoutMin,
        Bug::LearnerInQuorum,
    ];
    for bug in Bug::ALL {
        assert!(tested.contains(&bug), "{} has no chaos test", bug.name());
    }
}
