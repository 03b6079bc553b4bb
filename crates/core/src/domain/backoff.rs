//! The one backoff formula of yingbao, for every part that retries (paged feeds, deliveries):
//! before retry `n` (1 = the first) wait up to `base · 2^(n−1)`, never more than `max`.

use std::time::Duration;

/// The ceiling of the wait before retry number `retry`; callers draw their jitter under it.
pub fn ceiling(base: Duration, max: Duration, retry: u32) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(max.max(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_base_up_to_the_cap() {
        let (base, max) = (Duration::from_secs(60), Duration::from_secs(3600));
        let waits: Vec<u64> = (1..=8).map(|n| ceiling(base, max, n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        // Retry 0 is treated as the first; huge retry numbers stay at the cap.
        assert_eq!(ceiling(base, max, 0), base);
        assert_eq!(ceiling(base, max, 200), max);
        // A cap below the base never shortens the base.
        assert_eq!(ceiling(base, Duration::from_secs(10), 3), base);
    }
}
