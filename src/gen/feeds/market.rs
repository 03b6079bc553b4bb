//! 市场监管 feed: the market register as one dated CSV in UTF-8 with a BOM, every employer
//! including deregistered ones, canonical names and valid codes. One row per employer.

use super::super::employer::{Employer, Registry};
use super::super::industry::INDUSTRIES;
use super::super::rng::{stream, Purpose};
use super::super::sink::{CsvSink, Encoding};
use super::super::truth::Truth;
use super::super::GenError;
use super::{Ctx, Damage, FeedOutput, BAD_DATE};

pub const CONNECTOR: &str = "market";

pub const HEADERS: &[&str] = &[
    "统一社会信用代码",
    "企业名称",
    "市场主体类型",
    "法定代表人",
    "住所",
    "登记状态",
    "成立日期",
    "行业代码",
    "行业名称",
    "登记机关",
];

fn entity_type(e: &Employer) -> &'static str {
    if e.individual {
        "个体工商户"
    } else if !e.name.branch.is_empty() {
        "有限责任公司分公司(自然人投资或控股)"
    } else if e.name.form.ends_with("股份有限公司") {
        "股份有限公司(非上市、自然人投资或控股)"
    } else if e.name.form.ends_with("公司") {
        "有限责任公司(自然人投资或控股)"
    } else {
        "个人独资企业"
    }
}

/// The deregistration (or revocation) date column real exports carry; written with the
/// phenomena only, so the bundled sample keeps its layout.
pub const DEREGISTERED: &str = "注销日期";

fn cells(ctx: &Ctx, e: &Employer) -> Vec<String> {
    let ind = &INDUSTRIES[e.industry];
    let mut row = vec![
        e.uscc.clone(),
        e.name.canonical(),
        entity_type(e).to_string(),
        e.legal_rep.clone(),
        e.address.canonical(ctx.gaz),
        e.registry.label().to_string(),
        e.established.to_string(),
        format!("{}{}", ind.section, ind.code),
        ind.name.to_string(),
        if e.uscc[2..8] == *"350500" {
            "泉州市市场监督管理局".to_string()
        } else {
            "南安市市场监督管理局".to_string()
        },
    ];
    if ctx.phenomena {
        let gone = matches!(e.registry, Registry::Deregistered | Registry::Revoked);
        row.push(
            e.stopped_on
                .filter(|_| gone)
                .map(|d| d.to_string())
                .unwrap_or_default(),
        );
    }
    row
}

pub fn write(ctx: &Ctx, truth: &mut Truth) -> Result<FeedOutput, GenError> {
    let dir = ctx.dir(CONNECTOR)?;
    let path = dir.join(format!(
        "市场主体登记信息_{}.csv",
        ctx.as_of.format("%Y%m%d")
    ));
    let mut headers = HEADERS.to_vec();
    if ctx.phenomena {
        headers.push(DEREGISTERED);
    }
    let mut sink = CsvSink::create(&path, Encoding::Utf8Bom, &headers)?;
    // The register exports in order of establishment.
    // Other counties' employers are not in this county's register.
    let mut order: Vec<&Employer> = ctx.employers.iter().filter(|e| e.in_county()).collect();
    order.sort_by_key(|e| (e.established, e.id));
    let mut rng = stream(ctx.seed, 0, Purpose::BadRows);
    let mut damage = Damage::plan(&mut rng, order.len());
    for (i, e) in order.iter().enumerate() {
        let mut row = cells(ctx, e);
        if damage.date(i, true) {
            row[6] = BAD_DATE.to_string();
            sink.row(&row)?;
            truth.bad_row(
                CONNECTOR,
                &path,
                sink.rows,
                "impossible 成立日期",
                Some(e),
                true,
            )?;
        } else {
            sink.row(&row)?;
        }
        truth.record(CONNECTOR, &e.uscc, e)?;
        if damage.empty_after(i) {
            let mut junk = cells(ctx, e);
            junk[0].clear();
            junk[1].clear();
            junk[3].clear();
            junk[5] = Registry::Active("存续").label().to_string();
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
            // A stray half-width comma in the address splits it into two fields.
            let mut cells = cells(ctx, e);
            let township = &ctx.gaz.townships[e.address.township].name;
            cells[4] = cells[4].replacen(township.as_str(), &format!("{township},"), 1);
            sink.raw_line(&cells.join(","))?;
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
