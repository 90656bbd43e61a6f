//! THE routing rules: which queue a new ticket lands in, how pressing it is and when it is due.
//! Pure, so every rule is unit-tested; the facts come from the billing mirror at intake.

use super::{Category, Priority, Queue};
use serde::{Deserialize, Serialize};

/// The knobs (TICKET_BILLING_KEYWORDS, TICKET_SLA_MINUTES).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRules {
    /// Lower-case words or phrases; a match at the start of a word counts ("charge" matches
    /// "charged" but not "discharge").
    pub billing_keywords: Vec<String>,
    /// Minutes to the SLA due time per priority: urgent, high, normal.
    pub sla_minutes: [i64; 3],
}

pub const DEFAULT_BILLING_KEYWORDS: &str =
    "refund,charge,cancel,invoice,pay,paid,bill,card,subscription,receipt,overcharge,price";
pub const DEFAULT_SLA_MINUTES: &str = "urgent=120,high=240,normal=1440";

impl Default for RoutingRules {
    fn default() -> Self {
        RoutingRules {
            billing_keywords: parse_keywords(DEFAULT_BILLING_KEYWORDS).expect("default parses"),
            sla_minutes: parse_sla(DEFAULT_SLA_MINUTES).expect("default parses"),
        }
    }
}

/// "refund, charge,double charged" → lower-case entries; at least one.
pub fn parse_keywords(v: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> = v
        .split(',')
        .map(|w| words(w).join(" "))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        Err("expected comma-separated words, e.g. refund,charge,invoice".into())
    } else {
        Ok(words)
    }
}

/// "urgent=120,high=240,normal=1440", every priority named once, 1 minute to 30 days.
pub fn parse_sla(v: &str) -> Result<[i64; 3], String> {
    let mut out = [0i64; 3];
    for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, mins) = pair
            .split_once('=')
            .ok_or_else(|| format!("expected priority=minutes pairs, got {pair:?}"))?;
        let p = Priority::parse(name).ok_or_else(|| format!("unknown priority {name:?}"))?;
        let mins: i64 = mins
            .trim()
            .parse()
            .ok()
            .filter(|m| (1..=43_200).contains(m))
            .ok_or_else(|| format!("expected 1 to 43200 minutes for {name}"))?;
        out[index(p)] = mins;
    }
    match Priority::ALL.iter().find(|p| out[index(**p)] == 0) {
        Some(p) => Err(format!("no minutes for {}", p.as_str())),
        None => Ok(out),
    }
}

fn index(p: Priority) -> usize {
    match p {
        Priority::Urgent => 0,
        Priority::High => 1,
        Priority::Normal => 2,
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// What intake knows about the account and the request.
#[derive(Debug, Clone, Default)]
pub struct Signals<'a> {
    pub dunning: bool,
    pub failed_payment_recent: bool,
    pub open_dispute: bool,
    pub category: Option<Category>,
    pub subject: &'a str,
    pub message: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    pub queue: Queue,
    pub priority: Priority,
    /// Why, in sentences staff read on the ticket.
    pub reasons: Vec<String>,
    pub sla_minutes: i64,
}

/// Billing-urgent when money is at stake: dunning or an open dispute (urgent), a failed payment
/// in the lookback window, billing words or the billing category (high). Else general, normal.
pub fn route(s: &Signals<'_>, rules: &RoutingRules) -> Routing {
    let mut reasons = Vec::new();
    let mut priority = None;
    let mut raise = |p: Priority, why: String| {
        reasons.push(why);
        priority = Some(priority.map_or(p, |q: Priority| q.max(p)));
    };
    if s.dunning {
        raise(Priority::Urgent, "The account is in dunning.".into());
    }
    if s.open_dispute {
        raise(
            Priority::Urgent,
            "A payment is disputed (open or opened in the last 30 days).".into(),
        );
    }
    if s.failed_payment_recent {
        raise(
            Priority::High,
            "A payment failed in the last 30 days.".into(),
        );
    }
    if s.category == Some(Category::Billing) {
        raise(Priority::High, "Filed under billing.".into());
    }
    let text = format!(
        " {} ",
        words(&format!("{} {}", s.subject, s.message)).join(" ")
    );
    let matched: Vec<&str> = rules
        .billing_keywords
        .iter()
        .filter(|k| text.contains(&format!(" {k}")))
        .map(String::as_str)
        .collect();
    if !matched.is_empty() {
        let list = matched
            .iter()
            .map(|k| format!("“{k}”"))
            .collect::<Vec<_>>()
            .join(", ");
        raise(Priority::High, format!("Mentions {list}."));
    }
    let (queue, priority) = match priority {
        Some(p) => (Queue::BillingUrgent, p),
        None => {
            reasons.push("No billing signal.".into());
            (Queue::General, Priority::Normal)
        }
    };
    Routing {
        queue,
        priority,
        reasons,
        sla_minutes: rules.sla_minutes[index(priority)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals<'a>(subject: &'a str, message: &'a str) -> Signals<'a> {
        Signals {
            subject,
            message,
            ..Default::default()
        }
    }

    #[test]
    fn a_plain_question_is_general_and_normal() {
        let r = route(
            &signals("Export button", "How do I export a report?"),
            &RoutingRules::default(),
        );
        assert_eq!(
            (r.queue, r.priority, r.sla_minutes),
            (Queue::General, Priority::Normal, 1440)
        );
    }

    #[test]
    fn dunning_and_disputes_are_urgent() {
        let rules = RoutingRules::default();
        for s in [
            Signals {
                dunning: true,
                ..signals("Hi", "A question")
            },
            Signals {
                open_dispute: true,
                ..signals("Hi", "A question")
            },
        ] {
            let r = route(&s, &rules);
            assert_eq!(
                (r.queue, r.priority),
                (Queue::BillingUrgent, Priority::Urgent)
            );
            assert_eq!(r.sla_minutes, 120);
        }
    }

    #[test]
    fn a_failed_payment_or_the_billing_category_is_high() {
        let rules = RoutingRules::default();
        let failed = Signals {
            failed_payment_recent: true,
            ..signals("Hi", "A question")
        };
        let filed = Signals {
            category: Some(Category::Billing),
            ..signals("Hi", "A question")
        };
        for s in [failed, filed] {
            let r = route(&s, &rules);
            assert_eq!(
                (r.queue, r.priority, r.sla_minutes),
                (Queue::BillingUrgent, Priority::High, 240)
            );
        }
    }

    #[test]
    fn keywords_match_at_word_starts_only() {
        let rules = RoutingRules::default();
        let r = route(&signals("Why was I CHARGED twice?", ""), &rules);
        assert_eq!(r.queue, Queue::BillingUrgent);
        assert!(r.reasons[0].contains("“charge”"), "{:?}", r.reasons);
        let r = route(
            &signals("Discharge summary", "the recharged battery"),
            &rules,
        );
        assert_eq!(r.queue, Queue::General, "{:?}", r.reasons);
        let r = route(&signals("Cancellation", ""), &rules);
        assert_eq!(r.queue, Queue::BillingUrgent);
    }

    #[test]
    fn the_most_pressing_rule_wins_and_every_reason_is_kept() {
        let s = Signals {
            dunning: true,
            failed_payment_recent: true,
            ..signals("Refund please", "")
        };
        let r = route(&s, &RoutingRules::default());
        assert_eq!(r.priority, Priority::Urgent);
        assert_eq!(r.reasons.len(), 3, "{:?}", r.reasons);
    }

    #[test]
    fn configured_keywords_and_sla_replace_the_defaults() {
        let rules = RoutingRules {
            billing_keywords: parse_keywords(" Double Charged , facture").unwrap(),
            sla_minutes: parse_sla("normal=60, high=30, urgent=5").unwrap(),
        };
        assert_eq!(rules.billing_keywords, ["double charged", "facture"]);
        let r = route(&signals("I was double-charged", ""), &rules);
        assert_eq!((r.queue, r.sla_minutes), (Queue::BillingUrgent, 30));
        let r = route(&signals("Refund", ""), &rules);
        assert_eq!((r.queue, r.sla_minutes), (Queue::General, 60));
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(parse_keywords(" , ").is_err());
        assert!(parse_sla("urgent=120,high=240").is_err());
        assert!(parse_sla("urgent=0,high=240,normal=1").is_err());
        assert!(parse_sla("soon=5").is_err());
    }
}
