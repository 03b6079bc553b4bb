//! What this run's leads become, decided from data alone: where each goes (a township, the
//! county's 待核实 list, another county), and what its lifecycle state makes of its row.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::lists::{self, SideLists};
use crate::domain::LeadId;
use crate::leads::hold::{self, Destination};
use crate::leads::lifecycle::Advance;
use crate::leads::Lead;
use crate::place::Locator;
use crate::resolve::{Link, MasterRecord, PairEvidence};
use crate::screen::filing::FilingStatus;
use crate::screen::scope::Scope;
use crate::screen::Assessment;

/// Keeps the leads that go to a township; the others go to the county's 待核实 list or to
/// another county's referral list (`side`). A lead resting on an unsure match waits when its
/// partner filed, is a lead itself or no longer operates: the record may be that employer.
pub fn route(
    leads: &mut Vec<Lead>,
    records: &[MasterRecord],
    assessments: &[Assessment],
    scopes: &[Scope],
    review: &[PairEvidence],
    links: &[Link],
) -> SideLists {
    let unsure = hold::unsure_matches(review, links);
    let index: HashMap<&str, usize> = records
        .iter()
        .enumerate()
        .map(|(i, m)| (m.entity_id.as_str(), i))
        .collect();
    let covers = |entity: &str| {
        index.get(entity).is_some_and(|&i| {
            let a = &assessments[i];
            a.filing == FilingStatus::Current || a.is_lead() || !a.operating
        })
    };
    let mut side = SideLists::default();
    leads.retain(|l| {
        let i = l.entity_index;
        match hold::destination(&records[i], &scopes[i], unsure.get(&l.entity_id), covers) {
            Destination::Township => true,
            other => {
                side.add(l, other, records[i].members);
                false
            }
        }
    });
    side
}

/// The run whose states are applied.
#[derive(Debug, Clone, Copy)]
pub struct ThisRun {
    pub id: i64,
    pub as_of: NaiveDate,
    /// `[policy] lapse_months`: months overdue count from a declaration's lapse.
    pub lapse_months: u32,
}

/// Gives each lead what its state says: status, first-listed date and priority, and the
/// township a township's 不在本辖区 finding moved it to.
pub fn apply_states(
    leads: &mut [Lead],
    advance: &Advance,
    records: &[MasterRecord],
    assessments: &[Assessment],
    locator: &Locator,
    run: ThisRun,
) {
    for lead in leads {
        let state = advance
            .states
            .get(lead.lead_id.as_str())
            .cloned()
            .unwrap_or_else(|| lists::unrecorded_state(lead, run.id, run.as_of));
        if let Some(code) = &state.assigned_township {
            // Moved by a township's 不在本辖区 finding: listed where it really is.
            lead.township_code = Some(code.clone());
            lead.row.township = locator.township_name(code).unwrap_or(code).to_string();
            lead.row.village.clear();
            lead.row.placement = "乡镇核实转交".to_string();
        }
        let i = lead.entity_index;
        crate::leads::build::finish(
            lead,
            &state,
            &records[i],
            &assessments[i],
            run.lapse_months,
            run.as_of,
        );
    }
}

/// The leads on this run's township lists: not withheld, and listed by their state.
pub fn listed<'a>(
    leads: &'a [Lead],
    withheld: &HashSet<LeadId>,
    advance: &Advance,
) -> Vec<&'a Lead> {
    leads
        .iter()
        .filter(|l| !withheld.contains(&l.lead_id))
        .filter(|l| {
            advance
                .states
                .get(l.lead_id.as_str())
                .is_none_or(|s| s.status.is_listed())
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::leads::lifecycle::LeadStatus;
    use crate::leads::{LeadRow, LeadState, Priority};
    use crate::screen::LeadKind;

    /// A bare unfiled lead of entity `id` (lead id `L` + `id`), for tests of what reads leads.
    pub(crate) fn lead(id: &str) -> Lead {
        Lead {
            lead_id: format!("L{id}").into(),
            kind: LeadKind::Unfiled,
            entity_id: id.into(),
            entity_index: 0,
            township_code: None,
            rule_ids: Vec::new(),
            evidence: Vec::new(),
            activity: Vec::new(),
            priority: Priority { score: 0 },
            status: None,
            row: LeadRow::default(),
        }
    }

    fn state(id: &str, status: LeadStatus) -> (String, LeadState) {
        let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
        let mut s =
            LeadState::first_listed(&format!("L{id}"), id, LeadKind::Unfiled, None, 1, as_of);
        s.status = status;
        (s.lead_id.to_string(), s)
    }

    /// A withheld lead and one its state no longer lists stay off the township lists; a
    /// lead without a state yet (new this run) is listed.
    #[test]
    fn only_leads_listed_by_their_state_and_not_withheld_are_listed() {
        let leads = [lead("E1"), lead("E2"), lead("E3"), lead("E4")];
        let advance = Advance {
            states: [
                state("E1", LeadStatus::Open),
                state("E2", LeadStatus::New),
                state("E3", LeadStatus::Resolved),
            ]
            .into_iter()
            .collect(),
            transitions: Vec::new(),
        };
        let withheld: HashSet<LeadId> = [LeadId::from("LE2")].into_iter().collect();
        let ids: Vec<&str> = listed(&leads, &withheld, &advance)
            .iter()
            .map(|l| l.lead_id.as_str())
            .collect();
        assert_eq!(ids, ["LE1", "LE4"]);
    }
}
