//! When the panels are redrawn: the one revision stamp (`UiState::rev`,
//! with the visual time a `Stamp`) and the refresh of the panel groups
//! while the clock plays.

use super::UiState;

/// While the clock plays, the panels that follow the simulator's events
/// (rather than the animation) are redrawn at most this often, wall ms:
/// at full speed events happen on every frame, and redrawing the logs, the
/// feed and the space-time diagram 60 times a second would miss the frame
/// budget. When the clock stops, or the user acts, they are redrawn at once.
pub const REFRESH_MS: f64 = 100.0;
/// Fewest frames from one refresh to the next: when frames are slow (a
/// busy machine), at least half of them only move the ring.
pub const REFRESH_FRAMES: u32 = 2 * GROUPS as u32;
/// The panel groups, each redrawn on its own frame of a refresh so that no
/// single frame redraws them all: the space-time diagram; the logs and the
/// feed; the other panels (controls, quorums, inspector, safety, lesson...).
pub const GROUPS: usize = 3;
/// The space-time diagram's group.
pub const G_SPACETIME: usize = 0;
/// The logs' and the feed's group.
pub const G_LISTS: usize = 1;
/// The other panels' group.
pub const G_PANELS: usize = 2;

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
    /// clock is playing; while it plays, one group per frame every
    /// `REFRESH_MS` of wall time (`frame`: the frame's wall ms).
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
                self.since_refresh += wall_ms.max(0.0);
                self.frames_since_refresh = self.frames_since_refresh.saturating_add(1);
                if self.refreshing.is_none()
                    && self.since_refresh >= REFRESH_MS
                    && self.frames_since_refresh >= REFRESH_FRAMES
                {
                    self.since_refresh = 0.0;
                    self.frames_since_refresh = 0;
                    self.refreshing = Some(0);
                }
                if let Some(g) = self.refreshing {
                    self.shown[g] = now;
                    self.refreshing = (g + 1 < GROUPS).then_some(g + 1);
                }
            }
            _ => {
                self.shown = [now; GROUPS];
                self.since_refresh = 0.0;
                self.frames_since_refresh = 0;
                self.refreshing = None;
            }
        }
    }
}
