//! The lead lists the portal shows, parsed once per run and township and kept in memory:
//! lead states change only when a run saves, so the last run's id is the cache key.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::{PortalError, PortalState};
use crate::leads::LeadStatus;

/// One line of a township's lead list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListItem {
    pub lead_id: String,
    /// `new`, `open`, `reopened`.
    pub status: String,
    pub status_zh: &'static str,
    pub opened_on: String,
    pub name: String,
    /// `unfiled`, `exceedance` …
    pub kind: String,
    pub kind_zh: String,
    pub priority: u32,
    pub priority_zh: String,
    pub village: String,
    /// The lead's reasons, joined (for the reason filter).
    pub reasons: String,
}

/// Each township's list (`None`: the county list).
type Lists = HashMap<Option<String>, Arc<Vec<ListItem>>>;

/// The lists of one run (the run's id is the key).
#[derive(Debug, Default)]
pub struct LeadCache {
    inner: Mutex<Option<(Option<i64>, Lists)>>,
}

/// The listed leads of `township`, highest priority first.
pub async fn items(
    state: &PortalState,
    township: Option<&str>,
) -> Result<Arc<Vec<ListItem>>, PortalError> {
    let run = state.store.last_run().await?;
    let key = township.map(str::to_string);
    if let Ok(guard) = state.leads.inner.lock() {
        if let Some((cached_run, lists)) = guard.as_ref() {
            if *cached_run == run {
                if let Some(list) = lists.get(&key) {
                    return Ok(list.clone());
                }
            }
        }
    }
    let mut list: Vec<ListItem> = state
        .store
        .portal_leads(township)
        .await?
        .into_iter()
        .map(|l| {
            let d = l.data;
            ListItem {
                status_zh: LeadStatus::parse(&l.status).map_or("", LeadStatus::label_zh),
                status: l.status,
                lead_id: l.lead_id,
                opened_on: l.opened_on,
                name: d.row.name,
                kind: d.kind.as_str().to_string(),
                kind_zh: d.row.kind,
                priority: d.priority,
                priority_zh: d.row.priority,
                village: d.row.village,
                reasons: d.row.reasons.join("；"),
            }
        })
        .collect();
    list.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.lead_id.cmp(&b.lead_id)));
    let list = Arc::new(list);
    if let Ok(mut guard) = state.leads.inner.lock() {
        match guard.as_mut() {
            Some((cached_run, lists)) if *cached_run == run => {
                lists.insert(key, list.clone());
            }
            _ => *guard = Some((run, HashMap::from([(key, list.clone())]))),
        }
    }
    Ok(list)
}

/// What a township may see while a run's lists wait for the operator's approval: the lead
/// ids of the list last released to it (none, before the first release). `None`: no run
/// waits, so everything listed is released.
pub async fn released_only(
    state: &PortalState,
    township: Option<&str>,
) -> Result<Option<HashSet<String>>, PortalError> {
    if state.store.waiting_runs().await?.is_empty() {
        return Ok(None);
    }
    let ids = match state.store.released_list(township).await? {
        Some(payload) => serde_json::from_str::<crate::deliver::outbox::ListPayload>(&payload)
            .map_err(|e| {
                tracing::error!(error = %e, "a released list's payload is unreadable");
                PortalError::NotFound
            })?
            .leads
            .into_iter()
            .map(|r| r.lead_id)
            .collect(),
        None => HashSet::new(),
    };
    Ok(Some(ids))
}
