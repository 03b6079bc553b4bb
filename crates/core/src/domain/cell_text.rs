//! Feed text made safe to put in a spreadsheet cell: control characters cleaned, formulas defused.
//! Every text cell of every xlsx and csv passes through [`neutralise`]; numbers never do.

use std::borrow::Cow;
use std::io::Write;

/// Excel's limit on the characters in one cell: the longest text a feed cell is read as and the
/// longest a written cell holds.
pub const MAX_CELL_CHARS: usize = 32_767;

/// What a text cell starts with when it was defused: spreadsheets read `'` as "text follows".
pub const TEXT_MARK: char = '\'';

/// First characters that make a spreadsheet evaluate a cell (OWASP: `=`, `+`, `-`, `@`, tab,
/// carriage return), and their full-width forms as a precaution: whether a spreadsheet or an
/// input method takes `＝` for `=` varies, and no employer name or address starts with them.
const FORMULA_STARTS: [char; 10] = [
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// `value` as a text cell must hold it.
///
/// Why: a feed value such as `=HYPERLINK("http://x","y")` or `-2+3+cmd|' /C calc'!A0` written
/// into a CSV (or into a cell a clerk later edits, or saves as CSV) is run as a formula by Excel,
/// WPS or LibreOffice on a township computer ("CSV injection"). OWASP's guidance is to start such
/// a cell with a single quote, which spreadsheets read as "this is text". A NUL or another control
/// character breaks CSV readers and xlsx files, so those are cleaned first.
///
/// 1. Control characters are cleaned: tab, line feed and carriage return become a space (they
///    separate words), every other C0 character, DEL and the C1 characters are removed.
/// 2. A value whose first non-space character would start a formula (`=`, `+`, `-`, `@`, tab,
///    carriage return, or their full-width forms) gets [`TEXT_MARK`] in front — unless the value
///    is a plain number (`-3.5`, `+12`): a spreadsheet reads that as the number it is, which runs
///    nothing, and marking it would turn a negative amount into text nobody can sum.
///
/// Idempotent: neutralising a neutralised value changes nothing. Borrows when nothing changes.
pub fn neutralise(value: &str) -> Cow<'_, str> {
    let cleaned = clean_controls(value);
    if starts_formula(&cleaned) {
        let mut marked = String::with_capacity(cleaned.len() + 1);
        marked.push(TEXT_MARK);
        marked.push_str(&cleaned);
        Cow::Owned(marked)
    } else {
        cleaned
    }
}

/// `value` with tab, line feed and carriage return as a space and every other control character
/// (C0, DEL, C1) removed. Borrows when there is none.
pub fn clean_controls(value: &str) -> Cow<'_, str> {
    if !value.chars().any(char::is_control) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .chars()
            .filter_map(|c| match c {
                '\t' | '\n' | '\r' => Some(' '),
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// Whether a spreadsheet could take `value` (already cleaned) for a formula.
fn starts_formula(value: &str) -> bool {
    let head = value.trim_start();
    head.starts_with(FORMULA_STARTS) && !is_plain_number(head)
}

/// A decimal number as people write it: an optional sign, digits, an optional fraction
/// (`-3`, `+12`, `-0.5`). Nothing else: no exponent, no separators, no percent.
pub fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

/// A CSV writer whose every cell goes through [`neutralise`]: the one way yingbao writes CSV
/// for people (`tests/layers.rs` finds any other `write_record`).
pub struct SafeCsv<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> SafeCsv<W> {
    /// Wraps a writer built as the file needs it (delimiter, terminator …).
    pub fn new(inner: csv::Writer<W>) -> Self {
        SafeCsv { inner }
    }

    /// A writer with the csv crate's defaults (comma, quoting where needed, LF).
    pub fn from_writer(w: W) -> Self {
        SafeCsv::new(csv::Writer::from_writer(w))
    }

    /// Writes one record, each cell neutralised.
    pub fn write_cells<I, T>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.inner.write_record(
            cells
                .into_iter()
                .map(|c| neutralise(c.as_ref()).into_owned()),
        )
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and gives back the underlying writer.
    pub fn into_inner(self) -> csv::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

impl SafeCsv<std::fs::File> {
    /// A writer to a new file at `path` (the csv crate's defaults).
    pub fn from_path(path: impl AsRef<std::path::Path>) -> csv::Result<Self> {
        csv::Writer::from_path(path).map(SafeCsv::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_start_is_marked() {
        for (value, want) in [
            ("=1+1", "'=1+1"),
            ("+1+cmd", "'+1+cmd"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("＝1+1", "'＝1+1"),
            ("＋1", "'＋1"),
            ("－cmd", "'－cmd"),
            ("＠SUM(A1)", "'＠SUM(A1)"),
            ("=", "'="),
            ("-", "'-"),
        ] {
            assert_eq!(neutralise(value), want, "{value:?}");
        }
    }

    #[test]
    fn a_leading_tab_or_carriage_return_becomes_a_space_and_is_marked_when_a_formula_follows() {
        assert_eq!(neutralise("\t=1+1"), "' =1+1");
        assert_eq!(neutralise("\r@x"), "' @x");
        assert_eq!(neutralise("  =1+1"), "'  =1+1");
        assert_eq!(neutralise("\u{3000}=1"), "'\u{3000}=1");
        // A lone tab is cleaned to a space and nothing follows it: nothing to defuse.
        assert_eq!(neutralise("\tA厂"), " A厂");
    }

    #[test]
    fn plain_numbers_stay_as_they_are() {
        for n in ["-3", "-3.5", "+12", "0", "2654.2", "-0.25", " -7"] {
            assert_eq!(neutralise(n), n, "{n:?}");
        }
        for not in ["-3e5", "-3.", "-.5", "+", "-1,000", "-5%", "--1", "-1-1"] {
            assert!(!is_plain_number(not), "{not:?}");
            assert_eq!(neutralise(not), format!("'{not}"), "{not:?}");
        }
    }

    #[test]
    fn control_characters_are_cleaned() {
        assert_eq!(neutralise("南安\0市\u{7}发佳\u{1b}陶瓷"), "南安市发佳陶瓷");
        assert_eq!(neutralise("官桥镇\n内厝村\t8号\r"), "官桥镇 内厝村 8号 ");
        assert_eq!(neutralise("a\u{7f}b\u{85}c\u{9f}d"), "abcd");
        // Cleaning first, then the check: a NUL does not hide a formula.
        assert_eq!(neutralise("\0=1+1"), "'=1+1");
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\",\"y\")\0某厂"),
            "'=HYPERLINK(\"http://x\",\"y\")某厂"
        );
    }

    #[test]
    fn chinese_text_and_codes_are_untouched_and_borrowed() {
        for v in [
            "南安市发佳陶瓷有限公司",
            "福建省泉州市南安市柳城街道新华社区工业区30号",
            "91350583MALB50M96J",
            "高（85）",
            "2025-06-30",
            "'=already text",
            "",
        ] {
            assert!(matches!(neutralise(v), Cow::Borrowed(b) if b == v), "{v:?}");
        }
    }

    #[test]
    fn neutralising_twice_gives_the_same() {
        for v in [
            "=1+1",
            "\t=1+1",
            "\0@x",
            "-3.5",
            "-3.5x",
            "＝1",
            "南安\n市",
            "  +x",
            "'=x",
            "\u{85}-x",
        ] {
            let once = neutralise(v).into_owned();
            assert_eq!(neutralise(&once), once, "{v:?}");
        }
    }

    #[test]
    fn safe_csv_writes_every_cell_neutralised() {
        let mut w = SafeCsv::from_writer(Vec::new());
        w.write_cells(["名称", "地址"]).expect("header");
        w.write_cells(["=HYPERLINK(\"http://x\",\"y\")\0厂", "-3.5"])
            .expect("row");
        let bytes = w.into_inner().expect("bytes");
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let rows: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().expect("read");
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][0], "'=HYPERLINK(\"http://x\",\"y\")厂");
        assert_eq!(&rows[0][1], "-3.5");
    }
}
