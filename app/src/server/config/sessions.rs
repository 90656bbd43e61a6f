//! How long a staff session lasts.

use super::reader::{parse_secs, Reader};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
}

impl SessionConfig {
    pub(super) fn read(r: &mut Reader) -> Option<SessionConfig> {
        let idle_timeout = r.parse("SESSION_IDLE_TIMEOUT_MINS", "30", |v| {
            parse_secs(24 * 60)(v).map(|d| d * 60)
        });
        let absolute_timeout = r.parse("SESSION_ABSOLUTE_TIMEOUT_HOURS", "12", |v| {
            parse_secs(24 * 30)(v).map(|d| d * 3600)
        });
        Some(SessionConfig {
            idle_timeout: idle_timeout?,
            absolute_timeout: absolute_timeout?,
        })
    }
}
