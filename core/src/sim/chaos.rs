//! The chaos generator: random faults and load, chosen from the cluster's
//! current state so that every feature gets exercised (crashes and restarts,
//! partitions, cut links, loss, duplication and reordering, learners,
//! promotions, removals, joint changes, transfers, snapshots in small chunks,
//! ReadIndex reads, client writes). It acts through `Sim::act`, so every
//! fault is an `action` in the trace and a replay needs no generator.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use crate::kv::KvOp;
use crate::types::{NodeId, Role};

use super::config::SimConfig;
use super::{Action, Sim, SimNode};

/// How hard chaos pushes.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosOptions {
    /// Mean ms between faults.
    pub fault_every_ms: u64,
    /// Number of clients sending operations.
    pub clients: u64,
    /// Mean ms between a client's operations.
    pub client_every_ms: u64,
    /// Include membership changes.
    pub membership: bool,
    /// Keys clients use (small, so histories interleave).
    pub keys: u64,
    /// Inject faults at all. Off, chaos is only a client load generator
    /// (`raftlab run --clients N` without `--chaos`): no faults, no calm.
    pub faults: bool,
    /// Also "bounce" nodes: crash one and restart it a few ms later, as a
    /// process supervisor would, preferring a node that voted in an election
    /// still running. Slow restarts rarely land inside an election, so
    /// without bounces a vote that is not persisted almost never shows.
    pub bounce: bool,
    /// Length of the calm period that ends the run, ms (see `calm_start`):
    /// everything healed and restarted, no faults, clients still writing,
    /// so that the convergence checker can judge whether the cluster
    /// recovered.
    pub calm_ms: u64,
}

/// The default calm period: 10 s of simulated time.
pub const DEFAULT_CALM_MS: u64 = 10_000;

/// When the calm period of a run to `until` ms begins: `calm_ms` before
/// the end, but never before half the run, so that a short run still has
/// faults for its first half.
pub fn calm_start(until: u64, calm_ms: u64) -> u64 {
    until.saturating_sub(calm_ms).max(until / 2)
}

impl Default for ChaosOptions {
    fn default() -> Self {
        ChaosOptions {
            fault_every_ms: 400,
            clients: 3,
            client_every_ms: 150,
            membership: true,
            keys: 4,
            faults: true,
            bounce: false,
            calm_ms: DEFAULT_CALM_MS,
        }
    }
}

/// The random draws of a chaos generator, from a stream of its own (not
/// the simulator's): the single-group and the sharded generator draw alike.
pub(crate) struct Draws {
    rng: ChaCha8Rng,
    /// Puts so far (each writes a value of its own).
    puts: u64,
}

impl Draws {
    /// The stream for `seed`, mixed with the generator's own `salt`.
    pub fn new(seed: u64, salt: u64) -> Draws {
        Draws {
            rng: ChaCha8Rng::seed_from_u64(seed ^ salt),
            puts: 0,
        }
    }

    /// A first time for something done every `every_ms` on average,
    /// `offset` ms into the run.
    pub fn first_time(&mut self, offset: u64, every_ms: u64) -> u64 {
        offset + self.rng.next_u64() % every_ms.max(1)
    }

    /// The next time after `now` for something done every `every_ms` on
    /// average.
    pub fn next_time(&mut self, now: u64, every_ms: u64) -> u64 {
        now + 1 + self.below(every_ms * 2)
    }

    /// A number in `0..n` (0 when `n` is 0 or 1, without a draw).
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            0
        } else {
            self.rng.next_u64() % n
        }
    }

    /// One of `items`, if any.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            Some(items[self.below(items.len() as u64) as usize])
        }
    }

    /// `items` in a random order (Fisher-Yates).
    pub fn shuffled(&mut self, items: &[NodeId]) -> Vec<NodeId> {
        let mut shuffled = items.to_vec();
        for i in (1..shuffled.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            shuffled.swap(i, j);
        }
        shuffled
    }

    /// A client operation on one of `keys` keys (`k0`, `k1`, ...): half
    /// puts, four in ten gets, one in ten deletes.
    pub fn client_op(&mut self, keys: u64) -> (String, KvOp, Option<String>) {
        self.puts += 1;
        let key = format!("k{}", self.below(keys.max(1)));
        let (op, value) = match self.below(10) {
            0..=4 => (KvOp::Put, Some(format!("v{}", self.puts))),
            5..=8 => (KvOp::Get, None),
            _ => (KvOp::Delete, None),
        };
        (key, op, value)
    }
}

/// A seeded source of faults, separate from the simulator's own RNG.
pub struct Chaos {
    draws: Draws,
    opts: ChaosOptions,
    next_fault: u64,
    next_client: Vec<u64>,
    /// Bounced nodes to restart: (time, node).
    restarts: Vec<(u64, NodeId)>,
}

impl Chaos {
    /// Chaos for `seed`.
    pub fn new(seed: u64, opts: ChaosOptions) -> Self {
        let mut draws = Draws::new(seed, 0x5eed_c4a0_5eed_c4a0);
        let next_client = (0..opts.clients)
            .map(|_| draws.first_time(100, opts.client_every_ms))
            .collect();
        Chaos {
            next_fault: draws.first_time(300, opts.fault_every_ms),
            draws,
            opts,
            next_client,
            restarts: Vec::new(),
        }
    }

    /// Runs `sim` to `until` ms, acting at random times. With faults, the
    /// run ends with a calm period (`calm_start`): an `Action::Calm`
    /// heals the network, stops loss and restarts everyone, and no fault
    /// follows, so that the run can converge (checked by
    /// `check::convergence`).
    pub fn drive(&mut self, sim: &mut Sim, until: u64) {
        self.drive_observed(sim, until, &mut |_| {});
    }

    /// `drive`, calling `progress` with the simulated time now and then, so
    /// a long run can show how far it got without changing what it does.
    pub fn drive_observed(&mut self, sim: &mut Sim, until: u64, progress: &mut dyn FnMut(u64)) {
        let calm_at = calm_start(until, self.opts.calm_ms);
        let mut calmed = false;
        loop {
            let next_client = self.next_client.iter().copied().min().unwrap_or(u64::MAX);
            let next_fault = if self.opts.faults {
                self.next_fault
            } else {
                u64::MAX
            };
            let next_restart = self.restarts.iter().map(|r| r.0).min().unwrap_or(u64::MAX);
            let next_calm = if self.opts.faults && !calmed {
                calm_at
            } else {
                u64::MAX
            };
            let next = next_fault
                .min(next_client)
                .min(next_restart)
                .min(next_calm)
                .min(until);
            // A stalled run goes no further (`Sim::stalled` says why).
            let stalled = sim.try_run_until(next).is_err();
            progress(sim.now());
            if next >= until || stalled {
                return;
            }
            let now = sim.now();
            if next_calm <= next {
                calmed = true;
                let _ = sim.act(Action::Calm { ms: until - now });
                self.restarts.clear();
            }
            if next_restart <= next && now < calm_at {
                let (due, later) = self.restarts.iter().partition(|r| r.0 <= next);
                self.restarts = later;
                let due: Vec<(u64, NodeId)> = due;
                for (_, node) in due {
                    let _ = sim.act(Action::Restart { node });
                }
            }
            if next_fault <= next {
                if now < calm_at {
                    self.fault(sim);
                }
                self.next_fault = self.draws.next_time(now, self.opts.fault_every_ms);
            }
            for c in 0..self.next_client.len() {
                if self.next_client[c] <= next {
                    self.client_op(sim, c as u64 + 1);
                    self.next_client[c] = self.draws.next_time(now, self.opts.client_every_ms);
                }
            }
        }
    }

    fn client_op(&mut self, sim: &mut Sim, client: u64) {
        if sim.state.clients.busy(client) {
            return;
        }
        let (key, op, value) = self.draws.client_op(self.opts.keys);
        let _ = sim.act(Action::Client {
            client,
            op,
            key,
            value,
        });
    }

    /// Crashes a node now and schedules its restart within 20 ms.
    fn bounce(&mut self, sim: &mut Sim, up: &[NodeId]) {
        let voting: Vec<NodeId> = up
            .iter()
            .copied()
            .filter(|&id| {
                sim.server(id)
                    .is_some_and(|s| s.voted_for() != 0 && s.leader_id().is_none())
            })
            .collect();
        let Some(node) = self.draws.pick(&voting).or_else(|| self.draws.pick(up)) else {
            return;
        };
        if sim.act(Action::Crash { node }).is_ok() {
            let at = sim.now() + 1 + self.draws.below(20);
            self.restarts.push((at, node));
        }
    }

    fn fault(&mut self, sim: &mut Sim) {
        let up: Vec<NodeId> = sim
            .nodes()
            .iter()
            .filter(|(_, n)| matches!(n, SimNode::Up(_)))
            .map(|(&id, _)| id)
            .collect();
        let down: Vec<NodeId> = sim
            .nodes()
            .iter()
            .filter(|(_, n)| matches!(n, SimNode::Down(..)))
            .map(|(&id, _)| id)
            .collect();
        let all: Vec<NodeId> = sim.nodes().keys().copied().collect();
        if self.opts.bounce && self.draws.below(4) == 0 {
            self.bounce(sim, &up);
            return;
        }
        let leader = sim.leader();
        let config = leader
            .and_then(|l| sim.server(l))
            .map(|s| s.config().clone());
        let action = match self.draws.below(20) {
            0..=2 => {
                // Crash, preferring the leader now and then.
                let node = if self.draws.below(2) == 0 {
                    leader
                } else {
                    None
                };
                node.or_else(|| self.draws.pick(&up))
                    .map(|node| Action::Crash { node })
            }
            3..=5 => self.draws.pick(&down).map(|node| Action::Restart { node }),
            6 => self.draws.pick(&up).map(|node| Action::Timeout { node }),
            7 | 8 => {
                let shuffled = self.draws.shuffled(&all);
                let cut = 1 + self
                    .draws
                    .below((shuffled.len() as u64).saturating_sub(1).max(1))
                    as usize;
                let (a, b) = shuffled.split_at(cut.min(shuffled.len()));
                (!a.is_empty() && !b.is_empty()).then(|| Action::Partition {
                    groups: vec![a.to_vec(), b.to_vec()],
                })
            }
            9 | 10 => Some(Action::Heal),
            11 => {
                let from = self.draws.pick(&all);
                let to = self.draws.pick(&all);
                match (from, to) {
                    (Some(from), Some(to)) if from != to => Some(Action::Cut { from, to }),
                    _ => None,
                }
            }
            12 => {
                let p = |x: u64| x as f64 / 100.0;
                let loss = p(self.draws.below(15));
                let duplicate = p(self.draws.below(10));
                let reorder = p(self.draws.below(20));
                let lo = 1 + self.draws.below(10);
                let hi = lo + self.draws.below(40);
                Some(Action::Network {
                    latency_ms: Some([lo, hi]),
                    loss: Some(loss),
                    duplicate: Some(duplicate),
                    reorder: Some(reorder),
                })
            }
            13 | 14 => self.draws.pick(&up).map(|node| Action::Snapshot { node }),
            15 => leader.and_then(|l| {
                let others: Vec<NodeId> = config
                    .as_ref()
                    .map(|c| c.voters.iter().copied().filter(|&v| v != l).collect())
                    .unwrap_or_default();
                self.draws.pick(&others).map(|to| Action::Transfer { to })
            }),
            _ if !self.opts.membership => None,
            16 | 17 => config.as_ref().and_then(|c| {
                // Grow: add a learner with a fresh id, or promote one.
                if let Some(&l) = c.learners.iter().next() {
                    return Some(Action::AddVoter { node: l });
                }
                let fresh: Vec<NodeId> = (1..=9).filter(|id| !all.contains(id)).collect();
                if c.voters.len() >= 7 {
                    return None;
                }
                self.draws
                    .pick(&fresh)
                    .map(|node| Action::AddLearner { node })
            }),
            18 => config.as_ref().and_then(|c| {
                // Shrink, keeping at least three voters.
                if c.voters.len() <= 3 {
                    return None;
                }
                let voters: Vec<NodeId> = c.voters.iter().copied().collect();
                self.draws.pick(&voters).map(|node| Action::Remove { node })
            }),
            _ => config.as_ref().and_then(|c| {
                // Joint: swap one voter for another known node.
                let voters: Vec<NodeId> = c.voters.iter().copied().collect();
                let outsiders: Vec<NodeId> = all
                    .iter()
                    .copied()
                    .filter(|n| !c.voters.contains(n) && up.contains(n))
                    .collect();
                let out = self.draws.pick(&voters)?;
                let inn = self.draws.pick(&outsiders)?;
                let mut next: Vec<NodeId> = voters.into_iter().filter(|&v| v != out).collect();
                next.push(inn);
                Some(Action::Joint { voters: next })
            }),
        };
        if let Some(a) = action {
            let _ = sim.act(a);
        }
        let _ = Role::Leader;
    }
}

/// The settings of a standard chaos run for `seed`: every fault (membership
/// included), automatic snapshots every 50 entries sent in 64-byte chunks so
/// installs take many messages, and client load. The seed also picks a
/// protocol profile, because some faults only show under some settings: the
/// Figure 8 commit needs a follower catching up over several small
/// AppendEntries, a forgotten vote needs two real candidates in one term
/// (rare with PreVote). So PreVote and CheckQuorum are each on for half the
/// seeds, and batch size, pipelining depth and fault rate vary.
///
/// `raftlab chaos`, `raftlab run --chaos` and the chaos test suites all build
/// their runs here, so a seed reported by one reproduces exactly in the
/// others.
pub fn standard_setup(seed: u64, bugs: &[crate::config::Bug]) -> (SimConfig, ChaosOptions) {
    // Its own stream, so the profile is independent of the node count.
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x9f0f_11e5_ca05_0001);
    let mut pick = |n: u64| r.next_u64() % n;
    let prevote = pick(2) == 0;
    let check_quorum = pick(2) == 0;
    let max_entries_per_msg = [1, 4, 16, 64][pick(4) as usize];
    let max_inflight = [2, 8][pick(2) as usize];
    let fault_every_ms = [150, 300, 500][pick(3) as usize];
    let cfg = SimConfig {
        snapshot_every: 50,
        snapshot_chunk_bytes: 64,
        prevote,
        check_quorum,
        max_entries_per_msg,
        max_inflight,
        bugs: bugs.to_vec(),
        ..SimConfig::default()
    };
    let opts = ChaosOptions {
        fault_every_ms,
        bounce: true,
        ..ChaosOptions::default()
    };
    (cfg, opts)
}

/// A node count in `min..=max` picked from `seed` alone (mixed, so nearby
/// seeds get different sizes), for sweeps over cluster sizes.
pub fn nodes_for_seed(seed: u64, min: u64, max: u64) -> u64 {
    let (lo, hi) = (min.min(max), min.max(max));
    // splitmix64's finaliser: cheap and well spread.
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    lo + z % (hi - lo + 1)
}

/// Runs the standard chaos scenario (`standard_setup`) for `seed` on
/// `nodes` voters up to `until` ms, with the default calm period, and
/// returns the finished simulation.
pub fn run_standard(
    seed: u64,
    nodes: u64,
    until: u64,
    bugs: &[crate::config::Bug],
) -> Result<Sim, String> {
    run_standard_calm(seed, nodes, until, DEFAULT_CALM_MS, bugs)
}

/// `run_standard` with a calm period of `calm_ms` at the end.
pub fn run_standard_calm(
    seed: u64,
    nodes: u64,
    until: u64,
    calm_ms: u64,
    bugs: &[crate::config::Bug],
) -> Result<Sim, String> {
    let (cfg, mut opts) = standard_setup(seed, bugs);
    opts.calm_ms = calm_ms;
    let mut sim = Sim::new(seed, nodes, cfg)?;
    Chaos::new(seed, opts).drive(&mut sim, until);
    Ok(sim)
}
