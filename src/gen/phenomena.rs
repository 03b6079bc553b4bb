//! What real county feeds have beyond the base population: out-of-county exam and testing
//! records, dormant shells, superseded tax records, reused names, same-name 个体工商户, odd roads.

// One stream of its own (`Purpose::Phenomena`), drawn after the base population is built, so
// the base draws are unchanged; each share below is of the base employers, not tuned to scores.

use std::collections::HashSet;

use chrono::{Duration, Months, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::address::RoadFrom;
use super::codes::{self, COUNTY};
use super::employer::{Employer, Kind, Registry, TaxStatus};
use super::industry::{self, Hazard, INDUSTRIES};
use super::names::{trade_name, NameParts, Region};
use super::population::{
    days_ago, evidence, filings, membership, new_employer, yearly_dates, Plan,
};
use super::rng::{chance, weighted};
use super::words::ROADS;

/// Shares of the base employers (each drawn once per employer).
pub const DORMANT: f64 = 0.02;
pub const SUPERSEDED: f64 = 0.03;
pub const NAME_REUSED: f64 = 0.01;
pub const SAME_NAME_INDIVIDUAL: f64 = 0.02;
pub const OUT_OF_COUNTY: f64 = 0.0075;
/// Shares of in-county addresses.
pub const VILLAGE_ROAD: f64 = 0.03;
pub const NO_TOWNSHIP: f64 = 0.02;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid constant date")
}

fn years_before(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(12 * years)).unwrap_or(d)
}

fn between(rng: &mut impl Rng, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    lo + Duration::days(rng.gen_range(0..=(hi - lo).num_days().max(0)))
}

/// Applies every phenomenon to the base `employers` (ids already set) and appends the new ones
/// (reused names, same-name twins, out-of-county employers), renumbering ids.
pub fn apply(plan: &Plan, rng: &mut ChaCha8Rng, employers: &mut Vec<Employer>) {
    let as_of = plan.as_of;
    let mut used: HashSet<String> = employers.iter().map(|e| e.org.clone()).collect();
    let mut extra: Vec<Employer> = Vec::new();
    for e in employers.iter_mut() {
        let u: f64 = rng.gen_range(0.0..1.0);
        let hazardous = INDUSTRIES[e.industry].hazard != Hazard::None;
        let active = matches!(e.registry, Registry::Active(_)) && e.stopped_on.is_none();
        let mut t = DORMANT;
        if u < t {
            if e.kind == Kind::Normal && active && e.established <= years_before(as_of, 3) {
                dormant(plan, rng, e);
            }
            continue;
        }
        t += SUPERSEDED;
        if u < t {
            if e.kind == Kind::Normal && active && e.pre_reform && !e.individual {
                e.superseded_tax = Some(between(
                    rng,
                    ymd(2016, 1, 1),
                    ymd(2019, 12, 31).min(years_before(as_of, 2)),
                ));
                e.in_tax = true;
                e.kind = Kind::Superseded;
            }
            continue;
        }
        t += NAME_REUSED;
        if u < t {
            if e.kind == Kind::Normal
                && !e.individual
                && hazardous
                && e.established <= years_before(as_of, 6)
            {
                extra.push(name_reused(plan, rng, &mut used, e));
            }
            continue;
        }
        t += SAME_NAME_INDIVIDUAL;
        if u < t {
            if e.kind == Kind::Individual
                && active
                && !e.name.bare
                && hazardous
                && plan.gaz.townships.len() > 1
            {
                extra.push(same_name_twin(plan, rng, &mut used, e));
            }
            continue;
        }
        t += OUT_OF_COUNTY;
        if u < t && !plan.gaz.neighbours.is_empty() {
            if let Some(f) = out_of_county(plan, rng, &mut used) {
                extra.push(f);
            }
        }
    }
    employers.extend(extra);
    for e in employers.iter_mut().filter(|e| e.in_county()) {
        odd_address(plan, rng, e);
    }
    for (i, e) in employers.iter_mut().enumerate() {
        e.id = (i + 1) as u32;
    }
}

/// 存续 and 正常, but the last return is 12–30 months old: stopped then.
fn dormant(plan: &Plan, rng: &mut ChaCha8Rng, e: &mut Employer) {
    let d = days_ago(plan.as_of, 366, 913, rng);
    e.registry = Registry::Active("存续");
    e.tax_status = TaxStatus::Normal;
    e.last_tax = Some(d);
    e.stopped_on = Some(d);
    e.revenue = 0;
    e.in_tax = true;
    e.filings.retain(|f| f.date <= d);
    e.exams.retain(|x| *x <= d);
    e.tests.retain(|x| *x <= d);
    e.kind = Kind::Dormant;
}

/// `a` is deregistered on a date years ago; a new company later registers its exact name.
fn name_reused(
    plan: &Plan,
    rng: &mut ChaCha8Rng,
    used: &mut HashSet<String>,
    a: &mut Employer,
) -> Employer {
    let as_of = plan.as_of;
    let d = between(
        rng,
        a.established + Duration::days(730),
        years_before(as_of, 2),
    );
    a.registry = Registry::Deregistered;
    a.tax_status = TaxStatus::Deregistered;
    a.last_tax = Some(d - Duration::days(rng.gen_range(0..60)));
    a.stopped_on = Some(d);
    a.revenue = 0;
    a.filings.retain(|f| f.date <= d);
    a.exams.retain(|x| *x < d);
    a.tests.retain(|x| *x < d);
    a.old_name = None;
    a.kind = Kind::NameReusedOld;
    let mut b = new_employer(plan, rng, used, a.industry, false, a.address.township);
    b.established = (d + Duration::days(rng.gen_range(60..=400))).min(as_of - Duration::days(60));
    b.pre_reform = b.established < ymd(2015, 10, 1);
    let (uscc, org) = fresh_code(rng, used, b.established, COUNTY);
    b.uscc = uscc;
    b.org = org;
    b.name = a.name.clone();
    b.old_name = None;
    b.kind = Kind::NameReusedNew;
    operating_now(plan, rng, &mut b);
    filings(plan, rng, &mut b);
    evidence(plan, rng, &mut b);
    if b.exams.is_empty() {
        let lo = start_of(as_of, 24).max(b.established + Duration::days(20));
        b.exams = yearly_dates(rng, lo, as_of, 2);
    }
    membership(plan, rng, &mut b);
    b
}

/// Another 个体工商户 of the same registered name in another township; both are examined, and
/// the clinics type the township into the name (`南安市官桥镇铭华汽修厂`).
fn same_name_twin(
    plan: &Plan,
    rng: &mut ChaCha8Rng,
    used: &mut HashSet<String>,
    a: &mut Employer,
) -> Employer {
    let n = plan.gaz.townships.len();
    let other = (a.address.township + rng.gen_range(1..n)) % n;
    let mut b = new_employer(plan, rng, used, a.industry, true, other);
    a.name.place = String::new();
    b.name = a.name.clone();
    a.kind = Kind::SameNameIndividual;
    b.kind = Kind::SameNameIndividual;
    operating_now(plan, rng, &mut b);
    filings(plan, rng, &mut b);
    membership(plan, rng, &mut b);
    for e in [a, &mut b] {
        if e.exams.is_empty() {
            let end = plan.as_of.min(e.stopped_on.unwrap_or(plan.as_of));
            let lo = start_of(plan.as_of, 24).max(e.established + Duration::days(20));
            e.exams = yearly_dates(rng, lo, end, 2);
        }
    }
    b
}

/// A neighbouring county's company (`晋江市瑞力锻压有限公司`), usually without a USCC, known here
/// only from exam and testing records.
fn out_of_county(
    plan: &Plan,
    rng: &mut ChaCha8Rng,
    used: &mut HashSet<String>,
) -> Option<Employer> {
    let weights = industry::weights();
    let ind = (0..20)
        .map(|_| weighted(rng, &weights))
        .find(|&i| INDUSTRIES[i].hazard != Hazard::None)?;
    let c = rng.gen_range(0..plan.gaz.neighbours.len());
    let n = &plan.gaz.neighbours[c];
    let mut e = new_employer(plan, rng, used, ind, false, 0);
    // Their records carry no code to tell two of one name apart: names are kept unique.
    e.name = (0..50)
        .map(|_| NameParts {
            region: Region::None,
            place: n.name.clone(),
            trade: trade_name(rng),
            branch: String::new(),
            foreign: true,
            ..e.name.clone()
        })
        .find(|p| used.insert(format!("name:{}", p.canonical())))?;
    e.old_name = None;
    e.kind = Kind::OutOfCounty;
    // Usually no USCC at all; sometimes one the other county's office issued.
    if chance(rng, 0.3) {
        let (uscc, org) = fresh_code(rng, used, e.established, &n.code);
        e.uscc = uscc;
        e.org = org;
    } else {
        e.uscc = String::new();
    }
    // The road may carry a local village's or township's name (`晋江市和平路18号`).
    let g = plan.gaz;
    e.address.county = Some(c);
    e.address.village = 0;
    e.address.road_from = match weighted(rng, &[35.0, 15.0, 50.0]) {
        0 => Some(RoadFrom::Village(rng.gen_range(0..g.villages.len()))),
        1 => Some(RoadFrom::Township(rng.gen_range(0..g.townships.len()))),
        _ => None,
    };
    if e.address.road.is_none() {
        e.address.road = Some(rng.gen_range(0..ROADS.len()));
    }
    operating_now(plan, rng, &mut e);
    e.filings.clear();
    e.in_tax = false;
    e.in_stats = false;
    let examined = chance(rng, 0.6);
    if examined {
        let lo = start_of(plan.as_of, 24).max(e.established + Duration::days(20));
        e.exams = yearly_dates(rng, lo, plan.as_of, 2);
    }
    if !examined || chance(rng, 0.4) {
        let lo = start_of(plan.as_of, 36).max(e.established + Duration::days(20));
        e.tests = yearly_dates(rng, lo, plan.as_of, 3);
    }
    Some(e)
}

/// A village's name as a road in another township (`新兴路`), or an address with no township.
fn odd_address(plan: &Plan, rng: &mut ChaCha8Rng, e: &mut Employer) {
    let g = plan.gaz;
    if chance(rng, VILLAGE_ROAD) {
        let v = rng.gen_range(0..g.villages.len());
        let elsewhere = !g.townships[e.address.township].villages.contains(&v);
        if elsewhere && !g.villages[v].stem.is_empty() {
            e.address.road_from = Some(RoadFrom::Village(v));
        }
    }
    if chance(rng, NO_TOWNSHIP) {
        e.address.bare = true;
        if e.address.road.is_none() {
            e.address.road = Some(rng.gen_range(0..ROADS.len()));
        }
    }
}

/// 存续, 正常, a return in the last weeks.
fn operating_now(plan: &Plan, rng: &mut ChaCha8Rng, e: &mut Employer) {
    e.registry = Registry::Active("存续");
    e.tax_status = TaxStatus::Normal;
    e.last_tax = Some(days_ago(plan.as_of, 3, 40, rng));
    e.stopped_on = None;
}

/// A USCC and organisation code not used before, registered in `region`.
fn fresh_code(
    rng: &mut ChaCha8Rng,
    used: &mut HashSet<String>,
    established: NaiveDate,
    region: &str,
) -> (String, String) {
    loop {
        let org = codes::org_code(&codes::org_body(rng, established, false));
        if used.insert(org.clone()) {
            return (codes::uscc('1', region, &org), org);
        }
    }
}

/// The day after `months` before `as_of`.
fn start_of(as_of: NaiveDate, months: u32) -> NaiveDate {
    as_of
        .checked_sub_months(Months::new(months))
        .unwrap_or(as_of)
        + Duration::days(1)
}
