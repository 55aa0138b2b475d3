//! The slot table as a strip: all 1024 slots, 128 to a row, each coloured
//! by the KV group that owns it per the meta group's table. Slots moving
//! are outlined and striped in their source and destination colours, with
//! the migration's phase; the picked slot is ringed. Every slot is an
//! element with `data-testid="slot-<n>"` and `data-owner="g1"`.

use std::rc::Rc;

use raftlab_core::meta::{GroupId, Slot, SLOTS};
use raftlab_core::sim::sharded::MigrationPhase;
use yew::prelude::*;

use super::lab::name;

/// Slots per row.
const COLS: u16 = 128;
/// Cell size, user units.
const CW: f64 = 8.0;
const CH: f64 = 13.0;
/// Left margin for the row labels.
const LEFT: f64 = 34.0;

/// A slot moving: (slot, from, to, phase).
pub type Moving = (Slot, GroupId, GroupId, MigrationPhase);

#[derive(Properties, PartialEq)]
pub struct SlotStripProps {
    /// Owner of every slot.
    pub table: Rc<Vec<GroupId>>,
    /// Slots in migration.
    pub moving: Vec<Moving>,
    /// The picked slot.
    pub picked: Option<Slot>,
    pub onpick: Callback<Option<Slot>>,
}

fn cell_xy(slot: Slot) -> (f64, f64) {
    (
        LEFT + f64::from(slot % COLS) * CW,
        f64::from(slot / COLS) * CH,
    )
}

/// The phase's word, as the page and `data-phase` spell it.
pub fn phase_word(p: MigrationPhase) -> &'static str {
    match p {
        MigrationPhase::Freeze => "freeze",
        MigrationPhase::Import => "import",
        MigrationPhase::Record => "record",
        MigrationPhase::Drop => "drop",
        MigrationPhase::Done => "done",
        MigrationPhase::Failed => "failed",
    }
}

#[function_component(SlotStrip)]
pub fn slot_strip(props: &SlotStripProps) -> Html {
    let rows = SLOTS.div_ceil(COLS);
    let height = f64::from(rows) * CH;
    let width = LEFT + f64::from(COLS) * CW;
    let cells = (0..SLOTS).map(|slot| {
        let owner = props.table.get(usize::from(slot)).copied().unwrap_or(0);
        let (x, y) = cell_xy(slot);
        let onclick = {
            let onpick = props.onpick.clone();
            Callback::from(move |_: MouseEvent| onpick.emit(Some(slot)))
        };
        html! {
            <rect class={format!("slot own-{}", name(owner))} x={format!("{x}")} y={format!("{y}")}
                width={format!("{}", CW - 0.8)} height={format!("{}", CH - 1.5)}
                data-testid={format!("slot-{slot}")} data-owner={name(owner)} {onclick} />
        }
    });
    let labels = (0..rows).map(|r| {
        html! {
            <text class="row-label" x={format!("{}", LEFT - 4.0)} y={format!("{}", f64::from(r) * CH + CH / 2.0)}>
                { (r * COLS).to_string() }
            </text>
        }
    });
    let moving = props.moving.iter().map(|&(slot, from, to, phase)| {
        let (x, y) = cell_xy(slot);
        html! {
            <g class={classes!("moving", phase_word(phase))} data-testid={format!("moving-{slot}")}
                data-phase={phase_word(phase)}>
                <rect class={format!("half own-{}", name(from))} x={format!("{x}")} y={format!("{y}")}
                    width={format!("{}", (CW - 0.8) / 2.0)} height={format!("{}", CH - 1.5)} />
                <rect class={format!("half own-{}", name(to))} x={format!("{}", x + (CW - 0.8) / 2.0)} y={format!("{y}")}
                    width={format!("{}", (CW - 0.8) / 2.0)} height={format!("{}", CH - 1.5)} />
                <rect class="pulse" x={format!("{}", x - 4.0)} y={format!("{}", y - 4.0)}
                    width={format!("{}", CW + 7.2)} height={format!("{}", CH + 6.5)} rx="3" />
            </g>
        }
    });
    let picked = props.picked.filter(|&s| s < SLOTS).map(|slot| {
        let (x, y) = cell_xy(slot);
        html! {
            <rect class="picked" data-testid="slot-picked" data-slot={slot.to_string()}
                x={format!("{}", x - 1.5)} y={format!("{}", y - 1.5)}
                width={format!("{}", CW + 2.2)} height={format!("{}", CH + 1.5)} rx="1.5" />
        }
    });
    html! {
        <svg class="slot-strip" data-testid="slot-strip" viewBox={format!("0 -2 {} {}", width + 2.0, height + 4.0)}
            role="img" aria-label="The slot table: 1024 slots coloured by owning group">
            <g class="row-labels">{ for labels }</g>
            <g class="cells">{ for cells }</g>
            <g class="overlay">{ for moving }{ for picked }</g>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_tile_the_strip() {
        assert_eq!(cell_xy(0), (LEFT, 0.0));
        assert_eq!(cell_xy(COLS), (LEFT, CH));
        assert_eq!(cell_xy(SLOTS - 1).1, f64::from(SLOTS / COLS - 1) * CH);
    }
}
