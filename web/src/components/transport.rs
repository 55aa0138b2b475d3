//! The clock bar both views show (play, pause, step, jump ahead, speed and
//! the simulated time), generic over the view's message type: each view
//! says how the bar's commands become its own messages.

use yew::prelude::*;

use crate::vocab::{SPEED_MAX, SPEED_MIN};

/// What the clock bar asks of the view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockCmd {
    /// Back one event.
    StepBack,
    /// Start the clock.
    Play,
    /// Stop the clock.
    Pause,
    /// To the next event.
    Step,
    /// Jump this many simulated ms ahead.
    Forward(u64),
    /// Set the speed (a fraction of real time).
    SetSpeed(f64),
}

/// Maps the clock bar's commands onto a view's message type, whose
/// variants of the same names carry the same things.
macro_rules! clock_messages {
    ($msg:path) => {
        impl From<$crate::components::transport::ClockCmd> for $msg {
            fn from(c: $crate::components::transport::ClockCmd) -> Self {
                use $crate::components::transport::ClockCmd;
                use $msg as M;
                match c {
                    ClockCmd::StepBack => M::StepBack,
                    ClockCmd::Play => M::Play,
                    ClockCmd::Pause => M::Pause,
                    ClockCmd::Step => M::Step,
                    ClockCmd::Forward(ms) => M::Forward(ms),
                    ClockCmd::SetSpeed(s) => M::SetSpeed(s),
                }
            }
        }
    };
}
pub(crate) use clock_messages;

/// Formats a speed as a ratio people read: "1/20 of real time".
pub fn speed_label(speed: f64) -> String {
    if speed >= 0.999 {
        "real time".into()
    } else {
        format!("1/{:.0} of real time", 1.0 / speed)
    }
}

#[derive(Properties)]
pub struct TransportProps<M: 'static> {
    pub playing: bool,
    pub speed: f64,
    pub vt: f64,
    pub in_past: bool,
    pub onmsg: Callback<M>,
}

// By hand: the messages themselves need not compare, only the callback.
impl<M> PartialEq for TransportProps<M> {
    fn eq(&self, other: &Self) -> bool {
        self.playing == other.playing
            && self.speed == other.speed
            && self.vt == other.vt
            && self.in_past == other.in_past
            && self.onmsg == other.onmsg
    }
}

/// A button that sends a clock command.
fn button<M: From<ClockCmd> + 'static>(
    testid: &str,
    label: &str,
    title: &str,
    onmsg: &Callback<M>,
    cmd: ClockCmd,
) -> Html {
    super::parts::button(testid, label, title, false, onmsg, move || cmd.into())
}

/// Play, pause, step, jump ahead, speed, and the clock.
#[function_component(Transport)]
pub fn transport<M: From<ClockCmd> + 'static>(props: &TransportProps<M>) -> Html {
    let onmsg = &props.onmsg;
    let onspeed = {
        let onmsg = onmsg.clone();
        Callback::from(move |e: InputEvent| {
            if let Ok(v) = super::form::input_text(&e).parse::<f64>() {
                onmsg.emit(ClockCmd::SetSpeed(10f64.powf(v)).into());
            }
        })
    };
    let log_speed = props.speed.log10();
    html! {
        <div class="transport" role="toolbar" aria-label="clock">
            { button("step-back", "◀ Back", "back one event (←)", onmsg, ClockCmd::StepBack) }
            if props.playing {
                { button("pause", "Pause", "pause (space)", onmsg, ClockCmd::Pause) }
            } else {
                { button("play", "▶ Play", "play (space)", onmsg, ClockCmd::Play) }
            }
            { button("step", "Step ▶", "to the next event (→)", onmsg, ClockCmd::Step) }
            { button("forward-10", "+10 ms", "jump 10 simulated ms ahead", onmsg, ClockCmd::Forward(10)) }
            { button("forward-100", "+100 ms", "jump 100 simulated ms ahead", onmsg, ClockCmd::Forward(100)) }
            { button("forward-1000", "+1 s", "jump 1 simulated second ahead", onmsg, ClockCmd::Forward(1000)) }
            <label class="speed">
                <span>{ "speed" }</span>
                <input type="range" data-testid="speed" min={SPEED_MIN.log10().to_string()} max={SPEED_MAX.log10().to_string()}
                    step="0.05" value={format!("{log_speed:.2}")} oninput={onspeed}
                    aria-valuetext={speed_label(props.speed)} />
                <span class="speed-value" data-testid="speed-value">{ speed_label(props.speed) }</span>
            </label>
            <span class={classes!("time", props.in_past.then_some("past"))} data-testid="time"
                title="simulated time">{ format!("{:.0} ms", props.vt.floor()) }</span>
        </div>
    }
}
