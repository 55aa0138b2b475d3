//! Fuzzing the session readers (issue 17): arbitrary text and bytes, and
//! mutations of a real exported session, fed to the link decoder
//! (`Session::from_fragment`, `base64url::decode`, `Session::from_bytes`)
//! and the file reader (`Session::from_json`). Never a panic; every refusal
//! is an error in words; whatever is accepted still round-trips.

mod fuzz_support;

use std::sync::OnceLock;

use fuzz_support::{assert_words, mutate, mutations, repo_file, CASES};
use proptest::prelude::*;
use raftlab_core::session::{base64url, Session};
use raftlab_core::sim::{Action, TimedAction};
use raftlab_core::KvOp;

/// A real exported session: the one the page makes from the chaos trace
/// the browser tests load.
fn exported() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| {
        Session::from_trace_str(&repo_file("e2e/fixtures/chaos-seed3.jsonl"))
            .expect("the fixture is a good trace")
    })
}

/// What a session that was accepted must satisfy: it reads back from its
/// own link and file as itself.
fn assert_round_trip(s: &Session) {
    assert_eq!(Session::from_fragment(&s.to_fragment()).as_ref(), Ok(s));
    assert_eq!(Session::from_json(&s.to_json()).as_ref(), Ok(s));
}

#[test]
fn the_exported_session_round_trips() {
    assert!(!exported().actions.is_empty());
    assert_round_trip(exported());
}

/// A handful of timed actions for random valid sessions.
fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (1u64..=9).prop_map(|node| Action::Crash { node }),
        (1u64..=9).prop_map(|node| Action::Restart { node }),
        Just(Action::Heal),
        (1u64..=9, 1u64..=9).prop_map(|(from, to)| Action::Cut { from, to }),
        ("[a-z]{1,4}", ".{0,8}").prop_map(|(key, v)| Action::Client {
            client: 1,
            op: KvOp::Put,
            key,
            value: Some(v),
        }),
        (0u32..=10_000).prop_map(|k| Action::Network {
            latency_ms: None,
            loss: Some(f64::from(k) / 10_000.0),
            duplicate: None,
            reorder: None,
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, .. ProptestConfig::default() })]

    #[test]
    fn any_text_as_a_link_is_refused_in_words(text in ".{0,300}") {
        if let Err(e) = base64url::decode(&text) {
            assert_words(&text, &e);
        }
        match Session::from_fragment(&text) {
            Ok(s) => assert_round_trip(&s),
            Err(e) => assert_words(&text, &e.to_string()),
        }
    }

    #[test]
    fn any_bytes_as_a_link_are_refused_in_words(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let fragment = format!("s={}", base64url::encode(&bytes));
        prop_assert_eq!(base64url::decode(&fragment[2..]), Ok(bytes.clone()));
        match Session::from_fragment(&fragment) {
            Ok(s) => assert_round_trip(&s),
            Err(e) => assert_words(&fragment, &e.to_string()),
        }
    }

    #[test]
    fn a_mutated_link_is_refused_in_words_or_still_round_trips(m in mutations(4)) {
        let bytes = mutate(&exported().to_bytes(), &m);
        match Session::from_bytes(&bytes) {
            Ok(s) => assert_round_trip(&s),
            Err(e) => assert_words(&format!("{m:?}"), &e.to_string()),
        }
        let text = mutate(exported().to_fragment().as_bytes(), &m);
        let text = String::from_utf8_lossy(&text);
        match Session::from_fragment(&text) {
            Ok(s) => assert_round_trip(&s),
            Err(e) => assert_words(&text, &e.to_string()),
        }
    }

    #[test]
    fn any_text_as_a_session_file_is_refused_in_words(text in ".{0,300}") {
        match Session::from_json(&text) {
            Ok(s) => assert_round_trip(&s),
            Err(e) => assert_words(&text, &e.to_string()),
        }
    }

    #[test]
    fn a_mutated_session_file_is_refused_in_words_or_still_round_trips(m in mutations(3)) {
        let bytes = mutate(exported().to_json().as_bytes(), &m);
        let text = String::from_utf8_lossy(&bytes);
        match Session::from_json(&text) {
            Ok(s) => assert_round_trip(&s),
            Err(e) => assert_words(&format!("{m:?}"), &e.to_string()),
        }
    }

    #[test]
    fn a_valid_session_round_trips_as_a_link_and_a_file(
        seed in any::<u64>(),
        nodes in 1u64..=9,
        steps in proptest::collection::vec((0u64..500, action()), 0..12),
    ) {
        let mut s = Session::new(seed, nodes, Default::default());
        let mut time = 0;
        for (dt, action) in steps {
            time += dt;
            s.actions.push(TimedAction { time, action });
        }
        s.until = time + 1;
        assert_round_trip(&s);
    }
}

// ----- the words of a refusal -----

/// A session file with one field replaced.
fn file_with(field: &str, value: serde_json::Value) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&Session::new(1, 3, Default::default()).to_json())
            .expect("a session file is JSON");
    v[field] = value;
    v.to_string()
}

#[test]
fn a_garbage_file_is_named_as_not_a_trace_or_session_with_its_line() {
    let e = Session::from_json("hello\nworld").unwrap_err();
    assert_eq!(
        e.to_string(),
        "this is not a raftlab trace or session: line 1 is not JSON"
    );
    let e = Session::from_json("{\n\"format\": \"raftlab-session\",\n").unwrap_err();
    assert!(e.to_string().starts_with("the file is cut short"), "{e}");
}

#[test]
fn a_field_of_the_wrong_kind_is_named_in_words() {
    let e = Session::from_json(&file_with("seed", "x".into())).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the session file is not valid: in \"seed\": the text \"x\" where a whole number belongs"
    );
    let e = Session::from_json(&file_with("nodes", 12.into())).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the session is not valid: \"nodes\" is 12, but a cluster has 1 to 9 nodes"
    );
    let mut late = Session::new(1, 3, Default::default());
    late.actions = vec![
        TimedAction {
            time: 50,
            action: Action::Heal,
        },
        TimedAction {
            time: 20,
            action: Action::Heal,
        },
    ];
    assert_eq!(
        late.validate().unwrap_err().to_string(),
        "the session is not valid: \"actions\" must be in time order, but action 2 at 20 ms comes after one at 50 ms"
    );
    let e =
        Session::from_json(&file_with("config", serde_json::json!({"loss": "high"}))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the session file is not valid: in \"config\": the text \"high\" where a number belongs"
    );
    let e =
        Session::from_json(&file_with("actions", serde_json::json!([{"time": 5}]))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the session file is not valid: action 1: \"action\" is missing"
    );
    let e = Session::from_json(&file_with("format", serde_json::json!({"a": 1}))).unwrap_err();
    assert!(!e.to_string().contains('{'), "{e}");
}

#[test]
fn a_damaged_link_says_how_in_words() {
    let e = Session::from_fragment("#s=ab$d").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the session link is damaged: character \"$\" at position 3 is not base64url"
    );
    let mut bytes = exported().to_bytes();
    bytes.truncate(bytes.len() / 2);
    let e = Session::from_bytes(&bytes).unwrap_err();
    assert!(e.to_string().starts_with("the session link is"), "{e}");
}
