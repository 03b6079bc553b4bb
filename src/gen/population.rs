//! Builds the county's employers: industry mix, skewed headcounts, hard-negative pairs, branches,
//! renames, life cycles, filings and exam/testing evidence. Pure: no I/O, one seeded stream.

use std::collections::HashSet;

use chrono::{Duration, Months, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::address::Address;
use super::codes::{self, COUNTY};
use super::employer::{
    six_months_before, thirteen_months_before, Employer, Filing, FilingKind, Kind, Registry,
    TaxStatus,
};
use super::gazetteer::Gazetteer;
use super::industry::{self, Hazard, Scale, INDUSTRIES};
use super::names::{near_trade, trade_name, NameParts, Region};
use super::rng::{chance, log_uniform, pick, weighted};
use super::words::{
    FACTORY_FORMS, GIVEN_CHARS, SERVICE_FORMS, SHOP_FORMS, SURNAMES, WORKSHOP_FORMS,
};

/// Everything needed to build the population.
pub struct Plan<'a> {
    pub employers: usize,
    pub as_of: NaiveDate,
    pub gaz: &'a Gazetteer,
    /// Date of the declaration register's newest export (no filing after it).
    pub declaration_export: NaiveDate,
}

/// Township weights: industrial towns (官桥, 水头, 石井, 仑苍, 丰州…) hold more employers.
pub(super) fn township_weight(name: &str) -> f64 {
    match name {
        "水头镇" | "官桥镇" | "溪美街道" => 3.0,
        "仑苍镇" | "石井镇" | "柳城街道" | "美林街道" | "康美镇" | "丰州镇" | "霞美镇"
        | "省新镇" => 2.0,
        "雪峰华侨经济开发区" => 1.5,
        _ => 1.0,
    }
}

pub fn build(plan: &Plan, rng: &mut ChaCha8Rng) -> Vec<Employer> {
    let town_w: Vec<f64> = plan
        .gaz
        .townships
        .iter()
        .map(|t| township_weight(&t.name))
        .collect();
    let ind_w = industry::weights();
    let mut used = HashSet::new();
    let mut out: Vec<Employer> = Vec::with_capacity(plan.employers);
    while out.len() < plan.employers {
        let ind = weighted(rng, &ind_w);
        let individual = chance(rng, INDUSTRIES[ind].individual);
        let township = weighted(rng, &town_w);
        let base = new_employer(plan, rng, &mut used, ind, individual, township);
        let room = plan.employers - out.len() - 1;
        let is_company = !base.individual;
        // Hard negatives: a distinct employer whose 字号 differs by one look-alike character.
        let sibling = if room >= 1 && !base.name.bare && chance(rng, 0.04) {
            let name = &base.name;
            let free = |t: &String, used: &mut HashSet<String>| {
                base.individual || used.insert(company_name_key(t, &name.words, &name.form))
            };
            let trade = near_trade(rng, &name.trade).filter(|t| free(t, &mut used));
            trade.map(|trade| {
                // Individuals' names carry the township, so their near twin works there too.
                let near_town = if base.individual || chance(rng, 0.5) {
                    township
                } else {
                    weighted(rng, &town_w)
                };
                let mut s = new_employer(plan, rng, &mut used, ind, base.individual, near_town);
                s.name = NameParts {
                    trade,
                    ..base.name.clone()
                };
                s.kind = Kind::HardNegative;
                s
            })
        } else {
            None
        };
        let mut base = base;
        if sibling.is_some() {
            base.kind = Kind::HardNegative;
        }
        let room = room - usize::from(sibling.is_some());
        // Branches: parent name + township + 分公司, each with its own USCC.
        let mut branches = Vec::new();
        if is_company && base.name.form.ends_with("公司") && room >= 1 && chance(rng, 0.025) {
            let n = rng.gen_range(1..=2usize).min(room);
            let mut towns_used = vec![township];
            for _ in 0..n {
                let t = weighted(rng, &town_w);
                if towns_used.contains(&t) {
                    continue;
                }
                towns_used.push(t);
                let mut b = new_employer(plan, rng, &mut used, ind, false, t);
                let earliest = base.established + Duration::days(60);
                if b.established < earliest {
                    b.established = earliest.min(plan.as_of - Duration::days(40));
                }
                b.name = NameParts {
                    branch: format!("{}分公司", plan.gaz.townships[t].short),
                    ..base.name.clone()
                };
                b.kind = Kind::Branch;
                branches.push(b);
            }
        }
        out.push(base);
        out.extend(sibling);
        out.extend(branches);
    }
    for (i, e) in out.iter_mut().enumerate() {
        e.id = (i + 1) as u32;
        life_cycle(plan, rng, e);
        filings(plan, rng, e);
        evidence(plan, rng, e);
        membership(plan, rng, e);
    }
    out
}

/// The key under which a company name is taken in `used` (next to organisation codes).
fn company_name_key(trade: &str, words: &str, form: &str) -> String {
    // 有限责任公司 and 有限公司 are one legal form, and so one name.
    let form = form.replace("有限责任公司", "有限公司");
    format!("name:{trade}{words}{form}")
}

/// A fresh employer with identity, place and size; life cycle comes later.
pub(super) fn new_employer(
    plan: &Plan,
    rng: &mut ChaCha8Rng,
    used: &mut HashSet<String>,
    ind: usize,
    individual: bool,
    township: usize,
) -> Employer {
    let industry = &INDUSTRIES[ind];
    let established = established_on(rng, plan.as_of);
    let pre_reform =
        established < NaiveDate::from_ymd_opt(2015, 10, 1).expect("valid constant date");
    let (uscc, org) = loop {
        let body = codes::org_body(rng, established, individual);
        let org = codes::org_code(&body);
        let region = if !individual && chance(rng, 0.05) {
            "350500"
        } else {
            COUNTY
        };
        let code = codes::uscc(if individual { '2' } else { '1' }, region, &org);
        if used.insert(org.clone()) {
            break (code, org);
        }
    };
    let address = Address::random(rng, plan.gaz, township);
    let legal_rep = person_name(rng);
    let words = pick(rng, industry.words).to_string();
    let words_for_form = words.clone();
    let name = if individual {
        let bare = chance(rng, 0.08);
        let trade = if bare || chance(rng, 0.3) {
            legal_rep.clone()
        } else {
            trade_name(rng)
        };
        let t = &plan.gaz.townships[township];
        let mut place = t.name.clone();
        if chance(rng, 0.3) {
            let v = &plan.gaz.villages[address.village];
            if !v.stem.is_empty() {
                place.push_str(&v.stem);
                place.push_str(v.kind);
            }
        }
        NameParts {
            region: if chance(rng, 0.85) {
                Region::Prefix("南安市")
            } else {
                Region::None
            },
            place,
            trade,
            words,
            form: individual_form(rng, industry.scale, &words_for_form),
            branch: String::new(),
            bare,
            foreign: false,
        }
    } else {
        let table = match industry.scale {
            Scale::Factory => FACTORY_FORMS,
            Scale::Service => SERVICE_FORMS,
        };
        let forms: Vec<f64> = table.iter().map(|f| f.1).collect();
        let mut form = table[weighted(rng, &forms)].0.to_string();
        // No `物业服务服务有限公司`: a form word the industry words already carry is dropped.
        let head = form.trim_end_matches("有限公司");
        if !head.is_empty() && words.contains(head) {
            form = "有限公司".to_string();
        }
        let region = match weighted(rng, &[60.0, 12.0, 8.0, 20.0]) {
            0 => Region::Prefix("南安市"),
            1 => Region::Prefix("福建省南安市"),
            // `华兴（南安）石材有限公司`: only companies bracket the region.
            2 if form.ends_with("公司") => Region::Bracket,
            2 => Region::Prefix("南安市"),
            _ => Region::None,
        };
        // A company's name (字号, industry words and form) is unique in its registration area
        // by law: a namesake is drawn again (a county too big for the name stock keeps one).
        let trade = (0..1000)
            .map(|_| trade_name(rng))
            .find(|t| used.insert(company_name_key(t, &words, &form)))
            .unwrap_or_else(|| trade_name(rng));
        NameParts {
            region,
            place: String::new(),
            trade,
            words,
            form,
            branch: String::new(),
            bare: false,
            foreign: false,
        }
    };
    let headcount = headcount(rng, industry.scale, individual);
    let per_head: u64 = match industry.scale {
        Scale::Factory => rng.gen_range(150_000..600_000),
        Scale::Service => rng.gen_range(80_000..400_000),
    };
    let mut e = Employer {
        id: 0,
        kind: if individual {
            Kind::Individual
        } else {
            Kind::Normal
        },
        individual,
        name,
        old_name: None,
        uscc,
        org,
        pre_reform,
        established,
        industry: ind,
        headcount,
        address,
        legal_rep,
        registry: Registry::Active("存续"),
        tax_status: TaxStatus::Normal,
        last_tax: None,
        stopped_on: None,
        revenue: per_head * u64::from(headcount),
        filings: Vec::new(),
        exams: Vec::new(),
        tests: Vec::new(),
        in_tax: true,
        in_stats: false,
        superseded_tax: None,
    };
    // Renamed companies: the old 字号 lingers in some feeds.
    if !individual && chance(rng, 0.02) {
        let days = (plan.as_of - established).num_days();
        if days > 400 {
            let renamed = established + Duration::days(rng.gen_range(200..days - 30));
            let old = NameParts {
                trade: trade_name(rng),
                ..e.name.clone()
            };
            e.old_name = Some((old, renamed));
            e.kind = Kind::Renamed;
        }
    }
    e
}

/// The form of a 个体工商户 name: workshops are 厂/加工厂/经营部; shops whose words already name
/// the shop (`超市`, `酒店`, `大药房`) mostly carry no further form.
fn individual_form(rng: &mut impl Rng, scale: Scale, words: &str) -> String {
    match scale {
        Scale::Factory => (*pick(rng, WORKSHOP_FORMS)).to_string(),
        Scale::Service => {
            let named = [
                "超市", "店", "房", "楼", "小吃", "快餐", "美发", "美容", "广场", "商场",
            ]
            .iter()
            .any(|w| words.ends_with(w));
            if named && chance(rng, 0.8) {
                String::new()
            } else {
                (*pick(rng, SHOP_FORMS)).to_string()
            }
        }
    }
}

pub fn person_name(rng: &mut impl Rng) -> String {
    let mut s = (*pick(rng, SURNAMES)).to_string();
    let given: &&str = pick(rng, GIVEN_CHARS);
    s.push_str(given);
    if chance(rng, 0.75) {
        let given: &&str = pick(rng, GIVEN_CHARS);
        s.push_str(given);
    }
    s
}

fn established_on(rng: &mut impl Rng, as_of: NaiveDate) -> NaiveDate {
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid constant date");
    let (from, to) = match weighted(rng, &[10.0, 35.0, 55.0]) {
        0 => (ymd(1995, 1, 1), ymd(2005, 12, 31)),
        1 => (ymd(2006, 1, 1), ymd(2015, 12, 31)),
        _ => (ymd(2016, 1, 1), as_of - Duration::days(40)),
    };
    let span = (to - from).num_days().max(1);
    from + Duration::days(rng.gen_range(0..span))
}

fn headcount(rng: &mut impl Rng, scale: Scale, individual: bool) -> u32 {
    if individual {
        return if chance(rng, 0.85) {
            log_uniform(rng, 1, 9)
        } else {
            log_uniform(rng, 10, 30)
        };
    }
    let (weights, bands): (&[f64], &[(u32, u32)]) = match scale {
        Scale::Factory => (
            &[40.0, 38.0, 17.0, 4.5, 0.5],
            &[(1, 9), (10, 49), (50, 199), (200, 999), (1000, 3000)],
        ),
        Scale::Service => (
            &[65.0, 28.0, 6.0, 1.0],
            &[(1, 9), (10, 49), (50, 199), (200, 600)],
        ),
    };
    let (lo, hi) = bands[weighted(rng, weights)];
    log_uniform(rng, lo, hi)
}

pub(super) fn days_ago(as_of: NaiveDate, lo: i64, hi: i64, rng: &mut impl Rng) -> NaiveDate {
    as_of - Duration::days(rng.gen_range(lo..=hi))
}

/// Registry and tax status, last tax return, and when (if ever) the employer stopped.
pub(super) fn life_cycle(plan: &Plan, rng: &mut ChaCha8Rng, e: &mut Employer) {
    let as_of = plan.as_of;
    let age = (as_of - e.established).num_days();
    let active = |rng: &mut ChaCha8Rng, e: &mut Employer| {
        e.registry = Registry::Active(if chance(rng, 0.7) { "存续" } else { "在业" });
        e.tax_status = TaxStatus::Normal;
        e.last_tax = Some(days_ago(as_of, 3, 40, rng));
        e.stopped_on = None;
    };
    match weighted(rng, &[74.0, 8.0, 4.0, 4.0, 5.0, 4.0, 1.0]) {
        1 if age > 250 => {
            let d = e.established + Duration::days(rng.gen_range(180..age - 30));
            e.registry = Registry::Deregistered;
            e.tax_status = TaxStatus::Deregistered;
            e.last_tax = Some(d - Duration::days(rng.gen_range(0..60)));
            e.stopped_on = Some(d);
        }
        2 if age > 500 => {
            let d = e.established + Duration::days(rng.gen_range(90..age - 400));
            e.registry = Registry::Revoked;
            e.tax_status = if chance(rng, 0.6) {
                TaxStatus::Abnormal
            } else {
                TaxStatus::Deregistered
            };
            e.last_tax = Some(d);
            e.stopped_on = Some(d);
        }
        3 if age > 800 => {
            // 停业/歇业: stopped any time in the last two years (some within 6 months).
            let d = days_ago(as_of, 20, 720, rng);
            e.registry = Registry::Suspended(if chance(rng, 0.8) { "停业" } else { "歇业" });
            e.tax_status = TaxStatus::Suspended;
            e.last_tax = Some(d);
            e.stopped_on = Some(d);
        }
        4 if age > 1100 => {
            // Stopped quietly more than 6 months ago: still 存续, tax 非正常.
            let d = days_ago(as_of, 200, 1000, rng);
            e.registry = Registry::Active("存续");
            e.tax_status = TaxStatus::Abnormal;
            e.last_tax = Some(d);
            e.stopped_on = Some(d);
        }
        5 if age > 200 => {
            // Stopped 3–6 months ago: 非正常, but still counts under the 6-month rule.
            let d = days_ago(as_of, 95, 175, rng);
            e.registry = Registry::Active("存续");
            e.tax_status = TaxStatus::Abnormal;
            e.last_tax = Some(d);
            e.stopped_on = Some(d);
        }
        6 if age > 400 => {
            let d = days_ago(as_of, 30, 900, rng).max(e.established + Duration::days(200));
            e.registry = Registry::MovedOut;
            e.tax_status = TaxStatus::Deregistered;
            e.last_tax = Some(d);
            e.stopped_on = Some(d);
        }
        _ => active(rng, e),
    }
    if let Some(d) = e.stopped_on {
        // Revenue over the last 12 months shrinks with the time since stopping.
        let idle = (as_of - d).num_days().clamp(0, 365) as u64;
        e.revenue = e.revenue * (365 - idle) / 365;
    }
}

/// Filing history: 初次申报, then 年度更新 about yearly, sometimes a 变更申报.
pub(super) fn filings(plan: &Plan, rng: &mut ChaCha8Rng, e: &mut Employer) {
    let industry = &INDUSTRIES[e.industry];
    let (p_current, p_lapsed) = match industry.hazard {
        Hazard::Severe => (0.40, 0.15),
        Hazard::General => (0.18, 0.10),
        Hazard::None => (0.01, 0.005),
    };
    let size = match e.headcount {
        0..=9 => 0.5,
        10..=49 => 1.0,
        _ => 1.5,
    } * if e.individual { 0.5 } else { 1.0 };
    let u: f64 = rng.gen_range(0.0..1.0);
    let target = if u < p_current * size {
        "current"
    } else if u < (p_current + p_lapsed) * size {
        "lapsed"
    } else {
        return;
    };
    let floor = (e.established + Duration::days(30))
        .max(NaiveDate::from_ymd_opt(2016, 1, 1).expect("valid constant date"));
    let ceiling = plan
        .declaration_export
        .min(e.stopped_on.unwrap_or(plan.declaration_export));
    let cut = thirteen_months_before(plan.as_of);
    let (lo, hi) = if target == "current" && ceiling >= cut {
        (floor.max(cut), ceiling)
    } else {
        (floor, ceiling.min(cut - Duration::days(1)))
    };
    if lo > hi {
        return;
    }
    let last = lo + Duration::days(rng.gen_range(0..=(hi - lo).num_days()));
    let mut dates = vec![last];
    let mut d = last;
    while chance(rng, 0.75) {
        let Some(prev) = d.checked_sub_months(Months::new(12)) else {
            break;
        };
        let prev = prev + Duration::days(rng.gen_range(-25..=10));
        if prev < floor {
            break;
        }
        dates.push(prev);
        d = prev;
    }
    dates.reverse();
    let mut list: Vec<Filing> = dates
        .iter()
        .enumerate()
        .map(|(i, &date)| Filing {
            date,
            kind: if i == 0 {
                FilingKind::First
            } else {
                FilingKind::Annual
            },
        })
        .collect();
    if list.len() >= 2 && chance(rng, 0.2) {
        let i = rng.gen_range(1..list.len());
        let (a, b) = (list[i - 1].date, list[i].date);
        let gap = (b - a).num_days();
        if gap > 20 {
            let date = a + Duration::days(rng.gen_range(10..gap - 5));
            list.insert(
                i,
                Filing {
                    date,
                    kind: FilingKind::Change,
                },
            );
        }
    }
    e.filings = list;
}

/// Exam sessions (within 24 months) and testing reports (within 36) for hazardous employers.
pub(super) fn evidence(plan: &Plan, rng: &mut ChaCha8Rng, e: &mut Employer) {
    let industry = &INDUSTRIES[e.industry];
    let (p_exam, p_test) = match industry.hazard {
        Hazard::Severe => (0.35, 0.25),
        Hazard::General => (0.15, 0.10),
        Hazard::None => return,
    };
    let status = match e.filing_status(plan.as_of) {
        "current" => 1.8,
        "lapsed" => 1.2,
        _ => 0.8,
    };
    let size = match e.headcount {
        0..=9 => 0.35,
        10..=49 => 1.0,
        50..=199 => 1.6,
        _ => 2.2,
    } * if e.individual { 0.5 } else { 1.0 };
    let end = plan.as_of.min(e.stopped_on.unwrap_or(plan.as_of));
    let start_of = |months: u32| {
        plan.as_of
            .checked_sub_months(Months::new(months))
            .unwrap_or(plan.as_of)
            + Duration::days(1)
    };
    if chance(rng, p_exam * status * size) {
        e.exams = yearly_dates(
            rng,
            start_of(24).max(e.established + Duration::days(20)),
            end,
            2,
        );
    }
    if chance(rng, p_test * status * size) {
        e.tests = yearly_dates(
            rng,
            start_of(36).max(e.established + Duration::days(20)),
            end,
            3,
        );
    }
}

/// Up to `max` dates about a year apart within `lo..=hi`, ascending.
pub(super) fn yearly_dates(
    rng: &mut impl Rng,
    lo: NaiveDate,
    hi: NaiveDate,
    max: usize,
) -> Vec<NaiveDate> {
    if lo > hi {
        return Vec::new();
    }
    let mut d = lo + Duration::days(rng.gen_range(0..=(hi - lo).num_days()));
    // Lean towards the recent end: most employers examine yearly.
    if chance(rng, 0.6) {
        d = d.max(hi - Duration::days(rng.gen_range(0..=330)));
        d = d.max(lo);
    }
    let mut out = vec![d];
    while out.len() < max && chance(rng, 0.65) {
        let Some(prev) = d.checked_sub_months(Months::new(12)) else {
            break;
        };
        let prev = prev + Duration::days(rng.gen_range(-20..=20));
        if prev < lo {
            break;
        }
        out.push(prev);
        d = prev;
    }
    out.reverse();
    out
}

/// Which of tax and statistics know the employer (market knows everyone).
pub(super) fn membership(plan: &Plan, rng: &mut ChaCha8Rng, e: &mut Employer) {
    let long_gone = e
        .stopped_on
        .is_some_and(|d| d < six_months_before(plan.as_of) - Duration::days(900));
    let gone = matches!(e.registry, Registry::Deregistered | Registry::MovedOut);
    let mut p_tax = if e.individual { 0.75 } else { 0.9 };
    if gone && long_gone {
        p_tax *= 0.5;
    }
    e.in_tax = chance(rng, p_tax);
    let mut p_stats = match e.headcount {
        0..=9 => 0.08,
        10..=19 => 0.35,
        20..=49 => 0.7,
        _ => 0.92,
    } * if e.individual { 0.3 } else { 1.0 };
    if gone {
        p_stats *= 0.1;
    } else if e.registry == Registry::Revoked {
        p_stats *= 0.3;
    }
    e.in_stats = chance(rng, p_stats);
}
