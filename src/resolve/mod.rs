//! Entity resolution: observations from every feed → one entity per real employer, with every
//! source record traceable to its entity and entity ids stable from run to run. No I/O.

pub mod cluster;
pub mod master;
pub mod normalize;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::Observation;
pub use cluster::JoinMethod;
pub use master::MasterRecord;

/// Which entity a source record joined, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub source: String,
    pub record_key: String,
    pub entity_id: String,
    pub method: JoinMethod,
}

/// The master list and the record → entity links.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub records: Vec<MasterRecord>,
    pub links: Vec<Link>,
}

/// `(source, record_key) → entity id` of the previous run, for stable ids.
pub type PreviousLinks = HashMap<(String, String), String>;

/// Resolves observations into entities. `previous` keeps ids stable: an entity keeps the id
/// that most of its records had last run; a new entity's id is derived from its first record.
pub fn resolve(
    observations: &[Observation],
    previous: &PreviousLinks,
    region_words: &[String],
) -> Resolution {
    let joined = cluster::cluster(observations, region_words);
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, (root, _)) in joined.iter().enumerate() {
        groups.entry(*root).or_default().push(i);
    }
    // Larger groups choose their previous id first, so a split leaves the id with the majority.
    let mut order: Vec<&Vec<usize>> = groups.values().collect();
    order.sort_by_key(|m| std::cmp::Reverse(m.len()));
    let mut previous_sizes: HashMap<&str, usize> = HashMap::new();
    for id in previous.values() {
        *previous_sizes.entry(id.as_str()).or_default() += 1;
    }
    let mut taken: HashSet<String> = HashSet::new();
    let mut ids: HashMap<usize, String> = HashMap::new();
    for members in &order {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in members.iter() {
            let o = &observations[i];
            if let Some(id) = previous.get(&(o.source.clone(), o.record_key.clone())) {
                *votes.entry(id.as_str()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(&str, usize)> = votes.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let kept = ranked
            .iter()
            .find(|(id, n)| {
                let before = previous_sizes.get(id).copied().unwrap_or(1);
                *n * 2 > members.len().min(before) && !taken.contains(*id)
            })
            .map(|(id, _)| id.to_string());
        let id = kept.unwrap_or_else(|| fresh_id(observations, members, &taken));
        taken.insert(id.clone());
        ids.insert(members[0], id);
    }
    let mut records = Vec::with_capacity(groups.len());
    let mut links = Vec::with_capacity(observations.len());
    for members in groups.values() {
        let id = &ids[&members[0]];
        let obs: Vec<&Observation> = members.iter().map(|&i| &observations[i]).collect();
        records.push(master::fold(id, &obs));
        for &i in members {
            links.push(Link {
                source: observations[i].source.clone(),
                record_key: observations[i].record_key.clone(),
                entity_id: id.clone(),
                method: if i == members[0] {
                    JoinMethod::Seed
                } else {
                    joined[i].1
                },
            });
        }
    }
    records.sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
    Resolution { records, links }
}

/// A new id from the entity's smallest record identity: deterministic across runs.
fn fresh_id(observations: &[Observation], members: &[usize], taken: &HashSet<String>) -> String {
    let first = members
        .iter()
        .map(|&i| (&observations[i].source, &observations[i].record_key))
        .min()
        .map(|(s, k)| format!("{s}\u{1f}{k}"))
        .unwrap_or_default();
    let digest = Sha256::digest(first.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let mut id = format!("E{hex}");
    let mut n = 1;
    while taken.contains(&id) {
        n += 1;
        id = format!("E{hex}-{n}");
    }
    id
}
