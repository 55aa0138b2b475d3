//! Progress of a long sweep of seeds (`raftlab chaos`): on a terminal a
//! live bar with seeds done, rate, time left and failures so far; when the
//! output goes to a file or a CI log, a plain line now and then instead, so
//! a sweep of 20,000 seeds never sits silent for half an hour.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a plain progress line is printed, wall time.
const LINE_EVERY: Duration = Duration::from_secs(10);

/// Where a sweep stands, for one line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tally {
    /// Seeds finished.
    pub done: u64,
    /// Seeds in all.
    pub total: u64,
    /// Seeds that failed so far (hung ones included).
    pub failed: u64,
    /// Of those, seeds whose run stopped making progress.
    pub hung: u64,
}

impl Tally {
    /// Seeds per second after `elapsed`.
    pub fn rate(&self, elapsed: Duration) -> f64 {
        self.done as f64 / elapsed.as_secs_f64().max(1e-9)
    }

    /// Time left at the rate so far (None before the first seed is done).
    pub fn left(&self, elapsed: Duration) -> Option<Duration> {
        if self.done == 0 {
            return None;
        }
        let rest = self.total.saturating_sub(self.done) as f64;
        Some(Duration::from_secs_f64(rest / self.rate(elapsed)))
    }

    /// Failures so far, in words.
    pub fn failures(&self) -> String {
        if self.hung > 0 {
            format!("{} failed ({} hung)", self.failed, self.hung)
        } else {
            format!("{} failed", self.failed)
        }
    }

    /// The plain line printed when the output is no terminal.
    pub fn line(&self, elapsed: Duration) -> String {
        let pct = 100.0 * self.done as f64 / self.total.max(1) as f64;
        let left = self
            .left(elapsed)
            .map_or_else(|| "?".to_string(), short_duration);
        format!(
            "chaos: {}/{} seeds ({pct:.1}%), {:.1} seeds/s, {left} left, {}",
            self.done,
            self.total,
            self.rate(elapsed),
            self.failures()
        )
    }
}

/// `d` as "1h02m", "3m05s" or "42s".
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// How progress is shown.
enum Show {
    /// A live bar on the terminal.
    Bar(ProgressBar),
    /// Plain lines on standard error, the time the last one was printed.
    Lines(Mutex<Instant>),
}

/// The progress of a sweep, shared by its worker threads.
pub struct Progress {
    show: Show,
    started: Instant,
    total: u64,
    done: AtomicU64,
    failed: AtomicU64,
    hung: AtomicU64,
}

impl Progress {
    /// Progress over `total` seeds: a bar when standard error is a
    /// terminal, plain lines otherwise.
    pub fn new(total: u64) -> Progress {
        let show = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} seeds [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message("0 failed");
            Show::Bar(bar)
        } else {
            Show::Lines(Mutex::new(Instant::now()))
        };
        Progress {
            show,
            started: Instant::now(),
            total,
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            hung: AtomicU64::new(0),
        }
    }

    /// Where the sweep stands.
    pub fn tally(&self) -> Tally {
        Tally {
            done: self.done.load(Ordering::Relaxed),
            total: self.total,
            failed: self.failed.load(Ordering::Relaxed),
            hung: self.hung.load(Ordering::Relaxed),
        }
    }

    /// A seed finished: `failed` if it did, `hung` if its run stalled.
    pub fn seed_done(&self, failed: bool, hung: bool) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if failed || hung {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        if hung {
            self.hung.fetch_add(1, Ordering::Relaxed);
        }
        let tally = self.tally();
        match &self.show {
            Show::Bar(bar) => {
                bar.inc(1);
                if failed || hung {
                    bar.set_message(tally.failures());
                }
            }
            Show::Lines(last) => {
                let Ok(mut last) = last.lock() else {
                    return;
                };
                if last.elapsed() >= LINE_EVERY {
                    *last = Instant::now();
                    eprintln!("{}", tally.line(self.started.elapsed()));
                }
            }
        }
    }

    /// Prints `line` above the bar (or as it is, without one).
    pub fn println(&self, line: String) {
        match &self.show {
            Show::Bar(bar) => bar.println(line),
            Show::Lines(_) => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Show::Bar(bar) = &self.show {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_says_seeds_done_rate_time_left_and_failures() {
        let t = Tally {
            done: 500,
            total: 2_000,
            failed: 3,
            hung: 1,
        };
        assert_eq!(
            t.line(Duration::from_secs(50)),
            "chaos: 500/2000 seeds (25.0%), 10.0 seeds/s, 2m30s left, 3 failed (1 hung)"
        );
        let start = Tally {
            done: 0,
            failed: 0,
            hung: 0,
            ..t
        };
        assert_eq!(
            start.line(Duration::ZERO),
            "chaos: 0/2000 seeds (0.0%), 0.0 seeds/s, ? left, 0 failed"
        );
    }

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(Duration::from_secs(42)), "42s");
        assert_eq!(short_duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(short_duration(Duration::from_secs(3_720)), "1h02m");
    }

    #[test]
    fn seeds_done_are_counted_with_their_failures() {
        let p = Progress::new(10);
        p.seed_done(false, false);
        p.seed_done(true, false);
        p.seed_done(false, true);
        p.finish();
        assert_eq!(
            p.tally(),
            Tally {
                done: 3,
                total: 10,
                failed: 2,
                hung: 1
            }
        );
    }
}
