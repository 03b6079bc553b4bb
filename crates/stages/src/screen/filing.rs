//! Filing status from the declaration register: never declared, lapsed, or current.
//! Lapsed = the last declaration or annual update is older than the configured months (13).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::operating::within_months;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilingStatus {
    Never,
    Lapsed,
    Current,
}

impl FilingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FilingStatus::Never => "never",
            FilingStatus::Lapsed => "lapsed",
            FilingStatus::Current => "current",
        }
    }

    pub fn parse(s: &str) -> Option<FilingStatus> {
        match s.trim() {
            "never" => Some(FilingStatus::Never),
            "lapsed" => Some(FilingStatus::Lapsed),
            "current" => Some(FilingStatus::Current),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            FilingStatus::Never => "未申报",
            FilingStatus::Lapsed => "申报已逾期",
            FilingStatus::Current => "已申报",
        }
    }
}

pub fn filing_status(
    last_filed: Option<NaiveDate>,
    as_of: NaiveDate,
    lapse_months: u32,
) -> FilingStatus {
    match last_filed {
        None => FilingStatus::Never,
        Some(d) if within_months(d, as_of, lapse_months) => FilingStatus::Current,
        Some(_) => FilingStatus::Lapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirteen_months_boundary() {
        let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(filing_status(None, as_of, 13), FilingStatus::Never);
        assert_eq!(
            filing_status(d(2024, 5, 30), as_of, 13),
            FilingStatus::Current
        );
        assert_eq!(
            filing_status(d(2024, 5, 29), as_of, 13),
            FilingStatus::Lapsed
        );
    }
}
