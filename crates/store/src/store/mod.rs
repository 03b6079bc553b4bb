//! Storage: one interface over two concrete sqlx pools (SQLite file by default, PostgreSQL by
//! URL) with the same schema and behaviour. Every table family's SQL lives here.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, Row, SqlitePool};
use yingbao_core::parallel::parallel_chunks;

use crate::domain::{EntityId, Feed, Observation, TownshipCode};
use crate::ingest::quarantine::Reject;
use crate::leads::LeadData;
use digest::Digest;
use versions::AT_RUN;

/// Rows per multi-row INSERT (well under both databases' bind-parameter limits).
const CHUNK: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL `{0}` is neither sqlite:// nor postgres://")]
    Url(String),
    #[error("cannot create the folder for the SQLite file {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    /// Retention (`[store] keep_runs`) dropped this detail.
    #[error("the detail of {0} was dropped by retention ([store] keep_runs)")]
    Compacted(String),
}

/// The database, whichever it is.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool and `DB` to its database type.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite($pool) => {
                #[allow(dead_code)]
                type DB = sqlx::Sqlite;
                $body
            }
            Store::Postgres($pool) => {
                #[allow(dead_code)]
                type DB = sqlx::Postgres;
                $body
            }
        }
    };
}

/// Inserts `$rows` into `$table ($cols)` inside `$tx` in bulk (`bulk::Bulk`: one COPY stream
/// on PostgreSQL, multi-row INSERTs of `CHUNK` rows on SQLite); `[$cell, …]` is one row's
/// values. With `ignore_conflicts`, rows whose key is already stored are skipped.
macro_rules! bulk_insert {
    ($tx:expr, $table:literal ($cols:literal), $rows:expr, |$row:pat_param| [$($cell:expr),* $(,)?]) => {
        bulk_insert!(@go $tx, $table, $cols, $rows, false, |$row| [$($cell),*])
    };
    ($tx:expr, $table:literal ($cols:literal) ignore_conflicts, $rows:expr, |$row:pat_param| [$($cell:expr),* $(,)?]) => {
        bulk_insert!(@go $tx, $table, $cols, $rows, true, |$row| [$($cell),*])
    };
    (@go $tx:expr, $table:expr, $cols:expr, $rows:expr, $ignore:expr, |$row:pat_param| [$($cell:expr),*]) => {{
        let cells = $rows
            .iter()
            .map(|$row| vec![$($crate::store::bulk::Cell::from($cell)),*]);
        <DB as $crate::store::bulk::Bulk>::insert(&mut *$tx, $table, $cols, cells, $ignore)
            .await?;
    }};
}

/// Runs `$body` (which brings table `$name` to this run's rows) unless the table's current set
/// digest is already `$set`; then records `$set` as its digest. `$sets`: the stored digests.
macro_rules! unless_same_set {
    ($tx:expr, $sets:expr, $name:expr, $set:expr, $body:block) => {
        let set = $set;
        if $sets.get($name) != Some(&set) {
            $body
            sqlx::query::<DB>(
                "INSERT INTO version_sets (name, digest) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET digest = excluded.digest",
            )
            .bind($name)
            .bind(set.to_vec())
            .execute(&mut *$tx)
            .await?;
        }
    };
}

/// Closes the current rows of `$keys` in `$table` (sets `to_run` to `$run`) in chunks of
/// `CHUNK`, inside `$tx`. `$cols` are the key columns; `$bind` pushes one key's values.
macro_rules! close_chunks {
    ($tx:expr, $table:expr, $cols:expr, $run:expr, $keys:expr, |$b:ident, $key:pat_param| $bind:expr) => {
        for chunk in $keys.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!("UPDATE {} SET to_run = ", $table));
            qb.push_bind($run);
            // `IN (SELECT * FROM (VALUES …))`: SQLite searches the key's index for it, where a
            // bare row-value `IN (VALUES …)` scans the table.
            qb.push(format!(
                " WHERE to_run IS NULL AND ({}) IN (SELECT * FROM (",
                $cols
            ));
            qb.push_values(chunk, |mut $b, $key| {
                $bind;
            });
            qb.push(") AS v)");
            qb.build().execute(&mut *$tx).await?;
        }
    };
}

/// The digest of each table's whole current set of versions (`version_sets`).
macro_rules! version_sets {
    ($tx:expr) => {
        sqlx::query::<DB>("SELECT name, digest FROM version_sets")
            .fetch_all(&mut *$tx)
            .await?
            .into_iter()
            .filter_map(|r| Some((r.get(0), digest::stored(r.get(1))?)))
            .collect::<HashMap<String, Digest>>()
    };
}

/// The current (open) versions of `table`: each key with its stored digest.
macro_rules! current_digests {
    ($tx:expr, $table:literal, $key:literal) => {
        sqlx::query::<DB>(concat!(
            "SELECT ",
            $key,
            ", digest FROM ",
            $table,
            " WHERE to_run IS NULL"
        ))
        .fetch_all(&mut *$tx)
        .await?
        .into_iter()
        .map(|r| (r.get(0), digest::stored(r.get(1))))
        .collect::<Vec<(String, Option<Digest>)>>()
    };
}

/// How a source's snapshot of one run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotStatus {
    /// Read and trusted: its records are used.
    Good,
    /// Read but distrusted (shrunk, cut, gone back in time): the last good one is used.
    Held,
    /// Could not be read: no records.
    Failed,
}

impl SnapshotStatus {
    /// The word stored in `snapshots.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotStatus::Good => "good",
            SnapshotStatus::Held => "held",
            SnapshotStatus::Failed => "failed",
        }
    }

    /// A stored word; anything but `good` or `held` counts as failed (never as good).
    pub fn from_stored(word: &str) -> SnapshotStatus {
        match word {
            "good" => SnapshotStatus::Good,
            "held" => SnapshotStatus::Held,
            _ => SnapshotStatus::Failed,
        }
    }
}

/// A snapshot as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub id: i64,
    pub run_id: i64,
    pub source: String,
    pub feed: String,
    pub taken_at: String,
    pub status: SnapshotStatus,
    pub records: i64,
    pub rejects: i64,
    pub invalid_uscc: i64,
    pub note: Option<String>,
    /// A file feed's fingerprint when read (`yingbao_ingest::fingerprint`).
    #[serde(skip)]
    pub fingerprint: Option<Vec<u8>>,
}

/// The columns of a snapshot as [`SnapshotRow`] reads them.
const SNAPSHOT_COLUMNS: &str =
    "id, run_id, source, feed, taken_at, status, records, rejects, invalid_uscc, note, fingerprint";

/// A `snapshots` row in the order of [`SNAPSHOT_COLUMNS`].
type SnapshotRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<Vec<u8>>,
);

impl From<SnapshotRow> for SnapshotInfo {
    fn from(r: SnapshotRow) -> SnapshotInfo {
        let (
            id,
            run_id,
            source,
            feed,
            taken_at,
            status,
            records,
            rejects,
            invalid_uscc,
            note,
            fingerprint,
        ) = r;
        SnapshotInfo {
            id,
            run_id,
            source,
            feed,
            taken_at,
            status: SnapshotStatus::from_stored(&status),
            records,
            rejects,
            invalid_uscc,
            note,
            fingerprint,
        }
    }
}

/// What a snapshot brings to be saved.
pub struct NewSnapshot<'a> {
    pub run_id: i64,
    pub source: &'a str,
    pub feed: Feed,
    pub status: SnapshotStatus,
    pub note: Option<String>,
    pub files_json: String,
    pub observations: &'a [Observation],
    pub rejects: &'a [Reject],
    pub invalid_uscc: usize,
    /// Connector state to commit with this (good) snapshot: a remote pull's new cursor.
    pub state: Option<ConnectorState>,
    /// A file feed's fingerprint, taken before it was read.
    pub fingerprint: Option<[u8; 16]>,
}

/// What an incremental connector remembers between pulls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectorState {
    /// The greatest cursor value pulled so far (passed as `since` next time).
    pub cursor: Option<String>,
    /// When the last full pull was taken (RFC 3339).
    pub full_refresh_at: Option<String>,
}

/// One stored entity, lead or link row for export.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    pub key: String,
    pub township_code: Option<TownshipCode>,
    pub data: String,
}

impl Store {
    /// Opens (and creates and migrates) the database at `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                // Bulk reads of a large county take seconds by design; not worth a warning.
                .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(5));
            if let Some(dir) = opts.get_filename().parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
            }
            // One connection: SQLite has a single writer, and the pipeline writes in sequence.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("../../migrations/sqlite").run(&pool).await?;
            Ok(Store::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?
                .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(5));
            Store::open_postgres(opts).await
        } else {
            Err(StoreError::Url(url.to_string()))
        }
    }

    /// Opens PostgreSQL with explicit options (tests use them to pick a schema).
    pub async fn open_postgres(opts: PgConnectOptions) -> Result<Store, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await?;
        Ok(Store::Postgres(pool))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }

    /// Starts a run and returns its id.
    pub async fn begin_run(&self, as_of: NaiveDate) -> Result<i64, StoreError> {
        let now = Utc::now().to_rfc3339();
        let sql =
            "INSERT INTO runs (started_at, as_of, status) VALUES ($1, $2, 'running') RETURNING id";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, i64>(sql)
                .bind(now)
                .bind(as_of.to_string())
                .fetch_one(pool)
                .await?
        }))
    }

    pub async fn finish_run(
        &self,
        run_id: i64,
        status: &str,
        summary_json: &str,
    ) -> Result<(), StoreError> {
        let now = Utc::now().to_rfc3339();
        let sql = "UPDATE runs SET finished_at = $1, status = $2, summary = $3 WHERE id = $4";
        on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(now)
                .bind(status)
                .bind(summary_json)
                .bind(run_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The newest succeeded run's id.
    pub async fn last_run(&self) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MAX(id) FROM runs WHERE status = 'succeeded'";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, Option<i64>>(sql).fetch_one(pool).await?
        }))
    }

    /// When a daemon job last started (none: never).
    pub async fn job_last_started(&self, job: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT last_started FROM daemon_jobs WHERE job = $1";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, String>(sql).bind(job).fetch_optional(pool).await?
        }))
    }

    /// Records that a daemon job started (`outcome` None) or finished.
    pub async fn save_job(
        &self,
        job: &str,
        started: &str,
        outcome: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO daemon_jobs (job, last_started, last_outcome, last_error) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (job) DO UPDATE SET last_started = excluded.last_started, \
                   last_outcome = excluded.last_outcome, last_error = excluded.last_error";
        on_pool!(self, pool => {
            sqlx::query::<DB>(sql).bind(job).bind(started).bind(outcome).bind(error).execute(pool).await?;
        });
        Ok(())
    }

    /// A connector's incremental state (none before its first good pull).
    pub async fn connector_state(
        &self,
        source: &str,
    ) -> Result<Option<ConnectorState>, StoreError> {
        let sql = "SELECT cursor, full_refresh_at FROM connector_state WHERE source = $1";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(source)
                .fetch_optional(pool)
                .await?
                .map(|r| ConnectorState { cursor: r.get(0), full_refresh_at: r.get(1) })
        }))
    }

    /// The newest good snapshot of a source.
    pub async fn last_good_snapshot(
        &self,
        source: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        self.latest_snapshot(source, true).await
    }

    /// The newest snapshot of a source (good, held or failed), or the newest good one.
    pub async fn latest_snapshot(
        &self,
        source: &str,
        good_only: bool,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let good = if good_only { "AND status = 'good'" } else { "" };
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE source = $1 {good} ORDER BY id DESC LIMIT 1"
        );
        let row = on_pool!(self, pool => {
            sqlx::query_as::<DB, SnapshotRow>(&sql).bind(source).fetch_optional(pool).await?
        });
        Ok(row.map(SnapshotInfo::from))
    }

    /// Every snapshot of a run (for the run summary).
    pub async fn snapshots_of_run(&self, run_id: i64) -> Result<Vec<SnapshotInfo>, StoreError> {
        let sql = format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE run_id = $1 ORDER BY id");
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<DB, SnapshotRow>(&sql).bind(run_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(SnapshotInfo::from).collect())
    }

    /// The observations of a run's good snapshots, in snapshot order.
    pub async fn run_observations(&self, run_id: i64) -> Result<Vec<Observation>, StoreError> {
        let mut all = Vec::new();
        for s in self.snapshots_of_run(run_id).await? {
            if s.status == SnapshotStatus::Good {
                all.extend(self.observations(s.id).await?);
            }
        }
        Ok(all)
    }

    /// Quarantined rows of a run: (source, reason, count), most frequent first.
    pub async fn quarantine_counts(
        &self,
        run_id: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let sql = "SELECT q.source, q.reason, COUNT(*) FROM quarantine q JOIN snapshots s ON s.id = q.snapshot_id \
                   WHERE s.run_id = $1 GROUP BY q.source, q.reason ORDER BY COUNT(*) DESC, q.source, q.reason";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(run_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()
        }))
    }

    /// `(source, record_key) → entity id` from the newest succeeded run.
    pub async fn previous_links(&self) -> Result<HashMap<(String, String), EntityId>, StoreError> {
        let Some(run) = self.last_run().await? else {
            return Ok(HashMap::new());
        };
        let sql = format!("SELECT source, record_key, entity_id FROM links WHERE {AT_RUN}");
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(&sql)
                .bind(run)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| ((r.get(0), r.get(1)), EntityId::from(r.get::<String, _>(2))))
                .collect()
        }))
    }

    /// Saves a run's entities, links and leads in one transaction. Each is a version: a row
    /// equal to the current one is not written again; a changed or vanished one is closed at
    /// this run.
    pub async fn save_results(
        &self,
        run_id: i64,
        entities: &[EntityRow],
        links: &[crate::resolve::Link],
        leads: &[LeadRecord],
        lifecycle: Option<LifecycleUpdate<'_>>,
        outbox: &[NewOutbox],
    ) -> Result<(), StoreError> {
        let now = outbox::timestamp(Utc::now());
        let leads = leads
            .iter()
            .map(|l| Ok((l, serde_json::to_string(&l.data)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Every row's digest, on every core: what is compared with the rows stored.
        let entity_keys: Vec<(String, Digest)> = parallel_chunks(entities, |part| {
            part.iter().map(EntityRow::version).collect()
        });
        let link_keys: Vec<((String, String), Digest)> =
            parallel_chunks(links, |part| part.iter().map(link_version).collect());
        let lead_keys: Vec<(String, Digest)> = leads
            .iter()
            .map(|(l, data)| (l.lead_id.clone(), l.digest(data)))
            .collect();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if let Some(u) = lifecycle {
                sqlx::query::<DB>("DELETE FROM lead_states").execute(&mut *tx).await?;
                bulk_insert!(tx, "lead_states" ("lead_id, entity_id, kind, status, township_code, first_seen, opened_on, closed_on, close_reason, last_run, assigned_township"), u.states, |s| [
                    s.lead_id.to_string(),
                    s.entity_id.to_string(),
                    s.kind.as_str(),
                    s.status.as_str(),
                    s.township_code.clone().map(String::from),
                    s.first_seen.to_string(),
                    s.opened_on.to_string(),
                    s.closed_on.map(|d| d.to_string()),
                    s.close_reason.clone(),
                    s.last_run,
                    s.assigned_township.clone().map(String::from),
                ]);
                bulk_insert!(tx, "lead_events" ("run_id, happened_on, lead_id, from_status, to_status, note"), u.transitions, |t| [
                    run_id,
                    u.as_of.to_string(),
                    t.lead_id.to_string(),
                    t.from.map(|s| s.as_str()),
                    t.to.as_str(),
                    t.note.clone(),
                ]);
            }
            for o in outbox {
                sqlx::query::<DB>(outbox::UPSERT)
                    .bind(run_id)
                    .bind(&o.cycle)
                    .bind(o.township_code.as_deref())
                    .bind(&o.channel)
                    .bind(&o.idempotency_key)
                    .bind(o.kind)
                    .bind(&o.payload)
                    .bind(&now)
                    .bind(o.status)
                    .bind(o.version as i32)
                    .execute(&mut *tx)
                    .await?;
            }

            let sets = version_sets!(tx);
            unless_same_set!(tx, sets, "entities", versions::set_digest(&entity_keys), {
                let current = current_digests!(tx, "entities", "entity_id");
                let ch = versions::changes(current, &entity_keys);
                close_chunks!(tx, "entities", "entity_id", run_id, ch.close, |b, k| b.push_bind(k.clone()));
                let rows: Vec<(&EntityRow, &Digest)> =
                    ch.write.iter().map(|&i| (&entities[i], &entity_keys[i].1)).collect();
                bulk_insert!(tx, "entities" ("run_id, entity_id, uscc, name, township_code, data, digest"), rows, |(e, d)| [
                    run_id,
                    e.entity_id.to_string(),
                    e.uscc.clone(),
                    e.name.clone(),
                    e.township_code.as_deref(),
                    e.data.clone(),
                    d.to_vec(),
                ]);
            });
            unless_same_set!(tx, sets, "links", versions::set_digest(&link_keys), {
                let current: Vec<((String, String), Option<Digest>)> = sqlx::query::<DB>(
                    "SELECT source, record_key, entity_id, method FROM links WHERE to_run IS NULL",
                )
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|r| {
                    let (entity, method): (String, String) = (r.get(2), r.get(3));
                    ((r.get(0), r.get(1)), Some(link_digest(&entity, &method)))
                })
                .collect();
                let ch = versions::changes(current, &link_keys);
                close_chunks!(tx, "links", "source, record_key", run_id, ch.close, |b, (s, k)| b.push_bind(s.clone()).push_bind(k.clone()));
                // In the order of `links_by_record`: the index is filled at its end, not all over it.
                let mut rows: Vec<&crate::resolve::Link> = ch.write.iter().map(|&i| &links[i]).collect();
                rows.sort_unstable_by(|a, b| (&a.source, &a.record_key).cmp(&(&b.source, &b.record_key)));
                bulk_insert!(tx, "links" ("run_id, source, record_key, entity_id, method"), rows, |l| [
                    run_id,
                    l.source.clone(),
                    l.record_key.clone(),
                    l.entity_id.to_string(),
                    l.method.as_str(),
                ]);
            });
            unless_same_set!(tx, sets, "leads", versions::set_digest(&lead_keys), {
                let current = current_digests!(tx, "leads", "lead_id");
                let ch = versions::changes(current, &lead_keys);
                close_chunks!(tx, "leads", "lead_id", run_id, ch.close, |b, k| b.push_bind(k.clone()));
                let rows: Vec<(&(&LeadRecord, String), &Digest)> =
                    ch.write.iter().map(|&i| (&leads[i], &lead_keys[i].1)).collect();
                bulk_insert!(tx, "leads" ("run_id, lead_id, entity_id, township_code, rule_ids, data, kind, digest"), rows, |((l, data), d)| [
                    run_id,
                    l.lead_id.clone(),
                    l.entity_id.to_string(),
                    l.township_code.as_deref(),
                    l.rule_ids.clone(),
                    data.clone(),
                    l.data.kind.as_str(),
                    d.to_vec(),
                ]);
            });
            tx.commit().await?;
        });
        Ok(())
    }

    /// A run's entities as stored (entity id, township, JSON), ordered by id.
    pub async fn entities(&self, run_id: i64) -> Result<Vec<StoredRow>, StoreError> {
        self.detail_kept(run_id).await?;
        let sql = format!(
            "SELECT entity_id, township_code, data FROM entities WHERE {AT_RUN} ORDER BY entity_id"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(&sql)
                .bind(run_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| StoredRow { key: r.get(0), township_code: r.get::<Option<String>, _>(1).map(TownshipCode::from), data: r.get(2) })
                .collect()
        }))
    }

    /// A run's links: (source, record key, entity id, method), ordered.
    pub async fn links(
        &self,
        run_id: i64,
    ) -> Result<Vec<(String, String, String, String)>, StoreError> {
        self.detail_kept(run_id).await?;
        let sql = format!(
            "SELECT source, record_key, entity_id, method FROM links WHERE {AT_RUN} \
             ORDER BY source, record_key"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(&sql)
                .bind(run_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect()
        }))
    }

    /// A run's leads as stored.
    pub async fn leads(&self, run_id: i64) -> Result<Vec<StoredLead>, StoreError> {
        self.detail_kept(run_id).await?;
        let sql = format!(
            "SELECT lead_id, township_code, data FROM leads WHERE {AT_RUN} ORDER BY lead_id"
        );
        let rows: Vec<(String, Option<String>, String)> = on_pool!(self, pool => {
            sqlx::query::<DB>(&sql)
                .bind(run_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()
        });
        rows.into_iter()
            .map(|(lead_id, township_code, data)| {
                Ok(StoredLead {
                    lead_id,
                    township_code: township_code.map(TownshipCode::from),
                    data: serde_json::from_str(&data)?,
                })
            })
            .collect()
    }

    /// Saves a run's scored merges and review pairs with their per-field weights, as
    /// versions: an unchanged pair keeps its row (and its id).
    pub async fn save_pairs(
        &self,
        run_id: i64,
        merges: &[crate::resolve::PairEvidence],
        review: &[crate::resolve::PairEvidence],
    ) -> Result<(), StoreError> {
        let mut rows = Vec::with_capacity(merges.len() + review.len());
        for (decision, list) in [("merge", merges), ("review", review)] {
            for e in list {
                rows.push((decision, e, serde_json::to_string(e)?));
            }
        }
        let keys: Vec<(PairKey, Digest)> = rows
            .iter()
            .map(|(decision, e, detail)| {
                let key = (
                    decision.to_string(),
                    e.source.clone(),
                    e.record_key.clone(),
                    e.other_source.clone(),
                    e.other_key.clone(),
                );
                let d = digest::of(&[&e.probability.to_le_bytes(), detail.as_bytes()]);
                (key, d)
            })
            .collect();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let sets = version_sets!(tx);
            unless_same_set!(tx, sets, "match_pairs", versions::set_digest(&keys), {
                let current: Vec<(PairKey, Option<Digest>)> = sqlx::query::<DB>(
                    "SELECT decision, source, record_key, other_source, other_key, digest FROM match_pairs WHERE to_run IS NULL",
                )
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|r| ((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)), digest::stored(r.get(5))))
                .collect();
                let ch = versions::changes(current, &keys);
                close_chunks!(tx, "match_pairs", "decision, source, record_key, other_source, other_key", run_id, ch.close, |b, k| {
                    b.push_bind(k.0.clone())
                        .push_bind(k.1.clone())
                        .push_bind(k.2.clone())
                        .push_bind(k.3.clone())
                        .push_bind(k.4.clone())
                });
                let written: Vec<(&(&str, &crate::resolve::PairEvidence, String), &Digest)> =
                    ch.write.iter().map(|&i| (&rows[i], &keys[i].1)).collect();
                bulk_insert!(tx, "match_pairs" ("run_id, decision, source, record_key, other_source, other_key, probability, detail, digest"), written, |((decision, e, detail), d)| [
                    run_id,
                    *decision,
                    e.source.clone(),
                    e.record_key.clone(),
                    e.other_source.clone(),
                    e.other_key.clone(),
                    e.probability,
                    detail.clone(),
                    d.to_vec(),
                ]);
            });
            tx.commit().await?;
        });
        Ok(())
    }

    /// Scored pairs of a run: (pair id, decision, evidence). `decision` filters when given;
    /// `record` keeps pairs that involve that (source, record key).
    pub async fn pairs(
        &self,
        run_id: i64,
        decision: Option<&str>,
        record: Option<(&str, &str)>,
    ) -> Result<Vec<(i64, String, crate::resolve::PairEvidence)>, StoreError> {
        self.detail_kept(run_id).await?;
        let sql = format!("SELECT id, decision, detail FROM match_pairs WHERE {AT_RUN} \
                   AND ($2 = '' OR decision = $2) \
                   AND ($3 = '' OR (source = $3 AND record_key = $4) OR (other_source = $3 AND other_key = $4)) \
                   ORDER BY probability DESC, id");
        let (src, key) = record.unwrap_or(("", ""));
        let rows: Vec<(i64, String, String)> = on_pool!(self, pool => {
            sqlx::query::<DB>(&sql)
                .bind(run_id)
                .bind(decision.unwrap_or(""))
                .bind(src)
                .bind(key)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()
        });
        rows.into_iter()
            .map(|(id, d, detail)| Ok((id, d, serde_json::from_str(&detail)?)))
            .collect()
    }

    /// Records an operator's decision about two records.
    pub async fn add_override(
        &self,
        o: &crate::resolve::Override,
        by: &str,
        note: Option<&str>,
    ) -> Result<i64, StoreError> {
        let now = Utc::now().to_rfc3339();
        let sql = "INSERT INTO overrides (source_a, key_a, source_b, key_b, same, decided_by, decided_at, note) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, i64>(sql)
                .bind(&o.a.0)
                .bind(&o.a.1)
                .bind(&o.b.0)
                .bind(&o.b.1)
                .bind(i64::from(o.same))
                .bind(by)
                .bind(now)
                .bind(note)
                .fetch_one(pool)
                .await?
        }))
    }

    /// A run's review pairs no operator has decided yet, most likely first.
    pub async fn undecided_pairs(
        &self,
        run_id: i64,
    ) -> Result<Vec<(i64, crate::resolve::PairEvidence)>, StoreError> {
        let decided = self.overrides().await?;
        Ok(self
            .pairs(run_id, Some("review"), None)
            .await?
            .into_iter()
            .filter(|(_, _, e)| {
                let a = (e.source.clone(), e.record_key.clone());
                let b = (e.other_source.clone(), e.other_key.clone());
                !decided
                    .iter()
                    .any(|o| (o.a == a && o.b == b) || (o.a == b && o.b == a))
            })
            .map(|(id, _, e)| (id, e))
            .collect())
    }

    /// Every operator decision, oldest first (a later decision about the same pair wins).
    pub async fn overrides(&self) -> Result<Vec<crate::resolve::Override>, StoreError> {
        let sql = "SELECT source_a, key_a, source_b, key_b, same FROM overrides ORDER BY id";
        let rows: Vec<(String, String, String, String, i64)> = on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
                .collect()
        });
        type RecordId = (String, String);
        let mut latest: HashMap<(RecordId, RecordId), bool> = HashMap::new();
        let mut order = Vec::new();
        for (sa, ka, sb, kb, same) in rows {
            let (a, b) = ((sa, ka), (sb, kb));
            let k = if a <= b { (a, b) } else { (b, a) };
            if !latest.contains_key(&k) {
                order.push(k.clone());
            }
            latest.insert(k, same != 0);
        }
        Ok(order
            .into_iter()
            .map(|k| {
                let same = latest[&k];
                crate::resolve::Override {
                    a: k.0,
                    b: k.1,
                    same,
                }
            })
            .collect())
    }

    /// A run's non-filing leads as (entity id, township code, village name), ordered by lead
    /// id. The village is the stored row's `row.village` (none when empty or unreadable).
    pub async fn lead_entities(
        &self,
        run_id: i64,
    ) -> Result<Vec<(String, Option<String>, Option<String>)>, StoreError> {
        self.detail_kept(run_id).await?;
        let sql = format!("SELECT entity_id, township_code, data FROM leads WHERE {AT_RUN} AND kind = 'unfiled' ORDER BY lead_id");
        let rows: Vec<(String, Option<String>, String)> = on_pool!(self, pool => {
            sqlx::query::<DB>(&sql)
                .bind(run_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()
        });
        Ok(rows
            .into_iter()
            .map(|(entity, township, data)| {
                let village = serde_json::from_str::<serde_json::Value>(&data)
                    .ok()
                    .and_then(|v| v.get("row")?.get("village")?.as_str().map(str::to_string))
                    .filter(|v| !v.is_empty());
                (entity, township, village)
            })
            .collect())
    }

    /// Every text value stored anywhere, for the personal-data audit in tests and `check`.
    pub async fn all_text(&self) -> Result<String, StoreError> {
        let sqls = [
            "SELECT data FROM observations",
            "SELECT data FROM records",
            "SELECT COALESCE(column_name,'') || ' ' || COALESCE(value,'') || ' ' || reason FROM quarantine",
            "SELECT data FROM entities",
            "SELECT data FROM leads",
            "SELECT record_key FROM links",
            "SELECT COALESCE(files,'') || COALESCE(note,'') FROM snapshots",
            "SELECT payload FROM outbox",
            "SELECT lead_id || ' ' || COALESCE(close_reason,'') FROM lead_states",
            "SELECT note FROM lead_events",
            "SELECT kind || ' ' || reason || ' ' || person || ' ' || signer FROM dispositions",
        ];
        let mut out = String::new();
        for sql in sqls {
            let rows: Vec<String> = on_pool!(self, pool => {
                sqlx::query_scalar::<DB, String>(sql).fetch_all(pool).await?
            });
            for r in rows {
                out.push_str(&r);
                out.push('\n');
            }
        }
        Ok(out)
    }
}

mod bulk;
mod digest;
mod lifecycle;
mod lockouts;
mod outbox;
mod portal;
mod records;
mod retention;
mod runs;
mod versions;

pub use lifecycle::{LeadEvent, LifecycleUpdate, NewDisposition};
pub use lockouts::{AdmittedAttempt, AttemptKeys, LiveAttempts};
pub use outbox::{timestamp, AttemptOutcome, NewOutbox, OutboxRow};
pub use portal::{AccountRole, DispositionRow, PortalLead, StoredSession, User};
pub use records::Accepted;
pub use retention::{Compaction, Retention};
pub use runs::{RunRow, INTERRUPTED, PREVIEW};

/// An entity row to save.
#[derive(Debug, Clone)]
pub struct EntityRow {
    pub entity_id: EntityId,
    pub uscc: Option<String>,
    pub name: String,
    pub township_code: Option<TownshipCode>,
    pub data: String,
}

impl EntityRow {
    /// Its key and the digest of its values.
    fn version(&self) -> (String, Digest) {
        let d = digest::of(&[
            &digest::text(self.uscc.as_deref()),
            self.name.as_bytes(),
            &digest::text(self.township_code.as_deref()),
            self.data.as_bytes(),
        ]);
        (self.entity_id.to_string(), d)
    }
}

/// A match pair's key: decision, then both records.
type PairKey = (String, String, String, String, String);

/// A link's key and the digest of where it points.
fn link_version(l: &crate::resolve::Link) -> ((String, String), Digest) {
    (
        (l.source.clone(), l.record_key.clone()),
        link_digest(l.entity_id.as_str(), l.method.as_str()),
    )
}

fn link_digest(entity: &str, method: &str) -> Digest {
    digest::of(&[entity.as_bytes(), method.as_bytes()])
}

/// A lead row to save: its keys, and what is kept of it (`leads.data`, the one stored form).
#[derive(Debug, Clone)]
pub struct LeadRecord {
    pub lead_id: String,
    pub entity_id: EntityId,
    pub township_code: Option<TownshipCode>,
    pub rule_ids: String,
    pub data: LeadData,
}

impl LeadRecord {
    /// The digest of its stored values (`data`: its JSON).
    fn digest(&self, data: &str) -> Digest {
        digest::of(&[
            self.entity_id.as_str().as_bytes(),
            &digest::text(self.township_code.as_deref()),
            self.rule_ids.as_bytes(),
            data.as_bytes(),
            self.data.kind.as_str().as_bytes(),
        ])
    }
}

/// A run's lead as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLead {
    pub lead_id: String,
    pub township_code: Option<TownshipCode>,
    pub data: LeadData,
}

#[cfg(test)]
mod tests {
    use super::SnapshotStatus;

    /// Each status reads back as written; a word this version never wrote is not trusted.
    #[test]
    fn a_snapshot_status_reads_back_and_an_unknown_word_is_never_good() {
        for s in [
            SnapshotStatus::Good,
            SnapshotStatus::Held,
            SnapshotStatus::Failed,
        ] {
            assert_eq!(SnapshotStatus::from_stored(s.as_str()), s);
        }
        assert_eq!(SnapshotStatus::from_stored("GOOD"), SnapshotStatus::Failed);
        assert_eq!(SnapshotStatus::from_stored(""), SnapshotStatus::Failed);
    }
}
