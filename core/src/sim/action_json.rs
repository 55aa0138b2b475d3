//! Reading actions back from JSON by hand (see `crate::json` for why): an
//! action is an object with a string `kind` and that kind's arguments, as
//! the derived `Serialize` writes it; unknown fields are ignored.

use serde_json::Value;

use super::{Action, TimedAction};
use crate::json::{
    bool_of, bool_or_false, deserialize_via_value, groups_of, ids_of, object, opt_bool, opt_f64,
    opt_pair, opt_string, pick, string_of, u64_of,
};
use crate::trace::KV_OPS;

impl Action {
    /// Every action kind, in declaration order. Session links encode a
    /// kind as its place here: add new kinds at the end only.
    pub(crate) const KINDS: [&'static str; 24] = [
        "crash",
        "restart",
        "timeout",
        "partition",
        "heal",
        "cut",
        "restore",
        "add_learner",
        "add_voter",
        "remove",
        "joint",
        "transfer",
        "snapshot",
        "client",
        "drop_message",
        "network",
        "calm",
        "deliver",
        "hold",
        "release",
        "heartbeat",
        "manual",
        "deliver_next",
        "drop_next",
    ];

    /// Reads an action object.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let o = object(v, "internally tagged enum Action")?;
        let kind = crate::json::str_of(o, "kind")?;
        let Some(i) = Self::KINDS.iter().position(|k| *k == kind) else {
            return Err(crate::json::unknown_variant(
                "kind",
                kind,
                Self::KINDS.iter().copied(),
            ));
        };
        let node = || u64_of(o, "node");
        Ok(match i {
            0 => Action::Crash { node: node()? },
            1 => Action::Restart { node: node()? },
            2 => Action::Timeout { node: node()? },
            3 => Action::Partition {
                groups: groups_of(o, "groups")?,
            },
            4 => Action::Heal,
            5 => Action::Cut {
                from: u64_of(o, "from")?,
                to: u64_of(o, "to")?,
            },
            6 => Action::Restore {
                from: u64_of(o, "from")?,
                to: u64_of(o, "to")?,
            },
            7 => Action::AddLearner { node: node()? },
            8 => Action::AddVoter { node: node()? },
            9 => Action::Remove { node: node()? },
            10 => Action::Joint {
                voters: ids_of(o, "voters")?,
            },
            11 => Action::Transfer {
                to: u64_of(o, "to")?,
            },
            12 => Action::Snapshot { node: node()? },
            13 => Action::Client {
                client: u64_of(o, "client")?,
                op: pick(o, "op", &KV_OPS)?,
                key: string_of(o, "key")?,
                value: opt_string(o, "value")?,
            },
            14 => Action::DropMessage {
                id: u64_of(o, "id")?,
            },
            16 => Action::Calm {
                ms: u64_of(o, "ms")?,
            },
            17 => Action::Deliver {
                id: u64_of(o, "id")?,
            },
            18 => Action::Hold {
                from: u64_of(o, "from")?,
                to: u64_of(o, "to")?,
            },
            19 => Action::Release {
                from: u64_of(o, "from")?,
                to: u64_of(o, "to")?,
            },
            20 => Action::Heartbeat { node: node()? },
            21 => Action::Manual {
                on: bool_of(o, "on")?,
                timers: bool_or_false(o, "timers")?,
            },
            22 => Action::DeliverNext {
                from: u64_of(o, "from")?,
                to: u64_of(o, "to")?,
                msg: string_of(o, "msg")?,
                prevote: opt_bool(o, "prevote")?,
            },
            23 => Action::DropNext {
                from: u64_of(o, "from")?,
                to: u64_of(o, "to")?,
                msg: string_of(o, "msg")?,
                prevote: opt_bool(o, "prevote")?,
            },
            _ => Action::Network {
                latency_ms: opt_pair(o, "latency_ms")?,
                loss: opt_f64(o, "loss")?,
                duplicate: opt_f64(o, "duplicate")?,
                reorder: opt_f64(o, "reorder")?,
            },
        })
    }
}

impl TimedAction {
    /// Reads `{"time": ..., "action": {...}}`.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let o = object(v, "struct TimedAction")?;
        Ok(TimedAction {
            time: u64_of(o, "time")?,
            action: match o.get("action") {
                Some(a) => Action::from_json(a).map_err(|e| format!("action: {e}"))?,
                None => return Err("missing field `action`".into()),
            },
        })
    }
}

deserialize_via_value!(Action, Action::from_json);
deserialize_via_value!(TimedAction, TimedAction::from_json);
