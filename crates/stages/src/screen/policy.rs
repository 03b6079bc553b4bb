//! Screening policy: the date screened as of, the risk catalogue, the lapse period, what counts
//! as operating, and the lead rules. Pure data with defaults; `config::load` reads and checks it.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The screening rules. Every threshold and word list an operator might need to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The date screening is done as of. Leave unset in production (today in the county's time
    /// zone); the bundled sample sets it so its results do not drift with the calendar.
    #[serde(default, deserialize_with = "date_or_string")]
    pub as_of: Option<NaiveDate>,
    /// GB/T 4754-2017 code → 严重/一般 (`code,class,name,source`).
    #[serde(default = "default_catalogue")]
    pub risk_catalogue: PathBuf,
    /// A declaration or annual update older than this many months is lapsed.
    #[serde(default = "default_lapse")]
    pub lapse_months: u32,
    #[serde(default)]
    pub operating: OperatingRules,
    /// Only employers found in one of this county's registers (market, tax, statistics) go to
    /// the townships; the others wait on the county's 待核实 list. Records of other counties
    /// are never listed here either way (they are referred: 外县线索移交).
    #[serde(default)]
    pub require_registry: bool,
    /// Lead rules; an employer matching any rule (and operating, and not current) is a lead.
    #[serde(default = "default_rules")]
    pub lead_rules: Vec<LeadRule>,
    /// Periodic-testing reminders (`[policy.testing]`): intervals by risk class.
    #[serde(default)]
    pub testing: super::testing_due::TestingRules,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            as_of: None,
            risk_catalogue: default_catalogue(),
            lapse_months: default_lapse(),
            operating: OperatingRules::default(),
            require_registry: false,
            lead_rules: default_rules(),
            testing: super::testing_due::TestingRules::default(),
        }
    }
}

fn default_catalogue() -> PathBuf {
    PathBuf::from("config/risk_catalogue.csv")
}

fn default_lapse() -> u32 {
    13
}

/// The operating definition, as data: status words of each register, the periods of the stop
/// and dormancy rules, and whether exam or testing records prove operation. A status word in
/// none of the lists is reported (`RunSummary::unknown_statuses`), never taken as operating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatingRules {
    /// An employer that stopped less than this many months ago (its last tax return), and is
    /// not deregistered, still counts as operating (national plan: 6 months).
    #[serde(default = "default_stop_months")]
    pub stop_rule_months: u32,
    /// A taxpayer whose status is active but who has filed no tax return for this many months
    /// is dormant (not operating), unless registered less than this many months ago. 0: off.
    #[serde(default = "default_dormant_months")]
    pub dormant_months: u32,
    /// Exam or testing records this recent prove the employer operates …
    #[serde(default = "default_evidence_months")]
    pub evidence_months: u32,
    /// … when this is true.
    #[serde(default = "yes")]
    pub evidence_proves_operation: bool,
    /// An employer of whom no feed gives any status (known only from exam, testing or
    /// declaration records) counts as operating.
    #[serde(default = "yes")]
    pub no_status_operating: bool,
    /// Registry statuses (登记状态) meaning the employer exists. Matched as substrings.
    #[serde(default = "default_registry_active")]
    pub registry_active: Vec<String>,
    /// Registry statuses meaning the employer is gone (never a lead). Matched as substrings.
    #[serde(default = "default_registry_gone")]
    pub registry_gone: Vec<String>,
    /// Registry statuses meaning suspended (a lead only with recent activity).
    #[serde(default = "default_registry_suspended")]
    pub registry_suspended: Vec<String>,
    /// Tax statuses (纳税人状态) meaning the taxpayer is active. Matched exactly.
    #[serde(default = "default_tax_active")]
    pub tax_active: Vec<String>,
    /// Tax statuses meaning the taxpayer stopped (the stop rule applies). Matched exactly.
    #[serde(default = "default_tax_stopped")]
    pub tax_stopped: Vec<String>,
    /// Tax statuses meaning the taxpayer is gone. Matched exactly.
    #[serde(default = "default_tax_gone")]
    pub tax_gone: Vec<String>,
    /// Statistics 运营状态 values meaning the unit operates. Matched exactly.
    #[serde(default = "default_stats_active")]
    pub stats_active: Vec<String>,
    /// Statistics 运营状态 values meaning the unit does not operate. Matched exactly.
    #[serde(default = "default_stats_inactive")]
    pub stats_inactive: Vec<String>,
}

impl Default for OperatingRules {
    fn default() -> Self {
        OperatingRules {
            stop_rule_months: default_stop_months(),
            dormant_months: default_dormant_months(),
            evidence_months: default_evidence_months(),
            evidence_proves_operation: true,
            no_status_operating: true,
            registry_active: default_registry_active(),
            registry_gone: default_registry_gone(),
            registry_suspended: default_registry_suspended(),
            tax_active: default_tax_active(),
            tax_stopped: default_tax_stopped(),
            tax_gone: default_tax_gone(),
            stats_active: default_stats_active(),
            stats_inactive: default_stats_inactive(),
        }
    }
}

fn yes() -> bool {
    true
}
fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}
fn default_stop_months() -> u32 {
    6
}
fn default_dormant_months() -> u32 {
    12
}
fn default_evidence_months() -> u32 {
    12
}
fn default_registry_active() -> Vec<String> {
    strings(&["存续", "在业", "在营", "开业", "在册", "迁入", "正常"])
}
fn default_registry_gone() -> Vec<String> {
    strings(&["注销", "吊销", "撤销", "迁出"])
}
fn default_registry_suspended() -> Vec<String> {
    strings(&["停业", "歇业", "清算"])
}
fn default_tax_active() -> Vec<String> {
    strings(&["正常", "03"])
}
fn default_tax_stopped() -> Vec<String> {
    strings(&["非正常", "非正常户", "停业", "清算"])
}
fn default_tax_gone() -> Vec<String> {
    strings(&["注销", "非正常户注销"])
}
fn default_stats_active() -> Vec<String> {
    strings(&["营业", "正常营业", "正常运营", "1"])
}
fn default_stats_inactive() -> Vec<String> {
    strings(&[
        "停业",
        "歇业",
        "停业（歇业）",
        "筹建",
        "当年关闭",
        "当年破产",
        "当年注销",
        "当年吊销",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
    ])
}

/// One lead rule. All conditions given must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadRule {
    /// Short English id, shown in exports and logs.
    pub id: String,
    /// Risk classes the employer's industry must have (`严重`, `一般`). Empty: any.
    #[serde(default)]
    pub risk_classes: Vec<String>,
    /// Minimum number of workers.
    #[serde(default)]
    pub min_workers: Option<u32>,
    /// Exam or testing evidence within this many months is required.
    #[serde(default)]
    pub evidence_within_months: Option<u32>,
    /// Only for employers in the industrial 门类 (B 采矿业, C 制造业, D 电力…) when true.
    #[serde(default)]
    pub industrial_only: bool,
    /// The reason township staff read, in Chinese. Placeholders: {industry} {class} {workers}
    /// {evidence} {months}.
    pub reason: String,
}

fn default_rules() -> Vec<LeadRule> {
    vec![
        LeadRule {
            id: "severe_industry".into(),
            risk_classes: vec!["严重".into()],
            min_workers: Some(10),
            evidence_within_months: None,
            industrial_only: false,
            reason: "属职业病危害严重行业（{industry}），从业人数{workers}人".into(),
        },
        LeadRule {
            id: "hazard_evidence".into(),
            risk_classes: vec![],
            min_workers: None,
            evidence_within_months: Some(24),
            industrial_only: false,
            reason: "近{months}个月有{evidence}记录".into(),
        },
    ]
}

/// Accepts a TOML date (`2025-06-30`) or a string (`"2025-06-30"`).
fn date_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    use serde::de::Error;
    let text = match toml::Value::deserialize(d)? {
        toml::Value::String(s) => s,
        toml::Value::Datetime(dt) => dt.to_string(),
        other => {
            return Err(D::Error::custom(format!(
                "expected a date like 2025-06-30, found {other}"
            )))
        }
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| D::Error::custom(format!("`{text}` is not a date like 2025-06-30")))
}
