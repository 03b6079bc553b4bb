//! Blocking: which pairs are ever compared. Identifier, organisation code, code halves and the
//! code less one character (one typo), the name core's whole sound, rare name-core and
//! phonetic bigrams (frequent ones capped), and village + industry.

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use super::features::Features;

/// Identifier and place blocks larger than this are skipped: such a key says nothing.
const MAX_BLOCK: usize = 300;
/// Name grams shared by more records than this are too common to find candidates with.
const MAX_GRAM_BLOCK: usize = 2000;
/// Candidates kept per record from name grams, by number of shared rare grams.
const MAX_NAME_CANDIDATES: usize = 24;

/// Inverted indexes over the blocking keys that some query record has.
pub struct Blocker {
    exact: FxHashMap<u64, Vec<u32>>,
    grams: FxHashMap<u64, Vec<u32>>,
    /// Removed records still listed under a key whose block is far too large to be used
    /// (removing them at once would walk the whole block), and how many there are per key.
    lazy: FxHashSet<u32>,
    stale: FxHashMap<(bool, u64), usize>,
}

/// Blocks this many times their cap are pruned lazily.
const LAZY_FACTOR: usize = 4;

fn key<T: Hash + ?Sized>(tag: u8, parts: &[&T]) -> u64 {
    let mut h = FxHasher::default();
    tag.hash(&mut h);
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

fn exact_keys(f: &Features) -> Vec<u64> {
    let mut keys = Vec::new();
    if let Some(c) = &f.code {
        keys.push(key(b'c', &[c.as_str()]));
        if c.len() == 18 && c.is_ascii() {
            keys.push(key(b'h', &[&c[..9]]));
            keys.push(key(b't', &[&c[9..]]));
            // One character typed wrong in the organisation code and check digit (the part
            // after the registration authority, which a county's employers share): the code
            // with that character left out is the same.
            for k in 8..18 {
                keys.push(key(b'd', &[&c[8..k], &c[k + 1..]]));
            }
        }
    }
    if let Some(o) = &f.org {
        keys.push(key(b'o', &[o.as_str()]));
    }
    // The whole core's sound: a clinic types a name by ear (`贵新化工` for `贵鑫化工`), and
    // its bigrams alone may rank the homophone below look-alikes sharing common words.
    if let Some(n) = f.name.as_ref().filter(|n| !n.phonetic.is_empty()) {
        keys.push(key(b'f', &[n.phonetic.as_str()]));
    }
    if let (Some(v), Some(i)) = (&f.village, &f.industry) {
        keys.push(key(b'v', &[v.as_str(), i.get(..2).unwrap_or(i)]));
    }
    if let Some(s) = &f.street {
        if s.chars().count() >= 4 {
            keys.push(key(
                b's',
                &[f.township.as_deref().unwrap_or(""), s.as_str()],
            ));
        }
    }
    keys
}

fn gram_keys(f: &Features) -> Vec<u64> {
    let Some(name) = &f.name else {
        return Vec::new();
    };
    let chars: Vec<char> = name.core.chars().collect();
    let mut keys: Vec<u64> = chars
        .windows(2)
        .map(|w| key(b'g', &[&w[0], &w[1]]))
        .collect();
    let syllables: Vec<&str> = name.phonetic.split(' ').collect();
    keys.extend(syllables.windows(2).map(|w| key(b'p', &[w[0], w[1]])));
    keys.sort_unstable();
    keys.dedup();
    keys
}

impl Blocker {
    /// Indexes every record's keys that one of the `queries` also has.
    pub fn new(features: &[Features], queries: &[usize]) -> Blocker {
        let mut wanted_exact: FxHashSet<u64> = FxHashSet::default();
        let mut wanted_grams: FxHashSet<u64> = FxHashSet::default();
        for &q in queries {
            wanted_exact.extend(exact_keys(&features[q]));
            wanted_grams.extend(gram_keys(&features[q]));
        }
        let mut exact: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        let mut grams: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        for (i, f) in features.iter().enumerate() {
            for k in exact_keys(f) {
                if wanted_exact.contains(&k) {
                    exact.entry(k).or_default().push(i as u32);
                }
            }
            for k in gram_keys(f) {
                if wanted_grams.contains(&k) {
                    grams.entry(k).or_default().push(i as u32);
                }
            }
        }
        Blocker {
            exact,
            grams,
            lazy: FxHashSet::default(),
            stale: FxHashMap::default(),
        }
    }

    /// Indexes every key of every live record (for incremental resolution, where any
    /// record may become a query later).
    pub fn full(features: &[Features], alive: &[bool]) -> Blocker {
        let mut b = Blocker {
            exact: FxHashMap::default(),
            grams: FxHashMap::default(),
            lazy: FxHashSet::default(),
            stale: FxHashMap::default(),
        };
        for (i, f) in features.iter().enumerate() {
            if alive[i] {
                b.insert(i, f);
            }
        }
        b
    }

    /// Adds record `i` under every key it has.
    pub fn insert(&mut self, i: usize, f: &Features) {
        for k in exact_keys(f) {
            self.exact.entry(k).or_default().push(i as u32);
        }
        for k in gram_keys(f) {
            self.grams.entry(k).or_default().push(i as u32);
        }
    }

    /// Removes record `i` (indexed with features `f`).
    pub fn remove(&mut self, i: usize, f: &Features) {
        let me = i as u32;
        let keys = Blocker::keys_of(f);
        for key in keys {
            let (map, cap) = if key.0 {
                (&mut self.exact, MAX_BLOCK)
            } else {
                (&mut self.grams, MAX_GRAM_BLOCK)
            };
            let Some(ids) = map.get_mut(&key.1) else {
                continue;
            };
            let stale = self.stale.entry(key).or_default();
            if ids.len() - *stale > LAZY_FACTOR * cap {
                *stale += 1;
                self.lazy.insert(me);
                continue;
            }
            if *stale > 0 {
                let lazy = &self.lazy;
                ids.retain(|j| !lazy.contains(j));
                *stale = 0;
            }
            if let Some(pos) = ids.iter().position(|&j| j == me) {
                ids.swap_remove(pos);
            }
            if ids.is_empty() {
                map.remove(&key.1);
            }
            if self.stale.get(&key) == Some(&0) {
                self.stale.remove(&key);
            }
        }
    }

    /// Records listed under `key`, removed ones not counted.
    fn block_len(&self, key: (bool, u64)) -> usize {
        let map = if key.0 { &self.exact } else { &self.grams };
        let listed = map.get(&key.1).map_or(0, Vec::len);
        listed - self.stale.get(&key).copied().unwrap_or(0)
    }

    /// Every key of `f` as (is an identifier/place key, key), for finding the records whose
    /// candidates a change can affect.
    pub fn keys_of(f: &Features) -> Vec<(bool, u64)> {
        let mut keys: Vec<(bool, u64)> = exact_keys(f).into_iter().map(|k| (true, k)).collect();
        keys.extend(gram_keys(f).into_iter().map(|k| (false, k)));
        keys
    }

    /// The records under a key (possibly with removed ones, in a block far over its cap),
    /// its size, and the size above which the key is not used.
    pub fn holders(&self, key: (bool, u64)) -> (&[u32], usize, usize) {
        let (map, cap) = if key.0 {
            (&self.exact, MAX_BLOCK)
        } else {
            (&self.grams, MAX_GRAM_BLOCK)
        };
        let ids = map.get(&key.1).map_or(&[][..], Vec::as_slice);
        (ids, self.block_len(key), cap)
    }

    /// Candidates for record `i` (never `i` itself), sorted.
    pub fn candidates(&self, i: usize, f: &Features) -> Vec<u32> {
        self.candidates_with_floor(i, f).0
    }

    /// Candidates for record `i`, and the number of rare name grams a record must share with
    /// `i` to enter its name candidates now (0: any shared gram is enough). A record added
    /// later (a higher index) needs more than the floor, since ties go to lower indexes.
    pub fn candidates_with_floor(&self, i: usize, f: &Features) -> (Vec<u32>, u32) {
        let me = i as u32;
        let mut out: Vec<u32> = Vec::new();
        for k in exact_keys(f) {
            if let Some(ids) = self.exact.get(&k).filter(|ids| ids.len() <= MAX_BLOCK) {
                out.extend(ids.iter().copied().filter(|&j| j != me));
            }
        }
        let mut shared: FxHashMap<u32, u32> = FxHashMap::default();
        for k in gram_keys(f) {
            if let Some(ids) = self.grams.get(&k).filter(|ids| ids.len() <= MAX_GRAM_BLOCK) {
                for &j in ids {
                    if j != me {
                        *shared.entry(j).or_default() += 1;
                    }
                }
            }
        }
        let mut ranked: Vec<(u32, u32)> = shared.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let floor = if ranked.len() >= MAX_NAME_CANDIDATES {
            ranked[MAX_NAME_CANDIDATES - 1].1
        } else {
            0
        };
        out.extend(ranked.into_iter().take(MAX_NAME_CANDIDATES).map(|(j, _)| j));
        out.sort_unstable();
        out.dedup();
        (out, floor)
    }

    /// For a record `f` at index `i`: every record of this index under one of its keys that
    /// is usable in `full` (the index of all records, whose block sizes decide), with whether
    /// they share an identifier or place key, and how many usable name grams.
    pub fn neighbours_within(
        &self,
        full: &Blocker,
        i: usize,
        f: &Features,
    ) -> FxHashMap<u32, (bool, u32)> {
        let me = i as u32;
        let usable = |exact: bool, k: &u64, cap: usize| full.block_len((exact, *k)) <= cap;
        let mut out: FxHashMap<u32, (bool, u32)> = FxHashMap::default();
        for k in exact_keys(f) {
            if !usable(true, &k, MAX_BLOCK) {
                continue;
            }
            if let Some(ids) = self.exact.get(&k) {
                for &j in ids.iter().filter(|&&j| j != me) {
                    out.entry(j).or_default().0 = true;
                }
            }
        }
        for k in gram_keys(f) {
            if !usable(false, &k, MAX_GRAM_BLOCK) {
                continue;
            }
            if let Some(ids) = self.grams.get(&k) {
                for &j in ids.iter().filter(|&&j| j != me) {
                    out.entry(j).or_default().1 += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A county's codes share their first nine characters, so that half says nothing; a typo
    /// in the organisation code must still find the employer.
    #[test]
    fn a_code_with_one_character_typed_wrong_finds_its_employer() {
        let code = |n: usize| format!("913505835{n:08}X");
        let mut features: Vec<Features> = (0..400)
            .map(|n| Features {
                code: Some(code(n)),
                ..Default::default()
            })
            .collect();
        let target = code(123);
        let mut typo = target.clone();
        typo.replace_range(13..14, "7");
        assert_ne!(typo, target);
        features.push(Features {
            code: Some(typo),
            ..Default::default()
        });
        let query = features.len() - 1;
        let blocker = Blocker::new(&features, &[query]);
        let found = blocker.candidates(query, &features[query]);
        assert!(found.contains(&123), "{found:?}");
        assert!(found.len() < 5, "only near codes: {found:?}");
    }
    /// `贵新化工` typed for `贵鑫化工`: look-alikes sharing the common words (`新化工`) share as
    /// many bigrams as the homophone does and, earlier in the list, crowded it out.
    #[test]
    fn a_homophone_of_the_whole_name_is_always_a_candidate() {
        let parse = |n: &str| super::super::name::parse(n, &["南安市".to_string()], &[]);
        let firsts = "嘉华恒永鸿盛泰源兴顺丰隆昌宏福瑞祥安康达金银东南西北中天海山";
        let mut features: Vec<Features> = firsts
            .chars()
            .map(|c| Features {
                name: Some(parse(&format!("南安市{c}新化工有限公司"))),
                ..Default::default()
            })
            .collect();
        assert!(features.len() > MAX_NAME_CANDIDATES);
        let homophone = features.len();
        features.push(Features {
            name: Some(parse("南安市贵鑫化工有限公司")),
            ..Default::default()
        });
        features.push(Features {
            name: Some(parse("贵新化工有限公司")),
            ..Default::default()
        });
        let query = features.len() - 1;
        let blocker = Blocker::new(&features, &[query]);
        let found = blocker.candidates(query, &features[query]);
        assert!(found.contains(&(homophone as u32)), "{found:?}");
    }
}
