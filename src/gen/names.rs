//! Employer names as parts (region, place, 字号, industry words, form, branch) and the variants
//! each feed writes: region moved or dropped, 有限公司↔有限责任公司, brackets, typists' homophones.

use rand::Rng;

use super::rng::{chance, pick};
use super::words::{HOMOPHONES, NEAR_CHARS, TRADE_CHARS};

/// Where the region goes in a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    None,
    /// `南安市…`, `南安…`, `福建省南安市…`.
    Prefix(&'static str),
    /// `华兴（南安）石材有限公司`.
    Bracket,
}

const PREFIXES: &[&str] = &["南安市", "福建省南安市", "南安"];

/// A name, kept in parts so variants are made the way people make them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    pub region: Region,
    /// Township (and village) of a 个体工商户: `官桥镇`.
    pub place: String,
    /// 字号 (or the operator's name for some 个体工商户).
    pub trade: String,
    /// Industry words (`石材`, `水暖`).
    pub words: String,
    /// Organisation form (`有限公司`, `厂`, `经营部`).
    pub form: String,
    /// `官桥分公司` for a branch: appended to the parent's full name.
    pub branch: String,
    /// A 个体工商户 registered without a name: the registry shows the operator's name only.
    pub bare: bool,
    /// Another county's employer: `place` holds that county's name and is never moved.
    pub foreign: bool,
}

/// How a feed renders a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typist {
    /// The register itself: always the canonical name.
    Registry,
    /// Tax and statistics staff: copied from the licence, occasionally edited.
    Clerk,
    /// The employer itself (declarations).
    Employer,
    /// Clinic and laboratory staff: abbreviations, homophones, missing forms.
    Typed,
}

impl NameParts {
    /// The canonical name, as on the business licence.
    pub fn canonical(&self) -> String {
        self.render(self.region, &self.trade, &self.form, true)
    }

    fn render(&self, region: Region, trade: &str, form: &str, full_width: bool) -> String {
        if self.bare {
            return self.trade.clone();
        }
        let mut s = String::new();
        if let Region::Prefix(p) = region {
            s.push_str(p);
        }
        s.push_str(&self.place);
        s.push_str(trade);
        if region == Region::Bracket {
            s.push_str(if full_width {
                "（南安）"
            } else {
                "(南安)"
            });
        }
        s.push_str(&self.words);
        s.push_str(form);
        s.push_str(&self.branch);
        s
    }

    /// The name as a feed of the given kind writes it.
    pub fn variant(&self, rng: &mut impl Rng, typist: Typist) -> String {
        if self.bare || typist == Typist::Registry {
            return self.canonical();
        }
        let (p_region, p_form, p_half, p_drop_form, p_typo) = match typist {
            Typist::Registry => (0.0, 0.0, 0.0, 0.0, 0.0),
            Typist::Clerk => (0.12, 0.10, 0.5, 0.0, 0.0),
            Typist::Employer => (0.08, 0.08, 0.3, 0.0, 0.0),
            Typist::Typed => (0.30, 0.15, 0.6, 0.15, 0.25),
        };
        let mut region = self.region;
        if chance(rng, p_region) && !self.foreign {
            region = self.moved_region(rng);
        }
        let mut form = self.form.clone();
        if chance(rng, p_form) {
            form = swap_form(&form);
        }
        if chance(rng, p_drop_form) {
            form = drop_form(&form);
        }
        let mut trade = self.trade.clone();
        let mut words = self.words.clone();
        if chance(rng, p_typo) {
            // A homophone in the trade name or the industry words (铸造 → 筑造).
            if !typo(rng, &mut trade) {
                typo(rng, &mut words);
            }
        }
        let half = chance(rng, p_half);
        let parts = NameParts {
            words,
            ..self.clone()
        };
        parts.render(region, &trade, &form, !half)
    }

    /// Another placement of the region than the canonical one.
    fn moved_region(&self, rng: &mut impl Rng) -> Region {
        // Only companies bracket the region (`华兴（南安）石材有限公司`).
        let bracket_ok = self.place.is_empty() && self.form.ends_with("公司");
        let options: Vec<Region> = match self.region {
            Region::None => {
                let mut v = vec![Region::Prefix("南安市"), Region::Prefix("福建省南安市")];
                if bracket_ok {
                    v.push(Region::Bracket);
                }
                v
            }
            Region::Prefix(p) => {
                let mut v: Vec<Region> = PREFIXES
                    .iter()
                    .filter(|q| **q != p)
                    .map(|q| Region::Prefix(q))
                    .collect();
                v.push(Region::None);
                if bracket_ok {
                    v.push(Region::Bracket);
                }
                v
            }
            Region::Bracket => vec![Region::Prefix("南安市"), Region::None],
        };
        *pick(rng, &options)
    }
}

/// 有限公司 ↔ 有限责任公司, 股份有限公司 → 股份公司 (DOMAIN.md §3: the same form).
pub fn swap_form(form: &str) -> String {
    if let Some(head) = form.strip_suffix("股份有限公司") {
        format!("{head}股份公司")
    } else if let Some(head) = form.strip_suffix("有限责任公司") {
        format!("{head}有限公司")
    } else if let Some(head) = form.strip_suffix("有限公司") {
        format!("{head}有限责任公司")
    } else {
        form.to_string()
    }
}

/// The form without its legal tail (`实业有限公司` → `实业`, `厂` → ``).
fn drop_form(form: &str) -> String {
    for tail in ["股份有限公司", "有限责任公司", "有限公司", "股份公司"] {
        if let Some(head) = form.strip_suffix(tail) {
            return head.to_string();
        }
    }
    String::new()
}

/// Replaces one character that has a homophone; false if none has.
fn typo(rng: &mut impl Rng, text: &mut String) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let spots: Vec<(usize, &[&str])> = chars
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            HOMOPHONES
                .iter()
                .find(|(from, _)| from.starts_with(*c))
                .map(|(_, to)| (i, *to))
        })
        .collect();
    if spots.is_empty() {
        return false;
    }
    let (i, to) = *pick(rng, &spots);
    let replacement = *pick(rng, to);
    *text = chars
        .iter()
        .enumerate()
        .map(|(j, c)| {
            if j == i {
                replacement.to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    true
}

/// A fresh two-character 字号.
pub fn trade_name(rng: &mut impl Rng) -> String {
    loop {
        let a = *pick(rng, TRADE_CHARS);
        let b = *pick(rng, TRADE_CHARS);
        if a != b {
            return format!("{a}{b}");
        }
    }
}

/// The trade name with one character swapped for a look- or sound-alike, if it has one.
pub fn near_trade(rng: &mut impl Rng, trade: &str) -> Option<String> {
    let chars: Vec<char> = trade.chars().collect();
    let mut spots = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        for (a, b) in NEAR_CHARS {
            if a.starts_with(*c) {
                spots.push((i, *b));
            } else if b.starts_with(*c) {
                spots.push((i, *a));
            }
        }
    }
    if spots.is_empty() {
        return None;
    }
    let (i, to) = *pick(rng, &spots);
    Some(
        chars
            .iter()
            .enumerate()
            .map(|(j, c)| {
                if j == i {
                    to.to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn parts(region: Region, form: &str) -> NameParts {
        NameParts {
            region,
            place: String::new(),
            trade: "华兴".into(),
            words: "石材".into(),
            form: form.into(),
            branch: String::new(),
            bare: false,
            foreign: false,
        }
    }

    #[test]
    fn canonical_names() {
        assert_eq!(
            parts(Region::Prefix("南安市"), "有限公司").canonical(),
            "南安市华兴石材有限公司"
        );
        assert_eq!(
            parts(Region::Bracket, "有限公司").canonical(),
            "华兴（南安）石材有限公司"
        );
        let mut b = parts(Region::Prefix("南安市"), "有限公司");
        b.branch = "官桥分公司".into();
        assert_eq!(b.canonical(), "南安市华兴石材有限公司官桥分公司");
    }

    #[test]
    fn forms_swap_both_ways() {
        assert_eq!(swap_form("有限公司"), "有限责任公司");
        assert_eq!(swap_form("有限责任公司"), "有限公司");
        assert_eq!(swap_form("股份有限公司"), "股份公司");
        assert_eq!(swap_form("厂"), "厂");
    }

    #[test]
    fn typed_variants_differ_sometimes() {
        let p = parts(Region::Prefix("南安市"), "有限公司");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let names: std::collections::BTreeSet<String> = (0..200)
            .map(|_| p.variant(&mut rng, Typist::Typed))
            .collect();
        assert!(names.len() > 5, "{names:?}");
        assert!(names.contains("南安市华兴石材有限公司"));
    }
}
