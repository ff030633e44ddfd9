//! Answers kept ready for the next identical query. An answer from the index depends only
//! on the query's bytes (name as written, type, class, flags, EDNS0 options) and on the
//! zone, so the encoded answer to a query is kept, keyed by the query without its ID (and
//! the client's address family, a metrics label), and sent again with only the ID
//! replaced: no parsing, lookup, record building or encoding per query, and nothing
//! allocated. Every answer belongs to one zone generation (one [`Index`], compared by
//! pointer): when the watchers swap in a new zone, the kept answers are dropped.
//!
//! Forwarded answers are never kept (their TTLs count down; the forward cache keeps them).
//! The store is bounded in entries and bytes, and is emptied whole when full.

use std::collections::HashMap;
use std::sync::Arc;

use crate::records::Index;

/// Answers kept per receive loop.
pub const MAX_ENTRIES: usize = 65_536;

/// Bytes (queries plus answers) kept per receive loop.
pub const MAX_BYTES: usize = 32 << 20;

/// Queries longer than this are answered but not kept (ordinary ones are under 300 bytes).
pub const MAX_QUERY: usize = 512;

/// One kept answer.
#[derive(Debug)]
pub struct Kept {
    answer: Box<[u8]>,
    /// What the metrics count it under (see `metrics::LocalMetrics`).
    pub metrics: usize,
}

impl Kept {
    /// Writes the answer to the query `query` (the same bytes but for the ID) into `out`.
    pub fn write(&self, query: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&self.answer);
        if let (Some(id), Some(dst)) = (query.get(..2), out.get_mut(..2)) {
            dst.copy_from_slice(id);
        }
    }
}

/// The kept answers of one zone generation.
pub struct Answers {
    index: Arc<Index>,
    /// By client address family (IPv4, IPv6): query bytes after the ID -> answer.
    kept: [HashMap<Box<[u8]>, Kept>; 2],
    bytes: usize,
}

impl Answers {
    pub fn new(index: Arc<Index>) -> Answers {
        Answers {
            index,
            kept: [HashMap::new(), HashMap::new()],
            bytes: 0,
        }
    }

    /// The zone the kept answers come from.
    pub fn index(&self) -> &Arc<Index> {
        &self.index
    }

    /// Moves to `current` (the zone now served), dropping every answer when it changed.
    pub fn refresh(&mut self, current: Arc<Index>) {
        if !Arc::ptr_eq(&self.index, &current) {
            self.index = current;
            self.clear();
        }
    }

    fn clear(&mut self) {
        for kept in &mut self.kept {
            kept.clear();
        }
        self.bytes = 0;
    }

    pub fn len(&self) -> usize {
        self.kept[0].len() + self.kept[1].len()
    }

    /// The answer kept for `query` (a whole datagram) from a client of that family.
    pub fn get(&self, query: &[u8], ipv6: bool) -> Option<&Kept> {
        let key = query.get(2..)?;
        self.kept[usize::from(ipv6)].get(key)
    }

    /// Keeps `answer` (with any ID) for `query` (a whole datagram).
    pub fn insert(&mut self, query: &[u8], ipv6: bool, answer: &[u8], metrics: usize) {
        let Some(key) = query.get(2..) else {
            return;
        };
        if query.len() > MAX_QUERY {
            return;
        }
        let size = key.len() + answer.len();
        if self.len() >= MAX_ENTRIES || self.bytes + size > MAX_BYTES {
            self.clear();
        }
        let previous = self.kept[usize::from(ipv6)].insert(
            key.into(),
            Kept {
                answer: answer.into(),
                metrics,
            },
        );
        self.bytes += size;
        if let Some(p) = previous {
            self.bytes -= key.len() + p.answer.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Config;

    fn index() -> Arc<Index> {
        Arc::new(Index::empty(&Config::new("cluster.local", 5).unwrap()))
    }

    #[test]
    fn a_kept_answer_gets_the_new_query_id() {
        let mut a = Answers::new(index());
        let query = [0x12, 0x34, 1, 0, 0, 1, 9, 9];
        a.insert(&query, false, &[0x12, 0x34, 0x81, 0x80, 7, 7], 3);
        let again = [0xab, 0xcd, 1, 0, 0, 1, 9, 9];
        let kept = a.get(&again, false).expect("kept");
        assert_eq!(kept.metrics, 3);
        let mut out = Vec::new();
        kept.write(&again, &mut out);
        assert_eq!(out, [0xab, 0xcd, 0x81, 0x80, 7, 7]);
    }

    #[test]
    fn other_bytes_or_family_are_other_queries() {
        let mut a = Answers::new(index());
        a.insert(&[0, 1, 1, 0, 0, 1], false, &[0, 1, 0x81], 0);
        assert!(a.get(&[0, 2, 1, 0, 0, 2], false).is_none());
        assert!(a.get(&[0, 2, 1, 0, 0, 1], true).is_none());
        assert!(a.get(&[0, 2, 1, 0, 0, 1], false).is_some());
        // Shorter than an ID: never kept nor found.
        a.insert(&[0], false, &[1], 0);
        assert!(a.get(&[0], false).is_none());
    }

    #[test]
    fn a_new_zone_drops_every_answer() {
        let first = index();
        let mut a = Answers::new(first.clone());
        a.insert(&[0, 1, 5], false, &[0, 1, 6], 0);
        a.refresh(first.clone());
        assert_eq!(a.len(), 1, "same zone: kept");
        let second = index();
        a.refresh(second.clone());
        assert_eq!(a.len(), 0);
        assert!(Arc::ptr_eq(a.index(), &second));
    }

    #[test]
    fn long_queries_are_not_kept_and_the_store_is_bounded() {
        let mut a = Answers::new(index());
        let long = vec![0u8; MAX_QUERY + 1];
        a.insert(&long, false, &[0, 0], 0);
        assert_eq!(a.len(), 0);
        for i in 0..MAX_ENTRIES + 10 {
            let q = [0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8];
            a.insert(&q, false, &[0, 0, 1], 0);
        }
        assert!(a.len() <= MAX_ENTRIES);
        assert_eq!(a.len(), 10, "emptied once full, then refilled");
    }
}
