//! Leads across runs: new, still open, resolved (the employer filed or no longer qualifies),
//! closed by a township's disposition, and reopened. A pure function of the last states.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{EntityId, Feed, LeadId, TownshipCode};
use crate::screen::LeadKind;

/// Where a lead stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    /// Listed for the first time this run.
    New,
    /// Listed before and still listed.
    Open,
    /// No longer a lead: the employer filed, or stopped qualifying.
    Resolved,
    /// A township's disposition closed it.
    Closed,
    /// Resolved or closed before, listed again (new activity, or the claimed filing never
    /// appeared).
    Reopened,
}

impl LeadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Open => "open",
            LeadStatus::Resolved => "resolved",
            LeadStatus::Closed => "closed",
            LeadStatus::Reopened => "reopened",
        }
    }

    pub fn parse(s: &str) -> Option<LeadStatus> {
        [
            LeadStatus::New,
            LeadStatus::Open,
            LeadStatus::Resolved,
            LeadStatus::Closed,
            LeadStatus::Reopened,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The status from its Chinese label (`新增` …), as a township list shows it.
    pub fn from_label_zh(label: &str) -> Option<LeadStatus> {
        [
            LeadStatus::New,
            LeadStatus::Open,
            LeadStatus::Resolved,
            LeadStatus::Closed,
            LeadStatus::Reopened,
        ]
        .into_iter()
        .find(|s| s.label_zh() == label)
    }

    /// Listed on the township's list.
    pub fn is_listed(self) -> bool {
        matches!(
            self,
            LeadStatus::New | LeadStatus::Open | LeadStatus::Reopened
        )
    }

    /// As township staff read it in the 线索状态 column.
    pub fn label_zh(self) -> &'static str {
        match self {
            LeadStatus::New => "新增",
            LeadStatus::Open => "持续",
            LeadStatus::Resolved => "已解决",
            LeadStatus::Closed => "已关闭",
            LeadStatus::Reopened => "重新列入",
        }
    }
}

/// A lead's standing, kept from run to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadState {
    pub lead_id: LeadId,
    pub entity_id: EntityId,
    pub kind: LeadKind,
    pub status: LeadStatus,
    pub township_code: Option<TownshipCode>,
    /// When the lead was first listed.
    pub first_seen: NaiveDate,
    /// When it was last listed (new, opened or reopened).
    pub opened_on: NaiveDate,
    /// When it was last resolved or closed.
    pub closed_on: Option<NaiveDate>,
    /// The township a disposition (不在本辖区) moved it to; it is listed there from then on,
    /// whatever the placement says.
    #[serde(default)]
    pub assigned_township: Option<TownshipCode>,
    /// Why it was resolved or closed (in Chinese).
    pub close_reason: Option<String>,
    /// The last run that found it a lead.
    pub last_run: i64,
}

impl LeadState {
    /// A lead listed for the first time on `as_of`, by run `run_id`.
    pub fn first_listed(
        lead_id: &str,
        entity_id: &str,
        kind: LeadKind,
        township_code: Option<TownshipCode>,
        run_id: i64,
        as_of: NaiveDate,
    ) -> LeadState {
        LeadState {
            lead_id: lead_id.into(),
            entity_id: entity_id.into(),
            kind,
            status: LeadStatus::New,
            township_code,
            first_seen: as_of,
            opened_on: as_of,
            closed_on: None,
            assigned_township: None,
            close_reason: None,
            last_run: run_id,
        }
    }
}

/// A township's disposition as the lifecycle needs it (signed off).
#[derive(Debug, Clone, PartialEq)]
pub struct DispositionFact {
    pub lead_id: LeadId,
    /// The 核实情况 value (`已申报`, `停产停业超过6个月` …).
    pub kind: String,
    pub decided_on: NaiveDate,
    /// For 不在本辖区: the township it is really in.
    pub transfer_to: Option<String>,
}

/// What a disposition does to its lead. Configured per 核实情况 value in `[lifecycle]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Closed; listed again when the lead still holds `months` after the disposition (the
    /// employer said it filed, and no filing appeared).
    Recheck { months: u32 },
    /// Closed; listed again when one of the `reopen_on` feeds has a record dated after the
    /// disposition, or (when set) `max_months` after it.
    Suppress {
        reopen_on: Vec<Feed>,
        max_months: Option<u32>,
    },
    /// Moved to the named township and kept open there (closed like `Suppress` on every
    /// feed when no township is named).
    Transfer,
}

/// The effect of each 核实情况 value; a value without a rule closes its lead until any
/// feed shows new activity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DispositionRules {
    pub rules: Vec<(String, Effect)>,
}

impl DispositionRules {
    pub fn effect_of(&self, kind: &str) -> Effect {
        self.rules
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, e)| e.clone())
            .unwrap_or(Effect::Suppress {
                reopen_on: Feed::ALL.to_vec(),
                max_months: None,
            })
    }
}

/// A lead found this run.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub lead_id: LeadId,
    pub entity_id: EntityId,
    pub kind: LeadKind,
    pub township_code: Option<TownshipCode>,
    /// The latest dated record of the employer in each feed (tax, exam, testing …).
    pub activity: Vec<(Feed, NaiveDate)>,
}

/// One change of status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub lead_id: LeadId,
    pub from: Option<LeadStatus>,
    pub to: LeadStatus,
    pub note: String,
}

/// The states after this run, and the transitions that led there.
#[derive(Debug, Clone, Default)]
pub struct Advance {
    pub states: BTreeMap<String, LeadState>,
    pub transitions: Vec<Transition>,
}

/// Moves every lead forward by one run. `previous` holds every lead ever seen; `found` the
/// leads this run found; `dispositions` the latest disposition of each lead.
pub fn advance(
    previous: &HashMap<String, LeadState>,
    found: &[Found],
    dispositions: &HashMap<String, DispositionFact>,
    rules: &DispositionRules,
    run_id: i64,
    as_of: NaiveDate,
) -> Advance {
    let mut out = Advance::default();
    let mut seen: HashSet<&str> = HashSet::new();
    for f in found {
        seen.insert(f.lead_id.as_str());
        let prev = previous.get(f.lead_id.as_str());
        let disposition = dispositions.get(f.lead_id.as_str());
        let (status, note) = match prev {
            None => (LeadStatus::New, "首次列入".to_string()),
            Some(p) => match p.status {
                LeadStatus::New | LeadStatus::Open | LeadStatus::Reopened => {
                    match disposition.filter(|d| d.decided_on >= p.opened_on) {
                        Some(d) => match (rules.effect_of(&d.kind), &d.transfer_to) {
                            (Effect::Transfer, Some(to))
                                if p.assigned_township.as_deref() != Some(to.as_str()) =>
                            {
                                (LeadStatus::Open, format!("乡镇核实：{}，转交{to}", d.kind))
                            }
                            (Effect::Transfer, Some(_)) => (LeadStatus::Open, String::new()),
                            _ => (LeadStatus::Closed, format!("乡镇核实：{}", d.kind)),
                        },
                        None => (LeadStatus::Open, String::new()),
                    }
                }
                LeadStatus::Resolved => (LeadStatus::Reopened, "再次符合线索条件".to_string()),
                LeadStatus::Closed => match disposition {
                    Some(d) => match reopen_reason(d, f, rules, as_of) {
                        Some(why) => (LeadStatus::Reopened, why),
                        None => (LeadStatus::Closed, String::new()),
                    },
                    // Closed without a disposition on record (it was withdrawn): list again.
                    None => (LeadStatus::Reopened, "核实结果已撤回".to_string()),
                },
            },
        };
        let mut state = match prev {
            Some(p) => p.clone(),
            None => LeadState::first_listed(
                &f.lead_id,
                &f.entity_id,
                f.kind,
                f.township_code.clone(),
                run_id,
                as_of,
            ),
        };
        state.entity_id = f.entity_id.clone();
        state.township_code = f.township_code.clone();
        state.last_run = run_id;
        match status {
            LeadStatus::Reopened => {
                state.opened_on = as_of;
                state.closed_on = None;
                state.close_reason = None;
            }
            LeadStatus::Closed if prev.is_some_and(|p| p.status != LeadStatus::Closed) => {
                state.closed_on = Some(as_of);
                state.close_reason = Some(note.clone());
            }
            _ => {}
        }
        let transfer = disposition
            .filter(|_| status == LeadStatus::Open && !note.is_empty())
            .and_then(|d| d.transfer_to.clone());
        if let Some(to) = transfer {
            state.assigned_township = Some(to.into());
        }
        if prev.map(|p| p.status) != Some(status) || !note.is_empty() && status == LeadStatus::Open
        {
            out.transitions.push(Transition {
                lead_id: f.lead_id.clone(),
                from: prev.map(|p| p.status),
                to: status,
                note,
            });
        }
        state.status = status;
        out.states.insert(f.lead_id.to_string(), state);
    }
    for (id, p) in previous {
        if seen.contains(id.as_str()) {
            continue;
        }
        let mut state = p.clone();
        if p.status.is_listed() {
            state.status = LeadStatus::Resolved;
            state.closed_on = Some(as_of);
            let why = match p.kind {
                LeadKind::Unfiled => "已查到有效申报，或不再符合线索条件",
                _ => "不再符合线索条件",
            };
            state.close_reason = Some(why.to_string());
            out.transitions.push(Transition {
                lead_id: id.as_str().into(),
                from: Some(p.status),
                to: LeadStatus::Resolved,
                note: why.to_string(),
            });
        }
        out.states.insert(id.clone(), state);
    }
    out
}

/// Why a closed lead that still holds is listed again, if it is.
fn reopen_reason(
    d: &DispositionFact,
    f: &Found,
    rules: &DispositionRules,
    as_of: NaiveDate,
) -> Option<String> {
    let after = |months: u32| d.decided_on.checked_add_months(chrono::Months::new(months));
    let (reopen_on, max_months) = match rules.effect_of(&d.kind) {
        Effect::Recheck { months } => {
            return (as_of >= after(months)?).then(|| {
                format!(
                    "乡镇{}核实为“{}”，{months}个月后仍未查到有效申报",
                    d.decided_on, d.kind
                )
            });
        }
        Effect::Suppress {
            reopen_on,
            max_months,
        } => (reopen_on, max_months),
        Effect::Transfer => (Feed::ALL.to_vec(), None),
    };
    let newer = f
        .activity
        .iter()
        .filter(|(feed, date)| reopen_on.contains(feed) && *date > d.decided_on)
        .max_by_key(|(_, date)| *date);
    if let Some((feed, date)) = newer {
        return Some(format!(
            "乡镇{}核实为“{}”，此后{date}又有{}记录",
            d.decided_on,
            d.kind,
            feed.label_zh()
        ));
    }
    let months = max_months?;
    (as_of >= after(months)?).then(|| {
        format!(
            "乡镇{}核实为“{}”，已满{months}个月，重新核实",
            d.decided_on, d.kind
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn found(id: &str, activity: Option<NaiveDate>) -> Found {
        found_with(id, activity.map(|d| (Feed::Tax, d)).into_iter().collect())
    }

    fn found_with(id: &str, activity: Vec<(Feed, NaiveDate)>) -> Found {
        Found {
            lead_id: id.into(),
            entity_id: format!("E{id}").into(),
            kind: LeadKind::Unfiled,
            township_code: Some("350583100".into()),
            activity,
        }
    }

    fn rules() -> DispositionRules {
        DispositionRules {
            rules: vec![
                ("已申报".into(), Effect::Recheck { months: 2 }),
                (
                    "无职业病危害因素".into(),
                    Effect::Suppress {
                        reopen_on: vec![Feed::Exam, Feed::Testing],
                        max_months: Some(12),
                    },
                ),
                ("不在本辖区".into(), Effect::Transfer),
            ],
        }
    }

    fn disp(id: &str, kind: &str, on: NaiveDate) -> (String, DispositionFact) {
        (
            id.to_string(),
            DispositionFact {
                lead_id: id.into(),
                kind: kind.into(),
                decided_on: on,
                transfer_to: None,
            },
        )
    }

    fn status(a: &Advance, id: &str) -> LeadStatus {
        a.states.get(id).map(|s| s.status).expect("state")
    }

    #[test]
    fn a_lead_goes_new_open_resolved_reopened() {
        let none = HashMap::new();
        let r1 = advance(
            &HashMap::new(),
            &[found("1", None)],
            &none,
            &rules(),
            1,
            d(2025, 4, 30),
        );
        assert_eq!(status(&r1, "1"), LeadStatus::New);
        let prev: HashMap<_, _> = r1.states.into_iter().collect();
        let r2 = advance(
            &prev,
            &[found("1", None)],
            &none,
            &rules(),
            2,
            d(2025, 5, 31),
        );
        assert_eq!(status(&r2, "1"), LeadStatus::Open);
        assert_eq!(r2.transitions.len(), 1);
        assert_eq!(r2.transitions[0].to, LeadStatus::Open);
        let prev: HashMap<_, _> = r2.states.into_iter().collect();
        // The employer filed: gone from the leads.
        let r3 = advance(&prev, &[], &none, &rules(), 3, d(2025, 6, 30));
        assert_eq!(status(&r3, "1"), LeadStatus::Resolved);
        assert_eq!(r3.states["1"].closed_on, Some(d(2025, 6, 30)));
        let prev: HashMap<_, _> = r3.states.into_iter().collect();
        // Its declaration lapsed again a year later.
        let r4 = advance(
            &prev,
            &[found("1", None)],
            &none,
            &rules(),
            4,
            d(2026, 8, 31),
        );
        assert_eq!(status(&r4, "1"), LeadStatus::Reopened);
        assert_eq!(r4.states["1"].opened_on, d(2026, 8, 31));
        assert_eq!(r4.states["1"].first_seen, d(2025, 4, 30));
    }

    #[test]
    fn a_disposition_closes_and_new_activity_reopens() {
        let r1 = advance(
            &HashMap::new(),
            &[found("1", None)],
            &HashMap::new(),
            &rules(),
            1,
            d(2025, 4, 30),
        );
        let prev: HashMap<_, _> = r1.states.into_iter().collect();
        let stopped: HashMap<_, _> = [disp("1", "停产停业超过6个月", d(2025, 5, 10))].into();
        let tax_before = Some(d(2025, 3, 31));
        let r2 = advance(
            &prev,
            &[found("1", tax_before)],
            &stopped,
            &rules(),
            2,
            d(2025, 5, 31),
        );
        assert_eq!(status(&r2, "1"), LeadStatus::Closed);
        assert_eq!(
            r2.states["1"].close_reason.as_deref(),
            Some("乡镇核实：停产停业超过6个月")
        );
        let prev: HashMap<_, _> = r2.states.into_iter().collect();
        // Still no new activity: stays closed, off the list.
        let r3 = advance(
            &prev,
            &[found("1", tax_before)],
            &stopped,
            &rules(),
            3,
            d(2025, 6, 30),
        );
        assert_eq!(status(&r3, "1"), LeadStatus::Closed);
        assert!(r3.transitions.is_empty());
        let prev: HashMap<_, _> = r3.states.into_iter().collect();
        // Tax activity resumes after the disposition: reopened.
        let r4 = advance(
            &prev,
            &[found("1", Some(d(2025, 7, 15)))],
            &stopped,
            &rules(),
            4,
            d(2025, 7, 31),
        );
        assert_eq!(status(&r4, "1"), LeadStatus::Reopened);
        assert!(
            r4.transitions[0].note.contains("2025-07-15"),
            "{}",
            r4.transitions[0].note
        );
    }

    #[test]
    fn a_claimed_filing_that_never_appears_reopens_after_the_recheck_time() {
        let r1 = advance(
            &HashMap::new(),
            &[found("1", None)],
            &HashMap::new(),
            &rules(),
            1,
            d(2025, 4, 30),
        );
        let prev: HashMap<_, _> = r1.states.into_iter().collect();
        let filed: HashMap<_, _> = [disp("1", "已申报", d(2025, 5, 5))].into();
        let r2 = advance(
            &prev,
            &[found("1", None)],
            &filed,
            &rules(),
            2,
            d(2025, 5, 31),
        );
        assert_eq!(status(&r2, "1"), LeadStatus::Closed);
        let prev: HashMap<_, _> = r2.states.into_iter().collect();
        let r3 = advance(
            &prev,
            &[found("1", None)],
            &filed,
            &rules(),
            3,
            d(2025, 6, 30),
        );
        assert_eq!(status(&r3, "1"), LeadStatus::Closed, "only 1 month later");
        let prev: HashMap<_, _> = r3.states.into_iter().collect();
        let r4 = advance(
            &prev,
            &[found("1", None)],
            &filed,
            &rules(),
            4,
            d(2025, 7, 31),
        );
        assert_eq!(status(&r4, "1"), LeadStatus::Reopened);
    }

    #[test]
    fn no_hazards_holds_against_tax_activity_but_not_against_a_new_exam_or_a_year() {
        let r1 = advance(
            &HashMap::new(),
            &[found("1", None)],
            &HashMap::new(),
            &rules(),
            1,
            d(2025, 4, 30),
        );
        let prev: HashMap<_, _> = r1.states.into_iter().collect();
        let none: HashMap<_, _> = [disp("1", "无职业病危害因素", d(2025, 5, 10))].into();
        let r2 = advance(
            &prev,
            &[found("1", None)],
            &none,
            &rules(),
            2,
            d(2025, 5, 31),
        );
        assert_eq!(status(&r2, "1"), LeadStatus::Closed);
        let prev: HashMap<_, _> = r2.states.into_iter().collect();
        // Tax activity does not undo "no hazards".
        let taxed = found_with("1", vec![(Feed::Tax, d(2025, 6, 20))]);
        let r3 = advance(&prev, &[taxed], &none, &rules(), 3, d(2025, 6, 30));
        assert_eq!(status(&r3, "1"), LeadStatus::Closed);
        let prev3: HashMap<_, _> = r3.states.into_iter().collect();
        // A new exam does.
        let examined = found_with("1", vec![(Feed::Exam, d(2025, 7, 2))]);
        let r4 = advance(&prev3, &[examined], &none, &rules(), 4, d(2025, 7, 31));
        assert_eq!(status(&r4, "1"), LeadStatus::Reopened);
        assert!(
            r4.transitions[0].note.contains("职业健康检查"),
            "{}",
            r4.transitions[0].note
        );
        // So does the end of the 12 months.
        let r5 = advance(
            &prev3,
            &[found("1", None)],
            &none,
            &rules(),
            4,
            d(2026, 5, 10),
        );
        assert_eq!(status(&r5, "1"), LeadStatus::Reopened);
    }

    #[test]
    fn not_in_this_township_moves_the_lead_and_keeps_it_open() {
        let r1 = advance(
            &HashMap::new(),
            &[found("1", None)],
            &HashMap::new(),
            &rules(),
            1,
            d(2025, 4, 30),
        );
        let prev: HashMap<_, _> = r1.states.into_iter().collect();
        let mut moved = disp("1", "不在本辖区", d(2025, 5, 10));
        moved.1.transfer_to = Some("350583119".into());
        let moved: HashMap<_, _> = [moved].into();
        let r2 = advance(
            &prev,
            &[found("1", None)],
            &moved,
            &rules(),
            2,
            d(2025, 5, 31),
        );
        assert_eq!(status(&r2, "1"), LeadStatus::Open);
        assert_eq!(
            r2.states["1"].assigned_township.as_deref(),
            Some("350583119")
        );
        assert!(r2.transitions[0].note.contains("转交350583119"));
        // The next run keeps it there without another transition.
        let prev: HashMap<_, _> = r2.states.into_iter().collect();
        let r3 = advance(
            &prev,
            &[found("1", None)],
            &moved,
            &rules(),
            3,
            d(2025, 6, 30),
        );
        assert_eq!(
            r3.states["1"].assigned_township.as_deref(),
            Some("350583119")
        );
        assert!(r3.transitions.is_empty(), "{:?}", r3.transitions);
        // Without a township named it is closed.
        let unnamed: HashMap<_, _> = [disp("1", "不在本辖区", d(2025, 5, 10))].into();
        let prev1: HashMap<_, _> = advance(
            &HashMap::new(),
            &[found("1", None)],
            &HashMap::new(),
            &rules(),
            1,
            d(2025, 4, 30),
        )
        .states
        .into_iter()
        .collect();
        let r = advance(
            &prev1,
            &[found("1", None)],
            &unnamed,
            &rules(),
            2,
            d(2025, 5, 31),
        );
        assert_eq!(status(&r, "1"), LeadStatus::Closed);
    }

    #[test]
    fn a_disposition_older_than_the_listing_does_not_close_it() {
        let prev: HashMap<_, _> = advance(
            &HashMap::new(),
            &[found("1", None)],
            &HashMap::new(),
            &rules(),
            1,
            d(2025, 6, 30),
        )
        .states
        .into_iter()
        .collect();
        let old: HashMap<_, _> = [disp("1", "其他", d(2025, 1, 1))].into();
        let r = advance(
            &prev,
            &[found("1", None)],
            &old,
            &rules(),
            2,
            d(2025, 7, 31),
        );
        assert_eq!(status(&r, "1"), LeadStatus::Open);
    }
}
