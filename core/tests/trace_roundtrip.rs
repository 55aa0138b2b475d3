//! Write → read gives back the same value, for arbitrary events, message
//! bodies, actions, meta commands and sessions. The readers are hand-written
//! (core/src/json.rs, to keep the page's wasm small) while the writers
//! are serde's, so these properties are what keeps the two in step.

use std::collections::BTreeSet;

use proptest::prelude::*;
use raftlab_core::kv::KvOp;
use raftlab_core::meta::MetaCommand;
use raftlab_core::network::SnapshotSource;
use raftlab_core::session::Session;
use raftlab_core::sim::{Action, SimConfig, TimedAction};
use raftlab_core::trace::{
    read_trace, ClientPhase, DropReason, EventKind, SendBody, TraceEvent, TraceHeader,
};
use raftlab_core::types::{
    AppendEntriesReq, AppendEntriesResp, Entry, EntryKind, Message, MessageBody, RequestVoteReq,
    RequestVoteResp, Role, SnapshotBlock, SnapshotReq, SnapshotResp,
};

fn text() -> impl Strategy<Value = String> {
    // Any characters, control and non-ASCII ones included (escaping).
    ".{0,6}"
}

fn ids() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(any::<u64>(), 0..4)
}

fn id_set() -> impl Strategy<Value = BTreeSet<u64>> {
    prop::collection::btree_set(1u64..10, 0..4)
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![
        Role::Follower,
        Role::PreCandidate,
        Role::Candidate,
        Role::Leader,
    ])
}

fn entry_kind() -> impl Strategy<Value = EntryKind> {
    prop::sample::select(vec![
        EntryKind::Normal,
        EntryKind::NoOp,
        EntryKind::JoinNoVoteNode,
        EntryKind::JoinNode,
        EntryKind::LeaveNode,
        EntryKind::JointEnter,
        EntryKind::JointLeave,
    ])
}

fn kv_op() -> impl Strategy<Value = KvOp> {
    prop::sample::select(vec![KvOp::Put, KvOp::Get, KvOp::Delete])
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    // Mostly text, sometimes bytes that are not UTF-8 (written as numbers).
    prop_oneof![
        text().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..6),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    (any::<u64>(), any::<u64>(), entry_kind(), bytes()).prop_map(|(term, index, kind, data)| {
        Entry {
            term,
            index,
            kind,
            data,
        }
    })
}

fn body() -> impl Strategy<Value = MessageBody> {
    let n = any::<u64>;
    prop_oneof![
        (any::<bool>(), n(), n(), n(), n(), any::<bool>()).prop_map(|(p, t, c, i, lt, tr)| {
            MessageBody::RequestVote(RequestVoteReq {
                prevote: p,
                term: t,
                candidate_id: c,
                last_log_idx: i,
                last_log_term: lt,
                transfer: tr,
            })
        }),
        (any::<bool>(), n(), n(), any::<bool>()).prop_map(|(p, rt, t, g)| {
            MessageBody::RequestVoteResp(RequestVoteResp {
                prevote: p,
                request_term: rt,
                term: t,
                vote_granted: g,
            })
        }),
        (
            (n(), n(), n(), n(), n(), n()),
            prop::collection::vec(entry(), 0..3),
            any::<bool>()
        )
            .prop_map(|((l, tok, t, pi, pt, lc), entries, now)| {
                MessageBody::AppendEntries(AppendEntriesReq {
                    leader_id: l,
                    message_token: tok,
                    term: t,
                    prev_log_idx: pi,
                    prev_log_term: pt,
                    leader_commit: lc,
                    entries,
                    timeout_now: now,
                })
            }),
        (n(), n(), any::<bool>(), n()).prop_map(|(tok, t, s, c)| {
            MessageBody::AppendEntriesResp(AppendEntriesResp {
                message_token: tok,
                term: t,
                success: s,
                curr_index: c,
            })
        }),
        (
            (n(), n(), n(), n(), n()),
            (n(), bytes(), n(), any::<bool>())
        )
            .prop_map(|((t, l, tok, si, st), (off, data, size, last))| {
                MessageBody::Snapshot(SnapshotReq {
                    term: t,
                    leader_id: l,
                    message_token: tok,
                    snapshot_index: si,
                    snapshot_term: st,
                    block: SnapshotBlock {
                        offset: off,
                        data,
                        block_size: size,
                        is_last_chunk: last,
                    },
                })
            }),
        (n(), n(), n(), any::<bool>(), any::<bool>()).prop_map(|(t, tok, off, s, last)| {
            MessageBody::SnapshotResp(SnapshotResp {
                term: t,
                message_token: tok,
                offset: off,
                success: s,
                is_last_chunk: last,
            })
        }),
    ]
}

fn unit() -> impl Strategy<Value = f64> {
    // Chances as the page sets them (serde_json's default float parsing is
    // not exact for every 17-digit float, derived reader or not).
    (0u32..=1000).prop_map(|k| f64::from(k) / 1000.0)
}

fn action() -> impl Strategy<Value = Action> {
    let node = 1u64..10;
    prop_oneof![
        node.clone().prop_map(|node| Action::Crash { node }),
        node.clone().prop_map(|node| Action::Restart { node }),
        node.clone().prop_map(|node| Action::Timeout { node }),
        prop::collection::vec(ids(), 0..3).prop_map(|groups| Action::Partition { groups }),
        Just(Action::Heal),
        (node.clone(), node.clone()).prop_map(|(from, to)| Action::Cut { from, to }),
        (node.clone(), node.clone()).prop_map(|(from, to)| Action::Restore { from, to }),
        node.clone().prop_map(|node| Action::AddLearner { node }),
        node.clone().prop_map(|node| Action::AddVoter { node }),
        node.clone().prop_map(|node| Action::Remove { node }),
        ids().prop_map(|voters| Action::Joint { voters }),
        node.clone().prop_map(|to| Action::Transfer { to }),
        node.clone().prop_map(|node| Action::Snapshot { node }),
        (any::<u64>(), kv_op(), text(), prop::option::of(text())).prop_map(
            |(client, op, key, value)| Action::Client {
                client,
                op,
                key,
                value
            }
        ),
        any::<u64>().prop_map(|id| Action::DropMessage { id }),
        any::<u64>().prop_map(|id| Action::Deliver { id }),
        (node.clone(), node.clone()).prop_map(|(from, to)| Action::Hold { from, to }),
        (node.clone(), node.clone()).prop_map(|(from, to)| Action::Release { from, to }),
        node.clone().prop_map(|node| Action::Heartbeat { node }),
        (any::<bool>(), any::<bool>()).prop_map(|(on, timers)| Action::Manual { on, timers }),
        (
            node.clone(),
            node.clone(),
            text(),
            prop::option::of(any::<bool>())
        )
            .prop_map(|(from, to, msg, prevote)| Action::DeliverNext {
                from,
                to,
                msg,
                prevote
            }),
        (
            node.clone(),
            node.clone(),
            text(),
            prop::option::of(any::<bool>())
        )
            .prop_map(|(from, to, msg, prevote)| Action::DropNext {
                from,
                to,
                msg,
                prevote
            }),
        (
            prop::option::of((0u64..100, 100u64..200).prop_map(|(a, b)| [a, b])),
            prop::option::of(unit()),
            prop::option::of(unit()),
            prop::option::of(unit()),
        )
            .prop_map(|(latency_ms, loss, duplicate, reorder)| Action::Network {
                latency_ms,
                loss,
                duplicate,
                reorder,
            }),
    ]
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    let n = any::<u64>;
    prop_oneof![
        (
            n(),
            role(),
            n(),
            prop::option::of(n()),
            prop::option::of(text())
        )
            .prop_map(|(node, role, term, leader, reason)| EventKind::Role {
                node,
                role,
                term,
                leader,
                reason
            }),
        (
            n(),
            n(),
            n(),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(text())
        )
            .prop_map(|(node, candidate, term, prevote, granted, reason)| {
                EventKind::Vote {
                    node,
                    candidate,
                    term,
                    prevote,
                    granted,
                    reason,
                }
            }),
        (n(), entry()).prop_map(|(node, e)| EventKind::append(node, &e)),
        (n(), n()).prop_map(|(node, from)| EventKind::Truncate { node, from }),
        (n(), n(), prop::option::of(text())).prop_map(|(node, index, reason)| EventKind::Commit {
            node,
            index,
            reason
        }),
        (n(), n(), n(), prop::option::of(text())).prop_map(|(node, index, term, output)| {
            EventKind::Apply {
                node,
                index,
                term,
                output,
            }
        }),
        (
            n(),
            n(),
            n(),
            prop::sample::select(vec![SnapshotSource::Local, SnapshotSource::Install])
        )
            .prop_map(|(node, index, term, source)| EventKind::Snapshot {
                node,
                index,
                term,
                source
            }),
        (n(), id_set(), id_set(), id_set()).prop_map(|(node, voters, learners, outgoing)| {
            EventKind::Config {
                node,
                voters,
                learners,
                outgoing,
            }
        }),
        (n(), n(), n(), body())
            .prop_map(|(id, from, to, body)| EventKind::send(id, &Message { from, to, body })),
        // A body of another tool's shape stays raw.
        (n(), n(), n(), text()).prop_map(|(id, from, to, s)| EventKind::Send {
            id,
            from,
            to,
            msg: "append_entries".into(),
            term: 1,
            prevote: None,
            body: SendBody::Other(serde_json::json!({ "kind": "AppendEntries", "note": s })),
        }),
        (n(), prop::option::of(text()))
            .prop_map(|(id, outcome)| EventKind::Deliver { id, outcome }),
        (
            n(),
            prop::sample::select(vec![
                DropReason::Partition,
                DropReason::Loss,
                DropReason::Crashed
            ])
        )
            .prop_map(|(id, reason)| EventKind::Drop { id, reason }),
        n().prop_map(|node| EventKind::Crash { node }),
        n().prop_map(|node| EventKind::Restart { node }),
        prop::collection::vec(ids(), 0..3).prop_map(|groups| EventKind::Partition { groups }),
        Just(EventKind::Heal {}),
        (n(), n(), any::<bool>()).prop_map(|(from, to, up)| EventKind::Link { from, to, up }),
        action().prop_map(|a| EventKind::Action {
            action: serde_json::to_value(&a).unwrap()
        }),
        (
            (n(), kv_op(), text(), prop::option::of(text())),
            prop::sample::select(vec![
                ClientPhase::Invoke,
                ClientPhase::Ok,
                ClientPhase::Fail,
                ClientPhase::Timeout
            ]),
            prop::option::of(prop::option::of(text()))
        )
            .prop_map(
                |((client, op, key, value), phase, result)| EventKind::Client {
                    client: client.into(),
                    op,
                    key,
                    value,
                    phase,
                    result,
                }
            ),
    ]
}

fn meta_command() -> impl Strategy<Value = MetaCommand> {
    prop_oneof![
        (any::<u32>(), ids(), any::<u64>()).prop_map(|(group, members, epoch)| {
            MetaCommand::Join {
                group,
                members,
                epoch,
            }
        }),
        any::<u32>().prop_map(|group| MetaCommand::Leave { group }),
        (any::<u16>(), any::<u32>(), any::<u32>(), any::<u64>()).prop_map(
            |(slot, from, to, mig)| MetaCommand::MoveSlot {
                slot,
                from,
                to,
                mig
            }
        ),
        Just(MetaCommand::QueryShards),
        Just(MetaCommand::QueryMembers),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// An event's line reads back as the same event, alone and in a trace,
    /// and writing it again gives the same bytes.
    #[test]
    fn events_round_trip(kind in event_kind(), seq in any::<u64>(), time in any::<u64>()) {
        let ev = TraceEvent { seq, time, kind };
        let line = ev.to_line();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(&TraceEvent::from_json(&value).unwrap(), &ev);
        prop_assert_eq!(&serde_json::from_str::<TraceEvent>(&line).unwrap(), &ev);

        let first = TraceEvent { seq: 1, time: 0, kind: ev.kind.clone() };
        let text = format!("{}\n{}\n", TraceHeader::new(3, vec![1, 2, 3]).to_line(), first.to_line());
        let trace = read_trace(&text).unwrap();
        prop_assert_eq!(&trace.events, &vec![first]);
        prop_assert_eq!(trace.to_jsonl(), text);
    }

    /// A message body reads back through the generic `Deserialize` too.
    #[test]
    fn bodies_round_trip(body in body()) {
        let text = serde_json::to_string(&body).unwrap();
        prop_assert_eq!(&serde_json::from_str::<MessageBody>(&text).unwrap(), &body);
        let msg = Message { from: 1, to: 2, body };
        let text = serde_json::to_string(&msg).unwrap();
        prop_assert_eq!(serde_json::from_str::<Message>(&text).unwrap(), msg);
    }

    /// Actions and timed actions, from a value and from text.
    #[test]
    fn actions_round_trip(action in action(), time in any::<u64>()) {
        let value = serde_json::to_value(&action).unwrap();
        prop_assert_eq!(&Action::from_json(&value).unwrap(), &action);
        prop_assert_eq!(&serde_json::from_value::<Action>(value).unwrap(), &action);
        let timed = TimedAction { time, action };
        let text = serde_json::to_string(&timed).unwrap();
        prop_assert_eq!(serde_json::from_str::<TimedAction>(&text).unwrap(), timed);
    }

    /// Meta commands as entry payloads.
    #[test]
    fn meta_commands_round_trip(cmd in meta_command()) {
        prop_assert_eq!(MetaCommand::decode(&cmd.encode()).unwrap(), cmd);
    }

    /// A session file reads back as the same session.
    #[test]
    fn session_files_round_trip(
        seed in any::<u64>(),
        nodes in 1u64..=9,
        mut actions in prop::collection::vec((0u64..10_000, action()), 0..6),
    ) {
        actions.sort_by_key(|(t, _)| *t);
        let mut s = Session::new(seed, nodes, SimConfig::default());
        s.actions = actions.into_iter().map(|(time, action)| TimedAction { time, action }).collect();
        s.until = 10_000;
        prop_assert_eq!(Session::from_json(&s.to_json()).unwrap(), s);
    }
}

#[test]
fn field_errors_name_the_field_and_the_problem() {
    let read = |line: &str| {
        let text = format!("{}\n{line}\n", TraceHeader::new(1, vec![1, 2, 3]).to_line());
        read_trace(&text).unwrap_err().to_string()
    };
    assert_eq!(
        read(r#"{"seq":1,"time":0,"type":"commit","node":1}"#),
        "line 2: bad event: \"index\" is missing"
    );
    assert_eq!(
        read(r#"{"seq":1,"time":0,"type":"commit","node":"one","index":1}"#),
        "line 2: bad event: in \"node\": the text \"one\" where a whole number belongs"
    );
    let e = read(r#"{"seq":1,"time":0,"type":"role","node":1,"role":"boss","term":1}"#);
    assert!(
        e.starts_with("line 2: bad event: in \"role\": \"boss\" is not one of follower, "),
        "{e}"
    );
    assert_eq!(
        read(r#"{"time":0,"type":"heal"}"#),
        "line 2: bad event: \"seq\" is missing"
    );
}

#[test]
fn absent_optional_fields_read_as_none_and_null_result_stays_apart() {
    let v = serde_json::json!({"seq": 1, "time": 0, "type": "role", "node": 1, "role": "leader", "term": 2});
    let ev = TraceEvent::from_json(&v).unwrap();
    assert_eq!(
        ev.kind,
        EventKind::Role {
            node: 1,
            role: Role::Leader,
            term: 2,
            leader: None,
            reason: None
        }
    );
    let v = serde_json::json!({"op": "join", "group": 1, "members": [1, 2]});
    assert_eq!(
        MetaCommand::from_json(&v).unwrap(),
        MetaCommand::Join {
            group: 1,
            members: vec![1, 2],
            epoch: 0
        }
    );
}

#[test]
fn every_condition_kind_round_trips_and_unknown_fields_are_refused() {
    use raftlab_core::lesson::Condition;
    let texts = [
        r#"{"kind":"leader","node":1,"term_above":2}"#,
        r#"{"kind":"became","role":"candidate","term":3}"#,
        r#"{"kind":"role","node":2,"role":"leader"}"#,
        r#"{"kind":"node","node":2,"role":"follower","voted_for":0,"commit_index":4,"last_index":5}"#,
        r#"{"kind":"term","at_least":3}"#,
        r#"{"kind":"committed","index":4,"on":"all"}"#,
        r#"{"kind":"snapshot","node":3,"source":"install","index_at_least":10}"#,
        r#"{"kind":"config","voters":[1,2,3],"learners":[4]}"#,
        r#"{"kind":"client","phase":"ok","client":1,"op":"get","result":"v"}"#,
        r#"{"kind":"sent","msg":"append_entries","from":1,"at_least":3}"#,
        r#"{"kind":"time","after_ms":100}"#,
        r#"{"kind":"violation","rule":"election_safety"}"#,
        r#"{"kind":"converged"}"#,
        r#"{"kind":"all","of":[{"kind":"converged"},{"kind":"any","of":[{"kind":"not","of":{"kind":"time","after_ms":5}}]}]}"#,
    ];
    for text in texts {
        let c: Condition = serde_json::from_str(text).unwrap();
        let again = serde_json::to_string(&c).unwrap();
        assert_eq!(
            serde_json::from_str::<Condition>(&again).unwrap(),
            c,
            "{text}"
        );
    }
    // Defaults: `on` is the leader's, `at_least` is 1.
    let c: Condition = serde_json::from_str(r#"{"kind":"sent","msg":"snapshot"}"#).unwrap();
    assert!(matches!(c, Condition::Sent { at_least: 1, .. }));
    for (text, word) in [
        (r#"{"kind":"leader","nod":1}"#, "nod"),
        (r#"{"kind":"converged","x":1}"#, "x"),
        (r#"{"kind":"leadr"}"#, "leadr"),
        (r#"{"kind":"all","of":[{"kind":"term"}]}"#, "at_least"),
    ] {
        let e = serde_json::from_str::<Condition>(text)
            .unwrap_err()
            .to_string();
        assert!(e.contains(word), "{text}: {e}");
    }
}
