//! WeCom (企业微信) group-robot channel: posts the markdown summary, uploads the Excel as
//! media and posts it as a file message; alerts are markdown only.

use serde::Deserialize;

use super::http::{self, RobotReply};
use super::{
    alert_markdown, read_xlsx, require_env, summary_markdown, xlsx_file_name, Env, ListDelivery,
    Payload, Receipt, SendError,
};

const CHANNEL: &str = "wecom";
/// WeCom rejects markdown content longer than this many bytes.
pub(super) const MARKDOWN_LIMIT: usize = 4096;
const TRUNCATED: &str = "\n\n……（内容过长，已截断）";
/// errcode for "API freq out of limit" (a robot may send 20 messages a minute).
const RATE_LIMITED: i64 = 45009;
/// errcode for "system busy".
const BUSY: i64 = -1;

/// A WeCom group robot, addressed by its webhook key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeComSpec {
    /// Name of the environment variable holding the robot's webhook key.
    pub key_env: String,
    #[serde(default = "default_url")]
    pub url: String,
    #[serde(default = "default_upload_url")]
    pub upload_url: String,
    #[serde(default = "super::default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_url() -> String {
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send".to_owned()
}

fn default_upload_url() -> String {
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/upload_media".to_owned()
}

/// The visible steps, as recorded in `done` (see `send_resuming`).
const STEP_MARKDOWN: &str = "wecom:markdown";
const STEP_FILE: &str = "wecom:file";

pub(super) async fn send(
    spec: &WeComSpec,
    payload: Payload<'_>,
    env: Env<'_>,
    done: &mut Vec<String>,
) -> Result<Receipt, SendError> {
    let key = require_env(env, CHANNEL, "key_env", &spec.key_env)?;
    attempt(spec, payload, &key, done)
        .await
        .map_err(|e| e.redacted(std::slice::from_ref(&key)))
}

/// Reaches the robot's host (and the upload host, if another) without posting.
pub(super) async fn reach(spec: &WeComSpec, env: Env<'_>) -> Result<Receipt, SendError> {
    require_env(env, CHANNEL, "key_env", &spec.key_env)?;
    let send_url = http::parse_url(CHANNEL, "url", &spec.url)?;
    let upload_url = http::parse_url(CHANNEL, "upload_url", &spec.upload_url)?;
    let mut detail = http::reach(CHANNEL, "url", &send_url, spec.timeout_secs).await?;
    let origin = |u: &url::Url| {
        (
            u.scheme().to_owned(),
            u.host_str().map(str::to_owned),
            u.port_or_known_default(),
        )
    };
    if origin(&upload_url) != origin(&send_url) {
        let upload = http::reach(CHANNEL, "upload_url", &upload_url, spec.timeout_secs).await?;
        detail = format!("{detail}; upload: {upload}");
    }
    Ok(Receipt { detail })
}

async fn attempt(
    spec: &WeComSpec,
    payload: Payload<'_>,
    key: &str,
    done: &mut Vec<String>,
) -> Result<Receipt, SendError> {
    let client = http::client(CHANNEL, spec.timeout_secs)?;
    let mut send_url = http::parse_url(CHANNEL, "url", &spec.url)?;
    send_url.query_pairs_mut().append_pair("key", key);

    let content = match payload {
        Payload::List(d) => summary_markdown(d),
        Payload::Alert(a) => alert_markdown(a),
        Payload::Test(t) => t.text.clone(),
    };
    let markdown = serde_json::json!({
        "msgtype": "markdown",
        "markdown": { "content": truncate_markdown(&content) },
    });
    let mut sent = Vec::new();
    if !done.iter().any(|s| s == STEP_MARKDOWN) {
        robot(
            spec,
            "markdown message",
            client.post(send_url.clone()).json(&markdown),
        )
        .await?;
        done.push(STEP_MARKDOWN.to_owned());
        sent.push("markdown");
    }

    let Payload::List(d) = payload else {
        return Ok(Receipt {
            detail: "errcode 0 (markdown)".to_owned(),
        });
    };
    if !done.iter().any(|s| s == STEP_FILE) {
        let media_id = upload(spec, &client, d, key).await?;
        let file = serde_json::json!({ "msgtype": "file", "file": { "media_id": media_id } });
        robot(spec, "file message", client.post(send_url).json(&file)).await?;
        done.push(STEP_FILE.to_owned());
        sent.push("file");
    }
    Ok(Receipt {
        detail: format!("errcode 0 ({})", sent.join(", ")),
    })
}

/// Uploads the Excel and returns its media id.
async fn upload(
    spec: &WeComSpec,
    client: &reqwest::Client,
    d: &ListDelivery,
    key: &str,
) -> Result<String, SendError> {
    let mut url = http::parse_url(CHANNEL, "upload_url", &spec.upload_url)?;
    url.query_pairs_mut()
        .append_pair("key", key)
        .append_pair("type", "file");
    let file_name = xlsx_file_name(CHANNEL, d)?;
    let bytes = read_xlsx(CHANNEL, d).await?;
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(file_name)
        .mime_str("application/octet-stream")
        .map_err(|e| SendError::permanent(format!("{CHANNEL}: cannot build upload: {e}")))?;
    // Raw UTF-8 file name, as browsers send it, so the Chinese name shows in the group.
    let form = reqwest::multipart::Form::new()
        .percent_encode_noop()
        .part("media", part);
    let reply = robot(spec, "media upload", client.post(url).multipart(form)).await?;
    reply.media_id.filter(|id| !id.is_empty()).ok_or_else(|| {
        SendError::permanent(format!("{CHANNEL}: media upload returned no media_id"))
    })
}

/// One robot call; a non-zero errcode is an error.
async fn robot(
    spec: &WeComSpec,
    step: &str,
    request: reqwest::RequestBuilder,
) -> Result<RobotReply, SendError> {
    let reply = http::robot_call(CHANNEL, step, spec.timeout_secs, request).await?;
    if reply.errcode == 0 {
        return Ok(reply);
    }
    let message = format!(
        "{CHANNEL}: {step} rejected with errcode {}: {}",
        reply.errcode, reply.errmsg
    );
    Err(match reply.errcode {
        RATE_LIMITED => {
            SendError::retryable(message).with_retry_after(Some(std::time::Duration::from_secs(60)))
        }
        BUSY => SendError::retryable(message),
        _ => SendError::permanent(message),
    })
}

/// Cuts markdown to WeCom's byte limit at a char boundary, marking the cut.
pub(super) fn truncate_markdown(content: &str) -> String {
    if content.len() <= MARKDOWN_LIMIT {
        return content.to_owned();
    }
    let kept = http::truncate_utf8(content, MARKDOWN_LIMIT - TRUNCATED.len());
    format!("{kept}{TRUNCATED}")
}
