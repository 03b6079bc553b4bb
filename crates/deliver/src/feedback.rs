//! Township replies: reads a returned lead list (the Excel yingbao sent, with 核实情况,
//! 核实人 and 核实日期 filled in) into dispositions; a bad row is named and skipped.

use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, DataType, Reader};
use chrono::NaiveDate;

use crate::deliver::columns::DISPOSITIONS;
use crate::deliver::workbook::LIST_SHEET;

/// A disposition read from a returned list.
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
    pub lead_id: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("cannot open {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    #[error("{} has no sheet `{LIST_SHEET}` with the columns 线索编号 and 核实情况", path.display())]
    NotAList { path: PathBuf },
}

/// Reads every filled-in row of a returned list. Rows with 核实情况 empty are skipped
/// silently (not checked yet); rows that are filled in wrongly are returned as problems.
pub fn read_returned_list(
    path: &Path,
    today: NaiveDate,
) -> Result<(Vec<ReturnedDisposition>, Vec<RowProblem>), FeedbackError> {
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
        if lead_id.is_empty() {
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
        found.push(ReturnedDisposition {
            lead_id,
            kind,
            reason,
            person,
            decided_on,
            row,
        });
    }
    Ok((found, problems))
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
    fn dates_in_the_usual_chinese_forms() {
        let d = NaiveDate::from_ymd_opt(2025, 7, 5);
        assert_eq!(cell_date(&Data::String("2025-07-05".into())), d);
        assert_eq!(cell_date(&Data::String("2025/7/5".into())), d);
        assert_eq!(cell_date(&Data::String("2025年7月5日".into())), d);
        assert_eq!(cell_date(&Data::String("七月".into())), None);
    }
}
