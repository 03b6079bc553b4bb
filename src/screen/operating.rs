//! Is the employer operating? Registry, tax, statistics and evidence, strongest signal first,
//! with the national plan's 6-month stop rule. Returns the answer and its basis in Chinese.

use chrono::NaiveDate;

use crate::config::settings::OperatingRules;
use crate::resolve::master::MasterRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operating {
    pub operating: bool,
    /// Why, for township staff.
    pub basis: String,
}

fn any_in(value: &Option<String>, words: &[String]) -> bool {
    value.as_deref().is_some_and(|v| {
        words
            .iter()
            .any(|w| !w.is_empty() && v.contains(w.as_str()))
    })
}

fn exact_in(value: &Option<String>, words: &[String]) -> bool {
    value
        .as_deref()
        .is_some_and(|v| words.iter().any(|w| v.trim() == w))
}

/// Whether `date` is no more than `months` months before `as_of`.
pub fn within_months(date: NaiveDate, as_of: NaiveDate, months: u32) -> bool {
    match as_of.checked_sub_months(chrono::Months::new(months)) {
        Some(cutoff) => date >= cutoff,
        None => true,
    }
}

fn yes(basis: String) -> Operating {
    Operating {
        operating: true,
        basis,
    }
}

fn no(basis: String) -> Operating {
    Operating {
        operating: false,
        basis,
    }
}

/// Decides whether `m` operates as of `as_of`.
pub fn assess(m: &MasterRecord, rules: &OperatingRules, as_of: NaiveDate) -> Operating {
    let status = |s: &Option<String>| s.clone().unwrap_or_default();
    if any_in(&m.registry_status, &rules.registry_gone) {
        return no(format!("登记状态为{}", status(&m.registry_status)));
    }
    if exact_in(&m.tax_status, &rules.tax_gone) {
        return no(format!("税务状态为{}", status(&m.tax_status)));
    }
    let evidence = m.last_exam.max(m.last_test);
    if let Some(d) = evidence.filter(|d| within_months(*d, as_of, rules.evidence_months)) {
        return yes(format!("{d}有职业健康检查或检测记录"));
    }
    if m.tax_status.is_some() {
        if exact_in(&m.tax_status, &rules.tax_active) {
            return yes("税务状态正常".to_string());
        }
        return match m.last_tax_date {
            Some(d) if within_months(d, as_of, rules.stop_rule_months) => yes(format!(
                "税务状态为{}，但{}个月内仍有申报（{d}）",
                status(&m.tax_status),
                rules.stop_rule_months
            )),
            Some(d) => no(format!(
                "税务状态为{}，最近申报{d}已超过{}个月",
                status(&m.tax_status),
                rules.stop_rule_months
            )),
            None => no(format!("税务状态为{}", status(&m.tax_status))),
        };
    }
    if m.stats_status.is_some() {
        return if exact_in(&m.stats_status, &rules.stats_active) {
            yes(format!("统计运营状态为{}", status(&m.stats_status)))
        } else {
            no(format!("统计运营状态为{}", status(&m.stats_status)))
        };
    }
    if any_in(&m.registry_status, &rules.registry_suspended) {
        return no(format!("登记状态为{}", status(&m.registry_status)));
    }
    match &m.registry_status {
        Some(s) => yes(format!("登记状态为{s}（无税务、统计信息）")),
        None => yes("无登记、税务、统计状态信息，按在营处理".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn six_month_rule_and_strong_signals() {
        let rules = OperatingRules::default();
        let as_of = d(2025, 6, 30);
        let mut m = MasterRecord {
            registry_status: Some("存续（在营、开业、在册）".into()),
            tax_status: Some("非正常".into()),
            last_tax_date: Some(d(2025, 2, 1)),
            ..Default::default()
        };
        assert!(
            assess(&m, &rules, as_of).operating,
            "stopped < 6 months ago still counts"
        );
        m.last_tax_date = Some(d(2024, 11, 30));
        assert!(
            !assess(&m, &rules, as_of).operating,
            "stopped > 6 months ago"
        );
        m.last_exam = Some(d(2025, 1, 5));
        assert!(
            assess(&m, &rules, as_of).operating,
            "recent exam proves operation"
        );
        m.registry_status = Some("吊销，未注销".into());
        let r = assess(&m, &rules, as_of);
        assert!(!r.operating);
        assert!(r.basis.contains("吊销"));
    }

    #[test]
    fn registry_alone_is_weak_but_counts() {
        let rules = OperatingRules::default();
        let m = MasterRecord {
            registry_status: Some("存续".into()),
            ..Default::default()
        };
        assert!(assess(&m, &rules, d(2025, 6, 30)).operating);
        let m = MasterRecord {
            registry_status: Some("停业".into()),
            ..Default::default()
        };
        assert!(!assess(&m, &rules, d(2025, 6, 30)).operating);
    }
}
