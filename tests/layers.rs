//! The module layers inside each crate, as ARCHITECTURE.md states them: a module names only
//! modules below it (`crate::x`). Between crates Cargo keeps the layers; inside one, this test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each crate's modules, lowest first; a module may use only those before it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "crates/stages/src",
        &["resolve", "place", "screen", "leads"],
    ),
    ("crates/deliver/src", &["deliver", "feedback"]),
    (
        "src",
        &[
            "gen", "config", "pipeline", "eval", "report", "portal", "daemon", "cli",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The modules of `names` that `text` reaches through `crate::` (plain or grouped).
fn used(text: &str, names: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let idents: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().split("::").next().unwrap_or_default())
                .collect(),
            None => vec![rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default()],
        };
        out.extend(
            idents
                .into_iter()
                .filter(|x| names.contains(x))
                .map(str::to_string),
        );
    }
    out
}

#[test]
fn no_module_uses_one_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut wrong = Vec::new();
    for (dir, order) in LAYERS {
        for (rank, module) in order.iter().enumerate() {
            let mut files = Vec::new();
            rust_files(&root.join(dir).join(module), &mut files);
            let single = root.join(dir).join(format!("{module}.rs"));
            if single.is_file() {
                files.push(single);
            }
            assert!(!files.is_empty(), "{dir}/{module} has no source");
            for f in files {
                let text = std::fs::read_to_string(&f).expect("read source");
                for m in used(&text, order) {
                    let at = order.iter().position(|x| *x == m).unwrap_or(0);
                    if at > rank {
                        wrong.push(format!("{} uses {m}", f.display()));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "layer violations:\n{}", wrong.join("\n"));
}

#[test]
fn the_scanner_sees_plain_and_grouped_paths() {
    let names = ["config", "pipeline", "portal"];
    let text = "use crate::config::Config;\nuse crate::{pipeline::run, portal};\nlet x = crate::daemon::y;";
    let found: Vec<String> = used(text, &names).into_iter().collect();
    assert_eq!(found, ["config", "pipeline", "portal"]);
}

/// Calls that put text into a CSV or spreadsheet cell as it is. Files that yingbao writes for
/// people make them only through the helpers that neutralise every cell (feed formulas defused,
/// control characters cleaned): `domain::cell_text::SafeCsv` and `deliver::sheet_text::SheetText`.
const RAW_CELL_WRITES: &[&str] = &[
    // csv::Writer
    ".write_record(",
    ".write_byte_record(",
    ".write_field(",
    ".serialize(",
    // rust_xlsxwriter::Worksheet
    ".write_string(",
    ".write_string_with_format(",
    ".write_rich_string(",
    ".write_with_format(",
    ".write_row(",
    ".write_column(",
    ".write_row_matrix(",
    ".write_column_matrix(",
    ".merge_range(",
    ".write_formula(",
    ".write_url(",
];

/// Where a raw cell write is right, and why.
const RAW_WRITES_ALLOWED: &[(&str, &str)] = &[
    (
        "crates/core/src/domain/cell_text.rs",
        "the CSV helper itself",
    ),
    (
        "crates/deliver/src/deliver/sheet_text.rs",
        "the worksheet helper itself",
    ),
    (
        "src/gen/",
        "the generator writes synthetic input feeds as the real ones look, hostile values included",
    ),
    (
        "crates/ingest/src/ingest/observation_csv.rs",
        "a machine round-trip format; `export observations` writes it again through SafeCsv",
    ),
];

/// The raw cell writes (method calls) of `text` as (line number, call), outside comments and
/// outside the `#[cfg(test)]` module (tests write hostile input on purpose).
fn raw_cell_writes(text: &str) -> Vec<(usize, &'static str)> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = Vec::new();
    for (i, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for call in RAW_CELL_WRITES {
            if line.contains(call) {
                out.push((i + 1, *call));
            }
        }
    }
    out
}

#[test]
fn every_csv_and_xlsx_cell_is_written_through_the_neutralising_helpers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("crates"), &mut files);
    let mut wrong = Vec::new();
    let mut scanned = 0;
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        let test_code = rel.ends_with("tests.rs")
            || rel.ends_with("_tests.rs")
            || rel.split('/').any(|part| part == "tests");
        if test_code || RAW_WRITES_ALLOWED.iter().any(|(p, _)| rel.starts_with(p)) {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("read source");
        scanned += 1;
        for (line, call) in raw_cell_writes(&text) {
            wrong.push(format!("{rel}:{line}: {call}"));
        }
    }
    assert!(scanned > 50, "scanned only {scanned} files");
    assert!(
        wrong.is_empty(),
        "text written to a CSV or xlsx cell without neutralising it (use SafeCsv::write_row or \
         SheetText::write_text / write_plain_text / merge_text):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_cell_write_scanner_sees_raw_writes_only_in_code() {
    let text = "let mut w = csv::Writer::from_path(p)?;\n\
                w.write_record([name])?;\n\
                // w.write_record([name]) in a comment\n\
                sheet.write_string_with_format(0, 0, name, &f)?;\n\
                sheet.write_text(0, 0, name, &f)?;\n\
                sheet\n    .merge_range(0, 0, 0, 3, title, &f)?;\n\
                csv.write_cells([name])?;\n\
                write_row(sheet, 1, row)?;\n\
                sheet.write_row(1, 0, [name])?;\n\
                #[cfg(test)]\nmod tests { fn t() { ws.write_string(0, 0, \"x\"); } }\n";
    assert_eq!(
        raw_cell_writes(text),
        [
            (2, ".write_record("),
            (4, ".write_string_with_format("),
            (7, ".merge_range("),
            (10, ".write_row("),
        ]
    );
}
