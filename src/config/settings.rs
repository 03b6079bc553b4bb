//! The main configuration file `config/yingbao.toml`: county, database, output and policy.
//! Pure data with defaults; `load` parses and checks it.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Everything in `config/yingbao.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub county: County,
    #[serde(default)]
    pub database: Database,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub snapshot: SnapshotPolicy,
    #[serde(default)]
    pub policy: Policy,
    /// Entity-resolution thresholds.
    #[serde(default)]
    pub resolve: crate::resolve::Thresholds,
    /// When `yingbao serve` runs the job, and where it answers health and metrics requests.
    #[serde(default)]
    pub daemon: Daemon,
    /// Lead kinds beyond non-filing, and the SME-assistance list.
    #[serde(default)]
    pub flags: super::flags::Flags,
    /// Where township lists go besides the output folder, and how deliveries are retried.
    #[serde(default)]
    pub delivery: super::delivery::Delivery,
    /// How a township's disposition of a lead is undone.
    #[serde(default)]
    pub lifecycle: super::lifecycle::Lifecycle,
    /// The township portal under `yingbao serve`.
    #[serde(default)]
    pub portal: Portal,
}

/// The `[portal]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Portal {
    /// Where `yingbao serve` answers the portal (e.g. `127.0.0.1:9480` behind an HTTPS
    /// proxy); empty: not served (`yingbao portal` serves it on its own).
    #[serde(default)]
    pub listen: String,
    /// Send the session cookie only over HTTPS (set it when a proxy terminates TLS).
    #[serde(default)]
    pub secure_cookies: bool,
    /// An open lead first listed more than this many days ago counts as overdue (逾期).
    #[serde(default = "default_overdue_days")]
    pub overdue_days: u32,
}

fn default_overdue_days() -> u32 {
    30
}

impl Default for Portal {
    fn default() -> Self {
        Portal {
            listen: String::new(),
            secure_cookies: false,
            overdue_days: default_overdue_days(),
        }
    }
}

/// The `[daemon]` table: schedules are ordinary five-field crontab lines in the county's
/// time zone (`30 2 * * *` = 02:30 every day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Daemon {
    /// The whole job (resolve, screen, write township lists). Sources with their own
    /// `[pull] schedule` are used as their last pull left them; the others are read then.
    #[serde(default = "default_run_schedule")]
    pub run: String,
    /// Address for `/healthz`, `/readyz` and `/metrics`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Seconds between checks of the configuration files for changes (reloaded when they
    /// pass `check`, like SIGHUP). 0: only on SIGHUP.
    #[serde(default = "default_watch")]
    pub watch_secs: u64,
}

fn default_run_schedule() -> String {
    "0 3 1 * *".to_string()
}

fn default_listen() -> String {
    "127.0.0.1:9477".to_string()
}

fn default_watch() -> u64 {
    30
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            run: default_run_schedule(),
            listen: default_listen(),
            watch_secs: default_watch(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct County {
    /// 6-digit county code (统计用区划代码 prefix), e.g. `350583`.
    pub code: String,
    /// The county's name, e.g. `南安市`.
    pub name: String,
    /// Region words an employer name or address may carry for this county (stripped when
    /// comparing names), e.g. `["福建省", "泉州市", "南安市", "南安"]`.
    #[serde(default)]
    pub region_words: Vec<String>,
    /// IANA time zone of the county. Default `Asia/Shanghai`.
    #[serde(default = "default_tz")]
    pub timezone: String,
    /// Township table (`code,name`).
    pub townships: PathBuf,
    /// Village table (`code,name,township_code`).
    pub villages: PathBuf,
    /// Operator aliases (`alias,township_code,note`) for development zones, parks, old names.
    #[serde(default)]
    pub aliases: Option<PathBuf>,
    /// Every county-level area of China (`code,name,city_code,city_name`), written by
    /// `yingbao gazetteer import`. Unset: addresses of other counties are not recognised.
    #[serde(default)]
    pub counties: Option<PathBuf>,
}

fn default_tz() -> String {
    "Asia/Shanghai".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `sqlite://path/to/file.db` (relative to the project root) or `postgres://…`.
    /// Must not contain a password: put a URL with one in the variable named by `url_env`.
    #[serde(default = "default_db_url")]
    pub url: String,
    /// Name of an environment variable that, when set, overrides `url`.
    #[serde(default = "default_db_env")]
    pub url_env: String,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: default_db_url(),
            url_env: default_db_env(),
        }
    }
}

fn default_db_url() -> String {
    "sqlite://var/yingbao.db".to_string()
}

fn default_db_env() -> String {
    "YINGBAO_DATABASE_URL".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// Folder for township lists; each run writes a sub-folder named by its date and run id.
    #[serde(default = "default_out")]
    pub dir: PathBuf,
    /// A font file with Chinese glyphs for the report's PNG chart, when the system has none
    /// (Debian: `apt install fonts-wqy-microhei`, then no setting is needed).
    #[serde(default)]
    pub font: Option<PathBuf>,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            dir: default_out(),
            font: None,
        }
    }
}

fn default_out() -> PathBuf {
    PathBuf::from("out")
}

/// When a feed's new snapshot is trusted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotPolicy {
    /// A snapshot with fewer records than this share of the last good one is held (not used).
    #[serde(default = "default_ratio")]
    pub min_ratio: f64,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        SnapshotPolicy {
            min_ratio: default_ratio(),
        }
    }
}

fn default_ratio() -> f64 {
    0.8
}

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
    /// Lead rules; an employer matching any rule (and operating, and not current) is a lead.
    #[serde(default = "default_rules")]
    pub lead_rules: Vec<LeadRule>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            as_of: None,
            risk_catalogue: default_catalogue(),
            lapse_months: default_lapse(),
            operating: OperatingRules::default(),
            lead_rules: default_rules(),
        }
    }
}

fn default_catalogue() -> PathBuf {
    PathBuf::from("config/risk_catalogue.csv")
}

fn default_lapse() -> u32 {
    13
}

/// The operating definition: which statuses mean what, and the stop rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatingRules {
    /// An employer that stopped less than this many months ago, and is not deregistered,
    /// still counts as operating (national plan: 6 months).
    #[serde(default = "default_stop_months")]
    pub stop_rule_months: u32,
    /// Exam or testing records this recent prove the employer operates.
    #[serde(default = "default_evidence_months")]
    pub evidence_months: u32,
    /// Registry statuses meaning the employer is gone (never a lead). Matched as substrings.
    #[serde(default = "default_registry_gone")]
    pub registry_gone: Vec<String>,
    /// Registry statuses meaning suspended (a lead only with recent activity).
    #[serde(default = "default_registry_suspended")]
    pub registry_suspended: Vec<String>,
    /// Tax statuses meaning the taxpayer is active.
    #[serde(default = "default_tax_active")]
    pub tax_active: Vec<String>,
    /// Tax statuses meaning the taxpayer is gone.
    #[serde(default = "default_tax_gone")]
    pub tax_gone: Vec<String>,
    /// Statistics 运营状态 values meaning the unit operates.
    #[serde(default = "default_stats_active")]
    pub stats_active: Vec<String>,
}

impl Default for OperatingRules {
    fn default() -> Self {
        OperatingRules {
            stop_rule_months: default_stop_months(),
            evidence_months: default_evidence_months(),
            registry_gone: default_registry_gone(),
            registry_suspended: default_registry_suspended(),
            tax_active: default_tax_active(),
            tax_gone: default_tax_gone(),
            stats_active: default_stats_active(),
        }
    }
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}
fn default_stop_months() -> u32 {
    6
}
fn default_evidence_months() -> u32 {
    12
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
fn default_tax_gone() -> Vec<String> {
    strings(&["注销", "非正常户注销", "注销"])
}
fn default_stats_active() -> Vec<String> {
    strings(&["营业", "正常营业", "正常运营", "1"])
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
