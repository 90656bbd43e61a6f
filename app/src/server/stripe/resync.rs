//! Re-sync one customer from Stripe (billing.sync): fetch the customer and everything billed to
//! them, apply it, and audit a before/after diff of what changed in the mirror.

use super::api::{ApiError, StripeApi};
use super::mirror::apply_fetched;
use crate::domain::{Outcome, Permission};
use crate::server::actor::{Actor, RequestMeta};
use crate::server::db::Db;
use crate::server::services::audit;
use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("No such customer.")]
    NotFound,
    #[error("This customer has no Stripe account linked.")]
    NotLinked,
    #[error("Stripe is not configured (STRIPE_API_KEY).")]
    NotConfigured,
    #[error("Stripe could not be read: {0}")]
    Api(#[from] ApiError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(ResyncError {
    denied: Denied,
    internal: [Db],
    Self::NotFound => NOT_FOUND,
    Self::Api(_) => BAD_GATEWAY,
    _ => CONFLICT,
});

/// Lists this many pages of each resource at most (100 objects each).
const MAX_PAGES: usize = 10;

type Cell = Option<String>;

/// What staff care about per mirrored row, keyed "table:id".
async fn snapshot(db: &Db, customer_id: &str) -> Result<Map<String, Value>, sqlx::Error> {
    let mut out = Map::new();
    let state: Option<String> =
        sqlx::query_scalar("SELECT account_state FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(db.pool())
            .await?;
    out.insert("account_state".into(), json!(state));
    for (table, cols) in [
        (
            "stripe_customers",
            "s.email, s.name, CAST(s.deleted AS TEXT)",
        ),
        (
            "stripe_subscriptions",
            "x.status, x.price_id, CAST(x.quantity AS TEXT)",
        ),
        (
            "stripe_invoices",
            "x.status, CAST(x.amount_paid AS TEXT), CAST(x.attempt_count AS TEXT)",
        ),
        (
            "stripe_charges",
            "x.status, CAST(x.amount_refunded AS TEXT), CAST(x.disputed AS TEXT)",
        ),
    ] {
        let sql = if table == "stripe_customers" {
            format!("SELECT s.id, {cols} FROM stripe_customers s WHERE s.customer_id = $1")
        } else {
            format!(
                "SELECT x.id, {cols} FROM {table} x JOIN stripe_customers s ON x.stripe_customer_id = s.id WHERE s.customer_id = $1"
            )
        };
        let rows: Vec<(String, Cell, Cell, Cell)> = sqlx::query_as(&sql)
            .bind(customer_id)
            .fetch_all(db.pool())
            .await?;
        for (id, a, b, c) in rows {
            out.insert(format!("{table}:{id}"), json!([a, b, c]));
        }
    }
    Ok(out)
}

fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Value {
    let mut changes = Map::new();
    for (k, new) in after {
        let old = before.get(k).cloned().unwrap_or(Value::Null);
        if &old != new {
            changes.insert(k.clone(), json!({ "before": old, "after": new }));
        }
    }
    Value::Object(changes)
}

/// Returns the changes applied (the same diff the audit entry records).
pub async fn customer(
    db: &Db,
    api: Option<&StripeApi>,
    options: &super::mirror::Options,
    actor: &Actor,
    meta: &RequestMeta,
    customer_id: &str,
) -> Result<Value, ResyncError> {
    actor.require(Permission::BillingSync)?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(db.pool())
        .await?;
    exists.ok_or(ResyncError::NotFound)?;
    let api = api.ok_or(ResyncError::NotConfigured)?;
    let stripe_ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM stripe_customers WHERE customer_id = $1 ORDER BY id")
            .bind(customer_id)
            .fetch_all(db.pool())
            .await?;
    if stripe_ids.is_empty() {
        return Err(ResyncError::NotLinked);
    }
    let before = snapshot(db, customer_id).await?;
    let fetched = fetch_all(api, &stripe_ids).await;
    let now = chrono::Utc::now().timestamp_millis();
    let (outcome, details, result) = match fetched {
        Err(e) => (
            Outcome::Failed,
            json!({ "error": e.to_string() }),
            Err(ResyncError::Api(e)),
        ),
        Ok(batches) => {
            let mut tx = db.begin().await?;
            for (_, objects) in &batches {
                apply_fetched(&mut tx, objects, options, now).await?;
            }
            tx.commit().await?;
            let after = snapshot(db, customer_id).await?;
            let changes = diff(&before, &after);
            let counts: Map<String, Value> = batches
                .iter()
                .map(|(r, o)| (r.to_string(), json!(o.len())))
                .collect();
            (
                Outcome::Ok,
                json!({ "changes": changes, "fetched": counts }),
                Ok(changes),
            )
        }
    };
    let mut tx = db.begin().await?;
    let entry = audit::NewEntry::new(actor, meta, "billing.resynced", outcome)
        .target("customer", customer_id)
        .customer(customer_id)
        .details(details);
    audit::append(&mut tx, entry, now).await?;
    tx.commit().await?;
    result
}

/// Everything Stripe holds for these customers: the customers, then their subscriptions,
/// invoices and charges (up to MAX_PAGES pages each).
pub async fn fetch_all(
    api: &StripeApi,
    stripe_ids: &[String],
) -> Result<Vec<(&'static str, Vec<Value>)>, ApiError> {
    let mut batches = Vec::new();
    for id in stripe_ids {
        let customer = api.retrieve("customer", id).await?;
        batches.push(("customer", vec![customer]));
        for resource in ["subscription", "invoice", "charge"] {
            let mut objects = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let (page, more) = api
                    .list_page(resource, after.as_deref(), Some(id), 100)
                    .await?;
                after = page
                    .last()
                    .and_then(|o| o.get("id"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                objects.extend(page);
                if !more || after.is_none() {
                    break;
                }
            }
            batches.push((resource, objects));
        }
    }
    Ok(batches)
}
