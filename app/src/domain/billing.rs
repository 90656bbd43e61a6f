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

    /// Money is owed and Stripe is retrying or has given up: past due or unpaid.
    pub fn is_dunning(self) -> bool {
        matches!(self, AccountState::PastDue | AccountState::Unpaid)
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

/// Monthly recurring revenue of one subscription item in minor units: price × quantity brought
/// to a month (a year is 1/12, a week 52/12, a day 365/12, each over `interval_count`),
/// rounded to the unit. Quantity 0 counts as 1; an unknown interval counts as a month.
pub fn monthly_minor(unit_amount: i64, quantity: i64, interval: &str, interval_count: i64) -> i64 {
    let total = unit_amount as i128 * quantity.max(1) as i128;
    let count = interval_count.max(1) as i128;
    let (num, den) = match interval {
        "year" => (1, 12 * count),
        "week" => (52, 12 * count),
        "day" => (365, 12 * count),
        _ => (1, count),
    };
    ((total * num + den / 2) / den) as i64
}

/// Subscription statuses that count toward MRR: being paid for, or owed (dunning). Trials do
/// not count until they convert.
pub const MRR_STATUSES: [&str; 3] = ["active", "past_due", "unpaid"];

#[cfg(test)]
mod mrr_tests {
    use super::monthly_minor as monthly;

    #[test]
    fn mrr_brings_every_interval_to_a_month() {
        assert_eq!(monthly(4900, 1, "month", 1), 4900);
        assert_eq!(monthly(4900, 3, "month", 1), 14_700);
        assert_eq!(monthly(120_000, 1, "year", 1), 10_000);
        assert_eq!(monthly(1000, 1, "week", 1), 4333, "52/12 weeks, rounded");
        assert_eq!(monthly(100, 1, "day", 1), 3042);
        assert_eq!(monthly(9000, 1, "month", 3), 3000, "quarterly");
        assert_eq!(monthly(100, 0, "month", 1), 100, "quantity 0 counts as 1");
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
