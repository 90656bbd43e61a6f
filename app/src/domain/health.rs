use serde::{Deserialize, Serialize};

/// Outcome of one health or configuration check. Ordered from best to worst so the overall
/// status of a report is simply the maximum of its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    /// One human sentence; never a secret, a stack trace or SQL.
    pub detail: String,
}

impl Check {
    pub fn new(name: impl Into<String>, status: CheckStatus, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
        }
    }
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check::new(name, CheckStatus::Ok, detail)
    }
    pub fn warn(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check::new(name, CheckStatus::Warn, detail)
    }
    pub fn fail(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check::new(name, CheckStatus::Fail, detail)
    }
}

/// What `/api/ready` and the status panel report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub status: CheckStatus,
    pub checks: Vec<Check>,
    /// RFC 3339, UTC.
    pub checked_at: String,
}

impl Readiness {
    pub fn from_checks(checks: Vec<Check>, checked_at: String) -> Self {
        let status = overall(&checks);
        Readiness {
            status,
            checks,
            checked_at,
        }
    }

    /// Ready means every check passed or only warned; a warning is "degraded", still serving.
    pub fn is_ready(&self) -> bool {
        self.status != CheckStatus::Fail
    }
}

pub fn overall(checks: &[Check]) -> CheckStatus {
    checks
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(CheckStatus::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overall_status_is_the_worst_check() {
        let checks = vec![Check::ok("a", ""), Check::warn("b", ""), Check::ok("c", "")];
        assert_eq!(overall(&checks), CheckStatus::Warn);
        let mut failing = checks.clone();
        failing.push(Check::fail("d", ""));
        let report = Readiness::from_checks(failing, String::new());
        assert_eq!(report.status, CheckStatus::Fail);
        assert!(!report.is_ready());
        assert!(Readiness::from_checks(checks, String::new()).is_ready());
    }
}
