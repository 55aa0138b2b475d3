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
            let no = half
                .iter()
                .filter(|&&id| granted(id) == Some(false))
                .count();
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
    pub fn committed_index(
        &self,
        matched: impl Fn(NodeId) -> Index,
        learners_count: bool,
    ) -> Index {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn votes(pairs: &[(NodeId, bool)]) -> impl Fn(NodeId) -> Option<bool> {
        let map: BTreeMap<NodeId, bool> = pairs.iter().copied().collect();
        move |id| map.get(&id).copied()
    }

    fn joint(old: &[NodeId], new: &[NodeId]) -> Membership {
        Membership {
            voters: new.iter().copied().collect(),
            learners: BTreeSet::new(),
            outgoing: old.iter().copied().collect(),
        }
    }

    #[test]
    fn a_majority_wins_and_a_blocking_minority_loses() {
        let c = Membership::with_voters([1, 2, 3]);
        assert_eq!(
            c.vote_result(votes(&[(1, true)]), false),
            VoteResult::Pending
        );
        assert_eq!(
            c.vote_result(votes(&[(1, true), (2, true)]), false),
            VoteResult::Won
        );
        assert_eq!(
            c.vote_result(votes(&[(1, true), (2, false)]), false),
            VoteResult::Pending
        );
        assert_eq!(
            c.vote_result(votes(&[(2, false), (3, false)]), false),
            VoteResult::Lost
        );
        // Four voters need three: two refusals already lose.
        let c = Membership::with_voters([1, 2, 3, 4]);
        assert_eq!(
            c.vote_result(votes(&[(1, true), (2, true)]), false),
            VoteResult::Pending
        );
        assert_eq!(
            c.vote_result(votes(&[(3, false), (4, false)]), false),
            VoteResult::Lost
        );
        assert_eq!(
            c.vote_result(votes(&[(1, true), (2, true), (3, true)]), false),
            VoteResult::Won
        );
        // Votes from non-members do not count.
        let c = Membership::with_voters([1, 2, 3]);
        assert_eq!(
            c.vote_result(votes(&[(1, true), (9, true)]), false),
            VoteResult::Pending
        );
    }

    #[test]
    fn joint_configuration_needs_a_majority_of_both_halves() {
        let c = joint(&[1, 2, 3], &[3, 4, 5]);
        assert!(c.is_joint());
        let both = votes(&[(1, true), (2, true), (3, true), (4, true)]);
        assert_eq!(c.vote_result(both, false), VoteResult::Won);
        let old_only = votes(&[(1, true), (2, true), (3, true)]);
        assert_eq!(c.vote_result(old_only, false), VoteResult::Pending);
        let new_lost = votes(&[(1, true), (2, true), (4, false), (5, false)]);
        assert_eq!(c.vote_result(new_lost, false), VoteResult::Lost);
        assert!(c.has_quorum(|id| [1, 3, 4].contains(&id), false));
        assert!(!c.has_quorum(|id| [1, 2, 4].contains(&id), false));
    }

    #[test]
    fn committed_index_is_what_a_majority_holds() {
        let c = Membership::with_voters([1, 2, 3, 4, 5]);
        let m: BTreeMap<NodeId, Index> = [(1, 9), (2, 7), (3, 5), (4, 3), (5, 1)].into();
        assert_eq!(c.committed_index(|id| m[&id], false), 5);
        let c = Membership::with_voters([1, 2, 3, 4]);
        assert_eq!(c.committed_index(|id| m[&id], false), 5, "3 of 4 hold 5");
        assert_eq!(Membership::default().committed_index(|_| 9, false), 0);
    }

    #[test]
    fn joint_committed_index_is_the_lower_of_both_halves() {
        let c = joint(&[1, 2, 3], &[4, 5, 6]);
        let m: BTreeMap<NodeId, Index> = [(1, 9), (2, 9), (3, 9), (4, 2), (5, 4), (6, 1)].into();
        assert_eq!(c.committed_index(|id| m[&id], false), 2);
    }

    #[test]
    fn learners_count_only_with_the_learner_in_quorum_bug() {
        let mut c = Membership::with_voters([1, 2, 3]);
        c.learners.extend([4, 5]);
        let m: BTreeMap<NodeId, Index> = [(1, 8), (2, 1), (3, 1), (4, 8), (5, 8)].into();
        assert_eq!(c.committed_index(|id| m[&id], false), 1);
        assert_eq!(c.committed_index(|id| m[&id], true), 8);
        let learners_yes = votes(&[(1, true), (4, true), (5, true)]);
        assert_eq!(c.vote_result(&learners_yes, false), VoteResult::Pending);
        assert_eq!(c.vote_result(&learners_yes, true), VoteResult::Won);
    }

    #[test]
    fn roles_of_members() {
        let mut c = joint(&[1, 2], &[2, 3]);
        c.learners.extend([3, 4]);
        assert!(c.is_voter(1) && c.is_voter(2) && c.is_voter(3));
        assert!(!c.is_learner(3), "a voter is not a learner");
        assert!(c.is_learner(4));
        assert!(c.contains(4) && !c.contains(5));
        assert_eq!(
            c.members().into_iter().collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
    }
}
