//! A lead's evidence: which feed said what about the employer, and when, one line per source
//! record, in Chinese for township staff. Built from the entity's member observations.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{Feed, Observation};

/// One source record's say about an employer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub feed: Feed,
    pub source: String,
    pub record_key: String,
    /// The date the fact is from (tax filing, exam, test, declaration), when there is one.
    pub date: Option<NaiveDate>,
    /// What the record says, in Chinese.
    pub fact: String,
}

impl Evidence {
    /// `税务登记（2025-05-31）：纳税人状态正常，从业人数23人`.
    pub fn line(&self) -> String {
        match self.date {
            Some(d) => format!("{}（{d}）：{}", self.feed.label_zh(), self.fact),
            None => format!("{}：{}", self.feed.label_zh(), self.fact),
        }
    }
}

/// The evidence of one observation.
pub fn of(o: &Observation) -> Evidence {
    let mut parts: Vec<String> = Vec::new();
    let factors = |parts: &mut Vec<String>| {
        if !o.hazard_factors.is_empty() {
            parts.push(format!("危害因素：{}", o.hazard_factors.join("、")));
        }
    };
    let date = match o.feed {
        Feed::Market => {
            if let Some(s) = &o.registry_status {
                parts.push(format!("登记状态{s}"));
            }
            if let Some(d) = o.registered_on {
                parts.push(format!("成立于{d}"));
            }
            None
        }
        Feed::Tax => {
            if let Some(s) = &o.tax_status {
                parts.push(format!("纳税人状态{s}"));
            }
            if let Some(h) = o.headcount {
                parts.push(format!("从业人数{h}人"));
            }
            o.last_tax_date
        }
        Feed::Statistics => {
            if let Some(s) = &o.stats_status {
                parts.push(format!("运营状态{s}"));
            }
            if let Some(h) = o.headcount {
                parts.push(format!("从业人数{h}人"));
            }
            if let Some(r) = o.revenue {
                parts.push(format!("营业收入{r}万元"));
            }
            None
        }
        Feed::Exam => {
            if let Some(n) = o.evidence_count {
                parts.push(format!("体检{n}人次"));
            }
            factors(&mut parts);
            o.evidence_date
        }
        Feed::Testing => {
            parts.push("有检测报告".to_string());
            factors(&mut parts);
            if let Some(n) = o.exceedances.filter(|n| *n > 0) {
                parts.push(format!("超标岗位{n}个"));
            }
            o.evidence_date
        }
        Feed::Declaration => {
            parts.push("有申报记录".to_string());
            if let Some(h) = o.headcount {
                parts.push(format!("劳动者总人数{h}人"));
            }
            factors(&mut parts);
            o.last_filed()
        }
        Feed::Other => {
            factors(&mut parts);
            o.evidence_date
        }
    };
    if parts.is_empty() {
        parts.push("有记录".to_string());
    }
    Evidence {
        feed: o.feed,
        source: o.source.clone(),
        record_key: o.record_key.clone(),
        date,
        fact: parts.join("，"),
    }
}

/// Evidence for every member of an entity, in feed order, the latest first within a feed.
pub fn for_members(members: &[&Observation]) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = members.iter().map(|o| of(o)).collect();
    out.sort_by(|a, b| a.feed.cmp(&b.feed).then(b.date.cmp(&a.date)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_feed_says_its_own_facts_with_its_date() {
        let tax = Observation {
            source: "tax".into(),
            feed: Feed::Tax,
            record_key: "T1".into(),
            tax_status: Some("正常".into()),
            headcount: Some(23),
            last_tax_date: NaiveDate::from_ymd_opt(2025, 5, 31),
            ..Default::default()
        };
        let test = Observation {
            source: "testing".into(),
            feed: Feed::Testing,
            record_key: "R9".into(),
            evidence_date: NaiveDate::from_ymd_opt(2025, 3, 1),
            hazard_factors: vec!["矽尘".into(), "噪声".into()],
            exceedances: Some(2),
            ..Default::default()
        };
        let ev = for_members(&[&test, &tax]);
        assert_eq!(
            ev[0].line(),
            "税务登记（2025-05-31）：纳税人状态正常，从业人数23人"
        );
        assert_eq!(
            ev[1].line(),
            "职业病危害因素检测（2025-03-01）：有检测报告，危害因素：矽尘、噪声，超标岗位2个"
        );
        assert_eq!(ev[1].record_key, "R9");
    }
}
