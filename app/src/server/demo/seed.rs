//! `ledgerline seed-demo`: N customers over 18 months — sign-ups, a plan mix, trials (most
//! convert), upgrades, cancellations, failed payments entering and leaving dunning, refunds, a
//! couple of disputes — then support tickets in both queues with replies, and a few jobs that
//! gave up. The same seed gives the same history; running it again adds nothing (every event
//! and ticket has a fixed id or idempotency key).

use super::events::{self, Plan, PLANS};
use super::{planted, sim_stripe};
use crate::domain::Role;
use crate::server::actor::{Actor, RequestMeta};
use crate::server::db::Db;
use crate::server::jobs::{self, NewJob, Registry, RetryPolicy};
use crate::server::services::api_keys;
use crate::server::stripe::{self, EventEnvelope};
use crate::server::tickets::{self, TicketRequest};
use crate::server::Config;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DAY: i64 = 86_400;
const FIRST: [&str; 24] = [
    "Ada",
    "Grace",
    "Alan",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Linus",
    "Guido",
    "Frances",
    "Radia",
    "Hedy",
    "Katherine",
    "Tim",
    "Leslie",
    "Niklaus",
    "Shafi",
    "Martin",
    "Jean",
    "Sophie",
    "Mary",
    "Anita",
    "Evelyn",
    "Joan",
];
const LAST: [&str; 24] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Torvalds",
    "Rossum",
    "Allen",
    "Perlman",
    "Lamarr",
    "Johnson",
    "Berners",
    "Lamport",
    "Wirth",
    "Goldwasser",
    "Hellman",
    "Sammet",
    "Wilson",
    "Keller",
    "Borg",
    "Clarke",
    "Conway",
];
const DOMAINS: [&str; 6] = [
    "acme.test",
    "globex.test",
    "initech.test",
    "umbrella.test",
    "hooli.test",
    "example.com",
];
const GENERAL: [(&str, &str); 5] = [
    (
        "How do I export my reports?",
        "I'd like a CSV of last month's numbers. Where is the export?",
    ),
    (
        "Inviting a teammate",
        "The invite email never arrived for my colleague. Can you resend it?",
    ),
    (
        "Dark mode?",
        "Is there a dark mode? My eyes would thank you.",
    ),
    (
        "API rate limits",
        "We hit 429s from your API at about 50 requests a second. What is the limit?",
    ),
    (
        "Login loop on Safari",
        "After signing in, Safari sends me back to the sign-in page.",
    ),
];
const BILLING: [(&str, &str); 4] = [
    (
        "Charged twice this month",
        "My card statement shows two charges for the same invoice. Please refund one.",
    ),
    (
        "Card declined but it works",
        "Your system says my card was declined; it works everywhere else.",
    ),
    (
        "Cancel my subscription",
        "We're moving to another tool. Please cancel at the end of this period.",
    ),
    (
        "Need an invoice with our VAT number",
        "Can you reissue last month's invoice with our VAT number?",
    ),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub customers: usize,
    pub events: usize,
    pub tickets: usize,
    pub replies: usize,
    pub dead_jobs: usize,
    /// Demo mode: hand-made CRM leads the syncs claim, and people entered twice (conflicts).
    pub crm_leads: usize,
    pub crm_ambiguous: usize,
    pub planted: super::planted::Planted,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Read(#[from] crate::server::actor::ReadError),
    #[error("demo event {0} did not parse: {1}")]
    Event(String, String),
    #[error("seed-demo makes up customers and refuses to run with Stripe or CRM credentials configured; use DEMO_MODE=true without them")]
    LiveConnectors,
}

struct Story {
    events: Vec<(i64, String)>,
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
    let (first, last) = (
        FIRST[rng.gen_range(0..FIRST.len())],
        LAST[rng.gen_range(0..LAST.len())],
    );
    let email = format!(
        "{}.{}{i}@{}",
        first.to_lowercase(),
        last.to_lowercase(),
        DOMAINS[rng.gen_range(0..DOMAINS.len())]
    );
    let cus = format!("cus_demo{seed}_{i:05}");
    let sub = format!("sub_demo{seed}_{i:05}");
    let signup = now - rng.gen_range(1..540) * DAY - rng.gen_range(0..DAY);
    story.push(
        seed,
        "customer.created",
        signup,
        events::customer(
            &cus,
            &format!("{first} {last}"),
            &email,
            &format!("usr_{seed}_{i:05}"),
            signup,
        ),
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
fn history(customers: usize, seed: u64, now: i64) -> (Story, StdRng) {
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

/// The raw bodies of the Stripe events `seed` delivers for `customers` customers, oldest first:
/// a realistic mix of customers, subscriptions, invoices, charges, refunds and disputes, the
/// same for the same `seed` and day (`now_s`, seconds since the epoch).
pub fn stripe_history(customers: usize, seed: u64, now_s: i64) -> Vec<String> {
    let today = now_s / DAY * DAY;
    history(customers, seed, today)
        .0
        .events
        .into_iter()
        .map(|(_, raw)| raw)
        .collect()
}

fn event_object(raw: &str) -> Option<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| v.pointer("/data/object").cloned())
}

/// Runs every due job with the real handlers, as a worker would.
async fn drain(db: &Db, registry: &Registry) -> Result<usize, sqlx::Error> {
    let policy = RetryPolicy::default();
    let clock = || chrono::Utc::now().timestamp_millis();
    let mut dead = 0;
    while let Some((_, outcome)) =
        jobs::run_one(db, registry, "seed-demo", &policy, &clock, 0.5).await?
    {
        dead += usize::from(outcome == jobs::RunOutcome::Dead);
    }
    Ok(dead)
}

/// `registry`: the process's job handlers (from the wiring), which run the queued work the
/// way a worker would.
pub async fn seed(
    db: &Db,
    config: &Config,
    registry: &Registry,
    customers: usize,
    seed: u64,
    on_progress: &(dyn Fn(&str) + Sync),
) -> Result<SeedReport, SeedError> {
    if config.stripe.api_key.is_some() || (config.crm.enabled() && !config.demo_mode) {
        return Err(SeedError::LiveConnectors);
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    // Whole days, so a second run the same day tells the same story (and adds nothing).
    let today = now_ms / 1000 / DAY * DAY;
    let (story, mut rng) = history(customers, seed, today);
    on_progress(&format!(
        "{} Stripe events for {customers} customers",
        story.events.len()
    ));
    // A complete earlier run: skip straight to the (idempotent) support part.
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM stripe_events WHERE id LIKE $1 ESCAPE '\\'")
            .bind(format!("evt_demo{seed}\\_%"))
            .fetch_one(db.pool())
            .await?;
    let pending = if stored as usize == story.events.len() {
        &[][..]
    } else {
        &story.events[..]
    };
    // A database seeded before the simulated account existed: give the account its objects,
    // so refunds and re-syncs on the old history work.
    let simulated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM demo_stripe_objects")
        .fetch_one(db.pool())
        .await?;
    if pending.is_empty() && simulated == 0 {
        let mut tx = db.begin().await?;
        for (_, raw) in &story.events {
            if let Some(object) = event_object(raw) {
                sim_stripe::put(&mut tx, &object).await?;
            }
        }
        tx.commit().await?;
    }
    let mut report = SeedReport {
        customers,
        events: story.events.len(),
        ..Default::default()
    };
    if config.demo_mode {
        let people = planted::people(&story.events);
        (report.crm_leads, report.crm_ambiguous) =
            planted::before_sync(db, &people, seed, now_ms).await?;
    }
    for (n, (_, raw)) in pending.iter().enumerate() {
        let event = EventEnvelope::parse(raw.as_bytes())
            .map_err(|e| SeedError::Event(n.to_string(), e.to_string()))?;
        // The simulated account holds each object as its latest event left it.
        if let Some(object) = event_object(raw) {
            sim_stripe::put(&mut *db.write().await?, &object).await?;
        }
        stripe::receive(db, &event, raw, None, now_ms).await?;
        if n % 500 == 499 {
            drain(db, registry).await?;
            on_progress(&format!(
                "{} of {} events applied",
                n + 1,
                story.events.len()
            ));
        }
    }
    drain(db, registry).await?;
    if config.demo_mode {
        report.planted = planted::after_sync(db, seed, now_ms).await?;
        report.dead_jobs += drain(db, registry).await?;
        planted::import_crm(db, now_ms).await?;
    }

    // Support: a product key, tickets from about one customer in eight (billing words from those
    // in dunning), and replies from a support agent when the demo has one.
    let meta = RequestMeta::default();
    let key = match sqlx::query_as::<_, (String, String)>(
        "SELECT id, name FROM api_keys WHERE name = 'Demo product' AND revoked_at IS NULL",
    )
    .fetch_optional(db.pool())
    .await?
    {
        Some((id, name)) => Actor::ApiKey { id, name },
        None => {
            let k = api_keys::create(
                db,
                &Actor::System,
                &meta,
                "Demo product",
                &["tickets:write".into()],
                now_ms,
            )
            .await
            .map_err(|e| match e {
                api_keys::KeyError::Db(e) => SeedError::Db(e),
                other => SeedError::Event("api key".into(), other.to_string()),
            })?;
            Actor::ApiKey {
                id: k.view.id,
                name: k.view.name,
            }
        }
    };
    // The seed runs as the operator's own process.
    let agent = crate::server::services::staff::admin::list(db, &Actor::System)
        .await?
        .into_iter()
        .find(|s| s.active && s.role == Role::Support);
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT product_user_id, email, account_state FROM customers WHERE product_user_id LIKE $1 ORDER BY product_user_id",
    )
    .bind(format!("usr_{seed}_%"))
    .fetch_all(db.pool())
    .await?
    .into_iter()
    .filter_map(|(u, e, s): (Option<String>, Option<String>, String)| u.map(|u| (u, e, s)))
    .collect();
    for (n, (user, email, state)) in rows.iter().enumerate() {
        let dunning = crate::domain::AccountState::parse(state).is_some_and(|s| s.is_dunning());
        if !(dunning || rng.gen_bool(0.12)) {
            continue;
        }
        let (subject, message) = if dunning || rng.gen_bool(0.3) {
            BILLING[rng.gen_range(0..BILLING.len())]
        } else {
            GENERAL[rng.gen_range(0..GENERAL.len())]
        };
        // The product only sends addresses it could deliver to (not the planted "@localhost").
        let email = email
            .as_deref()
            .filter(|e| crate::domain::Email::parse(e).is_ok());
        let body = serde_json::json!({
            "user_id": user, "email": email, "subject": subject, "message": message,
            "context": { "page": "/settings/billing", "app_version": "4.2.0",
                         "errors": if dunning { serde_json::json!([{ "message": "PaymentRequired: card_declined", "code": "E402" }]) } else { serde_json::json!([]) } }
        });
        let request = TicketRequest::parse(body.to_string().as_bytes())
            .map_err(|e| SeedError::Event(format!("ticket {n}"), format!("{:?}", e.0)))?;
        let created = tickets::create(
            db,
            config,
            &key,
            &meta,
            &request,
            Some(&format!("demo-{seed}-{n}")),
            now_ms,
        )
        .await
        .map_err(|e| match e {
            tickets::IntakeError::Db(e) => SeedError::Db(e),
            other => SeedError::Event(format!("ticket {n}"), other.to_string()),
        })?;
        report.tickets += usize::from(!created.replayed);
        if let (Some(agent), false, true) = (&agent, created.replayed, rng.gen_bool(0.5)) {
            let reply =
                "Thanks for writing in — I'm looking into this now and will get back to you today.";
            tickets::inbox::add(
                db,
                &agent.actor(),
                &meta,
                &created.receipt.id,
                false,
                reply,
                now_ms,
            )
            .await
            .map_err(|e| SeedError::Event("reply".into(), e.to_string()))?;
            report.replies += 1;
        }
    }

    // A few jobs that gave up: CRM syncs for customers when no CRM is configured are refused by
    // the worker ("no handler"), as they would be in production.
    if !config.crm.enabled() {
        let mut tx = db.begin().await?;
        for (user, ..) in rows.iter().take(3) {
            let id: Option<String> =
                sqlx::query_scalar("SELECT id FROM customers WHERE product_user_id = $1")
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(id) = id else { continue };
            let key = format!("demo-dead:{id}");
            let seen: Option<String> =
                sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = $1")
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if seen.is_none() {
                let mut job = NewJob::new(
                    "crm.sync",
                    serde_json::json!({ "customer_id": id, "cause": "demo" }),
                    now_ms,
                );
                job.customer_id = Some(id.clone());
                job.dedupe_key = Some(key);
                jobs::enqueue(&mut tx, job, now_ms).await?;
            }
        }
        tx.commit().await?;
    }
    report.dead_jobs += drain(db, registry).await?;
    Ok(report)
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
