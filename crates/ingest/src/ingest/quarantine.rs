//! The quarantine: rows and values ingest could not use, with file, row, column and reason.
//! A reject never carries a personal column's value, nor a value that looks like a personal number.

use serde::{Deserialize, Serialize};

use super::personal;

/// The longest value a reject shows, in characters: enough to see what was wrong with a date or
/// a count, and a bound on what a giant cell can put into the quarantine.
pub const MAX_SHOWN_CHARS: usize = 200;

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
    /// The value as the file held it, for a dropped field (at most [`MAX_SHOWN_CHARS`]
    /// characters); `None` when it was withheld (a personal number, a giant cell).
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

    /// A value that could not be read: the field is dropped and the value shown, unless it looks
    /// like a personal number (then it is withheld and the reason says why). A long value is
    /// shown cut at [`MAX_SHOWN_CHARS`] characters, with `…`.
    pub fn field(
        &self,
        row: usize,
        column: &str,
        value: String,
        reason: impl Into<String>,
    ) -> Reject {
        let mut reason = reason.into();
        let value = match personal::find(&value) {
            Some(kind) => {
                reason = format!("{reason}; {}", kind.reason());
                None
            }
            None => Some(shown(value)),
        };
        Reject {
            value,
            reason,
            ..self.withheld(row, column, String::new())
        }
    }

    /// A dropped field whose value is not shown at all (a personal number, a giant cell).
    pub fn withheld(&self, row: usize, column: &str, reason: impl Into<String>) -> Reject {
        Reject {
            source: self.source.clone(),
            file: self.file.clone(),
            row,
            column: Some(column.to_string()),
            value: None,
            reason: reason.into(),
            action: RejectAction::FieldDropped,
        }
    }
}

/// `value`, cut at [`MAX_SHOWN_CHARS`] characters.
fn shown(value: String) -> String {
    match value.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value,
    }
}
