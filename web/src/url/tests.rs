//! The query reader's words for every unusable value, and its fuzzing:
//! arbitrary text and mutated good queries never panic and always give
//! notices in words; a good query reads back exactly.

use proptest::prelude::*;

use super::*;

/// The one notice a query gives.
fn only_notice(raw: &str) -> (Query, UrlNotice) {
    let q = read(raw);
    assert_eq!(q.notices.len(), 1, "{raw}: {:?}", q.notices);
    let n = q.notices[0].clone();
    (q, n)
}

#[test]
fn a_seed_that_is_not_a_number_is_named_and_seed_1_runs() {
    let (q, n) = only_notice("?seed=4x");
    assert_eq!(q.seed, None);
    assert_eq!(n.param, "seed");
    assert_eq!(
        n.text,
        "`seed=4x` is not a whole number; running seed 1 instead"
    );
}

#[test]
fn a_history_below_the_minimum_keeps_the_minimum_and_says_so() {
    let (q, n) = only_notice("?history=5");
    assert_eq!(q.history, Some(HISTORY_MIN));
    assert_eq!(
        n.text,
        "`history=5` is below the minimum 1000; keeping 1000 events instead"
    );
    let (q, n) = only_notice("?history=-5");
    assert_eq!(q.history, Some(HISTORY_MIN));
    assert_eq!(n.param, "history");
}

#[test]
fn too_many_nodes_run_the_most_a_cluster_has() {
    let (q, n) = only_notice("?nodes=1000");
    assert_eq!(q.nodes, Some(9));
    assert_eq!(
        n.text,
        "`nodes=1000` is above the maximum 9; running 9 nodes instead"
    );
    let (q, n) = only_notice("?mode=sharded&nodes=0");
    assert_eq!(q.nodes, Some(1));
    assert!(n.text.contains("running 1 node per group"), "{}", n.text);
}

#[test]
fn a_speed_that_is_not_a_number_runs_the_default_speed() {
    let (q, n) = only_notice("?speed=abc");
    assert_eq!(q.speed, None);
    assert!(
        n.text.starts_with("`speed=abc` is not a number"),
        "{}",
        n.text
    );
    assert!(n
        .text
        .ends_with(&format!("running at speed {SPEED_DEFAULT} instead")));
    let (q, n) = only_notice("?speed=50");
    assert_eq!(q.speed, Some(SPEED_MAX));
    assert!(n.text.contains("above the fastest"), "{}", n.text);
}

#[test]
fn a_mistyped_name_is_named_with_the_likely_setting() {
    let (q, n) = only_notice("?sede=4");
    assert_eq!(q.seed, None);
    assert_eq!(n.param, "sede");
    assert_eq!(
        n.text,
        "`sede` is not a setting raftlab reads (did you mean `seed`?); ignored"
    );
    let (_, n) = only_notice("?colour=red");
    assert_eq!(n.text, "`colour` is not a setting raftlab reads; ignored");
}

#[test]
fn a_switch_that_is_neither_on_nor_off_keeps_its_default() {
    let (q, n) = only_notice("?prevote=maybe");
    assert_eq!(q.prevote, Some(true));
    assert_eq!(
        n.text,
        "`prevote=maybe` is not 1 or 0; keeping PreVote on instead"
    );
    let q = read("?prevote=0&checkquorum=off&paused&present=yes");
    assert!(q.notices.is_empty(), "{:?}", q.notices);
    assert_eq!((q.prevote, q.check_quorum), (Some(false), Some(false)));
    assert!(q.paused && q.present);
}

#[test]
fn a_mangled_query_runs_the_defaults_and_says_what_was_not_read() {
    let q = read("?%%%&==&seed:4;nodes=3&&=5");
    assert_eq!((q.seed, q.nodes, q.latency), (None, None, None));
    let params: Vec<&str> = q.notices.iter().map(|n| n.param.as_str()).collect();
    assert_eq!(
        params,
        ["query", "query", "%%%", "seed:4;nodes"],
        "{:?}",
        q.notices
    );
    assert!(q.notices[0].text.contains("has no parameter name"));
}

#[test]
fn a_setting_of_the_other_view_is_named_as_such() {
    let (_, n) = only_notice("?groups=2");
    assert_eq!(n.param, "groups");
    assert!(n.text.contains("a setting of sharded mode"), "{}", n.text);
    let (_, n) = only_notice("?mode=sharded&lesson=split-vote");
    assert!(n.text.contains("single-group view"), "{}", n.text);
    let (q, n) = only_notice("?mode=shraded");
    assert_eq!(q.view, View::Single);
    assert_eq!(n.param, "mode");
    let (_, n) = only_notice("?s=AAAA");
    assert!(n.text.contains("after `#`"), "{}", n.text);
}

#[test]
fn a_repeated_setting_reads_its_first_value_and_says_so() {
    let (q, n) = only_notice("?seed=3&seed=5");
    assert_eq!(q.seed, Some(3));
    assert_eq!(n.param, "seed");
    assert!(n.text.contains("`seed=5` is ignored"), "{}", n.text);
}

#[test]
fn a_long_value_is_shortened_in_its_notice() {
    let raw = format!("?seed={}", "9x".repeat(5000));
    let (_, n) = only_notice(&raw);
    assert!(n.text.contains('…'));
    assert!(n.text.chars().count() < 120, "{}", n.text);
}

#[test]
fn a_number_too_large_for_any_setting_is_clamped_not_dropped() {
    let (q, n) = only_notice("?seed=99999999999999999999999");
    assert_eq!(q.seed, Some(u64::MAX));
    assert!(n.text.contains("above the maximum"), "{}", n.text);
}

#[test]
fn benchmarks_read_their_numbers_and_an_unknown_one_starts_the_page() {
    let q = read("?bench=sim&secs=5&warmup=0");
    assert_eq!(q.bench, Some(Bench::Sim { secs: 5, warmup: 0 }));
    assert!(q.notices.is_empty());
    let q = read("?bench=memory&secs=10&history=0");
    assert_eq!(
        q.bench,
        Some(Bench::Memory {
            secs: 10,
            history: 0
        })
    );
    let (q, n) = only_notice("?bench=cpu");
    assert_eq!(q.bench, None);
    assert_eq!(n.param, "bench");
    let (_, n) = only_notice("?secs=5");
    assert!(n.text.contains("only with `bench="), "{}", n.text);
}

#[test]
fn a_lesson_url_is_a_path_or_a_web_address() {
    for ok in [
        "/lessons/01-leader-election.json",
        "lessons/mine.json",
        "https://example.org/a.json?x=1:2",
        "HTTP://example.org/b.json",
    ] {
        let q = read(&format!("?lesson-url={ok}"));
        assert_eq!(q.lesson_url.as_deref(), Some(ok));
        assert!(q.notices.is_empty(), "{ok}: {:?}", q.notices);
    }
    let (q, n) = only_notice("?lesson-url=data:text/plain,hi");
    assert_eq!(q.lesson_url, None);
    assert_eq!(n.param, "lesson-url");
    assert!(
        n.text.contains("is not an address raftlab fetches"),
        "{}",
        n.text
    );
    let (_, n) = only_notice("?lesson-url=");
    assert_eq!(
        n.text,
        "`lesson-url=` names no lesson file; running a fresh cluster instead"
    );
}

#[test]
fn a_lesson_url_wins_over_a_lesson_and_a_notice_says_so() {
    let (q, n) = only_notice("?lesson=split-vote&lesson-url=mine.json");
    assert_eq!(q.lesson, None);
    assert_eq!(q.lesson_url.as_deref(), Some("mine.json"));
    assert_eq!(n.param, "lesson");
    assert_eq!(
        n.text,
        "`lesson=split-vote` and `lesson-url=mine.json` are both given: the lesson file at `lesson-url` opens, `lesson` is not read"
    );
}

#[test]
fn a_lesson_url_that_cannot_be_fetched_is_named_whole_with_its_status() {
    let url = "https://example.org/a/long/path/to/the/teachers/lesson.json";
    let n = lesson_url_failed(url, "HTTP 404");
    assert_eq!(n.param, "lesson-url");
    assert!(n.text.contains(url), "{}", n.text);
    assert!(n.text.contains("(HTTP 404)"), "{}", n.text);
}

#[test]
fn a_mistyped_lesson_url_is_named_with_the_likely_setting() {
    let (_, n) = only_notice("?lesson_url=a.json");
    assert!(n.text.contains("did you mean `lesson-url`?"), "{}", n.text);
}

/// Every parameter a view reads, with a value it cannot use.
fn unusable() -> Vec<(View, &'static str, &'static str)> {
    let mut all = Vec::new();
    for (name, reads) in PARAMS {
        let bad = match name {
            "lesson" => "",
            "lesson-url" => "javascript:alert(1)",
            _ => "x!",
        };
        match reads {
            // `mode=sharded` itself picks the other view.
            Reads::Both if name == "mode" => all.push((View::Single, name, bad)),
            Reads::Both => {
                all.push((View::Single, name, bad));
                all.push((View::Sharded, name, bad));
            }
            Reads::Single => all.push((View::Single, name, bad)),
            Reads::Sharded => all.push((View::Sharded, name, bad)),
            Reads::Bench => {}
        }
    }
    all
}

#[test]
fn every_parameter_with_an_unusable_value_is_named_in_a_notice() {
    for (view, name, bad) in unusable() {
        let mode = if view == View::Sharded {
            "mode=sharded&"
        } else {
            ""
        };
        let raw = format!("?{mode}{name}={bad}");
        let q = read(&raw);
        let n = q
            .notices
            .iter()
            .find(|n| n.param == name)
            .unwrap_or_else(|| panic!("{raw}: no notice for {name}: {:?}", q.notices));
        assert!(
            n.text.starts_with(&format!("`{name}=")),
            "{raw}: {}",
            n.text
        );
        assert!(n.text.ends_with("instead"), "{raw}: {}", n.text);
    }
}

// ----- fuzzing -----

/// The good values each setting may take, to build queries from.
fn good_query() -> impl Strategy<Value = (String, Query)> {
    (
        any::<u64>(),
        1u64..=9,
        proptest::option::of(any::<bool>()),
        proptest::option::of(1u64..=LATENCY_MAX),
        proptest::option::of(1u64..=1_000),
        proptest::option::of(HISTORY_MIN..=10_000_000),
        any::<bool>(),
    )
        .prop_map(|(seed, nodes, prevote, latency, speed, history, paused)| {
            let mut raw = format!("?seed={seed}&nodes={nodes}");
            let mut q = read("");
            q.seed = Some(seed);
            q.nodes = Some(nodes);
            if let Some(p) = prevote {
                raw.push_str(&format!("&prevote={}", u8::from(p)));
                q.prevote = Some(p);
            }
            if let Some(l) = latency {
                raw.push_str(&format!("&latency={l}"));
                q.latency = Some(l);
            }
            if let Some(s) = speed {
                let s = s as f64 / 1000.0;
                raw.push_str(&format!("&speed={s}"));
                q.speed = Some(s);
            }
            if let Some(h) = history {
                raw.push_str(&format!("&history={h}"));
                q.history = Some(h);
            }
            if paused {
                raw.push_str("&paused=1");
                q.paused = true;
            }
            (raw, q)
        })
}

/// A change to a query's text: flip, insert or delete one character.
fn mutate(raw: &str, at: usize, what: u8, c: char) -> String {
    let mut chars: Vec<char> = raw.chars().collect();
    let at = at % (chars.len() + 1);
    match what % 3 {
        0 if at < chars.len() => chars[at] = c,
        1 => chars.insert(at, c),
        _ if at < chars.len() => {
            chars.remove(at);
        }
        _ => chars.push(c),
    }
    chars.into_iter().collect()
}

/// A notice reads as words: it names its parameter, is short, and holds
/// no Rust debug output.
fn assert_words(raw: &str, q: &Query) {
    for n in &q.notices {
        assert!(!n.param.is_empty(), "{raw}: {n:?}");
        assert!(!n.text.trim().is_empty(), "{raw}: {n:?}");
        assert!(n.text.chars().count() < 260, "{raw}: {n:?}");
        assert!(!n.text.contains("Error("), "{raw}: {n:?}");
        assert!(!n.text.contains("Some("), "{raw}: {n:?}");
        if n.param != "query" {
            assert!(n.text.contains(&format!("`{}", n.param)), "{raw}: {n:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, .. ProptestConfig::default() })]

    #[test]
    fn any_text_reads_without_panic_and_every_notice_is_in_words(raw in ".{0,200}") {
        let q = read(&raw);
        assert_words(&raw, &q);
    }

    #[test]
    fn any_query_shaped_text_reads_without_panic(
        raw in "[?]?([a-z_%+=&0-9.-]{0,12}(=[a-zA-Z0-9%+.-]{0,12})?&?){0,8}"
    ) {
        let q = read(&raw);
        assert_words(&raw, &q);
        // Whatever was asked, what runs is within range.
        prop_assert!(q.nodes.is_none_or(|n| (1..=9).contains(&n)));
        prop_assert!(q.latency.is_none_or(|l| (1..=LATENCY_MAX).contains(&l)));
        prop_assert!(q.speed.is_none_or(|s| (SPEED_MIN..=SPEED_MAX).contains(&s)));
        prop_assert!(q.history.is_none_or(|h| h >= HISTORY_MIN));
    }

    #[test]
    fn a_good_query_reads_back_exactly_and_a_mutated_one_in_words(
        (raw, expected) in good_query(),
        at in any::<usize>(),
        what in any::<u8>(),
        c in any::<char>(),
    ) {
        prop_assert_eq!(&read(&raw), &expected);
        let changed = mutate(&raw, at, what, c);
        let q = read(&changed);
        assert_words(&changed, &q);
        prop_assert!(q.nodes.is_none_or(|n| (1..=9).contains(&n)));
    }
}
