//! Lessons that direct the protocol by hand (issue 19): a step that returns
//! the run to the end of an earlier step (`back_to_step`), and what the
//! narration of lessons 24 and 25 claims, checked on the run their own
//! files produce when played as the page plays them (as lesson_claims.rs
//! does for the others). Lesson 26 has its own file, figure8_paper.rs.

mod common;

use common::lessons::{load, play_answering, Played};
use raftlab_core::lesson::parse_lesson;
use raftlab_core::sim::Sim;
use raftlab_core::trace::{EventKind, TraceEvent};
use raftlab_core::{NodeId, Role};

fn play(file: &str) -> Played {
    play_answering(load(file), |_, _, _| {})
}

/// The (pre)vote answers in `events`: (voter, candidate, term, granted, reason).
fn votes(events: &[&TraceEvent]) -> Vec<(NodeId, NodeId, u64, bool, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Vote {
                node,
                candidate,
                term,
                granted,
                reason,
                ..
            } => Some((
                *node,
                *candidate,
                *term,
                *granted,
                reason.clone().unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

fn granted_votes(sim: &Sim, id: NodeId) -> usize {
    let s = sim.server(id).expect("running");
    s.votes().values().filter(|g| **g).count()
}

// ----- back_to_step -----

/// Three servers, delivery by hand: step 1 makes S1 a candidate, step 2
/// elects it, step 3 goes back to the end of step 1 (`back`).
fn back_lesson(back: &str) -> String {
    format!(
        r#"{{"id": "back", "title": "Back", "setup": {{"seed": 1, "nodes": 3,
            "config": {{"prevote": false, "check_quorum": false}}}},
          "steps": [
            {{"narration": "a", "actions": [{{"kind": "manual", "on": true}}, {{"kind": "timeout", "node": 1}}],
              "wait_for": {{"kind": "node", "node": 1, "role": "candidate"}}}},
            {{"narration": "b", "actions": [
                {{"kind": "deliver_next", "from": 1, "to": 2, "msg": "request_vote"}},
                {{"kind": "deliver_next", "from": 2, "to": 1, "msg": "request_vote_resp", "after_ms": 20}}],
              "wait_for": {{"kind": "role", "node": 1, "role": "leader"}}}},
            {{"narration": "c", {back}
              "actions": [{{"kind": "deliver_next", "from": 1, "to": 3, "msg": "request_vote", "after_ms": 5}}],
              "wait_for": {{"kind": "node", "node": 3, "voted_for": 1}}}}
          ]}}"#
    )
}

#[test]
fn a_step_can_return_the_run_to_the_end_of_an_earlier_step() {
    let lesson = parse_lesson(&back_lesson(r#""back_to_step": 1,"#)).expect("valid");
    let mut end_of_1 = None;
    let played = play_answering(lesson, |n, _, sim| {
        if n == 1 {
            end_of_1 = Some((sim.now(), sim.position()));
        }
    });
    let (t1, seq1) = end_of_1.unwrap();
    let sim = &played.sim;
    // Step 2 elected S1; step 3 went back before it, so no one leads: S1
    // is still the candidate of step 1, now with S3's vote.
    assert_eq!(sim.leader(), None);
    assert_eq!(sim.server(1).unwrap().state(), Role::Candidate);
    assert_eq!(sim.server(3).unwrap().voted_for(), 1);
    assert_eq!(
        sim.server(2).unwrap().voted_for(),
        0,
        "S2's vote was step 2's"
    );
    // Step 3 began where step 1 ended: its events follow step 1's, its
    // delayed action 5 ms after step 1's end.
    let step3 = played.step(3);
    assert_eq!(step3.first().map(|e| e.seq), Some(seq1 + 1));
    assert_eq!(step3.first().map(|e| e.time), Some(t1 + 5));
    assert!(sim.events().iter().all(|e| !matches!(
        e.kind,
        EventKind::Role {
            role: Role::Leader,
            ..
        }
    )));
}

#[test]
fn back_to_step_must_name_an_earlier_step() {
    for (back, words) in [
        (r#""back_to_step": 3,"#, "1 to 2), not 3"),
        (r#""back_to_step": 0,"#, "1 to 2), not 0"),
        (r#""back_to_step": 7,"#, "1 to 2), not 7"),
    ] {
        let err = parse_lesson(&back_lesson(back)).unwrap_err();
        assert!(
            err.starts_with("lesson \"back\", step 3, back_to_step: a step returns to the end of an earlier step")
                && err.ends_with(words),
            "{err}"
        );
    }
}

// ----- lesson 24: a split vote staged by hand -----

#[test]
fn split_vote_by_hand_leaves_two_candidates_with_two_votes_each_and_nothing_moving() {
    let played = play_answering(load("24-split-vote-by-hand.json"), |n, _, sim| {
        if n == 3 || n == 4 {
            // "two votes each", "both stay candidates", in term 1.
            for c in [1, 2] {
                let s = sim.server(c).unwrap();
                assert_eq!((s.state(), s.current_term()), (Role::Candidate, 1));
                assert_eq!(granted_votes(sim, c), 2, "step {n}: S{c}");
            }
            assert_eq!(sim.leader(), None);
            // "No message is left in the network".
            assert_eq!(sim.flights().count(), 0, "step {n}");
            // "S5 ... never heard a request".
            assert_eq!(sim.server(5).unwrap().current_term(), 0);
        }
    });
    // Step 2: S3 votes for S1 and S4 for S2, each its first vote of term 1.
    let granted: Vec<_> = votes(&played.step(2))
        .into_iter()
        .filter(|v| v.3)
        .map(|v| (v.0, v.1, v.2))
        .collect();
    assert_eq!(granted, [(3, 1, 1), (4, 2, 1)]);
    // Step 3: every other request refused, each because its voter already
    // voted in term 1 (§5.2), as the narration says.
    let refused = votes(&played.step(3));
    assert_eq!(refused.len(), 4);
    for (voter, candidate, term, granted, reason) in &refused {
        assert!(!granted && *term == 1, "S{voter} → S{candidate}");
        assert!(
            reason.contains("already voted") && reason.contains("§5.2"),
            "{reason}"
        );
    }
    // Step 4: nothing at all happens by itself.
    assert!(played.step(4).is_empty(), "{:?}", played.step(4));
    // Step 5: with the timers running, a new election in term 2 elects one.
    let leader = played.sim.leader().expect("a leader");
    assert_eq!(played.sim.server(leader).unwrap().current_term(), 2);
}

// ----- lesson 25: late votes, refused for their stale term -----

#[test]
fn stale_vote_by_hand_refuses_the_late_request_and_the_late_vote_for_their_term() {
    let played = play("25-stale-vote-by-hand.json");
    // Step 2: S2 leads term 2 while S1 is still a candidate in term 1.
    let leaders: Vec<_> = played
        .step(2)
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Role {
                node,
                role: Role::Leader,
                term,
                ..
            } => Some((node, term)),
            _ => None,
        })
        .collect();
    assert_eq!(leaders, [(2, 2)]);
    // Step 3: S3 refuses S1's term-1 request because the term is behind its
    // own (§5.1), in the words the narration quotes; S1 steps down to term 2.
    let v = votes(&played.step(3));
    assert_eq!(v.len(), 1);
    let (voter, candidate, term, granted, reason) = &v[0];
    assert_eq!((*voter, *candidate, *term, *granted), (3, 1, 1, false));
    assert_eq!(reason, "it asks for term 1, behind my term 2 (§5.1)");
    assert!(played.step(3).iter().any(|e| matches!(
        e.kind,
        EventKind::Role {
            node: 1,
            role: Role::Follower,
            term: 2,
            ..
        }
    )));
    // Step 4: S2's term-1 vote reaches S1 and is refused as a late answer.
    let outcomes: Vec<String> = played
        .step(4)
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Deliver { outcome, .. } => Some(outcome.clone().unwrap_or_default()),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), 1);
    assert!(
        outcomes[0].starts_with("a late answer for term 1"),
        "{outcomes:?}"
    );
    assert!(!played.step(4).iter().any(|e| matches!(
        e.kind,
        EventKind::Role {
            role: Role::Leader,
            ..
        }
    )));
    // Step 6: everything arrives; S1 follows S2 in term 2.
    let s1 = played.sim.server(1).unwrap();
    assert_eq!((s1.state(), s1.current_term()), (Role::Follower, 2));
    assert_eq!(played.sim.leader(), Some(2));
}
