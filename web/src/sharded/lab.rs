//! The sharded laboratory: one `ShardedSim` and the visual clock that
//! animates it, like `crate::lab::Lab` for one group. The visual clock `vt`
//! is in simulated ms; the simulator has run every micro-step at or before
//! `floor(vt)`, and messages are drawn where they are at `vt`.

use raftlab_core::meta::{group_name, GroupId, Slot};
use raftlab_core::quorum::Membership;
use raftlab_core::sim::sharded::{ShardNode, ShardedAction, ShardedConfig, ShardedSim};
use raftlab_core::sim::Stalled;
use raftlab_core::storage::Storage;
use raftlab_core::types::{NodeId, Role, Term};

use crate::clock::{step_back_target, Clock};
pub use crate::model::Standing;

/// Most micro-steps a single "step" runs looking for the next event.
const STEP_LIMIT: u64 = 200_000;

/// The simulator and its visual clock.
pub struct ShardedLab {
    sim: ShardedSim,
    vt: f64,
    branches: usize,
}

impl ShardedLab {
    /// A fresh sharded cluster.
    pub fn new(seed: u64, cfg: ShardedConfig) -> Result<ShardedLab, String> {
        Ok(ShardedLab {
            sim: ShardedSim::new(seed, cfg)?,
            vt: 0.0,
            branches: 0,
        })
    }

    /// The simulator, to read.
    pub fn sim(&self) -> &ShardedSim {
        &self.sim
    }

    /// Visual time, simulated ms.
    pub fn vt(&self) -> f64 {
        self.vt
    }

    /// How often the user acted in the past (discarding a known future).
    pub fn branches(&self) -> usize {
        self.branches
    }

    /// Whether a known future lies ahead (after stepping back).
    pub fn in_past(&self) -> bool {
        (self.sim.events().len() as u64) > self.sim.position()
    }

    /// Acts now; acting in the past starts a new branch.
    pub fn act(&mut self, action: ShardedAction) -> Result<(), String> {
        if self.in_past() {
            self.branches += 1;
        }
        let result = self.sim.act(action);
        self.vt = self.vt.max(self.sim.now() as f64);
        result
    }

    /// A node's current term (persisted term when crashed).
    pub fn term_of(&self, id: NodeId) -> Term {
        match self.sim.nodes().get(&id) {
            Some(ShardNode::Up(s)) => s.current_term(),
            Some(ShardNode::Down(st, _)) => st.load_meta().0,
            None => 0,
        }
    }

    /// A node's role, `None` when crashed or unknown.
    pub fn role_of(&self, id: NodeId) -> Option<Role> {
        self.sim.server(id).map(|s| s.state())
    }

    /// The KV group ids (1..).
    pub fn kv_groups(&self) -> Vec<GroupId> {
        self.sim
            .groups()
            .iter()
            .map(|g| g.id)
            .filter(|&g| g != 0)
            .collect()
    }

    /// The KV group a slot would move to by default: the next one after its
    /// settled owner, round the KV groups.
    pub fn next_group(&self, slot: Slot) -> GroupId {
        let groups = self.kv_groups();
        let owner = self.sim.settled_owner(slot);
        let at = groups.iter().position(|&g| g == owner).unwrap_or(0);
        groups
            .get((at + 1) % groups.len().max(1))
            .copied()
            .unwrap_or(1)
    }

    /// A group's id by name ("meta", "g1", ...).
    pub fn group_by_name(&self, name: &str) -> Option<GroupId> {
        self.sim
            .groups()
            .iter()
            .find(|g| g.name == name.trim())
            .map(|g| g.id)
    }

    /// Slots each group owns per the meta group's table.
    pub fn slots_owned(&self, g: GroupId) -> usize {
        self.sim.slot_table().iter().filter(|&&o| o == g).count()
    }
}

impl ShardedLab {
    /// A stalled run goes no further: the visual clock stays where the
    /// simulator's stopped.
    fn hold_if_stalled(&mut self) {
        if self.sim.stalled().is_some() {
            self.vt = self.sim.now() as f64;
        }
    }
}

impl Clock for ShardedLab {
    fn advance(&mut self, dt: f64) {
        if !(dt.is_finite() && dt > 0.0) {
            return;
        }
        self.vt += dt;
        self.sim.run_until(self.vt.floor() as u64);
        self.hold_if_stalled();
    }

    fn forward(&mut self, ms: u64) {
        self.vt = self.vt.floor() + ms as f64;
        self.sim.run_until(self.vt as u64);
        self.hold_if_stalled();
    }

    fn stalled(&self) -> Option<&Stalled> {
        self.sim.stalled()
    }

    /// Gives up after `STEP_LIMIT` micro-steps, or when one does not move
    /// the run.
    fn step(&mut self) {
        for _ in 0..STEP_LIMIT {
            let before = self.sim.step_count();
            if self.sim.step() > 0 || self.sim.step_count() == before {
                break;
            }
        }
        self.vt = self.sim.now() as f64;
    }

    fn step_back(&mut self) {
        let sim = &mut self.sim;
        let target = step_back_target(sim.position(), |p| sim.step_of_event(p));
        sim.goto_step(target);
        self.vt = sim.now() as f64;
    }

    fn goto_event(&mut self, seq: u64) {
        let step = self.sim.step_of_event(seq);
        self.sim.goto_step(step);
        self.vt = self.sim.now() as f64;
    }
}

impl ShardedLab {
    /// The configuration of group `g` as its leader holds it (its latest,
    /// maybe not committed yet), else as its most advanced live node does.
    pub fn group_config(&self, g: GroupId) -> Option<&Membership> {
        let sim = &self.sim;
        sim.leader(g)
            .and_then(|l| sim.member_config(l))
            .or_else(|| {
                sim.group_nodes(g)
                    .iter()
                    .filter_map(|&n| sim.server(n))
                    .max_by_key(|s| s.config_index())
                    .map(|s| s.config())
            })
    }

    /// Where node `id` stands in its group's configuration.
    pub fn standing(&self, id: NodeId) -> Standing {
        let Some(c) = self.sim.group_of(id).and_then(|g| self.group_config(g)) else {
            return Standing::Outside;
        };
        Standing::of(c, id)
    }
}

/// The group's name for the page ("meta", "g1", ...).
pub fn name(g: GroupId) -> String {
    group_name(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use raftlab_core::kv::KvOp;
    use raftlab_core::meta::slot_of;
    use raftlab_core::sim::sharded::MigrationPhase;

    fn lab() -> ShardedLab {
        ShardedLab::new(3, ShardedConfig::default()).expect("valid")
    }

    fn fingerprint(lab: &ShardedLab) -> String {
        let sim = lab.sim();
        let mut out = format!("t{} s{} p{} ", sim.now(), sim.step_count(), sim.position());
        for id in sim.nodes().keys() {
            if let Some(s) = sim.server(*id) {
                out.push_str(&format!(
                    "{id}:{:?}/{}/{} ",
                    s.state(),
                    s.current_term(),
                    s.commit_idx()
                ));
            }
        }
        out
    }

    #[test]
    fn every_group_elects_a_leader() {
        let mut lab = lab();
        lab.forward(1500);
        for g in lab.sim().groups() {
            assert!(lab.sim().leader(g.id).is_some(), "{} has a leader", g.name);
        }
    }

    #[test]
    fn step_back_then_step_is_exact() {
        let mut lab = lab();
        lab.forward(600);
        lab.step();
        let here = fingerprint(&lab);
        lab.step_back();
        assert!(lab.in_past());
        lab.step();
        assert_eq!(fingerprint(&lab), here);
    }

    #[test]
    fn move_a_slot_while_the_source_leader_is_down() {
        let mut lab = lab();
        lab.forward(1500);
        let key = "apple";
        let slot = slot_of(key);
        let from = lab.sim().settled_owner(slot);
        let to = lab.next_group(slot);
        assert_ne!(from, to);
        let leader = lab.sim().leader(from).expect("leader");
        lab.act(ShardedAction::Crash { node: leader }).unwrap();
        lab.act(ShardedAction::MoveSlot { slot, to }).unwrap();
        lab.forward(3000);
        let m = lab.sim().migrations().pop().expect("a migration");
        assert_eq!(m.phase, MigrationPhase::Done);
        assert_eq!(lab.sim().slot_owner(slot), to);
        lab.act(ShardedAction::Client {
            client: 1,
            op: KvOp::Put,
            key: key.into(),
            value: Some("red".into()),
        })
        .unwrap();
        lab.forward(1500);
        let c = lab.sim().clients().into_iter().next().unwrap();
        assert!(c.current.is_none());
        assert_eq!(
            c.done.last().and_then(|o| o.phase),
            Some(raftlab_core::trace::ClientPhase::Ok)
        );
    }

    #[test]
    fn default_destination_is_another_group() {
        let lab = lab();
        for slot in [0, 511, 512, 1023] {
            assert_ne!(lab.next_group(slot), lab.sim().settled_owner(slot));
        }
        assert_eq!(lab.group_by_name("g2"), Some(2));
        assert_eq!(lab.group_by_name("nope"), None);
        assert_eq!(lab.slots_owned(1) + lab.slots_owned(2), 1024);
    }
}
