//! Storage-free session logic: expiry rules, new sessions with a per-session
//! CSRF token (synchronizer-token pattern), and the session cookie's text.

use chrono::{DateTime, TimeDelta, Utc};

use super::token::{constant_time_eq, looks_like_token, new_token, token_hash};

/// Name of the session cookie.
pub const SESSION_COOKIE_NAME: &str = "yingbao_session";
/// Cookie lifetime in seconds: the 12-hour absolute session limit.
pub const SESSION_COOKIE_MAX_AGE_SECS: u32 = 43_200;

/// How long a session lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Expires after this many minutes without a request.
    pub idle_minutes: u32,
    /// Expires this many hours after sign-in, however active.
    pub absolute_hours: u32,
}

impl SessionPolicy {
    pub const DEFAULT: SessionPolicy = SessionPolicy {
        idle_minutes: 30,
        absolute_hours: 12,
    };
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Whether a session is still usable at `now`: less than `idle_minutes` since
/// `last_seen` and less than `absolute_hours` since `created_at` (so exactly at
/// either limit it has expired). Timestamps in the future, or `last_seen` before
/// `created_at`, are treated as invalid.
pub fn is_valid(
    created_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: &SessionPolicy,
) -> bool {
    if created_at > now || last_seen > now || last_seen < created_at {
        return false;
    }
    let idle = TimeDelta::minutes(i64::from(policy.idle_minutes));
    let absolute = TimeDelta::hours(i64::from(policy.absolute_hours));
    now - last_seen < idle && now - created_at < absolute
}

/// What the server stores for one session. The cookie token itself is not kept,
/// only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Hex SHA-256 of the cookie token (lookup key).
    pub token_hash: String,
    pub user_id: i64,
    /// CSRF token to embed in forms; independent of the cookie token.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

impl Session {
    /// [`is_valid`] for this session.
    pub fn is_valid(&self, now: DateTime<Utc>, policy: &SessionPolicy) -> bool {
        is_valid(self.created_at, self.last_seen, now, policy)
    }

    /// Records activity at `now` (never moves `last_seen` backwards).
    pub fn touch(&mut self, now: DateTime<Utc>) {
        if now > self.last_seen {
            self.last_seen = now;
        }
    }
}

/// Starts a session. Returns the token for the cookie (give it to the client,
/// never store it) and the [`Session`] to store. Issue a new session at every
/// sign-in, never reuse one from before it (prevents session fixation).
pub fn new_session(user_id: i64, now: DateTime<Utc>) -> (String, Session) {
    let token = new_token();
    let session = Session {
        token_hash: token_hash(&token),
        user_id,
        csrf: new_token(),
        created_at: now,
        last_seen: now,
    };
    (token, session)
}

/// Whether a submitted form's CSRF token matches the session's (constant time).
pub fn check_csrf(session: &Session, submitted: &str) -> bool {
    !session.csrf.is_empty() && constant_time_eq(session.csrf.as_bytes(), submitted.as_bytes())
}

/// `Set-Cookie` value for the session. `secure` adds `; Secure` (HTTPS in
/// production; off only for plain-HTTP tests on 127.0.0.1).
pub fn session_cookie(token: &str, secure: bool) -> String {
    debug_assert!(looks_like_token(token), "session cookie token is malformed");
    let mut c = format!(
        "{SESSION_COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_COOKIE_MAX_AGE_SECS}"
    );
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// `Set-Cookie` value that deletes the session cookie (sign-out).
pub fn clear_cookie(secure: bool) -> String {
    let mut c = format!("{SESSION_COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The session token from a `Cookie` request header value such as
/// `a=1; yingbao_session=TOKEN; b=2`. Tolerates extra spaces/tabs, empty
/// pieces, pieces without `=`, and a double-quoted value. Returns the first
/// `yingbao_session` value shaped like a token, or `None`. If a request carries
/// several `Cookie` header lines (HTTP/2 may split them), call this per line.
pub fn token_from_cookie_header(header_value: &str) -> Option<String> {
    header_value
        .split(';')
        .filter_map(|piece| piece.split_once('='))
        .filter(|(name, _)| name.trim_matches([' ', '\t']) == SESSION_COOKIE_NAME)
        .map(|(_, value)| {
            let v = value.trim_matches([' ', '\t']);
            v.strip_prefix('"')
                .and_then(|inner| inner.strip_suffix('"'))
                .unwrap_or(v)
        })
        .find(|v| looks_like_token(v))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap()
    }

    fn secs(s: i64) -> TimeDelta {
        TimeDelta::seconds(s)
    }

    const P: SessionPolicy = SessionPolicy::DEFAULT;

    #[test]
    fn default_policy_values() {
        assert_eq!(SessionPolicy::default().idle_minutes, 30);
        assert_eq!(SessionPolicy::default().absolute_hours, 12);
    }

    #[test]
    fn idle_expiry_edge() {
        let c = t0();
        assert!(is_valid(c, c, c, &P));
        assert!(is_valid(c, c, c + secs(30 * 60 - 1), &P));
        assert!(!is_valid(c, c, c + secs(30 * 60), &P));
        assert!(!is_valid(c, c, c + secs(30 * 60 + 1), &P));
        // Activity later moves the idle window.
        let seen = c + secs(3600);
        assert!(is_valid(c, seen, seen + secs(30 * 60 - 1), &P));
        assert!(!is_valid(c, seen, seen + secs(30 * 60), &P));
    }

    #[test]
    fn absolute_expiry_edge_despite_activity() {
        let c = t0();
        let limit = c + secs(12 * 3600);
        // Active a minute ago, but the session is 12h old.
        assert!(is_valid(c, limit - secs(61), limit - secs(1), &P));
        assert!(!is_valid(c, limit - secs(60), limit, &P));
        assert!(!is_valid(c, limit, limit, &P));
    }

    #[test]
    fn future_or_inconsistent_timestamps_are_invalid() {
        let c = t0();
        assert!(!is_valid(c + secs(1), c + secs(1), c, &P));
        assert!(!is_valid(c, c + secs(5), c + secs(1), &P));
        assert!(!is_valid(c, c - secs(1), c, &P));
    }

    #[test]
    fn custom_policy_is_used() {
        let p = SessionPolicy {
            idle_minutes: 5,
            absolute_hours: 1,
        };
        let c = t0();
        assert!(!is_valid(c, c, c + secs(5 * 60), &p));
        assert!(is_valid(c, c, c + secs(5 * 60 - 1), &p));
    }

    #[test]
    fn new_session_fields() {
        let now = t0();
        let (token, s) = new_session(42, now);
        assert!(looks_like_token(&token));
        assert_eq!(s.token_hash, token_hash(&token));
        assert_ne!(s.token_hash, token);
        assert_eq!(s.user_id, 42);
        assert!(looks_like_token(&s.csrf));
        assert_ne!(s.csrf, token);
        assert_eq!(s.created_at, now);
        assert_eq!(s.last_seen, now);
        assert!(s.is_valid(now, &P));
        let (token2, s2) = new_session(42, now);
        assert_ne!(token, token2);
        assert_ne!(s.csrf, s2.csrf);
    }

    #[test]
    fn touch_extends_idle_but_not_absolute() {
        let c = t0();
        let (_, mut s) = new_session(1, c);
        s.touch(c + secs(25 * 60));
        assert!(s.is_valid(c + secs(50 * 60), &P));
        s.touch(c); // never backwards
        assert_eq!(s.last_seen, c + secs(25 * 60));
        s.last_seen = c + secs(12 * 3600 - 10);
        assert!(!s.is_valid(c + secs(12 * 3600), &P));
    }

    #[test]
    fn csrf_checks() {
        let (_, s) = new_session(7, t0());
        assert!(check_csrf(&s, &s.csrf.clone()));
        assert!(!check_csrf(&s, ""));
        assert!(!check_csrf(&s, &new_token()));
        let mut almost = s.csrf.clone();
        almost.pop();
        assert!(!check_csrf(&s, &almost));
        almost.push('!');
        assert!(!check_csrf(&s, &almost));
        let empty = Session {
            csrf: String::new(),
            ..s
        };
        assert!(!check_csrf(&empty, ""));
    }

    #[test]
    fn cookie_attributes_exact() {
        let tok = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd";
        let tok = &format!("{tok}e");
        assert_eq!(tok.len(), 43);
        assert_eq!(
            session_cookie(tok, false),
            format!("yingbao_session={tok}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200")
        );
        assert_eq!(
            session_cookie(tok, true),
            format!(
                "yingbao_session={tok}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure"
            )
        );
        assert_eq!(
            clear_cookie(false),
            "yingbao_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
        assert_eq!(
            clear_cookie(true),
            "yingbao_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        );
    }

    #[test]
    fn cookie_max_age_matches_absolute_limit() {
        assert_eq!(
            i64::from(SESSION_COOKIE_MAX_AGE_SECS),
            i64::from(P.absolute_hours) * 3600
        );
    }

    #[test]
    fn cookie_header_parsing() {
        let tok = new_token();
        let parse = |h: &str| token_from_cookie_header(h);
        assert_eq!(parse(&format!("yingbao_session={tok}")), Some(tok.clone()));
        assert_eq!(
            parse(&format!("theme=dark; yingbao_session={tok}; lang=zh-CN")),
            Some(tok.clone())
        );
        assert_eq!(
            parse(&format!("a=1;yingbao_session={tok};b=2")),
            Some(tok.clone())
        );
        assert_eq!(
            parse(&format!("  a=1 ;\t yingbao_session = {tok}  ; ;noeq; b=")),
            Some(tok.clone())
        );
        assert_eq!(
            parse(&format!("yingbao_session=\"{tok}\"")),
            Some(tok.clone())
        );
        // Look-alike names must not match.
        assert_eq!(parse(&format!("xyingbao_session={tok}")), None);
        assert_eq!(parse(&format!("yingbao_session2={tok}")), None);
        assert_eq!(parse(&format!("Yingbao_Session={tok}")), None);
        // Empty, missing or malformed values.
        assert_eq!(parse(""), None);
        assert_eq!(parse("yingbao_session="), None);
        assert_eq!(parse("a=1; b=2"), None);
        assert_eq!(parse("yingbao_session=short"), None);
        assert_eq!(parse(&format!("yingbao_session={tok}x")), None);
        // Garbage duplicate first, real one second: the real one is found.
        let other = new_token();
        assert_eq!(
            parse(&format!("yingbao_session=junk; yingbao_session={tok}")),
            Some(tok.clone())
        );
        // Two well-formed values: the first one wins.
        assert_eq!(
            parse(&format!("yingbao_session={other}; yingbao_session={tok}")),
            Some(other)
        );
    }

    #[test]
    fn cookie_round_trip() {
        let (tok, s) = new_session(3, t0());
        let set = session_cookie(&tok, true);
        let pair = set.split(';').next().unwrap();
        let got = token_from_cookie_header(&format!("x=y; {pair}")).unwrap();
        assert_eq!(token_hash(&got), s.token_hash);
    }
}
