//! Lead rules from config applied to one master record: which rules hold, with reasons in
//! Chinese rendered from the operator's templates.

use chrono::NaiveDate;

use super::catalogue::{RiskCatalogue, RiskClass};
use super::operating::within_months;
use super::policy::LeadRule;
use crate::resolve::master::MasterRecord;

/// Placeholders a rule's `reason` may use.
pub const PLACEHOLDERS: &[&str] = &["industry", "class", "workers", "evidence", "months"];

/// The rules that hold for `m`, each with its rendered reason.
pub fn matching_rules<'r>(
    m: &MasterRecord,
    class: Option<RiskClass>,
    rules: &'r [LeadRule],
    catalogue: &RiskCatalogue,
    as_of: NaiveDate,
) -> Vec<(&'r LeadRule, String)> {
    let mut out = Vec::new();
    for rule in rules {
        if !rule.risk_classes.is_empty()
            && !class.is_some_and(|c| rule.risk_classes.iter().any(|r| r == c.label_zh()))
        {
            continue;
        }
        if let Some(min) = rule.min_workers {
            if m.headcount.is_none_or(|h| h < min) {
                continue;
            }
        }
        if rule.industrial_only
            && !m
                .industry_code
                .as_ref()
                .is_some_and(|c| matches!(c.section(), 'B' | 'C' | 'D'))
        {
            continue;
        }
        let mut evidence = String::new();
        if let Some(months) = rule.evidence_within_months {
            let exam = m.last_exam.filter(|d| within_months(*d, as_of, months));
            let test = m.last_test.filter(|d| within_months(*d, as_of, months));
            let mut parts = Vec::new();
            if let Some(d) = exam {
                parts.push(format!("职业健康检查（{d}）"));
            }
            if let Some(d) = test {
                parts.push(format!("职业病危害因素检测（{d}）"));
            }
            if parts.is_empty() {
                continue;
            }
            evidence = parts.join("、");
        }
        let industry = m
            .industry_code
            .as_ref()
            .map(|c| {
                let name = m
                    .industry_name
                    .clone()
                    .or_else(|| catalogue.name_of(c).map(str::to_string))
                    .unwrap_or_default();
                format!("{c} {name}").trim().to_string()
            })
            .unwrap_or_else(|| "行业不详".to_string());
        let reason = rule
            .reason
            .replace("{industry}", &industry)
            .replace("{class}", class.map_or("未分类", |c| c.label_zh()))
            .replace(
                "{workers}",
                &m.headcount.map_or("不详".to_string(), |h| h.to_string()),
            )
            .replace("{evidence}", &evidence)
            .replace(
                "{months}",
                &rule
                    .evidence_within_months
                    .map_or(String::new(), |m| m.to_string()),
            );
        out.push((rule, reason));
    }
    out
}
