//! The portal's tables: accounts, sessions, API tokens, the audit log, and the views of leads
//! and dispositions a township or the county operator sees. Every read takes the township.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::outbox::timestamp;
use super::{Store, StoreError};
use crate::domain::TownshipCode;
use crate::leads::LeadData;

/// What an account may see: the whole county, or one township's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountRole {
    Operator,
    Township,
}

impl AccountRole {
    /// The word stored in `users.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::Operator => "operator",
            AccountRole::Township => "township",
        }
    }

    /// The stored word; any word but `operator` is a township account, which sees least.
    pub fn from_stored(word: &str) -> AccountRole {
        if word == "operator" {
            AccountRole::Operator
        } else {
            AccountRole::Township
        }
    }
}

impl std::fmt::Display for AccountRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: AccountRole,
    pub township_code: Option<TownshipCode>,
    pub can_sign: bool,
    pub password_hash: String,
    pub disabled: bool,
}

impl User {
    /// Whether the account sees the whole county.
    pub fn is_operator(&self) -> bool {
        self.role == AccountRole::Operator
    }
}

/// A session as stored (the cookie's token only as its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// A lead as the portal lists it: its standing and the row of the run that last found it.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalLead {
    pub lead_id: String,
    pub status: String,
    /// Where it is listed (a transfer's township, else its placement).
    pub township_code: Option<TownshipCode>,
    pub opened_on: String,
    pub first_seen: String,
    /// The lead as the run that last found it stored it.
    pub data: LeadData,
}

/// A portal lead as read, before its data is parsed.
struct PortalLeadRow(String, String, Option<String>, String, String, String);

impl PortalLeadRow {
    fn parse(self) -> Result<PortalLead, StoreError> {
        let PortalLeadRow(lead_id, status, township_code, opened_on, first_seen, data) = self;
        Ok(PortalLead {
            lead_id,
            status,
            township_code: township_code.map(TownshipCode::from),
            opened_on,
            first_seen,
            data: serde_json::from_str(&data)?,
        })
    }
}

/// A disposition as the portal shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DispositionRow {
    pub id: i64,
    pub lead_id: String,
    pub township_code: Option<TownshipCode>,
    pub kind: String,
    pub reason: String,
    pub person: String,
    pub signer: String,
    pub decided_on: String,
    pub signed_at: Option<String>,
    pub transfer_to: Option<String>,
}

pub(super) fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Which accounts [`Store::select_users`] reads.
#[derive(Clone, Copy)]
enum UserKey<'a> {
    All,
    Name(&'a str),
    Id(i64),
}

const USER_COLUMNS: &str =
    "id, username, display_name, role, township_code, can_sign, password_hash, disabled";

impl Store {
    /// Creates an account; returns its id.
    pub async fn add_user(
        &self,
        username: &str,
        display_name: &str,
        role: AccountRole,
        township_code: Option<&str>,
        can_sign: bool,
        password_hash: &str,
    ) -> Result<i64, StoreError> {
        let sql = "INSERT INTO users (username, display_name, role, township_code, can_sign, \
                   password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7) RETURNING id";
        let now = timestamp(Utc::now());
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<DB, i64>(sql)
                .bind(username)
                .bind(display_name)
                .bind(role.as_str())
                .bind(township_code)
                .bind(i32::from(can_sign))
                .bind(password_hash)
                .bind(now)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Sets a new password hash and signs the account out everywhere. False: no such user.
    pub async fn reset_password(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query::<DB>("UPDATE users SET password_hash = $1 WHERE username = $2")
                .bind(hash)
                .bind(username)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query::<DB>("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)")
                .bind(username)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            n
        });
        Ok(n > 0)
    }

    /// Sets a user's own new password hash and signs out every other session of the account
    /// (`keep` is the token hash of the session that made the change). Returns how many
    /// sessions ended.
    pub async fn change_password(
        &self,
        user_id: i64,
        hash: &str,
        keep: &str,
    ) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query::<DB>("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            let ended = sqlx::query::<DB>("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            ended
        }))
    }

    /// Every account, by username.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.select_users(UserKey::All).await
    }

    /// Disables an account (signing it out everywhere) or enables it. False: no such user.
    pub async fn set_user_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query::<DB>("UPDATE users SET disabled = $1 WHERE username = $2")
                .bind(i32::from(disabled))
                .bind(username)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if disabled {
                sqlx::query::<DB>("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)")
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            n
        });
        Ok(n > 0)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.select_users(UserKey::Name(username)).await?.pop())
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        Ok(self.select_users(UserKey::Id(id)).await?.pop())
    }

    async fn select_users(&self, key: UserKey<'_>) -> Result<Vec<User>, StoreError> {
        let filter = match key {
            UserKey::All => "",
            UserKey::Name(_) => " WHERE username = $1",
            UserKey::Id(_) => " WHERE id = $1",
        };
        let sql = format!("SELECT {USER_COLUMNS} FROM users{filter} ORDER BY username");
        Ok(on_pool!(self, pool => {
            let q = sqlx::query::<DB>(&sql);
            let q = match key {
                UserKey::All => q,
                UserKey::Name(name) => q.bind(name),
                UserKey::Id(id) => q.bind(id),
            };
            q.fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| User {
                    id: r.get(0),
                    username: r.get(1),
                    display_name: r.get(2),
                    role: AccountRole::from_stored(r.get::<&str, _>(3)),
                    township_code: r.get::<Option<String>, _>(4).map(TownshipCode::from),
                    can_sign: r.get::<i32, _>(5) != 0,
                    password_hash: r.get(6),
                    disabled: r.get::<i32, _>(7) != 0,
                })
                .collect()
        }))
    }

    pub async fn save_session(&self, s: &StoredSession) -> Result<(), StoreError> {
        let sql = "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(&s.token_hash)
                .bind(s.user_id)
                .bind(&s.csrf)
                .bind(timestamp(s.created_at))
                .bind(timestamp(s.last_seen))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<StoredSession>, StoreError> {
        let sql = "SELECT token_hash, user_id, csrf, created_at, last_seen FROM sessions WHERE token_hash = $1";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(token_hash)
                .fetch_optional(pool)
                .await?
                .map(|r| StoredSession {
                    token_hash: r.get(0),
                    user_id: r.get(1),
                    csrf: r.get(2),
                    created_at: parse_time(r.get::<&str, _>(3)),
                    last_seen: parse_time(r.get::<&str, _>(4)),
                })
        }))
    }

    pub async fn touch_session(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query::<DB>("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
                .bind(timestamp(at))
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query::<DB>("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores a township API token (by its hash).
    pub async fn add_api_token(
        &self,
        token_hash: &str,
        township_code: &str,
        label: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO api_tokens (token_hash, township_code, label, created_at, revoked) \
                   VALUES ($1, $2, $3, $4, 0)";
        let now = timestamp(Utc::now());
        on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(token_hash)
                .bind(township_code)
                .bind(label)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The township and label of a live API token.
    pub async fn api_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let sql =
            "SELECT township_code, label FROM api_tokens WHERE token_hash = $1 AND revoked = 0";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(token_hash)
                .fetch_optional(pool)
                .await?
                .map(|r| (r.get(0), r.get(1)))
        }))
    }

    /// Records who did what.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let sql =
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)";
        let now = timestamp(Utc::now());
        on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(now)
                .bind(actor)
                .bind(action)
                .bind(target)
                .bind(detail.to_string())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The audit entries about `target`: (at, actor, action, detail).
    pub async fn audit_of(
        &self,
        target: &str,
    ) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let sql = "SELECT at, actor, action, detail FROM audit_log WHERE target = $1 ORDER BY id";
        Ok(on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(target)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect()
        }))
    }

    /// The leads listed for a township (`None`: the county list of unplaced leads), with
    /// the row of the run that last found each; a transferred lead counts where it was moved.
    pub async fn portal_leads(
        &self,
        township: Option<&str>,
    ) -> Result<Vec<PortalLead>, StoreError> {
        let base = "SELECT s.lead_id, s.status, COALESCE(s.assigned_township, s.township_code), \
                    s.opened_on, s.first_seen, l.data FROM lead_states s \
                    JOIN leads l ON l.lead_id = s.lead_id AND l.run_id <= s.last_run \
                    AND (l.to_run IS NULL OR l.to_run > s.last_run) \
                    WHERE s.status IN ('new', 'open', 'reopened') AND ";
        let sql = match township {
            Some(_) => format!(
                "{base}COALESCE(s.assigned_township, s.township_code) = $1 ORDER BY s.lead_id"
            ),
            None => format!(
                "{base}COALESCE(s.assigned_township, s.township_code) IS NULL ORDER BY s.lead_id"
            ),
        };
        let rows: Vec<PortalLeadRow> = on_pool!(self, pool => {
            let mut q = sqlx::query::<DB>(&sql);
            if let Some(t) = township {
                q = q.bind(t.to_string());
            }
            q.fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| PortalLeadRow(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
                .collect()
        });
        rows.into_iter().map(PortalLeadRow::parse).collect()
    }

    /// One listed lead with where it is listed, whatever township asks (callers check).
    pub async fn portal_lead(&self, lead_id: &str) -> Result<Option<PortalLead>, StoreError> {
        let sql = "SELECT s.lead_id, s.status, COALESCE(s.assigned_township, s.township_code), \
                   s.opened_on, s.first_seen, l.data FROM lead_states s \
                   JOIN leads l ON l.lead_id = s.lead_id AND l.run_id <= s.last_run \
                    AND (l.to_run IS NULL OR l.to_run > s.last_run) \
                   WHERE s.lead_id = $1";
        let row: Option<PortalLeadRow> = on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(lead_id)
                .fetch_optional(pool)
                .await?
                .map(|r| PortalLeadRow(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        });
        row.map(PortalLeadRow::parse).transpose()
    }

    /// Dispositions, newest first: of one lead, or awaiting sign-off in a township (`None`
    /// township and `pending_only`: every township's).
    pub async fn dispositions(
        &self,
        lead_id: Option<&str>,
        township: Option<&str>,
        pending_only: bool,
    ) -> Result<Vec<DispositionRow>, StoreError> {
        let mut sql = String::from(
            "SELECT id, lead_id, township_code, kind, reason, person, signer, decided_on, signed_at, transfer_to \
             FROM dispositions WHERE 1 = 1",
        );
        let mut binds: Vec<String> = Vec::new();
        if let Some(l) = lead_id {
            binds.push(l.to_string());
            sql.push_str(&format!(" AND lead_id = ${}", binds.len()));
        }
        if let Some(t) = township {
            binds.push(t.to_string());
            sql.push_str(&format!(" AND township_code = ${}", binds.len()));
        }
        if pending_only {
            sql.push_str(" AND signed_at IS NULL");
        }
        sql.push_str(" ORDER BY id DESC");
        Ok(on_pool!(self, pool => {
            let mut q = sqlx::query::<DB>(&sql);
            for b in &binds {
                q = q.bind(b.clone());
            }
            q.fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| DispositionRow {
                    id: r.get(0),
                    lead_id: r.get(1),
                    township_code: r.get::<Option<String>, _>(2).map(TownshipCode::from),
                    kind: r.get(3),
                    reason: r.get(4),
                    person: r.get(5),
                    signer: r.get(6),
                    decided_on: r.get(7),
                    signed_at: r.get(8),
                    transfer_to: r.get(9),
                })
                .collect()
        }))
    }

    /// Signs a disposition off in `township` (it must be that township's). False: no such
    /// unsigned disposition there.
    pub async fn sign_off(
        &self,
        id: i64,
        township: Option<&str>,
        signer: &str,
    ) -> Result<bool, StoreError> {
        let now = timestamp(Utc::now());
        let n = on_pool!(self, pool => {
            let q = match township {
                Some(t) => sqlx::query::<DB>(
                    "UPDATE dispositions SET signed_at = $1, signer = $2 WHERE id = $3 AND signed_at IS NULL AND township_code = $4",
                )
                .bind(now)
                .bind(signer)
                .bind(id)
                .bind(t.to_string()),
                None => sqlx::query::<DB>(
                    "UPDATE dispositions SET signed_at = $1, signer = $2 WHERE id = $3 AND signed_at IS NULL AND township_code IS NULL",
                )
                .bind(now)
                .bind(signer)
                .bind(id),
            };
            q.execute(pool).await?.rows_affected()
        });
        Ok(n > 0)
    }
}

#[cfg(test)]
mod role_tests {
    use super::AccountRole;

    #[test]
    fn a_stored_role_word_other_than_operator_sees_least() {
        for role in [AccountRole::Operator, AccountRole::Township] {
            assert_eq!(AccountRole::from_stored(role.as_str()), role);
        }
        assert_eq!(AccountRole::from_stored("Operator "), AccountRole::Township);
        assert_eq!(AccountRole::from_stored("admin"), AccountRole::Township);
    }
}
