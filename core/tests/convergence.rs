//! The convergence checker (`check::convergence`), from hand-written traces:
//! a run that converges in its calm period, one stuck for each condition,
//! runs Raft does not promise to converge (PreVote and CheckQuorum off with
//! a disruptive removed server, thesis §4.2.3; a fault inside the calm
//! period), and a deliberately broken core that never leaves C_old,new
//! (thesis §4.3), which chaos then reports stuck.

use raftlab_core::check::convergence::conditions;
use raftlab_core::check::sharded::check_sharded_convergence_str;
use raftlab_core::check::{check_convergence_str, ConvergenceReport, Verdict};
use raftlab_core::sim::chaos::{nodes_for_seed, run_standard};
use raftlab_core::Bug;

/// A trace from a header config and `(time, event)` pairs, put in time
/// order (stable); seqs are added.
fn trace(config: &str, events: &[(u64, String)]) -> String {
    let mut events = events.to_vec();
    events.sort_by_key(|(t, _)| *t);
    let mut out = format!(
        "{{\"type\":\"header\",\"format\":\"raftlab-trace\",\"version\":1,\"seed\":1,\"nodes\":[1,2,3],\"config\":{config}}}\n"
    );
    for (i, (time, body)) in events.iter().enumerate() {
        out.push_str(&format!("{{\"seq\":{},\"time\":{time},{body}}}\n", i + 1));
    }
    out
}

const SAFE_SETTINGS: &str =
    r#"{"prevote":true,"check_quorum":true,"election_timeout_ms":[150,300],"client_retry_ms":400}"#;
const UNSAFE_SETTINGS: &str = r#"{"prevote":false,"check_quorum":false,"election_timeout_ms":[150,300],"client_retry_ms":400}"#;

fn role(node: u64, role: &str, term: u64, leader: Option<u64>) -> String {
    let leader = leader.map_or("null".to_string(), |l| l.to_string());
    format!(
        "\"type\":\"role\",\"node\":{node},\"role\":\"{role}\",\"term\":{term},\"leader\":{leader}"
    )
}
fn append(node: u64, index: u64, term: u64, kind: &str, data: &str) -> String {
    format!("\"type\":\"append\",\"node\":{node},\"index\":{index},\"term\":{term},\"kind\":\"{kind}\",\"data\":\"{data}\"")
}
fn commit(node: u64, index: u64) -> String {
    format!("\"type\":\"commit\",\"node\":{node},\"index\":{index}")
}
fn apply(node: u64, index: u64, term: u64) -> String {
    format!("\"type\":\"apply\",\"node\":{node},\"index\":{index},\"term\":{term}")
}
fn action(json: &str) -> String {
    format!("\"type\":\"action\",\"action\":{json}")
}
fn client(c: u64, phase: &str) -> String {
    format!("\"type\":\"client\",\"client\":{c},\"op\":\"put\",\"key\":\"k\",\"value\":\"v{c}\",\"phase\":\"{phase}\"")
}
fn config(node: u64, voters: &str, outgoing: &str) -> String {
    format!("\"type\":\"config\",\"node\":{node},\"voters\":[{voters}],\"learners\":[],\"outgoing\":[{outgoing}]")
}

/// S1 leads term 1 and replicates two entries; a client's put, invoked
/// before the calm period, is answered in it. Everything converges.
fn healthy() -> Vec<(u64, String)> {
    let mut e = vec![
        (0, role(1, "follower", 0, None)),
        (0, role(2, "follower", 0, None)),
        (0, role(3, "follower", 0, None)),
        (200, role(1, "candidate", 1, None)),
        (220, role(2, "follower", 1, None)),
        (220, role(3, "follower", 1, None)),
        (240, role(1, "leader", 1, Some(1))),
        (240, append(1, 1, 1, "noop", "")),
        (260, role(2, "follower", 1, Some(1))),
        (260, append(2, 1, 1, "noop", "")),
        (260, role(3, "follower", 1, Some(1))),
        (260, append(3, 1, 1, "noop", "")),
        (280, commit(1, 1)),
        (280, apply(1, 1, 1)),
        (900, client(7, "invoke")),
        (1000, action(r#"{"kind":"calm","ms":10000}"#)),
        (1100, append(1, 2, 1, "normal", "put")),
        (1120, append(2, 2, 1, "normal", "put")),
        (1120, append(3, 2, 1, "normal", "put")),
        (1140, commit(1, 2)),
        (1140, apply(1, 2, 1)),
        (1150, client(7, "ok")),
    ];
    for n in [2, 3] {
        e.push((1200, commit(n, 2)));
        e.push((1200, apply(n, 1, 1)));
        e.push((1200, apply(n, 2, 1)));
    }
    e.push((10_990, client(8, "invoke")));
    e
}

fn judge(settings: &str, events: &[(u64, String)]) -> ConvergenceReport {
    check_convergence_str(&trace(settings, events)).expect("a well-formed trace")
}

fn assert_stuck(r: &ConvergenceReport, condition: &str, words: &str) {
    assert_eq!(r.verdict, Verdict::Stuck, "{r:#?}");
    let first = &r.unmet[0];
    assert_eq!(first.condition, condition, "{r:#?}");
    assert!(first.message.contains(words), "{:?}", first.message);
}

/// Removes the events matching `pred`.
fn without(events: Vec<(u64, String)>, pred: impl Fn(&str) -> bool) -> Vec<(u64, String)> {
    events.into_iter().filter(|(_, e)| !pred(e)).collect()
}

#[test]
fn a_run_that_recovers_in_its_calm_period_converges() {
    let r = judge(SAFE_SETTINGS, &healthy());
    assert_eq!(r.verdict, Verdict::Converged, "{r:#?}");
    let calm = r.calm.expect("the calm action marks the period");
    assert_eq!((calm.seq, calm.from, calm.ms), (16, 1000, 10_000));
    assert!(r.unmet.is_empty());
}

#[test]
fn a_trace_without_a_calm_period_is_not_checked_for_convergence() {
    let events = without(healthy(), |e| e.contains("\"calm\""));
    let r = judge(SAFE_SETTINGS, &events);
    assert_eq!(r.verdict, Verdict::NoCalm);
    assert!(!r.is_stuck());
}

#[test]
fn a_cluster_without_a_leader_at_the_end_is_stuck_raft_5_2() {
    let mut e = healthy();
    e.push((10_995, "\"type\":\"crash\",\"node\":1".into()));
    // The crash is not an action: nothing broke the calm period.
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(
        &r,
        conditions::ONE_LEADER,
        "no leader 10.0 s after the calm period began",
    );
}

#[test]
fn a_voter_that_does_not_follow_the_leader_is_stuck_raft_5_2() {
    let mut e = healthy();
    e.push((5000, role(3, "candidate", 2, None)));
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(
        &r,
        conditions::FOLLOWERS,
        "S3 is a candidate in term 2, not a follower of S1 (leader of term 1)",
    );
}

#[test]
fn a_joint_configuration_never_left_is_stuck_thesis_4_3() {
    let mut e = healthy();
    for n in [1, 2, 3] {
        e.push((700, config(n, "1,2,4", "1,2,3")));
    }
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(
        &r,
        conditions::JOINT_LEFT,
        "S1 (the leader) still in the joint configuration {1,2,3} / {1,2,4} 10.0 s after the calm period began",
    );
}

#[test]
fn a_configuration_change_left_uncommitted_is_stuck_thesis_4_1() {
    let mut e = healthy();
    e.push((1300, append(1, 3, 1, "join_learner", "4")));
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(
        &r,
        conditions::CHANGE_COMMITTED,
        "S1's configuration change at index 3 (join_learner 4) is not committed",
    );
}

#[test]
fn a_leadership_transfer_still_pending_is_stuck_thesis_3_10() {
    let mut e = healthy();
    e.push((10_950, action(r#"{"kind":"transfer","to":2}"#)));
    e.push((10_960, client(9, "invoke")));
    // Asking again does not extend the deadline.
    e.push((10_970, action(r#"{"kind":"transfer","to":2}"#)));
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(
        &r,
        conditions::TRANSFER_FINISHED,
        "S1 is still transferring leadership to S2 (asked at 10.9 s)",
    );
    // Once the transfer's election timeout passed, it is over (aborted).
    let mut later = e.clone();
    later.push((11_100, client(9, "ok")));
    assert_eq!(judge(SAFE_SETTINGS, &later).verdict, Verdict::Converged);
}

#[test]
fn a_member_whose_commit_index_lags_is_stuck_raft_5_3() {
    let e = without(healthy(), |e| {
        e.contains("\"node\":3,\"index\":2") && (e.contains("commit") || e.contains("apply"))
    });
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(
        &r,
        conditions::COMMIT_REACHED,
        "S3's commit index is 0, below the 2 S1 had committed half-way through the calm period",
    );
}

#[test]
fn a_member_that_does_not_apply_what_it_committed_is_stuck_figure_2() {
    let e = without(healthy(), |e| {
        e.contains("\"type\":\"apply\",\"node\":2,\"index\":2")
    });
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(
        &r,
        conditions::COMMITTED_APPLIED,
        "S2 applied entries up to 1 of the 2 it knows committed",
    );
}

#[test]
fn a_client_operation_from_before_the_calm_left_unanswered_is_stuck() {
    let e = without(healthy(), |e| e.contains("\"phase\":\"ok\""));
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(
        &r,
        conditions::CLIENTS_ANSWERED,
        "client 7's put k invoked at 0.9 s still has no answer",
    );
}

#[test]
fn a_client_operation_timing_out_after_a_leader_could_answer_is_stuck() {
    let mut e = without(healthy(), |e| e.contains("\"phase\":\"ok\""));
    e.push((3900, client(7, "timeout")));
    let r = judge(SAFE_SETTINGS, &e);
    assert_stuck(&r, conditions::CLIENTS_ANSWERED, "timed out at 3.9 s");
    // Timing out before any leader committed in the calm is the client's
    // own deadline, not a stuck cluster.
    let mut early = without(healthy(), |e| e.contains("\"phase\":\"ok\""));
    early.push((1050, client(7, "timeout")));
    assert_eq!(judge(SAFE_SETTINGS, &early).verdict, Verdict::Converged);
}

/// S4, removed from {1,2,3} without learning it, times out and campaigns
/// in ever higher terms, deposing each leader (thesis §4.2.3).
fn disrupted() -> Vec<(u64, String)> {
    let mut e = healthy();
    e.pop();
    e.push((1500, role(4, "follower", 1, None)));
    let mut term = 1;
    for i in 0..5u64 {
        let t = 2000 + i * 1000;
        term += 1;
        e.push((t, role(4, "candidate", term, None)));
        e.push((t + 10, role(1, "follower", term, None)));
        e.push((t + 10, role(2, "follower", term, None)));
        e.push((t + 10, role(3, "follower", term, None)));
        e.push((t + 400, role(1, "candidate", term + 1, None)));
        term += 1;
        e.push((t + 420, role(1, "leader", term, Some(1))));
        e.push((t + 440, role(2, "follower", term, Some(1))));
        e.push((t + 440, role(3, "follower", term, Some(1))));
    }
    term += 1;
    e.push((10_900, role(4, "candidate", term, None)));
    e.push((10_910, role(1, "follower", term, None)));
    e.push((10_910, role(2, "follower", term, None)));
    e.push((10_910, role(3, "follower", term, None)));
    e
}

#[test]
fn a_removed_server_deposing_leaders_without_prevote_and_checkquorum_is_not_judged_thesis_4_2_3() {
    let r = judge(UNSAFE_SETTINGS, &disrupted());
    assert_eq!(r.verdict, Verdict::NotJudged, "{r:#?}");
    assert_eq!(
        r.cause.as_deref(),
        Some("S4, removed, deposed 6 leaders in the calm period; PreVote and CheckQuorum are off — thesis §4.2.3")
    );
    assert_eq!(r.unmet[0].condition, conditions::ONE_LEADER);
    assert!(!r.is_stuck());
}

#[test]
fn the_same_disruption_with_prevote_and_checkquorum_on_is_stuck() {
    let r = judge(SAFE_SETTINGS, &disrupted());
    assert_stuck(&r, conditions::ONE_LEADER, "no leader");
}

#[test]
fn a_fault_inside_the_calm_period_means_the_run_is_not_judged() {
    let mut e = healthy();
    e.push((10_995, action(r#"{"kind":"crash","node":1}"#)));
    e.push((10_995, "\"type\":\"crash\",\"node\":1".into()));
    let r = judge(SAFE_SETTINGS, &e);
    assert_eq!(r.verdict, Verdict::NotJudged, "{r:#?}");
    assert!(r
        .cause
        .as_deref()
        .is_some_and(|c| c.contains("a crash action on S1 at 11.0 s broke the calm period")));
}

/// A sharded trace: a meta group {1} and one KV group {11}, each led from
/// the start; g1 freezes slot 5 for migration 1.
fn sharded(drop_applied: bool) -> String {
    let mut lines = vec![r#"{"type":"header","format":"raftlab-trace","version":1,"seed":1,"nodes":[1,11],"config":{"prevote":true,"check_quorum":true,"groups":[{"name":"meta","nodes":[1]},{"name":"g1","nodes":[11]}]}}"#.to_string()];
    let freeze = r#"{\"freeze\":{\"slot\":5,\"to\":2,\"mig\":1}}"#;
    let drop = r#"{\"drop_slot\":{\"slot\":5,\"mig\":1}}"#;
    let mut events: Vec<(&str, u64, String)> = vec![
        ("meta", 0, role(1, "leader", 1, Some(1))),
        ("g1", 0, role(11, "leader", 1, Some(11))),
        ("g1", 100, append(11, 1, 1, "normal", freeze)),
        ("g1", 100, commit(11, 1)),
        (
            "g1",
            100,
            format!("{},\"output\":\"{{\\\"ok\\\":true}}\"", apply(11, 1, 1)),
        ),
        ("all", 1000, action(r#"{"kind":"calm","ms":10000}"#)),
        ("g1", 1100, append(11, 2, 1, "normal", drop)),
        ("g1", 1100, commit(11, 2)),
    ];
    if drop_applied {
        events.push(("g1", 1100, apply(11, 2, 1)));
    }
    for (i, (g, t, body)) in events.into_iter().enumerate() {
        lines.push(format!(
            "{{\"group\":\"{g}\",\"seq\":{},\"time\":{t},{body}}}",
            i + 1
        ));
    }
    lines.join("\n") + "\n"
}

#[test]
fn a_slot_migration_left_half_done_is_stuck_in_its_source_group() {
    let done = check_sharded_convergence_str(&sharded(true)).expect("readable");
    assert_eq!(done.verdict(), Verdict::Converged, "{done:#?}");
    let half = check_sharded_convergence_str(&sharded(false)).expect("readable");
    assert_eq!(half.verdict(), Verdict::Stuck, "{half:#?}");
    let g1 = &half.groups["g1"];
    // The drop is committed but not applied: reported as the group's first
    // unmet condition, with the migration named too.
    assert!(g1
        .unmet
        .iter()
        .any(|u| u.condition == conditions::MIGRATIONS_FINISHED
            && u.message.contains("migration 1 of slot 5 left half done")));
    assert!(
        half.summary().starts_with("[g1] STUCK"),
        "{}",
        half.summary()
    );
}

/// The deliberately broken core (`Bug::StayJoint`, test-only): a leader
/// never moves from C_old,new to C_new. Chaos runs that make a joint
/// change then end joint, and the checker says so; the same seeds with
/// the correct core converge.
#[test]
fn a_core_that_never_leaves_the_joint_configuration_is_reported_stuck_thesis_4_3() {
    let mut stuck = 0;
    for seed in 1..=12u64 {
        let nodes = nodes_for_seed(seed, 3, 7);
        let broken = run_standard(seed, nodes, 30_000, &[Bug::StayJoint]).unwrap();
        let r = raftlab_core::check::convergence_of(broken.header(), broken.events());
        let joint = broken.events().iter().any(|e| {
            matches!(&e.kind, raftlab_core::trace::EventKind::Action { action } if action["kind"] == "joint")
        });
        if r.is_stuck() {
            stuck += 1;
            assert_eq!(
                r.unmet[0].condition,
                conditions::JOINT_LEFT,
                "seed {seed}: {r:#?}"
            );
            assert!(r.unmet[0]
                .message
                .contains("still in the joint configuration"));
            assert!(joint, "seed {seed}: stuck without a joint change");
            // Convergence is not safety: the broken run breaks no rule.
            assert!(broken.checker().clone().finish().is_safe());
        }
    }
    assert!(stuck >= 3, "only {stuck} of 12 seeds stuck with the bug");
}
