//! Operator crontab lines (`minute hour day-of-month month day-of-week`, local time zone),
//! checked with operator-readable errors and turned into fire times in UTC.

use std::collections::BTreeSet;
use std::fmt;

use chrono::offset::LocalResult;
use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use thiserror::Error;

/// The county's time zone when the configuration names none.
pub const DEFAULT_TZ: Tz = chrono_tz::Asia::Shanghai;

/// Bound on candidates examined per query; only daylight-saving transitions ever need more
/// than one, so this is a safety net against a pathological zone, not a real limit.
const MAX_CANDIDATES: usize = 1000;

/// One of the five crontab fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Field {
    const ALL: [Field; 5] = [
        Field::Minute,
        Field::Hour,
        Field::DayOfMonth,
        Field::Month,
        Field::DayOfWeek,
    ];

    fn min(self) -> u32 {
        match self {
            Field::Minute | Field::Hour | Field::DayOfWeek => 0,
            Field::DayOfMonth | Field::Month => 1,
        }
    }

    /// Largest value an operator may write (7 is Sunday again in the day-of-week field).
    fn max(self) -> u32 {
        match self {
            Field::Minute => 59,
            Field::Hour => 23,
            Field::DayOfMonth => 31,
            Field::Month => 12,
            Field::DayOfWeek => 7,
        }
    }

    /// Largest value `*` covers (`*` in day-of-week is 0-6, Sunday counted once).
    fn star_max(self) -> u32 {
        match self {
            Field::DayOfWeek => 6,
            other => other.max(),
        }
    }

    fn allowed(self) -> &'static str {
        match self {
            Field::Minute => "0-59",
            Field::Hour => "0-23",
            Field::DayOfMonth => "1-31",
            Field::Month => "1-12 or JAN-DEC",
            Field::DayOfWeek => "0-7 (0 and 7 are Sunday) or SUN-SAT",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Field::Minute => "`30`, `*/15` or `0,30`",
            Field::Hour => "`2` for 02:00, or `8-18`",
            Field::DayOfMonth => "`1` or `1,15`",
            Field::Month => "`1` or `JAN,JUL`",
            Field::DayOfWeek => "`MON-FRI` or `1-5`",
        }
    }

    fn name_value(self, name: &str) -> Option<u32> {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        let lower = name.to_ascii_lowercase();
        let table: &[&str] = match self {
            Field::Month => &MONTHS,
            Field::DayOfWeek => &DAYS,
            _ => return None,
        };
        let index = table.iter().position(|n| *n == lower)?;
        let offset = if self == Field::Month { 1 } else { 0 };
        u32::try_from(index).ok().map(|i| i + offset)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Minute => "minute (1st field)",
            Field::Hour => "hour (2nd field)",
            Field::DayOfMonth => "day-of-month (3rd field)",
            Field::Month => "month (4th field)",
            Field::DayOfWeek => "day-of-week (5th field)",
        })
    }
}

/// Why a crontab line was refused. Every message names the field, the problem and an example.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    #[error("the schedule is empty; write five fields `minute hour day-of-month month day-of-week`, e.g. `30 2 * * *` for 02:30 every day")]
    Empty,
    #[error("the schedule `{line}` has {count} field(s) but needs exactly 5: `minute hour day-of-month month day-of-week`, e.g. `30 2 * * *` for 02:30 every day or `0 8 * * MON-FRI` for 08:00 on weekdays")]
    FieldCount { line: String, count: usize },
    #[error("the {field} `{value}` is wrong: {problem}; allowed is {allowed}, e.g. {example}")]
    BadField {
        field: Field,
        value: String,
        problem: String,
        allowed: &'static str,
        example: &'static str,
    },
    #[error("unknown shortcut `{0}`; use @hourly, @daily, @weekly, @monthly, @yearly or five fields such as `30 2 * * *`")]
    UnknownShortcut(String),
    #[error("the schedule `{line}` never fires: {reason}")]
    NeverFires { line: String, reason: String },
    #[error("unknown time zone `{0}`; use an IANA name such as `Asia/Shanghai` or `UTC`")]
    UnknownTimeZone(String),
    #[error("internal error converting `{line}` for the cron library: {detail}")]
    Internal { line: String, detail: String },
}

/// A parsed field: the values it allows, and whether it was written starting with `*`
/// (Vixie cron's rule for combining day-of-month and day-of-week depends on that).
#[derive(Debug, Clone)]
struct FieldSet {
    values: BTreeSet<u32>,
    star: bool,
}

impl FieldSet {
    fn is_full(&self, field: Field) -> bool {
        (field.min()..=field.star_max()).all(|v| self.values.contains(&v))
    }
}

/// How the two cron-library schedules combine.
#[derive(Debug, Clone)]
enum Inner {
    /// One schedule (day-of-month and day-of-week both must match, or one of them is `*`).
    Single(Box<cron::Schedule>),
    /// Crontab's OR rule: both day fields restricted, so the job fires when either matches.
    Either(Box<cron::Schedule>, Box<cron::Schedule>),
}

/// A validated crontab schedule in a time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    line: String,
    tz: Tz,
    inner: Inner,
    /// The hour field was written as `*...`: in a repeated daylight-saving hour the job
    /// fires in both occurrences (as Vixie cron does); a fixed-hour job fires only once.
    hour_wildcard: bool,
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({})", self.line, self.tz)
    }
}

/// Parses an IANA time-zone name such as `Asia/Shanghai` with an operator-readable error.
pub fn parse_tz(name: &str) -> Result<Tz, ScheduleError> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| ScheduleError::UnknownTimeZone(name.trim().to_string()))
}

impl Schedule {
    /// Parses a five-field crontab line or a shortcut (`@daily`, `@hourly`, `@weekly`,
    /// `@monthly`, `@yearly`) interpreted in `tz`.
    pub fn parse(line: &str, tz: Tz) -> Result<Schedule, ScheduleError> {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return Err(ScheduleError::Empty);
        }
        let expanded = if trimmed.starts_with('@') {
            expand_shortcut(trimmed)?
        } else {
            trimmed.to_string()
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(ScheduleError::FieldCount {
                line: trimmed.to_string(),
                count: parts.len(),
            });
        }
        let mut sets = Vec::with_capacity(5);
        for (text, field) in parts.iter().zip(Field::ALL) {
            sets.push(parse_field(text, field)?);
        }
        let [minute, hour, dom, month, dow]: [FieldSet; 5] =
            sets.try_into().map_err(|_| ScheduleError::Internal {
                line: trimmed.to_string(),
                detail: "field count".to_string(),
            })?;

        let minute_s = render(&minute, Field::Minute);
        let hour_s = render(&hour, Field::Hour);
        let month_s = render(&month, Field::Month);
        let dom_s = render(&dom, Field::DayOfMonth);
        let dow_s = render(&dow, Field::DayOfWeek);
        let build =
            |dom_part: &str, dow_part: &str| -> Result<Box<cron::Schedule>, ScheduleError> {
                let expr = format!("0 {minute_s} {hour_s} {dom_part} {month_s} {dow_part}");
                expr.parse::<cron::Schedule>()
                    .map(Box::new)
                    .map_err(|e| ScheduleError::Internal {
                        line: trimmed.to_string(),
                        detail: format!("`{expr}`: {e}"),
                    })
            };

        // Vixie cron: if either day field starts with `*`, both must match (the `*` one
        // usually matches everything); if both are restricted, either one may match.
        let inner = if dom.star || dow.star {
            check_days_possible(trimmed, &dom, &month)?;
            Inner::Single(build(&dom_s, &dow_s)?)
        } else {
            Inner::Either(build(&dom_s, "*")?, build("*", &dow_s)?)
        };
        Ok(Schedule {
            line: trimmed.to_string(),
            tz,
            inner,
            hour_wildcard: hour.star,
        })
    }

    /// The line as the operator wrote it (trimmed).
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The time zone the line is read in.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.inner {
            Inner::Single(s) => self.next_in(s, t),
            Inner::Either(a, b) => match (self.next_in(a, t), self.next_in(b, t)) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            },
        }
    }

    /// The next `n` fire times strictly after `from`, in the schedule's local time.
    pub fn upcoming(&self, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        let mut out = Vec::with_capacity(n);
        let mut t = from;
        while out.len() < n {
            match self.next_after(t) {
                Some(next) => {
                    out.push(next.with_timezone(&self.tz));
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    /// The latest fire time at or before `now`.
    pub fn latest_at_or_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.inner {
            Inner::Single(s) => self.prev_in(s, now),
            Inner::Either(a, b) => match (self.prev_in(a, now), self.prev_in(b, now)) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            },
        }
    }

    /// The latest fire time in `(last, now]`, if any: a run that was missed (for example
    /// while the daemon was down) and should be caught up once. `last = None` means the job
    /// has no recorded run, so any earlier fire time counts as missed.
    pub fn missed_since(
        &self,
        last: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let latest = self.latest_at_or_before(now)?;
        match last {
            Some(last) if latest <= last => None,
            _ => Some(latest),
        }
    }

    fn next_in(&self, s: &cron::Schedule, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        s.after(&local)
            .take(MAX_CANDIDATES)
            .filter(|c| !self.is_skipped_repeat(c))
            .map(|c| c.with_timezone(&Utc))
            .find(|c| *c > t)
    }

    fn prev_in(&self, s: &cron::Schedule, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // The cron library searches strictly before its argument, in whole seconds.
        let floor = now.with_nanosecond(0).unwrap_or(now);
        let probe = (floor + Duration::seconds(1)).with_timezone(&self.tz);
        s.after(&probe)
            .rev()
            .take(MAX_CANDIDATES)
            .filter(|c| !self.is_skipped_repeat(c))
            .map(|c| c.with_timezone(&Utc))
            .find(|c| *c <= now)
    }

    /// In a repeated (fall-back) hour, a fixed-hour job fires only at the first occurrence.
    fn is_skipped_repeat(&self, candidate: &DateTime<Tz>) -> bool {
        if self.hour_wildcard {
            return false;
        }
        match self.tz.from_local_datetime(&candidate.naive_local()) {
            LocalResult::Ambiguous(first, _) => *candidate != first,
            _ => false,
        }
    }
}

fn expand_shortcut(text: &str) -> Result<String, ScheduleError> {
    let fields = match text.to_ascii_lowercase().as_str() {
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@yearly" | "@annually" => "0 0 1 1 *",
        _ => return Err(ScheduleError::UnknownShortcut(text.to_string())),
    };
    Ok(fields.to_string())
}

fn bad(field: Field, value: &str, problem: String) -> ScheduleError {
    ScheduleError::BadField {
        field,
        value: value.to_string(),
        problem,
        allowed: field.allowed(),
        example: field.example(),
    }
}

fn parse_value(field: Field, whole: &str, text: &str) -> Result<u32, ScheduleError> {
    if text.is_empty() {
        return Err(bad(field, whole, "a number is missing".to_string()));
    }
    let value = if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u32>()
            .map_err(|_| bad(field, whole, format!("{text} is out of range")))?
    } else if let Some(v) = field.name_value(text) {
        v
    } else {
        let what = match field {
            Field::Month => "a number or a month name like JAN",
            Field::DayOfWeek => "a number or a day name like MON",
            _ => "a number",
        };
        return Err(bad(field, whole, format!("`{text}` is not {what}")));
    };
    if value < field.min() || value > field.max() {
        return Err(bad(field, whole, format!("{value} is out of range")));
    }
    Ok(value)
}

fn parse_field(text: &str, field: Field) -> Result<FieldSet, ScheduleError> {
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        if item.is_empty() {
            return Err(bad(field, text, "the list has an empty entry".to_string()));
        }
        let (base, step) = match item.split_once('/') {
            Some((base, step_text)) => {
                let step = if !step_text.is_empty() && step_text.bytes().all(|b| b.is_ascii_digit())
                {
                    step_text.parse::<u32>().unwrap_or(0)
                } else {
                    return Err(bad(
                        field,
                        text,
                        format!("the step after `/` must be a whole number, not `{step_text}`"),
                    ));
                };
                if step == 0 || step > field.max() {
                    return Err(bad(
                        field,
                        text,
                        format!("step {step_text} must be between 1 and {}", field.max()),
                    ));
                }
                (base, Some(step))
            }
            None => (item, None),
        };
        let (lo, hi) = if base == "*" {
            (field.min(), field.star_max())
        } else if let Some((a, b)) = base.split_once('-') {
            let lo = parse_value(field, text, a)?;
            let hi = parse_value(field, text, b)?;
            if lo > hi {
                return Err(bad(
                    field,
                    text,
                    format!("the range `{base}` goes backwards; write the smaller value first"),
                ));
            }
            (lo, hi)
        } else {
            let v = parse_value(field, text, base)?;
            // `5/10` means "from 5 to the end, every 10th" as in cronie.
            if step.is_some() {
                (v, field.max())
            } else {
                (v, v)
            }
        };
        let step = step.unwrap_or(1);
        let mut v = lo;
        while v <= hi {
            values.insert(if field == Field::DayOfWeek && v == 7 {
                0
            } else {
                v
            });
            v += step;
        }
    }
    Ok(FieldSet {
        values,
        star: text.starts_with('*'),
    })
}

/// Renders a field for the cron library: `*` when it allows everything, otherwise an explicit
/// list (day-of-week renumbered to the library's Sunday = 1 ... Saturday = 7).
fn render(set: &FieldSet, field: Field) -> String {
    if set.is_full(field) {
        return "*".to_string();
    }
    let shift = if field == Field::DayOfWeek { 1 } else { 0 };
    set.values
        .iter()
        .map(|v| (v + shift).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Refuses day-of-month/month combinations that never occur (e.g. `0 0 31 4 *`).
fn check_days_possible(line: &str, dom: &FieldSet, month: &FieldSet) -> Result<(), ScheduleError> {
    let Some(&first_day) = dom.values.iter().next() else {
        return Ok(());
    };
    const DAYS_IN_MONTH: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let possible = month.values.iter().any(|m| {
        usize::try_from(m.saturating_sub(1))
            .ok()
            .and_then(|i| DAYS_IN_MONTH.get(i))
            .is_some_and(|days| *days >= first_day)
    });
    if possible {
        Ok(())
    } else {
        Err(ScheduleError::NeverFires {
            line: line.to_string(),
            reason: format!(
                "day {first_day} does not exist in the month(s) given; check the day-of-month and month fields"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn sh(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        local(DEFAULT_TZ, y, mo, d, h, mi)
    }

    fn local(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        let naive = NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, 0))
            .expect("valid test date");
        tz.from_local_datetime(&naive)
            .earliest()
            .expect("unambiguous test time")
            .with_timezone(&Utc)
    }

    fn parse(line: &str) -> Schedule {
        Schedule::parse(line, DEFAULT_TZ).expect("test line parses")
    }

    fn next_n(s: &Schedule, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        s.upcoming(from, n)
            .into_iter()
            .map(|t| t.with_timezone(&Utc))
            .collect()
    }

    // 2024-06-02 is a Sunday, 2024-06-03 a Monday.

    #[test]
    fn daily_at_0230_shanghai() {
        let s = parse("30 2 * * *");
        assert_eq!(
            s.next_after(sh(2024, 6, 3, 1, 0)),
            Some(sh(2024, 6, 3, 2, 30))
        );
        // 02:30 Shanghai is 18:30 UTC the day before.
        assert_eq!(
            s.next_after(sh(2024, 6, 3, 1, 0))
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
            Some("2024-06-02 18:30".to_string())
        );
        // Strictly after: at 02:30 exactly the next is tomorrow.
        assert_eq!(
            s.next_after(sh(2024, 6, 3, 2, 30)),
            Some(sh(2024, 6, 4, 2, 30))
        );
    }

    #[test]
    fn sunday_is_0_and_7() {
        for line in ["0 3 * * 0", "0 3 * * 7", "0 3 * * SUN", "0 3 * * sun"] {
            let s = parse(line);
            assert_eq!(
                next_n(&s, sh(2024, 6, 3, 0, 0), 2),
                vec![sh(2024, 6, 9, 3, 0), sh(2024, 6, 16, 3, 0)],
                "{line}"
            );
        }
    }

    #[test]
    fn mon_fri_names_and_numbers() {
        for line in [
            "0 8 * * MON-FRI",
            "0 8 * * 1-5",
            "0 8 * * mon,tue,wed,thu,fri",
        ] {
            let s = parse(line);
            // From Friday 2024-06-07 09:00: next is Monday 10th, then Tue 11th.
            assert_eq!(
                next_n(&s, sh(2024, 6, 7, 9, 0), 2),
                vec![sh(2024, 6, 10, 8, 0), sh(2024, 6, 11, 8, 0)],
                "{line}"
            );
        }
    }

    #[test]
    fn dow_lists_ranges_with_seven_and_steps() {
        // 1,3,5 = Mon, Wed, Fri.
        let s = parse("0 9 * * 1,3,5");
        assert_eq!(
            next_n(&s, sh(2024, 6, 2, 0, 0), 3),
            vec![
                sh(2024, 6, 3, 9, 0),
                sh(2024, 6, 5, 9, 0),
                sh(2024, 6, 7, 9, 0)
            ]
        );
        // 5-7 = Fri, Sat, Sun.
        let s = parse("0 9 * * 5-7");
        assert_eq!(
            next_n(&s, sh(2024, 6, 3, 0, 0), 3),
            vec![
                sh(2024, 6, 7, 9, 0),
                sh(2024, 6, 8, 9, 0),
                sh(2024, 6, 9, 9, 0)
            ]
        );
        // */2 = Sun, Tue, Thu, Sat.
        let s = parse("0 9 * * */2");
        assert_eq!(
            next_n(&s, sh(2024, 6, 2, 10, 0), 3),
            vec![
                sh(2024, 6, 4, 9, 0),
                sh(2024, 6, 6, 9, 0),
                sh(2024, 6, 8, 9, 0)
            ]
        );
    }

    #[test]
    fn minute_steps_and_hour_ranges() {
        let s = parse("*/15 * * * *");
        assert_eq!(
            next_n(&s, sh(2024, 6, 3, 10, 7), 3),
            vec![
                sh(2024, 6, 3, 10, 15),
                sh(2024, 6, 3, 10, 30),
                sh(2024, 6, 3, 10, 45)
            ]
        );
        let s = parse("0 8-18/5 * * *");
        assert_eq!(
            next_n(&s, sh(2024, 6, 3, 9, 0), 3),
            vec![
                sh(2024, 6, 3, 13, 0),
                sh(2024, 6, 3, 18, 0),
                sh(2024, 6, 4, 8, 0)
            ]
        );
        let s = parse("5/20 * * * *");
        assert_eq!(
            next_n(&s, sh(2024, 6, 3, 9, 0), 3),
            vec![
                sh(2024, 6, 3, 9, 5),
                sh(2024, 6, 3, 9, 25),
                sh(2024, 6, 3, 9, 45)
            ]
        );
    }

    #[test]
    fn monthly_first_and_month_names() {
        let s = parse("0 6 1 * *");
        assert_eq!(
            next_n(&s, sh(2024, 1, 15, 0, 0), 2),
            vec![sh(2024, 2, 1, 6, 0), sh(2024, 3, 1, 6, 0)]
        );
        let s = parse("0 6 1 jan,jul *");
        assert_eq!(
            next_n(&s, sh(2024, 1, 15, 0, 0), 2),
            vec![sh(2024, 7, 1, 6, 0), sh(2025, 1, 1, 6, 0)]
        );
    }

    #[test]
    fn shortcuts() {
        let from = sh(2024, 6, 3, 10, 7); // Monday
        assert_eq!(parse("@daily").next_after(from), Some(sh(2024, 6, 4, 0, 0)));
        assert_eq!(
            parse("@hourly").next_after(from),
            Some(sh(2024, 6, 3, 11, 0))
        );
        assert_eq!(
            parse("@weekly").next_after(from),
            Some(sh(2024, 6, 9, 0, 0))
        );
        assert_eq!(
            parse("@MONTHLY").next_after(from),
            Some(sh(2024, 7, 1, 0, 0))
        );
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        // Crontab rule: 1st of the month OR any Monday. 2024-06-01 is a Saturday.
        let s = parse("0 6 1 * MON");
        assert_eq!(
            next_n(&s, sh(2024, 5, 31, 0, 0), 3),
            vec![
                sh(2024, 6, 1, 6, 0),
                sh(2024, 6, 3, 6, 0),
                sh(2024, 6, 10, 6, 0)
            ]
        );
        assert_eq!(
            s.latest_at_or_before(sh(2024, 6, 2, 0, 0)),
            Some(sh(2024, 6, 1, 6, 0))
        );
    }

    #[test]
    fn utc_and_other_zones() {
        let s = Schedule::parse("30 2 * * *", chrono_tz::UTC).expect("parses");
        assert_eq!(
            s.next_after(local(chrono_tz::UTC, 2024, 6, 3, 0, 0)),
            Some(local(chrono_tz::UTC, 2024, 6, 3, 2, 30))
        );
        // Urumqi is UTC+6 all year, Kolkata UTC+5:30 (no DST in either).
        for tz in [chrono_tz::Asia::Urumqi, chrono_tz::Asia::Kolkata] {
            let s = Schedule::parse("30 2 * * *", tz).expect("parses");
            let next = s.next_after(local(tz, 2024, 6, 3, 0, 0));
            assert_eq!(next, Some(local(tz, 2024, 6, 3, 2, 30)), "{tz}");
            let shown = s.upcoming(local(tz, 2024, 6, 3, 0, 0), 1);
            assert_eq!(
                shown
                    .first()
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
                Some("2024-06-03 02:30".to_string())
            );
        }
    }

    #[test]
    fn dst_zone_fires_once_in_repeated_hour() {
        // New York falls back on 2024-11-03: 01:30 happens twice.
        let tz = chrono_tz::America::New_York;
        let s = Schedule::parse("30 1 * * *", tz).expect("parses");
        let first = s
            .next_after(local(tz, 2024, 11, 3, 0, 0))
            .expect("fires on 3 Nov");
        // The first 01:30 (EDT, UTC-4) ...
        assert_eq!(first, local(tz, 2024, 11, 3, 1, 30));
        assert_eq!(first.format("%H:%M").to_string(), "05:30");
        // ... and not the second (EST): the next run is the following day.
        let second = s.next_after(first).expect("fires again");
        assert_eq!(second, local(tz, 2024, 11, 4, 1, 30));
        // Spring forward (2024-03-10): 02:30 does not exist; the job fires the next day.
        let s = Schedule::parse("30 2 * * *", tz).expect("parses");
        assert_eq!(
            s.next_after(local(tz, 2024, 3, 10, 0, 0)),
            Some(local(tz, 2024, 3, 11, 2, 30))
        );
    }

    #[test]
    fn missed_since_returns_latest_missed_once() {
        let s = parse("30 2 * * *");
        let now = sh(2024, 6, 3, 10, 0);
        // Last run two days ago: three runs missed (1st, 2nd, 3rd June), catch up the latest.
        assert_eq!(
            s.missed_since(Some(sh(2024, 6, 1, 2, 30) - Duration::hours(1)), now),
            Some(sh(2024, 6, 3, 2, 30))
        );
        // Ran today at 02:30: nothing missed.
        assert_eq!(s.missed_since(Some(sh(2024, 6, 3, 2, 30)), now), None);
        // A fire time exactly at `now` counts (the interval is closed on the right).
        assert_eq!(
            s.missed_since(Some(sh(2024, 6, 2, 2, 30)), sh(2024, 6, 3, 2, 30)),
            Some(sh(2024, 6, 3, 2, 30))
        );
        // Never ran: the latest fire time counts.
        assert_eq!(s.missed_since(None, now), Some(sh(2024, 6, 3, 2, 30)));
        // Sub-second `now` just before a fire time does not include it.
        let almost = sh(2024, 6, 4, 2, 30) - Duration::milliseconds(500);
        assert_eq!(s.latest_at_or_before(almost), Some(sh(2024, 6, 3, 2, 30)));
    }

    fn err(line: &str) -> String {
        match Schedule::parse(line, DEFAULT_TZ) {
            Ok(_) => panic!("`{line}` should be refused"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bad_lines_give_clear_errors() {
        let e = err("61 * * * *");
        assert!(e.contains("minute (1st field)"), "{e}");
        assert!(e.contains("61 is out of range"), "{e}");
        assert!(e.contains("0-59"), "{e}");

        let e = err("* * *");
        assert!(e.contains("has 3 field(s) but needs exactly 5"), "{e}");
        assert!(e.contains("30 2 * * *"), "{e}");

        let e = err("0 25 * * *");
        assert!(e.contains("hour (2nd field)"), "{e}");
        assert!(e.contains("25 is out of range"), "{e}");
        assert!(e.contains("0-23"), "{e}");

        let e = err("0 8 * * MON-FRX");
        assert!(e.contains("day-of-week"), "{e}");
        assert!(e.contains("`FRX` is not a number or a day name"), "{e}");

        let e = err("0 8 * * 5-1");
        assert!(e.contains("goes backwards"), "{e}");

        let e = err("*/0 * * * *");
        assert!(e.contains("step 0"), "{e}");

        let e = err("0 0 31 4 *");
        assert!(e.contains("never fires"), "{e}");

        let e = err("@reboot");
        assert!(e.contains("unknown shortcut"), "{e}");

        assert_eq!(err("   "), ScheduleError::Empty.to_string());
        assert!(err("0 0 1,,2 * *").contains("empty entry"));
        assert!(err("0 0 0 * *").contains("0 is out of range"));
        assert!(err("99999999999 * * * *").contains("out of range"));
    }

    #[test]
    fn feb_29_is_possible() {
        let s = parse("0 0 29 2 *");
        assert_eq!(
            s.next_after(sh(2025, 1, 1, 0, 0)),
            Some(sh(2028, 2, 29, 0, 0))
        );
    }

    #[test]
    fn time_zone_names() {
        assert_eq!(parse_tz("Asia/Shanghai"), Ok(chrono_tz::Asia::Shanghai));
        let e = parse_tz("Asia/Beijing").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("unknown time zone `Asia/Beijing`; use an IANA name such as `Asia/Shanghai` or `UTC`")
        );
    }
}
