//! The messages in flight and the marks of lost ones, painted on a canvas
//! over the ring's SVG. Hundreds of them move on every frame: as SVG
//! elements each move re-rasterised its part of the drawing (most of a
//! frame's paint and raster time); on one canvas a frame is a single
//! bitmap, redrawn from the scene the ring computed for the visual time.
//!
//! The canvas takes pointer events only while the pointer is over one of
//! its marks (it hit-tests what it drew last), so the nodes and links
//! beneath keep their clicks and hover styles. A hidden list mirrors the
//! messages (`data-testid="msg"`) and lost marks (`data-testid="dropped"`)
//! for tests and tools; it changes only when the set of messages does,
//! not as they move.

use std::collections::HashMap;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

use super::clear::{self, covered, Box2, Footprint, WordKind};

/// Side of the square drawing, in SVG user units (the ring's viewBox).
pub const VIEW: f64 = 600.0;

/// The look of a message, by kind (the legend's `m-*` classes, whose
/// colours static/style.css gives the legend: keep the two in step).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Glyph {
    Prevote,
    Vote,
    Yes,
    No,
    TimeoutNow,
    Heartbeat,
    Append,
    Ack,
    Nack,
    Snapshot,
    SnapAck,
}

/// A glyph's outline, centred on the message's position.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Circle(f64),
    /// Half width, half height, corner radius.
    Rect(f64, f64, f64),
}

/// Fill, stroke, stroke width, dashed, text colour.
struct Paint {
    fill: &'static str,
    stroke: &'static str,
    width: f64,
    dashed: bool,
    text: &'static str,
}

// The Okabe–Ito palette of static/style.css.
const ORANGE: &str = "#e69f00";
const SKY: &str = "#56b4e9";
// Darker green and vermillion under white text (5.3:1 and 5.5:1).
const GREEN_DARK: &str = "#007a5a";
const BLUE: &str = "#0072b2";
const VERMILLION: &str = "#d55e00";
const VERMILLION_DARK: &str = "#b34700";
const PURPLE: &str = "#cc79a7";
const INK: &str = "#1f2937";
const WHITE: &str = "#fff";

impl Glyph {
    /// What this glyph drawn with `text` covers, its heaviest outline
    /// included (`clear`).
    pub fn footprint(self, text: &str) -> Footprint {
        let (shape, round) = match self.shape() {
            Shape::Circle(r) => ((r, r), true),
            Shape::Rect(hw, hh, _) => ((hw, hh), false),
        };
        clear::footprint(shape, round, text.chars().count())
    }

    fn shape(self) -> Shape {
        match self {
            Glyph::Prevote | Glyph::Vote | Glyph::Yes | Glyph::No => Shape::Circle(11.0),
            Glyph::Heartbeat => Shape::Rect(7.0, 5.0, 2.0),
            Glyph::Ack | Glyph::SnapAck => Shape::Circle(6.0),
            Glyph::Nack => Shape::Rect(8.0, 8.0, 3.0),
            Glyph::Snapshot => Shape::Rect(17.0, 10.0, 3.0),
            Glyph::Append | Glyph::TimeoutNow => Shape::Rect(12.0, 9.0, 3.0),
        }
    }

    fn paint(self) -> Paint {
        let p = |fill, stroke| Paint {
            fill,
            stroke,
            width: 2.0,
            dashed: false,
            text: WHITE,
        };
        match self {
            Glyph::Prevote => Paint {
                dashed: true,
                text: "#8a5a00",
                ..p(WHITE, ORANGE)
            },
            // Text keeps 4.5:1 on its fill (WCAG 1.4.3): dark on the
            // light hues, white on darker greens and vermillions.
            Glyph::Vote => Paint {
                text: INK,
                ..p(ORANGE, "#8a5a00")
            },
            Glyph::Yes => p(GREEN_DARK, "#004d3a"),
            Glyph::No => p(VERMILLION_DARK, "#6e2f00"),
            Glyph::Heartbeat => p(WHITE, BLUE),
            Glyph::Append => p(BLUE, "#003f63"),
            Glyph::Ack => p(SKY, "#1f6f99"),
            Glyph::Nack => Paint {
                width: 3.0,
                ..p(WHITE, VERMILLION)
            },
            Glyph::Snapshot => Paint {
                text: INK,
                ..p(PURPLE, "#7a2957")
            },
            // Dashed, so it differs from an ack by more than colour.
            Glyph::SnapAck => Paint {
                dashed: true,
                ..p("#f5cfe3", "#7a2957")
            },
            Glyph::TimeoutNow => p(INK, INK),
        }
    }
}

/// Why a message is drawn with a heavier outline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Emphasis {
    #[default]
    None,
    /// A kind the lesson points at.
    Highlight,
    /// The message picked in another view.
    Linked,
}

impl Emphasis {
    /// The `data-emphasis` value, as the ring's nodes have it.
    pub fn as_str(self) -> &'static str {
        match self {
            Emphasis::None => "",
            Emphasis::Highlight => "hl",
            Emphasis::Linked => "linked",
        }
    }
}

/// A message in flight where the visual time puts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Flying {
    pub id: u64,
    pub x: f64,
    pub y: f64,
    pub glyph: Glyph,
    /// What the glyph covers (`clear`).
    pub footprint: Footprint,
    pub text: AttrValue,
    pub title: AttrValue,
    pub emphasis: Emphasis,
    /// It has reached its receiver and waits to be delivered (by hand, or
    /// on a held link): drawn still, in a dashed ring.
    pub waiting: bool,
    /// A click delivers it (a shift-click drops it); otherwise a click
    /// drops it.
    pub delivers: bool,
}

/// A lost message's mark, fading.
#[derive(Clone, Debug, PartialEq)]
pub struct Lost {
    pub x: f64,
    pub y: f64,
    pub opacity: f64,
    pub title: AttrValue,
}

/// One of a node's words (name, term, role), painted again above the
/// messages when one covers it (`clear`); the SVG's own lies beneath.
#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    /// The node, to find its SVG text and copy its look.
    pub node: u64,
    pub kind: WordKind,
    pub text: AttrValue,
    /// The node's role word: with `kind` and `text` it decides the look.
    pub role: &'static str,
    /// Where it is drawn: its centre.
    pub x: f64,
    pub y: f64,
    /// The room it takes (`clear::word_box`).
    pub bbox: Box2,
}

/// What the canvas shows at one visual time, in drawing order: the
/// messages, the lost marks, then the nodes' words any of them covers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scene {
    pub vt: f64,
    pub flights: Vec<Flying>,
    pub lost: Vec<Lost>,
    pub words: Vec<Word>,
    /// How much the nodes and their words are zoomed (`ring::Layout`): a
    /// word is painted that much larger than its stylesheet size.
    pub zoom: f64,
    /// The nodes' running timers, beneath the messages.
    pub arcs: Vec<TimerArc>,
}

/// A node's running timer: what is left of it, as an arc around the node
/// from twelve o'clock, clockwise. Painted here rather than in the SVG
/// because it moves on every frame: the nodes' SVG then changes only when
/// a node does.
#[derive(Clone, Debug, PartialEq)]
pub struct TimerArc {
    /// The node's centre (user units).
    pub x: f64,
    pub y: f64,
    /// Radius and stroke width, zoom included.
    pub r: f64,
    pub width: f64,
    /// What is left, 0 to 1.
    pub left: f64,
    /// A leader's heartbeat interval (else an election timeout).
    pub leader: bool,
}

impl Scene {
    /// The words a message or a lost mark covers, in the scene's order:
    /// the ones painted above them (by their estimated boxes; `paint`
    /// widens them to their drawings).
    #[cfg(test)]
    fn covered_words(&self) -> Vec<&Word> {
        let boxes: Vec<Box2> = self.words.iter().map(|w| w.bbox).collect();
        self.covering(&boxes)
    }

    /// As `covered_words`, with the words taking `boxes` (in their order).
    fn covering(&self, boxes: &[Box2]) -> Vec<&Word> {
        // A lost mark's cross, 16 units and a 4-unit stroke.
        let cross = Footprint {
            hw: 10.0,
            hh: 10.0,
            round: false,
        };
        let glyphs: Vec<((f64, f64), Footprint)> = self
            .flights
            .iter()
            .map(|f| ((f.x, f.y), f.footprint))
            .chain(self.lost.iter().map(|l| ((l.x, l.y), cross)))
            .collect();
        covered(&glyphs, boxes)
            .into_iter()
            .zip(&self.words)
            .filter_map(|(c, w)| c.then_some(w))
            .collect()
    }
}

/// What the pointer is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// A message in flight, by id: a click drops or delivers it.
    Flight(u64),
    /// A lost mark, by its place in the scene: it only has a title.
    Lost(usize),
}

impl Scene {
    /// The topmost mark at (`x`, `y`) in user units: the last drawn wins,
    /// as in the SVG this replaces (the lost marks lie above the flights).
    pub fn hit(&self, x: f64, y: f64) -> Option<Hit> {
        // Half the heaviest outline: a click on the edge still counts.
        const SLACK: f64 = 2.0;
        for (i, l) in self.lost.iter().enumerate().rev() {
            let (dx, dy) = ((x - l.x).abs(), (y - l.y).abs());
            // The two strokes of the cross, 4 units wide.
            if dx <= 8.0 + SLACK && dy <= 8.0 + SLACK && (dx - dy).abs() <= 3.0 {
                return Some(Hit::Lost(i));
            }
        }
        self.flights.iter().rev().find_map(|fl| {
            let (dx, dy) = (x - fl.x, y - fl.y);
            let inside = match fl.glyph.shape() {
                Shape::Circle(r) => dx * dx + dy * dy <= (r + SLACK) * (r + SLACK),
                Shape::Rect(hw, hh, _) => dx.abs() <= hw + SLACK && dy.abs() <= hh + SLACK,
            };
            inside.then_some(Hit::Flight(fl.id))
        })
    }

    fn title(&self, hit: Hit) -> Option<&AttrValue> {
        match hit {
            Hit::Flight(id) => self.flights.iter().find(|f| f.id == id).map(|f| &f.title),
            Hit::Lost(i) => self.lost.get(i).map(|l| &l.title),
        }
    }
}

/// Where the square drawing sits in a box of `w` × `h` CSS pixels, as SVG
/// fits its viewBox (`xMidYMid meet`): scale, then offsets.
pub fn fit(w: f64, h: f64) -> (f64, f64, f64) {
    let s = (w.min(h) / VIEW).max(0.0);
    (s, (w - VIEW * s) / 2.0, (h - VIEW * s) / 2.0)
}

/// A message in the hidden list: what tests read, and where it travels
/// (its lane in user units and its send and arrival times) so a test can
/// find it on the canvas for any visual time (`data-vt` of the canvas).
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    pub id: u64,
    pub kind: &'static str,
    pub from: AttrValue,
    pub to: AttrValue,
    pub text: AttrValue,
    pub emphasis: Emphasis,
    pub sent: u64,
    pub arrive: u64,
    /// From (x, y) to (x, y).
    pub lane: [f64; 4],
    /// Where it is drawn while it waits at its receiver (user units).
    pub waits_at: Option<(f64, f64)>,
}

/// A lost mark in the hidden list.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedLost {
    pub id: u64,
    pub kind: &'static str,
    pub title: AttrValue,
}

#[derive(Properties, PartialEq)]
pub struct FlightLayerProps {
    pub scene: Rc<Scene>,
    pub listed: Rc<Vec<Listed>>,
    pub listed_lost: Rc<Vec<ListedLost>>,
    pub ondrop: Callback<u64>,
    /// A click on a message the teacher delivers (`Flying::delivers`).
    pub ondeliver: Callback<u64>,
    /// The simulated time in words ("t = 12.5 ms"): a line of HTML above
    /// the drawing, since it changes on every frame (in the SVG it made the
    /// ring's drawing change; on the canvas its text was shaped anew).
    pub clock: AttrValue,
    /// The ring's SVG, drawn beneath the canvas.
    pub children: Html,
}

/// What the layer's event handlers and resize observer share.
#[derive(Default)]
struct Layer {
    scene: Rc<Scene>,
    sprites: Sprites,
    words: WordSprites,
    /// The canvas's size in CSS pixels, once known.
    size: Option<(f64, f64)>,
    /// The pointer, in CSS pixels from the canvas's corner.
    pointer: Option<(f64, f64)>,
    hover: Option<Hit>,
}

impl Layer {
    /// The mark under the pointer, in user units.
    fn under_pointer(&self) -> Option<Hit> {
        let (px, py) = self.pointer?;
        let (w, h) = self.size?;
        let (s, ox, oy) = fit(w, h);
        if s <= 0.0 {
            return None;
        }
        self.scene.hit((px - ox) / s, (py - oy) / s)
    }
}

/// The ring's SVG (children) with the canvas of messages over it and the
/// hidden list of them.
#[function_component(FlightLayer)]
pub fn flight_layer(props: &FlightLayerProps) -> Html {
    let canvas = use_node_ref();
    let layer = use_mut_ref(Layer::default);
    layer.borrow_mut().scene = props.scene.clone();

    // Size the canvas to its box (and again whenever the box changes:
    // window, present mode, zoom).
    {
        let canvas = canvas.clone();
        let layer = layer.clone();
        use_effect_with((), move |_| {
            let observer = canvas.cast::<HtmlCanvasElement>().and_then(|el| {
                let on_resize = {
                    let el = el.clone();
                    let layer = layer.clone();
                    Closure::<dyn FnMut()>::new(move || {
                        let rect = el.get_bounding_client_rect();
                        layer.borrow_mut().size = Some((rect.width(), rect.height()));
                        repaint(&el, &mut layer.borrow_mut());
                    })
                };
                let observer =
                    web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok()?;
                observer.observe(&el);
                Some((observer, on_resize))
            });
            move || {
                if let Some((observer, _closure)) = observer {
                    observer.disconnect();
                }
            }
        });
    }
    // Every render is a new scene: paint it.
    {
        let canvas = canvas.clone();
        let layer = layer.clone();
        use_effect(move || {
            if let Some(el) = canvas.cast::<HtmlCanvasElement>() {
                let mut layer = layer.borrow_mut();
                if layer.size.is_none() {
                    let rect = el.get_bounding_client_rect();
                    layer.size = Some((rect.width(), rect.height()));
                }
                repaint(&el, &mut layer);
            }
        });
    }

    let onmousemove = {
        let canvas = canvas.clone();
        let layer = layer.clone();
        use_callback((), move |e: MouseEvent, _| {
            let Some(el) = canvas.cast::<HtmlCanvasElement>() else {
                return;
            };
            let rect = el.get_bounding_client_rect();
            let mut layer = layer.borrow_mut();
            layer.pointer = Some((
                e.client_x() as f64 - rect.left(),
                e.client_y() as f64 - rect.top(),
            ));
            if layer.under_pointer() != layer.hover {
                repaint(&el, &mut layer);
            }
        })
    };
    let onmouseleave = {
        let canvas = canvas.clone();
        let layer = layer.clone();
        use_callback((), move |_: MouseEvent, _| {
            let mut layer = layer.borrow_mut();
            layer.pointer = None;
            if layer.hover.is_some() {
                if let Some(el) = canvas.cast::<HtmlCanvasElement>() {
                    repaint(&el, &mut layer);
                }
            }
        })
    };
    let onclick = {
        let canvas = canvas.clone();
        let layer = layer.clone();
        use_callback(
            (props.ondrop.clone(), props.ondeliver.clone()),
            move |e: MouseEvent, (ondrop, ondeliver)| {
                let Some(el) = canvas.cast::<HtmlCanvasElement>() else {
                    return;
                };
                let rect = el.get_bounding_client_rect();
                let (hit, delivers) = {
                    let mut layer = layer.borrow_mut();
                    layer.pointer = Some((
                        e.client_x() as f64 - rect.left(),
                        e.client_y() as f64 - rect.top(),
                    ));
                    let hit = layer.under_pointer();
                    let delivers =
                        |id: u64| layer.scene.flights.iter().any(|f| f.id == id && f.delivers);
                    let d = matches!(hit, Some(Hit::Flight(id)) if delivers(id));
                    (hit, d)
                };
                if let Some(Hit::Flight(id)) = hit {
                    e.stop_propagation();
                    if delivers && !e.shift_key() {
                        ondeliver.emit(id);
                    } else {
                        ondrop.emit(id);
                    }
                }
            },
        )
    };

    let items = props.listed.iter().map(|m| {
        html! {
            <li key={m.id} data-testid="msg" data-id={m.id.to_string()} data-kind={m.kind}
                data-from={m.from.clone()} data-to={m.to.clone()}
                data-emphasis={m.emphasis.as_str()}
                data-sent={m.sent.to_string()} data-arrive={m.arrive.to_string()}
                data-lane={format!("{} {} {} {}", m.lane[0], m.lane[1], m.lane[2], m.lane[3])}
                data-waiting={m.waits_at.is_some().to_string()}
                data-at={m.waits_at.map(|(x, y)| format!("{x} {y}"))}>
                { m.text.clone() }
            </li>
        }
    });
    let lost = props.listed_lost.iter().map(|l| {
        html! {
            <li key={l.id} data-testid="dropped" data-kind={l.kind}>{ l.title.clone() }</li>
        }
    });
    html! {
        <div class="cluster-box" {onmousemove} {onmouseleave}>
            { props.children.clone() }
            <canvas class="flights-layer" ref={canvas} {onclick} aria-hidden="true"
                data-testid="flights" data-vt={props.scene.vt.to_string()} />
            <span class="ring-clock" aria-hidden="true">{ props.clock.clone() }</span>
            <ul class="flight-list" hidden=true>{ for items }</ul>
            <ul class="flight-list" hidden=true>{ for lost }</ul>
        </div>
    }
}

/// Repaints the layer's scene, hover included, and lets the canvas take
/// the pointer only while it is over a mark.
fn repaint(el: &HtmlCanvasElement, layer: &mut Layer) {
    let hover = layer.under_pointer();
    if hover != layer.hover {
        layer.hover = hover;
        let classes = el.class_list();
        let _ = classes.toggle_with_force("over", hover.is_some());
        let _ = classes.toggle_with_force("clickable", matches!(hover, Some(Hit::Flight(_))));
        match hover.and_then(|h| layer.scene.title(h)) {
            Some(t) => {
                let _ = el.set_attribute("title", t);
            }
            None => {
                let _ = el.remove_attribute("title");
            }
        }
    }
    let Some((w, h)) = layer.size else {
        return;
    };
    let present = el.closest(".present").ok().flatten().is_some();
    let dpr = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    let _ = paint(
        el,
        &layer.scene,
        (&mut layer.sprites, &mut layer.words),
        layer.hover,
        (w, h),
        dpr,
        present,
    );
}

/// How a message's outline is drawn: the heaviest reason wins, as in the
/// stylesheet's order (linked over highlighted over hovered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outline {
    Plain,
    Hover,
    Highlight,
    Linked,
}

/// Each look of a message drawn once, at the canvas's scale, into a small
/// bitmap of its own: a frame then copies bitmaps instead of filling
/// hundreds of outlines and shaping hundreds of texts.
#[derive(Default)]
struct Sprites {
    /// Device pixels per user unit, and present mode, they were drawn for.
    scale: (u64, bool),
    by_look: HashMap<(Glyph, AttrValue, Outline), Sprite>,
}

/// A drawn look and where its centre is in it, device pixels.
struct Sprite {
    canvas: HtmlCanvasElement,
    cx: f64,
    cy: f64,
}

/// Looks kept at most (snapshot chunks' "k/n" and entry counts vary).
const SPRITES_MAX: usize = 512;

impl Sprites {
    fn get(
        &mut self,
        glyph: Glyph,
        text: &AttrValue,
        outline: Outline,
        scale: f64,
        present: bool,
    ) -> Result<&Sprite, JsValue> {
        let key = (scale.to_bits(), present);
        if self.scale != key || self.by_look.len() >= SPRITES_MAX {
            self.by_look.clear();
            self.scale = key;
        }
        let look = (glyph, text.clone(), outline);
        if !self.by_look.contains_key(&look) {
            let sprite = draw_sprite(glyph, text, outline, scale, present)?;
            self.by_look.insert(look.clone(), sprite);
        }
        Ok(&self.by_look[&look])
    }
}

/// A canvas for a sprite of half sizes `hw` × `hh` user units at `scale`
/// device pixels per unit (a pixel of margin each side), its context
/// already drawing in user units about its centre (`cx`, `cy`).
fn sprite_canvas(
    hw: f64,
    hh: f64,
    scale: f64,
) -> Result<(HtmlCanvasElement, CanvasRenderingContext2d, f64, f64), JsValue> {
    let (w, h) = (
        (2.0 * hw * scale).ceil() + 2.0,
        (2.0 * hh * scale).ceil() + 2.0,
    );
    let canvas: HtmlCanvasElement = document()?.create_element("canvas")?.dyn_into()?;
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into()?;
    let (cx, cy) = (w / 2.0, h / 2.0);
    ctx.set_transform(scale, 0.0, 0.0, scale, cx, cy)?;
    Ok((canvas, ctx, cx, cy))
}

/// One look of a message, drawn at `scale` device pixels per user unit.
fn draw_sprite(
    glyph: Glyph,
    text: &str,
    outline: Outline,
    scale: f64,
    present: bool,
) -> Result<Sprite, JsValue> {
    let paint = glyph.paint();
    let (stroke, width) = match outline {
        Outline::Linked => (INK, 5.0),
        Outline::Highlight => (ORANGE, 4.0),
        Outline::Hover => (VERMILLION, 3.5),
        Outline::Plain => (paint.stroke, paint.width),
    };
    let (hw, hh) = match glyph.shape() {
        Shape::Circle(r) => (r, r),
        Shape::Rect(hw, hh, _) => (hw, hh),
    };
    // Room for the outline and the text (bold digits are about 0.6 em).
    let em = if present { 13.0 } else { 11.0 };
    let hw = hw.max(0.35 * em * text.chars().count() as f64) + width;
    let hh = hh.max(0.6 * em) + width;
    let (canvas, ctx, cx, cy) = sprite_canvas(hw, hh, scale)?;
    if paint.dashed {
        ctx.set_line_dash(&js_sys::Array::of2(&3.0.into(), &2.0.into()))?;
    }
    ctx.begin_path();
    match glyph.shape() {
        Shape::Circle(r) => ctx.arc(0.0, 0.0, r, 0.0, std::f64::consts::TAU)?,
        Shape::Rect(hw, hh, r) => round_rect(&ctx, -hw, -hh, 2.0 * hw, 2.0 * hh, r)?,
    }
    ctx.set_fill_style_str(paint.fill);
    ctx.fill();
    ctx.set_stroke_style_str(stroke);
    ctx.set_line_width(width);
    ctx.stroke();
    if !text.is_empty() {
        ctx.set_font(if present { FONT_PRESENT } else { FONT });
        ctx.set_text_align("center");
        ctx.set_text_baseline("middle");
        ctx.set_fill_style_str(paint.text);
        ctx.fill_text(text, 0.0, 0.0)?;
    }
    Ok(Sprite { canvas, cx, cy })
}

fn document() -> Result<web_sys::Document, JsValue> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))
}

/// Draws `scene` on the canvas for a box of `w` × `h` CSS pixels at `dpr`
/// device pixels each, exactly where and as the SVG drew it (each message
/// from its sprite, placed on the nearest device pixel).
fn paint(
    el: &HtmlCanvasElement,
    scene: &Scene,
    (sprites, words): (&mut Sprites, &mut WordSprites),
    hover: Option<Hit>,
    (w, h): (f64, f64),
    dpr: f64,
    present: bool,
) -> Result<(), JsValue> {
    let (bw, bh) = ((w * dpr).round().max(1.0), (h * dpr).round().max(1.0));
    if el.width() != bw as u32 || el.height() != bh as u32 {
        el.set_width(bw as u32);
        el.set_height(bh as u32);
    }
    let Some(ctx) = el.get_context("2d")? else {
        return Ok(());
    };
    let ctx: CanvasRenderingContext2d = ctx.dyn_into()?;

    ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0)?;
    ctx.clear_rect(0.0, 0.0, bw, bh);
    if w <= 0.0 || h <= 0.0 {
        return Ok(());
    }
    // Device pixels per CSS pixel (the bitmap's size is rounded), and
    // where the drawing's user units fall on the bitmap.
    let k = bw / w;
    let (s, ox, oy) = fit(w, h);
    let scale = k * s;
    let (dx, dy) = (k * ox, k * oy);
    if !scene.arcs.is_empty() {
        ctx.set_transform(scale, 0.0, 0.0, scale, dx, dy)?;
        ctx.set_line_cap("round");
        for a in &scene.arcs {
            if a.left <= 0.0 {
                continue;
            }
            ctx.set_stroke_style_str(if a.leader { SKY } else { ORANGE });
            ctx.set_line_width(a.width);
            ctx.begin_path();
            let start = -std::f64::consts::FRAC_PI_2;
            ctx.arc(a.x, a.y, a.r, start, start + std::f64::consts::TAU * a.left)?;
            ctx.stroke();
        }
        ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0)?;
    }
    for fl in &scene.flights {
        let outline = match fl.emphasis {
            Emphasis::Linked => Outline::Linked,
            Emphasis::Highlight => Outline::Highlight,
            Emphasis::None if hover == Some(Hit::Flight(fl.id)) => Outline::Hover,
            Emphasis::None => Outline::Plain,
        };
        let sprite = sprites.get(fl.glyph, &fl.text, outline, scale, present)?;
        let x = (dx + scale * fl.x - sprite.cx).round();
        let y = (dy + scale * fl.y - sprite.cy).round();
        ctx.draw_image_with_html_canvas_element(&sprite.canvas, x, y)?;
        if fl.waiting {
            waiting_ring(&ctx, fl, (scale, dx, dy))?;
        }
    }
    if !scene.lost.is_empty() {
        ctx.set_transform(scale, 0.0, 0.0, scale, dx, dy)?;
        ctx.set_stroke_style_str(VERMILLION);
        ctx.set_line_width(4.0);
        ctx.set_line_cap("round");
        for l in &scene.lost {
            ctx.set_global_alpha(l.opacity);
            ctx.begin_path();
            ctx.move_to(l.x - 8.0, l.y - 8.0);
            ctx.line_to(l.x + 8.0, l.y + 8.0);
            ctx.move_to(l.x + 8.0, l.y - 8.0);
            ctx.line_to(l.x - 8.0, l.y + 8.0);
            ctx.stroke();
        }
        ctx.set_global_alpha(1.0);
        // The words below are placed in device pixels.
        ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0)?;
    }
    // Last, the words a message covers, above it (`clear`). Each takes
    // the room of its estimate or of its drawing, whichever is larger (the
    // stylesheet may enlarge the text).
    let mut boxes = Vec::with_capacity(scene.words.len());
    for w in &scene.words {
        let mut b = w.bbox;
        if let Some(sprite) = words.get(el, w, scale * scene.zoom, present)? {
            b.hw = b.hw.max(sprite.cx / scale);
            b.hh = b.hh.max(sprite.cy / scale);
        }
        boxes.push(b);
    }
    for w in scene.covering(&boxes) {
        if let Some(sprite) = words.get(el, w, scale * scene.zoom, present)? {
            let x = (dx + scale * w.x - sprite.cx).round();
            let y = (dy + scale * w.y - sprite.cy).round();
            ctx.draw_image_with_html_canvas_element(&sprite.canvas, x, y)?;
        }
    }
    Ok(())
}

/// The dashed ring around a message that waits at its receiver: it stands
/// still until delivered, and the ring tells it from one still on its way.
fn waiting_ring(
    ctx: &CanvasRenderingContext2d,
    fl: &Flying,
    (scale, dx, dy): (f64, f64, f64),
) -> Result<(), JsValue> {
    let r = match fl.glyph.shape() {
        Shape::Circle(r) => r,
        Shape::Rect(hw, hh, _) => hw.max(hh),
    } + 5.0;
    ctx.set_transform(scale, 0.0, 0.0, scale, dx, dy)?;
    ctx.set_stroke_style_str(INK);
    ctx.set_line_width(1.6);
    let dash = js_sys::Array::of2(&JsValue::from(3.0), &JsValue::from(2.5));
    ctx.set_line_dash(&dash)?;
    ctx.begin_path();
    ctx.arc(fl.x, fl.y, r, 0.0, std::f64::consts::TAU)?;
    ctx.stroke();
    ctx.set_line_dash(&js_sys::Array::new())?;
    ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0)?;
    Ok(())
}

/// The nodes' words drawn once per look, as the stylesheet draws the SVG's
/// own (read from it: present mode and the roles' colours stay the
/// stylesheet's to decide), with a halo: the role label's own, and for the
/// name and term the body's colour.
#[derive(Default)]
struct WordSprites {
    /// Device pixels per user unit, and present mode, they were drawn for.
    scale: (u64, bool),
    /// `None`: no SVG text to copy the look from (nothing is drawn).
    by_look: HashMap<(WordKind, AttrValue, &'static str), Option<Sprite>>,
}

impl WordSprites {
    fn get(
        &mut self,
        canvas: &HtmlCanvasElement,
        word: &Word,
        scale: f64,
        present: bool,
    ) -> Result<Option<&Sprite>, JsValue> {
        let key = (scale.to_bits(), present);
        if self.scale != key || self.by_look.len() >= SPRITES_MAX {
            self.by_look.clear();
            self.scale = key;
        }
        let look = (word.kind, word.text.clone(), word.role);
        if !self.by_look.contains_key(&look) {
            let sprite = draw_word(canvas, word, scale)?;
            self.by_look.insert(look.clone(), sprite);
        }
        Ok(self.by_look[&look].as_ref())
    }
}

/// One word as the SVG draws it (font, colour, halo), at `scale` device
/// pixels per user unit.
fn draw_word(
    canvas: &HtmlCanvasElement,
    word: &Word,
    scale: f64,
) -> Result<Option<Sprite>, JsValue> {
    let node = format!("[data-testid=\"ring-node-{}\"]", word.node);
    let find = |sel: String| -> Result<Option<web_sys::Element>, JsValue> {
        match canvas.parent_element() {
            Some(parent) => parent.query_selector(&sel),
            None => Ok(None),
        }
    };
    let (Some(text_el), Some(body), Some(group), Some(window)) = (
        find(format!("{node} .{}", word.kind.class()))?,
        find(format!("{node} .body"))?,
        find(node.clone())?,
        web_sys::window(),
    ) else {
        return Ok(None);
    };
    let style = |el: &web_sys::Element| window.get_computed_style(el).ok().flatten();
    let (Some(text), Some(body), Some(group)) = (style(&text_el), style(&body), style(&group))
    else {
        return Ok(None);
    };
    let get = |s: &web_sys::CssStyleDeclaration, name: &str| {
        s.get_property_value(name).unwrap_or_default()
    };
    let px = |v: String| v.trim_end_matches("px").trim().parse::<f64>().ok();
    let size = px(get(&text, "font-size"))
        .filter(|s| *s > 0.0)
        .unwrap_or(15.0);
    let font = format!(
        "{} {size}px {}",
        get(&text, "font-weight"),
        get(&text, "font-family")
    );
    let (halo, halo_width) = match word.kind {
        WordKind::Role => (
            get(&text, "stroke"),
            px(get(&text, "stroke-width")).unwrap_or(0.0),
        ),
        WordKind::Name | WordKind::Term => (get(&body, "fill"), 4.0),
    };
    let opacity = get(&group, "opacity").parse::<f64>().unwrap_or(1.0);

    let (_, measure, _, _) = sprite_canvas(0.0, 0.0, 1.0)?;
    measure.set_font(&font);
    let width = measure.measure_text(&word.text)?.width();
    let (hw, hh) = (width / 2.0 + halo_width, 0.7 * size + halo_width);
    let (sprite, ctx, cx, cy) = sprite_canvas(hw, hh, scale)?;
    ctx.set_global_alpha(opacity);
    ctx.set_font(&font);
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    if halo_width > 0.0 && !halo.is_empty() && halo != "none" {
        ctx.set_line_join("round");
        ctx.set_line_width(halo_width);
        ctx.set_stroke_style_str(&halo);
        ctx.stroke_text(&word.text, 0.0, 0.0)?;
    }
    ctx.set_fill_style_str(&get(&text, "fill"));
    ctx.fill_text(&word.text, 0.0, 0.0)?;
    Ok(Some(Sprite {
        canvas: sprite,
        cx,
        cy,
    }))
}

/// The page's type (`:root` in static/style.css), bold, at the size the
/// SVG's message text had: 11 user units, 13 in present mode.
const FONT: &str =
    "700 11px system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif";
const FONT_PRESENT: &str =
    "700 13px system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif";

/// A rectangle with rounded corners of radius `r`, as SVG's `rect rx`.
fn round_rect(
    ctx: &CanvasRenderingContext2d,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    r: f64,
) -> Result<(), JsValue> {
    let r = r.min(w / 2.0).min(h / 2.0);
    ctx.move_to(x + r, y);
    ctx.arc_to(x + w, y, x + w, y + h, r)?;
    ctx.arc_to(x + w, y + h, x, y + h, r)?;
    ctx.arc_to(x, y + h, x, y, r)?;
    ctx.arc_to(x, y, x + w, y, r)?;
    ctx.close_path();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flying(id: u64, x: f64, y: f64, glyph: Glyph) -> Flying {
        Flying {
            id,
            x,
            y,
            glyph,
            footprint: glyph.footprint(""),
            text: AttrValue::default(),
            title: format!("#{id}").into(),
            emphasis: Emphasis::None,
            waiting: false,
            delivers: false,
        }
    }

    fn word(node: u64, kind: WordKind, text: &str, centre: (f64, f64)) -> Word {
        let bbox = clear::word_box(kind, centre, 44.0, text.chars().count());
        Word {
            node,
            kind,
            text: text.to_string().into(),
            role: "candidate",
            x: bbox.x,
            y: bbox.y,
            bbox,
        }
    }

    #[test]
    fn only_the_words_a_message_or_lost_mark_covers_are_painted_above_them() {
        let s1 = (300.0, 82.0);
        let words = vec![
            word(1, WordKind::Name, "S1", s1),
            word(1, WordKind::Term, "term 2", s1),
            word(1, WordKind::Role, "candidate", s1),
            word(2, WordKind::Role, "follower", (507.0, 233.0)),
        ];
        // A vote answer on S1's role label (44 + 20 under its centre).
        let scene = Scene {
            vt: 0.0,
            flights: vec![flying(1, 310.0, 82.0 + 64.0, Glyph::No)],
            lost: vec![],
            words: words.clone(),
            zoom: 1.0,
            ..Scene::default()
        };
        let covered: Vec<_> = scene
            .covered_words()
            .iter()
            .map(|w| (w.node, w.kind))
            .collect();
        assert_eq!(covered, [(1, WordKind::Role)]);
        // A lost mark on S1's term; the answer gone far from any node.
        let scene = Scene {
            vt: 0.0,
            flights: vec![flying(1, 300.0, 300.0, Glyph::No)],
            lost: vec![Lost {
                x: 330.0,
                y: 82.0 + 17.0,
                opacity: 1.0,
                title: "lost".into(),
            }],
            words,
            zoom: 1.0,
            ..Scene::default()
        };
        let covered: Vec<_> = scene
            .covered_words()
            .iter()
            .map(|w| (w.node, w.kind))
            .collect();
        assert_eq!(covered, [(1, WordKind::Term)]);
    }

    #[test]
    fn the_topmost_message_under_the_point_is_hit() {
        let scene = Scene {
            vt: 0.0,
            flights: vec![
                flying(1, 100.0, 100.0, Glyph::Vote),
                flying(2, 105.0, 100.0, Glyph::Heartbeat),
            ],
            lost: vec![],
            words: vec![],
            zoom: 1.0,
            ..Scene::default()
        };
        // Both cover (104, 100): the one drawn last is on top.
        assert_eq!(scene.hit(104.0, 100.0), Some(Hit::Flight(2)));
        // Only the vote's circle (r 11) reaches 90.
        assert_eq!(scene.hit(90.0, 100.0), Some(Hit::Flight(1)));
        // The heartbeat is 10 high: 8 below its centre is outside it.
        assert_eq!(scene.hit(112.0, 108.0), None);
        assert_eq!(scene.hit(300.0, 300.0), None);
        assert_eq!(scene.title(Hit::Flight(1)).map(|t| t.as_str()), Some("#1"));
    }

    #[test]
    fn lost_marks_lie_above_the_messages_and_only_their_cross_counts() {
        let scene = Scene {
            vt: 0.0,
            flights: vec![flying(7, 50.0, 50.0, Glyph::Append)],
            lost: vec![Lost {
                x: 50.0,
                y: 50.0,
                opacity: 0.5,
                title: "lost: Cut".into(),
            }],
            words: vec![],
            zoom: 1.0,
            ..Scene::default()
        };
        assert_eq!(scene.hit(54.0, 54.0), Some(Hit::Lost(0)));
        // Between the arms of the cross: the message beneath.
        assert_eq!(scene.hit(57.0, 50.0), Some(Hit::Flight(7)));
    }

    #[test]
    fn the_drawing_is_fitted_like_svg_meet() {
        assert_eq!(fit(600.0, 600.0), (1.0, 0.0, 0.0));
        // Wider than tall (present mode): centred across.
        let (s, ox, oy) = fit(1000.0, 300.0);
        assert_eq!((s, ox, oy), (0.5, 350.0, 0.0));
    }
}
