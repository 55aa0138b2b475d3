//! The checker judges any implementation's trace from the trace alone. The
//! traces here are written by hand the way another program would write
//! them: message bodies that are not raftlab's (`{}`) unless a rule reads
//! one, clients named by strings. For each rule about replication — a
//! leader commits only what a majority stores (§5.3, Figure 2; thesis
//! §4.3), a leader is elected by a majority of real votes (§5.2), a node
//! keeps what it acknowledged across a restart (Figure 2) — there is a
//! valid trace and one broken in each way, caught under the rule's name.

use raftlab_core::check::{check_trace_str, rules, Report};
use raftlab_core::trace::{read_trace, ClientId, EventKind, TraceErrorKind};

const COMMIT_BY_2_OF_5: &str = include_str!("data/foreign/commit_by_2_of_5.jsonl");
const COMMIT_BY_3_OF_5: &str = include_str!("data/foreign/commit_by_3_of_5.jsonl");

/// A trace written line by line: each event is its fields after `seq` and
/// `time`, which the builder numbers (one millisecond per event).
struct Hand {
    nodes: Vec<u64>,
    events: Vec<String>,
    next_id: u64,
}

impl Hand {
    /// Every node of `nodes` starts as a follower in term 0.
    fn new(nodes: &[u64]) -> Hand {
        let mut h = Hand {
            nodes: nodes.to_vec(),
            events: Vec::new(),
            next_id: 1,
        };
        for &n in nodes {
            h.role(n, "follower", 0, None);
        }
        h
    }

    fn ev(&mut self, fields: String) -> &mut Self {
        self.events.push(fields);
        self
    }

    fn role(&mut self, node: u64, role: &str, term: u64, leader: Option<u64>) -> &mut Self {
        let leader = leader.map_or("null".to_string(), |l| l.to_string());
        self.ev(format!(
            r#""type":"role","node":{node},"role":"{role}","term":{term},"leader":{leader}"#
        ))
    }

    /// A message sent and delivered, with `body` as written.
    fn message(&mut self, from: u64, to: u64, msg: &str, term: u64, body: &str) -> &mut Self {
        let id = self.next_id;
        self.next_id += 1;
        let prevote = if msg.starts_with("request_vote") {
            let pre = body.contains(r#""prevote":true"#);
            format!(r#","prevote":{pre}"#)
        } else {
            String::new()
        };
        self.ev(format!(
            r#""type":"send","id":{id},"from":{from},"to":{to},"msg":"{msg}","term":{term}{prevote},"body":{body}"#
        ));
        self.ev(format!(r#""type":"deliver","id":{id}"#))
    }

    fn vote(&mut self, voter: u64, candidate: u64, term: u64, prevote: bool) -> &mut Self {
        self.ev(format!(
            r#""type":"vote","node":{voter},"candidate":{candidate},"term":{term},"prevote":{prevote},"granted":true"#
        ))
    }

    /// `candidate` stands in `term` and each of `voters` grants it a real
    /// vote; then it becomes leader.
    fn elect(&mut self, candidate: u64, term: u64, voters: &[u64]) -> &mut Self {
        self.role(candidate, "candidate", term, None);
        for &v in voters {
            self.message(candidate, v, "request_vote", term, "{}");
            self.role(v, "follower", term, None);
            self.vote(v, candidate, term, false);
            self.message(v, candidate, "request_vote_resp", term, "{}");
        }
        self.role(candidate, "leader", term, Some(candidate))
    }

    fn append(&mut self, node: u64, index: u64, term: u64) -> &mut Self {
        self.ev(format!(
            r#""type":"append","node":{node},"index":{index},"term":{term},"kind":"normal","data":"e{index}t{term}""#
        ))
    }

    /// `leader` of `term` sends `entries` (index, term) to `to`, which
    /// writes them and answers.
    fn replicate(&mut self, leader: u64, term: u64, to: u64, entries: &[(u64, u64)]) -> &mut Self {
        self.message(leader, to, "append_entries", term, "{}");
        self.role(to, "follower", term, Some(leader));
        for &(i, t) in entries {
            self.append(to, i, t);
        }
        self.message(to, leader, "append_entries_resp", term, "{}")
    }

    fn commit(&mut self, node: u64, index: u64) -> &mut Self {
        self.ev(format!(r#""type":"commit","node":{node},"index":{index}"#))
    }

    fn truncate(&mut self, node: u64, from: u64) -> &mut Self {
        self.ev(format!(r#""type":"truncate","node":{node},"from":{from}"#))
    }

    fn config(&mut self, node: u64, voters: &str, learners: &str, outgoing: &str) -> &mut Self {
        self.ev(format!(
            r#""type":"config","node":{node},"voters":{voters},"learners":{learners},"outgoing":{outgoing}"#
        ))
    }

    /// `node` crashes and comes back in `term` (its persisted term).
    fn crash_restart(&mut self, node: u64, term: u64) -> &mut Self {
        self.ev(format!(r#""type":"crash","node":{node}"#));
        self.ev(format!(r#""type":"restart","node":{node}"#));
        self.role(node, "follower", term, None)
    }

    fn text(&self) -> String {
        let nodes: Vec<String> = self.nodes.iter().map(u64::to_string).collect();
        let mut out = format!(
            r#"{{"type":"header","format":"raftlab-trace","version":1,"seed":0,"nodes":[{}],"config":{{}}}}"#,
            nodes.join(",")
        );
        out.push('\n');
        for (i, e) in self.events.iter().enumerate() {
            out.push_str(&format!(r#"{{"seq":{},"time":{i},{e}}}"#, i + 1));
            out.push('\n');
        }
        out
    }

    fn report(&self) -> Report {
        check_trace_str(&self.text()).expect("a well-formed trace")
    }
}

fn assert_safe(r: &Report) {
    assert!(r.is_safe(), "{:#?}", r.violations);
}

/// The violations of `rule`, asserting there is one and that no other rule
/// broke (each broken trace breaks exactly the rule it is about).
fn only(r: &Report, rule: &str) -> Vec<raftlab_core::Violation> {
    let found: Vec<_> = r
        .violations
        .iter()
        .filter(|v| v.rule == rule)
        .cloned()
        .collect();
    assert!(
        !found.is_empty(),
        "{rule} not reported: {:#?}",
        r.violations
    );
    assert_eq!(
        r.violation_counts.keys().copied().collect::<Vec<_>>(),
        vec![rule],
        "{:#?}",
        r.violations
    );
    found
}

// ----- a leader commits only what a majority stores (§5.3, Figure 2) -----

#[test]
fn a_leader_commits_what_3_of_its_5_voters_wrote_figure_2() {
    let r = check_trace_str(COMMIT_BY_3_OF_5).unwrap();
    assert_safe(&r);
    assert_eq!(r.max_commit, 2);
}

#[test]
fn a_leader_committing_what_only_2_of_5_voters_wrote_breaks_commit_quorum_5_3() {
    let r = check_trace_str(COMMIT_BY_2_OF_5).unwrap();
    let v = &only(&r, rules::COMMIT_QUORUM)[0];
    assert_eq!(v.seq, 30, "the commit event");
    assert!(v.message.contains("leader S1 of term 1"), "{}", v.message);
    assert!(
        v.message.contains("2 of the voters S1, S2, S3, S4, S5"),
        "{}",
        v.message
    );
    assert!(
        v.message.contains("(S1, S2 store it, 3 needed)"),
        "{}",
        v.message
    );
    assert!(v.message.contains("§5.3"), "{}", v.message);
    assert_eq!(v.related, vec![22], "the leader's own append of entry 2");
}

/// S1 (term 1) left entry 2 of term 1 behind; S2, leader of term 2,
/// writes its own entry 2. S1 holds a different entry there, which does
/// not count until a truncate and an append replace it.
fn other_term_at_the_index(s1_replaced: bool) -> Hand {
    let mut h = Hand::new(&[1, 2, 3]);
    h.elect(1, 1, &[2]).append(1, 1, 1).append(1, 2, 1);
    h.replicate(1, 1, 2, &[(1, 1)]).commit(1, 1);
    h.ev(r#""type":"crash","node":1"#.into());
    h.elect(2, 2, &[3]).append(2, 2, 2);
    h.ev(r#""type":"restart","node":1"#.into());
    h.role(1, "follower", 1, None);
    h.message(2, 1, "append_entries", 2, "{}");
    h.role(1, "follower", 2, Some(2));
    if s1_replaced {
        h.truncate(1, 2).append(1, 2, 2);
    }
    h.message(1, 2, "append_entries_resp", 2, "{}");
    h.commit(2, 2);
    h
}

#[test]
fn an_overwritten_entry_counts_once_the_follower_holds_the_leaders_5_3() {
    assert_safe(&other_term_at_the_index(true).report());
}

#[test]
fn a_follower_holding_another_terms_entry_at_that_index_does_not_count_5_3() {
    let r = other_term_at_the_index(false).report();
    let v = &only(&r, rules::COMMIT_QUORUM)[0];
    assert!(v.message.contains("leader S2 of term 2"), "{}", v.message);
    assert!(
        v.message.contains("(S2 store it, 2 needed)"),
        "{}",
        v.message
    );
}

#[test]
fn an_entry_a_follower_truncated_no_longer_counts_toward_the_commit_5_3() {
    let mut h = Hand::new(&[1, 2, 3]);
    h.elect(1, 1, &[2]).append(1, 1, 1);
    h.replicate(1, 1, 2, &[(1, 1)]);
    h.truncate(2, 1);
    h.commit(1, 1);
    let v = &only(&h.report(), rules::COMMIT_QUORUM)[0];
    assert!(
        v.message.contains("(S1 store it, 2 needed)"),
        "{}",
        v.message
    );
}

/// S2 holds entry 1 only; S3 holds entries 1 and 2 inside a snapshot.
fn snapshot_holder(installed: bool) -> Hand {
    let mut h = Hand::new(&[1, 2, 3]);
    h.elect(1, 1, &[2]).append(1, 1, 1).append(1, 2, 1);
    h.replicate(1, 1, 2, &[(1, 1)]);
    if installed {
        h.message(1, 3, "snapshot", 1, "{}");
        h.role(3, "follower", 1, Some(1));
        h.ev(r#""type":"snapshot","node":3,"index":2,"term":1,"source":"install""#.into());
        h.message(3, 1, "snapshot_resp", 1, "{}");
    }
    h.commit(1, 2);
    h
}

#[test]
fn a_snapshot_counts_as_storing_the_entries_it_covers_thesis_5_1() {
    assert_safe(&snapshot_holder(true).report());
    let r = snapshot_holder(false).report();
    only(&r, rules::COMMIT_QUORUM);
}

#[test]
fn committing_a_current_term_entry_commits_the_older_ones_before_it_5_4_2() {
    // S1 wrote entry 1 in term 1 alone, then, leader again in term 2,
    // commits its term-2 entry 2 once S2 holds both: entry 1 is committed
    // with it, though it was never counted on its own.
    let mut h = Hand::new(&[1, 2, 3]);
    h.elect(1, 1, &[2]).append(1, 1, 1);
    h.crash_restart(1, 1);
    h.elect(1, 2, &[3]).append(1, 2, 2);
    h.replicate(1, 2, 2, &[(1, 1), (2, 2)]).commit(1, 2);
    let r = h.report();
    assert_safe(&r);
    assert_eq!(r.max_commit, 2);
}

/// S1 leads C_old,new = {1,2,3} / {1,4,5} and commits an entry that the
/// old configuration's majority holds and, if `new_half`, S4 too.
fn joint_commit(new_half: bool) -> Hand {
    let mut h = Hand::new(&[1, 2, 3]);
    h.elect(1, 1, &[2]).append(1, 1, 1);
    h.replicate(1, 1, 2, &[(1, 1)]).commit(1, 1);
    let joint = |node: u64| {
        format!(
            r#""type":"append","node":{node},"index":2,"term":1,"kind":"joint_enter","data":"1,4,5""#
        )
    };
    h.ev(joint(1)).config(1, "[1,4,5]", "[]", "[1,2,3]");
    let followers: &[u64] = if new_half { &[2, 4] } else { &[2] };
    for &to in followers {
        h.message(1, to, "append_entries", 1, "{}");
        h.role(to, "follower", 1, Some(1));
        if to == 4 {
            h.append(4, 1, 1);
        }
        h.ev(joint(to));
        h.message(to, 1, "append_entries_resp", 1, "{}");
    }
    h.commit(1, 2);
    h
}

#[test]
fn a_joint_commit_needs_a_majority_of_each_configuration_thesis_4_3() {
    assert_safe(&joint_commit(true).report());
    let r = joint_commit(false).report();
    let v = &only(&r, rules::COMMIT_QUORUM)[0];
    assert!(
        v.message
            .contains("1 of the voters S1, S4, S5 (S1 store it, 2 needed)"),
        "{}",
        v.message
    );
    assert!(v.message.contains("thesis §4.3"), "{}", v.message);
}

/// S1 leads voters {1,2,3} with learner 4, which stores the entry; so does
/// S2 if `voter_too`.
fn learner_commit(voter_too: bool) -> Hand {
    let mut h = Hand::new(&[1, 2, 3]);
    h.config(1, "[1,2,3]", "[4]", "[]");
    h.elect(1, 1, &[2]).append(1, 1, 1);
    h.replicate(1, 1, 4, &[(1, 1)]);
    if voter_too {
        h.replicate(1, 1, 2, &[(1, 1)]);
    }
    h.commit(1, 1);
    h
}

#[test]
fn a_learner_storing_the_entry_does_not_make_a_majority_thesis_4_2_1() {
    assert_safe(&learner_commit(true).report());
    let r = learner_commit(false).report();
    let v = &only(&r, rules::COMMIT_QUORUM)[0];
    assert!(v.message.contains("learners S4"), "{}", v.message);
}

// ----- a leader is elected by a majority of real votes (§5.2) -----

#[test]
fn a_leader_with_votes_from_2_of_5_breaks_leader_quorum_5_2() {
    let mut h = Hand::new(&[1, 2, 3, 4, 5]);
    h.elect(1, 1, &[2]);
    let v = &only(&h.report(), rules::LEADER_QUORUM)[0];
    assert!(
        v.message.contains("S1 became leader of term 1"),
        "{}",
        v.message
    );
    let mut ok = Hand::new(&[1, 2, 3, 4, 5]);
    ok.elect(1, 1, &[2, 3]);
    assert_safe(&ok.report());
}

#[test]
fn prevotes_do_not_elect_a_leader_thesis_9_6() {
    let mut h = Hand::new(&[1, 2, 3]);
    h.role(1, "precandidate", 0, None);
    for v in [2, 3] {
        h.message(1, v, "request_vote", 1, r#"{"prevote":true}"#);
        h.vote(v, 1, 1, true);
        h.message(v, 1, "request_vote_resp", 1, r#"{"prevote":true}"#);
    }
    h.role(1, "candidate", 1, None)
        .role(1, "leader", 1, Some(1));
    only(&h.report(), rules::LEADER_QUORUM);
}

#[test]
fn replicating_without_having_been_elected_breaks_leader_quorum_5_2() {
    let mut h = Hand::new(&[1, 2, 3]);
    h.role(1, "candidate", 1, None);
    h.message(1, 2, "append_entries", 1, "{}");
    let v = &only(&h.report(), rules::LEADER_QUORUM)[0];
    assert!(
        v.message
            .contains("S1 sent append_entries in term 1 without having become leader"),
        "{}",
        v.message
    );
}

#[test]
fn a_joint_leader_needs_votes_from_a_majority_of_each_configuration_thesis_4_3() {
    let joint = |voters: &[u64]| {
        let mut h = Hand::new(&[1, 2, 3]);
        h.config(1, "[1,4,5]", "[]", "[1,2,3]");
        h.elect(1, 1, voters);
        h.report()
    };
    assert_safe(&joint(&[2, 4]));
    only(&joint(&[2, 3]), rules::LEADER_QUORUM);
    only(&joint(&[4, 5]), rules::LEADER_QUORUM);
}

#[test]
fn votes_of_learners_do_not_elect_a_leader_thesis_4_2_1() {
    let mut h = Hand::new(&[1, 2, 3]);
    h.config(1, "[1,2,3]", "[4,5]", "[]");
    h.elect(1, 1, &[4, 5]);
    only(&h.report(), rules::LEADER_QUORUM);
}

// ----- a node keeps what it acknowledged across a restart (Figure 2) -----

/// S2 stores entry 1 and acknowledges it (not yet committed), crashes
/// and restarts.
fn acked_then_restarted() -> Hand {
    let mut h = Hand::new(&[1, 2, 3]);
    h.elect(1, 1, &[2, 3]).append(1, 1, 1).append(1, 2, 1);
    h.replicate(1, 1, 2, &[(1, 1)]);
    h.crash_restart(2, 1);
    h
}

#[test]
fn a_restarted_node_that_kept_its_log_is_safe_figure_2() {
    let mut h = acked_then_restarted();
    // It asks for votes with the log it kept, then takes entry 2 after it.
    h.message(
        2,
        3,
        "request_vote",
        2,
        r#"{"msg":"request_vote","prevote":true,"term":2,"candidate_id":2,"last_log_idx":1,"last_log_term":1}"#,
    );
    h.replicate(1, 1, 2, &[(2, 1)]).commit(1, 2);
    let r = h.report();
    assert_safe(&r);
    assert_eq!(r.max_commit, 2);
}

#[test]
fn writing_an_acknowledged_entry_again_after_a_restart_shows_it_was_lost_figure_2() {
    let mut h = acked_then_restarted();
    h.replicate(1, 1, 2, &[(1, 1), (2, 1)]);
    let v = &only(&h.report(), rules::ACKNOWLEDGED_ENTRIES_PERSIST)[0];
    assert!(
        v.message
            .contains("S2 wrote entry 1 (term 1) again after its restart"),
        "{}",
        v.message
    );
    assert_eq!(v.related.len(), 2, "the first append and the restart");
}

#[test]
fn dropping_acknowledged_entries_unprompted_after_a_restart_breaks_persistence_figure_2() {
    let mut h = acked_then_restarted();
    h.truncate(2, 1);
    let v = &only(&h.report(), rules::ACKNOWLEDGED_ENTRIES_PERSIST)[0];
    assert!(
        v.message.contains("no leader's AppendEntries"),
        "{}",
        v.message
    );

    // The same truncate prompted by a leader's AppendEntries is §5.3's
    // conflict resolution, not a loss (here S3, leader of term 2, holds
    // another entry 1; S2's was never committed).
    let mut h = acked_then_restarted();
    h.elect(3, 2, &[2]).append(3, 1, 2);
    h.message(3, 2, "append_entries", 2, "{}");
    h.role(2, "follower", 2, Some(3));
    h.truncate(2, 1).append(2, 1, 2);
    assert_safe(&h.report());
}

#[test]
fn reporting_a_shorter_log_after_a_restart_shows_entries_were_lost_figure_2() {
    let mut h = acked_then_restarted();
    h.message(
        2,
        3,
        "request_vote",
        2,
        r#"{"msg":"request_vote","prevote":true,"term":2,"candidate_id":2,"last_log_idx":0,"last_log_term":0}"#,
    );
    let v = &only(&h.report(), rules::ACKNOWLEDGED_ENTRIES_PERSIST)[0];
    assert!(
        v.message
            .contains("S2 asked for prevotes in term 2 with a log ending at index 0"),
        "{}",
        v.message
    );

    let mut h = acked_then_restarted();
    h.message(1, 2, "append_entries", 1, "{}");
    h.message(
        2,
        1,
        "append_entries_resp",
        1,
        r#"{"msg":"append_entries_resp","message_token":1,"term":1,"success":false,"curr_index":0}"#,
    );
    let v = &only(&h.report(), rules::ACKNOWLEDGED_ENTRIES_PERSIST)[0];
    assert!(
        v.message.contains("refused an AppendEntries"),
        "{}",
        v.message
    );
}

#[test]
fn acknowledging_entries_not_stored_breaks_persistence_figure_2() {
    let mut h = Hand::new(&[1, 2, 3]);
    h.elect(1, 1, &[2]).append(1, 1, 1).append(1, 2, 1);
    h.message(1, 2, "append_entries", 1, "{}");
    h.append(2, 1, 1);
    h.message(
        2,
        1,
        "append_entries_resp",
        1,
        r#"{"msg":"append_entries_resp","message_token":1,"term":1,"success":true,"curr_index":2}"#,
    );
    let v = &only(&h.report(), rules::ACKNOWLEDGED_ENTRIES_PERSIST)[0];
    assert!(
        v.message
            .contains("S2 acknowledged entries up to index 2 but its log ends at 1"),
        "{}",
        v.message
    );
}

// ----- a client is a number or a string -----

#[test]
fn a_client_named_by_a_string_is_read_and_written_back_as_is() {
    let trace = read_trace(COMMIT_BY_3_OF_5).expect("string clients are accepted");
    let clients: Vec<&ClientId> = trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Client { client, .. } => Some(client),
            _ => None,
        })
        .collect();
    assert_eq!(clients.len(), 2);
    assert!(clients.iter().all(|c| **c == ClientId::Name("c7".into())));
    // Written back byte for byte, the name as a string.
    assert_eq!(trace.to_jsonl(), COMMIT_BY_3_OF_5);
}

#[test]
fn raftlab_still_writes_numbered_clients_as_numbers() {
    let line =
        r#"{"seq":1,"time":0,"type":"client","client":7,"op":"get","key":"k","phase":"invoke"}"#;
    let header = COMMIT_BY_3_OF_5.lines().next().unwrap();
    let trace = read_trace(&format!("{header}\n{line}\n")).unwrap();
    assert!(matches!(
        &trace.events[0].kind,
        EventKind::Client {
            client: ClientId::Num(7),
            ..
        }
    ));
    assert_eq!(trace.events[0].to_line(), line);
}

#[test]
fn named_clients_histories_are_checked_for_linearizability() {
    // "c1" writes x=1 and is answered; "c2" then reads nothing: stale.
    let header = COMMIT_BY_3_OF_5.lines().next().unwrap();
    let events = [
        r#""type":"client","client":"c1","op":"put","key":"x","value":"1","phase":"invoke""#,
        r#""type":"client","client":"c1","op":"put","key":"x","value":"1","phase":"ok""#,
        r#""type":"client","client":"c2","op":"get","key":"x","phase":"invoke""#,
        r#""type":"client","client":"c2","op":"get","key":"x","phase":"ok","result":null"#,
    ];
    let mut text = format!("{header}\n");
    for (i, e) in events.iter().enumerate() {
        text.push_str(&format!("{{\"seq\":{},\"time\":{i},{e}}}\n", i + 1));
    }
    let r = check_trace_str(&text).unwrap();
    only(&r, rules::LINEARIZABILITY);
}

#[test]
fn a_named_client_and_a_numbered_one_are_different_clients() {
    // "7" has a put in flight while 7 reads: two clients, one operation
    // each, so no client has two operations in flight.
    let header = COMMIT_BY_3_OF_5.lines().next().unwrap();
    let events = [
        r#""type":"client","client":"7","op":"put","key":"x","value":"1","phase":"invoke""#,
        r#""type":"client","client":7,"op":"get","key":"x","phase":"invoke""#,
        r#""type":"client","client":7,"op":"get","key":"x","phase":"ok","result":null"#,
        r#""type":"client","client":"7","op":"put","key":"x","value":"1","phase":"ok""#,
    ];
    let mut text = format!("{header}\n");
    for (i, e) in events.iter().enumerate() {
        text.push_str(&format!("{{\"seq\":{},\"time\":{i},{e}}}\n", i + 1));
    }
    assert_safe(&check_trace_str(&text).unwrap());
    // The same as one client is a client with two operations in flight.
    let one = text.replace(r#""client":"7""#, r#""client":7"#);
    only(&check_trace_str(&one).unwrap(), rules::CAUSAL_ORDER);
}

#[test]
fn a_client_that_is_neither_a_number_nor_a_string_is_refused() {
    let header = COMMIT_BY_3_OF_5.lines().next().unwrap();
    let line =
        r#"{"seq":1,"time":0,"type":"client","client":true,"op":"get","key":"k","phase":"invoke"}"#;
    let err = read_trace(&format!("{header}\n{line}\n")).unwrap_err();
    assert_eq!(err.line, 2);
    match err.kind {
        TraceErrorKind::BadEvent(m) => {
            assert!(m.contains("in \"client\""), "{m}");
            assert!(m.contains("an unsigned integer or a string"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}
