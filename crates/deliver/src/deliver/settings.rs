//! The `[delivery]` table: where township lists go besides the output folder (channels per
//! township, each with its retry policy), the delivery schedule and the operator's channel.

use serde::{Deserialize, Serialize};

/// Everything under `[delivery]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// `yingbao serve` sends due deliveries (first attempts and retries) on this schedule, a
    /// five-field crontab line; every run also delivers at its end.
    #[serde(default = "default_schedule")]
    pub schedule: String,
    /// Deliver at the end of `yingbao run` (else only `yingbao deliver` and the daemon do).
    #[serde(default = "yes")]
    pub after_run: bool,
    /// Where the output folder is published (an intranet share or web server): each
    /// township's Excel is linked as `<xlsx_base_url>/<run folder>/<file>`. Empty: no link.
    #[serde(default)]
    pub xlsx_base_url: String,
    /// The id of the channel that tells the county operator when a delivery fails for good.
    #[serde(default)]
    pub operator: String,
    /// Whether a run's lists wait for the operator (`manual`, the default: `yingbao approve
    /// <run>` or the portal's county page sends them) or go at once (`auto`). A first run, a
    /// run with a failed or held source and a run whose lead count moved by more than
    /// `approve_max_change` always wait.
    #[serde(default)]
    pub approve: Approve,
    /// The share (0–1) by which a run's listed leads may differ from the last sent run's
    /// before its lists wait for the operator even under `approve = "auto"`.
    #[serde(default = "default_max_change")]
    pub approve_max_change: f64,
    /// `[delivery.list]`: each lead kind's 处置要求 and the days a township has to reply.
    #[serde(default)]
    pub list: super::list_settings::ListSettings,
    /// The channels. A township can have several; every channel retries on its own.
    #[serde(default)]
    pub channel: Vec<ChannelConfig>,
}

/// `[delivery] approve`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approve {
    /// Every run's lists wait for the operator.
    #[default]
    Manual,
    /// Lists go at once, unless the run is one that always waits.
    Auto,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            schedule: default_schedule(),
            after_run: true,
            xlsx_base_url: String::new(),
            operator: String::new(),
            approve: Approve::Manual,
            approve_max_change: default_max_change(),
            list: Default::default(),
            channel: Vec::new(),
        }
    }
}

/// One `[[delivery.channel]]`. `kind` decides which further keys it takes (see the README).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelConfig {
    pub id: String,
    /// `folder`, `webhook`, `wecom`, `dingtalk` or `smtp`.
    pub kind: String,
    /// Township codes this channel serves; `*` for every township and the county list,
    /// `county` for the county list of unplaced leads. Empty: only operator alerts.
    #[serde(default)]
    pub townships: Vec<String>,
    /// Attempts before the delivery is given up and the operator alerted.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry; it doubles each time up to `max_backoff_secs`.
    #[serde(default = "default_backoff")]
    pub backoff_secs: u64,
    #[serde(default = "default_max_backoff")]
    pub max_backoff_secs: u64,
    /// The kind's own keys (url, key_env, path …).
    #[serde(flatten)]
    pub options: toml::Table,
}

impl ChannelConfig {
    /// True when this channel carries the list of `township` (`None`: the county list).
    pub fn serves(&self, township: Option<&str>) -> bool {
        self.townships.iter().any(|t| match township {
            _ if t == "*" => true,
            None => t == "county",
            Some(code) => t == code,
        })
    }
}

/// The channel kinds yingbao can deliver through.
pub const CHANNEL_KINDS: [&str; 5] = ["folder", "webhook", "wecom", "dingtalk", "smtp"];

fn default_schedule() -> String {
    "*/10 * * * *".to_string()
}

fn default_max_change() -> f64 {
    0.3
}

fn yes() -> bool {
    true
}

fn default_attempts() -> u32 {
    8
}

fn default_backoff() -> u64 {
    60
}

fn default_max_backoff() -> u64 {
    3600
}
