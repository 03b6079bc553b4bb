//! Connecting read-only, wrapping the operator's query for `since`/preview, and reading rows.
//! One function per database kind; the SQL text they share is built by pure helpers here.

use super::error::SqlError;
use super::spec::{SqlSource, TextEncoding};
use super::url::{DbKind, DbUrl};
use super::value::{mysql_cell, pg_cell, sqlite_cell};
use super::SqlFetch;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Column, Connection, Executor, Statement, TypeInfo};
use std::cmp::Ordering;
use std::str::FromStr;

/// What to read: everything newer than `since` (with a cursor column), or a preview.
#[derive(Debug, Clone, Copy)]
pub(super) struct Request<'a> {
    pub since: Option<&'a str>,
    pub limit: Option<usize>,
}

/// Columns of a prepared statement: (name, type name).
type Columns = Vec<(String, String)>;

fn columns_of<'q, S: Statement<'q>>(stmt: &S) -> Columns {
    stmt.columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_info().name().to_string()))
        .collect()
}

pub(super) async fn run(
    url: &DbUrl,
    spec: &SqlSource,
    inner: &str,
    req: Request<'_>,
) -> Result<SqlFetch, SqlError> {
    let (headers, rows) = match url.kind {
        DbKind::Postgres => run_pg(url, spec, inner, req).await?,
        DbKind::MySql => run_mysql(url, spec, inner, req).await?,
        DbKind::Sqlite => run_sqlite(url, spec, inner, req).await?,
    };
    let max_cursor = match &spec.cursor_column {
        Some(col) => {
            let idx = find_column(&headers, col).ok_or_else(|| missing_cursor(col, &headers))?;
            max_text(
                rows.iter()
                    .filter_map(|r| r.get(idx).and_then(|v| v.as_deref())),
            )
        }
        None => None,
    };
    Ok(SqlFetch {
        headers,
        rows,
        max_cursor,
    })
}

fn connect_err(url: &DbUrl, e: sqlx::Error) -> SqlError {
    SqlError::Connect {
        url: url.redacted.clone(),
        message: url.scrub(&e.to_string()),
    }
}

fn query_err(url: &DbUrl) -> impl Fn(sqlx::Error) -> SqlError + '_ {
    move |e| SqlError::Query {
        url: url.redacted.clone(),
        message: url.scrub(&e.to_string()),
    }
}

fn bad_url(url: &DbUrl, e: sqlx::Error) -> SqlError {
    SqlError::BadUrl {
        url: url.redacted.clone(),
        reason: url.scrub(&e.to_string()),
    }
}

fn missing_cursor(col: &str, headers: &[String]) -> SqlError {
    SqlError::CursorColumnMissing {
        column: col.to_string(),
        headers: headers.join(", "),
    }
}

/// Exact match first, then a unique case-insensitive one (PostgreSQL folds to lower case).
fn find_column<S: AsRef<str>>(headers: &[S], wanted: &str) -> Option<usize> {
    if let Some(i) = headers.iter().position(|h| h.as_ref() == wanted) {
        return Some(i);
    }
    let mut hits = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.as_ref().eq_ignore_ascii_case(wanted));
    match (hits.next(), hits.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// Find the cursor column among the inner query's columns: (exact name, type name).
fn cursor_of(spec: &SqlSource, cols: &Columns) -> Result<(String, String), SqlError> {
    let wanted = spec.cursor_column.as_deref().unwrap_or_default();
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    find_column(&names, wanted)
        .map(|i| cols[i].clone())
        .ok_or_else(|| {
            missing_cursor(
                wanted,
                &cols.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            )
        })
}

fn quote_ident(kind: DbKind, name: &str) -> String {
    match kind {
        DbKind::MySql => format!("`{}`", name.replace('`', "``")),
        DbKind::Postgres | DbKind::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// The condition `cursor > since`, compared in the cursor column's own type.
/// PostgreSQL needs the text parameter cast to that type; MySQL and SQLite convert by
/// themselves (MySQL: string to DATETIME/number; SQLite: column affinity).
fn cursor_condition(kind: DbKind, column: &str, type_name: &str) -> String {
    let col = format!("src.{}", quote_ident(kind, column));
    match kind {
        DbKind::Postgres => match type_name {
            "INT2" | "INT4" | "INT8" | "OID" | "NUMERIC" | "FLOAT4" | "FLOAT8" | "DATE"
            | "TIMESTAMP" | "TIMESTAMPTZ" | "TIME" | "UUID" => {
                format!("{col} > CAST(CAST($1 AS TEXT) AS {type_name})")
            }
            _ => format!("CAST({col} AS TEXT) > CAST($1 AS TEXT)"),
        },
        DbKind::MySql => format!("{col} > ?"),
        DbKind::Sqlite => format!("{col} > ?1"),
    }
}

/// The SQL actually sent. The operator's query is left alone unless it must be nested.
fn final_sql(inner: &str, condition: Option<&str>, limit: Option<usize>) -> String {
    if condition.is_none() && limit.is_none() {
        return inner.to_string();
    }
    let mut sql = format!("SELECT * FROM (\n{inner}\n) AS src");
    if let Some(cond) = condition {
        sql.push_str(" WHERE ");
        sql.push_str(cond);
    }
    if let Some(n) = limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    sql
}

type Table = (Vec<String>, Vec<Vec<Option<String>>>);

fn decode_rows<R>(
    rows: &[R],
    width: usize,
    encoding: TextEncoding,
    cell: fn(&R, usize, TextEncoding) -> Result<Option<String>, SqlError>,
) -> Result<Vec<Vec<Option<String>>>, SqlError> {
    rows.iter()
        .map(|r| (0..width).map(|i| cell(r, i, encoding)).collect())
        .collect()
}

async fn run_pg(
    url: &DbUrl,
    spec: &SqlSource,
    inner: &str,
    req: Request<'_>,
) -> Result<Table, SqlError> {
    let opts = PgConnectOptions::from_str(&url.url)
        .map_err(|e| bad_url(url, e))?
        .options([("default_transaction_read_only", "on")]);
    let mut conn = PgConnection::connect_with(&opts)
        .await
        .map_err(|e| connect_err(url, e))?;
    let qe = query_err(url);
    let result = async {
        let mut tx = conn.begin_with("BEGIN READ ONLY").await.map_err(&qe)?;
        let condition = match (&spec.cursor_column, req.since) {
            (Some(_), Some(_)) => {
                let cols = columns_of(&(&mut *tx).prepare(inner).await.map_err(&qe)?);
                let (name, ty) = cursor_of(spec, &cols)?;
                Some(cursor_condition(DbKind::Postgres, &name, &ty))
            }
            _ => None,
        };
        let sql = final_sql(inner, condition.as_deref(), req.limit);
        let stmt = (&mut *tx).prepare(&sql).await.map_err(&qe)?;
        let headers: Vec<String> = columns_of(&stmt).into_iter().map(|c| c.0).collect();
        let mut query = stmt.query();
        if let (Some(since), Some(_)) = (req.since, &condition) {
            query = query.bind(since.to_string());
        }
        let rows = query.fetch_all(&mut *tx).await.map_err(&qe)?;
        let rows = decode_rows(&rows, headers.len(), spec.encoding, pg_cell)?;
        tx.rollback().await.map_err(&qe)?;
        Ok((headers, rows))
    }
    .await;
    let _ = conn.close().await;
    result
}

async fn run_mysql(
    url: &DbUrl,
    spec: &SqlSource,
    inner: &str,
    req: Request<'_>,
) -> Result<Table, SqlError> {
    // Keep the server's own time zone and SQL mode so values and operators (`||`) look
    // exactly as in the operator's mysql client.
    let opts = MySqlConnectOptions::from_str(&url.url)
        .map_err(|e| bad_url(url, e))?
        .timezone(None)
        .pipes_as_concat(false);
    let mut conn = MySqlConnection::connect_with(&opts)
        .await
        .map_err(|e| connect_err(url, e))?;
    let qe = query_err(url);
    let result = async {
        let mut tx = conn
            .begin_with("START TRANSACTION READ ONLY")
            .await
            .map_err(&qe)?;
        let condition = match (&spec.cursor_column, req.since) {
            (Some(_), Some(_)) => {
                let cols = columns_of(&(&mut *tx).prepare(inner).await.map_err(&qe)?);
                let (name, ty) = cursor_of(spec, &cols)?;
                Some(cursor_condition(DbKind::MySql, &name, &ty))
            }
            _ => None,
        };
        let sql = final_sql(inner, condition.as_deref(), req.limit);
        let stmt = (&mut *tx).prepare(&sql).await.map_err(&qe)?;
        let headers: Vec<String> = columns_of(&stmt).into_iter().map(|c| c.0).collect();
        let mut query = stmt.query();
        if let (Some(since), Some(_)) = (req.since, &condition) {
            query = query.bind(since.to_string());
        }
        let rows = query.fetch_all(&mut *tx).await.map_err(&qe)?;
        let rows = decode_rows(&rows, headers.len(), spec.encoding, mysql_cell)?;
        tx.rollback().await.map_err(&qe)?;
        Ok((headers, rows))
    }
    .await;
    let _ = conn.close().await;
    result
}

async fn run_sqlite(
    url: &DbUrl,
    spec: &SqlSource,
    inner: &str,
    req: Request<'_>,
) -> Result<Table, SqlError> {
    let opts = SqliteConnectOptions::from_str(&url.url)
        .map_err(|e| bad_url(url, e))?
        .read_only(true)
        .create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| connect_err(url, e))?;
    let qe = query_err(url);
    let result = async {
        let condition = match (&spec.cursor_column, req.since) {
            (Some(_), Some(_)) => {
                let cols = columns_of(&(&mut conn).prepare(inner).await.map_err(&qe)?);
                let (name, ty) = cursor_of(spec, &cols)?;
                Some(cursor_condition(DbKind::Sqlite, &name, &ty))
            }
            _ => None,
        };
        let sql = final_sql(inner, condition.as_deref(), req.limit);
        let stmt = (&mut conn).prepare(&sql).await.map_err(&qe)?;
        let headers: Vec<String> = columns_of(&stmt).into_iter().map(|c| c.0).collect();
        let mut query = stmt.query();
        if let (Some(since), Some(_)) = (req.since, &condition) {
            query = query.bind(since.to_string());
        }
        let rows = query.fetch_all(&mut conn).await.map_err(&qe)?;
        let rows = decode_rows(&rows, headers.len(), spec.encoding, sqlite_cell)?;
        Ok((headers, rows))
    }
    .await;
    let _ = conn.close().await;
    result
}

/// The greatest of the cursor values: numerically when all look like numbers, otherwise as
/// text (which orders `YYYY-MM-DD HH:MM:SS` timestamps correctly).
fn max_text<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let values: Vec<&str> = values.collect();
    let numeric = !values.is_empty() && values.iter().all(|v| v.trim().parse::<f64>().is_ok());
    values
        .into_iter()
        .max_by(|a, b| {
            if numeric {
                compare_numbers(a, b)
            } else {
                a.cmp(b)
            }
        })
        .map(str::to_string)
}

fn compare_numbers(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<i128>(), b.trim().parse::<i128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => {
            let x = a.trim().parse::<f64>().unwrap_or(f64::NAN);
            let y = b.trim().parse::<f64>().unwrap_or(f64::NAN);
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_cursor_orders_numbers_and_timestamps() {
        assert_eq!(
            max_text(["9", "10", "2"].into_iter()).as_deref(),
            Some("10")
        );
        assert_eq!(
            max_text(["9.5", "10.25"].into_iter()).as_deref(),
            Some("10.25")
        );
        assert_eq!(
            max_text(["2025-03-01 08:30:00", "2025-03-02 00:00:00"].into_iter()).as_deref(),
            Some("2025-03-02 00:00:00")
        );
        assert_eq!(max_text(std::iter::empty()), None);
    }

    #[test]
    fn sql_wrapping() {
        assert_eq!(final_sql("SELECT 1", None, None), "SELECT 1");
        assert_eq!(
            final_sql("SELECT a FROM t", Some("src.\"a\" > ?1"), Some(5)),
            "SELECT * FROM (\nSELECT a FROM t\n) AS src WHERE src.\"a\" > ?1 LIMIT 5"
        );
        assert_eq!(
            cursor_condition(DbKind::Postgres, "up\"d", "TIMESTAMP"),
            "src.\"up\"\"d\" > CAST(CAST($1 AS TEXT) AS TIMESTAMP)"
        );
        assert_eq!(
            cursor_condition(DbKind::MySql, "a`b", "DATETIME"),
            "src.`a``b` > ?"
        );
        assert_eq!(find_column(&["ID", "name"], "id"), Some(0));
        assert_eq!(find_column(&["a", "A"], "x"), None);
    }
}
