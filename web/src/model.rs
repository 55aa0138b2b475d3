//! Reading a node the same way whether it runs or lies crashed: a running
//! node is a `Server`; a crashed one is only its disk (term, vote, log).

use raftlab_core::harness::Server;
use raftlab_core::log::LogStore;
use raftlab_core::quorum::Membership;
use raftlab_core::sim::{Sim, SimNode};
use raftlab_core::storage::Storage;
use raftlab_core::types::{Entry, Index, NodeId, Role, Term};

/// A node's log bounds: (base index, base term, last index).
pub fn log_bounds(node: &SimNode) -> (Index, Term, Index) {
    match node {
        SimNode::Up(s) => (
            s.log().base_index(),
            s.log().base_term(),
            s.log().last_index(),
        ),
        SimNode::Down(_, log) => {
            let (bi, bt) = log.base();
            (bi, bt, log.last_index())
        }
    }
}

/// The entry at `index` in a node's log.
pub fn entry_at(node: &SimNode, index: Index) -> Option<Entry> {
    match node {
        SimNode::Up(s) => s.log().get(index),
        SimNode::Down(_, log) => log.get(index),
    }
}

/// A node's current term (persisted term when crashed).
pub fn term_of(node: &SimNode) -> Term {
    match node {
        SimNode::Up(s) => s.current_term(),
        SimNode::Down(st, _) => st.load_meta().0,
    }
}

/// A node's vote in its term (persisted vote when crashed), 0 for none.
pub fn vote_of(node: &SimNode) -> NodeId {
    match node {
        SimNode::Up(s) => s.voted_for(),
        SimNode::Down(st, _) => st.load_meta().1,
    }
}

/// The running server, if up.
pub fn up(node: &SimNode) -> Option<&Server> {
    match node {
        SimNode::Up(s) => Some(s),
        SimNode::Down(..) => None,
    }
}

/// The membership the page treats as the cluster's: the leader's, or else
/// that of the live node with the highest term (ties: the newest config).
pub fn cluster_config(sim: &Sim) -> Membership {
    if let Some(s) = sim.leader().and_then(|l| sim.server(l)) {
        return s.config().clone();
    }
    sim.nodes()
        .values()
        .filter_map(up)
        .max_by_key(|s| (s.current_term(), s.config_index()))
        .map(|s| s.config().clone())
        .unwrap_or_else(|| Membership::with_voters(sim.header().nodes.iter().copied()))
}

/// How a node stands in a configuration (the cluster's, or in sharded mode
/// its group's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// A voter (in either half while joint).
    Voter,
    /// A non-voting learner.
    Learner,
    /// Not in the configuration (removed, or not added yet).
    Outside,
}

impl Standing {
    /// Of `id` in `config`.
    pub fn of(config: &Membership, id: NodeId) -> Standing {
        if config.is_voter(id) {
            Standing::Voter
        } else if config.contains(id) {
            Standing::Learner
        } else {
            Standing::Outside
        }
    }

    /// The word sharded mode's panels use for it.
    pub fn word(self) -> &'static str {
        match self {
            Standing::Voter => "voter",
            Standing::Learner => "learner",
            Standing::Outside => "removed",
        }
    }
}

/// What the ring writes under a node: its role, or why it has none
/// (crashed, a learner, not a member).
pub fn role_word(alive: bool, role: Role, standing: Standing) -> &'static str {
    match (alive, role, standing) {
        (false, _, _) => "crashed",
        (true, Role::Leader, _) => "leader",
        (true, Role::Candidate, _) => "candidate",
        (true, Role::PreCandidate, _) => "pre-candidate",
        (true, Role::Follower, Standing::Learner) => "learner",
        (true, Role::Follower, Standing::Outside) => "not a member",
        (true, Role::Follower, Standing::Voter) => "follower",
    }
}

/// The selected node, if it (still) exists: its id and its node.
pub fn selected(sim: &Sim, id: Option<NodeId>) -> Option<(NodeId, &SimNode)> {
    id.and_then(|id| sim.nodes().get(&id).map(|n| (id, n)))
}

/// The smallest node id from 1 to 9 the simulation has not used.
pub fn free_id(sim: &Sim) -> Option<NodeId> {
    (1..=9).find(|id| !sim.nodes().contains_key(id))
}

/// Majority size of a voter set.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// The size of the snapshot node `id` is receiving, as its sender knows
/// it (the leader's progress for `id`); None when no leader sends one.
pub fn snapshot_total(sim: &Sim, id: NodeId) -> Option<u64> {
    sim.leader()
        .and_then(|l| sim.server(l))
        .and_then(|l| l.progress().get(&id))
        .and_then(|p| match p.state {
            raftlab_core::raft::ReplicaState::Snapshot { total, .. } => Some(total),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use raftlab_core::sim::{Action, SimConfig};

    #[test]
    fn crashed_nodes_keep_term_and_log() {
        let mut sim = Sim::new(5, 3, SimConfig::default()).unwrap();
        sim.run_until(1500);
        let leader = sim.leader().unwrap();
        let term = sim.server(leader).unwrap().current_term();
        let last = sim.server(leader).unwrap().log().last_index();
        sim.act(Action::Crash { node: leader }).unwrap();
        let node = &sim.nodes()[&leader];
        assert!(up(node).is_none());
        assert_eq!(term_of(node), term);
        assert_eq!(log_bounds(node).2, last);
        assert!(entry_at(node, last).is_some());
    }

    #[test]
    fn free_ids_and_majorities() {
        let sim = Sim::new(5, 3, SimConfig::default()).unwrap();
        assert_eq!(free_id(&sim), Some(4));
        assert_eq!(majority(5), 3);
        assert_eq!(majority(4), 3);
        assert_eq!(Standing::of(&cluster_config(&sim), 2), Standing::Voter);
        assert_eq!(Standing::of(&cluster_config(&sim), 7), Standing::Outside);
    }
}
