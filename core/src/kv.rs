//! The state machine interface and the key-value store on top of Raft (the
//! ERaftKV KvServer layer), with client sessions so that a retried write
//! applies once (thesis §6.3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::Entry;

/// What the core applies committed entries to.
pub trait StateMachine {
    /// Applies a committed `Normal` entry and returns its answer.
    fn apply(&mut self, entry: &Entry) -> Vec<u8>;
    /// The state as bytes, for a snapshot.
    fn snapshot(&self) -> Vec<u8>;
    /// Replaces the state with a snapshot's bytes.
    fn restore(&mut self, data: &[u8]) -> Result<(), String>;
    /// Answers a read-only query against the current state.
    fn read(&self, query: &[u8]) -> Vec<u8>;
}

/// A KV operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KvOp {
    /// Sets `key` to `value`.
    Put,
    /// Reads `key`.
    Get,
    /// Removes `key`.
    Delete,
}

/// A client command as stored in a `Normal` entry (JSON text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvCommand {
    /// The client's id (its session).
    pub client: u64,
    /// The client's sequence number; a retry reuses it.
    pub seq: u64,
    /// The operation.
    pub op: KvOp,
    /// The key.
    pub key: String,
    /// The value, for put.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl KvCommand {
    /// The entry payload for this command.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses an entry payload.
    pub fn decode(data: &[u8]) -> Result<KvCommand, String> {
        serde_json::from_slice(data).map_err(|e| format!("not a KV command: {e}"))
    }
}

/// The answer to a command or read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvResult {
    /// False when the command was malformed.
    pub ok: bool,
    /// For get: the value, or null when absent.
    #[serde(default)]
    pub value: Option<String>,
    /// True when a retry was answered from the session instead of re-applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

impl KvResult {
    /// Parses an answer.
    pub fn decode(data: &[u8]) -> Option<KvResult> {
        serde_json::from_slice(data).ok()
    }

    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A client's session: its last applied sequence number and that answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Highest sequence number applied.
    pub last_seq: u64,
    /// Its answer, returned again to a retry.
    pub last_result: KvResult,
}

impl Default for KvResult {
    fn default() -> Self {
        KvResult {
            ok: true,
            value: None,
            duplicate: false,
        }
    }
}

/// The replicated key-value store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStore {
    /// The data.
    pub data: BTreeMap<String, String>,
    /// Client sessions by client id.
    pub sessions: BTreeMap<u64, Session>,
}

impl KvStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one command, once per (client, seq).
    pub fn execute(&mut self, cmd: &KvCommand) -> KvResult {
        if let Some(session) = self.sessions.get(&cmd.client) {
            if cmd.seq <= session.last_seq {
                let mut again = session.last_result.clone();
                again.duplicate = true;
                return again;
            }
        }
        let result = match cmd.op {
            KvOp::Put => {
                self.data
                    .insert(cmd.key.clone(), cmd.value.clone().unwrap_or_default());
                KvResult::default()
            }
            KvOp::Get => KvResult {
                value: self.data.get(&cmd.key).cloned(),
                ..KvResult::default()
            },
            KvOp::Delete => {
                self.data.remove(&cmd.key);
                KvResult::default()
            }
        };
        self.sessions.insert(
            cmd.client,
            Session {
                last_seq: cmd.seq,
                last_result: result.clone(),
            },
        );
        result
    }
}

impl StateMachine for KvStore {
    fn apply(&mut self, entry: &Entry) -> Vec<u8> {
        match KvCommand::decode(&entry.data) {
            Ok(cmd) => self.execute(&cmd).encode(),
            Err(_) => KvResult {
                ok: false,
                ..KvResult::default()
            }
            .encode(),
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn restore(&mut self, data: &[u8]) -> Result<(), String> {
        if data.is_empty() {
            *self = KvStore::default();
            return Ok(());
        }
        *self = serde_json::from_slice(data).map_err(|e| format!("bad KV snapshot: {e}"))?;
        Ok(())
    }

    fn read(&self, query: &[u8]) -> Vec<u8> {
        let key = String::from_utf8_lossy(query);
        KvResult {
            value: self.data.get(key.as_ref()).cloned(),
            ..KvResult::default()
        }
        .encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::EntryKind;

    fn cmd(client: u64, seq: u64, op: KvOp, key: &str, value: Option<&str>) -> KvCommand {
        KvCommand {
            client,
            seq,
            op,
            key: key.into(),
            value: value.map(String::from),
        }
    }

    fn entry(data: Vec<u8>) -> Entry {
        Entry {
            term: 1,
            index: 1,
            kind: EntryKind::Normal,
            data,
        }
    }

    #[test]
    fn put_get_delete() {
        let mut kv = KvStore::new();
        kv.execute(&cmd(1, 1, KvOp::Put, "a", Some("1")));
        let got = kv.execute(&cmd(1, 2, KvOp::Get, "a", None));
        assert_eq!(got.value.as_deref(), Some("1"));
        kv.execute(&cmd(1, 3, KvOp::Delete, "a", None));
        assert_eq!(kv.execute(&cmd(1, 4, KvOp::Get, "a", None)).value, None);
    }

    /// Thesis §6.3: a retried command (same or older sequence number) is
    /// answered from the session and not applied again.
    #[test]
    fn a_retry_is_answered_from_the_session_and_applied_once() {
        let mut kv = KvStore::new();
        let first = kv.execute(&cmd(1, 1, KvOp::Put, "a", Some("1")));
        kv.execute(&cmd(2, 1, KvOp::Put, "a", Some("2")));
        let again = kv.execute(&cmd(1, 1, KvOp::Put, "a", Some("1")));
        assert!(again.duplicate && !first.duplicate);
        assert_eq!(
            kv.data["a"], "2",
            "the retry did not overwrite client 2's write"
        );
        let older = kv.execute(&cmd(2, 0, KvOp::Delete, "a", None));
        assert!(older.duplicate);
        assert_eq!(kv.data["a"], "2");
        assert_eq!(kv.sessions[&2].last_seq, 1);
    }

    #[test]
    fn malformed_entries_are_answered_not_applied() {
        let mut kv = KvStore::new();
        let out = kv.apply(&entry(b"not json".to_vec()));
        assert!(!KvResult::decode(&out).unwrap().ok);
        assert!(kv.data.is_empty() && kv.sessions.is_empty());
        let out = kv.apply(&entry(cmd(1, 1, KvOp::Put, "k", Some("v")).encode()));
        assert!(KvResult::decode(&out).unwrap().ok);
    }

    #[test]
    fn snapshot_and_restore_round_trip_with_sessions() {
        let mut kv = KvStore::new();
        kv.execute(&cmd(1, 5, KvOp::Put, "a", Some("1")));
        let image = kv.snapshot();
        let mut other = KvStore::new();
        other.restore(&image).unwrap();
        assert_eq!(other, kv);
        assert!(
            other
                .execute(&cmd(1, 5, KvOp::Put, "a", Some("9")))
                .duplicate
        );
        assert!(other.restore(b"{broken").is_err());
        assert_eq!(other.data["a"], "1", "a failed restore leaves the state");
        other.restore(b"").unwrap();
        assert_eq!(other, KvStore::new());
    }

    #[test]
    fn reads_do_not_change_the_state() {
        let mut kv = KvStore::new();
        kv.execute(&cmd(1, 1, KvOp::Put, "a", Some("1")));
        let before = kv.clone();
        let out = KvResult::decode(&kv.read(b"a")).unwrap();
        assert_eq!(out.value.as_deref(), Some("1"));
        assert_eq!(KvResult::decode(&kv.read(b"zz")).unwrap().value, None);
        assert_eq!(kv, before);
    }
}
