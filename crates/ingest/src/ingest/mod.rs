//! Ingest: reads a connector's CSV/XLSX exports into canonical `Observation`s plus a quarantine
//! of rejected rows and values. Synchronous; never keeps a personal column's value.

pub mod aggregate;
pub mod csv_table;
pub mod decode;
pub mod files;
pub mod fingerprint;
pub mod fit;
pub mod http;
pub mod mapping;
pub mod observation_csv;
pub mod personal;
pub mod quarantine;
pub mod remote;
pub mod spec;
pub mod sql;
pub mod table;
pub mod trust;
pub mod values;
pub mod xlsx_table;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::domain::Observation;
use crate::ingest::spec::{ConnectorSpec, Format};

pub use aggregate::Grouper;
pub use csv_table::{CsvTable, CsvTableError};
pub use decode::{decode, Decoded, TextEncoding};
pub use files::FilesError;
pub use fingerprint::{fingerprint, Fingerprint};
pub use mapping::{MappingError, Plan};
pub use quarantine::{Reject, RejectAction, RejectContext};
pub use remote::{is_incremental, preview_remote, process_env, read_remote, RemoteBatch};
pub use table::{Cell, DataRow, TableItem};
pub use values::ValueError;
pub use xlsx_table::{XlsxTable, XlsxTableError};

/// Everything one connector run read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceBatch {
    pub observations: Vec<Observation>,
    pub rejects: Vec<Reject>,
    pub files: Vec<FileStats>,
    /// Observations whose USCC fails its check character (kept, flagged).
    pub invalid_uscc: usize,
    /// The text of the rows rejected whole, held only while the read is judged.
    #[serde(skip)]
    pub damaged: Damaged,
}

/// The text of rows rejected whole: a record missing from a read may be one of them, damaged
/// rather than gone (`trust::vanished`). Held in memory only, never stored or logged (a row
/// may hold a personal column), and bounded.
#[derive(Clone, Default)]
pub struct Damaged {
    rows: Vec<String>,
}

/// Only how many: the rows' text may hold personal data and must not reach a log.
impl std::fmt::Debug for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Damaged({} rows)", self.rows.len())
    }
}

impl Damaged {
    /// Rows kept at most, and characters of each.
    const MAX_ROWS: usize = 100_000;
    const MAX_CHARS: usize = 4_096;

    fn keep(&mut self, raw: String) {
        if self.rows.len() < Self::MAX_ROWS {
            self.rows.push(raw.chars().take(Self::MAX_CHARS).collect());
        }
    }

    /// Adds another file's damaged rows.
    pub fn extend(&mut self, other: Damaged) {
        for r in other.rows {
            self.keep(r);
        }
    }

    /// Whether a rejected row holds every part of `record_key` (`a|b` keys in parts).
    pub fn holds_key(&self, record_key: &str) -> bool {
        let parts: Vec<&str> = record_key.split('|').filter(|p| !p.is_empty()).collect();
        !parts.is_empty()
            && self
                .rows
                .iter()
                .any(|row| parts.iter().all(|p| row.contains(p)))
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn keep_for_test(&mut self, raw: &str) {
        self.keep(raw.to_string());
    }
}

/// What was read from one file.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FileStats {
    pub path: PathBuf,
    /// The text encoding used (`None` for workbooks).
    pub encoding: Option<TextEncoding>,
    /// Malformed byte sequences replaced while decoding (a wrong forced encoding).
    pub malformed_bytes: usize,
    /// Non-blank data rows after the header, rejected ones included.
    pub rows: usize,
    /// File size.
    pub bytes: u64,
    /// The export's date: the date in the file's name, else the day it was last modified.
    #[serde(default)]
    pub exported_on: Option<chrono::NaiveDate>,
    /// The row a text file ends inside, when it ends in a malformed row without a line break:
    /// the file was cut short.
    #[serde(default)]
    pub cut_short: Option<usize>,
    /// Per mapped column (by its header): the rows with a value in it.
    #[serde(default)]
    pub filled: std::collections::BTreeMap<String, usize>,
}

/// A file that could not be read at all. Row-level problems are rejects, not errors.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", .path.display())]
    Csv {
        path: PathBuf,
        source: CsvTableError,
    },
    #[error("{}: {source}", .path.display())]
    Xlsx {
        path: PathBuf,
        source: XlsxTableError,
    },
    #[error("{}: connector `{connector}` does not fit this file: {source}", .path.display())]
    Mapping {
        path: PathBuf,
        connector: String,
        /// Boxed: the error is passed around far more often than it happens.
        source: Box<MappingError>,
    },
    #[error(transparent)]
    Http(#[from] http::HttpError),
    #[error(transparent)]
    Sql(#[from] sql::SqlError),
    #[error("connector `{0}` has no [http] or [sql] source")]
    NotRemote(String),
    #[error("connector `{connector}`: delimiter must be one ASCII character or `tab`, got `{delimiter}`")]
    Delimiter {
        connector: String,
        delimiter: String,
    },
    #[error(
        "{}: {bytes} bytes, more than a text export is read whole ({MAX_TEXT_FILE_BYTES} bytes); \
         it is not read",
        .path.display()
    )]
    TooLarge { path: PathBuf, bytes: u64 },
}

/// The largest CSV file read. A text file is read whole and decoded (about three times its
/// size in memory); the largest export seen, a city's exam feed at 1,000,000 employers, is
/// about 0.9 GB. Anything past this is no export of a county feed, and memory stays bounded.
pub const MAX_TEXT_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Reads every file `spec.file` names (relative to the project `root`).
pub fn read_source(spec: &ConnectorSpec, root: &Path) -> Result<SourceBatch, IngestError> {
    let paths = files::resolve(&spec.file, root)?;
    let mut batch = SourceBatch::default();
    for path in &paths {
        let one = read_file(spec, path)?;
        batch.observations.extend(one.observations);
        batch.rejects.extend(one.rejects);
        batch.files.extend(one.files);
        batch.damaged.extend(one.damaged);
    }
    if !spec.record.group_by.is_empty() && paths.len() > 1 {
        // The same employer may appear in several monthly exports: one observation per group.
        let mut grouper = Grouper::default();
        for o in std::mem::take(&mut batch.observations) {
            grouper.add_group(o);
        }
        batch.observations = grouper.finish();
    }
    batch.invalid_uscc = count_invalid(&batch.observations);
    Ok(batch)
}

/// Reads one file with `spec`'s format, encoding, header row and mapping.
pub fn read_file(spec: &ConnectorSpec, path: &Path) -> Result<SourceBatch, IngestError> {
    let meta = std::fs::metadata(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = meta.len();
    let exported_on = path
        .file_name()
        .and_then(|n| files::date_in_name(&n.to_string_lossy()))
        .or_else(|| {
            let modified: chrono::DateTime<chrono::Local> = meta.modified().ok()?.into();
            Some(modified.date_naive())
        });
    let ctx = RejectContext {
        source: spec.id.clone(),
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let mut sink = Sink::new(spec, ctx);
    let workbook = is_workbook(spec.file.format, path)?;
    if !workbook && bytes > MAX_TEXT_FILE_BYTES {
        return Err(IngestError::TooLarge {
            path: path.to_path_buf(),
            bytes,
        });
    }
    let (encoding, malformed_bytes, cut_short) = if workbook {
        read_xlsx(spec, path, &mut sink)?;
        (None, 0, None)
    } else {
        let (enc, bad, cut) = read_csv(spec, path, &mut sink)?;
        (Some(enc), bad, cut)
    };
    let rows = sink.rows;
    let filled = sink
        .filled
        .iter()
        .map(|(_, header, n)| (header.clone(), *n))
        .collect();
    let mut batch = sink.finish();
    batch.files.push(FileStats {
        path: path.to_path_buf(),
        encoding,
        malformed_bytes,
        rows,
        bytes,
        exported_on,
        cut_short,
        filled,
    });
    batch.invalid_uscc = count_invalid(&batch.observations);
    Ok(batch)
}

/// Observations whose USCC fails its check character.
pub fn count_invalid(observations: &[Observation]) -> usize {
    observations
        .iter()
        .filter(|o| o.uscc.as_ref().is_some_and(|u| !u.is_valid()))
        .count()
}

fn read_csv(
    spec: &ConnectorSpec,
    path: &Path,
    sink: &mut Sink,
) -> Result<(TextEncoding, usize, Option<usize>), IngestError> {
    let delimiter = delimiter(spec, path)?;
    let raw = std::fs::read(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let decoded = decode(&raw, spec.file.encoding);
    let csv_err = |source| IngestError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut table =
        CsvTable::open(&decoded.text, delimiter, spec.file.header_row).map_err(csv_err)?;
    let plan = plan(spec, path, table.headers())?;
    table.set_mask(plan.mask());
    // The row of the last item when it was malformed.
    let mut last_bad = None;
    for item in table {
        let item = item.map_err(|e| csv_err(CsvTableError::Csv(e)))?;
        last_bad = match &item {
            TableItem::Malformed { number, .. } => Some(*number),
            TableItem::Row(_) => None,
        };
        sink.take(&plan, item);
    }
    // A file that ends inside a malformed row, without the line break every export ends its
    // last row with or not, was cut short: the copy or download stopped.
    let cut_short = last_bad.filter(|_| !decoded.text.ends_with(['\n', '\r']));
    Ok((decoded.encoding, decoded.malformed, cut_short))
}

fn read_xlsx(spec: &ConnectorSpec, path: &Path, sink: &mut Sink) -> Result<(), IngestError> {
    let mut table = XlsxTable::open(path, spec.file.sheet.as_deref(), spec.file.header_row)
        .map_err(|source| IngestError::Xlsx {
            path: path.to_path_buf(),
            source,
        })?;
    let plan = plan(spec, path, table.headers())?;
    table.set_mask(plan.mask());
    for item in table {
        sink.take(&plan, item);
    }
    Ok(())
}

fn plan(spec: &ConnectorSpec, path: &Path, headers: &[String]) -> Result<Plan, IngestError> {
    Plan::new(spec, headers).map_err(|source| IngestError::Mapping {
        source: Box::new(source),
        path: path.to_path_buf(),
        connector: spec.id.clone(),
    })
}

/// Collects one file's mapped rows, grouping them when the connector says so.
struct Sink {
    source: String,
    feed: crate::domain::Feed,
    ctx: RejectContext,
    grouper: Option<Grouper>,
    observations: Vec<Observation>,
    rejects: Vec<Reject>,
    rows: usize,
    damaged: Damaged,
    /// Per mapped column: its index, header and the rows with a value in it.
    filled: Vec<(usize, String, usize)>,
}

impl Sink {
    fn new(spec: &ConnectorSpec, ctx: RejectContext) -> Sink {
        Sink {
            source: spec.id.clone(),
            feed: spec.feed,
            ctx,
            grouper: (!spec.record.group_by.is_empty()).then(Grouper::default),
            observations: Vec::new(),
            rejects: Vec::new(),
            rows: 0,
            damaged: Damaged::default(),
            filled: Vec::new(),
        }
    }

    fn take(&mut self, plan: &Plan, item: TableItem) {
        self.rows += 1;
        if self.filled.is_empty() {
            self.filled = plan
                .mapped_columns()
                .map(|(col, header)| (col, header.to_string(), 0))
                .collect();
        }
        let row = match item {
            TableItem::Row(row) => row,
            TableItem::Malformed {
                number,
                reason,
                raw,
            } => {
                self.rejects.push(self.ctx.row(number, reason));
                self.damaged.keep(raw);
                return;
            }
        };
        for (col, _, n) in &mut self.filled {
            if row.cells.get(*col).is_some_and(|c| !c.is_blank()) {
                *n += 1;
            }
        }
        let Some(mapped) = plan.map_row(&row, &self.ctx, &mut self.rejects) else {
            self.damaged.keep(
                row.cells
                    .iter()
                    .map(Cell::key_text)
                    .collect::<Vec<_>>()
                    .join("\u{1f}"),
            );
            return;
        };
        let mut obs = mapped.observation;
        obs.source.clone_from(&self.source);
        obs.feed = self.feed;
        match (&mut self.grouper, mapped.group_key) {
            (Some(g), Some(key)) => g.add_row(key, obs),
            _ => self.observations.push(obs),
        }
    }

    fn finish(self) -> SourceBatch {
        let observations = match self.grouper {
            Some(g) => g.finish(),
            None => self.observations,
        };
        SourceBatch {
            observations,
            rejects: self.rejects,
            files: Vec::new(),
            invalid_uscc: 0,
            damaged: self.damaged,
        }
    }
}

/// Whether `path` is read as a workbook: by `format`, else by extension, else by magic bytes.
fn is_workbook(format: Format, path: &Path) -> Result<bool, IngestError> {
    match format {
        Format::Csv => return Ok(false),
        Format::Xlsx => return Ok(true),
        Format::Auto => {}
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Ok(false),
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Ok(true),
        _ => {
            use std::io::Read;
            let mut magic = [0u8; 4];
            let n = std::fs::File::open(path)
                .and_then(|mut f| f.read(&mut magic))
                .map_err(|source| IngestError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
            Ok(n == 4 && (magic == *b"PK\x03\x04" || magic == [0xD0, 0xCF, 0x11, 0xE0]))
        }
    }
}

/// The CSV delimiter: configured (one ASCII character, or `tab`/`\t`), else tab for `.tsv`,
/// else a comma.
fn delimiter(spec: &ConnectorSpec, path: &Path) -> Result<u8, IngestError> {
    match spec.file.delimiter.as_deref() {
        None | Some("") => {
            let tsv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            Ok(if tsv { b'\t' } else { b',' })
        }
        Some("tab") | Some("\\t") | Some("\t") => Ok(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() => Ok(d.as_bytes()[0]),
        Some(d) => Err(IngestError::Delimiter {
            connector: spec.id.clone(),
            delimiter: d.to_string(),
        }),
    }
}
