//! Leads from screening: one per employer and lead kind, with the row township staff read,
//! its evidence, and (once the lifecycle has run) its status and priority.

use crate::domain::{EntityId, LeadId, TownshipCode};
use std::collections::HashMap;

use chrono::NaiveDate;

use super::evidence::{self, Evidence};
use super::lifecycle::{LeadState, LeadStatus};
use super::priority::{self, months_between, Priority};
use crate::domain::{Feed, Observation};
use crate::leads::row::LeadRow;
use crate::place::{Locator, Placement, PlacementMethod};
use crate::resolve::master::MasterRecord;
use crate::screen::filing::FilingStatus;
use crate::screen::{Assessment, LeadKind};

/// A lead found this run.
#[derive(Debug, Clone)]
pub struct Lead {
    pub lead_id: LeadId,
    pub kind: LeadKind,
    pub entity_id: EntityId,
    /// Index of the entity in the run's master records.
    pub entity_index: usize,
    pub township_code: Option<TownshipCode>,
    pub rule_ids: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// The latest dated record of the employer in each feed.
    pub activity: Vec<(Feed, NaiveDate)>,
    pub priority: Priority,
    /// Set by `finish` from the lead's state.
    pub status: Option<LeadStatus>,
    pub row: LeadRow,
}

/// Every lead in the assessments: a non-filing lead where the lead rules hold, and one per
/// flag that holds. `members` gives each entity's observations (for the evidence).
pub fn find_leads<S: std::hash::BuildHasher>(
    records: &[MasterRecord],
    assessments: &[Assessment],
    placements: &[Placement],
    locator: &Locator,
    members: &HashMap<&str, Vec<&Observation>, S>,
) -> Vec<Lead> {
    let mut out = Vec::new();
    for (i, ((m, a), p)) in records.iter().zip(assessments).zip(placements).enumerate() {
        if !a.is_lead() && a.flags.is_empty() {
            continue;
        }
        let obs = members
            .get(m.entity_id.as_str())
            .map_or(&[][..], |v| &v[..]);
        let evidence = evidence::for_members(obs);
        let mut activity: Vec<(Feed, NaiveDate)> = Vec::new();
        for e in &evidence {
            let Some(date) = e.date else { continue };
            match activity.iter_mut().find(|(f, _)| *f == e.feed) {
                Some((_, d)) => *d = (*d).max(date),
                None => activity.push((e.feed, date)),
            }
        }
        let base = base_row(m, a, p, locator);
        let mut push = |kind: LeadKind, reasons: Vec<String>, rule_ids: Vec<String>| {
            let mut row = base.clone();
            let lead_id = kind.lead_id(&m.entity_id);
            row.lead_id = lead_id.to_string();
            row.kind = kind.label_zh().to_string();
            row.reasons = reasons;
            row.evidence = evidence.iter().map(Evidence::line).collect();
            // Which record decided each fact the screening used.
            row.evidence
                .extend(m.provenance.iter().map(|p| format!("采信：{}", p.line())));
            out.push(Lead {
                lead_id,
                kind,
                entity_id: m.entity_id.clone(),
                entity_index: i,
                township_code: p.township_code.clone(),
                rule_ids,
                evidence: evidence.clone(),
                activity: activity.clone(),
                priority: Priority { score: 0 },
                status: None,
                row,
            });
        };
        if a.is_lead() {
            push(LeadKind::Unfiled, a.reasons.clone(), a.rule_ids.clone());
        }
        for f in &a.flags {
            let reasons = vec![f.reason.clone(), format!("在营依据：{}", a.operating_basis)];
            push(f.kind, reasons, vec![f.kind.as_str().to_string()]);
        }
    }
    out
}

/// Fills in what the lifecycle decides: the status, the first-listed date and the priority
/// (months overdue count from the lapse of a declaration, else from the first listing).
pub fn finish(
    lead: &mut Lead,
    state: &LeadState,
    m: &MasterRecord,
    a: &Assessment,
    lapse_months: u32,
    as_of: NaiveDate,
) {
    let since = match (lead.kind, a.filing, m.last_filed) {
        (LeadKind::Unfiled, FilingStatus::Lapsed, Some(d)) => d
            .checked_add_months(chrono::Months::new(lapse_months))
            .unwrap_or(d),
        _ => state.first_seen,
    };
    lead.priority = priority::score(
        m,
        a.risk_class,
        lead.kind,
        months_between(since, as_of),
        as_of,
    );
    lead.row.priority = lead.priority.label_zh();
    lead.status = Some(state.status);
    lead.row.status = state.status.label_zh().to_string();
    lead.row.first_listed = state.opened_on.to_string();
}

fn placement_label(p: &Placement) -> String {
    let how = match p.method {
        PlacementMethod::RegionCode => "统计区划代码",
        PlacementMethod::TownshipName => "地址中的乡镇名称",
        PlacementMethod::Alias => "地址中的园区/别名",
        PlacementMethod::VillageName => "地址中的村（社区）名称",
        PlacementMethod::TownshipShortName => "地址中的乡镇简称",
        PlacementMethod::VillageShortName => "地址中的村（社区）简称",
        PlacementMethod::Unplaced => return "未能定位，请县级核实".to_string(),
    };
    format!(
        "{how}（{}，可信度{:.0}%）",
        p.evidence,
        p.confidence * 100.0
    )
}

/// The row fields every lead of one employer shares.
fn base_row(m: &MasterRecord, a: &Assessment, p: &Placement, locator: &Locator) -> LeadRow {
    LeadRow {
        entity_id: m.entity_id.clone(),
        name: m.name.clone(),
        uscc: m
            .uscc
            .as_ref()
            .map(|u| u.as_str().to_string())
            .unwrap_or_default(),
        uscc_valid: m.uscc.as_ref().is_none_or(|u| u.is_valid()),
        legal_rep: m.legal_rep.clone().unwrap_or_default(),
        address: m.address.clone().unwrap_or_default(),
        township: locator
            .township_label(p.township_code.as_deref())
            .to_string(),
        village: locator.village_label(p.village_code.as_deref()).to_string(),
        industry_code: m
            .industry_code
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        industry_name: m.industry_name.clone().unwrap_or_default(),
        risk_class: a
            .risk_class
            .map(|c| c.label_zh().to_string())
            .unwrap_or_default(),
        headcount: m.headcount,
        filing_status: a.filing.label_zh().to_string(),
        last_filed: match a.filing {
            FilingStatus::Never => String::new(),
            _ => m.last_filed.map(|d| d.to_string()).unwrap_or_default(),
        },
        sources: m
            .feeds
            .iter()
            .map(|f| f.label_zh())
            .collect::<Vec<_>>()
            .join("、"),
        placement: placement_label(p),
        ..Default::default()
    }
}
