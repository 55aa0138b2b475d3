//! The words of every reason the core gives (`crate::why`), in the first
//! person of the server that decided ("my log"): the trace records them so,
//! and `third_person` turns them round for the feed. One telling, so that
//! the trace, the feed, the break-it explanation and the inspector cannot
//! disagree, and a deliberate bug is named wherever it changed a decision.

use std::fmt;

use crate::config::Bug;
use crate::why::{
    CommitCap, CommitWhy, LogCheck, PrevoteTerm, ReadFailure, Refusal, RoleWhy, VoteWhy,
};

/// "deliberate bug NAME is on".
fn bug(b: Bug) -> String {
    format!("deliberate bug {} is on", b.name())
}

/// "S1", "S1 and S2", "S1, S2 and S3".
fn servers(ids: &[u64]) -> String {
    let names: Vec<String> = ids.iter().map(|i| format!("S{i}")).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// What counting learners added, or nothing.
fn learners_counted(learners: &[u64], what: &str) -> String {
    match learners.len() {
        0 => String::new(),
        1 => format!(
            ", counting learner {}'s {what} ({}; thesis §4.2.1)",
            servers(learners),
            bug(Bug::LearnerInQuorum)
        ),
        _ => format!(
            ", counting learners {}' {what}s ({}; thesis §4.2.1)",
            servers(learners),
            bug(Bug::LearnerInQuorum)
        ),
    }
}

impl fmt::Display for RoleWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleWhy::Restarted {
                forgotten_vote: None,
            } => write!(f, "started from persisted state"),
            RoleWhy::Restarted {
                forgotten_vote: Some(v),
            } => write!(
                f,
                "started from persisted state, but without my persisted vote for S{v} ({}; Figure 2)",
                bug(Bug::ForgetVoteOnRestart)
            ),
            RoleWhy::Timeout { forced, prevote } => {
                let what = if *forced {
                    "election timeout forced"
                } else {
                    "election timeout"
                };
                if *prevote {
                    write!(f, "{what}: asking for prevotes first (thesis §9.6)")
                } else {
                    write!(f, "{what}")
                }
            }
            RoleWhy::HandedOver { old } => {
                write!(f, "S{old} handed over leadership (thesis §3.10)")
            }
            RoleWhy::WonPrevote { learners } => write!(
                f,
                "a majority granted prevotes{}",
                learners_counted(learners, "prevote")
            ),
            RoleWhy::Won { learners } => write!(
                f,
                "won the election: a majority granted votes{}",
                learners_counted(learners, "vote")
            ),
            RoleWhy::Lost { prevote: true } => {
                write!(f, "lost the prevote: a majority refused")
            }
            RoleWhy::Lost { prevote: false } => {
                write!(f, "lost the election: a majority refused")
            }
            RoleWhy::HigherTermRequest { from } => {
                write!(f, "S{from} asked for votes in a higher term (§5.1)")
            }
            RoleWhy::PrevoteRaisedTerm { from } => write!(
                f,
                "adopted the term of S{from}'s prevote request ({}; thesis §9.6 says a prevote changes no term)",
                bug(Bug::PrevoteRaisesTerm)
            ),
            RoleWhy::HigherTermAnswer { from, term } => {
                write!(f, "S{from} answered from a higher term, {term} (§5.1)")
            }
            RoleWhy::NewLeader { leader, term } => {
                write!(f, "S{leader} is leader of term {term}")
            }
            RoleWhy::LostQuorum => write!(
                f,
                "CheckQuorum: no majority heard from within an election timeout (thesis §6.2)"
            ),
            RoleWhy::Removed => write!(
                f,
                "removed from the configuration; stepping down now that the change committed (thesis §4.2.2)"
            ),
        }
    }
}

/// The log half of a granted (pre)vote.
fn log_words(log: LogCheck) -> String {
    match log {
        LogCheck::Passed => "its log is at least as up to date as mine (§5.4.1)".into(),
        LogCheck::Skipped { behind: true } => format!(
            "granted without comparing logs ({}): its log is behind mine, so the check of §5.4.1 would have refused",
            bug(Bug::NoUpToDateCheck)
        ),
        LogCheck::Skipped { behind: false } => format!(
            "granted without comparing logs ({}); its log happens to be at least as up to date as mine",
            bug(Bug::NoUpToDateCheck)
        ),
    }
}

impl fmt::Display for VoteWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VoteWhy::PrevoteGranted { log, term } => {
                let term = match term {
                    PrevoteTerm::Above => "my term is unchanged (thesis §9.6)".to_string(),
                    PrevoteTerm::RaisedMine { old } => format!(
                        "I adopted the term it asks for, leaving term {old} ({})",
                        bug(Bug::PrevoteRaisesTerm)
                    ),
                    PrevoteTerm::Unchecked { mine } => format!(
                        "it asks for a term that is not above my term {mine}, which was not checked ({})",
                        bug(Bug::PrevoteRaisesTerm)
                    ),
                };
                write!(f, "{}; {term}", log_words(*log))
            }
            VoteWhy::Granted {
                log,
                again,
                forgotten,
            } => {
                let first = match (again, forgotten) {
                    (true, _) => "I already voted for it in this term, so the answer stays the same (§5.2)".to_string(),
                    (false, Some(v)) => format!(
                        "no vote recorded for this term, because a restart erased my vote for S{v} ({}; Figure 2)",
                        bug(Bug::ForgetVoteOnRestart)
                    ),
                    (false, None) => "first vote of the term (§5.2)".to_string(),
                };
                write!(f, "{first}; {}", log_words(*log))
            }
            VoteWhy::CandidateMismatch { candidate, sender } => write!(
                f,
                "the request names candidate S{candidate} but came from S{sender}"
            ),
            VoteWhy::TermBehind { asked, mine } => {
                write!(f, "it asks for term {asked}, behind my term {mine} (§5.1)")
            }
            VoteWhy::LeaderAlive { leader: None, .. } => write!(
                f,
                "I am the leader and a majority is still with me (thesis §4.2.3)"
            ),
            VoteWhy::LeaderAlive {
                leader: Some(l),
                ticks,
            } => write!(
                f,
                "I heard from leader S{l} {ticks} ms ago (leader stickiness, thesis §4.2.3)"
            ),
            VoteWhy::PrevoteTermNotAbove { asked, mine } => write!(
                f,
                "a prevote must ask for a term above mine, and term {asked} is not above term {mine} (thesis §9.6)"
            ),
            VoteWhy::AlreadyVoted { candidate, term } => {
                write!(f, "I already voted for S{candidate} in term {term} (§5.2)")
            }
            VoteWhy::LogNewerTerm { mine, theirs } => write!(
                f,
                "my log is more up to date: my last entry is of term {mine}, the candidate's of term {theirs} (§5.4.1)"
            ),
            VoteWhy::LogLonger {
                mine,
                theirs,
                term,
            } => write!(
                f,
                "my log is longer: both end in term {term}, mine at index {mine}, the candidate's at index {theirs} (§5.4.1)"
            ),
        }
    }
}

impl fmt::Display for CommitWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommitWhy::Majority {
                entry_term,
                my_term,
                learners,
            } => {
                let counted = learners_counted(learners, "copy");
                if entry_term == my_term {
                    write!(
                        f,
                        "a majority stores it and it is of my term {my_term}{counted} (§5.4.2)"
                    )
                } else {
                    write!(
                        f,
                        "a majority stores it, but it is of term {entry_term}, not my term {my_term}: committed by counting replicas, which §5.4.2 forbids ({}){counted}",
                        bug(Bug::Figure8)
                    )
                }
            }
            CommitWhy::Leader {
                leader_commit,
                last_new,
                cap,
            } => match cap {
                CommitCap::LeaderCommit => {
                    write!(f, "the leader's commit index is {leader_commit} (Figure 2)")
                }
                CommitCap::LastNew => write!(
                    f,
                    "the leader's commit index is {leader_commit}, but my log matches the leader's only up to index {last_new} (Figure 2)"
                ),
                CommitCap::Uncapped => write!(
                    f,
                    "the leader's commit index is {leader_commit}, taken whole although my log matches the leader's only up to index {last_new} ({}; Figure 2 takes the smaller)",
                    bug(Bug::CommitWithoutMin)
                ),
            },
            CommitWhy::Snapshot => write!(f, "the installed snapshot covers it (§7)"),
            CommitWhy::Restarted => write!(f, "my persisted snapshot covers it"),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Misaddressed { from, to, me } => write!(
                f,
                "misaddressed: it goes from S{from} to S{to}, and I am S{me}"
            ),
            Refusal::TransferTimedOut { target } => write!(
                f,
                "leadership transfer to S{target} timed out and was given up (thesis §3.10)"
            ),
            Refusal::StaleVoteAnswer {
                request_term,
                role,
                term,
            } => write!(
                f,
                "a late answer for term {request_term}: I am now {} in term {term}",
                role.as_str()
            ),
            Refusal::StaleLeader { term, mine } => write!(
                f,
                "a stale leader: its term {term} is behind my term {mine} (§5.1)"
            ),
            Refusal::LeaderMismatch { claimed, sender } => write!(
                f,
                "the request names leader S{claimed} but came from S{sender}"
            ),
            Refusal::SameTermLeader { term } => write!(
                f,
                "it claims leadership of term {term}, which is mine: one leader per term (§5.2)"
            ),
            Refusal::MalformedBatch {
                position,
                index,
                term,
                prev,
                leader_term,
            } => write!(
                f,
                "a malformed batch: entry number {} has index {index} and term {term}, which cannot follow index {prev} in a request of term {leader_term}",
                position + 1
            ),
            Refusal::LogMismatch {
                index,
                mine,
                leader,
            } => write!(
                f,
                "my log differs at index {index}: my entry there is of term {mine}, the leader's of term {leader} (§5.3)"
            ),
            Refusal::MissingEntry { index, last } => write!(
                f,
                "no entry at index {index}: my log ends at index {last} (§5.3)"
            ),
            Refusal::WouldOverwriteCommitted { index } => write!(
                f,
                "it would overwrite entry {index}, which is committed (§5.4)"
            ),
            Refusal::CannotTruncate { index } => {
                write!(f, "my log store could not delete from index {index}")
            }
            Refusal::CannotAppend { index } => {
                write!(f, "my log store could not append entry {index}")
            }
            Refusal::StaleAnswer => {
                write!(f, "a late answer: I am no longer the leader of the term it answers")
            }
            Refusal::NotMember { id } => write!(f, "S{id} is not a member"),
            Refusal::StaleToken { token, acked } => write!(
                f,
                "a late answer to request {token}: request {acked} is already answered"
            ),
            Refusal::SnapshotNotFromLeader => {
                write!(f, "the sender is not the leader of this term")
            }
            Refusal::SnapshotNotNewer { index, commit } => write!(
                f,
                "the snapshot ends at index {index}, no newer than my commit index {commit} (§7)"
            ),
            Refusal::SnapshotUnusable { detail } => {
                write!(f, "the snapshot cannot be installed: {detail}")
            }
            Refusal::ChunkOffset { got, expected } => write!(
                f,
                "a chunk at offset {got}, but the offset expected next is {expected}"
            ),
            Refusal::ChunkSize => write!(f, "the chunk's block size differs from its data's length"),
            Refusal::NoSnapshotTransfer => write!(f, "no snapshot transfer is in progress"),
            Refusal::OffsetPastEnd { offset } => {
                write!(f, "offset {offset} is past the snapshot's end")
            }
        }
    }
}

impl fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadFailure::SteppedDown => write!(
                f,
                "the leader stepped down before a majority confirmed the read (thesis §6.4)"
            ),
        }
    }
}
