//! Per-address budgets for what strangers may try: sign-in and invite-link attempts, refused
//! intake calls. Kept in memory and checked before anything touches the database, so a flood
//! from one address costs a hash-map lookup per request and writes nothing, and another
//! address is never slowed by it.

use super::source::{Reach, Source};
use std::{collections::HashMap, net::IpAddr, sync::Mutex, time::Duration};

/// Fixed windows of a minute: simple to reason about, and a burst at a window's edge can at
/// most double the budget once.
const WINDOW_MS: i64 = 60_000;
/// Past this many tracked addresses, expired windows are swept before a new one is added.
const SWEEP_AT: usize = 50_000;
/// A hard cap on tracked addresses (a few MiB). Beyond it, addresses not yet tracked are let
/// through untracked rather than made to share one budget: a shared budget would be a switch an
/// attacker with enough addresses could flip to lock everyone out. The database throttle still
/// counts what gets through.
const MAX_TRACKED: usize = 200_000;

#[derive(Debug)]
pub struct Strikes {
    limit: u32,
    reach: Reach,
    windows: Mutex<Windows>,
}

#[derive(Debug, Default)]
struct Windows {
    by_addr: HashMap<Source, (i64, u32)>,
    /// The window last swept: sweeping again within it would find nothing to remove, and doing
    /// it per new address turned a many-address flood quadratic.
    swept: i64,
}

/// The budget is spent: wait this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub Duration);

impl Wait {
    /// Whole seconds, at least one, as Retry-After counts them.
    pub fn secs(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

impl Strikes {
    /// `limit` per minute for each source of `reach`.
    pub fn per_minute(limit: u32, reach: Reach) -> Strikes {
        Strikes {
            limit: limit.max(1),
            reach,
            windows: Mutex::new(Windows::default()),
        }
    }

    /// Runs `f` on the address's window for `now_ms`, or on a throwaway one when the map is
    /// full (see `MAX_TRACKED`).
    fn with_window<T>(
        &self,
        ip: IpAddr,
        now_ms: i64,
        f: impl FnOnce(&mut (i64, u32), u32) -> T,
    ) -> T {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let start = now_ms - now_ms.rem_euclid(WINDOW_MS);
        let key = Source::of(ip, self.reach);
        if !windows.by_addr.contains_key(&key) {
            if windows.by_addr.len() >= SWEEP_AT && windows.swept != start {
                windows.by_addr.retain(|_, (s, _)| *s == start);
                windows.swept = start;
            }
            if windows.by_addr.len() >= MAX_TRACKED {
                return f(&mut (start, 0), self.limit);
            }
        }
        let w = windows.by_addr.entry(key).or_insert((start, 0));
        if w.0 != start {
            *w = (start, 0);
        }
        f(w, self.limit)
    }

    fn wait(start: i64, now_ms: i64) -> Wait {
        Wait(Duration::from_millis(
            (start + WINDOW_MS - now_ms).max(1) as u64
        ))
    }

    /// Counts one attempt if the budget allows it; check and count are one step, so parallel
    /// attempts cannot all slip in before the first is counted.
    pub fn attempt(&self, ip: IpAddr, now_ms: i64) -> Result<(), Wait> {
        self.with_window(ip, now_ms, |w, limit| {
            if w.1 >= limit {
                Err(Self::wait(w.0, now_ms))
            } else {
                w.1 += 1;
                Ok(())
            }
        })
    }

    /// Gives back an attempt that turned out well (a correct password).
    pub fn refund(&self, ip: IpAddr, now_ms: i64) {
        self.with_window(ip, now_ms, |w, _| w.1 = w.1.saturating_sub(1));
    }

    /// Whether the budget is spent, without spending it (for calls only refusals count against).
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Result<(), Wait> {
        self.with_window(ip, now_ms, |w, limit| {
            if w.1 >= limit {
                Err(Self::wait(w.0, now_ms))
            } else {
                Ok(())
            }
        })
    }

    /// Counts one refusal.
    pub fn strike(&self, ip: IpAddr, now_ms: i64) {
        self.with_window(ip, now_ms, |w, _| w.1 = w.1.saturating_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn each_address_has_its_own_budget_per_minute() {
        let s = Strikes::per_minute(3, Reach::Address);
        for _ in 0..3 {
            assert!(s.attempt(ip("1.1.1.1"), 1_000).is_ok());
        }
        let wait = s.attempt(ip("1.1.1.1"), 1_000).unwrap_err();
        assert_eq!(wait.secs(), 59);
        assert!(
            s.attempt(ip("2.2.2.2"), 1_000).is_ok(),
            "another address is not slowed"
        );
        assert!(
            s.attempt(ip("1.1.1.1"), 60_000).is_ok(),
            "the next minute starts afresh"
        );
    }

    #[test]
    fn refunds_give_back_and_checks_do_not_spend() {
        let s = Strikes::per_minute(1, Reach::Address);
        s.attempt(ip("1.1.1.1"), 0).unwrap();
        s.refund(ip("1.1.1.1"), 0);
        assert!(s.check(ip("1.1.1.1"), 0).is_ok());
        assert!(s.check(ip("1.1.1.1"), 0).is_ok());
        s.strike(ip("1.1.1.1"), 0);
        assert!(s.check(ip("1.1.1.1"), 0).is_err());
    }

    #[test]
    fn a_network_budget_counts_its_whole_range() {
        let s = Strikes::per_minute(2, Reach::Network);
        s.attempt(ip("203.0.113.1"), 0).unwrap();
        s.attempt(ip("203.0.113.200"), 0).unwrap();
        assert!(s.attempt(ip("203.0.113.9"), 0).is_err());
        assert!(s.attempt(ip("203.0.114.9"), 0).is_ok());
    }

    #[test]
    fn an_ipv6_client_counts_once_for_its_whole_64() {
        let s = Strikes::per_minute(1, Reach::Address);
        s.attempt(ip("2001:db8:1:2::1"), 0).unwrap();
        assert!(s.attempt(ip("2001:db8:1:2:ffff::9"), 0).is_err());
        assert!(s.attempt(ip("2001:db8:1:3::1"), 0).is_ok());
    }

    #[test]
    fn a_full_map_lets_new_addresses_through_instead_of_sharing_one_budget() {
        let s = Strikes::per_minute(1, Reach::Address);
        for i in 0..MAX_TRACKED as u32 {
            s.attempt(IpAddr::V4(std::net::Ipv4Addr::from(i)), 0)
                .unwrap();
        }
        let known = IpAddr::V4(std::net::Ipv4Addr::from(7u32));
        assert!(
            s.attempt(known, 0).is_err(),
            "tracked addresses keep their budget"
        );
        for _ in 0..5 {
            assert!(
                s.attempt(ip("203.0.113.1"), 0).is_ok(),
                "no shared switch to flip"
            );
        }
    }

    #[test]
    fn parallel_attempts_never_exceed_the_budget() {
        let s = std::sync::Arc::new(Strikes::per_minute(20, Reach::Address));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .filter(|_| s.attempt(ip("9.9.9.9"), 5).is_ok())
                        .count()
                })
            })
            .collect();
        let admitted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(admitted, 20);
    }
}
