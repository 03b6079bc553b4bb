//! 职业病危害因素检测 feed: laboratories' report register as XLSX, one row per report, each lab
//! with its own report-number style; dates are date cells or bare serial numbers.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use super::super::employer::Employer;
use super::super::industry::{Hazard, INDUSTRIES};
use super::super::names::Typist;
use super::super::rng::{chance, stream, weighted, Purpose};
use super::super::sink::{Cell, XlsxSink};
use super::super::truth::Truth;
use super::super::GenError;
use super::{code_cell, factors, Ctx, Damage, FeedOutput, BAD_DATE};

pub const CONNECTOR: &str = "testing";

pub const HEADERS: &[&str] = &[
    "报告编号",
    "检测机构",
    "委托单位",
    "统一社会信用代码",
    "单位地址",
    "检测类别",
    "检测日期",
    "检测危害因素",
    "超标岗位数",
];

/// Laboratories (fictional) and their report numbers.
const LABS: &[(&str, f64)] = &[
    ("泉州市诚安职业卫生检测有限公司", 5.0),
    ("福建闽康职业健康技术服务有限公司", 3.0),
    ("南安市疾病预防控制中心", 2.0),
];

fn report_no(lab: usize, year: i32, n: u32) -> String {
    match lab {
        0 => format!("QCA-JC-{year}-{n:04}"),
        1 => format!("闽康检字〔{year}〕第{n:04}号"),
        _ => format!("南疾控职检({year}){n:03}号"),
    }
}

pub fn write(ctx: &Ctx, truth: &mut Truth) -> Result<FeedOutput, GenError> {
    let dir = ctx.dir(CONNECTOR)?;
    let path = dir.join("检测报告台账.xlsx");
    let mut sink = XlsxSink::create(&path, "检测报告台账", None, HEADERS, ctx.as_of)?;
    let lab_w: Vec<f64> = LABS.iter().map(|l| l.1).collect();
    // (date, employer, report index): the register lists reports by date.
    let mut reports: Vec<(NaiveDate, usize, usize)> = Vec::new();
    for (i, e) in ctx.employers.iter().enumerate() {
        reports.extend(e.tests.iter().enumerate().map(|(k, d)| (*d, i, k)));
    }
    reports.sort();
    let mut rng = stream(ctx.seed, 4, Purpose::BadRows);
    let mut damage = Damage::plan(&mut rng, reports.len());
    let mut numbers: BTreeMap<(usize, i32), u32> = BTreeMap::new();
    for (n, (date, i, k)) in reports.into_iter().enumerate() {
        let e: &Employer = &ctx.employers[i];
        let mut rng = stream(
            ctx.seed,
            u64::from(e.id) | ((k as u64) << 32),
            Purpose::Testing,
        );
        // Most employers stay with one lab; the lab is drawn from the employer's own stream.
        let mut lab_rng = stream(ctx.seed, u64::from(e.id), Purpose::Testing);
        let lab = if chance(&mut rng, 0.8) {
            weighted(&mut lab_rng, &lab_w)
        } else {
            weighted(&mut rng, &lab_w)
        };
        let no = numbers.entry((lab, date.year())).or_insert(0);
        *no += 1;
        let number = report_no(lab, date.year(), *no);
        let name = e.name_on(date).variant(&mut rng, Typist::Typed);
        let code = code_cell(&mut rng, e, 0.3, 0.05);
        let ind = &INDUSTRIES[e.industry];
        let over = match ind.hazard {
            Hazard::Severe if chance(&mut rng, 0.3) => rng.gen_range(1..=4),
            Hazard::General if chance(&mut rng, 0.1) => rng.gen_range(1..=2),
            _ => 0,
        };
        // Never on an employer's latest report, so truth's last_evidence stays observable.
        let bad_date = damage.date(n, k + 1 < e.tests.len());
        let date_cell = if bad_date {
            Cell::Text(BAD_DATE.to_string())
        } else if chance(&mut rng, 0.6) {
            Cell::Date(date)
        } else {
            Cell::Serial(date)
        };
        let sep = if chance(&mut rng, 0.5) { "、" } else { "，" };
        let cells = vec![
            Cell::Text(number.clone()),
            Cell::Text(LABS[lab].0.to_string()),
            Cell::Text(name),
            Cell::Text(code),
            Cell::Text(e.address.variant(&mut rng, ctx.gaz, true)),
            Cell::Text(
                if k == 0 && chance(&mut rng, 0.3) {
                    "现状评价"
                } else {
                    "定期检测"
                }
                .to_string(),
            ),
            date_cell,
            Cell::Text(factors(&mut rng, ind.factors, 4, sep)),
            Cell::Number(f64::from(over)),
        ];
        sink.row(&cells)?;
        if bad_date {
            truth.bad_row(
                CONNECTOR,
                &path,
                sink.rows,
                "impossible 检测日期",
                Some(e),
                true,
            )?;
        }
        truth.record(CONNECTOR, &number, e)?;
        if damage.empty_after(n) {
            let mut junk = cells.clone();
            let no = numbers.entry((lab, date.year())).or_insert(0);
            *no += 1;
            junk[0] = Cell::Text(report_no(lab, date.year(), *no));
            junk[2] = Cell::Blank;
            junk[3] = Cell::Blank;
            sink.row(&junk)?;
            truth.bad_row(
                CONNECTOR,
                &path,
                sink.rows,
                "no name and no code",
                None,
                false,
            )?;
        }
    }
    let (path, rows) = sink.finish()?;
    Ok(FeedOutput {
        feed: CONNECTOR,
        files: vec![path],
        rows,
    })
}
