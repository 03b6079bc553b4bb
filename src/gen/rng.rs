//! Deterministic randomness: one seeded ChaCha8 stream per (run seed, employer, purpose).
//! Streams are independent, so no feed's rows depend on the order other feeds are written in.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for; part of its seed.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    Population = 1,
    Tax = 3,
    Statistics = 4,
    Exam = 5,
    Workers = 6,
    Testing = 7,
    Declaration = 8,
    BadRows = 9,
    TaxId = 10,
    StatsId = 11,
    ExamKey = 12,
    Phenomena = 13,
}

/// The stream for one employer (or, with `id` 0, for a whole feed) and purpose.
pub fn stream(seed: u64, id: u64, purpose: Purpose) -> ChaCha8Rng {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&id.to_le_bytes());
    s[16..24].copy_from_slice(&(purpose as u64).to_le_bytes());
    s[24..].copy_from_slice(b"yingbao!");
    ChaCha8Rng::from_seed(s)
}

/// True with probability `p` (clamped to 0..=1).
pub fn chance(rng: &mut impl Rng, p: f64) -> bool {
    rng.gen_bool(p.clamp(0.0, 1.0))
}

/// One item of a non-empty pool.
pub fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    assert!(!items.is_empty(), "word pools are non-empty constants");
    &items[rng.gen_range(0..items.len())]
}

/// An index drawn with the given (non-negative, not all zero) weights.
pub fn weighted(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.gen_range(0.0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A log-uniform integer in `lo..=hi` (small values more likely).
pub fn log_uniform(rng: &mut impl Rng, lo: u32, hi: u32) -> u32 {
    let (l, h) = ((lo.max(1)) as f64, (hi.max(lo) + 1) as f64);
    let v = (l.ln() + rng.gen_range(0.0..1.0) * (h.ln() - l.ln())).exp();
    (v.floor() as u32).clamp(lo, hi)
}
