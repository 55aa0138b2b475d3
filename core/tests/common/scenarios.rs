//! The paper scenarios that each deliberate bug breaks. Every scenario takes
//! the bugs to switch on and returns `Err` with what went wrong: the paper
//! tests call them with no bugs and expect `Ok`; `bugs_are_caught.rs` calls
//! each with its bug and expects `Err`.

use raftlab_core::harness::Cluster;
use raftlab_core::raft::ConfChange;
use raftlab_core::{Bugs, MessageBody, RaftEvent, Role};

use super::*;

/// Figure 8 (§5.4.2): S1, leader of term 4, gets its term-2 entry at index
/// 2 onto a majority but none of its term-4 entries. It must not count that
/// majority as commitment: S5 (last term 3) can still win and overwrite
/// index 2, which is what then happens.
pub fn figure8(bugs: &Bugs) -> Result<(), String> {
    let cfg = config(bugs, |c| {
        c.prevote = false;
        c.check_quorum = false;
        c.max_entries_per_msg = 1;
    });
    let mut c = Cluster::new(5, cfg);
    // (b) of Figure 8: S1 led term 2 and got index 2 to S2; S5 led term 3
    // (votes of S3, S4, S5) and wrote its own index 2.
    c.start_from(1, storage_at(3, 0), log_of(&[1, 2]));
    c.start_from(2, storage_at(2, 1), log_of(&[1, 2]));
    c.start_from(3, storage_at(3, 5), log_of(&[1]));
    c.start_from(4, storage_at(3, 5), log_of(&[1]));
    c.start_from(5, storage_at(3, 5), log_of(&[1, 3]));
    c.crash(5);
    // (c): S1 leads term 4 and spreads index 2, but its own term-4 entry
    // is lost on the way to anyone who would store it.
    let _ = c.node_mut(1).force_timeout();
    settle_losing(&mut c, 10_000, |c, m| match &m.body {
        MessageBody::AppendEntries(r) => {
            r.entries.iter().any(|e| e.term == 4)
                && c.is_up(m.to)
                && c.node(m.to).log().term_at(r.prev_log_idx) == Some(r.prev_log_term)
        }
        _ => false,
    })?;
    ensure(c.node(1).state() == Role::Leader, "S1 should lead term 4")?;
    ensure(c.node(1).current_term() == 4, "S1 should be in term 4")?;
    let holders = (1..=4)
        .filter(|&id| c.node(id).log().term_at(2) == Some(2))
        .count();
    ensure(
        holders >= 3,
        format!(
            "index 2 (term 2) should be on a majority: {:?}",
            (1..=4).map(|id| log_terms(c.node(id))).collect::<Vec<_>>()
        ),
    )?;
    let early_commit = c.node(1).commit_idx();
    // (d): S1 crashes; S5 wins term 5 with S2-S4 and overwrites index 2.
    c.crash(1);
    c.recover();
    c.restart(5);
    c.elect(5);
    if c.node(5).state() != Role::Leader {
        c.elect(5);
    }
    ensure(
        c.node(5).state() == Role::Leader,
        "S5 should win a later term",
    )?;
    c.run_ticks(60);
    check_applied_agree(&c)?;
    ensure(
        early_commit < 2,
        format!(
            "S1 committed index {early_commit} in term 4 by counting replicas of a term-2 entry (§5.4.2, Figure 8)"
        ),
    )
}

/// §5.4.1: a candidate whose log lacks committed entries cannot win,
/// because every voter that holds them refuses it.
pub fn up_to_date_check(bugs: &Bugs) -> Result<(), String> {
    let mut c = Cluster::new(3, classic(bugs));
    c.elect(1);
    c.isolate(3);
    let last = propose_n(&mut c, 1, 2);
    c.run_ticks(60);
    ensure(
        c.node(1).commit_idx() == last,
        "S1 and S2 commit without S3",
    )?;
    c.crash(1);
    c.recover();
    // Only the election matters here: hold back S3's appends, if it wins.
    let _ = c.node_mut(3).force_timeout();
    settle_losing(&mut c, 10_000, |_, m| {
        matches!(m.body, MessageBody::AppendEntries(_))
    })?;
    let s3 = c.node(3);
    if s3.state() == Role::Leader {
        let held = (1..=last).all(|i| s3.log().term_at(i) == Some(1));
        ensure(
            held,
            format!(
                "S3 won term {} without the committed entries up to {last} (Leader Completeness, §5.4.1)",
                s3.current_term()
            ),
        )?;
    }
    check_applied_agree(&c)
}

/// Thesis §9.6: prevote requests at term+1 leave every receiver's term and
/// vote as they were; only the real election that follows changes them.
pub fn prevote_keeps_terms(bugs: &Bugs) -> Result<(), String> {
    let mut c = Cluster::new(3, config(bugs, |_| {}));
    let _ = c.node_mut(1).force_timeout();
    ensure(
        c.node(1).state() == Role::PreCandidate,
        "S1 asks for prevotes first",
    )?;
    let requests = c.hold_queued(|m| m.body.prevote() == Some(true));
    ensure(requests.len() == 2, "one prevote request per other voter")?;
    for m in requests {
        let to = m.to;
        let writes = c.node(to).storage().meta_writes;
        c.deliver(m);
        let s = c.node(to);
        ensure(
            s.current_term() == 0 && s.voted_for() == 0 && s.storage().meta_writes == writes,
            format!(
                "a prevote request moved S{to} to term {} (vote {}) (thesis §9.6)",
                s.current_term(),
                s.voted_for()
            ),
        )?;
    }
    ensure(
        c.node(1).current_term() == 0,
        "the precandidate keeps its term",
    )?;
    c.deliver_all();
    ensure(
        c.leaders() == vec![1],
        "granted prevotes lead to a real election",
    )?;
    ensure(
        c.node(1).current_term() == 1,
        "the real election is at term 1",
    )
}

/// Figure 2: `votedFor` is persistent. S2 votes for S1 in term 1, crashes
/// and restarts, then S3 asks in term 1: S2 must refuse, or term 1 gets two
/// leaders.
pub fn vote_survives_restart(bugs: &Bugs) -> Result<(), String> {
    let mut c = Cluster::new(3, classic(bugs));
    let _ = c.node_mut(1).force_timeout();
    c.drop_queued(|m| m.to == 3);
    ensure(c.deliver_one(), "S1's request reaches S2")?;
    let granted = c.hold_queued(|m| m.from == 2);
    ensure(c.node(2).voted_for() == 1, "S2 voted for S1")?;
    c.crash(2);
    c.restart(2);
    let _ = c.node_mut(3).force_timeout();
    ensure(c.node(3).current_term() == 1, "S3 campaigns in term 1 too")?;
    c.deliver_all();
    for m in granted {
        c.deliver(m);
    }
    c.deliver_all();
    for (term, candidates) in votes_granted(&c, 2) {
        ensure(
            candidates.len() <= 1,
            format!(
                "S2 voted for {candidates:?} in term {term} (Figure 2: votedFor is persistent)"
            ),
        )?;
    }
    check_one_leader_per_term(&c)
}

/// Figure 2, AppendEntries rule 5: commitIndex = min(leaderCommit, index
/// of last new entry). S3 holds a stale uncommitted index 3 of term 2; the
/// leader of term 4 (whose index 3 is of term 3) sends a heartbeat anchored
/// at index 2 with its commit index 4. S3 may commit 2, not 3.
pub fn commit_is_min_of_leader_commit_and_last_new(bugs: &Bugs) -> Result<(), String> {
    let cfg = classic(bugs);
    let mut s3 = lone(&cfg, 3, &[1, 2, 3], storage_at(2, 0), log_of(&[1, 2, 2]));
    s3.step(append(1, 3, 4, 1, (2, 2), 4, vec![]));
    let (msgs, _) = drain(&mut s3);
    let answered = msgs.iter().any(
        |m| matches!(&m.body, MessageBody::AppendEntriesResp(r) if r.success && r.curr_index == 2),
    );
    ensure(answered, "S3 matches the heartbeat at index 2")?;
    ensure(
        s3.commit_idx() <= 2,
        format!(
            "S3 committed up to {} past the last entry the leader vouched for (2): its stale index 3 (term 2) counts as committed",
            s3.commit_idx()
        ),
    )?;
    ensure(s3.last_applied_idx() <= 2, "S3 applied its stale index 3")
}

/// Thesis §4.2.1: learners receive the log but are not counted. Voters
/// {1,2,3}, learners {4,5}; with S2 and S3 cut off, S1 reaches only the
/// learners, so nothing new commits.
pub fn learners_do_not_count(bugs: &Bugs) -> Result<(), String> {
    let mut c = Cluster::new(3, config(bugs, |_| {}));
    c.elect(1);
    for id in [4, 5] {
        c.add_node(id);
        c.node_mut(1)
            .propose_conf_change(ConfChange::AddLearner(id))
            .map_err(|e| e.to_string())?;
        c.deliver_all();
        c.run_ticks(60);
    }
    ensure(
        c.node(1).config().learners.len() == 2,
        "two learners joined",
    )?;
    c.partition(&[&[1, 4, 5], &[2], &[3]]);
    let (idx, _) = c
        .node_mut(1)
        .propose_entry(put_cmd(1, "x", "1"))
        .map_err(|e| e.to_string())?;
    c.deliver_all();
    for id in [4, 5] {
        ensure(
            c.node(id).log().last_index() >= idx,
            format!("learner S{id} receives the entry"),
        )?;
    }
    let learner_votes = c.events.iter().any(|(&id, evs)| {
        id >= 4
            && evs
                .iter()
                .any(|e| matches!(e, RaftEvent::Vote { granted: true, .. }))
    });
    ensure(!learner_votes, "a learner granted a vote")?;
    ensure(
        c.node(1).commit_idx() < idx,
        format!("S1 committed index {idx} with only learners S4 and S5 holding it (thesis §4.2.1)"),
    )
}
