//! Delivery channels: one attempt to hand a township's lead list (or an operator alert)
//! to a folder, a webhook, a WeCom or DingTalk group robot, or an SMTP mailbox.

mod dingtalk;
mod folder;
mod http;
mod smtp;
mod summary;
mod webhook;
mod wecom;

use std::path::PathBuf;
use std::time::Duration;

use crate::domain::TownshipCode;
use serde::{Deserialize, Serialize};

pub use dingtalk::DingTalkSpec;
pub use folder::FolderSpec;
pub use smtp::{SmtpSecurity, SmtpSpec};
pub use summary::{alert_markdown, summary_markdown, summary_plain};
pub use webhook::WebhookSpec;
pub use wecom::WeComSpec;

/// Counts shown to the township for one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListCounts {
    pub total: usize,
    pub new: usize,
    pub reopened: usize,
    pub high_priority: usize,
}

/// What one township receives for one cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct ListDelivery {
    /// Stable per (township, cycle, channel); the same on every retry.
    pub idempotency_key: String,
    /// County name, e.g. "南安市".
    pub county: String,
    /// Cycle label, e.g. "2025年06月".
    pub cycle: String,
    /// `None` = the county list of leads that could not be placed in a township.
    pub township_code: Option<TownshipCode>,
    pub township_name: String,
    pub counts: ListCounts,
    /// JSON array of lead objects (opaque here).
    pub leads: serde_json::Value,
    /// The township's Excel file, already written.
    pub xlsx_path: PathBuf,
    /// A link to the Excel where the county publishes one.
    pub xlsx_url: Option<String>,
    /// What this version corrects (`None`: the cycle's first version).
    pub correction: Option<super::correction::Correction>,
    /// 反馈时限 as printed on the list (`2025年07月15日前`).
    pub deadline: Option<String>,
}

/// A message to the county operator (a channel failed for good, etc.).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub idempotency_key: String,
    pub title: String,
    pub text: String,
}

/// A clearly marked test message (`yingbao deliver --test <channel>`): it carries no list
/// and asks nothing of whoever reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct TestMessage {
    /// Unique per test (the channel id and the time): a test is never deduplicated away.
    pub idempotency_key: String,
    /// The configured channel id the test goes through.
    pub channel_id: String,
    pub county: String,
    /// The Chinese text shown to whoever reads it ([`test_text`]).
    pub text: String,
    /// When the test was made, file-name safe (`20250630-142501`), in the county's zone.
    pub stamp: String,
}

/// The text of a test message: marked as a test in its first characters.
pub fn test_text(channel_id: &str, county: &str, local_time: &str) -> String {
    format!(
        "【测试消息】应报（yingbao）投递通道测试：{channel_id}，{county}，{local_time}。此消息仅用于测试，无需处理。"
    )
}

/// What one call to [`send`] delivers.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    List(&'a ListDelivery),
    Alert(&'a Alert),
    Test(&'a TestMessage),
}

impl Payload<'_> {
    /// The idempotency key of the list or alert.
    pub fn idempotency_key(&self) -> &str {
        match self {
            Payload::List(d) => &d.idempotency_key,
            Payload::Alert(a) => &a.idempotency_key,
            Payload::Test(t) => &t.idempotency_key,
        }
    }
}

/// One configured delivery channel. Externally tagged, e.g. `{"webhook": {"url": "…"}}`
/// (TOML: `[channel.webhook]`); externally tagged so numbers survive serde_json's
/// `arbitrary_precision`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelSpec {
    Folder(FolderSpec),
    Webhook(WebhookSpec),
    #[serde(rename = "wecom")]
    WeCom(WeComSpec),
    #[serde(rename = "dingtalk")]
    DingTalk(DingTalkSpec),
    Smtp(SmtpSpec),
}

impl ChannelSpec {
    /// Short English name of the channel kind, used in logs and error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ChannelSpec::Folder(_) => "folder",
            ChannelSpec::Webhook(_) => "webhook",
            ChannelSpec::WeCom(_) => "wecom",
            ChannelSpec::DingTalk(_) => "dingtalk",
            ChannelSpec::Smtp(_) => "smtp",
        }
    }
}

/// Proof of a successful attempt, e.g. "HTTP 200", "copied to …", "250 queued".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub detail: String,
}

/// Whether a failed attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Network trouble, rate limits, server errors: try again later.
    Retryable,
    /// Configuration or rejection: retrying the same thing will fail again.
    Permanent,
}

/// A failed attempt. `message` is English, names the channel and what failed, and never
/// contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub kind: ErrorKind,
    pub message: String,
    /// A server-requested delay before the next attempt (Retry-After, rate limits).
    pub retry_after: Option<Duration>,
}

impl SendError {
    pub fn retryable(message: impl Into<String>) -> Self {
        SendError {
            kind: ErrorKind::Retryable,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        SendError {
            kind: ErrorKind::Permanent,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retryable
    }

    /// Replaces every occurrence of each secret in the message with `***`.
    fn redacted(mut self, secrets: &[String]) -> Self {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            if self.message.contains(secret.as_str()) {
                self.message = self.message.replace(secret.as_str(), "***");
            }
        }
        self
    }
}

/// Looks up environment variables by name (secrets are never stored in specs).
pub type Env<'e> = &'e (dyn Fn(&str) -> Option<String> + Sync);

/// Makes one delivery attempt of `payload` over the channel `spec`.
pub async fn send(
    spec: &ChannelSpec,
    payload: Payload<'_>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Receipt, SendError> {
    send_resuming(spec, payload, env, &mut Vec::new()).await
}

/// [`send`] for a delivery made of several visible steps (WeCom: the summary message, then
/// the file): steps named in `done` were completed by an earlier attempt and are skipped;
/// every step this attempt completes is added to `done`, also when a later step fails, so a
/// retry does not post the same message to the group twice.
pub async fn send_resuming(
    spec: &ChannelSpec,
    payload: Payload<'_>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    done: &mut Vec<String>,
) -> Result<Receipt, SendError> {
    let channel = spec.kind_name();
    let key = payload.idempotency_key();
    let result = match spec {
        ChannelSpec::Folder(s) => folder::send(s, payload).await,
        ChannelSpec::Webhook(s) => webhook::send(s, payload, env).await,
        ChannelSpec::WeCom(s) => wecom::send(s, payload, env, done).await,
        ChannelSpec::DingTalk(s) => dingtalk::send(s, payload, env).await,
        ChannelSpec::Smtp(s) => smtp::send(s, payload, env).await,
    };
    match &result {
        Ok(receipt) => {
            tracing::info!(channel, idempotency_key = key, detail = %receipt.detail, "delivery succeeded")
        }
        Err(e) => tracing::warn!(
            channel,
            idempotency_key = key,
            kind = ?e.kind,
            retry_after_secs = e.retry_after.map(|d| d.as_secs()),
            error = %e.message,
            "delivery failed"
        ),
    }
    result
}

/// Whether a channel could be reached now, without delivering anything: a folder exists
/// (or can be created) and takes a file; an HTTP channel's host resolves and accepts a TCP
/// connection (and a TLS handshake for https); an SMTP server answers EHLO (and STARTTLS and
/// AUTH when configured). Secrets are read as [`send`] reads them, so an unset variable fails
/// here as it would there. `Ok` says what was reached.
pub async fn reach(
    spec: &ChannelSpec,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Receipt, SendError> {
    match spec {
        ChannelSpec::Folder(s) => folder::reach(s).await,
        ChannelSpec::Webhook(s) => webhook::reach(s, env).await,
        ChannelSpec::WeCom(s) => wecom::reach(s, env).await,
        ChannelSpec::DingTalk(s) => dingtalk::reach(s, env).await,
        ChannelSpec::Smtp(s) => smtp::reach(s, env).await,
    }
}

/// Reads a required environment variable; missing or empty is a Permanent error naming it.
fn require_env(env: Env<'_>, channel: &str, field: &str, var: &str) -> Result<String, SendError> {
    match env(var) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(SendError::permanent(format!(
            "{channel}: environment variable {var} (named by {field}) is not set"
        ))),
    }
}

/// Reads an optional environment variable named by an optional spec field.
fn optional_env(
    env: Env<'_>,
    channel: &str,
    field: &str,
    var: Option<&str>,
) -> Result<Option<String>, SendError> {
    var.map(|v| require_env(env, channel, field, v)).transpose()
}

/// The file name of the Excel, or a Permanent error.
fn xlsx_file_name(channel: &str, d: &ListDelivery) -> Result<String, SendError> {
    d.xlsx_path
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            SendError::permanent(format!(
                "{channel}: Excel path {} has no usable file name",
                d.xlsx_path.display()
            ))
        })
}

/// Reads the Excel file into memory.
async fn read_xlsx(channel: &str, d: &ListDelivery) -> Result<Vec<u8>, SendError> {
    tokio::fs::read(&d.xlsx_path).await.map_err(|e| {
        SendError::permanent(format!(
            "{channel}: cannot read Excel {}: {e}",
            d.xlsx_path.display()
        ))
    })
}

/// The JSON document describing a list or an alert (webhook body, folder manifest).
fn payload_json(channel: &str, payload: Payload<'_>) -> Result<serde_json::Value, SendError> {
    Ok(match payload {
        Payload::List(d) => serde_json::json!({
            "kind": "lead_list",
            "idempotency_key": d.idempotency_key,
            "county": d.county,
            "cycle": d.cycle,
            "township_code": d.township_code,
            "township_name": d.township_name,
            "counts": d.counts,
            "xlsx_url": d.xlsx_url,
            "xlsx_file_name": xlsx_file_name(channel, d)?,
            "version": d.correction.as_ref().map_or(1, |c| c.version),
            "correction": d.correction,
            "deadline": d.deadline,
            "leads": d.leads,
        }),
        Payload::Alert(a) => serde_json::json!({
            "kind": "alert",
            "idempotency_key": a.idempotency_key,
            "title": a.title,
            "text": a.text,
        }),
        Payload::Test(t) => serde_json::json!({
            "kind": "test",
            "test": true,
            "idempotency_key": t.idempotency_key,
            "channel": t.channel_id,
            "county": t.county,
            "text": t.text,
        }),
    })
}

fn default_timeout_secs() -> u64 {
    30
}
