//! The county's side of the loop, through the `yingbao` binary: a township returns its Excel
//! list with 核实情况 filled in, `feedback import` records the good rows and names the bad
//! ones, the next run closes those leads, and `report` counts it all per township.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, DataType, Reader};
use common::Project;
use yingbao::leads::LeadStatus;
use yingbao::store::Store;

fn yingbao(p: &Project, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(p.config_file())
        .args(args)
        .output()
        .expect("run yingbao")
}

fn sheet(path: &Path, name: &str) -> Vec<Vec<Data>> {
    let mut book = open_workbook_auto(path).expect("open xlsx");
    let range = book.worksheet_range(name).expect("sheet");
    range.rows().map(<[Data]>::to_vec).collect()
}

fn text(c: &Data) -> String {
    c.as_string().unwrap_or_else(|| c.to_string())
}

/// The township's list as it comes back: every cell copied, the staff columns filled in.
fn fill_in(list: &Path, out: &Path, replies: &[(usize, &str, &str, &str)]) {
    let rows = sheet(list, "线索清单");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("线索清单").expect("name");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Data::Float(f) => ws.write_number(r as u32, c as u16, *f).map(|_| ()),
                Data::Empty => Ok(()),
                other => ws.write_string(r as u32, c as u16, text(other)).map(|_| ()),
            }
            .expect("write cell");
        }
    }
    let header = &rows[1];
    let col = |name: &str| header.iter().position(|c| text(c) == name).expect("column") as u16;
    for (data_row, value, person, date) in replies {
        let r = (2 + data_row) as u32;
        ws.write_string(r, col("核实情况"), *value).expect("value");
        ws.write_string(r, col("核实人"), *person).expect("person");
        ws.write_string(r, col("核实日期"), *date).expect("date");
    }
    book.save(out).expect("save");
}

/// The lead ids of each row of the main sheet: one row per employer, its leads' ids joined
/// with `；` (`L12；L12-EX`).
fn lead_ids(list: &Path) -> Vec<Vec<String>> {
    let rows = sheet(list, "线索清单");
    let id = rows[1]
        .iter()
        .position(|c| text(c) == "线索编号")
        .expect("column");
    rows[2..]
        .iter()
        .map(|r| text(&r[id]).split('；').map(str::to_string).collect())
        .collect()
}

fn run_dir(p: &Project) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(p.root().join("out"))
        .expect("out")
        .map(|e| e.expect("entry").path())
        .filter(|d| {
            d.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("-run"))
        })
        .collect();
    dirs.sort();
    dirs.pop().expect("a run folder")
}

#[tokio::test]
async fn a_returned_list_closes_its_leads_and_the_report_counts_them() {
    let p = Project::new();
    assert!(yingbao(&p, &["run"]).status.success());
    // 霞美镇 has the most leads in the sample.
    let list = run_dir(&p).join("350583117_霞美镇.xlsx");
    // The township's CSV file is for Excel too: a BOM, then the Chinese header.
    let csv = std::fs::read(list.with_extension("csv")).expect("csv");
    assert!(
        csv.starts_with("\u{feff}序号,线索编号,线索类型".as_bytes()),
        "{:?}",
        String::from_utf8_lossy(&csv[..40.min(csv.len())])
    );
    let ids = lead_ids(&list);
    assert!(ids.len() >= 4, "{ids:?}");
    let all: Vec<&String> = ids.iter().flatten().collect();
    let distinct: std::collections::HashSet<&String> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "each lead on one row: {ids:?}");
    let returned = p.root().join("霞美镇_反馈.xlsx");
    fill_in(
        &list,
        &returned,
        &[
            (0, "停产停业超过6个月", "张三", "2025-07-05"),
            (1, "其他：已迁至外县", "李四", "2025/7/6"),
            (2, "不知道", "王五", "2025-07-06"),
            (3, "已申报", "", "2025-07-06"),
        ],
    );
    let out = yingbao(
        &p,
        &[
            "feedback",
            "import",
            returned.to_str().expect("path"),
            "--signer",
            "王镇长",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    // A row is an employer: its finding is recorded for each of its leads.
    let recorded = ids[0].len() + ids[1].len();
    assert!(
        stdout.contains(&format!(
            "recorded {recorded} dispositions; 2 rows not recorded"
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains("霞美镇_反馈.xlsx: row 5: `不知道` is not one of the 核实情况 values"),
        "{stderr}"
    );
    assert!(stderr.contains("row 6: 核实人 is empty"), "{stderr}");

    p.set_as_of("2025-07-31");
    assert!(yingbao(&p, &["run"]).status.success());
    let url = format!("sqlite://{}", p.root().join("var/yingbao.db").display());
    let store = Store::open(&url).await.expect("db");
    let states = store.lead_states().await.expect("states");
    for id in ids[..2].iter().flatten() {
        assert_eq!(states[id].status, LeadStatus::Closed, "{id}");
    }
    for id in &ids[2] {
        assert_eq!(states[id].status, LeadStatus::Open, "{id}");
    }
    let listed: Vec<String> = lead_ids(&run_dir(&p).join("350583117_霞美镇.xlsx"))
        .into_iter()
        .flatten()
        .collect();
    for id in ids[..2].iter().flatten() {
        assert!(!listed.contains(id), "{id} is closed");
    }
    for id in &ids[2] {
        assert!(listed.contains(id), "{id} is open");
    }

    // The quarter's report, against the database's own figures for 霞美镇.
    let out = yingbao(&p, &["report", "--period", "2025Q3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xlsx = p.root().join("out/覆盖率报告_2025Q3.xlsx");
    assert!(stdout.contains(&xlsx.display().to_string()), "{stdout}");
    let rows = sheet(&xlsx, "覆盖率");
    let h = rows
        .iter()
        .position(|r| r.iter().any(|c| text(c) == "在范围企业数"))
        .expect("header");
    let col: HashMap<String, usize> = rows[h]
        .iter()
        .enumerate()
        .map(|(i, c)| (text(c), i))
        .collect();
    let row = rows
        .iter()
        .find(|r| text(&r[col["乡镇"]]) == "霞美镇")
        .expect("霞美镇 row");
    let num = |name: &str| {
        row[col[name]]
            .as_f64()
            .unwrap_or_else(|| panic!("{name} is a number"))
    };

    let run = store.last_run().await.expect("run").expect("a run");
    let mut filed = 0.0;
    for e in store.entities(run).await.expect("entities") {
        let v: serde_json::Value = serde_json::from_str(&e.data).expect("json");
        if e.township_code.as_deref() == Some("350583117")
            && v["assessment"]["operating"] == true
            && v["assessment"]["filing"] == "current"
        {
            filed += 1.0;
        }
    }
    assert_eq!(num("已申报"), filed);
    assert_eq!(num("在范围企业数"), num("已申报") + num("未申报"));
    assert!((num("申报覆盖率") - filed / num("在范围企业数")).abs() < 1e-9);
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let events = store
        .lead_events_between(d("2025-07-01"), d("2025-09-30"))
        .await
        .expect("events");
    let closed_here = events
        .iter()
        .filter(|e| matches!(e.to, LeadStatus::Closed | LeadStatus::Resolved))
        .filter(|e| states[&e.lead_id].township_code.as_deref() == Some("350583117"))
        .count();
    assert!(closed_here >= 2, "the two dispositions at least");
    assert_eq!(num("本期关闭线索"), closed_here as f64);
    assert_eq!(num("处置：停产停业超过6个月"), ids[0].len() as f64);
    assert_eq!(num("处置：其他"), ids[1].len() as f64);
    let total = rows
        .iter()
        .find(|r| text(&r[col["乡镇"]]) == "合计")
        .expect("合计 row");
    let sum: f64 = rows[h + 1..]
        .iter()
        .filter(|r| text(&r[col["乡镇"]]) != "合计")
        .filter_map(|r| r[col["在范围企业数"]].as_f64())
        .sum();
    assert_eq!(total[col["在范围企业数"]].as_f64(), Some(sum));
    assert!(p.root().join("out/覆盖率报告_2025Q3.svg").exists());
    if stdout.contains("chart (PNG):    not written") {
        eprintln!(
            "skipped: no CJK font (install fonts-wqy-microhei): the PNG chart was not rendered"
        );
    } else {
        let png = std::fs::read(p.root().join("out/覆盖率报告_2025Q3.png")).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        if let Ok(keep) = std::env::var("YINGBAO_KEEP_REPORT_PNG") {
            std::fs::write(keep, &png).expect("keep png");
        }
    }
}
