//! Simulator benchmarks (issue 7), one key=value line each:
//!
//! - `speed [SECS] [WARMUP]`: simulated seconds per wall second for 5 nodes
//!   under chaos with client load (`sim::chaos::Chaos`, default options:
//!   faults, membership changes, 3 clients), default simulator settings,
//!   seed 7, timed after WARMUP untimed runs of the same (default 1). The
//!   page's `?bench=sim` mode runs exactly this in wasm, where the warm-up
//!   matters: the browser optimises a module's functions only once they
//!   are hot.
//! - `memory [SECS] [HISTORY]`: the live heap of a simulator after SECS
//!   simulated seconds (default an hour) of the page's default run (5 nodes,
//!   default settings, no clients), with the history bounded to HISTORY
//!   events (0: unbounded), measured with a counting allocator.
//!
//! Run: `cargo run -p raftlab-core --profile fast --example bench_sim -- speed 60`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;

use raftlab_core::sim::chaos::{Chaos, ChaosOptions};
use raftlab_core::sim::{Sim, SimConfig};

/// The system allocator, counting the bytes live and their peak while
/// `COUNTING` is on (only in `memory` mode: counting costs the `speed`
/// mode almost a tenth of its time).
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        count(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The workload of `speed` (and of the page's `?bench=sim`): 5 nodes,
/// default settings, default chaos, seed 7, `secs` simulated seconds.
fn chaos_run(secs: u64) -> Sim {
    let mut sim = Sim::new(7, 5, SimConfig::default()).expect("valid");
    Chaos::new(7, ChaosOptions::default()).drive(&mut sim, secs * 1000);
    sim
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("speed");
    let num = |i: usize, default: u64| {
        args.get(i)
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(default)
    };
    match mode {
        "speed" => {
            let secs = num(1, 60);
            let warmup = num(2, 1);
            for _ in 0..warmup {
                chaos_run(secs);
            }
            let started = Instant::now();
            let sim = chaos_run(secs);
            let wall = started.elapsed().as_secs_f64();
            println!(
                "impl=raftlab mode=sim target=native nodes=5 sim_secs={secs} warmup={warmup} wall_secs={wall:.3} sim_secs_per_sec={:.1} events={} steps={}",
                secs as f64 / wall,
                sim.position(),
                sim.step_count()
            );
        }
        "memory" => {
            let secs = num(1, 3600);
            let history = num(2, 0);
            // Only what is allocated from here on counts (a block freed
            // later that was allocated before would be subtracted without
            // having been added, so nothing before here is freed after).
            COUNTING.store(true, Ordering::Relaxed);
            let before = LIVE.load(Ordering::Relaxed);
            let started = Instant::now();
            let mut sim = Sim::new(1, 5, SimConfig::default()).expect("valid");
            if history > 0 {
                sim.set_history_limit(Some(history));
            }
            // As the page plays: a frame at a time (here 1 simulated s).
            for s in 1..=secs {
                sim.run_until(s * 1000);
            }
            let wall = started.elapsed().as_secs_f64();
            let live = LIVE.load(Ordering::Relaxed) - before;
            println!(
                "impl=raftlab mode=memory target=native nodes=5 sim_secs={secs} history={history} events={} kept_events={} live_mb={:.1} peak_mb={:.1} wall_secs={wall:.2}",
                sim.position(),
                sim.events().len(),
                live as f64 / 1e6,
                PEAK.load(Ordering::Relaxed) as f64 / 1e6,
            );
        }
        other => {
            eprintln!("unknown mode {other}: speed [SECS] | memory [SECS] [HISTORY]");
            std::process::exit(2);
        }
    }
}
