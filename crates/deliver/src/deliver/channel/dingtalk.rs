//! DingTalk (钉钉) custom-robot channel: posts the markdown summary (with the Excel link,
//! since the robot cannot carry files), signed with DingTalk's timestamp+secret scheme.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::http;
use super::{
    alert_markdown, optional_env, require_env, summary_markdown, Env, Payload, Receipt, SendError,
};

const CHANNEL: &str = "dingtalk";
/// errcode for "send too fast" (a robot may send 20 messages a minute).
const TOO_FAST: i64 = 130101;
/// errcode for "system busy".
const BUSY: i64 = -1;
/// DingTalk's documented markdown limit is 20000 bytes.
const MARKDOWN_LIMIT: usize = 20_000;

/// A DingTalk group custom robot.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DingTalkSpec {
    /// Name of the environment variable holding the robot's access_token.
    pub token_env: String,
    /// Name of the environment variable holding the robot's signing secret ("加签").
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default = "default_url")]
    pub url: String,
    #[serde(default = "super::default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_url() -> String {
    "https://oapi.dingtalk.com/robot/send".to_owned()
}

pub(super) async fn send(
    spec: &DingTalkSpec,
    payload: Payload<'_>,
    env: Env<'_>,
) -> Result<Receipt, SendError> {
    let token = require_env(env, CHANNEL, "token_env", &spec.token_env)?;
    let secret = optional_env(env, CHANNEL, "secret_env", spec.secret_env.as_deref())?;
    let mut secrets = vec![token.clone()];
    secrets.extend(secret.iter().cloned());
    attempt(spec, payload, &token, secret.as_deref())
        .await
        .map_err(|e| e.redacted(&secrets))
}

/// Reaches the robot's host without posting; the token and secret are read as for sending.
pub(super) async fn reach(spec: &DingTalkSpec, env: Env<'_>) -> Result<Receipt, SendError> {
    require_env(env, CHANNEL, "token_env", &spec.token_env)?;
    optional_env(env, CHANNEL, "secret_env", spec.secret_env.as_deref())?;
    let url = http::parse_url(CHANNEL, "url", &spec.url)?;
    let detail = http::reach(CHANNEL, "url", &url, spec.timeout_secs).await?;
    Ok(Receipt { detail })
}

async fn attempt(
    spec: &DingTalkSpec,
    payload: Payload<'_>,
    token: &str,
    secret: Option<&str>,
) -> Result<Receipt, SendError> {
    let mut url = http::parse_url(CHANNEL, "url", &spec.url)?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("access_token", token);
        if let Some(secret) = secret {
            let timestamp = chrono::Utc::now().timestamp_millis().to_string();
            // append_pair form-urlencodes the base64 ('+', '/', '=').
            query
                .append_pair("timestamp", &timestamp)
                .append_pair("sign", &sign(secret, &timestamp)?);
        }
    }

    let (title, text) = match payload {
        Payload::List(d) => (
            format!(
                "{} {} {} 申报线索（{}条）",
                d.county, d.cycle, d.township_name, d.counts.total
            ),
            summary_markdown(d),
        ),
        Payload::Alert(a) => (format!("应报告警：{}", a.title), alert_markdown(a)),
        Payload::Test(t) => ("【测试消息】应报投递通道测试".to_owned(), t.text.clone()),
    };
    let text = http::truncate_utf8(&text, MARKDOWN_LIMIT);
    let body = serde_json::json!({
        "msgtype": "markdown",
        "markdown": { "title": title, "text": text },
    });

    let client = http::client(CHANNEL, spec.timeout_secs)?;
    let reply = http::robot_call(
        CHANNEL,
        "markdown message",
        spec.timeout_secs,
        client.post(url).json(&body),
    )
    .await?;
    if reply.errcode == 0 {
        return Ok(Receipt {
            detail: "errcode 0".to_owned(),
        });
    }
    let message = format!(
        "{CHANNEL}: markdown message rejected with errcode {}: {}",
        reply.errcode, reply.errmsg
    );
    Err(match reply.errcode {
        TOO_FAST => {
            SendError::retryable(message).with_retry_after(Some(std::time::Duration::from_secs(60)))
        }
        BUSY => SendError::retryable(message),
        _ => SendError::permanent(message),
    })
}

/// base64(HMAC-SHA256(secret, "<timestamp>\n<secret>")), not yet URL-encoded.
fn sign(secret: &str, timestamp: &str) -> Result<String, SendError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| SendError::permanent(format!("{CHANNEL}: signing secret is unusable")))?;
    mac.update(format!("{timestamp}\n{secret}").as_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}
