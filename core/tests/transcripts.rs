//! Transcript tests, in the shape of etcd raft's `testdata/*.txt`
//! interaction tests: each file in `tests/testdata/` is a story told as
//! commands (`elect 1`, `propose 1 x=1`, `deliver`, `crash 2`, `status`, …),
//! each followed by `----` and what the cluster did, in the words the page's
//! event feed uses (`raftlab_core::trace::describe`). A behaviour change
//! shows up as a readable diff of the story.
//!
//! The cluster is the harness's (`raftlab_core::harness`): real servers whose
//! time moves only when a command ticks them, over a FIFO queue of messages
//! that move only when a command delivers them. Every message gets an id and
//! every server event becomes a trace event, so the narration is the one the
//! page and `raftlab replay --narrate` give.
//!
//! `REWRITE=1 cargo test -p raftlab-core --test transcripts` writes the
//! output the code gives now into the files (comments and commands kept);
//! read the diff before committing it.
//!
//! Commands (node lists are `1,2,3`; `A->B` may use `*` for any node):
//!
//! - `cluster N [prevote=off] [check-quorum=off] [chunk=BYTES]
//!   [max-entries=N] [max-inflight=N] [announce-commit=on]`: N voters, the
//!   page's settings unless changed (heartbeat 50 ms, election timeout
//!   150-300 ms; one tick is one ms).
//! - `timeout N`: fire N's election timeout; `elect N`: the same, then
//!   `deliver`.
//! - `propose N k=v`: a client's put through N (client 1, next seq).
//! - `deliver`: deliver every queued message, and what they cause, until
//!   none is left. `deliver A->B`: only the messages queued now from A to B.
//! - `drop A->B`: lose the queued messages from A to B.
//! - `queue`: the messages waiting, oldest first.
//! - `tick N|all DURATION`: tick N (or every running node) DURATION times,
//!   delivering nothing. `run DURATION`: tick all, then deliver, DURATION
//!   times.
//! - `crash N`, `restart N`, `partition 1,2 | 3,4,5`, `cut A->B`, `heal`.
//! - `add-learner N`, `promote N`, `remove N`, `joint 1,2,4`: membership
//!   changes through the leader (a new node starts empty first).
//! - `transfer N M`: ask leader N to hand leadership to M.
//! - `snapshot N`: N snapshots its state machine and compacts its log.
//! - `read N [KEY]`: a ReadIndex read at N (thesis §6.4).
//! - `status`: one line per node; `log N`: N's log.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use raftlab_core::harness::{Cluster, Slot};
use raftlab_core::kv::{KvCommand, KvOp};
use raftlab_core::log::RaftLog;
use raftlab_core::network::{Output, RaftEvent};
use raftlab_core::quorum::Membership;
use raftlab_core::raft::ConfChange;
use raftlab_core::sim::{apply_kind, trace_kind, SimConfig};
use raftlab_core::storage::Storage;
use raftlab_core::trace::describe::{entry_label, message_label, role_name, Narrator};
use raftlab_core::trace::{DropReason, EventKind, TraceEvent};
use raftlab_core::types::{Message, NodeId};

// ----- the lab: the harness's servers, a numbered queue, a trace -----

/// What a command produced, in order: trace events (told when the command
/// ends, so a refusal reported after a delivery can still be attached to
/// it, as the simulator does) and the runner's own notes.
enum Told {
    Event(TraceEvent),
    Note(String),
}

struct Lab {
    /// The harness holds the servers (up, or down with their disks). Its
    /// own queue and event lists are used only while a node starts.
    cluster: Cluster,
    queue: VecDeque<(u64, Message)>,
    cut: BTreeSet<(NodeId, NodeId)>,
    next_id: u64,
    seq: u64,
    pending: Vec<Told>,
    narrator: Narrator,
    client_seq: u64,
    next_read: u64,
    /// Reads waiting at a node: (node, read id) → the key to read, if any.
    reads: BTreeMap<(NodeId, u64), Option<String>>,
}

impl Lab {
    fn new(n: u64, cfg: &SimConfig, announce_commit: bool) -> Lab {
        let mut core = cfg.core_config(1);
        core.announce_commit = announce_commit;
        let mut lab = Lab {
            cluster: Cluster::new(n, core),
            queue: VecDeque::new(),
            cut: BTreeSet::new(),
            next_id: 1,
            seq: 0,
            pending: Vec::new(),
            narrator: Narrator::new(),
            client_seq: 0,
            next_read: 1,
            reads: BTreeMap::new(),
        };
        for id in 1..=n {
            lab.absorb_start(id);
        }
        lab
    }

    fn emit(&mut self, kind: EventKind) {
        self.seq += 1;
        self.pending.push(Told::Event(TraceEvent {
            seq: self.seq,
            time: 0,
            kind,
        }));
    }

    fn note(&mut self, text: String) {
        self.pending.push(Told::Note(text));
    }

    /// The story so far, in words; empties the pending list.
    fn tell(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for t in std::mem::take(&mut self.pending) {
            match t {
                Told::Event(e) => lines.push(self.narrator.tell(&e).1),
                Told::Note(n) => lines.push(n),
            }
        }
        lines
    }

    fn up(&self, id: NodeId) -> bool {
        self.cluster.is_up(id)
    }

    /// Takes what a node put out while the harness started it.
    fn absorb_start(&mut self, id: NodeId) {
        let events = self.cluster.events.remove(&id).unwrap_or_default();
        for e in events {
            self.node_event(id, e);
        }
        let sent: Vec<Message> = self.cluster.queue.drain(..).collect();
        for m in sent {
            self.send(m);
        }
    }

    /// Moves node `id`'s output onto the queue and into the trace.
    fn drain(&mut self, id: NodeId) {
        if !self.up(id) {
            return;
        }
        for out in self.cluster.node_mut(id).net_mut().drain() {
            match out {
                Output::Send(m) => self.send(m),
                Output::Event(e) => self.node_event(id, e),
            }
        }
    }

    fn send(&mut self, m: Message) {
        let id = self.next_id;
        self.next_id += 1;
        self.emit(EventKind::send(id, &m));
        self.queue.push_back((id, m));
    }

    /// A server's event as the simulator traces it.
    fn node_event(&mut self, node: NodeId, e: RaftEvent) {
        // Traced as the simulator traces them; the rest is this runner's.
        let e = match trace_kind(node, e) {
            Ok(kind) => return self.emit(kind),
            Err(e) => e,
        };
        let kind = match e {
            RaftEvent::Apply {
                index,
                term,
                output,
            } => apply_kind(node, index, term, &output),
            RaftEvent::ReadReady { read_id, index } => {
                let key = self.reads.remove(&(node, read_id)).flatten();
                let value = key.map(|k| {
                    let answer = self.cluster.node(node).read_state_machine(k.as_bytes());
                    let answer = String::from_utf8_lossy(&answer).into_owned();
                    format!(
                        ": {k} → {}",
                        raftlab_core::trace::describe::apply_output(&answer)
                    )
                });
                let value = value.unwrap_or_default();
                return self.note(format!(
                    "S{node} may serve read {read_id} at index {index}{value}"
                ));
            }
            RaftEvent::ReadFailed { read_id, reason } => {
                self.reads.remove(&(node, read_id));
                return self.note(format!(
                    "S{node} cannot serve read {read_id}: {}",
                    raftlab_core::trace::describe::third_person(node, &reason.to_string())
                ));
            }
            RaftEvent::Rejected { reason, .. } => {
                // The reason belongs to the delivery being handled.
                let last = self.pending.iter_mut().rev().find_map(|t| match t {
                    Told::Event(TraceEvent {
                        kind: EventKind::Deliver { outcome, .. },
                        ..
                    }) => Some(outcome),
                    _ => None,
                });
                if let Some(outcome @ None) = last {
                    *outcome = Some(reason.to_string());
                }
                return;
            }
            other => unreachable!("the simulator traces {other:?} as it is"),
        };
        self.emit(kind);
    }

    /// Hands one message to its receiver, or loses it.
    fn deliver(&mut self, id: u64, m: Message) {
        let (from, to) = (m.from, m.to);
        if self.cut.contains(&(from, to)) {
            return self.emit(EventKind::Drop {
                id,
                reason: DropReason::Partition,
            });
        }
        if !self.up(to) {
            return self.emit(EventKind::Drop {
                id,
                reason: DropReason::Crashed,
            });
        }
        self.emit(EventKind::Deliver { id, outcome: None });
        self.cluster.node_mut(to).step(m);
        self.drain(to);
    }

    fn deliver_all(&mut self) -> Result<(), String> {
        let mut budget = 100_000;
        while let Some((id, m)) = self.queue.pop_front() {
            budget -= 1;
            if budget == 0 {
                return Err("messages never settle".into());
            }
            self.deliver(id, m);
        }
        Ok(())
    }

    /// Takes the queued messages `pick` selects, oldest first.
    fn take(&mut self, pick: impl Fn(&Message) -> bool) -> Vec<(u64, Message)> {
        let (taken, kept) = self.queue.drain(..).partition(|(_, m)| pick(m));
        self.queue = kept;
        taken.into()
    }

    fn tick(&mut self, id: NodeId) {
        if self.up(id) {
            self.cluster.node_mut(id).tick();
            self.drain(id);
        }
    }

    fn ids(&self) -> Vec<NodeId> {
        self.cluster.nodes.keys().copied().collect()
    }

    fn start_empty(&mut self, id: NodeId) {
        if !self.cluster.nodes.contains_key(&id) {
            self.cluster.add_node(id);
            self.absorb_start(id);
        }
    }

    /// The leader to ask: the running leader of the highest term.
    fn leader(&self) -> Result<NodeId, String> {
        self.cluster
            .leaders()
            .into_iter()
            .max_by_key(|&id| self.cluster.node(id).current_term())
            .ok_or_else(|| "there is no leader to ask".to_string())
    }

    fn change(&mut self, change: ConfChange) -> Result<(), String> {
        let leader = self.leader()?;
        let r = self.cluster.node_mut(leader).propose_conf_change(change);
        self.drain(leader);
        r.map(|_| ()).map_err(|e| format!("S{leader} refused: {e}"))
    }

    fn status(&self) -> Vec<String> {
        let list = |s: &BTreeSet<NodeId>| {
            s.iter()
                .map(|n| format!("S{n}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let config = |m: &Membership| {
            let mut t = format!("voters {{{}}}", list(&m.voters));
            if !m.outgoing.is_empty() {
                let _ = write!(t, " jointly with {{{}}}", list(&m.outgoing));
            }
            if !m.learners.is_empty() {
                let _ = write!(t, ", learners {{{}}}", list(&m.learners));
            }
            t
        };
        let mut lines = Vec::new();
        for (&id, slot) in &self.cluster.nodes {
            lines.push(match slot {
                Slot::Up(s) => {
                    let leader = s.leader_id().map(|l| format!("S{l}"));
                    format!(
                        "S{id} {:<13} term {} leader {} last {}@t{} commit {} applied {} {}",
                        role_name(s.state()),
                        s.current_term(),
                        leader.as_deref().unwrap_or("-"),
                        s.log().last_index(),
                        s.log().last_term(),
                        s.commit_idx(),
                        s.last_applied_idx(),
                        config(s.config()),
                    )
                }
                Slot::Down(st, log) => {
                    let (term, vote) = st.load_meta();
                    let log = RaftLog::new(log.clone());
                    let vote = match vote {
                        0 => "nobody".to_string(),
                        v => format!("S{v}"),
                    };
                    format!(
                        "S{id} down; on its disk: term {term}, voted for {vote}, last {}@t{}",
                        log.last_index(),
                        log.last_term()
                    )
                }
            });
        }
        lines
    }

    fn log_of(&self, id: NodeId) -> Result<Vec<String>, String> {
        let log = match self.cluster.nodes.get(&id) {
            Some(Slot::Up(s)) => s.log().entries(1, usize::MAX),
            Some(Slot::Down(_, l)) => RaftLog::new(l.clone()).entries(1, usize::MAX),
            None => return Err(format!("there is no S{id}")),
        };
        let (base, first) = match self.cluster.nodes.get(&id) {
            Some(Slot::Up(s)) => (s.log().base_index(), s.log().first_index()),
            _ => (0, 1),
        };
        let mut lines = Vec::new();
        if base > 0 {
            lines.push(format!("(entries up to {base} are in S{id}'s snapshot)"));
        }
        for e in log.iter().filter(|e| e.index >= first) {
            lines.push(format!(
                "{}@t{} {}",
                e.index,
                e.term,
                entry_label(e.kind, &e.data)
            ));
        }
        if lines.is_empty() {
            lines.push("(empty)".into());
        }
        Ok(lines)
    }

    /// Runs one command; its output lines.
    fn run(&mut self, line: &str) -> Result<Vec<String>, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (cmd, args) = words.split_first().ok_or("empty command")?;
        let mut extra = Vec::new();
        match *cmd {
            "timeout" | "elect" => {
                let id = node_arg(args, 0)?;
                self.need_up(id)?;
                let r = self.cluster.node_mut(id).force_timeout();
                self.drain(id);
                r.map_err(|e| format!("S{id} cannot campaign: {e}"))?;
                if *cmd == "elect" {
                    self.deliver_all()?;
                }
            }
            "propose" => {
                let id = node_arg(args, 0)?;
                self.need_up(id)?;
                let (key, value) = args
                    .get(1)
                    .and_then(|kv| kv.split_once('='))
                    .ok_or("usage: propose N key=value")?;
                self.client_seq += 1;
                let cmd = KvCommand {
                    client: 1,
                    seq: self.client_seq,
                    op: KvOp::Put,
                    key: key.into(),
                    value: Some(value.into()),
                };
                let r = self.cluster.node_mut(id).propose_entry(cmd.encode());
                self.drain(id);
                if let Err(e) = r {
                    extra.push(format!("S{id} refused the proposal: {e}"));
                }
            }
            "deliver" => match args.first() {
                None => self.deliver_all()?,
                Some(link) => {
                    let pick = link_arg(link)?;
                    for (id, m) in self.take(|m| pick(m.from, m.to)) {
                        self.deliver(id, m);
                    }
                }
            },
            "drop" => {
                let pick = link_arg(args.first().ok_or("usage: drop A->B")?)?;
                for (id, _) in self.take(|m| pick(m.from, m.to)) {
                    self.emit(EventKind::Drop {
                        id,
                        reason: DropReason::Loss,
                    });
                }
            }
            "queue" => {
                for (id, m) in &self.queue {
                    extra.push(format!(
                        "#{id} S{} → S{}: {}",
                        m.from,
                        m.to,
                        message_label(&m.body)
                    ));
                }
                if extra.is_empty() {
                    extra.push("(no message waits)".into());
                }
            }
            "tick" => {
                let who = args.first().ok_or("usage: tick N|all DURATION")?;
                let n = duration_arg(args.get(1))?;
                let ids = if *who == "all" {
                    self.ids()
                } else {
                    vec![parse_node(who)?]
                };
                for _ in 0..n {
                    for &id in &ids {
                        self.tick(id);
                    }
                }
            }
            "run" => {
                let n = duration_arg(args.first())?;
                for _ in 0..n {
                    for id in self.ids() {
                        self.tick(id);
                    }
                    self.deliver_all()?;
                }
            }
            "crash" => {
                let id = node_arg(args, 0)?;
                self.need_up(id)?;
                self.cluster.crash(id);
                self.emit(EventKind::Crash { node: id });
            }
            "restart" => {
                let id = node_arg(args, 0)?;
                if !matches!(self.cluster.nodes.get(&id), Some(Slot::Down(..))) {
                    return Err(format!("S{id} is not crashed"));
                }
                self.emit(EventKind::Restart { node: id });
                self.cluster.restart(id);
                self.absorb_start(id);
            }
            "partition" => {
                let groups: Vec<Vec<NodeId>> = args
                    .join(" ")
                    .split('|')
                    .map(parse_nodes)
                    .collect::<Result<_, _>>()?;
                let side = |id: NodeId| groups.iter().position(|g| g.contains(&id));
                for a in self.ids() {
                    for b in self.ids() {
                        if a != b && side(a) != side(b) {
                            self.cut.insert((a, b));
                        }
                    }
                }
                self.emit(EventKind::Partition { groups });
            }
            "cut" => {
                let (from, to) = args
                    .first()
                    .and_then(|l| l.split_once("->"))
                    .ok_or("usage: cut A->B")?;
                let (from, to) = (parse_node(from)?, parse_node(to)?);
                self.cut.insert((from, to));
                self.emit(EventKind::Link {
                    from,
                    to,
                    up: false,
                });
            }
            "heal" => {
                self.cut.clear();
                self.emit(EventKind::Heal {});
            }
            "add-learner" => {
                let id = node_arg(args, 0)?;
                self.start_empty(id);
                self.change(ConfChange::AddLearner(id))?;
            }
            "promote" => self.change(ConfChange::AddVoter(node_arg(args, 0)?))?,
            "remove" => self.change(ConfChange::Remove(node_arg(args, 0)?))?,
            "joint" => {
                let voters = parse_nodes(args.first().ok_or("usage: joint 1,2,4")?)?;
                for &v in &voters {
                    self.start_empty(v);
                }
                self.change(ConfChange::Joint(voters))?;
            }
            "transfer" => {
                let (from, to) = (node_arg(args, 0)?, node_arg(args, 1)?);
                self.need_up(from)?;
                let r = self.cluster.node_mut(from).transfer_leadership(to);
                self.drain(from);
                if let Err(e) = r {
                    extra.push(format!("S{from} refused the transfer: {e}"));
                }
            }
            "snapshot" => {
                let id = node_arg(args, 0)?;
                self.need_up(id)?;
                let r = self.cluster.node_mut(id).take_snapshot();
                self.drain(id);
                if let Err(e) = r {
                    extra.push(format!("S{id} took no snapshot: {e}"));
                }
            }
            "read" => {
                let id = node_arg(args, 0)?;
                self.need_up(id)?;
                let read_id = self.next_read;
                self.next_read += 1;
                self.reads
                    .insert((id, read_id), args.get(1).map(|k| k.to_string()));
                let r = self.cluster.node_mut(id).propose_read(read_id);
                self.drain(id);
                if let Err(e) = r {
                    self.reads.remove(&(id, read_id));
                    extra.push(format!("S{id} refused read {read_id}: {e}"));
                }
            }
            "status" => extra = self.status(),
            "log" => extra = self.log_of(node_arg(args, 0)?)?,
            other => return Err(format!("unknown command {other:?}")),
        }
        let mut lines = self.tell();
        lines.extend(extra);
        Ok(lines)
    }

    fn need_up(&self, id: NodeId) -> Result<(), String> {
        if self.up(id) {
            Ok(())
        } else {
            Err(format!("S{id} is not running"))
        }
    }
}

fn parse_node(s: &str) -> Result<NodeId, String> {
    s.trim()
        .trim_start_matches('S')
        .parse()
        .map_err(|_| format!("not a node id: {s:?}"))
}

fn parse_nodes(s: &str) -> Result<Vec<NodeId>, String> {
    s.split(',').map(parse_node).collect()
}

fn node_arg(args: &[&str], i: usize) -> Result<NodeId, String> {
    parse_node(args.get(i).ok_or("a node id is missing")?)
}

/// `150ms` or `150`: ticks (one tick is one simulated ms).
fn duration_arg(s: Option<&&str>) -> Result<u64, String> {
    let s = s.ok_or("a duration is missing")?;
    s.trim_end_matches("ms")
        .parse()
        .map_err(|_| format!("not a duration: {s:?}"))
}

/// `1->2`, `*->2`, `1->*`: which queued messages a command picks.
fn link_arg(s: &str) -> Result<impl Fn(NodeId, NodeId) -> bool, String> {
    let (a, b) = s.split_once("->").ok_or("a link is written A->B")?;
    let side = |x: &str| -> Result<Option<NodeId>, String> {
        if x == "*" {
            Ok(None)
        } else {
            parse_node(x).map(Some)
        }
    };
    let (a, b) = (side(a)?, side(b)?);
    Ok(move |from, to| a.is_none_or(|a| a == from) && b.is_none_or(|b| b == to))
}

/// `cluster N [settings]`: the lab a transcript starts with.
fn new_lab(line: &str) -> Result<Lab, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.first() != Some(&"cluster") {
        return Err("a transcript starts with `cluster N`".into());
    }
    let n = node_arg(&words, 1)?;
    let mut cfg = SimConfig::default();
    let mut announce = false;
    for w in &words[2..] {
        let (k, v) = w.split_once('=').ok_or(format!("not a setting: {w}"))?;
        let on = || match v {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => Err(format!("{k} is on or off, not {v}")),
        };
        let num = || v.parse::<usize>().map_err(|_| format!("{k}: not a number"));
        match k {
            "prevote" => cfg.prevote = on()?,
            "check-quorum" => cfg.check_quorum = on()?,
            "announce-commit" => announce = on()?,
            "chunk" => cfg.snapshot_chunk_bytes = num()?,
            "max-entries" => cfg.max_entries_per_msg = num()?,
            "max-inflight" => cfg.max_inflight = num()?,
            _ => return Err(format!("unknown setting {k}")),
        }
    }
    cfg.validate()?;
    Ok(Lab::new(n, &cfg, announce))
}

// ----- the file format -----

/// One command of a transcript: the text before it (comments, blank
/// lines), the command, and the output written under it.
struct Block {
    before: String,
    command: String,
    expected: Vec<String>,
}

struct Transcript {
    blocks: Vec<Block>,
    after: String,
}

fn parse(text: &str) -> Result<Transcript, String> {
    let mut blocks = Vec::new();
    let mut before = String::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        if line.trim().is_empty() || line.starts_with('#') {
            before.push_str(line);
            before.push('\n');
            continue;
        }
        match lines.next() {
            Some((_, "----")) => {}
            _ => return Err(format!("line {}: `----` must follow the command", n + 2)),
        }
        let mut expected = Vec::new();
        while let Some((_, l)) = lines.peek() {
            if l.is_empty() {
                break;
            }
            expected.push(l.to_string());
            lines.next();
        }
        blocks.push(Block {
            before: std::mem::take(&mut before),
            command: line.to_string(),
            expected,
        });
    }
    Ok(Transcript {
        blocks,
        after: before,
    })
}

fn render(t: &Transcript, outputs: &[Vec<String>]) -> String {
    let mut s = String::new();
    for (b, out) in t.blocks.iter().zip(outputs) {
        s.push_str(&b.before);
        s.push_str(&b.command);
        s.push_str("\n----\n");
        for l in out {
            s.push_str(l);
            s.push('\n');
        }
    }
    s.push_str(&t.after);
    s
}

/// Runs a transcript's commands; the output of each.
fn play(t: &Transcript) -> Result<Vec<Vec<String>>, String> {
    let first = t.blocks.first().ok_or("the transcript has no command")?;
    let mut lab = new_lab(&first.command)?;
    let mut outputs = vec![lab.tell()];
    for b in &t.blocks[1..] {
        let out = match lab.run(&b.command) {
            Ok(lines) => lines,
            Err(e) => {
                let mut lines = lab.tell();
                lines.push(format!("error: {e}"));
                lines
            }
        };
        outputs.push(if out.is_empty() {
            vec!["ok".into()]
        } else {
            out
        });
    }
    Ok(outputs)
}

/// A line diff of expected and actual output (`-` expected, `+` actual).
fn diff(expected: &[String], actual: &[String]) -> String {
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            let _ = writeln!(out, "  {}", expected[i]);
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            let _ = writeln!(out, "+ {}", actual[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "- {}", expected[i]);
            i += 1;
        }
    }
    out
}

/// Checks one file; a readable account of what differs, if anything.
fn check_file(path: &Path, rewrite: bool) -> Result<(), String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let t = parse(&text).map_err(|e| format!("{name}: {e}"))?;
    if !t.blocks.first().is_some_and(|b| b.before.starts_with('#')) {
        return Err(format!(
            "{name}: a transcript opens with `#` lines saying what it shows"
        ));
    }
    let outputs = play(&t).map_err(|e| format!("{name}: {e}"))?;
    if rewrite {
        let new = render(&t, &outputs);
        if new != text {
            std::fs::write(path, new).map_err(|e| format!("{name}: {e}"))?;
        }
        return Ok(());
    }
    let mut report = String::new();
    for (b, out) in t.blocks.iter().zip(&outputs) {
        if &b.expected != out {
            let _ = write!(
                report,
                "\n{name}: `{}` gave other output (- expected, + actual):\n{}",
                b.command,
                diff(&b.expected, out)
            );
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

fn transcript_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
    files.sort();
    files
}

#[test]
fn every_transcript_tells_what_the_cluster_does() {
    let rewrite = std::env::var_os("REWRITE").is_some_and(|v| v != "0");
    let files = transcript_files();
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| check_file(f, rewrite).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} transcripts differ (REWRITE=1 regenerates them; read the diff first):{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert!(
        files.len() >= 25,
        "expected at least 25 transcripts in tests/testdata, found {}",
        files.len()
    );
}

#[test]
fn a_changed_output_is_shown_as_a_diff() {
    let expected: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    let actual: Vec<String> = ["a", "x", "c"].map(String::from).to_vec();
    assert_eq!(diff(&expected, &actual), "  a\n+ x\n- b\n  c\n");
}

#[test]
fn the_format_round_trips_comments_and_commands() {
    let text = "# what it shows\n\ncluster 3\n----\nold\n\n# then\nstatus\n----\nx\ny\n";
    let t = parse(text).unwrap();
    assert_eq!(t.blocks.len(), 2);
    assert_eq!(t.blocks[1].expected, ["x", "y"]);
    assert_eq!(
        render(&t, &[vec!["old".into()], vec!["x".into(), "y".into()]]),
        text
    );
}
