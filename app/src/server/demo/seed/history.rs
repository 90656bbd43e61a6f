//! The billing history as Stripe events: per customer a sign-up, a plan, maybe a trial, then
//! invoices and charges period by period, with upgrades, churn, dunning, refunds and disputes
//! at realistic rates.

use super::customers::person;
use crate::server::demo::events::{self, Plan, PLANS};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub(super) const DAY: i64 = 86_400;

pub(super) struct Story {
    pub(super) events: Vec<(i64, String)>,
    n: usize,
}

impl Story {
    fn push(&mut self, seed: u64, kind: &str, at: i64, object: serde_json::Value) {
        self.n += 1;
        let id = format!("evt_demo{seed}_{:06}", self.n);
        self.events.push((at, events::event(&id, kind, at, object)));
    }
}

fn plan(rng: &mut StdRng) -> &'static Plan {
    match rng.gen_range(0..100) {
        0..=49 => &PLANS[0],
        50..=84 => &PLANS[1],
        85..=94 => &PLANS[2],
        _ => &PLANS[3],
    }
}

/// One customer's billing history, as the Stripe events it would have produced.
fn customer_story(story: &mut Story, rng: &mut StdRng, seed: u64, i: usize, now: i64) {
    let (name, email) = person(rng, i);
    let cus = format!("cus_demo{seed}_{i:05}");
    let sub = format!("sub_demo{seed}_{i:05}");
    let signup = now - rng.gen_range(1..540) * DAY - rng.gen_range(0..DAY);
    story.push(
        seed,
        "customer.created",
        signup,
        events::customer(&cus, &name, &email, &format!("usr_{seed}_{i:05}"), signup),
    );
    let mut p = plan(rng);
    let trial = rng.gen_bool(0.25);
    let paid_from = if trial { signup + 14 * DAY } else { signup };
    let trial_end = trial.then_some(paid_from);
    let status = if trial { "trialing" } else { "active" };
    story.push(
        seed,
        "customer.subscription.created",
        signup,
        events::subscription(&sub, &cus, p, status, signup, signup, trial_end, None),
    );
    if trial && paid_from > now {
        return; // still trialing
    }
    if trial && rng.gen_bool(0.25) {
        story.push(
            seed,
            "customer.subscription.deleted",
            paid_from,
            events::subscription(
                &sub,
                &cus,
                p,
                "canceled",
                signup,
                signup,
                trial_end,
                Some(paid_from),
            ),
        );
        return; // the trial ended without converting
    }
    if trial {
        story.push(
            seed,
            "customer.subscription.updated",
            paid_from,
            events::subscription(&sub, &cus, p, "active", signup, paid_from, trial_end, None),
        );
    }
    let period = if p.interval == "year" {
        365 * DAY
    } else {
        30 * DAY
    };
    let churn_at = rng
        .gen_bool(0.12)
        .then(|| paid_from + rng.gen_range(period..(now - paid_from).max(period + 1)));
    let upgrade_at = (p.id == PLANS[0].id && rng.gen_bool(0.2))
        .then(|| paid_from + rng.gen_range(0..(now - paid_from).max(1)));
    let failing = churn_at.is_none() && rng.gen_bool(0.1);
    let recovers = rng.gen_bool(0.5);
    let mut k = 0;
    let mut t = paid_from;
    let mut last_charge: Option<(String, i64, i64)> = None;
    while t <= now && churn_at.is_none_or(|c| t < c) {
        if upgrade_at.is_some_and(|u| u <= t) && p.id == PLANS[0].id {
            p = &PLANS[1];
            story.push(
                seed,
                "customer.subscription.updated",
                t,
                events::subscription(&sub, &cus, p, "active", signup, t, trial_end, None),
            );
        }
        let inv = format!("in_demo{seed}_{i:05}_{k:03}");
        let ch = format!("ch_demo{seed}_{i:05}_{k:03}");
        let is_last = t + period > now;
        let recent = now - t < 100 * DAY;
        if is_last && failing {
            story.push(
                seed,
                "invoice.payment_failed",
                t,
                events::invoice(&inv, &cus, &sub, p.amount, "open", 1, t),
            );
            story.push(
                seed,
                "charge.failed",
                t,
                events::charge(&format!("{ch}_f"), &cus, &inv, p.amount, "failed", 0, t),
            );
            let retry = t + 3 * DAY;
            if recovers && retry <= now {
                story.push(
                    seed,
                    "invoice.paid",
                    retry,
                    events::invoice(&inv, &cus, &sub, p.amount, "paid", 2, retry),
                );
                story.push(
                    seed,
                    "charge.succeeded",
                    retry,
                    events::charge(&ch, &cus, &inv, p.amount, "succeeded", 0, retry),
                );
            }
        } else {
            story.push(
                seed,
                "invoice.paid",
                t,
                events::invoice(&inv, &cus, &sub, p.amount, "paid", 1, t),
            );
            if recent {
                story.push(
                    seed,
                    "charge.succeeded",
                    t,
                    events::charge(&ch, &cus, &inv, p.amount, "succeeded", 0, t),
                );
                last_charge = Some((ch.clone(), p.amount, t));
            }
        }
        k += 1;
        t += period;
    }
    // The subscription as it stands: in its latest period, past due if the last payment failed.
    if churn_at.is_none() && k > 0 {
        let latest = t - period;
        let status = if failing && !(recovers && latest + 3 * DAY <= now) {
            "past_due"
        } else {
            "active"
        };
        story.push(
            seed,
            "customer.subscription.updated",
            latest,
            events::subscription(&sub, &cus, p, status, signup, latest, trial_end, None),
        );
    }
    if let Some(c) = churn_at.filter(|c| *c <= now) {
        story.push(
            seed,
            "customer.subscription.deleted",
            c,
            events::subscription(
                &sub,
                &cus,
                p,
                "canceled",
                signup,
                c - period,
                trial_end,
                Some(c),
            ),
        );
    }
    if let Some((ch, amount, at)) = last_charge {
        if rng.gen_bool(0.04) {
            let when = (at + DAY).min(now);
            let refunded = if rng.gen_bool(0.5) {
                amount
            } else {
                amount / 2
            };
            story.push(
                seed,
                "charge.refunded",
                when,
                events::charge(&ch, &cus, "", amount, "succeeded", refunded, at),
            );
        } else if i % 211 == 7 {
            story.push(
                seed,
                "charge.dispute.created",
                (at + 2 * DAY).min(now),
                events::dispute(&format!("dp_{ch}"), &ch, amount, (at + 2 * DAY).min(now)),
            );
        }
    }
}

/// Every customer's events, oldest first, and the generator to continue with.
pub(super) fn history(customers: usize, seed: u64, now: i64) -> (Story, StdRng) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut story = Story {
        events: Vec::new(),
        n: 0,
    };
    for i in 0..customers {
        customer_story(&mut story, &mut rng, seed, i, now);
    }
    story.events.sort_by_key(|(at, _)| *at);
    (story, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_tells_the_same_story_and_another_seed_another() {
        let now = 1_795_737_600; // 2026-11-27
        let (a, _) = history(80, 7, now);
        let (b, _) = history(80, 7, now);
        let (c, _) = history(80, 8, now);
        assert_eq!(a.events, b.events);
        assert_ne!(a.events, c.events);
        assert!(
            a.events.windows(2).all(|w| w[0].0 <= w[1].0),
            "oldest first"
        );
        assert!(
            a.events.iter().all(|(at, _)| *at <= now),
            "nothing in the future"
        );
        let kinds = |needle: &str| a.events.iter().filter(|(_, e)| e.contains(needle)).count();
        assert_eq!(kinds("\"customer.created\""), 80);
        assert!(
            kinds("\"invoice.payment_failed\"") > 0
                && kinds("\"customer.subscription.deleted\"") > 0
        );
    }
}
