//! The client-facing rules: a `client` event's invoke and completion must
//! pair up (`causal_order`, spec rule 5); the histories they build are
//! judged for linearizability at the end of the trace (spec rule 4).

use super::super::rules::CAUSAL_ORDER;
use super::State;
use crate::kv::KvOp;
use crate::trace::{ClientId, ClientPhase};

impl State {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_client(
        &mut self,
        seq: u64,
        client: &ClientId,
        op: &KvOp,
        key: &str,
        value: Option<&str>,
        phase: ClientPhase,
        result: Option<&Option<String>>,
        v: &mut impl FnMut(&'static str, String, Vec<u64>),
    ) {
        if phase == ClientPhase::Invoke {
            if let Some((message, related)) = self.histories.invoke(seq, client, op, key, value) {
                v(CAUSAL_ORDER, message, related);
            }
        } else if let Some(message) = self.histories.complete(seq, client, op, key, phase, result) {
            v(CAUSAL_ORDER, message, vec![]);
        }
    }
}
