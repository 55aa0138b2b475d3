//! Membership changes (Raft §6, thesis chapter 4): learners, one change at
//! a time, configurations that act when appended, joint consensus, and a
//! leader removing itself.

mod common;

use common::*;
use raftlab_core::harness::Cluster;
use raftlab_core::raft::{ConfChange, ProposeError};
use raftlab_core::{
    format_ids, Bugs, Entry, EntryKind, KvStore, MemLogStore, MemNetwork, MemStorage, Membership,
    RaftEvent, Role,
};

fn none() -> Bugs {
    Bugs::none()
}

fn voters(c: &Cluster, id: u64) -> Vec<u64> {
    c.node(id).config().voters.iter().copied().collect()
}

fn change(c: &mut Cluster, leader: u64, ch: ConfChange) {
    c.node_mut(leader).propose_conf_change(ch).unwrap();
    c.deliver_all();
    c.run_ticks(120);
}

fn member_entry(index: u64, term: u64, kind: EntryKind, ids: &[u64]) -> Entry {
    Entry {
        term,
        index,
        kind,
        data: format_ids(ids),
    }
}

/// Thesis §4.2.1: a learner receives the log but neither votes nor counts
/// toward commitment.
#[test]
fn learner_receives_the_log_but_neither_votes_nor_counts() {
    ok(common::scenarios::learners_do_not_count(&none()));
}

/// Thesis §4.2.1: a learner never campaigns, and a candidate never asks a
/// learner for its vote (nor would count it).
#[test]
fn learner_never_campaigns_and_is_never_asked_to_vote() {
    let mut conf = Membership::with_voters([1, 2, 3]);
    conf.learners.insert(4);
    let mut s = raftlab_core::harness::Server::new(
        config(&none(), |c| c.id = 4),
        conf,
        MemStorage::new(),
        MemLogStore::new(),
        KvStore::new(),
        MemNetwork::default(),
        rand_core::SeedableRng::seed_from_u64(4),
    )
    .unwrap();
    assert!(s.force_timeout().is_err());
    for _ in 0..1_000 {
        s.tick();
    }
    assert_eq!((s.state(), s.current_term()), (Role::Follower, 0));
    let (msgs, _) = drain(&mut s);
    assert!(msgs.is_empty(), "a learner sends nothing on its own");
    // Candidates ask voters only.
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.add_node(4);
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddLearner(4))
        .unwrap();
    c.deliver_all();
    c.run_ticks(60);
    let _ = c.node_mut(2).force_timeout();
    let asked: Vec<u64> = c
        .take_queue()
        .iter()
        .filter(|m| m.body.kind() == "request_vote")
        .map(|m| m.to)
        .collect();
    assert!(!asked.contains(&4), "S4 was asked to vote: {asked:?}");
}

/// Thesis §4.1: a server votes without consulting its own configuration.
/// A node promoted to voter before it received the promotion entry is
/// needed for the new majority; if it refused ("I am not a voter") no one
/// could ever be elected.
#[test]
fn a_voter_that_has_not_yet_seen_its_promotion_still_votes() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.add_node(4);
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddLearner(4))
        .unwrap();
    c.deliver_all();
    c.run_ticks(60);
    // Promote S4 while it cannot hear: voters {1,2,3,4} commit with S1-S3.
    c.isolate(4);
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddVoter(4))
        .unwrap();
    c.deliver_all();
    c.run_ticks(60);
    assert!(c.node(1).config().is_voter(4));
    assert!(c.node(4).config().is_learner(4), "S4 has not seen it");
    // The leader goes down: of voters {1,2,3,4}, a majority (3) needs S4.
    c.crash(1);
    c.recover();
    c.run_ticks(2_000);
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1, "someone is elected with S4's vote");
    let l = leaders[0];
    assert!(c.node(l).elected_by().contains(&4), "S4's vote counted");
}

/// Thesis §4.2.1: a learner catches up, then is promoted to voter; from
/// then on its acknowledgement counts.
#[test]
fn learner_catches_up_and_is_promoted_to_a_counting_voter() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    propose_n(&mut c, 1, 20);
    c.add_node(4);
    change(&mut c, 1, ConfChange::AddLearner(4));
    assert!(c.node(4).config().is_learner(4));
    assert_eq!(
        log_terms(c.node(4)),
        log_terms(c.node(1)),
        "the learner caught up"
    );
    change(&mut c, 1, ConfChange::AddVoter(4));
    assert_eq!(voters(&c, 4), vec![1, 2, 3, 4]);
    // Voters {1,2,3,4}: with S2 down, S1+S3+S4 are a majority only if S4 counts.
    c.crash(2);
    let idx = propose_n(&mut c, 1, 1);
    assert_eq!(c.node(1).commit_idx(), idx);
    c.crash(3);
    let idx2 = propose_n(&mut c, 1, 1);
    assert!(c.node(1).commit_idx() < idx2, "2 of 4 voters do not commit");
}

/// Thesis §4.2.2: a leader that removes itself keeps leading until the
/// change commits (in C_new, without counting itself), then steps down.
#[test]
fn leader_removing_itself_steps_down_once_the_change_commits() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(1);
    c.cut_link(1, 2);
    let (idx, _) = c
        .node_mut(1)
        .propose_conf_change(ConfChange::Remove(1))
        .unwrap();
    c.deliver_all();
    assert_eq!(voters(&c, 1), vec![2, 3], "the change acts once appended");
    assert_eq!(c.node(1).state(), Role::Leader);
    assert!(
        c.node(1).commit_idx() < idx,
        "S1 and S3 are not a majority of C_new = {{2, 3}}"
    );
    c.recover();
    c.run_ticks(60);
    assert_eq!(c.node(1).state(), Role::Follower);
    c.run_ticks(700);
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1);
    assert_ne!(leaders[0], 1);
    for id in [2, 3] {
        assert_eq!(voters(&c, id), vec![2, 3]);
        assert!(c.node(id).commit_idx() >= idx, "S{id}");
    }
    assert!(
        c.node_mut(1).force_timeout().is_err(),
        "a removed server does not campaign"
    );
}

/// Thesis §4.1: one change at a time: a change is refused while another
/// has not committed.
#[test]
fn voting_change_is_rejected_while_one_is_pending() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.add_node(4);
    c.add_node(5);
    c.partition(&[&[1, 4, 5], &[2], &[3]]);
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddVoter(4))
        .unwrap();
    c.deliver_all();
    let err = c
        .node_mut(1)
        .propose_conf_change(ConfChange::AddVoter(5))
        .unwrap_err();
    assert_eq!(err, ProposeError::ChangePending);
    let err = c
        .node_mut(1)
        .propose_conf_change(ConfChange::Remove(3))
        .unwrap_err();
    assert_eq!(err, ProposeError::ChangePending);
    c.recover();
    c.run_ticks(120);
    assert!(c
        .node_mut(1)
        .propose_conf_change(ConfChange::AddVoter(5))
        .is_ok());
}

/// Thesis §4.1: a server uses the newest configuration in its log, as soon
/// as it is appended, committed or not; truncating the entry reverts it.
#[test]
fn configuration_acts_when_appended_and_reverts_when_truncated() {
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        MemStorage::new(),
        MemLogStore::new(),
    );
    let join = member_entry(2, 1, EntryKind::JoinNode, &[4]);
    s.step(append(1, 3, 1, 1, (0, 0), 0, vec![entry(1, 1), join]));
    assert!(s.config().is_voter(4), "in force before it commits");
    assert_eq!(s.commit_idx(), 0);
    // A later leader never had that entry: it is truncated.
    s.step(append(2, 3, 2, 1, (1, 1), 1, vec![entry(2, 2)]));
    assert!(!s.config().contains(4), "reverted with the truncated entry");
    let (_, events) = drain(&mut s);
    let last_config = events.iter().rev().find_map(|e| match e {
        RaftEvent::Config(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(last_config, Some(Membership::with_voters([1, 2, 3])));
}

fn joint_setup() -> Cluster {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.add_node(4);
    c.add_node(5);
    change(&mut c, 1, ConfChange::AddLearner(4));
    change(&mut c, 1, ConfChange::AddLearner(5));
    c
}

/// Thesis §4.3: joint consensus: while in C_old,new, commitment needs a
/// majority of C_old and of C_new; C_old's majority alone is not enough.
/// Once C_old,new commits, the leader moves to C_new alone.
#[test]
fn joint_consensus_needs_the_new_majority_too() {
    let mut c = joint_setup();
    // C_old = {1,2,3}, C_new = {1,4,5}; S4 and S5 cut off.
    c.partition(&[&[1, 2, 3], &[4], &[5]]);
    let (idx, _) = c
        .node_mut(1)
        .propose_conf_change(ConfChange::Joint(vec![1, 4, 5]))
        .unwrap();
    c.run_ticks(120);
    let conf = c.node(1).config().clone();
    assert!(conf.is_joint());
    assert_eq!(
        conf.outgoing.iter().copied().collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(c.node(1).commit_idx() < idx, "C_old alone is not enough");
    c.recover();
    c.run_ticks(240);
    assert!(
        c.node(1).commit_idx() > idx,
        "both majorities: joint entry and C_new commit"
    );
    assert!(!c.node(1).config().is_joint());
    assert_eq!(voters(&c, 1), vec![1, 4, 5]);
    assert_eq!(voters(&c, 4), vec![1, 4, 5]);
    // S2 and S3 no longer count: with S4 down, S1 and S5 are a majority.
    c.crash(4);
    let idx2 = propose_n(&mut c, 1, 1);
    assert_eq!(c.node(1).commit_idx(), idx2);
}

/// Thesis §4.3: C_new's majority alone is not enough either.
#[test]
fn joint_consensus_needs_the_old_majority_too() {
    let mut c = joint_setup();
    c.partition(&[&[1, 4, 5], &[2], &[3]]);
    let (idx, _) = c
        .node_mut(1)
        .propose_conf_change(ConfChange::Joint(vec![1, 4, 5]))
        .unwrap();
    c.run_ticks(120);
    assert_eq!(c.node(4).log().last_index(), idx, "C_new holds the entry");
    assert!(c.node(1).commit_idx() < idx, "C_new alone is not enough");
}

/// Thesis §4.3: a leader not in C_new steps down once C_new commits.
#[test]
fn leader_outside_the_new_configuration_steps_down_after_the_joint_change() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.add_node(4);
    change(&mut c, 1, ConfChange::AddLearner(4));
    change(&mut c, 1, ConfChange::Joint(vec![2, 3, 4]));
    assert_ne!(c.node(1).state(), Role::Leader);
    c.run_ticks(700);
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1);
    assert!([2, 3, 4].contains(&leaders[0]));
    assert_eq!(voters(&c, leaders[0]), vec![2, 3, 4]);
}

/// Thesis §4.1 (the 2015 fix): a new leader starts no change before an
/// entry of its own term has committed.
#[test]
fn new_leader_starts_no_change_before_an_entry_of_its_term_commits() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.add_node(4);
    c.drop_if(carries_entries);
    c.elect(1);
    assert_eq!(c.node(1).state(), Role::Leader);
    let err = c
        .node_mut(1)
        .propose_conf_change(ConfChange::AddLearner(4))
        .unwrap_err();
    assert_eq!(err, ProposeError::LeaderNotReady);
    c.recover();
    c.run_ticks(60);
    assert!(c
        .node_mut(1)
        .propose_conf_change(ConfChange::AddLearner(4))
        .is_ok());
}

/// Membership requests that make no sense are refused, not applied.
#[test]
fn nonsensical_membership_changes_are_refused() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    let bad = [
        ConfChange::AddLearner(0),
        ConfChange::AddVoter(0),
        ConfChange::AddLearner(2),
        ConfChange::AddVoter(3),
        ConfChange::Remove(9),
        ConfChange::Joint(vec![]),
        ConfChange::Joint(vec![3, 2, 1]),
    ];
    let last = c.node(1).log().last_index();
    for ch in bad {
        assert!(
            matches!(
                c.node_mut(1).propose_conf_change(ch.clone()),
                Err(ProposeError::Invalid(_))
            ),
            "{ch:?}"
        );
    }
    assert_eq!(c.node(1).log().last_index(), last);
    assert!(c
        .node_mut(2)
        .propose_conf_change(ConfChange::AddLearner(7))
        .is_err());
}

/// Whether `m` carries the entry that ends a joint configuration (C_new).
fn carries_joint_leave(m: &raftlab_core::Message) -> bool {
    matches!(&m.body, raftlab_core::MessageBody::AppendEntries(r)
        if r.entries.iter().any(|e| e.kind == EntryKind::JointLeave))
}

/// Thesis §4.3: once C_old,new has committed, the leader moves the cluster
/// on to C_new, whoever proposed the change. Here the proposer dies before
/// anyone receives its C_new; the next leader finds C_old,new committed in
/// its own log and must append C_new itself, or the cluster stays joint
/// forever and refuses every later change as pending.
#[test]
fn new_leader_finishes_a_joint_change_its_predecessor_committed_thesis_4_3() {
    let mut c = Cluster::new(5, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(1);
    // Nothing that carries C_new leaves S1.
    c.drop_if(carries_joint_leave);
    let (joint, _) = c
        .node_mut(1)
        .propose_conf_change(ConfChange::Joint(vec![1, 2, 3]))
        .unwrap();
    c.run_ticks(c.config.heartbeat_interval + 1);
    assert!(c.node(1).commit_idx() >= joint, "C_old,new committed");
    assert!(!c.node(1).config().is_joint(), "S1 itself appended C_new");
    for id in 2..=5 {
        assert!(c.node(id).config().is_joint(), "S{id} never saw C_new");
    }
    for id in [2, 3] {
        assert!(c.node(id).commit_idx() >= joint, "S{id} applied C_old,new");
    }
    c.crash(1);
    c.recover();
    // Whoever wins next (S4 and S5 may campaign too: they are voters of
    // C_old) has C_old,new committed in its log and no C_new.
    c.run_ticks(4 * c.config.election_timeout_max);
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1, "one leader: {leaders:?}");
    let leader = leaders[0];
    assert!([2, 3].contains(&leader), "a member of C_new leads");
    // S4 and S5, removed, are no longer told anything (thesis §4.2.3).
    for id in [2, 3] {
        assert!(!c.node(id).config().is_joint(), "S{id} left C_old,new");
    }
    assert_eq!(voters(&c, leader), vec![1, 2, 3]);
    // The change is finished: a new one is accepted.
    assert!(c
        .node_mut(leader)
        .propose_conf_change(ConfChange::Remove(1))
        .is_ok());
}

/// Thesis §4.2.2: a leader that removes itself steps down once C_new
/// commits; it tells the remaining servers that the change committed before
/// it goes, so they do not show it pending until the next election.
#[test]
fn removed_leader_tells_followers_its_removal_committed_before_stepping_down_thesis_4_2_2() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(1);
    let (idx, _) = c
        .node_mut(1)
        .propose_conf_change(ConfChange::Remove(1))
        .unwrap();
    c.deliver_all();
    assert_eq!(c.node(1).state(), Role::Follower, "S1 stepped down");
    assert!(c.leaders().is_empty(), "no election has happened yet");
    for id in [2, 3] {
        assert!(
            c.node(id).commit_idx() >= idx,
            "S{id} learned that its leader's removal committed"
        );
    }
}

/// Thesis §3.10 (as raft-rs and etcd do it): asking again to transfer to
/// the same target does not restart the transfer's timeout, so a client
/// that keeps retrying cannot keep the leader refusing proposals forever.
#[test]
fn repeated_transfer_to_the_same_target_keeps_its_deadline_thesis_3_10() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(1);
    c.isolate(3);
    c.node_mut(1).transfer_leadership(3).unwrap();
    let timeout = c.config.election_timeout_min;
    for _ in 0..4 {
        c.run_ticks(timeout / 4);
        let _ = c.node_mut(1).transfer_leadership(3);
    }
    // An election timeout after the first request.
    c.run_ticks(timeout - 4 * (timeout / 4));
    assert_eq!(c.node(1).transfer_target(), None, "the transfer timed out");
    assert!(c.node_mut(1).propose_entry(put_cmd(7, "k", "v")).is_ok());
}

/// Thesis §4.2.2: a leader that appended its own removal but was deposed
/// before it committed holds the longest log; the remaining voters cannot
/// win without its vote and do not get it. It must still campaign (in its
/// latest configuration, without counting itself), win, commit its
/// removal and step down, or the cluster never elects a leader again.
#[test]
fn deposed_leader_whose_removal_is_uncommitted_still_campaigns_and_finishes_it_thesis_4_2_2() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.run_ticks(1);
    change(&mut c, 1, ConfChange::Remove(2));
    assert_eq!(voters(&c, 3), vec![1, 3]);
    c.isolate(1);
    let (idx, _) = c
        .node_mut(1)
        .propose_conf_change(ConfChange::Remove(1))
        .unwrap();
    c.deliver_all();
    assert_eq!(voters(&c, 1), vec![3], "S1's removal acts once appended");
    // CheckQuorum deposes S1; S3 alone is no majority of {1, 3}.
    c.run_ticks(2 * c.config.election_timeout_max);
    assert!(c.leaders().is_empty());
    c.recover();
    c.run_ticks(4 * c.config.election_timeout_max);
    assert_eq!(c.leaders(), vec![3], "S3 leads C_new = {{3}}");
    assert!(c.node(3).commit_idx() >= idx, "S1's removal committed");
    assert_eq!(voters(&c, 3), vec![3]);
    assert!(
        c.node_mut(1).force_timeout().is_err(),
        "once its removal committed, S1 no longer campaigns"
    );
}
