//! Where the nodes sit: evenly spaced on a circle, the first at twelve
//! o'clock and the rest clockwise (SVG's y axis points down), and the lanes
//! messages travel along between them.

use std::f64::consts::{FRAC_PI_2, TAU};

/// How the nodes are laid out in a square drawing: the ring's radius, the
/// radius a node is drawn with, and the zoom applied to everything drawn
/// around a node (its label, term, timer, crown and vote tally).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layout {
    /// Radius of the circle the node centres sit on.
    pub ring: f64,
    /// A node's radius before the zoom (what its inner drawing is made for).
    pub node_r: f64,
    /// How much a node and its marks are enlarged (1 in the normal view).
    pub zoom: f64,
}

/// How far a node's marks reach beyond its radius, before the zoom: the
/// crown above, the vote tally below, the timer arc at the sides.
const ABOVE: f64 = 28.0;
const BELOW: f64 = 52.0;
const SIDE: f64 = 12.0;

impl Layout {
    /// A node's radius as drawn.
    pub fn radius(&self) -> f64 {
        self.node_r * self.zoom
    }
}

/// The layout of `count` nodes in a square of side `view`. The normal view
/// keeps a wide ring; `large` (presenting to a room) draws the nodes and
/// their words bigger and pulls the ring in so that everything still fits
/// the square: the class reads nodes, not the empty middle.
pub fn layout(count: usize, view: f64, large: bool) -> Layout {
    let node_r = if count <= 7 { 44.0 } else { 36.0 };
    if !large {
        return Layout {
            ring: view * 218.0 / 600.0,
            node_r: node_r * view / 600.0,
            zoom: 1.0,
        };
    }
    let node_r = node_r * view / 600.0;
    let zoom = match count {
        0..=5 => 1.5,
        6..=7 => 1.35,
        _ => 1.2,
    };
    let c = view / 2.0;
    // The lowest and the widest a node sits, as a fraction of the ring's
    // radius (the first node is always at the very top).
    let (mut low, mut wide) = (0.5_f64, 0.5_f64);
    for (x, y) in positions(count, 0.0, 0.0, 1.0) {
        low = low.max(y);
        wide = wide.max(x.abs());
    }
    let margin = view * 6.0 / 600.0;
    let top = c - margin - zoom * (node_r + ABOVE * view / 600.0);
    let bottom = (c - margin - zoom * (node_r + BELOW * view / 600.0)) / low;
    let side = (c - margin - zoom * (node_r + SIDE * view / 600.0)) / wide;
    Layout {
        ring: top.min(bottom).min(side),
        node_r,
        zoom,
    }
}

/// The centres of `count` nodes spread evenly on the circle of `radius`
/// around (`cx`, `cy`), starting at the top and going clockwise.
pub fn positions(count: usize, cx: f64, cy: f64, radius: f64) -> Vec<(f64, f64)> {
    (0..count)
        .map(|i| {
            let angle = TAU * i as f64 / count as f64 - FRAC_PI_2;
            (cx + radius * angle.cos(), cy + radius * angle.sin())
        })
        .collect()
}

/// The one-way lane from a node centred at `a` to one centred at `b`, both
/// of radius `r`: it leaves `a`'s edge and ends at `b`'s edge, shifted
/// `offset` to the side, so the lanes a→b and b→a run side by side.
pub fn lane(a: (f64, f64), b: (f64, f64), r: f64, offset: f64) -> ((f64, f64), (f64, f64)) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (ux, uy) = (dx / len, dy / len);
    let (nx, ny) = (-uy * offset, ux * offset);
    let start = (a.0 + ux * r + nx, a.1 + uy * r + ny);
    let end = (b.0 - ux * r + nx, b.1 - uy * r + ny);
    (start, end)
}

/// Where the `k`-th message waiting on a lane (oldest first) is drawn, as
/// a fraction of the lane: the oldest just short of its receiver, the
/// rest queued behind it, back to the lane's middle at most. Both views
/// queue what waits so.
pub fn queue_place(k: usize) -> f64 {
    (0.92 - 0.11 * k as f64).max(0.48)
}

/// The point a fraction `f` (clamped to [0, 1]) of the way along a lane.
pub fn along(lane: ((f64, f64), (f64, f64)), f: f64) -> (f64, f64) {
    let f = f.clamp(0.0, 1.0);
    let ((x0, y0), (x1, y1)) = lane;
    (x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)
}

/// The media query of users who ask for less motion (vestibular
/// disorders, distraction): both views read it (`hooks::use_media`).
pub const REDUCED_MOTION: &str = "(prefers-reduced-motion: reduce)";

/// How far along its lane a message `f` of the way through its flight is
/// drawn: `f`, or under reduced motion only the lane's ends, the
/// sender's for the first half and the receiver's after, so a message
/// jumps instead of flying (WCAG 2.3.3).
pub fn travelled(f: f64, reduced_motion: bool) -> f64 {
    let f = f.clamp(0.0, 1.0);
    match (reduced_motion, f < 0.5) {
        (false, _) => f,
        (true, true) => 0.0,
        (true, false) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    /// The distance between two neighbouring nodes on a ring of `radius`.
    fn spacing(count: usize, radius: f64) -> f64 {
        if count < 2 {
            return f64::INFINITY;
        }
        2.0 * radius * (PI / count as f64).sin()
    }

    #[test]
    fn first_node_is_at_the_top() {
        let p = positions(5, 200.0, 200.0, 100.0);
        assert!(close(p[0], (200.0, 100.0)), "{:?}", p[0]);
    }

    #[test]
    fn four_nodes_go_clockwise_round_the_compass() {
        let p = positions(4, 0.0, 0.0, 1.0);
        let expected = [(0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)];
        for (got, want) in p.iter().zip(expected) {
            assert!(close(*got, want), "{got:?} != {want:?}");
        }
    }

    #[test]
    fn every_node_is_on_the_ring_and_apart() {
        let p = positions(5, 10.0, 20.0, 50.0);
        assert_eq!(p.len(), 5);
        for (i, a) in p.iter().enumerate() {
            let r = ((a.0 - 10.0).powi(2) + (a.1 - 20.0).powi(2)).sqrt();
            assert!((r - 50.0).abs() < 1e-9);
            for b in &p[i + 1..] {
                assert!(((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() > 50.0);
            }
        }
    }

    /// Presenting, everything drawn around a node stays inside the square;
    /// in both views neighbours' timer arcs (radius + 8 before the zoom)
    /// never touch, for every cluster size.
    #[test]
    fn both_layouts_fit_the_square_and_keep_nodes_apart() {
        for large in [false, true] {
            for count in 1..=9 {
                let l = layout(count, 600.0, large);
                let c = 300.0;
                for (x, y) in positions(count, c, c, l.ring).into_iter().filter(|_| large) {
                    let z = l.zoom;
                    assert!(y - z * (l.node_r + ABOVE) >= 0.0, "{count} {large}: top");
                    assert!(
                        y + z * (l.node_r + BELOW) <= 600.0,
                        "{count} {large}: bottom"
                    );
                    assert!(x - z * (l.node_r + SIDE) >= 0.0, "{count} {large}: left");
                    assert!(x + z * (l.node_r + SIDE) <= 600.0, "{count} {large}: right");
                }
                let arcs = 2.0 * l.zoom * (l.node_r + 8.0);
                assert!(
                    spacing(count, l.ring) > arcs + 8.0,
                    "{count} {large}: crowded"
                );
            }
        }
    }

    /// Presenting makes five nodes or fewer at least 1.5 times as large as
    /// in the normal view (the page keeps the drawing near the same size,
    /// so the class sees them about that much bigger); crowded rings less.
    #[test]
    fn presenting_draws_nodes_larger() {
        for count in 1..=5 {
            let (n, p) = (layout(count, 600.0, false), layout(count, 600.0, true));
            assert!(p.radius() >= 1.5 * n.radius(), "{count}: {p:?} vs {n:?}");
        }
        for count in 6..=9 {
            let (n, p) = (layout(count, 600.0, false), layout(count, 600.0, true));
            assert!(p.radius() >= 1.2 * n.radius(), "{count}: {p:?} vs {n:?}");
        }
    }

    #[test]
    fn no_nodes_no_positions() {
        assert!(positions(0, 0.0, 0.0, 1.0).is_empty());
    }

    #[test]
    fn lanes_leave_the_edges_and_run_apart() {
        let there = lane((0.0, 0.0), (100.0, 0.0), 10.0, 5.0);
        let back = lane((100.0, 0.0), (0.0, 0.0), 10.0, 5.0);
        assert!(close(there.0, (10.0, 5.0)), "{there:?}");
        assert!(close(there.1, (90.0, 5.0)));
        assert!(close(back.0, (90.0, -5.0)), "{back:?}");
        assert!(close(along(there, 0.5), (50.0, 5.0)));
        assert!(close(along(there, 2.0), (90.0, 5.0)));
    }

    #[test]
    fn messages_fly_along_their_lane_unless_motion_is_reduced() {
        assert_eq!(travelled(0.3, false), 0.3);
        assert_eq!(travelled(1.7, false), 1.0);
        assert_eq!(travelled(-0.2, false), 0.0);
    }

    #[test]
    fn under_reduced_motion_a_message_is_only_ever_at_an_end_of_its_lane() {
        assert_eq!(travelled(0.0, true), 0.0);
        assert_eq!(travelled(0.49, true), 0.0);
        assert_eq!(travelled(0.5, true), 1.0);
        assert_eq!(travelled(0.9, true), 1.0);
        assert_eq!(travelled(3.0, true), 1.0);
    }
}
