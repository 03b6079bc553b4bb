//! The `runs` table as a process reads it when it starts: the newest runs, and the runs a
//! process that died left `running`. It never judges whether a process is alive: its caller does.

use super::{Store, StoreError};

/// The status of a dry run (`yingbao run --dry-run`): its lists went to a preview folder and
/// it saved nothing but the snapshots it read; never "the last run".
pub const PREVIEW: &str = "preview";

/// The status of a run that a process left `running` when it died.
pub const INTERRUPTED: &str = "interrupted";

/// The columns of a run as [`RunRow`] reads them.
const RUN_COLUMNS: &str = "id, started_at, finished_at, as_of, status, summary";

/// A `runs` row in the order of [`RUN_COLUMNS`].
type RunTuple = (i64, String, Option<String>, String, String, Option<String>);

/// A run as recorded: a full run (`running`, `succeeded`, `failed`, `interrupted`) or a
/// daemon's pull of one source (`pulled`, or `failed` with the source it pulled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: i64,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339; none while running, and for a run marked interrupted.
    pub finished_at: Option<String>,
    pub as_of: String,
    pub status: String,
    /// JSON: a run's summary, a failure's `error`, an interrupted run's `note`.
    pub summary: Option<String>,
}

impl From<RunTuple> for RunRow {
    fn from(r: RunTuple) -> RunRow {
        let (id, started_at, finished_at, as_of, status, summary) = r;
        RunRow {
            id,
            started_at,
            finished_at,
            as_of,
            status,
            summary,
        }
    }
}

impl RunRow {
    /// The stored summary as JSON (none: no summary, or not JSON).
    pub fn summary_json(&self) -> Option<serde_json::Value> {
        self.summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }

    /// A daemon's pull of one source, not a full run: "the last run" never means one.
    pub fn is_pull(&self) -> bool {
        self.status == "pulled" || self.summary_json().is_some_and(|v| v.get("pull").is_some())
    }
}

/// Runs read per query while looking for the newest full run among pulls.
const PAGE: i64 = 200;

impl Store {
    /// One run by id.
    pub async fn run_row(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
        let row = on_pool!(self, pool => {
            sqlx::query_as::<DB, RunTuple>(&sql).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(RunRow::from))
    }

    /// Up to `limit` runs, newest first, each older than run `before` when given.
    pub async fn runs_before(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<RunRow>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id < $1 ORDER BY id DESC LIMIT $2");
        let rows = on_pool!(self, pool => {
            sqlx::query_as::<DB, RunTuple>(&sql)
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(RunRow::from).collect())
    }

    /// The newest full run (not a pull, not a dry run), whatever its status.
    pub async fn last_full_run(&self) -> Result<Option<RunRow>, StoreError> {
        let mut before = None;
        loop {
            let page = self.runs_before(before, PAGE).await?;
            let Some(oldest) = page.last() else {
                return Ok(None);
            };
            before = Some(oldest.id);
            if let Some(run) = page
                .into_iter()
                .find(|r| !r.is_pull() && r.status != PREVIEW)
            {
                return Ok(Some(run));
            }
        }
    }

    /// The newest succeeded run (a full run: pulls are `pulled`).
    pub async fn last_succeeded_run(&self) -> Result<Option<RunRow>, StoreError> {
        match self.last_run().await? {
            Some(id) => self.run_row(id).await,
            None => Ok(None),
        }
    }

    /// Marks every run still `running` as [`INTERRUPTED`], its summary `{"note": note}`, and
    /// returns them as they were. Only a caller that knows no live process runs one may call
    /// this (`yingbao` holds the project lock while it runs).
    pub async fn mark_interrupted(&self, note: &str) -> Result<Vec<RunRow>, StoreError> {
        let select = format!("SELECT {RUN_COLUMNS} FROM runs WHERE status = 'running' ORDER BY id");
        let update =
            "UPDATE runs SET status = $1, summary = $2 WHERE id = $3 AND status = 'running'";
        let summary = serde_json::json!({ "note": note }).to_string();
        let rows = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query_as::<DB, RunTuple>(&select).fetch_all(&mut *tx).await?;
            for r in &rows {
                sqlx::query::<DB>(update)
                    .bind(INTERRUPTED)
                    .bind(&summary)
                    .bind(r.0)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            rows
        });
        Ok(rows.into_iter().map(RunRow::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::RunRow;

    fn row(status: &str, summary: Option<&str>) -> RunRow {
        RunRow {
            id: 1,
            started_at: "2025-07-01T03:00:00+00:00".into(),
            finished_at: None,
            as_of: "2025-06-30".into(),
            status: status.into(),
            summary: summary.map(str::to_string),
        }
    }

    /// A pull is known by its status or, when it failed, by the source its summary names.
    #[test]
    fn a_pull_is_told_from_a_full_run() {
        assert!(row("pulled", Some(r#"{"pull":{}}"#)).is_pull());
        assert!(row("failed", Some(r#"{"error":"boom","pull":"tax"}"#)).is_pull());
        assert!(!row("failed", Some(r#"{"error":"boom"}"#)).is_pull());
        assert!(!row("succeeded", Some(r#"{"run_id":1}"#)).is_pull());
        assert!(!row("running", None).is_pull());
        assert!(!row("interrupted", Some("not json")).is_pull());
    }
}
