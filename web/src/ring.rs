//! Where the nodes sit: evenly spaced on a circle, the first at twelve
//! o'clock and the rest clockwise (SVG's y axis points down).

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
}
