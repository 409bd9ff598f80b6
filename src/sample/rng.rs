//! A tiny deterministic random number generator (SplitMix64) and integer-only helpers.
//!
//! The sequence is fixed forever: changing anything here changes every generated file, so the
//! committed sample in `rules/data/` would have to be regenerated.

/// SplitMix64 (Steele, Lea, Flood 2014): 64 bits of state, passes BigCrush, trivial to port.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// One round of the SplitMix64 output function: a good 64-bit mixer.
#[must_use]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator for one stream: `(seed, stream, index)` → an independent sequence.
    #[must_use]
    pub fn for_item(seed: u64, stream: u64, index: u64) -> Rng {
        let state = mix(seed ^ mix(stream.wrapping_mul(GOLDEN) ^ mix(index.wrapping_add(1))));
        Rng { state }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// A uniform integer in `0..n` (0 when `n` is 0). Uses the widening-multiply method, whose
    /// tiny bias is irrelevant here and which gives the same answer on every platform.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform integer in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo).saturating_add(1);
        lo.wrapping_add(self.below(span) as i64)
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index into `weights`, chosen with probability proportional to each weight.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut pick = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            let w = u64::from(*w);
            if pick < w {
                return i;
            }
            pick -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// One of `items` by weight; `items` must not be empty (the first item is returned then).
    pub fn pick<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let weights: Vec<u32> = items.iter().map(|(_, w)| *w).collect();
        let i = self.weighted(&weights);
        &items[i.min(items.len().saturating_sub(1))].0
    }

    /// One of `items` uniformly.
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.below(items.len() as u64) as usize;
        &items[i.min(items.len().saturating_sub(1))]
    }

    /// A skewed integer in `lo..=hi`: most values near `lo`, a long tail towards `hi`
    /// (the smallest of `k` uniform draws).
    pub fn skewed(&mut self, lo: i64, hi: i64, k: u32) -> i64 {
        let mut best = i64::MAX;
        for _ in 0..k.max(1) {
            best = best.min(self.range(lo, hi));
        }
        best
    }

    /// A Pareto-like value in `lo..=hi` with shape roughly `1/alpha_tenths*10`: computed with
    /// integers only as `lo * 1000 / u` for a uniform `u` in `1..=1000`, raised by repeated draws.
    pub fn pareto(&mut self, lo: i64, hi: i64) -> i64 {
        let u = self.range(1, 1000);
        let v = lo.saturating_mul(1000) / u;
        v.clamp(lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_never_changes() {
        // SplitMix64 reference values for state 0 (from the original paper's C code).
        let mut rng = Rng { state: 0 };
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut a = Rng::for_item(1, 2, 3);
        let mut b = Rng::for_item(1, 2, 3);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn helpers_stay_in_range() {
        let mut rng = Rng::for_item(7, 0, 0);
        for _ in 0..10_000 {
            let v = rng.range(-3, 5);
            assert!((-3..=5).contains(&v));
            assert!(rng.below(7) < 7);
            let p = rng.pareto(10, 500);
            assert!((10..=500).contains(&p));
            assert!(rng.weighted(&[0, 5, 0]) == 1);
        }
    }
}
