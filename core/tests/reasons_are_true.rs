//! Every reason a server gives is the reason it acted on. Each deliberate
//! bug is run (random faults, as the page's break-it hunt does) until the
//! checker's first violation, and every event up to it is audited against
//! the facts the trace itself records: a vote that says the candidate's log
//! is at least as up to date must be given to a log that is (§5.4.1); a
//! prevote that says the voter's term is unchanged must leave it unchanged
//! (thesis §9.6); a "first vote of the term" must be the first (§5.2); a
//! leader that says it committed an entry of its own term must have done so
//! (§5.4.2); a follower's commit must lie within its log unless it says
//! that the bug took the leader's commit whole (Figure 2). Where a bug made
//! the decision, the reason must name the bug. The same audit runs on the
//! feed's sentence for each event (the page's feed, the break-it panel's
//! quotes, `raftlab replay --narrate`), which is built from the same
//! reason.

use std::collections::{BTreeMap, BTreeSet};

use raftlab_core::sim::chaos::{nodes_for_seed, standard_setup, Chaos};
use raftlab_core::sim::{Action, Sim};
use raftlab_core::trace::describe::Narrator;
use raftlab_core::trace::{EventKind, SendBody, TraceEvent};
use raftlab_core::types::{MessageBody, NodeId, Role, Term};
use raftlab_core::Bug;

/// Chaos seeds with `bugs` until one breaks a rule, as the break-it hunt
/// does (10 s of faults per seed).
fn first_violating_run(bugs: &[Bug], max_seeds: u64) -> Option<(u64, Sim)> {
    for seed in 1..=max_seeds {
        let (cfg, opts) = standard_setup(seed, bugs);
        let nodes = nodes_for_seed(seed, 3, 7);
        let mut sim = Sim::new(seed, nodes, cfg).expect("a valid setup");
        let mut chaos = Chaos::new(seed, opts);
        chaos.drive(&mut sim, 10_000);
        if !sim.violations().is_empty() {
            return Some((seed, sim));
        }
    }
    None
}

/// What the trace says about one node so far.
#[derive(Default, Clone)]
struct NodeFacts {
    /// Index → term of the entries it holds after its snapshot.
    log: BTreeMap<u64, Term>,
    /// Its snapshot's (index, term).
    snapshot: (u64, Term),
    /// Its current term and role.
    term: Term,
    role: Option<Role>,
    /// Its configuration's voters (incoming and outgoing).
    voters: BTreeSet<NodeId>,
    outgoing: BTreeSet<NodeId>,
    /// Real votes it granted: term → candidate.
    voted: BTreeMap<Term, NodeId>,
    /// As leader: the highest index each follower acknowledged this term.
    acked: BTreeMap<NodeId, u64>,
}

impl NodeFacts {
    fn last(&self) -> (u64, Term) {
        self.log
            .iter()
            .next_back()
            .map(|(&i, &t)| (i, t))
            .unwrap_or(self.snapshot)
    }
    fn term_at(&self, index: u64) -> Option<Term> {
        if index == self.snapshot.0 {
            return Some(self.snapshot.1);
        }
        self.log.get(&index).copied()
    }
}

/// One broken promise: the event, the sentence, and what it got wrong.
struct Lie {
    seq: u64,
    said: String,
    fact: String,
}

/// The first few lies, one per line.
fn told(lies: &[Lie]) -> String {
    lies.iter()
        .take(3)
        .map(|l| format!("#{}: {:?}, but {}", l.seq, l.said, l.fact))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The claims a reason (trace or feed, first or third person) can make.
struct Claims<'a>(&'a str);

impl Claims<'_> {
    fn names(&self, bug: Bug) -> bool {
        self.0.contains(&format!("deliberate bug {}", bug.name()))
    }
    fn log_check_passed(&self) -> bool {
        self.0.contains("log is at least as up to date") && !self.0.contains("happens to")
    }
    fn log_refused(&self) -> bool {
        self.0.contains("log is more up to date") || self.0.contains("log is longer")
    }
    fn term_unchanged(&self) -> bool {
        self.0.contains("term is unchanged")
    }
    fn first_vote(&self) -> bool {
        self.0.contains("first vote of the term")
    }
    fn own_term(&self) -> bool {
        self.0.contains("it is of") && self.0.contains("term") && !self.names(Bug::Figure8)
    }
    fn majority(&self) -> bool {
        self.0.contains("a majority")
    }
}

fn up_to_date(cand: (u64, Term), voter: (u64, Term)) -> bool {
    cand.1 > voter.1 || (cand.1 == voter.1 && cand.0 >= voter.0)
}

fn majority_of(set: &BTreeSet<NodeId>, has: impl Fn(NodeId) -> bool) -> bool {
    set.is_empty() || set.iter().filter(|&&id| has(id)).count() * 2 > set.len()
}

/// Audits the events up to and including `until_seq`, and the rest of its
/// millisecond (the answers given in the same step as the violation):
/// each event's trace reason, and the feed's sentence for it.
fn audit(events: &[TraceEvent], until_seq: u64) -> (Vec<Lie>, usize) {
    let until_time = events
        .iter()
        .find(|e| e.seq >= until_seq)
        .map_or(u64::MAX, |e| e.time);
    let mut nodes: BTreeMap<NodeId, NodeFacts> = BTreeMap::new();
    let mut sends: BTreeMap<u64, (NodeId, NodeId, MessageBody)> = BTreeMap::new();
    let mut last_delivered: BTreeMap<NodeId, u64> = BTreeMap::new();
    let mut narrator = Narrator::new();
    let mut lies = Vec::new();
    let mut checked = 0;
    for e in events
        .iter()
        .take_while(|e| e.seq <= until_seq || e.time == until_time)
    {
        let feed = narrator.tell(e).1;
        let mut judge = |said: &str, facts: &[(bool, String)]| {
            for (broken, fact) in facts {
                if *broken {
                    lies.push(Lie {
                        seq: e.seq,
                        said: said.to_string(),
                        fact: fact.clone(),
                    });
                }
            }
        };
        match &e.kind {
            EventKind::Send {
                id,
                from,
                to,
                body: SendBody::Message(b),
                ..
            } => {
                sends.insert(*id, (*from, *to, b.clone()));
            }
            EventKind::Deliver { id, .. } => {
                if let Some((from, to, body)) = sends.get(id).cloned() {
                    last_delivered.insert(to, *id);
                    let leader = nodes.entry(to).or_default();
                    if leader.role == Some(Role::Leader) {
                        match &body {
                            MessageBody::AppendEntriesResp(r)
                                if r.success && r.term == leader.term =>
                            {
                                let a = leader.acked.entry(from).or_default();
                                *a = (*a).max(r.curr_index);
                            }
                            MessageBody::SnapshotResp(r)
                                if r.success && r.is_last_chunk && r.term == leader.term =>
                            {
                                // The snapshot's index is in the request.
                                let idx = sends.values().rev().find_map(|(f, t, b)| match b {
                                    MessageBody::Snapshot(s) if *f == to && *t == from => {
                                        Some(s.snapshot_index)
                                    }
                                    _ => None,
                                });
                                if let Some(i) = idx {
                                    let a = leader.acked.entry(from).or_default();
                                    *a = (*a).max(i);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            EventKind::Role {
                node, role, term, ..
            } => {
                let n = nodes.entry(*node).or_default();
                if *role != Role::Leader || n.term != *term {
                    n.acked.clear();
                }
                n.term = *term;
                n.role = Some(*role);
                if *role == Role::Candidate {
                    // A candidate votes for itself (§5.2), with no event.
                    n.voted.insert(*term, *node);
                }
            }
            EventKind::Append {
                node, index, term, ..
            } => {
                nodes.entry(*node).or_default().log.insert(*index, *term);
            }
            EventKind::Truncate { node, from } => {
                nodes.entry(*node).or_default().log.split_off(from);
            }
            EventKind::Snapshot {
                node, index, term, ..
            } => {
                let n = nodes.entry(*node).or_default();
                n.snapshot = (*index, *term);
                n.log = n.log.split_off(&(index + 1));
            }
            EventKind::Config {
                node,
                voters,
                outgoing,
                ..
            } => {
                let n = nodes.entry(*node).or_default();
                n.voters = voters.clone();
                n.outgoing = outgoing.clone();
            }
            EventKind::Vote {
                node,
                candidate,
                term,
                prevote,
                granted,
                reason,
            } => {
                let voter = nodes.get(node).cloned().unwrap_or_default();
                let request = last_delivered
                    .get(node)
                    .and_then(|id| sends.get(id))
                    .and_then(|(from, _, b)| match b {
                        MessageBody::RequestVote(r)
                            if from == candidate && r.term == *term && r.prevote == *prevote =>
                        {
                            Some((r.last_log_idx, r.last_log_term))
                        }
                        _ => None,
                    });
                let Some(cand) = request else { continue };
                checked += 1;
                let ok = up_to_date(cand, voter.last());
                let reason = reason.clone().unwrap_or_default();
                for said in [reason.as_str(), feed.as_str()] {
                    let c = Claims(said);
                    let mut facts = vec![
                        (
                            *granted && c.log_check_passed() && !ok,
                            format!(
                                "the candidate's log ends at {:?}, behind the voter's {:?}",
                                cand,
                                voter.last()
                            ),
                        ),
                        (
                            *granted && !ok && !c.names(Bug::NoUpToDateCheck),
                            "granted to a log that is behind without naming the bug that skipped the check".into(),
                        ),
                        (
                            !*granted && c.log_refused() && ok,
                            "refused for its log although the candidate's is up to date".into(),
                        ),
                    ];
                    if *prevote && *granted {
                        let now = nodes.get(node).map_or(0, |n| n.term);
                        facts.push((
                            c.term_unchanged() && now >= *term,
                            format!("its term is {now}, not below the {term} asked for"),
                        ));
                    }
                    if !*prevote && *granted {
                        let earlier = voter.voted.get(term).filter(|&&v| v != *candidate);
                        facts.push((
                            c.first_vote() && earlier.is_some(),
                            format!("it already voted for {earlier:?} in term {term}"),
                        ));
                        facts.push((
                            earlier.is_some() && !c.names(Bug::ForgetVoteOnRestart),
                            "a second vote in a term without naming the bug".into(),
                        ));
                    }
                    judge(said, &facts);
                }
                if !*prevote && *granted {
                    nodes
                        .entry(*node)
                        .or_default()
                        .voted
                        .insert(*term, *candidate);
                }
            }
            EventKind::Commit {
                node,
                index,
                reason,
            } => {
                let n = nodes.get(node).cloned().unwrap_or_default();
                let reason = reason.clone().unwrap_or_default();
                checked += 1;
                for said in [reason.as_str(), feed.as_str()] {
                    let c = Claims(said);
                    let mut facts = Vec::new();
                    if n.role == Some(Role::Leader) {
                        let entry_term = n.term_at(*index);
                        facts.push((
                            c.own_term() && entry_term != Some(n.term),
                            format!(
                                "entry {index} is of term {entry_term:?}, the leader's is {}",
                                n.term
                            ),
                        ));
                        facts.push((
                            entry_term != Some(n.term) && !c.names(Bug::Figure8),
                            "an older-term entry committed by counting without naming the bug"
                                .into(),
                        ));
                        let stored = |id: NodeId| {
                            id == *node || n.acked.get(&id).is_some_and(|&a| a >= *index)
                        };
                        let real =
                            majority_of(&n.voters, stored) && majority_of(&n.outgoing, stored);
                        facts.push((
                            c.majority() && !real && !c.names(Bug::LearnerInQuorum),
                            format!("no majority of voters {:?} acknowledged {index}", n.voters),
                        ));
                    } else {
                        let (last, _) = n.last();
                        facts.push((
                            *index > last && !c.names(Bug::CommitWithoutMin),
                            format!(
                                "commit {index} past its last entry {last} without naming the bug"
                            ),
                        ));
                    }
                    judge(said, &facts);
                }
            }
            _ => {}
        }
    }
    (lies, checked)
}

/// Runs `bug` to its first violation and audits every reason up to it.
fn reasons_stay_true_under(bug: Bug) {
    let (seed, sim) = first_violating_run(&[bug], 60)
        .unwrap_or_else(|| panic!("no chaos seed in 60 breaks a rule with {}", bug.name()));
    let v = &sim.violations()[0];
    let (lies, checked) = audit(sim.events(), v.seq);
    assert!(checked > 0, "seed {seed}: nothing audited");
    assert!(
        lies.is_empty(),
        "{} (seed {seed}, first violation {} at #{}): {} reasons contradict the trace, e.g.\n{}",
        bug.name(),
        v.rule,
        v.seq,
        lies.len(),
        told(&lies)
    );
    // The break-it panel quotes the feed for the violation's own and
    // related events: none of them may claim a check the bug skipped.
    let mut narrator = Narrator::new();
    let quoted: BTreeSet<u64> = v.related.iter().copied().chain([v.seq]).collect();
    for e in sim.events().iter().take_while(|e| e.seq <= v.seq) {
        let line = narrator.tell(e).1;
        if quoted.contains(&e.seq) && bug == Bug::NoUpToDateCheck {
            if let EventKind::Vote { granted: true, .. } = e.kind {
                assert!(
                    !Claims(&line).log_check_passed(),
                    "the break-it panel would quote {line:?}"
                );
            }
        }
    }
}

#[test]
fn vote_reasons_under_no_up_to_date_check_say_the_log_was_not_compared() {
    reasons_stay_true_under(Bug::NoUpToDateCheck);
}

#[test]
fn reasons_under_figure8_say_an_older_term_entry_was_committed_by_counting() {
    reasons_stay_true_under(Bug::Figure8);
}

#[test]
fn reasons_under_prevote_raises_term_say_the_term_was_raised() {
    reasons_stay_true_under(Bug::PrevoteRaisesTerm);
}

#[test]
fn reasons_under_forget_vote_on_restart_say_a_vote_was_lost() {
    reasons_stay_true_under(Bug::ForgetVoteOnRestart);
}

#[test]
fn reasons_under_commit_without_min_say_the_leader_commit_was_taken_whole() {
    reasons_stay_true_under(Bug::CommitWithoutMin);
}

#[test]
fn reasons_under_learner_in_quorum_say_learners_were_counted() {
    reasons_stay_true_under(Bug::LearnerInQuorum);
}

#[test]
fn reasons_on_the_correct_core_are_true_for_a_whole_chaos_run() {
    let (cfg, opts) = standard_setup(7, &[]);
    let mut sim = Sim::new(7, 5, cfg).unwrap();
    Chaos::new(7, opts).drive(&mut sim, 10_000);
    let (lies, checked) = audit(sim.events(), u64::MAX);
    assert!(checked > 100, "only {checked} events audited");
    assert!(lies.is_empty(), "{}", told(&lies));
}

/// A rejection a timer makes (a leadership transfer to a crashed server
/// timing out, thesis §3.10) is no delivery's outcome: before the fix it
/// was pinned on whatever message had been delivered last, so the feed
/// and the inspector told of an "append ok" that was refused.
#[test]
fn a_transfer_that_times_out_is_not_pinned_on_an_unrelated_delivery() {
    let mut sim = Sim::new(7, 3, raftlab_core::sim::SimConfig::default()).unwrap();
    sim.run_until(2_000);
    let leader = sim.leader().expect("a leader after 2 s");
    let follower = (1..=3).find(|&n| n != leader).unwrap();
    sim.act(Action::Crash { node: follower }).unwrap();
    sim.act(Action::Transfer { to: follower }).unwrap();
    sim.run_until(3_000);
    let mut narrator = Narrator::new();
    for e in sim.events() {
        let line = narrator.tell(e).1;
        if let EventKind::Deliver {
            outcome: Some(o), ..
        } = &e.kind
        {
            assert!(!o.contains("transfer"), "#{}: {line}", e.seq);
        }
    }
}

#[test]
fn every_deliberate_bug_has_its_reasons_audited() {
    // One test above per bug; a new bug must get its own.
    let audited = [
        Bug::NoUpToDateCheck,
        Bug::Figure8,
        Bug::PrevoteRaisesTerm,
        Bug::ForgetVoteOnRestart,
        Bug::CommitWithoutMin,
        Bug::LearnerInQuorum,
    ];
    for bug in Bug::ALL {
        assert!(audited.contains(&bug), "{} is not audited", bug.name());
    }
}
