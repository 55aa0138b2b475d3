//! Argument types: durations with units and node-count ranges, parsed with
//! messages that say what is accepted.

use std::fmt;
use std::str::FromStr;

use raftlab_core::Bug;

/// A simulated duration in milliseconds, written `1500ms`, `60s` or `2m`.
/// A unit is required: a bare number would be ambiguous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Millis(pub u64);

impl FromStr for Millis {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(digits);
        if num.is_empty() {
            return Err(format!(
                "{s:?} is not a duration; write e.g. 1500ms, 60s or 2m"
            ));
        }
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{num:?} is too large a number"))?;
        let factor = match unit.trim() {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "" => return Err(format!("{s:?} has no unit; write {s}ms, {s}s or {s}m")),
            other => {
                return Err(format!(
                    "unknown unit {other:?} in {s:?}; use ms, s, m or h"
                ))
            }
        };
        n.checked_mul(factor)
            .map(Millis)
            .ok_or_else(|| format!("{s:?} is too long"))
    }
}

impl fmt::Display for Millis {
    /// The shortest exact spelling, so printed commands stay readable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let (sub_minute, sub_second) = (ms % 60_000, ms % 1000);
        if ms > 0 && sub_minute == 0 {
            write!(f, "{}m", ms / 60_000)
        } else if ms > 0 && sub_second == 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

/// Cluster sizes for `raftlab chaos`: `5`, or `3..7` / `3..=7` (both ends
/// included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeRange {
    /// Smallest size.
    pub min: u64,
    /// Largest size.
    pub max: u64,
}

impl NodeRange {
    /// The size seed `seed` runs with.
    pub fn for_seed(&self, seed: u64) -> u64 {
        raftlab_core::sim::chaos::nodes_for_seed(seed, self.min, self.max)
    }
}

impl FromStr for NodeRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parse = |x: &str| -> Result<u64, String> {
            let n: u64 = x
                .trim()
                .parse()
                .map_err(|_| format!("{x:?} is not a node count"))?;
            if (1..=9).contains(&n) {
                Ok(n)
            } else {
                Err(format!("a cluster has 1 to 9 nodes, not {n}"))
            }
        };
        let (min, max) = match s.split_once("..") {
            Some((a, b)) => (parse(a)?, parse(b.trim_start_matches('='))?),
            None => {
                let n = parse(s)?;
                (n, n)
            }
        };
        if min > max {
            return Err(format!("the range {s:?} is empty"));
        }
        Ok(NodeRange { min, max })
    }
}

/// Looks up `--bug` names, listing the known ones on a typo.
pub fn parse_bugs(names: &[String]) -> Result<Vec<Bug>, String> {
    let mut bugs = Vec::new();
    for name in names {
        let bug = Bug::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Bug::ALL.iter().map(|b| b.name()).collect();
            format!("unknown bug {name:?}; known bugs: {}", known.join(", "))
        })?;
        if !bugs.contains(&bug) {
            bugs.push(bug);
        }
    }
    Ok(bugs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!("60s".parse::<Millis>(), Ok(Millis(60_000)));
        assert_eq!("1500ms".parse::<Millis>(), Ok(Millis(1500)));
        assert_eq!("2m".parse::<Millis>(), Ok(Millis(120_000)));
        assert!("60".parse::<Millis>().is_err());
        assert!("s".parse::<Millis>().is_err());
        assert!("5d".parse::<Millis>().is_err());
        assert_eq!(Millis(30_000).to_string(), "30s");
        assert_eq!(Millis(120_000).to_string(), "2m");
        assert_eq!(Millis(1500).to_string(), "1500ms");
    }

    #[test]
    fn node_ranges() {
        assert_eq!("3..7".parse(), Ok(NodeRange { min: 3, max: 7 }));
        assert_eq!("3..=7".parse(), Ok(NodeRange { min: 3, max: 7 }));
        assert_eq!("5".parse(), Ok(NodeRange { min: 5, max: 5 }));
        assert!("7..3".parse::<NodeRange>().is_err());
        assert!("0..3".parse::<NodeRange>().is_err());
        let r = NodeRange { min: 3, max: 7 };
        assert!((1..200)
            .map(|s| r.for_seed(s))
            .all(|n| (3..=7).contains(&n)));
    }

    #[test]
    fn bugs() {
        assert_eq!(parse_bugs(&["figure8".into()]), Ok(vec![Bug::Figure8]));
        let e = parse_bugs(&["nope".into()]).unwrap_err();
        assert!(e.contains("figure8"), "{e}");
    }
}
