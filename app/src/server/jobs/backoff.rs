use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: i64,
    /// How long a claimed job stays ours before another worker may take it over.
    pub lease: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(3600),
            max_attempts: 10,
            lease: Duration::from_secs(60),
        }
    }
}

/// Delay before retry number `attempt` (1 = after the first failure): "full jitter", a uniform
/// pick between 0 and min(cap, base·2^(attempt-1)), where `unit` in [0, 1) is the random draw.
/// A connector's Retry-After is a floor: we never come back sooner than it asked.
pub fn backoff_ms(
    policy: &RetryPolicy,
    attempt: i64,
    unit: f64,
    retry_after: Option<Duration>,
) -> i64 {
    let exp = (attempt - 1).clamp(0, 40) as u32;
    let ceiling = policy
        .base
        .as_millis()
        .saturating_mul(1u128 << exp)
        .min(policy.cap.as_millis()) as f64;
    let jittered = (ceiling * unit.clamp(0.0, 1.0)) as i64;
    let floor = retry_after.map(|d| d.as_millis() as i64).unwrap_or(0);
    jittered.max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_then_cap() {
        let p = RetryPolicy::default();
        assert_eq!(backoff_ms(&p, 1, 0.999_999, None), 4_999);
        assert_eq!(backoff_ms(&p, 2, 0.5, None), 5_000);
        assert_eq!(backoff_ms(&p, 4, 1.0, None), 40_000);
        assert_eq!(backoff_ms(&p, 20, 1.0, None), 3_600_000, "capped at 1 h");
        assert_eq!(backoff_ms(&p, 3, 0.0, None), 0, "full jitter reaches zero");
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = RetryPolicy::default();
        assert_eq!(
            backoff_ms(&p, 1, 0.1, Some(Duration::from_secs(30))),
            30_000
        );
        assert_eq!(
            backoff_ms(&p, 10, 1.0, Some(Duration::from_secs(30))),
            2_560_000
        );
    }
}
