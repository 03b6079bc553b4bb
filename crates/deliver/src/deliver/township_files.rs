//! Writes every township's lead list (`<code>_<name>.xlsx` and `.csv`) into one directory,
//! plus `index.csv` listing the files; leads that could not be placed go to `county_<name>`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::csv_list::{write_excel_csv, write_lead_csv};
use super::list_settings::ListTerms;
use super::reuse::{digest, ContentDigest, Earlier};
use super::testing_list::Sheets;
use super::workbook::{write_lead_workbook, Reminders};
use super::DeliverError;
use crate::leads::row::LeadRow;

/// File-name prefix of the county-level list (leads that could not be placed in a township).
pub const COUNTY_PREFIX: &str = "county";
/// File name used when neither the code nor the name leaves anything usable.
pub const UNNAMED: &str = "未命名";
/// Name of the index file.
pub const INDEX_FILE: &str = "index.csv";
/// Headers of the index file.
pub const INDEX_HEADERS: [&str; 5] = ["乡镇代码", "乡镇名称", "线索数", "Excel文件", "CSV文件"];

/// The version of the files' layout, part of a list's digest: a list written by an older
/// layout is built again, not linked. 2: the main sheet by employer, 证据明细, print setup.
const LAYOUT_VERSION: u32 = 2;

/// Characters Windows does not allow in file names.
const UNSAFE_CHARS: [char; 9] = ['/', '\\', ':', '*', '?', '"', '<', '>', '|'];
/// Longest name part of a file name, in characters (well inside Windows limits).
const MAX_NAME_CHARS: usize = 60;

/// Which list: a township, or (`code: None`) the county-level list of unplaced leads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TownshipKey {
    /// Township code; `None` for the county-level list of leads that could not be placed.
    pub code: Option<String>,
    /// Township name (`未能定位乡镇` for the county-level list).
    pub name: String,
}

/// One list as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenList {
    pub township: TownshipKey,
    pub rows: usize,
    pub xlsx: PathBuf,
    pub csv: PathBuf,
    /// The digest of its title, terms (deadline, 处置要求) and rows: the same list written
    /// again is the same files.
    #[serde(skip)]
    pub digest: ContentDigest,
}

/// Title of a list: `{county}{township} 职业病危害项目申报线索清单（{cycle}）`.
pub fn list_title(county: &str, township: &str, cycle: &str) -> String {
    format!("{county}{township} 职业病危害项目申报线索清单（{cycle}）")
}

/// File name (without extension) of a list: `<code>_<name>`, or `county_<name>`.
pub fn file_stem(key: &TownshipKey) -> String {
    let code = match key.code.as_deref() {
        Some(code) => sanitize_file_part(code),
        None => COUNTY_PREFIX.to_string(),
    };
    let name: String = sanitize_file_part(&key.name)
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim_end_matches(['.', ' ']);
    match (code.is_empty(), name.is_empty()) {
        (false, false) => format!("{code}_{name}"),
        (false, true) => code,
        (true, false) => name.to_string(),
        (true, true) => UNNAMED.to_string(),
    }
}

/// Removes what Windows does not allow in a file name (`/\:*?"<>|` and control characters)
/// and the leading and trailing spaces and dots it mishandles.
pub fn sanitize_file_part(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| !UNSAFE_CHARS.contains(c) && !c.is_control())
        .collect();
    kept.trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_string()
}

/// Writes each list as `<dir>/<stem>.xlsx` and `<dir>/<stem>.csv` (see [`file_stem`]) and
/// `<dir>/index.csv`, creating `dir` if needed. Rows are written in the order given; a list
/// with no rows still gets (empty) files. Fails before writing anything if two lists would
/// share a file name (compared as Windows does, ignoring case). `terms` (the run's
/// 反馈时限 and each lead kind's 处置要求, from `[delivery.list]`) are printed on every list.
pub fn write_township_lists(
    dir: &Path,
    county: &str,
    cycle: &str,
    lists: &[(TownshipKey, Vec<LeadRow>)],
    terms: &ListTerms,
) -> Result<Vec<WrittenList>, DeliverError> {
    write_township_lists_from(dir, county, cycle, lists, terms, &Earlier::default())
}

/// [`write_township_lists`], linking from `earlier` every list written before with the same
/// title, terms and rows instead of building it again.
pub fn write_township_lists_from(
    dir: &Path,
    county: &str,
    cycle: &str,
    lists: &[(TownshipKey, Vec<LeadRow>)],
    terms: &ListTerms,
    earlier: &Earlier,
) -> Result<Vec<WrittenList>, DeliverError> {
    write_lists(
        dir,
        lists,
        |key| list_title(county, &key.name, cycle),
        terms,
        &Sheets::new(),
        earlier,
    )
}

/// [`write_township_lists_from`] with each list's title given by `title`; a township with
/// testing reminders in `reminders` gets them as its workbook's fourth sheet.
pub fn write_lists(
    dir: &Path,
    lists: &[(TownshipKey, Vec<LeadRow>)],
    title: impl Fn(&TownshipKey) -> String + Sync,
    terms: &ListTerms,
    reminders: &Sheets<'_>,
    earlier: &Earlier,
) -> Result<Vec<WrittenList>, DeliverError> {
    let mut seen = HashSet::new();
    let mut planned = Vec::with_capacity(lists.len());
    for (key, rows) in lists {
        let stem = file_stem(key);
        let xlsx = dir.join(format!("{stem}.xlsx"));
        if !seen.insert(stem.to_lowercase()) {
            return Err(DeliverError::DuplicateFile { path: xlsx });
        }
        let csv = dir.join(format!("{stem}.csv"));
        // The layout's version, the terms, the rows and the township's testing reminders:
        // whatever changes the files.
        let content = (LAYOUT_VERSION, terms, rows, reminders.get(&key.code));
        let digest = digest(&title(key), &content).map_err(|e| DeliverError::Json {
            path: xlsx.clone(),
            source: e,
        })?;
        planned.push(WrittenList {
            township: key.clone(),
            rows: rows.len(),
            xlsx,
            csv,
            digest,
        });
    }

    std::fs::create_dir_all(dir).map_err(|e| DeliverError::io(dir, e))?;
    let write_one = |i: usize| -> Result<(), DeliverError> {
        let (written, (key, rows)) = (&planned[i], &lists[i]);
        if earlier.reuse(&written.digest, &[&written.xlsx, &written.csv]) {
            return Ok(());
        }
        let sheet = reminders.get(&key.code).map(|(title, rows)| Reminders {
            title,
            rows: rows.as_slice(),
        });
        write_lead_workbook(&written.xlsx, &title(key), rows, terms, sheet)?;
        write_lead_csv(&written.csv, rows)
    };
    // Lists are independent files: written on every core, each taking the next list.
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(lists.len());
    let results: Vec<Result<(), DeliverError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= lists.len() {
                        return Ok(());
                    }
                    write_one(i)?;
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.into_iter().collect::<Result<(), _>>()?;

    let index_rows = planned.iter().map(|w| {
        [
            w.township.code.clone().unwrap_or_default(),
            w.township.name.clone(),
            w.rows.to_string(),
            file_name(&w.xlsx),
            file_name(&w.csv),
        ]
    });
    write_excel_csv(&dir.join(INDEX_FILE), &INDEX_HEADERS, index_rows)?;
    Ok(planned)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
