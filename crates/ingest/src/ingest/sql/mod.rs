//! Reading a county front-end database (前置库: PostgreSQL, MySQL/MariaDB, SQLite) with one
//! read-only SELECT configured in a connector's `[sql]` table, every value turned into text.

mod error;
mod fetch;
mod guard;
mod spec;
mod text;
mod url;
mod value;

pub use self::error::SqlError;
pub use self::guard::check_query;
pub use self::spec::{SqlSource, TextEncoding, DEFAULT_TIMEOUT_SECS};
pub use self::url::DbKind;

use self::fetch::Request;
use self::url::DbUrl;
use std::time::Duration;

/// The result of one read: column names, rows of text cells (NULL = `None`), and the
/// greatest `cursor_column` value seen (to pass as `since` next time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SqlFetch {
    /// Column names, in query order.
    pub headers: Vec<String>,
    /// One entry per row, one cell per header.
    pub rows: Vec<Vec<Option<String>>>,
    /// Greatest non-NULL value of `cursor_column` among the rows (None without a cursor
    /// column or without rows).
    pub max_cursor: Option<String>,
}

/// Run the configured query. With `cursor_column` set and `since` given, only rows whose
/// cursor value is greater than `since` are returned (bound as a parameter, never spliced).
pub async fn fetch(
    spec: &SqlSource,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    since: Option<&str>,
) -> Result<SqlFetch, SqlError> {
    run(spec, env, Request { since, limit: None }).await
}

/// The first `n` rows of the configured query (for `yingbao` preview screens).
pub async fn preview(
    spec: &SqlSource,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    n: usize,
) -> Result<SqlFetch, SqlError> {
    run(
        spec,
        env,
        Request {
            since: None,
            limit: Some(n),
        },
    )
    .await
}

async fn run(
    spec: &SqlSource,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    req: Request<'_>,
) -> Result<SqlFetch, SqlError> {
    let raw = env(&spec.url_env)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| SqlError::MissingEnv {
            var: spec.url_env.clone(),
        })?;
    let url = DbUrl::parse(&raw)?;
    // Refuse anything but one SELECT before a connection is even attempted.
    let inner = check_query(&spec.query, url.kind)?;
    let secs = spec.timeout_secs.max(1);
    tracing::info!(url = %url.redacted, since = ?req.since, limit = ?req.limit, "reading 前置库");
    let started = std::time::Instant::now();
    let out = tokio::time::timeout(
        Duration::from_secs(secs),
        fetch::run(&url, spec, &inner, req),
    )
    .await
    .map_err(|_| SqlError::Timeout {
        secs,
        url: url.redacted.clone(),
    })?;
    match &out {
        Ok(f) => tracing::info!(
            url = %url.redacted,
            rows = f.rows.len(),
            max_cursor = ?f.max_cursor,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "前置库 read done"
        ),
        Err(e) => tracing::warn!(url = %url.redacted, error = %e, "前置库 read failed"),
    }
    out
}
