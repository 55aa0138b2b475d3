//! Log replication (Raft §5.3) and commitment (§5.4.2, Figure 8), with the
//! ERaftKV additions: pipelining, `curr_index` and message tokens.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::*;
use raftlab_core::harness::Cluster;
use raftlab_core::raft::ReplicaState;
use raftlab_core::{
    AppendEntriesResp, Bugs, EntryKind, MemStorage, Message, MessageBody, RaftEvent, Role,
};

fn none() -> Bugs {
    Bugs::none()
}

fn append_answers(msgs: &[Message]) -> Vec<(bool, u64)> {
    msgs.iter()
        .filter_map(|m| match &m.body {
            MessageBody::AppendEntriesResp(r) => Some((r.success, r.curr_index)),
            _ => None,
        })
        .collect()
}

/// §5.4.2, §8: a new leader appends a NoOp of its term at once; its commit
/// also commits everything before it.
#[test]
fn new_leader_appends_a_noop_of_its_term() {
    let mut c = Cluster::new(3, classic(&none()));
    c.start_from(2, storage_at(1, 0), log_of(&[1, 1]));
    c.elect(2);
    let s2 = c.node(2);
    let last = s2.log().get(3).unwrap();
    assert_eq!((last.kind, last.term), (EntryKind::NoOp, 2));
    assert_eq!(
        s2.commit_idx(),
        3,
        "the NoOp commits the older entries with it"
    );
}

/// §5.3: an entry commits once a majority stores it, and then every
/// server applies it; without a majority it does not commit.
#[test]
fn entry_commits_once_a_majority_stores_it() {
    let mut c = Cluster::new(5, config(&none(), |_| {}));
    c.elect(1);
    c.partition(&[&[1, 2, 3], &[4], &[5]]);
    let idx = propose_n(&mut c, 1, 1);
    assert_eq!(c.node(1).commit_idx(), idx, "3 of 5 store it");
    c.partition(&[&[1, 2], &[3], &[4], &[5]]);
    let idx2 = propose_n(&mut c, 1, 1);
    assert_eq!(c.node(1).commit_idx(), idx, "2 of 5 do not commit");
    c.recover();
    c.run_ticks(120);
    for id in 1..=5 {
        assert_eq!(c.node(id).last_applied_idx(), idx2, "S{id}");
    }
    ok(check_applied_agree(&c));
}

/// §5.3, Figure 7: a leader of term 8 brings each of the followers (a)-(f)
/// to its own log, whether they miss entries, hold extra uncommitted
/// ones, or both.
#[test]
fn figure7_leader_brings_every_follower_log_to_its_own() {
    let leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let followers: [(&[u64], u64); 6] = [
        (&[1, 1, 1, 4, 4, 5, 5, 6, 6], 6),          // (a) misses one
        (&[1, 1, 1, 4], 4),                         // (b) misses many
        (&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], 6),    // (c) one extra
        (&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], 7), // (d) extra of term 7
        (&[1, 1, 1, 4, 4, 4, 4], 4),                // (e) misses and extra
        (&[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 3),    // (f) long divergent tail
    ];
    let mut c = Cluster::new(7, config(&none(), |_| {}));
    c.start_from(1, storage_at(7, 0), log_of(&leader));
    for (i, (log, term)) in followers.iter().enumerate() {
        c.start_from(i as u64 + 2, storage_at(*term, 0), log_of(log));
    }
    c.elect(1);
    assert_eq!(c.leaders(), vec![1]);
    assert_eq!(c.node(1).current_term(), 8);
    c.run_ticks(120);
    let want = log_terms(c.node(1));
    assert_eq!(want, [&leader[..], &[8]].concat());
    for id in 2..=7 {
        assert_eq!(
            log_terms(c.node(id)),
            want,
            "follower ({})",
            (b'a' + id as u8 - 2) as char
        );
        assert_eq!(c.node(id).commit_idx(), 11);
    }
    ok(check_applied_agree(&c));
}

/// §5.4.2, Figure 8: a leader never commits an entry from an older term
/// by counting replicas.
#[test]
fn leader_never_commits_entry_from_older_term_by_counting_replicas() {
    ok(common::scenarios::figure8(&none()));
}

/// §5.4.2: older-term entries on a majority do not raise the commit index;
/// the first current-term entry on a majority commits them all at once.
#[test]
fn old_term_majority_does_not_raise_commit_until_a_current_term_entry_does() {
    let mut cfg = classic(&none());
    cfg.max_entries_per_msg = 1;
    let mut c = Cluster::new(3, cfg);
    c.start_from(1, storage_at(2, 0), log_of(&[1, 2]));
    c.start_from(2, storage_at(2, 0), log_of(&[1]));
    c.start_from(3, storage_at(2, 0), log_of(&[1]));
    let _ = c.node_mut(1).force_timeout();
    ok(settle_losing(&mut c, 1_000, |c, m| match &m.body {
        MessageBody::AppendEntries(r) => {
            r.entries.iter().any(|e| e.term == 3)
                && c.node(m.to).log().term_at(r.prev_log_idx) == Some(r.prev_log_term)
        }
        _ => false,
    }));
    assert_eq!(c.node(1).state(), Role::Leader);
    assert_eq!(log_terms(c.node(2)), vec![1, 2], "index 2 reached S2");
    assert_eq!(
        c.node(1).commit_idx(),
        0,
        "a term-2 majority commits nothing in term 3"
    );
    c.run_ticks(60); // the NoOp goes out with the next heartbeat
    assert_eq!(c.node(1).commit_idx(), 3, "index 3 commits index 2 with it");
    c.run_ticks(60);
    assert_eq!(c.node(2).last_applied_idx(), 3);
}

/// Figure 2, AppendEntries rule 5: a follower's commit index is
/// min(leader_commit, index of the last new entry).
#[test]
fn follower_commit_is_min_of_leader_commit_and_last_new_entry() {
    ok(common::scenarios::commit_is_min_of_leader_commit_and_last_new(&none()));
}

/// §5.3: a conflicting entry and all that follow it are deleted, and the
/// leader's entries take their place.
#[test]
fn conflicting_entries_are_truncated_and_replaced() {
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        storage_at(1, 0),
        log_of(&[1, 1, 1]),
    );
    s.step(append(1, 3, 2, 1, (1, 1), 0, vec![entry(2, 2)]));
    let (msgs, events) = drain(&mut s);
    assert_eq!(append_answers(&msgs), vec![(true, 2)]);
    assert_eq!(log_terms(&s), vec![1, 2]);
    assert!(events.contains(&RaftEvent::Truncate { from: 2 }));
}

/// §5.4: committed entries are never truncated, whatever a message says.
#[test]
fn committed_entries_are_never_truncated() {
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        storage_at(1, 0),
        log_of(&[1, 1, 1]),
    );
    s.step(append(1, 3, 1, 1, (3, 1), 2, vec![]));
    assert_eq!(s.commit_idx(), 2);
    drain(&mut s);
    // A forged message of a later term tries to replace index 2.
    s.step(append(2, 3, 2, 1, (1, 1), 0, vec![entry(2, 2)]));
    let (msgs, events) = drain(&mut s);
    assert_eq!(append_answers(&msgs), vec![(false, 3)]);
    assert_eq!(log_terms(&s), vec![1, 1, 1]);
    assert!(!events
        .iter()
        .any(|e| matches!(e, RaftEvent::Truncate { .. })));
}

/// §5.3: a duplicated or reordered (older) append whose entries match
/// never truncates what follows them.
#[test]
fn duplicated_or_reordered_append_never_truncates_matching_entries() {
    let mut s = lone(
        &classic(&none()),
        3,
        &[1, 2, 3],
        MemStorage::new(),
        Default::default(),
    );
    let early = append(1, 3, 1, 1, (0, 0), 0, vec![entry(1, 1), entry(2, 1)]);
    let late = append(1, 3, 1, 2, (2, 1), 0, vec![entry(3, 1), entry(4, 1)]);
    s.step(early.clone());
    s.step(late);
    s.step(early.clone()); // duplicate, arriving after the later one
    let (msgs, events) = drain(&mut s);
    assert_eq!(append_answers(&msgs), vec![(true, 2), (true, 4), (true, 2)]);
    assert_eq!(log_terms(&s), vec![1, 1, 1, 1]);
    assert!(!events
        .iter()
        .any(|e| matches!(e, RaftEvent::Truncate { .. })));
}

/// §5.3 with ERaftKV's `curr_index`: a rejection carries the follower's
/// last index, so the leader jumps `next_index` back instead of stepping
/// one entry at a time.
#[test]
fn rejection_with_curr_index_makes_the_leader_jump_next_index() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.crash(3);
    propose_n(&mut c, 1, 40);
    c.restart(3);
    c.run_ticks(200);
    assert_eq!(c.node(3).log().last_index(), c.node(1).log().last_index());
    let failed = c
        .events_of(3)
        .iter()
        .filter(|e| {
            matches!(
                e,
                RaftEvent::Rejected {
                    msg: "append_entries",
                    ..
                }
            )
        })
        .count();
    assert!(failed <= 2, "{failed} rejections to catch up 40 entries");
}

/// Pipelining: while replicating, the leader keeps several appends in
/// flight to a follower, but never more than `max_inflight`. (A proposal
/// goes out at once only to an idle follower; a backlog fills the window
/// when the answer comes back.)
#[test]
fn pipelining_keeps_at_most_max_inflight_appends_per_follower() {
    let cfg = config(&none(), |c| {
        c.max_inflight = 3;
        c.max_entries_per_msg = 1;
    });
    let mut c = Cluster::new(3, cfg);
    c.elect(1);
    c.run_ticks(1);
    for i in 0..8 {
        c.node_mut(1)
            .propose_entry(put_cmd(i + 1, "k", "v"))
            .unwrap();
    }
    for m in c.take_queue() {
        c.deliver(m); // the first proposal reaches the followers
    }
    for m in c.take_queue() {
        c.deliver(m); // their answers reach the leader, which fills the window
    }
    let queued = c.take_queue();
    let to2 = queued
        .iter()
        .filter(|m| is_append_to(m, 2) && carries_entries(m))
        .count();
    assert_eq!(to2, 3, "three appends in flight, no more");
    assert_eq!(c.node(1).progress()[&2].inflight.len(), 3);
    for m in queued {
        c.deliver(m);
    }
    c.deliver_all();
    c.run_ticks(60);
    assert_eq!(c.node(2).log().last_index(), 9, "the window slides on");
}

/// The leader never puts more than `max_entries_per_msg` entries in one
/// AppendEntries.
#[test]
fn leader_sends_at_most_max_entries_per_message() {
    let cfg = config(&none(), |c| c.max_entries_per_msg = 4);
    let mut c = Cluster::new(3, cfg);
    c.elect(1);
    c.crash(3);
    propose_n(&mut c, 1, 30);
    c.restart(3);
    let most = Rc::new(Cell::new(0usize));
    let seen = most.clone();
    for _ in 0..200 {
        c.tick_all();
        ok(settle_losing(&mut c, 10_000, |_, m| {
            if let MessageBody::AppendEntries(r) = &m.body {
                seen.set(seen.get().max(r.entries.len()));
            }
            false
        }));
    }
    assert_eq!(c.node(3).log().last_index(), 31);
    assert_eq!(most.get(), 4);
}

fn leader_with_two_pipelined_answers() -> (Cluster, Message, Message) {
    let mut c = Cluster::new(3, config(&none(), |c| c.max_entries_per_msg = 1));
    c.elect(1);
    c.run_ticks(1);
    c.node_mut(1).propose_entry(put_cmd(1, "a", "1")).unwrap();
    c.node_mut(1).propose_entry(put_cmd(2, "b", "2")).unwrap();
    c.node_mut(1).propose_entry(put_cmd(3, "c", "3")).unwrap();
    // The first proposal goes out alone; its answers make the leader send
    // the other two as two pipelined appends.
    for m in c.take_queue() {
        c.deliver(m);
    }
    for m in c.take_queue() {
        c.deliver(m);
    }
    for m in c.take_queue() {
        c.deliver(m);
    }
    let answers = c.hold_queued(|m| is_append_resp_from(m, 2));
    assert_eq!(answers.len(), 2);
    c.deliver_all();
    (c, answers[0].clone(), answers[1].clone())
}

/// Message tokens: an answer older than one already handled is stale and
/// ignored, even a rejection that would send `next_index` back.
#[test]
fn stale_append_response_with_an_older_token_is_ignored() {
    let (mut c, older, newer) = leader_with_two_pipelined_answers();
    c.deliver(newer);
    let before = c.node(1).progress()[&2].clone();
    assert_eq!(before.match_index, 4);
    let MessageBody::AppendEntriesResp(r) = &older.body else {
        unreachable!()
    };
    let forged = Message {
        body: MessageBody::AppendEntriesResp(AppendEntriesResp {
            success: false,
            curr_index: 0,
            ..r.clone()
        }),
        ..older.clone()
    };
    c.clear_events();
    c.deliver(older);
    c.deliver(forged);
    let after = &c.node(1).progress()[&2];
    assert_eq!(after.match_index, 4);
    assert_eq!(after.next_index, before.next_index);
    assert_eq!(after.state, ReplicaState::Replicate);
    let stale = c
        .events_of(1)
        .iter()
        .filter(|e| {
            matches!(
                e,
                RaftEvent::Rejected {
                    msg: "append_entries_resp",
                    ..
                }
            )
        })
        .count();
    assert_eq!(stale, 2);
}

/// A duplicated answer (same token) never lowers the match index.
#[test]
fn duplicate_append_response_does_not_lower_match_index() {
    let (mut c, older, newer) = leader_with_two_pipelined_answers();
    c.deliver(older);
    c.deliver(newer.clone());
    assert_eq!(c.node(1).progress()[&2].match_index, 4);
    c.deliver(newer.clone());
    let MessageBody::AppendEntriesResp(r) = &newer.body else {
        unreachable!()
    };
    let lower = Message {
        body: MessageBody::AppendEntriesResp(AppendEntriesResp {
            curr_index: 1,
            ..r.clone()
        }),
        ..newer.clone()
    };
    c.deliver(lower);
    assert_eq!(c.node(1).progress()[&2].match_index, 4);
}

/// §5.3: followers learn the commit index from later appends or
/// heartbeats, and apply up to it. (The empty append announcing the new
/// commit index is lost here, so only a heartbeat can tell S2.)
#[test]
fn heartbeats_carry_the_commit_index_to_followers() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.drop_if(|m| m.to == 2 && !carries_entries(m));
    let idx = propose_n(&mut c, 1, 1);
    c.recover();
    assert_eq!(c.node(1).commit_idx(), idx);
    assert!(c.node(2).commit_idx() < idx, "nothing told S2 yet");
    c.run_ticks(c.config.heartbeat_interval);
    assert_eq!(c.node(2).commit_idx(), idx);
    assert_eq!(c.node(2).last_applied_idx(), idx);
}

/// §5.3: lost appends are retried until the follower has every entry.
#[test]
fn lost_appends_are_retried_until_the_follower_catches_up() {
    let mut c = Cluster::new(3, config(&none(), |_| {}));
    c.elect(1);
    c.drop_if(|m| m.to == 2 && carries_entries(m));
    propose_n(&mut c, 1, 5);
    assert_eq!(c.node(2).log().last_index(), 1);
    c.recover();
    c.run_ticks(120);
    assert_eq!(log_terms(c.node(2)), log_terms(c.node(1)));
}

/// Batching without a timer: proposals made while a follower still has an
/// append in flight wait for its answer and then travel together, so a
/// burst of proposals costs a few messages, not one per entry.
#[test]
fn proposals_made_while_a_follower_is_busy_travel_together() {
    let mut c = Cluster::new(3, config(&none(), |c| c.max_entries_per_msg = 64));
    c.elect(1);
    c.run_ticks(1);
    for i in 0..10 {
        c.node_mut(1)
            .propose_entry(put_cmd(i + 1, "k", "v"))
            .unwrap();
    }
    let first = c.take_queue();
    let to2: Vec<usize> = first
        .iter()
        .filter(|m| is_append_to(m, 2))
        .map(|m| match &m.body {
            MessageBody::AppendEntries(r) => r.entries.len(),
            _ => 0,
        })
        .collect();
    assert_eq!(to2, vec![1], "only the first proposal goes out at once");
    for m in first {
        c.deliver(m);
    }
    for m in c.take_queue() {
        c.deliver(m);
    }
    let second: Vec<usize> = c
        .take_queue()
        .iter()
        .filter(|m| is_append_to(m, 2))
        .map(|m| match &m.body {
            MessageBody::AppendEntries(r) => r.entries.len(),
            _ => 0,
        })
        .collect();
    assert_eq!(second, vec![9], "the other nine travel in one append");
}

/// Figure 2 (followers learn `leaderCommit` from AppendEntries): once the
/// commit index rises, an idle follower hears it at once from an empty
/// append, as etcd does, not at the next heartbeat. With no tick at all,
/// a new leader's NoOp and a burst of proposals end up committed and
/// applied on every server, and the announcement is sent once.
#[test]
fn a_rising_commit_index_reaches_idle_followers_without_a_heartbeat() {
    let mut c = Cluster::new(5, classic(&none()));
    c.elect(1);
    let noop = c.node(1).log().last_index();
    for id in 1..=5 {
        assert_eq!(
            c.node(id).last_applied_idx(),
            noop,
            "S{id} applied the NoOp"
        );
    }
    for seq in 0..10 {
        let cmd = put_cmd(seq + 1, &format!("k{seq}"), "v");
        c.node_mut(1).propose_entry(cmd).unwrap();
    }
    c.deliver_all();
    let last = c.node(1).log().last_index();
    assert_eq!(last, noop + 10);
    for id in 1..=5 {
        assert_eq!(c.node(id).commit_idx(), last, "S{id} commit");
        assert_eq!(c.node(id).last_applied_idx(), last, "S{id} applied");
    }
    ok(check_applied_agree(&c));
    // Nothing is left to say: the queue is quiet until the next heartbeat.
    c.deliver_all();
    assert!(c.queue.is_empty());
    for id in 2..=5 {
        let pr = &c.node(1).progress()[&id];
        assert_eq!(pr.commit_sent, last, "S{id} was told the commit once");
    }
}

/// With commit announcements off (the simulator's setting), followers
/// learn the new commit index only with the next append or heartbeat.
#[test]
fn without_announcements_followers_learn_the_commit_at_the_next_heartbeat() {
    let mut c = Cluster::new(3, config(&none(), |c| c.announce_commit = false));
    c.elect(1);
    let idx = propose_n(&mut c, 1, 1);
    assert_eq!(c.node(1).commit_idx(), idx);
    assert!(c.node(2).commit_idx() < idx, "nothing told S2 yet");
    c.run_ticks(c.config.heartbeat_interval);
    assert_eq!(c.node(2).last_applied_idx(), idx);
}

/// What the page's quorum panel shows (§5.3: a leader counts the servers
/// that stored an entry): only servers that answered the leader count as
/// having acknowledged an index; a crashed one never did, not even index 0.
#[test]
fn only_servers_that_answered_the_leader_have_acknowledged_an_index() {
    let mut c = Cluster::new(5, config(&Bugs::none(), |_| {}));
    c.crash(4);
    c.crash(5);
    c.drop_if(carries_entries);
    c.elect(1);
    assert_eq!(c.node(1).state(), Role::Leader);
    assert_eq!(c.node(1).commit_idx(), 0);
    // Nobody has answered an append yet: only the leader itself.
    assert_eq!(c.node(1).acked(0), vec![1]);
    c.recover();
    c.run_ticks(c.config.heartbeat_interval + 1);
    let commit = c.node(1).commit_idx();
    assert!(commit >= 1, "the no-op committed with S2 and S3");
    assert_eq!(c.node(1).acked(commit), vec![1, 2, 3]);
    assert_eq!(
        c.node(1).acked(0),
        vec![1, 2, 3],
        "S4 and S5 never answered"
    );
}
