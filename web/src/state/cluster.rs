//! The cluster's messages: the selected node and membership, and the
//! network; and the client operations.

use raftlab_core::kv::KvOp;
use raftlab_core::sim::Action;
use raftlab_core::types::NodeId;

use super::{NetMsg, NodeMsg, UiState};
use crate::model;
use crate::vocab::{picked_partition, typed_op, NodeVerb};

impl UiState {
    /// Selects, acts on, adds nodes, or changes the voters.
    pub(super) fn on_node(&mut self, m: NodeMsg) {
        match m {
            NodeMsg::Select(id) => self.selected = id,
            NodeMsg::Verb(verb) => self.node_verb(verb),
            NodeMsg::Add { voter } => {
                let id = model::free_id(self.lab.0.borrow().sim());
                match id {
                    Some(node) => {
                        self.act(if voter {
                            Action::AddVoter { node }
                        } else {
                            Action::AddLearner { node }
                        });
                        self.selected = Some(node);
                    }
                    None => self.error("All nine node ids are in use."),
                }
            }
            NodeMsg::ToggleJoint(id) => {
                if !self.joint.remove(&id) {
                    self.joint.insert(id);
                }
            }
            NodeMsg::Joint => {
                if self.joint.is_empty() {
                    self.error("Pick the new voters first (the numbered chips).");
                } else {
                    let voters = self.joint.iter().copied().collect();
                    self.act(Action::Joint { voters });
                }
            }
        }
    }

    /// Partitions, links, latency and loss.
    pub(super) fn on_net(&mut self, m: NetMsg) {
        match m {
            NetMsg::CycleGroup(id) => {
                let g = self.groups.get(&id).copied().unwrap_or(0);
                self.groups.insert(id, (g + 1) % 3);
            }
            NetMsg::Partition => {
                let ids: Vec<NodeId> = self.lab.0.borrow().sim().nodes().keys().copied().collect();
                match picked_partition(ids, &self.groups) {
                    Some(groups) => self.act(Action::Partition { groups }),
                    None => self.error(
                        "Put at least one node in another group first (click the A/B chips).",
                    ),
                }
            }
            NetMsg::ToggleLink(from, to) => {
                let cut = self.lab.0.borrow().sim().cut_links().contains(&(from, to));
                self.act(if cut {
                    Action::Restore { from, to }
                } else {
                    Action::Cut { from, to }
                });
            }
            NetMsg::SetLatency(ms) => {
                let hi = ms.clamp(1, 1000);
                let lo = (hi / 5).max(1);
                self.latency = hi;
                self.act(Action::Network {
                    latency_ms: Some([lo, hi]),
                    loss: None,
                    duplicate: None,
                    reorder: None,
                });
            }
            NetMsg::SetLoss(pct) => {
                let pct = pct.min(100);
                self.loss = pct;
                self.act(Action::Network {
                    latency_ms: None,
                    loss: Some(pct as f64 / 100.0),
                    duplicate: None,
                    reorder: None,
                });
            }
        }
    }

    /// Acts on the selected node, if any.
    fn node_verb(&mut self, verb: NodeVerb) {
        let Some(node) = self.selected else {
            return self.error("Select a node first: click it in the cluster.");
        };
        let action = match verb {
            NodeVerb::Crash => Action::Crash { node },
            NodeVerb::Restart => Action::Restart { node },
            NodeVerb::Timeout => Action::Timeout { node },
            NodeVerb::Transfer => Action::Transfer { to: node },
            NodeVerb::Snapshot => Action::Snapshot { node },
            NodeVerb::Remove => Action::Remove { node },
            NodeVerb::Promote => Action::AddVoter { node },
        };
        self.act(action);
    }

    /// Sends a typed client operation from the first client that is not
    /// busy, and remembers it.
    pub(super) fn client(&mut self, op: KvOp, key: String, value: Option<String>) {
        let (key, value) = match typed_op(&op, key, value) {
            Ok(typed) => typed,
            Err(missing) => return self.error(missing),
        };
        // The first client that is not busy sends it.
        let client = {
            let lab = self.lab.0.borrow();
            let views = lab.sim().clients();
            (1..)
                .find(|c| !views.iter().any(|v| v.id == *c && v.current.is_some()))
                .unwrap_or(1)
        };
        self.act(Action::Client {
            client,
            op,
            key,
            value,
        });
        let lab = self.lab.0.borrow();
        let seq = lab
            .sim()
            .clients()
            .into_iter()
            .find(|v| v.id == client)
            .and_then(|v| {
                v.current
                    .map(|op| op.seq)
                    .or_else(|| v.done.last().map(|op| op.seq))
            });
        drop(lab);
        self.last_client = seq.map(|s| (client, s));
    }
}
