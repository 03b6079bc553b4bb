//! A report period as the operator writes it: a quarter (`2025Q2`), a month (`2025-06`) or
//! a year (`2025`), with its first and last day and its Chinese label.

use chrono::NaiveDate;

/// A period of whole days.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// As written, normalised: `2025Q2`, `2025-06`, `2025`.
    pub key: String,
    /// `2025年第2季度`, `2025年6月`, `2025年`.
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        let last_day = |y: i32, m: u32| {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            NaiveDate::from_ymd_opt(ny, nm, 1).and_then(|d| d.pred_opt())
        };
        if let Some((y, q)) = s.split_once(['Q', 'q']) {
            let (y, q): (i32, u32) = (y.parse().ok()?, q.parse().ok()?);
            if !(1..=4).contains(&q) {
                return None;
            }
            let first = (q - 1) * 3 + 1;
            return Some(Period {
                key: format!("{y}Q{q}"),
                label: format!("{y}年第{q}季度"),
                from: NaiveDate::from_ymd_opt(y, first, 1)?,
                to: last_day(y, first + 2)?,
            });
        }
        if let Some((y, m)) = s.split_once('-') {
            let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
            return Some(Period {
                key: format!("{y}-{m:02}"),
                label: format!("{y}年{m}月"),
                from: NaiveDate::from_ymd_opt(y, m, 1)?,
                to: last_day(y, m)?,
            });
        }
        let y: i32 = s.parse().ok().filter(|y| (1900..=9999).contains(y))?;
        Some(Period {
            key: y.to_string(),
            label: format!("{y}年"),
            from: NaiveDate::from_ymd_opt(y, 1, 1)?,
            to: NaiveDate::from_ymd_opt(y, 12, 31)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_months_and_years() {
        let q = Period::parse("2025Q2").expect("quarter");
        assert_eq!(
            (q.from.to_string(), q.to.to_string()),
            ("2025-04-01".into(), "2025-06-30".into())
        );
        assert_eq!(q.label, "2025年第2季度");
        let m = Period::parse("2024-02").expect("month");
        assert_eq!(m.to.to_string(), "2024-02-29");
        let y = Period::parse("2025").expect("year");
        assert_eq!(y.to.to_string(), "2025-12-31");
        assert!(Period::parse("2025Q5").is_none());
        assert!(Period::parse("2025-13").is_none());
        assert!(Period::parse("soon").is_none());
    }
}
