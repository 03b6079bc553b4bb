//! Reads a connector's `[http]` or `[sql]` source into the same `SourceBatch` the file readers
//! give: each record becomes a row whose headers are its field names, mapped and quarantined alike.

use std::path::PathBuf;

use crate::ingest::spec::ConnectorSpec;

use super::table::{Cell, DataRow, TableItem};
use super::{count_invalid, FileStats, IngestError, Plan, RejectContext, Sink, SourceBatch};

/// Where secrets come from: the process environment, or a test's map.
pub type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// What a remote pull brought: the mapped batch, and the greatest cursor value seen (for an
/// incremental connector; pass it as `since` next time).
#[derive(Debug, Default)]
pub struct RemoteBatch {
    pub batch: SourceBatch,
    pub max_cursor: Option<String>,
}

/// Rows fetched from a remote source, before mapping.
struct Fetched {
    /// Shown as the "file" of a reject: the URL or `sql`.
    origin: String,
    headers: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
    bytes: u64,
}

/// Whether the connector can pull only what changed since a cursor.
pub fn is_incremental(spec: &ConnectorSpec) -> bool {
    spec.http.as_ref().is_some_and(|h| h.incremental.is_some())
        || spec.sql.as_ref().is_some_and(|q| q.cursor_column.is_some())
}

/// Fetches and maps a remote source (only `[http]` and `[sql]` connectors are remote); with
/// `since`, an incremental connector brings only records changed after that cursor.
pub async fn read_remote(
    spec: &ConnectorSpec,
    env: Env<'_>,
    since: Option<&str>,
) -> Result<RemoteBatch, IngestError> {
    let (fetched, max_cursor) = if let Some(http) = &spec.http {
        let got = super::http::fetch(http, env, since).await?;
        (from_json(&http.url, &got.records), got.max_cursor)
    } else if let Some(sql) = &spec.sql {
        let got = super::sql::fetch(sql, env, since).await?;
        let max_cursor = got.max_cursor.clone();
        (from_sql(got), max_cursor)
    } else {
        return Err(IngestError::NotRemote(spec.id.clone()));
    };
    Ok(RemoteBatch {
        batch: map_rows(spec, fetched)?,
        max_cursor,
    })
}

/// The first `n` records of a remote source, mapped (`yingbao preview`, `check --connect`):
/// one page or one `LIMIT n` query, nothing stored.
pub async fn preview_remote(
    spec: &ConnectorSpec,
    env: Env<'_>,
    n: usize,
) -> Result<SourceBatch, IngestError> {
    let fetched = if let Some(http) = &spec.http {
        from_json(&http.url, &super::http::preview(http, env, n).await?)
    } else if let Some(sql) = &spec.sql {
        from_sql(super::sql::preview(sql, env, n).await?)
    } else {
        return Err(IngestError::NotRemote(spec.id.clone()));
    };
    map_rows(spec, fetched)
}

/// JSON records as rows: every field name (nested ones dotted) is a header.
fn from_json(url: &str, records: &[serde_json::Map<String, serde_json::Value>]) -> Fetched {
    let mut headers: Vec<String> = Vec::new();
    let mut position: std::collections::HashMap<String, usize> = Default::default();
    let mut rows = Vec::with_capacity(records.len());
    let mut bytes = 0u64;
    for record in records {
        let mut row: Vec<Option<String>> = vec![None; headers.len()];
        for (key, value) in super::http::flatten(record) {
            bytes += (key.len() + value.len()) as u64;
            let at = *position.entry(key.clone()).or_insert_with(|| {
                headers.push(key);
                headers.len() - 1
            });
            if row.len() <= at {
                row.resize(at + 1, None);
            }
            row[at] = Some(value);
        }
        rows.push(row);
    }
    Fetched {
        origin: url.to_string(),
        headers,
        rows,
        bytes,
    }
}

fn from_sql(got: super::sql::SqlFetch) -> Fetched {
    let bytes = got
        .rows
        .iter()
        .flatten()
        .map(|c| c.as_ref().map_or(0, |s| s.len() as u64))
        .sum();
    Fetched {
        origin: "sql".into(),
        headers: got.headers,
        rows: got.rows,
        bytes,
    }
}

fn map_rows(spec: &ConnectorSpec, fetched: Fetched) -> Result<SourceBatch, IngestError> {
    let path = PathBuf::from(&fetched.origin);
    let stats = FileStats {
        path: path.clone(),
        encoding: None,
        malformed_bytes: 0,
        rows: fetched.rows.len(),
        bytes: fetched.bytes,
        exported_on: None,
        cut_short: None,
        filled: Default::default(),
    };
    if fetched.rows.is_empty() {
        // An empty feed is not a mapping error: the snapshot rules decide what it means.
        return Ok(SourceBatch {
            files: vec![stats],
            ..Default::default()
        });
    }
    let plan = Plan::new(spec, &fetched.headers).map_err(|source| IngestError::Mapping {
        source: Box::new(source),
        path,
        connector: spec.id.clone(),
    })?;
    let ctx = RejectContext {
        source: spec.id.clone(),
        file: fetched.origin.clone(),
    };
    let mut sink = Sink::new(spec, ctx);
    let width = fetched.headers.len();
    let mask = plan.mask();
    for (i, row) in fetched.rows.into_iter().enumerate() {
        // Unmapped and personal fields are dropped here, before anything reads them.
        let mut cells: Vec<Cell> = row
            .into_iter()
            .enumerate()
            .map(|(at, c)| match c {
                Some(text) if mask.keeps(at) && !text.trim().is_empty() => Cell::Text(text),
                _ => Cell::Empty,
            })
            .collect();
        cells.resize(width, Cell::Empty);
        // Record numbers count from 1, as an operator reads a list.
        sink.take(
            &plan,
            TableItem::Row(DataRow {
                number: i + 1,
                cells,
            }),
        );
    }
    let mut batch = sink.finish();
    batch.files.push(stats);
    batch.invalid_uscc = count_invalid(&batch.observations);
    Ok(batch)
}
