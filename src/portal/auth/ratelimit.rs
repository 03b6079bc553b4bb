//! The sign-in limit: attempts per username and per client IP in a sliding window, counted in
//! the store *before* the password is checked, so neither parallel tries nor a restart pass it.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::store::{AdmittedAttempt, AttemptKeys, LiveAttempts, Store, StoreError};

/// Limits for [`SignInLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Sliding window in which attempts are counted.
    pub window: Duration,
    /// Attempts allowed per username within the window (a success clears them); the next
    /// try is refused without its password being checked.
    pub max_per_user: usize,
    /// Failed attempts allowed per client IP (any usernames) within the window.
    pub max_per_ip: usize,
}

impl RateLimitConfig {
    pub const DEFAULT: RateLimitConfig = RateLimitConfig {
        window: Duration::from_secs(15 * 60),
        max_per_user: 5,
        max_per_ip: 20,
    };
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Sign-in refused; the caller may try again after this long
/// (send it as `Retry-After` seconds via [`RetryAfter::secs_ceil`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up (at least 1).
    pub fn secs_ceil(&self) -> u64 {
        let s = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        s.max(1)
    }
}

impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes = self.secs_ceil().div_ceil(60);
        write!(f, "登录失败次数过多，请{minutes}分钟后再试")
    }
}

/// Usernames longer than this many characters share the bucket of their prefix,
/// so a flood of huge usernames cannot use unbounded memory.
const MAX_USERNAME_KEY_CHARS: usize = 128;

/// The key an account's attempts are counted under: trimmed, lower-cased, bounded.
pub fn user_key(username: &str) -> String {
    username
        .trim()
        .chars()
        .take(MAX_USERNAME_KEY_CHARS)
        .flat_map(char::to_lowercase)
        .collect()
}

/// IPv4-mapped IPv6 counts as IPv4; other IPv6 addresses are grouped by /64,
/// since one client usually holds a whole /64.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mask: u128 = !0u128 << 64;
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        },
    }
}

/// How long until fewer than `limit` of `times` (sorted ascending) are inside the window, or
/// `None` if already fewer are.
fn wait(
    times: &[DateTime<Utc>],
    now: DateTime<Utc>,
    window: TimeDelta,
    limit: usize,
) -> Option<TimeDelta> {
    let live: Vec<DateTime<Utc>> = times
        .iter()
        .copied()
        .filter(|t| *t + window > now)
        .collect();
    if live.len() < limit {
        return None;
    }
    // `live` is sorted; once the first (len - limit + 1) expire we are below the limit.
    let must_expire = live.get(live.len() - limit).copied().unwrap_or(now);
    Some(must_expire + window - now)
}

/// The sign-in limit; one per portal (in axum state). Its counts live in the store.
///
/// Usage: [`SignInLimiter::admit`] before verifying the password (refuse with 429 and
/// `Retry-After` on a [`RetryAfter`]); the attempt is already counted as a failure. On a
/// right password, [`SignInLimiter::succeeded`] (signed in) or [`SignInLimiter::forget`].
/// The IP must be the real client address (behind a reverse proxy, taken from the proxy's
/// header only when the connection comes from that proxy).
pub struct SignInLimiter {
    config: RateLimitConfig,
    window: TimeDelta,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        Self::new(RateLimitConfig::DEFAULT)
    }
}

impl SignInLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        let window = TimeDelta::from_std(config.window).unwrap_or(TimeDelta::MAX);
        Self { config, window }
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Whether `live` (attempts still in the window) refuses another try at `now`, and for
    /// how long: the longer of the username's and the IP's wait.
    pub fn refusal(&self, live: &LiveAttempts, now: DateTime<Utc>) -> Option<RetryAfter> {
        let c = self.config;
        let by_user = wait(&live.user, now, self.window, c.max_per_user);
        let by_ip = wait(&live.ip, now, self.window, c.max_per_ip);
        by_user
            .max(by_ip)
            .map(|w| RetryAfter(w.to_std().unwrap_or(Duration::ZERO)))
    }

    /// Lets a sign-in attempt through and counts it, in one step in the store, or says how
    /// long to wait. Parallel attempts past the limit are refused: only as many as the limit
    /// get to have their password checked.
    pub async fn admit(
        &self,
        store: &Store,
        username: &str,
        ip: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<Result<AdmittedAttempt, RetryAfter>, StoreError> {
        let user = user_key(username);
        let ip = ip_key(ip).to_string();
        let keys = AttemptKeys {
            user: &user,
            ip: &ip,
        };
        let since = now
            .checked_sub_signed(self.window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        store
            .admit_attempt(keys, since, now, |live| self.refusal(live, now))
            .await
    }

    /// The password was right but nothing was signed in: the attempt no longer counts.
    pub async fn forget(&self, store: &Store, attempt: &AdmittedAttempt) -> Result<(), StoreError> {
        store.forget_attempt(attempt).await
    }

    /// A successful sign-in clears the username's attempts (not the IP's failures).
    pub async fn succeeded(
        &self,
        store: &Store,
        attempt: &AdmittedAttempt,
    ) -> Result<(), StoreError> {
        store.attempt_succeeded(attempt).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap()
    }

    fn s(n: i64) -> TimeDelta {
        TimeDelta::seconds(n)
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    fn at(secs: &[i64]) -> Vec<DateTime<Utc>> {
        secs.iter().map(|i| t0() + s(*i)).collect()
    }

    fn users(secs: &[i64]) -> LiveAttempts {
        LiveAttempts {
            user: at(secs),
            ip: Vec::new(),
        }
    }

    const WINDOW: i64 = 15 * 60;

    #[test]
    fn five_attempts_then_refused_with_retry_after() {
        let l = SignInLimiter::default();
        for n in 0..5 {
            let times: Vec<i64> = (0..n).collect();
            assert_eq!(l.refusal(&users(&times), t0() + s(n)), None, "after {n}");
        }
        let err = l.refusal(&users(&[0, 1, 2, 3, 4]), t0() + s(4));
        // The first attempt (t0) expires at t0 + 15 min.
        assert_eq!(
            err,
            Some(RetryAfter(Duration::from_secs(WINDOW as u64 - 4)))
        );
        let err = err.expect("refused");
        assert_eq!(err.secs_ceil(), 896);
        assert_eq!(err.to_string(), "登录失败次数过多，请15分钟后再试");
    }

    #[test]
    fn free_again_as_the_window_slides() {
        let l = SignInLimiter::default();
        let five = users(&[0, 1, 2, 3, 4]);
        assert_eq!(
            l.refusal(&five, t0() + s(WINDOW - 1)),
            Some(RetryAfter(Duration::from_secs(1)))
        );
        assert_eq!(l.refusal(&five, t0() + s(WINDOW)), None);
        // Only one expired: one more attempt refuses again.
        let six = users(&[0, 1, 2, 3, 4, WINDOW]);
        assert!(l.refusal(&six, t0() + s(WINDOW)).is_some());
        assert_eq!(l.refusal(&six, t0() + s(3 * WINDOW)), None);
    }

    #[test]
    fn ip_limit_across_usernames() {
        let l = SignInLimiter::default();
        let nineteen = LiveAttempts {
            user: Vec::new(),
            ip: at(&(0..19).collect::<Vec<_>>()),
        };
        assert_eq!(l.refusal(&nineteen, t0() + s(30)), None);
        let twenty = LiveAttempts {
            user: Vec::new(),
            ip: at(&(0..20).collect::<Vec<_>>()),
        };
        assert_eq!(
            l.refusal(&twenty, t0() + s(30)),
            Some(RetryAfter(Duration::from_secs(WINDOW as u64 - 30)))
        );
    }

    #[test]
    fn retry_after_is_the_longer_of_user_and_ip() {
        let l = SignInLimiter::new(RateLimitConfig {
            max_per_user: 2,
            max_per_ip: 2,
            ..RateLimitConfig::DEFAULT
        });
        let live = LiveAttempts {
            ip: at(&[0, 100]),
            user: at(&[200, 300]),
        };
        assert_eq!(
            l.refusal(&live, t0() + s(400)),
            Some(RetryAfter(Duration::from_secs((200 + WINDOW - 400) as u64)))
        );
    }

    #[test]
    fn usernames_share_a_key_by_case_spaces_and_a_bounded_prefix() {
        assert_eq!(user_key("  ALICE "), user_key("alice"));
        let a = format!("{}a", "x".repeat(5000));
        let b = format!("{}b", "x".repeat(5000));
        assert_eq!(user_key(&a), user_key(&b));
        assert_eq!(user_key(&a).chars().count(), MAX_USERNAME_KEY_CHARS);
    }

    #[test]
    fn ipv6_grouped_by_64_and_mapped_v4_is_v4() {
        let one = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 1));
        let same64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        let other64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert_eq!(ip_key(one), ip_key(same64));
        assert_ne!(ip_key(one), ip_key(other64));
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(ip_key(mapped), ip(7));
    }

    #[test]
    fn retry_after_display_rounds_up() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).secs_ceil(), 1);
        assert_eq!(RetryAfter(Duration::ZERO).secs_ceil(), 1);
        assert_eq!(
            RetryAfter(Duration::from_secs(61)).to_string(),
            "登录失败次数过多，请2分钟后再试"
        );
        assert_eq!(
            RetryAfter(Duration::from_secs(60)).to_string(),
            "登录失败次数过多，请1分钟后再试"
        );
    }
}
