//! The space-time diagram's arrows, drawn as a few SVG paths. As one SVG
//! group per message, the ~700 arrows of a busy window were thousands of
//! elements whose attributes a refresh rewrote (the messages in flight
//! grow, arrows come and go, the window moves): the refresh frames were
//! the slowest of the page. Now a refresh computes the arrows' geometry
//! once ([`Arrows`]) and draws all the arrows that look alike as one path
//! (a dozen `d` attributes per refresh, not thousands of elements), styled
//! by the same classes as before, so an exported file looks the same. The
//! diagram hit-tests the geometry for clicks and hover titles, and a hidden
//! list mirrors the arrows (`data-testid="st-arrow"`) for tests and tools.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use raftlab_core::trace::DropReason;
use raftlab_core::types::NodeId;

/// Half the width of an arrow's hit stroke, user units (the SVG's `.hit`
/// line was 9 wide).
const HIT: f64 = 4.5;

/// What orders the paths: picked, highlighted, kind, class, lost.
type Layer = (bool, bool, u8, &'static str, bool);

/// Where a kind of message is drawn among the others: lighter traffic
/// first, so that the rest lies above it.
fn rank(class: &str) -> u8 {
    match class {
        "st-hb" => 0,
        "st-ack" => 1,
        "st-nack" => 2,
        "st-vote" => 3,
        "st-voteok" => 4,
        "st-voteno" => 5,
        "st-append" => 6,
        _ => 7,
    }
}

/// One message as drawn, in the scrolling group's coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    pub id: u64,
    pub from: NodeId,
    pub to: NodeId,
    pub sent: u64,
    pub send_seq: u64,
    /// Arrival or loss: (time, why lost).
    pub end: Option<(u64, Option<DropReason>)>,
    /// Its kind's class (`st-append`, ...).
    pub class: &'static str,
    /// The message kind (`AppendEntries`, ...).
    pub kind: &'static str,
    /// Drawn heavier: a kind the lesson points at.
    pub hl: bool,
    /// The picked message.
    pub linked: bool,
    /// From (x, y) to (x, y).
    pub line: [f64; 4],
}

impl Drawn {
    /// Lost on the way.
    pub fn lost(&self) -> bool {
        matches!(self.end, Some((_, Some(_))))
    }

    /// Delivered: it ends in a head.
    fn delivered(&self) -> bool {
        matches!(self.end, Some((_, None)))
    }

    /// The head's triangle: tip, then the two back corners.
    fn head(&self) -> Option<[f64; 6]> {
        if !self.delivered() {
            return None;
        }
        let [xa, ya, xe, ye] = self.line;
        let (dx, dy) = (xe - xa, ye - ya);
        let len = (dx * dx + dy * dy).sqrt().max(1e-6);
        let (ux, uy) = (dx / len, dy / len);
        let (bx, by) = (xe - ux * 9.0, ye - uy * 9.0);
        let (nx, ny) = (-uy * 4.0, ux * 4.0);
        Some([xe, ye, bx + nx, by + ny, bx - nx, by - ny])
    }

    /// The classes the SVG gave it (and the hidden list and export keep).
    pub fn classes(&self) -> String {
        let mut c = format!("st-arrow {}", self.class);
        for (on, name) in [
            (self.lost(), " st-lost"),
            (self.hl, " st-hl"),
            (self.linked, " st-linked"),
        ] {
            if on {
                c.push_str(name);
            }
        }
        c
    }

    /// Its hover title, given the message's label.
    pub fn title(&self, label: &str) -> String {
        let fate = match self.end {
            Some((_, Some(r))) => format!(" — lost ({r:?})").to_lowercase(),
            Some((t, None)) => format!(" — sent {} ms, arrived {t} ms", self.sent),
            None => format!(" — sent {} ms, in flight", self.sent),
        };
        format!("#{} S{} → S{}: {label}{fate}", self.id, self.from, self.to)
    }

    /// Where it is drawn among the others (see [`Arrows::groups`]).
    fn layer(&self) -> Layer {
        (
            self.linked,
            self.hl,
            rank(self.class),
            self.class,
            self.lost(),
        )
    }

    /// Distance from (`x`, `y`) to its line, user units.
    fn distance(&self, x: f64, y: f64) -> f64 {
        let [xa, ya, xe, ye] = self.line;
        let (dx, dy) = (xe - xa, ye - ya);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (((x - xa) * dx + (y - ya) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (px, py) = (xa + t * dx - x, ya + t * dy - y);
        (px * px + py * py).sqrt()
    }
}

/// The arrows of one refresh and where they sit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Arrows {
    /// By id.
    pub list: Vec<Drawn>,
    /// The scrolling group's offset: x in the drawing = x + shift.
    pub shift: f64,
    /// Width and height of the drawing, user units.
    pub size: (f64, f64),
    /// Arrows show only right of this x (the lanes' names sit left of it).
    pub clip_x: f64,
    /// Where a time falls in the drawing: x = .0 + .1 × simulated ms.
    pub time_map: (f64, f64),
}

impl Arrows {
    /// The arrow at (`x`, `y`) in the drawing's user units: the one whose
    /// line passes nearest, within its hit stroke (on a tie, the one drawn
    /// on top: see [`Arrows::groups`]).
    pub fn hit(&self, x: f64, y: f64) -> Option<&Drawn> {
        if x < self.clip_x {
            return None;
        }
        let x = x - self.shift;
        self.list
            .iter()
            .enumerate()
            .map(|(i, a)| (a.distance(x, y), a.layer(), i, a))
            .filter(|(d, ..)| *d <= HIT)
            .min_by(|p, q| {
                p.0.total_cmp(&q.0)
                    .then_with(|| q.1.cmp(&p.1))
                    .then_with(|| q.2.cmp(&p.2))
            })
            .map(|(.., a)| a)
    }

    /// The arrows that look alike (same classes), each as one path of
    /// lines, one of heads and one of crosses, in drawing order: lighter
    /// kinds first, lesson highlights above them, the picked one on top.
    pub fn groups(&self) -> Vec<Group> {
        let mut by_look: BTreeMap<Layer, Group> = BTreeMap::new();
        for a in &self.list {
            let g = by_look.entry(a.layer()).or_insert_with(|| Group {
                classes: a.classes(),
                ..Group::default()
            });
            let [xa, ya, xe, ye] = a.line;
            point(&mut g.lines, 'M', xa, ya);
            point(&mut g.lines, 'L', xe, ye);
            if let Some([x0, y0, x1, y1, x2, y2]) = a.head() {
                point(&mut g.heads, 'M', x0, y0);
                point(&mut g.heads, 'L', x1, y1);
                point(&mut g.heads, 'L', x2, y2);
                g.heads.push('Z');
            }
            if a.lost() {
                point(&mut g.crosses, 'M', xe - 5.0, ye - 5.0);
                g.crosses.push_str("l10 10");
                point(&mut g.crosses, 'M', xe + 5.0, ye - 5.0);
                g.crosses.push_str("l-10 10");
            }
        }
        by_look.into_values().collect()
    }
}

/// Appends `cmd` and the point (`x`, `y`) to a path, to a tenth of a unit.
/// Thousands of coordinates per refresh: written as integers of tenths,
/// which is several times cheaper than float formatting.
fn point(out: &mut String, cmd: char, x: f64, y: f64) {
    out.push(cmd);
    tenths(out, x);
    out.push(' ');
    tenths(out, y);
}

fn tenths(out: &mut String, v: f64) {
    let t = (v * 10.0).round();
    let t = if t.is_finite() { t as i64 } else { 0 };
    if t < 0 {
        out.push('-');
    }
    let t = t.unsigned_abs();
    let _ = write!(out, "{}.{}", t / 10, t % 10);
}

/// Arrows drawn alike: their classes (`st-arrow st-append st-lost`, as
/// one arrow's group had them) and their paths.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub classes: String,
    /// Every line: `M x y L x y`, one after another.
    pub lines: String,
    /// The heads of the delivered ones.
    pub heads: String,
    /// The crosses of the lost ones.
    pub crosses: String,
}

/// An arrow in the hidden list, for tests and tools: what it is, and for
/// one that has ended (its line no longer grows) the middle of its line as
/// (simulated ms, y), which stays put as the window moves (the drawing's
/// `data-map`, "a b", puts a time at x = a + b·ms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ListedArrow {
    id: u64,
    class: &'static str,
    kind: &'static str,
    lost: bool,
    hl: bool,
    linked: bool,
    send_seq: u64,
    /// Twice the middle's time (an integer), and its y.
    at: Option<(u64, f64)>,
}

impl ListedArrow {
    fn of(a: &Drawn) -> ListedArrow {
        ListedArrow {
            id: a.id,
            class: a.class,
            kind: a.kind,
            lost: a.lost(),
            hl: a.hl,
            linked: a.linked,
            send_seq: a.send_seq,
            at: a
                .end
                .map(|(t, _)| (a.sent + t, (a.line[1] + a.line[3]) / 2.0)),
        }
    }

    /// Its item's attributes.
    fn attributes(&self) -> [(&'static str, Option<String>); 6] {
        let class = format!(
            "st-arrow {}{}{}{}",
            self.class,
            if self.lost { " st-lost" } else { "" },
            if self.hl { " st-hl" } else { "" },
            if self.linked { " st-linked" } else { "" }
        );
        [
            ("class", Some(class)),
            ("data-id", Some(self.id.to_string())),
            ("data-kind", Some(self.kind.to_string())),
            ("data-lost", Some(self.lost.to_string())),
            ("data-send-seq", Some(self.send_seq.to_string())),
            (
                "data-at",
                self.at
                    .map(|(twice, y)| format!("{} {}", twice as f64 / 2.0, f(y))),
            ),
        ]
    }
}

/// The hidden list's items (`data-testid="st-arrow"`, in the order of the
/// arrows' ids), kept in step with the arrows by hand: a refresh adds the
/// new ones, removes the gone ones and rewrites the attributes of those
/// that changed, instead of yew building and diffing hundreds of items.
#[derive(Default)]
pub struct Listed {
    items: HashMap<u64, (web_sys::Element, ListedArrow)>,
    /// The largest id listed.
    last: Option<u64>,
}

impl Listed {
    /// Makes the list under `ul` show `arrows` (sorted by id).
    pub fn sync(&mut self, ul: &web_sys::Element, arrows: &[Drawn]) {
        let Some(doc) = ul.owner_document() else {
            return;
        };
        let mut old = std::mem::take(&mut self.items);
        // The item of the arrow before, to put a new one after it: new
        // arrows mostly come last, but older ones come back when the window
        // goes back or the heartbeats return under the cap on arrows.
        let mut prev: Option<web_sys::Element> = None;
        for a in arrows {
            let now = ListedArrow::of(a);
            let el = match old.remove(&a.id) {
                Some((el, was)) => {
                    if was != now {
                        set_attributes(&el, &now);
                    }
                    el
                }
                None => {
                    let Ok(el) = doc.create_element("li") else {
                        continue;
                    };
                    let _ = el.set_attribute("data-testid", "st-arrow");
                    set_attributes(&el, &now);
                    let _ = if self.last.is_none_or(|l| a.id > l) {
                        ul.append_child(&el)
                    } else {
                        let next = match &prev {
                            Some(p) => p.next_sibling(),
                            None => ul.first_child(),
                        };
                        ul.insert_before(&el, next.as_ref())
                    };
                    el
                }
            };
            self.last = self.last.max(Some(a.id));
            prev = Some(el.clone());
            self.items.insert(a.id, (el, now));
        }
        for (el, _) in old.values() {
            el.remove();
        }
        // What the list ends with now.
        self.last = arrows
            .iter()
            .map(|a| a.id)
            .filter(|id| self.items.contains_key(id))
            .max();
    }
}

fn set_attributes(el: &web_sys::Element, a: &ListedArrow) {
    for (name, value) in a.attributes() {
        let _ = match value {
            Some(v) => el.set_attribute(name, &v),
            None => el.remove_attribute(name),
        };
    }
}

fn f(x: f64) -> String {
    format!("{x:.1}")
}

/// Where a drawing of `vw` × `vh` user units sits in a box of `w` × `h`
/// CSS pixels, as SVG fits its viewBox (`xMidYMid meet`): scale, offsets.
pub fn fit((vw, vh): (f64, f64), w: f64, h: f64) -> (f64, f64, f64) {
    if vw <= 0.0 || vh <= 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let s = (w / vw).min(h / vh).max(0.0);
    (s, (w - vw * s) / 2.0, (h - vh * s) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrow(id: u64, line: [f64; 4], end: Option<(u64, Option<DropReason>)>) -> Drawn {
        Drawn {
            id,
            from: 1,
            to: 2,
            sent: 10,
            send_seq: id * 10,
            end,
            class: "st-append",
            kind: "AppendEntries",
            hl: false,
            linked: false,
            line,
        }
    }

    fn arrows(list: Vec<Drawn>) -> Arrows {
        Arrows {
            list,
            shift: 40.0,
            size: (1000.0, 200.0),
            clip_x: 40.0,
            time_map: (40.0, 1.0),
        }
    }

    #[test]
    fn a_click_picks_the_nearest_line_within_its_hit_stroke() {
        let a = arrows(vec![
            arrow(1, [0.0, 0.0, 100.0, 100.0], Some((50, None))),
            arrow(2, [0.0, 10.0, 100.0, 10.0], None),
        ]);
        // (50, 50) in the group is (90, 50) in the drawing.
        assert_eq!(a.hit(90.0, 50.0).map(|d| d.id), Some(1));
        // Both lines pass near (10, 10): the one through it wins.
        assert_eq!(a.hit(50.0, 10.0).map(|d| d.id), Some(2));
        assert_eq!(a.hit(52.0, 12.0).map(|d| d.id), Some(1));
        assert_eq!(a.hit(90.0, 58.0), None);
        // Left of the clip, where the lanes' names are, nothing is hit.
        assert_eq!(a.hit(39.0, 10.0), None);
        // Beyond an end.
        assert_eq!(a.hit(150.0, 10.0), None);
    }

    #[test]
    fn the_later_arrow_wins_a_tie() {
        let a = arrows(vec![
            arrow(1, [0.0, 0.0, 100.0, 0.0], Some((50, None))),
            arrow(2, [0.0, 0.0, 100.0, 0.0], Some((50, None))),
        ]);
        assert_eq!(a.hit(80.0, 0.0).map(|d| d.id), Some(2));
    }

    #[test]
    fn arrows_that_look_alike_are_one_path_drawn_in_order() {
        let mut lost = arrow(
            2,
            [0.0, 0.0, 30.0, 40.0],
            Some((60, Some(DropReason::Loss))),
        );
        lost.linked = true;
        let mut hb = arrow(4, [1.0, 1.0, 2.0, 2.0], Some((20, None)));
        hb.class = "st-hb";
        let a = arrows(vec![
            arrow(1, [0.0, 0.0, 100.0, 0.0], Some((50, None))),
            lost,
            arrow(3, [0.0, 0.0, 10.0, 0.0], None),
            hb,
        ]);
        let groups = a.groups();
        let classes: Vec<&str> = groups.iter().map(|g| g.classes.as_str()).collect();
        // Heartbeats beneath, the picked message on top.
        assert_eq!(
            classes,
            [
                "st-arrow st-hb",
                "st-arrow st-append",
                "st-arrow st-append st-lost st-linked"
            ]
        );
        let append = &groups[1];
        assert_eq!(append.lines, "M0.0 0.0L100.0 0.0M0.0 0.0L10.0 0.0");
        // A head for the delivered one only (not the one in flight).
        assert_eq!(append.heads, "M100.0 0.0L91.0 4.0L91.0 -4.0Z");
        assert_eq!(append.crosses, "");
        assert_eq!(groups[2].crosses, "M25.0 35.0l10 10M35.0 35.0l-10 10");
        assert_eq!(groups[2].heads, "");
    }

    #[test]
    fn coordinates_are_written_to_a_tenth() {
        let mut out = String::new();
        point(&mut out, 'M', 12.34, -0.26);
        point(&mut out, 'L', 0.04, 999.96);
        assert_eq!(out, "M12.3 -0.3L0.0 1000.0");
    }

    #[test]
    fn titles_say_where_a_message_went() {
        let lost = arrow(
            2,
            [0.0, 0.0, 30.0, 40.0],
            Some((60, Some(DropReason::Loss))),
        );
        assert_eq!(lost.title("append 1"), "#2 S1 → S2: append 1 — lost (loss)");
        let flying = arrow(3, [0.0, 0.0, 10.0, 0.0], None);
        assert!(flying.title("x").ends_with("sent 10 ms, in flight"));
    }

    #[test]
    fn a_listed_arrow_has_a_fixed_point_once_it_ended() {
        let done = arrow(1, [0.0, 10.0, 100.0, 50.0], Some((55, None)));
        let attrs = ListedArrow::of(&done).attributes();
        assert_eq!(attrs[0].1.as_deref(), Some("st-arrow st-append"));
        // Sent at 10, arrived at 55: the middle is at 32.5 ms, y 30.
        assert_eq!(attrs[5].1.as_deref(), Some("32.5 30.0"));
        let flying = arrow(2, [0.0, 10.0, 40.0, 20.0], None);
        assert_eq!(ListedArrow::of(&flying).attributes()[5].1, None);
    }

    #[test]
    fn the_drawing_is_fitted_like_svg_meet() {
        assert_eq!(fit((1000.0, 200.0), 500.0, 100.0), (0.5, 0.0, 0.0));
        // Capped height: centred across.
        assert_eq!(fit((1000.0, 200.0), 500.0, 50.0), (0.25, 125.0, 0.0));
    }
}
