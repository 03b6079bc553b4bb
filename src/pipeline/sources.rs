//! The sources of a run: each feed read now (a snapshot kept as good, held or failed, with
//! incremental remote pulls and their cursor) or as its own scheduled pull left it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::{PipelineError, SourceOutcome, SourceStatus};
use crate::config::Config;
use crate::domain::Observation;
use crate::ingest::spec::ConnectorSpec;
use crate::ingest::{
    fingerprint, read_source, trust, FileStats, Fingerprint, IngestError, SourceBatch,
};
use crate::store::{ConnectorState, NewSnapshot, SnapshotInfo, SnapshotStatus, Store};

/// Reads every enabled feed, saves its snapshot, and returns the observations to use: the new
/// snapshot when it is trustworthy, else the last good one. The feeds read now are read at
/// once, on as many threads as the machine has cores; their snapshots are then saved one by
/// one in the connectors' order, so the result is the same as reading them one by one.
pub(super) async fn ingest_all(
    cfg: &Config,
    store: &Store,
    run_id: i64,
    mode: Sources,
    warm: Option<&super::Warm>,
    progress: super::Progress<'_>,
) -> Result<(Vec<Observation>, Vec<SourceOutcome>), PipelineError> {
    let enabled: Vec<&ConnectorSpec> = cfg.connectors.iter().filter(|s| s.enabled).collect();
    let read_now = |spec: &ConnectorSpec| match mode {
        Sources::Read => true,
        Sources::Scheduled => spec.pull.schedule.is_none(),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = Arc::new(tokio::sync::Semaphore::new(cores));
    // One entry per enabled source, in order: the read under way, or none (snapshots only).
    let mut reading = Vec::new();
    for spec in enabled.iter().copied() {
        if !read_now(spec) {
            reading.push(None);
            continue;
        }
        progress(&format!("reading {} ({})", spec.id, spec.location()));
        let prior = prior(store, spec).await?;
        let (spec_c, root, since) = (spec.clone(), cfg.root.clone(), prior.since.clone());
        let known = prior.last.as_ref().and_then(|l| l.fingerprint.clone());
        let workers = workers.clone();
        let task = tokio::spawn(async move {
            let _permit = workers.acquire_owned().await;
            read_feed(spec_c, root, since, known).await
        });
        reading.push(Some((prior, task)));
    }
    let mut all = Vec::new();
    let mut outcomes = Vec::new();
    for (spec, read) in enabled.into_iter().zip(reading) {
        let (obs, outcome) = match read {
            Some((prior, task)) => {
                record(cfg, store, run_id, spec, prior, task.await??, warm).await?
            }
            None => from_snapshots(store, spec).await?,
        };
        tracing::info!(
            source = %outcome.source,
            status = %outcome.status,
            rows = outcome.source_rows,
            records = outcome.records_used,
            seconds = outcome.read_seconds,
            "source read"
        );
        all.extend(obs);
        outcomes.push(outcome);
    }
    progress("resolving");
    Ok((all, outcomes))
}

/// Where a run's observations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// Read every source now (`yingbao run`).
    Read,
    /// The daemon's run: sources with their own `[pull] schedule` as their last pull left
    /// them (last good snapshot, status of the newest), the others read now.
    Scheduled,
}

/// A source as its snapshots stand: the last good one is used; its status is the newest's.
async fn from_snapshots(
    store: &Store,
    spec: &ConnectorSpec,
) -> Result<(Vec<Observation>, SourceOutcome), PipelineError> {
    let latest = store.latest_snapshot(&spec.id, false).await?;
    let good = store.last_good_snapshot(&spec.id).await?;
    let mut outcome = SourceOutcome::new(spec);
    outcome.status = match latest.as_ref().map(|l| l.status) {
        Some(SnapshotStatus::Good) => SourceStatus::Fresh,
        Some(SnapshotStatus::Held) => SourceStatus::Held,
        Some(SnapshotStatus::Failed) => SourceStatus::Failed,
        None => SourceStatus::Missing,
    };
    outcome.note = latest.as_ref().and_then(|l| l.note.clone());
    if let Some(l) = &latest {
        outcome.rows_read = l.records as usize;
        outcome.quarantined = l.rejects as usize;
        outcome.invalid_uscc = l.invalid_uscc as usize;
    }
    let obs = match &good {
        Some(g) => store.observations(g.id).await?,
        None => Vec::new(),
    };
    outcome.records_used = obs.len();
    outcome.snapshot_id = good.as_ref().map(|g| g.id);
    Ok((obs, outcome))
}

/// Pulls one source on its own (the daemon's per-connector schedule): a run of its own that
/// leaves a good, held or failed snapshot.
pub async fn pull(
    cfg: &Config,
    store: &Store,
    spec: &ConnectorSpec,
) -> Result<SourceOutcome, PipelineError> {
    let run_id = store.begin_run(super::as_of(cfg)).await?;
    let result = pull_source(cfg, store, run_id, spec).await;
    // `pulled`, not `succeeded`: a pull has no entities or leads, and "the last run" (for
    // stable ids, exports and reviews) must stay the last full run.
    let (status, summary) = match &result {
        Ok((_, o)) => ("pulled", serde_json::json!({ "pull": o })),
        Err(e) => (
            "failed",
            serde_json::json!({ "pull": spec.id, "error": e.to_string() }),
        ),
    };
    store
        .finish_run(run_id, status, &summary.to_string())
        .await?;
    result.map(|(_, o)| o)
}

impl SourceOutcome {
    fn new(spec: &ConnectorSpec) -> SourceOutcome {
        SourceOutcome {
            source: spec.id.clone(),
            feed: spec.feed,
            status: SourceStatus::Missing,
            source_rows: 0,
            rows_read: 0,
            quarantined: 0,
            invalid_uscc: 0,
            records_used: 0,
            note: None,
            bytes: 0,
            format: String::new(),
            read_seconds: 0.0,
            snapshot_id: None,
        }
    }
}

/// Reads one source and stores its snapshot: `good` (used), `held` (distrusted by
/// `ingest::trust`: empty, shrunk, older than the last export, mostly unreadable) or `failed`
/// (could not be read). For held and failed the
/// last good snapshot is used. An incremental remote source brings only what changed since
/// its cursor, applied over its last good snapshot; the new cursor is committed with the good
/// snapshot and never moves on a held or failed pull.
async fn pull_source(
    cfg: &Config,
    store: &Store,
    run_id: i64,
    spec: &ConnectorSpec,
) -> Result<(Vec<Observation>, SourceOutcome), PipelineError> {
    let prior = prior(store, spec).await?;
    let known = prior.last.as_ref().and_then(|l| l.fingerprint.clone());
    let read = read_feed(spec.clone(), cfg.root.clone(), prior.since.clone(), known).await?;
    record(cfg, store, run_id, spec, prior, read, None).await
}

/// What a source's earlier pulls left that reading it again needs.
struct Prior {
    /// The last good snapshot.
    last: Option<SnapshotInfo>,
    state: ConnectorState,
    /// The cursor an incremental remote source reads from; `None`: a full read.
    since: Option<String>,
    remote: bool,
    now: DateTime<Utc>,
}

async fn prior(store: &Store, spec: &ConnectorSpec) -> Result<Prior, PipelineError> {
    let last = store.last_good_snapshot(&spec.id).await?;
    let remote = spec.is_remote();
    let state = store.connector_state(&spec.id).await?.unwrap_or_default();
    let now = Utc::now();
    let full_due = state
        .full_refresh_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_none_or(|t| {
            now.signed_duration_since(t)
                >= chrono::Duration::days(spec.pull.full_refresh_days.into())
        });
    let since = (remote && crate::ingest::is_incremental(spec) && !full_due && last.is_some())
        .then(|| state.cursor.clone())
        .flatten();
    Ok(Prior {
        last,
        state,
        since,
        remote,
        now,
    })
}

/// A feed as read: its batch and, from a remote source, the greatest cursor seen (or why it
/// could not be read); or, for files whose fingerprint is that of the last good snapshot,
/// nothing read at all.
enum Read {
    Batch(Result<(SourceBatch, Option<String>), IngestError>),
    Unchanged,
}

/// What reading a feed gave, the files' fingerprint taken before reading them, and the
/// seconds it took.
struct FeedRead {
    read: Read,
    fingerprint: Option<Fingerprint>,
    seconds: f64,
}

/// Reads one feed (files on a blocking thread, remote sources on the runtime), from `since`.
/// Files are fingerprinted first: when they are those of the last good snapshot (`known`),
/// they are not read again.
async fn read_feed(
    spec: ConnectorSpec,
    root: PathBuf,
    since: Option<String>,
    known: Option<Vec<u8>>,
) -> Result<FeedRead, tokio::task::JoinError> {
    let started = Instant::now();
    let (read, fingerprint) = if spec.is_remote() {
        let read = crate::ingest::read_remote(&spec, &crate::ingest::process_env, since.as_deref())
            .await
            .map(|r| (r.batch, r.max_cursor));
        (Read::Batch(read), None)
    } else {
        tokio::task::spawn_blocking(move || {
            // A file that cannot be fingerprinted is read, and reading it says what is wrong.
            let fingerprint = fingerprint(&spec, &root).ok().flatten();
            if fingerprint.is_some() && fingerprint.map(|f| f.to_vec()) == known {
                return (Read::Unchanged, fingerprint);
            }
            let read = read_source(&spec, &root).map(|b| (b, None));
            (Read::Batch(read), fingerprint)
        })
        .await?
    };
    Ok(FeedRead {
        read,
        fingerprint,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A source whose files are those of its last good snapshot: that snapshot repeated for this
/// run, its records used without reading the files — taken from the kept resolver when it
/// holds them, else read back from the store. `None` when it cannot be repeated (its records
/// are not stored as a shareable list): then the files are read after all.
async fn repeat(
    store: &Store,
    run_id: i64,
    spec: &ConnectorSpec,
    last: &SnapshotInfo,
    seconds: f64,
    warm: Option<&super::Warm>,
) -> Result<Option<(Vec<Observation>, SourceOutcome)>, PipelineError> {
    let note = format!(
        "unchanged since run {} (the same files): not read again",
        last.run_id
    );
    let Some(repeated) = store.repeat_snapshot(run_id, last, &note).await? else {
        return Ok(None);
    };
    let (used, format) = match warm.and_then(|w| w.observations(&spec.id, last.id)) {
        Some(kept) => (kept, "unchanged (kept)"),
        None => (store.observations(last.id).await?, "unchanged"),
    };
    let mut outcome = SourceOutcome::new(spec);
    outcome.snapshot_id = Some(repeated);
    outcome.status = SourceStatus::Fresh;
    outcome.rows_read = last.records as usize;
    outcome.quarantined = last.rejects as usize;
    outcome.invalid_uscc = last.invalid_uscc as usize;
    outcome.records_used = used.len();
    outcome.format = format.into();
    outcome.read_seconds = seconds;
    outcome.note = Some(note);
    Ok(Some((used, outcome)))
}

/// Saves what was read as the source's snapshot of this run — good, held or failed — and
/// returns the observations to use with the source's outcome.
async fn record(
    cfg: &Config,
    store: &Store,
    run_id: i64,
    spec: &ConnectorSpec,
    prior: Prior,
    feed_read: FeedRead,
    warm: Option<&super::Warm>,
) -> Result<(Vec<Observation>, SourceOutcome), PipelineError> {
    let FeedRead {
        read,
        fingerprint,
        seconds: read_seconds,
    } = feed_read;
    let read = match (read, &prior.last) {
        (Read::Batch(read), _) => read,
        (Read::Unchanged, Some(last)) => {
            if let Some(repeated) = repeat(store, run_id, spec, last, read_seconds, warm).await? {
                return Ok(repeated);
            }
            read_again(spec, cfg).await?
        }
        (Read::Unchanged, None) => read_again(spec, cfg).await?,
    };
    let Prior {
        last,
        state,
        since,
        remote,
        now,
    } = prior;
    let mut outcome = SourceOutcome::new(spec);
    outcome.read_seconds = read_seconds;
    let mut used = Vec::new();
    let fallback = match read {
        Err(e) => {
            tracing::error!(source = %spec.id, error = %e, "feed could not be read; using its last good snapshot");
            outcome.status = SourceStatus::Failed;
            outcome.note = Some(e.to_string());
            store
                .save_snapshot(&NewSnapshot {
                    run_id,
                    source: &spec.id,
                    feed: spec.feed,
                    status: SnapshotStatus::Failed,
                    note: outcome.note.clone(),
                    files_json: "[]".into(),
                    observations: &[],
                    rejects: &[],
                    invalid_uscc: 0,
                    state: None,
                    fingerprint: None,
                })
                .await?;
            true
        }
        Ok((mut batch, max_cursor)) => {
            outcome.source_rows = batch.files.iter().map(|f| f.rows).sum();
            outcome.bytes = batch.files.iter().map(|f| f.bytes).sum();
            outcome.format = if spec.http.is_some() {
                "http".into()
            } else if spec.sql.is_some() {
                "sql".into()
            } else {
                match batch.files.first().and_then(|f| f.encoding) {
                    Some(e) => format!("csv {e:?}"),
                    None => "xlsx".into(),
                }
            };
            outcome.rows_read = batch.observations.len();
            outcome.quarantined = batch.rejects.len();
            outcome.invalid_uscc = batch.invalid_uscc;
            let mut note = None;
            if let (Some(cursor), Some(l)) = (&since, &last) {
                // A delta: records changed since the cursor replace their old versions.
                let delta = std::mem::take(&mut batch.observations);
                let changed: std::collections::HashSet<String> =
                    delta.iter().map(|o| o.record_key.clone()).collect();
                let mut merged: Vec<Observation> = store
                    .observations(l.id)
                    .await?
                    .into_iter()
                    .filter(|o| !changed.contains(&o.record_key))
                    .collect();
                merged.extend(delta);
                note = Some(format!(
                    "incremental: {} new or changed records since {cursor}",
                    changed.len()
                ));
                batch.observations = merged;
                batch.invalid_uscc = crate::ingest::count_invalid(&batch.observations);
            }
            let prior_facts = match &last {
                Some(l) => Some(prior_facts(store, l).await?),
                None => None,
            };
            let verdict = trust::judge(
                &batch,
                prior_facts.as_ref(),
                &cfg.settings.snapshot,
                &spec.trust,
            );
            let held = verdict.is_some();
            if let Some(why) = verdict {
                note = Some(format!("{why}: held"));
            }
            if let (false, Some(l)) = (held, &last) {
                if let Some(line) = carry_over(store, warm, spec, l, &mut batch).await? {
                    note = Some(match note.take() {
                        Some(n) => format!("{n}; {line}"),
                        None => line,
                    });
                }
            }
            let new_state = (!held && remote).then(|| crate::store::ConnectorState {
                cursor: max_cursor
                    .into_iter()
                    .chain(state.cursor.clone().filter(|_| since.is_some()))
                    .max(),
                full_refresh_at: if since.is_some() {
                    state.full_refresh_at.clone()
                } else {
                    Some(now.to_rfc3339())
                },
            });
            let files_json = serde_json::to_string(&batch.files)?;
            let saved = store
                .save_snapshot(&NewSnapshot {
                    run_id,
                    source: &spec.id,
                    feed: spec.feed,
                    status: if held {
                        SnapshotStatus::Held
                    } else {
                        SnapshotStatus::Good
                    },
                    note: note.clone(),
                    files_json,
                    observations: &batch.observations,
                    rejects: &batch.rejects,
                    invalid_uscc: batch.invalid_uscc,
                    state: new_state,
                    fingerprint,
                })
                .await?;
            outcome.note = note;
            if held {
                tracing::warn!(source = %spec.id, note = outcome.note.as_deref().unwrap_or(""), "snapshot held");
                outcome.status = SourceStatus::Held;
                true
            } else {
                outcome.status = SourceStatus::Fresh;
                outcome.records_used = batch.observations.len();
                outcome.snapshot_id = Some(saved);
                used = batch.observations;
                false
            }
        }
    };
    if fallback {
        match &last {
            Some(l) => {
                used = store.observations(l.id).await?;
                outcome.records_used = used.len();
                outcome.snapshot_id = Some(l.id);
            }
            None => {
                outcome.note = Some(match outcome.note.take() {
                    Some(n) => format!("{n}; no earlier snapshot"),
                    None => "no earlier snapshot".to_string(),
                });
            }
        }
    }
    Ok((used, outcome))
}

/// Carries into a good read the records of the last good snapshot `last` it lost
/// (`trust::vanished`): every keyed record a cumulative feed's export lacks, else those a
/// rejected row still names. Returns the note saying how many, if any.
async fn carry_over(
    store: &Store,
    warm: Option<&super::Warm>,
    spec: &ConnectorSpec,
    last: &SnapshotInfo,
    batch: &mut SourceBatch,
) -> Result<Option<String>, PipelineError> {
    // Keys that stay with their record from one export to the next: configured key columns,
    // or the columns an employer's rows are grouped by.
    let keyed = !spec.record.key.is_empty() || !spec.record.group_by.is_empty();
    let all = spec.trust.carries(spec.feed, keyed);
    if !keyed || (!all && batch.damaged.is_empty()) {
        return Ok(None);
    }
    // The kept resolver has them when `serve` runs; else the store.
    let before = match warm.and_then(|w| w.observations(&spec.id, last.id)) {
        Some(kept) => kept,
        None => store.observations(last.id).await?,
    };
    let carried = trust::vanished(before, &batch.observations, all, &batch.damaged);
    if carried.is_empty() {
        return Ok(None);
    }
    tracing::warn!(source = %spec.id, records = carried.len(), "records missing from the new export carried over");
    let line = if all {
        format!(
            "{} records of the last good snapshot are missing from this export and were carried over (the feed holds its whole history)",
            carried.len()
        )
    } else {
        format!(
            "{} records of the last good snapshot are in rows rejected from this export and were carried over",
            carried.len()
        )
    };
    batch.observations.extend(carried);
    batch.invalid_uscc = crate::ingest::count_invalid(&batch.observations);
    Ok(Some(line))
}

/// What the last good snapshot `l` holds that the next one is judged against.
async fn prior_facts(store: &Store, l: &SnapshotInfo) -> Result<trust::Prior, PipelineError> {
    let files: Vec<FileStats> = store
        .snapshot_files(l.id)
        .await?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    Ok(trust::Prior {
        records: l.records as usize,
        newest_export: trust::newest_export(&files),
    })
}

/// Reads a file feed whose earlier snapshot could not be repeated.
async fn read_again(
    spec: &ConnectorSpec,
    cfg: &Config,
) -> Result<Result<(SourceBatch, Option<String>), IngestError>, PipelineError> {
    let (spec, root) = (spec.clone(), cfg.root.clone());
    Ok(tokio::task::spawn_blocking(move || read_source(&spec, &root).map(|b| (b, None))).await?)
}
