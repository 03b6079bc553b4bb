//! A feed value a spreadsheet would run (`=HYPERLINK(…)`) with control characters inside, put
//! into the sample's market register: every xlsx and csv yingbao writes holds it defused.

mod common;

use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};
use common::Project;
use yingbao::domain::cell_text::is_plain_number;

/// The market register of the bundled sample (UTF-8 with a BOM).
const MARKET: &str = "connectors/sample/market/市场主体登记信息_20250630.csv";
/// An employer of the sample whose address the register decides and who is a lead of 霞美镇.
const USCC: &str = "91350583MALB50M96J";
/// What goes in front of its address, with a NUL and a bell behind it.
const FORMULA: &str = "=HYPERLINK(\"http://x\",\"y\")";
const CONTROLS: &str = "\0\u{7}";
/// What every file must show instead of [`FORMULA`].
const DEFUSED: &str = "'=HYPERLINK(\"http://x\",\"y\")";

/// Puts the formula and the control characters in front of the employer's 住所; gives the
/// address as it was.
fn poison_market_register(root: &Path) -> String {
    let path = root.join(MARKET);
    let bytes = std::fs::read(&path).expect("read register");
    let bom = b"\xEF\xBB\xBF";
    let body = bytes.strip_prefix(bom).expect("a BOM");
    // Flexible: the sample has a deliberately bad row with a field too many.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    let address = rows[0].iter().position(|h| h == "住所").expect("住所");
    let row = rows
        .iter_mut()
        .find(|r| r[0] == USCC)
        .expect("the employer's row");
    let original = row[address].clone();
    row[address] = format!("{FORMULA}{CONTROLS}{original}");
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(bom.to_vec());
    for r in &rows {
        writer.write_record(r).expect("write");
    }
    std::fs::write(&path, writer.into_inner().expect("bytes")).expect("write register");
    original
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every text cell of every sheet of a workbook.
fn xlsx_texts(path: &Path) -> Vec<String> {
    let mut book = open_workbook_auto(path).expect("open workbook");
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("sheet");
        out.extend(range.used_cells().filter_map(|(_, _, v)| match v {
            Data::String(s) => Some(s.clone()),
            _ => None,
        }));
    }
    out
}

/// Every row of a CSV file (a BOM in front is skipped).
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body)
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect()
}

/// What a spreadsheet would take for a formula or choke on, in one cell.
fn unsafe_cell(s: &str) -> Option<&'static str> {
    let head = s.trim_start();
    if s.chars().any(char::is_control) {
        Some("a control character")
    } else if head.starts_with(['=', '+', '-', '@']) && !is_plain_number(head) {
        Some("a formula")
    } else {
        None
    }
}

/// The address cells of the employer in a table whose header row holds `uscc` and `address`.
fn addresses_of(rows: &[Vec<String>], uscc: &str, address: &str) -> Vec<String> {
    let Some(header) = rows.iter().position(|r| r.iter().any(|c| c == uscc)) else {
        return Vec::new();
    };
    let u = rows[header].iter().position(|c| c == uscc).expect("uscc");
    let a = rows[header]
        .iter()
        .position(|c| c == address)
        .expect("address");
    rows[header + 1..]
        .iter()
        .filter(|r| r.get(u).is_some_and(|v| v.starts_with(USCC)))
        .map(|r| r[a].clone())
        .collect()
}

fn assert_defused(what: &str, cell: &str, original: &str) {
    assert!(cell.starts_with(DEFUSED), "{what}: {cell:?}");
    assert!(cell.ends_with(original), "{what}: {cell:?}");
    assert_eq!(unsafe_cell(cell), None, "{what}: {cell:?}");
}

#[test]
fn a_feed_formula_is_defused_in_every_file_written() {
    let project = Project::new();
    let original = poison_market_register(project.root());
    project.cli(&["run"]);

    let mut files = Vec::new();
    files_under(&project.root().join("out"), &mut files);
    let mut checked = 0;
    let mut seen_in_list = Vec::new();
    for f in &files {
        let rows: Vec<Vec<String>> = match f.extension().and_then(|e| e.to_str()) {
            Some("xlsx") => {
                // A workbook's cells, one per row: enough to find every unsafe one.
                let texts = xlsx_texts(f);
                // The lead list's workbook (the testing reminders have no evidence sheet).
                if f.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("霞美镇"))
                    && !f.to_string_lossy().contains("检测到期提醒")
                {
                    let mut book = open_workbook_auto(f).expect("open");
                    let range = book.worksheet_range("证据明细").expect("evidence sheet");
                    let table: Vec<Vec<String>> = range
                        .rows()
                        .map(|r| r.iter().map(|c| c.to_string()).collect())
                        .collect();
                    seen_in_list.extend(addresses_of(&table, "统一社会信用代码", "地址"));
                }
                texts.into_iter().map(|t| vec![t]).collect()
            }
            Some("csv") => {
                let rows = csv_rows(&std::fs::read(f).expect("read csv"));
                if f.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("霞美镇"))
                {
                    seen_in_list.extend(addresses_of(&rows, "统一社会信用代码", "地址"));
                }
                rows
            }
            _ => continue,
        };
        checked += 1;
        for cell in rows.iter().flatten() {
            if let Some(why) = unsafe_cell(cell) {
                panic!("{} holds {why}: {cell:?}", f.display());
            }
        }
    }
    assert!(checked >= 10, "only {checked} files written");
    // The employer's two leads, in the workbook and in the CSV file of 霞美镇.
    assert!(seen_in_list.len() >= 4, "{seen_in_list:?}");
    for cell in &seen_in_list {
        assert_defused("霞美镇 list", cell, &original);
    }

    // The CLI exports: the master list and the observations the run read.
    let master = csv_rows(project.cli(&["export", "master"]).as_bytes());
    let addresses = addresses_of(&master, "统一社会信用代码", "地址");
    assert_eq!(addresses.len(), 1, "{addresses:?}");
    assert_defused("export master", &addresses[0], &original);
    let observations = csv_rows(project.cli(&["export", "observations"]).as_bytes());
    let addresses = addresses_of(&observations, "uscc", "address");
    assert!(!addresses.is_empty());
    let market = addresses
        .iter()
        .find(|a| a.contains("HYPERLINK"))
        .expect("the register's record");
    assert_defused("export observations", market, &original);
    for (export, rows) in [("master", &master), ("observations", &observations)] {
        for cell in rows.iter().flatten() {
            assert_eq!(unsafe_cell(cell), None, "export {export}: {cell:?}");
        }
    }
}
