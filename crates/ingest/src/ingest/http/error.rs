//! The one error type of the HTTP source. Every message names what an operator needs to act:
//! the page and URL (secrets removed), the variable, the status, the path, the counts.

/// Why a pull (or a preview) failed. URLs in these errors never carry the `auth.kind = "query"`
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The `[http]` table is inconsistent (or the CA file cannot be used).
    #[error("invalid [http] config: {0}")]
    Config(String),
    /// An environment variable named by `[http.auth]` is not set (or is empty).
    #[error("environment variable {var} is not set (named by [http.auth] {field})")]
    MissingEnv {
        /// The variable's name.
        var: String,
        /// The auth key that names it, e.g. `token_env`.
        field: &'static str,
    },
    /// HTTP 401 or 403: credentials rejected. Never retried.
    #[error("authentication rejected: HTTP {status} from {url}: {excerpt}")]
    Auth {
        /// 401 or 403.
        status: u16,
        /// The URL requested.
        url: String,
        /// The start of the response body.
        excerpt: String,
    },
    /// Another 4xx (or an unexpected non-2xx) answer. Never retried.
    #[error("HTTP {status} from {url}: {excerpt}")]
    Status {
        /// The status code.
        status: u16,
        /// The URL requested.
        url: String,
        /// The start of the response body.
        excerpt: String,
    },
    /// Every attempt failed with a retryable cause (timeout, connect error, 429, 5xx).
    #[error("gave up on {url} after {attempts} attempts; last error: {last}")]
    RetriesExhausted {
        /// The URL requested.
        url: String,
        /// Attempts made, the first one included.
        attempts: u32,
        /// The last attempt's cause, e.g. `timeout (no complete response within 1 s)`.
        last: String,
    },
    /// A response body is not JSON.
    #[error("page {page} ({url}): response is not valid JSON: {source}")]
    Json {
        /// Page number in this pull, from 1.
        page: usize,
        /// The URL requested.
        url: String,
        /// serde's message, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The platform's envelope reports a failure (`[http.error]`).
    #[error("page {page} ({url}): the platform answered error code {code}: {message}")]
    Envelope {
        /// Page number in this pull, from 1.
        page: usize,
        /// The URL requested.
        url: String,
        /// The code found at `error.code_path` (`<missing>` when absent).
        code: String,
        /// The message found at `error.message_path` (empty when none).
        message: String,
    },
    /// The response does not have the shape the config describes (records path missing or not
    /// an array, total not a number, …).
    #[error("page {page} ({url}): {detail}")]
    Shape {
        /// Page number in this pull, from 1.
        page: usize,
        /// The URL requested.
        url: String,
        /// What is wrong, naming the configured path.
        detail: String,
    },
    /// A record is not a JSON object.
    #[error("page {page} ({url}): record {index} is {found}, not a JSON object")]
    NotObject {
        /// Page number in this pull, from 1.
        page: usize,
        /// The URL requested.
        url: String,
        /// Index of the record within its page, from 0.
        index: usize,
        /// What it is instead (`a string`, `null`, …).
        found: &'static str,
    },
    /// The feed declared a total and a different number of records arrived.
    #[error("the feed declared {expected} records but {got} arrived; a truncated pull is refused")]
    Truncated {
        /// The declared total (from `paging.total_path`).
        expected: u64,
        /// Records received.
        got: u64,
    },
    /// More pages than `paging.max_pages`.
    #[error("more than {max} pages; raise paging.max_pages if the feed is really that large")]
    TooManyPages {
        /// The configured limit.
        max: usize,
    },
    /// The platform handed out the same cursor or next link twice.
    #[error("page {page}: the platform repeated the {what} {value:?}; stopping to avoid an endless loop")]
    Repeated {
        /// Page number that returned it, from 1.
        page: usize,
        /// `cursor` or `next link`.
        what: &'static str,
        /// The repeated value.
        value: String,
    },
}
