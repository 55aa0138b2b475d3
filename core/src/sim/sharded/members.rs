//! Membership changes inside groups, and keeping the meta group's record
//! of each KV group's members in step with them.
//!
//! A change goes through the group's own leader, exactly as in one group
//! (thesis §4.1 one server at a time, §4.3 joint consensus); a node added
//! to a group gets an unused id of the group's range (meta 1..=9, group g
//! 10g+1..=10g+9), so ids stay unique across the cluster and say which
//! group a node is in.
//!
//! Whenever a KV group's configuration changes, a sync task watches it:
//! once a configuration is committed in the group (some node holds it at or
//! below its commit index), it proposes `join` (group, members, epoch = the
//! configuration's log index) to the meta leader, again every
//! `migration_retry_ms` until a meta node applied it. The epoch makes the
//! record move forward only, so a late retry never brings back old members.
//! The task ends when the record is at the newest committed configuration
//! and no live node of the group holds a newer, uncommitted one.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::log::MemLogStore;
use crate::meta::{group_name, GroupId, MetaCommand};
use crate::raft::ConfChange;
use crate::storage::MemStorage;
use crate::types::NodeId;

use super::{ShardNode, ShardedSim};

/// How often a sync task looks at its group, in ms.
const POLL_MS: u64 = 10;
/// How long a sync task waits for a meta leader before trying again, in ms.
const NO_LEADER_MS: u64 = 20;

/// A KV group's members waiting to be recorded by the meta group, for the
/// page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberSync {
    /// The KV group.
    pub group: GroupId,
    /// The newest committed configuration's members, and its log index
    /// (None while the group has not committed the change yet).
    pub target: Option<(u64, Vec<NodeId>)>,
    /// The configuration index the meta group has recorded.
    pub recorded: u64,
    /// `join` proposals made so far (retries included).
    pub proposals: u64,
    /// When the task started, ms.
    pub since: u64,
}

#[derive(Clone, Debug)]
struct Sync {
    view: MemberSync,
    timer: u64,
    next_propose: u64,
}

/// The sync tasks in progress, by group.
#[derive(Clone, Debug, Default)]
pub(super) struct MemberSyncs {
    map: BTreeMap<GroupId, Sync>,
}

impl MemberSyncs {
    pub(super) fn next_timer(&self) -> Option<(u64, GroupId)> {
        self.map.iter().map(|(&g, s)| (s.timer, g)).min()
    }
}

impl ShardedSim {
    /// The range of node ids group `g` draws from.
    fn id_range(g: GroupId) -> std::ops::RangeInclusive<NodeId> {
        let base = u64::from(g) * 10;
        base + 1..=base + 9
    }

    /// An unused node id for a new node of group `g` (the lowest of its
    /// range), or None when the range is used up.
    pub fn fresh_node_id(&self, g: GroupId) -> Option<NodeId> {
        if !self.state.groups.iter().any(|i| i.id == g) {
            return None;
        }
        Self::id_range(g).find(|id| !self.state.group_of.contains_key(id))
    }

    /// The configuration node `id` holds (its latest, committed or not),
    /// when it is running.
    pub fn member_config(&self, id: NodeId) -> Option<&crate::quorum::Membership> {
        self.server(id).map(|s| s.config())
    }

    /// The members of KV group `g` as the meta group has recorded them (its
    /// most advanced live node's view).
    pub fn recorded_members(&self, g: GroupId) -> Option<Vec<NodeId>> {
        self.meta_store().and_then(|m| m.groups.get(&g).cloned())
    }

    /// Member records in progress.
    pub fn member_syncs(&self) -> Vec<MemberSync> {
        self.state
            .syncs
            .map
            .values()
            .map(|s| s.view.clone())
            .collect()
    }

    /// Ids a change to group `g` may name: nodes of `g`, or unused ids of
    /// its range.
    pub(super) fn check_new_ids(&self, g: GroupId, ids: &[NodeId]) -> Result<(), String> {
        if !self.state.groups.iter().any(|i| i.id == g) {
            return Err(format!("{} is not a group of this run", group_name(g)));
        }
        for &id in ids {
            match self.group_of(id) {
                Some(h) if h == g => {}
                Some(h) => return Err(format!("S{id} belongs to {}", group_name(h))),
                None if Self::id_range(g).contains(&id) => {}
                None => {
                    let r = Self::id_range(g);
                    return Err(format!(
                        "a new node of {} has an id from {} to {}",
                        group_name(g),
                        r.start(),
                        r.end()
                    ));
                }
            }
        }
        Ok(())
    }

    /// A change needs the group's leader, and no other change in progress.
    pub(super) fn check_change(&self, g: GroupId) -> Result<(), String> {
        let leader = self
            .leader(g)
            .ok_or_else(|| format!("{} has no leader to ask right now", group_name(g)))?;
        if let Some(s) = self.server(leader) {
            if s.config_index() > s.commit_idx() || s.config().is_joint() {
                return Err(format!(
                    "{}'s last membership change has not committed yet",
                    group_name(g)
                ));
            }
        }
        Ok(())
    }

    /// Proposes `change` to group `g`'s leader; the nodes of `new` that the
    /// run does not know yet are started (empty) once the leader took it.
    pub(super) fn change_members(
        &mut self,
        g: GroupId,
        new: &[NodeId],
        change: ConfChange,
    ) -> Result<(), String> {
        let leader = self
            .leader(g)
            .ok_or_else(|| format!("{} has no leader to ask right now", group_name(g)))?;
        let unknown: Vec<NodeId> = new
            .iter()
            .copied()
            .filter(|id| !self.state.group_of.contains_key(id))
            .collect();
        let r = match self.state.run.nodes.get_mut(&leader) {
            Some(ShardNode::Up(s)) => s.propose_conf_change(change).map_err(|e| e.to_string()),
            _ => Err("the leader is not running".into()),
        };
        // Known before the leader's messages are sent, so that they name
        // the new node's group.
        if r.is_ok() {
            for &id in &unknown {
                self.state.group_of.insert(id, g);
                if let Some(info) = self.state.groups.iter_mut().find(|i| i.id == g) {
                    info.nodes.push(id);
                }
            }
        }
        self.drain(leader);
        r?;
        for id in unknown {
            self.boot(id, MemStorage::new(), MemLogStore::new())?;
        }
        Ok(())
    }

    /// A node of group `g` changed configuration: make sure a sync task
    /// watches the group (KV groups only; the meta group is not recorded).
    pub(super) fn members_changed(&mut self, g: GroupId) {
        if g == 0 || self.state.syncs.map.contains_key(&g) {
            return;
        }
        let now = self.state.run.now;
        let recorded = self.recorded_epoch(g);
        self.state.syncs.map.insert(
            g,
            Sync {
                view: MemberSync {
                    group: g,
                    target: None,
                    recorded,
                    proposals: 0,
                    since: now,
                },
                timer: now + POLL_MS,
                next_propose: now,
            },
        );
    }

    fn recorded_epoch(&self, g: GroupId) -> u64 {
        self.group_nodes(0)
            .iter()
            .filter_map(|&n| self.server(n))
            .filter_map(|s| s.state_machine().meta())
            .map(|m| m.member_epoch.get(&g).copied().unwrap_or(0))
            .max()
            .unwrap_or(0)
    }

    /// The newest configuration committed in group `g` that a live node
    /// knows of, with its index; and whether a live node holds a newer one.
    fn committed_config(&self, g: GroupId) -> (Option<(u64, Vec<NodeId>)>, u64) {
        let live: Vec<_> = self
            .group_nodes(g)
            .iter()
            .filter_map(|&n| self.server(n))
            .collect();
        let best = live
            .iter()
            .filter(|s| s.config_index() <= s.commit_idx())
            .map(|s| (s.config_index(), s.config().members().into_iter().collect()))
            .max_by_key(|(i, _): &(u64, Vec<NodeId>)| *i);
        let newest = live.iter().map(|s| s.config_index()).max().unwrap_or(0);
        (best, newest)
    }

    pub(super) fn sync_timer(&mut self, g: GroupId) {
        let now = self.state.run.now;
        let Some(sync) = self.state.syncs.map.get(&g) else {
            return;
        };
        let next_propose = sync.next_propose;
        let (best, newest) = self.committed_config(g);
        let recorded = self.recorded_epoch(g);
        let best_index = best.as_ref().map_or(0, |b| b.0);
        if recorded >= best_index && newest <= best_index {
            self.state.syncs.map.remove(&g);
            return;
        }
        let mut proposed = None;
        let mut retry_at = next_propose;
        if let Some((epoch, members)) = best.clone().filter(|b| b.0 > recorded) {
            if now >= next_propose {
                let cmd = MetaCommand::Join {
                    group: g,
                    members,
                    epoch,
                };
                proposed = self
                    .leader(0)
                    .and_then(|l| match self.state.run.nodes.get_mut(&l) {
                        Some(ShardNode::Up(s)) => s.propose_entry(cmd.encode()).ok().map(|_| l),
                        _ => None,
                    });
                retry_at = match proposed {
                    Some(_) => now + self.state.cfg.migration_retry_ms,
                    None => now + NO_LEADER_MS,
                };
            }
        }
        if let Some(sync) = self.state.syncs.map.get_mut(&g) {
            sync.view.target = best;
            sync.view.recorded = recorded;
            sync.next_propose = retry_at;
            sync.timer = now + POLL_MS;
            if proposed.is_some() {
                sync.view.proposals += 1;
            }
        }
        if let Some(l) = proposed {
            self.drain(l);
        }
    }
}
