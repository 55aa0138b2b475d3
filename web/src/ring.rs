//! Where the nodes sit: evenly spaced on a circle, the first at twelve
//! o'clock and the rest clockwise (SVG's y axis points down), and the lanes
//! messages travel along between them.

use std::f64::consts::{FRAC_PI_2, TAU};

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

/// The point a fraction `f` (clamped to [0, 1]) of the way along a lane.
pub fn along(lane: ((f64, f64), (f64, f64)), f: f64) -> (f64, f64) {
    let f = f.clamp(0.0, 1.0);
    let ((x0, y0), (x1, y1)) = lane;
    (x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
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
}
