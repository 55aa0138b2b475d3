//! Sessions: what reproduces a run, as a short link and as a file. Round
//! trips, byte-for-byte replays (of a page's run and of a chaos trace), and
//! clear errors, never panics, on damaged input.

use proptest::prelude::*;
use raftlab_core::config::Bug;
use raftlab_core::session::{base64url, Session, SessionError, CONFIG_FIELDS, SESSION_VERSION};
use raftlab_core::sim::chaos::run_standard;
use raftlab_core::sim::{Action, Sim, SimConfig, TimedAction};
use raftlab_core::KvOp;

fn every_kind_of_action() -> Vec<TimedAction> {
    let put = |client, key: &str, v: &str| Action::Client {
        client,
        op: KvOp::Put,
        key: key.into(),
        value: Some(v.into()),
    };
    let list = vec![
        Action::Crash { node: 1 },
        Action::Restart { node: 1 },
        Action::Timeout { node: 2 },
        Action::Partition {
            groups: vec![vec![1, 2], vec![3, 4, 5]],
        },
        Action::Heal,
        Action::Cut { from: 1, to: 3 },
        Action::Restore { from: 1, to: 3 },
        Action::AddLearner { node: 6 },
        Action::AddVoter { node: 6 },
        Action::Remove { node: 2 },
        Action::Joint {
            voters: vec![5, 3, 4, 6],
        },
        Action::Transfer { to: 3 },
        Action::Snapshot { node: 4 },
        put(1, "x", "1"),
        Action::Client {
            client: 2,
            op: KvOp::Get,
            key: "x".into(),
            value: None,
        },
        Action::Client {
            client: 3,
            op: KvOp::Delete,
            key: "ключ".into(),
            value: None,
        },
        Action::DropMessage { id: 123_456 },
        Action::Manual {
            on: true,
            timers: false,
        },
        Action::Deliver { id: 77 },
        Action::Hold { from: 2, to: 5 },
        Action::Release { from: 2, to: 5 },
        Action::Heartbeat { node: 1 },
        Action::DeliverNext {
            from: 2,
            to: 1,
            msg: "request_vote_resp".into(),
            prevote: None,
        },
        Action::DropNext {
            from: 1,
            to: 4,
            msg: "request_vote".into(),
            prevote: Some(true),
        },
        Action::DeliverNext {
            from: 3,
            to: 1,
            msg: "append_entries_resp".into(),
            prevote: Some(false),
        },
        Action::Manual {
            on: false,
            timers: true,
        },
        Action::Network {
            latency_ms: Some([1, 40]),
            loss: Some(0.05),
            duplicate: None,
            reorder: Some(1.0 / 3.0),
        },
        Action::Network {
            latency_ms: None,
            loss: None,
            duplicate: Some(0.0),
            reorder: None,
        },
    ];
    list.into_iter()
        .enumerate()
        .map(|(i, action)| TimedAction {
            time: 100 + 37 * i as u64,
            action,
        })
        .collect()
}

fn odd_config() -> SimConfig {
    SimConfig {
        election_timeout_ms: [200, 450],
        prevote: false,
        latency_ms: [10, 10],
        loss: 0.125,
        reorder: 0.1 + 0.2, // not a multiple of 1/10000: stored as raw bits
        snapshot_every: 50,
        snapshot_chunk_bytes: 64,
        bugs: vec![Bug::LearnerInQuorum, Bug::Figure8],
        ..SimConfig::default()
    }
}

#[test]
fn links_and_files_round_trip() {
    let mut s = Session::new(u64::MAX - 5, 5, odd_config());
    s.actions = every_kind_of_action();
    s.until = 5000;
    let link = s.to_fragment();
    assert!(link.starts_with("s="));
    assert_eq!(Session::from_fragment(&link).unwrap(), s);
    assert_eq!(Session::from_fragment(&format!("#{link}")).unwrap(), s);
    assert_eq!(
        Session::from_fragment(link.trim_start_matches("s=")).unwrap(),
        s
    );
    let file = s.to_json();
    assert!(file.contains("\"format\": \"raftlab-session\""));
    assert_eq!(Session::from_json(&file).unwrap(), s);
    // The defaults cost nothing.
    let plain = Session::new(1, 3, SimConfig::default());
    assert!(plain.to_fragment().len() < 16, "{}", plain.to_fragment());
    assert_eq!(Session::from_fragment(&plain.to_fragment()).unwrap(), plain);
}

#[test]
fn twenty_actions_fit_in_a_short_link() {
    let mut s = Session::new(42, 5, SimConfig::default());
    let mut t = 0;
    for i in 0..20u64 {
        t += 150 + i * 13;
        let action = match i % 5 {
            0 => Action::Crash { node: i % 5 + 1 },
            1 => Action::Restart { node: i % 5 },
            2 => Action::Partition {
                groups: vec![vec![1, 2], vec![3, 4, 5]],
            },
            3 => Action::Heal,
            _ => Action::Client {
                client: i,
                op: KvOp::Put,
                key: "x".into(),
                value: Some(i.to_string()),
            },
        };
        s.actions.push(TimedAction { time: t, action });
    }
    s.until = t + 1000;
    let link = s.to_fragment();
    eprintln!("20 actions: {} characters", link.len());
    assert!(link.len() <= 200, "{} characters: {link}", link.len());
}

#[test]
fn a_session_replays_the_page_run_byte_for_byte() {
    let mut sim = Sim::new(9, 5, SimConfig::default()).unwrap();
    sim.run_until(600);
    let leader = sim.leader().unwrap();
    sim.act(Action::Client {
        client: 1,
        op: KvOp::Put,
        key: "a".into(),
        value: Some("1".into()),
    })
    .unwrap();
    sim.run_until(900);
    sim.act(Action::Crash { node: leader }).unwrap();
    sim.act(Action::Network {
        latency_ms: Some([2, 60]),
        loss: Some(0.1),
        duplicate: None,
        reorder: None,
    })
    .unwrap();
    sim.run_until(2000);
    // A refused action is part of the script too and replays as refused.
    let _ = sim.act(Action::Restart {
        node: leader % 5 + 1,
    });
    sim.act(Action::Restart { node: leader }).unwrap();
    sim.schedule(2500, Action::Heal);
    sim.run_until(3200);
    let session = Session::from_sim(&sim);
    assert_eq!(session.until, 3200);
    assert_eq!(
        session.config,
        SimConfig::default(),
        "the starting settings, not the changed ones"
    );
    let back = Session::from_fragment(&session.to_fragment()).unwrap();
    let again = back.replay().unwrap();
    assert_eq!(again.trace_jsonl(), sim.trace_jsonl());
    let from_file = Session::from_json(&session.to_json())
        .unwrap()
        .replay()
        .unwrap();
    assert_eq!(from_file.trace_jsonl(), sim.trace_jsonl());
}

#[test]
fn a_chaos_trace_becomes_a_session_that_replays_identically() {
    let sim = run_standard(21, 5, 6000, &[]).unwrap();
    let text = sim.trace_jsonl();
    let session = Session::from_trace_str(&text).unwrap();
    assert!(session.actions.len() > 20, "chaos acts a lot");
    let link = session.to_fragment();
    eprintln!(
        "chaos session: {} actions, link of {} characters",
        session.actions.len(),
        link.len()
    );
    let replayed = Session::from_fragment(&link).unwrap().replay().unwrap();
    assert_eq!(replayed.trace_jsonl(), text);
}

#[test]
fn damaged_links_say_what_is_wrong() {
    let mut s = Session::new(7, 3, SimConfig::default());
    s.actions = every_kind_of_action();
    let link = s.to_fragment();
    let body = link.trim_start_matches("s=");
    // Not base64url.
    let e = Session::from_fragment("s=abc$def").unwrap_err();
    assert!(matches!(e, SessionError::BadBase64(_)), "{e}");
    assert!(
        e.to_string().contains("'$'") || e.to_string().contains("\"$\""),
        "{e}"
    );
    assert!(matches!(
        Session::from_fragment("s=abcde").unwrap_err(),
        SessionError::BadBase64(_)
    ));
    // Cut short (at a length base64url allows, so the cut itself is found).
    let half = body.len() / 2;
    let half = if half % 4 == 1 { half - 1 } else { half };
    let e = Session::from_fragment(&body[..half]).unwrap_err();
    assert!(
        matches!(e, SessionError::Checksum | SessionError::Truncated),
        "{e}"
    );
    assert!(matches!(
        Session::from_fragment("").unwrap_err(),
        SessionError::Truncated
    ));
    // One character changed.
    let mut chars: Vec<char> = body.chars().collect();
    let k = chars.len() / 2;
    chars[k] = if chars[k] == 'A' { 'B' } else { 'A' };
    let changed: String = chars.into_iter().collect();
    let e = Session::from_fragment(&changed).unwrap_err();
    assert!(
        matches!(e, SessionError::Checksum | SessionError::BadField(_)),
        "{e}"
    );
    // A newer version.
    let mut bytes = s.to_bytes();
    bytes[0] = 2;
    let e = Session::from_bytes(&bytes).unwrap_err();
    assert_eq!(e, SessionError::UnknownVersion(2));
    assert!(e.to_string().contains("version 2"));
    // Invalid settings survive encoding but not decoding.
    let mut bad = Session::new(
        1,
        3,
        SimConfig {
            heartbeat_ms: 400,
            ..SimConfig::default()
        },
    );
    let e = Session::from_fragment(&bad.to_fragment()).unwrap_err();
    assert!(matches!(e, SessionError::InvalidConfig(_)), "{e}");
    bad.config = SimConfig::default();
    bad.nodes = 12;
    assert!(matches!(
        Session::from_fragment(&bad.to_fragment()).unwrap_err(),
        SessionError::BadField(_)
    ));
}

#[test]
fn damaged_files_say_what_is_wrong() {
    let s = Session::new(7, 3, SimConfig::default());
    let good = s.to_json();
    assert_eq!(
        Session::from_json("{nope").unwrap_err(),
        SessionError::NotJson { line: 1 }
    );
    assert_eq!(
        Session::from_json("{\"format\": \"raftlab-session\",\n\"seed\":").unwrap_err(),
        SessionError::CutShort { line: 2 }
    );
    // Garbage, such as a picture picked by mistake, is named in plain
    // words with the line, not with the parser's jargon.
    let e = Session::from_json("\u{89}PNG\r\n\u{1a}\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "this is not a raftlab trace or session: line 1 is not JSON"
    );
    let e = Session::from_json("{\n  \"format\": \"raftlab-session\",\n  oops\n}").unwrap_err();
    assert_eq!(e, SessionError::NotJson { line: 3 });
    assert!(matches!(
        Session::from_json("[1]").unwrap_err(),
        SessionError::BadJson(_)
    ));
    let e = Session::from_json(&good.replace("raftlab-session", "raftlab-trace")).unwrap_err();
    assert_eq!(e, SessionError::UnknownFormat("raftlab-trace".into()));
    let e = Session::from_json(&good.replace("\"version\": 1", "\"version\": 9")).unwrap_err();
    assert_eq!(e, SessionError::UnknownVersion(9));
    let e = Session::from_json(&good.replace("\"heartbeat_ms\": 50", "\"heartbeat_ms\": 0"))
        .unwrap_err();
    assert!(matches!(e, SessionError::InvalidConfig(_)), "{e}");
    let e = Session::from_json(&good.replace("\"loss\": 0.0", "\"loss\": 3.0")).unwrap_err();
    assert!(matches!(e, SessionError::InvalidConfig(_)), "{e}");
    let e = Session::from_json(&good.replace("\"seed\": 7", "\"seed\": -7")).unwrap_err();
    assert!(matches!(e, SessionError::BadJson(_)), "{e}");
    // A trace that is not a trace.
    assert!(matches!(
        Session::from_trace_str("hello").unwrap_err(),
        SessionError::BadTrace(_)
    ));
}

#[test]
fn base64url_matches_the_rfc_vectors() {
    for (plain, enc) in [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64url::encode(plain.as_bytes()), enc);
        assert_eq!(base64url::decode(enc).unwrap(), plain.as_bytes());
    }
    assert_eq!(base64url::encode(&[0xfb, 0xff]), "-_8");
    assert_eq!(base64url::decode("-_8=").unwrap(), vec![0xfb, 0xff]);
    assert!(
        base64url::decode("+/8").is_err(),
        "standard base64 characters are refused"
    );
}

#[test]
fn the_link_format_knows_every_setting() {
    let v = serde_json::to_value(SimConfig::default()).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut known = CONFIG_FIELDS.to_vec();
    known.sort_unstable();
    assert_eq!(
        keys, known,
        "SimConfig changed: teach session.rs the new setting and raise SESSION_VERSION"
    );
    assert_eq!(SESSION_VERSION, 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_strings_never_panic_the_decoders(s in ".{0,200}") {
        let _ = Session::from_fragment(&s);
        let _ = Session::from_json(&s);
        let _ = Session::from_trace_str(&s);
    }

    #[test]
    fn random_base64_never_panics(s in "[A-Za-z0-9_-]{0,300}") {
        let _ = Session::from_fragment(&s);
    }

    #[test]
    fn random_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..200), first in 0u8..3) {
        // Mostly version 1, so decoding gets past the first byte.
        if let Some(b) = bytes.first_mut() { *b = first; }
        let _ = Session::from_bytes(&bytes);
        let _ = Session::from_fragment(&base64url::encode(&bytes));
    }

    #[test]
    fn damaged_valid_links_never_panic(at in 0usize..200, byte in any::<u8>()) {
        let mut s = Session::new(3, 5, odd_config());
        s.actions = every_kind_of_action();
        let mut bytes = s.to_bytes();
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = Session::from_bytes(&bytes);
        // With the checksum fixed up, the decoder sees the damage itself.
        let n = bytes.len();
        let body = bytes[..n - 2].to_vec();
        if let Ok(again) = Session::from_bytes(&[body.clone(), checksum(&body)].concat()) {
            prop_assert!(again.validate().is_ok());
        }
    }
}

/// The link checksum, as session.rs computes it (FNV-1a folded to 16 bits).
fn checksum(bytes: &[u8]) -> Vec<u8> {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (((h >> 16) ^ (h & 0xffff)) as u16).to_le_bytes().to_vec()
}
