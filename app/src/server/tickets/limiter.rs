//! Per-key rate limit for the intake API: a token bucket per API key (GCRA, via `governor`),
//! refilling INTAKE_RATE_LIMIT_PER_MIN per minute with that many as the burst. It lives in this
//! process: with several instances behind a balancer each allows the full rate.

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::{num::NonZeroU32, time::Duration};

pub struct IntakeLimiter {
    inner: DefaultKeyedRateLimiter<String>,
    per_minute: u32,
}

impl std::fmt::Debug for IntakeLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IntakeLimiter({}/min)", self.per_minute)
    }
}

impl IntakeLimiter {
    pub fn per_minute(n: u32) -> IntakeLimiter {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        IntakeLimiter {
            inner: RateLimiter::keyed(Quota::per_minute(n)),
            per_minute: n.get(),
        }
    }

    /// Ok, or how long the caller should wait (at least one second, as Retry-After counts).
    pub fn check(&self, key_id: &str) -> Result<(), Duration> {
        match self.inner.check_key(&key_id.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.inner.clock().now());
                Err(wait.max(Duration::from_secs(1)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_bucket() {
        let l = IntakeLimiter::per_minute(2);
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        let wait = l.check("a").unwrap_err();
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(l.check("b").is_ok(), "another key is not slowed");
    }
}
