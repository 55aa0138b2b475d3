//! The visual clock as both views drive it: the single-group view
//! (`state::UiState` over `lab::Lab`) and sharded mode
//! (`sharded::state::ShardedState` over `sharded::lab::ShardedLab`). Both
//! labs keep a visual time over a simulator that runs forward and rebuilds
//! any earlier micro-step (the `Clock` trait), and both pages step, rewind,
//! jump and animate it alike (`Move`), within the same speeds (`speed`).
//!
//! What only one view has stays with it: the single-group view looks for
//! breakpoints after the run went forward (`Move::runs_forward` tells it
//! when), lets a lesson hold or drive the clock (inside `Lab`), and can
//! scrub; sharded mode has none of that.

use raftlab_core::sim::Stalled;

use crate::vocab::{SPEED_MAX, SPEED_MIN};

/// Longest wall-clock frame counted, ms (a tab in the background stalls).
const MAX_FRAME_MS: f64 = 100.0;

/// A lab whose visual clock the page drives.
pub trait Clock {
    /// Advances the visual clock by `dt` simulated ms while playing.
    fn advance(&mut self, dt: f64);
    /// Jumps `ms` simulated ms ahead at once.
    fn forward(&mut self, ms: u64);
    /// Runs to the next micro-step that emits events.
    fn step(&mut self);
    /// Goes back to just before the latest micro-step that emitted events.
    fn step_back(&mut self);
    /// Goes to just after the micro-step that emitted event `seq`.
    fn goto_event(&mut self, seq: u64);
    /// Why the simulator stopped making progress, if it did (its clock
    /// stopped moving): the page stops the clock there rather than
    /// freezing the tab.
    fn stalled(&self) -> Option<&Stalled>;
}

/// The notice a stalled run shows: when it stopped, and what to report.
pub fn stall_notice(s: &Stalled) -> String {
    format!(
        "The simulation stopped making progress at {} ms (seed {}; looping: {}). \
         The clock stopped there: this is a simulator bug worth reporting. \
         Go back in time or reset to go on.",
        s.time, s.seed, s.looping
    )
}

/// The micro-step that going back one event rebuilds: the one before the
/// latest micro-step that emitted events. `position` is the present's event
/// (0 before any: then the start), `step_of_event` the micro-step that
/// emitted an event.
pub fn step_back_target(position: u64, step_of_event: impl FnOnce(u64) -> u64) -> u64 {
    if position == 0 {
        0
    } else {
        step_of_event(position).saturating_sub(1)
    }
}

/// The speed a view takes when asked for `v` simulated ms per wall ms:
/// `v` within the bounds, or the `current` one when `v` is no number.
pub fn speed(v: f64, current: f64) -> f64 {
    if v.is_finite() {
        v.clamp(SPEED_MIN, SPEED_MAX)
    } else {
        current
    }
}

/// A move of the run in time, as both views' messages of these names ask
/// for it. Starting and stopping the clock only set the view's `playing`,
/// and the speed is `speed`'s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Move {
    /// An animation frame while playing: wall-clock ms since the last one.
    Frame(f64),
    /// To the next event (stops the clock).
    Step,
    /// Back one event (stops the clock).
    StepBack,
    /// Jump ahead this many simulated ms.
    Forward(u64),
    /// To just after event `seq` (stops the clock).
    GotoEvent(u64),
}

impl Move {
    /// Moves `lab` at the view's `speed`, stopping the clock (`playing`)
    /// for a step or a jump to an event, or when the run stalls. A frame
    /// that comes while the clock is stopped is the view's to drop before
    /// this.
    pub fn apply(self, lab: &mut impl Clock, playing: &mut bool, speed: f64) {
        match self {
            Move::Frame(wall_ms) => lab.advance(wall_ms.clamp(0.0, MAX_FRAME_MS) * speed),
            Move::Step => {
                *playing = false;
                lab.step();
            }
            Move::StepBack => {
                *playing = false;
                lab.step_back();
            }
            Move::Forward(ms) => lab.forward(ms),
            Move::GotoEvent(seq) => {
                *playing = false;
                lab.goto_event(seq);
            }
        }
        if lab.stalled().is_some() {
            *playing = false;
        }
    }

    /// Whether the run went forward through new events (the single-group
    /// view then looks for breakpoints), rather than back or to an event.
    pub fn runs_forward(self) -> bool {
        matches!(self, Move::Frame(_) | Move::Step | Move::Forward(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab that only writes down what the clock asked of it, and stalls
    /// when told to.
    #[derive(Default)]
    struct Log(Vec<String>, Option<Stalled>);

    impl Clock for Log {
        fn advance(&mut self, dt: f64) {
            self.0.push(format!("advance {dt}"));
        }
        fn forward(&mut self, ms: u64) {
            self.0.push(format!("forward {ms}"));
        }
        fn step(&mut self) {
            self.0.push("step".into());
        }
        fn step_back(&mut self) {
            self.0.push("step_back".into());
        }
        fn goto_event(&mut self, seq: u64) {
            self.0.push(format!("goto_event {seq}"));
        }
        fn stalled(&self) -> Option<&Stalled> {
            self.1.as_ref()
        }
    }

    #[test]
    fn a_stalled_run_stops_the_clock_and_says_when() {
        let mut lab = Log::default();
        let mut playing = true;
        Move::Frame(16.0).apply(&mut lab, &mut playing, 1.0);
        assert!(playing);
        lab.1 = Some(Stalled {
            seed: 3,
            time: 1234,
            step: 99,
            steps: 100_000,
            looping: "S2's tick next".into(),
        });
        for m in [Move::Frame(16.0), Move::Forward(100)] {
            playing = true;
            m.apply(&mut lab, &mut playing, 1.0);
            assert!(!playing, "{m:?} leaves the clock stopped");
        }
        let text = stall_notice(lab.1.as_ref().unwrap());
        assert!(
            text.contains("stopped making progress at 1234 ms"),
            "{text}"
        );
        assert!(
            text.contains("seed 3") && text.contains("S2's tick"),
            "{text}"
        );
    }

    #[test]
    fn moves_drive_the_lab_and_stop_the_clock_where_they_should() {
        let mut lab = Log::default();
        let mut playing = true;
        for m in [Move::Frame(500.0), Move::Frame(-1.0), Move::Forward(30)] {
            m.apply(&mut lab, &mut playing, 0.5);
            assert!(playing && m.runs_forward());
        }
        for m in [Move::StepBack, Move::GotoEvent(7), Move::Step] {
            playing = true;
            m.apply(&mut lab, &mut playing, 0.5);
            assert!(!playing);
        }
        assert!(!Move::StepBack.runs_forward() && !Move::GotoEvent(7).runs_forward());
        assert_eq!(
            lab.0,
            [
                "advance 50",
                "advance 0",
                "forward 30",
                "step_back",
                "goto_event 7",
                "step"
            ]
        );
    }

    #[test]
    fn speeds_stay_within_bounds() {
        assert_eq!(speed(50.0, 0.5), SPEED_MAX);
        assert_eq!(speed(0.0, 0.5), SPEED_MIN);
        assert_eq!(speed(0.25, 0.5), 0.25);
        assert_eq!(speed(f64::NAN, 0.5), 0.5);
        assert_eq!(speed(f64::INFINITY, 0.5), 0.5);
    }

    #[test]
    fn going_back_one_event_rebuilds_the_step_before_it() {
        assert_eq!(step_back_target(0, |_| unreachable!()), 0);
        assert_eq!(step_back_target(5, |seq| seq * 10), 49);
        assert_eq!(step_back_target(1, |_| 0), 0);
    }
}
