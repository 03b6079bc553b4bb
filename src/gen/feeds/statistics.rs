//! 统计名录库 feed: the statistics business directory as one GB18030 CSV, mostly larger
//! employers, with the 12-digit 统计用区划代码 that places each one in a township and village.

use chrono::Duration;
use rand::Rng;

use super::super::codes::mistype;
use super::super::employer::{Employer, Registry};
use super::super::industry::INDUSTRIES;
use super::super::names::Typist;
use super::super::rng::{chance, stream, Purpose};
use super::super::sink::{CsvSink, Encoding};
use super::super::truth::Truth;
use super::super::GenError;
use super::{Ctx, Damage, FeedOutput, Keys, BAD_HEADCOUNT};

pub const CONNECTOR: &str = "statistics";

pub const HEADERS: &[&str] = &[
    "统一社会信用代码",
    "单位详细名称",
    "统计用区划代码",
    "详细地址",
    "行业代码",
    "从业人员期末人数",
    "运营状态",
    "营业收入（万元）",
];

fn code(ctx: &Ctx, e: &Employer, keys: &mut Keys) -> String {
    let mut rng = stream(ctx.seed, u64::from(e.id), Purpose::StatsId);
    let code = if chance(&mut rng, 0.015) {
        mistype(&mut rng, &e.uscc)
    } else {
        e.uscc.clone()
    };
    if keys.claim(&code) {
        code
    } else {
        e.uscc.clone()
    }
}

fn row(ctx: &Ctx, e: &Employer, code: String) -> Vec<String> {
    let mut rng = stream(ctx.seed, u64::from(e.id), Purpose::Statistics);
    let name = match &e.old_name {
        Some((old, _)) if chance(&mut rng, 0.4) => old.variant(&mut rng, Typist::Clerk),
        _ => e.name.variant(&mut rng, Typist::Clerk),
    };
    // The directory is updated once a year: a stop is recorded only some of the time.
    let stopped = e.stopped_on.is_some() || matches!(e.registry, Registry::Suspended(_));
    let status = if ctx.as_of - e.established < Duration::days(120) && chance(&mut rng, 0.5) {
        "筹建"
    } else if stopped && chance(&mut rng, 0.7) {
        "停业"
    } else {
        "营业"
    };
    let headcount = if status == "停业" {
        0
    } else {
        (f64::from(e.headcount) * rng.gen_range(0.85..1.05)).round() as u32
    };
    vec![
        code,
        name,
        ctx.gaz.villages[e.address.village].code.clone(),
        e.address.variant(&mut rng, ctx.gaz, false),
        INDUSTRIES[e.industry].code.to_string(),
        headcount.to_string(),
        status.to_string(),
        format!("{:.1}", e.revenue as f64 / 10_000.0),
    ]
}

pub fn write(ctx: &Ctx, truth: &mut Truth) -> Result<FeedOutput, GenError> {
    let dir = ctx.dir(CONNECTOR)?;
    let path = dir.join("名录库.csv");
    let mut sink = CsvSink::create(&path, Encoding::Gb18030, HEADERS)?;
    let mut keys = Keys::default();
    let mut order: Vec<(String, String, &Employer)> = ctx
        .employers
        .iter()
        .filter(|e| e.in_stats)
        .map(|e| {
            let village = ctx.gaz.villages[e.address.village].code.clone();
            (village, code(ctx, e, &mut keys), e)
        })
        .collect();
    order.sort_by(|a, b| (&a.0, &a.1, a.2.id).cmp(&(&b.0, &b.1, b.2.id)));
    let mut rng = stream(ctx.seed, 2, Purpose::BadRows);
    let mut damage = Damage::plan(&mut rng, order.len());
    for (i, (_, code, e)) in order.into_iter().enumerate() {
        let mut cells = row(ctx, e, code.clone());
        let bad_count = damage.headcount(i, true);
        if bad_count {
            cells[5] = BAD_HEADCOUNT.to_string();
        }
        sink.row(&cells)?;
        if bad_count {
            truth.bad_row(
                CONNECTOR,
                &path,
                sink.rows,
                "non-numeric 从业人员期末人数",
                Some(e),
                true,
            )?;
        }
        truth.record(CONNECTOR, &code, e)?;
        if damage.empty_after(i) {
            let mut junk = row(ctx, e, String::new());
            junk[1].clear();
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
        if damage.ragged_after(i) {
            // A row cut short by a broken export: the last two fields are missing.
            let cells = row(ctx, e, code.clone());
            sink.raw_line(&cells[..cells.len() - 2].join(","))?;
            truth.bad_row(
                CONNECTOR,
                &path,
                sink.rows,
                "wrong number of fields",
                Some(e),
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
