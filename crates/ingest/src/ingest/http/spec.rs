//! The `[http]` table of a connector TOML file: where a JSON feed lives, how to page through it,
//! how to authenticate, and how patiently to retry. Every field has a default except `url`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::HttpError;

/// An HTTP JSON feed, as written in the `[http]` table of a connector file.
///
/// Only `url` is required; a minimal connector is `[http]` + `url = "https://…/api/list"`,
/// which makes one GET and expects the response body to be a JSON array of objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSource {
    /// The endpoint, e.g. `https://data.example.gov.cn/api/v1/employers/list`.
    pub url: String,
    /// `"GET"` (paging parameters go into the query string) or `"POST"` (paging parameters
    /// go into a JSON body, merged over `body`). Default `"GET"`.
    #[serde(default)]
    pub method: Method,
    /// Extra query-string parameters sent with every request, e.g. `{ areaCode = "320123" }`.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Extra request headers sent with every request, e.g. `{ "X-Tenant" = "wjw" }`.
    /// Never put a secret here: use `[http.auth]`, which reads secrets from the environment.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// For `method = "POST"` only: a JSON object sent as the request body. The paging and
    /// incremental parameters are added to it (they win over a key of the same name).
    /// Write it as an inline TOML table: `body = { deptCode = "wjw", status = 1 }`.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// Where the list of records is in each JSON response, as a dotted path:
    /// `data.rows` means `{"data": {"rows": [ … ]}}`. A number segment picks an array element
    /// (`data.0.rows`). Empty (the default) means the whole response is the array.
    /// A path that is `null` (or whose parent is, as in `{"data": null}`) is read as an empty
    /// page; a path that is missing is an error (so a changed response format cannot look like
    /// "no data").
    #[serde(default)]
    pub records_path: String,
    /// How to walk through the pages. Default: no paging (one request).
    #[serde(default)]
    pub paging: Paging,
    /// Platform error envelopes: an HTTP 200 whose body says `{"code": "500", "msg": "…"}`.
    /// Default: not checked.
    #[serde(default)]
    pub error: Option<ErrorEnvelope>,
    /// Authentication. Default: none.
    #[serde(default)]
    pub auth: Auth,
    /// Whole-request timeout in seconds (connect + send + read the full body). Default 30.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Timeout in seconds for opening the TCP/TLS connection. Default 10.
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
    /// A PEM file with one or more extra CA certificates to trust, for intranet platforms
    /// signed by their own CA. The usual public roots stay trusted too. Default: none.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// At most this many requests per second (fractions allowed: `0.5` = one every 2 s).
    /// Retries count too. Default: no limit.
    #[serde(default)]
    pub rate_limit_per_sec: Option<f64>,
    /// What to retry and how long to wait between attempts.
    #[serde(default)]
    pub retry: Retry,
    /// Incremental pulls: send "changed since" and report the newest change seen.
    /// Default: every pull is a full pull.
    #[serde(default)]
    pub incremental: Option<Incremental>,
}

/// The HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Method {
    /// Paging parameters in the query string.
    #[default]
    #[serde(rename = "GET", alias = "get")]
    Get,
    /// Paging parameters in a JSON body.
    #[serde(rename = "POST", alias = "post")]
    Post,
}

/// How the feed is split into pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PagingKind {
    /// One request returns everything.
    #[default]
    None,
    /// Page numbers: `page=1&size=100`, `page=2&size=100`, … (`first_page` sets the first number).
    Page,
    /// Offsets: `offset=0&size=100`, `offset=100&size=100`, …
    Offset,
    /// Opaque cursor: each response names the cursor for the next request (`next_cursor_path`).
    Cursor,
    /// Each response holds the URL of the next page (`next_link_path`); relative links are
    /// resolved against the URL that was requested.
    NextLink,
}

/// The `[http.paging]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// `"none"`, `"page"`, `"offset"`, `"cursor"` or `"next_link"`. Default `"none"`.
    #[serde(default)]
    pub kind: PagingKind,
    /// Name of the page-number parameter (kind `page`). Default `"page"`.
    #[serde(default = "default_page_param")]
    pub page_param: String,
    /// Name of the page-size parameter (kinds `page`, `offset`, `cursor`). Default `"size"`.
    /// Set it to `""` for platforms with a fixed page size that reject the parameter
    /// (then still set `page_size` to that fixed size, so short pages are recognised).
    #[serde(default = "default_size_param")]
    pub size_param: String,
    /// Name of the offset parameter (kind `offset`). Default `"offset"`.
    #[serde(default = "default_offset_param")]
    pub offset_param: String,
    /// Name of the cursor parameter (kind `cursor`). Default `"cursor"`.
    #[serde(default = "default_cursor_param")]
    pub cursor_param: String,
    /// Records asked for per page. Default 100.
    #[serde(default = "default_page_size")]
    pub page_size: u64,
    /// Number of the first page (kind `page`): 1 for most platforms, 0 for some. Default 1.
    #[serde(default = "default_first_page")]
    pub first_page: u64,
    /// Dotted path of the declared total number of records, e.g. `data.total` (a number or a
    /// numeric string). When set, pages are read until that many records arrived or a page is
    /// empty, and a pull whose record count differs from the total fails (`Truncated`).
    /// When not set, kinds `page`/`offset` stop at the first page with fewer than
    /// `page_size` records (or none). Default: not set.
    #[serde(default)]
    pub total_path: Option<String>,
    /// Dotted path of the next cursor (kind `cursor`), e.g. `data.next_cursor`. The pull
    /// stops when it is missing, `null` or `""`, or when a page is empty.
    #[serde(default)]
    pub next_cursor_path: Option<String>,
    /// Dotted path of the next page's URL (kind `next_link`), e.g. `links.next`. The pull
    /// stops when it is missing, `null` or `""`.
    #[serde(default)]
    pub next_link_path: Option<String>,
    /// Safety stop: more pages than this is an error, not a silent cut. Default 100000.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    /// Requests in flight at once (kinds `page` and `offset`, with `total_path`). Default 1:
    /// one page after the other. Above 1, the first page is read alone; when it declares a
    /// total, the remaining pages are fetched with at most this many requests in flight, still
    /// under `rate_limit_per_sec`, each with its own retries, and their records are kept in
    /// page order, so the result is the same as a one-at-a-time pull. At most
    /// [`MAX_CONCURRENCY`].
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

/// The largest `paging.concurrency` accepted: more would hammer a government platform
/// without making the pull much faster.
pub const MAX_CONCURRENCY: usize = 16;

impl Default for Paging {
    fn default() -> Self {
        Paging {
            kind: PagingKind::None,
            page_param: default_page_param(),
            size_param: default_size_param(),
            offset_param: default_offset_param(),
            cursor_param: default_cursor_param(),
            page_size: default_page_size(),
            first_page: default_first_page(),
            total_path: None,
            next_cursor_path: None,
            next_link_path: None,
            max_pages: default_max_pages(),
            concurrency: default_concurrency(),
        }
    }
}

/// The `[http.error]` table: how a platform says "failed" inside an HTTP 200 response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorEnvelope {
    /// Dotted path of the status code in each response, e.g. `code`. A response without it
    /// is an error.
    pub code_path: String,
    /// Codes that mean success, compared as text (`0` and `"0"` are the same).
    /// Default `["0", "200"]`.
    #[serde(default = "default_ok_values")]
    pub ok_values: Vec<String>,
    /// Dotted path of the error message, e.g. `msg`, quoted in the error. Default: none.
    #[serde(default)]
    pub message_path: Option<String>,
}

/// The `[http.auth]` table. Secrets are never written in the connector file: each field
/// ending in `_env` names an environment variable that holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// No authentication (the default).
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// Environment variable holding the token.
        token_env: String,
    },
    /// A fixed header, e.g. `apikey: <value>`.
    Header {
        /// The header name, e.g. `apikey`.
        header: String,
        /// Environment variable holding the value.
        value_env: String,
    },
    /// A query-string parameter, e.g. `?access_key=<value>`. The value is kept out of logs and
    /// error messages.
    Query {
        /// The parameter name, e.g. `access_key`.
        param: String,
        /// Environment variable holding the value.
        value_env: String,
    },
    /// App key + timestamp + HMAC-SHA256 signature, as used by provincial data-sharing
    /// platforms. Every request (and every retry) is signed afresh:
    ///
    /// * timestamp = Unix time in **milliseconds**, as decimal text (e.g. `1718000000000`);
    /// * nonce = 32 random lowercase hex characters, only when `nonce_header` is set;
    /// * string signed = app key + timestamp + nonce, concatenated with no separator
    ///   (without a nonce header: app key + timestamp);
    /// * signature = lowercase hex of HMAC-SHA256(key = secret, message = string signed).
    Hmac {
        /// Environment variable holding the app key (sent in clear in `app_key_header`).
        app_key_env: String,
        /// Environment variable holding the signing secret (never sent).
        secret_env: String,
        /// Header carrying the app key. Default `X-App-Key`.
        #[serde(default = "default_app_key_header")]
        app_key_header: String,
        /// Header carrying the timestamp. Default `X-Timestamp`.
        #[serde(default = "default_timestamp_header")]
        timestamp_header: String,
        /// Header carrying the signature. Default `X-Signature`.
        #[serde(default = "default_signature_header")]
        signature_header: String,
        /// When set, a random nonce is sent in this header and signed too. Default: no nonce.
        #[serde(default)]
        nonce_header: Option<String>,
    },
}

/// How retries back off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Wait a random time between 0 and the backoff (spreads retries the most).
    #[default]
    Full,
    /// Wait half the backoff plus a random time up to the other half.
    Equal,
}

/// The `[http.retry]` table. Connect errors, timeouts, HTTP 429 and HTTP 5xx are retried;
/// HTTP 401/403 fail at once (`Auth`), other 4xx fail at once with the status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts per request, the first one included (1 = never retry). Default 5.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Backoff before the first retry, in milliseconds; it doubles on each retry. Default 500.
    #[serde(default = "default_base_ms")]
    pub base_ms: u64,
    /// Longest backoff, in milliseconds. Default 30000.
    #[serde(default = "default_max_ms")]
    pub max_ms: u64,
    /// `"full"` or `"equal"` jitter. Default `"full"`.
    #[serde(default)]
    pub jitter: Jitter,
    /// A 429/503 response's `Retry-After` (seconds, or an HTTP date) is obeyed instead of the
    /// backoff, but never waits longer than this many seconds. Default 300.
    #[serde(default = "default_max_retry_after_secs")]
    pub max_retry_after_secs: u64,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_attempts: default_max_attempts(),
            base_ms: default_base_ms(),
            max_ms: default_max_ms(),
            jitter: Jitter::Full,
            max_retry_after_secs: default_max_retry_after_secs(),
        }
    }
}

/// The `[http.incremental]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incremental {
    /// Parameter that carries the "changed since" value (query parameter for GET, body key
    /// for POST), e.g. `updated_since`. Sent only when the caller has a value from an
    /// earlier pull. Default: not sent.
    #[serde(default)]
    pub cursor_param: Option<String>,
    /// Field of each record (a dotted path allowed) holding its change marker, e.g.
    /// `updateTime`. The pull reports the greatest value seen, compared **as text**: this is
    /// right for ISO dates and times (`2024-05-01 08:00:00`, `2024-05-01T08:00:00Z`) written
    /// with the same format and zero-padding everywhere, and for fixed-width numbers — not for
    /// `2024-5-1` or numbers of different lengths. Default: not tracked.
    #[serde(default)]
    pub cursor_field: Option<String>,
}

impl HttpSource {
    /// A spec for `url` with every other field at its default.
    pub fn new(url: impl Into<String>) -> Self {
        HttpSource {
            url: url.into(),
            method: Method::Get,
            query: BTreeMap::new(),
            headers: BTreeMap::new(),
            body: None,
            records_path: String::new(),
            paging: Paging::default(),
            error: None,
            auth: Auth::None,
            timeout_secs: default_timeout_secs(),
            connect_timeout_secs: default_connect_timeout_secs(),
            ca_file: None,
            rate_limit_per_sec: None,
            retry: Retry::default(),
            incremental: None,
        }
    }

    /// Checks what serde cannot: the URL parses, the paths needed by the paging kind are set,
    /// numbers are in range. `fetch` calls it first; a config loader may call it early.
    pub fn validate(&self) -> Result<(), HttpError> {
        let bad = |m: String| Err(HttpError::Config(m));
        match url::Url::parse(&self.url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            Ok(u) => {
                return bad(format!(
                    "url {:?}: scheme {} is not http/https",
                    self.url,
                    u.scheme()
                ))
            }
            Err(e) => return bad(format!("url {:?}: {e}", self.url)),
        }
        if self.body.is_some() && self.method == Method::Get {
            return bad("body is only sent with method = \"POST\"".into());
        }
        if let Some(b) = &self.body {
            if !b.is_object() {
                return bad("body must be a table (a JSON object)".into());
            }
        }
        let p = &self.paging;
        if p.page_size == 0 {
            return bad("paging.page_size must be at least 1".into());
        }
        if p.max_pages == 0 {
            return bad("paging.max_pages must be at least 1".into());
        }
        check_concurrency(p)?;
        match p.kind {
            PagingKind::Cursor if blank(&p.next_cursor_path) => {
                return bad("paging.kind = \"cursor\" needs paging.next_cursor_path".into())
            }
            PagingKind::NextLink if blank(&p.next_link_path) => {
                return bad("paging.kind = \"next_link\" needs paging.next_link_path".into())
            }
            _ => {}
        }
        if let Some(e) = &self.error {
            if e.code_path.trim().is_empty() {
                return bad("error.code_path must not be empty".into());
            }
            if e.ok_values.is_empty() {
                return bad("error.ok_values must list at least one success code".into());
            }
        }
        if let Some(r) = self.rate_limit_per_sec {
            if !(r.is_finite() && r > 0.0) {
                return bad(format!(
                    "rate_limit_per_sec must be a positive number, not {r}"
                ));
            }
        }
        if self.retry.max_attempts == 0 {
            return bad("retry.max_attempts must be at least 1".into());
        }
        if self.timeout_secs == 0 || self.connect_timeout_secs == 0 {
            return bad("timeout_secs and connect_timeout_secs must be at least 1".into());
        }
        Ok(())
    }
}

/// `paging.concurrency`: from 1 to [`MAX_CONCURRENCY`], and above 1 only where pages can be
/// numbered in advance (kind `page` or `offset`, with a declared total).
fn check_concurrency(p: &Paging) -> Result<(), HttpError> {
    let n = p.concurrency;
    let why = if n == 0 {
        format!("paging.concurrency must be at least 1 (1 = one page at a time), not {n}")
    } else if n > MAX_CONCURRENCY {
        format!(
            "paging.concurrency must be at most {MAX_CONCURRENCY}, not {n}: more requests in \
             flight would look like an attack to the platform"
        )
    } else if n > 1 && !matches!(p.kind, PagingKind::Page | PagingKind::Offset) {
        format!(
            "paging.concurrency = {n} needs paging.kind = \"page\" or \"offset\": a cursor or \
             next link comes from the page before, so those pages cannot be fetched at once"
        )
    } else if n > 1 && blank(&p.total_path) {
        format!(
            "paging.concurrency = {n} needs paging.total_path: without a declared total the \
             number of pages is not known in advance"
        )
    } else {
        return Ok(());
    };
    Err(HttpError::Config(why))
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn default_timeout_secs() -> u64 {
    30
}
fn default_connect_timeout_secs() -> u64 {
    10
}
fn default_page_param() -> String {
    "page".into()
}
fn default_size_param() -> String {
    "size".into()
}
fn default_offset_param() -> String {
    "offset".into()
}
fn default_cursor_param() -> String {
    "cursor".into()
}
fn default_page_size() -> u64 {
    100
}
fn default_first_page() -> u64 {
    1
}
fn default_max_pages() -> usize {
    100_000
}
fn default_concurrency() -> usize {
    1
}
fn default_ok_values() -> Vec<String> {
    vec!["0".into(), "200".into()]
}
fn default_app_key_header() -> String {
    "X-App-Key".into()
}
fn default_timestamp_header() -> String {
    "X-Timestamp".into()
}
fn default_signature_header() -> String {
    "X-Signature".into()
}
fn default_max_attempts() -> u32 {
    5
}
fn default_base_ms() -> u64 {
    500
}
fn default_max_ms() -> u64 {
    30_000
}
fn default_max_retry_after_secs() -> u64 {
    300
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Connector {
        http: HttpSource,
    }

    fn parse(text: &str) -> Result<HttpSource, toml::de::Error> {
        toml::from_str::<Connector>(text).map(|c| c.http)
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let s = parse("[http]\nurl = \"https://h/api\"\n").unwrap();
        assert_eq!(s, HttpSource::new("https://h/api"));
        assert_eq!(s.method, Method::Get);
        assert_eq!((s.timeout_secs, s.connect_timeout_secs), (30, 10));
        assert_eq!(
            (s.paging.page_size, s.paging.first_page, s.paging.max_pages),
            (100, 1, 100_000)
        );
        assert_eq!(
            (s.retry.max_attempts, s.retry.base_ms, s.retry.max_ms),
            (5, 500, 30_000)
        );
        assert_eq!(s.retry.max_retry_after_secs, 300);
        assert_eq!(s.paging.concurrency, 1);
        s.validate().unwrap();
    }

    #[test]
    fn concurrency_is_read_and_bounded() {
        let with = |extra: &str| {
            parse(&format!(
                "[http]\nurl = \"https://h/api\"\n[http.paging]\nkind = \"page\"\ntotal_path = \"total\"\n{extra}\n"
            ))
        };
        for n in [1, 4, MAX_CONCURRENCY] {
            let s = with(&format!("concurrency = {n}")).unwrap();
            assert_eq!(s.paging.concurrency, n);
            s.validate().unwrap();
        }
        // Not a whole number of requests: refused when the file is read, before `validate`.
        for bad in [
            "concurrency = -1",
            "concurrency = 2.5",
            "concurrency = \"4\"",
        ] {
            assert!(with(bad).is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn readme_example_parses_and_validates() {
        let readme = include_str!("../../../../../docs/connectors-http.md");
        let start = readme.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + readme[start..].find("```").unwrap();
        let s = parse(&readme[start..end]).unwrap();
        s.validate().unwrap();
        assert_eq!(s.paging.kind, PagingKind::Page);
        assert_eq!(s.paging.concurrency, 4);
        assert!(matches!(s.auth, Auth::Hmac { .. }));
    }

    #[test]
    fn unknown_keys_are_rejected_everywhere() {
        for bad in [
            "[http]\nurl = \"https://h\"\nurl_typo = 1\n",
            "[http]\nurl = \"https://h\"\npaging = { kind = \"page\", pagesize = 10 }\n",
            "[http]\nurl = \"https://h\"\nauth = { kind = \"bearer\", token_env = \"T\", token = \"x\" }\n",
            "[http]\nurl = \"https://h\"\nauth = { kind = \"oauth\" }\n",
            "[http]\nurl = \"https://h\"\nretry = { attempts = 3 }\n",
            "[http]\nurl = \"https://h\"\nmethod = \"PUT\"\n",
        ] {
            assert!(parse(bad).is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn validate_catches_inconsistent_tables() {
        let base = "[http]\nurl = \"https://h/api\"\n";
        for (extra, needle) in [
            ("paging = { kind = \"cursor\" }", "next_cursor_path"),
            ("paging = { kind = \"next_link\" }", "next_link_path"),
            ("paging = { page_size = 0 }", "page_size"),
            ("paging = { concurrency = 0 }", "paging.concurrency must be at least 1"),
            (
                "paging = { kind = \"page\", total_path = \"t\", concurrency = 17 }",
                "paging.concurrency must be at most 16, not 17",
            ),
            (
                "paging = { kind = \"cursor\", next_cursor_path = \"c\", total_path = \"t\", concurrency = 4 }",
                "paging.concurrency = 4 needs paging.kind",
            ),
            (
                "paging = { kind = \"offset\", concurrency = 2 }",
                "paging.concurrency = 2 needs paging.total_path",
            ),
            ("body = { a = 1 }", "POST"),
            ("rate_limit_per_sec = 0", "rate_limit_per_sec"),
            ("retry = { max_attempts = 0 }", "max_attempts"),
            (
                "error = { code_path = \"code\", ok_values = [] }",
                "ok_values",
            ),
        ] {
            let err = parse(&format!("{base}{extra}\n"))
                .unwrap()
                .validate()
                .unwrap_err();
            assert!(err.to_string().contains(needle), "{extra}: {err}");
        }
        let err = HttpSource::new("ftp://h/x").validate().unwrap_err();
        assert!(err.to_string().contains("scheme"), "{err}");
    }
}
