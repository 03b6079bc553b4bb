//! Retention: the `[store]` settings and compaction, which drops the detail (entities, links,
//! leads, pairs, snapshot records) that only runs older than the last `keep_runs` can see.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Store, StoreError};

/// The `[store]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Runs whose full detail is kept (the newest succeeded ones); older runs keep their
    /// summary, snapshot counts and lead history. 0: keep everything.
    #[serde(default = "default_keep_runs")]
    pub keep_runs: u32,
}

fn default_keep_runs() -> u32 {
    12
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep_runs: default_keep_runs(),
        }
    }
}

/// What one compaction dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Compaction {
    /// Runs older than this one lost their detail (none: nothing to drop yet).
    pub before_run: Option<i64>,
    /// Runs compacted now.
    pub runs: u64,
    /// Rows deleted, all tables together.
    pub rows: u64,
}

/// What a compaction step's affected rows count as.
#[derive(Clone, Copy)]
enum Counts {
    Rows,
    Runs,
    /// Snapshots marked compacted: the steps after it run only when there are some.
    Snapshots,
    /// Rows of compacted snapshots (and records no snapshot holds any more).
    SnapshotRows,
}

impl Store {
    /// Fails with [`StoreError::Compacted`] when retention dropped the run's detail.
    pub(super) async fn detail_kept(&self, run_id: i64) -> Result<(), StoreError> {
        let sql = "SELECT compacted FROM runs WHERE id = $1";
        let compacted: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar::<DB, i64>(sql).bind(run_id).fetch_optional(pool).await?
        });
        match compacted {
            Some(c) if c != 0 => Err(StoreError::Compacted(format!("run {run_id}"))),
            _ => Ok(()),
        }
    }

    /// Drops the detail no kept run can see: versions closed at or before the oldest kept
    /// run (a lead version a lead's state still points to stays), snapshots' records of
    /// older runs (never a source's newest good snapshot, nor a list a kept snapshot
    /// shares), their quarantine rows, and records no snapshot holds any more.
    pub async fn compact(&self, r: &Retention) -> Result<Compaction, StoreError> {
        if r.keep_runs == 0 {
            return Ok(Compaction::default());
        }
        let cutoff_sql =
            "SELECT id FROM runs WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1 OFFSET $1";
        let cutoff: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar::<DB, i64>(cutoff_sql)
                .bind(i64::from(r.keep_runs) - 1)
                .fetch_optional(pool)
                .await?
        });
        let Some(cutoff) = cutoff else {
            return Ok(Compaction::default());
        };
        // (statement, whether it takes the cutoff run, what its affected rows count as)
        let steps: [(&str, bool, Counts); 10] = [
            ("DELETE FROM entities WHERE to_run IS NOT NULL AND to_run <= $1", true, Counts::Rows),
            ("DELETE FROM links WHERE to_run IS NOT NULL AND to_run <= $1", true, Counts::Rows),
            ("DELETE FROM match_pairs WHERE to_run IS NOT NULL AND to_run <= $1", true, Counts::Rows),
            ("DELETE FROM leads WHERE to_run IS NOT NULL AND to_run <= $1 AND NOT EXISTS \
              (SELECT 1 FROM lead_states s WHERE s.lead_id = leads.lead_id \
               AND s.last_run >= leads.run_id AND s.last_run < leads.to_run)", true, Counts::Rows),
            ("UPDATE snapshots SET compacted = 1 WHERE run_id < $1 AND compacted = 0 \
              AND id NOT IN (SELECT MAX(id) FROM snapshots WHERE status = 'good' GROUP BY source)", true, Counts::Snapshots),
            ("DELETE FROM snapshot_records WHERE snapshot_id IN (SELECT s.id FROM snapshots s \
              WHERE s.compacted = 1 AND s.records_of = s.id AND NOT EXISTS \
              (SELECT 1 FROM snapshots t WHERE t.records_of = s.id AND t.compacted = 0))", false, Counts::SnapshotRows),
            ("DELETE FROM observations WHERE snapshot_id IN (SELECT id FROM snapshots WHERE compacted = 1)", false, Counts::SnapshotRows),
            ("DELETE FROM quarantine WHERE snapshot_id IN (SELECT id FROM snapshots WHERE compacted = 1)", false, Counts::SnapshotRows),
            ("DELETE FROM records WHERE hash NOT IN (SELECT hash FROM snapshot_records)", false, Counts::SnapshotRows),
            ("UPDATE runs SET compacted = 1 WHERE id < $1 AND compacted = 0", true, Counts::Runs),
        ];
        let mut done = Compaction {
            before_run: Some(cutoff),
            ..Compaction::default()
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut snapshots = 0;
            for (sql, takes_cutoff, counts) in steps {
                if matches!(counts, Counts::SnapshotRows) && snapshots == 0 {
                    continue;
                }
                let q = sqlx::query::<DB>(sql);
                let q = if takes_cutoff { q.bind(cutoff) } else { q };
                let n = q.execute(&mut *tx).await?.rows_affected();
                match counts {
                    Counts::Rows | Counts::SnapshotRows => done.rows += n,
                    Counts::Runs => done.runs += n,
                    Counts::Snapshots => snapshots = n,
                }
            }
            tx.commit().await?;
        });
        if done.rows > 0 {
            tracing::info!(
                before_run = cutoff,
                runs = done.runs,
                rows = done.rows,
                "retention dropped old detail"
            );
        }
        Ok(done)
    }

    /// Rows of each versioned or content table, for the benchmark's and tests' accounts.
    pub async fn detail_rows(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let tables = [
            "records",
            "snapshot_records",
            "observations",
            "entities",
            "links",
            "leads",
            "match_pairs",
            "quarantine",
        ];
        let mut out = Vec::new();
        for t in tables {
            let sql = format!("SELECT COUNT(*) FROM {t}");
            let n: i64 = on_pool!(self, pool => {
                sqlx::query::<DB>(&sql).fetch_one(pool).await?.get(0)
            });
            out.push((t.to_string(), n));
        }
        Ok(out)
    }
}
