//! Developer aid: runs chaos over a range of seeds and prints violations.
use raftlab_core::sim::chaos::{Chaos, ChaosOptions};
use raftlab_core::sim::{Sim, SimConfig};
fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (from, to, until) = (args[0], args[1], args[2]);
    let mut bad = 0;
    for seed in from..=to {
        let nodes = 3 + seed % 5;
        let cfg = SimConfig {
            snapshot_every: 50,
            snapshot_chunk_bytes: 64,
            ..SimConfig::default()
        };
        let mut sim = Sim::new(seed, nodes, cfg).unwrap();
        Chaos::new(seed, ChaosOptions::default()).drive(&mut sim, until);
        let report = sim.checker().clone().finish();
        if let Some(v) = report.violations.first() {
            bad += 1;
            println!(
                "seed {seed} nodes {nodes}: {} violations; first: {v:?}",
                report.violations.len()
            );
        }
    }
    println!("{bad} bad seeds");
}
