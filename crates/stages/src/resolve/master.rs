//! The master record: one employer's facts folded from every observation that joined it.
//! Which feed wins for which fact is decided here, once, and nowhere else.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::fusion::{choose, rank, FusionRule, FusionRules, Provenance};
use crate::domain::{EntityId, Feed, IndustryCode, Observation, Uscc};

/// One employer in the master list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MasterRecord {
    pub entity_id: EntityId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<Uscc>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_rep: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_code: Option<IndustryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_status: Option<String>,
    /// The earliest registration (establishment) date any registry, tax or statistics
    /// record gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tax_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headcount: Option<u32>,
    /// 营业收入, 万元 (statistics first, then tax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exam: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_test: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceedances: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazard_factors: Vec<String>,
    /// Headcount from the statistics, tax or market feeds only (not the declaration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_headcount: Option<u32>,
    /// What the latest declaration says: headcount, industry and hazard factors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_headcount: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_industry: Option<IndustryCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declared_factors: Vec<String>,
    /// Hazard factors found by testing reports or exams (what the declaration should list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub found_factors: Vec<String>,
    /// Latest declaration or update date across the declaration register's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_filed: Option<NaiveDate>,
    /// Feeds that contributed, in `Feed` order, without repeats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feeds: Vec<Feed>,
    /// Every address any member gave (for placement).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    pub members: usize,
    /// Which record each fused fact came from (the rule is `[fusion]`'s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provenance: Vec<Provenance>,
}

impl MasterRecord {
    /// Whether any record comes from this county's registers (market, tax, statistics).
    pub fn has_registry_record(&self) -> bool {
        self.feeds
            .iter()
            .any(|f| matches!(f, Feed::Market | Feed::Tax | Feed::Statistics))
    }

    /// The record a fact came from, if the fact was fused.
    pub fn source_of(&self, fact: &str) -> Option<&Provenance> {
        self.provenance.iter().find(|p| p.fact == fact)
    }
}

/// Feeds in the order their word counts for identity facts (name, address, industry).
const IDENTITY_ORDER: [Feed; 7] = [
    Feed::Market,
    Feed::Statistics,
    Feed::Tax,
    Feed::Declaration,
    Feed::Testing,
    Feed::Exam,
    Feed::Other,
];

/// The first value in `order` of feeds that any member has.
fn pick<T: Clone>(
    members: &[&Observation],
    order: &[Feed],
    get: impl Fn(&Observation) -> Option<T>,
) -> Option<T> {
    let mut best: Option<(usize, T)> = None;
    for o in members {
        if let Some(v) = get(o) {
            let r = rank(o.feed, order);
            if best.as_ref().is_none_or(|(br, _)| r < *br) {
                best = Some((r, v));
            }
        }
    }
    best.map(|(_, v)| v)
}

fn latest(
    members: &[&Observation],
    feed: Feed,
    get: impl Fn(&Observation) -> Option<NaiveDate>,
) -> Option<NaiveDate> {
    members
        .iter()
        .filter(|o| o.feed == feed)
        .filter_map(|o| get(o))
        .max()
}

/// Every hazard factor the members of the feeds `keep` list, in order, without repeats.
fn factors_of(members: &[&Observation], keep: impl Fn(Feed) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in members.iter().filter(|o| keep(o.feed)) {
        for f in &o.hazard_factors {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
    }
    out
}

/// Records what fact came from which record.
struct Facts {
    provenance: Vec<Provenance>,
}

impl Facts {
    fn take<T: Clone + PartialEq>(
        &mut self,
        fact: &str,
        members: &[&Observation],
        rule: FusionRule,
        order: &[Feed],
        get: impl Fn(&Observation) -> Option<T>,
    ) -> Option<T> {
        let (value, o) = choose(members, rule, order, get)?;
        self.note(fact, o);
        Some(value)
    }

    fn note(&mut self, fact: &str, o: &Observation) {
        self.provenance.push(Provenance {
            fact: fact.to_string(),
            source: o.source.clone(),
            feed: o.feed,
            record_key: o.record_key.clone(),
            date: super::fusion::record_date(o),
        });
    }
}

/// The records no newer record of the same register (market, tax, statistics) supersedes:
/// of two tax records of one employer (an old 15-digit number and the current USCC), only the
/// one with the latest date speaks for it. Other feeds' records are all current.
fn current<'o>(members: &[&'o Observation]) -> Vec<&'o Observation> {
    let newest = |feed: Feed| {
        members
            .iter()
            .filter(|o| o.feed == feed)
            .filter_map(|o| super::fusion::record_date(o))
            .max()
    };
    let newest: Vec<(Feed, Option<NaiveDate>)> = [Feed::Market, Feed::Tax, Feed::Statistics]
        .into_iter()
        .map(|f| (f, newest(f)))
        .collect();
    members
        .iter()
        .filter(|o| match newest.iter().find(|(f, _)| *f == o.feed) {
            Some((_, Some(latest))) => super::fusion::record_date(o) >= Some(*latest),
            _ => true,
        })
        .copied()
        .collect()
}

/// Folds the observations of one entity into its master record; `rules` say which record
/// decides each fact, and a superseded record decides none.
pub fn fold(entity_id: &EntityId, all: &[&Observation], rules: &FusionRules) -> MasterRecord {
    let current = current(all);
    let members = &current[..];
    let mut facts = Facts {
        provenance: Vec::new(),
    };
    let uscc = pick(members, &IDENTITY_ORDER, |o| {
        o.uscc.clone().filter(Uscc::is_valid)
    })
    .or_else(|| pick(members, &IDENTITY_ORDER, |o| o.uscc.clone()));
    let headcount_order = [Feed::Statistics, Feed::Tax, Feed::Declaration, Feed::Market];
    // A register writes 0 workers for an employer that stopped or did not report: not a count
    // of workers while another record gives one (an employer stopped less than six months ago
    // still counts, with the workers it had).
    let headcount = facts
        .take(
            "headcount",
            members,
            rules.headcount,
            &headcount_order,
            |o| o.headcount.filter(|&h| h > 0),
        )
        .or_else(|| {
            facts.take(
                "headcount",
                members,
                rules.headcount,
                &headcount_order,
                |o| o.headcount,
            )
        });
    // Workers examined is a floor for the number of workers.
    let examined = members
        .iter()
        .filter(|o| o.feed == Feed::Exam)
        .filter_map(|o| o.evidence_count)
        .max();
    let headcount = match (headcount, examined) {
        (Some(h), Some(e)) => Some(h.max(e)),
        (h, e) => h.or(e),
    };
    let mut feeds: Vec<Feed> = all.iter().map(|o| o.feed).collect();
    feeds.sort();
    feeds.dedup();
    let factors = factors_of(members, |_| true);
    let found_factors = factors_of(members, |f| matches!(f, Feed::Testing | Feed::Exam));
    // The latest declaration record speaks for the declaration.
    let declaration = members
        .iter()
        .filter(|o| o.feed == Feed::Declaration)
        .max_by_key(|o| o.last_filed());
    // Addresses for placement: the chosen one first, then the others by feed rank.
    let mut addresses: Vec<String> = Vec::new();
    if let Some(a) = facts.take("address", members, rules.address, &IDENTITY_ORDER, |o| {
        o.address.clone()
    }) {
        addresses.push(a);
    }
    let mut by_rank: Vec<&&Observation> = all.iter().collect();
    by_rank.sort_by_key(|o| rank(o.feed, &IDENTITY_ORDER));
    for o in &by_rank {
        if let Some(a) = &o.address {
            if !addresses.contains(a) {
                addresses.push(a.clone());
            }
        }
    }
    let industry_order = [Feed::Statistics, Feed::Market, Feed::Tax, Feed::Declaration];
    let industry = choose(members, rules.industry, &industry_order, |o| {
        o.industry_code.clone()
    });
    if let Some((_, o)) = &industry {
        facts.note("industry", o);
    }
    // The name comes with the industry code when that record has one.
    let industry_name = industry
        .as_ref()
        .and_then(|(_, o)| o.industry_name.clone())
        .or_else(|| pick(members, &industry_order, |o| o.industry_name.clone()));
    let tax = choose(members, rules.tax_status, &[Feed::Tax], |o| {
        o.tax_status.clone()
    });
    if let Some((_, o)) = &tax {
        facts.note("tax_status", o);
    }
    // The last return of the record that gave the status: a superseded record's dates do
    // not speak for the employer. Without a status, the latest return of any tax record.
    let last_tax_date = match &tax {
        Some((_, o)) if rules.tax_status == FusionRule::Latest => o.last_tax_date,
        _ => latest(members, Feed::Tax, |o| o.last_tax_date),
    };
    let registered_on = members
        .iter()
        .filter(|o| matches!(o.feed, Feed::Market | Feed::Tax | Feed::Statistics))
        .filter_map(|o| o.registered_on)
        .min();
    MasterRecord {
        entity_id: entity_id.clone(),
        uscc,
        name: pick(members, &IDENTITY_ORDER, |o| o.name.clone()).unwrap_or_default(),
        address: addresses.first().cloned(),
        legal_rep: pick(members, &IDENTITY_ORDER, |o| o.legal_rep.clone()),
        industry_code: industry.map(|(c, _)| c),
        industry_name,
        registry_status: facts.take(
            "registry_status",
            members,
            rules.registry_status,
            &[Feed::Market],
            |o| o.registry_status.clone(),
        ),
        registered_on,
        tax_status: tax.map(|(s, _)| s),
        last_tax_date,
        stats_status: facts.take(
            "stats_status",
            members,
            rules.stats_status,
            &[Feed::Statistics],
            |o| o.stats_status.clone(),
        ),
        headcount,
        revenue: facts.take(
            "revenue",
            members,
            rules.revenue,
            &[Feed::Statistics, Feed::Tax],
            |o| o.revenue.filter(|r| r.is_finite() && *r >= 0.0),
        ),
        region_code: pick(members, &[Feed::Statistics, Feed::Market, Feed::Tax], |o| {
            o.region_code.clone()
        }),
        last_exam: latest(members, Feed::Exam, |o| o.evidence_date),
        last_test: latest(members, Feed::Testing, |o| o.evidence_date),
        exceedances: members.iter().filter_map(|o| o.exceedances).max(),
        hazard_factors: factors,
        registered_headcount: pick(members, &[Feed::Statistics, Feed::Tax, Feed::Market], |o| {
            o.headcount
        }),
        declared_headcount: declaration.and_then(|o| o.headcount),
        declared_industry: declaration.and_then(|o| o.industry_code.clone()),
        declared_factors: declaration.map_or_else(Vec::new, |o| o.hazard_factors.clone()),
        found_factors,
        last_filed: latest(members, Feed::Declaration, Observation::last_filed),
        feeds,
        addresses,
        members: all.len(),
        provenance: facts.provenance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(feed: Feed, name: &str) -> Observation {
        Observation {
            source: feed.as_str().into(),
            feed,
            record_key: name.into(),
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn market_name_wins_and_dates_take_the_latest() {
        let mut exam = obs(Feed::Exam, "华兴石才");
        exam.evidence_date = NaiveDate::from_ymd_opt(2025, 3, 1);
        exam.evidence_count = Some(14);
        let mut market = obs(Feed::Market, "南安市华兴石材有限公司");
        market.registry_status = Some("存续".into());
        let mut d1 = obs(Feed::Declaration, "华兴石材");
        d1.declared_on = NaiveDate::from_ymd_opt(2023, 1, 1);
        let mut d2 = obs(Feed::Declaration, "华兴石材");
        d2.updated_on = NaiveDate::from_ymd_opt(2024, 2, 1);
        let mut tax = obs(Feed::Tax, "华兴石材");
        tax.headcount = Some(9);
        let m = fold(
            &"E1".into(),
            &[&exam, &market, &d1, &d2, &tax],
            &FusionRules::default(),
        );
        assert_eq!(m.name, "南安市华兴石材有限公司");
        assert_eq!(m.last_filed, NaiveDate::from_ymd_opt(2024, 2, 1));
        assert_eq!(m.last_exam, NaiveDate::from_ymd_opt(2025, 3, 1));
        assert_eq!(m.headcount, Some(14), "examined workers are a floor");
        assert_eq!(
            m.feeds,
            vec![Feed::Market, Feed::Tax, Feed::Exam, Feed::Declaration]
        );
    }
}

#[cfg(test)]
mod fusion_tests {
    use super::*;

    /// Cause 3 of the trusted-leads issue: an old 15-digit tax record (注销 in 2016) and the
    /// current USCC record (正常, return last month). The first record used to decide.
    #[test]
    fn the_latest_tax_record_decides_and_says_where_it_came_from() {
        let old = Observation {
            source: "tax".into(),
            feed: Feed::Tax,
            record_key: "350583611234567".into(),
            tax_status: Some("注销".into()),
            last_tax_date: NaiveDate::from_ymd_opt(2016, 4, 15),
            ..Default::default()
        };
        let new = Observation {
            source: "tax".into(),
            feed: Feed::Tax,
            record_key: "91350583611234567X".into(),
            tax_status: Some("正常".into()),
            last_tax_date: NaiveDate::from_ymd_opt(2025, 5, 31),
            ..Default::default()
        };
        let mut old = old;
        old.headcount = Some(0);
        let mut new = new;
        new.headcount = Some(35);
        let m = fold(&"E1".into(), &[&old, &new], &FusionRules::default());
        assert_eq!(m.tax_status.as_deref(), Some("正常"));
        assert_eq!(m.headcount, Some(35), "a superseded record decides no fact");
        assert_eq!(m.members, 2);
        assert_eq!(m.last_tax_date, NaiveDate::from_ymd_opt(2025, 5, 31));
        let p = m.source_of("tax_status").expect("provenance");
        assert_eq!(p.record_key, "91350583611234567X");
        assert!(p.line().contains("税务状态取自税务登记"), "{}", p.line());
    }

    /// A register that writes 0 workers (a stopped employer, or one that did not report) does
    /// not hide the count another record gives; with no other count, 0 stays.
    #[test]
    fn zero_workers_is_not_a_count_while_another_record_gives_one() {
        let stats = Observation {
            source: "statistics".into(),
            feed: Feed::Statistics,
            record_key: "S1".into(),
            stats_status: Some("停业".into()),
            headcount: Some(0),
            ..Default::default()
        };
        let declaration = Observation {
            source: "declaration".into(),
            feed: Feed::Declaration,
            record_key: "D1".into(),
            headcount: Some(179),
            declared_on: NaiveDate::from_ymd_opt(2016, 7, 1),
            ..Default::default()
        };
        let m = fold(
            &"E1".into(),
            &[&stats, &declaration],
            &FusionRules::default(),
        );
        assert_eq!(m.headcount, Some(179));
        assert_eq!(
            m.source_of("headcount").map(|p| p.record_key.as_str()),
            Some("D1")
        );
        let m = fold(&"E1".into(), &[&stats], &FusionRules::default());
        assert_eq!(m.headcount, Some(0));
    }
}
