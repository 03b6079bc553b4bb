//! In-memory, thread-safe sign-in rate limiter: failed attempts counted per
//! username and per client IP in a sliding window, with bounded memory.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// Limits for [`SignInLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Sliding window in which failures are counted.
    pub window: Duration,
    /// Failures allowed per username within the window; the next try is refused.
    pub max_per_user: usize,
    /// Failures allowed per client IP (any usernames) within the window.
    pub max_per_ip: usize,
    /// Most usernames (and, separately, most IPs) tracked at once.
    pub max_keys: usize,
}

impl RateLimitConfig {
    pub const DEFAULT: RateLimitConfig = RateLimitConfig {
        window: Duration::from_secs(15 * 60),
        max_per_user: 5,
        max_per_ip: 20,
        max_keys: 10_000,
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

fn user_key(username: &str) -> String {
    username
        .trim()
        .chars()
        .take(MAX_USERNAME_KEY_CHARS)
        .flat_map(char::to_lowercase)
        .collect()
}

/// IPv4-mapped IPv6 counts as IPv4; other IPv6 addresses are grouped by /64,
/// since one client usually holds a whole /64.
fn ip_key(ip: IpAddr) -> IpAddr {
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

/// Failure times per key, each list sorted ascending and at most `limit` long.
struct Bucket<K> {
    map: HashMap<K, VecDeque<DateTime<Utc>>>,
}

impl<K: Eq + Hash + Clone> Bucket<K> {
    fn new() -> Self {
        Self {
            map: HashMap::new(),
        }
    }

    /// How long until `key` is below `limit` failures, or `None` if it already is.
    fn retry_after(
        &self,
        key: &K,
        now: DateTime<Utc>,
        window: TimeDelta,
        limit: usize,
    ) -> Option<TimeDelta> {
        let times = self.map.get(key)?;
        let live: Vec<DateTime<Utc>> = times
            .iter()
            .copied()
            .filter(|t| *t + window > now)
            .collect();
        if live.len() < limit {
            return None;
        }
        // `live` is sorted; once the first (len - limit + 1) expire we are below the limit.
        let must_expire = live.get(live.len() - limit)?;
        Some(*must_expire + window - now)
    }

    fn record(
        &mut self,
        key: K,
        now: DateTime<Utc>,
        window: TimeDelta,
        limit: usize,
        max_keys: usize,
    ) {
        if !self.map.contains_key(&key) && self.map.len() >= max_keys {
            self.prune(now, window);
            if self.map.len() >= max_keys {
                self.evict_oldest();
            }
        }
        let times = self.map.entry(key).or_default();
        while times.front().is_some_and(|t| *t + window <= now) {
            times.pop_front();
        }
        let pos = times.iter().rposition(|t| *t <= now).map_or(0, |i| i + 1);
        times.insert(pos, now);
        while times.len() > limit.max(1) {
            times.pop_front();
        }
    }

    fn remove(&mut self, key: &K) {
        self.map.remove(key);
    }

    /// Drops failures older than the window and keys left with none.
    fn prune(&mut self, now: DateTime<Utc>, window: TimeDelta) {
        self.map.retain(|_, times| {
            while times.front().is_some_and(|t| *t + window <= now) {
                times.pop_front();
            }
            !times.is_empty()
        });
    }

    /// Removes the key whose latest failure is the oldest.
    fn evict_oldest(&mut self) {
        let oldest = self
            .map
            .iter()
            .min_by_key(|(_, times)| times.back().copied())
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            self.map.remove(&k);
        }
    }
}

struct State {
    users: Bucket<String>,
    ips: Bucket<IpAddr>,
}

/// Sign-in rate limiter; share one per process (e.g. in `Arc` in axum state).
///
/// Usage: `check` before verifying the password (refuse with 429 and
/// `Retry-After` on `Err`), then `record_failure` or `record_success`.
/// The IP must be the real client address (behind a reverse proxy, taken from
/// the proxy's header only when the connection comes from that proxy).
pub struct SignInLimiter {
    config: RateLimitConfig,
    window: TimeDelta,
    state: Mutex<State>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        Self::new(RateLimitConfig::DEFAULT)
    }
}

impl SignInLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        let window = TimeDelta::from_std(config.window).unwrap_or(TimeDelta::MAX);
        Self {
            config,
            window,
            state: Mutex::new(State {
                users: Bucket::new(),
                ips: Bucket::new(),
            }),
        }
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// The state holds only counters, so a panic elsewhere while holding the
    /// lock cannot leave it in a harmful state: recover from poisoning.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Ok` if a sign-in attempt may proceed; otherwise how long to wait
    /// (the longer of the username's and the IP's wait).
    pub fn check(&self, username: &str, ip: IpAddr, now: DateTime<Utc>) -> Result<(), RetryAfter> {
        let state = self.lock();
        let by_user = state.users.retry_after(
            &user_key(username),
            now,
            self.window,
            self.config.max_per_user,
        );
        let by_ip = state
            .ips
            .retry_after(&ip_key(ip), now, self.window, self.config.max_per_ip);
        match by_user.max(by_ip) {
            None => Ok(()),
            Some(wait) => Err(RetryAfter(wait.to_std().unwrap_or(Duration::ZERO))),
        }
    }

    /// Counts a failed sign-in against both the username and the IP.
    pub fn record_failure(&self, username: &str, ip: IpAddr, now: DateTime<Utc>) {
        let mut state = self.lock();
        let (window, c) = (self.window, self.config);
        state
            .users
            .record(user_key(username), now, window, c.max_per_user, c.max_keys);
        state
            .ips
            .record(ip_key(ip), now, window, c.max_per_ip, c.max_keys);
    }

    /// A successful sign-in clears the username's failures (not the IP's).
    pub fn record_success(&self, username: &str) {
        self.lock().users.remove(&user_key(username));
    }

    /// Drops expired entries; call now and then (e.g. every few minutes) to
    /// return memory early. Recording also prunes when the cap is reached.
    pub fn prune(&self, now: DateTime<Utc>) {
        let mut state = self.lock();
        state.users.prune(now, self.window);
        state.ips.prune(now, self.window);
    }

    /// Number of (usernames, IPs) currently tracked.
    pub fn tracked_keys(&self) -> (usize, usize) {
        let state = self.lock();
        (state.users.map.len(), state.ips.map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::Arc;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap()
    }

    fn s(n: i64) -> TimeDelta {
        TimeDelta::seconds(n)
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    const WINDOW: i64 = 15 * 60;

    #[test]
    fn five_failures_then_blocked_with_retry_after() {
        let l = SignInLimiter::default();
        for i in 0..4 {
            l.record_failure("alice", ip(1), t0() + s(i));
            assert_eq!(
                l.check("alice", ip(1), t0() + s(i)),
                Ok(()),
                "after {} failures",
                i + 1
            );
        }
        l.record_failure("alice", ip(1), t0() + s(4));
        let err = l.check("alice", ip(1), t0() + s(4)).unwrap_err();
        // The first failure (t0) expires at t0 + 15 min.
        assert_eq!(err, RetryAfter(Duration::from_secs(WINDOW as u64 - 4)));
        assert_eq!(err.secs_ceil(), 896);
        assert_eq!(err.to_string(), "登录失败次数过多，请15分钟后再试");
        // Same user from another IP, and with different case/spaces, is blocked too.
        assert!(l.check("alice", ip(2), t0() + s(5)).is_err());
        assert!(l.check("  ALICE ", ip(2), t0() + s(5)).is_err());
        // Another user on the same IP is not.
        assert_eq!(l.check("bob", ip(1), t0() + s(5)), Ok(()));
    }

    #[test]
    fn unblocked_after_window() {
        let l = SignInLimiter::default();
        for i in 0..5 {
            l.record_failure("alice", ip(1), t0() + s(i));
        }
        let just_before = t0() + s(WINDOW - 1);
        assert_eq!(
            l.check("alice", ip(1), just_before),
            Err(RetryAfter(Duration::from_secs(1)))
        );
        assert_eq!(l.check("alice", ip(1), t0() + s(WINDOW)), Ok(()));
        // Only one failure expired: one more failure blocks again.
        l.record_failure("alice", ip(1), t0() + s(WINDOW));
        assert!(l.check("alice", ip(1), t0() + s(WINDOW)).is_err());
        // Well after everything expired: free.
        assert_eq!(l.check("alice", ip(1), t0() + s(3 * WINDOW)), Ok(()));
    }

    #[test]
    fn success_clears_username_failures() {
        let l = SignInLimiter::default();
        for i in 0..4 {
            l.record_failure("alice", ip(1), t0() + s(i));
        }
        l.record_success("Alice");
        for i in 10..14 {
            l.record_failure("alice", ip(1), t0() + s(i));
        }
        assert_eq!(l.check("alice", ip(1), t0() + s(20)), Ok(()));
        l.record_failure("alice", ip(1), t0() + s(21));
        assert!(l.check("alice", ip(1), t0() + s(22)).is_err());
    }

    #[test]
    fn ip_limit_across_usernames() {
        let l = SignInLimiter::default();
        for i in 0..19 {
            l.record_failure(&format!("user{i}"), ip(9), t0() + s(i));
        }
        assert_eq!(l.check("someone", ip(9), t0() + s(30)), Ok(()));
        l.record_failure("user19", ip(9), t0() + s(19));
        let err = l.check("someone", ip(9), t0() + s(30)).unwrap_err();
        assert_eq!(err, RetryAfter(Duration::from_secs(WINDOW as u64 - 30)));
        // The same username from a different IP is fine.
        assert_eq!(l.check("someone", ip(10), t0() + s(30)), Ok(()));
        // Success for a user does not clear the IP's count.
        l.record_success("user0");
        assert!(l.check("someone", ip(9), t0() + s(30)).is_err());
    }

    #[test]
    fn retry_after_is_the_longer_of_user_and_ip() {
        let cfg = RateLimitConfig {
            max_per_user: 2,
            max_per_ip: 2,
            ..RateLimitConfig::DEFAULT
        };
        let l = SignInLimiter::new(cfg);
        // IP blocked by failures at t0 and t0+100 (other users).
        l.record_failure("x", ip(1), t0());
        l.record_failure("y", ip(1), t0() + s(100));
        // User blocked by failures at t0+200 and t0+300 (other IP).
        l.record_failure("alice", ip(2), t0() + s(200));
        l.record_failure("alice", ip(2), t0() + s(300));
        let err = l.check("alice", ip(1), t0() + s(400)).unwrap_err();
        assert_eq!(
            err,
            RetryAfter(Duration::from_secs((200 + WINDOW - 400) as u64))
        );
    }

    #[test]
    fn memory_cap_respected_and_oldest_evicted() {
        let cfg = RateLimitConfig {
            max_keys: 100,
            ..RateLimitConfig::DEFAULT
        };
        let l = SignInLimiter::new(cfg);
        for i in 0..500u32 {
            let addr = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            l.record_failure(&format!("user{i}"), addr, t0() + s(i64::from(i)));
            let (users, ips) = l.tracked_keys();
            assert!(users <= 100 && ips <= 100, "{users} {ips}");
        }
        assert_eq!(l.tracked_keys(), (100, 100));
        // Newest kept, oldest gone: push the newest to the limit and check it is tracked.
        for _ in 0..4 {
            l.record_failure("user499", ip(250), t0() + s(600));
        }
        assert!(l.check("user499", ip(251), t0() + s(600)).is_err());
        assert_eq!(l.tracked_keys().0, 100);
        let state = l.lock();
        assert!(!state.users.map.contains_key("user0"));
        assert!(!state.users.map.contains_key("user399"));
        assert!(state.users.map.contains_key("user400"));
    }

    #[test]
    fn cap_prunes_expired_before_evicting_live() {
        let cfg = RateLimitConfig {
            max_keys: 3,
            ..RateLimitConfig::DEFAULT
        };
        let l = SignInLimiter::new(cfg);
        for _ in 0..5 {
            l.record_failure("blocked", ip(1), t0() + s(WINDOW));
        }
        l.record_failure("old1", ip(2), t0());
        l.record_failure("old2", ip(3), t0());
        // old1/old2 have expired by now; adding a new key prunes them, not "blocked".
        l.record_failure("new", ip(4), t0() + s(WINDOW + 10));
        assert_eq!(l.tracked_keys().0, 2);
        assert!(l.check("blocked", ip(5), t0() + s(WINDOW + 10)).is_err());
    }

    #[test]
    fn prune_drops_expired_entries() {
        let l = SignInLimiter::default();
        l.record_failure("a", ip(1), t0());
        l.record_failure("b", ip(2), t0() + s(600));
        assert_eq!(l.tracked_keys(), (2, 2));
        l.prune(t0() + s(WINDOW));
        assert_eq!(l.tracked_keys(), (1, 1));
        l.prune(t0() + s(600 + WINDOW));
        assert_eq!(l.tracked_keys(), (0, 0));
    }

    #[test]
    fn per_key_history_is_bounded() {
        let l = SignInLimiter::default();
        for i in 0..1000 {
            l.record_failure("alice", ip(1), t0() + s(i));
        }
        let state = l.lock();
        assert_eq!(state.users.map.get("alice").map(VecDeque::len), Some(5));
        assert_eq!(state.ips.map.get(&ip(1)).map(VecDeque::len), Some(20));
    }

    #[test]
    fn out_of_order_times_are_handled() {
        let l = SignInLimiter::default();
        for i in [4, 2, 3, 0, 1] {
            l.record_failure("alice", ip(1), t0() + s(i));
        }
        assert_eq!(
            l.check("alice", ip(1), t0() + s(10)),
            Err(RetryAfter(Duration::from_secs(WINDOW as u64 - 10)))
        );
    }

    #[test]
    fn long_usernames_share_a_bounded_key() {
        let l = SignInLimiter::default();
        let a = format!("{}a", "x".repeat(5000));
        let b = format!("{}b", "x".repeat(5000));
        for i in 0..5 {
            l.record_failure(&a, ip(1), t0() + s(i));
        }
        assert!(l.check(&b, ip(2), t0() + s(10)).is_err());
        assert_eq!(user_key(&a).chars().count(), MAX_USERNAME_KEY_CHARS);
    }

    #[test]
    fn ipv6_grouped_by_64_and_mapped_v4_is_v4() {
        let l = SignInLimiter::default();
        for i in 0..20u16 {
            let addr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, i));
            l.record_failure(&format!("u{i}"), addr, t0());
        }
        let same64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        let other64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert!(l.check("new", same64, t0()).is_err());
        assert_eq!(l.check("new", other64, t0()), Ok(()));
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(ip_key(mapped), ip(7));
    }

    #[test]
    fn shared_across_threads() {
        let l = Arc::new(SignInLimiter::default());
        let handles: Vec<_> = (0..4)
            .map(|n| {
                let l = Arc::clone(&l);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        l.record_failure(&format!("t{n}-{i}"), ip(n), t0() + s(i));
                        let _ = l.check("probe", ip(n), t0() + s(i));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(l.tracked_keys(), (200, 4));
        for n in 0..4 {
            assert!(l.check("probe", ip(n), t0() + s(60)).is_err());
        }
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
