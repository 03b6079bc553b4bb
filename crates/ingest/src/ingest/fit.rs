//! Whether a file connector fits its local files, read only as far as their headers: the
//! sheet, every mapped column (with a did-you-mean) and the encoding. For `yingbao check`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::ingest::spec::{ConnectorSpec, Encoding};

use super::{decode, files, is_workbook, CsvTable, MappingError, Plan, XlsxTable, XlsxTableError};

/// Bytes of a text file read to find its header (the header row is near the top).
const HEAD_BYTES: usize = 256 * 1024;
/// Files of one connector opened at most (a folder of monthly exports shares its layout).
const MAX_FILES: usize = 3;

/// One way a connector does not fit one of its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    pub path: PathBuf,
    /// The connector key at fault: `columns.name`, `file.sheet`, `file.encoding` …
    pub key: String,
    /// Text of the connector file on the key's line (to find the line), if any.
    pub needle: Option<String>,
    pub message: String,
}

/// Checks `spec` against its files under `root`. A file that cannot be found is not a misfit
/// (`check` warns about it already).
pub fn check(spec: &ConnectorSpec, root: &Path) -> Vec<Misfit> {
    let Ok(paths) = files::resolve(&spec.file, root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in paths.iter().take(MAX_FILES) {
        out.extend(check_file(spec, path));
    }
    out
}

fn misfit(path: &Path, key: &str, needle: Option<&str>, message: String) -> Misfit {
    Misfit {
        path: path.to_path_buf(),
        key: key.to_string(),
        needle: needle.map(str::to_string),
        message,
    }
}

fn check_file(spec: &ConnectorSpec, path: &Path) -> Vec<Misfit> {
    let headers = match is_workbook(spec.file.format, path) {
        Ok(true) => match XlsxTable::open(path, spec.file.sheet.as_deref(), spec.file.header_row) {
            Ok(t) => t.headers().to_vec(),
            Err(XlsxTableError::NoSheet { wanted, available }) => {
                let hint = did_you_mean(&wanted, &available)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                return vec![misfit(
                    path,
                    "file.sheet",
                    Some(&wanted),
                    format!(
                        "sheet `{wanted}` is not in this workbook ({hint}its sheets: {})",
                        available.join(", ")
                    ),
                )];
            }
            Err(e) => return vec![misfit(path, "file", None, e.to_string())],
        },
        Ok(false) => match text_headers(spec, path) {
            Ok(h) => h,
            Err(m) => return vec![m],
        },
        Err(e) => return vec![misfit(path, "file", None, e.to_string())],
    };
    match Plan::new(spec, &headers) {
        Ok(_) => Vec::new(),
        Err(MappingError::MissingColumns { missing, available }) => missing
            .iter()
            .map(|m| missing_column(path, m, &available))
            .collect(),
        Err(e) => {
            // A doubled header is found on the connector's line that names it.
            let needle = match &e {
                MappingError::AmbiguousColumn { header, .. } => Some(header.as_str()),
                _ => None,
            };
            vec![misfit(path, "columns", needle, e.to_string())]
        }
    }
}

/// `name (企业名称 | 单位名称)` as `Plan::new` reports it → a misfit with a did-you-mean.
fn missing_column(path: &Path, missing: &str, available: &[String]) -> Misfit {
    let (field, alternatives) = match missing.split_once(" (") {
        Some((f, rest)) => (f, rest.trim_end_matches(')')),
        None => (missing, ""),
    };
    let wanted: Vec<&str> = alternatives
        .split(" | ")
        .filter(|s| !s.is_empty())
        .collect();
    let suggestion = wanted
        .iter()
        .filter_map(|w| {
            did_you_mean(w, available).map(|s| (strsim::normalized_levenshtein(w, s), s))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, s)| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    let key = match field {
        "record key" => "record.key".to_string(),
        "group_by" => "record.group_by".to_string(),
        f => format!("columns.{f}"),
    };
    misfit(
        path,
        &key,
        wanted.first().copied(),
        format!(
            "no column {} in the file{suggestion} (its headers: {})",
            wanted
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(" or "),
            available.join(", ")
        ),
    )
}

/// The closest of `candidates` to `wanted`, when it is close enough to be a likely typo or
/// variant (one contains the other, or most characters agree).
pub fn did_you_mean<'c>(wanted: &str, candidates: &'c [String]) -> Option<&'c str> {
    let w = wanted.trim();
    candidates
        .iter()
        .map(|c| {
            let c = c.trim();
            let score = if !w.is_empty() && !c.is_empty() && (c.contains(w) || w.contains(c)) {
                0.9
            } else {
                strsim::normalized_levenshtein(w, c)
            };
            (score, c)
        })
        .filter(|(s, _)| *s >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The header row of a text file, decoded as the connector says; a header that does not
/// decode cleanly is a misfit naming the encoding that would.
fn text_headers(spec: &ConnectorSpec, path: &Path) -> Result<Vec<String>, Misfit> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD_BYTES as u64).read_to_end(&mut head))
        .map_err(|e| misfit(path, "file.path", None, format!("cannot read: {e}")))?;
    if head.len() == HEAD_BYTES {
        // Cut at the last line end: a character may straddle the limit.
        if let Some(end) = head.iter().rposition(|b| *b == b'\n') {
            head.truncate(end + 1);
        }
    }
    let delimiter = super::delimiter(spec, path)
        .map_err(|e| misfit(path, "file.delimiter", None, e.to_string()))?;
    let headers_as = |encoding: Encoding| -> Option<(Vec<String>, usize)> {
        let decoded = decode(&head, encoding);
        let table = CsvTable::open(&decoded.text, delimiter, spec.file.header_row).ok()?;
        let headers = table.headers().to_vec();
        let bad = headers
            .iter()
            .flat_map(|h| h.chars())
            .filter(|c| *c == '\u{FFFD}' || looks_misdecoded(*c))
            .count();
        Some((headers, bad))
    };
    let Some((headers, bad)) = headers_as(spec.file.encoding) else {
        return Err(misfit(
            path,
            "file.header_row",
            None,
            format!(
                "header row {} is missing or empty",
                spec.file.header_row.max(1)
            ),
        ));
    };
    if bad > 0 {
        let better = [Encoding::Utf8, Encoding::Gb18030]
            .into_iter()
            .filter(|e| *e != spec.file.encoding)
            .find(|e| headers_as(*e).is_some_and(|(_, b)| b == 0));
        let hint = match better {
            Some(Encoding::Utf8) => "; the file reads cleanly as `encoding = \"utf-8\"`",
            Some(_) => "; the file reads cleanly as `encoding = \"gb18030\"`",
            None => "",
        };
        return Err(misfit(
            path,
            "file.encoding",
            Some("encoding"),
            // The misdecoded headers themselves would print as mojibake: count them instead.
            format!(
                "{} of {} headers do not decode as `encoding = \"{}\"`{hint}",
                headers.iter().filter(|h| misdecoded(h)).count(),
                headers.len(),
                encoding_name(spec.file.encoding),
            ),
        ));
    }
    Ok(headers)
}

/// Whether a decoded header holds a replacement or misdecoding character.
fn misdecoded(header: &str) -> bool {
    header
        .chars()
        .any(|c| c == '\u{FFFD}' || looks_misdecoded(c))
}

/// An encoding as a connector file spells it.
fn encoding_name(e: Encoding) -> &'static str {
    match e {
        Encoding::Auto => "auto",
        Encoding::Utf8 => "utf-8",
        Encoding::Gbk => "gbk",
        Encoding::Gb18030 => "gb18030",
    }
}

/// Characters that appear when GBK bytes are read as something else (Latin-1 letters, box
/// drawing, private use) and that a Chinese header never holds.
fn looks_misdecoded(c: char) -> bool {
    matches!(c, '\u{00C0}'..='\u{00FF}' | '\u{2500}'..='\u{257F}' | '\u{E000}'..='\u{F8FF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_headers_are_suggested_and_far_ones_are_not() {
        let headers: Vec<String> = ["统一社会信用代码", "企业名称", "注册地址", "登记状态"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(did_you_mean("单位名称", &headers), Some("企业名称"));
        assert_eq!(
            did_you_mean("社会信用代码", &headers),
            Some("统一社会信用代码")
        );
        assert_eq!(did_you_mean("行业代码", &headers), None);
    }

    #[test]
    fn a_missing_column_names_the_key_and_a_suggestion() {
        let available = vec!["企业名称".to_string(), "住所".to_string()];
        let m = missing_column(Path::new("a.csv"), "name (单位名称 | 名称)", &available);
        assert_eq!(m.key, "columns.name");
        assert_eq!(m.needle.as_deref(), Some("单位名称"));
        assert!(
            m.message.contains("did you mean `企业名称`"),
            "{}",
            m.message
        );
    }
}
