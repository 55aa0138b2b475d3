//! Keeping the ring's words readable under hundreds of messages (issue 18:
//! "p✗" over "candidate"). Messages travel rim to rim, so near a node
//! their glyphs cross its words: the name and term inside the body, and
//! the role label under it, where every lane towards the ring's centre
//! passes. No placement of straight lanes avoids them all (on a ring of
//! nine the words of one node lie across its neighbours' lanes), so the
//! flights canvas paints each word a glyph covers again, above the
//! messages, with a halo (`flights::paint`): the message slides under the
//! word instead of over it.
//!
//! Everything here is in the drawing's user units, so it holds at any
//! size the ring is shown at (present mode, phones).

/// How far the two directions of a link sit apart (half), user units.
pub const LANE: f64 = 7.0;

/// Where a node's words sit and how large they are: the centre's offset
/// below the node's centre, the font size, and the widest text in ems.
/// Widths measured in Chromium here (DejaVu Sans Bold, the widest of the
/// usual system-ui fonts): "S10" 52.8 units at 25, "term 123" 71.7 at 14,
/// "pre-candidate" 118.4 at 15.
pub const NAME: (f64, f64, f64) = (-8.0, 25.0, 2.15);
/// The term, as `NAME`.
pub const TERM: (f64, f64, f64) = (17.0, 14.0, 5.15);
/// How far below the rim the role label's centre sits.
pub const ROLE_DY: f64 = 20.0;
/// The role label's font size (present mode enlarges it to 18: the box
/// allows for it) and width per character in ems.
const ROLE: (f64, f64) = (18.0, 0.62);
/// Width of a glyph's bold character, in ems (as the sprites allow:
/// "12/12" measured 40.9 units at 13).
const CHAR_EM: f64 = 0.7;
/// Widest stroke a glyph's outline gets (a linked message), half of it
/// lying outside the shape.
const OUTLINE: f64 = 5.0;
/// Largest font a glyph's text is drawn in (present mode).
const GLYPH_EM: f64 = 13.0;

/// An axis-aligned box: centre and half sizes, user units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Box2 {
    pub x: f64,
    pub y: f64,
    pub hw: f64,
    pub hh: f64,
}

impl Box2 {
    /// Whether the two boxes share any point.
    pub fn overlaps(&self, other: &Box2) -> bool {
        (self.x - other.x).abs() < self.hw + other.hw
            && (self.y - other.y).abs() < self.hh + other.hh
    }
}

/// What a message's glyph covers: a disc (votes and their answers) or a
/// box, of half sizes `hw` × `hh` (equal for a disc), outline included.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Footprint {
    pub hw: f64,
    pub hh: f64,
    pub round: bool,
}

impl Footprint {
    /// Whether, centred at (`x`, `y`), it covers any point of `b`.
    pub fn covers(&self, (x, y): (f64, f64), b: &Box2) -> bool {
        if self.round {
            // The nearest point of the box to the disc's centre.
            let dx = ((x - b.x).abs() - b.hw).max(0.0);
            let dy = ((y - b.y).abs() - b.hh).max(0.0);
            dx.hypot(dy) < self.hw
        } else {
            Box2 {
                x,
                y,
                hw: self.hw,
                hh: self.hh,
            }
            .overlaps(b)
        }
    }
}

/// What a message's glyph covers as drawn: its outline (a disc of radius
/// `shape_half.0` if `round`, else a box of half sizes `shape_half`) or
/// its text of `chars` characters where wider, and the heaviest outline's
/// stroke.
pub fn footprint(shape_half: (f64, f64), round: bool, chars: usize) -> Footprint {
    let text = (GLYPH_EM * CHAR_EM * chars as f64 / 2.0, 0.6 * GLYPH_EM);
    if round && text.0.hypot(text.1) <= shape_half.0 {
        let r = shape_half.0 + OUTLINE / 2.0;
        return Footprint {
            hw: r,
            hh: r,
            round: true,
        };
    }
    Footprint {
        hw: shape_half.0.max(text.0) + OUTLINE / 2.0,
        hh: shape_half.1.max(text.1) + OUTLINE / 2.0,
        round: false,
    }
}

/// Which of a node's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WordKind {
    /// "S3", in the body.
    Name,
    /// "term 7", in the body.
    Term,
    /// "candidate", under the body.
    Role,
}

impl WordKind {
    /// The class of the SVG text that draws it (`cluster::draw_node`).
    pub fn class(self) -> &'static str {
        match self {
            WordKind::Name => "label",
            WordKind::Term => "term",
            WordKind::Role => "detail",
        }
    }
}

/// The box of a node's word of `chars` characters, for a node of radius
/// `r` centred at (`x`, `y`): where `draw_node` puts it, as wide as the
/// widest text of its kind or this one.
pub fn word_box(kind: WordKind, (x, y): (f64, f64), r: f64, chars: usize) -> Box2 {
    let (dy, em, width) = match kind {
        WordKind::Name => NAME,
        WordKind::Term => TERM,
        WordKind::Role => (r + ROLE_DY, ROLE.0, ROLE.1 * chars as f64),
    };
    Box2 {
        x,
        y: y + dy,
        hw: em * width / 2.0,
        // The line box: 1.17 em measured.
        hh: 0.6 * em,
    }
}

/// Which of `words` any glyph covers, as flags in their order: `glyphs`
/// are the glyphs' centres and footprints. These are painted again above
/// the messages.
pub fn covered(glyphs: &[((f64, f64), Footprint)], words: &[Box2]) -> Vec<bool> {
    words
        .iter()
        .map(|w| glyphs.iter().any(|(at, f)| f.covers(*at, w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring;

    /// Every glyph the page draws: the shapes of `flights::Glyph` with
    /// the longest texts they carry ("PV", "p✗", "12", "12/12").
    fn glyphs() -> [Footprint; 6] {
        [
            footprint((11.0, 11.0), true, 2),
            footprint((7.0, 5.0), false, 0),
            footprint((6.0, 6.0), true, 0),
            footprint((8.0, 8.0), false, 0),
            footprint((12.0, 9.0), false, 3),
            footprint((17.0, 10.0), false, 5),
        ]
    }

    #[test]
    fn a_vote_answer_arriving_at_a_candidate_covers_its_role_label_and_is_painted_under_it() {
        // Five nodes; S3 (lower right) answers S1 (at the top): its lane
        // climbs to S1's rim through "candidate".
        let c = ring::positions(5, 300.0, 300.0, 218.0);
        let r = 44.0;
        let lane = ring::lane(c[2], c[0], r, LANE);
        let no = footprint((11.0, 11.0), true, 2);
        let words: Vec<Box2> = [WordKind::Name, WordKind::Term, WordKind::Role]
            .iter()
            .map(|&k| word_box(k, c[0], r, "candidate".len()))
            .collect();
        let crossed = (0..=100)
            .map(|p| ring::along(lane, p as f64 / 100.0))
            .filter(|&at| covered(&[(at, no)], &words)[2])
            .count();
        assert!(crossed > 0, "the answer passes over the role label");
        // Far from every node it covers nothing.
        let mid = ring::along(lane, 0.5);
        assert_eq!(covered(&[(mid, no)], &words), [false, false, false]);
    }

    #[test]
    fn every_word_a_glyph_touches_on_any_ring_is_found() {
        // Whatever the ring (1–9 nodes, radius 44, 36 from 8 nodes, as
        // `cluster.rs`), every glyph anywhere on any lane: each word whose
        // box it reaches is flagged, and none it keeps clear of.
        let mut flagged = 0;
        for n in 1..=9 {
            let r = if n <= 7 { 44.0 } else { 36.0 };
            let c = ring::positions(n, 300.0, 300.0, 218.0);
            let words: Vec<Box2> = c
                .iter()
                .flat_map(|&p| {
                    [WordKind::Name, WordKind::Term, WordKind::Role]
                        .map(|k| word_box(k, p, r, "pre-candidate".len()))
                })
                .collect();
            for &a in &c {
                for &b in c.iter().filter(|&&b| b != a) {
                    let lane = ring::lane(a, b, r, LANE);
                    for g in glyphs() {
                        for p in 0..=20 {
                            let at = ring::along(lane, p as f64 / 20.0);
                            let flags = covered(&[(at, g)], &words);
                            for (w, &f) in words.iter().zip(&flags) {
                                // Sample the glyph's footprint: a point of
                                // it inside the word means it is covered.
                                let touches = (-10..=10).any(|i| {
                                    (-10..=10).any(|j| {
                                        let (x, y) = (
                                            at.0 + g.hw * i as f64 / 10.0,
                                            at.1 + g.hh * j as f64 / 10.0,
                                        );
                                        let inside = !g.round || (x - at.0).hypot(y - at.1) < g.hw;
                                        inside && (x - w.x).abs() < w.hw && (y - w.y).abs() < w.hh
                                    })
                                });
                                if touches {
                                    assert!(f, "{n} nodes: {g:?} at {at:?} touches {w:?}");
                                }
                                flagged += usize::from(f);
                            }
                        }
                    }
                }
            }
        }
        assert!(flagged > 1000, "{flagged}");
    }

    #[test]
    fn a_disc_covers_a_box_only_within_its_radius() {
        let disc = footprint((11.0, 11.0), true, 1);
        assert!(disc.round);
        let b = Box2 {
            x: 0.0,
            y: 0.0,
            hw: 10.0,
            hh: 10.0,
        };
        // Diagonally off the box's corner: the disc's square would
        // overlap, the disc itself does not.
        let off = 10.0 + 1.2 * disc.hw / 2f64.sqrt();
        assert!(!disc.covers((off, off), &b));
        assert!(disc.covers((10.0 + disc.hw - 0.1, 0.0), &b));
        // A text wider than the circle makes it a box.
        assert!(!footprint((11.0, 11.0), true, 5).round);
    }

    #[test]
    fn the_role_label_sits_under_the_rim_of_any_node() {
        for r in [20.0, 36.0, 44.0, 90.0] {
            let b = word_box(WordKind::Role, (0.0, 0.0), r, 9);
            assert!(b.y - b.hh > r, "r {r}: {b:?}");
            // Wide enough for "candidate" at the present mode's 18 units.
            assert!(b.hw * 2.0 >= 9.0 * 0.55 * 18.0);
        }
    }
}
