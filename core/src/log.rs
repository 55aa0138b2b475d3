//! The log: the `LogStore` trait the application implements (ERaftKV
//! `LogStoreInterface`), its in-memory implementation, and `RaftLog`, which
//! caches entries over a store and adds the snapshot base the core reasons with.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::types::{Entry, Index, Term};

/// Items per chunk of a `Chunked` sequence.
const CHUNK: usize = 32;

/// A double-ended sequence stored in shared chunks of `CHUNK` items, so a
/// clone shares them (copy on write) instead of copying every item. The
/// simulator clones whole clusters for its checkpoints: with the log in a
/// `VecDeque`, every checkpoint copied every entry of every node (one
/// allocation each for the payload), a cost that grew with the run.
///
/// Layout: item `i` is at `chunks[k / CHUNK][k % CHUNK]` with
/// `k = head + i`; every chunk but the last holds exactly `CHUNK` items
/// (the first one's first `head` are popped and no longer part of it).
#[derive(Clone)]
struct Chunked<T> {
    chunks: VecDeque<Arc<Vec<T>>>,
    head: usize,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: VecDeque::new(),
            head: 0,
            len: 0,
        }
    }
}

impl<T: Clone> Chunked<T> {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.chunks.clear();
        self.head = 0;
        self.len = 0;
    }

    fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let k = self.head + i;
        self.chunks.get(k / CHUNK)?.get(k % CHUNK)
    }

    fn front(&self) -> Option<&T> {
        self.get(0)
    }

    fn back(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    fn push_back(&mut self, item: T) {
        if self.chunks.back().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push_back(Arc::new(Vec::with_capacity(CHUNK)));
        }
        if let Some(last) = self.chunks.back_mut() {
            Arc::make_mut(last).push(item);
            self.len += 1;
        }
    }

    /// Drops the first item (the chunk goes once all of it is dropped).
    fn drop_front(&mut self) {
        if self.len == 0 {
            return;
        }
        self.len -= 1;
        self.head += 1;
        if self.len == 0 {
            self.clear();
        } else if self.head == CHUNK {
            self.chunks.pop_front();
            self.head = 0;
        }
    }

    /// Drops the last item.
    fn drop_back(&mut self) {
        if let Some(n) = self.len.checked_sub(1) {
            self.truncate(n);
        }
    }

    /// Keeps the first `n` items.
    fn truncate(&mut self, n: usize) {
        if n >= self.len {
            return;
        }
        if n == 0 {
            self.clear();
            return;
        }
        let end = self.head + n;
        let keep = end.div_ceil(CHUNK);
        self.chunks.truncate(keep);
        let within = end - (keep - 1) * CHUNK;
        if let Some(last) = self.chunks.back_mut() {
            if last.len() > within {
                Arc::make_mut(last).truncate(within);
            }
        }
        self.len = n;
    }

    /// Up to `max` items from position `start` on, cloned.
    fn slice(&self, start: usize, max: usize) -> Vec<T> {
        let end = self.len.min(start.saturating_add(max));
        (start..end).filter_map(|i| self.get(i).cloned()).collect()
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        (0..self.len).filter_map(|i| self.get(i))
    }
}

impl<T: Clone> From<Vec<T>> for Chunked<T> {
    fn from(items: Vec<T>) -> Self {
        let mut c = Chunked::default();
        for item in items {
            c.push_back(item);
        }
        c
    }
}

impl<T: Clone + PartialEq> PartialEq for Chunked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Clone + Eq> Eq for Chunked<T> {}

impl<T: Clone + std::fmt::Debug> std::fmt::Debug for Chunked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Why a log-store operation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    /// An append whose index is not `last_index + 1`.
    NotContiguous {
        /// The index the store expected.
        expected: Index,
        /// The index it was given.
        got: Index,
    },
    /// An index at or below the snapshot base, or past the end.
    OutOfRange(Index),
}

impl std::fmt::Display for LogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogError::NotContiguous { expected, got } => {
                write!(f, "append at index {got}, expected {expected}")
            }
            LogError::OutOfRange(i) => write!(f, "index {i} is outside the log"),
        }
    }
}

/// Where entries live (ERaftKV `LogStoreInterface`). Indexes are absolute;
/// the store remembers the index and term of the last entry compacted away
/// (its base) so `first_index` is `base + 1` and `last_index` is
/// `base + count`.
pub trait LogStore {
    /// Prepares an empty store (no-op for memory).
    fn init(&mut self);
    /// Drops every entry and makes `(index, term)` the new base.
    fn reset(&mut self, index: Index, term: Term);
    /// Appends one entry at `last_index + 1`.
    fn append(&mut self, entry: Entry) -> Result<(), LogError>;
    /// Drops entries with index < `first_index`, keeping the dropped prefix's
    /// last index and term as the base.
    fn erase_before(&mut self, first_index: Index) -> Result<(), LogError>;
    /// Drops entries with index >= `from_index`.
    fn erase_after(&mut self, from_index: Index) -> Result<(), LogError>;
    /// The entry at `index`, if held.
    fn get(&self, index: Index) -> Option<Entry>;
    /// Up to `count` entries starting at `first`.
    fn gets(&self, first: Index, count: usize) -> Vec<Entry>;
    /// Index of the first entry held (base + 1, even when empty).
    fn first_index(&self) -> Index;
    /// Index of the last entry held (the base when empty).
    fn last_index(&self) -> Index;
    /// Number of entries held.
    fn count(&self) -> usize;
    /// The base: index and term of the last entry compacted away.
    fn base(&self) -> (Index, Term);
    /// Makes appended entries durable (no-op for memory).
    fn sync(&mut self);
}

/// `LogStore` in memory: the simulator's "disk", which survives crashes
/// because the simulator keeps it while the server's volatile state is lost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemLogStore {
    base_index: Index,
    base_term: Term,
    entries: Chunked<Entry>,
}

impl MemLogStore {
    /// An empty store with base (0, 0).
    pub fn new() -> Self {
        Self::default()
    }
}

impl LogStore for MemLogStore {
    fn init(&mut self) {}

    fn reset(&mut self, index: Index, term: Term) {
        self.entries.clear();
        self.base_index = index;
        self.base_term = term;
    }

    fn append(&mut self, entry: Entry) -> Result<(), LogError> {
        let expected = self.last_index() + 1;
        if entry.index != expected {
            return Err(LogError::NotContiguous {
                expected,
                got: entry.index,
            });
        }
        self.entries.push_back(entry);
        Ok(())
    }

    fn erase_before(&mut self, first_index: Index) -> Result<(), LogError> {
        if first_index > self.last_index() + 1 {
            return Err(LogError::OutOfRange(first_index));
        }
        while self.first_index() < first_index {
            if let Some(e) = self.entries.front() {
                self.base_index = e.index;
                self.base_term = e.term;
            }
            self.entries.drop_front();
        }
        Ok(())
    }

    fn erase_after(&mut self, from_index: Index) -> Result<(), LogError> {
        if from_index <= self.base_index {
            return Err(LogError::OutOfRange(from_index));
        }
        let keep = (from_index - self.base_index - 1) as usize;
        self.entries.truncate(keep);
        Ok(())
    }

    fn get(&self, index: Index) -> Option<Entry> {
        if index <= self.base_index {
            return None;
        }
        self.entries
            .get((index - self.base_index - 1) as usize)
            .cloned()
    }

    fn gets(&self, first: Index, count: usize) -> Vec<Entry> {
        if first <= self.base_index {
            return Vec::new();
        }
        let start = (first - self.base_index - 1) as usize;
        self.entries.slice(start, count)
    }

    fn first_index(&self) -> Index {
        self.base_index + 1
    }

    fn last_index(&self) -> Index {
        self.base_index + self.entries.len() as Index
    }

    fn count(&self) -> usize {
        self.entries.len()
    }

    fn base(&self) -> (Index, Term) {
        (self.base_index, self.base_term)
    }

    fn sync(&mut self) {}
}

/// How many recent entries `RaftLog` keeps at hand: the tail is what
/// replication reads again and again.
pub const CACHE_ENTRIES: usize = 256;

/// The core's view of the log: a store plus a cache of its newest entries.
/// Invariant: the cache holds a contiguous suffix of the store's entries.
#[derive(Clone, Debug)]
pub struct RaftLog<L: LogStore> {
    store: L,
    cache: Chunked<Entry>,
}

impl<L: LogStore> RaftLog<L> {
    /// Wraps a store as it is (entries already in it stay; used on restart).
    pub fn new(store: L) -> Self {
        let mut log = RaftLog {
            store,
            cache: Chunked::default(),
        };
        log.refill_cache();
        log
    }

    fn refill_cache(&mut self) {
        let last = self.store.last_index();
        let first = self.store.first_index();
        let start = last.saturating_sub(CACHE_ENTRIES as Index - 1).max(first);
        self.cache = self.store.gets(start, CACHE_ENTRIES).into();
    }

    /// The store, for the application to hand back after a crash.
    pub fn into_store(self) -> L {
        self.store
    }

    /// The store, read-only.
    pub fn store(&self) -> &L {
        &self.store
    }

    /// Index of the snapshot base (last compacted index).
    pub fn base_index(&self) -> Index {
        self.store.base().0
    }

    /// Term of the snapshot base.
    pub fn base_term(&self) -> Term {
        self.store.base().1
    }

    /// First index held (base + 1).
    pub fn first_index(&self) -> Index {
        self.store.first_index()
    }

    /// Last index held, or the base when empty.
    pub fn last_index(&self) -> Index {
        self.store.last_index()
    }

    /// Term of the last entry, or of the base when empty.
    pub fn last_term(&self) -> Term {
        self.term_at(self.last_index()).unwrap_or(0)
    }

    /// Number of entries held after the base.
    pub fn count(&self) -> usize {
        self.store.count()
    }

    /// The term at `index`: known for the base and for held entries; index 0
    /// has term 0; `None` for compacted or missing indexes.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        let (base, base_term) = self.store.base();
        if index == base {
            return Some(base_term);
        }
        if index == 0 {
            return Some(0);
        }
        self.get(index).map(|e| e.term)
    }

    /// The entry at `index`, from the cache when it is there.
    pub fn get(&self, index: Index) -> Option<Entry> {
        if let Some(front) = self.cache.front() {
            if index >= front.index {
                return self.cache.get((index - front.index) as usize).cloned();
            }
        }
        self.store.get(index)
    }

    /// Borrowed cache access for hot paths; `None` if not cached.
    pub fn cached(&self, index: Index) -> Option<&Entry> {
        let front = self.cache.front()?;
        if index < front.index {
            return None;
        }
        self.cache.get((index - front.index) as usize)
    }

    /// Up to `max` entries from `first` on.
    pub fn entries(&self, first: Index, max: usize) -> Vec<Entry> {
        if let Some(front) = self.cache.front() {
            if first >= front.index {
                return self.cache.slice((first - front.index) as usize, max);
            }
        }
        self.store.gets(first, max)
    }

    /// Appends at the end; the index must be `last_index + 1`.
    pub fn append(&mut self, entry: Entry) -> Result<(), LogError> {
        self.store.append(entry.clone())?;
        if self.cache.len() == CACHE_ENTRIES {
            self.cache.drop_front();
        }
        self.cache.push_back(entry);
        Ok(())
    }

    /// Deletes entries with index >= `from` (conflict truncation, §5.3).
    pub fn truncate_from(&mut self, from: Index) -> Result<(), LogError> {
        self.store.erase_after(from)?;
        while self.cache.back().is_some_and(|e| e.index >= from) {
            self.cache.drop_back();
        }
        if self.cache.is_empty() {
            self.refill_cache();
        }
        Ok(())
    }

    /// Compacts entries up to and including `index` (§7); `index` must be held.
    pub fn compact_to(&mut self, index: Index) -> Result<(), LogError> {
        if index < self.first_index() || index > self.last_index() {
            return Err(LogError::OutOfRange(index));
        }
        self.store.erase_before(index + 1)?;
        while self.cache.front().is_some_and(|e| e.index <= index) {
            self.cache.drop_front();
        }
        Ok(())
    }

    /// Drops everything and starts from a snapshot's `(index, term)`.
    pub fn reset(&mut self, index: Index, term: Term) {
        self.store.reset(index, term);
        self.cache.clear();
    }

    /// Makes appended entries durable.
    pub fn sync(&mut self) {
        self.store.sync();
    }

    // ----- the log rules (§5.3, §5.4.1) -----

    /// Whether a log ending at `(last_index, last_term)` is at least as up
    /// to date as this one (§5.4.1): the later last term wins; with equal
    /// last terms, the longer log. A voter grants only to such a candidate,
    /// so a leader holds every committed entry.
    pub fn is_up_to_date(&self, last_index: Index, last_term: Term) -> bool {
        let my_term = self.last_term();
        last_term > my_term || (last_term == my_term && last_index >= self.last_index())
    }

    /// Position in `entries` (contiguous, in index order) of the first one
    /// this log does not hold with the same term: where new entries start,
    /// or where a conflicting suffix must go (§5.3). `None` if all are held.
    pub fn find_conflict(&self, entries: &[Entry]) -> Option<usize> {
        entries
            .iter()
            .position(|e| self.term_at(e.index) != Some(e.term))
    }

    /// The follower's side of AppendEntries (§5.3) for entries that follow
    /// `(prev, prev_term)` in the leader's log. Entries at or below the
    /// snapshot base are committed, so they match (§5.4); an entry already
    /// held with its term is kept (a duplicate never truncates); the first
    /// conflicting entry cuts the log there, unless it is at or below
    /// `committed`, which no leader can ask for (§5.4).
    ///
    /// `Ok(None)`: the whole request lies inside the snapshot, nothing to do.
    pub fn maybe_append(
        &mut self,
        prev: Index,
        prev_term: Term,
        entries: &[Entry],
        committed: Index,
    ) -> Result<Option<Appended>, AppendRefusal> {
        let (mut prev, mut prev_term, mut skip) = (prev, prev_term, 0usize);
        let base = self.base_index();
        if prev < base {
            let behind = base - prev;
            if behind >= entries.len() as Index {
                return Ok(None);
            }
            skip = behind as usize;
            prev = base;
            prev_term = self.base_term();
        }
        match self.term_at(prev) {
            Some(t) if t == prev_term => {}
            Some(mine) => {
                return Err(AppendRefusal::Mismatch {
                    index: prev,
                    mine,
                    leader: prev_term,
                })
            }
            None => {
                return Err(AppendRefusal::Missing {
                    index: prev,
                    last: self.last_index(),
                })
            }
        }
        let last_new = prev + (entries.len() - skip) as Index;
        let mut done = Appended {
            last_new,
            truncated_from: None,
            new: entries.len()..entries.len(),
        };
        let Some(first) = self.find_conflict(&entries[skip..]).map(|i| i + skip) else {
            return Ok(Some(done));
        };
        let at = entries[first].index;
        if self.term_at(at).is_some() {
            if at <= committed {
                return Err(AppendRefusal::Committed(at));
            }
            if self.truncate_from(at).is_err() {
                return Err(AppendRefusal::Truncate(at));
            }
            done.truncated_from = Some(at);
        }
        done.new = first..first;
        for e in &entries[first..] {
            if self.append(e.clone()).is_err() {
                return Err(AppendRefusal::Append {
                    index: e.index,
                    done,
                });
            }
            done.new.end += 1;
        }
        Ok(Some(done))
    }
}

/// What `RaftLog::maybe_append` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Index of the request's last entry: the log matches the leader's up
    /// to here (what the follower may commit, §5.3).
    pub last_new: Index,
    /// Where a conflicting suffix was cut, if one was.
    pub truncated_from: Option<Index>,
    /// Positions in the request's entries that were appended, in order
    /// (those before were held already, or compacted).
    pub new: std::ops::Range<usize>,
}

/// Why `RaftLog::maybe_append` refused a leader's entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendRefusal {
    /// The entry at `index` has another term than the leader's (§5.3).
    Mismatch {
        /// The index of `prev`.
        index: Index,
        /// This log's term there.
        mine: Term,
        /// The leader's.
        leader: Term,
    },
    /// No entry at `index`: this log ends at `last` (§5.3).
    Missing {
        /// The index of `prev`.
        index: Index,
        /// This log's last index.
        last: Index,
    },
    /// The first conflict is at a committed index: never truncated (§5.4).
    Committed(Index),
    /// The store refused to truncate at this index.
    Truncate(Index),
    /// The store refused to append the entry at `index`; `done` is what
    /// happened before.
    Append {
        /// The entry refused.
        index: Index,
        /// What was truncated and appended before it.
        done: Appended,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::EntryKind;

    fn e(index: Index, term: Term) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: Vec::new(),
        }
    }

    fn store(n: Index) -> MemLogStore {
        let mut s = MemLogStore::new();
        for i in 1..=n {
            s.append(e(i, i / 3 + 1)).unwrap();
        }
        s
    }

    #[test]
    fn mem_store_appends_only_at_last_index_plus_one() {
        let mut s = store(2);
        assert_eq!(
            s.append(e(4, 1)),
            Err(LogError::NotContiguous {
                expected: 3,
                got: 4
            })
        );
        assert_eq!(
            s.append(e(2, 1)),
            Err(LogError::NotContiguous {
                expected: 3,
                got: 2
            })
        );
        assert!(s.append(e(3, 1)).is_ok());
        assert_eq!((s.first_index(), s.last_index(), s.count()), (1, 3, 3));
    }

    #[test]
    fn mem_store_erase_before_keeps_the_base_index_and_term() {
        let mut s = store(6);
        s.erase_before(4).unwrap();
        assert_eq!(s.base(), (3, 2));
        assert_eq!((s.first_index(), s.last_index(), s.count()), (4, 6, 3));
        assert_eq!(s.get(3), None);
        assert_eq!(s.get(4), Some(e(4, 2)));
        // Erasing everything keeps the last entry as the base.
        s.erase_before(7).unwrap();
        assert_eq!(s.base(), (6, 3));
        assert_eq!((s.first_index(), s.last_index()), (7, 6));
        assert_eq!(s.erase_before(9), Err(LogError::OutOfRange(9)));
        assert!(s.append(e(7, 3)).is_ok(), "appends continue after the base");
    }

    #[test]
    fn mem_store_erase_after_truncates_but_never_below_the_base() {
        let mut s = store(6);
        s.erase_after(4).unwrap();
        assert_eq!(s.last_index(), 3);
        s.erase_after(10).unwrap();
        assert_eq!(s.last_index(), 3, "past the end: nothing to drop");
        s.erase_before(3).unwrap();
        assert_eq!(s.erase_after(2), Err(LogError::OutOfRange(2)));
        assert_eq!(s.last_index(), 3);
    }

    #[test]
    fn mem_store_reads_out_of_range_give_nothing() {
        let mut s = store(5);
        s.erase_before(3).unwrap();
        assert_eq!(s.get(0), None);
        assert_eq!(s.get(2), None);
        assert_eq!(s.get(6), None);
        assert_eq!(s.get(Index::MAX), None);
        assert!(s.gets(2, 3).is_empty());
        assert!(s.gets(Index::MAX, 3).is_empty());
        assert_eq!(s.gets(4, 10), vec![e(4, 2), e(5, 2)]);
    }

    #[test]
    fn mem_store_reset_starts_over_at_a_new_base() {
        let mut s = store(5);
        s.reset(10, 4);
        assert_eq!(s.base(), (10, 4));
        assert_eq!((s.first_index(), s.last_index(), s.count()), (11, 10, 0));
        assert!(s.append(e(11, 4)).is_ok());
    }

    #[test]
    fn raft_log_knows_terms_at_zero_the_base_and_held_entries_only() {
        let mut log = RaftLog::new(store(6));
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(6), Some(3));
        assert_eq!(log.term_at(7), None);
        log.compact_to(4).unwrap();
        assert_eq!(log.term_at(4), Some(2), "the base keeps its term");
        assert_eq!(log.term_at(3), None, "compacted");
        assert_eq!((log.base_index(), log.base_term()), (4, 2));
        assert_eq!(log.last_term(), 3);
        log.compact_to(6).unwrap();
        assert_eq!(log.count(), 0);
        assert_eq!(log.last_term(), 3, "an empty log's last term is the base's");
        assert_eq!(log.compact_to(6), Err(LogError::OutOfRange(6)));
        assert_eq!(log.compact_to(9), Err(LogError::OutOfRange(9)));
    }

    /// The cache must always agree with the store, across appends past its
    /// size, truncation and compaction.
    #[test]
    fn raft_log_cache_agrees_with_the_store() {
        let n = CACHE_ENTRIES as Index + 50;
        let mut log = RaftLog::new(MemLogStore::new());
        for i in 1..=n {
            log.append(e(i, i / 10 + 1)).unwrap();
        }
        let agree = |log: &RaftLog<MemLogStore>| {
            for i in 0..=log.last_index() + 1 {
                assert_eq!(log.get(i), log.store().get(i), "index {i}");
            }
            let first = log.first_index();
            assert_eq!(log.entries(first, 1000), log.store().gets(first, 1000));
            assert_eq!(log.entries(first + 20, 7), log.store().gets(first + 20, 7));
        };
        agree(&log);
        log.truncate_from(n - 10).unwrap();
        assert_eq!(log.last_index(), n - 11);
        agree(&log);
        log.compact_to(100).unwrap();
        agree(&log);
        log.truncate_from(101).unwrap();
        assert_eq!(log.last_index(), 100);
        agree(&log);
        log.append(e(101, 99)).unwrap();
        assert_eq!(log.cached(101).map(|x| x.term), Some(99));
        agree(&log);
        assert_eq!(log.truncate_from(100), Err(LogError::OutOfRange(100)));
        log.reset(500, 7);
        assert_eq!((log.last_index(), log.last_term()), (500, 7));
        agree(&log);
    }

    /// The chunked sequence behaves like a `VecDeque` through every
    /// operation, across chunk boundaries, and a clone taken in between
    /// never sees the original's later changes (nor the other way round).
    #[test]
    fn chunked_matches_a_vecdeque_and_clones_stay_apart() {
        let mut c: Chunked<u64> = Chunked::default();
        let mut d: VecDeque<u64> = VecDeque::new();
        let mut clones: Vec<(Chunked<u64>, VecDeque<u64>)> = Vec::new();
        let agree = |c: &Chunked<u64>, d: &VecDeque<u64>| {
            assert_eq!(c.len(), d.len());
            assert_eq!(
                c.iter().copied().collect::<Vec<_>>(),
                d.iter().copied().collect::<Vec<_>>()
            );
            assert_eq!(c.front(), d.front());
            assert_eq!(c.back(), d.back());
            assert_eq!(c.get(d.len()), None);
            assert_eq!(
                c.slice(3, 40),
                d.iter().skip(3).take(40).copied().collect::<Vec<_>>()
            );
        };
        // A fixed pseudo-random walk over the operations.
        let mut x: u64 = 12345;
        for step in 0..4000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match (x >> 33) % 10 {
                0..=4 => {
                    c.push_back(step);
                    d.push_back(step);
                }
                5 | 6 => {
                    c.drop_front();
                    d.pop_front();
                }
                7 => {
                    c.drop_back();
                    d.pop_back();
                }
                8 => {
                    let n = ((x >> 40) as usize) % (d.len() + 2);
                    c.truncate(n);
                    d.truncate(n);
                }
                _ => clones.push((c.clone(), d.clone())),
            }
            agree(&c, &d);
        }
        assert!(clones.len() > 100);
        for (c, d) in &clones {
            agree(c, d);
        }
        c.clear();
        assert!(c.is_empty() && c.front().is_none());
        assert_eq!(Chunked::from(vec![1, 2, 3]), Chunked::from(vec![1, 2, 3]));
    }

    #[test]
    fn up_to_date_compares_last_terms_then_lengths_section_5_4_1() {
        let log = RaftLog::new(store(6)); // last entry: index 6, term 3
        assert!(
            log.is_up_to_date(1, 4),
            "a later last term wins however short"
        );
        assert!(
            !log.is_up_to_date(9, 2),
            "an earlier last term loses however long"
        );
        assert!(log.is_up_to_date(6, 3) && log.is_up_to_date(7, 3));
        assert!(
            !log.is_up_to_date(5, 3),
            "same last term: the shorter log loses"
        );
    }

    #[test]
    fn find_conflict_points_at_the_first_entry_not_held_with_its_term() {
        let log = RaftLog::new(store(6));
        assert_eq!(log.find_conflict(&[e(4, 2), e(5, 2)]), None);
        assert_eq!(log.find_conflict(&[e(5, 2), e(6, 9), e(7, 9)]), Some(1));
        assert_eq!(
            log.find_conflict(&[e(6, 3), e(7, 3)]),
            Some(1),
            "past the end"
        );
    }

    #[test]
    fn maybe_append_keeps_duplicates_and_cuts_a_conflicting_suffix_section_5_3() {
        let mut log = RaftLog::new(store(6));
        let dup = log
            .maybe_append(3, 2, &[e(4, 2), e(5, 2)], 0)
            .unwrap()
            .unwrap();
        assert_eq!((dup.last_new, dup.truncated_from, dup.new), (5, None, 2..2));
        assert_eq!(log.last_index(), 6, "a duplicate never truncates");
        let cut = log
            .maybe_append(4, 2, &[e(5, 2), e(6, 4), e(7, 4)], 4)
            .unwrap()
            .unwrap();
        assert_eq!(
            (cut.last_new, cut.truncated_from, cut.new),
            (7, Some(6), 1..3)
        );
        assert_eq!((log.last_index(), log.last_term()), (7, 4));
        assert_eq!(
            log.maybe_append(4, 2, &[e(5, 9)], 5),
            Err(AppendRefusal::Committed(5)),
            "a committed entry is never overwritten (§5.4)"
        );
        assert_eq!(
            log.maybe_append(7, 3, &[], 0),
            Err(AppendRefusal::Mismatch {
                index: 7,
                mine: 4,
                leader: 3
            })
        );
        assert_eq!(
            log.maybe_append(9, 4, &[], 0),
            Err(AppendRefusal::Missing { index: 9, last: 7 })
        );
    }

    #[test]
    fn maybe_append_treats_compacted_entries_as_matching() {
        let mut log = RaftLog::new(store(6));
        log.compact_to(4).unwrap();
        assert_eq!(log.maybe_append(1, 1, &[e(2, 1), e(3, 2)], 4), Ok(None));
        let got = log
            .maybe_append(2, 9, &[e(3, 9), e(4, 9), e(5, 2), e(6, 3), e(7, 3)], 4)
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.last_new, got.new),
            (7, 4..5),
            "the prefix below the base matches"
        );
    }

    #[test]
    fn raft_log_rebuilt_over_a_store_sees_its_entries() {
        let log = RaftLog::new(store(5));
        assert_eq!((log.first_index(), log.last_index()), (1, 5));
        assert_eq!(log.cached(5).map(|x| x.index), Some(5));
        let store = log.into_store();
        assert_eq!(store.count(), 5);
    }
}
