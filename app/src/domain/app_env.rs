use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// The deployment environment. It decides how strict start-up checks are: a test-mode Stripe
/// key is fine in development and a failure in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    Development,
    Test,
    Staging,
    Production,
}

impl AppEnv {
    pub const ALL: [AppEnv; 4] = [
        AppEnv::Development,
        AppEnv::Test,
        AppEnv::Staging,
        AppEnv::Production,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppEnv::Development => "development",
            AppEnv::Test => "test",
            AppEnv::Staging => "staging",
            AppEnv::Production => "production",
        }
    }
}

impl fmt::Display for AppEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AppEnv {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AppEnv::ALL
            .into_iter()
            .find(|env| env.as_str() == s.trim().to_ascii_lowercase())
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_names_case_insensitively_and_refuses_others() {
        assert_eq!("Production".parse(), Ok(AppEnv::Production));
        assert_eq!(" test ".parse(), Ok(AppEnv::Test));
        assert_eq!("prod".parse::<AppEnv>(), Err(()));
        assert_eq!("".parse::<AppEnv>(), Err(()));
    }
}

/// What the page chrome needs to know about this installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceInfo {
    pub env: AppEnv,
    /// Signed-in staff only.
    pub version: Option<String>,
    /// Signed-in staff only.
    pub database: Option<String>,
    /// DEMO_MODE: Stripe and the CRM are simulated; every page says so.
    pub demo: bool,
}
