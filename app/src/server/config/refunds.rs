//! Who may refund how much alone.

use super::reader::{quoted, Reader};

#[derive(Debug, Clone)]
pub struct RefundConfig {
    /// The largest refund the billing role may make alone, in the charge currency's minor
    /// units; above it a second person approves. Admins have no limit.
    pub limit_billing: i64,
}

impl RefundConfig {
    pub(super) fn read(r: &mut Reader) -> Option<RefundConfig> {
        let limit_billing = r.parse("REFUND_LIMIT_BILLING", "50000", |v| {
            match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => Ok(n),
                _ => Err(format!(
                    "expected an amount in minor units (50000 = 500.00), got {}",
                    quoted(v)
                )),
            }
        })?;
        Some(RefundConfig { limit_billing })
    }
}
