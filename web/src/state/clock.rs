//! The clock's messages: frames, play and pause, steps, jumps and the
//! speed; and the breakpoints that stop the clock.

use super::{BreakpointMsg, ClockMsg, UiState};
use crate::clock::{self, Clock, Move};
use crate::vocab::{Notice, Selection};

impl UiState {
    /// Moves or starts and stops the clock.
    pub(super) fn on_clock(&mut self, m: ClockMsg) {
        match m {
            ClockMsg::Frame(wall_ms) => self.clock(Move::Frame(wall_ms)),
            ClockMsg::Play => self.playing = true,
            ClockMsg::Pause => self.playing = false,
            ClockMsg::TogglePlay => self.playing = !self.playing,
            ClockMsg::Step => self.clock(Move::Step),
            ClockMsg::StepBack => self.clock(Move::StepBack),
            ClockMsg::Forward(ms) => self.clock(Move::Forward(ms)),
            // Only this view scrubs.
            ClockMsg::Scrub(t) => {
                self.playing = false;
                self.lab.0.borrow_mut().scrub(t);
                self.changed();
            }
            ClockMsg::GotoEvent(seq) => self.clock(Move::GotoEvent(seq)),
            ClockMsg::SetSpeed(v) => self.speed = clock::speed(v, self.speed),
        }
    }

    /// Moves the run in time as both views do; after it went forward, a
    /// breakpoint may stop it.
    fn clock(&mut self, m: Move) {
        let before = self.lab.0.borrow().sim().position();
        m.apply(&mut *self.lab.0.borrow_mut(), &mut self.playing, self.speed);
        self.changed();
        if m == Move::Step {
            let lab = self.lab.0.borrow();
            let sim = lab.sim();
            // Delivering by hand with the timers stopped, a step that finds
            // nothing to do says what would move the run.
            if sim.manual() && sim.position() == before && lab.stalled().is_none() {
                self.notice = Some(Notice {
                    text: if sim.flights().next().is_some() {
                        "Nothing moves by itself while you deliver by hand: deliver a waiting message (click it in the ring, or in the Delivery panel), or time out a node.".into()
                    } else {
                        "Nothing moves by itself while you deliver by hand, and no message is in flight: time out a node, or have the leader send a heartbeat.".into()
                    },
                    error: false,
                });
            }
        }
        if let Some(text) = self.lab.0.borrow().stalled().map(clock::stall_notice) {
            self.notice = Some(Notice { text, error: true });
        }
        if m.runs_forward() {
            self.stop_at_breakpoint();
        }
    }

    /// After the clock ran forward: a breakpoint that fired stops it there.
    fn stop_at_breakpoint(&mut self) {
        let hit = self.lab.0.borrow_mut().check_breakpoints();
        if let Some((seq, what)) = hit {
            self.playing = false;
            self.linked = Some(Selection::Event(seq));
            self.notice = Some(Notice {
                text: format!("Breakpoint: {what} (event #{seq}). The clock stopped there."),
                error: false,
            });
            self.changed();
        }
    }

    /// Adds or removes a breakpoint.
    pub(super) fn on_breakpoint(&mut self, m: BreakpointMsg) {
        let mut list = self.lab.0.borrow().breakpoints().to_vec();
        match m {
            BreakpointMsg::Add(bp) => {
                if !list.contains(&bp) {
                    list.push(bp);
                }
            }
            BreakpointMsg::Remove(i) => {
                if i < list.len() {
                    list.remove(i);
                }
            }
        }
        self.lab.0.borrow_mut().set_breakpoints(list);
    }
}
