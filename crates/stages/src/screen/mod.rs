//! Screening: which employers in the master list should have filed and have not.
//! Pure functions of master records and policy; they do no I/O.

pub mod catalogue;
pub mod filing;
pub mod flag_settings;
pub mod flags;
pub mod operating;
pub mod policy;
pub mod rules;
pub mod scope;
pub mod size_class;
pub mod testing_due;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::EntityId;
use crate::resolve::master::MasterRecord;
use catalogue::{RiskCatalogue, RiskClass};
use filing::{filing_status, FilingStatus};
use flag_settings::Flags;
pub use flags::{FlagHit, LeadKind};
pub use policy::{LeadRule, OperatingRules, Policy};

/// What screening concluded about one employer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub entity_id: EntityId,
    pub risk_class: Option<RiskClass>,
    pub operating: bool,
    pub operating_basis: String,
    pub filing: FilingStatus,
    /// Ids of the lead rules that hold (empty: not a lead).
    pub rule_ids: Vec<String>,
    /// Reasons for township staff, in Chinese; the filing situation comes first.
    pub reasons: Vec<String>,
    /// 大中小微 size class (统计上大中小微型企业划分办法 2017), when anything is known to
    /// decide it with.
    #[serde(default)]
    pub size: Option<size_class::SizeResult>,
    /// A candidate for the 中小微企业职业健康帮扶 action: small or micro, and in mining,
    /// building materials, metallurgy or chemicals, or with exam or testing evidence.
    #[serde(default)]
    pub sme_assistance: bool,
    /// Status words the operating rules do not know (`登记状态“重复列”`), for the run summary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_statuses: Vec<String>,
    /// Flags beyond non-filing that hold (see `flags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<FlagHit>,
}

impl Assessment {
    pub fn is_lead(&self) -> bool {
        !self.rule_ids.is_empty()
    }
}

/// Screens one employer.
pub fn assess(
    m: &MasterRecord,
    policy: &Policy,
    flag_cfg: &Flags,
    catalogue: &RiskCatalogue,
    as_of: NaiveDate,
) -> Assessment {
    let class = m.industry_code.as_ref().and_then(|c| catalogue.class_of(c));
    let op = operating::assess(m, &policy.operating, as_of);
    let filing = filing_status(m.last_filed, as_of, policy.lapse_months);
    let code = m.industry_code.as_ref().map(|c| c.as_str());
    let size = size_class::classify(&size_class::SizeInput {
        industry_code: code,
        headcount: m.headcount,
        revenue_wan: m.revenue,
        assets_wan: None,
    });
    let evidence = m.last_exam.is_some() || m.last_test.is_some();
    let mut a = Assessment {
        entity_id: m.entity_id.clone(),
        risk_class: class,
        operating: op.operating,
        operating_basis: op.basis,
        filing,
        rule_ids: Vec::new(),
        reasons: Vec::new(),
        size,
        sme_assistance: flag_cfg.sme_assistance.enabled
            && size_class::sme_assistance_candidate_with(
                &size_class::SmeAssistanceConfig {
                    include_medium: flag_cfg.sme_assistance.include_medium,
                },
                size.as_ref(),
                code,
                evidence,
            ),
        flags: Vec::new(),
        unknown_statuses: op
            .unknown
            .iter()
            .map(|(register, word)| format!("{}“{word}”", register.label_zh()))
            .collect(),
    };
    if !op.operating {
        return a;
    }
    a.flags = flags::flags(m, filing == FilingStatus::Current, flag_cfg, as_of);
    if filing == FilingStatus::Current {
        return a;
    }
    let hits = rules::matching_rules(m, class, &policy.lead_rules, catalogue, as_of);
    if hits.is_empty() {
        return a;
    }
    a.reasons.push(match (filing, m.last_filed) {
        (FilingStatus::Lapsed, Some(d)) => format!(
            "申报已逾期：最近一次申报或年度更新为{d}，超过{}个月",
            policy.lapse_months
        ),
        _ => "未查到职业病危害项目申报记录".to_string(),
    });
    for (rule, reason) in hits {
        a.rule_ids.push(rule.id.clone());
        a.reasons.push(reason);
    }
    a.reasons.push(format!("在营依据：{}", a.operating_basis));
    a
}

/// Screens every employer.
pub fn screen(
    records: &[MasterRecord],
    policy: &Policy,
    flag_cfg: &Flags,
    catalogue: &RiskCatalogue,
    as_of: NaiveDate,
) -> Vec<Assessment> {
    records
        .iter()
        .map(|m| assess(m, policy, flag_cfg, catalogue, as_of))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IndustryCode;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn cat() -> RiskCatalogue {
        RiskCatalogue::from_pairs([("3032", RiskClass::Severe), ("30", RiskClass::General)])
    }

    fn stone(workers: u32) -> MasterRecord {
        MasterRecord {
            entity_id: "E1".into(),
            name: "南安市华兴石材有限公司".into(),
            industry_code: IndustryCode::parse("C3032"),
            industry_name: Some("建筑用石加工".into()),
            headcount: Some(workers),
            registry_status: Some("存续".into()),
            tax_status: Some("正常".into()),
            ..Default::default()
        }
    }

    #[test]
    fn every_employer_gets_a_size_class_and_the_sme_flag() {
        let policy = Policy::default();
        let as_of = d(2025, 6, 30);
        // A stone works (building materials) with 15 workers: micro, an assistance candidate.
        let small = assess(&stone(15), &policy, &Flags::default(), &cat(), as_of);
        let size = small.size.expect("size from headcount");
        assert_eq!(size.class, size_class::SizeClass::Micro);
        assert!(size.estimated, "revenue unknown");
        assert!(small.sme_assistance);
        // 400 workers and 5000万 revenue: medium, not a candidate.
        let mut big = stone(400);
        big.revenue = Some(5000.0);
        let medium = assess(&big, &policy, &Flags::default(), &cat(), as_of);
        let size = medium.size.expect("size");
        assert_eq!(size.class, size_class::SizeClass::Medium);
        assert!(!size.estimated);
        assert!(!medium.sme_assistance);
        // Nothing to decide with: no size, no flag.
        let mut unknown = stone(1);
        unknown.headcount = None;
        let a = assess(&unknown, &policy, &Flags::default(), &cat(), as_of);
        assert!(a.size.is_none() && !a.sme_assistance);
    }

    #[test]
    fn severe_with_ten_workers_unfiled_is_a_lead_with_chinese_reasons() {
        let policy = Policy::default();
        let a = assess(
            &stone(12),
            &policy,
            &Flags::default(),
            &cat(),
            d(2025, 6, 30),
        );
        assert!(a.is_lead());
        assert_eq!(a.rule_ids, vec!["severe_industry"]);
        assert_eq!(a.reasons[0], "未查到职业病危害项目申报记录");
        assert_eq!(
            a.reasons[1],
            "属职业病危害严重行业（3032 建筑用石加工），从业人数12人"
        );
        assert!(!assess(
            &stone(9),
            &policy,
            &Flags::default(),
            &cat(),
            d(2025, 6, 30)
        )
        .is_lead());
    }

    #[test]
    fn filed_or_stopped_is_not_a_lead_and_lapsed_is() {
        let policy = Policy::default();
        let mut m = stone(30);
        m.last_filed = Some(d(2025, 1, 1));
        assert!(!assess(&m, &policy, &Flags::default(), &cat(), d(2025, 6, 30)).is_lead());
        m.last_filed = Some(d(2024, 1, 1));
        let a = assess(&m, &policy, &Flags::default(), &cat(), d(2025, 6, 30));
        assert_eq!(a.filing, FilingStatus::Lapsed);
        assert!(a.reasons[0].contains("2024-01-01"));
        m.registry_status = Some("注销".into());
        assert!(!assess(&m, &policy, &Flags::default(), &cat(), d(2025, 6, 30)).is_lead());
    }

    #[test]
    fn evidence_rule_catches_small_and_general_employers() {
        let policy = Policy::default();
        let mut m = stone(3);
        m.industry_code = IndustryCode::parse("3099");
        m.last_exam = Some(d(2024, 3, 1));
        let a = assess(&m, &policy, &Flags::default(), &cat(), d(2025, 6, 30));
        assert_eq!(a.rule_ids, vec!["hazard_evidence"]);
        assert_eq!(a.reasons[1], "近24个月有职业健康检查（2024-03-01）记录");
        m.last_exam = Some(d(2023, 3, 1));
        assert!(!assess(&m, &policy, &Flags::default(), &cat(), d(2025, 6, 30)).is_lead());
    }
}
