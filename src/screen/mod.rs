//! Screening: which employers in the master list should have filed and have not.
//! Pure functions of master records and policy; they do no I/O.

pub mod catalogue;
pub mod filing;
pub mod operating;
pub mod rules;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::config::settings::Policy;
use crate::resolve::master::MasterRecord;
use catalogue::{RiskCatalogue, RiskClass};
use filing::{filing_status, FilingStatus};

/// What screening concluded about one employer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub entity_id: String,
    pub risk_class: Option<RiskClass>,
    pub operating: bool,
    pub operating_basis: String,
    pub filing: FilingStatus,
    /// Ids of the lead rules that hold (empty: not a lead).
    pub rule_ids: Vec<String>,
    /// Reasons for township staff, in Chinese; the filing situation comes first.
    pub reasons: Vec<String>,
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
    catalogue: &RiskCatalogue,
    as_of: NaiveDate,
) -> Assessment {
    let class = m.industry_code.as_ref().and_then(|c| catalogue.class_of(c));
    let op = operating::assess(m, &policy.operating, as_of);
    let filing = filing_status(m.last_filed, as_of, policy.lapse_months);
    let mut a = Assessment {
        entity_id: m.entity_id.clone(),
        risk_class: class,
        operating: op.operating,
        operating_basis: op.basis,
        filing,
        rule_ids: Vec::new(),
        reasons: Vec::new(),
    };
    if !op.operating || filing == FilingStatus::Current {
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
    catalogue: &RiskCatalogue,
    as_of: NaiveDate,
) -> Vec<Assessment> {
    records
        .iter()
        .map(|m| assess(m, policy, catalogue, as_of))
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
    fn severe_with_ten_workers_unfiled_is_a_lead_with_chinese_reasons() {
        let policy = Policy::default();
        let a = assess(&stone(12), &policy, &cat(), d(2025, 6, 30));
        assert!(a.is_lead());
        assert_eq!(a.rule_ids, vec!["severe_industry"]);
        assert_eq!(a.reasons[0], "未查到职业病危害项目申报记录");
        assert_eq!(
            a.reasons[1],
            "属职业病危害严重行业（3032 建筑用石加工），从业人数12人"
        );
        assert!(!assess(&stone(9), &policy, &cat(), d(2025, 6, 30)).is_lead());
    }

    #[test]
    fn filed_or_stopped_is_not_a_lead_and_lapsed_is() {
        let policy = Policy::default();
        let mut m = stone(30);
        m.last_filed = Some(d(2025, 1, 1));
        assert!(!assess(&m, &policy, &cat(), d(2025, 6, 30)).is_lead());
        m.last_filed = Some(d(2024, 1, 1));
        let a = assess(&m, &policy, &cat(), d(2025, 6, 30));
        assert_eq!(a.filing, FilingStatus::Lapsed);
        assert!(a.reasons[0].contains("2024-01-01"));
        m.registry_status = Some("注销".into());
        assert!(!assess(&m, &policy, &cat(), d(2025, 6, 30)).is_lead());
    }

    #[test]
    fn evidence_rule_catches_small_and_general_employers() {
        let policy = Policy::default();
        let mut m = stone(3);
        m.industry_code = IndustryCode::parse("3099");
        m.last_exam = Some(d(2024, 3, 1));
        let a = assess(&m, &policy, &cat(), d(2025, 6, 30));
        assert_eq!(a.rule_ids, vec!["hazard_evidence"]);
        assert_eq!(a.reasons[1], "近24个月有职业健康检查（2024-03-01）记录");
        m.last_exam = Some(d(2023, 3, 1));
        assert!(!assess(&m, &policy, &cat(), d(2025, 6, 30)).is_lead());
    }
}
