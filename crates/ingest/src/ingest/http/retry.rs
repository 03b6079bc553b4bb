//! Waiting: capped exponential backoff with jitter, `Retry-After` parsing, and the
//! per-connector rate limit (tokio time, so paused-clock tests work).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::spec::{Jitter, Retry};

/// The backoff ceiling before retry number `retry` (1 = the first retry):
/// `min(max_ms, base_ms * 2^(retry-1))`.
pub fn backoff_ceiling(spec: &Retry, retry: u32) -> Duration {
    crate::domain::backoff::ceiling(
        Duration::from_millis(spec.base_ms),
        Duration::from_millis(spec.max_ms),
        retry,
    )
    // A feed's `max_ms` is a hard cap, even below its base.
    .min(Duration::from_millis(spec.max_ms))
}

/// A random wait before retry number `retry`: full jitter draws from `[0, ceiling]`, equal
/// jitter from `[ceiling/2, ceiling]`.
pub fn backoff(spec: &Retry, retry: u32) -> Duration {
    let ceiling = backoff_ceiling(spec, retry).as_millis() as u64;
    let mut rng = rand::thread_rng();
    let ms = match spec.jitter {
        Jitter::Full => rng.gen_range(0..=ceiling),
        Jitter::Equal => ceiling / 2 + rng.gen_range(0..=ceiling - ceiling / 2),
    };
    Duration::from_millis(ms)
}

/// Parses a `Retry-After` header: delay-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`), measured from `now`. A date in the past is zero.
/// `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// Spaces requests at least `1/rate` seconds apart, however many are in flight: waiters queue
/// (first come, first served) and each starts `1/rate` after the one before it. No bursts.
/// Uses tokio's clock.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Option<Duration>,
    /// When the next request may start; `None` before the first.
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `None` (or a non-positive rate) means no limit.
    pub fn new(per_sec: Option<f64>) -> Self {
        let interval = per_sec
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        RateLimiter {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Waits until the next request may start, and books the slot after it. The queue is held
    /// while waiting, so the spacing is measured from when each request really starts.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let mut next = self.next.lock().await;
        if let Some(at) = *next {
            tokio::time::sleep_until(at).await;
        }
        *next = Some(Instant::now() + interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn spec(jitter: Jitter) -> Retry {
        Retry {
            max_attempts: 5,
            base_ms: 500,
            max_ms: 30_000,
            jitter,
            max_retry_after_secs: 300,
        }
    }

    #[test]
    fn ceiling_doubles_and_caps() {
        let s = spec(Jitter::Full);
        let ms: Vec<u128> = (1..=9)
            .map(|r| backoff_ceiling(&s, r).as_millis())
            .collect();
        assert_eq!(
            ms,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(backoff_ceiling(&s, 200).as_millis(), 30_000, "no overflow");
    }

    #[test]
    fn jitter_stays_in_bounds() {
        for retry in 1..=8 {
            let full = spec(Jitter::Full);
            let equal = spec(Jitter::Equal);
            let ceiling = backoff_ceiling(&full, retry);
            for _ in 0..200 {
                assert!(backoff(&full, retry) <= ceiling);
                let e = backoff(&equal, retry);
                assert!(e >= ceiling / 2 && e <= ceiling, "{e:?} vs {ceiling:?}");
            }
        }
        // Full jitter really is random (200 draws from [0, 500] are not all equal).
        let draws: std::collections::HashSet<Duration> =
            (0..200).map(|_| backoff(&spec(Jitter::Full), 1)).collect();
        assert!(draws.len() > 10);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 0).unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 1 ", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limiter_spaces_requests() {
        let rl = RateLimiter::new(Some(10.0));
        let start = Instant::now();
        for _ in 0..5 {
            rl.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(400));
        let none = RateLimiter::new(None);
        let start = Instant::now();
        for _ in 0..5 {
            none.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limiter_spaces_concurrent_waiters() {
        let rl = RateLimiter::new(Some(10.0));
        let start = Instant::now();
        let starts = futures_util::future::join_all((0..5).map(|_| async {
            rl.wait().await;
            start.elapsed()
        }))
        .await;
        let mut starts: Vec<u128> = starts.iter().map(Duration::as_millis).collect();
        starts.sort_unstable();
        assert_eq!(starts, [0, 100, 200, 300, 400]);
    }
}
