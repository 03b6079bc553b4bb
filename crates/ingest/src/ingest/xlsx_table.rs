//! An XLSX/XLS sheet as a table: picks the sheet, finds the header row, yields typed data rows.
//! A zip-based workbook whose entries would unpack past the limits below is refused unopened.

use std::io::Read;
use std::path::Path;

use calamine::{open_workbook_auto, Data, Range, Reader};
use chrono::NaiveDate;

use super::table::{header_cells, Cell, ColumnMask, DataRow, TableItem};
use super::values::MAX_CELL_CHARS;

const MIB: u64 = 1 << 20;

/// The most one entry of a workbook may unpack to. A real 200,000-row export's sheet XML is
/// 150–300 MB; calamine holds a sheet's cells in memory, several times the XML's size, so a
/// 1 GiB entry already needs gigabytes. Three times the largest real export, and no more.
pub const MAX_ENTRY_BYTES: u64 = 1024 * MIB;

/// The most all entries together may unpack to: the largest sheet plus shared strings, styles
/// and any other sheets of a real export stay well below it.
pub const MAX_TOTAL_BYTES: u64 = 2048 * MIB;

/// Entries that unpack to more than this are judged by their compression ratio. Small parts
/// (styles, an empty sheet's XML) legitimately compress 100:1 or more and cost nothing.
pub const RATIO_CHECKED_ABOVE: u64 = 16 * MIB;

/// The highest unpacked:packed ratio a large entry may have. Sheet XML and shared strings of
/// real exports deflate at 5–10:1 (20–30:1 for very repetitive sheets); a cell of hundreds of
/// megabytes of one repeated character deflates at ~1,000:1 (deflate's ceiling is 1,032:1).
pub const MAX_RATIO: u64 = 100;

/// Deflate's own ceiling: one bit per 258-byte match, so no stream unpacks more than 1,032:1.
const DEFLATE_MAX_RATIO: u64 = 1032;

/// Why a workbook was refused before it was opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveProblem {
    #[error("declares {size} bytes unpacked, more than the {limit} bytes one entry may have")]
    EntryTooLarge { size: u64, limit: u64 },
    #[error(
        "brings the entries' unpacked size to {total} bytes ({size} of them its own), more than \
         the {limit} bytes a workbook may have"
    )]
    TotalTooLarge { size: u64, total: u64, limit: u64 },
    #[error(
        "unpacks {compressed} bytes to {size} ({ratio}:1), beyond the {limit}:1 an entry over \
         {above} bytes may have: a decompression bomb, not an export"
    )]
    Ratio {
        compressed: u64,
        size: u64,
        ratio: u64,
        limit: u64,
        above: u64,
    },
    #[error("unpacks to more than the {declared} bytes it declares")]
    Undeclared { declared: u64 },
}

/// Why a workbook could not be read as a table.
#[derive(Debug, thiserror::Error)]
pub enum XlsxTableError {
    #[error("cannot read workbook: {0}")]
    Open(#[from] calamine::Error),
    #[error("workbook `{file}` refused before opening: entry `{entry}` {problem}")]
    Refused {
        file: String,
        entry: String,
        problem: ArchiveProblem,
    },
    #[error("workbook `{file}` is not a readable zip archive: {source}")]
    Archive {
        file: String,
        source: zip::result::ZipError,
    },
    #[error("cannot read workbook `{file}`: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
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
        check_archive(path)?;
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

/// Refuses a zip-based workbook (xlsx, xlsm, xlsb, ods) whose entries would unpack past
/// [`MAX_ENTRY_BYTES`], [`MAX_TOTAL_BYTES`] or, above [`RATIO_CHECKED_ABOVE`], [`MAX_RATIO`]:
/// calamine loads shared strings and whole sheets into memory, so this is what bounds it. Only
/// the zip directory is read for the declared sizes. A declared size can lie, so each deflated
/// entry that could unpack past the ratio floor is then inflated into nothing, counting, and
/// refused as soon as it passes what it declared: memory stays constant, and the cost is one
/// extra inflate of at most [`MAX_TOTAL_BYTES`] (a fraction of what parsing the XML costs).
/// Other files (an old `.xls`, which is not compressed) pass unchecked.
pub fn check_archive(path: &Path) -> Result<(), XlsxTableError> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let io_err = |source| XlsxTableError::Io {
        file: file.clone(),
        source,
    };
    let mut handle = std::fs::File::open(path).map_err(io_err)?;
    let mut magic = [0u8; 2];
    let n = handle.read(&mut magic).map_err(io_err)?;
    if n < 2 || magic != *b"PK" {
        return Ok(());
    }
    let archive_err = |source| XlsxTableError::Archive {
        file: file.clone(),
        source,
    };
    let mut archive = zip::ZipArchive::new(handle).map_err(archive_err)?;
    let refused = |entry: &str, problem| XlsxTableError::Refused {
        file: file.clone(),
        entry: entry.to_string(),
        problem,
    };
    let mut total = 0u64;
    let mut to_verify = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(archive_err)?;
        let (name, size, compressed) = (
            entry.name().to_string(),
            entry.size(),
            entry.compressed_size(),
        );
        if size > MAX_ENTRY_BYTES {
            let limit = MAX_ENTRY_BYTES;
            return Err(refused(
                &name,
                ArchiveProblem::EntryTooLarge { size, limit },
            ));
        }
        let ratio = size / compressed.max(1);
        if size > RATIO_CHECKED_ABOVE && ratio > MAX_RATIO {
            let problem = ArchiveProblem::Ratio {
                compressed,
                size,
                ratio,
                limit: MAX_RATIO,
                above: RATIO_CHECKED_ABOVE,
            };
            return Err(refused(&name, problem));
        }
        total = total.saturating_add(size);
        if total > MAX_TOTAL_BYTES {
            let limit = MAX_TOTAL_BYTES;
            return Err(refused(
                &name,
                ArchiveProblem::TotalTooLarge { size, total, limit },
            ));
        }
        // A stored entry is its own size; a deflated one this small cannot pass the ratio floor.
        let stored = entry.compression() == zip::CompressionMethod::Stored;
        if !stored && compressed.saturating_mul(DEFLATE_MAX_RATIO) > RATIO_CHECKED_ABOVE {
            to_verify.push((i, name, size));
        }
    }
    for (i, name, declared) in to_verify {
        let entry = archive.by_index(i).map_err(archive_err)?;
        let unpacked =
            std::io::copy(&mut entry.take(declared + 1), &mut std::io::sink()).map_err(io_err)?;
        if unpacked > declared {
            return Err(refused(&name, ArchiveProblem::Undeclared { declared }));
        }
    }
    Ok(())
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
        Data::String(s) => Cell::Text(bounded(s)),
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
        Data::DurationIso(s) => Cell::Text(bounded(s)),
    }
}

/// At most one character more than [`MAX_CELL_CHARS`]: mapping drops such a cell as too long,
/// and a giant cell is never copied whole.
fn bounded(s: &str) -> String {
    if s.len() <= MAX_CELL_CHARS {
        return s.to_string();
    }
    match s.char_indices().nth(MAX_CELL_CHARS + 1) {
        Some((at, _)) => s[..at].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    use std::io::Write;

    const SHEET: &str = "xl/worksheets/sheet1.xml";

    /// A real one-sheet workbook whose sheet XML is replaced by one with a header `单位名称` and,
    /// below it, a single inline-string cell of `cell_bytes` × `A`, deflated as Excel would.
    /// The file on disk stays small (deflate packs a run of one byte ~1,000:1).
    fn workbook_with_giant_cell(path: &Path, cell_bytes: u64) {
        let template = path.with_extension("template.xlsx");
        let mut wb = Workbook::new();
        wb.add_worksheet()
            .write_string(0, 0, "单位名称")
            .expect("write");
        wb.save(&template).expect("save template");
        let mut source =
            zip::ZipArchive::new(std::fs::File::open(&template).expect("open")).expect("zip");
        let mut out = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
        for i in 0..source.len() {
            let entry = source.by_index_raw(i).expect("entry");
            if entry.name() != SHEET {
                out.raw_copy_file(entry).expect("copy");
            }
        }
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9))
            .large_file(cell_bytes > u64::from(u32::MAX) / 2);
        out.start_file(SHEET, options).expect("start sheet");
        out.write_all(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
                r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
                r#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>单位名称</t></is></c></row>"#,
                r#"<row r="2"><c r="A2" t="inlineStr"><is><t>"#
            )
            .as_bytes(),
        )
        .expect("write");
        let chunk = vec![b'A'; 1 << 20];
        let mut left = cell_bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            out.write_all(&chunk[..n]).expect("write");
            left -= n as u64;
        }
        out.write_all(b"</t></is></c></row></sheetData></worksheet>")
            .expect("write");
        out.finish().expect("finish");
    }

    /// Sets the uncompressed size `entry` declares, in its local header and its central
    /// directory record, to `size` (a lying archive).
    fn declare_size(path: &Path, entry: &str, size: u32) {
        let mut bytes = std::fs::read(path).expect("read");
        let name = entry.as_bytes();
        let mut patched = 0;
        // (signature, offset of the name, offset of the uncompressed size)
        for (sig, name_at, size_at) in [(b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)] {
            let mut i = 0;
            while i + name_at + name.len() <= bytes.len() {
                if &bytes[i..i + 4] == sig && &bytes[i + name_at..i + name_at + name.len()] == name
                {
                    bytes[i + size_at..i + size_at + 4].copy_from_slice(&size.to_le_bytes());
                    patched += 1;
                }
                i += 1;
            }
        }
        assert_eq!(patched, 2, "one local header and one directory record");
        std::fs::write(path, bytes).expect("write");
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_calamine_opens_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("体检名单.xlsx");
        // 1.05 GB in one cell (under the 1 GiB entry limit, so the ratio is what refuses it):
        // parsing it would need more than a gigabyte for that one string alone.
        let cell = 1_050_000_000;
        workbook_with_giant_cell(&path, cell);
        let on_disk = std::fs::metadata(&path).expect("metadata").len();
        assert!(on_disk < 4 * MIB, "the test file stays small: {on_disk}");

        let err = XlsxTable::open(&path, None, 1).err().expect("refused");
        match &err {
            XlsxTableError::Refused {
                file,
                entry,
                problem: ArchiveProblem::Ratio { size, ratio, .. },
            } => {
                assert_eq!(file, "体检名单.xlsx");
                assert_eq!(entry, SHEET);
                assert!(*size > cell, "{size}");
                assert!(*ratio > MAX_RATIO, "{ratio}");
            }
            other => panic!("not refused by the zip check: {other:?}"),
        }
        let text = err.to_string();
        for part in ["体检名单.xlsx", SHEET, "decompression bomb"] {
            assert!(text.contains(part), "{part} missing from: {text}");
        }
    }

    #[test]
    fn an_entry_too_large_even_at_an_ordinary_ratio_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.xlsx");
        workbook_with_giant_cell(&path, MIB);
        // Declares 1.5 GiB: more than one entry may have, whatever it packs to.
        declare_size(&path, SHEET, (1536 * MIB) as u32);
        let err = XlsxTable::open(&path, None, 1).err().expect("refused");
        assert!(
            matches!(
                &err,
                XlsxTableError::Refused { entry, problem: ArchiveProblem::EntryTooLarge { .. }, .. }
                    if entry == SHEET
            ),
            "{err:?}"
        );
    }

    #[test]
    fn an_entry_that_unpacks_past_its_declared_size_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lying.xlsx");
        // 64 MiB of cell that declares 1 MiB: under the ratio floor by its own account.
        workbook_with_giant_cell(&path, 64 * MIB);
        declare_size(&path, SHEET, MIB as u32);
        let err = XlsxTable::open(&path, None, 1).err().expect("refused");
        assert!(
            matches!(
                &err,
                XlsxTableError::Refused {
                    entry,
                    problem: ArchiveProblem::Undeclared { declared },
                    ..
                } if entry == SHEET && *declared == MIB
            ),
            "{err:?}"
        );
    }

    #[test]
    fn an_ordinary_giant_cell_passes_the_check_and_reaches_mapping_cut_short() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("long.xlsx");
        // 100,000 characters: an honest (if absurd) cell, well under every archive limit.
        workbook_with_giant_cell(&path, 100_000);
        check_archive(&path).expect("an ordinary workbook passes");
        let mut t = XlsxTable::open(&path, None, 1).expect("opens");
        t.set_mask(ColumnMask::new(1, [0]));
        let rows: Vec<TableItem> = t.collect();
        match rows.as_slice() {
            [TableItem::Row(DataRow { number: 2, cells })] => match cells.as_slice() {
                [Cell::Text(s)] => assert_eq!(s.chars().count(), MAX_CELL_CHARS + 1),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

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
