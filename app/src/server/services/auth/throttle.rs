//! Failed-login throttling per account and per IP: a few free tries, then an exponentially
//! growing wait between attempts, then a temporary lock. Unknown emails are throttled exactly
//! like real ones, so the responses reveal nothing about which accounts exist.

use crate::server::db::{Db, Tx};
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before any waiting.
    pub free_failures: i64,
    /// Longest wait between attempts once backing off, in ms.
    pub max_backoff_ms: i64,
    /// Failures that lock the key.
    pub lock_after: i64,
    pub lock_for_ms: i64,
}

pub const ACCOUNT: Policy = Policy {
    free_failures: 3,
    max_backoff_ms: 60_000,
    lock_after: 10,
    lock_for_ms: 15 * 60_000,
};

/// An office behind one NAT may share an IP, so it gets more room than one account.
pub const IP: Policy = Policy {
    free_failures: 20,
    max_backoff_ms: 60_000,
    lock_after: 100,
    lock_for_ms: 15 * 60_000,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// State after one more failure; the bool says whether this failure set a lock.
    pub fn after_failure(&self, s: Option<State>, now: i64) -> (State, bool) {
        let mut s = s.unwrap_or(State {
            failures: 0,
            last_failure_at: 0,
            locked_until: 0,
        });
        if s.locked_until > 0 && s.locked_until <= now {
            s = State {
                failures: 0,
                last_failure_at: 0,
                locked_until: 0,
            };
        }
        s.failures += 1;
        s.last_failure_at = now;
        let locks = s.failures >= self.lock_after && s.locked_until <= now;
        if locks {
            s.locked_until = now + self.lock_for_ms;
        }
        (s, locks)
    }
}

pub async fn load(db: &Db, key: &str) -> Result<Option<State>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT failures, last_failure_at, locked_until FROM login_throttle WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(db.pool())
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

/// Records a failure in `tx`; returns whether the key is now locked.
pub async fn record_failure(
    tx: &mut Tx,
    policy: &Policy,
    key: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT failures, last_failure_at, locked_until FROM login_throttle WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    let current = row
        .map(|r| -> Result<State, sqlx::Error> {
            Ok(State {
                failures: r.try_get("failures")?,
                last_failure_at: r.try_get("last_failure_at")?,
                locked_until: r.try_get("locked_until")?,
            })
        })
        .transpose()?;
    let (next, locked) = policy.after_failure(current, now);
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET failures = $2, last_failure_at = $3, locked_until = $4",
    )
    .bind(key)
    .bind(next.failures)
    .bind(next.last_failure_at)
    .bind(next.locked_until)
    .execute(&mut **tx)
    .await?;
    Ok(locked)
}

pub async fn reset(tx: &mut Tx, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
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
        let (s, _) = fail_n(&ACCOUNT, 2, 0, 0);
        assert_eq!(ACCOUNT.wait_ms(&s, 0), 0);
        let (s, _) = fail_n(&ACCOUNT, 3, 0, 0);
        assert_eq!(ACCOUNT.wait_ms(&s, 0), 1000);
        let (s, _) = fail_n(&ACCOUNT, 5, 0, 0);
        assert_eq!(ACCOUNT.wait_ms(&s, 0), 4000);
        assert_eq!(ACCOUNT.wait_ms(&s, 1500), 2500);
        let (s, _) = fail_n(&ACCOUNT, 9, 0, 0);
        assert_eq!(ACCOUNT.wait_ms(&s, 0), 60_000, "capped");
    }

    #[test]
    fn the_tenth_failure_locks_for_fifteen_minutes_then_starts_over() {
        let (s, locks) = fail_n(&ACCOUNT, 10, 0, 1);
        assert_eq!(locks, 1);
        assert_eq!(ACCOUNT.wait_ms(&s, 9), 15 * 60_000);
        let later = 9 + 15 * 60_000;
        assert_eq!(ACCOUNT.wait_ms(&s, later), 0);
        let (after, locked) = ACCOUNT.after_failure(Some(s), later);
        assert_eq!(after.failures, 1, "expired lock resets the count");
        assert!(!locked);
    }
}
