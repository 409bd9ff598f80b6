//! Keys and the links to them: finding repeated keys, and resolving each linking value (an
//! order's `customer_id`) to the row of the record it names.
//!
//! Both work on 64-bit hashes of the values, computed a slice at a time, and confirm every
//! match value by value, so two different keys with the same hash are never confused. The
//! loader uses them to check the data; the engine joins related records through the resolved
//! rows (whole numbers) instead of comparing key texts again.

use datafusion::arrow::array::BooleanBufferBuilder;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt32Array, make_comparator};
use datafusion::arrow::buffer::{NullBuffer, ScalarBuffer};
use datafusion::arrow::compute::{SortOptions, cast};
use datafusion::common::hash_utils::{QualityRandomState, create_hashes};
use datafusion::common::{HashMap, HashSet};

/// Calls `each(row, hash)` for every known value of `array`, hashing a slice at a time so
/// that a column of millions of values needs no copy. Equal values have equal hashes.
pub fn hashes(array: &ArrayRef, mut each: impl FnMut(usize, u64)) {
    const CHUNK: usize = 1 << 16;
    let state = QualityRandomState::with_seed(0x5e61);
    let mut buffer = vec![0u64; CHUNK.min(array.len())];
    let mut start = 0;
    while start < array.len() {
        let len = CHUNK.min(array.len() - start);
        let part = array.slice(start, len);
        let slot = &mut buffer[..len];
        if create_hashes([&part], &state, slot).is_err() {
            // Only types without a hash fail (none that segl loads): every value then gets
            // a hash of its own, and only equal rows would match.
            for (k, h) in slot.iter_mut().enumerate() {
                *h = (start + k) as u64;
            }
        }
        for (k, h) in slot.iter().enumerate() {
            if part.is_valid(k) {
                each(start + k, *h);
            }
        }
        start += len;
    }
}

/// A `HashMap`/`HashSet` hasher for values that are hashes already: it passes them through.
#[derive(Clone, Copy, Default)]
pub struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Builds [`Prehashed`] hashers.
pub type PrehashedState = std::hash::BuildHasherDefault<Prehashed>;

/// Hashes gathered in buckets by their top bits, to find the ones that occur more than once:
/// each bucket is small enough for the processor's cache when it is sorted, which for
/// millions of keys is far faster than one big hash set.
pub struct HashBuckets {
    buckets: Vec<Vec<u64>>,
}

impl Default for HashBuckets {
    fn default() -> Self {
        HashBuckets {
            buckets: vec![Vec::new(); 1 << Self::BITS],
        }
    }
}

impl HashBuckets {
    const BITS: u32 = 10;

    pub fn push(&mut self, h: u64) {
        let b = (h >> (64 - Self::BITS)) as usize;
        if let Some(bucket) = self.buckets.get_mut(b) {
            bucket.push(h);
        }
    }

    /// The hashes pushed more than once.
    #[must_use]
    pub fn repeated(self) -> HashSet<u64> {
        let mut repeated = HashSet::new();
        for mut bucket in self.buckets {
            bucket.sort_unstable();
            for pair in bucket.windows(2) {
                if pair[0] == pair[1] {
                    repeated.insert(pair[0]);
                }
            }
        }
        repeated
    }
}

/// The hashes that more than one value of `array` has.
fn repeated_hashes(array: &ArrayRef) -> HashSet<u64> {
    let mut buckets = HashBuckets::default();
    hashes(array, |_, h| buckets.push(h));
    buckets.repeated()
}

/// Rows whose key was used by an earlier row, as (first row, repeating row) in row order, and
/// the first rows of the repeated keys.
///
/// A first pass keeps only the hashes; rows whose hash was seen before are then compared value
/// by value.
#[must_use]
pub fn repeated_keys(array: &ArrayRef) -> (Vec<(usize, usize)>, HashSet<usize>) {
    let suspects = repeated_hashes(array);
    let mut repeats = Vec::new();
    let mut distinct = HashSet::new();
    if suspects.is_empty() {
        return (repeats, distinct);
    }
    let Ok(equal) = make_comparator(array.as_ref(), array.as_ref(), SortOptions::default()) else {
        return (repeats, distinct);
    };
    // The first row of each distinct key among the rows with a suspect hash.
    let mut firsts: HashMap<u64, Vec<usize>> = HashMap::new();
    hashes(array, |i, h| {
        if !suspects.contains(&h) {
            return;
        }
        let rows = firsts.entry(h).or_default();
        match rows.iter().find(|&&f| equal(f, i).is_eq()) {
            Some(&f) => {
                repeats.push((f, i));
                distinct.insert(f);
            }
            None => rows.push(i),
        }
    });
    (repeats, distinct)
}

/// The rows of a key column, found by value.
pub struct KeyIndex {
    keys: ArrayRef,
    /// The first row of each key hash.
    first: std::collections::HashMap<u64, u32, PrehashedState>,
    /// Further rows with a hash already taken (different keys with one hash, or a repeated key).
    more: HashMap<u64, Vec<u32>>,
}

impl KeyIndex {
    /// Indexes `keys`; `None` when the table has more rows than a link can name.
    #[must_use]
    pub fn new(keys: &ArrayRef) -> Option<KeyIndex> {
        u32::try_from(keys.len()).ok()?;
        let mut first: std::collections::HashMap<u64, u32, PrehashedState> =
            std::collections::HashMap::with_capacity_and_hasher(
                keys.len(),
                PrehashedState::default(),
            );
        let mut more: HashMap<u64, Vec<u32>> = HashMap::new();
        hashes(keys, |i, h| {
            let row = u32::try_from(i).unwrap_or(u32::MAX);
            match first.entry(h) {
                std::collections::hash_map::Entry::Occupied(_) => {
                    more.entry(h).or_default().push(row);
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(row);
                }
            }
        });
        Some(KeyIndex {
            keys: std::sync::Arc::clone(keys),
            first,
            more,
        })
    }

    /// For each value of `links`, the row of the key equal to it; unknown for an unknown link
    /// and for a link no key matches. `None` when the links cannot be compared with the keys.
    #[must_use]
    pub fn resolve(&self, links: &ArrayRef) -> Option<UInt32Array> {
        let links = if links.data_type() == self.keys.data_type() {
            std::sync::Arc::clone(links)
        } else {
            cast(links, self.keys.data_type()).ok()?
        };
        let mut rows = vec![0u32; links.len()];
        let mut known = BooleanBufferBuilder::new(links.len());
        known.append_n(links.len(), false);
        if let (Some(texts), Some(keys)) = (
            links.as_string_opt::<i32>(),
            self.keys.as_string_opt::<i32>(),
        ) {
            // Text keys, the usual kind: related records often come grouped by the record they
            // link to, and a link equal to the one before it resolves to the same row.
            hashes(&links, |i, h| {
                if i > 0 && known.get_bit(i - 1) && texts.value(i) == texts.value(i - 1) {
                    rows[i] = rows[i - 1];
                    known.set_bit(i, true);
                    return;
                }
                let text = texts.value(i);
                if let Some(k) = self.find(h, |k| keys.value(k as usize) == text) {
                    rows[i] = k;
                    known.set_bit(i, true);
                }
            });
            let nulls = NullBuffer::new(known.finish());
            return Some(UInt32Array::new(ScalarBuffer::from(rows), Some(nulls)));
        }
        let equal =
            make_comparator(links.as_ref(), self.keys.as_ref(), SortOptions::default()).ok()?;
        // The key found for the previous link: related records often come grouped by the
        // record they link to, and then most links repeat the one before.
        let mut last: Option<(u64, u32)> = None;
        hashes(&links, |i, h| {
            let repeat = last
                .filter(|&(lh, k)| lh == h && equal(i, k as usize).is_eq())
                .map(|(_, k)| k);
            let found = repeat.or_else(|| self.find(h, |k| equal(i, k as usize).is_eq()));
            if let Some(k) = found {
                rows[i] = k;
                known.set_bit(i, true);
                last = Some((h, k));
            }
        });
        let nulls = NullBuffer::new(known.finish());
        Some(UInt32Array::new(ScalarBuffer::from(rows), Some(nulls)))
    }

    /// The row of the key with hash `h` for which `is_it` holds.
    fn find(&self, h: u64, is_it: impl Fn(u32) -> bool) -> Option<u32> {
        self.first
            .get(&h)
            .copied()
            .filter(|&k| is_it(k))
            .or_else(|| {
                self.more
                    .get(&h)
                    .and_then(|ks| ks.iter().copied().find(|&k| is_it(k)))
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, ArrayRef, Int64Array, StringArray};

    use super::KeyIndex;

    fn rows(index: &KeyIndex, links: ArrayRef) -> Vec<Option<u32>> {
        let resolved = index.resolve(&links).expect("comparable");
        (0..resolved.len())
            .map(|i| resolved.is_valid(i).then(|| resolved.value(i)))
            .collect()
    }

    #[test]
    fn text_links_grouped_or_not_unknown_or_unmatched() {
        let keys: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c"]));
        let index = KeyIndex::new(&keys).expect("small");
        let links: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            Some("b"),
            None,
            Some("b"),
            Some("x"),
            Some("x"),
            Some("a"),
            Some("c"),
            Some("a"),
        ]));
        assert_eq!(
            rows(&index, links),
            vec![
                Some(1),
                Some(1),
                None,
                Some(1),
                None,
                None,
                Some(0),
                Some(2),
                Some(0)
            ]
        );
    }

    #[test]
    fn number_links() {
        let keys: ArrayRef = Arc::new(Int64Array::from(vec![10, 20]));
        let index = KeyIndex::new(&keys).expect("small");
        let links: ArrayRef = Arc::new(Int64Array::from(vec![Some(20), Some(20), None, Some(5)]));
        assert_eq!(rows(&index, links), vec![Some(1), Some(1), None, None]);
    }
}
