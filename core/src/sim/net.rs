//! The simulated network both simulators run on: messages in flight, the
//! links (partition and one-way cuts), messages recently lost, and the run's
//! random draws (latency, loss, duplication, reordering, node seeds). `Sim`
//! and `ShardedSim` keep one each and differ only in how they trace what it
//! does, so the draws happen in one place and in one order.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use crate::trace::DropReason;
use crate::types::{Message, NodeId};

use super::config::SimConfig;

/// How long dropped messages are remembered for drawing, in ms.
const DROP_MEMORY_MS: u64 = 400;

/// A message on the wire, drawn at its exact position from these times.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    /// The trace id of its `send`.
    pub id: u64,
    /// The message.
    pub msg: Message,
    /// When it was sent.
    pub sent_at: u64,
    /// When it arrives (or is lost, for `lost`).
    pub arrive_at: u64,
    /// True when the network will lose it on the way (at `arrive_at`).
    pub lost: bool,
}

/// A message the network lost, remembered briefly so the page can fade it
/// out where it vanished.
#[derive(Clone, Debug, PartialEq)]
pub struct Dropped {
    /// The flight as it was.
    pub flight: Flight,
    /// When it vanished.
    pub at: u64,
    /// Why.
    pub reason: DropReason,
}

/// A message the network just lost, for the trace's `drop` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lost {
    /// The message's trace id.
    pub id: u64,
    /// Its sender (the sharded trace files the drop under its group).
    pub from: NodeId,
    /// Why it was lost.
    pub reason: DropReason,
}

/// The network of one run, and the run's random number generator.
#[derive(Clone)]
pub(crate) struct Net {
    rng: ChaCha8Rng,
    flights: BTreeMap<u64, Flight>,
    /// Arrival order: (arrive_at, id).
    arrivals: BTreeSet<(u64, u64)>,
    /// Kept in the order they vanished (so also by `at`).
    dropped: Vec<Dropped>,
    next_msg_id: u64,
    partition: Option<Vec<Vec<NodeId>>>,
    cut: BTreeSet<(NodeId, NodeId)>,
}

impl Net {
    /// An empty, fully connected network drawing from `seed`.
    pub fn new(seed: u64) -> Net {
        Net {
            rng: ChaCha8Rng::seed_from_u64(seed),
            flights: BTreeMap::new(),
            arrivals: BTreeSet::new(),
            dropped: Vec::new(),
            next_msg_id: 1,
            partition: None,
            cut: BTreeSet::new(),
        }
    }

    /// A seed for a node's own RNG, drawn from the run's.
    pub fn node_seed(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        // 53 random bits as a fraction in [0, 1): same on every platform.
        let x = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }

    fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            0
        } else {
            self.rng.next_u64() % n
        }
    }

    /// Puts `msg` on the wire at `now` under the network settings of `cfg`:
    /// once, or twice when duplicated, each copy with its own latency (plus
    /// a hold-back when reordered) and its own chance of being lost on the
    /// way. Returns the copies' message ids, for their `send` events.
    pub fn send(&mut self, cfg: &SimConfig, now: u64, msg: Message) -> Range<u64> {
        let copies = if self.chance(cfg.duplicate) { 2 } else { 1 };
        let first = self.next_msg_id;
        // The last copy takes the message itself: only a duplicate clones.
        let mut msg = Some(msg);
        for copy in 1..=copies {
            let msg = if copy < copies {
                msg.clone()
            } else {
                msg.take()
            };
            let Some(msg) = msg else { break };
            let id = self.next_msg_id;
            self.next_msg_id += 1;
            let [lo, hi] = cfg.latency_ms;
            let mut latency = lo + self.below(hi - lo + 1);
            if self.chance(cfg.reorder) {
                latency += hi.max(1) * (1 + self.below(3));
            }
            let latency = latency.max(1);
            let lost = self.chance(cfg.loss);
            let arrive_at = if lost {
                // Lost somewhere along the way.
                now + 1 + self.below(latency)
            } else {
                now + latency
            };
            self.flights.insert(
                id,
                Flight {
                    id,
                    msg,
                    sent_at: now,
                    arrive_at,
                    lost,
                },
            );
            self.arrivals.insert((arrive_at, id));
        }
        first..self.next_msg_id
    }

    /// The id the next message sent will get.
    pub fn next_id(&self) -> u64 {
        self.next_msg_id
    }

    /// The next arrival due: (time, message id).
    pub fn next_arrival(&self) -> Option<(u64, u64)> {
        self.arrivals.first().copied()
    }

    /// Takes message `id` off the wire at `now`: the flight to deliver, or
    /// why it is lost (lost on the way, link down, receiver not `up`).
    /// None when it is no longer in flight.
    pub fn arrive(
        &mut self,
        id: u64,
        now: u64,
        up: impl Fn(NodeId) -> bool,
    ) -> Option<Result<Flight, Lost>> {
        let flight = self.take(id)?;
        let (from, to) = (flight.msg.from, flight.msg.to);
        let reason = if flight.lost {
            DropReason::Loss
        } else if !self.link_up(from, to) {
            DropReason::Partition
        } else if !up(to) {
            DropReason::Crashed
        } else {
            return Some(Ok(flight));
        };
        Some(Err(self.lose(flight, now, reason)))
    }

    /// Loses message `id` now (a `drop_message` action), if in flight.
    pub fn drop_message(&mut self, id: u64, now: u64) -> Option<Lost> {
        let flight = self.take(id)?;
        Some(self.lose(flight, now, DropReason::Loss))
    }

    fn take(&mut self, id: u64) -> Option<Flight> {
        let flight = self.flights.remove(&id)?;
        self.arrivals.remove(&(flight.arrive_at, id));
        Some(flight)
    }

    fn lose(&mut self, flight: Flight, at: u64, reason: DropReason) -> Lost {
        let lost = Lost {
            id: flight.id,
            from: flight.msg.from,
            reason,
        };
        self.dropped.push(Dropped { flight, at, reason });
        lost
    }

    /// Forgets the messages lost more than a moment before `now`. They are
    /// kept in the order they vanished, so this drops a prefix (a scan of
    /// all of them on every micro-step was a fifth of the simulator's time
    /// under chaos).
    pub fn expire_dropped(&mut self, now: u64) {
        // Runs every micro-step: most of them find nothing to forget.
        if self
            .dropped
            .first()
            .is_none_or(|d| d.at + DROP_MEMORY_MS >= now)
        {
            return;
        }
        let expired = self
            .dropped
            .partition_point(|d| d.at + DROP_MEMORY_MS < now);
        if expired > 0 {
            self.dropped.drain(..expired);
        }
    }

    /// Messages in flight, by id.
    pub fn flights(&self) -> impl Iterator<Item = &Flight> {
        self.flights.values()
    }

    /// Message `id`, if in flight.
    pub fn flight(&self, id: u64) -> Option<&Flight> {
        self.flights.get(&id)
    }

    /// Refuses to drop message `id` unless it is in flight.
    pub fn check_in_flight(&self, id: u64) -> Result<(), String> {
        match self.flight(id) {
            Some(_) => Ok(()),
            None => Err(format!("message {id} is not in flight")),
        }
    }

    /// Messages lost recently.
    pub fn dropped(&self) -> &[Dropped] {
        &self.dropped
    }

    /// The partition in force, if any.
    pub fn partition(&self) -> Option<&Vec<Vec<NodeId>>> {
        self.partition.as_ref()
    }

    /// Cut one-way links.
    pub fn cut_links(&self) -> &BTreeSet<(NodeId, NodeId)> {
        &self.cut
    }

    /// Splits the network into `sides`.
    pub fn set_partition(&mut self, sides: Vec<Vec<NodeId>>) {
        self.partition = Some(sides);
    }

    /// Removes every partition and cut.
    pub fn heal(&mut self) {
        self.partition = None;
        self.cut.clear();
    }

    /// Cuts (`up` false) or restores the one-way link `from -> to`.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, up: bool) {
        if up {
            self.cut.remove(&(from, to));
        } else {
            self.cut.insert((from, to));
        }
    }

    /// Whether the link `from -> to` carries messages now.
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        if self.cut.contains(&(from, to)) {
            return false;
        }
        match &self.partition {
            None => true,
            Some(sides) => {
                let side = |n: NodeId| sides.iter().position(|s| s.contains(&n));
                side(from) == side(to)
            }
        }
    }
}

/// The `send` event of message `id` while it is on the wire (a copy made
/// by duplication: the first copy's event is made before it is sent).
pub(crate) fn send_event(net: &Net, id: u64) -> Option<crate::trace::EventKind> {
    net.flight(id)
        .map(|f| crate::trace::EventKind::send(id, &f.msg))
}

/// Refuses a partition that is not two or more disjoint sides of known nodes.
pub(crate) fn check_partition(
    sides: &[Vec<NodeId>],
    exists: impl Fn(NodeId) -> bool,
) -> Result<(), String> {
    let all: Vec<NodeId> = sides.iter().flatten().copied().collect();
    let set: BTreeSet<NodeId> = all.iter().copied().collect();
    if sides.len() < 2 || set.len() != all.len() || all.iter().any(|n| !exists(*n)) {
        return Err("a partition needs two or more disjoint groups of known nodes".into());
    }
    Ok(())
}

/// Refuses a link that does not join two different known nodes.
pub(crate) fn check_link(
    from: NodeId,
    to: NodeId,
    exists: impl Fn(NodeId) -> bool,
) -> Result<(), String> {
    if from == to || !exists(from) || !exists(to) {
        return Err("a link joins two different known nodes".into());
    }
    Ok(())
}

/// `cfg` with the network settings a `network` action changes (the ones
/// given), checked.
pub(crate) fn network_changed(
    cfg: &SimConfig,
    latency_ms: Option<[u64; 2]>,
    loss: Option<f64>,
    duplicate: Option<f64>,
    reorder: Option<f64>,
) -> Result<SimConfig, String> {
    let mut c = cfg.clone();
    if let Some(l) = latency_ms {
        c.latency_ms = l;
    }
    c.loss = loss.unwrap_or(c.loss);
    c.duplicate = duplicate.unwrap_or(c.duplicate);
    c.reorder = reorder.unwrap_or(c.reorder);
    c.validate()?;
    Ok(c)
}
