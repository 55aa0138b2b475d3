//! raftlab in the browser: the page shell that the simulator will drive.
//!
//! For now it draws the initial state of a five-node cluster built from
//! `raftlab_core`: every node a follower in term 0 with nothing committed.
//! Nothing moves yet; the simulator wiring replaces this state later.

mod ring;

use raftlab_core::{Membership, NodeId};
use yew::prelude::*;

/// Side of the square SVG drawing area, in user units.
const VIEW: f64 = 400.0;
/// Radius of the ring the nodes sit on.
const RING_RADIUS: f64 = 140.0;
/// Radius of one node's circle.
const NODE_RADIUS: f64 = 40.0;

/// What the page shows of one node. The `data-*` attributes that the browser
/// tests read are rendered from these fields.
#[derive(Clone, Debug, PartialEq)]
struct NodeView {
    id: NodeId,
    role: &'static str,
    term: u64,
    commit: u64,
    alive: bool,
}

impl NodeView {
    /// A node as it starts: a live follower in term 0 with nothing committed.
    fn initial(id: NodeId) -> Self {
        NodeView {
            id,
            role: "follower",
            term: 0,
            commit: 0,
            alive: true,
        }
    }
}

#[derive(Properties, PartialEq)]
struct ClusterProps {
    nodes: Vec<NodeView>,
}

/// The nodes drawn as a ring, node 1 at the top, clockwise.
#[function_component(Cluster)]
fn cluster(props: &ClusterProps) -> Html {
    let centre = VIEW / 2.0;
    let points = ring::positions(props.nodes.len(), centre, centre, RING_RADIUS);
    let nodes = props.nodes.iter().zip(points).map(|(node, (x, y))| {
        let label = format!("S{}", node.id);
        let detail = format!("{} · term {}", node.role, node.term);
        html! {
            <g class={classes!("node", node.role)} key={node.id.to_string()}>
                <circle
                    cx={x.to_string()} cy={y.to_string()} r={NODE_RADIUS.to_string()}
                    data-testid={format!("node-{}", node.id)}
                    data-role={node.role}
                    data-term={node.term.to_string()}
                    data-alive={node.alive.to_string()}
                    data-commit={node.commit.to_string()}
                >
                    <title>{ format!("{label}: {detail}, commit index {}", node.commit) }</title>
                </circle>
                <text class="label" x={x.to_string()} y={y.to_string()}>{ label }</text>
                <text class="detail" x={x.to_string()} y={(y + NODE_RADIUS + 20.0).to_string()}>
                    { detail }
                </text>
            </g>
        }
    });
    html! {
        <svg class="cluster" viewBox={format!("0 0 {VIEW} {VIEW}")} role="img"
            aria-label={format!("A cluster of {} Raft nodes", props.nodes.len())}>
            <circle class="ring" cx={centre.to_string()} cy={centre.to_string()}
                r={RING_RADIUS.to_string()} />
            { for nodes }
        </svg>
    }
}

#[function_component(App)]
fn app() -> Html {
    let membership = Membership::with_voters(1..=5);
    let nodes: Vec<NodeView> = membership
        .voters
        .iter()
        .copied()
        .map(NodeView::initial)
        .collect();
    let count = nodes.len();
    html! {
        <>
            <header class="masthead">
                <h1>{ "raftlab" }</h1>
                <p class="tagline">{ "A laboratory for the Raft consensus algorithm" }</p>
            </header>
            <main class="stage">
                <Cluster nodes={nodes} />
                <p class="status" data-testid="cluster-status">
                    { format!("{count} voters · term 0 · no leader yet · commit index 0") }
                </p>
            </main>
        </>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
