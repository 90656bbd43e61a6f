//! Refusals of strangers, audited as counts: one entry per action, source and minute, with how
//! many there were, instead of one append-only row per request. A flood of bad sign-ins or
//! bad intake keys therefore grows the audit log by a row a minute per source, not a row a
//! request. Counts live in memory until the minute's flush; a crash loses at most that minute's
//! counts, never an entry about a staff member's own action.

use crate::domain::Outcome;
use crate::server::actor::{Actor, RequestMeta};
use crate::server::db::Db;
use crate::server::services::audit;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// Distinct sources held between flushes (so audit rows a minute, per action); past it, new
/// sources are counted together under "other".
const MAX_SOURCES: usize = 100;
/// Sample values (emails typed, reasons) kept per entry.
const MAX_SAMPLES: usize = 10;

#[derive(Debug, Default)]
struct Count {
    n: u64,
    first_ms: i64,
    last_ms: i64,
    reasons: BTreeMap<String, u64>,
    samples: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct Tally {
    counts: Mutex<HashMap<(&'static str, String), Count>>,
}

impl Tally {
    /// Counts one refusal of `action` from `source` (an address, or an API key's id).
    pub fn note(
        &self,
        action: &'static str,
        source: &str,
        reason: &str,
        sample: Option<&str>,
        now_ms: i64,
    ) {
        self.record(action, source, reason, sample, now_ms, 1);
    }

    /// Adds what happened along the way (a lock that an attempt set) to the source's entry
    /// without counting another refusal.
    pub fn flag(&self, action: &'static str, source: &str, what: &str, now_ms: i64) {
        self.record(action, source, what, None, now_ms, 0);
    }

    fn record(
        &self,
        action: &'static str,
        source: &str,
        reason: &str,
        sample: Option<&str>,
        now_ms: i64,
        n: u64,
    ) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = (action, source.chars().take(64).collect::<String>());
        if !map.contains_key(&key) && map.len() >= MAX_SOURCES {
            key.1 = "other".into();
        }
        let c = map.entry(key).or_default();
        // Requests note their own clock reading, so they may arrive slightly out of order.
        c.first_ms = if c.n == 0 && c.reasons.is_empty() {
            now_ms
        } else {
            c.first_ms.min(now_ms)
        };
        c.last_ms = c.last_ms.max(now_ms);
        c.n += n;
        *c.reasons
            .entry(reason.chars().take(40).collect())
            .or_default() += 1;
        if let Some(s) = sample {
            if c.samples.len() < MAX_SAMPLES {
                c.samples.insert(s.chars().take(100).collect());
            }
        }
    }

    /// Writes one audit entry per action and source counted since the last flush; returns how
    /// many. Counts that could not be written are kept for the next flush.
    pub async fn flush(&self, db: &Db) -> Result<usize, sqlx::Error> {
        let drained: Vec<_> = {
            let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            map.drain().collect()
        };
        let mut written = 0;
        let mut failed = None;
        for ((action, source), c) in drained {
            if failed.is_some() {
                self.restore(action, source, c);
                continue;
            }
            let meta = RequestMeta {
                ip: source
                    .parse::<std::net::IpAddr>()
                    .ok()
                    .map(|_| source.clone()),
                ..Default::default()
            };
            let entry = audit::NewEntry::new(&Actor::Anonymous, &meta, action, Outcome::Denied)
                .target("source", &source)
                .details(serde_json::json!({
                    "count": c.n,
                    "first_at_ms": c.first_ms,
                    "last_at_ms": c.last_ms,
                    "reasons": c.reasons,
                    "samples": c.samples,
                }));
            match audit::append_now(db, entry).await {
                Ok(_) => written += 1,
                Err(e) => {
                    failed = Some(e);
                    self.restore(action, source, c);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }

    fn restore(&self, action: &'static str, source: String, c: Count) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let into = map.entry((action, source)).or_default();
        into.first_ms = if into.n == 0 && into.reasons.is_empty() {
            c.first_ms
        } else {
            into.first_ms.min(c.first_ms)
        };
        into.n += c.n;
        into.last_ms = into.last_ms.max(c.last_ms);
        for (r, n) in c.reasons {
            *into.reasons.entry(r).or_default() += n;
        }
        into.samples.extend(c.samples);
    }

    /// Sources waiting to be flushed (for tests and the shutdown flush).
    pub fn pending(&self) -> usize {
        self.counts.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_by_action_and_source() {
        let t = Tally::default();
        for i in 0..1000 {
            t.note(
                "auth.login",
                "1.1.1.1",
                "bad_credentials",
                Some(&format!("u{}@x", i % 20)),
                i,
            );
        }
        t.note("auth.login", "2.2.2.2", "throttled", None, 5);
        t.flag("auth.login", "2.2.2.2", "locked", 3);
        t.note("ticket.intake_refused", "1.1.1.1", "unknown_key", None, 5);
        let map = t.counts.lock().unwrap();
        assert_eq!(map.len(), 3);
        let c = &map[&("auth.login", "1.1.1.1".to_string())];
        assert_eq!((c.n, c.first_ms, c.last_ms), (1000, 0, 999));
        assert_eq!(c.samples.len(), MAX_SAMPLES);
        assert_eq!(c.reasons["bad_credentials"], 1000);
        let flagged = &map[&("auth.login", "2.2.2.2".to_string())];
        assert_eq!(
            (flagged.n, flagged.first_ms, flagged.last_ms),
            (1, 3, 5),
            "a flag is no refusal"
        );
        assert_eq!(flagged.reasons["locked"], 1);
    }

    #[test]
    fn sources_past_the_cap_share_one_entry() {
        let t = Tally::default();
        for i in 0..(MAX_SOURCES + 50) {
            t.note("auth.login", &format!("src{i}"), "x", None, 0);
        }
        let map = t.counts.lock().unwrap();
        assert_eq!(map.len(), MAX_SOURCES + 1);
        assert_eq!(map[&("auth.login", "other".to_string())].n, 50);
    }
}
