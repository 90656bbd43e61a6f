//! What the demo plants for staff to find, each made the way it happens in real life:
//! - before any sync, contacts sales typed into the CRM by hand: one per person is simply
//!   claimed by the first sync; two with the same email make an identity conflict;
//! - after the syncs, a salesperson's hand edits (drift), a trade-show import that duplicated
//!   contacts, a customer who typed an email the CRM refuses (dead sync jobs), and a plan change
//!   made in Stripe's dashboard whose webhook never arrived (the compare panel shows it);
//! - then a CRM import, as staff would run it, which finds the duplicates and the drift.

use super::{sim_crm, sim_stripe};
use crate::server::actor::{Actor, RequestMeta};
use crate::server::crm::import;
use crate::server::db::Db;
use crate::server::stripe::api::Simulated;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// A customer as the story created it.
pub struct Person {
    pub email: String,
    pub name: String,
}

fn split_name(name: &str) -> (&str, &str) {
    name.split_once(' ').unwrap_or((name, ""))
}

/// The people of the story's `customer.created` events.
pub fn people(events: &[(i64, String)]) -> Vec<Person> {
    events
        .iter()
        .filter(|(_, raw)| raw.contains("\"customer.created\""))
        .filter_map(|(_, raw)| {
            let v: Value = serde_json::from_str(raw).ok()?;
            let o = v.pointer("/data/object")?;
            Some(Person {
                email: o.get("email")?.as_str()?.to_string(),
                name: o.get("name")?.as_str()?.to_string(),
            })
        })
        .collect()
}

/// Hand-made CRM contacts from before the customers signed up. Runs once: a CRM that already
/// has contacts is left alone. Returns (claimable, ambiguous).
pub async fn before_sync(
    db: &Db,
    people: &[Person],
    seed: u64,
    now_ms: i64,
) -> Result<(usize, usize), sqlx::Error> {
    let mut tx = db.begin().await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM demo_crm_contacts")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        return Ok((0, 0));
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x0c2d);
    let (mut single, mut twice) = (0, 0);
    for p in people {
        let (first, last) = split_name(&p.name);
        let lead = sim_crm::props(&[
            ("email", &p.email),
            ("firstname", first),
            ("lastname", last),
            ("lifecyclestage", "lead"),
        ]);
        match rng.gen_range(0..100) {
            0..=7 => {
                sim_crm::create(&mut tx, &lead, now_ms).await?;
                single += 1;
            }
            8..=9 => {
                // The same person entered twice by two salespeople: no safe automatic link.
                sim_crm::create(&mut tx, &lead, now_ms).await?;
                let mut again = lead.clone();
                again.insert("email".into(), p.email.to_uppercase());
                sim_crm::create(&mut tx, &again, now_ms).await?;
                twice += 1;
            }
            _ => {}
        }
    }
    tx.commit().await?;
    Ok((single, twice))
}

const PLANTED: &str = "demo_planted";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Planted {
    pub drifted: usize,
    pub duplicated: usize,
    pub refused_emails: usize,
    pub missed_webhooks: usize,
}

/// Everything that happens after the first syncs (once per database).
pub async fn after_sync(db: &Db, seed: u64, now_ms: i64) -> Result<Planted, sqlx::Error> {
    if crate::server::services::meta::get(db, PLANTED)
        .await?
        .is_some()
    {
        return Ok(Planted::default());
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0xd81f);
    let linked: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.id, c.crm_contact_id, c.email FROM customers c \
         WHERE c.crm_contact_id IS NOT NULL AND c.email IS NOT NULL AND c.product_user_id LIKE $1 ORDER BY c.id",
    )
    .bind(format!("usr_{seed}_%"))
    .fetch_all(db.pool())
    .await?;
    let mut planted = Planted::default();
    let mut tx = db.begin().await?;
    for (_, contact, email) in &linked {
        match rng.gen_range(0..100) {
            0..=3 => {
                let edit = if rng.gen_bool(0.5) {
                    sim_crm::props(&[("ledgerline_plan", "Enterprise (promised on a call)")])
                } else {
                    sim_crm::props(&[("lifecyclestage", "opportunity")])
                };
                planted.drifted +=
                    usize::from(sim_crm::edit(&mut tx, contact, &edit, now_ms).await?);
            }
            4..=5 => {
                let copy =
                    sim_crm::props(&[("email", &email.to_uppercase()), ("lifecyclestage", "lead")]);
                sim_crm::create(&mut tx, &copy, now_ms).await?;
                planted.duplicated += 1;
            }
            _ => {}
        }
    }
    // An upgrade made in Stripe's dashboard whose webhook never came: Stripe has it, the
    // mirror does not, until someone re-syncs the customer.
    let subs: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM demo_stripe_objects WHERE object_type = 'subscription' AND body LIKE '%\"status\":\"active\"%' \
         AND body LIKE '%price_demo_starter%' ORDER BY id LIMIT 2",
    )
    .fetch_all(&mut *tx)
    .await?;
    for id in subs {
        let body: String = sqlx::query_scalar(
            "SELECT body FROM demo_stripe_objects WHERE object_type = 'subscription' AND id = $1",
        )
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        let upgraded = body
            .replace("price_demo_starter", "price_demo_pro")
            .replace("\"nickname\":\"Starter\"", "\"nickname\":\"Pro\"")
            .replace("\"unit_amount\":1900", "\"unit_amount\":4900");
        if let Ok(object) = serde_json::from_str::<Value>(&upgraded) {
            sim_stripe::put(&mut tx, &object).await?;
            planted.missed_webhooks += 1;
        }
    }
    sqlx::query("INSERT INTO app_meta (key, value, updated_at) VALUES ($1, $2, $3)")
        .bind(PLANTED)
        .bind(seed.to_string())
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    // Customers who changed their billing email to one the CRM refuses (no top-level domain):
    // Stripe accepts it, so the webhook arrives and the CRM sync gives up, for staff to see.
    let sim = sim_stripe::SimStripe::new(db.clone());
    for (id, ..) in linked.iter().rev().take(3) {
        let cus: Option<String> =
            sqlx::query_scalar("SELECT id FROM stripe_customers WHERE customer_id = $1 LIMIT 1")
                .bind(id)
                .fetch_optional(db.pool())
                .await?;
        let Some(cus) = cus else { continue };
        if let Ok(mut object) = sim.retrieve("customer", &cus).await {
            let local = object["email"]
                .as_str()
                .and_then(|e| e.split('@').next())
                .unwrap_or("someone")
                .to_string();
            object["email"] = Value::String(format!("{local}@localhost"));
            sim.change(&object, "customer.updated", now_ms / 1000)
                .await?;
            planted.refused_emails += 1;
        }
    }
    Ok(planted)
}

/// Queues the CRM import staff would start from the CRM page.
pub async fn import_crm(db: &Db, now_ms: i64) -> Result<(), sqlx::Error> {
    match import::start(db, true, &Actor::System, &RequestMeta::default(), now_ms).await {
        Ok(_) | Err(import::StartError::AlreadyRunning) => Ok(()),
        Err(import::StartError::Db(e)) => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "demo CRM import not started");
            Ok(())
        }
    }
}
