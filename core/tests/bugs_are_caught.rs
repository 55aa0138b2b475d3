//! Every deliberate bug is caught: each `Bug` has a paper scenario that
//! passes on the correct core and fails with that bug switched on. This is
//! what shows the tests (and the teaching bugs) are real.

mod common;

use common::scenarios;
use raftlab_core::{Bug, Bugs};

type Scenario = fn(&Bugs) -> Result<(), String>;

/// Which scenario catches which bug.
const CATCHERS: &[(Bug, Scenario)] = &[
    (Bug::Figure8, scenarios::figure8),
    (Bug::NoUpToDateCheck, scenarios::up_to_date_check),
    (Bug::PrevoteRaisesTerm, scenarios::prevote_keeps_terms),
    (Bug::ForgetVoteOnRestart, scenarios::vote_survives_restart),
    (
        Bug::CommitWithoutMin,
        scenarios::commit_is_min_of_leader_commit_and_last_new,
    ),
    (Bug::LearnerInQuorum, scenarios::learners_do_not_count),
];

/// Runs `bug`'s scenario without and with the bug.
fn caught(bug: Bug) {
    let (_, scenario) = CATCHERS
        .iter()
        .find(|(b, _)| *b == bug)
        .unwrap_or_else(|| panic!("no scenario for {}", bug.name()));
    if let Err(why) = scenario(&Bugs::none()) {
        panic!(
            "the correct core fails the scenario for {}: {why}",
            bug.name()
        );
    }
    match scenario(&Bugs(vec![bug])) {
        Ok(()) => panic!("bug {} went unnoticed", bug.name()),
        Err(why) => eprintln!("{} caught: {why}", bug.name()),
    }
}

/// §5.4.2, Figure 8.
#[test]
fn figure8_bug_is_caught_by_the_figure8_scenario() {
    caught(Bug::Figure8);
}

/// §5.4.1.
#[test]
fn no_up_to_date_check_bug_is_caught_by_leader_completeness() {
    caught(Bug::NoUpToDateCheck);
}

/// Thesis §9.6.
#[test]
fn prevote_raises_term_bug_is_caught_by_the_prevote_scenario() {
    caught(Bug::PrevoteRaisesTerm);
}

/// Figure 2, persistent `votedFor`.
#[test]
fn forget_vote_on_restart_bug_is_caught_by_one_vote_per_term() {
    caught(Bug::ForgetVoteOnRestart);
}

/// Figure 2, AppendEntries rule 5.
#[test]
fn commit_without_min_bug_is_caught_by_the_follower_commit_rule() {
    caught(Bug::CommitWithoutMin);
}

/// Thesis §4.2.1.
#[test]
fn learner_in_quorum_bug_is_caught_by_the_learner_scenario() {
    caught(Bug::LearnerInQuorum);
}

#[test]
fn every_deliberate_bug_has_a_scenario_that_catches_it() {
    for bug in Bug::ALL {
        assert!(
            CATCHERS.iter().any(|(b, _)| *b == bug),
            "{} has no catching scenario",
            bug.name()
        );
    }
    assert_eq!(CATCHERS.len(), Bug::ALL.len(), "one scenario per bug");
}

#[test]
fn each_scenario_is_specific_to_its_bug() {
    // A scenario that failed with every bug would prove nothing about the
    // pairing above: each must pass with any other single bug on.
    for &(bug, scenario) in CATCHERS {
        for other in Bug::ALL {
            if other != bug {
                if let Err(why) = scenario(&Bugs(vec![other])) {
                    panic!(
                        "{}'s scenario fails with {}: {why}",
                        bug.name(),
                        other.name()
                    );
                }
            }
        }
    }
}
