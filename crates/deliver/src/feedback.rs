//! Township replies: reads a returned lead list (the Excel yingbao sent, with 核实情况,
//! 核实人 and 核实日期 filled in) into dispositions; a bad row is named and skipped. A row of
//! the main sheet is one employer: its finding applies to every lead id in its 线索编号 cell
//! (`L12；L12-EX`); a list of the older layout (one lead a row) reads the same way. A workbook
//! that unpacks past [`MAX_UNPACKED_BYTES`] is refused before it is parsed.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, DataType, Reader};
use chrono::NaiveDate;

use crate::deliver::columns::DISPOSITIONS;
use crate::deliver::workbook::LIST_SHEET;

/// A disposition read from a returned list: one per lead id of a filled-in row.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnedDisposition {
    pub lead_id: String,
    /// One of the 核实情况 values (`其他` for `其他：…`).
    pub kind: String,
    /// The reason given (the text after `其他：`, or after the value and a colon).
    pub reason: String,
    pub person: String,
    pub decided_on: NaiveDate,
    /// 1-based row in the sheet.
    pub row: usize,
}

/// A row that could not be read, with why (in English, for the operator).
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    pub row: usize,
    /// The row's 线索编号 cell as written (several ids for an employer's row).
    pub lead_id: String,
    pub reason: String,
}

/// The most a returned workbook may unpack to, all its parts together (so any one part too).
/// A list of a few thousand rows unpacks to a few MiB; an xlsx is a zip, and a small upload
/// can hold a part of gigabytes that the parser would hold in memory.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("cannot open {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    #[error("{} has no sheet `{LIST_SHEET}` with the columns 线索编号 and 核实情况", path.display())]
    NotAList { path: PathBuf },
    /// The workbook unpacks past the cap (declared or found while unpacking); nothing was read.
    #[error(
        "{} is refused unread: {what}, past the cap of {cap} bytes ({} MiB) for a returned list",
        path.display(),
        cap / (1024 * 1024)
    )]
    TooLarge {
        path: PathBuf,
        /// What is too large, e.g. "part `xl/worksheets/sheet1.xml` declares 1610612736 bytes".
        what: String,
        cap: u64,
    },
}

/// Refuses a zip-based workbook (xlsx, ods) that unpacks past `cap`: first by the sizes its
/// central directory declares (each part and their total), then — since a declared size can
/// lie — by unpacking every part through a reader that stops one byte past what is left of
/// the cap, into nothing. A file that is no zip (an old .xls) is left to the parser.
pub fn check_unpacked_size(path: &Path, cap: u64) -> Result<(), FeedbackError> {
    let open = |message: String| FeedbackError::Open {
        path: path.to_path_buf(),
        message,
    };
    let too_large = |what: String| FeedbackError::TooLarge {
        path: path.to_path_buf(),
        what,
        cap,
    };
    let file = File::open(path).map_err(|e| open(e.to_string()))?;
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    let mut declared = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(|e| open(e.to_string()))?;
        let size = part.size();
        if size > cap {
            return Err(too_large(format!(
                "part `{}` declares {size} bytes",
                part.name()
            )));
        }
        declared = declared.saturating_add(size);
        if declared > cap {
            return Err(too_large(format!(
                "its parts declare more than {cap} bytes together (at `{}`)",
                part.name()
            )));
        }
    }
    let mut left = cap;
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(|e| open(e.to_string()))?;
        let name = part.name().to_string();
        let unpacked = io::copy(&mut (&mut part).take(left + 1), &mut io::sink())
            .map_err(|e| open(format!("part `{name}`: {e}")))?;
        if unpacked > left {
            return Err(too_large(format!(
                "its parts unpack to more than {cap} bytes (at `{name}`, whatever they declare)"
            )));
        }
        left -= unpacked;
    }
    Ok(())
}

/// Reads every filled-in row of a returned list. Rows with 核实情况 empty are skipped
/// silently (not checked yet); rows that are filled in wrongly are returned as problems.
/// A workbook that unpacks past [`MAX_UNPACKED_BYTES`] is refused before it is parsed.
pub fn read_returned_list(
    path: &Path,
    today: NaiveDate,
) -> Result<(Vec<ReturnedDisposition>, Vec<RowProblem>), FeedbackError> {
    check_unpacked_size(path, MAX_UNPACKED_BYTES)?;
    let mut book = open_workbook_auto(path).map_err(|e| FeedbackError::Open {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let sheet_name = book
        .sheet_names()
        .into_iter()
        .find(|n| n == LIST_SHEET)
        .or_else(|| book.sheet_names().into_iter().next())
        .ok_or_else(|| FeedbackError::NotAList {
            path: path.to_path_buf(),
        })?;
    let range = book
        .worksheet_range(&sheet_name)
        .map_err(|e| FeedbackError::Open {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let rows: Vec<&[Data]> = range.rows().collect();
    // The header row is the first with both 线索编号 and 核实情况 (a title row may come first).
    let header = rows.iter().enumerate().find_map(|(i, r)| {
        let col = |name: &str| r.iter().position(|c| cell_text(c) == name);
        Some((
            i,
            col("线索编号")?,
            col("核实情况")?,
            col("核实人"),
            col("核实日期"),
        ))
    });
    let Some((h, id_col, kind_col, person_col, date_col)) = header else {
        return Err(FeedbackError::NotAList {
            path: path.to_path_buf(),
        });
    };
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (i, r) in rows.iter().enumerate().skip(h + 1) {
        let row = i + range.start().map_or(0, |(r0, _)| r0 as usize) + 1;
        let get = |c: Option<usize>| c.and_then(|c| r.get(c)).map(cell_text).unwrap_or_default();
        let lead_id = get(Some(id_col));
        let value = get(Some(kind_col));
        if value.is_empty() {
            continue;
        }
        let problem = |reason: String| RowProblem {
            row,
            lead_id: lead_id.clone(),
            reason,
        };
        if lead_ids(&lead_id).is_empty() {
            problems.push(problem(
                "核实情况 is filled in but 线索编号 is empty".into(),
            ));
            continue;
        }
        let (kind, reason) = match split_value(&value) {
            Some(kr) => kr,
            None => {
                problems.push(problem(format!(
                    "`{value}` is not one of the 核实情况 values ({})",
                    DISPOSITIONS
                        .iter()
                        .map(|(d, _)| *d)
                        .collect::<Vec<_>>()
                        .join("、")
                )));
                continue;
            }
        };
        if kind == "其他" && reason.is_empty() {
            problems.push(problem("其他 needs a reason: write 其他：<reason>".into()));
            continue;
        }
        let person = get(person_col);
        if person.is_empty() {
            problems.push(problem(
                "核实人 is empty: the person who checked must be named".into(),
            ));
            continue;
        }
        let decided_on = match date_col.and_then(|c| r.get(c)) {
            None | Some(Data::Empty) => today,
            Some(cell) => match cell_date(cell) {
                Some(d) if d <= today => d,
                Some(d) => {
                    problems.push(problem(format!("核实日期 {d} is in the future")));
                    continue;
                }
                None => {
                    problems.push(problem(format!(
                        "核实日期 `{}` is not a date (write 2025-07-05)",
                        cell_text(cell)
                    )));
                    continue;
                }
            },
        };
        for id in lead_ids(&lead_id) {
            found.push(ReturnedDisposition {
                lead_id: id.to_string(),
                kind: kind.clone(),
                reason: reason.clone(),
                person: person.clone(),
                decided_on,
                row,
            });
        }
    }
    Ok((found, problems))
}

/// The lead ids of a 线索编号 cell: `L12；L12-EX` → [L12, L12-EX], each once. The writer
/// joins them with `；`; a clerk retyping one may use `;`, `,`, `，`, `、` or spaces.
fn lead_ids(cell: &str) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for id in cell.split(|c: char| matches!(c, '；' | ';' | ',' | '，' | '、') || c.is_whitespace())
    {
        if !id.is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// `已申报` → (已申报, ""); `其他：已迁至外县` → (其他, 已迁至外县); unknown → None.
fn split_value(value: &str) -> Option<(String, String)> {
    let v = value.trim();
    let (head, rest) = match v.find(['：', ':']) {
        Some(i) => {
            let sep = v[i..].chars().next().map_or(1, char::len_utf8);
            (v[..i].trim(), v[i + sep..].trim())
        }
        None => (v, ""),
    };
    DISPOSITIONS
        .iter()
        .find(|(d, _)| *d == head)
        .map(|(d, _)| (d.to_string(), rest.to_string()))
}

fn cell_text(c: &Data) -> String {
    match c {
        Data::String(s) => s.trim().to_string(),
        Data::Empty => String::new(),
        other => other.to_string().trim().to_string(),
    }
}

fn cell_date(c: &Data) -> Option<NaiveDate> {
    if let Some(dt) = c.as_datetime() {
        return Some(dt.date());
    }
    let s = cell_text(c);
    let s = s.replace(['年', '月', '/', '.'], "-").replace('日', "");
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_into_kind_and_reason() {
        assert_eq!(
            split_value("已申报"),
            Some(("已申报".into(), String::new()))
        );
        assert_eq!(
            split_value("其他：已迁至外县"),
            Some(("其他".into(), "已迁至外县".into()))
        );
        assert_eq!(
            split_value("停产停业超过6个月: 2024年起停产"),
            Some(("停产停业超过6个月".into(), "2024年起停产".into()))
        );
        assert_eq!(split_value("不知道"), None);
    }

    #[test]
    fn an_id_cell_splits_into_its_lead_ids() {
        assert_eq!(lead_ids("L12；L12-EX"), vec!["L12", "L12-EX"]);
        assert_eq!(
            lead_ids(" L12 ;L12-EX、L12-HF，L12"),
            vec!["L12", "L12-EX", "L12-HF"]
        );
        assert_eq!(lead_ids("L7"), vec!["L7"]);
        assert!(lead_ids("；").is_empty());
    }

    /// A list yingbao wrote, returned with the main sheet's row of an employer with two lead
    /// kinds filled in once: both leads get the finding; the one-kind employer's empty row
    /// is skipped.
    #[test]
    fn a_returned_employer_row_disposes_of_each_of_its_leads() {
        use crate::deliver::list_settings::ListSettings;
        use crate::deliver::{write_township_lists, LeadRow, TownshipKey, MAIN_HEADERS};
        let lead = |id: &str, entity: &str, kind: &str| LeadRow {
            lead_id: id.into(),
            entity_id: entity.to_string().into(),
            kind: kind.into(),
            name: format!("某某厂{entity}"),
            reasons: vec!["原因".into()],
            ..LeadRow::default()
        };
        let rows = vec![
            lead("L1-HF", "E1", "检测或体检发现未申报的危害因素"),
            lead("L2", "E2", "未申报或申报逾期"),
            lead("L1-EX", "E1", "检测发现超标岗位"),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let key = TownshipKey {
            code: Some("350583117".into()),
            name: "霞美镇".into(),
        };
        let day = NaiveDate::from_ymd_opt(2025, 7, 5).expect("date");
        let terms = ListSettings::default().terms(day);
        let written =
            write_township_lists(dir.path(), "南安市", "2025年7月", &[(key, rows)], &terms)
                .expect("write");

        // The clerk's copy: every cell of the main sheet, the first employer's row filled in.
        let mut book = open_workbook_auto(&written[0].xlsx).expect("open");
        let range = book.worksheet_range(LIST_SHEET).expect("sheet");
        let mut out = rust_xlsxwriter::Workbook::new();
        let ws = out.add_worksheet();
        ws.set_name(LIST_SHEET).expect("name");
        for (r, row) in range.rows().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if let Data::String(s) = v {
                    ws.write_string(r as u32, c as u16, s).expect("cell");
                }
            }
        }
        let col = |h: &str| MAIN_HEADERS.iter().position(|x| *x == h).expect("col") as u16;
        assert_eq!(
            cell_text(&range.rows().nth(2).expect("row")[col("线索编号") as usize]),
            "L1-HF；L1-EX"
        );
        ws.write_string(2, col("核实情况"), "已督促申报")
            .expect("cell");
        ws.write_string(2, col("核实人"), "张三").expect("cell");
        ws.write_string(2, col("核实日期"), "2025-07-03")
            .expect("cell");
        let returned = dir.path().join("returned.xlsx");
        out.save(&returned).expect("save");

        let (found, problems) = read_returned_list(&returned, day).expect("read");
        assert!(problems.is_empty(), "{problems:?}");
        let got: Vec<(&str, &str, &str, usize)> = found
            .iter()
            .map(|d| {
                (
                    d.lead_id.as_str(),
                    d.kind.as_str(),
                    d.person.as_str(),
                    d.row,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("L1-HF", "已督促申报", "张三", 3),
                ("L1-EX", "已督促申报", "张三", 3)
            ]
        );
        assert!(found
            .iter()
            .all(|d| d.decided_on == NaiveDate::from_ymd_opt(2025, 7, 3).expect("date")));
    }

    #[test]
    fn dates_in_the_usual_chinese_forms() {
        let d = NaiveDate::from_ymd_opt(2025, 7, 5);
        assert_eq!(cell_date(&Data::String("2025-07-05".into())), d);
        assert_eq!(cell_date(&Data::String("2025/7/5".into())), d);
        assert_eq!(cell_date(&Data::String("2025年7月5日".into())), d);
        assert_eq!(cell_date(&Data::String("七月".into())), None);
    }

    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    /// A returned list as a township fills it in: one row, 已申报 by 张三.
    fn returned_list() -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(LIST_SHEET).expect("sheet name");
        for (c, v) in ["线索编号", "核实情况", "核实人", "核实日期"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, c as u16, *v).expect("header");
        }
        for (c, v) in ["L-0001", "已申报", "张三", "2025-07-01"]
            .iter()
            .enumerate()
        {
            sheet.write_string(1, c as u16, *v).expect("cell");
        }
        book.save_to_buffer().expect("xlsx")
    }

    /// The list with one more part of `size` spaces (a few hundred KiB compressed); with
    /// `declare`, the central directory and local header are made to claim that many bytes.
    fn with_padding(list: &[u8], size: u64, declare: Option<u32>) -> Vec<u8> {
        const NAME: &[u8] = b"xl/padding.xml";
        let mut from = zip::ZipArchive::new(Cursor::new(list)).expect("zip");
        let mut to = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..from.len() {
            to.raw_copy_file(from.by_index_raw(i).expect("part"))
                .expect("copy");
        }
        let deflated =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        to.start_file("xl/padding.xml", deflated).expect("part");
        let chunk = vec![b' '; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len() as u64);
            to.write_all(&chunk[..n as usize]).expect("write");
            left -= n;
        }
        let mut bytes = to.finish().expect("finish").into_inner();
        if let Some(lie) = declare {
            // (signature, offset of the uncompressed size, offset of the name's length, of the name)
            for (sig, size_at, len_at, name_at) in
                [(*b"PK\x03\x04", 22, 26, 30), (*b"PK\x01\x02", 24, 28, 46)]
            {
                let at = (0..bytes.len() - name_at)
                    .find(|&i| {
                        bytes[i..i + 4] == sig
                            && u16::from_le_bytes([bytes[i + len_at], bytes[i + len_at + 1]])
                                as usize
                                == NAME.len()
                            && bytes[i + name_at..].starts_with(NAME)
                    })
                    .expect("the padding's header");
                bytes[at + size_at..at + size_at + 4].copy_from_slice(&lie.to_le_bytes());
            }
        }
        bytes
    }

    fn read(bytes: &[u8]) -> Result<(Vec<ReturnedDisposition>, Vec<RowProblem>), FeedbackError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("returned.xlsx");
        std::fs::write(&path, bytes).expect("write");
        read_returned_list(&path, NaiveDate::from_ymd_opt(2025, 7, 5).expect("date"))
    }

    fn assert_too_large(r: Result<(Vec<ReturnedDisposition>, Vec<RowProblem>), FeedbackError>) {
        match r {
            Err(e @ FeedbackError::TooLarge { cap, .. }) => {
                assert_eq!(cap, MAX_UNPACKED_BYTES);
                let message = e.to_string();
                assert!(
                    message.contains("67108864 bytes (64 MiB)"),
                    "the cap is named: {message}"
                );
            }
            other => panic!("not refused as too large: {other:?}"),
        }
    }

    /// A normal list reads; the same list with a part of just under the cap still reads.
    #[test]
    fn a_returned_list_within_the_cap_reads() {
        let list = returned_list();
        let (rows, problems) = read(&list).expect("reads");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].lead_id.as_str(), rows[0].kind.as_str()),
            ("L-0001", "已申报")
        );
        let near = with_padding(&list, MAX_UNPACKED_BYTES - (1 << 20), None);
        assert_eq!(read(&near).expect("reads").0.len(), 1);
    }

    /// A part past the cap is refused by its declared size, kept small on disk.
    #[test]
    fn a_workbook_declaring_more_than_the_cap_is_refused() {
        let bomb = with_padding(&returned_list(), MAX_UNPACKED_BYTES + 1, None);
        assert!(bomb.len() < 1 << 20, "small on disk: {}", bomb.len());
        assert_too_large(read(&bomb));
    }

    /// A part that claims 100 bytes and unpacks to more than the cap is refused too.
    #[test]
    fn a_workbook_lying_about_its_size_is_refused_while_unpacking() {
        let liar = with_padding(&returned_list(), MAX_UNPACKED_BYTES + 1, Some(100));
        let declared: u64 = {
            let mut zip = zip::ZipArchive::new(Cursor::new(&liar)).expect("zip");
            (0..zip.len())
                .map(|i| zip.by_index_raw(i).expect("part").size())
                .sum()
        };
        assert!(declared < MAX_UNPACKED_BYTES, "the lie holds: {declared}");
        assert_too_large(read(&liar));
    }
}
