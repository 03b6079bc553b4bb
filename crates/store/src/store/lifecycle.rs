//! Lead states across runs, their transitions, and townships' dispositions: the SQL for
//! the lead lifecycle. The states are replaced as a whole inside a run's results transaction.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::{Store, StoreError};
use crate::domain::{EntityId, LeadId, TownshipCode};
use crate::leads::lifecycle::{DispositionFact, LeadState, LeadStatus, Transition};
use crate::screen::LeadKind;

/// A disposition to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDisposition {
    pub lead_id: String,
    pub township_code: Option<TownshipCode>,
    /// One of the 核实情况 values.
    pub kind: String,
    pub reason: String,
    pub person: String,
    pub signer: String,
    pub decided_on: NaiveDate,
    /// Where it came from: `<file>:<row>`, `portal:<user>` or `api:<token label>`.
    pub origin: String,
    /// Signed off by the township's leader (`signer`) already; unsigned dispositions wait
    /// for the sign-off and do not take effect before it.
    pub signed: bool,
    /// For 不在本辖区: the township code the employer is really in, when known.
    pub transfer_to: Option<String>,
}

/// The lifecycle part of a run's results.
#[derive(Debug, Clone, Copy)]
pub struct LifecycleUpdate<'a> {
    pub states: &'a [LeadState],
    pub transitions: &'a [Transition],
    pub as_of: NaiveDate,
}

/// A transition as recorded, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadEvent {
    pub happened_on: NaiveDate,
    pub lead_id: String,
    pub from: Option<LeadStatus>,
    pub to: LeadStatus,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

impl Store {
    /// Every lead ever found, by id.
    pub async fn lead_states(&self) -> Result<HashMap<String, LeadState>, StoreError> {
        let sql = "SELECT lead_id, entity_id, kind, status, township_code, first_seen, opened_on, \
                   closed_on, close_reason, last_run, assigned_township FROM lead_states";
        let rows: Vec<Option<LeadState>> = on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| {
                    Some(LeadState {
                        lead_id: LeadId::from(r.get::<String, _>(0)),
                        entity_id: EntityId::from(r.get::<String, _>(1)),
                        kind: LeadKind::parse(r.get::<&str, _>(2))?,
                        status: LeadStatus::parse(r.get::<&str, _>(3))?,
                        township_code: r.get::<Option<String>, _>(4).map(TownshipCode::from),
                        first_seen: date(r.get::<&str, _>(5))?,
                        opened_on: date(r.get::<&str, _>(6))?,
                        closed_on: r.get::<Option<&str>, _>(7).and_then(date),
                        assigned_township: r.get::<Option<String>, _>(10).map(TownshipCode::from),
                        close_reason: r.get(8),
                        last_run: r.get(9),
                    })
                })
                .collect()
        });
        let unreadable = rows.iter().filter(|r| r.is_none()).count();
        if unreadable > 0 {
            tracing::warn!(unreadable, "unreadable lead states skipped");
        }
        Ok(rows
            .into_iter()
            .flatten()
            .map(|s| (s.lead_id.to_string(), s))
            .collect())
    }

    /// The latest signed-off disposition of every lead that has one.
    pub async fn latest_dispositions(
        &self,
    ) -> Result<HashMap<String, DispositionFact>, StoreError> {
        let sql = "SELECT lead_id, kind, decided_on, transfer_to FROM dispositions \
                   WHERE signed_at IS NOT NULL ORDER BY id";
        let rows: Vec<(String, String, String, Option<String>)> = on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect()
        });
        let mut out = HashMap::new();
        for (lead_id, kind, decided, transfer_to) in rows {
            if let Some(decided_on) = date(&decided) {
                out.insert(
                    lead_id.clone(),
                    DispositionFact {
                        lead_id: lead_id.into(),
                        kind,
                        decided_on,
                        transfer_to,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Records a township's disposition; returns its id.
    pub async fn add_disposition(&self, d: &NewDisposition) -> Result<i64, StoreError> {
        let sql =
            "INSERT INTO dispositions (lead_id, township_code, kind, reason, person, signer, \
                   decided_on, recorded_at, origin, signed_at, transfer_to) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
        let now = chrono::Utc::now().to_rfc3339();
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, i64>(sql)
                .bind(&d.lead_id)
                .bind(d.township_code.as_deref())
                .bind(&d.kind)
                .bind(&d.reason)
                .bind(&d.person)
                .bind(&d.signer)
                .bind(d.decided_on.to_string())
                .bind(&now)
                .bind(&d.origin)
                .bind(d.signed.then(|| now.clone()))
                .bind(&d.transfer_to)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Dispositions recorded between two dates (inclusive, by decision date): (lead id,
    /// township code, kind).
    pub async fn dispositions_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, Option<String>, String)>, StoreError> {
        let sql = "SELECT lead_id, township_code, kind FROM dispositions \
                   WHERE decided_on >= $1 AND decided_on <= $2 ORDER BY id";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect()
        }))
    }

    /// Lead transitions between two dates (inclusive).
    pub async fn lead_events_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<LeadEvent>, StoreError> {
        let sql = "SELECT happened_on, lead_id, from_status, to_status FROM lead_events \
                   WHERE happened_on >= $1 AND happened_on <= $2 ORDER BY id";
        let rows: Vec<(String, String, Option<String>, String)> = on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect()
        });
        Ok(rows
            .into_iter()
            .filter_map(|(on, lead_id, from, to)| {
                Some(LeadEvent {
                    happened_on: date(&on)?,
                    lead_id,
                    from: from.as_deref().and_then(LeadStatus::parse),
                    to: LeadStatus::parse(&to)?,
                })
            })
            .collect())
    }
}

impl Store {
    /// The last full run whose screening date is on or before `date`.
    pub async fn last_run_as_of(&self, date: NaiveDate) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MAX(id) FROM runs WHERE status = 'succeeded' AND as_of <= $1";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, Option<i64>>(sql).bind(date.to_string()).fetch_one(pool).await?
        }))
    }
}
