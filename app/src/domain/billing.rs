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

/// What a subscription item brings in per month, in minor units: yearly prices divided by 12,
/// weekly by 12/52, daily by 12/365 (rounded to the nearest unit).
pub fn monthly_minor(unit_amount: i64, quantity: i64, interval: &str) -> Option<i64> {
    let total = unit_amount.checked_mul(quantity.max(1))?;
    let (num, den) = match interval {
        "month" => (1, 1),
        "year" => (1, 12),
        "week" => (52, 12),
        "day" => (365, 12),
        _ => return None,
    };
    Some((total * num + den / 2) / den)
}

/// Subscription statuses that count toward MRR: being paid for, or owed (dunning).
pub const MRR_STATUSES: [&str; 3] = ["active", "past_due", "unpaid"];

#[cfg(test)]
mod mrr_tests {
    use super::monthly_minor;

    #[test]
    fn prices_become_monthly_amounts() {
        assert_eq!(monthly_minor(2000, 1, "month"), Some(2000));
        assert_eq!(monthly_minor(2000, 3, "month"), Some(6000));
        assert_eq!(monthly_minor(12_000, 1, "year"), Some(1000));
        assert_eq!(monthly_minor(1000, 1, "week"), Some(4333));
        assert_eq!(monthly_minor(100, 1, "day"), Some(3042));
        assert_eq!(
            monthly_minor(100, 0, "month"),
            Some(100),
            "no quantity means one"
        );
        assert_eq!(monthly_minor(100, 1, "fortnight"), None);
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
