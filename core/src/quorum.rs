//! Membership and quorum arithmetic: who votes, who only listens, and what a
//! majority means, including the joint majority of thesis §4.3.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::types::{Index, NodeId};

/// A configuration: voters, learners, and while joint the outgoing voters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// Voters of the (incoming) configuration.
    pub voters: BTreeSet<NodeId>,
    /// Non-voting members that receive the log (thesis §4.2.1).
    pub learners: BTreeSet<NodeId>,
    /// Voters of C_old while in joint consensus; empty otherwise.
    pub outgoing: BTreeSet<NodeId>,
}

/// The outcome of counting votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteResult {
    /// Enough granted votes.
    Won,
    /// Enough refusals that winning is impossible.
    Lost,
    /// Not decided yet.
    Pending,
}

impl Membership {
    /// A plain configuration of `voters`.
    pub fn with_voters(voters: impl IntoIterator<Item = NodeId>) -> Self {
        Membership {
            voters: voters.into_iter().collect(),
            ..Default::default()
        }
    }

    /// True while C_old,new is in force.
    pub fn is_joint(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// Whether `id` votes in either half of the configuration.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.contains(&id) || self.outgoing.contains(&id)
    }

    /// Whether `id` is a learner.
    pub fn is_learner(&self, id: NodeId) -> bool {
        self.learners.contains(&id) && !self.is_voter(id)
    }

    /// Whether `id` belongs to the configuration at all.
    pub fn contains(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.learners.contains(&id)
    }

    /// Every member, voters and learners, sorted.
    pub fn members(&self) -> BTreeSet<NodeId> {
        self.voters
            .iter()
            .chain(self.outgoing.iter())
            .chain(self.learners.iter())
            .copied()
            .collect()
    }

    /// The halves a decision needs a majority of: one, or two while joint.
    fn halves(&self, learners_count: bool) -> Vec<BTreeSet<NodeId>> {
        let widen = |set: &BTreeSet<NodeId>| {
            if learners_count {
                set.union(&self.learners).copied().collect()
            } else {
                set.clone()
            }
        };
        let mut halves = vec![widen(&self.voters)];
        if self.is_joint() {
            halves.push(widen(&self.outgoing));
        }
        halves
    }

    /// Counts votes: `granted(id)` is `Some(true)` for a yes, `Some(false)`
    /// for a no, `None` while unanswered. Joint configurations need a
    /// majority in both halves (thesis §4.3). `learners_count` is the
    /// `learner-in-quorum` bug.
    pub fn vote_result(
        &self,
        granted: impl Fn(NodeId) -> Option<bool>,
        learners_count: bool,
    ) -> VoteResult {
        let mut result = VoteResult::Won;
        for half in self.halves(learners_count) {
            if half.is_empty() {
                continue;
            }
            let yes = half.iter().filter(|&&id| granted(id) == Some(true)).count();
            let no = half.iter().filter(|&&id| granted(id) == Some(false)).count();
            let need = half.len() / 2 + 1;
            if no > half.len() - need {
                return VoteResult::Lost;
            }
            if yes < need {
                result = VoteResult::Pending;
            }
        }
        result
    }

    /// The highest index acknowledged by a majority (of both halves while
    /// joint), given each member's match index.
    pub fn committed_index(&self, matched: impl Fn(NodeId) -> Index, learners_count: bool) -> Index {
        let mut committed = Index::MAX;
        let mut any = false;
        for half in self.halves(learners_count) {
            if half.is_empty() {
                continue;
            }
            any = true;
            let mut acks: Vec<Index> = half.iter().map(|&id| matched(id)).collect();
            acks.sort_unstable_by(|a, b| b.cmp(a));
            let need = half.len() / 2 + 1;
            committed = committed.min(acks[need - 1]);
        }
        if any {
            committed
        } else {
            0
        }
    }

    /// Whether the nodes for which `acked` holds form a quorum.
    pub fn has_quorum(&self, acked: impl Fn(NodeId) -> bool, learners_count: bool) -> bool {
        self.vote_result(|id| Some(acked(id)), learners_count) == VoteResult::Won
    }
}
