//! The delivery outbox: one row per (cycle, township, channel) with its idempotency key, and
//! every attempt. Rows are written with a run's results; the delivery worker moves them on.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::Row;

use super::{Store, StoreError};
use crate::domain::TownshipCode;

/// A delivery to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbox {
    pub cycle: String,
    pub township_code: Option<TownshipCode>,
    pub channel: String,
    pub idempotency_key: String,
    /// `list` or `alert`.
    pub kind: &'static str,
    /// JSON of what to send.
    pub payload: String,
    /// The list's version within its cycle (1, then 更正版 2, 3 …; alerts 1).
    pub version: u32,
    /// `pending` (sent as soon as due), `waiting` (for the operator's approval) or
    /// `superseded` (withdraws an unsent version already queued under this key).
    pub status: &'static str,
}

/// A queued delivery as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub run_id: i64,
    pub cycle: String,
    pub township_code: Option<TownshipCode>,
    pub channel: String,
    pub idempotency_key: String,
    pub kind: String,
    pub payload: String,
    /// `waiting` (for approval), `pending`, `delivered`, `dead` or `superseded`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    /// Steps of a multi-step delivery already done by earlier attempts.
    pub progress: Vec<String>,
    /// The list's version within its cycle.
    pub version: u32,
}

impl OutboxRow {
    /// Sent or being sent: no longer replaceable in place.
    pub fn sent(&self) -> bool {
        self.attempts > 0 || matches!(self.status.as_str(), "delivered" | "dead")
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    Delivered {
        detail: String,
    },
    /// Try again at `next` (RFC 3339).
    Retry {
        error: String,
        next: String,
    },
    /// Given up: the error was permanent or the attempts are used up.
    Dead {
        error: String,
    },
}

/// Timestamps as fixed-width RFC 3339 UTC text, so that text order is time order.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Queues a delivery; a key already queued takes the newer payload and status only while
/// nothing has been attempted (a list re-run within its cycle replaces one not yet sent).
pub(super) const UPSERT: &str = "INSERT INTO outbox (run_id, cycle, township_code, channel, \
     idempotency_key, kind, payload, status, attempts, next_attempt_at, created_at, version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $9, 0, $8, $8, $10) \
     ON CONFLICT (idempotency_key) DO UPDATE SET payload = excluded.payload, run_id = excluded.run_id, \
     status = excluded.status, next_attempt_at = excluded.next_attempt_at \
     WHERE outbox.status IN ('pending', 'waiting', 'superseded') AND outbox.attempts = 0";

const COLUMNS: &str = "id, run_id, cycle, township_code, channel, idempotency_key, kind, payload, \
     status, attempts, next_attempt_at, last_error, delivered_at, progress, version";

impl Store {
    /// Queues one delivery outside a run (operator alerts).
    pub async fn enqueue(&self, run_id: i64, o: &NewOutbox) -> Result<(), StoreError> {
        let now = timestamp(Utc::now());
        on_pool!(self, pool => {
            sqlx::query::<DB>(UPSERT)
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
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Pending deliveries due at `now`, oldest first.
    pub async fn due_deliveries(&self, now: DateTime<Utc>) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id"
        );
        self.outbox_query(&sql, Some(timestamp(now))).await
    }

    /// Every township list queued for `cycle` (all versions, every channel), oldest first.
    pub async fn cycle_lists(&self, cycle: &str) -> Result<Vec<OutboxRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM outbox WHERE kind = 'list' AND cycle = $1 ORDER BY id");
        self.outbox_query(&sql, Some(cycle.to_string())).await
    }

    /// True when a township list was ever sent (or is being sent): a run before that is a
    /// first run, whose lists always wait for the operator.
    pub async fn any_list_sent(&self) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM outbox WHERE kind = 'list' \
                   AND (attempts > 0 OR status IN ('delivered', 'dead'))";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, i64>(sql).fetch_one(pool).await? > 0
        }))
    }

    /// The newest run whose township lists were released (sent, being sent or approved).
    pub async fn last_released_run(&self) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MAX(run_id) FROM outbox WHERE kind = 'list' AND status <> 'waiting' \
                   AND status <> 'superseded'";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, Option<i64>>(sql).fetch_one(pool).await?
        }))
    }

    /// The payload of the township list last released to `township` (`None`: the county
    /// list) — queued for sending, sent or given up; not one waiting or withdrawn.
    pub async fn released_list(
        &self,
        township: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let filter = match township {
            Some(_) => "township_code = $1",
            None => "township_code IS NULL",
        };
        let sql = format!(
            "SELECT payload FROM outbox WHERE kind = 'list' AND {filter} \
             AND status IN ('pending', 'delivered', 'dead') ORDER BY id DESC LIMIT 1"
        );
        Ok(on_pool!(self, pool => {
            let mut q = sqlx::query_scalar::<DB, String>(&sql);
            if let Some(t) = township {
                q = q.bind(t.to_string());
            }
            q.fetch_optional(pool).await?
        }))
    }

    /// Runs whose township lists wait for approval: (run, lists), oldest first.
    pub async fn waiting_runs(&self) -> Result<Vec<(i64, u64)>, StoreError> {
        let sql = "SELECT run_id, COUNT(*) FROM outbox WHERE status = 'waiting' \
                   GROUP BY run_id ORDER BY run_id";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1).max(0) as u64))
                .collect()
        }))
    }

    /// Releases the lists of `run_id` that wait for approval: they are due now. Records who
    /// approved; returns how many lists were released (0: none waited).
    pub async fn approve_run(&self, run_id: i64, by: &str) -> Result<u64, StoreError> {
        let now = timestamp(Utc::now());
        let release = "UPDATE outbox SET status = 'pending', next_attempt_at = $1 \
                       WHERE run_id = $2 AND status = 'waiting'";
        let record = "INSERT INTO approvals (run_id, approved_by, approved_at, lists) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (run_id) DO UPDATE SET \
                      approved_by = excluded.approved_by, approved_at = excluded.approved_at, \
                      lists = approvals.lists + excluded.lists";
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query::<DB>(release)
                .bind(&now)
                .bind(run_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                sqlx::query::<DB>(record)
                    .bind(run_id)
                    .bind(by)
                    .bind(&now)
                    .bind(n as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            n
        }))
    }

    /// Who approved `run_id`'s lists and when (RFC 3339 UTC), if anyone did.
    pub async fn approval(&self, run_id: i64) -> Result<Option<(String, String)>, StoreError> {
        let sql = "SELECT approved_by, approved_at FROM approvals WHERE run_id = $1";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(run_id)
                .fetch_optional(pool)
                .await?
                .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        }))
    }

    /// Every queued delivery, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY id");
        self.outbox_query(&sql, None).await
    }

    /// When the next pending delivery is due, if any is pending.
    pub async fn next_delivery_due(&self) -> Result<Option<String>, StoreError> {
        let sql = "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, Option<String>>(sql).fetch_one(pool).await?
        }))
    }

    async fn outbox_query(
        &self,
        sql: &str,
        bind: Option<String>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut q = sqlx::query::<DB>(sql);
            if let Some(b) = bind {
                q = q.bind(b);
            }
            q.fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| OutboxRow {
                    id: r.get(0),
                    run_id: r.get(1),
                    cycle: r.get(2),
                    township_code: r.get::<Option<String>, _>(3).map(TownshipCode::from),
                    channel: r.get(4),
                    idempotency_key: r.get(5),
                    kind: r.get(6),
                    payload: r.get(7),
                    status: r.get(8),
                    attempts: i64::from(r.get::<i32, _>(9)),
                    next_attempt_at: r.get(10),
                    last_error: r.get(11),
                    delivered_at: r.get(12),
                    progress: r
                        .get::<Option<String>, _>(13)
                        .and_then(|p| serde_json::from_str(&p).ok())
                        .unwrap_or_default(),
                    version: r.get::<i32, _>(14).max(1) as u32,
                })
                .collect()
        }))
    }

    /// Records that attempt number `attempt` of delivery `outbox_id` starts now (before
    /// anything is sent, so that a crash leaves a trace); returns the attempt's id.
    pub async fn start_attempt(&self, outbox_id: i64, attempt: i64) -> Result<i64, StoreError> {
        let now = timestamp(Utc::now());
        let sql = "INSERT INTO delivery_attempts (outbox_id, attempt, started_at, outcome) \
                   VALUES ($1, $2, $3, 'started') RETURNING id";
        let bump = "UPDATE outbox SET attempts = $1 WHERE id = $2";
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id = sqlx::query_scalar::<DB, i64>(sql)
                .bind(outbox_id)
                .bind(attempt as i32)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query::<DB>(bump).bind(attempt as i32).bind(outbox_id).execute(&mut *tx).await?;
            tx.commit().await?;
            id
        }))
    }

    /// Records how an attempt ended, the steps done so far, and moves its delivery on, in
    /// one transaction.
    pub async fn finish_attempt(
        &self,
        outbox_id: i64,
        attempt_id: i64,
        outcome: &AttemptOutcome,
        progress: &[String],
    ) -> Result<(), StoreError> {
        let now = timestamp(Utc::now());
        let progress = serde_json::to_string(progress)?;
        let (label, detail) = match outcome {
            AttemptOutcome::Delivered { detail } => ("ok", detail.as_str()),
            AttemptOutcome::Retry { error, .. } => ("retry", error.as_str()),
            AttemptOutcome::Dead { error } => ("failed", error.as_str()),
        };
        let attempt_sql = "UPDATE delivery_attempts SET finished_at = $1, outcome = $2, detail = $3 WHERE id = $4";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query::<DB>(attempt_sql)
                .bind(&now)
                .bind(label)
                .bind(detail)
                .bind(attempt_id)
                .execute(&mut *tx)
                .await?;
            let q = match outcome {
                AttemptOutcome::Delivered { .. } => sqlx::query::<DB>(
                    "UPDATE outbox SET status = 'delivered', delivered_at = $1, last_error = NULL WHERE id = $2",
                )
                .bind(now.clone())
                .bind(outbox_id),
                AttemptOutcome::Retry { error, next } => sqlx::query::<DB>(
                    "UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3",
                )
                .bind(next.clone())
                .bind(error.clone())
                .bind(outbox_id),
                AttemptOutcome::Dead { error } => sqlx::query::<DB>(
                    "UPDATE outbox SET status = 'dead', last_error = $1 WHERE id = $2",
                )
                .bind(error.clone())
                .bind(outbox_id),
            };
            q.execute(&mut *tx).await?;
            sqlx::query::<DB>("UPDATE outbox SET progress = $1 WHERE id = $2")
                .bind(&progress)
                .bind(outbox_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Puts deliveries that were given up back in the queue, due now, with a fresh attempt
    /// budget (their earlier attempts stay recorded): the one with `key`, or every one when
    /// `key` is `None`. Returns how many.
    pub async fn revive(&self, key: Option<&str>) -> Result<u64, StoreError> {
        let now = timestamp(Utc::now());
        let sql = match key {
            Some(_) => {
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 \
                        WHERE status = 'dead' AND idempotency_key = $2"
            }
            None => {
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 \
                     WHERE status = 'dead'"
            }
        };
        Ok(on_pool!(self, pool => {
            let mut q = sqlx::query::<DB>(sql).bind(now);
            if let Some(k) = key {
                q = q.bind(k.to_string());
            }
            q.execute(pool).await?.rows_affected()
        }))
    }

    /// Township-list deliveries by status.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let sql = "SELECT status, COUNT(*) FROM outbox WHERE kind = 'list' GROUP BY status ORDER BY status";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1).max(0) as u64))
                .collect()
        }))
    }

    /// Attempts of one delivery: (attempt number, outcome, detail).
    pub async fn attempts(
        &self,
        outbox_id: i64,
    ) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
        let sql = "SELECT attempt, outcome, detail FROM delivery_attempts WHERE outbox_id = $1 ORDER BY id";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(outbox_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (i64::from(r.get::<i32, _>(0)), r.get(1), r.get(2)))
                .collect()
        }))
    }
}
