//! Linearizability of client histories (spec rule 4): the classic cases,
//! uncertain outcomes, the step bound, and a property test against histories
//! produced by a real atomic register.

use proptest::prelude::*;
use raftlab_core::check::{
    check_trace_str, check_trace_str_with, rules, CheckerOptions, LinStatus, Report,
};
use raftlab_core::kv::KvOp;
use raftlab_core::trace::{ClientPhase, EventKind, TraceHeader, TraceWriter};

/// One client event: (client, op, key, value or result, phase).
#[derive(Clone, Debug)]
struct Ev {
    client: u64,
    op: KvOp,
    key: &'static str,
    arg: Option<&'static str>,
    phase: ClientPhase,
}

fn inv(client: u64, op: KvOp, key: &'static str, value: Option<&'static str>) -> Ev {
    Ev {
        client,
        op,
        key,
        arg: value,
        phase: ClientPhase::Invoke,
    }
}

fn end(
    client: u64,
    op: KvOp,
    key: &'static str,
    phase: ClientPhase,
    result: Option<&'static str>,
) -> Ev {
    Ev {
        client,
        op,
        key,
        arg: result,
        phase,
    }
}

fn kind(e: &Ev) -> EventKind {
    let is_get_ok = e.op == KvOp::Get && e.phase == ClientPhase::Ok;
    EventKind::Client {
        client: e.client.into(),
        op: e.op.clone(),
        key: e.key.to_string(),
        value: if e.phase == ClientPhase::Invoke {
            e.arg.map(str::to_string)
        } else {
            None
        },
        phase: e.phase,
        result: if is_get_ok {
            Some(e.arg.map(str::to_string))
        } else {
            None
        },
    }
}

fn text(events: impl IntoIterator<Item = EventKind>) -> String {
    let mut w = TraceWriter::new(Vec::new(), &TraceHeader::new(1, vec![1, 2, 3])).unwrap();
    for (t, k) in events.into_iter().enumerate() {
        w.emit(t as u64, k).unwrap();
    }
    String::from_utf8(w.finish().unwrap()).unwrap()
}

fn report(events: &[Ev]) -> Report {
    check_trace_str(&text(events.iter().map(kind))).unwrap()
}

fn status(events: &[Ev], key: &str) -> LinStatus {
    report(events)
        .linearizability
        .into_iter()
        .find(|k| k.key == key)
        .map(|k| k.status)
        .expect("key checked")
}

use ClientPhase::{Fail, Ok as Done, Timeout};
use KvOp::{Delete, Get, Put};

#[test]
fn stale_read_after_a_completed_write_is_a_violation() {
    let h = [
        inv(1, Put, "x", Some("1")),
        end(1, Put, "x", Done, None),
        inv(1, Put, "x", Some("2")),
        end(1, Put, "x", Done, None),
        inv(2, Get, "x", None),
        end(2, Get, "x", Done, Some("1")),
    ];
    let r = report(&h);
    match status(&h, "x") {
        LinStatus::Violation { message, related } => {
            assert!(message.contains("\"x\""), "{message}");
            assert!(related.contains(&5) && related.contains(&6), "{related:?}");
        }
        other => panic!("expected a violation, got {other:?}"),
    }
    assert!(r
        .violations
        .iter()
        .any(|v| v.rule == rules::LINEARIZABILITY));
    assert!(!r.is_safe());
}

#[test]
fn read_concurrent_with_a_write_may_see_either_value() {
    for seen in [Some("1"), None] {
        let h = [
            inv(1, Put, "x", Some("1")),
            inv(2, Get, "x", None),
            end(2, Get, "x", Done, seen),
            end(1, Put, "x", Done, None),
        ];
        assert_eq!(status(&h, "x"), LinStatus::Linearizable, "read {seen:?}");
    }
}

#[test]
fn two_reads_cannot_see_a_value_come_and_go() {
    // Put 1 overlaps both reads, but once one read sees 1, a later read
    // cannot see the old (absent) value again.
    let h = [
        inv(1, Put, "x", Some("1")),
        inv(2, Get, "x", None),
        end(2, Get, "x", Done, Some("1")),
        inv(3, Get, "x", None),
        end(3, Get, "x", Done, None),
        end(1, Put, "x", Done, None),
    ];
    assert!(matches!(status(&h, "x"), LinStatus::Violation { .. }));
}

#[test]
fn timed_out_write_may_or_may_not_take_effect() {
    for seen in [Some("1"), None] {
        let h = [
            inv(1, Put, "x", Some("1")),
            end(1, Put, "x", Timeout, None),
            inv(2, Get, "x", None),
            end(2, Get, "x", Done, seen),
        ];
        assert_eq!(status(&h, "x"), LinStatus::Linearizable, "read {seen:?}");
    }
}

#[test]
fn timed_out_write_may_take_effect_late_but_not_before_it_starts() {
    // Late: read absent, then read 1 — the timed-out put landed in between.
    let late = [
        inv(1, Put, "x", Some("1")),
        end(1, Put, "x", Timeout, None),
        inv(2, Get, "x", None),
        end(2, Get, "x", Done, None),
        inv(2, Get, "x", None),
        end(2, Get, "x", Done, Some("1")),
    ];
    assert_eq!(status(&late, "x"), LinStatus::Linearizable);
    // Early: a read of 1 completed before the put was even invoked.
    let early = [
        inv(2, Get, "x", None),
        end(2, Get, "x", Done, Some("1")),
        inv(1, Put, "x", Some("1")),
        end(1, Put, "x", Timeout, None),
    ];
    assert!(matches!(status(&early, "x"), LinStatus::Violation { .. }));
}

#[test]
fn failed_write_never_takes_effect() {
    let h = [
        inv(1, Put, "x", Some("1")),
        end(1, Put, "x", Fail, None),
        inv(2, Get, "x", None),
        end(2, Get, "x", Done, Some("1")),
    ];
    assert!(matches!(status(&h, "x"), LinStatus::Violation { .. }));
}

#[test]
fn delete_empties_the_register() {
    let ok = [
        inv(1, Put, "x", Some("1")),
        end(1, Put, "x", Done, None),
        inv(1, Delete, "x", None),
        end(1, Delete, "x", Done, None),
        inv(2, Get, "x", None),
        end(2, Get, "x", Done, None),
    ];
    assert_eq!(status(&ok, "x"), LinStatus::Linearizable);
    let mut bad = ok.clone();
    bad[5] = end(2, Get, "x", Done, Some("1"));
    assert!(matches!(status(&bad, "x"), LinStatus::Violation { .. }));
}

#[test]
fn reading_a_value_nobody_wrote_is_a_violation() {
    let h = [
        inv(2, Get, "x", None),
        end(2, Get, "x", Done, Some("ghost")),
    ];
    assert!(matches!(status(&h, "x"), LinStatus::Violation { .. }));
}

#[test]
fn keys_are_independent_registers() {
    let h = [
        inv(1, Put, "x", Some("1")),
        end(1, Put, "x", Done, None),
        inv(2, Get, "y", None),
        end(2, Get, "y", Done, None),
    ];
    let r = report(&h);
    assert!(r.is_safe());
    assert_eq!(r.linearizability.len(), 2);
}

#[test]
fn outcome_without_an_invocation_violates_causal_order() {
    let h = [end(1, Put, "x", Done, None)];
    let r = report(&h);
    assert!(r
        .violations
        .iter()
        .any(|v| v.rule == rules::CAUSAL_ORDER && v.seq == 1));
}

/// 20 overlapping writes and a later read of a value none wrote: deciding
/// it means trying every order of the writes.
fn pathological() -> Vec<Ev> {
    const VALUES: [&str; 20] = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r",
        "s", "t",
    ];
    let mut h: Vec<Ev> = (0..20)
        .map(|c| inv(c, Put, "x", Some(VALUES[c as usize])))
        .collect();
    h.extend((0..20).map(|c| end(c, Put, "x", Done, None)));
    h.push(inv(99, Get, "x", None));
    h.push(end(99, Get, "x", Done, Some("z")));
    h
}

#[test]
fn search_bound_answers_unknown_instead_of_hanging() {
    let trace = text(pathological().iter().map(kind));
    let opts = CheckerOptions {
        linearizability_max_steps: 1000,
        ..CheckerOptions::default()
    };
    let r = check_trace_str_with(&trace, opts).unwrap();
    assert_eq!(
        r.linearizability[0].status,
        LinStatus::Unknown { steps: 1000 }
    );
    assert!(r.has_unknown());
    // Unknown is not reported as a violation.
    assert!(r.is_safe());
}

#[test]
fn small_version_of_the_pathological_history_is_decided() {
    let mut h: Vec<Ev> = vec![
        inv(1, Put, "x", Some("a")),
        inv(2, Put, "x", Some("b")),
        inv(3, Put, "x", Some("c")),
    ];
    h.extend((1..=3).map(|c| end(c, Put, "x", Done, None)));
    h.push(inv(9, Get, "x", None));
    h.push(end(9, Get, "x", Done, Some("z")));
    assert!(matches!(status(&h, "x"), LinStatus::Violation { .. }));
    let n = h.len();
    h[n - 1] = end(9, Get, "x", Done, Some("b"));
    assert_eq!(status(&h, "x"), LinStatus::Linearizable);
}

/// A history produced by a real atomic register: each operation takes
/// effect at a distinct instant inside its [invoke, response] window.
fn register_history(ops: &[(u8, u8, u8, u8)]) -> Vec<EventKind> {
    const VALS: [&str; 4] = ["v0", "v1", "v2", "v3"];
    // (time, order, event)
    let mut timed: Vec<(u64, u64, EventKind)> = Vec::new();
    let mut reg: Option<&str> = None;
    for (i, &(op, val, before, after)) in ops.iter().enumerate() {
        let point = 10 * (i as u64 + 1);
        let invoke_t = point - u64::from(before % 10);
        let ret_t = point + u64::from(after % 10);
        let client = i as u64;
        let (kv, value, result) = match op % 3 {
            0 => {
                reg = Some(VALS[usize::from(val % 4)]);
                (Put, Some(VALS[usize::from(val % 4)]), None)
            }
            1 => {
                reg = None;
                (Delete, None, None)
            }
            _ => (Get, None, Some(reg)),
        };
        let invoke = Ev {
            client,
            op: kv.clone(),
            key: "k",
            arg: value,
            phase: ClientPhase::Invoke,
        };
        let done = Ev {
            client,
            op: kv,
            key: "k",
            arg: result.flatten(),
            phase: ClientPhase::Ok,
        };
        timed.push((invoke_t * 2, 0, kind(&invoke)));
        timed.push((ret_t * 2 + 1, 1, kind(&done)));
    }
    timed.sort_by_key(|(t, o, _)| (*t, *o));
    timed.into_iter().map(|(_, _, k)| k).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn histories_of_an_atomic_register_are_linearizable(
        ops in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()), 1..12)
    ) {
        let r = check_trace_str(&text(register_history(&ops))).unwrap();
        prop_assert!(r.is_safe(), "{:#?}", r.violations);
        prop_assert_eq!(&r.linearizability[0].status, &LinStatus::Linearizable);
    }
}
