//! When the panels are redrawn: the one revision stamp (`UiState::rev`,
//! with the visual time a `Stamp`) and, while the clock plays, the
//! refresh of the panel groups sliced across frames.
//!
//! The ring follows every frame. The panels that follow the simulator's
//! events are split into groups, and a playing frame refreshes at most one
//! of them: each frame then carries the ring and at most one panel's
//! redraw, never two (issue 18: a frame that redrew the logs and the feed
//! together was the slowest of the page). The feed comes round most often,
//! so each of its refreshes adds only the few rows of the last frames; the
//! logs are redrawn only when something they show changed. When the clock
//! stops, steps or the user acts, every group is redrawn at once: paused,
//! every panel shows that exact moment.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use raftlab_core::raft::ReplicaState;
use raftlab_core::sim::Sim;

use super::UiState;
use crate::model;

/// While the clock plays, the space-time diagram, the logs and the other
/// panels are redrawn at most this often, wall ms: at full speed events
/// happen on every frame, and redrawing them 60 times a second would miss
/// the frame budget.
pub const REFRESH_MS: f64 = 100.0;
/// The feed is redrawn at most this often, wall ms: a new row costs the
/// same whenever it is added, so small batches keep each frame light.
pub const FEED_MS: f64 = 33.0;
/// Fewest frames from one refresh of a group to its next: when frames are
/// slow (a busy machine), most of them only move the ring.
pub const REFRESH_FRAMES: u32 = 6;
/// Fewest frames between two refreshes of the feed.
pub const FEED_FRAMES: u32 = 2;
/// The panel groups; a playing frame redraws at most one of them.
pub const GROUPS: usize = 4;
/// The space-time diagram's group.
pub const G_SPACETIME: usize = 0;
/// The logs' group.
pub const G_LOGS: usize = 1;
/// The feed's group.
pub const G_FEED: usize = 2;
/// The other panels' group (controls, quorums, inspector, safety,
/// lesson...).
pub const G_PANELS: usize = 3;

/// What the page showed of the run at some moment: its revision
/// (`UiState::rev`) and the visual time. A panel group's props carry the
/// stamp it was last drawn from (`UiState::shown`), the ring the live one
/// (`UiState::stamp`), so yew leaves each alone while its stamp stands.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stamp {
    /// `UiState::rev` then.
    pub rev: u64,
    /// The visual time then, simulated ms.
    pub vt: f64,
}

/// How often a group may be refreshed while playing: wall ms and frames.
pub fn period(group: usize) -> (f64, u32) {
    if group == G_FEED {
        (FEED_MS, FEED_FRAMES)
    } else {
        (REFRESH_MS, REFRESH_FRAMES)
    }
}

/// A digest of everything the logs panel draws from the run (each node's
/// log within the columns drawn, its commit and applied indexes, who
/// leads and the leader's progress for each follower): equal digests,
/// equal drawings, so the logs need no redraw.
pub fn logs_digest(sim: &Sim) -> u64 {
    let mut h = DefaultHasher::new();
    let leader = sim.leader().and_then(|l| sim.server(l));
    leader.map(|l| l.id()).hash(&mut h);
    let newest = sim
        .nodes()
        .values()
        .map(|n| model::log_bounds(n).2)
        .max()
        .unwrap_or(0);
    // A superset of the columns the panel draws (its newest 160).
    let oldest = newest.saturating_sub(256);
    for (&id, node) in sim.nodes() {
        let server = model::up(node);
        let (base, base_term, last) = model::log_bounds(node);
        (id, server.is_some(), base, base_term, last).hash(&mut h);
        if let Some(s) = server {
            (s.state().as_str(), s.commit_idx(), s.last_applied_idx()).hash(&mut h);
        }
        if let Some(p) = leader.and_then(|l| l.progress().get(&id)) {
            (p.next_index, p.match_index).hash(&mut h);
            if let ReplicaState::Snapshot { offset, total, .. } = p.state {
                (offset, total).hash(&mut h);
            }
        }
        for i in (base + 1).max(oldest)..=last {
            if let Some(e) = model::entry_at(node, i) {
                (e.term, e.kind.as_str(), &e.data).hash(&mut h);
            }
        }
    }
    h.finish()
}

impl UiState {
    /// The stamp of the run as it is now: what the ring and the timeline,
    /// which follow every frame, are drawn from.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            rev: self.rev,
            vt: self.lab.0.borrow().vt(),
        }
    }

    /// Bumps `rev` if the panels' content may have changed, and decides
    /// which panel groups are redrawn: all of them at once unless the
    /// clock is playing; while it plays, at most one group per frame, each
    /// at most every `period` (`frame`: the frame's wall ms).
    pub(super) fn settle(&mut self, frame: Option<f64>) {
        let (key, vt) = {
            let lab = self.lab.0.borrow();
            (lab.revision_key(), lab.vt())
        };
        if frame.is_none() || key != self.rev_key {
            self.rev += 1;
            self.rev_key = key;
        }
        let now = Stamp { rev: self.rev, vt };
        match frame {
            Some(wall_ms) if self.playing => {
                for g in 0..GROUPS {
                    self.since_refresh[g] += wall_ms.max(0.0);
                    self.frames_since_refresh[g] = self.frames_since_refresh[g].saturating_add(1);
                }
                // The due group waiting longest for its turn, if any.
                let due = (0..GROUPS)
                    .filter(|&g| {
                        let (ms, frames) = period(g);
                        // The lists draw events only; the others also
                        // follow the time (the diagram's window, timers).
                        let stale = self.shown[g].rev != self.rev || !matches!(g, G_LOGS | G_FEED);
                        stale
                            && self.since_refresh[g] >= ms
                            && self.frames_since_refresh[g] >= frames
                    })
                    .max_by(|&a, &b| {
                        let late = |g: usize| self.since_refresh[g] / period(g).0;
                        late(a).total_cmp(&late(b)).then(b.cmp(&a))
                    });
                if let Some(g) = due {
                    self.since_refresh[g] = 0.0;
                    self.frames_since_refresh[g] = 0;
                    if g == G_LOGS {
                        // Only when something they draw changed.
                        let digest = logs_digest(self.lab.0.borrow().sim());
                        if digest != self.logs_digest {
                            self.logs_digest = digest;
                            self.shown[g] = now;
                        }
                    } else {
                        self.shown[g] = now;
                    }
                }
            }
            _ => {
                self.shown = [now; GROUPS];
                self.logs_digest = logs_digest(self.lab.0.borrow().sim());
                self.since_refresh = [0.0; GROUPS];
                self.frames_since_refresh = [0; GROUPS];
            }
        }
    }
}
