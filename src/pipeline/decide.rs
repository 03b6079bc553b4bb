//! What this run's leads become, decided from data alone: where each goes (a township, the
//! county's 待核实 list, another county), and what its lifecycle state makes of its row.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;

use super::gather::Gathered;
use super::lists::{self, SideLists};
use super::release::{withheld_leads, Gates};
use crate::domain::LeadId;
use crate::leads::hold::{self, Destination};
use crate::leads::lifecycle::{self, Advance, DispositionFact, DispositionRules};
use crate::leads::{find_leads, Lead, LeadState};
use crate::place::Locator;
use crate::resolve::{Link, MasterRecord, PairEvidence};
use crate::screen::filing::FilingStatus;
use crate::screen::scope::Scope;
use crate::screen::Assessment;

/// What earlier runs left that this run's decisions need, read from the store.
#[derive(Default)]
pub struct Memory {
    /// Every lead ever seen, by lead id.
    pub states: HashMap<String, LeadState>,
    /// The leads of the last run; read only when a feed is stale (see [`Gates::stale`]).
    pub last_run_leads: HashSet<LeadId>,
    /// The latest disposition of each lead; read only when the lifecycle moves.
    pub dispositions: HashMap<String, DispositionFact>,
}

/// This run's decisions: its leads (with their states applied), where the others went, and
/// which are withheld.
pub struct Decision {
    /// Every lead found for a township, including withheld ones and ones closed by a state.
    pub leads: Vec<Lead>,
    /// Leads for the county's 待核实 list and for other counties.
    pub side: SideLists,
    /// Status words the operating rules do not know, with how many employers gave them.
    pub unknown_statuses: BTreeMap<String, usize>,
    /// New leads resting on a stale feed: kept, not handed out.
    pub withheld: HashSet<LeadId>,
    /// Lead states after this run (unchanged when the lifecycle does not move).
    pub advance: Advance,
}

impl Decision {
    /// The leads on this run's township lists.
    pub fn listed(&self) -> Vec<&Lead> {
        listed(&self.leads, &self.withheld, &self.advance)
    }
}

/// Decides a run from what it gathered, how its sources stand and what earlier runs left:
/// the leads found and routed, the new ones withheld for a stale feed, the lifecycle moved
/// (when the register can be trusted) and each lead's state applied.
pub fn decide(
    gathered: &Gathered,
    gates: &Gates,
    memory: Memory,
    rules: &DispositionRules,
    run: ThisRun,
) -> Decision {
    let Gathered {
        observations,
        resolution,
        locator,
        scopes,
        placements,
        assessments,
        ..
    } = gathered;
    let records = &resolution.records;
    let mut leads = if gates.register_missing {
        Vec::new()
    } else {
        let members = lists::members_by_entity(observations, &resolution.links);
        find_leads(records, assessments, placements, locator, &members)
    };
    // Leads of another county, and leads resting on an unsure match, do not go to a township.
    let side = route(
        &mut leads,
        records,
        assessments,
        scopes,
        &resolution.review,
        &resolution.links,
    );
    let withheld = if gates.stale.is_empty() || leads.is_empty() {
        HashSet::new()
    } else {
        // Listed before: a lead listed now, or on the last run's list.
        let mut before: HashSet<LeadId> = memory
            .states
            .values()
            .filter(|s| s.status.is_listed())
            .map(|s| s.lead_id.clone())
            .collect();
        before.extend(memory.last_run_leads);
        withheld_leads(&leads, &resolution.links, &before, &gates.stale)
    };
    let advance = if gates.lifecycle_moves {
        let found: Vec<lifecycle::Found> = leads
            .iter()
            .filter(|l| !withheld.contains(&l.lead_id))
            .map(|l| lifecycle::Found {
                lead_id: l.lead_id.clone(),
                entity_id: l.entity_id.clone(),
                kind: l.kind,
                township_code: l.township_code.clone(),
                activity: l.activity.clone(),
            })
            .collect();
        lifecycle::advance(
            &memory.states,
            &found,
            &memory.dispositions,
            rules,
            run.id,
            run.as_of,
        )
    } else {
        Advance {
            states: memory.states.into_iter().collect(),
            transitions: Vec::new(),
        }
    };
    apply_states(&mut leads, &advance, records, assessments, locator, run);
    Decision {
        leads,
        side,
        unknown_statuses: lists::unknown_statuses(assessments),
        withheld,
        advance,
    }
}

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
        match hold::destination(
            &records[i],
            &scopes[i],
            unsure.get(l.entity_id.as_str()),
            covers,
        ) {
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

    fn unfiled(id: &str) -> Assessment {
        Assessment {
            entity_id: id.into(),
            risk_class: None,
            operating: true,
            operating_basis: "税务状态正常".into(),
            filing: FilingStatus::Never,
            rule_ids: vec!["severe_hazard".into()],
            reasons: vec!["未申报".into()],
            size: None,
            sme_assistance: false,
            unknown_statuses: Vec::new(),
            flags: Vec::new(),
        }
    }

    /// Two unfiled employers, each with a market and an exam record.
    fn two_unfiled() -> Gathered {
        let obs = |source: &str, key: &str| crate::domain::Observation {
            source: source.into(),
            record_key: key.into(),
            ..Default::default()
        };
        let records = ["E1", "E2"]
            .map(|id| MasterRecord {
                entity_id: id.into(),
                ..Default::default()
            })
            .to_vec();
        let links = [("market", "1", "E1"), ("exam", "1", "E1")]
            .into_iter()
            .chain([("market", "2", "E2"), ("exam", "2", "E2")])
            .map(|(s, k, e)| Link::seed(s, k, e))
            .collect();
        Gathered {
            observations: vec![
                obs("market", "1"),
                obs("exam", "1"),
                obs("market", "2"),
                obs("exam", "2"),
            ],
            sources: Vec::new(),
            incremental: None,
            resolution: crate::resolve::Resolution {
                records,
                links,
                ..Default::default()
            },
            locator: std::sync::Arc::new(Locator::new(&crate::place::Gazetteer::default())),
            scopes: vec![Scope::Local, Scope::Local],
            placements: vec![
                crate::place::Placement::unplaced(),
                crate::place::Placement::unplaced(),
            ],
            assessments: vec![unfiled("E1"), unfiled("E2")],
        }
    }

    /// With the exam feed stale, the lead listed before stays listed and the new one that
    /// rests on that feed is withheld (and gets no state); with every feed fresh both are
    /// listed; without a register nothing is found and no state moves.
    #[test]
    fn a_run_is_decided_from_its_gates_and_what_earlier_runs_left() {
        let gathered = two_unfiled();
        let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
        let (id1, id2) = (
            LeadKind::Unfiled.lead_id("E1"),
            LeadKind::Unfiled.lead_id("E2"),
        );
        let mut before = LeadState::first_listed(&id1, "E1", LeadKind::Unfiled, None, 1, as_of);
        before.status = LeadStatus::Open;
        let memory = || Memory {
            states: [(id1.to_string(), before.clone())].into(),
            ..Default::default()
        };
        let rules = DispositionRules::default();
        let run = ThisRun {
            id: 2,
            as_of,
            lapse_months: 0,
        };
        let stale = Gates {
            register_missing: false,
            push_blocked: None,
            stale: ["exam".to_string()].into(),
            lifecycle_moves: true,
        };
        let d = decide(&gathered, &stale, memory(), &rules, run);
        assert_eq!(d.leads.len(), 2, "both are found");
        assert_eq!(d.withheld, HashSet::from([id2.clone()]));
        let listed: Vec<&LeadId> = d.listed().iter().map(|l| &l.lead_id).collect();
        assert_eq!(listed, [&id1]);
        assert!(d.advance.states.contains_key(id1.as_str()));
        assert!(
            !d.advance.states.contains_key(id2.as_str()),
            "a withheld lead gets no state"
        );

        let fresh = Gates {
            stale: HashSet::new(),
            ..stale
        };
        let d = decide(&gathered, &fresh, memory(), &rules, run);
        assert!(d.withheld.is_empty());
        assert_eq!(d.listed().len(), 2);

        let missing = Gates {
            register_missing: true,
            lifecycle_moves: false,
            ..fresh
        };
        let d = decide(&gathered, &missing, memory(), &rules, run);
        assert!(d.leads.is_empty(), "no register, no leads");
        assert!(d.advance.transitions.is_empty());
        assert_eq!(
            d.advance.states.get(id1.as_str()).map(|s| s.status),
            Some(LeadStatus::Open),
            "states stand still"
        );
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
