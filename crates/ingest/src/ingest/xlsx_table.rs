//! An XLSX/XLS sheet as a table: picks the sheet, finds the header row, yields typed data rows.
//! Date-formatted cells become dates; rows are numbered as Excel shows them.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Range, Reader};
use chrono::NaiveDate;

use super::table::{header_cells, Cell, ColumnMask, DataRow, TableItem};

/// Why a workbook could not be read as a table.
#[derive(Debug, thiserror::Error)]
pub enum XlsxTableError {
    #[error("cannot read workbook: {0}")]
    Open(#[from] calamine::Error),
    #[error("sheet `{wanted}` not found; the workbook has: {}", .available.join(", "))]
    NoSheet {
        wanted: String,
        available: Vec<String>,
    },
    #[error("the workbook has no sheet")]
    NoSheets,
    #[error("header row {0} is missing or empty")]
    NoHeader(usize),
}

/// The data rows of one worksheet, after its header row.
pub struct XlsxTable {
    range: Range<Data>,
    /// 0-based sheet row of the range's first row.
    first_row: usize,
    headers: Vec<String>,
    /// Next row to yield, relative to the range.
    next: usize,
    mask: ColumnMask,
}

impl XlsxTable {
    /// Opens `path`, takes `sheet` (or the first sheet) and reads its header row (1-based).
    pub fn open(
        path: &Path,
        sheet: Option<&str>,
        header_row: usize,
    ) -> Result<Self, XlsxTableError> {
        let mut workbook = open_workbook_auto(path)?;
        let names = workbook.sheet_names();
        let name = match sheet {
            Some(wanted) => names
                .iter()
                .find(|n| n.as_str() == wanted || n.trim() == wanted.trim())
                .cloned()
                .ok_or_else(|| XlsxTableError::NoSheet {
                    wanted: wanted.to_string(),
                    available: names.clone(),
                })?,
            None => names.first().cloned().ok_or(XlsxTableError::NoSheets)?,
        };
        let range = workbook.worksheet_range(&name)?;
        Self::from_range(range, header_row)
    }

    fn from_range(range: Range<Data>, header_row: usize) -> Result<Self, XlsxTableError> {
        let header_row = header_row.max(1);
        let first_row = range.start().map_or(0, |(r, _)| r as usize);
        let header_rel = (header_row - 1)
            .checked_sub(first_row)
            .ok_or(XlsxTableError::NoHeader(header_row))?;
        let headers = match range.rows().nth(header_rel) {
            Some(cells) => header_cells(cells.iter().map(|c| convert(c).key_text())),
            None => Vec::new(),
        };
        if headers.is_empty() {
            return Err(XlsxTableError::NoHeader(header_row));
        }
        Ok(XlsxTable {
            range,
            first_row,
            headers,
            next: header_rel + 1,
            mask: ColumnMask::default(),
        })
    }

    /// Header cells, trimmed, in sheet order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Only these columns are turned into cells; the rest (personal, unmapped) stay `Empty`.
    pub fn set_mask(&mut self, mask: ColumnMask) {
        self.mask = mask;
    }
}

impl Iterator for XlsxTable {
    type Item = TableItem;

    /// The next non-blank data row (entirely blank rows are skipped silently).
    fn next(&mut self) -> Option<TableItem> {
        let width = self.headers.len();
        while self.next < self.range.height() {
            let rel = self.next;
            self.next += 1;
            let blank =
                (0..self.range.width()).all(|c| self.range.get((rel, c)).is_none_or(is_blank));
            if blank {
                continue;
            }
            let cells = (0..width)
                .map(|c| match self.range.get((rel, c)) {
                    Some(d) if self.mask.keeps(c) => convert(d),
                    _ => Cell::Empty,
                })
                .collect();
            let number = self.first_row + rel + 1;
            return Some(TableItem::Row(DataRow { number, cells }));
        }
        None
    }
}

fn is_blank(d: &Data) -> bool {
    match d {
        Data::Empty | Data::Error(_) => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A calamine cell as a `Cell`: date-formatted numbers become dates.
fn convert(d: &Data) -> Cell {
    match d {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) if s.trim().is_empty() => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Text(if *b { "TRUE" } else { "FALSE" }.to_string()),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, day, ..) = dt.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(day))
                .map_or(Cell::Number(dt.as_f64()), Cell::Date)
        }
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
        Data::DateTimeIso(s) => s
            .get(..10)
            .and_then(|p| NaiveDate::parse_from_str(p, "%Y-%m-%d").ok())
            .map_or_else(|| Cell::Text(s.clone()), Cell::Date),
        Data::DurationIso(s) => Cell::Text(s.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

    #[test]
    fn reads_title_row_dates_numbers_and_sheet_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.xlsx");
        let mut wb = Workbook::new();
        let first = wb.add_worksheet();
        first.set_name("说明").expect("name");
        first.write_string(0, 0, "not this one").expect("write");
        let ws = wb.add_worksheet();
        ws.set_name("数据").expect("name");
        ws.write_string(0, 0, "体检名单").expect("write");
        ws.write_string(1, 0, "单位名称").expect("write");
        ws.write_string(1, 1, "体检日期").expect("write");
        ws.write_string(1, 2, "人数").expect("write");
        ws.write_string(2, 0, "A厂").expect("write");
        let date = ExcelDateTime::from_ymd(2024, 1, 5).expect("date");
        let fmt = Format::new().set_num_format("yyyy-mm-dd");
        ws.write_datetime_with_format(2, 1, &date, &fmt)
            .expect("write");
        ws.write_number(2, 2, 12.0).expect("write");
        // Row 4 left blank; row 5 has data again.
        ws.write_string(4, 0, "B厂").expect("write");
        wb.save(&path).expect("save");

        let mut t = XlsxTable::open(&path, Some("数据"), 2).expect("opens");
        assert_eq!(t.headers(), ["单位名称", "体检日期", "人数"]);
        t.set_mask(ColumnMask::new(3, 0..3));
        let rows: Vec<TableItem> = t.collect();
        assert_eq!(
            rows,
            [
                TableItem::Row(DataRow {
                    number: 3,
                    cells: vec![
                        Cell::Text("A厂".into()),
                        Cell::Date(NaiveDate::from_ymd_opt(2024, 1, 5).expect("date")),
                        Cell::Number(12.0)
                    ]
                }),
                TableItem::Row(DataRow {
                    number: 5,
                    cells: vec![Cell::Text("B厂".into()), Cell::Empty, Cell::Empty]
                }),
            ]
        );
        let err = XlsxTable::open(&path, Some("名单"), 1)
            .err()
            .expect("no such sheet");
        assert!(err.to_string().contains("说明, 数据"), "{err}");
        assert!(matches!(
            XlsxTable::open(&path, Some("数据"), 9),
            Err(XlsxTableError::NoHeader(9))
        ));
    }
}
