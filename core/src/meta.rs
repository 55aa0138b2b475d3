//! Sharding on top of Raft (ERaftKV's MetaServer and KvServer layers on the
//! same `RaftServer`): the meta group's state machine, which keeps the shard
//! groups and the slot table, and the KV groups' state machine, a `KvStore`
//! that serves only the slots it owns and moves slots in and out through its
//! own log.
//!
//! A key lives in one of [`SLOTS`] slots (a stable FNV-1a hash of the key);
//! each slot is owned by one KV group. Moving a slot from group A to group B
//! takes four log entries, each idempotent and tagged with a migration id so
//! that a stale retry never undoes a later move:
//!
//! 1. `freeze` in A's log: A stops serving the slot (writes and reads);
//! 2. `import` in B's log: the slot's data and the client sessions, read
//!    from any A node that applied the freeze; B serves the slot from here;
//! 3. `move_slot` in the meta log: the slot table names B;
//! 4. `drop_slot` in A's log: A deletes the slot's data.
//!
//! Everything here is deterministic and never panics on input: malformed
//! commands are answered with an error.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::kv::{KvCommand, KvOp, KvStore, Session, StateMachine};
use crate::types::{Entry, NodeId};

/// Number of slots keys hash into.
pub const SLOTS: u16 = 1024;

/// A shard group's id: 0 is the meta group (and "no group" in the slot
/// table), KV groups count from 1.
pub type GroupId = u32;

/// A slot number, below [`SLOTS`].
pub type Slot = u16;

/// 64-bit FNV-1a of `bytes`: stable on every platform, so a key's slot is the
/// same natively and in wasm.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The slot of `key`.
pub fn slot_of(key: &str) -> Slot {
    (fnv1a(key.as_bytes()) % u64::from(SLOTS)) as Slot
}

/// The name of group `g` in traces and on the page: "meta", "g1", "g2", ...
pub fn group_name(g: GroupId) -> String {
    if g == 0 {
        "meta".to_string()
    } else {
        format!("g{g}")
    }
}

/// A slot table that spreads the slots evenly over groups `1..=groups`, in
/// contiguous ranges (the bootstrap assignment).
pub fn even_table(groups: GroupId) -> Vec<GroupId> {
    let n = u64::from(groups.max(1));
    (0..u64::from(SLOTS))
        .map(|s| (s * n / u64::from(SLOTS)) as GroupId + 1)
        .collect()
}

// ----- the meta group -----

/// A command in the meta group's log.
// Deserialize is hand-written below (`from_json`): the derived one, an
// internally tagged enum, was 16 KB of the page's wasm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MetaCommand {
    /// A KV group joins (or updates its members).
    Join {
        /// The group.
        group: GroupId,
        /// Its nodes.
        members: Vec<NodeId>,
        /// The log index of the group's configuration these members come
        /// from (its committed membership entry), or 0 for a join outside
        /// any configuration. An update older than the one recorded is
        /// ignored, so a late retry never rolls the record back.
        #[serde(default, skip_serializing_if = "is_zero")]
        epoch: u64,
    },
    /// A KV group leaves; refused while it owns slots.
    Leave {
        /// The group.
        group: GroupId,
    },
    /// Records that `slot` moved from `from` to `to` (migration `mig`).
    MoveSlot {
        /// The slot.
        slot: Slot,
        /// Its owner before.
        from: GroupId,
        /// Its new owner.
        to: GroupId,
        /// The migration id; a move is applied once, and never one older
        /// than the last applied to the slot.
        mig: u64,
    },
    /// Answers the slot table (through the log, hence linearizable).
    QueryShards,
    /// Answers the groups and their members.
    QueryMembers,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl MetaCommand {
    /// The entry payload.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    /// Parses an entry payload.
    pub fn decode(data: &[u8]) -> Result<MetaCommand, String> {
        serde_json::from_slice::<serde_json::Value>(data)
            .map_err(|e| e.to_string())
            .and_then(|v| MetaCommand::from_json(&v))
            .map_err(|e| format!("not a meta command: {e}"))
    }

    /// Reads a command object tagged by `op`; unknown fields are ignored.
    pub fn from_json(v: &serde_json::Value) -> Result<MetaCommand, String> {
        use crate::json::{ids_of, object, pick, small_of, u64_or_zero};
        let o = object(v, "internally tagged enum MetaCommand")?;
        const OPS: [(&str, u8); 5] = [
            ("join", 0),
            ("leave", 1),
            ("move_slot", 2),
            ("query_shards", 3),
            ("query_members", 4),
        ];
        Ok(match pick(o, "op", &OPS)? {
            0 => MetaCommand::Join {
                group: small_of(o, "group")?,
                members: ids_of(o, "members")?,
                epoch: u64_or_zero(o, "epoch")?,
            },
            1 => MetaCommand::Leave {
                group: small_of(o, "group")?,
            },
            2 => MetaCommand::MoveSlot {
                slot: small_of(o, "slot")?,
                from: small_of(o, "from")?,
                to: small_of(o, "to")?,
                mig: crate::json::u64_of(o, "mig")?,
            },
            3 => MetaCommand::QueryShards,
            _ => MetaCommand::QueryMembers,
        })
    }
}

crate::json::deserialize_via_value!(MetaCommand, MetaCommand::from_json);

/// The meta group's answer to a command or read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaAnswer {
    /// False when refused (see `error`).
    pub ok: bool,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// True when the command had already been applied (a retry).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    /// The table's version (it rises with every change).
    pub version: u64,
    /// For shard queries: the owner of every slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<Vec<GroupId>>,
    /// For member queries: the groups and their nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<BTreeMap<GroupId, Vec<NodeId>>>,
}

impl MetaAnswer {
    /// Parses an answer.
    pub fn decode(data: &[u8]) -> Option<MetaAnswer> {
        serde_json::from_slice(data).ok()
    }
    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The meta group's replicated state (ERaftKV MetaServer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaStore {
    /// KV groups and their nodes.
    pub groups: BTreeMap<GroupId, Vec<NodeId>>,
    /// The owner of each slot (0: none), `SLOTS` long.
    pub slots: Vec<GroupId>,
    /// The last migration applied per slot.
    pub slot_mig: BTreeMap<Slot, u64>,
    /// Per group, the configuration index its recorded members come from
    /// (absent: the bootstrap members).
    #[serde(default)]
    pub member_epoch: BTreeMap<GroupId, u64>,
    /// Rises with every change.
    pub version: u64,
}

impl MetaStore {
    /// The bootstrap state: `groups` joined, slots owned as `slots` says.
    /// Like the bootstrap membership it is in no log; every node starts
    /// from it.
    pub fn bootstrap(groups: BTreeMap<GroupId, Vec<NodeId>>, slots: Vec<GroupId>) -> Self {
        let mut slots = slots;
        slots.resize(usize::from(SLOTS), 0);
        MetaStore {
            groups,
            slots,
            slot_mig: BTreeMap::new(),
            member_epoch: BTreeMap::new(),
            version: 1,
        }
    }

    /// The owner of `slot` (0: none or out of range).
    pub fn owner(&self, slot: Slot) -> GroupId {
        self.slots.get(usize::from(slot)).copied().unwrap_or(0)
    }

    fn answer(&self) -> MetaAnswer {
        MetaAnswer {
            ok: true,
            version: self.version,
            ..MetaAnswer::default()
        }
    }

    fn refuse(&self, why: String) -> MetaAnswer {
        MetaAnswer {
            ok: false,
            error: Some(why),
            version: self.version,
            ..MetaAnswer::default()
        }
    }

    /// Applies one command.
    pub fn execute(&mut self, cmd: &MetaCommand) -> MetaAnswer {
        match cmd {
            MetaCommand::Join {
                group,
                members,
                epoch,
            } => {
                if *group == 0 {
                    return self.refuse("group 0 is the meta group".into());
                }
                if members.is_empty() {
                    return self.refuse("a group needs members".into());
                }
                let recorded = self.member_epoch.get(group).copied().unwrap_or(0);
                if self.groups.get(group) == Some(members) || (*epoch > 0 && recorded >= *epoch) {
                    return MetaAnswer {
                        duplicate: true,
                        ..self.answer()
                    };
                }
                self.groups.insert(*group, members.clone());
                if *epoch > 0 {
                    self.member_epoch.insert(*group, *epoch);
                }
                self.version += 1;
                self.answer()
            }
            MetaCommand::Leave { group } => {
                if !self.groups.contains_key(group) {
                    return MetaAnswer {
                        duplicate: true,
                        ..self.answer()
                    };
                }
                let owned = self.slots.iter().filter(|&&g| g == *group).count();
                if owned > 0 {
                    return self.refuse(format!(
                        "{} still owns {owned} slots; move them first",
                        group_name(*group)
                    ));
                }
                self.groups.remove(group);
                self.version += 1;
                self.answer()
            }
            MetaCommand::MoveSlot {
                slot,
                from,
                to,
                mig,
            } => {
                if *slot >= SLOTS {
                    return self.refuse(format!("slot {slot} is out of range"));
                }
                if self.slot_mig.get(slot).is_some_and(|m| m >= mig) {
                    return MetaAnswer {
                        duplicate: true,
                        ..self.answer()
                    };
                }
                if !self.groups.contains_key(to) {
                    return self.refuse(format!("{} has not joined", group_name(*to)));
                }
                let owner = self.owner(*slot);
                if owner != *from {
                    return self.refuse(format!(
                        "slot {slot} is owned by {}, not {}",
                        group_name(owner),
                        group_name(*from)
                    ));
                }
                self.slots[usize::from(*slot)] = *to;
                self.slot_mig.insert(*slot, *mig);
                self.version += 1;
                self.answer()
            }
            MetaCommand::QueryShards => MetaAnswer {
                slots: Some(self.slots.clone()),
                ..self.answer()
            },
            MetaCommand::QueryMembers => MetaAnswer {
                groups: Some(self.groups.clone()),
                ..self.answer()
            },
        }
    }
}

// ----- a KV group -----

/// A command in a KV group's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged: an internally tagged enum cannot read back maps with
// integer keys (the sessions), serde buffers them as strings.
#[serde(rename_all = "snake_case")]
pub enum ShardCommand {
    /// A client's operation, served only for an owned, unfrozen slot.
    Kv(KvCommand),
    /// Stop serving `slot` (it is moving to `to` in migration `mig`).
    Freeze {
        /// The slot.
        slot: Slot,
        /// Where it goes.
        to: GroupId,
        /// The migration id.
        mig: u64,
    },
    /// Take over `slot` with its data and the sessions of its writers.
    Import {
        /// The slot.
        slot: Slot,
        /// Where it comes from.
        from: GroupId,
        /// The migration id.
        mig: u64,
        /// The slot's keys and values.
        data: BTreeMap<String, String>,
        /// Client sessions, so a write retried here after the move applies once.
        sessions: BTreeMap<u64, Session>,
    },
    /// Delete a slot frozen by migration `mig`.
    DropSlot {
        /// The slot.
        slot: Slot,
        /// The migration id.
        mig: u64,
    },
}

impl ShardCommand {
    /// The entry payload.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    /// Parses an entry payload.
    pub fn decode(data: &[u8]) -> Result<ShardCommand, String> {
        serde_json::from_slice(data).map_err(|e| format!("not a shard command: {e}"))
    }
}

/// Why a KV group refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardError {
    /// The group does not own the key's slot: ask the meta group again.
    WrongGroup,
    /// The slot is moving away: ask the meta group again, later.
    Frozen,
    /// The command did not parse.
    Malformed,
}

/// A KV group's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardAnswer {
    /// True when it took effect (or had already, for a retry).
    pub ok: bool,
    /// For get: the value, or null when absent.
    #[serde(default)]
    pub value: Option<String>,
    /// True when a retry was answered from the session.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    /// Why it was refused; a refused command certainly did not take effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ShardError>,
}

impl ShardAnswer {
    /// Parses an answer.
    pub fn decode(data: &[u8]) -> Option<ShardAnswer> {
        serde_json::from_slice(data).ok()
    }
    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    fn refused(e: ShardError) -> Self {
        ShardAnswer {
            error: Some(e),
            ..ShardAnswer::default()
        }
    }
    fn done(duplicate: bool) -> Self {
        ShardAnswer {
            ok: true,
            duplicate,
            ..ShardAnswer::default()
        }
    }
}

/// A KV group's replicated state: the store plus which slots it serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardKv {
    /// This group's id.
    pub group: GroupId,
    /// Data and sessions.
    pub kv: KvStore,
    /// Slots this group owns (frozen ones included, until dropped).
    pub owned: BTreeSet<Slot>,
    /// Owned slots that are moving away, with their migration id.
    pub frozen: BTreeMap<Slot, u64>,
    /// The last migration that touched each slot here.
    pub last_mig: BTreeMap<Slot, u64>,
}

impl ShardKv {
    /// The bootstrap state of group `group` owning `owned`.
    pub fn bootstrap(group: GroupId, owned: BTreeSet<Slot>) -> Self {
        ShardKv {
            group,
            kv: KvStore::new(),
            owned,
            frozen: BTreeMap::new(),
            last_mig: BTreeMap::new(),
        }
    }

    /// Whether the group serves `slot` now (owned and not frozen).
    pub fn serves(&self, slot: Slot) -> bool {
        self.owned.contains(&slot) && !self.frozen.contains_key(&slot)
    }

    /// The keys and values of `slot`.
    pub fn slot_data(&self, slot: Slot) -> BTreeMap<String, String> {
        self.kv
            .data
            .iter()
            .filter(|(k, _)| slot_of(k) == slot)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Applies one command.
    pub fn execute(&mut self, cmd: &ShardCommand) -> ShardAnswer {
        match cmd {
            ShardCommand::Kv(c) => {
                let slot = slot_of(&c.key);
                if !self.owned.contains(&slot) {
                    return ShardAnswer::refused(ShardError::WrongGroup);
                }
                if self.frozen.contains_key(&slot) {
                    return ShardAnswer::refused(ShardError::Frozen);
                }
                let r = self.kv.execute(c);
                ShardAnswer {
                    ok: r.ok,
                    value: if c.op == KvOp::Get { r.value } else { None },
                    duplicate: r.duplicate,
                    error: None,
                }
            }
            ShardCommand::Freeze { slot, mig, .. } => {
                if self.frozen.get(slot) == Some(mig) {
                    return ShardAnswer::done(true);
                }
                if self.last_mig.get(slot).is_some_and(|m| m >= mig) {
                    // A stale retry of an older migration: ignore it.
                    return ShardAnswer::done(true);
                }
                if !self.owned.contains(slot) {
                    return ShardAnswer::refused(ShardError::WrongGroup);
                }
                if self.frozen.contains_key(slot) {
                    return ShardAnswer::refused(ShardError::Frozen);
                }
                self.frozen.insert(*slot, *mig);
                self.last_mig.insert(*slot, *mig);
                ShardAnswer::done(false)
            }
            ShardCommand::Import {
                slot,
                mig,
                data,
                sessions,
                ..
            } => {
                if self.last_mig.get(slot).is_some_and(|m| m >= mig) || self.owned.contains(slot) {
                    // Already imported (a retry), or ours anyway: never
                    // overwrite writes made since.
                    return ShardAnswer::done(true);
                }
                for (k, v) in data {
                    if slot_of(k) == *slot {
                        self.kv.data.insert(k.clone(), v.clone());
                    }
                }
                for (client, s) in sessions {
                    let mine = self.kv.sessions.entry(*client).or_default();
                    if s.last_seq > mine.last_seq {
                        *mine = s.clone();
                    }
                }
                self.owned.insert(*slot);
                self.last_mig.insert(*slot, *mig);
                ShardAnswer::done(false)
            }
            ShardCommand::DropSlot { slot, mig } => {
                if self.frozen.get(slot) != Some(mig) {
                    return ShardAnswer::done(true);
                }
                self.kv.data.retain(|k, _| slot_of(k) != *slot);
                self.owned.remove(slot);
                self.frozen.remove(slot);
                ShardAnswer::done(false)
            }
        }
    }
}

/// The state machine of a node in sharded mode: the meta group's or a KV
/// group's, so that one server type runs every group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged, for the same reason as `ShardCommand`.
#[serde(rename_all = "snake_case")]
pub enum GroupMachine {
    /// The meta group.
    Meta(MetaStore),
    /// A KV group.
    Kv(ShardKv),
}

impl GroupMachine {
    /// The meta state, for a meta node.
    pub fn meta(&self) -> Option<&MetaStore> {
        match self {
            GroupMachine::Meta(m) => Some(m),
            GroupMachine::Kv(_) => None,
        }
    }
    /// The KV state, for a KV node.
    pub fn kv(&self) -> Option<&ShardKv> {
        match self {
            GroupMachine::Kv(k) => Some(k),
            GroupMachine::Meta(_) => None,
        }
    }
}

/// Read query a meta node answers with the slot table.
pub const QUERY_SHARDS: &[u8] = b"shards";
/// Read query a meta node answers with the groups.
pub const QUERY_MEMBERS: &[u8] = b"members";

impl StateMachine for GroupMachine {
    fn apply(&mut self, entry: &Entry) -> Vec<u8> {
        match self {
            GroupMachine::Meta(m) => match MetaCommand::decode(&entry.data) {
                Ok(cmd) => m.execute(&cmd).encode(),
                Err(e) => m.refuse(e).encode(),
            },
            GroupMachine::Kv(k) => match ShardCommand::decode(&entry.data) {
                Ok(cmd) => k.execute(&cmd).encode(),
                Err(_) => ShardAnswer::refused(ShardError::Malformed).encode(),
            },
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn restore(&mut self, data: &[u8]) -> Result<(), String> {
        if data.is_empty() {
            return Err("empty sharded snapshot".into());
        }
        let new: GroupMachine =
            serde_json::from_slice(data).map_err(|e| format!("bad sharded snapshot: {e}"))?;
        if std::mem::discriminant(&new) != std::mem::discriminant(self) {
            return Err("snapshot is of another kind of group".into());
        }
        *self = new;
        Ok(())
    }

    fn read(&self, query: &[u8]) -> Vec<u8> {
        match self {
            GroupMachine::Meta(m) => {
                let cmd = if query == QUERY_MEMBERS {
                    MetaCommand::QueryMembers
                } else {
                    MetaCommand::QueryShards
                };
                m.clone().execute(&cmd).encode()
            }
            GroupMachine::Kv(k) => {
                let key = String::from_utf8_lossy(query);
                let slot = slot_of(&key);
                if !k.owned.contains(&slot) {
                    return ShardAnswer::refused(ShardError::WrongGroup).encode();
                }
                if k.frozen.contains_key(&slot) {
                    return ShardAnswer::refused(ShardError::Frozen).encode();
                }
                ShardAnswer {
                    ok: true,
                    value: k.kv.data.get(key.as_ref()).cloned(),
                    ..ShardAnswer::default()
                }
                .encode()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(client: u64, seq: u64, key: &str, v: &str) -> ShardCommand {
        ShardCommand::Kv(KvCommand {
            client,
            seq,
            op: KvOp::Put,
            key: key.into(),
            value: Some(v.into()),
        })
    }

    #[test]
    fn slot_hash_is_fnv1a_and_stable() {
        // FNV-1a 64 test vectors (Fowler/Noll/Vo): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(slot_of("a"), (0xaf63_dc4c_8601_ec8cu64 % 1024) as u16);
        assert!((0..100).all(|i| slot_of(&format!("k{i}")) < SLOTS));
    }

    #[test]
    fn even_table_splits_contiguously() {
        let t = even_table(2);
        assert_eq!(t.len(), 1024);
        assert_eq!(t[0], 1);
        assert_eq!(t[511], 1);
        assert_eq!(t[512], 2);
        assert_eq!(t[1023], 2);
    }

    #[test]
    fn meta_move_slot_is_idempotent_and_never_goes_back_to_an_older_migration() {
        let groups = BTreeMap::from([(1, vec![11]), (2, vec![21])]);
        let mut m = MetaStore::bootstrap(groups, even_table(2));
        let mv = |from, to, mig| MetaCommand::MoveSlot {
            slot: 3,
            from,
            to,
            mig,
        };
        assert!(m.execute(&mv(1, 2, 1)).ok);
        assert_eq!(m.owner(3), 2);
        assert!(m.execute(&mv(1, 2, 1)).duplicate);
        assert!(m.execute(&mv(2, 1, 2)).ok);
        // The first move retried late must not undo the second.
        assert!(m.execute(&mv(1, 2, 1)).duplicate);
        assert_eq!(m.owner(3), 1);
        assert!(!m.execute(&mv(2, 1, 3)).ok, "slot 3 is g1's, not g2's");
    }

    #[test]
    fn meta_leave_refused_while_owning_slots() {
        let groups = BTreeMap::from([(1, vec![11]), (2, vec![21])]);
        let mut m = MetaStore::bootstrap(groups, vec![1; 1024]);
        assert!(!m.execute(&MetaCommand::Leave { group: 1 }).ok);
        assert!(m.execute(&MetaCommand::Leave { group: 2 }).ok);
        assert!(
            m.execute(&MetaCommand::Join {
                group: 3,
                members: vec![31],
                epoch: 0,
            })
            .ok
        );
        let a = m.execute(&MetaCommand::QueryMembers);
        assert_eq!(
            a.groups.map(|g| g.keys().copied().collect::<Vec<_>>()),
            Some(vec![1, 3])
        );
    }

    #[test]
    fn meta_member_updates_apply_in_configuration_order_only() {
        let groups = BTreeMap::from([(1, vec![11, 12, 13])]);
        let mut m = MetaStore::bootstrap(groups, even_table(1));
        let join = |members: Vec<NodeId>, epoch| MetaCommand::Join {
            group: 1,
            members,
            epoch,
        };
        assert!(m.execute(&join(vec![11, 12, 13, 14], 5)).ok);
        assert!(m.execute(&join(vec![11, 12, 14], 9)).ok);
        // The first update retried late does not bring 13 back.
        let late = m.execute(&join(vec![11, 12, 13, 14], 5));
        assert!(late.ok && late.duplicate);
        assert_eq!(m.groups.get(&1), Some(&vec![11, 12, 14]));
        assert_eq!(m.member_epoch.get(&1), Some(&9));
        let encoded = join(vec![11], 9).encode();
        assert_eq!(MetaCommand::decode(&encoded), Ok(join(vec![11], 9)));
        // A join without an epoch is written without one (older logs read the same).
        assert!(!String::from_utf8_lossy(&join(vec![11], 0).encode()).contains("epoch"));
    }

    #[test]
    fn shard_kv_refuses_unowned_and_frozen_slots_and_moves_data_once() {
        let s = slot_of("x");
        let mut a = ShardKv::bootstrap(1, BTreeSet::from([s]));
        let mut b = ShardKv::bootstrap(2, BTreeSet::new());
        assert!(a.execute(&put(7, 1, "x", "1")).ok);
        assert_eq!(
            b.execute(&put(7, 2, "x", "2")).error,
            Some(ShardError::WrongGroup)
        );
        assert!(
            a.execute(&ShardCommand::Freeze {
                slot: s,
                to: 2,
                mig: 1
            })
            .ok
        );
        assert_eq!(
            a.execute(&put(7, 2, "x", "2")).error,
            Some(ShardError::Frozen)
        );
        let import = ShardCommand::Import {
            slot: s,
            from: 1,
            mig: 1,
            data: a.slot_data(s),
            sessions: a.kv.sessions.clone(),
        };
        assert!(b.execute(&import).ok);
        // The write a client retries at the new owner is a duplicate there.
        assert!(b.execute(&put(7, 1, "x", "1")).duplicate);
        assert!(b.execute(&put(7, 2, "x", "2")).ok);
        // A late retry of the import does not roll the value back.
        assert!(b.execute(&import).duplicate);
        assert_eq!(b.kv.data.get("x").map(String::as_str), Some("2"));
        assert!(a.execute(&ShardCommand::DropSlot { slot: s, mig: 1 }).ok);
        assert!(a.kv.data.is_empty() && !a.owned.contains(&s));
        // A stale freeze of migration 1 after the slot came back is ignored.
        let back = ShardCommand::Import {
            slot: s,
            from: 2,
            mig: 2,
            data: b.slot_data(s),
            sessions: BTreeMap::new(),
        };
        assert!(a.execute(&back).ok);
        assert!(
            a.execute(&ShardCommand::Freeze {
                slot: s,
                to: 2,
                mig: 1
            })
            .duplicate
        );
        assert!(a.serves(s));
    }

    #[test]
    fn import_with_sessions_survives_the_log_encoding() {
        let mut a = ShardKv::bootstrap(1, BTreeSet::from([slot_of("x")]));
        a.execute(&put(7, 1, "x", "1"));
        let import = ShardCommand::Import {
            slot: slot_of("x"),
            from: 1,
            mig: 3,
            data: a.slot_data(slot_of("x")),
            sessions: a.kv.sessions.clone(),
        };
        assert_eq!(ShardCommand::decode(&import.encode()), Ok(import));
    }

    #[test]
    fn group_machine_snapshot_round_trips_and_rejects_garbage() {
        let mut k = ShardKv::bootstrap(1, BTreeSet::from([1, 2, slot_of("x")]));
        k.execute(&put(7, 1, "x", "1"));
        k.execute(&ShardCommand::Freeze {
            slot: 1,
            to: 2,
            mig: 4,
        });
        let mut m = GroupMachine::Kv(k);
        let snap = m.snapshot();
        let mut other = GroupMachine::Kv(ShardKv::bootstrap(1, BTreeSet::new()));
        other.restore(&snap).unwrap();
        assert_eq!(other, m);
        assert!(m.restore(b"{nope").is_err());
        let meta = GroupMachine::Meta(MetaStore::bootstrap(BTreeMap::new(), vec![]));
        assert!(m.restore(&meta.snapshot()).is_err());
    }
}
