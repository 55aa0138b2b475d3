//! The page's query string (`?seed=7&speed=0.1&paused=1`), as both views,
//! the module loader and the benchmark modes read it.
//!
//! One reader, [`read`], turns the raw text into the values to use plus a
//! notice for every piece it could not use: the parameter, its value, why,
//! and what runs instead. A teacher who mistyped `sede=4` is told so rather
//! than left wondering why seed 1 runs. The reader touches no browser API,
//! so it runs natively and is fuzzed (the tests at the foot of this file);
//! only [`search`] and [`notices`] belong to the page.

use raftlab_core::sim::sharded::ShardedConfig;
use raftlab_core::sim::SimConfig;
use yew::prelude::*;

use crate::lab::HISTORY_LIMIT;
use crate::state::Setup;
use crate::vocab::{SPEED_DEFAULT, SPEED_MAX, SPEED_MIN};

/// The fewest events of history the single-group view keeps: fewer would
/// leave too little to step back through.
pub const HISTORY_MIN: u64 = 1000;
/// The longest latency the simulator accepts (`SimConfig::validate`), ms.
pub const LATENCY_MAX: u64 = 60_000;
/// Characters of a value quoted in a notice; a longer one is cut with "…".
const SHOWN_CHARS: usize = 32;
/// Pieces of a query read at most: a pasted essay is not read to its end.
const MAX_PIECES: usize = 64;

/// The page's raw query string (`?a=1&b=2`, or empty without a window).
pub fn search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Which view reads the query: they read different parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The single-group view, the page's default.
    Single,
    /// Sharded mode (`mode=sharded`).
    Sharded,
}

/// A benchmark the URL asks for instead of the app (see `bench`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bench {
    /// `bench=sim`: simulated seconds per wall second under chaos.
    Sim {
        /// Simulated seconds timed.
        secs: u64,
        /// Untimed runs first.
        warmup: u64,
    },
    /// `bench=memory`: the default run, history bounded to `history`
    /// events (0: unbounded).
    Memory {
        /// Simulated seconds run.
        secs: u64,
        /// Events of history kept (0: all).
        history: u64,
    },
}

/// A piece of the query that cannot be used, in words for the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlNotice {
    /// The parameter it is about (`query` for a piece without a name).
    pub param: String,
    /// What was wrong and what runs instead.
    pub text: String,
}

/// What the query asks for, every value checked. `None` means the view's
/// default (absent, or unusable and then named in `notices`).
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// The view the page shows.
    pub view: View,
    /// A benchmark to run instead of the app.
    pub bench: Option<Bench>,
    /// The simulator's seed.
    pub seed: Option<u64>,
    /// Voters of the cluster (per KV group in sharded mode).
    pub nodes: Option<u64>,
    /// KV groups (sharded).
    pub groups: Option<u32>,
    /// Voters of the meta group (sharded).
    pub meta: Option<u64>,
    /// PreVote on or off.
    pub prevote: Option<bool>,
    /// CheckQuorum on or off.
    pub check_quorum: Option<bool>,
    /// Snapshot every this many applied entries (0: never).
    pub snapshot_every: Option<u64>,
    /// Snapshot chunk size, bytes.
    pub chunk: Option<usize>,
    /// Most one-way latency, ms.
    pub latency: Option<u64>,
    /// Simulated ms per wall ms, within the transport's range.
    pub speed: Option<f64>,
    /// Start paused.
    pub paused: bool,
    /// Start in presentation mode.
    pub present: bool,
    /// Start delivering messages by hand (timers standing still).
    pub manual: bool,
    /// Whether the walkthrough starts open (sharded).
    pub walk: Option<bool>,
    /// Events of history kept.
    pub history: Option<u64>,
    /// The lesson to open (checked against the index once it is fetched).
    pub lesson: Option<String>,
    /// A teacher's own lesson to fetch and open (`lesson-url`): a path on
    /// this site or an http(s) address; it wins over `lesson`.
    pub lesson_url: Option<String>,
    /// One per piece that cannot be used.
    pub notices: Vec<UrlNotice>,
}

/// Where a parameter is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reads {
    Both,
    Single,
    Sharded,
    Bench,
}

/// Every parameter the page reads, and where.
const PARAMS: [(&str, Reads); 21] = [
    ("mode", Reads::Both),
    ("seed", Reads::Both),
    ("nodes", Reads::Both),
    ("latency", Reads::Both),
    ("speed", Reads::Both),
    ("paused", Reads::Both),
    ("groups", Reads::Sharded),
    ("meta", Reads::Sharded),
    ("walk", Reads::Sharded),
    ("prevote", Reads::Single),
    ("checkquorum", Reads::Single),
    ("snapshot_every", Reads::Single),
    ("chunk", Reads::Single),
    ("present", Reads::Single),
    ("manual", Reads::Single),
    ("history", Reads::Single),
    ("lesson", Reads::Single),
    ("lesson-url", Reads::Single),
    ("bench", Reads::Bench),
    ("secs", Reads::Bench),
    ("warmup", Reads::Bench),
];

/// The names of every parameter the page reads, for the browser tests and
/// the docs.
pub fn param_names() -> impl Iterator<Item = &'static str> {
    PARAMS.iter().map(|(n, _)| *n)
}

/// Reads the raw query text (with or without its `?`).
pub fn read(raw: &str) -> Query {
    let mut notices = Vec::new();
    let pieces = pieces(raw, &mut notices);
    let first = |name: &str| {
        pieces
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut q = Query {
        view: View::Single,
        bench: None,
        seed: None,
        nodes: None,
        groups: None,
        meta: None,
        prevote: None,
        check_quorum: None,
        snapshot_every: None,
        chunk: None,
        latency: None,
        speed: None,
        paused: false,
        present: false,
        manual: false,
        walk: None,
        history: None,
        lesson: None,
        lesson_url: None,
        notices: Vec::new(),
    };
    if let Some(v) = first("mode") {
        match v {
            "sharded" => q.view = View::Sharded,
            "" | "single" => {}
            _ => notices.push(notice(
                "mode",
                v,
                "is not a view raftlab has (mode=sharded is the other one)",
                "showing the single-group view".into(),
            )),
        }
    }
    let mut r = Readers {
        notices: &mut notices,
    };
    q.bench = r.bench(
        first("bench"),
        first("secs"),
        first("warmup"),
        first("history"),
    );
    if q.bench.is_some() {
        q.notices = notices;
        return q;
    }
    let sharded = q.view == View::Sharded;
    let single = Setup::default();
    let shard = ShardedConfig::default();
    let sim = SimConfig::default();
    q.seed = r.whole(first("seed"), "seed", [0, u64::MAX], |d| {
        format!("running seed {}", d.unwrap_or(single.seed))
    });
    q.nodes = if sharded {
        r.whole(first("nodes"), "nodes", [1, 9], |d| {
            let n = d.unwrap_or(shard.nodes_per_group);
            format!("running {} per group", count(n, "node"))
        })
    } else {
        r.whole(first("nodes"), "nodes", [1, 9], |d| {
            format!("running {}", count(d.unwrap_or(single.nodes), "node"))
        })
    };
    q.latency = r.whole(first("latency"), "latency", [1, LATENCY_MAX], |d| {
        format!(
            "keeping latency up to {} ms",
            d.unwrap_or(sim.latency_ms[1])
        )
    });
    q.speed = r.speed(first("speed"));
    q.paused = r.switch(first("paused"), "paused", false, "playing");
    if sharded {
        q.groups = r
            .whole(first("groups"), "groups", [1, 3], |d| {
                let n = d.unwrap_or(shard.kv_groups.into());
                format!("running {}", count(n, "KV group"))
            })
            .and_then(|g| u32::try_from(g).ok());
        q.meta = r.whole(first("meta"), "meta", [1, 9], |d| {
            format!(
                "running {}",
                count(d.unwrap_or(shard.meta_nodes), "meta node")
            )
        });
        q.walk = first("walk").map(|v| r.switch(Some(v), "walk", true, "showing the walkthrough"));
    } else {
        q.prevote =
            first("prevote").map(|v| r.switch(Some(v), "prevote", true, "keeping PreVote on"));
        q.check_quorum = first("checkquorum")
            .map(|v| r.switch(Some(v), "checkquorum", true, "keeping CheckQuorum on"));
        q.snapshot_every = r.whole(
            first("snapshot_every"),
            "snapshot_every",
            [0, u64::MAX],
            |d| match d {
                Some(n) => format!("snapshotting every {n} entries"),
                None => "taking no snapshots".into(),
            },
        );
        q.chunk = r
            .whole(first("chunk"), "chunk", [1, u32::MAX.into()], |d| {
                let bytes = d.unwrap_or(sim.snapshot_chunk_bytes as u64);
                format!("sending snapshots in chunks of {}", count(bytes, "byte"))
            })
            .and_then(|c| usize::try_from(c).ok());
        q.present = r.switch(first("present"), "present", false, "not presenting");
        q.manual = r.switch(
            first("manual"),
            "manual",
            false,
            "messages arriving by themselves",
        );
        q.history = r.whole(first("history"), "history", [HISTORY_MIN, u64::MAX], |d| {
            format!("keeping {} events", d.unwrap_or(HISTORY_LIMIT))
        });
        q.lesson = match first("lesson") {
            Some("") => {
                r.notices.push(notice(
                    "lesson",
                    "",
                    "names no lesson",
                    "running a fresh cluster".into(),
                ));
                None
            }
            other => other.map(str::to_string),
        };
        q.lesson_url = first("lesson-url").and_then(|v| lesson_url(v, r.notices));
        if let (Some(id), Some(url)) = (&q.lesson, &q.lesson_url) {
            r.notices.push(UrlNotice {
                param: "lesson".into(),
                text: format!(
                    "`lesson={}` and `lesson-url={}` are both given: the lesson file at `lesson-url` opens, `lesson` is not read",
                    shown(id),
                    shown(url)
                ),
            });
            q.lesson = None;
        }
    }
    // What this view does not read, and what no view reads.
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &pieces {
        if seen.contains(&name.as_str()) {
            notices.push(UrlNotice {
                param: shown(name),
                text: format!(
                    "`{}` is given more than once; only its first value is read (`{}={}` is ignored)",
                    shown(name),
                    shown(name),
                    shown(value)
                ),
            });
            continue;
        }
        seen.push(name);
        let known = PARAMS.iter().find(|(n, _)| n == name).map(|(_, r)| *r);
        let text = match known {
            // `#s=...` opens a shared session; `?s=` is a slip for it.
            None if name == "s" => {
                "`s` is not read from the query: a session link puts it after `#` (`#s=…`); running a fresh cluster".to_string()
            }
            Some(Reads::Both) => continue,
            Some(Reads::Single) if !sharded => continue,
            Some(Reads::Sharded) if sharded => continue,
            Some(Reads::Single) => format!(
                "`{name}` is a setting of the single-group view; sharded mode does not read it"
            ),
            Some(Reads::Sharded) => format!(
                "`{name}` is a setting of sharded mode (`mode=sharded`); the single-group view does not read it"
            ),
            // Its own notice, if any, is already made.
            Some(Reads::Bench) if name == "bench" => continue,
            Some(Reads::Bench) => {
                format!("`{name}` is read only with `bench=sim` or `bench=memory`; ignored")
            }
            None => {
                let near = nearest(name)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                format!(
                    "`{}` is not a setting raftlab reads{near}; ignored",
                    shown(name)
                )
            }
        };
        notices.push(UrlNotice {
            param: shown(name),
            text,
        });
    }
    q.notices = notices;
    q
}

/// The notice for a lesson the index does not list (known only once the
/// index is fetched).
pub fn unknown_lesson(id: &str) -> UrlNotice {
    notice(
        "lesson",
        id,
        "is not a lesson raftlab has (the Lessons menu lists them)",
        "running a fresh cluster".into(),
    )
}

/// A `lesson-url` the page can fetch: a path on this site, or an http or
/// https address (a `javascript:` or `data:` one is refused, with a notice).
fn lesson_url(v: &str, notices: &mut Vec<UrlNotice>) -> Option<String> {
    let v = v.trim();
    let scheme = v
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
    let why = match scheme.as_deref() {
        _ if v.is_empty() => "names no lesson file",
        None | Some("http" | "https") => return Some(v.to_string()),
        Some(_) => {
            "is not an address raftlab fetches (a path on this site, or http:// or https://)"
        }
    };
    notices.push(notice(
        "lesson-url",
        v,
        why,
        "running a fresh cluster".into(),
    ));
    None
}

/// The notice for a lesson file `lesson-url` could not fetch (known only
/// once the fetch answers): the whole address, and the HTTP status in `why`.
pub fn lesson_url_failed(url: &str, why: &str) -> UrlNotice {
    let url: String = url.chars().filter(|c| !c.is_control()).take(300).collect();
    UrlNotice {
        param: "lesson-url".into(),
        text: format!(
            "`lesson-url={url}`: the lesson file could not be fetched ({why}); running a fresh cluster instead"
        ),
    }
}

/// "1 node", "3 nodes".
fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The notice for `name=value`, which `why`; `instead` says what runs.
fn notice(name: &str, value: &str, why: &str, instead: String) -> UrlNotice {
    UrlNotice {
        param: name.to_string(),
        text: format!("`{name}={}` {why}; {instead} instead", shown(value)),
    }
}

/// The checks of one view, collecting notices.
struct Readers<'a> {
    notices: &'a mut Vec<UrlNotice>,
}

impl Readers<'_> {
    /// A whole number within `[min, max]`: out of range is clamped to it;
    /// not a number is `None` (the default). `instead(Some(x))` says that
    /// `x` runs, `instead(None)` that the default does.
    fn whole(
        &mut self,
        value: Option<&str>,
        name: &str,
        [min, max]: [u64; 2],
        instead: impl Fn(Option<u64>) -> String,
    ) -> Option<u64> {
        let value = value?;
        let t = value.trim();
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        let n = match t.parse::<u64>() {
            Ok(n) if n < min => None,
            Ok(n) if n > max => Some(max),
            Ok(n) => return Some(n),
            // Too many digits for any count raftlab keeps.
            Err(_) if digits(t) => Some(max),
            Err(_) if min > 0 && t.strip_prefix('-').is_some_and(digits) => None,
            Err(_) => {
                let why = "is not a whole number";
                self.notices.push(notice(name, value, why, instead(None)));
                return None;
            }
        };
        match n {
            Some(max) => {
                let why = format!("is above the maximum {max}");
                self.notices
                    .push(notice(name, value, &why, instead(Some(max))));
                Some(max)
            }
            None => {
                let why = format!("is below the minimum {min}");
                self.notices
                    .push(notice(name, value, &why, instead(Some(min))));
                Some(min)
            }
        }
    }

    /// A switch: `1`, `true`, `yes`, `on` or nothing after `=` turn it on;
    /// `0`, `false`, `no`, `off` turn it off; anything else leaves it at
    /// `default` (whose words are `instead`).
    fn switch(&mut self, value: Option<&str>, name: &str, default: bool, instead: &str) -> bool {
        let Some(value) = value else {
            return default;
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => {
                self.notices
                    .push(notice(name, value, "is not 1 or 0", instead.to_string()));
                default
            }
        }
    }

    /// The speed: a number within the transport's range, clamped to it.
    fn speed(&mut self, value: Option<&str>) -> Option<f64> {
        let value = value?;
        let fix = |x: f64| format!("running at speed {x}");
        match value.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x < SPEED_MIN => {
                let why = format!("is below the slowest speed {SPEED_MIN}");
                self.notices
                    .push(notice("speed", value, &why, fix(SPEED_MIN)));
                Some(SPEED_MIN)
            }
            Ok(x) if x.is_finite() && x > SPEED_MAX => {
                let why = format!("is above the fastest speed {SPEED_MAX}");
                self.notices
                    .push(notice("speed", value, &why, fix(SPEED_MAX)));
                Some(SPEED_MAX)
            }
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                let why = format!(
                    "is not a number (simulated ms per wall ms, {SPEED_MIN} to {SPEED_MAX})"
                );
                self.notices
                    .push(notice("speed", value, &why, fix(SPEED_DEFAULT)));
                None
            }
        }
    }

    /// `bench=...` and its numbers; `None` (the app starts) without one.
    fn bench(
        &mut self,
        bench: Option<&str>,
        secs: Option<&str>,
        warmup: Option<&str>,
        history: Option<&str>,
    ) -> Option<Bench> {
        let kind = bench?;
        let which = match kind {
            "sim" => 0,
            "memory" => 1,
            _ => {
                self.notices.push(notice(
                    "bench",
                    kind,
                    "is not a benchmark (bench=sim or bench=memory)",
                    "starting the page".into(),
                ));
                return None;
            }
        };
        let default_secs = if which == 0 { 60 } else { 3600 };
        let secs = self
            .whole(secs, "secs", [1, 1_000_000], |d| {
                format!("running {} simulated seconds", d.unwrap_or(default_secs))
            })
            .unwrap_or(default_secs);
        Some(if which == 0 {
            let warmup = self
                .whole(warmup, "warmup", [0, 100], |d| {
                    format!("warming up {} times", d.unwrap_or(1))
                })
                .unwrap_or(1);
            Bench::Sim { secs, warmup }
        } else {
            let history = self
                .whole(history, "history", [0, u64::MAX], |_| {
                    "keeping every event".into()
                })
                .unwrap_or(0);
            Bench::Memory { secs, history }
        })
    }
}

/// The `name=value` pieces of the query, decoded as a browser does
/// (`+` is a space, `%xx` a byte); a piece without a name is a notice.
fn pieces(raw: &str, notices: &mut Vec<UrlNotice>) -> Vec<(String, String)> {
    let raw = raw.strip_prefix('?').unwrap_or(raw);
    let mut out = Vec::new();
    let all = raw.split('&').filter(|p| !p.is_empty());
    for (i, piece) in all.enumerate() {
        if i == MAX_PIECES {
            notices.push(UrlNotice {
                param: "query".into(),
                text: format!("the query has more than {MAX_PIECES} parts; the rest is not read"),
            });
            break;
        }
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        let (name, value) = (decode(name), decode(value));
        if name.is_empty() {
            notices.push(UrlNotice {
                param: "query".into(),
                text: format!(
                    "`{}` has no parameter name before its `=`; ignored",
                    shown(piece)
                ),
            });
            continue;
        }
        out.push((name, value));
    }
    out
}

/// Percent-decoding as `URLSearchParams` does it: a `%` not followed by
/// two hex digits stays as it is; bytes that are not UTF-8 become "�".
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |k: usize| b.get(k).and_then(|c| char::from(*c).to_digit(16));
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                if let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2)) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A value as a notice quotes it: control characters as "�", cut with "…"
/// after `SHOWN_CHARS` characters.
fn shown(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(SHOWN_CHARS)
        .map(|c| if c.is_control() { '�' } else { c })
        .collect();
    if s.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The parameter `name` is probably a slip for: one within two edits.
fn nearest(name: &str) -> Option<&'static str> {
    if name.chars().count() > 20 {
        return None;
    }
    param_names()
        .filter(|p| p.len() > 2)
        .map(|p| (edits(name, p), p))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, p)| p)
}

/// Edits between two short words: insertions, deletions, changes and
/// swaps of neighbours ("sede" is one swap from "seed").
fn edits(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let change = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + change);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The notices about the query, each dismissable on its own
/// (`ondismiss` gets its place in `list`).
pub fn notices(list: &[UrlNotice], ondismiss: &Callback<usize>) -> Html {
    if list.is_empty() {
        return html! {};
    }
    let items = list.iter().enumerate().map(|(i, n)| {
        let onclick = ondismiss.reform(move |_: MouseEvent| i);
        html! {
            <div class="notice error url-notice" data-testid="url-notice" data-param={n.param.clone()} role="status">
                <span>{ n.text.clone() }</span>
                <button type="button" class="close" {onclick} title="dismiss"
                    aria-label={format!("dismiss the notice about {}", n.param)}>{ "×" }</button>
            </div>
        }
    });
    html! { <div class="url-notices" aria-label="about the address">{ for items }</div> }
}

// Native only: the fuzzing needs proptest, which wasm32 cannot build.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
