//! Bulk inserts: PostgreSQL takes rows by `COPY … FROM STDIN` (one stream per table, no
//! statement per row or per chunk); SQLite by multi-row INSERTs of `CHUNK` rows.

use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;

use sqlx::{Postgres, Sqlite};

use super::CHUNK;

/// One value of a row to insert.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    Null,
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Real(v)
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}

impl From<Vec<u8>> for Cell {
    fn from(v: Vec<u8>) -> Cell {
        Cell::Bytes(v)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, Into::into)
    }
}

type Done<'c> = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;

/// A database that can take many rows at once.
pub(crate) trait Bulk: sqlx::Database {
    /// Inserts `rows` into `table (columns)`; with `ignore_conflicts`, rows whose key is
    /// already there are skipped. Rows are made as they are sent, never all at once.
    fn insert<'c>(
        conn: &'c mut Self::Connection,
        table: &'c str,
        columns: &'c str,
        rows: impl Iterator<Item = Vec<Cell>> + Send + 'c,
        ignore_conflicts: bool,
    ) -> Done<'c>;
}

impl Bulk for Sqlite {
    fn insert<'c>(
        conn: &'c mut Self::Connection,
        table: &'c str,
        columns: &'c str,
        mut rows: impl Iterator<Item = Vec<Cell>> + Send + 'c,
        ignore_conflicts: bool,
    ) -> Done<'c> {
        Box::pin(async move {
            loop {
                let chunk: Vec<Vec<Cell>> = rows.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                let mut qb =
                    sqlx::QueryBuilder::<Sqlite>::new(format!("INSERT INTO {table} ({columns}) "));
                // The rows are moved into the statement, not copied again.
                qb.push_values(chunk, |mut b, row| {
                    for cell in row {
                        match cell {
                            Cell::Int(v) => b.push_bind(v),
                            Cell::Real(v) => b.push_bind(v),
                            Cell::Text(v) => b.push_bind(v),
                            Cell::Bytes(v) => b.push_bind(v),
                            Cell::Null => b.push_bind(None::<String>),
                        };
                    }
                });
                if ignore_conflicts {
                    qb.push(" ON CONFLICT DO NOTHING");
                }
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        })
    }
}

/// Bytes sent to the server per `COPY` message.
const COPY_BUFFER: usize = 1 << 20;

impl Bulk for Postgres {
    fn insert<'c>(
        conn: &'c mut Self::Connection,
        table: &'c str,
        columns: &'c str,
        rows: impl Iterator<Item = Vec<Cell>> + Send + 'c,
        ignore_conflicts: bool,
    ) -> Done<'c> {
        let mut rows = rows.peekable();
        Box::pin(async move {
            if rows.peek().is_none() {
                return Ok(());
            }
            // COPY knows no ON CONFLICT: such rows go through a temporary table first.
            let target = if ignore_conflicts {
                sqlx::query(&format!(
                    "CREATE TEMPORARY TABLE IF NOT EXISTS bulk_{table} \
                     (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
                ))
                .execute(&mut *conn)
                .await?;
                sqlx::query(&format!("TRUNCATE bulk_{table}"))
                    .execute(&mut *conn)
                    .await?;
                format!("bulk_{table}")
            } else {
                table.to_string()
            };
            let mut copy = conn
                .copy_in_raw(&format!("COPY {target} ({columns}) FROM STDIN"))
                .await?;
            let mut buf: Vec<u8> = Vec::with_capacity(COPY_BUFFER + 4096);
            for row in rows {
                copy_row(&mut buf, &row);
                if buf.len() >= COPY_BUFFER {
                    copy.send(std::mem::take(&mut buf)).await?;
                    buf.reserve(COPY_BUFFER + 4096);
                }
            }
            if !buf.is_empty() {
                copy.send(buf).await?;
            }
            copy.finish().await?;
            if ignore_conflicts {
                sqlx::query(&format!(
                    "INSERT INTO {table} ({columns}) SELECT {columns} FROM {target} \
                     ON CONFLICT DO NOTHING"
                ))
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        })
    }
}

/// One row in COPY's text format: tab-separated, `\N` for NULL, backslash escapes, BYTEA as
/// `\\x` + hex.
fn copy_row(buf: &mut Vec<u8>, row: &[Cell]) {
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        match cell {
            Cell::Int(v) => {
                let _ = write!(buf, "{v}");
            }
            Cell::Real(v) => buf.extend_from_slice(real(*v).as_bytes()),
            Cell::Text(s) => {
                for &b in s.as_bytes() {
                    match b {
                        b'\\' => buf.extend_from_slice(b"\\\\"),
                        b'\n' => buf.extend_from_slice(b"\\n"),
                        b'\r' => buf.extend_from_slice(b"\\r"),
                        b'\t' => buf.extend_from_slice(b"\\t"),
                        _ => buf.push(b),
                    }
                }
            }
            Cell::Bytes(v) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\\\x");
                for &b in v {
                    buf.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
                }
            }
            Cell::Null => buf.extend_from_slice(b"\\N"),
        }
    }
    buf.push(b'\n');
}

/// A float as PostgreSQL reads it (`Infinity`, not Rust's `inf`).
fn real(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape_what_the_text_format_reserves() {
        let mut buf = Vec::new();
        copy_row(
            &mut buf,
            &[
                Cell::Int(7),
                Cell::Text("a\tb\nc\\d\re".into()),
                Cell::Null,
                Cell::Bytes(vec![0, 255, 16]),
                Cell::Real(0.25),
                Cell::Real(f64::INFINITY),
            ],
        );
        assert_eq!(
            String::from_utf8(buf).expect("utf-8"),
            "7\ta\\tb\\nc\\\\d\\re\t\\N\t\\\\x00ff10\t0.25\tInfinity\n"
        );
    }
}
