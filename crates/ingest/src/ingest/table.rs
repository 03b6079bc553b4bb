//! What a table reader yields: typed cells and data rows numbered as the file shows them.
//! Shared by the CSV and XLSX readers; holds no file handling and no field meaning.

use chrono::NaiveDate;

/// One cell as the file held it. CSV cells are always `Empty` or `Text`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    /// True for an empty cell or one holding only whitespace.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            Cell::Number(_) | Cell::Date(_) => false,
        }
    }

    /// The cell as trimmed text: numbers without a trailing `.0`, dates as `YYYY-MM-DD`.
    /// Used for record keys and group keys. Blank → empty string.
    pub fn key_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) => number_text(*n),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A number printed as a spreadsheet user sees it: integers without `.0`.
pub fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Header cells trimmed, without the blank cells some exports leave after the last header.
pub fn header_cells<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut headers: Vec<String> = cells
        .into_iter()
        .map(|h| h.as_ref().trim().to_string())
        .collect();
    while headers.last().is_some_and(String::is_empty) {
        headers.pop();
    }
    headers
}

/// A data row after the header row. `cells` has one entry per header column; columns the
/// reader was told to skip (unmapped or personal) are always `Cell::Empty`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataRow {
    /// The row number as the file shows it (1-based, counting the header and title rows).
    pub number: usize,
    pub cells: Vec<Cell>,
}

/// One item from a table reader: a data row, or a row the reader itself must reject.
#[derive(Debug, Clone, PartialEq)]
pub enum TableItem {
    Row(DataRow),
    /// The row's shape is wrong (e.g. a CSV field count differing from the header's).
    Malformed {
        number: usize,
        reason: String,
        /// The row's text as read (never stored: it may hold a personal column), so that a
        /// record the row held can still be recognised (`SourceBatch::damaged`).
        raw: String,
    },
}

/// Which columns a reader converts into cells; everything else stays `Cell::Empty`.
/// Personal columns are never in the mask, so their values never leave the raw record.
#[derive(Debug, Clone, Default)]
pub struct ColumnMask(Vec<bool>);

impl ColumnMask {
    pub fn new(width: usize, keep: impl IntoIterator<Item = usize>) -> ColumnMask {
        let mut mask = vec![false; width];
        for i in keep {
            if let Some(m) = mask.get_mut(i) {
                *m = true;
            }
        }
        ColumnMask(mask)
    }

    pub fn keeps(&self, i: usize) -> bool {
        self.0.get(i).copied().unwrap_or(false)
    }

    pub fn width(&self) -> usize {
        self.0.len()
    }
}
