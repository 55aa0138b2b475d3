//! Elections and votes: the rules a `role` or `vote` event could break.
//!
//! * `term_monotonicity` (§5.1, Figure 2): a term never goes down, and it
//!   rises only by a node's own election or a message carrying the new term.
//! * `prevote_term_unchanged` (thesis §9.6): prevote requests and granted
//!   prevote answers never raise a term.
//! * `one_vote_per_term` (§5.2, Figure 2): a node votes once per term, its
//!   own candidacy included, and the vote is persisted across restarts.
//! * `election_safety` (§5.2): at most one leader per term, and no node
//!   follows another leader of that term.
//! * `leader_quorum`, the counting half (§5.2; thesis §4.2.1): a leader won
//!   the votes of a majority of the voters (of each half while joint).
//! * `vote_up_to_date` (§5.4.1): a vote or prevote goes only to a candidate
//!   whose log is at least as up to date as the voter's.
//!
//! The new leader's Leader Completeness (§5.4) is a log rule, in `log.rs`.

use std::collections::BTreeSet;

use super::super::rules::{
    ELECTION_SAFETY, LEADER_QUORUM, ONE_VOTE_PER_TERM, PREVOTE_TERM_UNCHANGED, TERM_MONOTONICITY,
    VOTE_UP_TO_DATE,
};
use super::super::s;
use super::State;
use crate::quorum::{Membership, VoteResult};
use crate::types::{NodeId, Role, Term};

impl State {
    pub(super) fn on_role(
        &mut self,
        seq: u64,
        node: NodeId,
        role: Role,
        term: Term,
        leader: Option<NodeId>,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        let delivered = self.delivered.clone();
        let n = self.node(node);
        let old = n.term;
        if n.seen_role && term < old {
            v(
                TERM_MONOTONICITY,
                format!(
                    "{}'s term went down from {old} to {term}; a term only grows, and it is persisted, so not even a restart lowers it (§5.1, Figure 2)",
                    s(node)
                ),
                vec![n.term_seq],
            );
        } else if n.seen_role && term > old {
            let own_election = role == Role::Candidate && Some(term) == old.checked_add(1);
            let by_message = delivered
                .as_ref()
                .filter(|d| d.msg.to == node && d.msg.term >= term);
            match by_message {
                _ if own_election => {}
                Some(d) if d.msg.may_raise => {}
                Some(d) => v(
                    PREVOTE_TERM_UNCHANGED,
                    format!(
                        "{}'s term rose from {old} to {term} on receiving a prevote {} from {}; prevotes never change terms (thesis §9.6)",
                        s(node),
                        if d.msg.msg == "request_vote" { "request" } else { "answer" },
                        s(d.msg.from)
                    ),
                    vec![d.msg.seq, d.seq],
                ),
                None => v(
                    TERM_MONOTONICITY,
                    format!(
                        "{}'s term rose from {old} to {term} without an election of its own (which adds exactly 1) or a message carrying term {term} (§5.1)",
                        s(node)
                    ),
                    vec![n.term_seq],
                ),
            }
        }
        n.seen_role = true;
        if term >= n.term {
            if term > n.term {
                n.term_seq = seq;
            }
            n.term = term;
        }
        n.role = role;
        let membership = n.membership.clone();
        self.max_term = self.max_term.max(term);

        if role == Role::Candidate {
            // Rule 10: a candidate votes for itself, recorded or not.
            let n = self.node(node);
            match n.votes.get(&term) {
                Some(&(other, vseq)) if other != node => v(
                    ONE_VOTE_PER_TERM,
                    format!(
                        "{} stood as candidate in term {term}, voting for itself, after giving its term-{term} vote to {} (§5.2: one vote per term)",
                        s(node),
                        s(other)
                    ),
                    vec![vseq],
                ),
                Some(_) => {}
                None => {
                    n.votes.insert(term, (node, seq));
                }
            }
            self.grants.entry((term, node)).or_default().insert(node);
        }

        if role == Role::Leader {
            self.on_new_leader(seq, node, term, &membership, v);
        } else if let Some(l) = leader {
            if let Some(&(actual, lseq)) = self.leaders.get(&term) {
                if actual != l && l != node {
                    v(
                        ELECTION_SAFETY,
                        format!(
                            "{} follows {} as leader of term {term}, but {} is that term's leader (§5.2)",
                            s(node),
                            s(l),
                            s(actual)
                        ),
                        vec![lseq],
                    );
                }
            }
        }
    }

    fn on_new_leader(
        &mut self,
        seq: u64,
        node: NodeId,
        term: Term,
        membership: &Membership,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        self.elected.insert((term, node));
        // §5.2 Election Safety.
        match self.leaders.get(&term) {
            Some(&(other, oseq)) if other != node => v(
                ELECTION_SAFETY,
                format!(
                    "{} and {} were both leader in term {term}; at most one leader per term (§5.2)",
                    s(other),
                    s(node)
                ),
                vec![oseq],
            ),
            Some(_) => {}
            None => {
                self.leaders.insert(term, (node, seq));
            }
        }
        // §5.2: won a majority of real votes (self-vote implicit).
        if !membership.voters.is_empty() {
            let empty = BTreeSet::new();
            let granted = self.grants.get(&(term, node)).unwrap_or(&empty);
            let result = membership.vote_result(
                |id| (id == node || granted.contains(&id)).then_some(true),
                false,
            );
            if result != VoteResult::Won {
                let voters: Vec<String> = granted.iter().map(|&g| s(g)).collect();
                let members: Vec<String> = membership.voters.iter().map(|&g| s(g)).collect();
                v(
                    LEADER_QUORUM,
                    format!(
                        "{} became leader of term {term} with votes from [{}] only, not a majority of the voters [{}]{} (§5.2; learners do not vote, thesis §4.2.1)",
                        s(node),
                        voters.join(", "),
                        members.join(", "),
                        if membership.is_joint() { " and of the outgoing voters" } else { "" }
                    ),
                    vec![],
                );
            }
        }
        self.check_leader_completeness(node, term, v);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_vote(
        &mut self,
        seq: u64,
        node: NodeId,
        candidate: NodeId,
        term: Term,
        prevote: bool,
        granted: bool,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if !granted {
            return;
        }
        // §5.4.1: grant only to an up-to-date candidate. The request is the
        // message just delivered.
        let request = self
            .delivered
            .as_ref()
            .filter(|d| d.msg.to == node && d.msg.from == candidate && d.msg.msg == "request_vote");
        if let Some((d, (c_idx, c_term))) = request.and_then(|d| d.msg.last_log.map(|l| (d, l))) {
            let related = vec![d.msg.seq, d.seq];
            if let Some(n) = self.nodes.get(&node) {
                if let Some(v_term) = n.log.last_term() {
                    let v_idx = n.log.last_index();
                    if (c_term, c_idx) < (v_term, v_idx) {
                        v(
                            VOTE_UP_TO_DATE,
                            format!(
                                "{} granted its {} to {} for term {term}, whose log ends at index {c_idx} term {c_term}, behind its own (index {v_idx} term {v_term}) (§5.4.1)",
                                s(node),
                                if prevote { "prevote" } else { "vote" },
                                s(candidate)
                            ),
                            related,
                        );
                    }
                }
            }
        }
        if prevote {
            return;
        }
        let n = self.node(node);
        match n.votes.get(&term) {
            Some(&(other, vseq)) if other != candidate => v(
                ONE_VOTE_PER_TERM,
                format!(
                    "{} voted for {} in term {term} after already voting for {} in that term; the vote is persisted, so one per term even across restarts (§5.2, Figure 2)",
                    s(node),
                    s(candidate),
                    s(other)
                ),
                vec![vseq],
            ),
            Some(_) => {}
            None => {
                n.votes.insert(term, (candidate, seq));
            }
        }
        self.grants
            .entry((term, candidate))
            .or_default()
            .insert(node);
    }
}
