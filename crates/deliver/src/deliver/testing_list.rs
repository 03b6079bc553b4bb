//! The periodic-testing reminder lists (职业病危害因素定期检测到期提醒): one Excel workbook and
//! one CSV file per township with reminders, in the run folder's `检测到期提醒/`.
//! Which employers are on them is `screen::testing_due`'s decision; this only writes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook};

use super::csv_list::write_excel_csv;
use super::sheet_text::SheetText;
use super::township_files::{file_stem, TownshipKey};
use super::DeliverError;
use crate::screen::testing_due::Reminder;

/// The run-folder subfolder holding the reminder lists.
pub const TESTING_DIR: &str = "检测到期提醒";

/// Column headers, in file order.
pub const TESTING_HEADERS: [&str; 9] = [
    "序号",
    "企业名称",
    "统一社会信用代码",
    "地址",
    "村（社区）",
    "风险等级",
    "最近检测日期",
    "应检测日期",
    "状态",
];

/// Column widths in Excel character units (a Chinese character is about two).
const WIDTHS: [f64; 9] = [6.0, 32.0, 22.0, 36.0, 14.0, 10.0, 14.0, 14.0, 18.0];

/// Title of a township's reminder list:
/// `{county}{township} 职业病危害因素定期检测到期提醒（{cycle}）`.
pub fn testing_title(county: &str, township: &str, cycle: &str) -> String {
    format!("{county}{township} 职业病危害因素定期检测到期提醒（{cycle}）")
}

/// A township's key and its reminders.
pub type Group<'r> = (TownshipKey, Vec<&'r Reminder>);

/// Reminders by township (townships by code, the unplaced after them), each township's most
/// overdue first.
pub fn by_township(reminders: &[Reminder]) -> Vec<Group<'_>> {
    let mut groups: BTreeMap<(bool, Option<&str>), Group> = BTreeMap::new();
    for r in reminders {
        let code = r.township_code.as_deref();
        groups
            .entry((code.is_none(), code))
            .or_insert_with(|| {
                (
                    TownshipKey {
                        code: code.map(str::to_string),
                        name: r.township.clone(),
                    },
                    Vec::new(),
                )
            })
            .1
            .push(r);
    }
    groups
        .into_values()
        .map(|(key, mut rows)| {
            rows.sort_by(|a, b| {
                b.state
                    .days_overdue()
                    .cmp(&a.state.days_overdue())
                    .then_with(|| a.name.cmp(&b.name))
            });
            (key, rows)
        })
        .collect()
}

/// Each township's reminder sheet for its lead workbook, by township code (`None`: the
/// county list): its title and rows.
pub type Sheets<'r> = BTreeMap<Option<String>, (String, Vec<&'r Reminder>)>;

/// [`by_township`] as the sheets of the township lead workbooks.
pub fn sheets<'r>(reminders: &'r [Reminder], county: &str, cycle: &str) -> Sheets<'r> {
    by_township(reminders)
        .into_iter()
        .map(|(key, rows)| (key.code, (testing_title(county, &key.name, cycle), rows)))
        .collect()
}

/// One township's reminder list as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenReminders {
    pub township: TownshipKey,
    pub rows: usize,
    pub xlsx: PathBuf,
    pub csv: PathBuf,
}

/// Writes `<run_dir>/检测到期提醒/<code>_<township>.xlsx` and `.csv` for every township with
/// reminders (unplaced employers: `county_未能定位乡镇`), most overdue first. Townships
/// without reminders get no file; no reminders at all, no folder.
pub fn write_testing_lists(
    run_dir: &Path,
    county: &str,
    cycle: &str,
    reminders: &[Reminder],
) -> Result<Vec<WrittenReminders>, DeliverError> {
    if reminders.is_empty() {
        return Ok(Vec::new());
    }
    let groups = by_township(reminders);
    let dir = run_dir.join(TESTING_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| DeliverError::io(&dir, e))?;
    let mut written = Vec::new();
    for (key, rows) in groups {
        let stem = file_stem(&key);
        let xlsx = dir.join(format!("{stem}.xlsx"));
        let csv = dir.join(format!("{stem}.csv"));
        let title = testing_title(county, &key.name, cycle);
        super::write_workbook(&xlsx, workbook_bytes(&title, &rows))?;
        write_excel_csv(
            &csv,
            &TESTING_HEADERS,
            rows.iter().enumerate().map(|(i, r)| cells(i, r)),
        )?;
        written.push(WrittenReminders {
            township: key,
            rows: rows.len(),
            xlsx,
            csv,
        });
    }
    Ok(written)
}

fn cells(i: usize, r: &Reminder) -> [String; 9] {
    [
        (i + 1).to_string(),
        r.name.clone(),
        r.uscc.clone().unwrap_or_default(),
        r.address.clone().unwrap_or_default(),
        r.village.clone(),
        r.risk_class.label_zh().to_string(),
        r.last_test.to_string(),
        r.due_on.to_string(),
        r.state.label_zh(),
    ]
}

fn workbook_bytes(title: &str, rows: &[&Reminder]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    write_reminder_sheet(book.add_worksheet(), title, rows)?;
    book.save_to_buffer()
}

/// The name of a reminder sheet, in its own workbook and in a township's lead workbook.
pub const SHEET_NAME: &str = "检测到期提醒";

/// Writes `rows` under `title` as the sheet `检测到期提醒`.
pub fn write_reminder_sheet(
    sheet: &mut rust_xlsxwriter::Worksheet,
    title: &str,
    rows: &[&Reminder],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    sheet.set_name(SHEET_NAME)?;
    let bold = Format::new().set_bold();
    let header = Format::new().set_bold().set_background_color(0xDDEBF7);
    sheet.write_text(0, 0, title, &bold)?;
    for (c, h) in TESTING_HEADERS.iter().enumerate() {
        sheet.write_text(1, c as u16, h, &header)?;
    }
    for (c, w) in WIDTHS.iter().enumerate() {
        sheet.set_column_width(c as u16, *w)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 2) as u32;
        sheet.write_number(row, 0, (i + 1) as f64)?;
        for (c, v) in cells(i, r).iter().enumerate().skip(1) {
            sheet.write_plain_text(row, c as u16, v)?;
        }
    }
    sheet.set_freeze_panes(2, 2)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::catalogue::RiskClass;
    use crate::screen::testing_due::DueState;
    use calamine::{open_workbook, Data, Reader, Xlsx};
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn reminder(name: &str, township: Option<(&str, &str)>, state: DueState) -> Reminder {
        Reminder {
            entity_id: name.into(),
            name: name.to_string(),
            uscc: Some("91350583MA7RR6KM5A".into()),
            address: Some("水头镇康店村".into()),
            township_code: township.map(|(c, _)| c.into()),
            township: township.map_or("未能定位乡镇", |(_, n)| n).to_string(),
            village: "康店村委会".into(),
            risk_class: RiskClass::Severe,
            last_test: d(2024, 2, 1),
            due_on: d(2025, 2, 1),
            state,
        }
    }

    #[test]
    fn one_file_per_township_most_overdue_first_with_chinese_headers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shuitou = Some(("350583119", "水头镇"));
        let rows = vec![
            reminder("乙厂", shuitou, DueState::DueSoon { days_left: 3 }),
            reminder(
                "=HYPERLINK(\"x\")厂",
                shuitou,
                DueState::Overdue { days: 149 },
            ),
            reminder(
                "丙厂",
                Some(("350583118", "官桥镇")),
                DueState::Overdue { days: 0 },
            ),
            reminder("丁厂", None, DueState::Overdue { days: 5 }),
        ];
        let written =
            write_testing_lists(dir.path(), "南安市", "2025年06月", &rows).expect("write");
        let names: Vec<_> = written
            .iter()
            .map(|w| {
                w.xlsx
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            names,
            [
                "350583118_官桥镇.xlsx",
                "350583119_水头镇.xlsx",
                "county_未能定位乡镇.xlsx"
            ]
        );
        let shuitou = &written[1];
        assert_eq!(shuitou.rows, 2);
        assert!(shuitou.xlsx.starts_with(dir.path().join(TESTING_DIR)));

        let mut book: Xlsx<_> = open_workbook(&shuitou.xlsx).expect("open");
        let range = book.worksheet_range_at(0).expect("sheet").expect("range");
        assert_eq!(
            range.get_value((0, 0)),
            Some(&Data::String(
                "南安市水头镇 职业病危害因素定期检测到期提醒（2025年06月）".into()
            ))
        );
        for (c, h) in TESTING_HEADERS.iter().enumerate() {
            assert_eq!(
                range.get_value((1, c as u32)),
                Some(&Data::String(h.to_string()))
            );
        }
        // The overdue one first, its name defused; the due-soon one after it.
        assert_eq!(
            range.get_value((2, 1)),
            Some(&Data::String("'=HYPERLINK(\"x\")厂".into()))
        );
        assert_eq!(
            range.get_value((2, 8)),
            Some(&Data::String("已逾期149天".into()))
        );
        assert_eq!(
            range.get_value((2, 7)),
            Some(&Data::String("2025-02-01".into()))
        );
        assert_eq!(range.get_value((3, 1)), Some(&Data::String("乙厂".into())));
        assert_eq!(
            range.get_value((3, 8)),
            Some(&Data::String("即将到期（3天后）".into()))
        );
        assert_eq!(range.get_value((3, 0)), Some(&Data::Float(2.0)));

        let csv = std::fs::read(&shuitou.csv).expect("csv");
        assert!(csv.starts_with(super::super::csv_list::UTF8_BOM));
        let text = String::from_utf8_lossy(&csv[3..]).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], TESTING_HEADERS.join(","));
        assert!(lines[1].contains("已逾期149天"), "{text}");
        assert!(lines[2].starts_with("2,乙厂,"), "{text}");
    }

    #[test]
    fn no_reminders_no_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = write_testing_lists(dir.path(), "南安市", "2025年06月", &[]).expect("write");
        assert!(written.is_empty());
        assert!(!dir.path().join(TESTING_DIR).exists());
    }
}
