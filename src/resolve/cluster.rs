//! First-version clustering: records sharing a valid USCC, an organisation code, or a
//! normalised name join one entity — never two different valid USCCs in one entity.

use std::collections::HashMap;

use crate::domain::uscc::org_code_of;
use crate::domain::Observation;

use super::normalize::name_key;

/// How a record came to join its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinMethod {
    /// Alone, or the first of its entity.
    Seed,
    Uscc,
    OrgCode,
    Name,
}

impl JoinMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinMethod::Seed => "seed",
            JoinMethod::Uscc => "uscc",
            JoinMethod::OrgCode => "org_code",
            JoinMethod::Name => "name",
        }
    }
}

/// Union–find over observation indexes, carrying each cluster's valid USCC (if any).
struct Clusters {
    parent: Vec<usize>,
    uscc: Vec<Option<String>>,
}

impl Clusters {
    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins the clusters of `a` and `b` unless they hold different valid USCCs.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        match (&self.uscc[ra], &self.uscc[rb]) {
            (Some(x), Some(y)) if x != y => return false,
            _ => {}
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[gone] = keep;
        if self.uscc[keep].is_none() {
            self.uscc[keep] = self.uscc[gone].take();
        }
        true
    }
}

/// Groups observations into clusters. Returns, per observation, its cluster root and method.
pub fn cluster(observations: &[Observation], region_words: &[String]) -> Vec<(usize, JoinMethod)> {
    let n = observations.len();
    let valid: Vec<Option<String>> = observations
        .iter()
        .map(|o| {
            o.uscc
                .as_ref()
                .filter(|u| u.is_valid())
                .map(|u| u.as_str().to_string())
        })
        .collect();
    let mut c = Clusters {
        parent: (0..n).collect(),
        uscc: valid.clone(),
    };
    let mut method = vec![JoinMethod::Seed; n];

    // 1. Same valid USCC.
    let mut by_uscc: HashMap<&str, usize> = HashMap::new();
    for (i, u) in valid.iter().enumerate() {
        if let Some(u) = u {
            match by_uscc.get(u.as_str()) {
                Some(&first) => {
                    c.union(first, i);
                    method[i] = JoinMethod::Uscc;
                }
                None => {
                    by_uscc.insert(u, i);
                }
            }
        }
    }
    // 2. An old tax number or organisation code that a valid USCC contains.
    let mut by_org: HashMap<String, usize> = HashMap::new();
    for (i, u) in valid.iter().enumerate() {
        if let Some(org) = u.as_deref().and_then(org_code_of) {
            by_org.entry(org).or_insert(i);
        }
    }
    for (i, o) in observations.iter().enumerate() {
        if valid[i].is_some() {
            continue;
        }
        let ids = o
            .tax_id
            .iter()
            .map(String::as_str)
            .chain(o.uscc.as_ref().map(|u| u.as_str()));
        for id in ids {
            let org = org_code_of(id).filter(|org| id.len() != 18 || !org.is_empty());
            // An invalid 18-character code's org code is not trusted: the typo may be there.
            if id.len() == 18 {
                continue;
            }
            if let Some(&j) = org.as_ref().and_then(|org| by_org.get(org)) {
                if c.union(j, i) {
                    method[i] = JoinMethod::OrgCode;
                }
            }
        }
    }
    // 3. Same normalised name.
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, o) in observations.iter().enumerate() {
        let Some(name) = o.name.as_deref() else {
            continue;
        };
        let key = name_key(name, region_words);
        if key.chars().count() < 2 {
            continue;
        }
        match by_name.get(&key) {
            Some(&j) => {
                if c.find(i) != c.find(j) && c.union(j, i) && method[i] == JoinMethod::Seed {
                    method[i] = JoinMethod::Name;
                }
            }
            None => {
                by_name.insert(key, i);
            }
        }
    }
    (0..n).map(|i| (c.find(i), method[i])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Feed, Uscc};

    fn obs(name: &str, uscc: Option<&str>) -> Observation {
        Observation {
            source: "t".into(),
            feed: Feed::Other,
            record_key: name.into(),
            name: Some(name.into()),
            uscc: uscc.and_then(Uscc::parse),
            ..Default::default()
        }
    }

    #[test]
    fn uscc_then_name_and_never_two_usccs() {
        let w: Vec<String> = vec!["南安市".into()];
        let os = vec![
            obs("南安市华兴石材有限公司", Some("91350100M000100Y43")),
            obs("华兴（南安市）石材有限责任公司", None),
            obs("华兴石材有限公司", Some("91110108551385082Q")),
            obs("完全不同名称有限公司", Some("91350100M000100Y43")),
        ];
        let r = cluster(&os, &w);
        assert_eq!(r[0].0, r[1].0, "name joins the record without a code");
        assert_eq!(r[1].1, JoinMethod::Name);
        assert_ne!(r[0].0, r[2].0, "a different valid USCC never joins");
        assert_eq!(r[3].0, r[0].0);
        assert_eq!(r[3].1, JoinMethod::Uscc);
    }

    #[test]
    fn old_tax_number_links_through_org_code() {
        let os = vec![
            obs("甲", Some("91110108551385082Q")),
            Observation {
                tax_id: Some("110108551385082".into()),
                ..obs("乙", None)
            },
            obs("丙", Some("110108551385082")),
        ];
        let r = cluster(&os, &[]);
        assert_eq!(r[1].0, r[0].0);
        assert_eq!(r[2].0, r[0].0);
        assert_eq!(r[2].1, JoinMethod::OrgCode);
    }
}
