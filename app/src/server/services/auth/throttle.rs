//! Password throttling in the database, on up to three keys per attempt: the address (an IPv6
//! /64), the account at that address (or at a browser that signed in to it before: a known
//! device), and the account from anywhere. A few free tries, then an exponentially growing wait
//! between attempts, and for the address keys a temporary lock. Unknown emails are throttled
//! exactly like real ones, so the responses reveal nothing about which accounts exist.
//!
//! All of an attempt's keys are claimed together in one transaction before the password is
//! checked (rows locked on PostgreSQL, the writer held on SQLite), so guesses sent in parallel
//! cannot all read "no failures yet". A refused attempt counts only against the address key
//! (a flood keeps that address shut); it never adds to the owner's own keys. A key forgets
//! failures an hour old. A known device is not subject to the account-wide key at all, so a
//! flood from many addresses slows sign-ins from new browsers but never locks the account's
//! owner out of one they use.

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
    /// Whether attempts this key refuses count against it too (so a flood keeps it shut).
    pub counts_refused: bool,
}

/// Failures older than this are forgotten (a lock that is still running is kept).
pub const FORGET_AFTER_MS: i64 = 3_600_000;

/// One address, whatever accounts it tries. An office behind one NAT shares it, so it gets
/// more room than one account.
pub const ADDRESS: Policy = Policy {
    free_failures: 20,
    max_backoff_ms: 60_000,
    lock_after: Some(100),
    lock_for_ms: 15 * 60_000,
    counts_refused: true,
};

/// One account from one address or one known device: a person mistyping, or one guesser.
pub const ACCOUNT_HERE: Policy = Policy {
    free_failures: 3,
    max_backoff_ms: 60_000,
    lock_after: Some(10),
    lock_for_ms: 15 * 60_000,
    counts_refused: false,
};

/// One account from every address, for browsers it has not seen: only many addresses together
/// reach it, and it slows them without locking.
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

impl State {
    /// What is still remembered at `now`: old failures are dropped, a running lock is kept.
    fn at(self, now: i64) -> State {
        if self.locked_until <= now && now - self.last_failure_at > FORGET_AFTER_MS {
            State::default()
        } else {
            self
        }
    }
}

impl Policy {
    /// Milliseconds until the next attempt is allowed (0 = now).
    pub fn wait_ms(&self, s: &State, now: i64) -> i64 {
        let s = s.at(now);
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
        let mut s = s.unwrap_or_default().at(now);
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

/// One key of an attempt.
#[derive(Debug, Clone)]
pub struct Key {
    pub policy: Policy,
    pub name: String,
}

impl Key {
    pub fn new(policy: Policy, name: impl Into<String>) -> Key {
        Key {
            policy,
            name: name.into(),
        }
    }
}

/// What claiming an attempt decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// 0: go ahead; else how long to wait.
    pub wait_ms: i64,
    /// Names of the keys this attempt locked.
    pub locked: Vec<String>,
    /// Each key's state before the attempt, to give it back if the password is right.
    before: Vec<State>,
    at: i64,
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

/// Claims one attempt on all `keys` inside `tx`: reads their states with the rows locked and
/// decides. Allowed, the attempt counts as a failure on every key until a correct password
/// gives it back (`give_back`); refused, it counts only on the refusing keys that count
/// refusals.
pub async fn claim(tx: &mut Tx, keys: &[Key], now: i64) -> Result<Claim, sqlx::Error> {
    let mut before = Vec::with_capacity(keys.len());
    for key in keys {
        // A row must exist before it can be locked; a concurrent first attempt inserts nothing.
        sqlx::query(
            "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) VALUES ($1, 0, 0, 0) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(&key.name)
        .execute(&mut **tx)
        .await?;
        before.push(load(tx, &key.name).await?.unwrap_or_default());
    }
    let waits: Vec<i64> = keys
        .iter()
        .zip(&before)
        .map(|(k, s)| k.policy.wait_ms(s, now))
        .collect();
    let wait_ms = waits.iter().copied().max().unwrap_or(0);
    let mut locked = Vec::new();
    for ((key, state), wait) in keys.iter().zip(&before).zip(&waits) {
        let counts = if wait_ms == 0 {
            true
        } else {
            *wait > 0 && key.policy.counts_refused
        };
        if counts {
            let (next, locks) = key.policy.after_failure(Some(*state), now);
            store(tx, &key.name, &next).await?;
            if locks {
                locked.push(key.name.clone());
            }
        }
    }
    Ok(Claim {
        wait_ms,
        locked,
        before,
        at: now,
    })
}

/// A correct password: the claimed attempt was not a failure after all. Each key is put back
/// as it was, unless another attempt has changed it since (then only this one is taken off).
pub async fn give_back(tx: &mut Tx, keys: &[Key], claim: &Claim) -> Result<(), sqlx::Error> {
    for (key, before) in keys.iter().zip(&claim.before) {
        sqlx::query(
            "UPDATE login_throttle SET \
               failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, \
               last_failure_at = CASE WHEN last_failure_at = $2 THEN $3 ELSE last_failure_at END \
             WHERE key = $1",
        )
        .bind(&key.name)
        .bind(claim.at)
        .bind(before.last_failure_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn reset(tx: &mut Tx, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Rows with nothing left to remember: no lock running and nothing within the forget window.
pub async fn delete_stale(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM login_throttle WHERE locked_until <= $1 AND last_failure_at < $2")
            .bind(now)
            .bind(now - FORGET_AFTER_MS)
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
        let p = ACCOUNT_HERE;
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
        let p = ACCOUNT_HERE;
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
    fn failures_an_hour_old_are_forgotten_but_a_lock_is_not() {
        let p = ACCOUNT_HERE;
        let (s, _) = fail_n(&p, 5, 0, 0);
        assert!(p.wait_ms(&s, 1) > 0);
        assert_eq!(p.wait_ms(&s, FORGET_AFTER_MS + 1), 0);
        let (after, _) = p.after_failure(Some(s), FORGET_AFTER_MS + 1);
        assert_eq!(after.failures, 1, "counting starts again");
        let long = Policy {
            lock_for_ms: 2 * FORGET_AFTER_MS,
            ..p
        };
        let (locked, _) = fail_n(&long, 10, 0, 0);
        assert!(
            long.wait_ms(&locked, FORGET_AFTER_MS + 1) > 0,
            "a running lock stays"
        );
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
