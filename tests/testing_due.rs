//! Periodic-testing reminders (检测到期提醒) on the bundled sample county: one list per
//! township in the run folder, overdue employers on their township's list with the due date
//! their last testing report gives, recently tested ones nowhere; and `[policy.testing]`
//! mistakes named with file, line and key.

mod common;

use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};
use common::Project;
use yingbao::deliver::testing_list::{TESTING_DIR, TESTING_HEADERS};
use yingbao::pipeline;

/// Every reminder list of a run folder: (file, title, data rows as text).
fn lists(out_dir: &Path) -> Vec<(PathBuf, String, Vec<Vec<String>>)> {
    let dir = out_dir.join(TESTING_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let mut book = open_workbook_auto(&p).expect("open xlsx");
            let sheet = book.worksheet_range_at(0).expect("sheet").expect("range");
            let mut rows = sheet.rows().map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Float(f) => format!("{f}"),
                        other => other.to_string(),
                    })
                    .collect::<Vec<String>>()
            });
            let title = rows
                .next()
                .and_then(|r| r.first().cloned())
                .unwrap_or_default();
            let header = rows.next().expect("header row");
            assert_eq!(header, TESTING_HEADERS, "{}", p.display());
            (p, title, rows.collect())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_gets_a_reminder_list_per_township_with_its_overdue_employers() {
    let project = Project::new();
    let cfg = project.config();
    let store = project.sqlite().await;
    let summary = pipeline::run(&cfg, &store).await.expect("run succeeds");
    assert!(summary.push_blocked.is_none(), "{:?}", summary.push_blocked);

    let lists = lists(&summary.out_dir);
    for (file, title, rows) in &lists {
        println!(
            "{} — {title}",
            file.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
        );
        for r in rows {
            println!("  {}", r.join(" | "));
        }
    }
    let listed: usize = lists.iter().map(|(_, _, rows)| rows.len()).sum();
    assert_eq!(listed, summary.testing_due);
    assert!(summary.testing_due > 0);

    // Each list is its township's: the file, the title and (where the sample's addresses
    // name it) the employers' addresses agree; rows are numbered and most overdue first.
    for (file, title, rows) in &lists {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let (code, name) = stem.split_once('_').expect("code_name");
        assert_eq!(
            title,
            &format!("南安市{name} 职业病危害因素定期检测到期提醒（2025年06月）")
        );
        if code != "county" {
            let t = cfg
                .gazetteer
                .townships
                .iter()
                .find(|t| t.code == code)
                .expect("a township of the county");
            assert_eq!(t.name, name);
        }
        assert!(
            !rows.is_empty(),
            "{}: a list without reminders",
            file.display()
        );
        let overdue: Vec<i64> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                assert_eq!(r[0], (i + 1).to_string());
                days_overdue(&r[8])
            })
            .collect();
        assert!(
            overdue.windows(2).all(|w| w[0] >= w[1]),
            "{}: not most overdue first: {overdue:?}",
            file.display()
        );
    }

    let row_of = |name: &str| {
        lists
            .iter()
            .flat_map(|(f, _, rows)| rows.iter().map(move |r| (f, r)))
            .find(|(_, r)| r[1] == name)
    };
    // 严重 (3032 建筑用石加工), last tested 2024-02-01: due a year later, 149 days overdue on
    // 2025-06-30, on 翔云镇's list.
    let (file, row) = row_of("南安市典振石材工艺有限公司").expect("典振石材 is reminded");
    assert!(file.ends_with(format!("{TESTING_DIR}/350583104_翔云镇.xlsx")));
    assert_eq!(row[2], "91350583139016779L");
    assert_eq!(row[5], "严重");
    assert_eq!(row[6], "2024-02-01");
    assert_eq!(row[7], "2025-02-01");
    assert_eq!(row[8], "已逾期149天");
    // 一般 (1819 服饰制造), last tested 2022-07-23: due three years later, inside the 30 days.
    let (file, row) = row_of("南安市佳瑞制衣厂").expect("佳瑞制衣 is reminded");
    assert!(file.ends_with(format!("{TESTING_DIR}/350583103_英都镇.xlsx")));
    assert_eq!(row[5], "一般");
    assert_eq!(row[7], "2025-07-23");
    assert_eq!(row[8], "即将到期（23天后）");
    // Tested this month (2025-06-06), and a 一般 employer tested a year ago: not due.
    assert!(row_of("南安市群富石材加工有限责任公司").is_none());
    assert!(row_of("鸿恒机械设备有限公司").is_none());
    // Deregistered (注销) since its last test in 2022: not reminded.
    assert!(row_of("南安市光宏电镀").is_none());
    // The reminders travel to the township in its lead workbook too: 翔云镇's list has the
    // sheet with the same rows; a township without reminders has no such sheet.
    let sheet_rows = |file: &Path| -> Option<Vec<Vec<String>>> {
        let mut book = open_workbook_auto(file).expect("open the township list");
        let range = book.worksheet_range("检测到期提醒").ok()?;
        Some(
            range
                .rows()
                .skip(2)
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect(),
        )
    };
    let xiangyun = sheet_rows(&summary.out_dir.join("350583104_翔云镇.xlsx"))
        .expect("翔云镇's list carries its reminders");
    let own = lists
        .iter()
        .find(|(f, _, _)| f.ends_with("350583104_翔云镇.xlsx"))
        .expect("翔云镇's reminder list");
    assert_eq!(xiangyun.len(), own.2.len());
    assert!(xiangyun
        .iter()
        .any(|r| r[1] == "南安市典振石材工艺有限公司"));
    let reminded: Vec<String> = lists
        .iter()
        .filter_map(|(f, _, _)| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let quiet = cfg
        .gazetteer
        .townships
        .iter()
        .map(|t| format!("{}_{}.xlsx", t.code, t.name))
        .find(|n| !reminded.contains(n))
        .expect("a township without reminders");
    assert!(
        sheet_rows(&summary.out_dir.join(&quiet)).is_none(),
        "{quiet}"
    );
    // The CSV beside each workbook, for Excel: UTF-8 with a byte-order mark.
    for (file, _, rows) in &lists {
        let csv = std::fs::read(file.with_extension("csv")).expect("csv beside the workbook");
        assert!(csv.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8_lossy(&csv[3..]).to_string();
        assert_eq!(text.lines().count(), rows.len() + 1);
    }
}

/// `已逾期N天` → N, `今日到期` → 0, `即将到期（N天后）` → −N.
fn days_overdue(status: &str) -> i64 {
    let digits: String = status.chars().filter(char::is_ascii_digit).collect();
    let n: i64 = digits.parse().unwrap_or(0);
    if status.starts_with("即将到期") {
        -n
    } else {
        n
    }
}

/// Replaces `from` (which must be there) in the copy's configuration.
fn edit_config(project: &Project, from: &str, to: &str) {
    let file = project.config_file();
    let text = std::fs::read_to_string(&file).expect("config");
    assert!(text.contains(from), "`{from}` not in the configuration");
    std::fs::write(&file, text.replacen(from, to, 1)).expect("write config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intervals_and_the_window_are_the_configurations() {
    let project = Project::new();
    // 严重 monthly, no due-soon window.
    edit_config(&project, "severe_months = 12", "severe_months = 1");
    edit_config(&project, "due_soon_days = 30", "due_soon_days = 0");
    let cfg = project.config();
    let store = project.sqlite().await;
    let summary = pipeline::run(&cfg, &store).await.expect("run succeeds");
    let lists = lists(&summary.out_dir);
    let row_of = |name: &str| {
        lists
            .iter()
            .flat_map(|(_, _, rows)| rows.iter())
            .find(|r| r[1] == name)
    };
    // Tested 2025-05-30: due a month later, on the day screened.
    let row = row_of("南安市万汇建材厂").expect("万汇建材 is reminded");
    assert_eq!(row[7], "2025-06-30");
    assert_eq!(row[8], "今日到期");
    // Tested 2025-06-06: due 2025-07-06, and no window: not listed.
    assert!(row_of("南安市群富石材加工有限责任公司").is_none());
    // Due 2025-07-23 (一般, unchanged interval): outside the (now closed) window.
    assert!(row_of("南安市佳瑞制衣厂").is_none());
    assert!(lists
        .iter()
        .flat_map(|(_, _, rows)| rows.iter())
        .all(|r| !r[8].starts_with("即将到期")));

    // Disabled: no reminders, no folder.
    let project = Project::new();
    edit_config(
        &project,
        "enabled = true\nsevere_months",
        "enabled = false\nsevere_months",
    );
    let cfg = project.config();
    assert!(!cfg.settings.policy.testing.enabled);
    let store = project.sqlite().await;
    let summary = pipeline::run(&cfg, &store).await.expect("run succeeds");
    assert_eq!(summary.testing_due, 0);
    assert!(!summary.out_dir.join(TESTING_DIR).exists());
}

#[test]
fn a_zero_or_negative_interval_is_a_problem_with_file_line_and_key() {
    let project = Project::new();
    let file = project.config_file();
    let text = std::fs::read_to_string(&file).expect("config");
    assert!(text.contains("severe_months = 12"), "the shipped key");
    let text = text
        .replacen("severe_months = 12", "severe_months = 0", 1)
        .replacen("general_months = 36", "general_months = -36", 1);
    std::fs::write(&file, &text).expect("write");
    let line = |needle: &str| {
        text.lines()
            .position(|l| l.starts_with(needle))
            .map(|i| i + 1)
            .expect("line")
    };
    let Err(problems) = yingbao::config::load(&file) else {
        panic!("a zero testing interval loaded");
    };
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    for (key, needle) in [
        ("policy.testing.severe_months", "severe_months = 0"),
        ("policy.testing.general_months", "general_months = -36"),
    ] {
        let p = problems
            .iter()
            .find(|p| p.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("no {key} problem in {shown:#?}"));
        assert_eq!(p.file, file);
        assert_eq!(p.line, Some(line(needle)), "{shown:#?}");
    }
}
