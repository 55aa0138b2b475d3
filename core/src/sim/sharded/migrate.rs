//! The migration coordinator: moves a slot from group A to group B in four
//! steps, each an idempotent entry through one group's log, proposed to
//! that group's leader and proposed again until some node of the group has
//! applied it (leaders crash meanwhile; a retry applies as a no-op):
//!
//! 1. freeze (A's log): A stops serving the slot;
//! 2. import (B's log): the slot's data and sessions, read from an A node
//!    that applied the freeze (its data for the slot is final from then on);
//! 3. record (meta log): the slot table names B;
//! 4. drop (A's log): A deletes the slot's data.
//!
//! The coordinator only watches applied state, which is committed, so a
//! step is done exactly when it is durable.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::kv::Session;
use crate::meta::{GroupId, MetaCommand, ShardAnswer, ShardCommand, Slot};
use crate::types::{Index, NodeId, Term};

use super::{ShardBug, ShardNode, ShardedSim};

/// How often an unfinished migration looks at the groups, in ms.
const POLL_MS: u64 = 10;
/// Finished migrations remembered.
const FINISHED_KEPT: usize = 32;

/// Where a migration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationPhase {
    /// Waiting for the source group to apply the freeze.
    Freeze,
    /// Waiting for the destination group to apply the import.
    Import,
    /// Waiting for the meta group to record the new owner.
    Record,
    /// Waiting for the source group to drop the slot.
    Drop,
    /// Finished.
    Done,
    /// Refused at the freeze (the source did not own the slot); nothing changed.
    Failed,
}

impl MigrationPhase {
    /// Whether the migration is still running.
    pub fn in_progress(self) -> bool {
        !matches!(self, MigrationPhase::Done | MigrationPhase::Failed)
    }
}

/// One slot move, for the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Migration {
    /// The migration id (rises; entries carry it).
    pub id: u64,
    /// The slot.
    pub slot: Slot,
    /// Source group.
    pub from: GroupId,
    /// Destination group.
    pub to: GroupId,
    /// Where it stands.
    pub phase: MigrationPhase,
    /// When it started, ms.
    pub started_at: u64,
    /// When it finished, ms.
    pub ended_at: Option<u64>,
    /// Proposals made so far (retries included).
    pub proposals: u64,
    /// Keys moved (known after the freeze).
    pub keys: usize,
    /// Why it failed, if it did.
    pub note: Option<String>,
}

#[derive(Clone, Debug)]
struct Mig {
    view: Migration,
    timer: u64,
    next_propose: u64,
    payload: Option<(BTreeMap<String, String>, BTreeMap<u64, Session>)>,
    proposed: Vec<(NodeId, Index, Term)>,
}

/// Every migration of a run.
#[derive(Clone, Debug, Default)]
pub(super) struct Migrations {
    list: Vec<Mig>,
    next_id: u64,
    /// Owner after each finished move, by slot.
    pub(super) settled: BTreeMap<Slot, GroupId>,
}

impl Migrations {
    pub(super) fn next_timer(&self) -> Option<(u64, u64)> {
        self.list
            .iter()
            .filter(|m| m.view.phase.in_progress())
            .map(|m| (m.timer, m.view.id))
            .min()
    }

    pub(super) fn active_for(&self, slot: Slot) -> bool {
        self.list
            .iter()
            .any(|m| m.view.slot == slot && m.view.phase.in_progress())
    }

    pub(super) fn views(&self) -> Vec<Migration> {
        self.list.iter().map(|m| m.view.clone()).collect()
    }

    fn trim(&mut self) {
        let finished = self
            .list
            .iter()
            .filter(|m| !m.view.phase.in_progress())
            .count();
        let mut extra = finished.saturating_sub(FINISHED_KEPT);
        self.list.retain(|m| {
            if extra > 0 && !m.view.phase.in_progress() {
                extra -= 1;
                false
            } else {
                true
            }
        });
    }
}

impl ShardedSim {
    pub(super) fn migration_start(&mut self, slot: Slot, to: GroupId) {
        let now = self.state.run.now;
        let from = self.settled_owner(slot);
        let no_freeze = self.state.cfg.bugs.contains(&ShardBug::NoFreeze);
        // The bug: copy whatever the most advanced source node holds now.
        let payload = no_freeze.then(|| {
            self.live_kv(from)
                .into_iter()
                .max_by_key(|k| k.kv.sessions.values().map(|s| s.last_seq).sum::<u64>())
                .map(|k| (k.slot_data(slot), k.kv.sessions.clone()))
                .unwrap_or_default()
        });
        let m = &mut self.state.migrations;
        m.next_id += 1;
        m.list.push(Mig {
            view: Migration {
                id: m.next_id,
                slot,
                from,
                to,
                phase: if no_freeze {
                    MigrationPhase::Import
                } else {
                    MigrationPhase::Freeze
                },
                started_at: now,
                ended_at: None,
                proposals: 0,
                keys: payload.as_ref().map_or(0, |p| p.0.len()),
                note: None,
            },
            timer: now,
            next_propose: now,
            payload,
            proposed: Vec::new(),
        });
        let id = m.next_id;
        self.migration_timer(id);
    }

    /// Live servers of `group`'s state machines, for inspection.
    fn live_kv(&self, group: GroupId) -> Vec<&crate::meta::ShardKv> {
        self.group_nodes(group)
            .iter()
            .filter_map(|&n| self.server(n))
            .filter_map(|s| s.state_machine().kv())
            .collect()
    }

    /// Whether the current phase is applied somewhere; moves on if so.
    fn migration_advance(&mut self, idx: usize) -> bool {
        let m = &self.state.migrations.list[idx];
        let (id, slot, from, to) = (m.view.id, m.view.slot, m.view.from, m.view.to);
        let done_at = |last: Option<&u64>| last.is_some_and(|l| *l >= id);
        let no_freeze = self.state.cfg.bugs.contains(&ShardBug::NoFreeze);
        match m.view.phase {
            MigrationPhase::Freeze if no_freeze => {
                if !self
                    .live_kv(from)
                    .iter()
                    .any(|k| k.frozen.get(&slot) == Some(&id))
                {
                    return false;
                }
                self.state.migrations.list[idx].view.phase = MigrationPhase::Drop;
            }
            MigrationPhase::Freeze => {
                let Some(kv) = self
                    .live_kv(from)
                    .into_iter()
                    .find(|k| k.frozen.get(&slot) == Some(&id))
                else {
                    return false;
                };
                let data = kv.slot_data(slot);
                let sessions = kv.kv.sessions.clone();
                let m = &mut self.state.migrations.list[idx];
                m.view.keys = data.len();
                m.payload = Some((data, sessions));
                m.view.phase = MigrationPhase::Import;
            }
            MigrationPhase::Import => {
                if !self
                    .live_kv(to)
                    .iter()
                    .any(|k| k.owned.contains(&slot) && done_at(k.last_mig.get(&slot)))
                {
                    return false;
                }
                self.state.migrations.list[idx].view.phase = MigrationPhase::Record;
            }
            MigrationPhase::Record => {
                let recorded = self.group_nodes(0).iter().any(|&n| {
                    self.server(n)
                        .and_then(|s| s.state_machine().meta())
                        .is_some_and(|ms| ms.owner(slot) == to && done_at(ms.slot_mig.get(&slot)))
                });
                if !recorded {
                    return false;
                }
                self.state.migrations.list[idx].view.phase = if no_freeze {
                    MigrationPhase::Freeze
                } else {
                    MigrationPhase::Drop
                };
            }
            MigrationPhase::Drop => {
                if !self
                    .live_kv(from)
                    .iter()
                    .any(|k| done_at(k.last_mig.get(&slot)) && k.frozen.get(&slot) != Some(&id))
                {
                    return false;
                }
                let now = self.state.run.now;
                let m = &mut self.state.migrations.list[idx];
                m.view.phase = MigrationPhase::Done;
                m.view.ended_at = Some(now);
                m.payload = None;
                self.state.migrations.settled.insert(slot, to);
            }
            MigrationPhase::Done | MigrationPhase::Failed => return false,
        }
        let m = &mut self.state.migrations.list[idx];
        m.next_propose = self.state.run.now;
        m.proposed.clear();
        true
    }

    pub(super) fn migration_timer(&mut self, id: u64) {
        let Some(idx) = self
            .state
            .migrations
            .list
            .iter()
            .position(|m| m.view.id == id)
        else {
            return;
        };
        while self.migration_advance(idx) {}
        let now = self.state.run.now;
        let retry = self.state.cfg.migration_retry_ms;
        let m = &self.state.migrations.list[idx];
        if !m.view.phase.in_progress() {
            self.state.migrations.trim();
            return;
        }
        if now >= m.next_propose {
            let (slot, from, to) = (m.view.slot, m.view.from, m.view.to);
            let (group, data) = match m.view.phase {
                MigrationPhase::Freeze => {
                    (from, ShardCommand::Freeze { slot, to, mig: id }.encode())
                }
                MigrationPhase::Import => {
                    let (data, sessions) = m.payload.clone().unwrap_or_default();
                    (
                        to,
                        ShardCommand::Import {
                            slot,
                            from,
                            mig: id,
                            data,
                            sessions,
                        }
                        .encode(),
                    )
                }
                MigrationPhase::Record => (
                    0,
                    MetaCommand::MoveSlot {
                        slot,
                        from,
                        to,
                        mig: id,
                    }
                    .encode(),
                ),
                _ => (from, ShardCommand::DropSlot { slot, mig: id }.encode()),
            };
            let proposed =
                self.leader(group)
                    .and_then(|l| match self.state.run.nodes.get_mut(&l) {
                        Some(ShardNode::Up(s)) => {
                            s.propose_entry(data).ok().map(|(i, t)| (l, i, t))
                        }
                        _ => None,
                    });
            let m = &mut self.state.migrations.list[idx];
            match proposed {
                Some(at) => {
                    m.proposed.push(at);
                    m.view.proposals += 1;
                    m.next_propose = now + retry;
                    self.drain(at.0);
                }
                None => m.next_propose = now + POLL_MS * 2,
            }
        }
        if let Some(m) = self.state.migrations.list.get_mut(idx) {
            m.timer = now + POLL_MS;
        }
    }

    /// A node applied `(index, term)`: a freeze the source refused ends the
    /// migration (nothing changed anywhere).
    pub(super) fn migration_applied(
        &mut self,
        node: NodeId,
        index: Index,
        term: Term,
        output: &[u8],
    ) {
        let now = self.state.run.now;
        for m in &mut self.state.migrations.list {
            if m.view.phase == MigrationPhase::Freeze && m.proposed.contains(&(node, index, term)) {
                let answer = ShardAnswer::decode(output).unwrap_or_default();
                if !answer.ok {
                    m.view.phase = MigrationPhase::Failed;
                    m.view.ended_at = Some(now);
                    m.view.note =
                        Some(format!("the source refused the freeze: {:?}", answer.error));
                }
            }
        }
    }
}
