//! HTTP plumbing shared by the webhook and robot channels: client construction,
//! status/Retry-After classification, robot `errcode` replies, and secret-free error text.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use super::SendError;

/// Builds a client with the channel's timeout; redirects are not followed (a redirected
/// POST would silently lose its body).
pub(super) fn client(channel: &str, timeout_secs: u64) -> Result<reqwest::Client, SendError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout_secs.max(1)))
        .connect_timeout(Duration::from_secs(timeout_secs.clamp(1, 10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("yingbao/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            SendError::permanent(format!(
                "{channel}: cannot build HTTP client: {}",
                chain(&e)
            ))
        })
}

/// Parses a URL from a spec; the URL itself may be shown (secrets go in later).
pub(super) fn parse_url(channel: &str, field: &str, raw: &str) -> Result<url::Url, SendError> {
    url::Url::parse(raw)
        .map_err(|e| SendError::permanent(format!("{channel}: invalid {field} {raw:?}: {e}")))
}

/// Maps a transport-level reqwest error (no URL, so no query-string secret, in the text).
pub(super) fn request_error(
    channel: &str,
    step: &str,
    timeout_secs: u64,
    e: reqwest::Error,
) -> SendError {
    let e = e.without_url();
    if e.is_timeout() {
        SendError::retryable(format!(
            "{channel}: {step} timed out after {timeout_secs} s"
        ))
    } else if e.is_connect() {
        SendError::retryable(format!(
            "{channel}: {step} could not connect: {}",
            chain(&e)
        ))
    } else if e.is_builder() {
        SendError::permanent(format!(
            "{channel}: {step} request is invalid: {}",
            chain(&e)
        ))
    } else {
        SendError::retryable(format!("{channel}: {step} failed: {}", chain(&e)))
    }
}

/// Classifies a non-success HTTP status: 408/425/429/5xx Retryable (429/503 with
/// Retry-After), anything else Permanent.
pub(super) fn status_error(
    channel: &str,
    step: &str,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &str,
) -> SendError {
    let snippet = snippet(body);
    let message = format!(
        "{channel}: {step} returned HTTP {}{snippet}",
        status.as_u16()
    );
    match status.as_u16() {
        429 | 503 => SendError::retryable(message).with_retry_after(retry_after(headers)),
        408 | 425 | 500..=599 => SendError::retryable(message),
        _ => SendError::permanent(message),
    }
}

/// Parses `Retry-After` as delay-seconds or an HTTP date.
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let delta = when.timestamp() - chrono::Utc::now().timestamp();
    Some(Duration::from_secs(delta.max(0).unsigned_abs()))
}

/// The body of a WeCom or DingTalk robot reply.
#[derive(Debug, Deserialize)]
pub(super) struct RobotReply {
    pub errcode: i64,
    #[serde(default)]
    pub errmsg: String,
    #[serde(default)]
    pub media_id: Option<String>,
}

/// Sends a request and reads a robot reply; HTTP failures map as for the webhook.
pub(super) async fn robot_call(
    channel: &str,
    step: &str,
    timeout_secs: u64,
    request: reqwest::RequestBuilder,
) -> Result<RobotReply, SendError> {
    let response = request
        .send()
        .await
        .map_err(|e| request_error(channel, step, timeout_secs, e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .map_err(|e| request_error(channel, step, timeout_secs, e))?;
    if !status.is_success() {
        return Err(status_error(channel, step, status, &headers, &body));
    }
    serde_json::from_str::<RobotReply>(&body).map_err(|e| {
        SendError::permanent(format!(
            "{channel}: {step} returned HTTP {} with an unexpected body ({e}){}",
            status.as_u16(),
            snippet(&body)
        ))
    })
}

/// A short, single-line excerpt of a response body for error messages.
pub(super) fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return String::new();
    }
    let cut = truncate_utf8(&flat, 200);
    if cut.len() < flat.len() {
        format!(": {cut}…")
    } else {
        format!(": {cut}")
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub(super) fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// An error and its sources, joined with ": ".
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The longest a reachability probe waits for one step, whatever the channel's timeout.
const REACH_TIMEOUT_MAX_SECS: u64 = 5;

/// Whether `url`'s host resolves and accepts a TCP connection (and, for https, a TLS
/// handshake, made with a bodyless `HEAD /` on the origin, never the endpoint). Nothing is
/// posted. `Ok` says what was reached; the error says whether DNS, the connection or TLS
/// failed. The URL's path and query (where robot keys go) are never shown.
pub(super) async fn reach(
    channel: &str,
    field: &str,
    url: &url::Url,
    timeout_secs: u64,
) -> Result<String, SendError> {
    let secs = timeout_secs.clamp(1, REACH_TIMEOUT_MAX_SECS);
    let wait = Duration::from_secs(secs);
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| SendError::permanent(format!("{channel}: {field} has no host")))?;
    let port = url.port_or_known_default().ok_or_else(|| {
        SendError::permanent(format!(
            "{channel}: {field} has no port and `{}` has no default one",
            url.scheme()
        ))
    })?;
    let target = format!("{host}:{port}");
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(wait, tokio::net::lookup_host(target.as_str())).await {
            Err(_) => {
                return Err(SendError::retryable(format!(
                    "{channel}: resolving {host} timed out after {secs} s"
                )))
            }
            Ok(Err(e)) => {
                return Err(SendError::retryable(format!(
                    "{channel}: cannot resolve {host}: {e}"
                )))
            }
            Ok(Ok(addrs)) => addrs.collect(),
        };
    let mut failure = SendError::retryable(format!("{channel}: {host} resolves to no address"));
    let mut reached = None;
    for addr in &addrs {
        match tokio::time::timeout(wait, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_stream)) => {
                reached = Some(*addr);
                break;
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                failure =
                    SendError::retryable(format!("{channel}: {target} refused the connection"));
            }
            Ok(Err(e)) => {
                failure =
                    SendError::retryable(format!("{channel}: cannot connect to {target}: {e}"));
            }
            Err(_) => {
                failure = SendError::retryable(format!(
                    "{channel}: connecting to {target} timed out after {secs} s"
                ));
            }
        }
    }
    let Some(addr) = reached else {
        return Err(failure);
    };
    let shown = if addr.ip().to_string() == host.trim_matches(['[', ']']) {
        target.clone()
    } else {
        format!("{target} ({})", addr.ip())
    };
    if url.scheme() != "https" {
        return Ok(format!("TCP connection to {shown} opened; nothing sent"));
    }
    let mut origin = url.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    let response = client(channel, secs)?
        .head(origin)
        .send()
        .await
        .map_err(|e| request_error(channel, "TLS connection", secs, e))?;
    Ok(format!(
        "TLS connection to {shown} opened (HEAD / answered HTTP {}); no message sent",
        response.status().as_u16()
    ))
}
