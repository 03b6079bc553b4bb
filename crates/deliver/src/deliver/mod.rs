//! Delivery: writes each township's lead list as an Excel workbook and a CSV file, plus an index.
//! Township staff print the workbook's main sheet (one row per employer) and fill in its three
//! unlocked columns (核实情况, 核实人, 核实日期).

pub mod atomic;
pub mod channel;
pub mod columns;
pub mod correction;
pub mod csv_list;
pub mod list_settings;
pub mod outbox;
pub mod reuse;
pub mod settings;
pub mod sheet_text;
pub mod sme_list;
pub mod testing_list;
pub mod township_files;
pub mod workbook;

use std::path::{Path, PathBuf};

pub use crate::leads::row::LeadRow;
pub use columns::{DISPOSITIONS, HEADERS, MAIN_HEADERS};
pub use list_settings::{ListSettings, ListTerms};
pub use reuse::Earlier;
pub use township_files::{
    write_township_lists, write_township_lists_from, TownshipKey, WrittenList,
};

/// Why a lead list could not be written; every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build Excel file {}: {source}", path.display())]
    Xlsx {
        path: PathBuf,
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("cannot build CSV file {}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("two township lists would be written to the same file {}", path.display())]
    DuplicateFile { path: PathBuf },
    #[error("cannot encode the rows of {}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl DeliverError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        DeliverError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Writes `bytes` to `path` through a temporary sibling file and a rename, so a reader never
/// sees a half-written list (and an interrupted run leaves the previous file intact).
pub(crate) fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), DeliverError> {
    atomic::write(path, bytes).map_err(|e| DeliverError::io(path, e))
}

/// Writes the workbook `built` to `path` atomically; a workbook that could not be built is
/// an error naming the path.
pub(crate) fn write_workbook(
    path: &Path,
    built: Result<Vec<u8>, rust_xlsxwriter::XlsxError>,
) -> Result<(), DeliverError> {
    let bytes = built.map_err(|source| DeliverError::Xlsx {
        path: path.to_path_buf(),
        source,
    })?;
    write_file_atomically(path, &bytes)
}

#[cfg(test)]
mod tests;
