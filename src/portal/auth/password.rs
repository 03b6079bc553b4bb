//! Password hashing (Argon2id, PHC strings) and the minimum password policy
//! for portal accounts; policy messages are in Chinese for township staff.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use super::AuthError;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism (lanes).
    pub p: u32,
}

impl PasswordParams {
    /// OWASP Password Storage Cheat Sheet: Argon2id, m=19456 KiB (19 MiB), t=2, p=1.
    pub const OWASP: PasswordParams = PasswordParams {
        m_kib: 19_456,
        t: 2,
        p: 1,
    };
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self::OWASP
    }
}

/// Minimum password length, in characters (not bytes).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a new password was refused. `Display` is the Chinese message to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("密码至少需要{min}个字符")]
    TooShort { min: usize },
    #[error("密码不能全部是数字")]
    AllDigits,
    #[error("密码不能与用户名相同")]
    SameAsUsername,
}

/// A PHC string of a random password hashed with [`PasswordParams::OWASP`].
/// [`verify_password_or_dummy`] checks against it when the user does not exist,
/// so that "no such user" costs the same time as "wrong password".
const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$S8jxvsY7y5FhChgXOqujMg$wXj+F212YqKu27Rd+1vvwqJMMmkuQP1bGK/telB4QYU";

fn argon2_with(params: &PasswordParams) -> Result<Argon2<'static>, AuthError> {
    let p = Params::new(params.m_kib, params.t, params.p, None)
        .map_err(|e| AuthError::PasswordHash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

/// Hashes with the production parameters ([`PasswordParams::OWASP`]).
/// CPU-heavy (tens of ms): call from `spawn_blocking` in async code.
pub fn hash_password(plain: &str) -> Result<String, AuthError> {
    hash_password_with(plain, &PasswordParams::OWASP)
}

/// Hashes with explicit parameters (tests use cheap ones). Returns a PHC string
/// `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` with a fresh 16-byte salt from the OS RNG.
pub fn hash_password_with(plain: &str, params: &PasswordParams) -> Result<String, AuthError> {
    let argon2 = argon2_with(params)?;
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(plain.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::PasswordHash(e.to_string()))
}

/// Checks `plain` against a stored PHC string, using the parameters recorded
/// in that string; the final comparison is constant-time (inside `argon2`).
/// A malformed stored hash gives `false` and a warning in the log.
pub fn verify_password(plain: &str, phc: &str) -> bool {
    let parsed = match PasswordHash::new(phc) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "stored password hash is malformed; refusing sign-in");
            return false;
        }
    };
    match Argon2::default().verify_password(plain.as_bytes(), &parsed) {
        Ok(()) => true,
        Err(argon2::password_hash::Error::Password) => false,
        Err(e) => {
            tracing::warn!(error = %e, "stored password hash is unusable; refusing sign-in");
            false
        }
    }
}

/// Like [`verify_password`], but when the account does not exist (`None`) it
/// still spends one production-cost hash and returns `false`, so response time
/// does not reveal which usernames exist.
pub fn verify_password_or_dummy(plain: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(phc) => verify_password(plain, phc),
        None => {
            let _ = verify_password(plain, DUMMY_PHC);
            false
        }
    }
}

/// True when a stored hash should be replaced (after a successful sign-in) because
/// it is not Argon2id with exactly `params`, or cannot be parsed.
pub fn needs_rehash(phc: &str, params: &PasswordParams) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(p) => p.m_cost() != params.m_kib || p.t_cost() != params.t || p.p_cost() != params.p,
        Err(_) => true,
    }
}

/// Minimum policy for a new password: at least [`MIN_PASSWORD_CHARS`] characters,
/// not only digits, and not the username (ignoring case and surrounding spaces).
pub fn check_password_policy(plain: &str, username: &str) -> Result<(), PolicyError> {
    if plain.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PolicyError::TooShort {
            min: MIN_PASSWORD_CHARS,
        });
    }
    if plain.chars().all(char::is_numeric) {
        return Err(PolicyError::AllDigits);
    }
    let user = username.trim();
    if !user.is_empty() && plain.trim().to_lowercase() == user.to_lowercase() {
        return Err(PolicyError::SameAsUsername);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters so the tests run fast. Never use in production.
    const CHEAP: PasswordParams = PasswordParams {
        m_kib: 256,
        t: 1,
        p: 1,
    };

    #[test]
    fn round_trip_and_wrong_password() {
        let phc = hash_password_with("正确的密码abc123", &CHEAP).unwrap();
        assert!(verify_password("正确的密码abc123", &phc));
        assert!(!verify_password("正确的密码abc124", &phc));
        assert!(!verify_password("", &phc));
    }

    #[test]
    fn phc_string_is_argon2id_with_given_params() {
        let phc = hash_password_with("some password", &CHEAP).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
    }

    #[test]
    fn same_password_hashes_differ() {
        let a = hash_password_with("same password", &CHEAP).unwrap();
        let b = hash_password_with("same password", &CHEAP).unwrap();
        assert_ne!(a, b);
        assert!(verify_password("same password", &a));
        assert!(verify_password("same password", &b));
    }

    fn replace_first_char(s: &str) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect()
    }

    #[test]
    fn tampered_hash_is_rejected() {
        let phc = hash_password_with("tamper target", &CHEAP).unwrap();
        let (prefix, hash_part) = phc.rsplit_once('$').unwrap();
        let tampered = format!("{prefix}${}", replace_first_char(hash_part));
        // Still a well-formed PHC string, so this really tests the comparison.
        assert!(PasswordHash::new(&tampered).is_ok());
        assert_ne!(tampered, phc);
        assert!(!verify_password("tamper target", &tampered));

        // Tampered salt.
        let parts: Vec<&str> = phc.split('$').collect();
        let salt = replace_first_char(parts[4]);
        let tampered_salt = format!(
            "${}${}${}${}${}",
            parts[1], parts[2], parts[3], salt, parts[5]
        );
        assert!(PasswordHash::new(&tampered_salt).is_ok());
        assert!(!verify_password("tamper target", &tampered_salt));
    }

    #[test]
    fn malformed_hash_is_false_not_panic() {
        assert!(!verify_password("x", ""));
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("x", "$argon2id$v=19$m=256,t=1,p=1$$"));
        assert!(!verify_password(
            "x",
            "$argon2id$v=19$m=abc,t=1,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
    }

    #[test]
    fn invalid_params_are_an_error() {
        let bad = PasswordParams {
            m_kib: 1,
            t: 0,
            p: 0,
        };
        assert!(matches!(
            hash_password_with("whatever", &bad),
            Err(AuthError::PasswordHash(_))
        ));
    }

    #[test]
    fn verify_uses_params_from_the_stored_string() {
        let other = PasswordParams {
            m_kib: 512,
            t: 2,
            p: 2,
        };
        let phc = hash_password_with("param test", &other).unwrap();
        assert!(phc.contains("m=512,t=2,p=2"));
        assert!(verify_password("param test", &phc));
    }

    #[test]
    fn needs_rehash_detects_param_change() {
        let phc = hash_password_with("rehash", &CHEAP).unwrap();
        assert!(!needs_rehash(&phc, &CHEAP));
        assert!(needs_rehash(&phc, &PasswordParams::OWASP));
        assert!(needs_rehash("garbage", &CHEAP));
    }

    #[test]
    fn dummy_hash_matches_production_params() {
        assert!(!needs_rehash(DUMMY_PHC, &PasswordParams::OWASP));
        assert!(!verify_password_or_dummy("anything", None));
        let phc = hash_password_with("real user pw", &CHEAP).unwrap();
        assert!(verify_password_or_dummy("real user pw", Some(&phc)));
        assert!(!verify_password_or_dummy("wrong", Some(&phc)));
    }

    #[test]
    fn production_params_timing() {
        let start = std::time::Instant::now();
        let phc = hash_password("生产参数计时测试pw").unwrap();
        let hash_time = start.elapsed();
        let start = std::time::Instant::now();
        assert!(verify_password("生产参数计时测试pw", &phc));
        let verify_time = start.elapsed();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        println!(
            "argon2id m=19456 t=2 p=1: hash {:.1} ms, verify {:.1} ms",
            hash_time.as_secs_f64() * 1000.0,
            verify_time.as_secs_f64() * 1000.0
        );
    }

    #[test]
    fn policy_too_short() {
        assert_eq!(
            check_password_policy("abc12345", "user"),
            Err(PolicyError::TooShort { min: 10 })
        );
        // 9 characters: still too short; 10: enough.
        assert!(check_password_policy("abcdefgh9", "user").is_err());
        assert_eq!(check_password_policy("abcdefgh90", "user"), Ok(()));
        // Characters, not bytes: 5 Chinese characters are 15 bytes but too short.
        assert!(check_password_policy("卫生健康委", "user").is_err());
        assert_eq!(
            check_password_policy("卫生健康委员会职业病", "user"),
            Ok(())
        );
    }

    #[test]
    fn policy_all_digits() {
        assert_eq!(
            check_password_policy("1234567890", "user"),
            Err(PolicyError::AllDigits)
        );
        assert_eq!(
            check_password_policy("１２３４５６７８９０", "user"),
            Err(PolicyError::AllDigits)
        );
        assert_eq!(check_password_policy("123456789a", "user"), Ok(()));
    }

    #[test]
    fn policy_same_as_username() {
        assert_eq!(
            check_password_policy("zhangsan2024", "zhangsan2024"),
            Err(PolicyError::SameAsUsername)
        );
        assert_eq!(
            check_password_policy("ZhangSan2024", " zhangsan2024 "),
            Err(PolicyError::SameAsUsername)
        );
        assert_eq!(
            check_password_policy("zhangsan2024!", "zhangsan2024"),
            Ok(())
        );
        assert_eq!(check_password_policy("long enough pw", ""), Ok(()));
    }

    #[test]
    fn policy_messages_are_chinese() {
        assert_eq!(
            PolicyError::TooShort { min: 10 }.to_string(),
            "密码至少需要10个字符"
        );
        assert_eq!(PolicyError::AllDigits.to_string(), "密码不能全部是数字");
        assert_eq!(
            PolicyError::SameAsUsername.to_string(),
            "密码不能与用户名相同"
        );
    }
}
