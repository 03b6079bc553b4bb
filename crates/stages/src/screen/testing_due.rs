//! Periodic hazard-testing reminders (职业病危害因素定期检测到期提醒, the 沧州 plan): which
//! operating employers of this county are due or overdue for workplace testing, by risk class.
//! A pure function of the run's records, assessments and placements; it does no I/O.
//!
//! An employer with no testing record at all is not on this list: nothing says when it is due,
//! and whether it has hazards at all is the lead lists' question, not this one's.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::catalogue::RiskClass;
use super::scope::Scope;
use super::Assessment;
use crate::domain::{EntityId, TownshipCode};
use crate::place::{Locator, Placement};
use crate::resolve::master::MasterRecord;

/// `[policy.testing]`: how often each risk class must be tested, and how early to remind.
/// Under 工作场所职业卫生管理规定 (2020) art. 20: 严重 at least yearly, 一般 every three years.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestingRules {
    /// Write the reminder lists at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Months between tests of an employer in a 严重 industry (at least 1).
    #[serde(default = "default_severe_months")]
    pub severe_months: u32,
    /// Months between tests of an employer in a 一般 industry (at least 1).
    #[serde(default = "default_general_months")]
    pub general_months: u32,
    /// An employer due within this many days is listed as 即将到期; 0: only due or overdue.
    #[serde(default = "default_due_soon_days")]
    pub due_soon_days: u32,
}

impl Default for TestingRules {
    fn default() -> Self {
        TestingRules {
            enabled: true,
            severe_months: default_severe_months(),
            general_months: default_general_months(),
            due_soon_days: default_due_soon_days(),
        }
    }
}

impl TestingRules {
    /// The testing interval of a risk class, in months.
    pub fn interval_months(&self, class: RiskClass) -> u32 {
        match class {
            RiskClass::Severe => self.severe_months,
            RiskClass::General => self.general_months,
        }
    }
}

fn yes() -> bool {
    true
}
fn default_severe_months() -> u32 {
    12
}
fn default_general_months() -> u32 {
    36
}
fn default_due_soon_days() -> u32 {
    30
}

/// Where an employer stands against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DueState {
    /// The due date is today (`days` = 0) or `days` days past.
    Overdue { days: i64 },
    /// The due date is `days_left` days ahead, inside `due_soon_days`.
    DueSoon { days_left: i64 },
}

impl DueState {
    /// Days past the due date; negative while it is still ahead.
    pub fn days_overdue(self) -> i64 {
        match self {
            DueState::Overdue { days } => days,
            DueState::DueSoon { days_left } => -days_left,
        }
    }

    /// The status township staff read: `已逾期N天`, `今日到期`, `即将到期（N天后）`.
    pub fn label_zh(self) -> String {
        match self {
            DueState::Overdue { days: 0 } => "今日到期".to_string(),
            DueState::Overdue { days } => format!("已逾期{days}天"),
            DueState::DueSoon { days_left } => format!("即将到期（{days_left}天后）"),
        }
    }
}

/// One employer to remind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reminder {
    pub entity_id: EntityId,
    pub name: String,
    /// The USCC as written (a code failing its check is kept, like everywhere else).
    pub uscc: Option<String>,
    pub address: Option<String>,
    /// `None`: this county's, but not placed in a township.
    pub township_code: Option<TownshipCode>,
    /// The township's name, `未能定位乡镇` when unplaced.
    pub township: String,
    /// The village's (community's) name; empty when unknown.
    pub village: String,
    pub risk_class: RiskClass,
    /// The latest testing report's date (testing feed).
    pub last_test: NaiveDate,
    /// `last_test` plus the class's interval.
    pub due_on: NaiveDate,
    pub state: DueState,
}

/// The employers due, overdue or due soon for periodic testing as of `as_of`: operating, this
/// county's (`Scope::Local`), with a risk class and a testing record. Most overdue first (the
/// earliest due date), then by township and name. Empty when `rules.enabled` is false.
/// The slices are the run's parallel vectors, one element per employer.
pub fn testing_due(
    records: &[MasterRecord],
    assessments: &[Assessment],
    placements: &[Placement],
    scopes: &[Scope],
    locator: &Locator,
    rules: &TestingRules,
    as_of: NaiveDate,
) -> Vec<Reminder> {
    if !rules.enabled {
        return Vec::new();
    }
    let mut out: Vec<Reminder> = records
        .iter()
        .zip(assessments)
        .zip(placements)
        .zip(scopes)
        .filter_map(|(((m, a), p), scope)| {
            if !a.operating || !scope.is_local() {
                return None;
            }
            let class = a.risk_class?;
            let last_test = m.last_test?;
            let due_on = due_date(last_test, rules.interval_months(class))?;
            let state = state(due_on, as_of, rules.due_soon_days)?;
            Some(Reminder {
                entity_id: m.entity_id.clone(),
                name: m.name.clone(),
                uscc: m.uscc.as_ref().map(|u| u.as_str().to_string()),
                address: m.address.clone(),
                township_code: p.township_code.clone(),
                township: locator
                    .township_label(p.township_code.as_deref())
                    .to_string(),
                village: locator.village_label(p.village_code.as_deref()).to_string(),
                risk_class: class,
                last_test,
                due_on,
                state,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.due_on
            .cmp(&b.due_on)
            .then_with(|| a.township_code.cmp(&b.township_code))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.entity_id.cmp(&b.entity_id))
    });
    out
}

/// When the next test is due: `months` after the last one (the month's last day when the day
/// does not exist, e.g. 2024-02-29 + 12 months = 2025-02-28).
pub fn due_date(last_test: NaiveDate, months: u32) -> Option<NaiveDate> {
    last_test.checked_add_months(Months::new(months))
}

/// `None` when the due date is further ahead than the due-soon window.
fn state(due_on: NaiveDate, as_of: NaiveDate, due_soon_days: u32) -> Option<DueState> {
    let days = (as_of - due_on).num_days();
    if days >= 0 {
        Some(DueState::Overdue { days })
    } else if -days <= i64::from(due_soon_days) {
        Some(DueState::DueSoon { days_left: -days })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::gazetteer::{Gazetteer, Township, Village};
    use crate::place::PlacementMethod;
    use crate::screen::filing::FilingStatus;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    const AS_OF: (i32, u32, u32) = (2025, 6, 30);

    fn as_of() -> NaiveDate {
        d(AS_OF.0, AS_OF.1, AS_OF.2)
    }

    fn locator() -> Locator {
        Locator::new(&Gazetteer::new(
            "350583",
            vec![
                Township {
                    code: "350583118".into(),
                    name: "官桥镇".into(),
                },
                Township {
                    code: "350583119".into(),
                    name: "水头镇".into(),
                },
            ],
            vec![Village {
                code: "350583119201".into(),
                name: "康店村委会".into(),
                township_code: "350583119".into(),
            }],
            Vec::new(),
        ))
    }

    /// One employer: its record, assessment, placement and scope.
    struct Emp {
        m: MasterRecord,
        a: Assessment,
        p: Placement,
        s: Scope,
    }

    fn emp(id: &str, class: Option<RiskClass>, last_test: Option<NaiveDate>) -> Emp {
        Emp {
            m: MasterRecord {
                entity_id: id.into(),
                name: format!("南安市{id}石材有限公司"),
                address: Some("水头镇康店村".into()),
                last_test,
                ..Default::default()
            },
            a: Assessment {
                entity_id: id.into(),
                risk_class: class,
                operating: true,
                operating_basis: "登记状态“存续”".into(),
                filing: FilingStatus::Current,
                rule_ids: Vec::new(),
                reasons: Vec::new(),
                size: None,
                sme_assistance: false,
                unknown_statuses: Vec::new(),
                flags: Vec::new(),
            },
            p: Placement {
                township_code: Some("350583119".into()),
                village_code: Some("350583119201".into()),
                method: PlacementMethod::Unplaced,
                confidence: 1.0,
                evidence: String::new(),
            },
            s: Scope::Local,
        }
    }

    fn run(emps: &[Emp], rules: &TestingRules) -> Vec<Reminder> {
        let records: Vec<_> = emps.iter().map(|e| e.m.clone()).collect();
        let assessments: Vec<_> = emps.iter().map(|e| e.a.clone()).collect();
        let placements: Vec<_> = emps.iter().map(|e| e.p.clone()).collect();
        let scopes: Vec<_> = emps.iter().map(|e| e.s.clone()).collect();
        testing_due(
            &records,
            &assessments,
            &placements,
            &scopes,
            &locator(),
            rules,
            as_of(),
        )
    }

    fn ids(rs: &[Reminder]) -> Vec<&str> {
        rs.iter().map(|r| r.entity_id.as_str()).collect()
    }

    #[test]
    fn severe_is_due_exactly_one_interval_after_its_last_test() {
        let rules = TestingRules::default();
        let today = run(
            &[emp("E1", Some(RiskClass::Severe), Some(d(2024, 6, 30)))],
            &rules,
        );
        assert_eq!(ids(&today), ["E1"]);
        let r = &today[0];
        assert_eq!(r.due_on, as_of());
        assert_eq!(r.state, DueState::Overdue { days: 0 });
        assert_eq!(r.state.label_zh(), "今日到期");
        assert_eq!(r.township, "水头镇");
        assert_eq!(r.village, "康店村委会");
        assert_eq!(r.risk_class, RiskClass::Severe);

        // One day before the interval is up: due tomorrow, so due soon.
        let tomorrow = run(
            &[emp("E1", Some(RiskClass::Severe), Some(d(2024, 7, 1)))],
            &rules,
        );
        assert_eq!(tomorrow[0].due_on, d(2025, 7, 1));
        assert_eq!(tomorrow[0].state, DueState::DueSoon { days_left: 1 });
        assert_eq!(tomorrow[0].state.label_zh(), "即将到期（1天后）");

        // One day past: overdue by one day.
        let late = run(
            &[emp("E1", Some(RiskClass::Severe), Some(d(2024, 6, 29)))],
            &rules,
        );
        assert_eq!(late[0].state, DueState::Overdue { days: 1 });
        assert_eq!(late[0].state.label_zh(), "已逾期1天");
    }

    #[test]
    fn the_due_soon_window_ends_at_its_last_day() {
        let rules = TestingRules {
            due_soon_days: 30,
            ..TestingRules::default()
        };
        // Due 2025-07-30: exactly 30 days ahead, inside the window.
        let inside = run(
            &[emp("E1", Some(RiskClass::Severe), Some(d(2024, 7, 30)))],
            &rules,
        );
        assert_eq!(inside[0].state, DueState::DueSoon { days_left: 30 });
        // Due 2025-07-31: 31 days ahead, not yet.
        let outside = run(
            &[emp("E1", Some(RiskClass::Severe), Some(d(2024, 7, 31)))],
            &rules,
        );
        assert!(outside.is_empty(), "{outside:?}");
        // No window: only due and overdue employers.
        let none = TestingRules {
            due_soon_days: 0,
            ..TestingRules::default()
        };
        let soon = emp("E1", Some(RiskClass::Severe), Some(d(2024, 7, 1)));
        assert!(run(&[soon], &none).is_empty());
        let due = emp("E2", Some(RiskClass::Severe), Some(d(2024, 6, 30)));
        assert_eq!(ids(&run(&[due], &none)), ["E2"]);
    }

    #[test]
    fn general_is_due_every_three_years_and_severe_every_year() {
        let rules = TestingRules::default();
        // Both tested two years ago: the 严重 one is a year overdue, the 一般 one not due.
        let tested = Some(d(2023, 6, 30));
        let out = run(
            &[
                emp("SEV", Some(RiskClass::Severe), tested),
                emp("GEN", Some(RiskClass::General), tested),
            ],
            &rules,
        );
        assert_eq!(ids(&out), ["SEV"]);
        assert_eq!(out[0].due_on, d(2024, 6, 30));
        assert_eq!(out[0].state, DueState::Overdue { days: 365 });
        // Three years ago to the day: the 一般 one is due today.
        let out = run(
            &[emp("GEN", Some(RiskClass::General), Some(d(2022, 6, 30)))],
            &rules,
        );
        assert_eq!(out[0].due_on, as_of());
        assert_eq!(out[0].risk_class, RiskClass::General);
        // The intervals are the configuration's.
        let yearly = TestingRules {
            general_months: 12,
            ..TestingRules::default()
        };
        assert_eq!(
            ids(&run(
                &[emp("GEN", Some(RiskClass::General), tested)],
                &yearly
            )),
            ["GEN"]
        );
    }

    #[test]
    fn closed_foreign_unclassified_and_untested_employers_are_not_listed() {
        let rules = TestingRules::default();
        let long_ago = Some(d(2020, 1, 1));
        let mut closed = emp("CLOSED", Some(RiskClass::Severe), long_ago);
        closed.a.operating = false;
        let mut foreign = emp("FOREIGN", Some(RiskClass::Severe), long_ago);
        foreign.s = Scope::OtherCounty {
            code: "350582".into(),
            name: "晋江市".into(),
            basis: String::new(),
        };
        let mut unregistered = emp("UNREG", Some(RiskClass::Severe), long_ago);
        unregistered.s = Scope::Unregistered;
        let unclassified = emp("NOCLASS", None, long_ago);
        let untested = emp("NOTEST", Some(RiskClass::Severe), None);
        let open = emp("OPEN", Some(RiskClass::Severe), long_ago);
        let out = run(
            &[closed, foreign, unregistered, unclassified, untested, open],
            &rules,
        );
        assert_eq!(ids(&out), ["OPEN"]);
    }

    #[test]
    fn most_overdue_first_and_unplaced_named_as_such() {
        let rules = TestingRules::default();
        let mut unplaced = emp("B", Some(RiskClass::Severe), Some(d(2024, 1, 1)));
        unplaced.p = Placement::unplaced();
        let out = run(
            &[
                emp("C", Some(RiskClass::Severe), Some(d(2024, 7, 10))),
                unplaced,
                emp("A", Some(RiskClass::Severe), Some(d(2023, 1, 1))),
            ],
            &rules,
        );
        assert_eq!(ids(&out), ["A", "B", "C"]);
        assert!(out[0].state.days_overdue() > out[1].state.days_overdue());
        assert!(out[2].state.days_overdue() < 0);
        assert_eq!(out[1].township, "未能定位乡镇");
        assert_eq!(out[1].township_code, None);
        assert_eq!(out[1].village, "");
    }

    #[test]
    fn disabled_lists_nobody() {
        let rules = TestingRules {
            enabled: false,
            ..TestingRules::default()
        };
        let e = emp("E1", Some(RiskClass::Severe), Some(d(2020, 1, 1)));
        assert!(run(&[e], &rules).is_empty());
    }

    #[test]
    fn a_month_end_test_is_due_at_the_end_of_the_month() {
        assert_eq!(due_date(d(2024, 2, 29), 12), Some(d(2025, 2, 28)));
        assert_eq!(due_date(d(2024, 1, 31), 1), Some(d(2024, 2, 29)));
    }
}
