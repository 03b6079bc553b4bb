//! Resolves a connector's `FileSource` to the files to read: one file, the newest export in a
//! folder (by the date in its name, else modification time), or all of them by name.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::NaiveDate;

use crate::ingest::spec::{FileSource, Pick};

/// Why no file could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{}: no such file or folder", .0.display())]
    Missing(PathBuf),
    #[error("{}: cannot list folder: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: folder holds no file matching `{pattern}`", .path.display())]
    Empty { path: PathBuf, pattern: String },
}

const DEFAULT_EXTENSIONS: &[&str] = &["csv", "xlsx", "xls"];

/// The files `source` names, in reading order. `root` anchors relative paths.
pub fn resolve(source: &FileSource, root: &Path) -> Result<Vec<PathBuf>, FilesError> {
    let path = if source.path.is_absolute() {
        source.path.clone()
    } else {
        root.join(&source.path)
    };
    let meta = std::fs::metadata(&path).map_err(|_| FilesError::Missing(path.clone()))?;
    if !meta.is_dir() {
        return Ok(vec![path]);
    }
    let io = |e| FilesError::Io {
        path: path.clone(),
        source: e,
    };
    let mut found: Vec<(PathBuf, String, SystemTime)> = Vec::new();
    for entry in std::fs::read_dir(&path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Hidden files and Office lock files (`~$名单.xlsx`) are never exports.
        if name.starts_with('.') || name.starts_with("~$") {
            continue;
        }
        let wanted = match &source.pattern {
            Some(p) => glob_match(p, &name),
            None => has_default_extension(&name),
        };
        if !wanted {
            continue;
        }
        let meta = entry.metadata().map_err(io)?;
        if meta.is_file() {
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((entry.path(), name, mtime));
        }
    }
    if found.is_empty() {
        let pattern = source
            .pattern
            .clone()
            .unwrap_or_else(|| "*.csv, *.xlsx, *.xls".to_string());
        return Err(FilesError::Empty { path, pattern });
    }
    match source.pick {
        Pick::All => {
            found.sort_by(|a, b| a.1.cmp(&b.1));
            Ok(found.into_iter().map(|f| f.0).collect())
        }
        Pick::Newest => {
            // A dated name beats an undated one; then the date, then mtime, then the name.
            let newest = found
                .into_iter()
                .max_by_key(|(_, name, mtime)| (date_in_name(name), *mtime, name.clone()))
                .map(|f| f.0);
            Ok(newest.into_iter().collect())
        }
    }
}

fn has_default_extension(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        DEFAULT_EXTENSIONS
            .iter()
            .any(|e| e.eq_ignore_ascii_case(ext))
    })
}

/// A file-name pattern (`*.csv`, `体检*.xlsx`, `tax_??.csv`, `{税务,tax}*.xlsx`), matched
/// ASCII case-insensitively by `globset`; the error says what is wrong with the pattern.
pub fn glob(pattern: &str) -> Result<globset::GlobMatcher, globset::Error> {
    Ok(globset::GlobBuilder::new(pattern)
        .case_insensitive(true)
        .literal_separator(true)
        .build()?
        .compile_matcher())
}

/// Whether `name` matches `pattern`; a pattern that is not one matches nothing (`yingbao
/// check` reports it).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    glob(pattern).is_ok_and(|g| g.is_match(name))
}

/// The first date written in a file name: `20250630`, `202506`, `2025-06-30`, `2025_06`,
/// `2025.6`, `2025年6月`, `2025年6月30日`. A month alone means its first day.
pub fn date_in_name(name: &str) -> Option<NaiveDate> {
    let chars: Vec<char> = name.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (run, end) = digit_run(&chars, i);
        let found = match run.len() {
            8 => ymd(&run[..4], &run[4..6], &run[6..8]),
            6 => ymd(&run[..4], &run[4..6], "1"),
            4 => separated_date(&chars, &run, end),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        i = end;
    }
    None
}

fn digit_run(chars: &[char], start: usize) -> (String, usize) {
    let end = chars[start..]
        .iter()
        .position(|c| !c.is_ascii_digit())
        .map_or(chars.len(), |p| start + p);
    (chars[start..end].iter().collect(), end)
}

/// `YYYY` at `chars[..end]` followed by a separator and a month, optionally a day.
fn separated_date(chars: &[char], year: &str, end: usize) -> Option<NaiveDate> {
    let sep = *chars.get(end)?;
    if !matches!(sep, '-' | '_' | '.' | '年') {
        return None;
    }
    let month_start = end + 1;
    if !chars.get(month_start)?.is_ascii_digit() {
        return None;
    }
    let (month, month_end) = digit_run(chars, month_start);
    if month.len() > 2 {
        return None;
    }
    let day_sep = chars.get(month_end).copied();
    let day = match day_sep {
        Some(s) if s == sep || (sep == '年' && s == '月') => chars
            .get(month_end + 1)
            .filter(|c| c.is_ascii_digit())
            .map(|_| digit_run(chars, month_end + 1).0)
            .filter(|d| d.len() <= 2),
        _ => None,
    };
    match day {
        Some(d) => ymd(year, &month, &d).or_else(|| ymd(year, &month, "1")),
        None => ymd(year, &month, "1"),
    }
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    let y: i32 = y.parse().ok()?;
    if !(1990..=2100).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::spec::{Encoding, Format};

    fn source(path: &Path, pattern: Option<&str>, pick: Pick) -> FileSource {
        FileSource {
            path: path.to_path_buf(),
            pattern: pattern.map(str::to_string),
            pick,
            format: Format::Auto,
            encoding: Encoding::Auto,
            delimiter: None,
            sheet: None,
            header_row: 1,
        }
    }

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn dates_in_file_names() {
        assert_eq!(date_in_name("体检名单20250630.xlsx"), d(2025, 6, 30));
        assert_eq!(date_in_name("tax_202506.csv"), d(2025, 6, 1));
        assert_eq!(date_in_name("登记-2025-06.csv"), d(2025, 6, 1));
        assert_eq!(date_in_name("登记 2025-06-15 导出.csv"), d(2025, 6, 15));
        assert_eq!(date_in_name("2025年6月申报.xlsx"), d(2025, 6, 1));
        assert_eq!(date_in_name("2025年12月3日申报.xlsx"), d(2025, 12, 3));
        assert_eq!(date_in_name("v2_export_3.csv"), None);
        assert_eq!(date_in_name("名单.csv"), None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.csv", "a.CSV"));
        assert!(glob_match("体检*.xlsx", "体检2025年6月.xlsx"));
        assert!(glob_match("tax_??.csv", "tax_06.csv"));
        assert!(!glob_match("tax_??.csv", "tax_6.csv"));
        assert!(!glob_match("体检*.xlsx", "申报.xlsx"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("{税务,tax}*.xlsx", "TAX_2025.XLSX"));
        assert!(!glob_match("*.csv", "sub/a.csv"), "a name, not a path");
        assert!(glob("[a-").is_err());
        assert!(!glob_match("[a-", "a"));
    }

    #[test]
    fn folder_newest_all_and_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir(root.join("tax")).expect("mkdir");
        for name in [
            "税务2025年5月.csv",
            "税务2025年6月.csv",
            "税务202504.csv",
            "readme.txt",
            "~$税务.xlsx",
        ] {
            std::fs::write(root.join("tax").join(name), "a\n").expect("write");
        }
        let rel = Path::new("tax");
        let newest = resolve(&source(rel, None, Pick::Newest), root).expect("newest");
        assert_eq!(newest, [root.join("tax/税务2025年6月.csv")]);
        let all = resolve(&source(rel, None, Pick::All), root).expect("all");
        let names: Vec<_> = all.iter().filter_map(|p| p.file_name()).collect();
        assert_eq!(
            names,
            ["税务202504.csv", "税务2025年5月.csv", "税务2025年6月.csv"]
        );
        let one = resolve(&source(rel, Some("*.txt"), Pick::All), root).expect("pattern");
        assert_eq!(one, [root.join("tax/readme.txt")]);

        let err = resolve(&source(rel, Some("*.xlsx"), Pick::Newest), root).expect_err("empty");
        assert!(
            err.to_string().contains("tax") && err.to_string().contains("*.xlsx"),
            "{err}"
        );
        let err =
            resolve(&source(Path::new("nope"), None, Pick::Newest), root).expect_err("missing");
        assert!(err.to_string().contains("nope"), "{err}");

        let file = resolve(
            &source(&root.join("tax/readme.txt"), None, Pick::Newest),
            root,
        )
        .expect("file");
        assert_eq!(file, [root.join("tax/readme.txt")]);
    }

    #[test]
    fn undated_folder_uses_modification_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = dir.path().join("b.csv");
        let new = dir.path().join("a.csv");
        std::fs::write(&old, "a\n").expect("write");
        std::fs::write(&new, "a\n").expect("write");
        let past = SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(past))
            .expect("set mtime");
        let got = resolve(&source(dir.path(), None, Pick::Newest), Path::new("/")).expect("newest");
        assert_eq!(got, [new]);
    }
}
