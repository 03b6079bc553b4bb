//! Blocking: which pairs are ever compared. Identifier, organisation code, code halves (one
//! typo), rare name-core and phonetic bigrams (frequent ones capped), and village + industry.

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
}

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
        }
    }
    if let Some(o) = &f.org {
        keys.push(key(b'o', &[o.as_str()]));
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
        Blocker { exact, grams }
    }

    /// Candidates for record `i` (never `i` itself), sorted.
    pub fn candidates(&self, i: usize, f: &Features) -> Vec<u32> {
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
        out.extend(ranked.into_iter().take(MAX_NAME_CANDIDATES).map(|(j, _)| j));
        out.sort_unstable();
        out.dedup();
        out
    }
}
