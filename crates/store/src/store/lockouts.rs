//! Sign-in attempts kept in the database: each try is counted before its password is checked,
//! under one lock, so a lockout holds across parallel tries and restarts. Never stores a password.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::outbox::timestamp;
use super::portal::parse_time;
use super::{Store, StoreError};

/// What an attempt is counted against: the account's key and the client address's key
/// (the caller normalises both: lower-cased name, IPv6 by /64).
#[derive(Debug, Clone, Copy)]
pub struct AttemptKeys<'a> {
    pub user: &'a str,
    pub ip: &'a str,
}

/// The attempts of both keys still inside the window, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveAttempts {
    pub user: Vec<DateTime<Utc>>,
    pub ip: Vec<DateTime<Utc>>,
}

/// An attempt that was let through (and counted) before its password was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittedAttempt {
    user_key: String,
    user_row: i64,
    ip_row: i64,
}

/// Serialises admissions on PostgreSQL (one advisory lock, held until the transaction ends).
/// On SQLite the transaction's first statement writes, which takes the database's write lock.
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('yingbao.sign_in_attempts'))";

const PRUNE: &str = "DELETE FROM sign_in_attempts WHERE attempted_at <= $1";

const LIVE: &str = "SELECT scope, attempted_at FROM sign_in_attempts \
     WHERE ((scope = 'user' AND key = $1) OR (scope = 'ip' AND key = $2)) AND attempted_at > $3 \
     ORDER BY attempted_at, id";

const INSERT: &str =
    "INSERT INTO sign_in_attempts (scope, key, attempted_at) VALUES ($1, $2, $3) RETURNING id";

fn live_from(rows: Vec<(String, String)>) -> LiveAttempts {
    let mut live = LiveAttempts::default();
    for (scope, at) in rows {
        let at = parse_time(&at);
        if scope == "user" {
            live.user.push(at);
        } else {
            live.ip.push(at);
        }
    }
    live
}

impl Store {
    /// Counts a sign-in attempt against `keys` unless `refuse` says no, as one step: under one
    /// lock the attempts after `since` are read, `refuse` decides, and the attempt is stored
    /// before the lock is let go. Parallel attempts therefore see each other: no more are let
    /// through than the limit `refuse` applies. Attempts older than `since` are deleted.
    /// A refusal that is already plain without the lock is answered without writing.
    pub async fn admit_attempt<T, F>(
        &self,
        keys: AttemptKeys<'_>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        refuse: F,
    ) -> Result<Result<AdmittedAttempt, T>, StoreError>
    where
        F: Fn(&LiveAttempts) -> Option<T>,
    {
        let (since, at) = (timestamp(since), timestamp(now));
        let is_pg = matches!(self, Store::Postgres(_));
        on_pool!(self, pool => {
            // A flood of refused tries only reads.
            let rows = sqlx::query_as::<DB, (String, String)>(LIVE)
                .bind(keys.user)
                .bind(keys.ip)
                .bind(&since)
                .fetch_all(pool)
                .await?;
            if let Some(no) = refuse(&live_from(rows)) {
                return Ok(Err(no));
            }
            let mut tx = pool.begin().await?;
            if is_pg {
                sqlx::query::<DB>(PG_LOCK).execute(&mut *tx).await?;
            }
            sqlx::query::<DB>(PRUNE).bind(&since).execute(&mut *tx).await?;
            let rows = sqlx::query_as::<DB, (String, String)>(LIVE)
                .bind(keys.user)
                .bind(keys.ip)
                .bind(&since)
                .fetch_all(&mut *tx)
                .await?;
            if let Some(no) = refuse(&live_from(rows)) {
                tx.rollback().await?;
                return Ok(Err(no));
            }
            let mut ids = [0i64; 2];
            for (id, (scope, key)) in ids.iter_mut().zip([("user", keys.user), ("ip", keys.ip)]) {
                *id = sqlx::query::<DB>(INSERT)
                    .bind(scope)
                    .bind(key)
                    .bind(&at)
                    .fetch_one(&mut *tx)
                    .await?
                    .get(0);
            }
            tx.commit().await?;
            Ok(Ok(AdmittedAttempt {
                user_key: keys.user.to_string(),
                user_row: ids[0],
                ip_row: ids[1],
            }))
        })
    }

    /// The attempt turned out not to be a failure (the password was right): it no longer
    /// counts against the account or the address.
    pub async fn forget_attempt(&self, attempt: &AdmittedAttempt) -> Result<(), StoreError> {
        let sql = "DELETE FROM sign_in_attempts WHERE id = $1 OR id = $2";
        on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(attempt.user_row)
                .bind(attempt.ip_row)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The attempt signed in: it is forgotten and the account's earlier failures with it
    /// (the address's failures stay).
    pub async fn attempt_succeeded(&self, attempt: &AdmittedAttempt) -> Result<(), StoreError> {
        let sql = "DELETE FROM sign_in_attempts WHERE (scope = 'user' AND key = $1) OR id = $2";
        on_pool!(self, pool => {
            sqlx::query::<DB>(sql)
                .bind(&attempt.user_key)
                .bind(attempt.ip_row)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.expect("open");
        (dir, store)
    }

    const KEYS: AttemptKeys<'static> = AttemptKeys {
        user: "alice",
        ip: "10.0.0.1",
    };

    fn at_most(n: usize) -> impl Fn(&LiveAttempts) -> Option<usize> {
        move |live: &LiveAttempts| (live.user.len() >= n).then_some(live.user.len())
    }

    /// Fifty tries at once against a limit of five: exactly five are let through.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_attempts_past_the_limit_are_refused() {
        let (_dir, store) = store().await;
        let now = Utc::now();
        let since = now - TimeDelta::minutes(15);
        let tries = (0..50).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.admit_attempt(KEYS, since, now, at_most(5)).await })
        });
        let mut admitted = 0;
        for t in tries {
            if t.await.expect("join").expect("admit").is_ok() {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 5);
    }

    /// The read before the lock may be stale (another try got in since): the decision taken
    /// under the lock is the one that counts.
    #[tokio::test]
    async fn the_decision_under_the_lock_is_the_one_that_counts() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (_dir, store) = store().await;
        let now = Utc::now();
        let since = now - TimeDelta::minutes(15);
        for _ in 0..5 {
            let r = store.admit_attempt(KEYS, since, now, at_most(5)).await;
            assert!(r.expect("admit").is_ok());
        }
        let calls = AtomicUsize::new(0);
        let stale_first = |live: &LiveAttempts| {
            let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
            if first {
                None
            } else {
                at_most(5)(live)
            }
        };
        let r = store.admit_attempt(KEYS, since, now, stale_first).await;
        assert_eq!(r.expect("admit"), Err(5));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "decided again under the lock"
        );
    }

    /// Expired attempts are deleted; a success clears the account, a forgotten attempt is gone.
    #[tokio::test]
    async fn attempts_expire_and_a_success_clears_the_account() {
        let (_dir, store) = store().await;
        let t0 = Utc::now() - TimeDelta::hours(1);
        let window = TimeDelta::minutes(15);
        for i in 0..3 {
            let now = t0 + TimeDelta::seconds(i);
            let r = store.admit_attempt(KEYS, now - window, now, at_most(3));
            assert!(r.await.expect("admit").is_ok());
        }
        let r = store.admit_attempt(KEYS, t0 - window, t0, at_most(3)).await;
        assert_eq!(r.expect("admit"), Err(3), "three live: refused");
        let later = t0 + window + TimeDelta::seconds(10);
        let a = store
            .admit_attempt(KEYS, later - window, later, at_most(3))
            .await
            .expect("admit")
            .expect("the old ones expired");
        let all: i64 = match &store {
            Store::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_attempts")
                .fetch_one(p)
                .await
                .expect("count"),
            Store::Postgres(_) => unreachable!(),
        };
        assert_eq!(all, 2, "expired rows deleted, the new attempt's two kept");
        store.forget_attempt(&a).await.expect("forget");
        let b = store.admit_attempt(KEYS, later - window, later, at_most(1));
        let b = b
            .await
            .expect("admit")
            .expect("the forgotten one does not count");
        let r = store.admit_attempt(KEYS, later - window, later, at_most(1));
        assert_eq!(r.await.expect("admit"), Err(1));
        store.attempt_succeeded(&b).await.expect("success");
        let r = store.admit_attempt(KEYS, later - window, later, at_most(1));
        assert!(
            r.await.expect("admit").is_ok(),
            "a success clears the account"
        );
    }
}
