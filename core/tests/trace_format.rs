//! The trace format (docs/trace-format.md): exact line shape, writer
//! determinism, reader errors with line numbers, and robustness.

use proptest::prelude::*;
use raftlab_core::kv::KvOp;
use raftlab_core::trace::{
    read_trace, ClientPhase, EventKind, SendBody, TraceError, TraceErrorKind, TraceEvent,
    TraceHeader, TraceParser, TraceReader, TraceWriter,
};
use raftlab_core::types::{Message, MessageBody, RequestVoteReq, Role};

const VALID: &str = include_str!("data/valid_small.jsonl");

fn header_line() -> &'static str {
    r#"{"type":"header","format":"raftlab-trace","version":1,"seed":1,"nodes":[1,2,3],"config":{}}"#
}

fn err_of(text: &str) -> TraceError {
    match read_trace(text) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e,
    }
}

#[test]
fn vote_event_serialises_to_exactly_the_spec_line() {
    let ev = TraceEvent {
        seq: 3,
        time: 12,
        kind: EventKind::Vote {
            node: 2,
            candidate: 1,
            term: 2,
            prevote: true,
            granted: true,
            reason: None,
        },
    };
    assert_eq!(
        ev.to_line(),
        r#"{"seq":3,"time":12,"type":"vote","node":2,"candidate":1,"term":2,"prevote":true,"granted":true}"#
    );
}

#[test]
fn role_event_writes_null_leader_and_extra_reason_only_when_set() {
    let mut kind = EventKind::Role {
        node: 1,
        role: Role::PreCandidate,
        term: 0,
        leader: None,
        reason: None,
    };
    let ev = TraceEvent {
        seq: 1,
        time: 0,
        kind: kind.clone(),
    };
    assert_eq!(
        ev.to_line(),
        r#"{"seq":1,"time":0,"type":"role","node":1,"role":"precandidate","term":0,"leader":null}"#
    );
    if let EventKind::Role { reason, .. } = &mut kind {
        *reason = Some("timeout".into());
    }
    let ev = TraceEvent {
        seq: 1,
        time: 0,
        kind,
    };
    assert!(ev
        .to_line()
        .ends_with(r#""leader":null,"reason":"timeout"}"#));
}

#[test]
fn heal_is_a_bare_type() {
    let ev = TraceEvent {
        seq: 9,
        time: 5,
        kind: EventKind::Heal {},
    };
    assert_eq!(ev.to_line(), r#"{"seq":9,"time":5,"type":"heal"}"#);
}

#[test]
fn get_result_keeps_null_apart_from_absent() {
    let text = format!(
        "{}\n{}\n{}\n{}\n",
        header_line(),
        r#"{"seq":1,"time":0,"type":"client","client":1,"op":"get","key":"k","phase":"ok","result":null}"#,
        r#"{"seq":2,"time":0,"type":"client","client":1,"op":"get","key":"k","phase":"ok","result":"v"}"#,
        r#"{"seq":3,"time":0,"type":"client","client":1,"op":"get","key":"k","phase":"invoke"}"#,
    );
    let trace = read_trace(&text).unwrap();
    let results: Vec<Option<Option<String>>> = trace
        .events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Client { result, .. } => result.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(results, vec![Some(None), Some(Some("v".into())), None]);
    // And back out the same way.
    assert_eq!(trace.to_jsonl(), text);
}

#[test]
fn send_event_from_message_takes_msg_term_and_prevote_from_the_body() {
    let m = Message {
        from: 1,
        to: 2,
        body: MessageBody::RequestVote(RequestVoteReq {
            prevote: true,
            term: 4,
            candidate_id: 1,
            last_log_idx: 7,
            last_log_term: 3,
            transfer: false,
        }),
    };
    let ev = TraceEvent {
        seq: 1,
        time: 0,
        kind: EventKind::send(5, &m),
    };
    assert_eq!(
        ev.to_line(),
        r#"{"seq":1,"time":0,"type":"send","id":5,"from":1,"to":2,"msg":"request_vote","term":4,"prevote":true,"body":{"msg":"request_vote","prevote":true,"term":4,"candidate_id":1,"last_log_idx":7,"last_log_term":3}}"#
    );
}

#[test]
fn unknown_fields_are_ignored_everywhere_including_the_body() {
    let text = format!(
        "{}\n{}\n",
        r#"{"type":"header","format":"raftlab-trace","version":1,"seed":1,"nodes":[1],"config":{},"generator":"other-tool"}"#,
        r#"{"seq":1,"time":0,"type":"send","id":1,"from":1,"to":2,"msg":"request_vote","term":1,"prevote":false,"colour":"red","body":{"msg":"request_vote","prevote":false,"term":1,"candidate_id":1,"last_log_idx":0,"last_log_term":0,"zzz":1}}"#,
    );
    let trace = read_trace(&text).unwrap();
    match &trace.events[0].kind {
        EventKind::Send {
            body: SendBody::Message(MessageBody::RequestVote(r)),
            ..
        } => {
            assert_eq!(r.candidate_id, 1)
        }
        other => panic!("body not typed: {other:?}"),
    }
}

#[test]
fn a_body_of_another_shape_is_kept_raw() {
    let text = format!(
        "{}\n{}\n",
        header_line(),
        r#"{"seq":1,"time":0,"type":"send","id":1,"from":1,"to":2,"msg":"append_entries","term":1,"body":{"kind":"AppendEntries","n":3}}"#,
    );
    let trace = read_trace(&text).unwrap();
    assert!(matches!(
        &trace.events[0].kind,
        EventKind::Send {
            body: SendBody::Other(_),
            ..
        }
    ));
    assert_eq!(trace.to_jsonl(), text);
}

#[test]
fn fixture_round_trips_byte_for_byte() {
    let trace = read_trace(VALID).unwrap();
    assert_eq!(trace.events.len(), 93);
    let once = trace.to_jsonl();
    assert_eq!(once, VALID);
    let twice = read_trace(&once).unwrap().to_jsonl();
    assert_eq!(twice, once);
}

#[test]
fn fixture_uses_every_event_type() {
    let trace = read_trace(VALID).unwrap();
    for t in EventKind::TYPES {
        assert!(
            trace.events.iter().any(|e| e.kind.type_name() == t),
            "fixture lacks a {t} event"
        );
    }
}

#[test]
fn writer_numbers_events_from_one_and_matches_trace_to_jsonl() {
    let header = TraceHeader::new(7, vec![1, 2]);
    let mut w = TraceWriter::new(Vec::new(), &header).unwrap();
    let a = w.emit(0, EventKind::Crash { node: 1 }).unwrap();
    let b = w.emit(5, EventKind::Restart { node: 1 }).unwrap();
    assert_eq!((a.seq, b.seq), (1, 2));
    let bytes = w.finish().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(
        text,
        "{\"type\":\"header\",\"format\":\"raftlab-trace\",\"version\":1,\"seed\":7,\"nodes\":[1,2],\"config\":{}}\n\
         {\"seq\":1,\"time\":0,\"type\":\"crash\",\"node\":1}\n\
         {\"seq\":2,\"time\":5,\"type\":\"restart\",\"node\":1}\n"
    );
    let trace = read_trace(&text).unwrap();
    assert_eq!(trace.to_jsonl(), text);
}

#[test]
fn writer_refuses_time_going_backwards() {
    let mut w = TraceWriter::new(Vec::new(), &TraceHeader::new(1, vec![1])).unwrap();
    w.emit(10, EventKind::Heal {}).unwrap();
    let e = w.emit(9, EventKind::Heal {}).unwrap_err();
    assert!(matches!(
        e.kind,
        TraceErrorKind::TimeDecreasing {
            previous: 10,
            found: 9
        }
    ));
    // The failed event did not use up a seq.
    assert_eq!(w.emit(10, EventKind::Heal {}).unwrap().seq, 2);
}

#[test]
fn empty_input_is_an_error() {
    assert_eq!(err_of("").kind, TraceErrorKind::Empty);
}

#[test]
fn first_line_not_a_header_is_reported_on_line_1() {
    let e = err_of("{\"seq\":1,\"time\":0,\"type\":\"heal\"}\n");
    assert_eq!((e.line, e.kind), (1, TraceErrorKind::MissingHeader));
}

#[test]
fn unknown_format_is_rejected_by_name() {
    let e = err_of(
        r#"{"type":"header","format":"jepsen-edn","version":1,"seed":1,"nodes":[],"config":{}}"#,
    );
    assert_eq!(e.kind, TraceErrorKind::UnknownFormat("jepsen-edn".into()));
    assert!(e.to_string().contains("line 1"));
}

#[test]
fn unsupported_major_version_is_rejected() {
    let e = err_of(
        r#"{"type":"header","format":"raftlab-trace","version":2,"seed":1,"nodes":[],"config":{}}"#,
    );
    assert_eq!(e.kind, TraceErrorKind::UnsupportedVersion("2".into()));
    assert!(e.to_string().contains("unsupported trace version 2"));
}

#[test]
fn seq_gap_is_reported_with_its_line() {
    let text = format!(
        "{}\n{}\n{}\n",
        header_line(),
        r#"{"seq":1,"time":0,"type":"heal"}"#,
        r#"{"seq":3,"time":0,"type":"heal"}"#
    );
    let e = err_of(&text);
    assert_eq!(e.line, 3);
    assert_eq!(
        e.kind,
        TraceErrorKind::SeqGap {
            expected: 2,
            found: 3
        }
    );
}

#[test]
fn first_event_must_have_seq_1() {
    let text = format!(
        "{}\n{}\n",
        header_line(),
        r#"{"seq":0,"time":0,"type":"heal"}"#
    );
    assert_eq!(
        err_of(&text).kind,
        TraceErrorKind::SeqGap {
            expected: 1,
            found: 0
        }
    );
}

#[test]
fn decreasing_time_is_reported_with_its_line() {
    let text = format!(
        "{}\n{}\n{}\n",
        header_line(),
        r#"{"seq":1,"time":5,"type":"heal"}"#,
        r#"{"seq":2,"time":4,"type":"heal"}"#
    );
    let e = err_of(&text);
    assert_eq!(e.line, 3);
    assert_eq!(
        e.kind,
        TraceErrorKind::TimeDecreasing {
            previous: 5,
            found: 4
        }
    );
}

#[test]
fn malformed_json_line_is_reported_with_its_line() {
    let text = format!(
        "{}\n{}\n{{\"seq\":2,\n",
        header_line(),
        r#"{"seq":1,"time":0,"type":"heal"}"#
    );
    let e = err_of(&text);
    assert_eq!(e.line, 3);
    assert!(matches!(e.kind, TraceErrorKind::BadJson(_)));
    assert!(e.to_string().starts_with("line 3: not valid JSON"));
}

#[test]
fn unknown_event_type_is_named() {
    let text = format!(
        "{}\n{}\n",
        header_line(),
        r#"{"seq":1,"time":0,"type":"teleport","node":1}"#
    );
    let e = err_of(&text);
    assert_eq!(
        (e.line, e.kind),
        (2, TraceErrorKind::UnknownEventType("teleport".into()))
    );
}

#[test]
fn missing_field_of_a_known_type_is_a_bad_event() {
    let text = format!(
        "{}\n{}\n",
        header_line(),
        r#"{"seq":1,"time":0,"type":"commit","node":1}"#
    );
    let e = err_of(&text);
    assert_eq!(e.line, 2);
    match e.kind {
        TraceErrorKind::BadEvent(m) => assert!(m.contains("index"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn blank_line_is_an_error() {
    let text = format!(
        "{}\n\n{}\n",
        header_line(),
        r#"{"seq":1,"time":0,"type":"heal"}"#
    );
    assert_eq!(err_of(&text).kind, TraceErrorKind::BlankLine);
}

#[test]
fn reader_streams_and_stops_after_the_first_error() {
    let text = format!(
        "{}\n{}\n{}\n{}\n",
        header_line(),
        r#"{"seq":1,"time":0,"type":"heal"}"#,
        r#"{"seq":5,"time":0,"type":"heal"}"#,
        r#"{"seq":6,"time":0,"type":"heal"}"#
    );
    let reader = TraceReader::new(&text).unwrap();
    assert_eq!(reader.header().seed, 1);
    let items: Vec<_> = reader.collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok() && items[1].is_err());
}

#[test]
fn push_parser_reads_line_by_line() {
    let mut p = TraceParser::new();
    assert_eq!(p.push_line(header_line()).unwrap(), None);
    let ev = p
        .push_line(r#"{"seq":1,"time":3,"type":"client","client":2,"op":"put","key":"a","value":"b","phase":"invoke"}"#)
        .unwrap()
        .unwrap();
    assert!(matches!(
        ev.kind,
        EventKind::Client {
            op: KvOp::Put,
            phase: ClientPhase::Invoke,
            ..
        }
    ));
    assert_eq!(p.header().unwrap().nodes, vec![1, 2, 3]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary text after a valid header: the reader returns events or an
    /// error, never panics.
    #[test]
    fn garbage_lines_never_panic_the_reader(lines in prop::collection::vec(".{0,80}", 0..8)) {
        let text = format!("{}\n{}", header_line(), lines.join("\n"));
        let _ = read_trace(&text);
        let _ = raftlab_core::check::check_trace_str(&text);
    }

    /// Lines that are JSON objects with plausible keys and random values.
    #[test]
    fn garbage_events_never_panic_the_reader(
        ty in prop::sample::select(vec!["role","vote","append","truncate","commit","apply","snapshot","config","send","deliver","drop","crash","restart","partition","heal","link","action","client","bogus"]),
        n in any::<u64>(), m in any::<u64>(), b in any::<bool>(), s in ".{0,8}",
    ) {
        let line = format!(
            r#"{{"seq":1,"time":{m},"type":"{ty}","node":{n},"index":{n},"term":{m},"from":{n},"to":{m},"id":{n},"granted":{b},"prevote":{b},"candidate":{m},"kind":"normal","data":{s:?},"role":"leader","leader":{n},"source":"install","key":{s:?},"op":"put","phase":"ok","client":{n},"msg":"request_vote","body":{{}},"up":{b},"groups":[[{n}]],"action":{{}},"reason":"loss","voters":[{n}],"learners":[],"outgoing":[]}}"#
        );
        let text = format!("{}\n{}\n", header_line(), line);
        let _ = read_trace(&text);
        let _ = raftlab_core::check::check_trace_str(&text);
    }
}

/// `EventKind::node` names the server whose own state an event records,
/// and nothing for network and client events.
#[test]
fn an_event_names_the_node_whose_state_it_records() {
    use raftlab_core::trace::EventKind;
    assert_eq!(EventKind::Crash { node: 3 }.node(), Some(3));
    assert_eq!(EventKind::Restart { node: 2 }.node(), Some(2));
    assert_eq!(EventKind::Heal {}.node(), None);
}
