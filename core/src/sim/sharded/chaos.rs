//! Chaos in sharded mode: crashes (leaders preferred), restarts, partitions
//! across all groups, cut links, forced elections, transfers, snapshots and
//! slot moves, and membership changes inside groups (learners added and
//! promoted, voters removed — leaders too — and joint changes replacing a
//! voter), under client load on a few keys spread over the groups. It
//! acts through `ShardedSim::act`, so every fault is an `action` in the
//! trace. The run ends with a calm period (`ShardedAction::Calm`: heal,
//! restart everyone, no faults or slot moves), so that the migrations and
//! operations in progress can finish and every group can converge.

use crate::meta::{slot_of, GroupId};
use crate::types::NodeId;

use super::{ShardNode, ShardedAction, ShardedSim};
use crate::sim::chaos::{calm_start, Draws, DEFAULT_CALM_MS};

/// How hard sharded chaos pushes.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardedChaosOptions {
    /// Mean ms between faults.
    pub fault_every_ms: u64,
    /// Mean ms between slot moves.
    pub move_every_ms: u64,
    /// Number of clients.
    pub clients: u64,
    /// Mean ms between a client's operations.
    pub client_every_ms: u64,
    /// Keys clients use (`k0`, `k1`, ...).
    pub keys: u64,
    /// Whether faults include membership changes inside groups.
    pub membership: bool,
    /// Whether there are faults and slot moves at all (false: client load
    /// only).
    pub faults: bool,
    /// Length of the calm period that ends a run with faults, ms (see
    /// `sim::chaos::calm_start`).
    pub calm_ms: u64,
}

impl Default for ShardedChaosOptions {
    fn default() -> Self {
        ShardedChaosOptions {
            fault_every_ms: 300,
            move_every_ms: 700,
            clients: 4,
            client_every_ms: 120,
            keys: 6,
            membership: true,
            faults: true,
            calm_ms: DEFAULT_CALM_MS,
        }
    }
}

/// A seeded source of sharded faults, separate from the simulator's RNG.
pub struct ShardedChaos {
    draws: Draws,
    opts: ShardedChaosOptions,
    next_fault: u64,
    next_move: u64,
    next_client: Vec<u64>,
}

impl ShardedChaos {
    /// Chaos for `seed`.
    pub fn new(seed: u64, opts: ShardedChaosOptions) -> Self {
        let mut draws = Draws::new(seed, 0x54a2_dc4a_05ee_d5ad);
        let next_client = (0..opts.clients)
            .map(|_| draws.first_time(100, opts.client_every_ms))
            .collect();
        ShardedChaos {
            next_fault: draws.first_time(300, opts.fault_every_ms),
            next_move: draws.first_time(200, opts.move_every_ms),
            draws,
            opts,
            next_client,
        }
    }

    /// Runs `sim` to `until` ms, acting at random times; with faults, the
    /// run ends with a calm period.
    pub fn drive(&mut self, sim: &mut ShardedSim, until: u64) {
        let calm_at = calm_start(until, self.opts.calm_ms);
        let mut calmed = false;
        loop {
            let next_client = self.next_client.iter().copied().min().unwrap_or(u64::MAX);
            let next_calm = if self.opts.faults && !calmed {
                calm_at
            } else {
                u64::MAX
            };
            let next = self
                .next_fault
                .min(self.next_move)
                .min(next_client)
                .min(next_calm)
                .min(until);
            sim.run_until(next);
            // A stalled run goes no further (`ShardedSim::stalled` says why).
            if next >= until || sim.stalled().is_some() {
                return;
            }
            let now = sim.now();
            if next_calm <= next {
                calmed = true;
                let _ = sim.act(ShardedAction::Calm { ms: until - now });
            }
            if self.next_fault <= next {
                if now < calm_at && self.opts.faults {
                    self.fault(sim);
                }
                self.next_fault = self.draws.next_time(now, self.opts.fault_every_ms);
            }
            if self.next_move <= next {
                if now < calm_at && self.opts.faults {
                    self.move_slot(sim);
                }
                self.next_move = self.draws.next_time(now, self.opts.move_every_ms);
            }
            for c in 0..self.next_client.len() {
                if self.next_client[c] <= next {
                    self.client_op(sim, c as u64 + 1);
                    self.next_client[c] = self.draws.next_time(now, self.opts.client_every_ms);
                }
            }
        }
    }

    fn client_op(&mut self, sim: &mut ShardedSim, client: u64) {
        if sim.client_busy(client) {
            return;
        }
        let (key, op, value) = self.draws.client_op(self.opts.keys);
        let _ = sim.act(ShardedAction::Client {
            client,
            op,
            key,
            value,
        });
    }

    /// Moves the slot of one of the clients' keys to another group.
    fn move_slot(&mut self, sim: &mut ShardedSim) {
        let key = format!("k{}", self.draws.below(self.opts.keys.max(1)));
        let slot = slot_of(&key);
        let owner = sim.settled_owner(slot);
        let others: Vec<GroupId> = sim
            .groups()
            .iter()
            .map(|g| g.id)
            .filter(|&g| g != 0 && g != owner)
            .collect();
        if let Some(to) = self.draws.pick(&others) {
            let _ = sim.act(ShardedAction::MoveSlot { slot, to });
        }
    }

    fn fault(&mut self, sim: &mut ShardedSim) {
        let up: Vec<NodeId> = sim
            .nodes()
            .iter()
            .filter(|(_, n)| matches!(n, ShardNode::Up(_)))
            .map(|(&id, _)| id)
            .collect();
        let down: Vec<NodeId> = sim
            .nodes()
            .iter()
            .filter(|(_, n)| matches!(n, ShardNode::Down(..)))
            .map(|(&id, _)| id)
            .collect();
        let all: Vec<NodeId> = sim.nodes().keys().copied().collect();
        let group_ids: Vec<GroupId> = sim.groups().iter().map(|g| g.id).collect();
        let Some(g) = self.draws.pick(&group_ids) else {
            return;
        };
        let leader = sim.leader(g);
        let members = sim.group_nodes(g).to_vec();
        let kinds = if self.opts.membership { 24 } else { 20 };
        let action = match self.draws.below(kinds) {
            0..=3 => {
                // Crash, the group's leader half of the time; keep a
                // majority of each group up most of the time.
                let down_here = members.iter().filter(|n| down.contains(n)).count();
                if down_here * 2 + 2 > members.len() && self.draws.below(4) != 0 {
                    None
                } else {
                    let node = if self.draws.below(2) == 0 {
                        leader
                    } else {
                        None
                    };
                    let live: Vec<NodeId> =
                        members.iter().copied().filter(|n| up.contains(n)).collect();
                    node.or_else(|| self.draws.pick(&live))
                        .map(|node| ShardedAction::Crash { node })
                }
            }
            4..=7 => self
                .draws
                .pick(&down)
                .map(|node| ShardedAction::Restart { node }),
            8 => {
                let live: Vec<NodeId> =
                    members.iter().copied().filter(|n| up.contains(n)).collect();
                self.draws
                    .pick(&live)
                    .map(|node| ShardedAction::Timeout { node })
            }
            9 | 10 => {
                // Split everything in two at random.
                let shuffled = self.draws.shuffled(&all);
                let cut = 1 + self.draws.below(shuffled.len() as u64 - 1) as usize;
                let (a, b) = shuffled.split_at(cut);
                Some(ShardedAction::Partition {
                    groups: vec![a.to_vec(), b.to_vec()],
                })
            }
            11 => {
                // Isolate this group's leader.
                leader.map(|l| ShardedAction::Partition {
                    groups: vec![vec![l], all.iter().copied().filter(|&n| n != l).collect()],
                })
            }
            12..=14 => Some(ShardedAction::Heal),
            15 => {
                let from = self.draws.pick(&members);
                let to = self.draws.pick(&members);
                match (from, to) {
                    (Some(from), Some(to)) if from != to => Some(ShardedAction::Cut { from, to }),
                    _ => None,
                }
            }
            16 => {
                let target = self.draws.pick(&members);
                match (leader, target) {
                    (Some(l), Some(t)) if l != t => Some(ShardedAction::Transfer { to: t }),
                    _ => None,
                }
            }
            17..=19 => {
                let live: Vec<NodeId> =
                    members.iter().copied().filter(|n| up.contains(n)).collect();
                self.draws
                    .pick(&live)
                    .map(|node| ShardedAction::Snapshot { node })
            }
            _ => self.membership_change(sim, g),
        };
        if let Some(a) = action {
            let _ = sim.act(a);
        }
    }
}

impl ShardedChaos {
    /// A membership change in group `g` that keeps its voters around the
    /// size it started with: a learner is promoted; below that size a node
    /// joins as a learner; above it a voter leaves; at it, one of a new
    /// learner, removing a voter (the leader a third of the time), or a
    /// joint change replacing a voter by a new node.
    fn membership_change(&mut self, sim: &ShardedSim, g: GroupId) -> Option<ShardedAction> {
        let leader = sim.leader(g)?;
        let config = sim.member_config(leader)?.clone();
        let size = if g == 0 {
            sim.config().meta_nodes
        } else {
            sim.config().nodes_per_group
        } as usize;
        // A node to add: a fresh id, else one the group removed earlier.
        let spare = sim.fresh_node_id(g).or_else(|| {
            let gone: Vec<NodeId> = sim
                .group_nodes(g)
                .iter()
                .copied()
                .filter(|&n| !config.contains(n))
                .collect();
            self.draws.pick(&gone)
        });
        if let Some(&l) = config.learners.iter().next() {
            return Some(ShardedAction::AddVoter { group: g, node: l });
        }
        let voters: Vec<NodeId> = config.voters.iter().copied().collect();
        let remove = |chaos: &mut Self| {
            let node = if chaos.draws.below(3) == 0 {
                Some(leader)
            } else {
                chaos.draws.pick(&voters)
            };
            node.map(|node| ShardedAction::Remove { node })
        };
        match voters.len().cmp(&size) {
            std::cmp::Ordering::Less => {
                spare.map(|node| ShardedAction::AddLearner { group: g, node })
            }
            std::cmp::Ordering::Greater => remove(self),
            std::cmp::Ordering::Equal => match self.draws.below(3) {
                0 => spare.map(|node| ShardedAction::AddLearner { group: g, node }),
                1 if voters.len() > 1 => remove(self),
                _ => {
                    let out = self.draws.pick(&voters)?;
                    let node = spare?;
                    let mut next: Vec<NodeId> =
                        voters.iter().copied().filter(|&v| v != out).collect();
                    next.push(node);
                    Some(ShardedAction::Joint {
                        group: g,
                        voters: next,
                    })
                }
            },
        }
    }
}
