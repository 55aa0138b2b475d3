//! What each lesson's narration claims is what its own file produces: every
//! lesson here is played through `LessonRun`, the runner the page uses, and
//! the claim is checked on the trace and the servers at the step that makes
//! it. A lesson whose seed, settings or script drift away from its text fails
//! here instead of teaching something false.

mod common;

use std::collections::BTreeSet;

use common::lessons::{load, Played};
use raftlab_core::lesson::{Lesson, LessonRun, StepStatus};
use raftlab_core::sim::{Action, Sim};
use raftlab_core::trace::{ClientPhase, EventKind, TraceEvent};
use raftlab_core::{EntryKind, KvOp, NodeId, Role, Storage};

impl Played {
    /// The events from the end of step `n - 1` to the end of step `n`:
    /// `step(n)` and, before it, the events of step `n`'s own actions,
    /// which run before this file's `play_with` counts the step (a
    /// restart, say).
    fn with_actions(&self, n: usize) -> Vec<&TraceEvent> {
        let (after, upto) = (self.steps[n - 2].1, self.steps[n - 1].1);
        self.sim
            .events()
            .iter()
            .filter(|e| e.seq > after && e.seq <= upto)
            .collect()
    }
}

/// Plays `lesson` step by step as the page does (without checking the
/// questions: a variant of a lesson may show a different answer), calling
/// `at_end(n, sim)` when step `n` (from 1) completes.
fn play_with(lesson: Lesson, mut at_end: impl FnMut(usize, &Sim)) -> Played {
    let id = lesson.id.clone();
    let (mut run, mut sim) = LessonRun::new(lesson).expect("the lesson starts");
    let mut steps = Vec::new();
    let mut status = run.poll(&sim);
    while let Some(step) = run.current_step().cloned() {
        let began = sim.position();
        if status == StepStatus::Waiting {
            status = run.drive(&mut sim, run.step_began_at() + step.max_ms);
        }
        assert_eq!(
            status,
            StepStatus::Done,
            "{id}, step {}",
            run.step_index() + 1
        );
        steps.push((began, sim.position()));
        at_end(steps.len(), &sim);
        status = run.advance(&mut sim);
    }
    Played { sim, steps }
}

fn play(file: &str) -> Played {
    play_with(load(file), |_, _| {})
}

fn role_changes(events: &[&TraceEvent]) -> Vec<(NodeId, Role, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Role {
                node, role, term, ..
            } => Some((*node, *role, *term)),
            _ => None,
        })
        .collect()
}

fn term_of(sim: &Sim, id: NodeId) -> u64 {
    sim.server(id).expect("running").current_term()
}

// ----- lessons 8 and 9: PreVote -----

#[test]
fn prevote_lessons_play_one_script_with_only_prevote_switched() {
    let off = load("08-prevote-off.json");
    let on = load("09-prevote-on.json");
    assert!(!off.setup.config.prevote && on.setup.config.prevote);
    assert!(
        !off.setup.config.check_quorum && !on.setup.config.check_quorum,
        "both lessons say CheckQuorum is off"
    );
    assert_eq!(off.setup.seed, on.setup.seed);
    let actions = |l: &Lesson| {
        l.steps
            .iter()
            .map(|s| format!("{:?}", s.actions))
            .collect::<Vec<_>>()
    };
    assert_eq!(actions(&off), actions(&on));
}

#[test]
fn prevote_on_the_leader_is_never_disturbed_when_s5_comes_back() {
    let played = play("09-prevote-on.json");
    // Step 2: S5 stays in term 1 while alone; step 3: after the heal.
    for n in [2, 3] {
        let changes = role_changes(&played.step(n));
        assert!(
            changes.iter().all(|&(_, _, term)| term == 1),
            "step {n}: no term moves: {changes:?}"
        );
        assert!(
            !changes
                .iter()
                .any(|&(node, role, _)| node == 2 || role == Role::Leader),
            "step {n}: S2 keeps leading, nobody else leads: {changes:?}"
        );
    }
    // Step 3: S5 goes back to following S2 in term 1, as the text says.
    assert!(role_changes(&played.step(3)).contains(&(5, Role::Follower, 1)));
    assert_eq!(played.sim.leader(), Some(2));
    assert_eq!(term_of(&played.sim, 2), 1);
}

/// Lesson 9 with one more action right after the heal: S5 stops hearing
/// S2 (the link S2 -> S5 is cut), so its election timer expires while the
/// others still hear S2's heartbeats.
fn prevote_on_with_s5_deaf_to_the_leader(check_quorum: bool) -> Played {
    let mut lesson = load("09-prevote-on.json");
    lesson.setup.config.check_quorum = check_quorum;
    lesson.steps[2]
        .actions
        .push(raftlab_core::lesson::StepAction {
            after_ms: 0,
            action: Action::Cut { from: 2, to: 5 },
        });
    play_with(lesson, |_, _| {})
}

/// When did `node` last receive an AppendEntries from `leader` before `seq`?
fn last_heard(sim: &Sim, node: NodeId, leader: NodeId, seq: u64) -> Option<u64> {
    let sends: BTreeSet<u64> = sim
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Send {
                id, from, to, msg, ..
            } if *from == leader && *to == node && msg == "append_entries" => Some(*id),
            _ => None,
        })
        .collect();
    sim.events()
        .iter()
        .rev()
        .filter(|e| e.seq < seq)
        .find_map(|e| match &e.kind {
            EventKind::Deliver { id, .. } if sends.contains(id) => Some(e.time),
            _ => None,
        })
}

#[test]
fn with_check_quorum_off_followers_that_hear_the_leader_still_grant_s5_a_prevote() {
    // The caveat of lesson 9, step 3: PreVote alone does not protect the
    // leader; the leader-contact half of thesis §9.6 comes with CheckQuorum.
    let played = prevote_on_with_s5_deaf_to_the_leader(false);
    let sim = &played.sim;
    let min_timeout = sim.config().election_timeout_ms[0];
    let step3 = played.step(3);
    let fresh_grants: Vec<NodeId> = step3
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Vote {
                node,
                candidate: 5,
                prevote: true,
                granted: true,
                ..
            } if *node != 2
                && last_heard(sim, *node, 2, e.seq).is_some_and(|t| e.time - t < min_timeout) =>
            {
                Some(*node)
            }
            _ => None,
        })
        .collect();
    assert!(
        !fresh_grants.is_empty(),
        "a follower that heard S2 within the minimum election timeout granted S5 a prevote"
    );
    let changes = role_changes(&step3);
    assert!(
        changes.contains(&(5, Role::Candidate, 2)),
        "S5 starts a real election in term 2: {changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|&(node, role, term)| node == 2 && role == Role::Follower && term >= 2),
        "S2 is deposed: {changes:?}"
    );
}

#[test]
fn with_check_quorum_on_the_same_s5_cannot_disturb_the_leader() {
    let played = prevote_on_with_s5_deaf_to_the_leader(true);
    let step3 = played.step(3);
    let asked = step3
        .iter()
        .filter(|e| {
            matches!(
                &e.kind,
                EventKind::Vote {
                    candidate: 5,
                    prevote: true,
                    ..
                }
            )
        })
        .count();
    assert!(asked > 0, "S5 did ask for prevotes");
    assert!(
        !step3.iter().any(|e| matches!(
            &e.kind,
            EventKind::Vote {
                candidate: 5,
                granted: true,
                ..
            }
        )),
        "nobody who hears S2 grants S5 anything"
    );
    let changes = role_changes(&step3);
    assert!(
        changes
            .iter()
            .all(|&(node, _, term)| node != 2 && term == 1),
        "{changes:?}"
    );
    assert_eq!(played.sim.leader(), Some(2));
}

// ----- lesson 10: membership -----

/// Whether some majority of `old` and some majority of `new` share no
/// server: then the two configurations could elect two leaders at once.
fn disjoint_majorities(old: &BTreeSet<NodeId>, new: &BTreeSet<NodeId>) -> bool {
    let all: Vec<NodeId> = old.union(new).copied().collect();
    let subsets = |of: &BTreeSet<NodeId>| -> Vec<u32> {
        (0u32..1 << all.len())
            .filter(|m| {
                let members: Vec<NodeId> = (0..all.len())
                    .filter(|i| m & (1 << i) != 0)
                    .map(|i| all[i])
                    .collect();
                members.iter().all(|n| of.contains(n)) && members.len() * 2 > of.len()
            })
            .collect()
    };
    let (a, b) = (subsets(old), subsets(new));
    a.iter().any(|x| b.iter().any(|y| x & y == 0))
}

#[test]
fn disjoint_majorities_are_found_exactly_where_they_exist() {
    let set = |v: &[NodeId]| v.iter().copied().collect::<BTreeSet<_>>();
    // The counter-example: every 3-of-4 majorities share a server.
    assert!(!disjoint_majorities(
        &set(&[1, 2, 3, 4]),
        &set(&[2, 3, 4, 5])
    ));
    // The paper's Figure 10: 3 -> 5 servers at once.
    assert!(disjoint_majorities(
        &set(&[1, 2, 3]),
        &set(&[1, 2, 3, 4, 5])
    ));
    // A swap in a three-server cluster.
    assert!(disjoint_majorities(&set(&[1, 2, 3]), &set(&[2, 3, 4])));
    // One server at a time, either way.
    assert!(!disjoint_majorities(&set(&[1, 2, 3]), &set(&[1, 2, 3, 4])));
    assert!(!disjoint_majorities(&set(&[3, 4, 5, 6]), &set(&[4, 5, 6])));
}

type Conf = (BTreeSet<NodeId>, BTreeSet<NodeId>, BTreeSet<NodeId>);

fn conf(voters: &[NodeId], learners: &[NodeId], outgoing: &[NodeId]) -> Conf {
    let set = |v: &[NodeId]| v.iter().copied().collect::<BTreeSet<_>>();
    (set(voters), set(learners), set(outgoing))
}

#[test]
fn membership_goes_through_the_configurations_its_text_names_in_order() {
    let mut caught_up = Vec::new();
    let played = play_with(load("10-membership.json"), |n, sim| {
        // Steps 2 and 4 add learners; the next step says they caught up.
        if n == 2 || n == 4 {
            let leader = sim.server(3).expect("S3 leads");
            assert_eq!(leader.state(), Role::Leader, "step {n}");
            let learners: &[NodeId] = if n == 2 { &[4] } else { &[5, 6] };
            for &l in learners {
                let s = sim.server(l).expect("the learner runs");
                caught_up.push((n, l, s.log().last_index() == leader.log().last_index()));
            }
        }
    });
    assert!(
        caught_up.iter().all(|&(_, _, ok)| ok),
        "a learner is promoted only once its log is as long as the leader's: {caught_up:?}"
    );
    // Configurations in the order they first appear, step by step, after
    // the starting one (which new servers also boot with).
    let mut seen: Vec<Conf> = vec![conf(&[1, 2, 3], &[], &[])];
    let mut by_step: Vec<Vec<Conf>> = Vec::new();
    for n in 1..=played.steps.len() {
        let mut new = Vec::new();
        for e in played.step(n) {
            if let EventKind::Config {
                voters,
                learners,
                outgoing,
                ..
            } = &e.kind
            {
                let c = (voters.clone(), learners.clone(), outgoing.clone());
                if !seen.contains(&c) {
                    seen.push(c.clone());
                    new.push(c);
                }
            }
        }
        by_step.push(new);
    }
    let expected: Vec<Vec<Conf>> = vec![
        vec![],
        vec![conf(&[1, 2, 3], &[4], &[])],
        vec![conf(&[1, 2, 3, 4], &[], &[])],
        vec![
            conf(&[1, 2, 3, 4], &[5], &[]),
            conf(&[1, 2, 3, 4], &[5, 6], &[]),
        ],
        vec![
            conf(&[3, 4, 5, 6], &[], &[1, 2, 3, 4]),
            conf(&[3, 4, 5, 6], &[], &[]),
        ],
        vec![conf(&[4, 5, 6], &[], &[])],
    ];
    assert_eq!(by_step, expected);
    // The single-server changes (steps 3 and 6) are safe by overlap; the
    // change made with joint consensus (step 5) would not be, done directly.
    let voters = |c: &Conf| c.0.clone();
    let v = |s: &[NodeId]| s.iter().copied().collect::<BTreeSet<_>>();
    assert!(!disjoint_majorities(
        &v(&[1, 2, 3]),
        &voters(&expected[2][0])
    ));
    assert!(!disjoint_majorities(
        &v(&[3, 4, 5, 6]),
        &voters(&expected[5][0])
    ));
    assert!(disjoint_majorities(
        &voters(&expected[3][1]),
        &voters(&expected[4][1])
    ));
    // S3, the leader removed in step 6, steps down and another server leads.
    let changes = role_changes(&played.step(6));
    assert!(changes
        .iter()
        .any(|&(n, r, _)| n == 3 && r == Role::Follower));
    assert!(matches!(played.sim.leader(), Some(4..=6)));
}

// ----- lesson 12: ReadIndex -----

fn client_event(e: &TraceEvent, id: u64, op: KvOp, phase: ClientPhase) -> bool {
    matches!(&e.kind, EventKind::Client { client, op: o, phase: p, .. }
        if *client == id && *o == op && *p == phase)
}

#[test]
fn read_index_is_served_after_the_noop_commits_and_the_read_index_is_applied() {
    let played = play("12-read-index.json");
    let events: Vec<&TraceEvent> = played.sim.events().iter().collect();
    let find = |pred: &dyn Fn(&TraceEvent) -> bool| {
        events
            .iter()
            .find(|e| pred(e))
            .map(|e| e.seq)
            .expect("the event happens")
    };
    // Linearizability, not read-your-writes: client 2's write completes
    // before client 4, another client, begins its read.
    let write_done = find(&|e| client_event(e, 2, KvOp::Put, ClientPhase::Ok));
    let read_begins = find(&|e| client_event(e, 4, KvOp::Get, ClientPhase::Invoke));
    assert!(write_done < read_begins);
    // Step 4: the stale leader S1 never answers.
    assert!(!played
        .step(4)
        .iter()
        .any(|e| client_event(e, 4, KvOp::Get, ClientPhase::Ok)));
    // Step 5: the read is answered, with the write's value, by S3...
    let served = played
        .step(5)
        .into_iter()
        .find(|e| client_event(e, 4, KvOp::Get, ClientPhase::Ok))
        .expect("the read is answered in step 5");
    assert!(matches!(&served.kind,
        EventKind::Client { result: Some(Some(v)), .. } if v == "2"));
    assert_eq!(played.sim.leader(), Some(3));
    // ... only after its no-op of term 2 committed (thesis §6.4, step 1) ...
    let noop = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Append {
                node: 3,
                index,
                term: 2,
                kind: EntryKind::NoOp,
                ..
            } => Some(*index),
            _ => None,
        })
        .expect("S3 appends a no-op in term 2");
    assert!(events.iter().any(|e| e.seq < served.seq
        && matches!(&e.kind, EventKind::Commit { node: 3, index, .. } if *index >= noop)));
    // ... and after it applied the write, which the read index covers
    // (it was committed before the read began; steps 2 and 4).
    let write_index = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Append {
                node: 3,
                index,
                term: 2,
                kind: EntryKind::Normal,
                data,
            } if data.contains('2') => Some(*index),
            _ => None,
        })
        .expect("S3 appends x = 2");
    assert!(write_index > noop);
    assert!(events.iter().any(|e| e.seq < served.seq
        && matches!(&e.kind, EventKind::Apply { node: 3, index, .. } if *index == write_index)));
}

// ----- lesson 13: crash and recovery -----

#[test]
fn crash_recovery_keeps_the_snapshot_term_vote_and_log_but_not_the_commit_index() {
    type Disk = (u64, NodeId, Option<(u64, u64)>, u64, u64);
    let mut before: Option<Disk> = None;
    let mut after: Option<Disk> = None;
    let disk = |sim: &Sim| -> Disk {
        let s = sim.server(2).expect("S2 runs");
        (
            s.current_term(),
            s.voted_for(),
            s.storage()
                .load_snapshot()
                .map(|snap| (snap.index, snap.term)),
            s.log().last_index(),
            s.commit_idx(),
        )
    };
    play_with(load("13-crash-recovery.json"), |n, sim| match n {
        2 => {
            before = Some(disk(sim));
            let s = sim.server(2).expect("S2 runs");
            assert_eq!(s.log().first_index(), 3, "entries 1 and 2 left S2's log");
        }
        3 => assert!(sim.server(2).is_none(), "S2 is down in step 3"),
        4 => after = Some(disk(sim)),
        _ => {}
    });
    let (before, after) = (before.unwrap(), after.unwrap());
    // The text's numbers: snapshot at index 2, entry 3 in the log.
    assert_eq!(
        before.2.map(|s| s.0),
        Some(2),
        "S2's snapshot covers index 2"
    );
    assert_eq!(before.3, 3);
    assert_eq!(before.4, 3, "entry 3 was committed on S2 before the crash");
    // Term, vote, snapshot and log survive.
    assert_eq!(
        (before.0, before.1, before.2, before.3),
        (after.0, after.1, after.2, after.3)
    );
    // The commit index restarts from the snapshot's index.
    assert_eq!(after.4, 2);
}

// ----- lessons 6 and 7: Figure 8 -----

fn leaders(played: &Played) -> Vec<(usize, NodeId, u64)> {
    (1..=played.steps.len())
        .flat_map(|n| {
            role_changes(&played.step(n))
                .into_iter()
                .filter(|c| c.1 == Role::Leader)
                .map(move |(node, _, term)| (n, node, term))
        })
        .collect()
}

/// The first time `index` is deleted (truncated) from some log, and
/// whether any server had committed it before.
fn erased_after_commit(sim: &Sim, index: u64) -> (bool, bool) {
    let events = sim.events();
    let erased = events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::Truncate { from, .. } if *from <= index));
    let Some(erased) = erased else {
        return (false, false);
    };
    let committed = events.iter().any(|e| {
        e.seq < erased.seq && matches!(&e.kind, EventKind::Commit { index: i, .. } if *i >= index)
    });
    (true, committed)
}

#[test]
fn figure8_terms_are_one_below_the_papers_figure_in_both_lessons() {
    for file in ["06-figure8-broken.json", "07-figure8-correct.json"] {
        let played = play(file);
        // The figure's leaders: S1 in term 2, S5 in 3, S1 in 4, S5 in 5.
        assert_eq!(
            leaders(&played),
            vec![(1, 1, 1), (3, 5, 2), (4, 1, 3), (6, 5, 4)],
            "{file}"
        );
    }
}

#[test]
fn figure8_broken_erases_a_committed_entry_and_correct_erases_only_an_uncommitted_one() {
    let broken = play("06-figure8-broken.json");
    assert_eq!(erased_after_commit(&broken.sim, 2), (true, true));
    let correct = play("07-figure8-correct.json");
    assert_eq!(erased_after_commit(&correct.sim, 2), (true, false));
    assert!(correct.sim.violations().is_empty());
}

// ----- lessons 2, 3, 4, 11, 14 and 15: what their narration names -----

/// The granted real votes among `events`: (voter, candidate, term).
fn votes(events: &[&TraceEvent]) -> Vec<(NodeId, NodeId, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Vote {
                node,
                candidate,
                term,
                prevote: false,
                granted: true,
                ..
            } => Some((*node, *candidate, *term)),
            _ => None,
        })
        .collect()
}

#[test]
fn split_vote_s5_votes_for_s2_s4_for_s3_and_s4_wins_term_2() {
    let played = play("02-split-vote.json");
    let term1 = votes(&played.step(1));
    assert!(
        term1.contains(&(5, 2, 1)),
        "S5's vote went to S2: {term1:?}"
    );
    assert!(term1.contains(&(4, 3, 1)), "S4's to S3: {term1:?}");
    let all: Vec<&TraceEvent> = played.sim.events().iter().collect();
    assert!(
        !role_changes(&all).contains(&(1, Role::Leader, 1))
            && !role_changes(&all)
                .iter()
                .any(|&(_, role, term)| role == Role::Leader && term == 1),
        "term 1 has no leader"
    );
    assert!(
        role_changes(&played.step(2)).contains(&(4, Role::Leader, 2)),
        "S4 wins term 2"
    );
}

#[test]
fn leader_crash_s3_leads_term_1_s5_wins_term_2_and_s3_adopts_it() {
    let mut leaders = Vec::new();
    let played = play_with(load("03-leader-crash.json"), |_, sim| {
        leaders.push(sim.leader())
    });
    assert_eq!(leaders[0], Some(3), "S3 leads term 1 after step 1");
    assert!(role_changes(&played.step(1)).contains(&(3, Role::Leader, 1)));
    assert!(
        role_changes(&played.step(2)).contains(&(5, Role::Leader, 2)),
        "S5 won term 2"
    );
    // The restart's own events come before step 3's count begins.
    let around = played.with_actions(3);
    let back: Vec<_> = role_changes(&around)
        .into_iter()
        .filter(|c| c.0 == 3)
        .collect();
    let restarted = back.iter().position(|c| *c == (3, Role::Follower, 1));
    let adopted = back.iter().position(|c| *c == (3, Role::Follower, 2));
    assert!(
        matches!((restarted, adopted), (Some(a), Some(b)) if a < b),
        "S3 restarts in term 1, then adopts term 2: {back:?}"
    );
}

#[test]
fn log_replication_commit_reaches_followers_only_with_the_next_message() {
    let mut states = Vec::new();
    let played = play_with(load("04-log-replication.json"), |_, sim| {
        let leader = sim.leader();
        let applied: Vec<(NodeId, u64)> = (1..=5)
            .filter_map(|id| sim.server(id).map(|s| (id, s.last_applied_idx())))
            .collect();
        states.push((leader, applied));
    });
    assert_eq!(states[0].0, Some(4), "S4 leads term 1");
    // Step 2: the put is entry 2; the leader has applied it, the
    // followers not yet (step 3's text).
    assert!(played.step(2).iter().any(|e| matches!(
        &e.kind,
        EventKind::Append {
            node: 4,
            index: 2,
            kind: EntryKind::Normal,
            ..
        }
    )));
    let (_, applied) = &states[1];
    assert!(
        applied.contains(&(4, 2)),
        "the leader applied x = 1: {applied:?}"
    );
    assert!(
        applied
            .iter()
            .filter(|(id, _)| *id != 4)
            .all(|&(_, a)| a < 2),
        "the followers have not applied entry 2 yet: {applied:?}"
    );
    // Step 5: z is entry 4 on the leader and S5.
    for node in [4, 5] {
        assert!(played.step(5).iter().any(|e| matches!(
            &e.kind,
            EventKind::Append { node: n, index: 4, .. } if *n == node
        )));
    }
    // Step 6: S1 comes back with a log that stops at index 2, then stores 4.
    assert!(played.step(6).iter().any(|e| matches!(
        &e.kind,
        EventKind::Append {
            node: 1,
            index: 4,
            ..
        }
    )));
}

#[test]
fn snapshot_s5_misses_up_to_index_9_and_installs_the_leaders_snapshot() {
    let mut seen = Vec::new();
    let played = play_with(load("11-snapshot.json"), |_, sim| {
        seen.push((
            sim.leader(),
            sim.server(4).map(|s| s.commit_idx()),
            sim.server(4).map(|s| s.log().base_index()),
        ));
    });
    assert_eq!(seen[0].0, Some(4), "S4 leads");
    assert_eq!(seen[1].1, Some(9), "the writes reach index 9 and commit");
    assert_eq!(seen[2].2, Some(9), "S4's snapshot covers index 9");
    assert!(
        played
            .step(5)
            .iter()
            .chain(played.step(4).iter())
            .any(|e| matches!(
                &e.kind,
                EventKind::Snapshot {
                    node: 5,
                    index: 9,
                    source: raftlab_core::SnapshotSource::Install,
                    ..
                }
            )),
        "S5 installed the snapshot of index 9"
    );
}

#[test]
fn removed_server_disrupts_without_prevote_and_is_quiet_with_it() {
    let loud = play("14-removed-server-disrupts.json");
    let changes = role_changes(&loud.step(3));
    assert!(
        changes
            .iter()
            .any(|&(node, role, _)| node == 5 && role == Role::Candidate),
        "S5 becomes a candidate: {changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|&(node, role, term)| node != 5 && role == Role::Follower && term > 1),
        "a member adopts S5's higher term: {changes:?}"
    );
    let quiet = play("15-removed-server-quiet.json");
    let changes = role_changes(&quiet.step(3));
    assert!(
        !changes
            .iter()
            .any(|&(node, role, _)| node == 5 && role == Role::Candidate),
        "S5 never becomes a candidate: {changes:?}"
    );
    let leader_before = quiet.step(2).iter().rev().find_map(|e| match &e.kind {
        EventKind::Role {
            node,
            role: Role::Leader,
            ..
        } => Some(*node),
        _ => None,
    });
    assert!(
        changes.iter().all(|&(node, _, _)| node == 5),
        "no member changes role or term: {changes:?}"
    );
    assert!(leader_before.is_none() || quiet.sim.leader() == leader_before);
}

#[test]
fn leadership_transfer_s1_wins_term_2_and_a_transfer_to_a_crashed_server_is_given_up() {
    let played = play("16-leadership-transfer.json");
    let step2 = role_changes(&played.step(2));
    assert!(
        step2.contains(&(1, Role::Leader, 2)),
        "S1 wins term 2: {step2:?}"
    );
    assert!(
        !step2
            .iter()
            .any(|&(node, role, _)| node == 1 && role == Role::PreCandidate),
        "S1 skips PreVote: {step2:?}"
    );
    // Step 3: S1 never stops leading and never tells S5 to campaign.
    let step3 = played.step(3);
    assert!(
        role_changes(&step3).iter().all(|&(node, _, _)| node != 1),
        "S1 keeps leading"
    );
    let timeout_now_to_s5 = step3.iter().any(|e| {
        matches!(&e.kind, EventKind::Send { to: 5, body: raftlab_core::trace::SendBody::Message(raftlab_core::MessageBody::AppendEntries(a)), .. } if a.timeout_now)
    });
    assert!(!timeout_now_to_s5, "no TimeoutNow to the crashed S5");
    assert_eq!(played.sim.leader(), Some(1));
    assert_eq!(term_of(&played.sim, 1), 2);
}

#[test]
fn consistency_check_s1_refuses_once_and_the_leader_jumps_to_where_its_log_ends() {
    let played = play("17-consistency-check.json");
    let lead = played.step(1).iter().rev().find_map(|e| match &e.kind {
        EventKind::Role {
            node,
            role: Role::Leader,
            ..
        } => Some(*node),
        _ => None,
    });
    assert_eq!(lead, Some(4), "S4 leads term 1");
    let returning = played.with_actions(4);
    let refusals = returning
        .iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::Send { from: 1, body: raftlab_core::trace::SendBody::Message(raftlab_core::MessageBody::AppendEntriesResp(r)), .. } if !r.success)
        })
        .count();
    assert_eq!(refusals, 1, "one refusal is enough, as the feedback says");
    for index in 2..=5 {
        assert!(
            returning.iter().any(|e| matches!(
                &e.kind,
                EventKind::Append { node: 1, index: i, .. } if *i == index
            )),
            "S1 appends entry {index}"
        );
    }
}

// ----- lesson 18: client sessions -----

/// The state machine's answers at `node` for entries whose command is
/// client `client`'s number `seq`: (index, whether answered from the session).
fn applied_commands(played: &Played, node: NodeId, client: u64, seq: u64) -> Vec<(u64, bool)> {
    let events = played.sim.events();
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Apply {
                node: n,
                index,
                output,
                ..
            } if *n == node => {
                let data = events.iter().rev().find_map(|a| match &a.kind {
                    EventKind::Append {
                        node: m,
                        index: i,
                        data,
                        ..
                    } if *m == node && i == index && a.seq < e.seq => Some(data.clone()),
                    _ => None,
                })?;
                let cmd = raftlab_core::KvCommand::decode(data.as_bytes()).ok()?;
                let dup = output
                    .as_deref()
                    .and_then(|o| raftlab_core::KvResult::decode(o.as_bytes()))
                    .is_some_and(|r| r.duplicate);
                (cmd.client == client && cmd.seq == seq).then_some((*index, dup))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn client_sessions_the_retry_is_logged_twice_applied_once_and_x_stays_2() {
    let played = play("18-client-sessions.json");
    // Step 2: S1 crashes before client 2 hears anything.
    assert!(!played
        .step(2)
        .iter()
        .any(|e| client_event(e, 2, KvOp::Put, ClientPhase::Ok)));
    assert!(played
        .step(2)
        .iter()
        .any(|e| matches!(e.kind, EventKind::Crash { node: 1 })));
    // Step 3: S2 wins term 2 and applies x = 1 at index 2; client 2 still waits.
    assert!(role_changes(&played.step(3)).contains(&(2, Role::Leader, 2)));
    assert!(!played
        .step(3)
        .iter()
        .any(|e| client_event(e, 2, KvOp::Put, ClientPhase::Ok)));
    // Step 4: client 3's x = 2 is answered before client 2's retry is.
    let order: Vec<u64> = played
        .sim
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Client {
                client,
                phase: ClientPhase::Ok,
                op: KvOp::Put,
                ..
            } => client.as_num(),
            _ => None,
        })
        .collect();
    assert_eq!(order, vec![3, 2], "client 3 is answered first");
    // Client 2's command 1 is in S2's log twice, at 2 and 5; index 5 is
    // answered from the session, on every running server.
    for node in 2..=5 {
        assert_eq!(
            applied_commands(&played, node, 2, 1),
            vec![(2, false), (5, true)],
            "S{node}"
        );
        let s = played.sim.server(node).expect("running");
        let kv = raftlab_core::KvResult::decode(&s.read_state_machine(b"x")).expect("a value");
        assert_eq!(kv.value.as_deref(), Some("2"), "S{node}: x stays 2");
    }
    // The retry went to S1 first (down), then to S2.
    let retried_at = played
        .step(5)
        .iter()
        .find(|e| {
            matches!(
                &e.kind,
                EventKind::Append {
                    node: 2,
                    index: 5,
                    ..
                }
            )
        })
        .map(|e| e.time)
        .expect("the retry is appended at index 5");
    let wrote_at = played
        .sim
        .events()
        .iter()
        .find(|e| client_event(e, 2, KvOp::Put, ClientPhase::Invoke))
        .map(|e| e.time)
        .unwrap();
    assert!(
        retried_at >= wrote_at + 400,
        "the retry comes 400 ms later or more"
    );
    assert!(played.sim.violations().is_empty());
}

// ----- lessons 19 to 23: one break-it lesson per deliberate bug -----

/// The rules broken during step `n`, in order, without repeats.
fn broken_in(played: &Played, n: usize) -> Vec<String> {
    let (after, upto) = played.steps[n - 1];
    let mut rules: Vec<String> = Vec::new();
    for v in played.sim.violations() {
        if v.seq > after && v.seq <= upto && !rules.contains(&v.rule.to_string()) {
            rules.push(v.rule.to_string());
        }
    }
    rules
}

/// Plays break-it lesson `file` with its bug switched off, as far as the
/// correct core lets the script go (a step waiting for the bug's effect
/// never completes), and returns the run.
fn without_its_bug(file: &str, bug: &str) -> Sim {
    let lesson = load(file);
    let names: Vec<&str> = lesson.setup.config.bugs.iter().map(|b| b.name()).collect();
    assert_eq!(names, vec![bug], "{file} switches on exactly its bug");
    let mut fixed = lesson;
    fixed.setup.config.bugs.clear();
    let (mut run, mut sim) = LessonRun::new(fixed).expect("starts");
    let mut status = run.poll(&sim);
    while let Some(step) = run.current_step().cloned() {
        if status == StepStatus::Waiting {
            status = run.drive(&mut sim, run.step_began_at() + step.max_ms);
        }
        if status != StepStatus::Done {
            break;
        }
        status = run.advance(&mut sim);
    }
    sim
}

#[test]
fn each_break_it_script_on_the_correct_core_breaks_no_rule_and_does_what_its_text_says_a_correct_server_does(
) {
    let granted = |sim: &Sim, voter: NodeId, cand: NodeId, term: u64| {
        let all: Vec<&TraceEvent> = sim.events().iter().collect();
        votes(&all).contains(&(voter, cand, term))
    };
    let leaders = |sim: &Sim| -> Vec<(NodeId, u64)> {
        let all: Vec<&TraceEvent> = sim.events().iter().collect();
        role_changes(&all)
            .into_iter()
            .filter(|c| c.1 == Role::Leader)
            .map(|(n, _, t)| (n, t))
            .collect()
    };
    let runs = [
        ("19-broken-up-to-date-check.json", "no-up-to-date-check"),
        ("20-broken-prevote-term.json", "prevote-raises-term"),
        ("21-broken-forgotten-vote.json", "forget-vote-on-restart"),
        ("22-broken-commit-min.json", "commit-without-min"),
        ("23-broken-learner-quorum.json", "learner-in-quorum"),
    ]
    .map(|(file, bug)| {
        let sim = without_its_bug(file, bug);
        // The violations the lessons show are the bug's doing.
        assert!(
            sim.violations().is_empty(),
            "{file} without {bug}: {:?}",
            sim.violations().first()
        );
        sim
    });
    // 19: S2 refuses S3, whose log is behind, and S3 never leads.
    assert!(!granted(&runs[0], 2, 3, 2));
    assert!(
        !leaders(&runs[0]).contains(&(3, 2)),
        "S3 never leads term 2"
    );
    // 20: nobody's term moves past 1; S2 leads throughout.
    let all: Vec<&TraceEvent> = runs[1].events().iter().collect();
    assert!(role_changes(&all).iter().all(|&(_, _, term)| term <= 1));
    assert_eq!(leaders(&runs[1]), vec![(2, 1)]);
    // 21: S3 remembers its vote for S1 and refuses S2 in term 2.
    assert!(granted(&runs[2], 3, 1, 2) && !granted(&runs[2], 3, 2, 2));
    let l = leaders(&runs[2]);
    assert!(l.contains(&(1, 2)) && !l.contains(&(2, 2)), "{l:?}");
    // 22: S3 commits index 2 only once it holds entry 2.
    let events = runs[3].events();
    let stored = events
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                EventKind::Append {
                    node: 3,
                    index: 2,
                    ..
                }
            )
        })
        .map(|e| e.seq)
        .expect("S3 stores x");
    assert!(events.iter().all(|e| e.seq > stored
        || !matches!(e.kind, EventKind::Commit { node: 3, index, .. } if index >= 2)));
    // 23: learners vote for nobody; S2 never leads.
    let all: Vec<&TraceEvent> = runs[4].events().iter().collect();
    assert!(votes(&all).iter().all(|&(voter, _, _)| voter <= 3));
    assert!(leaders(&runs[4]).iter().all(|&(node, _)| node != 2));
}

#[test]
fn no_up_to_date_check_s2_votes_for_s3_which_erases_the_committed_x() {
    let played = play("19-broken-up-to-date-check.json");
    assert!(played
        .step(2)
        .iter()
        .any(|e| client_event(e, 2, KvOp::Put, ClientPhase::Ok)));
    assert!(
        votes(&played.step(3)).contains(&(2, 3, 2)),
        "S2 votes for S3 in term 2"
    );
    assert!(role_changes(&played.step(3)).contains(&(3, Role::Leader, 2)));
    assert_eq!(
        broken_in(&played, 3),
        vec!["vote_up_to_date", "leader_completeness"]
    );
    // Step 4: S2 deletes x at index 2, S3's no-op takes its place, and
    // client 4's read finds no x.
    let step4 = played.step(4);
    assert!(step4
        .iter()
        .any(|e| matches!(e.kind, EventKind::Truncate { node: 2, from: 2 })));
    assert!(step4.iter().any(|e| matches!(&e.kind,
        EventKind::Client { client, phase: ClientPhase::Ok, result: Some(None), .. } if client.as_num() == Some(4))));
    assert_eq!(
        broken_in(&played, 4),
        vec!["leader_completeness", "state_machine_safety"]
    );
    assert_eq!(erased_after_commit(&played.sim, 2), (true, true));
}

#[test]
fn prevote_raises_term_deposes_s2_and_terms_climb_to_4_without_losing_x() {
    let played = play("20-broken-prevote-term.json");
    assert_eq!(broken_in(&played, 1), vec!["prevote_term_unchanged"]);
    assert!(role_changes(&played.step(1)).contains(&(2, Role::Leader, 1)));
    // Step 2: S5, alone, stays in term 1.
    assert!(role_changes(&played.step(2))
        .iter()
        .all(|&(node, _, term)| node != 5 || term == 1));
    // Step 3: S2 steps down on a prevote request, with no vote granted
    // to S5; S4 wins term 4 about half a second after the heal.
    let step3 = played.step(3);
    let changes = role_changes(&step3);
    assert!(changes.contains(&(2, Role::Follower, 2)), "{changes:?}");
    assert!(!changes
        .iter()
        .any(|&(node, role, _)| node == 5 && role == Role::Candidate));
    assert!(
        !step3.iter().any(|e| matches!(
            &e.kind,
            EventKind::Vote {
                candidate: 5,
                granted: true,
                ..
            }
        )),
        "nobody grants S5 anything"
    );
    let leaders: Vec<_> = changes.iter().filter(|c| c.1 == Role::Leader).collect();
    assert_eq!(leaders, vec![&(4, Role::Leader, 4)]);
    assert_eq!(broken_in(&played, 3), vec!["prevote_term_unchanged"]);
    let healed = step3.first().map(|e| e.time).unwrap();
    let won = step3
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                EventKind::Role {
                    node: 4,
                    role: Role::Leader,
                    ..
                }
            )
        })
        .map(|e| e.time)
        .unwrap();
    assert!((350..=700).contains(&(won - healed)), "{} ms", won - healed);
    // No committed entry is lost: x stays at index 2 on S4.
    let s4 = played.sim.server(4).expect("S4 runs");
    assert!(s4.commit_idx() >= 2 && s4.log().term_at(2) == Some(1));
    assert!(played
        .sim
        .violations()
        .iter()
        .all(|v| v.rule == "prevote_term_unchanged"));
}

#[test]
fn forget_vote_on_restart_s3_votes_twice_in_term_2_and_s1_and_s2_both_lead_it() {
    let played = play("21-broken-forgotten-vote.json");
    assert!(role_changes(&played.step(1)).contains(&(3, Role::Leader, 1)));
    assert!(votes(&played.step(2)).contains(&(3, 1, 2)));
    assert!(played
        .step(2)
        .iter()
        .any(|e| matches!(e.kind, EventKind::Crash { node: 3 })));
    assert!(votes(&played.step(3)).contains(&(3, 2, 2)));
    let all: Vec<&TraceEvent> = played.sim.events().iter().collect();
    let term2: Vec<NodeId> = role_changes(&all)
        .into_iter()
        .filter(|&(_, role, term)| role == Role::Leader && term == 2)
        .map(|c| c.0)
        .collect();
    assert_eq!(term2, vec![1, 2], "two leaders of term 2");
    assert_eq!(
        broken_in(&played, 3),
        vec!["one_vote_per_term", "election_safety"]
    );
    // Each leader appended its own no-op at index 2, term 2.
    for node in [1, 2] {
        assert!(all.iter().any(|e| matches!(&e.kind,
            EventKind::Append { node: n, index: 2, term: 2, kind: EntryKind::NoOp, .. } if *n == node)));
    }
    assert_eq!(broken_in(&played, 4), vec!["election_safety"]);
}

#[test]
fn commit_without_min_s3_commits_index_2_while_its_log_ends_at_1() {
    let mut at_step2 = None;
    let played = play_with(load("22-broken-commit-min.json"), |n, sim| {
        if n == 2 {
            let s = sim.server(3).expect("S3 runs");
            at_step2 = Some((
                s.log().last_index(),
                s.commit_idx(),
                sim.server(1).unwrap().commit_idx(),
            ));
        }
    });
    assert_eq!(at_step2, Some((1, 1, 2)), "S3 ends at 1; S1 committed 2");
    let commit = played
        .step(3)
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::Commit { node: 3, .. }))
        .expect("S3 commits in step 3");
    assert!(matches!(commit.kind, EventKind::Commit { index: 2, .. }));
    let appended_before = played.sim.events().iter().any(|e| {
        e.seq < commit.seq
            && matches!(
                e.kind,
                EventKind::Append {
                    node: 3,
                    index: 2,
                    ..
                }
            )
    });
    assert!(!appended_before, "S3 had no entry 2 when it committed 2");
    assert_eq!(broken_in(&played, 3), vec!["commit_order"]);
    // What S3 received: an empty AppendEntries anchored at index 1 with
    // leaderCommit 2 (step 3's text).
    let delivered = played
        .sim
        .events()
        .iter()
        .rev()
        .find_map(|e| match e.kind {
            EventKind::Deliver { id, .. } if e.seq < commit.seq => Some(id),
            _ => None,
        })
        .expect("a delivery before the commit");
    let carried = played.sim.events().iter().find_map(|e| match &e.kind {
        EventKind::Send {
            id,
            from: 1,
            to: 3,
            body:
                raftlab_core::trace::SendBody::Message(raftlab_core::MessageBody::AppendEntries(a)),
            ..
        } if *id == delivered => Some((a.prev_log_idx, a.leader_commit, a.entries.len())),
        _ => None,
    });
    assert_eq!(carried, Some((1, 2, 0)));
    // Then x arrives, but S3's commit index already says 2, so S3 does
    // not apply it (step 4's text), and nothing else breaks.
    let s3 = played.sim.server(3).expect("S3 runs");
    assert_eq!(s3.log().last_index(), 2);
    assert_eq!(s3.commit_idx(), 2);
    assert_eq!(s3.last_applied_idx(), 1, "x waits unapplied on S3");
    assert!(!played.sim.events().iter().any(|e| matches!(
        e.kind,
        EventKind::Apply {
            node: 3,
            index: 2,
            ..
        }
    )));
    assert!(played
        .sim
        .violations()
        .iter()
        .all(|v| v.rule == "commit_order"));
}

#[test]
fn learner_in_quorum_s2_leads_with_learner_votes_and_commits_x_on_one_voter() {
    let played = play("23-broken-learner-quorum.json");
    let step3 = played.step(3);
    let granted = votes(&step3);
    assert!(granted.contains(&(4, 2, 2)) && granted.contains(&(5, 2, 2)));
    assert!(!granted
        .iter()
        .any(|&(voter, _, _)| voter == 1 || voter == 3));
    assert!(role_changes(&step3).contains(&(2, Role::Leader, 2)));
    assert_eq!(broken_in(&played, 3), vec!["leader_quorum"]);
    // Step 4: x goes to index 5 and client 5 is told it succeeded while
    // S1 and S3, the other voters, never store it.
    let step4 = played.step(4);
    assert!(step4
        .iter()
        .any(|e| client_event(e, 5, KvOp::Put, ClientPhase::Ok)));
    for node in [1, 3] {
        assert!(!played.sim.events().iter().any(|e| matches!(&e.kind,
            EventKind::Append { node: n, index: 5, .. } if *n == node)));
    }
    assert!(step4.iter().any(|e| matches!(
        e.kind,
        EventKind::Commit {
            node: 2,
            index: 5,
            ..
        }
    )));
    assert_eq!(broken_in(&played, 4), vec!["commit_quorum"]);
}
