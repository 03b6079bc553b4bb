//! The report's figures from the store: per township, the employers in scope and filed as of
//! the last run in the period, and the leads opened and closed and the dispositions in it.

use std::collections::{BTreeMap, HashMap};

use super::period::Period;
use super::{Report, TownshipRow};
use crate::config::Config;
use crate::deliver::DISPOSITIONS;
use crate::domain::TownshipCode;
use crate::leads::LeadStatus;
use crate::pipeline::StoredEntity;
use crate::screen::filing::FilingStatus;
use crate::screen::LeadKind;
use crate::store::{Store, StoreError};

/// In scope: operating employers with a current declaration (filed) plus those on a
/// non-filing lead that no disposition has closed (not filed). Coverage = filed / in scope.
pub async fn gather(cfg: &Config, store: &Store, p: &Period) -> Result<Report, StoreError> {
    let mut rows: BTreeMap<Option<TownshipCode>, TownshipRow> = BTreeMap::new();
    for t in &cfg.gazetteer.townships {
        rows.insert(
            Some(t.code.clone()),
            TownshipRow {
                township_code: Some(t.code.clone()),
                township_name: t.name.clone(),
                ..Default::default()
            },
        );
    }
    if let Some(run) = store.last_run_as_of(p.to).await? {
        for e in store.entities(run).await? {
            let stored: StoredEntity = serde_json::from_str(&e.data)?;
            let a = &stored.assessment;
            if a.operating && a.filing == FilingStatus::Current {
                let r = row(&mut rows, &e.township_code);
                r.filed += 1;
                r.in_scope += 1;
            }
        }
        for l in store.leads(run).await? {
            if !l.data.is_listed() {
                continue;
            }
            let r = row(&mut rows, &l.township_code);
            r.leads_open_end += 1;
            if l.data.kind == LeadKind::Unfiled {
                r.not_filed += 1;
                r.in_scope += 1;
            }
        }
    }
    let states = store.lead_states().await?;
    // Where each lead is listed: the township a transfer moved it to, else its placement.
    let township_of: HashMap<&str, Option<TownshipCode>> = states
        .values()
        .map(|s| {
            let code = s
                .assigned_township
                .clone()
                .or_else(|| s.township_code.clone());
            (s.lead_id.as_str(), code)
        })
        .collect();
    for e in store.lead_events_between(p.from, p.to).await? {
        let code = township_of.get(e.lead_id.as_str()).cloned().flatten();
        let r = row(&mut rows, &code);
        match e.to {
            LeadStatus::New | LeadStatus::Reopened => r.leads_opened += 1,
            LeadStatus::Resolved | LeadStatus::Closed => r.leads_closed += 1,
            LeadStatus::Open => {}
        }
    }
    for (_, code, kind) in store.dispositions_between(p.from, p.to).await? {
        *row(&mut rows, &code.map(TownshipCode::from))
            .dispositions
            .entry(kind)
            .or_default() += 1;
    }
    Ok(Report {
        county: cfg.settings.county.name.clone(),
        period_label: p.label.clone(),
        from: p.from,
        to: p.to,
        generated_at: chrono::Utc::now()
            .with_timezone(&cfg.timezone())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        rows: rows.into_values().collect(),
        disposition_kinds: DISPOSITIONS.iter().map(|(d, _)| d.to_string()).collect(),
    })
}

/// The row of a township, made on first use (a code not in the gazetteer, or unplaced).
fn row<'a>(
    rows: &'a mut BTreeMap<Option<TownshipCode>, TownshipRow>,
    code: &Option<TownshipCode>,
) -> &'a mut TownshipRow {
    rows.entry(code.clone()).or_insert_with(|| TownshipRow {
        township_code: code.clone(),
        township_name: match code {
            Some(c) => c.to_string(),
            None => super::UNPLACED_NAME.to_string(),
        },
        ..Default::default()
    })
}
