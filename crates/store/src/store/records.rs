//! Snapshots as changes: a source's records are kept once by content, and a snapshot is the
//! ordered list of its records' hashes — shared outright with an identical earlier snapshot.

use std::collections::HashSet;

use chrono::Utc;
use sqlx::Row;
use yingbao_core::parallel::parallel_chunks;

use super::digest::{self, Digest};
use super::{NewSnapshot, SnapshotInfo, Store, StoreError};
use crate::domain::Observation;

/// A snapshot's records ready to store: each one's JSON and hash, and the list's digest.
struct Encoded {
    rows: Vec<(Digest, String)>,
    digest: Digest,
}

impl Encoded {
    fn of(source: &str, observations: &[Observation]) -> Result<Encoded, StoreError> {
        // Each record's JSON and hash, on every core.
        let rows = parallel_chunks(observations, |part| {
            part.iter()
                .map(|o| {
                    let json = serde_json::to_string(o)?;
                    Ok((digest::of(&[source.as_bytes(), json.as_bytes()]), json))
                })
                .collect::<Vec<Result<_, StoreError>>>()
        })
        .into_iter()
        .collect::<Result<Vec<_>, StoreError>>()?;
        let hashes: Vec<&[u8]> = rows.iter().map(|(h, _)| h.as_slice()).collect();
        let digest = digest::of(&hashes);
        Ok(Encoded { rows, digest })
    }
}

/// How a snapshot stands for reading its records.
enum Layout {
    /// The list of snapshot `owner` (maybe itself) in `snapshot_records`.
    Shared { owner: i64 },
    /// Written before snapshots were stored as changes: rows in `observations`.
    Legacy,
    /// Dropped by retention.
    Compacted,
}

impl Store {
    /// Saves a snapshot with its records and rejects in one transaction. Records already
    /// stored for the source are not written again; a snapshot whose records equal an
    /// earlier one's, in order, writes no list of its own.
    pub async fn save_snapshot(&self, s: &NewSnapshot<'_>) -> Result<i64, StoreError> {
        let now = Utc::now().to_rfc3339();
        let enc = Encoded::of(s.source, s.observations)?;
        let head = "INSERT INTO snapshots (run_id, source, feed, taken_at, status, records, rejects, invalid_uscc, note, files, digest, fingerprint) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
        let same = "SELECT records_of FROM snapshots WHERE source = $1 AND digest = $2 \
                    AND records_of IS NOT NULL AND compacted = 0 ORDER BY id DESC LIMIT 1";
        let last_list = "SELECT hash FROM snapshot_records WHERE snapshot_id = (SELECT records_of FROM snapshots \
                         WHERE source = $1 AND records_of IS NOT NULL AND compacted = 0 ORDER BY id DESC LIMIT 1)";
        let id = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar::<DB, i64>(head)
                .bind(s.run_id)
                .bind(s.source)
                .bind(s.feed.as_str())
                .bind(&now)
                .bind(s.status.as_str())
                .bind(s.observations.len() as i64)
                .bind(s.rejects.len() as i64)
                .bind(s.invalid_uscc as i64)
                .bind(&s.note)
                .bind(&s.files_json)
                .bind(enc.digest.to_vec())
                .bind(s.fingerprint.map(|f| f.to_vec()))
                .fetch_one(&mut *tx)
                .await?;
            let shared: Option<i64> = sqlx::query_scalar::<DB, i64>(same)
                .bind(s.source)
                .bind(enc.digest.to_vec())
                .fetch_optional(&mut *tx)
                .await?;
            let owner = match shared {
                Some(owner) => owner,
                None => {
                    let known: HashSet<Vec<u8>> = sqlx::query_scalar::<DB, Vec<u8>>(last_list)
                        .bind(s.source)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect();
                    let mut seen: HashSet<&Digest> = HashSet::new();
                    let fresh: Vec<(&Digest, &String, &Observation)> = enc
                        .rows
                        .iter()
                        .zip(s.observations)
                        .filter(|((h, _), _)| !known.contains(h.as_slice()) && seen.insert(h))
                        .map(|((h, j), o)| (h, j, o))
                        .collect();
                    bulk_insert!(tx, "records" ("hash, source, record_key, uscc, name, data") ignore_conflicts, fresh, |(h, j, o)| [
                        h.to_vec(),
                        s.source,
                        o.record_key.clone(),
                        o.uscc.as_ref().map(|u| u.as_str().to_string()),
                        o.name.clone(),
                        (*j).clone(),
                    ]);
                    let list: Vec<(usize, &Digest)> =
                        enc.rows.iter().map(|(h, _)| h).enumerate().collect();
                    bulk_insert!(tx, "snapshot_records" ("snapshot_id, seq, hash"), list, |(i, h)| [
                        id,
                        *i as i64,
                        h.to_vec(),
                    ]);
                    id
                }
            };
            sqlx::query::<DB>("UPDATE snapshots SET records_of = $1 WHERE id = $2")
                .bind(owner)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if let Some(state) = &s.state {
                let upsert = "INSERT INTO connector_state (source, cursor, full_refresh_at, updated_at) VALUES ($1, $2, $3, $4) \
                              ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, \
                              full_refresh_at = excluded.full_refresh_at, updated_at = excluded.updated_at";
                sqlx::query::<DB>(upsert)
                    .bind(s.source)
                    .bind(&state.cursor)
                    .bind(&state.full_refresh_at)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
            }
            bulk_insert!(tx, "quarantine" ("snapshot_id, source, file, row_number, column_name, value, reason, action"), s.rejects, |r| [
                id,
                r.source.clone(),
                r.file.clone(),
                r.row as i64,
                r.column.clone(),
                r.value.clone(),
                r.reason.clone(),
                r.action.as_str(),
            ]);
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Saves, for run `run_id`, a good snapshot that repeats snapshot `of` — the same files,
    /// read before — sharing its list of records and copying its rejects; `None` (nothing
    /// written) when `of` has no list of records to share (written before snapshots were
    /// stored as changes, or dropped by retention).
    pub async fn repeat_snapshot(
        &self,
        run_id: i64,
        of: &SnapshotInfo,
        note: &str,
    ) -> Result<Option<i64>, StoreError> {
        let now = Utc::now().to_rfc3339();
        let head = "INSERT INTO snapshots (run_id, source, feed, taken_at, status, records, rejects, invalid_uscc, note, files, digest, records_of, fingerprint) \
                    SELECT $1, source, feed, $2, 'good', records, rejects, invalid_uscc, $3, files, digest, records_of, fingerprint \
                    FROM snapshots WHERE id = $4 AND records_of IS NOT NULL AND compacted = 0 RETURNING id";
        let rejects = "INSERT INTO quarantine (snapshot_id, source, file, row_number, column_name, value, reason, action) \
                       SELECT $1, source, file, row_number, column_name, value, reason, action \
                       FROM quarantine WHERE snapshot_id = $2 ORDER BY id";
        let id = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = sqlx::query_scalar::<DB, i64>(head)
                .bind(run_id)
                .bind(&now)
                .bind(note)
                .bind(of.id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(id) = id {
                sqlx::query::<DB>(rejects)
                    .bind(id)
                    .bind(of.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// The observations of a snapshot, in the order they were read. A snapshot whose
    /// records retention dropped is an error, never an empty list.
    pub async fn observations(&self, snapshot_id: i64) -> Result<Vec<Observation>, StoreError> {
        let (sql, list) = match self.layout(snapshot_id).await? {
            Layout::Compacted => {
                return Err(StoreError::Compacted(format!("snapshot {snapshot_id}")))
            }
            Layout::Legacy => (
                "SELECT data FROM observations WHERE snapshot_id = $1 ORDER BY seq",
                snapshot_id,
            ),
            Layout::Shared { owner } => (
                "SELECT r.data FROM snapshot_records m JOIN records r ON r.hash = m.hash \
                 WHERE m.snapshot_id = $1 ORDER BY m.seq",
                owner,
            ),
        };
        let rows: Vec<String> = on_pool!(self, pool => {
            sqlx::query_scalar::<DB, String>(sql).bind(list).fetch_all(pool).await?
        });
        // Decoded on every core: a county's snapshot is hundreds of thousands of records.
        parallel_chunks(&rows, |part| {
            part.iter()
                .map(|j| serde_json::from_str(j).map_err(StoreError::from))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .collect()
    }

    async fn layout(&self, snapshot_id: i64) -> Result<Layout, StoreError> {
        let sql = "SELECT records_of, compacted FROM snapshots WHERE id = $1";
        let row: Option<(Option<i64>, i64)> = on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(snapshot_id)
                .fetch_optional(pool)
                .await?
                .map(|r| (r.get(0), r.get(1)))
        });
        Ok(match row {
            Some((_, c)) if c != 0 => Layout::Compacted,
            Some((Some(owner), _)) => Layout::Shared { owner },
            _ => Layout::Legacy,
        })
    }
}

/// What `accept` did to a source's newest snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// The held snapshot is now good: the next run uses it.
    Now(SnapshotInfo),
    /// The newest snapshot was good already.
    AlreadyGood(SnapshotInfo),
    /// The newest snapshot failed: nothing was read that could be accepted.
    Failed(SnapshotInfo),
    /// The source has no snapshot.
    Nothing,
}

impl Store {
    /// The files a snapshot was read from, as ingest described them (JSON), if recorded.
    pub async fn snapshot_files(&self, snapshot_id: i64) -> Result<Option<String>, StoreError> {
        let sql = "SELECT files FROM snapshots WHERE id = $1";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, Option<String>>(sql)
                .bind(snapshot_id)
                .fetch_optional(pool)
                .await?
                .flatten()
        }))
    }

    /// The operator's word that a source's newest snapshot, held as too small, too old or too
    /// damaged, is right after all: it becomes good, with who-knows-when in its note.
    pub async fn accept_snapshot(&self, source: &str, at: &str) -> Result<Accepted, StoreError> {
        let Some(newest) = self.latest_snapshot(source, false).await? else {
            return Ok(Accepted::Nothing);
        };
        match newest.status {
            super::SnapshotStatus::Good => return Ok(Accepted::AlreadyGood(newest)),
            super::SnapshotStatus::Failed => return Ok(Accepted::Failed(newest)),
            super::SnapshotStatus::Held => {}
        }
        let note = format!(
            "{}; accepted by the operator at {at}",
            newest.note.as_deref().unwrap_or("held")
        );
        let sql =
            "UPDATE snapshots SET status = 'good', note = $1 WHERE id = $2 AND status = 'held'";
        on_pool!(self, pool => {
            sqlx::query::<DB>(sql).bind(&note).bind(newest.id).execute(pool).await?;
        });
        let mut now = newest;
        now.status = super::SnapshotStatus::Good;
        now.note = Some(note);
        Ok(Accepted::Now(now))
    }
}
