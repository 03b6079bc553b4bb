//! Flags beyond non-filing: a current declaration that contradicts the other feeds (headcount,
//! industry, hazard factors), and exceeded-limit posts in testing reports. Pure functions.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::flag_settings::{Flags, HazardFlag};
use super::operating::within_months;
use crate::domain::IndustryCode;
use crate::resolve::master::MasterRecord;

/// What a lead is about. One employer can have a lead of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadKind {
    /// Operating, in scope, and no current declaration (the lead rules).
    Unfiled,
    HeadcountMismatch,
    IndustryMismatch,
    UndeclaredHazards,
    Exceedance,
}

impl LeadKind {
    pub const ALL: [LeadKind; 5] = [
        LeadKind::Unfiled,
        LeadKind::HeadcountMismatch,
        LeadKind::IndustryMismatch,
        LeadKind::UndeclaredHazards,
        LeadKind::Exceedance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadKind::Unfiled => "unfiled",
            LeadKind::HeadcountMismatch => "headcount_mismatch",
            LeadKind::IndustryMismatch => "industry_mismatch",
            LeadKind::UndeclaredHazards => "undeclared_hazards",
            LeadKind::Exceedance => "exceedance",
        }
    }

    pub fn parse(s: &str) -> Option<LeadKind> {
        LeadKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind as township staff read it.
    pub fn label_zh(self) -> &'static str {
        match self {
            LeadKind::Unfiled => "未申报或申报逾期",
            LeadKind::HeadcountMismatch => "申报人数与其他部门数据不符",
            LeadKind::IndustryMismatch => "申报行业与登记行业不符",
            LeadKind::UndeclaredHazards => "检测或体检发现未申报的危害因素",
            LeadKind::Exceedance => "检测发现超标岗位",
        }
    }

    /// The lead id of this kind for an entity: `L<n>` for non-filing, `L<n>-<code>` else.
    pub fn lead_id(self, entity_id: &str) -> crate::domain::LeadId {
        let n = entity_id.trim_start_matches('E');
        let id = match self {
            LeadKind::Unfiled => format!("L{n}"),
            LeadKind::HeadcountMismatch => format!("L{n}-HC"),
            LeadKind::IndustryMismatch => format!("L{n}-IN"),
            LeadKind::UndeclaredHazards => format!("L{n}-HF"),
            LeadKind::Exceedance => format!("L{n}-EX"),
        };
        id.into()
    }
}

/// One flag that holds for an employer, with its reason in Chinese.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagHit {
    pub kind: LeadKind,
    pub reason: String,
}

/// The flags that hold for an operating employer `m`. The declaration checks apply only to
/// a current declaration: a lapsed one is already a non-filing lead.
pub fn flags(
    m: &MasterRecord,
    declaration_current: bool,
    cfg: &Flags,
    as_of: NaiveDate,
) -> Vec<FlagHit> {
    let mut out = Vec::new();
    if declaration_current {
        let hc = &cfg.headcount_mismatch;
        if let (true, Some(d), Some(r)) = (hc.enabled, m.declared_headcount, m.registered_headcount)
        {
            let diff = d.abs_diff(r);
            let larger = d.max(r) as f64;
            if diff >= hc.min_difference && diff as f64 > hc.margin * larger {
                out.push(FlagHit {
                    kind: LeadKind::HeadcountMismatch,
                    reason: format!(
                        "申报劳动者总人数{d}人，其他部门登记从业人数{r}人，相差{diff}人"
                    ),
                });
            }
        }
        let ind = &cfg.industry_mismatch;
        if let (true, Some(d), Some(r)) = (
            ind.enabled,
            m.declared_industry.as_ref(),
            m.industry_code.as_ref(),
        ) {
            if !same_industry(d, r, &ind.level) {
                out.push(FlagHit {
                    kind: LeadKind::IndustryMismatch,
                    reason: format!("申报行业代码{d}，登记行业代码{r}"),
                });
            }
        }
        let hz = &cfg.undeclared_hazards;
        let recent = [m.last_test, m.last_exam]
            .into_iter()
            .flatten()
            .any(|d| within_months(d, as_of, hz.within_months));
        if hz.enabled && recent {
            let missing = undeclared(&m.found_factors, &m.declared_factors, hz);
            if !missing.is_empty() {
                out.push(FlagHit {
                    kind: LeadKind::UndeclaredHazards,
                    reason: format!("检测或体检发现{}，申报中未列出", missing.join("、")),
                });
            }
        }
    }
    let ex = &cfg.exceedance;
    if let (true, Some(posts), Some(tested)) = (ex.enabled, m.exceedances, m.last_test) {
        if posts >= ex.min_posts && within_months(tested, as_of, ex.within_months) {
            out.push(FlagHit {
                kind: LeadKind::Exceedance,
                reason: format!("{tested}检测报告有{posts}个岗位超过职业接触限值"),
            });
        }
    }
    out
}

/// True when the two codes agree at `level` (`section`, `division`, `group`, `class`).
fn same_industry(a: &IndustryCode, b: &IndustryCode, level: &str) -> bool {
    if level == "section" {
        return a.section() == b.section();
    }
    let digits = match level {
        "group" => 3,
        "class" => 4,
        _ => 2,
    };
    let (da, db) = (a.digits(), b.digits());
    // A code given only to a coarser level agrees with every finer code under it.
    if da.is_empty() || db.is_empty() {
        return a.section() == b.section();
    }
    let n = digits.min(da.len()).min(db.len());
    n > 0 && da[..n] == db[..n]
}

/// Factors in `found` that no declared factor covers, in `found` order.
pub fn undeclared(found: &[String], declared: &[String], cfg: &HazardFlag) -> Vec<String> {
    let canon = |f: &str| -> String {
        let n = normalize_factor(f);
        for group in &cfg.synonyms {
            if group.iter().any(|s| normalize_factor(s) == n) {
                return group.first().map(|s| normalize_factor(s)).unwrap_or(n);
            }
        }
        n
    };
    let declared: Vec<String> = declared
        .iter()
        .map(|d| canon(d))
        .filter(|d| !d.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for f in found {
        let c = canon(f);
        if c.is_empty() {
            continue;
        }
        let covered = declared.iter().any(|d| {
            *d == c
                || (d.chars().count() >= 2 && c.contains(d.as_str()))
                || (c.chars().count() >= 2 && d.contains(c.as_str()))
        });
        if !covered && !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

/// NFKC, no spaces, no bracketed qualifiers: `矽尘（游离SiO2≥10%）` → `矽尘`.
fn normalize_factor(f: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in f.nfkc() {
        match c {
            '(' | '[' | '【' => depth += 1,
            ')' | ']' | '】' => depth = depth.saturating_sub(1),
            c if depth == 0 && !c.is_whitespace() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn filed() -> MasterRecord {
        MasterRecord {
            entity_id: "E7".into(),
            industry_code: IndustryCode::parse("C3032"),
            declared_industry: IndustryCode::parse("C3031"),
            declared_headcount: Some(20),
            registered_headcount: Some(24),
            declared_factors: vec!["矽尘".into(), "噪声".into()],
            found_factors: vec!["矽尘（游离SiO2≥10%）".into(), "生产性噪声".into()],
            last_test: Some(d(2025, 3, 1)),
            ..Default::default()
        }
    }

    fn kinds(hits: &[FlagHit]) -> Vec<LeadKind> {
        hits.iter().map(|h| h.kind).collect()
    }

    #[test]
    fn agreeing_declaration_raises_nothing() {
        let hits = flags(&filed(), true, &Flags::default(), d(2025, 6, 30));
        assert!(hits.is_empty(), "{hits:?}");
    }

    #[test]
    fn headcount_needs_both_the_margin_and_the_minimum_difference() {
        let mut m = filed();
        m.registered_headcount = Some(80);
        let hits = flags(&m, true, &Flags::default(), d(2025, 6, 30));
        assert_eq!(kinds(&hits), vec![LeadKind::HeadcountMismatch]);
        assert!(hits[0].reason.contains("相差60人"), "{}", hits[0].reason);
        // 3 against 9 is over 50 % but only 6 workers apart: not flagged.
        m.declared_headcount = Some(3);
        m.registered_headcount = Some(9);
        assert!(flags(&m, true, &Flags::default(), d(2025, 6, 30)).is_empty());
        // Switched off.
        m.registered_headcount = Some(80);
        let mut cfg = Flags::default();
        cfg.headcount_mismatch.enabled = false;
        assert!(flags(&m, true, &cfg, d(2025, 6, 30)).is_empty());
    }

    #[test]
    fn industry_compares_at_the_configured_level() {
        let mut m = filed();
        m.declared_industry = IndustryCode::parse("C2611");
        let hits = flags(&m, true, &Flags::default(), d(2025, 6, 30));
        assert_eq!(kinds(&hits), vec![LeadKind::IndustryMismatch]);
        let mut cfg = Flags::default();
        cfg.industry_mismatch.level = "section".into();
        assert!(flags(&m, true, &cfg, d(2025, 6, 30)).is_empty(), "both C");
        cfg.industry_mismatch.level = "class".into();
        m.declared_industry = IndustryCode::parse("C3031");
        assert_eq!(
            kinds(&flags(&m, true, &cfg, d(2025, 6, 30))),
            vec![LeadKind::IndustryMismatch]
        );
    }

    #[test]
    fn found_factors_missing_from_the_declaration_are_named() {
        let mut m = filed();
        m.found_factors.push("苯".into());
        m.found_factors.push("砂尘".into());
        let mut cfg = Flags::default();
        let hits = flags(&m, true, &cfg, d(2025, 6, 30));
        assert_eq!(kinds(&hits), vec![LeadKind::UndeclaredHazards]);
        assert_eq!(hits[0].reason, "检测或体检发现苯、砂尘，申报中未列出");
        cfg.undeclared_hazards.synonyms = vec![vec!["矽尘".into(), "砂尘".into()]];
        let hits = flags(&m, true, &cfg, d(2025, 6, 30));
        assert_eq!(hits[0].reason, "检测或体检发现苯，申报中未列出");
        // Old evidence does not count.
        m.last_test = Some(d(2022, 1, 1));
        assert!(flags(&m, true, &cfg, d(2025, 6, 30)).is_empty());
    }

    #[test]
    fn declaration_checks_need_a_current_declaration_but_exceedance_does_not() {
        let mut m = filed();
        m.registered_headcount = Some(80);
        m.exceedances = Some(2);
        let hits = flags(&m, false, &Flags::default(), d(2025, 6, 30));
        assert_eq!(kinds(&hits), vec![LeadKind::Exceedance]);
        assert_eq!(
            hits[0].reason,
            "2025-03-01检测报告有2个岗位超过职业接触限值"
        );
        m.exceedances = Some(0);
        assert!(flags(&m, false, &Flags::default(), d(2025, 6, 30)).is_empty());
    }

    #[test]
    fn lead_ids_are_stable_per_kind() {
        assert_eq!(LeadKind::Unfiled.lead_id("E000123"), "L000123");
        assert_eq!(LeadKind::Exceedance.lead_id("E000123"), "L000123-EX");
        for k in LeadKind::ALL {
            assert_eq!(LeadKind::parse(k.as_str()), Some(k));
        }
    }
}
