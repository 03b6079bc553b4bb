//! The delivery worker: sends every due outbox entry through its channel with its stable
//! idempotency key, retries with capped exponential backoff, and alerts the operator.

use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::channel::{self, Alert, ChannelSpec, ErrorKind, ListDelivery, Payload};
use super::correction::Correction;
use super::settings::{ChannelConfig, Delivery};
use crate::domain::TownshipCode;
use crate::leads::row::LeadRow;
use crate::leads::LeadStatus;
use crate::store::{AttemptOutcome, NewOutbox, OutboxRow, Store, StoreError};

pub use super::channel::ListCounts;

/// What the outbox keeps for a township list (the JSON in `outbox.payload`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPayload {
    pub county: String,
    pub cycle: String,
    pub township_code: Option<TownshipCode>,
    pub township_name: String,
    pub counts: ListCounts,
    pub leads: Vec<LeadRow>,
    pub xlsx_path: std::path::PathBuf,
    pub xlsx_url: Option<String>,
    /// What this version corrects (`None`: the cycle's first version).
    #[serde(default)]
    pub correction: Option<Correction>,
    /// 反馈时限 as printed on the list (`2025年07月15日前`).
    #[serde(default)]
    pub deadline: Option<String>,
}

impl ListCounts {
    /// The counts of a list's rows (status and priority as written in the rows).
    pub fn of(rows: &[LeadRow]) -> ListCounts {
        let count = |s: LeadStatus| rows.iter().filter(|r| r.status == s.label_zh()).count();
        ListCounts {
            total: rows.len(),
            new: count(LeadStatus::New),
            reopened: count(LeadStatus::Reopened),
            high_priority: rows.iter().filter(|r| r.priority.starts_with('高')).count(),
        }
    }
}

/// The key a receiver deduplicates on: one per (county, cycle, township, channel), the same
/// on every retry and after a restart; a 更正版 adds its version
/// (`correction::versioned_key`).
pub fn idempotency_key(county: &str, cycle: &str, township: Option<&str>, channel: &str) -> String {
    format!(
        "yingbao-{county}-{cycle}-{}-{channel}",
        township.unwrap_or("county")
    )
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot encode an alert: {0}")]
    Json(#[from] serde_json::Error),
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeliveryStats {
    pub delivered: usize,
    /// Attempts that failed and will be retried.
    pub retried: usize,
    /// Deliveries given up (permanent error or attempts used up).
    pub dead: usize,
    /// Operator alerts queued.
    pub alerts: usize,
}

/// The channel spec of a configured channel, from its kind and its own keys; a relative
/// folder path starts at the project root `root`.
pub fn channel_spec(c: &ChannelConfig, root: &std::path::Path) -> Result<ChannelSpec, String> {
    let table = toml::Value::Table(c.options.clone());
    let spec = match c.kind.as_str() {
        "folder" => table.try_into().map(|mut f: super::channel::FolderSpec| {
            f.path = root.join(&f.path);
            ChannelSpec::Folder(f)
        }),
        "webhook" => table.try_into().map(ChannelSpec::Webhook),
        "wecom" => table.try_into().map(ChannelSpec::WeCom),
        "dingtalk" => table.try_into().map(ChannelSpec::DingTalk),
        "smtp" => table.try_into().map(ChannelSpec::Smtp),
        other => {
            return Err(format!(
                "unknown channel kind `{other}` (folder, webhook, wecom, dingtalk or smtp)"
            ))
        }
    };
    spec.map_err(|e| e.to_string())
}

/// The configured channels, each parsed once (when the configuration loads) into what it
/// sends with, and the operator's channel.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    /// The id of the channel that alerts the operator (empty: none).
    pub operator: String,
    list: Vec<(ChannelConfig, Result<ChannelSpec, String>)>,
}

impl Channels {
    /// The channels of `[delivery]`; a relative folder path starts at the project root.
    pub fn new(settings: &Delivery, root: &std::path::Path) -> Channels {
        Channels {
            operator: settings.operator.clone(),
            list: settings
                .channel
                .iter()
                .map(|c| (c.clone(), channel_spec(c, root)))
                .collect(),
        }
    }

    /// A channel by id, with its spec or why it has none.
    fn get(&self, id: &str) -> Option<&(ChannelConfig, Result<ChannelSpec, String>)> {
        self.list.iter().find(|(c, _)| c.id == id)
    }
}

/// The wait before retry number `attempt` (1 = the first retry): `backoff_secs` doubled each
/// time, at most `max_backoff_secs`, with ±20 % jitter so that channels do not retry in step.
pub fn backoff(c: &ChannelConfig, attempt: u32) -> Duration {
    let ceiling = crate::domain::backoff::ceiling(
        Duration::from_secs(c.backoff_secs),
        Duration::from_secs(c.max_backoff_secs),
        attempt,
    );
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    ceiling.mul_f64(jitter)
}

/// Sends every delivery due now, once each. `env` looks up secrets by variable name.
pub async fn deliver_due(
    channels: &Channels,
    store: &Store,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<DeliveryStats, DeliveryError> {
    let mut stats = DeliveryStats::default();
    // Alerts queued in this pass are sent in the next round of the loop.
    for _ in 0..2 {
        let due = store.due_deliveries(Utc::now()).await?;
        if due.is_empty() {
            break;
        }
        for row in due {
            deliver_one(channels, store, &row, env, &mut stats).await?;
        }
    }
    Ok(stats)
}

async fn deliver_one(
    channels: &Channels,
    store: &Store,
    row: &OutboxRow,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    stats: &mut DeliveryStats,
) -> Result<(), DeliveryError> {
    let attempt = row.attempts + 1;
    let found = channels.get(&row.channel);
    let channel = found.map(|(c, _)| c);
    let attempt_id = store.start_attempt(row.id, attempt).await?;
    let mut progress = row.progress.clone();
    let result = match found {
        None => Err((
            ErrorKind::Permanent,
            format!("channel `{}` is no longer configured", row.channel),
            None,
        )),
        Some((_, Err(e))) => Err((ErrorKind::Permanent, e.clone(), None)),
        Some((_, Ok(spec))) => send_row(spec, row, env, &mut progress).await,
    };
    let outcome = match result {
        Ok(detail) => {
            tracing::info!(key = %row.idempotency_key, channel = %row.channel, attempt, %detail, "delivered");
            stats.delivered += 1;
            AttemptOutcome::Delivered { detail }
        }
        Err((kind, error, retry_after)) => {
            let max = channel.map_or(1, |c| c.max_attempts.max(1));
            if kind == ErrorKind::Retryable && attempt < i64::from(max) {
                let wait = channel.map_or(Duration::from_secs(60), |c| backoff(c, attempt as u32));
                let wait = retry_after.map_or(wait, |r| r.max(wait));
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::warn!(key = %row.idempotency_key, channel = %row.channel, attempt, %error, retry_in_secs = wait.as_secs_f64(), "delivery failed; will retry");
                stats.retried += 1;
                AttemptOutcome::Retry {
                    error,
                    next: crate::store::timestamp(next),
                }
            } else {
                tracing::error!(key = %row.idempotency_key, channel = %row.channel, attempt, %error, "delivery failed for good");
                stats.dead += 1;
                if row.kind == "list"
                    && alert_operator(&channels.operator, store, row, attempt_id, attempt, &error)
                        .await?
                {
                    stats.alerts += 1;
                }
                AttemptOutcome::Dead { error }
            }
        }
    };
    store
        .finish_attempt(row.id, attempt_id, &outcome, &progress)
        .await?;
    Ok(())
}

type SendFailure = (ErrorKind, String, Option<Duration>);

async fn send_row(
    spec: &ChannelSpec,
    row: &OutboxRow,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    progress: &mut Vec<String>,
) -> Result<String, SendFailure> {
    let unreadable = |e: serde_json::Error| {
        (
            ErrorKind::Permanent,
            format!("the queued payload is unreadable: {e}"),
            None,
        )
    };
    let sent = if row.kind == "alert" {
        let alert: AlertPayload = serde_json::from_str(&row.payload).map_err(unreadable)?;
        let alert = Alert {
            idempotency_key: row.idempotency_key.clone(),
            title: alert.title,
            text: alert.text,
        };
        channel::send_resuming(spec, Payload::Alert(&alert), env, progress).await
    } else {
        let p: ListPayload = serde_json::from_str(&row.payload).map_err(unreadable)?;
        let leads = serde_json::to_value(&p.leads).map_err(unreadable)?;
        let d = ListDelivery {
            idempotency_key: row.idempotency_key.clone(),
            county: p.county,
            cycle: p.cycle,
            township_code: p.township_code,
            township_name: p.township_name,
            counts: p.counts,
            leads,
            xlsx_path: p.xlsx_path,
            xlsx_url: p.xlsx_url,
            correction: p.correction,
            deadline: p.deadline,
        };
        channel::send_resuming(spec, Payload::List(&d), env, progress).await
    };
    sent.map(|r| r.detail)
        .map_err(|e| (e.kind, e.message, e.retry_after))
}

/// An operator alert as queued.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AlertPayload {
    title: String,
    text: String,
}

/// Queues an alert on the operator's channel about a list that could not be delivered.
/// Returns false when no operator channel is configured (or it is the failing one).
async fn alert_operator(
    operator: &str,
    store: &Store,
    row: &OutboxRow,
    attempt_id: i64,
    attempts: i64,
    error: &str,
) -> Result<bool, DeliveryError> {
    if operator.is_empty() || operator == row.channel {
        tracing::error!(key = %row.idempotency_key, "no operator channel to alert (set delivery.operator)");
        return Ok(false);
    }
    let township = row
        .township_code
        .as_deref()
        .unwrap_or("县级（未能定位乡镇）");
    let alert = AlertPayload {
        title: format!("应报：{} {} 清单推送失败", row.cycle, township),
        text: format!(
            "{} 周期乡镇 {} 的线索清单经渠道“{}”推送 {} 次仍失败，已停止重试。\n最后一次错误：{}\n幂等键：{}\n请检查该渠道配置后运行 yingbao deliver --retry {}。",
            row.cycle, township, row.channel, attempts, error, row.idempotency_key, row.idempotency_key
        ),
    };
    store
        .enqueue(
            row.run_id,
            &NewOutbox {
                cycle: row.cycle.clone(),
                township_code: row.township_code.clone(),
                channel: operator.to_string(),
                // One alert per giving-up (a delivery queued again can fail again).
                idempotency_key: format!("alert-{}-{attempt_id}", row.idempotency_key),
                kind: "alert",
                payload: serde_json::to_string(&alert)?,
                version: 1,
                status: "pending",
            },
        )
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(id: &str, kind: &str, options: &str) -> ChannelConfig {
        ChannelConfig {
            id: id.into(),
            kind: kind.into(),
            townships: vec!["*".into()],
            max_attempts: 3,
            backoff_secs: 1,
            max_backoff_secs: 4,
            options: toml::from_str(options).expect("options"),
        }
    }

    #[test]
    fn channels_are_parsed_once_with_folders_under_the_root() {
        let settings = Delivery {
            operator: "ops".into(),
            channel: vec![
                channel("share", "folder", "path = \"out/share\""),
                channel("fax", "fax", ""),
            ],
            ..Delivery::default()
        };
        let channels = Channels::new(&settings, std::path::Path::new("/srv/yingbao"));
        assert_eq!(channels.operator, "ops");
        match channels.get("share") {
            Some((_, Ok(ChannelSpec::Folder(f)))) => {
                assert_eq!(f.path, std::path::Path::new("/srv/yingbao/out/share"))
            }
            other => panic!("{other:?}"),
        }
        // A kind yingbao does not know stays an error, sent as a permanent failure.
        assert!(
            matches!(channels.get("fax"), Some((_, Err(e))) if e.contains("unknown channel kind"))
        );
        assert!(channels.get("mail").is_none());
    }
}
