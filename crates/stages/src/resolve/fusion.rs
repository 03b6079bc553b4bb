//! Which record decides each fact of a master record: the latest dated one, the first by
//! source precedence, or the most frequent value. The `[fusion]` table; one rule per fact.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{Feed, Observation};

/// How one fact is chosen among the records of an employer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FusionRule {
    /// The value of the record with the latest date (its tax return, registration, report or
    /// filing date); an undated record decides only when no dated one has the fact. Ties go
    /// to source precedence. A superseded record (an older one of the same employer) never
    /// decides.
    Latest,
    /// The value of the first feed in the fact's precedence order (see README).
    Precedence,
    /// The value most records give; ties go to source precedence.
    MostFrequent,
}

/// The `[fusion]` table: one rule per fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FusionRules {
    #[serde(default = "latest")]
    pub registry_status: FusionRule,
    #[serde(default = "latest")]
    pub tax_status: FusionRule,
    #[serde(default = "latest")]
    pub stats_status: FusionRule,
    #[serde(default = "precedence")]
    pub headcount: FusionRule,
    #[serde(default = "precedence")]
    pub industry: FusionRule,
    #[serde(default = "precedence")]
    pub address: FusionRule,
    #[serde(default = "precedence")]
    pub revenue: FusionRule,
}

fn latest() -> FusionRule {
    FusionRule::Latest
}

fn precedence() -> FusionRule {
    FusionRule::Precedence
}

impl Default for FusionRules {
    fn default() -> Self {
        FusionRules {
            registry_status: latest(),
            tax_status: latest(),
            stats_status: latest(),
            headcount: precedence(),
            industry: precedence(),
            address: precedence(),
            revenue: precedence(),
        }
    }
}

/// The fact a master record took from one record, for the evidence column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// `registry_status`, `tax_status`, `last_tax_date`, `stats_status`, `headcount`,
    /// `industry`, `address`, `revenue`.
    pub fact: String,
    pub source: String,
    pub feed: Feed,
    pub record_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

impl Provenance {
    /// The fact's name as township staff read it.
    pub fn fact_zh(&self) -> &'static str {
        match self.fact.as_str() {
            "registry_status" => "登记状态",
            "tax_status" => "税务状态",
            "last_tax_date" => "最近纳税申报",
            "stats_status" => "统计运营状态",
            "headcount" => "从业人数",
            "industry" => "行业",
            "address" => "地址",
            "revenue" => "营业收入",
            _ => "其他",
        }
    }

    /// `税务状态：税务登记 记录 tax:3 （2025-05-31）`.
    pub fn line(&self) -> String {
        let date = self.date.map(|d| format!("（{d}）")).unwrap_or_default();
        format!(
            "{}取自{} {}{date}",
            self.fact_zh(),
            self.feed.label_zh(),
            self.record_key
        )
    }
}

/// The date a record speaks for: the latest of its dates.
pub fn record_date(o: &Observation) -> Option<NaiveDate> {
    [
        o.last_tax_date,
        o.evidence_date,
        o.last_filed(),
        o.registered_on,
    ]
    .into_iter()
    .flatten()
    .max()
}

/// Position of `feed` in `order` (feeds not in it come last).
pub(crate) fn rank(feed: Feed, order: &[Feed]) -> usize {
    order.iter().position(|f| *f == feed).unwrap_or(order.len())
}

/// Chooses one value among `members` by `rule`, looking only at feeds in `order` (which also
/// breaks ties). Returns the value and the record that gave it.
pub fn choose<'o, T: Clone + PartialEq>(
    members: &[&'o Observation],
    rule: FusionRule,
    order: &[Feed],
    get: impl Fn(&Observation) -> Option<T>,
) -> Option<(T, &'o Observation)> {
    let candidates: Vec<(T, &'o Observation)> = members
        .iter()
        .filter(|o| rank(o.feed, order) < order.len())
        .filter_map(|o| get(o).map(|v| (v, *o)))
        .collect();
    let by_precedence = |a: &&(T, &Observation), b: &&(T, &Observation)| {
        rank(a.1.feed, order)
            .cmp(&rank(b.1.feed, order))
            .then_with(|| a.1.record_key.cmp(&b.1.record_key))
    };
    let best = match rule {
        FusionRule::Precedence => candidates.iter().min_by(by_precedence),
        FusionRule::Latest => candidates.iter().min_by(|a, b| {
            // Latest date first (None last), then precedence.
            record_date(b.1)
                .cmp(&record_date(a.1))
                .then_with(|| by_precedence(a, b))
        }),
        FusionRule::MostFrequent => {
            let mut counts: Vec<(usize, &(T, &Observation))> = Vec::new();
            for c in &candidates {
                match counts.iter_mut().find(|(_, x)| x.0 == c.0) {
                    Some((n, x)) => {
                        *n += 1;
                        if by_precedence(&c, x) == std::cmp::Ordering::Less {
                            *x = c;
                        }
                    }
                    None => counts.push((1, c)),
                }
            }
            counts
                .into_iter()
                .min_by(|(na, a), (nb, b)| nb.cmp(na).then_with(|| by_precedence(a, b)))
                .map(|(_, c)| c)
        }
    };
    best.cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tax(key: &str, status: &str, last: Option<(i32, u32, u32)>) -> Observation {
        Observation {
            source: "tax".into(),
            feed: Feed::Tax,
            record_key: key.into(),
            tax_status: Some(status.into()),
            last_tax_date: last.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
            ..Default::default()
        }
    }

    #[test]
    fn latest_takes_the_newest_record_not_the_first() {
        let old = tax("15-digit", "注销", Some((2016, 3, 31)));
        let new = tax("uscc", "正常", Some((2025, 5, 31)));
        let (v, o) = choose(&[&old, &new], FusionRule::Latest, &[Feed::Tax], |o| {
            o.tax_status.clone()
        })
        .expect("a value");
        assert_eq!(v, "正常");
        assert_eq!(o.record_key, "uscc");
        // Precedence alone would keep whichever comes first by key.
        let (v, _) = choose(&[&old, &new], FusionRule::Precedence, &[Feed::Tax], |o| {
            o.tax_status.clone()
        })
        .expect("a value");
        assert_eq!(v, "注销");
        // An undated record decides only when no dated one has the fact.
        let undated = tax("a-undated", "非正常", None);
        let (v, _) = choose(&[&undated, &old], FusionRule::Latest, &[Feed::Tax], |o| {
            o.tax_status.clone()
        })
        .expect("a value");
        assert_eq!(v, "注销");
    }

    #[test]
    fn most_frequent_and_feeds_outside_the_order_are_ignored() {
        let a = tax("1", "正常", None);
        let b = tax("2", "非正常", None);
        let c = tax("3", "非正常", None);
        let (v, _) = choose(&[&a, &b, &c], FusionRule::MostFrequent, &[Feed::Tax], |o| {
            o.tax_status.clone()
        })
        .expect("a value");
        assert_eq!(v, "非正常");
        assert!(choose(&[&a], FusionRule::Latest, &[Feed::Market], |o| o
            .tax_status
            .clone())
        .is_none());
    }
}
