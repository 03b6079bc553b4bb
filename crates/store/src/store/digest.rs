//! Content digests for what the store keeps once: 16 bytes of SHA-256 over length-prefixed
//! parts, so that no two different lists of parts can share a digest by concatenation.

use sha2::{Digest as _, Sha256};

/// A stored digest (the first 16 bytes of SHA-256).
pub type Digest = [u8; 16];

/// The digest of `parts`, each prefixed with its length.
pub fn of(parts: &[&[u8]]) -> Digest {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// The digest of optional text (none and empty differ).
pub fn text(t: Option<&str>) -> Vec<u8> {
    match t {
        None => vec![0],
        Some(s) => {
            let mut v = Vec::with_capacity(s.len() + 1);
            v.push(1);
            v.extend_from_slice(s.as_bytes());
            v
        }
    }
}

/// A stored digest read back (`None` when absent or not 16 bytes: never equal to a new one).
pub fn stored(bytes: Option<Vec<u8>>) -> Option<Digest> {
    bytes.and_then(|b| b.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_not_confused_by_concatenation() {
        assert_ne!(of(&[b"ab", b"c"]), of(&[b"a", b"bc"]));
        assert_eq!(of(&[b"ab", b"c"]), of(&[b"ab", b"c"]));
        assert_ne!(of(&[&text(None)]), of(&[&text(Some(""))]));
        assert_eq!(stored(Some(of(&[b"x"]).to_vec())), Some(of(&[b"x"])));
        assert_eq!(stored(Some(vec![1, 2, 3])), None);
    }
}
