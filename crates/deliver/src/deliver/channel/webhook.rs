//! Generic webhook channel: POSTs the list (or alert) as JSON with an Idempotency-Key and,
//! when a secret is configured, an HMAC-SHA256 signature over "<timestamp>.<body>".

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{http, optional_env, payload_json, Env, Payload, Receipt, SendError};

const CHANNEL: &str = "webhook";

/// A county or township system that accepts lead lists over HTTPS.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    pub url: String,
    /// Name of the environment variable holding the signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default = "super::default_timeout_secs")]
    pub timeout_secs: u64,
}

pub(super) async fn send(
    spec: &WebhookSpec,
    payload: Payload<'_>,
    env: Env<'_>,
) -> Result<Receipt, SendError> {
    let secret = optional_env(env, CHANNEL, "secret_env", spec.secret_env.as_deref())?;
    let secrets: Vec<String> = secret.iter().cloned().collect();
    attempt(spec, payload, secret.as_deref())
        .await
        .map_err(|e| e.redacted(&secrets))
}

/// Reaches the webhook's host without posting (see [`super::reach`]).
pub(super) async fn reach(spec: &WebhookSpec, env: Env<'_>) -> Result<Receipt, SendError> {
    // The secret is read as for sending: an unset variable fails here too.
    optional_env(env, CHANNEL, "secret_env", spec.secret_env.as_deref())?;
    let url = http::parse_url(CHANNEL, "url", &spec.url)?;
    let detail = http::reach(CHANNEL, "url", &url, spec.timeout_secs).await?;
    Ok(Receipt { detail })
}

async fn attempt(
    spec: &WebhookSpec,
    payload: Payload<'_>,
    secret: Option<&str>,
) -> Result<Receipt, SendError> {
    let url = http::parse_url(CHANNEL, "url", &spec.url)?;
    let body = serde_json::to_vec(&payload_json(CHANNEL, payload)?)
        .map_err(|e| SendError::permanent(format!("{CHANNEL}: cannot encode body: {e}")))?;
    let timestamp = chrono::Utc::now().timestamp().to_string();

    let client = http::client(CHANNEL, spec.timeout_secs)?;
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", payload.idempotency_key())
        .header("X-Yingbao-Timestamp", &timestamp);
    if let Some(secret) = secret {
        request = request.header("X-Yingbao-Signature", signature(secret, &timestamp, &body)?);
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|e| http::request_error(CHANNEL, "POST", spec.timeout_secs, e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(Receipt {
            detail: format!("HTTP {}", status.as_u16()),
        });
    }
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Err(http::status_error(CHANNEL, "POST", status, &headers, &text))
}

/// `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
fn signature(secret: &str, timestamp: &str, body: &[u8]) -> Result<String, SendError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| SendError::permanent(format!("{CHANNEL}: signing secret is unusable")))?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}
