//! 税务 feed: the tax register as XLSX with a title row above the headers. Some employers carry
//! an old 15-character tax number; dates are real date cells or `2024/1/5` text; counts vary.

use chrono::{Duration, NaiveDate};
use rand::Rng;

use super::super::codes::{mistype, old_tax_number};
use super::super::employer::{Employer, TaxStatus};
use super::super::industry::INDUSTRIES;
use super::super::names::Typist;
use super::super::rng::{chance, stream, Purpose};
use super::super::sink::{Cell, XlsxSink};
use super::super::truth::Truth;
use super::super::GenError;
use super::{full_width, slash_date, Ctx, Damage, FeedOutput, Keys, BAD_DATE, BAD_HEADCOUNT};

pub const CONNECTOR: &str = "tax";

pub const HEADERS: &[&str] = &[
    "纳税人识别号",
    "纳税人名称",
    "生产经营地址",
    "纳税人状态",
    "行业代码",
    "从业人数",
    "最近申报日期",
    "营业收入（元）",
];

/// The taxpayer number the tax office holds for an employer (the USCC when an old record was
/// superseded: the old number is then a record of its own).
fn tax_id(rng: &mut impl Rng, e: &Employer, keys: &mut Keys) -> String {
    let id = if e.pre_reform && !e.individual && chance(rng, 0.3) {
        if e.superseded_tax.is_some() {
            e.uscc.clone()
        } else {
            old_tax_number(&e.org)
        }
    } else if chance(rng, 0.01) {
        mistype(rng, &e.uscc)
    } else {
        e.uscc.clone()
    };
    if keys.claim(&id) {
        id
    } else {
        // Vanishingly rare: a typo hit another code. Fall back to the true code.
        e.uscc.clone()
    }
}

fn row(ctx: &Ctx, e: &Employer, id: String) -> Vec<Cell> {
    let mut rng = stream(ctx.seed, u64::from(e.id), Purpose::Tax);
    // Tax staff copied the name at registration; a renamed employer is often not updated.
    let name = match &e.old_name {
        Some((old, _)) if chance(&mut rng, 0.5) => old.variant(&mut rng, Typist::Clerk),
        _ => e.name.variant(&mut rng, Typist::Clerk),
    };
    let stopped_long = e
        .stopped_on
        .is_some_and(|d| d < ctx.as_of - Duration::days(365));
    let headcount = if stopped_long {
        0
    } else {
        ((f64::from(e.headcount) * rng.gen_range(0.8..1.1)).round() as u32).max(1)
    };
    let headcount = if chance(&mut rng, 0.05) {
        Cell::Text(full_width(&headcount.to_string()))
    } else {
        Cell::Number(f64::from(headcount))
    };
    let last = match e.last_tax {
        Some(d) if chance(&mut rng, 0.6) => Cell::Date(d),
        Some(d) => Cell::Text(slash_date(d)),
        None => Cell::Blank,
    };
    let status = if e.tax_status == TaxStatus::Normal || chance(&mut rng, 0.97) {
        e.tax_status.label()
    } else {
        // A stale status: the office has not caught up yet.
        TaxStatus::Normal.label()
    };
    vec![
        Cell::Text(id),
        Cell::Text(name),
        Cell::Text(e.address.variant(&mut rng, ctx.gaz, false)),
        Cell::Text(status.to_string()),
        Cell::Text(INDUSTRIES[e.industry].code.to_string()),
        headcount,
        last,
        Cell::Number(e.revenue as f64),
    ]
}

/// The superseded old record: 15-character number, 注销, its last return years ago, no revenue.
fn old_row(ctx: &Ctx, e: &Employer, id: String, last: NaiveDate) -> Vec<Cell> {
    let mut cells = row(ctx, e, id);
    cells[3] = Cell::Text(TaxStatus::Deregistered.label().to_string());
    cells[5] = Cell::Number(0.0);
    cells[6] = Cell::Date(last);
    cells[7] = Cell::Number(0.0);
    cells
}

pub fn write(ctx: &Ctx, truth: &mut Truth) -> Result<FeedOutput, GenError> {
    let dir = ctx.dir(CONNECTOR)?;
    let path = dir.join("税务登记户信息.xlsx");
    let title = format!(
        "国家税务总局南安市税务局 税务登记户信息（截至{}）",
        super::chinese_date(ctx.as_of)
    );
    let mut sink = XlsxSink::create(&path, "登记户信息", Some(&title), HEADERS, ctx.as_of)?;
    let mut keys = Keys::default();
    // (taxpayer number, employer, last return of a superseded old record).
    let mut order: Vec<(String, &Employer, Option<NaiveDate>)> = Vec::new();
    for e in ctx.employers.iter().filter(|e| e.in_tax) {
        let mut rng = stream(ctx.seed, u64::from(e.id), Purpose::TaxId);
        order.push((tax_id(&mut rng, e, &mut keys), e, None));
        if let Some(last) = e.superseded_tax {
            let old = old_tax_number(&e.org);
            if keys.claim(&old) {
                order.push((old, e, Some(last)));
            }
        }
    }
    order.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    let mut rng = stream(ctx.seed, 1, Purpose::BadRows);
    let mut damage = Damage::plan(&mut rng, order.len());
    for (i, (id, e, old)) in order.into_iter().enumerate() {
        let mut cells = match old {
            Some(last) => old_row(ctx, e, id.clone(), last),
            None => row(ctx, e, id.clone()),
        };
        let mut problems = Vec::new();
        if damage.date(i, e.last_tax.is_some() && old.is_none()) {
            cells[6] = Cell::Text(BAD_DATE.to_string());
            problems.push("impossible 最近申报日期");
        }
        if damage.headcount(i, old.is_none()) {
            cells[5] = Cell::Text(BAD_HEADCOUNT.to_string());
            problems.push("non-numeric 从业人数");
        }
        sink.row(&cells)?;
        for p in problems {
            truth.bad_row(CONNECTOR, &path, sink.rows, p, Some(e), true)?;
        }
        truth.record(CONNECTOR, &id, e)?;
        if damage.empty_after(i) {
            let mut junk = row(ctx, e, String::new());
            junk[1] = Cell::Blank;
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
