//! Hooks both views (single group and sharded) use: the animation-frame
//! loop that drives the visual clock, the page's keyboard shortcuts, and
//! media queries the drawing follows.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_render::{request_animation_frame, AnimationFrame};
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;

/// While `playing`, calls `on_frame` with the wall milliseconds since the
/// previous frame, once per animation frame (the first frame only starts
/// the count, so a long pause never becomes one huge step).
#[hook]
pub fn use_frame_loop(playing: bool, on_frame: Callback<f64>) {
    use_effect_with(playing, move |&playing| {
        let handle: Rc<RefCell<Option<AnimationFrame>>> = Rc::new(RefCell::new(None));
        if playing {
            fn schedule(
                handle: Rc<RefCell<Option<AnimationFrame>>>,
                last: Option<f64>,
                on_frame: Callback<f64>,
            ) {
                let next = handle.clone();
                let frame = request_animation_frame(move |now| {
                    if let Some(last) = last {
                        on_frame.emit(now - last);
                    }
                    schedule(next, Some(now), on_frame);
                });
                *handle.borrow_mut() = Some(frame);
            }
            schedule(handle.clone(), None, on_frame);
        }
        move || {
            handle.borrow_mut().take();
        }
    });
}

/// Where a key was pressed, as far as the page's shortcuts care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyTarget {
    /// A form field (text, number, range, checkbox, select, text area, or
    /// editable text): every key belongs to it.
    Field,
    /// A slider of the page's own (the timeline): its arrows, Page Up/Down,
    /// Home and End move it.
    Slider,
    /// A button, link, summary or an element acting as one: Space and Enter
    /// press it (WCAG 2.1.1); other keys mean nothing to it.
    Control,
    /// Anything else (the page itself, text, the drawing).
    Page,
}

/// What kind of element the key was pressed in (the focused element).
pub fn key_target(e: &KeyboardEvent) -> KeyTarget {
    let Some(el) = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return KeyTarget::Page;
    };
    let closest = |sel: &str| el.closest(sel).ok().flatten().is_some();
    if closest("input, select, textarea, [contenteditable]:not([contenteditable=false])") {
        KeyTarget::Field
    } else if closest("[role=slider]") {
        KeyTarget::Slider
    } else if closest(
        "button, a[href], summary, [role=button], [role=link], [role=checkbox], [role=switch]",
    ) {
        KeyTarget::Control
    } else {
        KeyTarget::Page
    }
}

/// Listens to key presses on the whole document for the page's lifetime.
/// Chords with Ctrl, Meta or Alt are left to the browser; `on_key` returns
/// whether it used the key, and then the browser's default is prevented.
#[hook]
pub fn use_keys(on_key: Rc<dyn Fn(&KeyboardEvent) -> bool>) {
    use_effect_with((), move |_| {
        let listener = web_sys::window().and_then(|w| w.document()).map(|doc| {
            gloo_events::EventListener::new_with_options(
                &doc,
                "keydown",
                gloo_events::EventListenerOptions::enable_prevent_default(),
                move |event| {
                    let Some(e) = event.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    if e.ctrl_key() || e.meta_key() || e.alt_key() {
                        return;
                    }
                    if on_key(e) {
                        e.prevent_default();
                    }
                },
            )
        });
        move || drop(listener)
    });
}

/// Whether the CSS media `query` matches, kept up to date as the window
/// changes (a phone turned on its side). The ring's drawing follows what
/// the style sheet's layout does at the same widths.
#[hook]
pub fn use_media(query: &'static str) -> bool {
    let list = use_memo(query, |q| {
        web_sys::window().and_then(|w| w.match_media(q).ok().flatten())
    });
    let matches = use_state(|| list.as_ref().as_ref().is_some_and(|l| l.matches()));
    {
        let matches = matches.clone();
        use_effect_with(list, move |list| {
            let listener = list.as_ref().as_ref().map(|l| {
                let l2 = l.clone();
                gloo_events::EventListener::new(l, "change", move |_| matches.set(l2.matches()))
            });
            move || drop(listener)
        });
    }
    *matches
}
