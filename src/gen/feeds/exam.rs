//! 职业健康检查 feed: monthly GBK CSV exports from clinics, one row per examined worker, with
//! fake names and ID numbers. Each employer appears under one typed name and one code cell.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::super::codes::id_number;
use super::super::employer::{Employer, Kind};
use super::super::industry::INDUSTRIES;
use super::super::names::Typist;
use super::super::population::person_name;
use super::super::rng::{chance, pick, stream, weighted, Purpose};
use super::super::sink::{CsvSink, Encoding};
use super::super::truth::Truth;
use super::super::GenError;
use super::{chinese_date, code_cell, factors, Ctx, Damage, FeedOutput, Keys, BAD_DATE};

pub const CONNECTOR: &str = "exam";

pub const HEADERS: &[&str] = &[
    "体检编号",
    "姓名",
    "性别",
    "身份证号",
    "用人单位名称",
    "用人单位统一社会信用代码",
    "体检类别",
    "体检日期",
    "接触危害因素",
    "体检结论",
];

/// Most workers examined in one session.
const MAX_WORKERS: u32 = 300;

/// An examined worker (fake).
struct Worker {
    name: String,
    male: bool,
    id: String,
}

fn workers(ctx: &Ctx, e: &Employer) -> Vec<Worker> {
    let n = worker_count(ctx, e);
    // Continue the same stream past the draw `worker_count` made.
    let mut rng = stream(ctx.seed, u64::from(e.id), Purpose::Workers);
    let _: f64 = rng.gen_range(0.7..1.0);
    (0..n)
        .map(|_| {
            let male = chance(&mut rng, 0.65);
            let birth = NaiveDate::from_ymd_opt(
                rng.gen_range(1965..2004),
                rng.gen_range(1..=12),
                rng.gen_range(1..=28),
            )
            .expect("day 1–28 exists in every month");
            Worker {
                name: person_name(&mut rng),
                male,
                id: id_number(&mut rng, birth, male),
            }
        })
        .collect()
}

/// The one (name, code) pair an employer appears under in this feed.
fn identity(ctx: &Ctx, e: &Employer, keys: &mut Keys) -> (String, String) {
    let mut rng = stream(ctx.seed, u64::from(e.id), Purpose::ExamKey);
    let latest = e.exams.last().copied().unwrap_or(ctx.as_of);
    // A renamed employer is often still booked under its old name for a while.
    let parts = match &e.old_name {
        Some((old, renamed))
            if latest < *renamed + Duration::days(365) && chance(&mut rng, 0.7) =>
        {
            old
        }
        _ => &e.name,
    };
    let mut name = parts.variant(&mut rng, Typist::Typed);
    if e.kind == Kind::SameNameIndividual {
        // Two 个体工商户 share the name: the clinic adds the township (`南安市官桥镇铭华汽修厂`).
        let township = &ctx.gaz.townships[e.address.township].name;
        name = format!(
            "南安市{township}{}{}{}",
            parts.trade, parts.words, parts.form
        );
    }
    let code = code_cell(&mut rng, e, 0.5, 0.05);
    if keys.claim(&format!("{name}|{code}")) {
        (name, code)
    } else {
        // Another employer already shows exactly this way: this one's clinic typed it properly.
        let (name, code) = (e.name.canonical(), e.uscc.clone());
        keys.claim(&format!("{name}|{code}"));
        (name, code)
    }
}

pub fn write(ctx: &Ctx, truth: &mut Truth) -> Result<FeedOutput, GenError> {
    let dir = ctx.dir(CONNECTOR)?;
    let mut keys = Keys::default();
    let mut ids: Vec<Option<(String, String)>> = vec![None; ctx.employers.len()];
    // Sessions by date, then employer: the clinics' monthly exports are in date order.
    let mut sessions: Vec<(NaiveDate, usize)> = Vec::new();
    for (i, e) in ctx.employers.iter().enumerate() {
        if e.exams.is_empty() {
            continue;
        }
        let (name, code) = identity(ctx, e, &mut keys);
        truth.record(CONNECTOR, &format!("{name}|{code}"), e)?;
        ids[i] = Some((name, code));
        sessions.extend(e.exams.iter().map(|d| (*d, i)));
    }
    sessions.sort();
    let total: usize = sessions
        .iter()
        .map(|(d, i)| session(ctx, &ctx.employers[*i], *d).1)
        .sum();
    let mut rng = stream(ctx.seed, 3, Purpose::BadRows);
    let mut damage = Damage::plan(&mut rng, total);
    let mut by_month: BTreeMap<(i32, u32), Vec<(NaiveDate, usize)>> = BTreeMap::new();
    for s in sessions {
        by_month
            .entry((s.0.year(), s.0.month()))
            .or_default()
            .push(s);
    }
    let mut files = Vec::new();
    let mut rows = 0;
    let mut n = 0usize;
    for ((year, month), sessions) in by_month {
        let path = dir.join(format!("体检台账_{year:04}-{month:02}.csv"));
        let mut sink = CsvSink::create(&path, Encoding::Gbk, HEADERS)?;
        let mut seq: BTreeMap<NaiveDate, u32> = BTreeMap::new();
        for (date, i) in sessions {
            let e = &ctx.employers[i];
            let (name, code) = ids[i]
                .clone()
                .expect("identity set for every examined employer");
            let (mut rng, take) = session(ctx, e, date);
            let all = workers(ctx, e);
            let hazards = factors(&mut rng, INDUSTRIES[e.industry].factors, 3, "、");
            for (k, w) in all.iter().take(take).enumerate() {
                let no = seq.entry(date).or_insert(0);
                *no += 1;
                let kind = match weighted(&mut rng, &[85.0, 12.0, 3.0]) {
                    0 => "在岗期间",
                    1 => "上岗前",
                    _ => "离岗时",
                };
                let verdict = match weighted(&mut rng, &[75.0, 15.0, 7.0, 2.0, 1.0]) {
                    0 => "目前未见异常",
                    1 => "其他疾病或异常",
                    2 => "复查",
                    3 => "职业禁忌证",
                    _ => "疑似职业病",
                };
                let bad_date = damage.date(n, k > 0);
                let cells = [
                    format!("TJ{}{:05}", date.format("%Y%m%d"), no),
                    w.name.clone(),
                    if w.male { "男" } else { "女" }.to_string(),
                    w.id.clone(),
                    name.clone(),
                    code.clone(),
                    kind.to_string(),
                    if bad_date {
                        BAD_DATE.to_string()
                    } else {
                        chinese_date(date)
                    },
                    hazards.clone(),
                    verdict.to_string(),
                ];
                sink.row(&cells)?;
                if bad_date {
                    truth.bad_row(
                        CONNECTOR,
                        &path,
                        sink.rows,
                        "impossible 体检日期",
                        Some(e),
                        true,
                    )?;
                }
                if damage.empty_after(n) {
                    let mut junk = cells.clone();
                    junk[0] = format!("TJ{}{:05}", date.format("%Y%m%d"), 90_000 + *no);
                    junk[4].clear();
                    junk[5].clear();
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
                if damage.ragged_after(n) {
                    // A conclusion typed with a half-width comma splits the last field.
                    let mut broken = cells.clone();
                    broken[0] = format!("TJ{}{:05}", date.format("%Y%m%d"), 95_000 + *no);
                    broken[9] = format!("{},建议复查", pick(&mut rng, &["其他疾病或异常", "复查"]));
                    sink.raw_line(&broken.join(","))?;
                    truth.bad_row(
                        CONNECTOR,
                        &path,
                        sink.rows,
                        "wrong number of fields",
                        Some(e),
                        false,
                    )?;
                }
                n += 1;
            }
        }
        let (path, r) = sink.finish()?;
        rows += r;
        files.push(path);
    }
    Ok(FeedOutput {
        feed: CONNECTOR,
        files,
        rows,
    })
}

/// A session's random stream and how many of the employer's workers it examines.
fn session(ctx: &Ctx, e: &Employer, date: NaiveDate) -> (ChaCha8Rng, usize) {
    let day = date.num_days_from_ce().max(0) as u64;
    let mut rng = stream(ctx.seed, u64::from(e.id) | (day << 32), Purpose::Exam);
    let all = worker_count(ctx, e);
    let take = ((all as f64) * rng.gen_range(0.6..=1.0)).ceil() as usize;
    (rng, take.clamp(1, all))
}

/// How many of the employer's workers are exposed (and examined at most).
fn worker_count(ctx: &Ctx, e: &Employer) -> usize {
    let mut rng = stream(ctx.seed, u64::from(e.id), Purpose::Workers);
    let exposed = f64::from(e.headcount) * INDUSTRIES[e.industry].exposed * rng.gen_range(0.7..1.0);
    (exposed.ceil() as u32).clamp(1, MAX_WORKERS) as usize
}
