//! Files an earlier run wrote with the same content, found by a digest of what they hold: a
//! list whose title and rows did not change is linked into the new folder, not built again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// 16 bytes of SHA-256 over a list's title and content (as JSON).
pub type ContentDigest = [u8; 16];

/// The digest of a list: its title and its content (its rows, and whatever else the files
/// show, such as a township list's deadline).
pub fn digest<R: Serialize + ?Sized>(
    title: &str,
    content: &R,
) -> Result<ContentDigest, serde_json::Error> {
    let mut h = Sha256::new();
    h.update((title.len() as u64).to_le_bytes());
    h.update(title.as_bytes());
    h.update(serde_json::to_vec(content)?);
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    Ok(out)
}

/// Files written before, by the digest of their content: each list's files (workbook and
/// CSV) in the order written.
#[derive(Debug, Clone, Default)]
pub struct Earlier {
    files: HashMap<ContentDigest, Vec<PathBuf>>,
}

impl Earlier {
    /// Remembers that `files` hold the list with `digest`.
    pub fn remember(&mut self, digest: ContentDigest, files: Vec<PathBuf>) {
        self.files.insert(digest, files);
    }

    /// Puts the files written earlier with `digest` at `to` (in the same order), as hard links
    /// or, where the file system cannot link, copies. False — and nothing left at `to` — when
    /// there are none or one is gone: the caller then writes them.
    pub fn reuse(&self, digest: &ContentDigest, to: &[&Path]) -> bool {
        let Some(from) = self.files.get(digest) else {
            return false;
        };
        if from.len() != to.len() {
            return false;
        }
        for (i, (f, t)) in from.iter().zip(to).enumerate() {
            if f == t || !place(f, t) {
                for done in &to[..i] {
                    let _ = std::fs::remove_file(done);
                }
                return false;
            }
        }
        true
    }
}

/// `from` at `to`: a hard link, else a copy; false when neither could be made.
fn place(from: &Path, to: &Path) -> bool {
    if !from.is_file() {
        return false;
    }
    let _ = std::fs::remove_file(to);
    std::fs::hard_link(from, to).is_ok() || std::fs::copy(from, to).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_changes_with_the_title_and_the_rows() {
        let d = digest("标题", &["a", "b"]).expect("digest");
        assert_eq!(d, digest("标题", &["a", "b"]).expect("digest"));
        assert_ne!(d, digest("标题2", &["a", "b"]).expect("digest"));
        assert_ne!(d, digest("标题", &["a"]).expect("digest"));
        assert_ne!(d, digest("标题", &["b", "a"]).expect("digest"));
    }

    /// Known files are placed with their content; an unknown digest or a file gone since
    /// places nothing.
    #[test]
    fn earlier_files_are_placed_only_when_all_are_there() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, b) = (dir.path().join("a.xlsx"), dir.path().join("a.csv"));
        std::fs::write(&a, b"book").expect("write");
        std::fs::write(&b, b"rows").expect("write");
        let d = digest("t", &[1]).expect("digest");
        let mut earlier = Earlier::default();
        earlier.remember(d, vec![a.clone(), b.clone()]);
        let out = dir.path().join("next");
        std::fs::create_dir(&out).expect("mkdir");
        let (x, c) = (out.join("a.xlsx"), out.join("a.csv"));
        assert!(earlier.reuse(&d, &[&x, &c]));
        assert_eq!(std::fs::read(&x).expect("x"), b"book");
        assert_eq!(std::fs::read(&c).expect("c"), b"rows");

        let other = digest("t", &[2]).expect("digest");
        assert!(!earlier.reuse(&other, &[&x, &c]));
        std::fs::remove_file(&b).expect("rm");
        let (x2, c2) = (out.join("b.xlsx"), out.join("b.csv"));
        assert!(!earlier.reuse(&d, &[&x2, &c2]));
        assert!(!x2.exists() && !c2.exists(), "nothing half placed");
    }
}
