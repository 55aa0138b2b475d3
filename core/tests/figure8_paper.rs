//! Lesson 26 against Figure 8 of the Raft paper (Ongaro and Ousterhout,
//! "In Search of an Understandable Consensus Algorithm", extended version,
//! §5.4.2, Figure 8): the lesson file is played as the page plays it, and
//! at the end of each of the states (a) to (e) every server's log (the
//! terms of its entries, by index) and the leader with its term are
//! compared with the figure. (d) and (e) are two futures of (c): the lesson
//! plays (d), then returns the run to the end of (c) (`back_to_step`) and
//! plays (e).

mod common;

use std::collections::BTreeMap;

use common::lessons::{load, play_answering};
use raftlab_core::lesson::Lesson;
use raftlab_core::sim::{actions_of, Node, Sim};
use raftlab_core::trace::{read_trace, EventKind};
use raftlab_core::{LogStore, NodeId, Role, Storage, Term};

fn lesson() -> Lesson {
    load("26-figure8-paper.json")
}

/// One state of the figure: its label, the leader and its term, and the
/// five logs S1..S5 as terms by index.
struct State {
    label: &'static str,
    leader: (NodeId, Term),
    logs: [&'static [Term]; 5],
}

/// Figure 8 as drawn (§5.4.2). (a) S1 leads term 2 and has copied index 2
/// to S2. (b) S1 crashed; S5 leads term 3 (votes of S3, S4 and itself) with
/// a different entry at index 2. (c) S5 crashed; S1 restarted, leads term
/// 4, has copied index 2 to S3 and appended index 3 of term 4. (d) S1
/// crashed; S5 leads term 5 (votes of S2, S3, S4) and has overwritten
/// index 2 everywhere. (e) Instead, S1 copied its term-4 entry to a
/// majority.
const FIGURE: [State; 5] = [
    State {
        label: "(a)",
        leader: (1, 2),
        logs: [&[1, 2], &[1, 2], &[1], &[1], &[1]],
    },
    State {
        label: "(b)",
        leader: (5, 3),
        logs: [&[1, 2], &[1, 2], &[1], &[1], &[1, 3]],
    },
    State {
        label: "(c)",
        leader: (1, 4),
        logs: [&[1, 2, 4], &[1, 2], &[1, 2], &[1], &[1, 3]],
    },
    State {
        label: "(d)",
        leader: (5, 5),
        logs: [&[1, 3], &[1, 3], &[1, 3], &[1, 3], &[1, 3]],
    },
    State {
        label: "(e)",
        leader: (1, 4),
        logs: [&[1, 2, 4], &[1, 2, 4], &[1, 2, 4], &[1], &[1, 3]],
    },
];

/// Each server's log as terms by index, from the running server or, for a
/// crashed one, from what its disk kept.
fn logs(sim: &Sim) -> BTreeMap<NodeId, Vec<Term>> {
    sim.nodes()
        .iter()
        .map(|(&id, n)| {
            let terms = match n {
                Node::Up(s) => {
                    let log = s.log();
                    (log.first_index()..=log.last_index())
                        .filter_map(|i| log.term_at(i))
                        .collect()
                }
                Node::Down(_, disk) => disk
                    .gets(disk.first_index(), disk.count())
                    .iter()
                    .map(|e| e.term)
                    .collect(),
            };
            (id, terms)
        })
        .collect()
}

/// What the run showed at the end of a step.
struct End {
    title: String,
    logs: BTreeMap<NodeId, Vec<Term>>,
    /// The leader and its term.
    leader: Option<(NodeId, Term)>,
    /// The leader's commit index.
    commit: u64,
}

/// Every step's end, and the run at the end.
struct Played {
    ends: Vec<End>,
    sim: Sim,
}

/// Plays the lesson as the page does: the right answer to each question,
/// Next after each step.
fn play() -> Played {
    let mut ends = Vec::new();
    let played = play_answering(lesson(), |_, step, sim| {
        let leader = sim
            .leader()
            .map(|l| (l, sim.server(l).expect("up").current_term()));
        let commit = leader.map_or(0, |(l, _)| sim.server(l).expect("up").commit_idx());
        ends.push(End {
            title: step.title.clone().unwrap_or_default(),
            logs: logs(sim),
            leader,
            commit,
        });
    });
    Played {
        ends,
        sim: played.sim,
    }
}

/// The end of the last step whose title begins with `label`.
fn at<'a>(played: &'a Played, label: &str) -> &'a End {
    played
        .ends
        .iter()
        .rev()
        .find(|e| e.title.starts_with(label))
        .unwrap_or_else(|| panic!("a step titled {label}"))
}

#[test]
fn every_state_of_the_lesson_matches_figure_8_of_the_paper() {
    let played = play();
    for state in &FIGURE {
        let End {
            title,
            logs,
            leader,
            ..
        } = at(&played, state.label);
        assert_eq!(*leader, Some(state.leader), "{title}: leader and term");
        for (i, want) in state.logs.iter().enumerate() {
            let id = i as NodeId + 1;
            let got = &logs[&id];
            if state.label == "(d)" && id == 5 {
                // The one entry the figure does not draw, and the narration
                // says so: the new leader's own no-op of term 5, at index 3.
                assert_eq!(got.as_slice(), [*want, &[5]].concat(), "{title}: S5");
            } else {
                assert_eq!(got.as_slice(), *want, "{title}: S{id}");
            }
        }
    }
}

#[test]
fn in_c_the_old_entry_on_a_majority_is_not_committed_and_in_e_it_is() {
    let played = play();
    // (c): index 2 (term 2) is on S1, S2 and S3, yet the leader of term 4
    // has not committed it: it counts replicas only of its own term.
    let c = at(&played, "(c)");
    let holders = c.logs.values().filter(|l| l.get(1) == Some(&2)).count();
    assert_eq!(holders, 3);
    assert!(
        c.commit < 2,
        "not committed in (c): commit index {}",
        c.commit
    );
    // (e): its term-4 entry on a majority commits index 3, and index 2 with it.
    assert_eq!(at(&played, "(e)").commit, 3);
}

#[test]
fn the_run_goes_back_from_d_to_c_and_keeps_only_the_branch_of_e() {
    let played = play();
    let sim = &played.sim;
    // What (d) did is gone from the run: no entry was ever overwritten and
    // nobody led term 5.
    assert!(sim
        .events()
        .iter()
        .all(|e| !matches!(e.kind, EventKind::Truncate { .. })));
    assert!(!sim.events().iter().any(|e| matches!(
        e.kind,
        EventKind::Role {
            role: Role::Leader,
            term: 5,
            ..
        }
    )));
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    // The branch is an ordinary run: its trace replays event for event.
    let text = sim.trace_jsonl();
    let trace = read_trace(&text).expect("readable");
    let mut again = Sim::from_header(&trace.header, &actions_of(&trace.events)).expect("replays");
    again.run_until(sim.now());
    assert_eq!(again.trace_jsonl(), text);
}

#[test]
fn after_e_s5_cannot_win_because_s2_and_s3_refuse_on_the_log_check() {
    let played = play();
    let sim = &played.sim;
    assert_eq!(sim.leader(), None);
    let s5 = sim.server(5).expect("S5 runs");
    assert_eq!((s5.state(), s5.current_term()), (Role::Candidate, 5));
    let refusal = |voter: NodeId| {
        sim.events().iter().rev().find_map(|e| match &e.kind {
            EventKind::Vote {
                node,
                candidate: 5,
                term: 5,
                granted,
                reason,
                ..
            } if *node == voter => Some((*granted, reason.clone().unwrap_or_default())),
            _ => None,
        })
    };
    for voter in [2, 3] {
        let (granted, reason) = refusal(voter).expect("S5 asked");
        assert!(!granted, "S{voter} refuses");
        // The narration's reason, as the core gives it.
        assert!(
            reason.contains("last entry is of term 4") && reason.contains("§5.4.1"),
            "S{voter}: {reason}"
        );
    }
    assert_eq!(refusal(4).map(|(g, _)| g), Some(true));
    // S1 crashed in term 4, the log of (e) on its disk.
    match &sim.nodes()[&1] {
        Node::Down(st, _) => assert_eq!(st.load_meta().0, 4),
        Node::Up(_) => panic!("S1 is down"),
    }
    assert_eq!(logs(sim)[&1], [1, 2, 4]);
}
