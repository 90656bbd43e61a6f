//! The job queue: workers inside `serve`, and when a waiting queue counts as lagging.

use super::reader::{parse_secs, quoted, Reader};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Job workers inside `serve`; 0 leaves the queue to `ledgerline worker` processes.
    pub worker_count: usize,
    /// /api/ready reports degraded once the oldest runnable job has waited this long.
    pub queue_lag_warn: Duration,
}

impl JobsConfig {
    pub(super) fn read(r: &mut Reader) -> Option<JobsConfig> {
        let worker_count = r.parse("WORKER_COUNT", "2", |v| match v.trim().parse::<usize>() {
            Ok(n) if n <= 64 => Ok(n),
            _ => Err(format!(
                "expected a whole number from 0 to 64, got {}",
                quoted(v)
            )),
        });
        let queue_lag_warn = r.parse("QUEUE_LAG_WARN_SECS", "300", parse_secs(86_400));
        Some(JobsConfig {
            worker_count: worker_count?,
            queue_lag_warn: queue_lag_warn?,
        })
    }
}
