//! A lead's priority: a score from the hazard class, the headcount, exam or testing evidence,
//! exceeded limits and how long the employer is overdue, and its level (高 / 中 / 低).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::resolve::master::MasterRecord;
use crate::screen::catalogue::RiskClass;
use crate::screen::operating::within_months;
use crate::screen::LeadKind;

/// A score (0–100) and its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Priority {
    pub score: u32,
}

impl Priority {
    /// 高 from 60, 中 from 35, else 低.
    pub fn level_zh(self) -> &'static str {
        match self.score {
            60.. => "高",
            35..=59 => "中",
            _ => "低",
        }
    }

    /// `高（72）`.
    pub fn label_zh(self) -> String {
        format!("{}（{}）", self.level_zh(), self.score)
    }
}

/// The priority of a lead of `kind` on `m`, `months_overdue` months past when it should have
/// been dealt with (a lapsed declaration's lapse, or the lead's first listing).
pub fn score(
    m: &MasterRecord,
    class: Option<RiskClass>,
    kind: LeadKind,
    months_overdue: u32,
    as_of: NaiveDate,
) -> Priority {
    let mut s = match class {
        Some(RiskClass::Severe) => 35,
        Some(RiskClass::General) => 15,
        None => 5,
    };
    s += match m.headcount.unwrap_or(0) {
        100.. => 20,
        50..=99 => 15,
        20..=49 => 10,
        10..=19 => 6,
        _ => 0,
    };
    let recent = [m.last_exam, m.last_test]
        .into_iter()
        .flatten()
        .any(|d| within_months(d, as_of, 12));
    if recent {
        s += 15;
    }
    if m.exceedances.is_some_and(|n| n > 0) {
        s += 15;
    }
    if kind == LeadKind::Exceedance || kind == LeadKind::UndeclaredHazards {
        s += 5;
    }
    s += months_overdue.min(20) / 2;
    Priority { score: s.min(100) }
}

/// Whole months from `from` to `to` (0 when `to` is earlier).
pub fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let mut n = 0u32;
    while from
        .checked_add_months(chrono::Months::new(n + 1))
        .is_some_and(|d| d <= to)
    {
        n += 1;
        if n >= 1200 {
            break;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn severe_large_with_evidence_outranks_small_general() {
        let as_of = d(2025, 6, 30);
        let big = MasterRecord {
            headcount: Some(120),
            last_exam: Some(d(2025, 1, 10)),
            ..Default::default()
        };
        let small = MasterRecord {
            headcount: Some(4),
            ..Default::default()
        };
        let high = score(&big, Some(RiskClass::Severe), LeadKind::Unfiled, 6, as_of);
        let low = score(
            &small,
            Some(RiskClass::General),
            LeadKind::Unfiled,
            0,
            as_of,
        );
        assert_eq!(high.score, 35 + 20 + 15 + 3);
        assert_eq!(high.level_zh(), "高");
        assert_eq!(low.label_zh(), "低（15）");
        // Overdue time raises the score, capped.
        let later = score(
            &small,
            Some(RiskClass::General),
            LeadKind::Unfiled,
            60,
            as_of,
        );
        assert_eq!(later.score, 25);
    }

    #[test]
    fn months_are_whole_calendar_months() {
        assert_eq!(months_between(d(2025, 1, 31), d(2025, 2, 28)), 1);
        assert_eq!(months_between(d(2025, 1, 15), d(2025, 6, 14)), 4);
        assert_eq!(months_between(d(2025, 6, 30), d(2025, 1, 1)), 0);
    }
}
