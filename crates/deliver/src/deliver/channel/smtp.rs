//! SMTP e-mail channel (lettre, tokio, rustls with ring): sends the plain-text summary with
//! the Excel attached; alerts are sent as plain text without attachment.

use std::time::Duration;

use base64::Engine as _;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::http::chain;
use super::{
    optional_env, read_xlsx, summary_plain, xlsx_file_name, Alert, Env, ListDelivery, Payload,
    Receipt, SendError, TestMessage,
};

const CHANNEL: &str = "smtp";
const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const IDEMPOTENCY_HEADER: &str = "X-Yingbao-Idempotency-Key";
const FOOTER: &str = "\n（本邮件由应报系统自动发送，请勿直接回复。）\n";

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required, never downgraded).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption (local relays and tests only).
    None,
}

/// A mailbox reached through an SMTP submission server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSpec {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username_env: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    /// Sender, e.g. "应报 <yingbao@example.gov.cn>".
    pub from: String,
    pub to: Vec<String>,
    #[serde(default = "super::default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_port() -> u16 {
    587
}

pub(super) async fn send(
    spec: &SmtpSpec,
    payload: Payload<'_>,
    env: Env<'_>,
) -> Result<Receipt, SendError> {
    let credentials = credentials(spec, env)?;
    let secrets: Vec<String> = credentials.iter().map(|(_, p)| p.clone()).collect();
    attempt(spec, payload, credentials)
        .await
        .map_err(|e| e.redacted(&secrets))
}

/// The user name and password, when both variables are named (and set).
fn credentials(spec: &SmtpSpec, env: Env<'_>) -> Result<Option<(String, String)>, SendError> {
    let username = optional_env(env, CHANNEL, "username_env", spec.username_env.as_deref())?;
    let password = optional_env(env, CHANNEL, "password_env", spec.password_env.as_deref())?;
    match (username, password) {
        (Some(u), Some(p)) => Ok(Some((u, p))),
        (None, None) => Ok(None),
        _ => Err(SendError::permanent(format!(
            "{CHANNEL}: username_env and password_env must be set together"
        ))),
    }
}

/// Connects, says EHLO, upgrades with STARTTLS or speaks TLS as configured, and
/// authenticates when credentials are named; then NOOP and QUIT. No mail is sent.
pub(super) async fn reach(spec: &SmtpSpec, env: Env<'_>) -> Result<Receipt, SendError> {
    let credentials = credentials(spec, env)?;
    let secrets: Vec<String> = credentials.iter().map(|(_, p)| p.clone()).collect();
    let authenticated = credentials.is_some();
    let transport = transport(spec, credentials).map_err(|e| e.redacted(&secrets))?;
    let overall = Duration::from_secs(spec.timeout_secs.clamp(1, 5).saturating_mul(4));
    let answered = tokio::time::timeout(overall, transport.test_connection())
        .await
        .map_err(|_| {
            SendError::retryable(format!(
                "{CHANNEL}: connecting to {}:{} timed out after {} s",
                spec.host,
                spec.port,
                overall.as_secs()
            ))
        })?
        .map_err(|e| {
            let mut err = smtp_error(spec, &e);
            err.message = format!(
                "{CHANNEL}: connecting to {}:{} failed: {}",
                spec.host,
                spec.port,
                chain(&e)
            );
            err.redacted(&secrets)
        })?;
    if !answered {
        return Err(SendError::retryable(format!(
            "{CHANNEL}: {}:{} did not answer NOOP",
            spec.host, spec.port
        )));
    }
    let security = match spec.security {
        SmtpSecurity::Starttls => ", STARTTLS",
        SmtpSecurity::Tls => ", TLS",
        SmtpSecurity::None => "",
    };
    let auth = if authenticated { ", AUTH" } else { "" };
    Ok(Receipt {
        detail: format!(
            "{}:{} answered EHLO{security}{auth}; no mail sent",
            spec.host, spec.port
        ),
    })
}

async fn attempt(
    spec: &SmtpSpec,
    payload: Payload<'_>,
    credentials: Option<(String, String)>,
) -> Result<Receipt, SendError> {
    let message = match payload {
        Payload::List(d) => list_message(spec, d).await?,
        Payload::Alert(a) => alert_message(spec, a)?,
        Payload::Test(t) => test_message(spec, t)?,
    };
    let transport = transport(spec, credentials)?;
    // lettre's timeout is per command; bound the whole exchange as well.
    let overall = Duration::from_secs(spec.timeout_secs.max(1).saturating_mul(4));
    let response = tokio::time::timeout(overall, transport.send(message))
        .await
        .map_err(|_| {
            SendError::retryable(format!(
                "{CHANNEL}: sending via {}:{} timed out after {} s",
                spec.host,
                spec.port,
                overall.as_secs()
            ))
        })?
        .map_err(|e| smtp_error(spec, &e))?;
    let text: Vec<&str> = response.message().collect();
    Ok(Receipt {
        detail: format!("{} {}", response.code(), text.join(" "))
            .trim()
            .to_owned(),
    })
}

fn transport(
    spec: &SmtpSpec,
    credentials: Option<(String, String)>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let builder = match spec.security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&spec.host),
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&spec.host),
        SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            spec.host.as_str(),
        )),
    }
    .map_err(|e| {
        SendError::permanent(format!(
            "{CHANNEL}: cannot set up TLS for {}: {}",
            spec.host,
            chain(&e)
        ))
    })?;
    let mut builder = builder
        .port(spec.port)
        .timeout(Some(Duration::from_secs(spec.timeout_secs.max(1))));
    if let Some((user, pass)) = credentials {
        builder = builder.credentials(Credentials::new(user, pass));
    }
    Ok(builder.build())
}

/// 4xx and connection trouble are Retryable; 5xx, TLS and client-side problems Permanent.
fn smtp_error(spec: &SmtpSpec, e: &lettre::transport::smtp::Error) -> SendError {
    let message = format!(
        "{CHANNEL}: sending via {}:{} failed: {}",
        spec.host,
        spec.port,
        chain(e)
    );
    if e.is_permanent() {
        SendError::permanent(message)
    } else if e.is_transient() || e.is_timeout() {
        SendError::retryable(message)
    } else if e.is_tls() || e.is_client() {
        SendError::permanent(message)
    } else {
        SendError::retryable(message)
    }
}

async fn list_message(spec: &SmtpSpec, d: &ListDelivery) -> Result<Message, SendError> {
    let subject = format!(
        "【应报】{} {} {} 职业病危害项目申报线索（{}条）",
        d.county, d.cycle, d.township_name, d.counts.total
    );
    let file_name = xlsx_file_name(CHANNEL, d)?;
    let bytes = read_xlsx(CHANNEL, d).await?;
    let body = format!("{}{FOOTER}", summary_plain(d));
    let attachment = Attachment::new(file_name.clone()).body(bytes, xlsx_content_type(&file_name)?);
    let multipart = MultiPart::mixed()
        .singlepart(SinglePart::plain(body))
        .singlepart(attachment);
    builder(spec, &d.idempotency_key, subject)?
        .multipart(multipart)
        .map_err(|e| SendError::permanent(format!("{CHANNEL}: cannot build message: {e}")))
}

fn alert_message(spec: &SmtpSpec, a: &Alert) -> Result<Message, SendError> {
    let subject = format!("【应报告警】{}", a.title);
    let body = format!("{}\n\n{}\n{FOOTER}", a.title, a.text);
    builder(spec, &a.idempotency_key, subject)?
        .singlepart(SinglePart::plain(body))
        .map_err(|e| SendError::permanent(format!("{CHANNEL}: cannot build message: {e}")))
}

fn test_message(spec: &SmtpSpec, t: &TestMessage) -> Result<Message, SendError> {
    let subject = format!("【测试消息】应报投递通道测试：{}", t.channel_id);
    let body = format!("{}\n{FOOTER}", t.text);
    builder(spec, &t.idempotency_key, subject)?
        .singlepart(SinglePart::plain(body))
        .map_err(|e| SendError::permanent(format!("{CHANNEL}: cannot build message: {e}")))
}

/// Headers shared by lists and alerts, including a Message-ID derived from the key (the
/// same on every retry) and the key itself in `X-Yingbao-Idempotency-Key`.
fn builder(
    spec: &SmtpSpec,
    key: &str,
    subject: String,
) -> Result<lettre::message::MessageBuilder, SendError> {
    let from: Mailbox = spec.from.parse().map_err(|e| {
        SendError::permanent(format!(
            "{CHANNEL}: invalid from address {:?}: {e}",
            spec.from
        ))
    })?;
    if spec.to.is_empty() {
        return Err(SendError::permanent(format!(
            "{CHANNEL}: no recipients in to"
        )));
    }
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    let domain = from.email.domain().to_owned();
    let header_name = HeaderName::new_from_ascii_str(IDEMPOTENCY_HEADER);
    let mut builder = Message::builder()
        .from(from)
        .subject(subject)
        .message_id(Some(format!("<{}.yingbao@{domain}>", &digest[..32])))
        .raw_header(HeaderValue::new(header_name, key.to_owned()))
        .date_now();
    for to in &spec.to {
        let mailbox: Mailbox = to.parse().map_err(|e| {
            SendError::permanent(format!("{CHANNEL}: invalid to address {to:?}: {e}"))
        })?;
        builder = builder.to(mailbox);
    }
    Ok(builder)
}

/// The xlsx content type with an RFC 2047 `name` parameter for older clients (the
/// Content-Disposition lettre writes carries the RFC 2231 `filename*`).
fn xlsx_content_type(file_name: &str) -> Result<ContentType, SendError> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(file_name.as_bytes());
    ContentType::parse(&format!("{XLSX_MIME}; name=\"=?UTF-8?B?{encoded}?=\""))
        .or_else(|_| ContentType::parse(XLSX_MIME))
        .map_err(|e| SendError::permanent(format!("{CHANNEL}: invalid content type: {e}")))
}
