//! Parsers for values as government exports write them: dates in many shapes and Excel serials,
//! counts with units, revenue, codes with full-width characters, hazard-factor lists.
//! Blank is `Ok(None)`; an unparsable value is a `ValueError`, never a guess.

use std::borrow::Cow;

use chrono::{Duration, NaiveDate};
use thiserror::Error;

use super::personal::{self, Personal};
use super::table::{number_text, Cell};
use crate::domain::cell_text::clean_controls;
use crate::ingest::spec::RevenueUnit;

/// Why a value could not be read. The message is shown to operators in the quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    #[error("not a date")]
    NotADate,
    #[error("not a valid calendar date")]
    BadCalendarDate,
    #[error("number {0} is not a plausible Excel date (1950–2099)")]
    ImplausibleSerial(String),
    #[error("not a whole non-negative number")]
    NotACount,
    #[error("number too large")]
    TooLarge,
    #[error("not a number")]
    NotANumber,
    #[error("not a GB/T 4754 industry code: {0}")]
    NotAnIndustryCode(crate::domain::industry::CodeError),
    #[error("region code must be 9 or 12 digits")]
    BadRegionCode,
}

/// The most characters one cell may hold: Excel's own limit for a cell. No employer fact is
/// longer; a longer value is dropped before anything reads it (an XLSX reader passes on at most
/// one character more, so that even a cell of hundreds of megabytes is never copied).
pub use crate::domain::cell_text::MAX_CELL_CHARS;

/// Why a cell's value is neither kept nor shown in the quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Withheld {
    #[error("{}", .0.reason())]
    Personal(Personal),
    #[error(
        "value longer than {MAX_CELL_CHARS} characters (Excel's limit for one cell); not stored"
    )]
    TooLong,
}

/// A mapped cell as ingest may use it: no longer than [`MAX_CELL_CHARS`], control characters
/// cleaned (tab, CR and LF become a space; NUL, the other C0 and C1 controls and DEL go; the
/// parsers trim), and — for a field kept as text (`text_field`) — holding no personal number
/// ([`personal::find`]). Borrows the cell when nothing changes, as for ordinary data.
pub fn admit(cell: &Cell, text_field: bool) -> Result<Cow<'_, Cell>, Withheld> {
    let cell = match cell {
        Cell::Text(s) => {
            if too_long(s) {
                return Err(Withheld::TooLong);
            }
            match clean_controls(s) {
                Cow::Borrowed(_) => Cow::Borrowed(cell),
                Cow::Owned(clean) => Cow::Owned(Cell::Text(clean)),
            }
        }
        Cell::Number(_) | Cell::Date(_) | Cell::Empty => Cow::Borrowed(cell),
    };
    if text_field {
        let found = match cell.as_ref() {
            Cell::Text(s) => personal::find(s),
            Cell::Number(n) => personal::find(&number_text(*n)),
            Cell::Date(_) | Cell::Empty => None,
        };
        if let Some(kind) = found {
            return Err(Withheld::Personal(kind));
        }
    }
    Ok(cell)
}

/// A key cell's text (record key, group key): control characters other than tab, CR and LF
/// removed, then trimmed. Tab and line breaks stay as the file wrote them so that the keys of
/// ordinary records (an Excel line break inside a name) do not change from one version to the
/// next; a NUL, which no database text column holds, does not reach a key.
pub fn key_text(cell: &Cell) -> Result<String, Withheld> {
    let text = cell.key_text();
    if too_long(&text) {
        return Err(Withheld::TooLong);
    }
    if !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Ok(text);
    }
    Ok(text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .trim()
        .to_string())
}

/// More than [`MAX_CELL_CHARS`] characters (bytes counted first: most text is far shorter).
fn too_long(s: &str) -> bool {
    s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS
}

/// Serial numbers accepted as Excel dates: 1950-01-01 ..= 2099-12-31.
const SERIAL_MIN: f64 = 18_264.0;
const SERIAL_MAX: f64 = 73_050.0;

/// Cell texts that mean "nothing here" in exports.
const PLACEHOLDERS: &[&str] = &[
    "-", "--", "—", "——", "/", "null", "NULL", "Null", "N/A", "n/a", "#N/A",
];

fn is_placeholder(s: &str) -> bool {
    PLACEHOLDERS.contains(&s)
}

/// Full-width ASCII (U+FF01–FF5E) and the ideographic space to half-width.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Full-width digits only (for numbers and dates in otherwise Chinese text such as `２０２４年`).
fn fold_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}'
            | '\u{FF0C}'
            | '\u{FF0E}'
            | '\u{FF0F}'
            | '\u{FF0D}'
            | '\u{FF1A}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Trimmed text with inner whitespace runs collapsed to one space. Characters are kept as
/// written (names are normalised later, by resolution).
pub fn parse_text(cell: &Cell) -> Result<Option<String>, ValueError> {
    let raw = match cell {
        Cell::Empty => return Ok(None),
        Cell::Text(s) => s.as_str(),
        other => return Ok(Some(other.key_text())),
    };
    let mut out = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() || is_placeholder(&out) {
        Ok(None)
    } else {
        Ok(Some(out))
    }
}

/// A code-like value (USCC, tax id, region code, industry code): full-width folded to
/// half-width, all whitespace removed, numbers printed without `.0`.
pub fn parse_code(cell: &Cell) -> Result<Option<String>, ValueError> {
    let raw = match cell {
        Cell::Empty => return Ok(None),
        Cell::Text(s) => s.as_str(),
        other => return Ok(Some(other.key_text())),
    };
    let out: String = fold_width(raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if out.is_empty() || is_placeholder(&out) {
        Ok(None)
    } else {
        Ok(Some(out))
    }
}

/// A 9-digit township or 12-digit village region code.
pub fn parse_region_code(cell: &Cell) -> Result<Option<String>, ValueError> {
    match parse_code(cell)? {
        None => Ok(None),
        Some(code) if matches!(code.len(), 9 | 12) && code.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(code))
        }
        Some(_) => Err(ValueError::BadRegionCode),
    }
}

/// A date: `2024-01-05`, `2024/1/5`, `2024.1.5`, `2024年1月5日`, `20240105`,
/// `2024-01-05 08:30:00`, full-width digits, Excel date cells and plausible Excel serials.
pub fn parse_date(cell: &Cell) -> Result<Option<NaiveDate>, ValueError> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Number(n) => number_date(*n).map(Some),
        Cell::Text(s) => parse_date_str(s),
    }
}

/// A date from a string (see [`parse_date`]).
pub fn parse_date_str(raw: &str) -> Result<Option<NaiveDate>, ValueError> {
    let folded = fold_digits(raw);
    let s = folded.trim();
    if s.is_empty() || is_placeholder(s) {
        return Ok(None);
    }
    // Drop a time part: `2024-01-05 08:30:00`, `2024-01-05T08:30:00`.
    let date_part = s.split([' ', 'T']).next().unwrap_or(s).trim();
    if date_part.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let digits = date_part.bytes().filter(u8::is_ascii_digit).count();
        if digits == 8 && !date_part.contains('.') {
            return ymd(&date_part[..4], &date_part[4..6], &date_part[6..8]).map(Some);
        }
        if !date_part.contains('.') || date_part.matches('.').count() == 1 {
            if let Ok(n) = date_part.parse::<f64>() {
                if date_part.split('.').next().map_or(0, str::len) <= 5 {
                    return number_date(n).map(Some);
                }
            }
        }
    }
    let mut norm = String::with_capacity(date_part.len());
    for c in date_part.chars() {
        match c {
            '年' | '月' | '-' | '/' | '.' => norm.push('-'),
            '日' | '号' => {}
            c if c.is_ascii_digit() => norm.push(c),
            _ => return Err(ValueError::NotADate),
        }
    }
    let parts: Vec<&str> = norm.trim_end_matches('-').split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()) => {
            ymd(y, m, d).map(Some)
        }
        _ => Err(ValueError::NotADate),
    }
}

fn ymd(y: &str, m: &str, d: &str) -> Result<NaiveDate, ValueError> {
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return Err(ValueError::NotADate);
    };
    NaiveDate::from_ymd_opt(y, m, d).ok_or(ValueError::BadCalendarDate)
}

/// A number in a date field: an 8-digit `20240105`, or an Excel serial in the plausible range.
fn number_date(n: f64) -> Result<NaiveDate, ValueError> {
    if n.fract() == 0.0 && (19_000_101.0..=21_001_231.0).contains(&n) {
        let s = number_text(n);
        return ymd(&s[..4], &s[4..6], &s[6..8]);
    }
    excel_serial_date(n).ok_or_else(|| ValueError::ImplausibleSerial(number_text(n)))
}

/// An Excel (1900 system) serial number as a date, if it lies in 1950–2099.
pub fn excel_serial_date(n: f64) -> Option<NaiveDate> {
    if !(SERIAL_MIN..SERIAL_MAX + 1.0).contains(&n) {
        return None;
    }
    // Serials from 61 on count days from 1899-12-30 (Excel's fictitious 1900-02-29 aside).
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    epoch.checked_add_signed(Duration::days(n.floor() as i64))
}

/// A head count: `12`, `１２`, `12人`, `1,234`, `12.0`.
pub fn parse_count(cell: &Cell) -> Result<Option<u32>, ValueError> {
    let n = match cell {
        Cell::Empty => return Ok(None),
        Cell::Date(_) => return Err(ValueError::NotACount),
        Cell::Number(n) => *n,
        Cell::Text(s) => {
            let folded = fold_digits(s);
            let t = folded.trim();
            if t.is_empty() || is_placeholder(t) {
                return Ok(None);
            }
            let t = t.trim_end_matches(['人', '名', '个', '位']).trim_end();
            let cleaned: String = t.chars().filter(|c| *c != ',' && *c != ' ').collect();
            if cleaned.is_empty() || !cleaned.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(ValueError::NotACount);
            }
            cleaned.parse::<f64>().map_err(|_| ValueError::NotACount)?
        }
    };
    if !n.is_finite() || n < 0.0 || n.fract() != 0.0 {
        return Err(ValueError::NotACount);
    }
    if n > f64::from(u32::MAX) {
        return Err(ValueError::TooLarge);
    }
    Ok(Some(n as u32))
}

/// A decimal amount in 万元. `unit` is the feed's unit; a `万元`/`元` suffix in the cell wins.
pub fn parse_revenue(cell: &Cell, unit: RevenueUnit) -> Result<Option<f64>, ValueError> {
    let (n, unit) = match cell {
        Cell::Empty => return Ok(None),
        Cell::Date(_) => return Err(ValueError::NotANumber),
        Cell::Number(n) => (*n, unit),
        Cell::Text(s) => {
            let folded = fold_digits(s);
            let mut t = folded.trim();
            if t.is_empty() || is_placeholder(t) {
                return Ok(None);
            }
            let mut unit = unit;
            if let Some((rest, u)) = RevenueUnit::ALL
                .iter()
                .find_map(|(name, u)| t.strip_suffix(name).map(|rest| (rest, *u)))
            {
                t = rest;
                unit = u;
            } else if let Some(rest) = t.strip_suffix('万') {
                t = rest;
                unit = RevenueUnit::Wan;
            }
            let cleaned: String = t
                .chars()
                .filter(|c| *c != ',' && !c.is_whitespace())
                .collect();
            let valid = !cleaned.is_empty()
                && cleaned
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
            if !valid {
                return Err(ValueError::NotANumber);
            }
            (
                cleaned.parse::<f64>().map_err(|_| ValueError::NotANumber)?,
                unit,
            )
        }
    };
    if !n.is_finite() {
        return Err(ValueError::NotANumber);
    }
    Ok(Some(unit.to_wan(n)))
}

/// A list in one cell, split on any of `separators`; items trimmed, blanks and duplicates
/// dropped, first-seen order kept.
pub fn parse_list(cell: &Cell, separators: &str) -> Result<Option<Vec<String>>, ValueError> {
    let Some(text) = parse_text(cell)? else {
        return Ok(None);
    };
    let mut out: Vec<String> = Vec::new();
    for item in text.split(|c: char| separators.contains(c) || c == '\n') {
        let item = item.trim();
        if !item.is_empty() && !out.iter().any(|x| x == item) {
            out.push(item.to_string());
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn dates_in_every_export_shape() {
        for s in [
            "2024-01-05",
            "2024/1/5",
            "2024.1.5",
            "2024年1月5日",
            "2024年01月05日",
            "20240105",
            "2024-01-05 08:30:00",
            "2024/01/05 8:30",
            "2024-01-05T08:30:00",
            "２０２４年１月５日",
            "２０２４－０１－０５",
            " 2024-1-5 ",
        ] {
            assert_eq!(parse_date(&t(s)), Ok(d(2024, 1, 5)), "{s}");
        }
        assert_eq!(parse_date(&t("45292")), Ok(d(2024, 1, 1)));
        assert_eq!(parse_date(&t("45292.5")), Ok(d(2024, 1, 1)));
        assert_eq!(parse_date(&Cell::Number(45292.0)), Ok(d(2024, 1, 1)));
        assert_eq!(parse_date(&Cell::Number(20240105.0)), Ok(d(2024, 1, 5)));
        assert_eq!(
            parse_date(&Cell::Date(NaiveDate::MIN)),
            Ok(Some(NaiveDate::MIN))
        );
        assert_eq!(parse_date(&t("")), Ok(None));
        assert_eq!(parse_date(&t("  ")), Ok(None));
        assert_eq!(parse_date(&Cell::Empty), Ok(None));
    }

    #[test]
    fn bad_dates_are_errors() {
        assert_eq!(
            parse_date(&t("2024-13-45")),
            Err(ValueError::BadCalendarDate)
        );
        assert_eq!(
            parse_date(&t("2023-02-29")),
            Err(ValueError::BadCalendarDate)
        );
        assert_eq!(parse_date(&t("去年")), Err(ValueError::NotADate));
        assert_eq!(parse_date(&t("2024-06")), Err(ValueError::NotADate));
        assert!(matches!(
            parse_date(&t("12")),
            Err(ValueError::ImplausibleSerial(_))
        ));
        assert!(matches!(
            parse_date(&Cell::Number(999_999.0)),
            Err(ValueError::ImplausibleSerial(_))
        ));
    }

    #[test]
    fn counts() {
        for (s, n) in [
            ("12", 12),
            ("１２", 12),
            ("12人", 12),
            ("1,234", 1234),
            ("12.0", 12),
            ("0", 0),
        ] {
            assert_eq!(parse_count(&t(s)), Ok(Some(n)), "{s}");
        }
        assert_eq!(parse_count(&Cell::Number(7.0)), Ok(Some(7)));
        assert_eq!(parse_count(&t("")), Ok(None));
        assert_eq!(parse_count(&t("约二十")), Err(ValueError::NotACount));
        assert_eq!(parse_count(&t("12.5")), Err(ValueError::NotACount));
        assert_eq!(parse_count(&t("-3")), Err(ValueError::NotACount));
    }

    #[test]
    fn revenue_in_wan() {
        assert_eq!(
            parse_revenue(&t("1,500.5"), RevenueUnit::Wan),
            Ok(Some(1500.5))
        );
        assert_eq!(
            parse_revenue(&t("15000000"), RevenueUnit::Yuan),
            Ok(Some(1500.0))
        );
        assert_eq!(
            parse_revenue(&Cell::Number(25000.0), RevenueUnit::Yuan),
            Ok(Some(2.5))
        );
        assert_eq!(
            parse_revenue(&t("300万元"), RevenueUnit::Yuan),
            Ok(Some(300.0))
        );
        assert_eq!(
            parse_revenue(&t("2,500千元"), RevenueUnit::Wan),
            Ok(Some(250.0)),
            "千元 in the cell"
        );
        assert_eq!(
            parse_revenue(&Cell::Number(2500.0), RevenueUnit::QianYuan),
            Ok(Some(250.0)),
            "a feed in 千元"
        );
        assert_eq!(
            parse_revenue(&t("1.5亿元"), RevenueUnit::Wan),
            Ok(Some(15_000.0))
        );
        assert_eq!(
            parse_revenue(&t("abc"), RevenueUnit::Wan),
            Err(ValueError::NotANumber)
        );
    }

    #[test]
    fn text_and_codes() {
        assert_eq!(
            parse_text(&t("  华兴（南安）  陶瓷\n有限公司 ")),
            Ok(Some("华兴（南安） 陶瓷 有限公司".into()))
        );
        assert_eq!(parse_text(&t("   ")), Ok(None));
        assert_eq!(parse_text(&t("-")), Ok(None));
        assert_eq!(
            parse_code(&t(" ９１３５０１００Ｍ０００１００Ｙ４３ ")),
            Ok(Some("91350100M000100Y43".into()))
        );
        assert_eq!(
            parse_code(&Cell::Number(350583100000.0)),
            Ok(Some("350583100000".into()))
        );
        assert_eq!(
            parse_region_code(&t("３５０５８３１００")),
            Ok(Some("350583100".into()))
        );
        assert_eq!(
            parse_region_code(&t("3505")),
            Err(ValueError::BadRegionCode)
        );
    }

    #[test]
    fn lists_split_trim_dedup() {
        let got = parse_list(&t("矽尘、噪声, 矽尘；苯 / 噪声 |"), "、,，;；/|");
        assert_eq!(
            got,
            Ok(Some(vec!["矽尘".into(), "噪声".into(), "苯".into()]))
        );
        assert_eq!(parse_list(&t(" 、 "), "、"), Ok(None));
    }
}
