//! Property tests for the membership engine (thesis chapter 4): random
//! sequences of learners added, learners promoted, members removed and
//! joint changes, interleaved with leader crashes, isolated servers and
//! elections. Whatever happened, once the faults stop and a calm period has
//! passed, the cluster has settled on the configuration that the last
//! committed change asked for: one leader, nothing joint left (thesis §4.3),
//! and every member of that configuration agreeing on it.

mod common;

use common::*;
use proptest::prelude::*;
use raftlab_core::harness::Cluster;
use raftlab_core::raft::ConfChange;
use raftlab_core::{parse_ids, Bugs, Entry, EntryKind, Membership, NodeId, Role};

/// Servers that exist; S1-S3 start as the voters, S4-S6 as blank servers
/// that a change may bring in.
const POOL: [NodeId; 6] = [1, 2, 3, 4, 5, 6];

/// Ticks of the calm period: many election timeouts (150-300 ticks).
const CALM: u64 = 3_000;

/// One step of the story.
#[derive(Clone, Debug)]
enum Step {
    Change(ConfChange),
    CrashLeader,
    Restart(NodeId),
    Isolate(NodeId),
    Heal,
    Ticks(u16),
}

fn any_id() -> impl Strategy<Value = NodeId> {
    prop::sample::select(POOL.to_vec())
}

fn any_change() -> impl Strategy<Value = ConfChange> {
    prop_oneof![
        any_id().prop_map(ConfChange::AddLearner),
        any_id().prop_map(ConfChange::AddVoter),
        any_id().prop_map(ConfChange::Remove),
        prop::sample::subsequence(POOL.to_vec(), 1..=5).prop_map(ConfChange::Joint),
    ]
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => any_change().prop_map(Step::Change),
        1 => Just(Step::CrashLeader),
        1 => any_id().prop_map(Step::Restart),
        1 => any_id().prop_map(Step::Isolate),
        1 => Just(Step::Heal),
        3 => (1u16..400).prop_map(Step::Ticks),
    ]
}

/// The live leader with the highest term, if any.
fn leader(c: &Cluster) -> Option<NodeId> {
    c.leaders()
        .into_iter()
        .max_by_key(|&id| c.node(id).current_term())
}

fn play(c: &mut Cluster, step: &Step) {
    match step {
        Step::Change(ch) => {
            if let Some(l) = leader(c) {
                // Refusals (pending, not ready, invalid) are part of the story.
                let _ = c.node_mut(l).propose_conf_change(ch.clone());
                c.deliver_all();
            }
        }
        Step::CrashLeader => {
            if let Some(l) = leader(c) {
                c.crash(l);
            }
        }
        Step::Restart(id) => c.restart(*id),
        Step::Isolate(id) => c.isolate(*id),
        Step::Heal => c.recover(),
        Step::Ticks(n) => c.run_ticks(u64::from(*n)),
    }
}

/// What the committed membership entry `e` asked for, checked against the
/// configuration the cluster ended in.
fn asked_for(e: &Entry, end: &Membership) -> Result<(), String> {
    let ids = parse_ids(&e.data);
    let voters: Vec<NodeId> = end.voters.iter().copied().collect();
    let ok = match e.kind {
        EntryKind::JoinNoVoteNode => ids.iter().all(|id| end.contains(*id)),
        EntryKind::JoinNode => ids.iter().all(|id| end.is_voter(*id)),
        EntryKind::LeaveNode => ids.iter().all(|id| !end.contains(*id)),
        EntryKind::JointEnter | EntryKind::JointLeave => {
            let mut want = ids.clone();
            want.sort_unstable();
            want.dedup();
            voters == want
        }
        EntryKind::Normal | EntryKind::NoOp => true,
    };
    ensure(
        ok,
        format!(
            "the last committed change ({:?} {ids:?} at index {}) asked for something else than {end:?}",
            e.kind, e.index
        ),
    )
}

/// After the calm period: one leader; its configuration committed, not
/// joint, and what the last committed change asked for; every live member
/// of it follows that leader with the same configuration and commit index.
fn settled(c: &Cluster) -> Result<(), String> {
    let leaders = c.leaders();
    ensure(
        leaders.len() == 1,
        format!("leaders after the calm period: {leaders:?}"),
    )?;
    let l = leaders[0];
    let lead = c.node(l);
    let conf = lead.config().clone();
    ensure(
        !conf.is_joint(),
        format!("S{l} still joint: {conf:?} (thesis §4.3)"),
    )?;
    ensure(
        lead.config_index() <= lead.commit_idx(),
        format!(
            "S{l}'s configuration at {} is not committed",
            lead.config_index()
        ),
    )?;
    ensure(
        lead.commit_idx() == lead.log().last_index(),
        format!("S{l} has uncommitted entries after the calm period"),
    )?;
    let last_change = (lead.first_entry_index()..=lead.commit_idx())
        .rev()
        .filter_map(|i| lead.log().get(i))
        .find(|e| e.kind.is_membership());
    if let Some(e) = &last_change {
        asked_for(e, &conf)?;
    } else {
        ensure(
            conf == Membership::with_voters([1, 2, 3]),
            format!("no change committed, yet S{l} is in {conf:?}"),
        )?;
    }
    for id in conf.members() {
        if id == l {
            continue;
        }
        let s = c.node(id);
        ensure(
            s.state() == Role::Follower && s.leader_id() == Some(l),
            format!(
                "S{id} does not follow S{l}: {:?} of {:?}",
                s.state(),
                s.leader_id()
            ),
        )?;
        ensure(
            s.current_term() == lead.current_term(),
            format!(
                "S{id} in term {}, S{l} in {}",
                s.current_term(),
                lead.current_term()
            ),
        )?;
        ensure(
            s.config() == &conf,
            format!("S{id} is in {:?}, S{l} in {conf:?}", s.config()),
        )?;
        ensure(
            s.commit_idx() == lead.commit_idx(),
            format!(
                "S{id} committed {}, S{l} {}",
                s.commit_idx(),
                lead.commit_idx()
            ),
        )?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Thesis §4.1-§4.3: membership changes of every kind, under leader
    /// crashes and isolated servers, always end, after a calm period, in the
    /// configuration the last committed change asked for.
    #[test]
    fn membership_changes_always_end_in_the_configuration_last_committed(
        steps in prop::collection::vec(any_step(), 1..30)
    ) {
        let mut c = Cluster::new(3, config(&Bugs::none(), |_| {}));
        for id in 4..=6 {
            c.add_node(id);
        }
        c.elect(1);
        c.run_ticks(1);
        for step in &steps {
            play(&mut c, step);
        }
        // The calm period: every server up, every link healed, no change.
        for id in POOL {
            c.restart(id);
        }
        c.recover();
        c.run_ticks(CALM);
        if let Err(why) = settled(&c) {
            return Err(TestCaseError::fail(why));
        }
    }
}
