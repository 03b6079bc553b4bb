//! Address and region code → township, with the method and confidence of every placement.
//! Pure: no I/O. An employer that cannot be placed is `Unplaced`, never dropped.

use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::gazetteer::{short_name, Gazetteer};

/// How a placement was made, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementMethod {
    /// The statistics directory's 统计用区划代码.
    RegionCode,
    /// The township's full name in the address.
    TownshipName,
    /// An operator alias (development zone, park) in the address.
    Alias,
    /// A village's full name in the address (the village belongs to one township).
    VillageName,
    /// The township's short name (without 镇/乡/街道) in the address.
    TownshipShortName,
    /// A village's short name, unique in the county.
    VillageShortName,
    Unplaced,
}

impl PlacementMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementMethod::RegionCode => "region_code",
            PlacementMethod::TownshipName => "township_name",
            PlacementMethod::Alias => "alias",
            PlacementMethod::VillageName => "village_name",
            PlacementMethod::TownshipShortName => "township_short_name",
            PlacementMethod::VillageShortName => "village_short_name",
            PlacementMethod::Unplaced => "unplaced",
        }
    }

    fn confidence(self) -> f32 {
        match self {
            PlacementMethod::RegionCode => 1.0,
            PlacementMethod::TownshipName => 0.95,
            PlacementMethod::Alias => 0.9,
            PlacementMethod::VillageName => 0.85,
            PlacementMethod::TownshipShortName => 0.75,
            PlacementMethod::VillageShortName => 0.65,
            PlacementMethod::Unplaced => 0.0,
        }
    }
}

/// Where an employer goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    pub township_code: Option<String>,
    pub village_code: Option<String>,
    pub method: PlacementMethod,
    pub confidence: f32,
    /// The text or code that decided it.
    pub evidence: String,
}

impl Placement {
    pub fn unplaced() -> Placement {
        Placement {
            township_code: None,
            village_code: None,
            method: PlacementMethod::Unplaced,
            confidence: 0.0,
            evidence: String::new(),
        }
    }
}

struct Pattern {
    township: String,
    village: Option<String>,
    method: PlacementMethod,
}

/// A compiled gazetteer: one automaton over every township, alias and village name.
pub struct Locator {
    townships: HashMap<String, String>,
    villages: HashMap<String, String>,
    village_names: HashMap<String, String>,
    automaton: Option<AhoCorasick>,
    patterns: Vec<Pattern>,
    texts: Vec<String>,
}

impl Locator {
    pub fn new(g: &Gazetteer) -> Locator {
        let mut texts = Vec::new();
        let mut patterns = Vec::new();
        let mut add = |text: &str, township: &str, village: Option<&str>, method| {
            if text.chars().count() >= 2 {
                texts.push(fold(text));
                patterns.push(Pattern {
                    township: township.to_string(),
                    village: village.map(str::to_string),
                    method,
                });
            }
        };
        for t in &g.townships {
            add(&t.name, &t.code, None, PlacementMethod::TownshipName);
            let short = short_name(&t.name, true);
            if short != t.name {
                add(short, &t.code, None, PlacementMethod::TownshipShortName);
            }
        }
        for (alias, code) in &g.aliases {
            add(alias, code, None, PlacementMethod::Alias);
        }
        // A village short name shared by two townships decides nothing.
        let mut short_count: HashMap<&str, usize> = HashMap::new();
        for v in &g.villages {
            *short_count.entry(short_name(&v.name, false)).or_default() += 1;
        }
        for v in &g.villages {
            add(
                &v.name,
                &v.township_code,
                Some(&v.code),
                PlacementMethod::VillageName,
            );
            let short = short_name(&v.name, false);
            if short != v.name && short_count.get(short) == Some(&1) {
                add(
                    short,
                    &v.township_code,
                    Some(&v.code),
                    PlacementMethod::VillageShortName,
                );
            }
        }
        let automaton = AhoCorasick::new(&texts).ok();
        Locator {
            townships: g
                .townships
                .iter()
                .map(|t| (t.code.clone(), t.name.clone()))
                .collect(),
            villages: g
                .villages
                .iter()
                .map(|v| (v.code.clone(), v.township_code.clone()))
                .collect(),
            village_names: g
                .villages
                .iter()
                .map(|v| (v.code.clone(), v.name.clone()))
                .collect(),
            automaton,
            patterns,
            texts,
        }
    }

    /// Places by region code first, then by the best name found in any of the addresses.
    pub fn place<'a>(
        &self,
        region_code: Option<&str>,
        addresses: impl IntoIterator<Item = &'a str>,
    ) -> Placement {
        if let Some(code) = region_code {
            if code.len() >= 9 && self.townships.contains_key(&code[..9]) {
                let village = (code.len() == 12 && self.villages.contains_key(code))
                    .then(|| code.to_string());
                return Placement {
                    township_code: Some(code[..9].to_string()),
                    village_code: village,
                    method: PlacementMethod::RegionCode,
                    confidence: PlacementMethod::RegionCode.confidence(),
                    evidence: code.to_string(),
                };
            }
        }
        addresses
            .into_iter()
            .map(|a| self.place_address(a))
            .min_by(|a, b| a.method.cmp(&b.method))
            .unwrap_or_else(Placement::unplaced)
    }

    /// The best placement one address supports.
    pub fn place_address(&self, address: &str) -> Placement {
        let Some(ac) = &self.automaton else {
            return Placement::unplaced();
        };
        let text = fold(address);
        let mut best: Option<(PlacementMethod, usize, usize)> = None;
        for m in ac.find_overlapping_iter(&text) {
            let p = &self.patterns[m.pattern().as_usize()];
            let cand = (p.method, m.start(), m.pattern().as_usize());
            if best.is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
                best = Some(cand);
            }
        }
        let Some((method, _, idx)) = best else {
            return Placement::unplaced();
        };
        let p = &self.patterns[idx];
        // A village named as well confirms the township and gives the village.
        let village = p.village.clone().or_else(|| {
            ac.find_overlapping_iter(&text)
                .map(|m| &self.patterns[m.pattern().as_usize()])
                .find(|q| q.village.is_some() && q.township == p.township)
                .and_then(|q| q.village.clone())
        });
        Placement {
            township_code: Some(p.township.clone()),
            village_code: village,
            method,
            confidence: method.confidence(),
            evidence: self.texts[idx].clone(),
        }
    }

    pub fn village_name(&self, code: &str) -> Option<&str> {
        self.village_names.get(code).map(String::as_str)
    }

    pub fn township_name(&self, code: &str) -> Option<&str> {
        self.townships.get(code).map(String::as_str)
    }

    /// The township's name as lists show it; `未能定位乡镇` when unplaced or unknown.
    pub fn township_label(&self, code: Option<&str>) -> &str {
        code.and_then(|c| self.township_name(c))
            .unwrap_or("未能定位乡镇")
    }
}

fn fold(s: &str) -> String {
    s.nfkc().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::gazetteer::{Township, Village};

    fn g() -> Gazetteer {
        Gazetteer::new(
            "350583",
            vec![
                Township {
                    code: "350583118".into(),
                    name: "官桥镇".into(),
                },
                Township {
                    code: "350583119".into(),
                    name: "水头镇".into(),
                },
                Township {
                    code: "350583400".into(),
                    name: "雪峰华侨经济开发区".into(),
                },
            ],
            vec![
                Village {
                    code: "350583118201".into(),
                    name: "内厝村委会".into(),
                    township_code: "350583118".into(),
                },
                Village {
                    code: "350583119201".into(),
                    name: "康店村委会".into(),
                    township_code: "350583119".into(),
                },
                Village {
                    code: "350583119202".into(),
                    name: "大盈村委会".into(),
                    township_code: "350583119".into(),
                },
                Village {
                    code: "350583118202".into(),
                    name: "大盈村委会".into(),
                    township_code: "350583118".into(),
                },
            ],
            vec![("雪峰开发区".into(), "350583400".into())],
        )
    }

    #[test]
    fn region_code_wins() {
        let l = Locator::new(&g());
        let p = l.place(Some("350583119201"), ["福建省南安市官桥镇内厝村"]);
        assert_eq!(p.township_code.as_deref(), Some("350583119"));
        assert_eq!(p.method, PlacementMethod::RegionCode);
        assert_eq!(p.village_code.as_deref(), Some("350583119201"));
    }

    #[test]
    fn address_names_place_with_method() {
        let l = Locator::new(&g());
        let p = l.place(None, ["福建省泉州市南安市官桥镇内厝村工业路8号"]);
        assert_eq!(p.township_code.as_deref(), Some("350583118"));
        assert_eq!(p.method, PlacementMethod::TownshipName);
        assert_eq!(p.village_code.as_deref(), Some("350583118201"));
        let p = l.place(None, ["南安市康店村委会12号"]);
        assert_eq!(
            (p.township_code.as_deref(), p.method),
            (Some("350583119"), PlacementMethod::VillageName)
        );
        let p = l.place(None, ["南安 水头 滨海路"]);
        assert_eq!(
            (p.township_code.as_deref(), p.method),
            (Some("350583119"), PlacementMethod::TownshipShortName)
        );
        let p = l.place(None, ["南安市雪峰开发区光电路"]);
        assert_eq!(
            (p.township_code.as_deref(), p.method),
            (Some("350583400"), PlacementMethod::Alias)
        );
    }

    #[test]
    fn ambiguous_or_unknown_is_unplaced() {
        let l = Locator::new(&g());
        // 大盈 names villages in two townships: it decides nothing.
        let p = l.place(None, ["南安市大盈12号"]);
        assert_eq!(p.method, PlacementMethod::Unplaced);
        assert_eq!(p.township_code, None);
        let p = l.place(Some("999999999999"), ["厦门市思明区"]);
        assert_eq!(p.method, PlacementMethod::Unplaced);
    }
}
