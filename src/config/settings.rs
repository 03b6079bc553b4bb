//! The main configuration file `config/yingbao.toml`: county, database, output and policy.
//! Pure data with defaults; `load` parses and checks it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Everything in `config/yingbao.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub county: County,
    #[serde(default)]
    pub database: Database,
    /// How many runs keep their full detail in the database.
    #[serde(default)]
    pub store: crate::store::Retention,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub snapshot: crate::ingest::trust::TrustPolicy,
    #[serde(default)]
    pub policy: crate::screen::policy::Policy,
    /// Entity-resolution thresholds.
    #[serde(default)]
    pub resolve: crate::resolve::Thresholds,
    /// Which record decides each fact of an employer's master record.
    #[serde(default)]
    pub fusion: crate::resolve::fusion::FusionRules,
    /// When `yingbao serve` runs the job, and where it answers health and metrics requests.
    #[serde(default)]
    pub daemon: Daemon,
    /// Lead kinds beyond non-filing, and the SME-assistance list.
    #[serde(default)]
    pub flags: crate::screen::flag_settings::Flags,
    /// Where township lists go besides the output folder, and how deliveries are retried.
    #[serde(default)]
    pub delivery: crate::deliver::settings::Delivery,
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
    /// Follow the configuration files (every file under `config/`, `connectors/*.toml`) and
    /// reload when they change and pass `check`, like SIGHUP; 0: only on SIGHUP. Changes come
    /// as file-change notifications; where the system has none, modification times are
    /// compared every this many seconds.
    #[serde(default = "default_watch")]
    pub watch_secs: u64,
    /// Keep the last run's resolver in memory between runs, so that a run after it
    /// re-resolves only the records that changed (results equal a full resolution's). Costs
    /// memory of the order of one run's peak while the daemon waits; false: every run
    /// resolves in full.
    #[serde(default = "default_keep_resolver")]
    pub keep_resolver: bool,
}

fn default_keep_resolver() -> bool {
    true
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
            keep_resolver: default_keep_resolver(),
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
