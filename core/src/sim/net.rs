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
    /// Manual delivery: no message arrives by itself; each waits at its
    /// receiver until a `deliver` action (or until manual delivery ends).
    manual: bool,
    /// While delivering by hand, the nodes' timers run only if this is set.
    timers_run: bool,
    /// Held one-way links: their messages wait until released.
    held: BTreeSet<(NodeId, NodeId)>,
    /// Messages that reached their receiver and wait there, by id (the
    /// order they were sent in).
    waiting: BTreeSet<u64>,
}

/// What became of a message due to arrive.
pub(crate) enum Arrival {
    /// Handed to its receiver.
    Delivered(Flight),
    /// Lost (on the way, link down, receiver crashed).
    Lost(Lost),
    /// Waits at its receiver: delivery is by hand, or its link is held.
    Waits,
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
            manual: false,
            timers_run: true,
            held: BTreeSet::new(),
            waiting: BTreeSet::new(),
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

    /// Message `id`, due now, arrives: the flight to deliver, why it is
    /// lost (lost on the way, link down, receiver not `up`), or that it
    /// waits at its receiver (manual delivery, a held link). None when it
    /// is no longer in flight. A lost message is lost whatever the hand
    /// would have done: the network lost it first.
    pub fn arrive(&mut self, id: u64, now: u64, up: impl Fn(NodeId) -> bool) -> Option<Arrival> {
        let f = self.flights.get(&id)?;
        if !f.lost && (self.manual || self.held.contains(&(f.msg.from, f.msg.to))) {
            let key = (f.arrive_at, id);
            self.arrivals.remove(&key);
            self.waiting.insert(id);
            return Some(Arrival::Waits);
        }
        Some(match self.hand_over(id, now, up)? {
            Ok(f) => Arrival::Delivered(f),
            Err(l) => Arrival::Lost(l),
        })
    }

    /// Takes message `id` off the wire now and hands it over, whether it
    /// waits or is still on its way (a `deliver` action): the flight, or
    /// why it is lost. None when it is not in flight.
    pub fn hand_over(
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
        self.waiting.remove(&id);
        Some(flight)
    }

    /// Whether delivery is by hand.
    pub fn manual(&self) -> bool {
        self.manual
    }

    /// Whether the nodes' timers run (always, unless delivering by hand
    /// with the timers stopped).
    pub fn timers_run(&self) -> bool {
        !self.manual || self.timers_run
    }

    /// Switches manual delivery on or off, and whether timers run while it
    /// is on. Switched off, the messages waiting (except on held links)
    /// arrive now, in the order they were sent.
    pub fn set_manual(&mut self, on: bool, timers_run: bool, now: u64) {
        self.manual = on;
        self.timers_run = timers_run;
        if !on {
            self.resume(now, |_| true);
        }
    }

    /// Held one-way links.
    pub fn held_links(&self) -> &BTreeSet<(NodeId, NodeId)> {
        &self.held
    }

    /// Holds the link `from -> to`: its messages wait at the receiver.
    pub fn hold(&mut self, from: NodeId, to: NodeId) {
        self.held.insert((from, to));
    }

    /// Releases the link `from -> to`: the messages waiting on it arrive
    /// now, oldest first (unless delivery is by hand).
    pub fn release(&mut self, from: NodeId, to: NodeId, now: u64) {
        self.held.remove(&(from, to));
        if !self.manual {
            self.resume(now, |f| (f.msg.from, f.msg.to) == (from, to));
        }
    }

    /// Lets every message go (a calm period): no manual delivery, no held
    /// link; whatever waited arrives now, oldest first.
    pub fn let_go(&mut self, now: u64) {
        self.held.clear();
        self.set_manual(false, true, now);
    }

    /// Puts the waiting messages `pick` chooses (and not on a held link)
    /// back on the arrival list, due `now`, in the order they were sent.
    fn resume(&mut self, now: u64, pick: impl Fn(&Flight) -> bool) {
        let ids: Vec<u64> = self
            .waiting
            .iter()
            .copied()
            .filter(|id| {
                self.flights
                    .get(id)
                    .is_some_and(|f| pick(f) && !self.held.contains(&(f.msg.from, f.msg.to)))
            })
            .collect();
        for id in ids {
            self.waiting.remove(&id);
            if let Some(f) = self.flights.get_mut(&id) {
                f.arrive_at = now;
                self.arrivals.insert((now, id));
            }
        }
    }

    /// Whether message `id` waits at its receiver.
    pub fn is_waiting(&self, id: u64) -> bool {
        self.waiting.contains(&id)
    }

    /// The messages waiting at their receivers, oldest first.
    pub fn waiting(&self) -> impl Iterator<Item = &Flight> {
        self.waiting.iter().filter_map(|id| self.flights.get(id))
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

    /// The oldest message in flight (waiting or on its way) from `from` to
    /// `to` of kind `msg` (and prevote or not, if `prevote` says), for
    /// `deliver_next` and `drop_next`. Ids grow in the order messages are
    /// sent, so the lowest id is the oldest. None matching: why, in words.
    pub fn next_matching(
        &self,
        from: NodeId,
        to: NodeId,
        msg: &str,
        prevote: Option<bool>,
    ) -> Result<u64, String> {
        if !crate::lesson::MESSAGE_KINDS.contains(&msg) {
            return Err(format!(
                "unknown message kind {msg:?}; known: {}",
                crate::lesson::MESSAGE_KINDS.join(", ")
            ));
        }
        self.flights
            .values()
            .find(|f| {
                (f.msg.from, f.msg.to) == (from, to)
                    && f.msg.body.kind() == msg
                    && prevote.is_none_or(|p| f.msg.body.prevote() == Some(p))
            })
            .map(|f| f.id)
            .ok_or_else(|| {
                let what = match prevote {
                    Some(true) => format!("prevote {msg}"),
                    Some(false) => format!("{msg} (not prevote)"),
                    None => msg.to_string(),
                };
                format!("nothing to pick: no {what} from S{from} to S{to} is in flight")
            })
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
