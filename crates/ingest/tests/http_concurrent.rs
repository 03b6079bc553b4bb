//! `paging.concurrency` against a real axum server on 127.0.0.1: the pull returns what a
//! one-page-at-a-time pull returns (same records, same order, same errors), never has more
//! requests in flight than configured, retries a page on its own, and keeps to the rate limit.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use yingbao_ingest::ingest::http::{fetch, HttpError, HttpFetch, HttpSource};

/// A paged feed (`/list?page=N&size=S`, pages from 1) with knobs for misbehaving, which counts
/// the requests it is handling at once and notes when each one arrived.
struct Feed {
    /// Records the server really has: `E00000`, `E00001`, …
    records: usize,
    /// The total it declares (`data.total`); `None` = `null`.
    total: Option<usize>,
    /// Time spent on each page before answering.
    delay: Duration,
    /// Pages that answer HTTP 503 the first time they are asked for.
    fail_once: Mutex<HashSet<usize>>,
    /// A page that answers with no records (before the end of the feed).
    empty: Option<usize>,
    /// A page that always answers HTTP 500.
    broken: Option<usize>,
    /// A page whose envelope says `code = "500"` under HTTP 200.
    envelope_error: Option<usize>,
    /// A page that carries one record too many.
    extra: Option<usize>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// When each request arrived, from `started`.
    arrivals: Mutex<Vec<Duration>>,
    started: Instant,
}

impl Feed {
    fn new(records: usize, total: Option<usize>, delay_ms: u64) -> Self {
        Feed {
            records,
            total,
            delay: Duration::from_millis(delay_ms),
            fail_once: Mutex::new(HashSet::new()),
            empty: None,
            broken: None,
            envelope_error: None,
            extra: None,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            arrivals: Mutex::new(Vec::new()),
            started: Instant::now(),
        }
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    fn rows(&self, page: usize, size: usize) -> Vec<Value> {
        if Some(page) == self.empty {
            return Vec::new();
        }
        let start = (page - 1) * size;
        let mut rows: Vec<Value> = (start..(start + size).min(self.records))
            .map(|i| json!({"id": id(i), "n": i}))
            .collect();
        if Some(page) == self.extra {
            rows.push(json!({"id": "EXTRA", "n": -1}));
        }
        rows
    }
}

/// Counts a request as in flight until dropped (also when the client goes away mid-request).
struct Busy(Arc<Feed>);

impl Busy {
    fn enter(feed: &Arc<Feed>) -> Busy {
        let now = feed.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        feed.max_in_flight.fetch_max(now, Ordering::SeqCst);
        feed.arrivals.lock().unwrap().push(feed.started.elapsed());
        Busy(feed.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn list(State(feed): State<Arc<Feed>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let _busy = Busy::enter(&feed);
    let num = |k: &str| q.get(k).and_then(|v| v.parse::<usize>().ok());
    let (Some(page), Some(size)) = (num("page"), num("size")) else {
        return (StatusCode::BAD_REQUEST, "page and size wanted").into_response();
    };
    if feed.fail_once.lock().unwrap().remove(&page) {
        return (StatusCode::SERVICE_UNAVAILABLE, "busy, try again").into_response();
    }
    tokio::time::sleep(feed.delay).await;
    if Some(page) == feed.broken {
        return (StatusCode::INTERNAL_SERVER_ERROR, "broken page").into_response();
    }
    let code = if Some(page) == feed.envelope_error {
        "500"
    } else {
        "0"
    };
    let body = json!({"code": code, "msg": "系统繁忙", "data": {
        "total": feed.total,
        "rows": feed.rows(page, size),
    }});
    Json(body).into_response()
}

/// Serves `feed` on an ephemeral 127.0.0.1 port; returns the feed's URL.
async fn serve(feed: Arc<Feed>) -> String {
    let app = Router::new().route("/list", get(list)).with_state(feed);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/list")
}

/// An `[http]` table as a connector file would hold it; `extra` goes into `[http]`.
fn spec(url: &str, concurrency: usize, extra: &str) -> HttpSource {
    #[derive(serde::Deserialize)]
    struct Connector {
        http: HttpSource,
    }
    let text = format!(
        r#"[http]
url = "{url}"
records_path = "data.rows"
{extra}
[http.paging]
kind = "page"
page_size = 10
total_path = "data.total"
concurrency = {concurrency}
[http.error]
code_path = "code"
message_path = "msg"
[http.retry]
base_ms = 5
max_ms = 20
"#
    );
    toml::from_str::<Connector>(&text).unwrap().http
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn id(i: usize) -> String {
    format!("E{i:05}")
}

fn ids(f: &HttpFetch) -> Vec<String> {
    f.records
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("<no id>").to_string())
        .collect()
}

/// Pulls `feed` with `concurrency`, on a fresh server so each pull's counts are its own.
async fn pull(feed: Feed, concurrency: usize) -> (Result<HttpFetch, HttpError>, Arc<Feed>) {
    let feed = Arc::new(feed);
    let url = serve(feed.clone()).await;
    let got = fetch(&spec(&url, concurrency, ""), &no_env, None).await;
    (got, feed)
}

#[tokio::test]
async fn concurrent_pull_equals_sequential_pull() {
    // 23 pages: 22 full ones and one of 5.
    let (one, _) = pull(Feed::new(225, Some(225), 5), 1).await;
    let (four, feed) = pull(Feed::new(225, Some(225), 5), 4).await;
    let (one, four) = (one.unwrap(), four.unwrap());
    let expected: Vec<String> = (0..225).map(id).collect();
    assert_eq!(ids(&one), expected);
    assert_eq!(
        four, one,
        "records, order, pages, counts and total all the same"
    );
    assert_eq!((four.pages, four.requests, four.retries), (23, 23, 0));
    assert_eq!(four.declared_total, Some(225));
    assert!(feed.max_in_flight() > 1, "the pull was not concurrent");
}

#[tokio::test]
async fn requests_in_flight_never_exceed_concurrency() {
    for (concurrency, delay_ms) in [(1, 2), (3, 30)] {
        let (got, feed) = pull(Feed::new(230, Some(230), delay_ms), concurrency).await;
        assert_eq!(got.unwrap().records.len(), 230);
        let most = feed.max_in_flight();
        eprintln!("concurrency {concurrency}: at most {most} requests in flight");
        assert!(
            most <= concurrency,
            "{most} in flight, {concurrency} allowed"
        );
        if concurrency > 1 {
            assert!(most > 1, "never more than one request in flight");
        }
    }
}

#[tokio::test]
async fn failed_pages_are_retried_on_their_own() {
    let feed = Feed::new(225, Some(225), 5);
    feed.fail_once.lock().unwrap().extend([2, 5, 12, 23]);
    let (got, feed) = pull(feed, 4).await;
    let got = got.unwrap();
    assert_eq!(ids(&got), (0..225).map(id).collect::<Vec<_>>());
    assert_eq!((got.pages, got.requests, got.retries), (23, 27, 4));
    assert!(feed.fail_once.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_total_the_pages_do_not_add_up_to_is_refused() {
    // Short: 240 declared, 225 there (page 24 is empty).
    // Long: 230 declared, page 10 carries one record too many.
    let long = || {
        let mut f = Feed::new(230, Some(230), 2);
        f.extra = Some(10);
        f
    };
    for concurrency in [1, 4] {
        let (short, _) = pull(Feed::new(225, Some(240), 2), concurrency).await;
        let (long, _) = pull(long(), concurrency).await;
        assert!(
            matches!(
                short,
                Err(HttpError::Truncated {
                    expected: 240,
                    got: 225
                })
            ),
            "concurrency {concurrency}: {short:?}"
        );
        assert!(
            matches!(
                long,
                Err(HttpError::Truncated {
                    expected: 230,
                    got: 231
                })
            ),
            "concurrency {concurrency}: {long:?}"
        );
    }
}

#[tokio::test]
async fn pages_after_the_end_are_never_read() {
    // Page 4 is empty: a one-at-a-time pull stops there (and refuses 30 of 225 records).
    // Page 6 is broken; the concurrent pull may have asked for it, but must not report it.
    let feed = || {
        let mut f = Feed::new(225, Some(225), 5);
        f.empty = Some(4);
        f.broken = Some(6);
        f
    };
    for concurrency in [1, 4] {
        let (got, _) = pull(feed(), concurrency).await;
        assert!(
            matches!(
                got,
                Err(HttpError::Truncated {
                    expected: 225,
                    got: 30
                })
            ),
            "concurrency {concurrency}: {got:?}"
        );
    }
}

#[tokio::test]
async fn a_failing_page_fails_the_whole_pull() {
    let mut feed = Feed::new(225, Some(225), 2);
    feed.envelope_error = Some(7);
    let (got, _) = pull(feed, 4).await;
    match got {
        Err(HttpError::Envelope {
            page: 7,
            code,
            message,
            ..
        }) => assert_eq!((code.as_str(), message.as_str()), ("500", "系统繁忙")),
        other => panic!("{other:?}"),
    }
    let mut feed = Feed::new(225, Some(225), 2);
    feed.broken = Some(9);
    let (got, _) = pull(feed, 4).await;
    assert!(
        matches!(got, Err(HttpError::RetriesExhausted { attempts: 5, .. })),
        "{got:?}"
    );
}

#[tokio::test]
async fn without_a_total_the_pull_goes_one_page_at_a_time() {
    let (got, feed) = pull(Feed::new(95, None, 5), 4).await;
    let got = got.unwrap();
    assert_eq!(ids(&got), (0..95).map(id).collect::<Vec<_>>());
    assert_eq!((got.pages, got.declared_total), (10, None));
    assert_eq!(feed.max_in_flight(), 1);
}

#[tokio::test]
async fn the_rate_limit_holds_across_requests_in_flight() {
    const PER_SEC: f64 = 40.0;
    let interval = Duration::from_secs_f64(1.0 / PER_SEC);
    let feed = Arc::new(Feed::new(120, Some(120), 30));
    let url = serve(feed.clone()).await;
    let s = spec(&url, 4, &format!("rate_limit_per_sec = {PER_SEC}"));
    let got = fetch(&s, &no_env, None).await.unwrap();
    assert_eq!(got.records.len(), 120);
    let mut at = feed.arrivals.lock().unwrap().clone();
    at.sort();
    assert_eq!(at.len(), 12);
    // The limiter allows no burst: k + 1 requests span at least k intervals. The slack
    // allows for a request's trip from client to server taking a little longer than another's.
    let slack = Duration::from_millis(10);
    for i in 0..at.len() {
        for j in i + 1..at.len() {
            let least = interval * (j - i) as u32;
            assert!(
                at[j] - at[i] + slack >= least,
                "requests {i} and {j} arrived {:?} apart; at least {least:?} expected",
                at[j] - at[i]
            );
        }
    }
}

/// Not a check: the wall time of 200 pages of 20 ms each, one at a time and four at a time.
/// `cargo test -p yingbao-ingest --test http_concurrent -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn timing_200_pages_at_20_ms() {
    for concurrency in [1, 4] {
        let feed = Arc::new(Feed::new(2000, Some(2000), 20));
        let url = serve(feed.clone()).await;
        let s = spec(&url, concurrency, "");
        let start = Instant::now();
        let got = fetch(&s, &no_env, None).await.unwrap();
        let took = start.elapsed();
        assert_eq!(got.pages, 200);
        println!(
            "concurrency {concurrency}: {} records in {} pages in {:.2} s (at most {} in flight)",
            got.records.len(),
            got.pages,
            took.as_secs_f64(),
            feed.max_in_flight()
        );
    }
}

#[test]
fn the_pull_can_run_on_any_worker_thread() {
    fn send<T: Send>(_: &T) {}
    let s = HttpSource::new("http://127.0.0.1:9/x");
    send(&fetch(&s, &no_env, None));
}
