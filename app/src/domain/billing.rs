//! Billing facts the UI shows.

use serde::{Deserialize, Serialize};

/// A customer's account state, derived from their Stripe subscriptions and invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Active,
    Trialing,
    /// A payment failed and Stripe is retrying (dunning).
    PastDue,
    /// Retries are exhausted and the subscription stays unpaid.
    Unpaid,
    Canceled,
    None,
}

impl AccountState {
    pub const ALL: [AccountState; 6] = [
        AccountState::Active,
        AccountState::Trialing,
        AccountState::PastDue,
        AccountState::Unpaid,
        AccountState::Canceled,
        AccountState::None,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "active",
            AccountState::Trialing => "trialing",
            AccountState::PastDue => "past_due",
            AccountState::Unpaid => "unpaid",
            AccountState::Canceled => "canceled",
            AccountState::None => "none",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccountState::Active => "Active",
            AccountState::Trialing => "Trialing",
            AccountState::PastDue => "Dunning",
            AccountState::Unpaid => "Unpaid",
            AccountState::Canceled => "Canceled",
            AccountState::None => "No subscription",
        }
    }

    /// Badge colour: green when money flows, amber when it is at risk, red when it stopped.
    pub fn tone(self) -> &'static str {
        match self {
            AccountState::Active | AccountState::Trialing => "ok",
            AccountState::PastDue => "warn",
            AccountState::Unpaid => "fail",
            AccountState::Canceled | AccountState::None => "neutral",
        }
    }

    pub fn parse(s: &str) -> Option<AccountState> {
        AccountState::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The state from the customer's subscription statuses and whether an open invoice has a
    /// failed payment attempt. Most urgent first: unpaid, dunning, active, trialing, canceled
    /// (paused counts as canceled: nothing is being collected), none.
    pub fn derive<'a>(
        subscription_statuses: impl IntoIterator<Item = &'a str>,
        failed_open_invoice: bool,
    ) -> AccountState {
        let statuses: Vec<&str> = subscription_statuses.into_iter().collect();
        let any = |s: &str| statuses.contains(&s);
        if any("unpaid") {
            AccountState::Unpaid
        } else if any("past_due") || failed_open_invoice {
            AccountState::PastDue
        } else if any("active") {
            AccountState::Active
        } else if any("trialing") {
            AccountState::Trialing
        } else if statuses
            .iter()
            .any(|s| matches!(*s, "canceled" | "incomplete_expired" | "paused"))
        {
            AccountState::Canceled
        } else {
            AccountState::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AccountState::{self, *};

    #[test]
    fn the_most_urgent_state_wins() {
        assert_eq!(AccountState::derive([], false), None);
        assert_eq!(AccountState::derive(["incomplete"], false), None);
        assert_eq!(AccountState::derive(["canceled"], false), Canceled);
        assert_eq!(
            AccountState::derive(["canceled", "trialing"], false),
            Trialing
        );
        assert_eq!(AccountState::derive(["trialing", "active"], false), Active);
        assert_eq!(
            AccountState::derive(["active"], true),
            PastDue,
            "a failed invoice means dunning"
        );
        assert_eq!(AccountState::derive(["active", "past_due"], false), PastDue);
        assert_eq!(AccountState::derive(["past_due", "unpaid"], false), Unpaid);
    }
}
