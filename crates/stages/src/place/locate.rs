//! Address and region code → township, with the method and confidence of every placement.
//! Pure: no I/O. An employer that cannot be placed is `Unplaced`, never dropped.

use crate::domain::TownshipCode;
use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::gazetteer::{common_name, short_name, Gazetteer, OtherCounty, Village};

/// How a placement was made, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub township_code: Option<TownshipCode>,
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

/// Text that, right after a SHORT place name, makes it part of a longer name of something else:
/// a road or street (`新兴路`, `西环大道`), a building or estate, or a place of another kind
/// (`霞美镇` is not the village 霞美). A short name followed by its own kind of suffix
/// (`OWN_SUFFIXES`) is still whole.
pub const NAME_CONTINUATIONS: &[&str] = &[
    "路",
    "街",
    "道",
    "巷",
    "弄",
    "里",
    "胡同",
    "桥",
    "大道",
    "大街",
    "广场",
    "花园",
    "小区",
    "大厦",
    "公寓",
    "镇",
    "乡",
    "县",
    "市",
    "区",
    "州",
    "省",
    "旗",
    "村",
    "社区",
    "居委会",
    "居民委员会",
];
const TOWNSHIP_OWN_SUFFIXES: &[&str] = &["镇", "乡", "街道"];
const VILLAGE_OWN_SUFFIXES: &[&str] = &["村", "社区", "居委会", "居民委员会"];

/// Words a county's last character starts with the next one (`晋江市场` is a market, not
/// 晋江市): after such a pair the county name is not whole.
const COUNTY_SUFFIX_WORDS: &[&str] = &[
    "市场", "市政", "市民", "市级", "县道", "县级", "区域", "区间", "区级", "旗舰",
];
/// Characters a larger division's name ends with: a county name of one character plus its
/// suffix (`献县`) counts only right after one of these, a non-Han character, or the start.
const DIVISION_ENDINGS: &[char] = &['省', '市', '州', '盟', '区'];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Township,
    Village,
    Alias,
    /// The county's own name and region words: never part of a township or village name.
    Local,
}

struct Pattern {
    township: String,
    village: Option<String>,
    method: PlacementMethod,
    kind: Kind,
    /// A short name (without 镇/乡/街道/村/社区…): must be followed by no `NAME_CONTINUATIONS`.
    short: bool,
    /// Whether the name alone decides the township (a village name of one township only).
    decides: bool,
}

/// One match of a pattern in folded text, in bytes.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    idx: usize,
}

impl Hit {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn overlaps(&self, o: &Hit) -> bool {
        self.start < o.end && o.start < self.end
    }
}

/// Other counties' full names, with the county's own names as blockers.
struct Foreign {
    automaton: AhoCorasick,
    /// Per pattern: `Some(index into others)`, or `None` for a local name.
    patterns: Vec<Option<usize>>,
    texts: Vec<String>,
    /// City names and short names (`沧州市`, `沧州`) per other county.
    cities: Vec<[String; 2]>,
}

/// A compiled gazetteer: one automaton over every township, alias and village name, and one over
/// the other counties of China.
pub struct Locator {
    townships: HashMap<TownshipCode, String>,
    villages: HashMap<String, TownshipCode>,
    village_names: HashMap<String, String>,
    /// Townships with a single village (a development zone's one community): its code.
    only_village: HashMap<String, String>,
    automaton: Option<AhoCorasick>,
    patterns: Vec<Pattern>,
    texts: Vec<String>,
    county_code: String,
    county_name: String,
    others: Vec<OtherCounty>,
    others_by_code: HashMap<String, usize>,
    foreign: Option<Foreign>,
}

impl crate::resolve::features::PlaceLookup for Locator {
    fn locate(
        &self,
        region_code: Option<&str>,
        address: Option<&str>,
    ) -> (Option<String>, Option<String>) {
        let p = self.place(region_code, address);
        (p.township_code.map(String::from), p.village_code)
    }

    fn township_named(&self, name: &str) -> Option<String> {
        let p = self.place_address(name);
        (p.method == PlacementMethod::TownshipName)
            .then_some(p.township_code)
            .flatten()
            .map(String::from)
    }

    fn other_county_named(&self, name: &str) -> Option<String> {
        self.foreign_county(name).map(|c| c.code.clone())
    }
}

/// Words of place and direction a part of any town is named with (`城区` downtown, `郊区`
/// suburbs, `矿区` mining area, `新城区` new town, `城东区` east side).
const GENERIC_AREA_WORDS: &str = "东西南北中上下前后内外新老旧城市郊矿";

/// Whether an other county's name is a generic word that ordinary addresses carry: 区 after
/// only `GENERIC_AREA_WORDS` (`城区`, `郊区`, `矿区`, `东区`, `新城区`, `城中区`, `市中区`). Such a
/// name counts only right after its own city's name (`阳泉市城区`, `济南市市中区`).
pub fn is_generic_county_name(name: &str) -> bool {
    name.strip_suffix('区').is_some_and(|stem| {
        !stem.is_empty() && stem.chars().all(|c| GENERIC_AREA_WORDS.contains(c))
    })
}

impl Locator {
    pub fn new(g: &Gazetteer) -> Locator {
        let mut texts = Vec::new();
        let mut patterns = Vec::new();
        let mut add = |text: &str, township: &str, village: Option<&str>, method, kind, short| {
            if text.chars().count() >= 2 {
                texts.push(fold(text));
                patterns.push(Pattern {
                    township: township.to_string(),
                    village: village.map(str::to_string),
                    method,
                    kind,
                    short,
                    decides: true,
                });
            }
        };
        for t in &g.townships {
            let m = PlacementMethod::TownshipName;
            add(&t.name, &t.code, None, m, Kind::Township, false);
            let short = short_name(&t.name, true);
            if short != t.name {
                let m = PlacementMethod::TownshipShortName;
                add(short, &t.code, None, m, Kind::Township, true);
            }
        }
        for (alias, code) in &g.aliases {
            let m = PlacementMethod::Alias;
            add(alias, code, None, m, Kind::Alias, false);
        }
        // A village name (full or short) shared by two villages of one township names neither;
        // shared by villages of two townships it decides no township, but gives the village
        // once its township is named.
        let mut in_township: HashMap<(&str, &str), usize> = HashMap::new();
        let mut townships_of: HashMap<&str, Vec<&str>> = HashMap::new();
        // Each village by its full name, its common name (`丰州社区` for 丰州社区居委会) and its
        // short name (`丰州`): a short name two villages share, the common name still tells apart.
        let names_of = |v: &'_ Village| -> Vec<(String, bool)> {
            let short = short_name(&v.name, false);
            let mut names = vec![(v.name.clone(), false)];
            if let Some(common) = common_name(&v.name).filter(|c| *c != v.name && c != short) {
                names.push((common, false));
            }
            if short != v.name {
                names.push((short.to_string(), true));
            }
            names
        };
        let village_names: Vec<Vec<(String, bool)>> = g.villages.iter().map(names_of).collect();
        for (v, names) in g.villages.iter().zip(&village_names) {
            for (n, _) in names {
                let n = n.as_str();
                *in_township.entry((&v.township_code, n)).or_default() += 1;
                let ts = townships_of.entry(n).or_default();
                if !ts.contains(&v.township_code.as_str()) {
                    ts.push(&v.township_code);
                }
            }
        }
        let mut shared = std::collections::HashSet::new();
        for (v, names) in g.villages.iter().zip(&village_names) {
            for (n, is_short) in names {
                let (n, is_short) = (n.as_str(), *is_short);
                if in_township.get(&(v.township_code.as_str(), n)) != Some(&1) {
                    continue;
                }
                let m = if is_short {
                    PlacementMethod::VillageShortName
                } else {
                    PlacementMethod::VillageName
                };
                if townships_of.get(n).map_or(0, Vec::len) > 1 {
                    shared.insert(fold(n));
                }
                add(
                    n,
                    &v.township_code,
                    Some(&v.code),
                    m,
                    Kind::Village,
                    is_short,
                );
            }
        }
        for w in g.local_words.iter().chain([&g.county_name]) {
            add(w, "", None, PlacementMethod::Unplaced, Kind::Local, false);
        }
        for (p, t) in patterns.iter_mut().zip(&texts) {
            p.decides = !(p.kind == Kind::Village && shared.contains(t));
        }
        let automaton = AhoCorasick::new(&texts).ok();
        let foreign = Foreign::new(g);
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
            only_village: {
                let mut of: HashMap<&str, Vec<&str>> = HashMap::new();
                for v in &g.villages {
                    of.entry(&v.township_code).or_default().push(&v.code);
                }
                of.into_iter()
                    .filter_map(|(t, vs)| match vs[..] {
                        [only] => Some((t.to_string(), only.to_string())),
                        _ => None,
                    })
                    .collect()
            },
            automaton,
            patterns,
            texts,
            county_code: g.county_code.clone(),
            county_name: fold(&g.county_name),
            others: g.others.clone(),
            others_by_code: g
                .others
                .iter()
                .enumerate()
                .map(|(i, o)| (o.code.clone(), i))
                .collect(),
            foreign,
        }
    }

    /// Places by region code first, then by the best name found in any of the addresses.
    pub fn place<'a>(
        &self,
        region_code: Option<&str>,
        addresses: impl IntoIterator<Item = &'a str>,
    ) -> Placement {
        // `get`, not slicing: a region code from a feed may hold any characters.
        if let Some((code, township)) = region_code.and_then(|c| Some((c, c.get(..9)?))) {
            if self.townships.contains_key(township) {
                let village = (code.len() == 12 && self.villages.contains_key(code))
                    .then(|| code.to_string())
                    .or_else(|| self.only_village.get(township).cloned());
                return Placement {
                    township_code: Some(township.into()),
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

    /// The best placement one address supports. Names count only as whole place names; an
    /// address of another county is `Unplaced` with evidence `外县：<county>`.
    pub fn place_address(&self, address: &str) -> Placement {
        let Some(ac) = &self.automaton else {
            return Placement::unplaced();
        };
        let text = fold(address);
        if let Some(other) = self.foreign_in(&text) {
            return Placement {
                evidence: format!("外县：{}", other.name),
                ..Placement::unplaced()
            };
        }
        let hits = self.whole_hits(ac, &text);
        let rank = |h: &Hit| (self.patterns[h.idx].method, h.start);
        // Most specific first: the township a township (or alias) name gives, else a village's.
        let Some(best) = hits
            .iter()
            .filter(|h| self.patterns[h.idx].decides)
            .min_by_key(|h| rank(h))
        else {
            return Placement::unplaced();
        };
        let p = &self.patterns[best.idx];
        // A village named as well, in that township, gives the village; a full name first. A
        // township with one village only has that one.
        let village = p
            .village
            .clone()
            .or_else(|| {
                hits.iter()
                    .filter(|h| {
                        let q = &self.patterns[h.idx];
                        q.village.is_some() && q.township == p.township
                    })
                    .min_by_key(|h| rank(h))
                    .and_then(|h| self.patterns[h.idx].village.clone())
            })
            .or_else(|| self.only_village.get(&p.township).cloned());
        Placement {
            township_code: Some(p.township.as_str().into()),
            village_code: village,
            method: p.method,
            confidence: p.method.confidence(),
            evidence: self.texts[best.idx].clone(),
        }
    }

    /// The township/village/alias names found in `text` as whole place names: a short name not
    /// followed by a `NAME_CONTINUATIONS`, and no name overlapping a longer one or a local word.
    fn whole_hits(&self, ac: &AhoCorasick, text: &str) -> Vec<Hit> {
        let hits: Vec<Hit> = ac
            .find_overlapping_iter(text)
            .map(|m| Hit {
                start: m.start(),
                end: m.end(),
                idx: m.pattern().as_usize(),
            })
            .filter(|h| {
                let p = &self.patterns[h.idx];
                if !p.short {
                    return true;
                }
                let rest = &text[h.end..];
                let own = match p.kind {
                    Kind::Township => TOWNSHIP_OWN_SUFFIXES,
                    _ => VILLAGE_OWN_SUFFIXES,
                };
                own.iter().any(|s| rest.starts_with(s))
                    || !NAME_CONTINUATIONS.iter().any(|s| rest.starts_with(s))
            })
            .collect();
        hits.iter()
            .filter(|h| self.patterns[h.idx].kind != Kind::Local)
            .filter(|h| {
                !hits.iter().any(|o| {
                    o.overlaps(h)
                        && (o.len() > h.len()
                            || (self.patterns[o.idx].kind == Kind::Local && o.len() >= h.len()))
                })
            })
            .copied()
            .collect()
    }

    /// The other county a name or address names as a whole word; `None` when it names none, or
    /// names this county.
    pub fn foreign_county(&self, text: &str) -> Option<&OtherCounty> {
        self.foreign_in(&fold(text))
    }

    fn foreign_in(&self, text: &str) -> Option<&OtherCounty> {
        let f = self.foreign.as_ref()?;
        if !self.county_name.is_empty()
            && text
                .match_indices(self.county_name.as_str())
                .any(|(i, n)| whole_after(n, &text[i + n.len()..]))
        {
            return None;
        }
        let hits: Vec<Hit> = f
            .automaton
            .find_overlapping_iter(text)
            .map(|m| Hit {
                start: m.start(),
                end: m.end(),
                idx: m.pattern().as_usize(),
            })
            .collect();
        hits.iter()
            .filter_map(|h| f.patterns[h.idx].map(|o| (h, o)))
            .filter(|(h, o)| {
                let name = &f.texts[h.idx];
                whole_after(name, &text[h.end..])
                    && f.starts_whole(*o, name, &text[..h.start])
                    && !hits.iter().any(|x| {
                        x.overlaps(h)
                            && (x.len() > h.len()
                                || (f.patterns[x.idx].is_none() && x.len() >= h.len()))
                    })
            })
            .min_by_key(|(h, _)| h.start)
            .map(|(_, o)| &self.others[o])
    }

    /// For an 18-character USCC, the other county whose code its characters 3–8 (the
    /// registering authority's region) are; `None` for this county or a city/province code.
    pub fn foreign_region(&self, uscc: &str) -> Option<&OtherCounty> {
        if uscc.chars().count() != 18 {
            return None;
        }
        let code = uscc.get(2..8)?;
        if !code.bytes().all(|b| b.is_ascii_digit())
            || code == self.county_code
            || code.ends_with("00")
        {
            return None;
        }
        self.others_by_code.get(code).map(|&i| &self.others[i])
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

    /// The village's name as lists show it; empty when unplaced or unknown.
    pub fn village_label(&self, code: Option<&str>) -> &str {
        code.and_then(|c| self.village_name(c)).unwrap_or_default()
    }
}

impl Foreign {
    /// `None` when no other counties are known. Names that are generic words, or equal to or
    /// inside one of this county's own names, are left out.
    fn new(g: &Gazetteer) -> Option<Foreign> {
        if g.others.is_empty() {
            return None;
        }
        let mut local: Vec<String> = g
            .local_words
            .iter()
            .chain([&g.county_name])
            .chain(g.townships.iter().map(|t| &t.name))
            .chain(g.villages.iter().map(|v| &v.name))
            .chain(g.aliases.iter().map(|(a, _)| a))
            .map(|s| fold(s))
            .filter(|s| s.chars().count() >= 2)
            .collect();
        local.sort();
        local.dedup();
        let mut texts = Vec::new();
        let mut patterns = Vec::new();
        for (i, o) in g.others.iter().enumerate() {
            let name = fold(&o.name);
            if name.chars().count() < 2 || local.iter().any(|l| l.contains(name.as_str())) {
                continue;
            }
            texts.push(name);
            patterns.push(Some(i));
        }
        for l in local {
            texts.push(l);
            patterns.push(None);
        }
        let automaton = AhoCorasick::new(&texts).ok()?;
        let cities = g
            .others
            .iter()
            .map(|o| {
                let city = fold(&o.city_name);
                let short = ["市", "地区", "自治州", "盟"]
                    .iter()
                    .find_map(|s| city.strip_suffix(s))
                    .filter(|s| s.chars().count() >= 2)
                    .unwrap_or(city.as_str())
                    .to_string();
                [city, short]
            })
            .collect();
        Some(Foreign {
            automaton,
            patterns,
            texts,
            cities,
        })
    }

    /// Whether the county name `name`, after the text `before`, starts a whole name: a generic
    /// name only right after its own city; a name of one character plus its suffix (`献县`) also
    /// after the start, a non-Han character or a larger division's name (`…省`, `…市`).
    fn starts_whole(&self, other: usize, name: &str, before: &str) -> bool {
        let after_city = || {
            self.cities[other]
                .iter()
                .any(|c| !c.is_empty() && before.ends_with(c.as_str()))
        };
        if is_generic_county_name(name) {
            return after_city();
        }
        if name.chars().count() > 2 {
            return true;
        }
        match before.chars().last() {
            None => true,
            Some(c) if !is_han(c) || DIVISION_ENDINGS.contains(&c) => true,
            Some(_) => after_city(),
        }
    }
}

/// Whether a county name followed by `rest` is whole: its last character and the next do not
/// form a common word (`晋江市场`).
fn whole_after(name: &str, rest: &str) -> bool {
    let (Some(last), Some(next)) = (name.chars().last(), rest.chars().next()) else {
        return true;
    };
    let pair: String = [last, next].iter().collect();
    !COUNTY_SUFFIX_WORDS.contains(&pair.as_str())
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{3134f}')
}

fn fold(s: &str) -> String {
    s.nfkc().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::gazetteer::{OtherCounty, Township, Village};

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
                    code: "350583120".into(),
                    name: "霞美镇".into(),
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
                Village {
                    code: "350583118001".into(),
                    name: "新兴社区居委会".into(),
                    township_code: "350583118".into(),
                },
                Village {
                    code: "350583118203".into(),
                    name: "和平村委会".into(),
                    township_code: "350583118".into(),
                },
                Village {
                    code: "350583119203".into(),
                    name: "西环村委会".into(),
                    township_code: "350583119".into(),
                },
                Village {
                    code: "350583120201".into(),
                    name: "霞美村委会".into(),
                    township_code: "350583120".into(),
                },
                Village {
                    code: "350583120202".into(),
                    name: "长福村委会".into(),
                    township_code: "350583120".into(),
                },
                Village {
                    code: "350583120001".into(),
                    name: "霞美社区居委会".into(),
                    township_code: "350583120".into(),
                },
                Village {
                    code: "350583400498".into(),
                    name: "管委会虚拟社区".into(),
                    township_code: "350583400".into(),
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

    #[test]
    fn a_short_name_inside_a_road_name_places_nothing() {
        let l = Locator::new(&g());
        for address in ["南安市新兴路8号", "南安市西环路12号", "南安市官桥路3号"]
        {
            let p = l.place(None, [address]);
            assert_eq!(p.method, PlacementMethod::Unplaced, "{address}: {p:?}");
        }
        // Followed by its own kind of suffix, a short name is whole.
        let p = l.place(None, ["南安市新兴社区8号"]);
        assert_eq!(p.village_code.as_deref(), Some("350583118001"));
        let p = l.place(None, ["南安市水头镇西环村12号"]);
        assert_eq!(p.village_code.as_deref(), Some("350583119203"));
    }

    #[test]
    fn a_village_short_name_inside_the_township_name_is_not_the_village() {
        let l = Locator::new(&g());
        let p = l.place(None, ["福建省南安市霞美镇长福村15号"]);
        assert_eq!(p.township_code.as_deref(), Some("350583120"));
        assert_eq!(p.method, PlacementMethod::TownshipName);
        assert_eq!(p.village_code.as_deref(), Some("350583120202"));
        let p = l.place(None, ["南安市霞美镇工业路1号"]);
        assert_eq!(p.village_code, None);
        // 长福 belongs to 霞美镇, not to 官桥镇: the township named wins, the village is unknown.
        let p = l.place(None, ["南安市官桥镇长福村2号"]);
        assert_eq!(p.township_code.as_deref(), Some("350583118"));
        assert_eq!(p.village_code, None);
    }

    #[test]
    fn a_village_name_of_two_townships_gives_the_village_of_the_one_named() {
        let l = Locator::new(&g());
        // 大盈村 is in 官桥镇 and in 水头镇: alone it decides nothing.
        let p = l.place(None, ["南安市大盈村委会8号"]);
        assert_eq!(p.method, PlacementMethod::Unplaced);
        let p = l.place(None, ["南安市水头镇大盈村8号"]);
        assert_eq!(p.township_code.as_deref(), Some("350583119"));
        assert_eq!(p.village_code.as_deref(), Some("350583119202"));
        let p = l.place(None, ["南安市官桥镇大盈村委会"]);
        assert_eq!(p.village_code.as_deref(), Some("350583118202"));
    }

    /// 霞美社区 and 霞美村 of 霞美镇 share the short name 霞美; written with 社区 or 村, as
    /// addresses do, each is itself.
    #[test]
    fn a_village_named_with_its_kind_is_told_from_its_namesake() {
        let l = Locator::new(&g());
        let p = l.place(None, ["福建省南安市霞美镇霞美社区成功街2号"]);
        assert_eq!(p.village_code.as_deref(), Some("350583120001"));
        let p = l.place(None, ["南安市霞美镇霞美村3号"]);
        assert_eq!(p.village_code.as_deref(), Some("350583120201"));
        let p = l.place(None, ["南安市霞美镇霞美社区居委会3号"]);
        assert_eq!(p.village_code.as_deref(), Some("350583120001"));
        // The short name alone still names neither.
        let p = l.place(None, ["南安市霞美镇霞美工业区3号"]);
        assert_eq!(p.village_code, None);
    }

    #[test]
    fn a_region_code_of_any_characters_is_read_without_a_panic() {
        let l = Locator::new(&g());
        for code in [
            "3505831十八",
            "南安市官桥镇",
            "35058311",
            "３５０５８３１１８２０１",
        ] {
            let p = l.place(Some(code), ["福建省南安市官桥镇内厝村"]);
            assert_eq!(p.township_code.as_deref(), Some("350583118"), "{code}");
            assert_ne!(p.method, PlacementMethod::RegionCode, "{code}");
        }
    }

    #[test]
    fn a_township_of_one_village_gives_that_village() {
        let l = Locator::new(&g());
        let p = l.place(None, ["福建省泉州市南安市雪峰华侨经济开发区兴业路19号"]);
        assert_eq!(p.township_code.as_deref(), Some("350583400"));
        assert_eq!(p.village_code.as_deref(), Some("350583400498"));
        let p = l.place(Some("350583400"), ["兴业路19号"]);
        assert_eq!(p.village_code.as_deref(), Some("350583400498"));
        // A township of several villages gives none unless one is named.
        let p = l.place(None, ["南安市水头镇工业路1号"]);
        assert_eq!(p.village_code, None);
    }

    #[test]
    fn a_full_village_name_beats_a_short_one() {
        let l = Locator::new(&g());
        let p = l.place(None, ["南安市官桥镇内厝和平村委会3号"]);
        assert_eq!(p.township_code.as_deref(), Some("350583118"));
        assert_eq!(p.village_code.as_deref(), Some("350583118203"));
    }

    fn other(code: &str, name: &str, city_code: &str, city_name: &str) -> OtherCounty {
        OtherCounty {
            code: code.into(),
            name: name.into(),
            city_code: city_code.into(),
            city_name: city_name.into(),
        }
    }

    fn with_others() -> Locator {
        let words = ["福建省", "泉州市", "南安市", "南安"]
            .map(String::from)
            .to_vec();
        let others = vec![
            other("130929", "献县", "1309", "沧州市"),
            other("350582", "晋江市", "3505", "泉州市"),
            other("350628", "平和县", "3506", "漳州市"),
            other("340523", "和县", "3405", "马鞍山市"),
            other("140302", "城区", "1403", "阳泉市"),
            other("370103", "市中区", "3701", "济南市"),
            other("411523", "新县", "4115", "信阳市"),
            other("630103", "城中区", "6301", "西宁市"),
            // Another county of this county's name says nothing here.
            other("999901", "南安市", "9999", "某市"),
        ];
        Locator::new(&g().with_counties("南安市", words, others))
    }

    #[test]
    fn an_address_of_another_county_is_never_placed_here() {
        let l = with_others();
        // 和平 is a village here; 和平路 is a road of 献县.
        let p = l.place(None, ["河北省沧州市献县和平路"]);
        assert_eq!(p.method, PlacementMethod::Unplaced);
        assert_eq!(p.township_code, None);
        assert_eq!(p.evidence, "外县：献县");
        let p = l.place(None, ["福建省晋江市安海镇官桥路5号"]);
        assert_eq!(
            (p.method, p.evidence.as_str()),
            (PlacementMethod::Unplaced, "外县：晋江市")
        );
        // This county's own addresses stay here.
        let p = l.place(None, ["福建省泉州市南安市官桥镇和平村委会"]);
        assert_eq!(p.village_code.as_deref(), Some("350583118203"));
        // Without the counties table nothing is foreign.
        let p = Locator::new(&g()).place(None, ["福建省晋江市安海镇康店村委会"]);
        assert_eq!(p.township_code.as_deref(), Some("350583119"));
    }

    #[test]
    fn a_foreign_county_counts_only_as_a_whole_name() {
        let l = with_others();
        let name = |t: &str| l.foreign_county(t).map(|o| o.name.as_str());
        assert_eq!(name("河北省沧州市献县和平路"), Some("献县"));
        assert_eq!(name("沧州献县和平路"), Some("献县"));
        assert_eq!(name("河南省信阳市新县新集镇"), Some("新县"));
        assert_eq!(name("漳州市平和县小溪镇"), Some("平和县"));
        assert_eq!(name("济南市市中区经四路"), Some("市中区"));
        // This county named: never foreign, even beside another county's name.
        assert_eq!(name("泉州市南安市水头镇"), None);
        assert_eq!(name("南安市水头镇晋江路"), None);
        // Inside a word or a local name: not a county.
        assert_eq!(name("水头镇晋江市场3号"), None);
        assert_eq!(name("水头镇新县路8号"), None);
        assert_eq!(name("泉州市中区"), None);
        assert_eq!(name("官桥镇城区工业路"), None);
        assert_eq!(name("水头镇城中区商业街"), None);
        // A generic name right after its own city is that county.
        assert_eq!(name("山西省阳泉市城区北大街"), Some("城区"));
        assert_eq!(name("青海省西宁市城中区"), Some("城中区"));
    }

    #[test]
    fn generic_county_names_are_not_matched() {
        for n in [
            "城区",
            "郊区",
            "矿区",
            "东区",
            "西区",
            "新城区",
            "城中区",
            "市中区",
        ] {
            assert!(is_generic_county_name(n), "{n}");
        }
        for n in ["献县", "和平区", "城关区", "西湖区", "区"] {
            assert!(!is_generic_county_name(n), "{n}");
        }
    }

    #[test]
    fn a_uscc_of_another_county_names_it() {
        let l = with_others();
        let code = |u: &str| l.foreign_region(u).map(|o| o.code.as_str());
        assert_eq!(code("91130929MA0ABCDE1X"), Some("130929"));
        assert_eq!(code("91350583MA0ABCDE1X"), None); // this county
        assert_eq!(code("91350500MA0ABCDE1X"), None); // a city's authority
        assert_eq!(code("91350000MA0ABCDE1X"), None); // a province's
        assert_eq!(code("91999999MA0ABCDE1X"), None); // no such county
        assert_eq!(code("91130929MA0ABCDE1"), None); // not 18 characters
        assert_eq!(code("9113092９MA0ABCDE1X"), None);
    }

    #[test]
    fn no_address_of_the_shipped_county_is_foreign() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("config/gazetteer");
        let g = Gazetteer::load(
            "350583",
            &dir.join("350583_townships.csv"),
            &dir.join("350583_villages.csv"),
            Some(&dir.join("aliases.csv")),
        )
        .expect("gazetteer");
        let (others, own) =
            Gazetteer::load_counties("350583", &dir.join("counties.csv")).expect("counties");
        let mut words = ["福建省", "南安"].map(String::from).to_vec();
        words.extend(own.map(|o| o.city_name));
        let (towns, villages) = (g.townships.clone(), g.villages.clone());
        let l = Locator::new(&g.with_counties("南安市", words, others));
        for v in &villages {
            let t = towns
                .iter()
                .find(|t| t.code == v.township_code)
                .map_or("", |t| t.name.as_str());
            for a in [
                format!("{t}{}工业路1号", v.name),
                format!("泉州市{t}{}", short_name(&v.name, false)),
            ] {
                assert_eq!(l.foreign_county(&a), None, "{a}");
                let p = l.place_address(&a);
                assert_eq!(
                    p.township_code.as_deref(),
                    Some(v.township_code.as_str()),
                    "{a}"
                );
            }
        }
        let p = l.place_address("河北省沧州市献县和平路");
        assert_eq!(p.evidence, "外县：献县");
    }
}
