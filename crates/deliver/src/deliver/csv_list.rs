//! CSV files for Excel: UTF-8 with a byte-order mark (so Excel detects the encoding) and CRLF,
//! every cell neutralised (`domain::cell_text`). A lead list's CSV has its workbook's columns.

use std::path::Path;

use csv::{Terminator, WriterBuilder};

use super::columns::{row_cells, HEADERS};
use super::DeliverError;
use crate::domain::cell_text::SafeCsv;
use crate::leads::row::LeadRow;

/// The UTF-8 byte-order mark.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes the lead list `rows` as CSV to `path`.
pub fn write_lead_csv(path: &Path, rows: &[LeadRow]) -> Result<(), DeliverError> {
    let bytes = lead_csv_bytes(rows).map_err(|source| DeliverError::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    super::write_file_atomically(path, &bytes)
}

/// The lead list `rows` as the bytes of a CSV file.
pub fn lead_csv_bytes(rows: &[LeadRow]) -> Result<Vec<u8>, csv::Error> {
    let records = rows.iter().enumerate().map(|(i, row)| {
        row_cells(i + 1, row)
            .iter()
            .map(|c| c.as_text())
            .collect::<Vec<_>>()
    });
    excel_csv_bytes(&HEADERS, records)
}

/// Any table as the bytes of an Excel-friendly CSV file (BOM, CRLF, quoting where needed),
/// every cell neutralised: control characters cleaned, formulas defused.
pub fn excel_csv_bytes<H, R, F>(headers: &[H], records: R) -> Result<Vec<u8>, csv::Error>
where
    H: AsRef<str>,
    R: IntoIterator,
    R::Item: IntoIterator<Item = F>,
    F: AsRef<str>,
{
    let mut writer = SafeCsv::new(
        WriterBuilder::new()
            .terminator(Terminator::CRLF)
            .from_writer(UTF8_BOM.to_vec()),
    );
    writer.write_cells(headers)?;
    for record in records {
        writer.write_cells(record)?;
    }
    writer.into_inner()
}

/// Writes any table to `path` as an Excel-friendly CSV file.
pub fn write_excel_csv<H, R, F>(path: &Path, headers: &[H], records: R) -> Result<(), DeliverError>
where
    H: AsRef<str>,
    R: IntoIterator,
    R::Item: IntoIterator<Item = F>,
    F: AsRef<str>,
{
    let bytes = excel_csv_bytes(headers, records).map_err(|source| DeliverError::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    super::write_file_atomically(path, &bytes)
}
