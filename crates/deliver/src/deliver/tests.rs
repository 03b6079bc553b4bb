//! Round-trip tests: write real files into a temporary directory and read them back
//! (the workbook with calamine, the CSV files with the csv crate).

use std::path::Path;

use calamine::{open_workbook_auto, Data, DataType, Reader};

use super::columns::tests::sample_row;
use super::columns::{DISPOSITIONS, HEADERS, MAIN_HEADERS};
use super::csv_list::UTF8_BOM;
use super::list_settings::{ListSettings, ListTerms};
use super::township_files::{file_stem, sanitize_file_part, INDEX_HEADERS};
use super::workbook::{EVIDENCE_COLUMN_COUNT, EVIDENCE_SHEET, LIST_SHEET, NOTES_SHEET};
use super::{DeliverError, LeadRow, TownshipKey, WrittenList};

const USCC: &str = "913301001234567890";

/// The terms of a run dated 2025-03-31 under the default `[delivery.list]` (15 days).
fn terms() -> ListTerms {
    ListSettings::default().terms(chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("date"))
}

/// [`super::write_township_lists`] under [`terms`].
fn write_township_lists(
    dir: &Path,
    county: &str,
    cycle: &str,
    lists: &[(TownshipKey, Vec<LeadRow>)],
) -> Result<Vec<WrittenList>, DeliverError> {
    super::write_township_lists(dir, county, cycle, lists, &terms())
}

fn key(code: Option<&str>, name: &str) -> TownshipKey {
    TownshipKey {
        code: code.map(str::to_string),
        name: name.to_string(),
    }
}

fn chengguan_rows() -> Vec<LeadRow> {
    let first = sample_row(1);
    let mut second = sample_row(2);
    second.uscc = "91330100MA2XXXXX1Y".to_string();
    second.uscc_valid = false;
    second.headcount = None;
    second.industry_code = "0511".to_string();
    second.reasons = vec!["税务登记显示有从业人员".to_string()];
    second.filing_status = "申报已逾期".to_string();
    second.last_filed = "2021-06-30".to_string();
    vec![first, second]
}

fn sample_lists() -> Vec<(TownshipKey, Vec<LeadRow>)> {
    let mut unplaced = sample_row(3);
    unplaced.township = "未能定位乡镇".to_string();
    unplaced.village = String::new();
    vec![
        (key(Some("341122100000"), "城关镇"), chengguan_rows()),
        (key(Some("341122101000"), "大柳/镇:*?\"<>|\\"), Vec::new()),
        (key(None, "未能定位乡镇"), vec![unplaced]),
    ]
}

fn read_sheet(path: &Path, sheet: &str) -> calamine::Range<Data> {
    let mut workbook = open_workbook_auto(path).expect("open workbook");
    workbook.worksheet_range(sheet).expect("read sheet")
}

fn cell(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

fn text(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    match cell(range, row, col) {
        Data::String(s) => s,
        other => panic!("cell ({row}, {col}) is not text: {other:?}"),
    }
}

/// Reads a BOM-prefixed CSV file back: (raw bytes, header, records).
fn read_csv(path: &Path) -> (Vec<u8>, Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).expect("read csv");
    assert!(
        bytes.starts_with(UTF8_BOM),
        "{} lacks a BOM",
        path.display()
    );
    let mut reader = csv::Reader::from_reader(&bytes[UTF8_BOM.len()..]);
    let headers = reader
        .headers()
        .expect("csv headers")
        .iter()
        .map(str::to_string)
        .collect();
    let records = reader
        .records()
        .map(|r| r.expect("csv record").iter().map(str::to_string).collect())
        .collect();
    (bytes, headers, records)
}

fn assert_crlf(bytes: &[u8]) {
    assert!(bytes.ends_with(b"\r\n"));
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at byte {i}");
        }
    }
}

#[test]
fn writes_files_with_windows_safe_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("2025-03");
    let written =
        write_township_lists(&out, "某某县", "2025年3月", &sample_lists()).expect("write lists");

    let names: Vec<(String, String)> = written
        .iter()
        .map(|w| {
            (
                w.xlsx.file_name().unwrap().to_string_lossy().into_owned(),
                w.csv.file_name().unwrap().to_string_lossy().into_owned(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (
                "341122100000_城关镇.xlsx".to_string(),
                "341122100000_城关镇.csv".to_string()
            ),
            (
                "341122101000_大柳镇.xlsx".to_string(),
                "341122101000_大柳镇.csv".to_string()
            ),
            (
                "county_未能定位乡镇.xlsx".to_string(),
                "county_未能定位乡镇.csv".to_string()
            ),
        ]
    );
    assert_eq!(
        written.iter().map(|w| w.rows).collect::<Vec<_>>(),
        vec![2, 0, 1]
    );
    assert_eq!(written[2].township, key(None, "未能定位乡镇"));
    for w in &written {
        assert!(w.xlsx.is_file() && w.csv.is_file());
        assert_eq!(w.xlsx.parent(), Some(out.as_path()));
    }
    // Nothing but the lists, the index and no leftover temporary files.
    let mut entries: Vec<String> = std::fs::read_dir(&out)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 7, "{entries:?}");
    assert!(entries.iter().all(|e| !e.ends_with(".part")));
}

#[test]
fn workbook_reads_back_with_text_codes_and_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_township_lists(dir.path(), "某某县", "2025年3月", &sample_lists())
        .expect("write lists");
    let path = &written[0].xlsx;

    let workbook = open_workbook_auto(path).expect("open workbook");
    assert_eq!(
        workbook.sheet_names(),
        vec![LIST_SHEET, EVIDENCE_SHEET, NOTES_SHEET]
    );

    let sheet = read_sheet(path, EVIDENCE_SHEET);
    assert_eq!(
        text(&sheet, 0, 0),
        "某某县城关镇 职业病危害项目申报线索清单（2025年3月）·证据明细"
    );
    let header: Vec<String> = (0..EVIDENCE_COLUMN_COUNT as u32)
        .map(|c| text(&sheet, 1, c))
        .collect();
    assert_eq!(header, HEADERS[..EVIDENCE_COLUMN_COUNT]);
    assert_eq!(sheet.end(), Some((3, EVIDENCE_COLUMN_COUNT as u32 - 1)));

    // First lead.
    assert_eq!(cell(&sheet, 2, 0), Data::Float(1.0));
    assert_eq!(text(&sheet, 2, 1), "L000001");
    assert_eq!(text(&sheet, 2, 5), "某某五金制品有限公司1");
    let uscc = text(&sheet, 2, 6);
    assert_eq!(uscc, USCC);
    assert_eq!(uscc.len(), 18);
    assert_eq!(text(&sheet, 2, 11), "3311");
    assert_eq!(cell(&sheet, 2, 14), Data::Float(45.0));
    assert_eq!(text(&sheet, 2, 15), "未申报");
    assert_eq!(
        text(&sheet, 2, 18),
        "行业属于职业病危害严重类别；职业健康检查发现接触粉尘劳动者"
    );
    assert_eq!(text(&sheet, 2, 20), "市场监管登记、税务登记");
    assert_eq!(text(&sheet, 2, 21), "统计区划代码（高）");

    // Second lead: failed check digit, unknown headcount, leading-zero code.
    assert_eq!(cell(&sheet, 3, 0), Data::Float(2.0));
    assert_eq!(text(&sheet, 3, 6), "91330100MA2XXXXX1Y（校验位错误）");
    assert_eq!(text(&sheet, 3, 11), "0511");
    assert_eq!(cell(&sheet, 3, 14), Data::Empty);
    assert_eq!(text(&sheet, 3, 16), "2021-06-30");
    assert_eq!(text(&sheet, 3, 18), "税务登记显示有从业人员");

    // The notes explain every column and every accepted disposition.
    let notes = read_sheet(path, NOTES_SHEET);
    let all_text: Vec<String> = notes
        .used_cells()
        .filter_map(|(_, _, d)| match d {
            Data::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    for h in HEADERS {
        assert!(all_text.iter().any(|t| t == h), "说明 lacks column {h}");
    }
    for (value, _) in DISPOSITIONS {
        assert!(all_text.iter().any(|t| t == value), "说明 lacks {value}");
    }
}

#[test]
fn empty_and_county_lists_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_township_lists(dir.path(), "某某县", "2025年3月", &sample_lists())
        .expect("write lists");

    let empty = read_sheet(&written[1].xlsx, LIST_SHEET);
    assert_eq!(
        text(&empty, 0, 0),
        "某某县大柳/镇:*?\"<>|\\ 职业病危害项目申报线索清单（2025年3月）"
    );
    assert_eq!(text(&empty, 1, 7), "线索原因");
    assert_eq!(empty.end().map(|(r, _)| r), Some(1), "no lead rows");
    let empty = read_sheet(&written[1].xlsx, EVIDENCE_SHEET);
    assert_eq!(text(&empty, 1, 18), "线索原因");
    assert_eq!(empty.end().map(|(r, _)| r), Some(1), "no lead rows");
    let (_, headers, records) = read_csv(&written[1].csv);
    assert_eq!(headers, HEADERS);
    assert!(records.is_empty());

    let county = read_sheet(&written[2].xlsx, EVIDENCE_SHEET);
    assert_eq!(
        text(&county, 0, 0),
        "某某县未能定位乡镇 职业病危害项目申报线索清单（2025年3月）·证据明细"
    );
    assert_eq!(text(&county, 2, 9), "未能定位乡镇");
    assert_eq!(text(&county, 2, 6), USCC);
}

#[test]
fn csv_reads_back_with_bom_crlf_and_same_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lists = sample_lists();
    // A line break inside a value must not break the CRLF framing.
    lists[0].1[0].address = "城关镇\n工业园区8号".to_string();
    let written =
        write_township_lists(dir.path(), "某某县", "2025年3月", &lists).expect("write lists");

    let (bytes, headers, records) = read_csv(&written[0].csv);
    assert_crlf(&bytes);
    assert_eq!(headers, HEADERS);
    assert_eq!(records.len(), 2);
    let first = &records[0];
    assert_eq!(first.len(), HEADERS.len());
    assert_eq!(first[0], "1");
    assert_eq!(first[1], "L000001");
    assert_eq!(first[6], USCC);
    assert_eq!(first[8], "城关镇 工业园区8号");
    assert_eq!(first[14], "45");
    assert_eq!(
        first[18],
        "行业属于职业病危害严重类别；职业健康检查发现接触粉尘劳动者"
    );
    assert_eq!(&first[22..], &["", "", ""]);
    let second = &records[1];
    assert_eq!(second[0], "2");
    assert_eq!(second[6], "91330100MA2XXXXX1Y（校验位错误）");
    assert_eq!(second[11], "0511");
    assert_eq!(second[14], "");
    assert_eq!(second[15], "申报已逾期");
}

#[test]
fn index_lists_every_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_township_lists(dir.path(), "某某县", "2025年3月", &sample_lists()).expect("write lists");

    let (bytes, headers, records) = read_csv(&dir.path().join("index.csv"));
    assert_crlf(&bytes);
    assert_eq!(headers, INDEX_HEADERS);
    assert_eq!(
        records,
        vec![
            vec![
                "341122100000",
                "城关镇",
                "2",
                "341122100000_城关镇.xlsx",
                "341122100000_城关镇.csv"
            ],
            vec![
                "341122101000",
                "大柳/镇:*?\"<>|\\",
                "0",
                "341122101000_大柳镇.xlsx",
                "341122101000_大柳镇.csv"
            ],
            vec![
                "",
                "未能定位乡镇",
                "1",
                "county_未能定位乡镇.xlsx",
                "county_未能定位乡镇.csv"
            ],
        ]
    );
}

#[test]
fn clashing_file_names_are_refused_before_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let lists = vec![
        (key(Some("A1"), "城关镇"), Vec::new()),
        (key(Some("a1"), "城关镇?"), Vec::new()),
    ];
    match write_township_lists(&out, "某某县", "2025年3月", &lists) {
        Err(DeliverError::DuplicateFile { path }) => {
            assert!(path.ends_with("a1_城关镇.xlsx"), "{}", path.display());
        }
        other => panic!("expected a duplicate-file error, got {other:?}"),
    }
    assert!(!out.exists());
}

#[test]
fn errors_name_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").expect("write blocker");
    let err = write_township_lists(&blocker, "某某县", "2025年3月", &sample_lists())
        .expect_err("cannot write under a file");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

#[test]
fn file_names_are_windows_safe() {
    assert_eq!(
        sanitize_file_part(" a/b\\c:d*e?f\"g<h>i|j\t. "),
        "abcdefghij"
    );
    assert_eq!(
        file_stem(&key(Some("341122100000"), "城关镇")),
        "341122100000_城关镇"
    );
    assert_eq!(file_stem(&key(None, "未能定位乡镇")), "county_未能定位乡镇");
    assert_eq!(file_stem(&key(Some("12"), "???")), "12");
    assert_eq!(file_stem(&key(Some("//"), "新城街道.")), "新城街道");
    assert_eq!(file_stem(&key(Some(""), "|")), "未命名");
    let long = "长".repeat(200);
    assert_eq!(file_stem(&key(Some("1"), &long)).chars().count(), 62);
}

/// A feed value that a spreadsheet would run, with a NUL and a bell inside.
const HOSTILE: &str = "=HYPERLINK(\"http://x\",\"y\")\0某某\u{7}厂";
/// What every file must hold instead.
const DEFUSED: &str = "'=HYPERLINK(\"http://x\",\"y\")某某厂";

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Every text cell of every sheet of the workbook at `path`, with its position.
fn workbook_texts(path: &Path) -> Vec<(String, u32, u32, String)> {
    let mut workbook = open_workbook_auto(path).expect("open workbook");
    let mut out = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).expect("read sheet");
        for (r, c, v) in range.cells() {
            if let Data::String(s) = v {
                out.push((name.clone(), r as u32, c as u32, s.clone()));
            }
        }
    }
    out
}

#[test]
fn feed_formulas_and_control_characters_never_reach_a_list() {
    let mut row = sample_row(1);
    row.name = HOSTILE.to_string();
    row.address = format!("\t{HOSTILE}");
    row.legal_rep = "@SUM(A1)".to_string();
    row.evidence = vec![format!("-2+3+cmd|' /C calc'!A0\r\n{HOSTILE}")];
    let lists = vec![(key(Some("341122100000"), "=城关镇"), vec![row])];
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_township_lists(dir.path(), "某某县", "2025年3月", &lists).expect("write");
    let list = &written[0];

    let range = read_sheet(&list.xlsx, EVIDENCE_SHEET);
    let name_col = HEADERS.iter().position(|h| *h == "企业名称").expect("col") as u32;
    let address_col = HEADERS.iter().position(|h| *h == "地址").expect("col") as u32;
    let rep_col = HEADERS
        .iter()
        .position(|h| *h == "法定代表人")
        .expect("col") as u32;
    let evidence_col = HEADERS.iter().position(|h| *h == "证据").expect("col") as u32;
    assert_eq!(text(&range, 2, name_col), DEFUSED);
    // The list trims what it cleans: the tab in front goes, the formula behind it is defused.
    assert_eq!(text(&range, 2, address_col), DEFUSED);
    assert_eq!(text(&range, 2, rep_col), "'@SUM(A1)");
    assert!(text(&range, 2, evidence_col).starts_with("'-2+3+cmd"));
    for (sheet, r, c, s) in workbook_texts(&list.xlsx) {
        assert!(!has_control(&s), "{sheet} ({r}, {c}) = {s:?}");
        assert!(
            !s.starts_with(['=', '+', '@']),
            "{sheet} ({r}, {c}) = {s:?}"
        );
    }

    let (_, headers, records) = read_csv(&list.csv);
    let at = |h: &str| headers.iter().position(|x| x == h).expect("csv column");
    assert_eq!(records[0][at("企业名称")], DEFUSED);
    assert_eq!(records[0][at("地址")], DEFUSED);
    assert_eq!(records[0][at("法定代表人")], "'@SUM(A1)");
    assert!(records[0][at("证据")].starts_with("'-2+3+cmd"));
    for cell in records.iter().flatten() {
        assert!(!has_control(cell), "{cell:?}");
    }

    let (_, _, index) = read_csv(&dir.path().join(super::township_files::INDEX_FILE));
    assert_eq!(index[0][1], "'=城关镇");
}

#[test]
fn the_sme_list_defuses_feed_formulas_and_keeps_numbers() {
    use super::sme_list::{write_sme_list, SmeRow, SME_FILE_STEM};
    let row = SmeRow {
        township: "城关镇".into(),
        name: HOSTILE.into(),
        uscc: USCC.into(),
        industry: "+C3311".into(),
        headcount: Some(12),
        revenue_wan: Some(-3.5),
        size_class: "微型".into(),
        filing_status: "未申报".into(),
        evidence: "体检".into(),
        address: format!("{HOSTILE}\n二号"),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let xlsx = write_sme_list(dir.path(), "@标题", &[row]).expect("write");

    let mut workbook = open_workbook_auto(&xlsx).expect("open");
    let range = workbook
        .worksheet_range_at(0)
        .expect("sheet")
        .expect("range");
    assert_eq!(text(&range, 0, 0), "'@标题");
    assert_eq!(text(&range, 2, 2), DEFUSED);
    assert_eq!(text(&range, 2, 4), "'+C3311");
    assert_eq!(cell(&range, 2, 6), Data::Float(-3.5));
    assert_eq!(text(&range, 2, 10), format!("{DEFUSED} 二号"));

    let (_, _, records) = read_csv(&dir.path().join(format!("{SME_FILE_STEM}.csv")));
    assert_eq!(records[0][2], DEFUSED);
    assert_eq!(records[0][4], "'+C3311");
    // A negative amount is a plain number, not a formula: it stays a number Excel can sum.
    assert_eq!(records[0][6], "-3.5");
    assert_eq!(records[0][10], format!("{DEFUSED} 二号"));
}

/// 城关镇's rows with a second lead of its first employer (the same entity, another kind),
/// listed after the second employer as priority order may put it.
fn two_kind_rows() -> Vec<LeadRow> {
    let mut rows = chengguan_rows();
    let mut exceedance = sample_row(1);
    exceedance.lead_id = "L000001-EX".to_string();
    exceedance.kind = "检测发现超标岗位".to_string();
    exceedance.reasons = vec!["检测发现噪声超标岗位".to_string()];
    rows.push(exceedance);
    rows
}

fn zip_part(path: &Path, name: &str) -> String {
    let file = std::fs::File::open(path).expect("open xlsx");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut part = zip.by_name(name).expect("part");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut part, &mut out).expect("read part");
    out
}

/// The `<xf>` of cell `cell` (`K3`) of `sheet_xml`, from the workbook's `styles.xml`.
fn cell_style(sheet_xml: &str, styles: &str, cell: &str) -> String {
    let at = sheet_xml
        .find(&format!("<c r=\"{cell}\""))
        .unwrap_or_else(|| panic!("no cell {cell}"));
    let tag = &sheet_xml[at..at + sheet_xml[at..].find('>').expect("tag end")];
    let index: usize = tag
        .split("s=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let xfs = styles
        .split("<cellXfs")
        .nth(1)
        .and_then(|r| r.split("</cellXfs>").next())
        .expect("cellXfs");
    let xf = xfs.split("<xf ").nth(index + 1).expect("xf");
    xf.split("</xf>").next().unwrap_or(xf).to_string()
}

/// One row per employer: the employer with two kinds is one row with both ids, kinds,
/// reasons and 处置要求; the deadline comes from the terms.
#[test]
fn the_main_sheet_has_one_row_per_employer_with_all_its_leads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lists = vec![(key(Some("341122100000"), "城关镇"), two_kind_rows())];
    let written = write_township_lists(dir.path(), "某某县", "2025年3月", &lists).expect("write");
    let path = &written[0].xlsx;
    let sheet = read_sheet(path, LIST_SHEET);
    let header: Vec<String> = (0..MAIN_HEADERS.len() as u32)
        .map(|c| text(&sheet, 1, c))
        .collect();
    assert_eq!(header, MAIN_HEADERS);
    assert_eq!(
        sheet.end(),
        Some((3, MAIN_HEADERS.len() as u32 - 1)),
        "two employers"
    );
    let col = |h: &str| MAIN_HEADERS.iter().position(|x| *x == h).expect("col") as u32;

    assert_eq!(cell(&sheet, 2, col("序号")), Data::Float(1.0));
    assert_eq!(text(&sheet, 2, col("企业名称")), "某某五金制品有限公司1");
    assert_eq!(text(&sheet, 2, col("线索编号")), "L000001；L000001-EX");
    assert_eq!(
        text(&sheet, 2, col("线索类型")),
        "未申报或申报逾期；检测发现超标岗位"
    );
    assert_eq!(
        text(&sheet, 2, col("线索原因")),
        "行业属于职业病危害严重类别；职业健康检查发现接触粉尘劳动者；检测发现噪声超标岗位。"
    );
    let todo = text(&sheet, 2, col("处置要求"));
    assert!(
        todo.starts_with("【未申报或申报逾期】上门核实")
            && todo.contains("【检测发现超标岗位】核实超标岗位"),
        "{todo}"
    );
    assert_eq!(text(&sheet, 2, col("反馈时限")), "2025年04月15日前");
    assert_eq!(text(&sheet, 2, col("村（社区）")), "东门社区");
    assert_eq!(
        cell(&sheet, 2, col("联系方式")),
        Data::Empty,
        "no contact invented"
    );
    for c in ["核实情况", "核实人", "核实日期"] {
        assert_eq!(cell(&sheet, 2, col(c)), Data::Empty, "{c} is for staff");
    }
    // The second employer has one kind: its 处置要求 has no kind in front.
    assert_eq!(text(&sheet, 3, col("线索编号")), "L000002");
    assert!(text(&sheet, 3, col("处置要求")).starts_with("上门核实"));

    // The evidence keeps one row per lead, all three.
    let evidence = read_sheet(path, EVIDENCE_SHEET);
    assert_eq!(evidence.end().map(|(r, _)| r), Some(4));
    assert_eq!(text(&evidence, 4, 1), "L000001-EX");
    // And the notes name the main sheet's columns and the terms.
    let notes: Vec<String> = read_sheet(path, NOTES_SHEET)
        .used_cells()
        .filter_map(|(_, _, d)| d.as_string())
        .collect();
    for h in MAIN_HEADERS {
        assert!(notes.iter().any(|t| t == h), "说明 lacks column {h}");
    }
    assert!(notes
        .iter()
        .any(|t| t.contains("请于2025年04月15日前完成核实")));
}

/// The main sheet prints on A4 landscape one page wide with titles and page numbers on every
/// page, and is protected with only the three fill-in columns unlocked.
#[test]
fn the_main_sheet_prints_and_only_the_fill_in_cells_are_unlocked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lists = vec![(key(Some("341122100000"), "城关镇"), two_kind_rows())];
    let written = write_township_lists(dir.path(), "某某县", "2025年3月", &lists).expect("write");
    let path = &written[0].xlsx;
    let sheet = zip_part(path, "xl/worksheets/sheet1.xml");
    let page_setup = sheet
        .split("<pageSetup")
        .nth(1)
        .and_then(|r| r.split("/>").next())
        .expect("<pageSetup");
    assert!(page_setup.contains("paperSize=\"9\""), "{page_setup}");
    assert!(
        page_setup.contains("orientation=\"landscape\""),
        "{page_setup}"
    );
    assert!(page_setup.contains("fitToHeight=\"0\""), "{page_setup}");
    assert!(
        sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"),
        "fit to page"
    );
    assert!(!page_setup.contains("fitToWidth=\"") || page_setup.contains("fitToWidth=\"1\""));
    let footer = sheet
        .split("<headerFooter>")
        .nth(1)
        .and_then(|r| r.split("</headerFooter>").next())
        .expect("<headerFooter>");
    assert!(
        footer.contains("第 &amp;P 页，共 &amp;N 页"),
        "page numbers: {footer}"
    );
    let protection = sheet
        .split("<sheetProtection")
        .nth(1)
        .and_then(|r| r.split("/>").next())
        .expect("<sheetProtection");
    assert!(protection.contains("sheet=\"1\""), "{protection}");
    assert!(protection.contains("formatColumns=\"0\""), "{protection}");

    let book = zip_part(path, "xl/workbook.xml");
    assert!(
        book.contains("name=\"_xlnm.Print_Titles\" localSheetId=\"0\">线索清单!$1:$2<"),
        "{book}"
    );
    assert!(
        book.contains("name=\"_xlnm.Print_Area\" localSheetId=\"0\">线索清单!$A$1:$N$4<"),
        "{book}"
    );

    // K..M (核实情况, 核实人, 核实日期) unlocked; the rest of the row locked.
    let styles = zip_part(path, "xl/styles.xml");
    for c in ["K3", "L3", "M3", "K4"] {
        let xf = cell_style(&sheet, &styles, c);
        assert!(xf.contains("locked=\"0\""), "{c} is not unlocked: {xf}");
    }
    for c in ["A3", "B3", "I3", "J3", "N3", "B1", "K2"] {
        let xf = cell_style(&sheet, &styles, c);
        assert!(!xf.contains("locked=\"0\""), "{c} is unlocked: {xf}");
    }
    // The dropdown on 核实情况 survives the protection.
    assert!(sheet.contains("<dataValidation ") && sheet.contains("sqref=\"K3:K4\""));
}

/// The deadline is part of a list's digest: a later deadline is a new file, not a link.
#[test]
fn a_list_with_another_deadline_has_another_digest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lists = vec![(key(Some("341122100000"), "城关镇"), two_kind_rows())];
    let a =
        write_township_lists(&dir.path().join("a"), "某某县", "2025年3月", &lists).expect("write");
    let later = ListSettings {
        feedback_days: 20,
        ..ListSettings::default()
    }
    .terms(chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("date"));
    let b =
        super::write_township_lists(&dir.path().join("b"), "某某县", "2025年3月", &lists, &later)
            .expect("write");
    let again =
        write_township_lists(&dir.path().join("c"), "某某县", "2025年3月", &lists).expect("write");
    assert_ne!(a[0].digest, b[0].digest);
    assert_eq!(a[0].digest, again[0].digest);
}
