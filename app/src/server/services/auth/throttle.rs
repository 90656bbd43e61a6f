//! Sign-in throttling in the database, on three keys: the address, the account at that
//! address, and the account from anywhere. A few free tries, then an exponentially growing wait
//! between attempts, and for the two address keys a temporary lock. Unknown emails are
//! throttled exactly like real ones, so the responses reveal nothing about which accounts exist.
//!
//! Each attempt is claimed before its password is checked (check and count in one transaction,
//! the row locked on PostgreSQL, the writer held on SQLite), so guesses sent in parallel are
//! all counted instead of all reading the same "no failures yet". A flood from one address
//! locks that address and its accounts there, never an account everywhere: the account-wide key
//! only counts attempts the address keys let through, and only slows them down.

use crate::server::db::{Db, Tx};
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts allowed before any waiting.
    pub free_failures: i64,
    /// Longest wait between attempts once backing off, in ms.
    pub max_backoff_ms: i64,
    /// Failures that lock the key, if it locks at all.
    pub lock_after: Option<i64>,
    pub lock_for_ms: i64,
    /// Whether attempts refused by this key count against it too (so a flood keeps it shut).
    pub counts_refused: bool,
}

/// One address, whatever accounts it tries. An office behind one NAT shares it, so it gets
/// more room than one account.
pub const ADDRESS: Policy = Policy {
    free_failures: 20,
    max_backoff_ms: 60_000,
    lock_after: Some(100),
    lock_for_ms: 15 * 60_000,
    counts_refused: true,
};

/// One account from one address: a person mistyping, or one guesser.
pub const ACCOUNT_AT_ADDRESS: Policy = Policy {
    free_failures: 3,
    max_backoff_ms: 60_000,
    lock_after: Some(10),
    lock_for_ms: 15 * 60_000,
    counts_refused: true,
};

/// One account from every address: only many addresses together reach it, and it slows them
/// without ever locking the account's owner out.
pub const ACCOUNT: Policy = Policy {
    free_failures: 30,
    max_backoff_ms: 30_000,
    lock_after: None,
    lock_for_ms: 0,
    counts_refused: false,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    pub failures: i64,
    pub last_failure_at: i64,
    pub locked_until: i64,
}

impl Policy {
    /// Milliseconds until the next attempt is allowed (0 = now).
    pub fn wait_ms(&self, s: &State, now: i64) -> i64 {
        if s.locked_until > now {
            return s.locked_until - now;
        }
        if s.failures < self.free_failures || s.locked_until > 0 {
            // A lock that has run out gives a fresh start on the back-off, not an instant re-lock.
            return 0;
        }
        let exp = (s.failures - self.free_failures).min(20) as u32;
        let backoff = (1000i64 << exp).min(self.max_backoff_ms);
        (s.last_failure_at + backoff - now).max(0)
    }

    /// State after one more attempt; the bool says whether this attempt set a lock.
    pub fn after_failure(&self, s: Option<State>, now: i64) -> (State, bool) {
        let mut s = s.unwrap_or_default();
        if s.locked_until > 0 && s.locked_until <= now {
            s = State::default();
        }
        s.failures += 1;
        s.last_failure_at = now;
        let locks = self
            .lock_after
            .is_some_and(|n| s.failures >= n && s.locked_until <= now);
        if locks {
            s.locked_until = now + self.lock_for_ms;
        }
        (s, locks)
    }
}

/// What claiming an attempt on one key decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// 0: go ahead; else how long to wait.
    pub wait_ms: i64,
    /// This attempt locked the key.
    pub locked: bool,
}

async fn load(tx: &mut Tx, key: &str) -> Result<Option<State>, sqlx::Error> {
    let for_update = tx.for_update();
    let row = sqlx::query(&format!(
        "SELECT failures, last_failure_at, locked_until FROM login_throttle WHERE key = $1{for_update}"
    ))
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(State {
            failures: r.try_get("failures")?,
            last_failure_at: r.try_get("last_failure_at")?,
            locked_until: r.try_get("locked_until")?,
        })
    })
    .transpose()
}

async fn store(tx: &mut Tx, key: &str, s: &State) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE login_throttle SET failures = $2, last_failure_at = $3, locked_until = $4 WHERE key = $1",
    )
    .bind(key)
    .bind(s.failures)
    .bind(s.last_failure_at)
    .bind(s.locked_until)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Claims one attempt on `key` inside `tx`: reads its state with the row locked, decides, and
/// counts the attempt as a failure until a correct password gives it back (`give_back`).
pub async fn claim(
    tx: &mut Tx,
    policy: &Policy,
    key: &str,
    now: i64,
) -> Result<Claim, sqlx::Error> {
    // The row must exist before it can be locked; a concurrent first attempt inserts nothing.
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) VALUES ($1, 0, 0, 0) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .execute(&mut **tx)
    .await?;
    let current = load(tx, key).await?;
    let wait_ms = policy.wait_ms(&current.unwrap_or_default(), now);
    if wait_ms > 0 && !policy.counts_refused {
        return Ok(Claim {
            wait_ms,
            locked: false,
        });
    }
    let (next, locked) = policy.after_failure(current, now);
    store(tx, key, &next).await?;
    Ok(Claim { wait_ms, locked })
}

/// A correct password: the claimed attempt was not a failure after all.
pub async fn give_back(tx: &mut Tx, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE login_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE key = $1",
    )
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn reset(tx: &mut Tx, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Rows with nothing left to remember: no lock running and no failure for a day.
pub async fn delete_stale(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM login_throttle WHERE locked_until <= $1 AND last_failure_at < $2")
            .bind(now)
            .bind(now - 24 * 3_600_000)
            .execute(&mut *db.write().await?)
            .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_n(p: &Policy, n: i64, start: i64, step: i64) -> (State, i64) {
        let mut s = None;
        let mut now = start;
        let mut locks = 0;
        for _ in 0..n {
            let (next, locked) = p.after_failure(s, now);
            locks += locked as i64;
            s = Some(next);
            now += step;
        }
        (s.unwrap(), locks)
    }

    #[test]
    fn free_tries_then_exponential_waits() {
        let p = ACCOUNT_AT_ADDRESS;
        let (s, _) = fail_n(&p, 2, 0, 0);
        assert_eq!(p.wait_ms(&s, 0), 0);
        let (s, _) = fail_n(&p, 3, 0, 0);
        assert_eq!(p.wait_ms(&s, 0), 1000);
        let (s, _) = fail_n(&p, 5, 0, 0);
        assert_eq!(p.wait_ms(&s, 0), 4000);
        assert_eq!(p.wait_ms(&s, 1500), 2500);
        let (s, _) = fail_n(&p, 9, 0, 0);
        assert_eq!(p.wait_ms(&s, 0), 60_000, "capped");
    }

    #[test]
    fn the_tenth_failure_locks_for_fifteen_minutes_then_starts_over() {
        let p = ACCOUNT_AT_ADDRESS;
        let (s, locks) = fail_n(&p, 10, 0, 1);
        assert_eq!(locks, 1);
        assert_eq!(p.wait_ms(&s, 9), 15 * 60_000);
        let later = 9 + 15 * 60_000;
        assert_eq!(p.wait_ms(&s, later), 0);
        let (after, locked) = p.after_failure(Some(s), later);
        assert_eq!(after.failures, 1, "expired lock resets the count");
        assert!(!locked);
    }

    #[test]
    fn the_account_wide_key_slows_but_never_locks() {
        let (s, locks) = fail_n(&ACCOUNT, 1_000, 0, 0);
        assert_eq!(locks, 0);
        assert_eq!(s.locked_until, 0);
        assert_eq!(ACCOUNT.wait_ms(&s, 0), 30_000);
        assert_eq!(ACCOUNT.wait_ms(&s, 30_000), 0);
    }
}
