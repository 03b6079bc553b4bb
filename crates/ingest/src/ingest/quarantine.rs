//! The quarantine: rows and values ingest could not use, with file, row, column and reason.
//! A reject never carries a personal column's value.

use serde::{Deserialize, Serialize};

/// What happened to the data a reject describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectAction {
    /// The whole row was not loaded.
    RowRejected,
    /// The row was loaded without this field.
    FieldDropped,
}

impl RejectAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectAction::RowRejected => "row_rejected",
            RejectAction::FieldDropped => "field_dropped",
        }
    }
}

/// One quarantined row or value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    /// Connector id.
    pub source: String,
    /// File name (no folder).
    pub file: String,
    /// Row number as the file shows it (header row + data-row number).
    pub row: usize,
    /// Header of the offending column, for a dropped field.
    pub column: Option<String>,
    /// The value as the file held it, for a dropped field.
    pub value: Option<String>,
    /// Why, in English.
    pub reason: String,
    pub action: RejectAction,
}

/// Where rejects from one file point.
#[derive(Debug, Clone)]
pub struct RejectContext {
    pub source: String,
    pub file: String,
}

impl RejectContext {
    pub fn row(&self, row: usize, reason: impl Into<String>) -> Reject {
        Reject {
            source: self.source.clone(),
            file: self.file.clone(),
            row,
            column: None,
            value: None,
            reason: reason.into(),
            action: RejectAction::RowRejected,
        }
    }

    pub fn field(
        &self,
        row: usize,
        column: &str,
        value: String,
        reason: impl Into<String>,
    ) -> Reject {
        Reject {
            source: self.source.clone(),
            file: self.file.clone(),
            row,
            column: Some(column.to_string()),
            value: Some(value),
            reason: reason.into(),
            action: RejectAction::FieldDropped,
        }
    }
}
