//! CSV files for Excel: UTF-8 with a byte-order mark (so Excel detects the encoding) and CRLF.
//! A lead list's CSV has the same columns as its workbook, a header row and no title row.

use std::path::Path;

use csv::{Terminator, WriterBuilder};

use super::columns::{row_cells, HEADERS};
use super::DeliverError;
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

/// Any table as the bytes of an Excel-friendly CSV file (BOM, CRLF, quoting where needed).
pub fn excel_csv_bytes<H, R, F>(headers: &[H], records: R) -> Result<Vec<u8>, csv::Error>
where
    H: AsRef<[u8]>,
    R: IntoIterator,
    R::Item: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let mut writer = WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .from_writer(UTF8_BOM.to_vec());
    writer.write_record(headers)?;
    for record in records {
        writer.write_record(record)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// Writes any table to `path` as an Excel-friendly CSV file.
pub fn write_excel_csv<H, R, F>(path: &Path, headers: &[H], records: R) -> Result<(), DeliverError>
where
    H: AsRef<[u8]>,
    R: IntoIterator,
    R::Item: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let bytes = excel_csv_bytes(headers, records).map_err(|source| DeliverError::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    super::write_file_atomically(path, &bytes)
}
