//! What the matcher compares, computed once per observation: name parts, identifiers, the
//! address as township + village + the rest (one fact), industry and legal representative.

use crate::domain::uscc::{clean, org_code_of};
use crate::domain::Observation;
use chrono::NaiveDate;

use super::name::{fold, parse_with, NameParts};

/// What matching needs to know about places, answered by the county's gazetteer
/// (`place::Locator` implements it; matching comes first and imports no later stage).
pub trait PlaceLookup: Sync {
    /// The township and village codes a region code or an address gives.
    fn locate(
        &self,
        region_code: Option<&str>,
        address: Option<&str>,
    ) -> (Option<String>, Option<String>);
    /// The township a name spells out by its full name (`…河东街道铭华汽修厂`).
    fn township_named(&self, name: &str) -> Option<String>;
    /// The code of another county a name names as a whole word (`晋江市…`).
    fn other_county_named(&self, name: &str) -> Option<String>;
}

/// Everything the county tells the matcher about names and places.
pub struct MatchContext<'a> {
    pub region_words: Vec<String>,
    /// Township names (full), stripped from the front of names.
    pub place_words: Vec<String>,
    pub locator: Option<&'a dyn PlaceLookup>,
}

impl MatchContext<'_> {
    pub fn bare(region_words: &[String]) -> MatchContext<'static> {
        MatchContext {
            region_words: region_words.to_vec(),
            place_words: Vec::new(),
            locator: None,
        }
    }
}

/// One observation as the matcher sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    pub name: Option<NameParts>,
    /// The cleaned USCC or tax number as written (valid or not).
    pub code: Option<String>,
    pub code_valid: bool,
    /// Organisation code carried by a 15-character number, a 9-character code, or an invalid
    /// 18-character code (may hold the typo).
    pub org: Option<String>,
    pub township: Option<String>,
    pub village: Option<String>,
    /// A township typed into the name (`南安市河东街道铭华汽修厂`, as sole traders are named).
    pub name_township: Option<String>,
    /// Another county named in the name (`晋江市成裕木业有限公司`): its code. Names are unique
    /// only within a registration area, so such a name is not a local employer's.
    pub name_county: Option<String>,
    /// The address without province/city/county/township/village, numerals as digits.
    pub street: Option<String>,
    pub industry: Option<String>,
    pub legal_rep: Option<String>,
    /// When the employer came to exist and ceased to (a register's 成立日期, 注销日期).
    pub born: Option<NaiveDate>,
    pub gone: Option<NaiveDate>,
    /// When this record saw the employer active (an exam, a report, a filing, a tax return).
    pub seen: Option<NaiveDate>,
}

/// Days a record's date may fall outside its employer's life before they are kept apart
/// (registers and clinics date things with some slack).
pub const LIFE_SLACK_DAYS: i64 = 31;

impl Features {
    /// Whether one record was seen while the other's employer did not exist: before its
    /// establishment or after its deregistration (by more than [`LIFE_SLACK_DAYS`]). Such
    /// records cannot be one employer.
    pub fn lives_apart(&self, other: &Features) -> bool {
        fn outside(seen: Option<NaiveDate>, f: &Features) -> bool {
            let Some(seen) = seen else { return false };
            let slack = chrono::Duration::days(LIFE_SLACK_DAYS);
            f.born.is_some_and(|b| seen + slack < b) || f.gone.is_some_and(|g| seen > g + slack)
        }
        outside(self.seen, other) || outside(other.seen, self)
    }
}

impl MatchContext<'_> {
    /// Region and place words, longest first, for name parsing.
    pub fn prefixes(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self
            .region_words
            .iter()
            .chain(self.place_words.iter())
            .map(String::as_str)
            .collect();
        p.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        p
    }
}

pub fn features(o: &Observation, ctx: &MatchContext<'_>, prefixes: &[&str]) -> Features {
    let name = o
        .name
        .as_deref()
        .map(|n| parse_with(n, &ctx.region_words, prefixes))
        .filter(|p| p.core.chars().count() >= 2);
    let (code, code_valid) = match &o.uscc {
        Some(u) => (Some(u.as_str().to_string()), u.is_valid()),
        None => (
            o.tax_id.as_deref().map(clean).filter(|c| !c.is_empty()),
            false,
        ),
    };
    let org = if code_valid {
        code.as_deref().and_then(org_code_of)
    } else {
        code.as_deref()
            .and_then(org_code_of)
            .or_else(|| o.tax_id.as_deref().and_then(org_code_of))
    };
    let (mut township, mut village, mut name_township) = (None, None, None);
    let mut name_county = None;
    if let Some(loc) = ctx.locator {
        (township, village) = loc.locate(o.region_code.as_deref(), o.address.as_deref());
        // A township typed into the name (`…河东街道铭华汽修厂`, as sole traders are named)
        // places the record when its address does not: a namesake elsewhere then differs.
        if let Some(n) = o.name.as_deref() {
            name_township = loc.township_named(n);
            name_county = loc.other_county_named(n);
        }
        if township.is_none() {
            township.clone_from(&name_township);
        }
    }
    let street = o
        .address
        .as_deref()
        .map(|a| street_part(a, ctx))
        .filter(|s| !s.is_empty());
    Features {
        name,
        code,
        code_valid,
        org,
        township,
        village,
        name_township,
        name_county,
        street,
        industry: o.industry_code.as_ref().map(|c| c.as_str().to_string()),
        legal_rep: o.legal_rep.as_deref().map(fold).filter(|s| !s.is_empty()),
        born: o.registered_on,
        gone: o.deregistered_on,
        seen: [o.evidence_date, o.last_filed(), o.last_tax_date]
            .into_iter()
            .flatten()
            .max(),
    }
}

/// The part of an address after its places: `福建省泉州市南安市官桥镇内厝村委会滨江路二十八号`
/// → `滨江路28号`.
pub fn street_part(address: &str, ctx: &MatchContext<'_>) -> String {
    let mut s = fold(address);
    // Drop everything up to the last place marker (省 市 县 区 镇 乡 街道 村 社区 居委会 村委会).
    for marker in [
        "居委会",
        "村委会",
        "社区",
        "街道",
        "村",
        "镇",
        "乡",
        "县",
        "区",
        "市",
        "省",
    ] {
        if let Some(pos) = s.rfind(marker) {
            let rest = &s[pos + marker.len()..];
            if rest.chars().count() >= 2 {
                s = rest.to_string();
                break;
            }
        }
    }
    for w in &ctx.region_words {
        s = s.replace(w.as_str(), "");
    }
    arabic_numerals(&s)
}

/// Chinese numerals to digits: `二十八号` → `28号`, `三百五十二` → `352`, `一〇三` → `103`.
pub fn arabic_numerals(s: &str) -> String {
    fn digit(c: char) -> Option<u64> {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as u64)
            .or(match c {
                '〇' => Some(0),
                '两' => Some(2),
                _ => None,
            })
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len()
            && (digit(chars[i]).is_some() || matches!(chars[i], '十' | '百' | '千'))
        {
            i += 1;
        }
        if i == start {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = &chars[start..i];
        if run.iter().all(|c| digit(*c).is_some()) {
            for c in run {
                out.push_str(&digit(*c).unwrap_or(0).to_string());
            }
            continue;
        }
        let (mut total, mut current) = (0u64, 0u64);
        for c in run {
            match c {
                '十' => {
                    total += current.max(1) * 10;
                    current = 0;
                }
                '百' => {
                    total += current.max(1) * 100;
                    current = 0;
                }
                '千' => {
                    total += current.max(1) * 1000;
                    current = 0;
                }
                d => current = digit(*d).unwrap_or(0),
            }
        }
        out.push_str(&(total + current).to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    /// Cause 5 of the trusted-leads issue: a record dated after a company was deregistered
    /// joined it instead of the new company that later took the same name.
    #[test]
    fn a_record_seen_outside_an_employers_life_lives_apart_from_it() {
        let old = Features {
            born: d(2005, 4, 1),
            gone: d(2018, 6, 30),
            ..Default::default()
        };
        let new = Features {
            born: d(2020, 3, 1),
            ..Default::default()
        };
        let exam_2025 = Features {
            seen: d(2025, 3, 12),
            ..Default::default()
        };
        let exam_2016 = Features {
            seen: d(2016, 9, 1),
            ..Default::default()
        };
        assert!(exam_2025.lives_apart(&old), "after the deregistration");
        assert!(!exam_2025.lives_apart(&new));
        assert!(exam_2016.lives_apart(&new), "before the establishment");
        assert!(!exam_2016.lives_apart(&old));
        assert!(new.lives_apart(&exam_2016), "symmetric");
        // Within the slack, or undated: no judgement.
        let early = Features {
            seen: d(2020, 2, 10),
            ..Default::default()
        };
        assert!(!early.lives_apart(&new));
        assert!(!Features::default().lives_apart(&old));
    }

    #[test]
    fn numerals_become_digits() {
        assert_eq!(arabic_numerals("二十八号"), "28号");
        assert_eq!(arabic_numerals("三百五十二号"), "352号");
        assert_eq!(arabic_numerals("十号"), "10号");
        assert_eq!(arabic_numerals("一〇三室"), "103室");
        assert_eq!(arabic_numerals("滨江路286号"), "滨江路286号");
    }

    #[test]
    fn street_part_drops_places() {
        let ctx = MatchContext::bare(&["南安市".to_string()]);
        assert_eq!(
            street_part("福建省泉州市南安市官桥镇内厝村委会滨江路二十八号", &ctx),
            "滨江路28号"
        );
        assert_eq!(
            street_part("南安市官桥镇内厝村滨江路28号", &ctx),
            "滨江路28号"
        );
    }
}
