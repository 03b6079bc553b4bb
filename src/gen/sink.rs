//! Output sinks: CSV streamed row by row in UTF-8 (with or without BOM), GBK or GB18030, and
//! XLSX sheets with a fixed creation date so the same options give the same bytes.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};

use super::GenError;

/// Bytes of UTF-8 text encoded at a time.
const BATCH: usize = 64 * 1024;

/// A CSV file's byte encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Gbk,
    Gb18030,
}

/// A CSV file written one row at a time.
pub struct CsvSink {
    path: PathBuf,
    out: BufWriter<File>,
    encoding: Encoding,
    crlf: bool,
    /// Lines not yet encoded and written, up to `BATCH` bytes.
    pending: String,
    /// Encoded form of each non-ASCII character seen (GBK and GB18030 only).
    cache: HashMap<char, Vec<u8>>,
    /// Data rows written (headers excluded).
    pub rows: usize,
}

impl CsvSink {
    pub fn create(path: &Path, encoding: Encoding, headers: &[&str]) -> Result<CsvSink, GenError> {
        let file = File::create(path).map_err(|e| GenError::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        if encoding == Encoding::Utf8Bom {
            out.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| GenError::io(path, e))?;
        }
        // Windows tools that export GBK/GB18030 end lines with CRLF.
        let crlf = matches!(encoding, Encoding::Gbk | Encoding::Gb18030);
        let mut sink = CsvSink {
            path: path.to_path_buf(),
            out,
            encoding,
            crlf,
            pending: String::with_capacity(BATCH + 4096),
            cache: HashMap::new(),
            rows: 0,
        };
        sink.put(headers.iter().copied())?;
        Ok(sink)
    }

    /// Writes one data row (quoted as needed).
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), GenError> {
        self.put(cells.iter().map(AsRef::as_ref))?;
        self.rows += 1;
        Ok(())
    }

    /// Writes a line as is, without quoting: how a broken export looks.
    pub fn raw_line(&mut self, line: &str) -> Result<(), GenError> {
        let mut text = line.to_string();
        text.push_str(if self.crlf { "\r\n" } else { "\n" });
        self.emit(&text)?;
        self.rows += 1;
        Ok(())
    }

    /// RFC 4180 quoting: a cell with a comma, quote or line break is quoted, quotes doubled.
    fn put<'a>(&mut self, cells: impl Iterator<Item = &'a str>) -> Result<(), GenError> {
        let mut line = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                line.push(',');
            }
            if cell.contains([',', '"', '\r', '\n']) {
                line.push('"');
                line.push_str(&cell.replace('"', "\"\""));
                line.push('"');
            } else {
                line.push_str(cell);
            }
        }
        line.push_str(if self.crlf { "\r\n" } else { "\n" });
        self.emit(&line)
    }

    fn emit(&mut self, text: &str) -> Result<(), GenError> {
        self.pending.push_str(text);
        if self.pending.len() >= BATCH {
            self.drain()?;
        }
        Ok(())
    }

    /// Encodes and writes the pending lines.
    fn drain(&mut self) -> Result<(), GenError> {
        let coder = match self.encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => None,
            Encoding::Gbk => Some(encoding_rs::GBK),
            Encoding::Gb18030 => Some(encoding_rs::GB18030),
        };
        let Some(enc) = coder else {
            self.out
                .write_all(self.pending.as_bytes())
                .map_err(|e| GenError::io(&self.path, e))?;
            self.pending.clear();
            return Ok(());
        };
        // encoding_rs encodes CJK into legacy encodings slowly; the generator uses a few hundred
        // distinct characters, so each is encoded once and remembered.
        let mut bytes = Vec::with_capacity(self.pending.len());
        for c in self.pending.chars() {
            if c.is_ascii() {
                bytes.push(c as u8);
                continue;
            }
            let code = match self.cache.get(&c) {
                Some(code) => code,
                None => {
                    let mut utf8 = [0; 4];
                    let (code, _, unmappable) = enc.encode(c.encode_utf8(&mut utf8));
                    if unmappable {
                        return Err(GenError::Unmappable(c.to_string(), enc.name()));
                    }
                    self.cache.entry(c).or_insert_with(|| code.into_owned())
                }
            };
            bytes.extend_from_slice(code);
        }
        self.out
            .write_all(&bytes)
            .map_err(|e| GenError::io(&self.path, e))?;
        self.pending.clear();
        Ok(())
    }

    pub fn finish(mut self) -> Result<(PathBuf, usize), GenError> {
        self.drain()?;
        self.out.flush().map_err(|e| GenError::io(&self.path, e))?;
        Ok((self.path, self.rows))
    }
}

/// One XLSX cell.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// A real Excel date cell (date-formatted serial).
    Date(NaiveDate),
    /// A bare serial number, as some exports leave dates.
    Serial(NaiveDate),
    Blank,
}

/// An XLSX file with one sheet, a title row, then headers and data rows.
pub struct XlsxSink {
    path: PathBuf,
    book: Workbook,
    date: Format,
    next: u32,
    pub rows: usize,
}

impl XlsxSink {
    pub fn create(
        path: &Path,
        sheet: &str,
        title: Option<&str>,
        headers: &[&str],
        created: NaiveDate,
    ) -> Result<XlsxSink, GenError> {
        let xl = |e: rust_xlsxwriter::XlsxError| GenError::Xlsx(e.to_string());
        let mut book = Workbook::new();
        let when = ExcelDateTime::from_ymd(
            created.year() as u16,
            created.month() as u8,
            created.day() as u8,
        )
        .map_err(xl)?;
        book.set_properties(&DocProperties::new().set_creation_datetime(&when));
        let sheet_ref = book.add_worksheet();
        sheet_ref.set_name(sheet).map_err(xl)?;
        let mut next = 0;
        if let Some(t) = title {
            sheet_ref.write_string(0, 0, t).map_err(xl)?;
            next = 1;
        }
        for (c, h) in headers.iter().enumerate() {
            sheet_ref.write_string(next, c as u16, *h).map_err(xl)?;
        }
        Ok(XlsxSink {
            path: path.to_path_buf(),
            book,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            next: next + 1,
            rows: 0,
        })
    }

    fn sheet(&mut self) -> Result<&mut Worksheet, GenError> {
        self.book
            .worksheet_from_index(0)
            .map_err(|e| GenError::Xlsx(e.to_string()))
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), GenError> {
        let r = self.next;
        let date = self.date.clone();
        let sheet = self.sheet()?;
        let xl = |e: rust_xlsxwriter::XlsxError| GenError::Xlsx(e.to_string());
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) if !s.is_empty() => {
                    sheet.write_string(r, c, s).map_err(xl)?;
                }
                Cell::Text(_) | Cell::Blank => {}
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n).map_err(xl)?;
                }
                Cell::Date(d) => {
                    sheet
                        .write_number_with_format(r, c, serial(*d), &date)
                        .map_err(xl)?;
                }
                Cell::Serial(d) => {
                    sheet.write_number(r, c, serial(*d)).map_err(xl)?;
                }
            }
        }
        self.next += 1;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(PathBuf, usize), GenError> {
        self.book
            .save(&self.path)
            .map_err(|e| GenError::Xlsx(format!("{}: {e}", self.path.display())))?;
        Ok((self.path, self.rows))
    }
}

/// Excel's 1900 date serial (days since 1899-12-30).
pub fn serial(d: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid constant date");
    (d - epoch).num_days() as f64
}
