//! Turning one result cell into the text an operator would see, one function per database.
//! Decoding is by type name; wire formats are parsed here so no extra sqlx features are needed.

use super::error::SqlError;
use super::spec::TextEncoding;
use super::text::{decode_mysql_binary, decode_raw, decode_text, repair_latin1_gbk};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use sqlx::mysql::MySqlRow;
use sqlx::postgres::{PgRow, PgValueFormat};
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row, TypeInfo, ValueRef};

type Cell = Result<Option<String>, SqlError>;

fn decode_err(row_col: (&str, &str), message: impl std::fmt::Display) -> SqlError {
    SqlError::Decode {
        column: row_col.0.to_string(),
        type_name: row_col.1.to_string(),
        message: message.to_string(),
    }
}

/// Accept text of an unknown type only if it looks like text (no control characters).
fn plausible_text(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

// ---------------------------------------------------------------- PostgreSQL

/// Decode column `i` of a PostgreSQL row.
pub fn pg_cell(row: &PgRow, i: usize, encoding: TextEncoding) -> Cell {
    let column = &row.columns()[i];
    let type_name = column.type_info().name().to_string();
    let ctx = (column.name(), type_name.as_str());
    let value = row.try_get_raw(i).map_err(|e| decode_err(ctx, e))?;
    if value.is_null() {
        return Ok(None);
    }
    let format = value.format();
    let bytes = value.as_bytes().map_err(|e| decode_err(ctx, e))?;
    if format == PgValueFormat::Text {
        // sqlx asks for binary results; text only arrives for types without a binary
        // form, and then it is PostgreSQL's own display text.
        return std::str::from_utf8(bytes)
            .map(|s| Some(s.to_string()))
            .map_err(|e| decode_err(ctx, e));
    }
    pg_binary(&type_name, bytes, encoding)
        .map(Some)
        .map_err(|m| decode_err(ctx, m))
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", bytes.len()))
}

fn pg_binary(type_name: &str, bytes: &[u8], encoding: TextEncoding) -> Result<String, String> {
    Ok(match type_name {
        "BOOL" => (fixed::<1>(bytes)?[0] != 0).to_string(),
        "INT2" => i16::from_be_bytes(fixed(bytes)?).to_string(),
        "INT4" => i32::from_be_bytes(fixed(bytes)?).to_string(),
        "INT8" => i64::from_be_bytes(fixed(bytes)?).to_string(),
        "OID" => u32::from_be_bytes(fixed(bytes)?).to_string(),
        "FLOAT4" => f32::from_be_bytes(fixed(bytes)?).to_string(),
        "FLOAT8" => f64::from_be_bytes(fixed(bytes)?).to_string(),
        "NUMERIC" => pg_numeric(bytes)?,
        "DATE" => {
            let days = i32::from_be_bytes(fixed(bytes)?);
            match days {
                i32::MAX => "infinity".into(),
                i32::MIN => "-infinity".into(),
                _ => pg_epoch()
                    .date()
                    .checked_add_signed(TimeDelta::days(days.into()))
                    .ok_or("date out of range")?
                    .format("%Y-%m-%d")
                    .to_string(),
            }
        }
        "TIMESTAMP" | "TIMESTAMPTZ" => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            let suffix = if type_name == "TIMESTAMPTZ" {
                "+00:00"
            } else {
                ""
            };
            match micros {
                i64::MAX => "infinity".into(),
                i64::MIN => "-infinity".into(),
                _ => {
                    let ts = pg_epoch()
                        .checked_add_signed(TimeDelta::microseconds(micros))
                        .ok_or("timestamp out of range")?;
                    format!("{}{suffix}", format_datetime(&ts))
                }
            }
        }
        "TIME" => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            format_clock(micros / 1_000_000, (micros % 1_000_000) as u32)
        }
        "UUID" => {
            let b: [u8; 16] = fixed(bytes)?;
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            )
        }
        "BYTEA" => decode_raw(bytes, encoding)?,
        "JSONB" => match bytes.split_first() {
            Some((1, rest)) => std::str::from_utf8(rest)
                .map_err(|e| e.to_string())?
                .to_string(),
            _ => return Err("unknown JSONB version".into()),
        },
        // TEXT, VARCHAR, CHAR (bpchar), NAME, JSON, XML, CITEXT, enum types, …: the binary
        // form of all text-like types is the UTF-8 text itself.
        _ => match std::str::from_utf8(bytes) {
            Ok(s) if plausible_text(s) => s.to_string(),
            _ => {
                return Err(
                    "unsupported type; cast it to text in the query, e.g. CAST(col AS TEXT)".into(),
                )
            }
        },
    })
}

fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM:SS`, plus `.ffffff` (trailing zeros trimmed) when there are fractions.
fn format_datetime(ts: &NaiveDateTime) -> String {
    let base = ts.format("%Y-%m-%d %H:%M:%S").to_string();
    let micros = ts.and_utc().timestamp_subsec_micros();
    format!("{base}{}", fraction(micros))
}

fn fraction(micros: u32) -> String {
    if micros == 0 {
        return String::new();
    }
    let digits = format!("{micros:06}");
    format!(".{}", digits.trim_end_matches('0'))
}

fn format_clock(total_secs: i64, micros: u32) -> String {
    let sign = if total_secs < 0 { "-" } else { "" };
    let s = total_secs.unsigned_abs();
    format!(
        "{sign}{:02}:{:02}:{:02}{}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        fraction(micros)
    )
}

/// PostgreSQL binary NUMERIC: ndigits, weight, sign, dscale, then base-10000 digits.
/// Printed exactly with `dscale` fraction digits, as `psql` shows it (`12.50`).
fn pg_numeric(bytes: &[u8]) -> Result<String, String> {
    let word = |k: usize| -> Result<u16, String> {
        bytes
            .get(k * 2..k * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated NUMERIC".to_string())
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i64;
    let sign = word(2)?;
    let dscale = word(3)? as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let mut digits = Vec::with_capacity(ndigits);
    for k in 0..ndigits {
        digits.push(word(4 + k)?);
    }
    let digit = |idx: i64| -> u16 {
        if idx < 0 {
            0
        } else {
            digits.get(idx as usize).copied().unwrap_or(0)
        }
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for idx in 0..=weight {
            if idx == 0 {
                out.push_str(&digit(idx).to_string());
            } else {
                out.push_str(&format!("{:04}", digit(idx)));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let mut idx = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(idx)));
            idx += 1;
        }
        frac.truncate(dscale);
        out.push('.');
        out.push_str(&frac);
    }
    if out == "-0" || (out.starts_with("-0.") && out[3..].bytes().all(|b| b == b'0')) {
        out.remove(0);
    }
    Ok(out)
}

// ---------------------------------------------------------------- MySQL / MariaDB

/// Decode column `i` of a MySQL/MariaDB row.
pub fn mysql_cell(row: &MySqlRow, i: usize, encoding: TextEncoding) -> Cell {
    let column = &row.columns()[i];
    let type_name = column.type_info().name().to_string();
    let ctx = (column.name(), type_name.as_str());
    let value = row.try_get_raw(i).map_err(|e| decode_err(ctx, e))?;
    if value.is_null() {
        return Ok(None);
    }
    let err = |e: sqlx::Error| decode_err(ctx, e);
    let raw = || row.try_get_unchecked::<&[u8], _>(i).map_err(err);
    let text = match type_name.as_str() {
        "BOOLEAN" => match row.try_get_unchecked::<i64, _>(i).map_err(err)? {
            0 => "false".to_string(),
            1 => "true".to_string(),
            n => n.to_string(),
        },
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => {
            row.try_get_unchecked::<i64, _>(i).map_err(err)?.to_string()
        }
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
        | "BIGINT UNSIGNED" | "YEAR" | "BIT" => {
            row.try_get_unchecked::<u64, _>(i).map_err(err)?.to_string()
        }
        "FLOAT" => row.try_get_unchecked::<f32, _>(i).map_err(err)?.to_string(),
        "DOUBLE" => row.try_get_unchecked::<f64, _>(i).map_err(err)?.to_string(),
        // DECIMAL travels as its exact decimal text in both wire formats.
        "DECIMAL" => ascii(raw()?).map_err(|m| decode_err(ctx, m))?,
        "DATE" | "DATETIME" | "TIMESTAMP" => {
            mysql_datetime(raw()?, &type_name).map_err(|m| decode_err(ctx, m))?
        }
        "TIME" => mysql_time(raw()?).map_err(|m| decode_err(ctx, m))?,
        // Text columns arrive in the connection character set (utf8mb4).
        "VARCHAR" | "CHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET"
        | "JSON" => {
            let s = decode_text(raw()?, encoding).map_err(|m| decode_err(ctx, m))?;
            match encoding {
                TextEncoding::Gbk => repair_latin1_gbk(&s).unwrap_or(s),
                TextEncoding::Utf8 => s,
            }
        }
        // Binary strings are sent untouched: decode them with the configured encoding.
        // (`_bin`-collated text columns carry the same flag; see `decode_mysql_binary`.)
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => {
            decode_mysql_binary(raw()?, encoding).map_err(|m| decode_err(ctx, m))?
        }
        "NULL" => return Ok(None),
        _ => match std::str::from_utf8(raw()?) {
            Ok(s) if plausible_text(s) => s.to_string(),
            _ => {
                return Err(decode_err(
                    ctx,
                    "unsupported type; convert it in the query, e.g. CAST(col AS CHAR)",
                ))
            }
        },
    };
    Ok(Some(text))
}

fn ascii(bytes: &[u8]) -> Result<String, String> {
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|e| e.to_string())
}

/// MySQL DATE/DATETIME/TIMESTAMP. The text protocol sends `2025-03-01 08:30:00`; the binary
/// protocol sends a length byte (0, 4, 7 or 11) and then year(2, LE), month, day, hour,
/// minute, second, microseconds(4, LE). The two cannot be confused: text starts with a digit.
fn mysql_datetime(bytes: &[u8], type_name: &str) -> Result<String, String> {
    let Some((&len, rest)) = bytes.split_first() else {
        return Err("empty value".into());
    };
    if len.is_ascii_digit() {
        return ascii(bytes);
    }
    if rest.len() != len as usize || !matches!(len, 0 | 4 | 7 | 11) {
        return Err(format!(
            "unexpected date/time encoding ({} bytes)",
            bytes.len()
        ));
    }
    let b = |k: usize| rest.get(k).copied().unwrap_or(0);
    let year = u16::from_le_bytes([b(0), b(1)]);
    let date = format!("{year:04}-{:02}-{:02}", b(2), b(3));
    if type_name == "DATE" {
        return Ok(date);
    }
    let micros = u32::from_le_bytes([b(7), b(8), b(9), b(10)]);
    Ok(format!(
        "{date} {:02}:{:02}:{:02}{}",
        b(4),
        b(5),
        b(6),
        fraction(micros)
    ))
}

/// MySQL TIME: text `HH:MM:SS`, or binary length (0, 8, 12), sign, days(4), h, m, s, µs(4).
fn mysql_time(bytes: &[u8]) -> Result<String, String> {
    let Some((&len, rest)) = bytes.split_first() else {
        return Err("empty value".into());
    };
    if len.is_ascii_digit() || len == b'-' {
        return ascii(bytes);
    }
    if rest.len() != len as usize || !matches!(len, 0 | 8 | 12) {
        return Err(format!("unexpected TIME encoding ({} bytes)", bytes.len()));
    }
    let b = |k: usize| rest.get(k).copied().unwrap_or(0);
    let days = u32::from_le_bytes([b(1), b(2), b(3), b(4)]) as i64;
    let secs = days * 86_400 + b(5) as i64 * 3600 + b(6) as i64 * 60 + b(7) as i64;
    let micros = u32::from_le_bytes([b(8), b(9), b(10), b(11)]);
    let text = format_clock(secs, micros);
    Ok(if b(0) == 1 { format!("-{text}") } else { text })
}

// ---------------------------------------------------------------- SQLite

/// Decode column `i` of a SQLite row. SQLite stores each value as INTEGER, REAL, TEXT or
/// BLOB whatever the column is declared as, so the stored kind decides; the declared type
/// only turns 0/1 in a BOOLEAN column into false/true.
pub fn sqlite_cell(row: &SqliteRow, i: usize, encoding: TextEncoding) -> Cell {
    let column = &row.columns()[i];
    let declared = column.type_info().name().to_string();
    let ctx = (column.name(), declared.as_str());
    let value = row.try_get_raw(i).map_err(|e| decode_err(ctx, e))?;
    if value.is_null() {
        return Ok(None);
    }
    let stored = value.type_info().name().to_string();
    let err = |e: sqlx::Error| decode_err(ctx, e);
    let text = match stored.as_str() {
        "INTEGER" => {
            let n = row.try_get_unchecked::<i64, _>(i).map_err(err)?;
            match (declared.as_str(), n) {
                ("BOOLEAN", 0) => "false".to_string(),
                ("BOOLEAN", 1) => "true".to_string(),
                _ => n.to_string(),
            }
        }
        "REAL" => row.try_get_unchecked::<f64, _>(i).map_err(err)?.to_string(),
        "TEXT" => decode_text(row.try_get_unchecked::<&[u8], _>(i).map_err(err)?, encoding)
            .map_err(|m| decode_err(ctx, m))?,
        "BLOB" => decode_raw(row.try_get_unchecked::<&[u8], _>(i).map_err(err)?, encoding)
            .map_err(|m| decode_err(ctx, m))?,
        other => {
            return Err(decode_err(
                ctx,
                format!("unexpected SQLite storage class {other}"),
            ))
        }
    };
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight as u16, sign, dscale].iter().chain(digits) {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_binary_is_exact() {
        // 12.50 = 12 | 5000, weight 0, dscale 2
        assert_eq!(
            pg_numeric(&numeric(2, 0, 0, 2, &[12, 5000])).unwrap(),
            "12.50"
        );
        // 0.0012 = weight -1, digit 12, dscale 4
        assert_eq!(pg_numeric(&numeric(1, -1, 0, 4, &[12])).unwrap(), "0.0012");
        // 0.00000012 = weight -2, digit 1200, dscale 8
        assert_eq!(
            pg_numeric(&numeric(1, -2, 0, 8, &[12])).unwrap(),
            "0.00000012"
        );
        // -123456789 = 1 | 2345 | 6789, weight 2
        assert_eq!(
            pg_numeric(&numeric(3, 2, 0x4000, 0, &[1, 2345, 6789])).unwrap(),
            "-123456789"
        );
        // 10000 = weight 1, digit 1 (trailing zero group stripped), dscale 0
        assert_eq!(pg_numeric(&numeric(1, 1, 0, 0, &[1])).unwrap(), "10000");
        assert_eq!(pg_numeric(&numeric(0, 0, 0, 2, &[])).unwrap(), "0.00");
        assert!(pg_numeric(&[0, 1]).is_err());
    }

    #[test]
    fn mysql_binary_dates() {
        let d = [4u8, 0xE9, 0x07, 3, 1];
        assert_eq!(mysql_datetime(&d, "DATE").unwrap(), "2025-03-01");
        let dt = [7u8, 0xE9, 0x07, 3, 1, 8, 30, 5];
        assert_eq!(
            mysql_datetime(&dt, "DATETIME").unwrap(),
            "2025-03-01 08:30:05"
        );
        assert_eq!(
            mysql_datetime(b"2025-03-01 08:30:05", "DATETIME").unwrap(),
            "2025-03-01 08:30:05"
        );
        assert_eq!(
            mysql_time(&[8, 0, 1, 0, 0, 0, 2, 3, 4]).unwrap(),
            "26:03:04"
        );
        assert!(mysql_datetime(&[9, 1], "DATE").is_err());
    }
}
