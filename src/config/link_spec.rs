//! The comparison spec of `yingbao link` (a TOML file): two lists, which columns hold which
//! comparable fields, and the thresholds. Either side may be the newest master list.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::domain::Feed;
use crate::ingest::spec::{
    Columns, ConnectorSpec, Encoding, FileSource, Format, Pick, RecordSpec, ValueOptions,
};
use crate::resolve::Thresholds;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub left: LinkSide,
    pub right: LinkSide,
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// One list: a CSV/XLSX file with its column mapping, or `master = true`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSide {
    /// Use the newest run's master list instead of a file.
    #[serde(default)]
    pub master: bool,
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub encoding: Encoding,
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(default = "one")]
    pub header_row: usize,
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Columns that key a record (default: row number).
    #[serde(default)]
    pub key: Vec<String>,
    /// Comparable field → header(s): name, uscc, tax_id, address, industry_code, legal_rep.
    #[serde(default)]
    pub columns: BTreeMap<String, Columns>,
}

fn one() -> usize {
    1
}

/// Fields the matcher compares; a link spec may map only these.
pub const LINK_FIELDS: &[&str] = &[
    "name",
    "uscc",
    "tax_id",
    "address",
    "industry_code",
    "legal_rep",
    "region_code",
];

impl LinkSide {
    /// This side as a connector of the `other` feed named `id`, when it is a file.
    pub fn connector(&self, id: &str) -> Option<ConnectorSpec> {
        let path = self.path.clone()?;
        Some(ConnectorSpec {
            id: id.to_string(),
            feed: Feed::Other,
            description: String::new(),
            enabled: true,
            http: None,
            pull: Default::default(),
            trust: Default::default(),
            sql: None,
            file: FileSource {
                path,
                pattern: None,
                pick: Pick::Newest,
                format: self.format,
                encoding: self.encoding,
                delimiter: self.delimiter.clone(),
                sheet: self.sheet.clone(),
                header_row: self.header_row,
            },
            record: RecordSpec {
                key: self.key.clone(),
                group_by: Vec::new(),
            },
            columns: self.columns.clone(),
            personal_columns: Vec::new(),
            optional_columns: Vec::new(),
            values: ValueOptions::default(),
        })
    }
}
