//! Leader election (Raft §5.1-§5.2, §5.4.1), persistence of term and vote
//! (Figure 2), PreVote (thesis §9.6), leader stickiness (thesis §4.2.3),
//! CheckQuorum (thesis §6.2) and leadership transfer (thesis §3.10).

mod common;

use common::*;
use raftlab_core::harness::{Cluster, Server};
use raftlab_core::raft::ProposeError;
use raftlab_core::{
    Bugs, Config, KvStore, MemLogStore, MemNetwork, MemStorage, Membership, Message, MessageBody,
    RaftEvent, Role, Storage,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

fn none() -> Bugs {
    Bugs::none()
}

fn vote_answers(msgs: &[Message]) -> Vec<(bool, bool, u64)> {
    msgs.iter()
        .filter_map(|m| match &m.body {
            MessageBody::RequestVoteResp(r) => Some((r.prevote, r.vote_granted, r.term)),
            _ => None,
        })
        .collect()
}

/// §5.2: a follower that hears nothing for its election timeout starts an
/// election (with PreVote, by asking for prevotes first).
#[test]
fn follower_campaigns_once_its_election_timeout_elapses() {
    let mut s = lone(
        &config(&none(), |_| {}),
        1,
        &[1, 2, 3],
        MemStorage::new(),
        MemLogStore::new(),
    );
    let (_, timeout) = s.election_timer();
    for _ in 1..timeout {
        s.tick();
    }
    assert_eq!(s.state(), Role::Follower);
    s.tick();
    assert_eq!(s.state(), Role::PreCandidate);
    let (msgs, _) = drain(&mut s);
    let asked: Vec<u64> = msgs
        .iter()
        .filter(|m| m.body.prevote() == Some(true))
        .map(|m| m.to)
        .collect();
    assert_eq!(asked, vec![2, 3]);
}

/// §5.2, Figure 2: a candidate increments its term and votes for itself,
/// persisting both before it asks anyone.
#[test]
fn candidate_increments_term_and_persists_its_own_vote_before_asking() {
    let mut s = lone(
        &classic(&none()),
        1,
        &[1, 2, 3],
        storage_at(4, 0),
        MemLogStore::new(),
    );
    let before = s.storage().meta_writes;
    s.force_timeout().unwrap();
    assert_eq!(s.state(), Role::Candidate);
    assert_eq!((s.current_term(), s.voted_for()), (5, 1));
    assert_eq!(s.storage().load_meta(), (5, 1));
    assert!(s.storage().meta_writes > before);
    let (msgs, _) = drain(&mut s);
    assert_eq!(msgs.len(), 2);
    assert!(msgs
        .iter()
        .all(|m| m.body.term() == 5 && m.body.prevote() == Some(false)));
}

/// §5.2: votes from a majority make a candidate leader; refusals from a
/// majority send it back to follower.
#[test]
fn candidate_wins_with_a_majority_and_loses_to_a_majority_of_refusals() {
    let mut c = Cluster::new(5, classic(&none()));
    c.elect(1);
    assert_eq!(c.leaders(), vec![1]);
    let by = c.node(1).elected_by();
    assert!(
        by.len() >= 3 && by.contains(&1),
        "a majority incl. itself: {by:?}"
    );

    let mut c = Cluster::new(5, classic(&none()));
    for id in 2..=4 {
        // S2-S4 already voted for S5 in term 1.
        c.start_from(id, storage_at(1, 5), MemLogStore::new());
    }
    let _ = c.node_mut(1).force_timeout(); // term 1: refused by S2-S4
    c.deliver_all();
    assert_eq!(c.node(1).state(), Role::Follower);
    assert_eq!(c.node(1).current_term(), 1);
}

/// §5.2: a split vote elects nobody; the next, randomized timeout starts a
/// later term that does elect one leader.
#[test]
fn split_vote_elects_nobody_and_a_later_term_elects_one_leader() {
    let mut c = Cluster::new(4, classic(&none()));
    let _ = c.node_mut(1).force_timeout();
    let _ = c.node_mut(3).force_timeout();
    // S2 hears S1 first, S4 hears S3 first: two votes each.
    c.drop_queued(|m| (m.from, m.to) == (1, 4) || (m.from, m.to) == (3, 2));
    c.deliver_all();
    assert!(c.leaders().is_empty(), "a split vote elects nobody");
    assert_eq!(c.node(1).state(), Role::Candidate);
    assert_eq!(c.node(3).state(), Role::Candidate);
    c.run_ticks(1_000);
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1);
    assert!(c.node(leaders[0]).current_term() >= 2);
    ok(check_one_leader_per_term(&c));
}

/// §5.2: election timeouts are random within [min, max], drawn from the
/// RNG the owner seeds: the same seed draws the same timeouts.
#[test]
fn election_timeouts_come_from_the_seeded_rng_within_bounds() {
    let cfg = config(&none(), |_| {});
    let draw = |seed: u64| -> Vec<u64> {
        let mut s = Server::new(
            cfg.clone(),
            Membership::with_voters([1, 2, 3]),
            MemStorage::new(),
            MemLogStore::new(),
            KvStore::new(),
            MemNetwork::default(),
            ChaCha8Rng::seed_from_u64(seed),
        )
        .unwrap();
        (0..30)
            .map(|_| {
                let t = s.election_timer().1;
                s.force_timeout().unwrap();
                t
            })
            .collect()
    };
    let a = draw(7);
    assert!(a
        .iter()
        .all(|&t| (cfg.election_timeout_min..=cfg.election_timeout_max).contains(&t)));
    assert_eq!(a, draw(7), "same seed, same timeouts");
    assert_ne!(a, draw(8), "another seed, other timeouts");
    let mut distinct = a.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 10, "timeouts are spread: {distinct:?}");
}

/// §5.4.1: a voter grants only if the candidate's last term is higher, or
/// equal with a last index at least as high.
#[test]
fn voter_grants_only_to_a_candidate_whose_log_is_at_least_as_up_to_date() {
    // The voter's log: terms [1, 1, 2] (last term 2, last index 3).
    let cases = [
        ((3, 1), false), // older last term, even if as long
        ((9, 1), false), // older last term, longer
        ((2, 2), false), // same last term, shorter
        ((3, 2), true),  // same last term, as long
        ((4, 2), true),  // same last term, longer
        ((1, 3), true),  // newer last term, shorter
    ];
    for (last, granted) in cases {
        let mut s = lone(
            &classic(&none()),
            1,
            &[1, 2, 3],
            storage_at(2, 0),
            log_of(&[1, 1, 2]),
        );
        s.step(vote_req(2, 1, false, 3, last));
        let (msgs, _) = drain(&mut s);
        assert_eq!(
            vote_answers(&msgs),
            vec![(false, granted, 3)],
            "candidate's last {last:?}"
        );
        assert_eq!(s.voted_for(), if granted { 2 } else { 0 });
    }
}

/// §5.4.1 (Leader Completeness): a candidate missing committed entries
/// cannot win an election.
#[test]
fn candidate_missing_committed_entries_cannot_win() {
    ok(common::scenarios::up_to_date_check(&none()));
}

/// §5.1: any server that sees a higher term adopts it and becomes follower.
#[test]
fn leader_and_candidate_step_down_on_a_higher_term() {
    let mut c = Cluster::new(3, classic(&none()));
    c.elect(1);
    let resp = Message {
        from: 2,
        to: 1,
        body: MessageBody::AppendEntriesResp(raftlab_core::AppendEntriesResp {
            message_token: 999,
            term: 7,
            success: false,
            curr_index: 0,
        }),
    };
    c.deliver(resp);
    let s1 = c.node(1);
    assert_eq!(
        (s1.state(), s1.current_term(), s1.voted_for()),
        (Role::Follower, 7, 0)
    );
    assert_eq!(s1.storage().load_meta(), (7, 0));

    let mut s = lone(
        &classic(&none()),
        1,
        &[1, 2, 3],
        MemStorage::new(),
        MemLogStore::new(),
    );
    s.force_timeout().unwrap();
    s.step(append(3, 1, 4, 1, (0, 0), 0, vec![]));
    assert_eq!(
        (s.state(), s.current_term(), s.leader_id()),
        (Role::Follower, 4, Some(3))
    );
}

/// §5.1: requests from an older term are refused and the answer carries
/// the newer term.
#[test]
fn requests_from_an_older_term_are_refused() {
    let mut s = lone(
        &classic(&none()),
        1,
        &[1, 2, 3],
        storage_at(5, 0),
        MemLogStore::new(),
    );
    s.step(vote_req(2, 1, false, 4, (9, 4)));
    s.step(append(3, 1, 4, 1, (0, 0), 0, vec![entry(1, 4)]));
    let (msgs, _) = drain(&mut s);
    assert_eq!(vote_answers(&msgs), vec![(false, false, 5)]);
    assert!(msgs.iter().any(|m| matches!(&m.body,
        MessageBody::AppendEntriesResp(r) if !r.success && r.term == 5)));
    assert_eq!(s.log().last_index(), 0);
    assert_eq!((s.current_term(), s.voted_for()), (5, 0));
}

/// Figure 2: the vote is on stable storage by the time it is answered, so a
/// crash right after answering keeps it.
#[test]
fn term_and_vote_are_persisted_before_the_vote_is_answered() {
    let mut s = lone(
        &classic(&none()),
        1,
        &[1, 2, 3],
        storage_at(1, 0),
        MemLogStore::new(),
    );
    let before = s.storage().meta_writes;
    s.step(vote_req(2, 1, false, 3, (0, 0)));
    let (msgs, _) = drain(&mut s);
    assert_eq!(vote_answers(&msgs), vec![(false, true, 3)]);
    assert!(s.storage().meta_writes > before);
    let (st, log) = s.into_persistent();
    assert_eq!(st.load_meta(), (3, 2));
    // Restarted, it still refuses a second candidate of term 3.
    let mut s = lone(&classic(&none()), 1, &[1, 2, 3], st, log);
    assert_eq!((s.current_term(), s.voted_for()), (3, 2));
    s.step(vote_req(3, 1, false, 3, (0, 0)));
    let (msgs, _) = drain(&mut s);
    assert_eq!(vote_answers(&msgs), vec![(false, false, 3)]);
}

/// §5.2, Figure 2: at most one vote per term, even across a restart; so at
/// most one leader per term.
#[test]
fn at_most_one_vote_per_term_across_restarts() {
    ok(common::scenarios::vote_survives_restart(&none()));
}

/// §5.2: a candidate that hears from a leader of its own term accepts it.
#[test]
fn candidate_accepts_a_leader_of_its_own_term() {
    let mut s = lone(
        &classic(&none()),
        1,
        &[1, 2, 3],
        MemStorage::new(),
        MemLogStore::new(),
    );
    s.force_timeout().unwrap();
    assert_eq!((s.state(), s.current_term()), (Role::Candidate, 1));
    s.step(append(2, 1, 1, 1, (0, 0), 0, vec![]));
    assert_eq!(
        (s.state(), s.current_term(), s.leader_id()),
        (Role::Follower, 1, Some(2))
    );
    assert_eq!(s.voted_for(), 1, "its vote in term 1 stays");
}

/// Thesis §9.6: a precandidate asks at term+1 without changing anyone's
/// term or vote.
#[test]
fn prevote_changes_no_term_or_vote() {
    ok(common::scenarios::prevote_keeps_terms(&none()));
}

/// Thesis §9.6: only a majority of granted prevotes starts the real
/// election.
#[test]
fn only_a_majority_of_granted_prevotes_starts_an_election() {
    let mut c = Cluster::new(5, config(&none(), |_| {}));
    let _ = c.node_mut(1).force_timeout();
    c.collect(1);
    let requests = c.take_queue();
    assert_eq!(requests.len(), 4);
    for m in requests {
        c.deliver(m);
    }
    let answers = c.take_queue();
    assert_eq!(answers.len(), 4);
    let mut answers = answers.into_iter();
    c.deliver(answers.next().unwrap());
    assert_eq!(
        c.node(1).state(),
        Role::PreCandidate,
        "2 of 5 is not a majority"
    );
    assert_eq!(c.node(1).current_term(), 0);
    c.deliver(answers.next().unwrap());
    assert_eq!(c.node(1).state(), Role::Candidate, "3 of 5 is");
    assert_eq!(c.node(1).current_term(), 1);
}

/// Thesis §9.6: a server cut off from the majority keeps asking for
/// prevotes and never raises its term.
#[test]
fn isolated_precandidate_never_raises_its_term() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.isolate(3);
    c.run_ticks(2_000);
    assert_eq!(c.node(3).current_term(), 1);
    let tries = c
        .events_of(3)
        .iter()
        .filter(|e| {
            matches!(
                e,
                RaftEvent::Role {
                    role: Role::PreCandidate,
                    ..
                }
            )
        })
        .count();
    assert!(tries >= 5, "it kept trying: {tries}");
    assert!(!c.events_of(3).iter().any(|e| matches!(
        e,
        RaftEvent::Role {
            role: Role::Candidate,
            ..
        }
    )));
}

/// Thesis §9.6 (the "prevote ignored while candidate" case): a prevote
/// request neither unseats a candidate nor changes its term or vote.
#[test]
fn prevote_request_does_not_unseat_a_candidate() {
    let mut s = lone(
        &config(&none(), |_| {}),
        1,
        &[1, 2, 3],
        storage_at(1, 0),
        MemLogStore::new(),
    );
    s.step(vote_req(2, 1, true, 2, (0, 0))); // grant a prevote as follower first: fine
    s.force_timeout().unwrap(); // precandidate
    s.step(Message {
        from: 2,
        to: 1,
        body: MessageBody::RequestVoteResp(raftlab_core::RequestVoteResp {
            prevote: true,
            request_term: 2,
            term: 2,
            vote_granted: true,
        }),
    });
    assert_eq!(
        (s.state(), s.current_term(), s.voted_for()),
        (Role::Candidate, 2, 1)
    );
    for term in [2, 3] {
        s.step(vote_req(3, 1, true, term, (0, 0)));
        assert_eq!(
            (s.state(), s.current_term(), s.voted_for()),
            (Role::Candidate, 2, 1)
        );
    }
    assert_eq!(s.storage().load_meta(), (2, 1));
}

/// Thesis §4.2.3: a leader that hears from a majority ignores RequestVote,
/// even of a higher term, and keeps its term.
#[test]
fn fresh_leader_ignores_request_vote() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(10);
    c.deliver(vote_req(2, 1, false, 9, (50, 9)));
    let s1 = c.node(1);
    assert_eq!((s1.state(), s1.current_term()), (Role::Leader, 1));
}

/// Thesis §4.2.3 (leader stickiness): a follower that heard from a live
/// leader within the minimum election timeout refuses votes and prevotes;
/// once that time passes without contact, it grants them.
#[test]
fn follower_that_heard_from_its_leader_recently_refuses_votes_and_prevotes() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(60);
    for prevote in [true, false] {
        c.deliver(vote_req(3, 2, prevote, 2, (1, 1)));
        let answers = vote_answers(&c.take_queue());
        assert_eq!(answers, vec![(prevote, false, 1)], "prevote={prevote}");
        assert_eq!((c.node(2).current_term(), c.node(2).voted_for()), (1, 1));
    }
    // S1 goes silent for longer than the minimum election timeout.
    c.isolate(1);
    let min = c.config.election_timeout_min;
    for _ in 0..min {
        c.node_mut(2).tick();
    }
    c.take_queue();
    c.deliver(vote_req(3, 2, false, 2, (1, 1)));
    let answers = vote_answers(&c.take_queue());
    assert_eq!(answers, vec![(false, true, 2)]);
}

/// Thesis §9.6: without PreVote, a server rejoining after a partition with
/// an inflated term forces the leader to step down.
#[test]
fn rejoining_server_without_prevote_disrupts_the_leader() {
    let mut c = Cluster::new(3, config(&none(), |c| c.prevote = false));
    c.elect(1);
    c.isolate(3);
    c.run_ticks(1_000);
    assert!(c.node(3).current_term() > 1, "S3 inflated its term");
    assert_eq!(c.leaders(), vec![1]);
    c.recover();
    c.run_ticks(50);
    assert!(c.node(1).current_term() > 1, "S1 was forced out of term 1");
    assert!(c.events_of(1).iter().any(|e| matches!(e,
        RaftEvent::Role { role: Role::Follower, term, .. } if *term > 1)));
}

/// Thesis §9.6: with PreVote, the same rejoining server does not disturb
/// the leader: it never raised its term and simply follows.
#[test]
fn rejoining_server_with_prevote_does_not_disrupt_the_leader() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.isolate(3);
    c.run_ticks(1_000);
    assert_eq!(c.node(3).current_term(), 1);
    c.clear_events();
    c.recover();
    c.run_ticks(200);
    assert_eq!(c.leaders(), vec![1]);
    assert_eq!(c.node(1).current_term(), 1);
    assert_eq!(c.node(3).leader_id(), Some(1));
    assert!(!c
        .events_of(1)
        .iter()
        .any(|e| matches!(e, RaftEvent::Role { .. })));
}

/// Thesis §6.2 (CheckQuorum): a leader that does not hear from a majority
/// within an election timeout steps down.
#[test]
fn leader_cut_off_from_the_majority_steps_down_within_an_election_timeout() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.isolate(1);
    let min = c.config.election_timeout_min;
    c.run_ticks(2 * min + 1);
    assert_eq!(c.node(1).state(), Role::Follower);
    assert_eq!(
        c.node(1).current_term(),
        1,
        "stepping down needs no new term"
    );
}

/// Thesis §6.2: a leader that still hears from a majority stays.
#[test]
fn leader_with_a_live_majority_stays_leader() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.isolate(3);
    c.run_ticks(2_000);
    assert_eq!(c.leaders(), vec![1]);
    assert_eq!(c.node(1).current_term(), 1);
}

/// Without CheckQuorum, a cut-off leader has no reason to step down.
#[test]
fn without_check_quorum_a_cut_off_leader_stays_leader() {
    let mut c = Cluster::new(3, config(&none(), |c| c.check_quorum = false));
    c.elect(1);
    c.isolate(1);
    c.run_ticks(1_000);
    assert_eq!(c.node(1).state(), Role::Leader);
}

fn lagging_target() -> Cluster {
    let mut c = Cluster::new(5, config(&none(), |_| {}));
    c.elect(1);
    c.cut_link(1, 3);
    propose_n(&mut c, 1, 3);
    assert!(c.node(3).log().last_index() < c.node(1).log().last_index());
    c.recover();
    c
}

/// Thesis §3.10: leadership transfer brings the target's log up to date,
/// then the target campaigns at once (voters set stickiness aside) and wins.
#[test]
fn transfer_catches_the_target_up_then_it_wins_at_once() {
    let mut c = lagging_target();
    c.node_mut(1).transfer_leadership(3).unwrap();
    // The appends lost over the cut are found missing at the next heartbeat.
    c.run_ticks(c.config.heartbeat_interval + 1);
    assert_eq!(c.leaders(), vec![3]);
    assert_eq!(c.node(3).current_term(), 2);
    assert!(c.node(3).log().last_index() >= c.node(1).commit_idx());
    ok(check_one_leader_per_term(&c));
}

/// Thesis §3.10: the leader takes no proposals while transferring.
#[test]
fn leader_refuses_proposals_while_transferring() {
    let mut c = lagging_target();
    c.isolate(3);
    c.node_mut(1).transfer_leadership(3).unwrap();
    let err = c
        .node_mut(1)
        .propose_entry(put_cmd(99, "k", "v"))
        .unwrap_err();
    assert_eq!(err, ProposeError::Transferring);
}

/// Thesis §3.10: a transfer that does not finish within an election timeout
/// is aborted and the leader takes proposals again.
#[test]
fn transfer_to_an_unreachable_target_aborts_after_an_election_timeout() {
    let mut c = lagging_target();
    c.isolate(3);
    c.node_mut(1).transfer_leadership(3).unwrap();
    c.run_ticks(c.config.election_timeout_min + 1);
    assert_eq!(c.node(1).transfer_target(), None);
    assert_eq!(c.leaders(), vec![1]);
    assert!(c.node_mut(1).propose_entry(put_cmd(99, "k", "v")).is_ok());
}

/// Settings reject nonsense rather than panic later.
#[test]
fn config_validation_rejects_nonsense() {
    let bad: [fn(&mut Config); 5] = [
        |c| c.id = 0,
        |c| c.election_timeout_max = c.election_timeout_min - 1,
        |c| c.heartbeat_interval = c.election_timeout_min,
        |c| c.max_inflight = 0,
        |c| c.snapshot_chunk_bytes = 0,
    ];
    for f in bad {
        let mut cfg = Config::new(1);
        f(&mut cfg);
        assert!(cfg.validate().is_err(), "{cfg:?}");
    }
    assert!(Config::new(1).validate().is_ok());
}
