//! What monitoring must know across a restart, rebuilt from the database when the daemon
//! starts (stale sources, blocked township lists, the last run); it reads, never changes a run.
//!
//! The metrics of a process start empty; without this a daemon restarted during an outage
//! would report `yingbao_push_blocked 0` and no stale source until the next monthly run.

use chrono::{DateTime, Utc};

use super::Metrics;
use crate::config::schedules::JobKind;
use crate::config::Config;
use crate::store::{SnapshotStatus, Store, StoreError};

/// What the database said at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Enabled sources whose newest snapshot is held or failed.
    pub stale: Vec<String>,
    /// The newest succeeded run wrote no township list (its declaration register was stale).
    pub push_blocked: bool,
    /// The newest full run: its id and status.
    pub last_run: Option<(i64, String)>,
}

fn parse(rfc3339: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Sets every gauge that describes the state of the project, not of this process, from the
/// database: each enabled source's staleness and last good time, whether township lists are
/// blocked, the last run, the last successful run and the outbox.
pub async fn restore(cfg: &Config, store: &Store, m: &Metrics) -> Result<Restored, StoreError> {
    let mut restored = Restored::default();
    for c in cfg.connectors.iter().filter(|c| c.enabled) {
        m.init_source(&c.id);
        // No snapshot yet is not an outage: the source has simply not been read.
        if let Some(latest) = store.latest_snapshot(&c.id, false).await? {
            let stale = latest.status != SnapshotStatus::Good;
            m.set_source_stale(&c.id, stale);
            if stale {
                restored.stale.push(c.id.clone());
            }
        }
        if let Some(good) = store.last_good_snapshot(&c.id).await? {
            if let Some(t) = parse(&good.taken_at) {
                m.set_source_last_good(&c.id, t);
            }
        }
    }
    if let Some(run) = store.last_succeeded_run().await? {
        // The summary's `push_blocked` is the reason the lists were not written, or null.
        restored.push_blocked = run
            .summary_json()
            .and_then(|s| s.get("push_blocked").cloned())
            .is_some_and(|why| !why.is_null());
        m.set_push_blocked(restored.push_blocked);
        let finished = run.finished_at.as_deref().and_then(parse);
        let run_job = cfg.jobs.iter().find(|j| matches!(j.kind, JobKind::Run));
        if let (Some(job), Some(at)) = (run_job, finished) {
            m.set_last_success(&job.name(), at);
        }
    }
    restored.last_run = observe_last_run(store, m).await?;
    m.set_deliveries(&store.delivery_counts().await?);
    Ok(restored)
}

/// Sets `yingbao_last_run_status` and its start time from the newest full run, if any.
pub async fn observe_last_run(
    store: &Store,
    m: &Metrics,
) -> Result<Option<(i64, String)>, StoreError> {
    let Some(run) = store.last_full_run().await? else {
        return Ok(None);
    };
    if let Some(started) = parse(&run.started_at) {
        m.set_last_run(&run.status, started);
    }
    Ok(Some((run.id, run.status)))
}
