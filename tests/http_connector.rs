//! End-to-end tests of `yingbao::ingest::http::fetch` against real axum servers on 127.0.0.1.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use yingbao::ingest::http::{fetch, preview, HttpError, HttpFetch, HttpSource};

type Params = Query<HashMap<String, String>>;

/// Serves `app` on an ephemeral 127.0.0.1 port; returns `http://127.0.0.1:PORT`.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Parses an `[http]` table the way a connector file is read.
fn spec(toml_text: &str) -> HttpSource {
    #[derive(serde::Deserialize)]
    struct Connector {
        http: HttpSource,
    }
    toml::from_str::<Connector>(toml_text).unwrap().http
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn rec(i: usize) -> Value {
    json!({"id": format!("E{i:05}"), "name": format!("企业{i}"), "n": i})
}

fn ids(f: &HttpFetch) -> Vec<String> {
    f.records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn all_ids(n: usize) -> BTreeSet<String> {
    (0..n).map(|i| format!("E{i:05}")).collect()
}

fn num(q: &HashMap<String, String>, k: &str) -> usize {
    q.get(k).unwrap().parse().unwrap()
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[tokio::test]
async fn page_numbers_with_total_deliver_every_record_once() {
    let hits = counter();
    let h = hits.clone();
    let app = Router::new().route(
        "/api/list",
        get(move |Query(q): Params, headers: HeaderMap| {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                // Static query parameters and headers from the config must arrive.
                if q.get("areaCode").map(String::as_str) != Some("320123")
                    || headers.get("x-tenant").and_then(|v| v.to_str().ok()) != Some("wjw")
                {
                    return (StatusCode::BAD_REQUEST, "missing areaCode or X-Tenant")
                        .into_response();
                }
                let (page, size) = (num(&q, "page"), num(&q, "size"));
                let start = (page - 1) * size;
                let rows: Vec<Value> = (start..(start + size).min(1050)).map(rec).collect();
                Json(json!({"code": 0, "msg": "ok", "data": {"total": 1050, "rows": rows}}))
                    .into_response()
            }
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/api/list"
records_path = "data.rows"
query = {{ areaCode = "320123" }}
headers = {{ "X-Tenant" = "wjw" }}
paging = {{ kind = "page", total_path = "data.total" }}
error = {{ code_path = "code", message_path = "msg" }}
"#
    ));
    let f = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(f.records.len(), 1050);
    assert_eq!(ids(&f).into_iter().collect::<BTreeSet<_>>(), all_ids(1050));
    assert_eq!(f.pages, 11);
    assert_eq!(f.requests, 11);
    assert_eq!(f.retries, 0);
    assert_eq!(f.declared_total, Some(1050));
    assert_eq!(hits.load(Ordering::SeqCst), 11);
}

#[tokio::test]
async fn offset_paging_ends_on_a_short_page() {
    let hits = counter();
    let h = hits.clone();
    let app = Router::new().route(
        "/rows",
        get(move |Query(q): Params| {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                let (start, limit) = (num(&q, "start"), num(&q, "limit"));
                let rows: Vec<Value> = (start..(start + limit).min(250)).map(rec).collect();
                Json(json!(rows))
            }
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/rows"
[http.paging]
kind = "offset"
offset_param = "start"
size_param = "limit"
page_size = 100
"#
    ));
    let f = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(ids(&f), all_ids(250).into_iter().collect::<Vec<_>>());
    assert_eq!((f.pages, f.requests), (3, 3));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "no request after the short page"
    );
    assert_eq!(f.declared_total, None);
}

#[tokio::test]
async fn page_paging_without_total_ends_on_an_empty_page() {
    let app = Router::new().route(
        "/p",
        get(|Query(q): Params| async move {
            let (page, size) = (num(&q, "pageNo"), num(&q, "pageSize"));
            // first_page = 0 here.
            let start = page * size;
            let rows: Vec<Value> = (start..(start + size).min(30)).map(rec).collect();
            Json(json!({"result": {"list": rows}}))
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/p"
records_path = "result.list"
paging = {{ kind = "page", page_param = "pageNo", size_param = "pageSize", page_size = 10, first_page = 0 }}
"#
    ));
    let f = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(ids(&f), all_ids(30).into_iter().collect::<Vec<_>>());
    assert_eq!(
        f.pages, 4,
        "three full pages and the empty one that ends the pull"
    );
}

#[tokio::test]
async fn cursor_paging_follows_cursors_until_null() {
    let app = Router::new().route(
        "/c",
        get(|Query(q): Params| async move {
            let page = match q.get("cursor") {
                None => 0,
                Some(c) => c.trim_start_matches("tok-").parse::<usize>().unwrap(),
            };
            assert_eq!(num(&q, "size"), 7);
            let rows: Vec<Value> = (page * 7..page * 7 + 7).map(rec).collect();
            let next = if page < 4 {
                json!(format!("tok-{}", page + 1))
            } else {
                Value::Null
            };
            Json(json!({"data": {"items": rows, "next_cursor": next}}))
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/c"
records_path = "data.items"
paging = {{ kind = "cursor", page_size = 7, next_cursor_path = "data.next_cursor" }}
"#
    ));
    let f = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(ids(&f), all_ids(35).into_iter().collect::<Vec<_>>());
    assert_eq!(f.pages, 5);
}

#[tokio::test]
async fn repeated_cursor_is_an_error() {
    let app = Router::new().route(
        "/c",
        get(|| async { Json(json!({"rows": [rec(1)], "next": "same"})) }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/c"
records_path = "rows"
paging = {{ kind = "cursor", next_cursor_path = "next" }}
"#
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    assert!(
        matches!(&err, HttpError::Repeated { page: 2, what: "cursor", value } if value == "same"),
        "{err}"
    );
}

#[tokio::test]
async fn next_links_are_followed_and_relative_links_resolved() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s2 = seen.clone();
    let app = Router::new().route(
        "/v1/items",
        get(move |Query(q): Params| {
            let seen = s2.clone();
            async move {
                let p: usize = q.get("p").map(|p| p.parse().unwrap()).unwrap_or(1);
                seen.lock().unwrap().push(format!(
                    "p={p} k={}",
                    q.get("k").cloned().unwrap_or_default()
                ));
                let rows: Vec<Value> = ((p - 1) * 4..p * 4).map(rec).collect();
                // Page 1 links relative to the path, page 2 absolute-path, page 3 none.
                let next = match p {
                    1 => json!("items?p=2"),
                    2 => json!("/v1/items?p=3"),
                    _ => Value::Null,
                };
                Json(json!({"items": rows, "links": {"next": next}}))
            }
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/v1/items"
records_path = "items"
query = {{ k = "v" }}
paging = {{ kind = "next_link", next_link_path = "links.next" }}
"#
    ));
    let f = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(ids(&f), all_ids(12).into_iter().collect::<Vec<_>>());
    assert_eq!(f.pages, 3);
    // The static query parameter is added to links that lack it.
    assert_eq!(*seen.lock().unwrap(), ["p=1 k=v", "p=2 k=v", "p=3 k=v"]);
}

#[tokio::test]
async fn post_sends_paging_in_a_json_body_over_the_configured_body() {
    let bodies = Arc::new(Mutex::new(Vec::<Value>::new()));
    let b2 = bodies.clone();
    let app = Router::new().route(
        "/query",
        post(move |Json(body): Json<Value>| {
            let bodies = b2.clone();
            async move {
                bodies.lock().unwrap().push(body.clone());
                let page = body["pageNo"].as_u64().unwrap() as usize;
                let size = body["pageSize"].as_u64().unwrap() as usize;
                let start = (page - 1) * size;
                let rows: Vec<Value> = (start..(start + size).min(120)).map(rec).collect();
                Json(json!({"data": {"rows": rows, "total": "120"}}))
            }
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/query"
method = "POST"
records_path = "data.rows"
body = {{ deptCode = "wjw", status = 1, pageNo = 99 }}
paging = {{ kind = "page", page_param = "pageNo", size_param = "pageSize", page_size = 50, total_path = "data.total" }}
"#
    ));
    let f = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(ids(&f), all_ids(120).into_iter().collect::<Vec<_>>());
    assert_eq!(f.pages, 3);
    assert_eq!(f.declared_total, Some(120));
    let bodies = bodies.lock().unwrap();
    assert_eq!(
        bodies[2],
        json!({"deptCode": "wjw", "status": 1, "pageNo": 3, "pageSize": 50}),
        "paging parameters win over the configured body"
    );
}

// ---------------------------------------------------------------- auth

/// A server that answers one page of 3 records when `check(headers, query)` holds, else 401.
async fn guarded(
    check: impl Fn(&HeaderMap, &HashMap<String, String>) -> bool + Clone + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let hits = counter();
    let h = hits.clone();
    let app = Router::new().route(
        "/secure",
        get(move |Query(q): Params, headers: HeaderMap| {
            let (h, check) = (h.clone(), check.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                if check(&headers, &q) {
                    Json(json!([rec(0), rec(1), rec(2)])).into_response()
                } else {
                    (StatusCode::UNAUTHORIZED, "{\"msg\":\"bad credentials\"}").into_response()
                }
            }
        }),
    );
    (serve(app).await, hits)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[tokio::test]
async fn bearer_auth_is_sent_and_a_wrong_token_fails_after_one_request() {
    let (base, hits) = guarded(|h, _| header(h, "authorization") == "Bearer t0k3n").await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/secure\"\nauth = {{ kind = \"bearer\", token_env = \"YB_TOKEN\" }}\n"
    ));
    let f = fetch(&s, &env_of(&[("YB_TOKEN", "t0k3n")]), None)
        .await
        .unwrap();
    assert_eq!(f.records.len(), 3);
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let err = fetch(&s, &env_of(&[("YB_TOKEN", "wrong")]), None)
        .await
        .unwrap_err();
    assert!(matches!(&err, HttpError::Auth { status: 401, .. }), "{err}");
    assert!(err.to_string().contains("bad credentials"), "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "exactly one request, no retry"
    );
}

#[tokio::test]
async fn header_auth() {
    let (base, _) = guarded(|h, _| header(h, "apikey") == "k-123").await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/secure\"\n[http.auth]\nkind = \"header\"\nheader = \"apikey\"\nvalue_env = \"YB_KEY\"\n"
    ));
    assert_eq!(
        fetch(&s, &env_of(&[("YB_KEY", "k-123")]), None)
            .await
            .unwrap()
            .records
            .len(),
        3
    );
    let err = fetch(&s, &env_of(&[("YB_KEY", "k-999")]), None)
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Auth { status: 401, .. }));
}

#[tokio::test]
async fn query_auth_and_the_secret_stays_out_of_errors() {
    let (base, _) =
        guarded(|_, q| q.get("access_key").map(String::as_str) == Some("qs-secret-1")).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/secure\"\nauth = {{ kind = \"query\", param = \"access_key\", value_env = \"YB_Q\" }}\n"
    ));
    assert_eq!(
        fetch(&s, &env_of(&[("YB_Q", "qs-secret-1")]), None)
            .await
            .unwrap()
            .records
            .len(),
        3
    );
    let err = fetch(&s, &env_of(&[("YB_Q", "qs-secret-2")]), None)
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Auth { status: 401, .. }));
    assert!(!err.to_string().contains("qs-secret"), "{err}");
}

fn hmac_ok(h: &HeaderMap, nonce_header: Option<&str>) -> bool {
    let (key, ts, sig) = (
        header(h, "x-ak"),
        header(h, "x-timestamp"),
        header(h, "x-sign"),
    );
    let Ok(ts_ms) = ts.parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp_millis() - ts_ms).abs() > 60_000 || key != "app-42" {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(b"shh-secret").unwrap();
    mac.update(format!("{key}{ts}").as_bytes());
    if let Some(n) = nonce_header {
        let nonce = header(h, n);
        if nonce.len() < 16 {
            return false;
        }
        mac.update(nonce.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes()) == sig
}

fn hmac_spec(base: &str, extra: &str) -> HttpSource {
    spec(&format!(
        r#"[http]
url = "{base}/secure"
[http.auth]
kind = "hmac"
app_key_env = "YB_AK"
secret_env = "YB_SK"
app_key_header = "X-Ak"
signature_header = "X-Sign"
{extra}
"#
    ))
}

#[tokio::test]
async fn hmac_auth_is_verified_by_the_server() {
    let (base, hits) = guarded(|h, _| hmac_ok(h, None)).await;
    let s = hmac_spec(&base, "");
    let good = env_of(&[("YB_AK", "app-42"), ("YB_SK", "shh-secret")]);
    assert_eq!(fetch(&s, &good, None).await.unwrap().records.len(), 3);
    let bad = env_of(&[("YB_AK", "app-42"), ("YB_SK", "not-it")]);
    let err = fetch(&s, &bad, None).await.unwrap_err();
    assert!(matches!(err, HttpError::Auth { status: 401, .. }));
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // With a nonce header the nonce is signed too.
    let (base, _) = guarded(|h, _| hmac_ok(h, Some("x-nonce"))).await;
    let s = hmac_spec(&base, "nonce_header = \"X-Nonce\"");
    assert_eq!(fetch(&s, &good, None).await.unwrap().records.len(), 3);
    // The nonce server rejects requests signed without a nonce.
    let s = hmac_spec(&base, "");
    assert!(matches!(
        fetch(&s, &good, None).await,
        Err(HttpError::Auth { .. })
    ));
}

#[tokio::test]
async fn missing_env_var_is_named_and_nothing_is_sent() {
    let (base, hits) = guarded(|_, _| true).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/secure\"\nauth = {{ kind = \"hmac\", app_key_env = \"YB_AK\", secret_env = \"YB_HMAC_SECRET\" }}\n"
    ));
    let err = fetch(&s, &env_of(&[("YB_AK", "a")]), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, HttpError::MissingEnv { var, .. } if var == "YB_HMAC_SECRET"),
        "{err}"
    );
    assert!(err.to_string().contains("YB_HMAC_SECRET"));
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------- retries and transport

/// A server whose first `fail` answers are `status` (with optional Retry-After), then 5 records.
async fn flaky(
    fail: usize,
    status: StatusCode,
    retry_after: Option<&'static str>,
) -> (String, Arc<AtomicUsize>) {
    let hits = counter();
    let h = hits.clone();
    let app = Router::new().route(
        "/f",
        get(move || {
            let h = h.clone();
            async move {
                let n = h.fetch_add(1, Ordering::SeqCst);
                if n < fail {
                    let mut resp = (status, "busy").into_response();
                    if let Some(ra) = retry_after {
                        resp.headers_mut()
                            .insert("retry-after", ra.parse().unwrap());
                    }
                    return resp;
                }
                Json(json!((0..5).map(rec).collect::<Vec<_>>())).into_response()
            }
        }),
    );
    (serve(app).await, hits)
}

#[tokio::test]
async fn server_errors_are_retried() {
    let (base, hits) = flaky(2, StatusCode::INTERNAL_SERVER_ERROR, None).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/f\"\nretry = {{ base_ms = 10 }}\n"
    ));
    let f = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(ids(&f), all_ids(5).into_iter().collect::<Vec<_>>());
    assert_eq!((f.retries, f.requests, f.pages), (2, 3, 1));
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let (base, _) = flaky(1, StatusCode::TOO_MANY_REQUESTS, Some("1")).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/f\"\nretry = {{ base_ms = 1, max_ms = 5 }}\n"
    ));
    let start = Instant::now();
    let f = fetch(&s, &no_env, None).await.unwrap();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(990),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert_eq!((f.retries, f.records.len()), (1, 5));
}

#[tokio::test]
async fn exhausted_retries_report_attempts_and_last_cause() {
    let (base, hits) = flaky(usize::MAX, StatusCode::SERVICE_UNAVAILABLE, None).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/f\"\nretry = {{ max_attempts = 3, base_ms = 1 }}\n"
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    assert!(
        matches!(&err, HttpError::RetriesExhausted { attempts: 3, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("3 attempts") && text.contains("HTTP 503") && text.contains("busy"),
        "{text}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn other_client_errors_fail_at_once_with_an_excerpt() {
    let (base, hits) = flaky(usize::MAX, StatusCode::NOT_FOUND, None).await;
    let s = spec(&format!("[http]\nurl = \"{base}/f\"\n"));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    assert!(
        matches!(&err, HttpError::Status { status: 404, excerpt, .. } if excerpt == "busy"),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn slow_server_times_out_and_is_retried() {
    let hits = counter();
    let h = hits.clone();
    let app = Router::new().route(
        "/slow",
        get(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(3)).await;
                Json(json!([]))
            }
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/slow\"\ntimeout_secs = 1\nretry = {{ max_attempts = 2, base_ms = 10 }}\n"
    ));
    let start = Instant::now();
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, HttpError::RetriesExhausted { attempts: 2, .. }),
        "{text}"
    );
    eprintln!("{text}");
    assert!(
        text.contains("timeout") && text.contains("2 attempts"),
        "{text}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // A port that was free a moment ago: nothing listens on it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let s = spec(&format!(
        "[http]\nurl = \"http://{addr}/x\"\nretry = {{ max_attempts = 2, base_ms = 1 }}\n"
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, HttpError::RetriesExhausted { attempts: 2, .. }),
        "{text}"
    );
    eprintln!("{text}");
    assert!(text.contains("connect error"), "{text}");
}

#[tokio::test]
async fn rate_limit_spaces_requests() {
    let app = Router::new().route(
        "/r",
        get(|Query(q): Params| async move {
            let page = num(&q, "page");
            Json(json!({"rows": [rec(page)], "total": 5}))
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/r"
records_path = "rows"
rate_limit_per_sec = 10
paging = {{ kind = "page", page_size = 1, total_path = "total" }}
"#
    ));
    let start = Instant::now();
    let f = fetch(&s, &no_env, None).await.unwrap();
    let took = start.elapsed();
    assert_eq!(f.requests, 5);
    assert!(took >= Duration::from_millis(400), "took only {took:?}");
}

// ---------------------------------------------------------------- bad responses

#[tokio::test]
async fn malformed_json_names_the_page() {
    let app = Router::new().route(
        "/m",
        get(|Query(q): Params| async move {
            let page = num(&q, "page");
            if page == 3 {
                return "{\"rows\": [{\"id\": \"E1\"},".into_response();
            }
            Json(json!({"rows": (0..2).map(|i| rec(page * 2 + i)).collect::<Vec<_>>()}))
                .into_response()
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/m\"\nrecords_path = \"rows\"\npaging = {{ kind = \"page\", page_size = 2 }}\n"
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, HttpError::Json { page: 3, .. }), "{text}");
    eprintln!("{text}");
    assert!(
        text.contains("page 3") && text.contains("page=3") && text.contains("column"),
        "{text}"
    );
}

#[tokio::test]
async fn envelope_error_under_http_200() {
    let hits = counter();
    let h = hits.clone();
    let app = Router::new().route(
        "/e",
        get(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                Json(json!({"code": "500", "msg": "系统繁忙", "data": null}))
            }
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/e"
records_path = "data.rows"
[http.error]
code_path = "code"
ok_values = ["0", "200"]
message_path = "msg"
"#
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, HttpError::Envelope { code, message, .. } if code == "500" && message == "系统繁忙"),
        "{text}"
    );
    assert!(text.contains("500") && text.contains("系统繁忙"), "{text}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn records_path_must_be_an_array_of_objects() {
    let app = Router::new()
        .route(
            "/obj",
            get(|| async { Json(json!({"data": {"rows": {"id": 1}}})) }),
        )
        .route(
            "/mixed",
            get(|| async { Json(json!({"data": {"rows": [rec(0), 5]}})) }),
        );
    let base = serve(app).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/obj\"\nrecords_path = \"data.rows\"\n"
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("\"data.rows\" is an object, not an array"),
        "{err}"
    );
    let s = spec(&format!(
        "[http]\nurl = \"{base}/mixed\"\nrecords_path = \"data.rows\"\n"
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::NotObject {
                page: 1,
                index: 1,
                found: "a number",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_feed_that_stops_short_of_its_total_is_truncated() {
    let app = Router::new().route(
        "/t",
        get(|Query(q): Params| async move {
            let (page, size) = (num(&q, "page"), num(&q, "size"));
            let start = (page - 1) * size;
            // Declares 1000 but only has 900.
            let rows: Vec<Value> = (start..(start + size).min(900)).map(rec).collect();
            Json(json!({"data": {"rows": rows, "total": 1000}}))
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/t\"\nrecords_path = \"data.rows\"\npaging = {{ kind = \"page\", total_path = \"data.total\" }}\n"
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::Truncated {
                expected: 1000,
                got: 900
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn endless_feed_hits_max_pages() {
    let app = Router::new().route(
        "/endless",
        get(|Query(q): Params| async move { Json(json!([rec(num(&q, "page"))])) }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/endless\"\npaging = {{ kind = \"page\", page_size = 1, max_pages = 5 }}\n"
    ));
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    assert!(matches!(err, HttpError::TooManyPages { max: 5 }), "{err}");
}

// ---------------------------------------------------------------- incremental and preview

#[tokio::test]
async fn incremental_sends_since_and_reports_max_cursor() {
    let data = [
        ("E00000", "2024-03-01 08:00:00"),
        ("E00001", "2024-05-20 17:30:00"),
        ("E00002", "2024-04-11 09:15:00"),
        ("E00003", "2024-05-02 00:00:00"),
    ];
    let seen_since = Arc::new(Mutex::new(Vec::<Option<String>>::new()));
    let ss = seen_since.clone();
    let app = Router::new().route(
        "/inc",
        get(move |Query(q): Params| {
            let ss = ss.clone();
            async move {
                let since = q.get("updated_since").cloned();
                ss.lock().unwrap().push(since.clone());
                let rows: Vec<Value> = data
                    .iter()
                    .filter(|(_, t)| since.as_deref().is_none_or(|s| *t > s))
                    .map(|(id, t)| json!({"id": id, "meta": {"updateTime": t}}))
                    .collect();
                Json(json!({"rows": rows}))
            }
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        r#"[http]
url = "{base}/inc"
records_path = "rows"
incremental = {{ cursor_param = "updated_since", cursor_field = "meta.updateTime" }}
"#
    ));
    let full = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(full.records.len(), 4);
    assert_eq!(full.max_cursor.as_deref(), Some("2024-05-20 17:30:00"));

    let part = fetch(&s, &no_env, Some("2024-04-30 00:00:00"))
        .await
        .unwrap();
    assert_eq!(ids(&part), ["E00001", "E00003"]);
    assert_eq!(part.max_cursor.as_deref(), Some("2024-05-20 17:30:00"));

    let none = fetch(&s, &no_env, full.max_cursor.as_deref())
        .await
        .unwrap();
    assert!(none.records.is_empty());
    assert_eq!(none.max_cursor, None);
    assert_eq!(
        *seen_since.lock().unwrap(),
        [
            None,
            Some("2024-04-30 00:00:00".to_string()),
            Some("2024-05-20 17:30:00".to_string())
        ]
    );
}

#[tokio::test]
async fn preview_fetches_one_page_only() {
    let hits = counter();
    let h = hits.clone();
    let app = Router::new().route(
        "/pv",
        get(move |Query(q): Params| {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                let page = num(&q, "page");
                Json(json!({"rows": (0..100).map(|i| rec((page - 1) * 100 + i)).collect::<Vec<_>>(), "total": 5000}))
            }
        }),
    );
    let base = serve(app).await;
    let s = spec(&format!(
        "[http]\nurl = \"{base}/pv\"\nrecords_path = \"rows\"\npaging = {{ kind = \"page\", total_path = \"total\" }}\n"
    ));
    let recs = preview(&s, &no_env, 5).await.unwrap();
    assert_eq!(recs.len(), 5);
    assert_eq!(recs[0]["id"], "E00000");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_ca_file_is_a_config_error() {
    let path = std::env::temp_dir().join(format!("yb-not-a-cert-{}.pem", std::process::id()));
    std::fs::write(&path, "this is not PEM").unwrap();
    let mut s = HttpSource::new("https://127.0.0.1:9/x");
    s.ca_file = Some(path.clone());
    let err = fetch(&s, &no_env, None).await.unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(
        matches!(&err, HttpError::Config(m) if m.contains("ca_file")),
        "{err}"
    );
}
