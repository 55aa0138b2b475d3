use raftlab_core::sim::chaos::{Chaos, ChaosOptions};
use raftlab_core::sim::{Sim, SimConfig};
fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (seed, until, from, to) = (args[0], args[1], args[2], args[3]);
    let mut sim = Sim::new(seed, 5, SimConfig::default()).unwrap();
    Chaos::new(seed, ChaosOptions::default()).drive(&mut sim, until);
    for v in sim.violations().iter().take(3) {
        println!("VIOLATION {v:?}");
    }
    for e in sim.events() {
        if e.seq >= from && e.seq <= to {
            let l = e.to_line();
            if !l.contains("\"body\"") || l.contains("vote") {
                println!("{}", l.chars().take(300).collect::<String>());
            }
        }
    }
}
