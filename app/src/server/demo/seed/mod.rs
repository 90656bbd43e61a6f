//! `ledgerline seed-demo`: N customers over 18 months — sign-ups, a plan mix, trials (most
//! convert), upgrades, cancellations, failed payments entering and leaving dunning, refunds, a
//! couple of disputes — then support tickets in both queues with replies, and a few jobs that
//! gave up. The same seed gives the same history; running it again adds nothing (every event
//! and ticket has a fixed id or idempotency key).

mod customers;
mod history;
mod tickets;

use super::{planted, sim_stripe};
use crate::server::db::Db;
use crate::server::jobs::{self, NewJob, Registry, RetryPolicy};
use crate::server::stripe::{self, EventEnvelope};
use crate::server::Config;

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

/// The raw bodies of the Stripe events `seed` delivers for `customers` customers, oldest first:
/// a realistic mix of customers, subscriptions, invoices, charges, refunds and disputes, the
/// same for the same `seed` and day (`now_s`, seconds since the epoch).
pub fn stripe_history(customers: usize, seed: u64, now_s: i64) -> Vec<String> {
    let today = now_s / history::DAY * history::DAY;
    history::history(customers, seed, today)
        .0
        .events
        .into_iter()
        .map(|(_, raw)| raw)
        .collect()
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
    let today = now_ms / 1000 / history::DAY * history::DAY;
    let (story, mut rng) = history::history(customers, seed, today);
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

    // Support and the failed jobs are about the customers this seed made.
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT product_user_id, email, account_state FROM customers WHERE product_user_id LIKE $1 ORDER BY product_user_id",
    )
    .bind(format!("usr_{seed}_%"))
    .fetch_all(db.pool())
    .await?
    .into_iter()
    .filter_map(|(u, e, s): (Option<String>, Option<String>, String)| u.map(|u| (u, e, s)))
    .collect();
    tickets::write(db, config, &rows, seed, &mut rng, now_ms, &mut report).await?;

    if !config.crm.enabled() {
        plant_dead_jobs(db, &rows, now_ms).await?;
    }
    report.dead_jobs += drain(db, registry).await?;
    Ok(report)
}

/// A few jobs that gave up: CRM syncs for customers when no CRM is configured are refused by
/// the worker ("no handler"), as they would be in production.
async fn plant_dead_jobs(
    db: &Db,
    customers: &[(String, Option<String>, String)],
    now_ms: i64,
) -> Result<(), SeedError> {
    let mut tx = db.begin().await?;
    for (user, ..) in customers.iter().take(3) {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM customers WHERE product_user_id = $1")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(id) = id else { continue };
        let key = format!("demo-dead:{id}");
        let seen: Option<String> = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = $1")
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
    Ok(())
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
