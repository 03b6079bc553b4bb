//! Is the employer operating? Registry, tax, statistics and evidence, strongest signal first,
//! with the national plan's 6-month stop rule. Returns the answer and its basis in Chinese.

use chrono::NaiveDate;

use super::policy::OperatingRules;
use crate::resolve::master::MasterRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operating {
    pub operating: bool,
    /// Why, for township staff: the fact that decided it.
    pub basis: String,
    /// Status words in none of the rules' lists: (register, word). Reported, never counted
    /// as operating.
    pub unknown: Vec<(Register, String)>,
}

/// The register a status word comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Register {
    Registry,
    Tax,
    Statistics,
}

impl Register {
    pub fn as_str(self) -> &'static str {
        match self {
            Register::Registry => "registry_status",
            Register::Tax => "tax_status",
            Register::Statistics => "stats_status",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Register::Registry => "登记状态",
            Register::Tax => "税务状态",
            Register::Statistics => "统计运营状态",
        }
    }
}

fn any_in(value: &str, words: &[String]) -> bool {
    words
        .iter()
        .any(|w| !w.is_empty() && value.contains(w.as_str()))
}

fn exact_in(value: &str, words: &[String]) -> bool {
    words.iter().any(|w| value.trim() == w)
}

/// Whether `date` is no more than `months` months before `as_of`.
pub fn within_months(date: NaiveDate, as_of: NaiveDate, months: u32) -> bool {
    match as_of.checked_sub_months(chrono::Months::new(months)) {
        Some(cutoff) => date >= cutoff,
        None => true,
    }
}

/// What one register's status word says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Says {
    Active,
    Stopped,
    Gone,
    Unknown,
}

fn registry_says(word: &str, r: &OperatingRules) -> Says {
    // Gone first: `吊销，未注销` and `存续（吊销）` are gone whatever else they say.
    if any_in(word, &r.registry_gone) {
        Says::Gone
    } else if any_in(word, &r.registry_suspended) {
        Says::Stopped
    } else if any_in(word, &r.registry_active) {
        Says::Active
    } else {
        Says::Unknown
    }
}

fn tax_says(word: &str, r: &OperatingRules) -> Says {
    if exact_in(word, &r.tax_gone) {
        Says::Gone
    } else if exact_in(word, &r.tax_active) {
        Says::Active
    } else if exact_in(word, &r.tax_stopped) {
        Says::Stopped
    } else {
        Says::Unknown
    }
}

fn stats_says(word: &str, r: &OperatingRules) -> Says {
    if exact_in(word, &r.stats_active) {
        Says::Active
    } else if exact_in(word, &r.stats_inactive) {
        Says::Stopped
    } else {
        Says::Unknown
    }
}

/// Decides whether `m` operates as of `as_of`, strongest signal first: a deregistration,
/// recent exam or testing records, tax (with the dormancy and stop rules), statistics, the
/// registry status; an unknown status word never counts as operating.
pub fn assess(m: &MasterRecord, rules: &OperatingRules, as_of: NaiveDate) -> Operating {
    let mut unknown = Vec::new();
    let registry = m.registry_status.as_deref().map(str::trim);
    let tax = m.tax_status.as_deref().map(str::trim);
    let stats = m.stats_status.as_deref().map(str::trim);
    let reg = registry.map(|w| (w, registry_says(w, rules)));
    let tx = tax.map(|w| (w, tax_says(w, rules)));
    let st = stats.map(|w| (w, stats_says(w, rules)));
    for (register, said) in [
        (Register::Registry, reg),
        (Register::Tax, tx),
        (Register::Statistics, st),
    ] {
        if let Some((w, Says::Unknown)) = said {
            unknown.push((register, w.to_string()));
        }
    }
    let decide = |operating: bool, basis: String, unknown: Vec<(Register, String)>| Operating {
        operating,
        basis,
        unknown,
    };
    if let Some((w, Says::Gone)) = reg {
        return decide(false, format!("登记状态为{w}"), unknown);
    }
    if let Some((w, Says::Gone)) = tx {
        return decide(false, format!("税务状态为{w}"), unknown);
    }
    let evidence = m.last_exam.max(m.last_test);
    // A register that says stopped (停业, 非正常, 筹建 …): the employer counts only while its
    // last sign of activity — a tax return, or an exam or testing record — is less than
    // `stop_rule_months` old (the national plan's 6-month rule). A recent exam before the stop
    // does not outweigh it.
    let stopped = [
        (Register::Tax, tx),
        (Register::Statistics, st),
        (Register::Registry, reg),
    ]
    .into_iter()
    .find_map(|(r, said)| match said {
        Some((w, Says::Stopped)) => Some((r, w)),
        _ => None,
    });
    if let Some((register, w)) = stopped {
        let label = register.label_zh();
        let activity = if rules.evidence_proves_operation {
            m.last_tax_date.max(evidence)
        } else {
            m.last_tax_date
        };
        let months = rules.stop_rule_months;
        return match activity {
            Some(d) if within_months(d, as_of, months) => decide(
                true,
                format!("{label}为{w}，但{months}个月内仍有活动记录（{d}）"),
                unknown,
            ),
            Some(d) => decide(
                false,
                format!("{label}为{w}，最近活动记录{d}已超过{months}个月"),
                unknown,
            ),
            None => decide(false, format!("{label}为{w}"), unknown),
        };
    }
    if rules.evidence_proves_operation {
        if let Some(d) = evidence.filter(|d| within_months(*d, as_of, rules.evidence_months)) {
            return decide(true, format!("{d}有职业健康检查或检测记录"), unknown);
        }
    }
    let new_employer = m
        .registered_on
        .is_some_and(|d| within_months(d, as_of, rules.dormant_months));
    if let Some((w, Says::Active)) = tx {
        return match m.last_tax_date {
            Some(d)
                if rules.dormant_months > 0
                    && !within_months(d, as_of, rules.dormant_months)
                    && !new_employer =>
            {
                decide(
                    false,
                    format!(
                        "税务状态为{w}，但最近纳税申报{d}已超过{}个月（长期零申报或未申报，视为休眠）",
                        rules.dormant_months
                    ),
                    unknown,
                )
            }
            Some(d) => decide(true, format!("税务状态为{w}，最近纳税申报{d}"), unknown),
            None => decide(true, format!("税务状态为{w}"), unknown),
        };
    }
    if let Some((w, Says::Active)) = st {
        return decide(true, format!("统计运营状态为{w}"), unknown);
    }
    if let Some((w, Says::Active)) = reg.filter(|_| unknown.is_empty()) {
        return decide(true, format!("登记状态为{w}（无税务、统计信息）"), unknown);
    }
    if let Some((register, w)) = unknown.first() {
        let basis = format!(
            "{}“{w}”不在运营规则的词表中，无法判断是否在营",
            register.label_zh()
        );
        return decide(false, basis, unknown);
    }
    if rules.no_status_operating {
        decide(
            true,
            "无登记、税务、统计状态信息，按在营处理".to_string(),
            unknown,
        )
    } else {
        decide(false, "无登记、税务、统计状态信息".to_string(), unknown)
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
    /// Cause 2 of the trusted-leads issue: 正常 in the tax register but no return for more
    /// than a year is a dormant shell, not an operating employer.
    #[test]
    fn a_dormant_shell_is_not_operating_unless_newly_registered() {
        let rules = OperatingRules::default();
        let as_of = d(2025, 6, 30);
        let mut m = MasterRecord {
            registry_status: Some("存续".into()),
            tax_status: Some("正常".into()),
            last_tax_date: Some(d(2023, 12, 31)),
            registered_on: Some(d(2015, 3, 1)),
            ..Default::default()
        };
        let r = assess(&m, &rules, as_of);
        assert!(!r.operating, "{}", r.basis);
        assert!(
            r.basis.contains("2023-12-31") && r.basis.contains("休眠"),
            "{}",
            r.basis
        );
        // Registered less than 12 months ago: its first returns may still be due.
        m.registered_on = Some(d(2024, 9, 1));
        assert!(assess(&m, &rules, as_of).operating);
        // The rule has its own period, separate from the 6-month stop rule.
        m.registered_on = Some(d(2015, 3, 1));
        m.last_tax_date = Some(d(2024, 10, 31));
        assert!(assess(&m, &rules, as_of).operating, "8 months < 12");
        let off = OperatingRules {
            dormant_months: 0,
            ..OperatingRules::default()
        };
        m.last_tax_date = Some(d(2020, 1, 1));
        assert!(assess(&m, &off, as_of).operating, "0 switches the rule off");
    }

    #[test]
    fn an_unknown_status_word_is_reported_and_never_counts_as_operating() {
        let rules = OperatingRules::default();
        let m = MasterRecord {
            registry_status: Some("重复列".into()),
            ..Default::default()
        };
        let r = assess(&m, &rules, d(2025, 6, 30));
        assert!(!r.operating, "{}", r.basis);
        assert_eq!(r.unknown, vec![(Register::Registry, "重复列".to_string())]);
        assert!(r.basis.contains("重复列"));
        // Another register that decides still decides, and the word is still reported.
        let m = MasterRecord {
            registry_status: Some("重复列".into()),
            tax_status: Some("正常".into()),
            ..Default::default()
        };
        let r = assess(&m, &rules, d(2025, 6, 30));
        assert!(r.operating);
        assert_eq!(r.unknown.len(), 1);
    }

    #[test]
    fn statistics_words_and_evidence_are_settings() {
        let as_of = d(2025, 6, 30);
        let m = MasterRecord {
            stats_status: Some("筹建".into()),
            last_exam: Some(d(2025, 3, 1)),
            ..Default::default()
        };
        assert!(assess(&m, &OperatingRules::default(), as_of).operating);
        let strict = OperatingRules {
            evidence_proves_operation: false,
            ..OperatingRules::default()
        };
        let r = assess(&m, &strict, as_of);
        assert!(!r.operating);
        assert_eq!(r.basis, "统计运营状态为筹建");
    }
    /// A register saying stopped wins over an exam older than the 6-month rule: the exam was
    /// before the stop. A sign of activity within 6 months still counts.
    #[test]
    fn a_stopped_employer_counts_only_while_its_last_activity_is_recent() {
        let rules = OperatingRules::default();
        let as_of = d(2025, 6, 30);
        let mut m = MasterRecord {
            registry_status: Some("存续".into()),
            tax_status: Some("非正常".into()),
            last_tax_date: Some(d(2024, 11, 26)),
            last_exam: Some(d(2024, 11, 5)),
            ..Default::default()
        };
        let r = assess(&m, &rules, as_of);
        assert!(!r.operating, "{}", r.basis);
        assert!(r.basis.contains("2024-11-26"), "{}", r.basis);
        m.last_exam = Some(d(2025, 2, 10));
        let r = assess(&m, &rules, as_of);
        assert!(r.operating, "{}", r.basis);
        assert!(r.basis.contains("2025-02-10"), "{}", r.basis);
        // The statistics directory or the registry saying stopped works the same way.
        let m = MasterRecord {
            registry_status: Some("停业".into()),
            last_test: Some(d(2024, 9, 23)),
            ..Default::default()
        };
        assert!(!assess(&m, &rules, as_of).operating);
    }
}
