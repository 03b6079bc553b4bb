//! 职业病危害项目申报 feed: dated UTF-8 CSV exports of the declaration register, an older smaller
//! one and the newest; one row per filing (初次申报, 年度更新, 变更申报).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use super::super::codes::mistype;
use super::super::employer::{Employer, Filing};
use super::super::industry::INDUSTRIES;
use super::super::names::Typist;
use super::super::rng::{chance, stream, Purpose};
use super::super::sink::{CsvSink, Encoding};
use super::super::truth::Truth;
use super::super::GenError;
use super::{compact_date, factors, Ctx, Damage, FeedOutput, BAD_DATE, BAD_HEADCOUNT};

pub const CONNECTOR: &str = "declaration";

pub const HEADERS: &[&str] = &[
    "申报编号",
    "用人单位名称",
    "统一社会信用代码",
    "工作场所地址",
    "行业代码",
    "劳动者总人数",
    "接触危害人数",
    "申报类型",
    "申报日期",
    "危害因素",
];

/// One filing, numbered.
struct Row<'a> {
    number: String,
    filing: Filing,
    employer: &'a Employer,
    latest: bool,
}

fn cells(ctx: &Ctx, r: &Row) -> Vec<String> {
    let e = r.employer;
    let day = r.filing.date.num_days_from_ce().max(0) as u64;
    let mut rng = stream(
        ctx.seed,
        u64::from(e.id) | (day << 32),
        Purpose::Declaration,
    );
    // The employer types its own name; a filing before a rename carries the old one.
    let mut name_rng = stream(ctx.seed, u64::from(e.id), Purpose::Declaration);
    let name = e
        .name_on(r.filing.date)
        .variant(&mut name_rng, Typist::Employer);
    let code = if chance(&mut name_rng, 0.01) {
        mistype(&mut name_rng, &e.uscc)
    } else {
        e.uscc.clone()
    };
    let ind = &INDUSTRIES[e.industry];
    let total = ((f64::from(e.headcount) * rng.gen_range(0.85..1.15)).round() as u32).max(1);
    let exposed =
        ((f64::from(total) * ind.exposed * rng.gen_range(0.7..1.0)).round() as u32).clamp(1, total);
    let hazards = if ind.factors.is_empty() {
        "噪声".to_string()
    } else {
        factors(&mut rng, ind.factors, 4, "、")
    };
    vec![
        r.number.clone(),
        name,
        code,
        e.address.variant(&mut rng, ctx.gaz, false),
        format!("{}{}", ind.section, ind.code),
        total.to_string(),
        exposed.to_string(),
        r.filing.kind.label().to_string(),
        compact_date(r.filing.date),
        hazards,
    ]
}

/// Writes one export holding every filing up to `cutoff`.
fn export(
    ctx: &Ctx,
    truth: &mut Truth,
    path: &Path,
    rows: &[Row],
    cutoff: NaiveDate,
    newest: bool,
) -> Result<usize, GenError> {
    let mut sink = CsvSink::create(path, Encoding::Utf8, HEADERS)?;
    let mine: Vec<&Row> = rows.iter().filter(|r| r.filing.date <= cutoff).collect();
    let mut rng = stream(ctx.seed, if newest { 5 } else { 6 }, Purpose::BadRows);
    let mut damage = Damage::plan(&mut rng, mine.len());
    for (i, r) in mine.iter().enumerate() {
        let e = r.employer;
        let mut row = cells(ctx, r);
        let mut problems = Vec::new();
        // Damage never hits an employer's latest filing, so truth's last_filed stays observable.
        if damage.date(i, !r.latest) {
            row[8] = BAD_DATE.to_string();
            problems.push("impossible 申报日期");
        }
        if damage.headcount(i, !r.latest) {
            row[5] = BAD_HEADCOUNT.to_string();
            problems.push("non-numeric 劳动者总人数");
        }
        sink.row(&row)?;
        if newest {
            for p in problems {
                truth.bad_row(CONNECTOR, path, sink.rows, p, Some(e), true)?;
            }
            truth.record(CONNECTOR, &r.number, e)?;
        }
        if damage.empty_after(i) {
            let mut junk = cells(ctx, r);
            junk[0] = format!("{}X", r.number);
            junk[1].clear();
            junk[2].clear();
            sink.row(&junk)?;
            if newest {
                truth.bad_row(
                    CONNECTOR,
                    path,
                    sink.rows,
                    "no name and no code",
                    None,
                    false,
                )?;
            }
        }
        if damage.ragged_after(i) {
            // 危害因素 typed with half-width commas spills into extra fields.
            let mut broken = cells(ctx, r);
            broken[0] = format!("{}R", r.number);
            broken[9] = broken[9].replace('、', ",");
            if !broken[9].contains(',') {
                broken[9].push_str(",噪声");
            }
            sink.raw_line(&broken.join(","))?;
            if newest {
                truth.bad_row(
                    CONNECTOR,
                    path,
                    sink.rows,
                    "wrong number of fields",
                    Some(e),
                    false,
                )?;
            }
        }
    }
    Ok(sink.finish()?.1)
}

pub fn write(
    ctx: &Ctx,
    truth: &mut Truth,
    older_export: NaiveDate,
) -> Result<FeedOutput, GenError> {
    let dir = ctx.dir(CONNECTOR)?;
    let mut filings: Vec<(NaiveDate, usize, usize)> = Vec::new();
    for (i, e) in ctx.employers.iter().enumerate() {
        filings.extend(e.filings.iter().enumerate().map(|(k, f)| (f.date, i, k)));
    }
    filings.sort();
    // Numbers run per year in date order: ZYSB350583 + year + sequence.
    let mut seq: BTreeMap<i32, u32> = BTreeMap::new();
    let rows: Vec<Row> = filings
        .into_iter()
        .map(|(date, i, k)| {
            let e = &ctx.employers[i];
            let n = seq.entry(date.year()).or_insert(0);
            *n += 1;
            Row {
                number: format!("ZYSB350583{}{:06}", date.year(), n),
                filing: e.filings[k],
                employer: e,
                latest: k + 1 == e.filings.len(),
            }
        })
        .collect();
    let older = dir.join(format!("申报数据_{}.csv", older_export.format("%Y%m%d")));
    let newest = dir.join(format!("申报数据_{}.csv", ctx.as_of.format("%Y%m%d")));
    let a = export(ctx, truth, &older, &rows, older_export, false)?;
    let b = export(ctx, truth, &newest, &rows, ctx.as_of, true)?;
    Ok(FeedOutput {
        feed: CONNECTOR,
        files: vec![older, newest],
        rows: a + b,
    })
}
