//! Run detail as versions: an entity, link, lead or pair row written by one run holds for
//! every later run until one changes it, so a run writes only what changed.

use std::collections::HashMap;
use std::hash::Hash;

use super::digest::{self, Digest};

/// The rows of a versioned table that hold at run `$1`.
pub(super) const AT_RUN: &str = "run_id <= $1 AND (to_run IS NULL OR to_run > $1)";

/// What a run changes in one versioned table: the keys whose current rows it closes, and
/// which of its own rows (by index) it writes.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Changes<K> {
    pub close: Vec<K>,
    pub write: Vec<usize>,
}

/// Compares a run's rows (`new`: key and digest, in the run's order) with the current ones.
/// A key whose digests are the same (as a multiset: a key may hold several rows) writes
/// nothing; a changed key closes its current rows and writes its new ones; a key gone from
/// the run is closed. A current row without a digest (stored before digests) never matches.
pub(super) fn changes<K: Eq + Hash + Clone + Ord>(
    current: Vec<(K, Option<Digest>)>,
    new: &[(K, Digest)],
) -> Changes<K> {
    let mut now: HashMap<K, Vec<Option<Digest>>> = HashMap::with_capacity(current.len());
    for (k, d) in current {
        now.entry(k).or_default().push(d);
    }
    let mut by_key: HashMap<&K, Vec<usize>> = HashMap::with_capacity(new.len());
    for (i, (k, _)) in new.iter().enumerate() {
        by_key.entry(k).or_default().push(i);
    }
    let mut out = Changes {
        close: Vec::new(),
        write: Vec::new(),
    };
    for (k, rows) in &by_key {
        let mut wanted: Vec<Option<Digest>> = rows.iter().map(|&i| Some(new[i].1)).collect();
        match now.remove(*k) {
            Some(mut have) => {
                have.sort_unstable();
                wanted.sort_unstable();
                if have != wanted || have.contains(&None) {
                    out.close.push((*k).clone());
                    out.write.extend(rows);
                }
            }
            None => out.write.extend(rows),
        }
    }
    out.close.extend(now.into_keys());
    out.close.sort_unstable();
    out.write.sort_unstable();
    out
}

/// A versioned table's key, as bytes for digests.
pub(super) trait Key {
    fn parts(&self) -> Vec<&[u8]>;
}

impl Key for String {
    fn parts(&self) -> Vec<&[u8]> {
        vec![self.as_bytes()]
    }
}

impl Key for (String, String) {
    fn parts(&self) -> Vec<&[u8]> {
        vec![self.0.as_bytes(), self.1.as_bytes()]
    }
}

impl Key for (String, String, String, String, String) {
    fn parts(&self) -> Vec<&[u8]> {
        vec![
            self.0.as_bytes(),
            self.1.as_bytes(),
            self.2.as_bytes(),
            self.3.as_bytes(),
            self.4.as_bytes(),
        ]
    }
}

/// The digest of a whole set of rows, whatever their order: the wrapping sum of each row's
/// digest taken with its key. A run whose set equals the current one's (kept in
/// `version_sets`) leaves the table alone without reading it.
pub(super) fn set_digest<K: Key>(rows: &[(K, Digest)]) -> Digest {
    let sum = rows.iter().fold(0u128, |acc, (k, d)| {
        let mut parts = k.parts();
        parts.push(d);
        acc.wrapping_add(u128::from_le_bytes(digest::of(&parts)))
    });
    sum.to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> Digest {
        [n; 16]
    }

    #[test]
    fn only_what_changed_is_closed_and_written() {
        let current = vec![
            ("a", Some(d(1))),
            ("b", Some(d(2))),
            ("c", Some(d(3))),
            ("old", None),
        ];
        let new = [("a", d(1)), ("b", d(9)), ("new", d(4)), ("old", d(5))];
        let ch = changes(current, &new);
        assert_eq!(ch.close, vec!["b", "c", "old"]);
        assert_eq!(ch.write, vec![1, 2, 3]);
    }

    #[test]
    fn a_key_with_several_rows_is_compared_as_a_whole() {
        let current = vec![("k", Some(d(1))), ("k", Some(d(2)))];
        let same = changes(current.clone(), &[("k", d(2)), ("k", d(1))]);
        assert!(same.close.is_empty() && same.write.is_empty());
        let fewer = changes(current, &[("k", d(1))]);
        assert_eq!(fewer.close, vec!["k"]);
        assert_eq!(fewer.write, vec![0]);
    }

    #[test]
    fn a_set_digest_ignores_order_and_sees_any_change() {
        let rows: Vec<(String, Digest)> = (0..50u8).map(|i| (i.to_string(), d(i))).collect();
        let mut shuffled = rows.clone();
        shuffled.reverse();
        assert_eq!(set_digest(&rows), set_digest(&shuffled));
        let mut changed = rows.clone();
        changed[7].1 = d(200);
        assert_ne!(set_digest(&rows), set_digest(&changed));
        let mut moved = rows.clone();
        moved[7].0 = "other".into();
        assert_ne!(set_digest(&rows), set_digest(&moved));
        assert_ne!(set_digest(&rows), set_digest(&rows[1..]));
    }

    #[test]
    fn an_unchanged_run_changes_nothing() {
        let rows: Vec<(String, Digest)> = (0..100u8).map(|i| (i.to_string(), d(i))).collect();
        let current = rows.iter().map(|(k, v)| (k.clone(), Some(*v))).collect();
        let ch = changes(current, &rows);
        assert!(ch.close.is_empty() && ch.write.is_empty());
    }
}
