//! Integration tests for the delivery channels against real servers on 127.0.0.1
//! (axum for HTTP robots and webhooks, a minimal hand-written SMTP server).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use yingbao::deliver::channel::{
    send, send_resuming, summary_markdown, Alert, ChannelSpec, DingTalkSpec, ErrorKind, FolderSpec,
    ListCounts, ListDelivery, Payload, SmtpSecurity, SmtpSpec, WeComSpec, WebhookSpec,
};

const XLSX_NAME: &str = "水头镇_2025年06月.xlsx";
const XLSX_BYTES: &[u8] = b"PK\x03\x04 not really an xlsx \x00\x01\x02\xff";
const WEBHOOK_SECRET: &str = "wh-secret-5f2e9c";
const WECOM_KEY: &str = "wecom-key-8a1b7d";
const DING_TOKEN: &str = "ding-token-33c0aa";
const DING_SECRET: &str = "SECding-secret-91fe0b";
const SMTP_PASSWORD: &str = "smtp-pass-77d2e4";
const ALL_SECRETS: [&str; 5] = [
    WEBHOOK_SECRET,
    WECOM_KEY,
    DING_TOKEN,
    DING_SECRET,
    SMTP_PASSWORD,
];

fn env(name: &str) -> Option<String> {
    match name {
        "WH_SECRET" => Some(WEBHOOK_SECRET.into()),
        "WECOM_KEY" => Some(WECOM_KEY.into()),
        "DING_TOKEN" => Some(DING_TOKEN.into()),
        "DING_SECRET" => Some(DING_SECRET.into()),
        "SMTP_USER" => Some("yingbao".into()),
        "SMTP_PASS" => Some(SMTP_PASSWORD.into()),
        "WRONG_SECRET" => Some("not-the-secret".into()),
        _ => None,
    }
}

fn delivery(dir: &Path, key: &str) -> ListDelivery {
    let xlsx_path = dir.join(XLSX_NAME);
    std::fs::write(&xlsx_path, XLSX_BYTES).unwrap();
    ListDelivery {
        idempotency_key: key.to_owned(),
        county: "南安市".into(),
        cycle: "2025年06月".into(),
        township_code: Some("350583104".into()),
        township_name: "水头镇".into(),
        counts: ListCounts {
            total: 12,
            new: 5,
            reopened: 3,
            high_priority: 2,
        },
        leads: json!([{"name": "南安市某石材有限公司", "score": 0.93}]),
        xlsx_path,
        xlsx_url: Some("https://example.gov.cn/yingbao/水头镇_2025年06月.xlsx".into()),
        correction: None,
        deadline: None,
    }
}

fn alert() -> Alert {
    Alert {
        idempotency_key: "alert-2025-06-webhook-350583104".into(),
        title: "水头镇 webhook 投递失败".into(),
        text: "已重试5次仍失败，请人工处理。".into(),
    }
}

fn assert_no_secret(message: &str) {
    for secret in ALL_SECRETS {
        assert!(
            !message.contains(secret),
            "error message leaks a secret: {message}"
        );
    }
}

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

// ---------------------------------------------------------------- webhook

type Recorded = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn webhook_ok(State(rec): State<Recorded>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let ts = headers
        .get("x-yingbao-timestamp")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut signed = ts.as_bytes().to_vec();
    signed.push(b'.');
    signed.extend_from_slice(&body);
    let expected = format!(
        "sha256={}",
        hex::encode(hmac_sha256(WEBHOOK_SECRET.as_bytes(), &signed))
    );
    let given = headers
        .get("x-yingbao-signature")
        .and_then(|v| v.to_str().ok());
    if given != Some(expected.as_str()) {
        return StatusCode::UNAUTHORIZED;
    }
    rec.lock().unwrap().push((headers, body));
    StatusCode::OK
}

async fn webhook_server() -> (SocketAddr, Recorded) {
    let rec: Recorded = Arc::default();
    let router = Router::new()
        .route("/hook", post(webhook_ok))
        .route(
            "/busy",
            post(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", "7")],
                    "busy",
                )
            }),
        )
        .route(
            "/limited",
            post(|| async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "42")], "") }),
        )
        .route(
            "/bad",
            post(|| async { (StatusCode::BAD_REQUEST, "missing field township") }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                StatusCode::OK
            }),
        )
        .with_state(rec.clone());
    (serve(router).await, rec)
}

fn webhook_spec(addr: SocketAddr, path: &str, secret_env: Option<&str>) -> ChannelSpec {
    ChannelSpec::Webhook(WebhookSpec {
        url: format!("http://{addr}{path}"),
        secret_env: secret_env.map(str::to_owned),
        timeout_secs: 1,
    })
}

#[tokio::test]
async fn webhook_posts_signed_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = delivery(dir.path(), "350583104/2025-06/webhook");
    let (addr, rec) = webhook_server().await;
    let spec = webhook_spec(addr, "/hook", Some("WH_SECRET"));

    let receipt = send(&spec, Payload::List(&d), &env).await.unwrap();
    assert_eq!(receipt.detail, "HTTP 200");

    let (headers, body) = rec.lock().unwrap()[0].clone();
    assert_eq!(
        headers.get("idempotency-key").unwrap(),
        "350583104/2025-06/webhook"
    );
    let ts: i64 = headers
        .get("x-yingbao-timestamp")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    assert!(headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));

    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["kind"], "lead_list");
    assert_eq!(v["idempotency_key"], "350583104/2025-06/webhook");
    assert_eq!(v["county"], "南安市");
    assert_eq!(v["cycle"], "2025年06月");
    assert_eq!(v["township_code"], "350583104");
    assert_eq!(v["township_name"], "水头镇");
    assert_eq!(
        v["counts"],
        json!({"total": 12, "new": 5, "reopened": 3, "high_priority": 2})
    );
    assert_eq!(
        v["xlsx_url"],
        "https://example.gov.cn/yingbao/水头镇_2025年06月.xlsx"
    );
    assert_eq!(v["xlsx_file_name"], XLSX_NAME);
    assert_eq!(v["leads"][0]["name"], "南安市某石材有限公司");
}

#[tokio::test]
async fn webhook_posts_alert_and_rejects_wrong_signature() {
    let (addr, rec) = webhook_server().await;
    let a = alert();
    send(
        &webhook_spec(addr, "/hook", Some("WH_SECRET")),
        Payload::Alert(&a),
        &env,
    )
    .await
    .unwrap();
    let (headers, body) = rec.lock().unwrap()[0].clone();
    assert_eq!(
        headers.get("idempotency-key").unwrap(),
        a.idempotency_key.as_str()
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        json!({"kind": "alert", "idempotency_key": a.idempotency_key, "title": a.title, "text": a.text})
    );

    // Signed with the wrong secret: 401 is Permanent.
    let err = send(
        &webhook_spec(addr, "/hook", Some("WRONG_SECRET")),
        Payload::Alert(&a),
        &env,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("401"), "{}", err.message);
    // Unsigned: also rejected.
    let err = send(&webhook_spec(addr, "/hook", None), Payload::Alert(&a), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert_eq!(rec.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn webhook_error_classification() {
    let dir = tempfile::tempdir().unwrap();
    let d = delivery(dir.path(), "k-webhook-errors");
    let (addr, _) = webhook_server().await;

    let err = send(&webhook_spec(addr, "/busy", None), Payload::List(&d), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
    assert!(err.message.starts_with("webhook:"), "{}", err.message);
    assert!(err.message.contains("503"), "{}", err.message);

    let err = send(
        &webhook_spec(addr, "/limited", None),
        Payload::List(&d),
        &env,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.retry_after, Some(Duration::from_secs(42)));

    let err = send(&webhook_spec(addr, "/bad", None), Payload::List(&d), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("400"), "{}", err.message);
    assert!(
        err.message.contains("missing field township"),
        "{}",
        err.message
    );

    let started = Instant::now();
    let err = send(&webhook_spec(addr, "/slow", None), Payload::List(&d), &env)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert!(err.message.contains("timed out"), "{}", err.message);

    let closed = closed_port().await;
    let err = send(
        &webhook_spec(closed, "/hook", Some("WH_SECRET")),
        Payload::List(&d),
        &env,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_no_secret(&err.message);
}

#[tokio::test]
async fn missing_env_var_is_permanent_and_named() {
    let a = alert();
    let spec = ChannelSpec::Webhook(WebhookSpec {
        url: "http://127.0.0.1:9/hook".into(),
        secret_env: Some("YINGBAO_NOT_SET".into()),
        timeout_secs: 1,
    });
    let err = send(&spec, Payload::Alert(&a), &env).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("YINGBAO_NOT_SET"), "{}", err.message);
    assert!(err.message.contains("webhook"), "{}", err.message);
}

// ---------------------------------------------------------------- WeCom

#[derive(Clone, Default)]
struct WeComState {
    steps: Arc<Mutex<Vec<String>>>,
    markdown: Arc<Mutex<Vec<String>>>,
    /// errcode (and errmsg) returned by the send endpoint instead of 0.
    fail: Option<(i64, String)>,
    /// Uploads still to refuse with 45009 (rate limited).
    upload_failures: Arc<Mutex<u32>>,
}

async fn wecom_send(
    State(st): State<WeComState>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    if q.get("key").map(String::as_str) != Some(WECOM_KEY) {
        return Json(json!({"errcode": 93000, "errmsg": "invalid webhook url"}));
    }
    if let Some((code, msg)) = &st.fail {
        return Json(json!({"errcode": code, "errmsg": msg}));
    }
    match body["msgtype"].as_str() {
        Some("markdown") => {
            let content = body["markdown"]["content"].as_str().unwrap().to_owned();
            st.markdown.lock().unwrap().push(content);
            st.steps.lock().unwrap().push("markdown".into());
        }
        Some("file") => {
            assert_eq!(body["file"]["media_id"], "media-42");
            st.steps.lock().unwrap().push("file".into());
        }
        other => panic!("unexpected msgtype {other:?}"),
    }
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn wecom_upload(
    State(st): State<WeComState>,
    Query(q): Query<HashMap<String, String>>,
    mut multipart: Multipart,
) -> Json<Value> {
    assert_eq!(q.get("key").map(String::as_str), Some(WECOM_KEY));
    assert_eq!(q.get("type").map(String::as_str), Some("file"));
    {
        let mut left = st.upload_failures.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            st.steps.lock().unwrap().push("upload refused".into());
            return Json(json!({"errcode": 45009, "errmsg": "api freq out of limit"}));
        }
    }
    let field = multipart.next_field().await.unwrap().unwrap();
    assert_eq!(field.name(), Some("media"));
    assert_eq!(field.file_name(), Some(XLSX_NAME));
    let bytes = field.bytes().await.unwrap();
    assert_eq!(&bytes[..], XLSX_BYTES);
    st.steps.lock().unwrap().push("upload".into());
    Json(
        json!({"errcode": 0, "errmsg": "ok", "type": "file", "media_id": "media-42", "created_at": "1380000000"}),
    )
}

async fn wecom_server(fail: Option<(i64, &str)>) -> (SocketAddr, WeComState) {
    let st = WeComState {
        fail: fail.map(|(c, m)| (c, m.to_owned())),
        ..Default::default()
    };
    let router = Router::new()
        .route("/cgi-bin/webhook/send", post(wecom_send))
        .route("/cgi-bin/webhook/upload_media", post(wecom_upload))
        .with_state(st.clone());
    (serve(router).await, st)
}

fn wecom_spec(addr: SocketAddr) -> ChannelSpec {
    ChannelSpec::WeCom(WeComSpec {
        key_env: "WECOM_KEY".into(),
        url: format!("http://{addr}/cgi-bin/webhook/send"),
        upload_url: format!("http://{addr}/cgi-bin/webhook/upload_media"),
        timeout_secs: 5,
    })
}

#[tokio::test]
async fn wecom_sends_markdown_then_uploads_and_sends_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = delivery(dir.path(), "k-wecom");
    let (addr, st) = wecom_server(None).await;
    send(&wecom_spec(addr), Payload::List(&d), &env)
        .await
        .unwrap();
    assert_eq!(*st.steps.lock().unwrap(), ["markdown", "upload", "file"]);
    let md = st.markdown.lock().unwrap()[0].clone();
    assert_eq!(md, summary_markdown(&d));
    assert!(md.contains("共12条"), "{md}");
}

#[tokio::test]
async fn a_wecom_retry_does_not_post_the_summary_twice() {
    let dir = tempfile::tempdir().unwrap();
    let d = delivery(dir.path(), "k-wecom-resume");
    let (addr, st) = wecom_server(None).await;
    *st.upload_failures.lock().unwrap() = 1;
    let mut done = Vec::new();
    let err = send_resuming(&wecom_spec(addr), Payload::List(&d), &env, &mut done)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(
        done,
        ["wecom:markdown"],
        "the summary went out before the upload failed"
    );
    send_resuming(&wecom_spec(addr), Payload::List(&d), &env, &mut done)
        .await
        .unwrap();
    assert_eq!(done, ["wecom:markdown", "wecom:file"]);
    assert_eq!(
        *st.steps.lock().unwrap(),
        ["markdown", "upload refused", "upload", "file"]
    );
}

#[tokio::test]
async fn wecom_alert_is_markdown_only_and_truncated_at_char_boundary() {
    let (addr, st) = wecom_server(None).await;
    let a = Alert {
        text: "线索".repeat(3000), // 18000 bytes
        ..alert()
    };
    send(&wecom_spec(addr), Payload::Alert(&a), &env)
        .await
        .unwrap();
    assert_eq!(*st.steps.lock().unwrap(), ["markdown"]);
    let md = st.markdown.lock().unwrap()[0].clone();
    assert!(md.len() <= 4096, "{}", md.len());
    assert!(md.len() > 4000, "{}", md.len());
    assert!(md.contains("水头镇 webhook 投递失败"));
    assert!(md.ends_with("已截断）"), "{md}");
}

#[tokio::test]
async fn wecom_errcodes() {
    let dir = tempfile::tempdir().unwrap();
    let d = delivery(dir.path(), "k-wecom-err");

    let (addr, _) = wecom_server(Some((45009, "api freq out of limit"))).await;
    let err = send(&wecom_spec(addr), Payload::List(&d), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert!(err.message.contains("45009"), "{}", err.message);

    // A server that echoes the key back must not leak it into the error.
    let echo = format!("invalid webhook url, key={WECOM_KEY}");
    let (addr, _) = wecom_server(Some((93000, &echo))).await;
    let err = send(&wecom_spec(addr), Payload::List(&d), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("93000"), "{}", err.message);
    assert_no_secret(&err.message);

    let closed = closed_port().await;
    let err = send(&wecom_spec(closed), Payload::List(&d), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_no_secret(&err.message);
}

// ---------------------------------------------------------------- DingTalk

#[derive(Clone, Default)]
struct DingState {
    bodies: Arc<Mutex<Vec<Value>>>,
    too_fast: bool,
}

async fn ding_send(
    State(st): State<DingState>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    if q.get("access_token").map(String::as_str) != Some(DING_TOKEN) {
        return Json(json!({"errcode": 300001, "errmsg": "token is not exist"}));
    }
    let ts = q.get("timestamp").cloned().unwrap_or_default();
    let ts_ms: i64 = ts.parse().unwrap_or(0);
    if (chrono::Utc::now().timestamp_millis() - ts_ms).abs() > 3_600_000 {
        return Json(json!({"errcode": 310000, "errmsg": "timestamp invalid"}));
    }
    let expected = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        DING_SECRET.as_bytes(),
        format!("{ts}\n{DING_SECRET}").as_bytes(),
    ));
    if q.get("sign") != Some(&expected) {
        return Json(json!({"errcode": 310000, "errmsg": "sign not match"}));
    }
    if st.too_fast {
        return Json(json!({"errcode": 130101, "errmsg": "send too fast"}));
    }
    st.bodies.lock().unwrap().push(body);
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn ding_server(too_fast: bool) -> (SocketAddr, DingState) {
    let st = DingState {
        too_fast,
        ..Default::default()
    };
    let router = Router::new()
        .route("/robot/send", post(ding_send))
        .with_state(st.clone());
    (serve(router).await, st)
}

fn ding_spec(addr: SocketAddr, secret_env: &str) -> ChannelSpec {
    ChannelSpec::DingTalk(DingTalkSpec {
        token_env: "DING_TOKEN".into(),
        secret_env: Some(secret_env.into()),
        url: format!("http://{addr}/robot/send"),
        timeout_secs: 5,
    })
}

#[tokio::test]
async fn dingtalk_signed_markdown_with_counts_and_link() {
    let dir = tempfile::tempdir().unwrap();
    let d = delivery(dir.path(), "k-ding");
    let (addr, st) = ding_server(false).await;
    // Several sends so that some signature contains '+', '/' or '=' needing encoding.
    for _ in 0..5 {
        send(&ding_spec(addr, "DING_SECRET"), Payload::List(&d), &env)
            .await
            .unwrap();
    }
    let body = st.bodies.lock().unwrap()[0].clone();
    assert_eq!(body["msgtype"], "markdown");
    assert!(body["markdown"]["title"]
        .as_str()
        .unwrap()
        .contains("水头镇"));
    let text = body["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("共12条"), "{text}");
    assert!(text.contains("新增5条"), "{text}");
    assert!(text.contains("重新列入3条"), "{text}");
    assert!(text.contains("高优先级2条"), "{text}");
    assert!(
        text.contains("https://example.gov.cn/yingbao/水头镇_2025年06月.xlsx"),
        "{text}"
    );
}

#[tokio::test]
async fn dingtalk_errors() {
    let a = alert();
    let (addr, _) = ding_server(false).await;
    let err = send(&ding_spec(addr, "WRONG_SECRET"), Payload::Alert(&a), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("310000"), "{}", err.message);
    assert_no_secret(&err.message);

    let (addr, _) = ding_server(true).await;
    let err = send(&ding_spec(addr, "DING_SECRET"), Payload::Alert(&a), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert!(err.message.contains("130101"), "{}", err.message);

    let closed = closed_port().await;
    let err = send(&ding_spec(closed, "DING_SECRET"), Payload::Alert(&a), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_no_secret(&err.message);
}

// ---------------------------------------------------------------- SMTP

/// A minimal SMTP server: answers `rcpt_reply` to RCPT TO and stores each DATA.
async fn smtp_server(rcpt_reply: &'static str) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let store: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let st = store.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let st = st.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 test.local ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.to_ascii_uppercase();
                    let reply: &str = if cmd.starts_with("EHLO") {
                        "250-test.local\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n"
                    } else if cmd.starts_with("AUTH") {
                        "235 2.7.0 ok\r\n"
                    } else if cmd.starts_with("HELO")
                        || cmd.starts_with("MAIL")
                        || cmd.starts_with("RSET")
                        || cmd.starts_with("NOOP")
                    {
                        "250 ok\r\n"
                    } else if cmd.starts_with("RCPT") {
                        rcpt_reply
                    } else if cmd.starts_with("DATA") {
                        w.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = Vec::new();
                        loop {
                            let mut l = Vec::new();
                            if r.read_until(b'\n', &mut l).await.unwrap() == 0 {
                                return;
                            }
                            if l == b".\r\n" {
                                break;
                            }
                            let l = if l.starts_with(b"..") {
                                &l[1..]
                            } else {
                                &l[..]
                            };
                            data.extend_from_slice(l);
                        }
                        st.lock().unwrap().push(data);
                        "250 2.0.0 queued as 4F2A\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        "502 not implemented\r\n"
                    };
                    w.write_all(reply.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (addr, store)
}

fn smtp_spec(addr: SocketAddr) -> ChannelSpec {
    ChannelSpec::Smtp(SmtpSpec {
        host: addr.ip().to_string(),
        port: addr.port(),
        security: SmtpSecurity::None,
        username_env: Some("SMTP_USER".into()),
        password_env: Some("SMTP_PASS".into()),
        from: "应报 <yingbao@nanan.example.gov.cn>".into(),
        to: vec![
            "水头镇安监站 <shuitou@example.gov.cn>".into(),
            "backup@example.gov.cn".into(),
        ],
        timeout_secs: 5,
    })
}

#[tokio::test]
async fn smtp_sends_mail_with_attachment() {
    let dir = tempfile::tempdir().unwrap();
    let d = delivery(dir.path(), "350583104/2025-06/smtp");
    let (addr, store) = smtp_server("250 ok\r\n").await;
    let receipt = send(&smtp_spec(addr), Payload::List(&d), &env)
        .await
        .unwrap();
    assert!(receipt.detail.starts_with("250"), "{}", receipt.detail);
    assert!(receipt.detail.contains("queued"), "{}", receipt.detail);

    let raw = store.lock().unwrap()[0].clone();
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        msg.subject(),
        Some("【应报】南安市 2025年06月 水头镇 职业病危害项目申报线索（12条）")
    );
    assert_eq!(
        msg.header_raw("X-Yingbao-Idempotency-Key").map(str::trim),
        Some("350583104/2025-06/smtp")
    );
    let mid = msg.message_id().unwrap();
    assert!(mid.ends_with("@nanan.example.gov.cn"), "{mid}");
    let body = msg.body_text(0).unwrap();
    assert!(
        body.contains("共12条，其中新增5条、重新列入3条、高优先级2条"),
        "{body}"
    );
    assert!(body.contains("请逐户核实"), "{body}");
    assert!(!body.contains("**"), "{body}");

    assert_eq!(msg.attachment_count(), 1);
    let att = msg.attachment(0).unwrap();
    assert_eq!(att.attachment_name(), Some(XLSX_NAME));
    assert_eq!(att.contents(), XLSX_BYTES);
    let ct = att.content_type().unwrap();
    assert_eq!(ct.ctype(), "application");
    assert_eq!(
        ct.subtype(),
        Some("vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );

    // Same key on a retry gives the same Message-ID.
    send(&smtp_spec(addr), Payload::List(&d), &env)
        .await
        .unwrap();
    let raw2 = store.lock().unwrap()[1].clone();
    let msg2 = MessageParser::default().parse(&raw2).unwrap();
    assert_eq!(msg2.message_id(), Some(mid));
}

#[tokio::test]
async fn smtp_alert_and_rcpt_errors() {
    let a = alert();
    let (addr, store) = smtp_server("250 ok\r\n").await;
    send(&smtp_spec(addr), Payload::Alert(&a), &env)
        .await
        .unwrap();
    let raw = store.lock().unwrap()[0].clone();
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.subject(), Some("【应报告警】水头镇 webhook 投递失败"));
    assert_eq!(msg.attachment_count(), 0);

    let (addr, _) = smtp_server("451 4.3.0 try again later\r\n").await;
    let err = send(&smtp_spec(addr), Payload::Alert(&a), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable, "{}", err.message);
    assert!(err.message.starts_with("smtp:"), "{}", err.message);
    assert_no_secret(&err.message);

    let (addr, _) = smtp_server("550 5.1.1 no such user\r\n").await;
    let err = send(&smtp_spec(addr), Payload::Alert(&a), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent, "{}", err.message);
    assert_no_secret(&err.message);

    let closed = closed_port().await;
    let err = send(&smtp_spec(closed), Payload::Alert(&a), &env)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Retryable, "{}", err.message);
}

// ---------------------------------------------------------------- folder

#[tokio::test]
async fn folder_copies_with_manifest_once() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let d = delivery(src.path(), "350583104/2025-06/folder");
    let spec = ChannelSpec::Folder(FolderSpec {
        path: out.path().to_path_buf(),
        timeout_secs: 30,
    });

    let first = send(&spec, Payload::List(&d), &env).await.unwrap();
    assert!(first.detail.starts_with("copied to"), "{}", first.detail);
    let cycle_dir = out.path().join("2025年06月");
    assert_eq!(
        std::fs::read(cycle_dir.join(XLSX_NAME)).unwrap(),
        XLSX_BYTES
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(cycle_dir.join("水头镇_2025年06月.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["idempotency_key"], "350583104/2025-06/folder");
    assert_eq!(manifest["kind"], "lead_list");
    assert_eq!(manifest["xlsx_file_name"], XLSX_NAME);
    assert_eq!(manifest["counts"]["total"], 12);

    let second = send(&spec, Payload::List(&d), &env).await.unwrap();
    assert!(
        second.detail.starts_with("already delivered"),
        "{}",
        second.detail
    );
    let mut names: Vec<String> = std::fs::read_dir(&cycle_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["水头镇_2025年06月.json", XLSX_NAME]);

    let a = alert();
    send(&spec, Payload::Alert(&a), &env).await.unwrap();
    let text = std::fs::read_to_string(
        out.path()
            .join("告警")
            .join("alert-2025-06-webhook-350583104.txt"),
    )
    .unwrap();
    assert!(text.contains("已重试5次仍失败"));
}

#[tokio::test]
async fn folder_under_a_file_is_an_error() {
    let src = tempfile::tempdir().unwrap();
    let d = delivery(src.path(), "k-folder-bad");
    let not_a_dir = src.path().join("plain-file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let spec = ChannelSpec::Folder(FolderSpec {
        path: not_a_dir,
        timeout_secs: 30,
    });
    let err = send(&spec, Payload::List(&d), &env).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent, "{}", err.message);
    assert!(err.message.starts_with("folder:"), "{}", err.message);
}

// ---------------------------------------------------------------- specs and summary

#[test]
fn specs_deserialize_with_defaults_and_reject_unknown_fields() {
    let spec: ChannelSpec =
        serde_json::from_str(r#"{"webhook": {"url": "https://x.example/hook"}}"#).unwrap();
    assert_eq!(
        spec,
        ChannelSpec::Webhook(WebhookSpec {
            url: "https://x.example/hook".into(),
            secret_env: None,
            timeout_secs: 30
        })
    );
    let spec: ChannelSpec =
        serde_json::from_str(r#"{"wecom": {"key_env": "K", "timeout_secs": 10}}"#).unwrap();
    let ChannelSpec::WeCom(w) = spec else {
        panic!()
    };
    assert_eq!(w.url, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send");
    assert_eq!(
        w.upload_url,
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/upload_media"
    );
    assert_eq!(w.timeout_secs, 10);
    let spec: ChannelSpec = serde_json::from_str(r#"{"dingtalk": {"token_env": "T"}}"#).unwrap();
    let ChannelSpec::DingTalk(t) = spec else {
        panic!()
    };
    assert_eq!(t.url, "https://oapi.dingtalk.com/robot/send");
    let spec: ChannelSpec = serde_json::from_str(
        r#"{"smtp": {"host": "smtp.example.gov.cn", "from": "a@b.cn", "to": ["c@d.cn"]}}"#,
    )
    .unwrap();
    let ChannelSpec::Smtp(s) = spec else { panic!() };
    assert_eq!(
        (s.port, s.security, s.timeout_secs),
        (587, SmtpSecurity::Starttls, 30)
    );
    let tls: SmtpSpec = serde_json::from_str(
        r#"{"host": "h", "port": 465, "security": "tls", "from": "a@b.cn", "to": []}"#,
    )
    .unwrap();
    assert_eq!(tls.security, SmtpSecurity::Tls);
    let folder: FolderSpec = serde_json::from_str(r#"{"path": "/srv/out"}"#).unwrap();
    assert_eq!(folder.timeout_secs, 30);

    assert!(serde_json::from_str::<WebhookSpec>(r#"{"url": "u", "secret": "s"}"#).is_err());
    assert!(serde_json::from_str::<ChannelSpec>(r#"{"fax": {}}"#).is_err());
}

#[test]
fn summary_for_township_and_county_lists() {
    let dir = tempfile::tempdir().unwrap();
    let d = delivery(dir.path(), "k");
    let md = summary_markdown(&d);
    assert!(md.starts_with("**南安市 2025年06月 职业病危害项目申报线索 — 水头镇**"));
    assert!(md.contains("共12条，其中新增5条、重新列入3条、高优先级2条"));
    assert!(md.contains("请逐户核实，在Excel「核实情况」栏填写处理结果，不属实的请注明原因，并经乡镇领导签字确认后反馈"));
    assert!(md.contains("https://example.gov.cn/yingbao/水头镇_2025年06月.xlsx"));

    let county = ListDelivery {
        township_code: None,
        township_name: "未定位乡镇".into(),
        xlsx_url: None,
        correction: None,
        deadline: None,
        ..d
    };
    let md = summary_markdown(&county);
    assert!(md.contains("未能定位乡镇的线索，请县级核实分派"), "{md}");
    assert!(!md.contains("乡镇领导签字"), "{md}");
    assert!(!md.contains("Excel下载"), "{md}");
}

#[test]
fn send_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let spec = ChannelSpec::Folder(FolderSpec {
        path: "/nonexistent".into(),
        timeout_secs: 30,
    });
    let a = alert();
    let fut = send(&spec, Payload::Alert(&a), &env);
    assert_send(&fut);
}

// ---------------------------------------------------------------- yingbao deliver --test

/// Runs the binary on `project` with `args` (and `YB_TEST_WH_SECRET` set): exit code,
/// stdout, stderr. Through tokio's process so the receivers keep serving meanwhile.
async fn yingbao(project: &common::Project, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(project.config_file())
        .args(args)
        .env("YB_TEST_WH_SECRET", WEBHOOK_SECRET)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// A project whose configuration also has the webhook channel `hook` at `url`.
fn project_with_webhook(url: &str) -> common::Project {
    let project = common::Project::new();
    let file = project.config_file();
    let text = std::fs::read_to_string(&file).unwrap();
    let anchor = "[[delivery.channel]]\nid = \"operator\"";
    assert!(text.contains(anchor));
    let hook = format!(
        "[[delivery.channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"{url}\"\nsecret_env = \"YB_TEST_WH_SECRET\"\ntownships = []\n\n{anchor}"
    );
    std::fs::write(&file, text.replacen(anchor, &hook, 1)).unwrap();
    project
}

/// Issue 15: `deliver --test <webhook>` posts exactly one request, signed as a list would
/// be, whose body says it is a test, in Chinese for whoever reads it.
#[tokio::test]
async fn deliver_test_posts_one_marked_message_to_a_webhook() {
    let (addr, rec) = webhook_server().await;
    let project = project_with_webhook(&format!("http://{addr}/hook"));
    let (code, stdout, stderr) = yingbao(&project, &["deliver", "--test", "hook"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("test message sent through channel hook (webhook): HTTP 200"),
        "{stdout}"
    );
    let requests = rec.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "one request, not {}", requests.len());
    let body: Value = serde_json::from_slice(&requests[0].1).unwrap();
    assert_eq!(body["test"], json!(true), "{body}");
    assert_eq!(body["kind"], json!("test"), "{body}");
    assert_eq!(body["channel"], json!("hook"), "{body}");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("【测试消息】应报（yingbao）投递通道测试：hook，南安市，")
            && text.ends_with("。此消息仅用于测试，无需处理。"),
        "{text}"
    );
    assert!(stdout.contains(text), "the text sent is printed: {stdout}");
    assert!(
        body.get("leads").is_none(),
        "a test carries no list: {body}"
    );
}

/// `deliver --test <folder>` writes `测试消息_<time>.txt` with the marked text; an unknown
/// channel is an error naming the channels there are.
#[tokio::test]
async fn deliver_test_writes_a_marked_file_and_names_the_channels_of_a_typo() {
    let project = common::Project::new();
    let (code, stdout, stderr) = yingbao(&project, &["deliver", "--test", "shared_drive"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let dir = project.root().join("out/共享盘");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        name.starts_with("测试消息_") && name.ends_with(".txt"),
        "{name}"
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        text.starts_with("【测试消息】应报（yingbao）投递通道测试：shared_drive，南安市，"),
        "{text}"
    );
    assert!(
        stdout.contains(&format!(
            "test message sent through channel shared_drive (folder): wrote {}",
            files[0].display()
        )),
        "{stdout}"
    );

    let (code, stdout, stderr) = yingbao(&project, &["deliver", "--test", "nosuch"]).await;
    assert_ne!(code, 0, "{stdout}");
    assert!(
        stderr.contains("no channel `nosuch`; the channels are: shared_drive, operator"),
        "{stderr}"
    );
}

/// `deliver --test` through a webhook that refuses: non-zero, and the reason.
#[tokio::test]
async fn deliver_test_fails_loudly_when_the_channel_is_down() {
    let closed = closed_port().await;
    let project = project_with_webhook(&format!("http://{closed}/hook"));
    let (code, stdout, stderr) = yingbao(&project, &["deliver", "--test", "hook"]).await;
    assert_ne!(code, 0, "{stdout}");
    assert!(
        stderr.contains(
            "test message through channel `hook` failed: webhook: POST could not connect"
        ),
        "{stderr}"
    );
}

/// The library's probe of an SMTP channel: EHLO and AUTH on a real listener, no mail sent.
#[tokio::test]
async fn smtp_reach_says_ehlo_and_sends_no_mail() {
    let (addr, store) = smtp_server("250 ok\r\n").await;
    let receipt = yingbao::deliver::channel::reach(&smtp_spec(addr), &env)
        .await
        .unwrap();
    assert_eq!(
        receipt.detail,
        format!(
            "{}:{} answered EHLO, AUTH; no mail sent",
            addr.ip(),
            addr.port()
        )
    );
    assert!(store.lock().unwrap().is_empty(), "a mail was sent");
    let closed = closed_port().await;
    let err = yingbao::deliver::channel::reach(&smtp_spec(closed), &env)
        .await
        .unwrap_err();
    assert!(
        err.message.starts_with(&format!(
            "smtp: connecting to {}:{} failed",
            closed.ip(),
            closed.port()
        )),
        "{}",
        err.message
    );
    assert_no_secret(&err.message);
}
