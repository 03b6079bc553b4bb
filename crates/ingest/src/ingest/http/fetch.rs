//! The pull loop: builds each page's request, sends it with rate limiting and retries, checks
//! the envelope, collects records, and refuses a pull whose count differs from the declared total.
//! With `paging.concurrency` above 1, the pages after the first are fetched several at a time
//! once the first has declared a total, and still added in page order.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{stream, StreamExt};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{Map, Value};
use tracing::{debug, info, warn};
use url::Url;

use super::auth::Credentials;
use super::envelope::{
    check_envelope, lookup, read_token, read_total, scalar_text, take_records, PageRef,
};
use super::error::HttpError;
use super::pagination::{request_at, PageInfo, PageRequest, Pager};
use super::retry::{backoff, parse_retry_after, RateLimiter};
use super::spec::{HttpSource, Method, PagingKind};

/// The result of a pull.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpFetch {
    /// Every record, in the order received.
    pub records: Vec<Map<String, Value>>,
    /// Pages received.
    pub pages: usize,
    /// HTTP requests sent, retries included.
    pub requests: usize,
    /// Requests that were retries of a failed attempt.
    pub retries: usize,
    /// The greatest value of `incremental.cursor_field` among the records (compared as text);
    /// `None` when not configured or no record has it. Pass it as `since` next time.
    pub max_cursor: Option<String>,
    /// The total the feed declared (`paging.total_path`), from its last page that had one.
    pub declared_total: Option<u64>,
}

/// Pulls every page of the feed. `env` looks up the environment variables named by
/// `[http.auth]` (pass `&|k| std::env::var(k).ok()` in production). `since`, when given and
/// `incremental.cursor_param` is set, is sent as that parameter.
///
/// Fails rather than return a partial feed: a page error, exhausted retries, or a record count
/// that differs from the declared total (`Truncated`) all end the pull with an error.
pub async fn fetch(
    spec: &HttpSource,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    since: Option<&str>,
) -> Result<HttpFetch, HttpError> {
    let out = run(spec, env, since, false).await?;
    if let Some(expected) = out.declared_total {
        let got = out.records.len() as u64;
        if got != expected {
            return Err(HttpError::Truncated { expected, got });
        }
    }
    info!(
        url = %spec.url,
        records = out.records.len(),
        pages = out.pages,
        requests = out.requests,
        retries = out.retries,
        "http pull finished"
    );
    Ok(out)
}

/// Fetches only the first page (no `since`) and returns at most `n` of its records, for an
/// operator checking a new connector. No total check is made.
pub async fn preview(
    spec: &HttpSource,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    n: usize,
) -> Result<Vec<Map<String, Value>>, HttpError> {
    let mut out = run(spec, env, None, true).await?;
    out.records.truncate(n);
    Ok(out.records)
}

async fn run(
    spec: &HttpSource,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    since: Option<&str>,
    first_page_only: bool,
) -> Result<HttpFetch, HttpError> {
    spec.validate()?;
    let pull = Pull::new(spec, env, since)?;
    let mut pager = Pager::new(&spec.paging);
    let mut out = HttpFetch::default();
    let mut next = Some(pager.first());
    while let Some(request) = next.take() {
        let page = pull.page(&request, out.pages + 1).await?;
        let (info, url) = pull.absorb(&mut out, page);
        if first_page_only {
            break;
        }
        next = pager.next(&info, &url)?;
        if out.pages == 1 && next.is_some() {
            if let Some(ahead) = pull.pages_ahead(&pager, out.records.len()) {
                next = pull.concurrently(&mut pager, &mut out, ahead).await?;
            }
        }
    }
    out.requests = pull.session.requests.load(Ordering::Relaxed);
    out.retries = pull.session.retries.load(Ordering::Relaxed);
    Ok(out)
}

/// What every page of one pull shares: the session (client, credentials, rate limit, counts)
/// and what the config says about reading a response.
struct Pull<'a> {
    session: Session<'a>,
    base: Url,
    since: Option<(String, String)>,
    total_path: Option<&'a str>,
    cursor_path: Option<&'a str>,
    link_path: Option<&'a str>,
    cursor_field: Option<&'a str>,
}

/// One page, read and checked, its records not yet added to the pull.
struct Page {
    /// The URL requested (secrets removed).
    url: Url,
    records: Vec<Map<String, Value>>,
    /// What the page says about the pages after it (`records` is filled in).
    info: PageInfo,
}

impl<'a> Pull<'a> {
    fn new(
        spec: &'a HttpSource,
        env: &(dyn Fn(&str) -> Option<String> + Sync),
        since: Option<&str>,
    ) -> Result<Self, HttpError> {
        let creds = Credentials::resolve(&spec.auth, env)?;
        let base = Url::parse(&spec.url).map_err(|e| HttpError::Config(format!("url: {e}")))?;
        let incremental = spec.incremental.as_ref();
        let since = match (incremental.and_then(|i| i.cursor_param.as_deref()), since) {
            (Some(p), Some(s)) if !p.is_empty() => Some((p.to_string(), s.to_string())),
            (_, Some(_)) => {
                debug!("`since` given but incremental.cursor_param is not set; pulling everything");
                None
            }
            _ => None,
        };
        let paging = &spec.paging;
        Ok(Pull {
            session: Session {
                spec,
                client: build_client(spec)?,
                creds,
                limiter: RateLimiter::new(spec.rate_limit_per_sec),
                requests: AtomicUsize::new(0),
                retries: AtomicUsize::new(0),
            },
            base,
            since,
            total_path: paging
                .total_path
                .as_deref()
                .filter(|p| !p.trim().is_empty()),
            cursor_path: match paging.kind {
                PagingKind::Cursor => paging.next_cursor_path.as_deref(),
                _ => None,
            },
            link_path: match paging.kind {
                PagingKind::NextLink => paging.next_link_path.as_deref(),
                _ => None,
            },
            cursor_field: incremental
                .and_then(|i| i.cursor_field.as_deref())
                .filter(|f| !f.is_empty()),
        })
    }

    /// Sends one page's request (rate limit, retries) and reads the response: envelope, total,
    /// next cursor or link, records. `page` is its number in this pull, from 1.
    async fn page(&self, request: &PageRequest, page: usize) -> Result<Page, HttpError> {
        let spec = self.session.spec;
        let (url, body) = self.session.build(&self.base, request, self.since.as_ref());
        let shown = url.to_string();
        let mut doc = self.session.send(&url, body.as_ref(), page).await?;
        let at = PageRef { page, url: &shown };
        if let Some(envelope) = &spec.error {
            check_envelope(&doc, envelope, at)?;
        }
        let total = match self.total_path {
            Some(p) => read_total(&doc, p, at)?,
            None => None,
        };
        let next_cursor = self.cursor_path.and_then(|p| read_token(&doc, p));
        let next_link = self.link_path.and_then(|p| read_token(&doc, p));
        let records = take_records(&mut doc, &spec.records_path, at)?;
        debug!(page, records = records.len(), total = ?total, url = %shown, "http page");
        let info = PageInfo {
            records: records.len(),
            total,
            next_cursor,
            next_link,
        };
        Ok(Page { url, records, info })
    }

    /// Adds the next page (in page order) to the pull; returns what the pager needs to decide
    /// what comes after it.
    fn absorb(&self, out: &mut HttpFetch, page: Page) -> (PageInfo, Url) {
        if let Some(field) = self.cursor_field {
            for r in &page.records {
                if let Some(v) = field_text(r, field) {
                    if out.max_cursor.as_deref().is_none_or(|m| v.as_str() > m) {
                        out.max_cursor = Some(v);
                    }
                }
            }
        }
        out.pages += 1;
        if page.info.total.is_some() {
            out.declared_total = page.info.total;
        }
        out.records.extend(page.records);
        (page.info, page.url)
    }

    /// After the first page: the indices (from 0) of the pages to fetch concurrently, or `None`
    /// to go on one page at a time (`paging.concurrency` is 1, the kind is not `page`/`offset`,
    /// or the first page declared no total).
    ///
    /// The first page's length (when shorter than `page_size`, the platform caps its pages)
    /// tells how many pages the total needs. Guessing too many costs at most `concurrency`
    /// wasted requests (the pull stops reading where a one-at-a-time pull would stop); too few,
    /// and the pull goes on one page at a time after them. Never past `max_pages`.
    fn pages_ahead(&self, pager: &Pager, first_len: usize) -> Option<Range<u64>> {
        let paging = &self.session.spec.paging;
        let numbered = matches!(paging.kind, PagingKind::Page | PagingKind::Offset);
        if paging.concurrency <= 1 || !numbered || first_len == 0 {
            return None;
        }
        let total = pager.declared_total()?;
        let per_page = paging.page_size.min(first_len as u64);
        let pages = total.div_ceil(per_page).min(paging.max_pages as u64);
        (pages > 1).then_some(1..pages)
    }

    /// Fetches the pages `ahead` with at most `paging.concurrency` requests in flight (all under
    /// the one rate limiter) and adds them in page order, exactly as a one-at-a-time pull would.
    /// Stops reading at the page where the pager says the feed is finished (requests still in
    /// flight are dropped, their results unread); the first error among the pages read ends the
    /// pull. Returns the request after the last page read, if the feed goes on.
    async fn concurrently(
        &self,
        pager: &mut Pager,
        out: &mut HttpFetch,
        ahead: Range<u64>,
    ) -> Result<Option<PageRequest>, HttpError> {
        let paging = &self.session.spec.paging;
        debug!(
            from = ahead.start + 1,
            to = ahead.end,
            in_flight = paging.concurrency,
            "http pages fetched concurrently"
        );
        let mut pages = stream::iter(ahead)
            .map(|index| async move {
                let request = request_at(paging, index);
                self.page(&request, index as usize + 1).await
            })
            .buffered(paging.concurrency);
        let mut next = None;
        while let Some(page) = pages.next().await {
            let (info, url) = self.absorb(out, page?);
            next = pager.next(&info, &url)?;
            if next.is_none() {
                break;
            }
        }
        Ok(next)
    }
}

/// The text of `field` (a dotted path) in a record, if it is a scalar.
fn field_text(record: &Map<String, Value>, field: &str) -> Option<String> {
    let (head, rest) = field.split_once('.').unwrap_or((field, ""));
    lookup(record.get(head)?, rest).and_then(scalar_text)
}

fn build_client(spec: &HttpSource) -> Result<reqwest::Client, HttpError> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(spec.timeout_secs))
        .connect_timeout(Duration::from_secs(spec.connect_timeout_secs))
        .user_agent(concat!("yingbao-http-source/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &spec.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| HttpError::Config(format!("ca_file {}: {e}", path.display())))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| HttpError::Config(format!("ca_file {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(HttpError::Config(format!(
                "ca_file {}: no PEM certificate in it",
                path.display()
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| HttpError::Config(format!("cannot build the HTTP client: {e}")))
}

struct Session<'a> {
    spec: &'a HttpSource,
    client: reqwest::Client,
    creds: Credentials,
    limiter: RateLimiter,
    /// Requests sent, retries included (shared by the pages in flight).
    requests: AtomicUsize,
    /// Requests that were retries.
    retries: AtomicUsize,
}

/// Why one attempt failed.
enum Failure {
    /// Worth another attempt.
    Transient {
        cause: String,
        retry_after: Option<Duration>,
    },
    /// Not worth another attempt.
    Fatal(HttpError),
}

fn has_key(url: &Url, key: &str) -> bool {
    url.query_pairs().any(|(k, _)| k == key)
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// A reqwest error as text without its URL (which could hold a query secret), with causes.
fn transport_cause(e: reqwest::Error, timeout_secs: u64) -> String {
    if e.is_timeout() {
        return format!("timeout (no complete response within {timeout_secs} s)");
    }
    let kind = if e.is_connect() {
        "connect error"
    } else {
        "transport error"
    };
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    format!("{kind}: {text}")
}

impl Session<'_> {
    /// The URL (without the auth secret) and the body of a page request.
    fn build(
        &self,
        base: &Url,
        request: &PageRequest,
        since: Option<&(String, String)>,
    ) -> (Url, Option<Value>) {
        let spec = self.spec;
        let (mut url, paging) = match request {
            PageRequest::Params(p) => (base.clone(), p.as_slice()),
            PageRequest::Link(u) => (u.clone(), &[][..]),
        };
        let is_link = matches!(request, PageRequest::Link(_));
        let post = spec.method == Method::Post;
        {
            let mut add: Vec<(String, String)> = Vec::new();
            for (k, v) in &spec.query {
                let overridden = paging.iter().any(|(p, _)| p == k);
                let in_link = is_link && has_key(&url, k);
                if !overridden && !in_link {
                    add.push((k.clone(), v.clone()));
                }
            }
            if !post {
                if let Some((k, v)) = since {
                    if !(is_link && has_key(&url, k)) {
                        add.push((k.clone(), v.clone()));
                    }
                }
                for (k, v) in paging {
                    add.push((k.clone(), scalar_text(v).unwrap_or_default()));
                }
            }
            if !add.is_empty() {
                url.query_pairs_mut().extend_pairs(add);
            }
        }
        let body = post.then(|| {
            let mut obj = match &spec.body {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            if let Some((k, v)) = since {
                obj.insert(k.clone(), Value::String(v.clone()));
            }
            for (k, v) in paging {
                obj.insert(k.clone(), v.clone());
            }
            Value::Object(obj)
        });
        (url, body)
    }

    /// Sends one page request, retrying transient failures, and parses the JSON body.
    async fn send(&self, url: &Url, body: Option<&Value>, page: usize) -> Result<Value, HttpError> {
        let retry = &self.spec.retry;
        let max_wait_after = Duration::from_secs(retry.max_retry_after_secs);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            self.limiter.wait().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let (cause, retry_after) = match self.attempt(url, body, page).await {
                Ok(doc) => return Ok(doc),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient { cause, retry_after }) => (cause, retry_after),
            };
            if attempt >= retry.max_attempts {
                return Err(HttpError::RetriesExhausted {
                    url: url.to_string(),
                    attempts: attempt,
                    last: cause,
                });
            }
            let wait = match retry_after {
                Some(d) => d.min(max_wait_after),
                None => backoff(retry, attempt),
            };
            warn!(
                page,
                attempt,
                max_attempts = retry.max_attempts,
                wait_ms = wait.as_millis() as u64,
                url = %url,
                cause = %cause,
                "http request failed; retrying"
            );
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        url: &Url,
        body: Option<&Value>,
        page: usize,
    ) -> Result<Value, Failure> {
        let spec = self.spec;
        let auth = self.creds.parts(chrono::Utc::now().timestamp_millis());
        let mut target = url.clone();
        let secret_query: Vec<_> = auth
            .query
            .iter()
            .filter(|(k, _)| !has_key(url, k))
            .collect();
        if !secret_query.is_empty() {
            target.query_pairs_mut().extend_pairs(secret_query);
        }
        let method = match spec.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut req = self
            .client
            .request(method, target)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        for (k, v) in spec
            .headers
            .iter()
            .chain(auth.headers.iter().map(|(k, v)| (k, v)))
        {
            let name = HeaderName::try_from(k.as_str());
            let value = HeaderValue::try_from(v.as_str());
            match (name, value) {
                (Ok(n), Ok(v)) => req = req.header(n, v),
                _ => {
                    return Err(Failure::Fatal(HttpError::Config(format!(
                        "header {k:?} has an invalid name or value"
                    ))))
                }
            }
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_builder() => {
                return Err(Failure::Fatal(HttpError::Config(transport_cause(
                    e,
                    spec.timeout_secs,
                ))))
            }
            Err(e) => {
                return Err(Failure::Transient {
                    cause: transport_cause(e, spec.timeout_secs),
                    retry_after: None,
                })
            }
        };
        let status = resp.status();
        if status.is_success() {
            let bytes = resp.bytes().await.map_err(|e| Failure::Transient {
                cause: transport_cause(e, spec.timeout_secs),
                retry_after: None,
            })?;
            return serde_json::from_slice(&bytes).map_err(|source| {
                Failure::Fatal(HttpError::Json {
                    page,
                    url: url.to_string(),
                    source,
                })
            });
        }
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let text = excerpt(&resp.text().await.unwrap_or_default());
        let code = status.as_u16();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            Err(Failure::Fatal(HttpError::Auth {
                status: code,
                url: url.to_string(),
                excerpt: text,
            }))
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(Failure::Transient {
                cause: format!("HTTP {code}: {text}"),
                retry_after,
            })
        } else {
            Err(Failure::Fatal(HttpError::Status {
                status: code,
                url: url.to_string(),
                excerpt: text,
            }))
        }
    }
}
