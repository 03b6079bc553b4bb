//! Small operator-edited CSV tables in `config/` (risk catalogue, gazetteer, aliases).
//! Lines starting with `#` are comments; every row keeps its line number for error messages.

use std::collections::HashMap;
use std::path::Path;

use super::problem::Problem;

/// One data row of a config table, with its 1-based line in the file.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub line: usize,
    cells: HashMap<String, String>,
}

impl TableRow {
    /// The trimmed cell under `column`, empty when the column is absent or blank.
    pub fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(|s| s.trim()).unwrap_or("")
    }
}

/// Reads a UTF-8 CSV table, skipping comment lines, and checks that `required` columns exist.
pub fn read_table(path: &Path, required: &[&str]) -> Result<Vec<TableRow>, Problem> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problem::new(path, format!("cannot read the file: {e}"))
            .hint("check the path in config/yingbao.toml; relative paths start at the project root")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // Parse line by line: config tables are small and one row per line, and this keeps the
    // exact line number of every row however many comments and blank lines come between.
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let split = |l: &str| -> Vec<String> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(l.as_bytes());
        r.records()
            .next()
            .and_then(Result::ok)
            .map(|rec| rec.iter().map(|c| c.trim().to_string()).collect())
            .unwrap_or_default()
    };
    let Some((header_idx, header)) = lines.next() else {
        return Err(Problem::new(path, "the file is empty").hint(format!(
            "the first row must name the columns: {}",
            required.join(",")
        )));
    };
    let headers = split(header);
    for col in required {
        if !headers.iter().any(|h| h == col) {
            return Err(Problem::new(path, format!("column `{col}` is missing"))
                .at(Some(header_idx + 1))
                .hint(format!("the header row must name: {}", required.join(","))));
        }
    }
    Ok(lines
        .map(|(i, l)| TableRow {
            line: i + 1,
            cells: headers.iter().cloned().zip(split(l)).collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_skipped_and_lines_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "# note\ncode,class\n# another\n3011,严重\n\n06,严重\n",
        )
        .expect("write");
        let rows = read_table(&path, &["code", "class"]).expect("reads");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 4);
        assert_eq!(rows[0].get("code"), "3011");
        assert_eq!(rows[1].line, 6);
        let err = read_table(&path, &["code", "level"]).expect_err("missing column");
        assert_eq!(err.line, Some(2));
    }
}
