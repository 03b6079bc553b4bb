//! Random bearer tokens (session and CSRF), their SHA-256 storage hash and a
//! constant-time comparison; tokens are stored only hashed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Length of [`new_token`]'s output: 32 bytes in unpadded base64.
pub const TOKEN_LEN: usize = 43;

/// 32 bytes from the OS RNG, URL-safe base64 without padding (43 characters).
/// Panics only if the OS RNG itself fails, which is preferable to a weak token.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `s` has the shape of a [`new_token`] output (length and alphabet).
/// Lets callers drop garbage cookie values before any lookup.
pub fn looks_like_token(s: &str) -> bool {
    s.len() == TOKEN_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Lower-case hex SHA-256 of the token's text (64 characters): the form stored
/// in the database, so a leaked table does not yield usable cookies.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings in time independent of their contents
/// (only the lengths may leak). Different lengths are unequal.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn token_length_and_alphabet() {
        for _ in 0..100 {
            let t = new_token();
            assert_eq!(t.len(), 43, "{t}");
            assert!(looks_like_token(&t), "{t}");
            assert!(!t.contains('='));
            assert!(!t.contains('+'));
            assert!(!t.contains('/'));
            let decoded = URL_SAFE_NO_PAD.decode(&t).unwrap();
            assert_eq!(decoded.len(), 32);
        }
    }

    #[test]
    fn tokens_are_unique_over_1000() {
        let set: HashSet<String> = (0..1000).map(|_| new_token()).collect();
        assert_eq!(set.len(), 1000);
    }

    #[test]
    fn looks_like_token_rejects_garbage() {
        assert!(!looks_like_token(""));
        assert!(!looks_like_token("short"));
        assert!(!looks_like_token(&"a".repeat(44)));
        assert!(!looks_like_token(&format!("{}=", "a".repeat(42))));
        assert!(!looks_like_token(&format!("{}/", "a".repeat(42))));
        assert!(looks_like_token(&format!("{}-_", "a".repeat(41))));
    }

    #[test]
    fn hash_is_64_hex_and_deterministic() {
        let t = new_token();
        let h1 = token_hash(&t);
        let h2 = token_hash(&t);
        assert_eq!(h1, h2);
        assert_eq!(h1.len(), 64);
        assert!(h1
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(token_hash(&new_token()), h1);
    }

    #[test]
    fn hash_known_vector() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"same", b"same"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"same", b"sane"));
        assert!(!constant_time_eq(b"same", b"same!"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
