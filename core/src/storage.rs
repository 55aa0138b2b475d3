//! The storage interface (ERaftKV `RaftStorageInterface`): the term and vote
//! a server must persist before it answers anyone, and its snapshots, both the
//! one it holds and one arriving in chunks.

use crate::types::{Index, NodeId, SnapshotBlock, Term, NO_NODE};

/// A complete snapshot: the last index and term it covers and its bytes
/// (the membership header and the state machine image, see `raft::snapshot_bytes`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Last index covered.
    pub index: Index,
    /// Its term.
    pub term: Term,
    /// The image.
    pub data: Vec<u8>,
}

/// Why a snapshot chunk was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// The chunk does not start where the received bytes end.
    WrongOffset {
        /// Where the next chunk must start.
        expected: u64,
        /// Where it started.
        got: u64,
    },
    /// `block_size` disagrees with the data's length.
    BadSize,
}

/// Persistent state other than the log (ERaftKV `RaftStorageInterface`).
pub trait Storage {
    /// Persists term and vote; called before any answer that depends on them
    /// (Figure 2: "updated on stable storage before responding to RPCs").
    fn save_meta(&mut self, term: Term, vote: NodeId);
    /// The persisted term and vote.
    fn load_meta(&self) -> (Term, NodeId);
    /// The latest complete snapshot, if any.
    fn load_snapshot(&self) -> Option<Snapshot>;
    /// Stores a complete snapshot taken locally.
    fn create_snapshot(&mut self, snapshot: Snapshot);
    /// The chunk of the complete snapshot starting at `offset`, at most `max`
    /// bytes; `None` when there is no snapshot or the offset is past its end.
    fn get_snapshot_block(&self, offset: u64, max: usize) -> Option<SnapshotBlock>;
    /// Stores an arriving chunk of the snapshot `(index, term)`. A chunk of a
    /// different snapshot than the one in progress starts over at offset 0.
    /// Returns the offset expected next.
    fn store_snapshot_block(
        &mut self,
        index: Index,
        term: Term,
        block: &SnapshotBlock,
    ) -> Result<u64, ChunkError>;
    /// The snapshot being received: `(index, term, bytes so far)`.
    fn incoming_snapshot(&self) -> Option<(Index, Term, u64)>;
    /// The bytes received so far, so the core can validate the image before
    /// `finish_incoming_snapshot` makes it the complete snapshot.
    fn incoming_snapshot_data(&self) -> Option<Vec<u8>>;
    /// Makes the received snapshot the complete one and returns it.
    fn finish_incoming_snapshot(&mut self) -> Option<Snapshot>;
    /// Forgets a partly received snapshot.
    fn clear_snapshot(&mut self);
}

/// `Storage` in memory; the simulator keeps it across a crash, like a disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemStorage {
    term: Term,
    vote: NodeId,
    snapshot: Option<Snapshot>,
    incoming: Option<Snapshot>,
    /// How many times term and vote were written: lets tests see that a
    /// server persisted before answering.
    pub meta_writes: u64,
}

impl MemStorage {
    /// Fresh storage: term 0, no vote, no snapshot.
    pub fn new() -> Self {
        MemStorage {
            vote: NO_NODE,
            ..Default::default()
        }
    }
}

impl Storage for MemStorage {
    fn save_meta(&mut self, term: Term, vote: NodeId) {
        self.term = term;
        self.vote = vote;
        self.meta_writes += 1;
    }

    fn load_meta(&self) -> (Term, NodeId) {
        (self.term, self.vote)
    }

    fn load_snapshot(&self) -> Option<Snapshot> {
        self.snapshot.clone()
    }

    fn create_snapshot(&mut self, snapshot: Snapshot) {
        self.snapshot = Some(snapshot);
    }

    fn get_snapshot_block(&self, offset: u64, max: usize) -> Option<SnapshotBlock> {
        let snap = self.snapshot.as_ref()?;
        let len = snap.data.len() as u64;
        if offset > len || (offset == len && len > 0) {
            return None;
        }
        let end = (offset + max.max(1) as u64).min(len);
        let data = snap.data[offset as usize..end as usize].to_vec();
        Some(SnapshotBlock {
            offset,
            block_size: data.len() as u64,
            data,
            is_last_chunk: end == len,
        })
    }

    fn store_snapshot_block(
        &mut self,
        index: Index,
        term: Term,
        block: &SnapshotBlock,
    ) -> Result<u64, ChunkError> {
        if block.block_size != block.data.len() as u64 {
            return Err(ChunkError::BadSize);
        }
        let same = self
            .incoming
            .as_ref()
            .is_some_and(|s| s.index == index && s.term == term);
        if !same {
            if block.offset != 0 {
                return Err(ChunkError::WrongOffset {
                    expected: 0,
                    got: block.offset,
                });
            }
            self.incoming = Some(Snapshot {
                index,
                term,
                data: Vec::new(),
            });
        }
        let Some(incoming) = self.incoming.as_mut() else {
            return Err(ChunkError::BadSize);
        };
        let have = incoming.data.len() as u64;
        if block.offset != have {
            return Err(ChunkError::WrongOffset {
                expected: have,
                got: block.offset,
            });
        }
        incoming.data.extend_from_slice(&block.data);
        Ok(incoming.data.len() as u64)
    }

    fn incoming_snapshot(&self) -> Option<(Index, Term, u64)> {
        self.incoming
            .as_ref()
            .map(|s| (s.index, s.term, s.data.len() as u64))
    }

    fn incoming_snapshot_data(&self) -> Option<Vec<u8>> {
        self.incoming.as_ref().map(|s| s.data.clone())
    }

    fn finish_incoming_snapshot(&mut self) -> Option<Snapshot> {
        let snap = self.incoming.take()?;
        self.snapshot = Some(snap.clone());
        Some(snap)
    }

    fn clear_snapshot(&mut self) {
        self.incoming = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(offset: u64, data: &[u8], last: bool) -> SnapshotBlock {
        SnapshotBlock {
            offset,
            data: data.to_vec(),
            block_size: data.len() as u64,
            is_last_chunk: last,
        }
    }

    #[test]
    fn meta_is_saved_loaded_and_counted() {
        let mut st = MemStorage::new();
        assert_eq!(st.load_meta(), (0, NO_NODE));
        st.save_meta(3, 2);
        st.save_meta(4, NO_NODE);
        assert_eq!(st.load_meta(), (4, NO_NODE));
        assert_eq!(st.meta_writes, 2);
    }

    #[test]
    fn complete_snapshot_is_read_back_in_chunks() {
        let mut st = MemStorage::new();
        assert_eq!(st.get_snapshot_block(0, 4), None);
        st.create_snapshot(Snapshot {
            index: 5,
            term: 2,
            data: b"0123456789".to_vec(),
        });
        assert_eq!(st.get_snapshot_block(0, 4), Some(block(0, b"0123", false)));
        assert_eq!(st.get_snapshot_block(4, 4), Some(block(4, b"4567", false)));
        assert_eq!(st.get_snapshot_block(8, 4), Some(block(8, b"89", true)));
        assert_eq!(st.get_snapshot_block(10, 4), None);
        assert_eq!(st.get_snapshot_block(u64::MAX, 4), None);
        assert_eq!(st.get_snapshot_block(0, 0), Some(block(0, b"0", false)));
        st.create_snapshot(Snapshot::default());
        assert_eq!(st.get_snapshot_block(0, 4), Some(block(0, b"", true)));
    }

    #[test]
    fn chunks_must_arrive_at_the_expected_offset() {
        let mut st = MemStorage::new();
        assert_eq!(
            st.store_snapshot_block(5, 2, &block(3, b"abc", false)),
            Err(ChunkError::WrongOffset {
                expected: 0,
                got: 3
            })
        );
        assert_eq!(
            st.store_snapshot_block(5, 2, &block(0, b"abc", false)),
            Ok(3)
        );
        assert_eq!(
            st.store_snapshot_block(5, 2, &block(0, b"abc", false)),
            Err(ChunkError::WrongOffset {
                expected: 3,
                got: 0
            }),
            "a duplicate"
        );
        assert_eq!(
            st.store_snapshot_block(5, 2, &block(6, b"ghi", false)),
            Err(ChunkError::WrongOffset {
                expected: 3,
                got: 6
            }),
            "a gap"
        );
        let mut lying = block(3, b"def", false);
        lying.block_size = 9;
        assert_eq!(
            st.store_snapshot_block(5, 2, &lying),
            Err(ChunkError::BadSize)
        );
        assert_eq!(st.incoming_snapshot(), Some((5, 2, 3)));
        assert_eq!(
            st.store_snapshot_block(5, 2, &block(3, b"def", true)),
            Ok(6)
        );
        assert_eq!(st.incoming_snapshot_data(), Some(b"abcdef".to_vec()));
        assert_eq!(st.load_snapshot(), None, "not complete until finished");
        let snap = st.finish_incoming_snapshot().unwrap();
        assert_eq!(
            (snap.index, snap.term, snap.data.clone()),
            (5, 2, b"abcdef".to_vec())
        );
        assert_eq!(st.load_snapshot(), Some(snap));
        assert_eq!(st.incoming_snapshot(), None);
        assert_eq!(st.finish_incoming_snapshot(), None);
    }

    #[test]
    fn a_chunk_of_another_snapshot_starts_over() {
        let mut st = MemStorage::new();
        st.store_snapshot_block(5, 2, &block(0, b"abc", false))
            .unwrap();
        assert_eq!(
            st.store_snapshot_block(7, 3, &block(0, b"xy", false)),
            Ok(2)
        );
        assert_eq!(st.incoming_snapshot(), Some((7, 3, 2)));
        st.clear_snapshot();
        assert_eq!(st.incoming_snapshot(), None);
        assert_eq!(st.incoming_snapshot_data(), None);
    }
}
