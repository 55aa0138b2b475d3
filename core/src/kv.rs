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

/// The longest key the client forms accept, in characters (not bytes: a
/// class types names in any script). Long enough for any real key, short
/// enough to name in a sentence. Only typed commands are held to it: a
/// session or trace written elsewhere may carry longer ones, which replay
/// as they are and are shown cut (see [`check_typed`]).
pub const MAX_KEY_CHARS: usize = 64;

/// The longest value the client forms accept, in characters (not bytes).
/// Like [`MAX_KEY_CHARS`], a limit on what is typed, not on what the store
/// holds.
pub const MAX_VALUE_CHARS: usize = 1024;

/// A typed key or value longer than its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TooLong {
    /// The key has `chars` characters, more than [`MAX_KEY_CHARS`].
    Key {
        /// Its length in characters.
        chars: usize,
    },
    /// The value has `chars` characters, more than [`MAX_VALUE_CHARS`].
    Value {
        /// Its length in characters.
        chars: usize,
    },
}

impl TooLong {
    /// The limit that was passed.
    pub fn limit(self) -> usize {
        match self {
            TooLong::Key { .. } => MAX_KEY_CHARS,
            TooLong::Value { .. } => MAX_VALUE_CHARS,
        }
    }
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, chars) = match *self {
            TooLong::Key { chars } => ("key", chars),
            TooLong::Value { chars } => ("value", chars),
        };
        write!(
            f,
            "The {what} is {} characters long; a {what} may have at most {} characters.",
            thousands(chars),
            thousands(self.limit())
        )
    }
}

/// `n` with a comma between thousands ("1,024"), as the page writes numbers.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).unwrap_or_default())
        .collect();
    groups.join(",")
}

/// Whether a typed command's key (trimmed, as it will be sent) and value
/// keep to [`MAX_KEY_CHARS`] and [`MAX_VALUE_CHARS`], counted in characters;
/// the key is checked first.
pub fn check_typed(key: &str, value: Option<&str>) -> Result<(), TooLong> {
    let chars = key.trim().chars().count();
    if chars > MAX_KEY_CHARS {
        return Err(TooLong::Key { chars });
    }
    match value.map(|v| v.chars().count()) {
        Some(chars) if chars > MAX_VALUE_CHARS => Err(TooLong::Value { chars }),
        _ => Ok(()),
    }
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
    fn typed_keys_and_values_up_to_their_limits_are_accepted() {
        let key = "k".repeat(MAX_KEY_CHARS);
        let value = "v".repeat(MAX_VALUE_CHARS);
        assert_eq!(check_typed(&key, Some(&value)), Ok(()));
        assert_eq!(check_typed("x", None), Ok(()));
        assert_eq!(check_typed("", Some("")), Ok(()));
    }

    #[test]
    fn a_typed_key_or_value_one_character_too_long_is_refused() {
        let key = "k".repeat(MAX_KEY_CHARS + 1);
        let value = "v".repeat(MAX_VALUE_CHARS + 1);
        assert_eq!(check_typed(&key, None), Err(TooLong::Key { chars: 65 }));
        assert_eq!(
            check_typed("x", Some(&value)),
            Err(TooLong::Value { chars: 1025 })
        );
        assert_eq!(
            check_typed(&key, Some(&value)),
            Err(TooLong::Key { chars: 65 }),
            "the key is named first"
        );
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        // 2 bytes each in UTF-8: 128 bytes, 64 characters.
        let key = "é".repeat(MAX_KEY_CHARS);
        assert!(key.len() > MAX_KEY_CHARS);
        assert_eq!(check_typed(&key, None), Ok(()));
        // 4 bytes each.
        let value = "🦀".repeat(MAX_VALUE_CHARS);
        assert_eq!(check_typed("k", Some(&value)), Ok(()));
        let value = "🦀".repeat(MAX_VALUE_CHARS + 1);
        assert_eq!(
            check_typed("k", Some(&value)),
            Err(TooLong::Value { chars: 1025 })
        );
    }

    #[test]
    fn the_key_is_measured_as_sent_without_surrounding_spaces() {
        let key = format!("  {}  ", "k".repeat(MAX_KEY_CHARS));
        assert_eq!(check_typed(&key, None), Ok(()));
    }

    #[test]
    fn the_refusal_names_the_length_and_the_limit() {
        let said = TooLong::Value { chars: 10_000 }.to_string();
        assert_eq!(
            said,
            "The value is 10,000 characters long; a value may have at most 1,024 characters."
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let said = TooLong::Key { chars: 65 }.to_string();
        assert!(said.contains("key is 65 characters") && said.contains("at most 64"));
    }

    #[test]
    fn the_store_applies_a_loaded_command_over_the_limits_as_it_is() {
        // Only typing is limited: a session or trace carrying a longer
        // value replays it unchanged.
        let mut kv = KvStore::new();
        let long = "v".repeat(10_000);
        kv.execute(&cmd(1, 1, KvOp::Put, "a", Some(&long)));
        assert_eq!(kv.data["a"], long);
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
