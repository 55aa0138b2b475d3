//! Elections and leadership: the timers (§5.2), the roles and how a
//! server moves between them, RequestVote and PreVote (§5.2, §5.4.1,
//! thesis §9.6), CheckQuorum and leader stickiness (thesis §6.2, §4.2.3),
//! and leadership transfer (thesis §3.10).

use rand_core::RngCore;

use crate::quorum::VoteResult;
use crate::types::{
    Entry, EntryKind, Index, NodeId, RequestVoteReq, RequestVoteResp, Role, Term, NO_NODE,
};

use super::progress::Progress;

use crate::config::Bug;
use crate::kv::StateMachine;
use crate::log::LogStore;
use crate::network::{Network, RaftEvent};
use crate::storage::Storage;
use crate::why::{LogCheck, PrevoteTerm, ReadFailure, Refusal, RoleWhy, VoteWhy};

use super::{ProposeError, RaftServer};

impl<S: Storage, L: LogStore, M: StateMachine, N: Network> RaftServer<S, L, M, N> {
    // ----- timers -----

    pub(super) fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        let span = self.cfg.election_timeout_max - self.cfg.election_timeout_min + 1;
        self.election_timeout = self.cfg.election_timeout_min + self.rng.next_u64() % span;
    }

    /// Advances time by one tick (ERaftKV `RunCycles`): election timeout for
    /// followers and candidates (§5.2), heartbeats, CheckQuorum and transfer
    /// timeouts for leaders.
    pub fn tick(&mut self) {
        if let Some(c) = self.leader_contact.as_mut() {
            *c = c.saturating_add(1);
        }
        match self.state {
            Role::Leader => self.tick_leader(),
            _ => {
                self.election_elapsed += 1;
                if self.election_elapsed >= self.election_timeout {
                    if self.can_campaign() {
                        self.campaign(
                            false,
                            RoleWhy::Timeout {
                                forced: false,
                                prevote: self.cfg.prevote,
                            },
                        );
                    } else {
                        self.reset_election_timer();
                    }
                }
            }
        }
        self.check_invariants();
    }

    fn tick_leader(&mut self) {
        self.lead.heartbeat_elapsed += 1;
        self.lead.check_quorum_elapsed += 1;
        if let Some((target, spent)) = self.lead.transfer.as_mut() {
            *spent += 1;
            if *spent >= self.cfg.election_timeout_min {
                let target = *target;
                self.lead.transfer = None;
                self.net.event(RaftEvent::Rejected {
                    from: target,
                    msg: "transfer",
                    reason: Refusal::TransferTimedOut { target },
                });
            }
        }
        // Snapshot chunks are stop-and-wait; resend one that got no answer.
        let ids: Vec<NodeId> = self.lead.progress.keys().copied().collect();
        for id in &ids {
            let retry = self.cfg.snapshot_retry_ticks;
            let resend = self
                .lead
                .progress
                .get_mut(id)
                .is_some_and(|pr| pr.tick_snapshot(retry));
            if resend {
                self.send_snapshot_chunk(*id);
            }
        }
        if self.cfg.check_quorum && self.lead.check_quorum_elapsed >= self.cfg.election_timeout_min
        {
            self.lead.check_quorum_elapsed = 0;
            let me = self.id();
            let active = |id: NodeId| {
                id == me || self.lead.progress.get(&id).is_some_and(|p| p.recent_active)
            };
            let ok = self
                .config()
                .has_quorum(active, self.cfg.bugs.has(Bug::LearnerInQuorum));
            for pr in self.lead.progress.values_mut() {
                pr.reset_recent_active();
            }
            if !ok {
                let term = self.current_term;
                self.become_follower(term, NO_NODE, RoleWhy::LostQuorum);
                return;
            }
        }
        if self.lead.heartbeat_elapsed >= self.cfg.heartbeat_interval {
            self.lead.heartbeat_elapsed = 0;
            self.bcast_heartbeat();
        }
    }

    /// Whether this server may start an election. A voter of its latest
    /// configuration may. So may a server whose own removal is in its log
    /// but not committed (thesis §4.2.2): a leader deposed before its
    /// removal committed holds the longest log, so the remaining voters
    /// cannot win without its vote and will not give it; it campaigns
    /// counting votes in its latest configuration (not its own), and if it
    /// wins it commits the removal and steps down. Without this, the
    /// cluster could wait for ever.
    pub(super) fn can_campaign(&self) -> bool {
        let me = self.id();
        (self.config().is_voter(me) || self.config_at(self.commit_idx).is_voter(me))
            && self.snapshot_in_progress.is_none()
            && self.current_term < Term::MAX
    }

    /// Fires the election timeout now, as if it had expired: a student's
    /// "force timeout". Learners and removed servers do not campaign.
    pub fn force_timeout(&mut self) -> Result<(), ProposeError> {
        if self.state == Role::Leader {
            return Err(ProposeError::Invalid(
                "the leader has no election timer".into(),
            ));
        }
        if !self.can_campaign() {
            return Err(ProposeError::Invalid(
                "only a voter may campaign; a learner, or a server whose removal has committed, may not".into(),
            ));
        }
        let prevote = self.cfg.prevote;
        self.campaign(
            false,
            RoleWhy::Timeout {
                forced: true,
                prevote,
            },
        );
        Ok(())
    }

    /// Sends a heartbeat round now, as if the heartbeat interval had run
    /// out: a teacher's "send heartbeat" while timers stand still (manual
    /// delivery). Only a leader sends heartbeats (§5.2).
    pub fn force_heartbeat(&mut self) -> Result<(), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::Invalid(
                "only a leader sends heartbeats".into(),
            ));
        }
        self.lead.heartbeat_elapsed = 0;
        self.bcast_heartbeat();
        self.check_invariants();
        Ok(())
    }

    // ----- roles -----

    fn emit_role(&mut self, reason: RoleWhy) {
        let leader = self.leader_id();
        self.net.event(RaftEvent::Role {
            role: self.state,
            term: self.current_term,
            leader,
            reason,
        });
    }

    pub(super) fn become_follower(&mut self, term: Term, leader: NodeId, reason: RoleWhy) {
        let was_leader = self.state == Role::Leader;
        let changed =
            self.state != Role::Follower || self.current_term != term || self.leader_id != leader;
        if term > self.current_term {
            self.save_meta_data(term, NO_NODE);
        }
        self.state = Role::Follower;
        self.leader_id = leader;
        self.votes.clear();
        if was_leader {
            for read_id in self.lead.step_down() {
                self.net.event(RaftEvent::ReadFailed {
                    read_id,
                    reason: ReadFailure::SteppedDown,
                });
            }
        }
        self.reset_election_timer();
        if changed {
            self.emit_role(reason);
        }
    }

    pub(super) fn campaign(&mut self, transfer: bool, why: RoleWhy) {
        if self.cfg.prevote && !transfer {
            self.become_pre_candidate(why);
        } else {
            self.become_candidate(transfer, why);
        }
    }

    fn become_pre_candidate(&mut self, why: RoleWhy) {
        // Thesis §9.6: ask at term + 1 but change neither term nor vote.
        self.state = Role::PreCandidate;
        self.leader_id = NO_NODE;
        self.leader_contact = None;
        self.votes.clear();
        self.reset_election_timer();
        self.emit_role(why);
        self.request_votes(true, false);
    }

    fn become_candidate(&mut self, transfer: bool, why: RoleWhy) {
        // §5.2: increment the term, vote for self (persisted), ask the others.
        let me = self.id();
        let term = self.current_term.saturating_add(1);
        self.save_meta_data(term, me);
        self.state = Role::Candidate;
        self.leader_id = NO_NODE;
        self.leader_contact = None;
        self.votes.clear();
        self.reset_election_timer();
        self.emit_role(why);
        self.request_votes(false, transfer);
    }

    fn request_votes(&mut self, prevote: bool, transfer: bool) {
        let me = self.id();
        let term = if prevote {
            self.current_term.saturating_add(1)
        } else {
            self.current_term
        };
        self.votes.insert(me, true);
        if self.tally() != VoteResult::Pending {
            self.decide_election(prevote);
            return;
        }
        let req = RequestVoteReq {
            prevote,
            term,
            candidate_id: me,
            last_log_idx: self.log.last_index(),
            last_log_term: self.log.last_term(),
            transfer,
        };
        let voters: Vec<NodeId> = self.voters_to_ask();
        for id in voters {
            self.net.send_request_vote(me, id, req.clone());
        }
    }

    fn voters_to_ask(&self) -> Vec<NodeId> {
        let me = self.id();
        let c = self.config();
        let mut ids: Vec<NodeId> = if self.cfg.bugs.has(Bug::LearnerInQuorum) {
            c.members().into_iter().collect()
        } else {
            c.voters.union(&c.outgoing).copied().collect()
        };
        ids.retain(|&id| id != me);
        ids
    }

    fn tally(&self) -> VoteResult {
        self.config().vote_result(
            |id| self.votes.get(&id).copied(),
            self.cfg.bugs.has(Bug::LearnerInQuorum),
        )
    }

    fn decide_election(&mut self, prevote: bool) {
        match self.tally() {
            VoteResult::Won if prevote => {
                let learners = self.learners_who_granted();
                self.become_candidate(false, RoleWhy::WonPrevote { learners })
            }
            VoteResult::Won => self.become_leader(),
            VoteResult::Lost => {
                let term = self.current_term;
                self.become_follower(term, NO_NODE, RoleWhy::Lost { prevote });
            }
            VoteResult::Pending => {}
        }
    }

    /// The learners whose granted (pre)votes the tally counted: none,
    /// unless the deliberate bug learner-in-quorum counts them (thesis
    /// §4.2.1 says a learner's vote never counts).
    fn learners_who_granted(&self) -> Vec<NodeId> {
        if !self.cfg.bugs.has(Bug::LearnerInQuorum) {
            return Vec::new();
        }
        let c = self.config();
        self.votes
            .iter()
            .filter(|(&id, &granted)| granted && !c.is_voter(id))
            .map(|(&id, _)| id)
            .collect()
    }

    /// Takes leadership after winning an election (ERaftKV `BecomeLeader`):
    /// resets every follower's progress and appends a NoOp of the new term,
    /// whose commit also commits everything before it (§5.4.2, §8).
    fn become_leader(&mut self) {
        let me = self.id();
        self.state = Role::Leader;
        self.leader_id = me;
        self.leader_contact = None;
        self.lead.heartbeat_elapsed = 0;
        self.lead.check_quorum_elapsed = 0;
        self.lead.transfer = None;
        self.lead.elected_config = self.config().clone();
        let learners = self.learners_who_granted();
        self.lead.elected_by = self
            .votes
            .iter()
            .filter(|(_, &g)| g)
            .map(|(&id, _)| id)
            .collect();
        self.votes.clear();
        self.lead.progress.clear();
        self.sync_peers();
        debug_assert!(
            !self.lead.progress.contains_key(&me),
            "a leader's own match index is its last index, not a progress"
        );
        self.emit_role(RoleWhy::Won { learners });
        let term = self.current_term;
        let index = self.log.last_index() + 1;
        self.append_own(Entry {
            term,
            index,
            kind: EntryKind::NoOp,
            data: Vec::new(),
        });
        self.maybe_commit();
        self.bcast_append();
    }

    /// Keeps one progress per member other than self, as the configuration
    /// in force says.
    pub(super) fn sync_peers(&mut self) {
        if self.state != Role::Leader {
            return;
        }
        let me = self.id();
        let members = self.config().members();
        let next = self.log.last_index() + 1;
        self.lead.progress.retain(|id, _| members.contains(id));
        for id in members {
            if id != me {
                self.lead
                    .progress
                    .entry(id)
                    .or_insert_with(|| Progress::new(next));
            }
        }
    }

    /// Whether this server heard from a live leader within the minimum
    /// election timeout: then it refuses to help depose it (thesis §4.2.3,
    /// leader stickiness; paired with CheckQuorum as in raft-rs).
    fn in_lease(&self) -> bool {
        if !self.cfg.check_quorum {
            return false;
        }
        if self.state == Role::Leader {
            return true;
        }
        self.leader_id != NO_NODE
            && self
                .leader_contact
                .is_some_and(|t| t < self.cfg.election_timeout_min)
    }

    /// The up-to-date check of a vote (§5.4.1, in `RaftLog::is_up_to_date`):
    /// how it went if granted, the reason if refused. The deliberate bug
    /// no-up-to-date-check grants without it, and the grant says so.
    fn log_up_to_date(&self, last_idx: Index, last_term: Term) -> Result<LogCheck, VoteWhy> {
        let ok = self.log.is_up_to_date(last_idx, last_term);
        if self.cfg.bugs.has(Bug::NoUpToDateCheck) {
            return Ok(LogCheck::Skipped { behind: !ok });
        }
        if ok {
            return Ok(LogCheck::Passed);
        }
        let mine = self.log.last_term();
        if last_term < mine {
            Err(VoteWhy::LogNewerTerm {
                mine,
                theirs: last_term,
            })
        } else {
            Err(VoteWhy::LogLonger {
                mine: self.log.last_index(),
                theirs: last_idx,
                term: mine,
            })
        }
    }

    /// RequestVote and PreVote (§5.2, §5.4.1, thesis §9.6). Term and vote
    /// are persisted before the answer is returned.
    pub(super) fn handle_request_vote_req(
        &mut self,
        from: NodeId,
        req: &RequestVoteReq,
    ) -> RequestVoteResp {
        let refuse = |s: &mut Self, reason: VoteWhy| {
            let resp = RequestVoteResp {
                prevote: req.prevote,
                request_term: req.term,
                term: s.current_term,
                vote_granted: false,
            };
            s.net.event(RaftEvent::Vote {
                candidate: req.candidate_id,
                term: req.term,
                prevote: req.prevote,
                granted: false,
                reason,
            });
            resp
        };
        if req.candidate_id != from {
            return refuse(
                self,
                VoteWhy::CandidateMismatch {
                    candidate: req.candidate_id,
                    sender: from,
                },
            );
        }
        if req.term < self.current_term {
            return refuse(
                self,
                VoteWhy::TermBehind {
                    asked: req.term,
                    mine: self.current_term,
                },
            );
        }
        if !req.transfer && self.in_lease() && self.leader_id != from {
            let reason = VoteWhy::LeaderAlive {
                leader: (self.state != Role::Leader).then_some(self.leader_id),
                ticks: self.leader_contact.unwrap_or(0),
            };
            return refuse(self, reason);
        }
        if req.prevote {
            let term_check = if req.term > self.current_term {
                if self.cfg.bugs.has(Bug::PrevoteRaisesTerm) {
                    let old = self.current_term;
                    self.become_follower(req.term, NO_NODE, RoleWhy::PrevoteRaisedTerm { from });
                    PrevoteTerm::RaisedMine { old }
                } else {
                    PrevoteTerm::Above
                }
            } else if self.cfg.bugs.has(Bug::PrevoteRaisesTerm) {
                PrevoteTerm::Unchecked {
                    mine: self.current_term,
                }
            } else {
                return refuse(
                    self,
                    VoteWhy::PrevoteTermNotAbove {
                        asked: req.term,
                        mine: self.current_term,
                    },
                );
            };
            let log = match self.log_up_to_date(req.last_log_idx, req.last_log_term) {
                Ok(log) => log,
                Err(why) => return refuse(self, why),
            };
            self.net.event(RaftEvent::Vote {
                candidate: from,
                term: req.term,
                prevote: true,
                granted: true,
                reason: VoteWhy::PrevoteGranted {
                    log,
                    term: term_check,
                },
            });
            return RequestVoteResp {
                prevote: true,
                request_term: req.term,
                term: req.term,
                vote_granted: true,
            };
        }
        if req.term > self.current_term {
            self.become_follower(req.term, NO_NODE, RoleWhy::HigherTermRequest { from });
        }
        // Thesis §4.1: a server answers votes without consulting its own
        // configuration. It may not yet hold the entry that made it a voter;
        // the candidate's configuration decides whose votes count (learners
        // are neither asked nor counted), so refusing here only risks an
        // election no one can win.
        if self.voted_for != NO_NODE && self.voted_for != from {
            let v = self.voted_for;
            return refuse(
                self,
                VoteWhy::AlreadyVoted {
                    candidate: v,
                    term: self.current_term,
                },
            );
        }
        let log = match self.log_up_to_date(req.last_log_idx, req.last_log_term) {
            Ok(log) => log,
            Err(why) => return refuse(self, why),
        };
        let again = self.voted_for == from;
        let forgotten = self
            .forgotten_vote
            .filter(|&(t, _)| !again && t == self.current_term)
            .map(|(_, v)| v);
        // Persist before answering (Figure 2).
        let term = self.current_term;
        self.save_meta_data(term, from);
        self.reset_election_timer();
        self.net.event(RaftEvent::Vote {
            candidate: from,
            term,
            prevote: false,
            granted: true,
            reason: VoteWhy::Granted {
                log,
                again,
                forgotten,
            },
        });
        RequestVoteResp {
            prevote: false,
            request_term: req.term,
            term,
            vote_granted: true,
        }
    }

    /// Counts a (pre)vote answer (§5.2, thesis §9.6). Answers to an older
    /// round are recognised by `request_term` and ignored.
    pub(super) fn handle_request_vote_resp(&mut self, from: NodeId, resp: &RequestVoteResp) {
        if resp.term > self.current_term && !(resp.prevote && resp.vote_granted) {
            self.become_follower(
                resp.term,
                NO_NODE,
                RoleWhy::HigherTermAnswer {
                    from,
                    term: resp.term,
                },
            );
            return;
        }
        let (expected_role, expected_term) = if resp.prevote {
            (Role::PreCandidate, self.current_term.saturating_add(1))
        } else {
            (Role::Candidate, self.current_term)
        };
        if self.state != expected_role || resp.request_term != expected_term {
            self.reject(
                from,
                "request_vote_resp",
                Refusal::StaleVoteAnswer {
                    request_term: resp.request_term,
                    role: self.state,
                    term: self.current_term,
                },
            );
            return;
        }
        self.votes.insert(from, resp.vote_granted);
        self.decide_election(resp.prevote);
    }

    // ----- leadership transfer (thesis §3.10) -----

    /// Hands leadership to `target`: stop taking proposals, bring its log up
    /// to date, then tell it to campaign at once (TimeoutNow, carried by an
    /// AppendEntries with `timeout_now`). Aborts after an election timeout.
    pub fn transfer_leadership(&mut self, target: NodeId) -> Result<(), ProposeError> {
        if self.state != Role::Leader {
            return Err(ProposeError::NotLeader(self.leader_id()));
        }
        if target == self.id() {
            return Err(ProposeError::Invalid("already the leader".into()));
        }
        if !self.config().is_voter(target) {
            return Err(ProposeError::Invalid(format!("S{target} is not a voter")));
        }
        if matches!(self.lead.transfer, Some((t, _)) if t == target) {
            // Already under way: asking again must not extend its deadline,
            // or a retrying client keeps proposals refused for ever
            // (thesis §3.10; raft-rs and etcd ignore it too).
            return Ok(());
        }
        self.lead.transfer = Some((target, 0));
        self.lead.transfer_sent = false;
        self.maybe_send_timeout_now(target);
        self.send_append(target);
        Ok(())
    }

    pub(super) fn maybe_send_timeout_now(&mut self, id: NodeId) {
        let Some((target, _)) = self.lead.transfer else {
            return;
        };
        if target != id {
            return;
        }
        let last = self.log.last_index();
        let caught_up = self
            .lead
            .progress
            .get(&id)
            .is_some_and(|p| p.match_index == last);
        if caught_up && !self.lead.transfer_sent {
            self.lead.transfer_sent = true;
            // Send it as a one-off append from the match point.
            // Caught up: the match is the last index, so this resends nothing.
            if let Some(pr) = self.lead.progress.get_mut(&id) {
                pr.resend_from_match();
            }
            self.send_append_from(id, true);
        }
    }
}
