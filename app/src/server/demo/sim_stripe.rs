//! The demo's simulated Stripe account. It answers the calls Ledgerline makes (retrieve, list,
//! create a refund) from `demo_stripe_objects`, with Stripe's semantics where they matter:
//! lists newest first with `starting_after`, an Idempotency-Key that replays the first answer,
//! refusals for over-refunds, and the webhooks Stripe would send afterwards, delivered through
//! the same ingest path as signed ones.

use crate::server::db::Db;
use crate::server::stripe::api::{resource_path, ApiError, Simulated};
use crate::server::stripe::{self, EventEnvelope};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct SimStripe {
    db: Db,
}

fn db_err(e: sqlx::Error) -> ApiError {
    // The simulated account lives in our own database: its failures look like Stripe's 500s.
    tracing::warn!(error = %e, "simulated Stripe storage failed");
    ApiError::Server(500)
}

fn owner(object: &Value) -> Option<&str> {
    match object.get("object").and_then(Value::as_str) {
        Some("customer") => None,
        _ => object.get("customer").and_then(Value::as_str),
    }
}

/// Stores `object` as the account's current version of it (seed-demo, and every change the
/// simulation makes).
pub async fn put(conn: &mut AnyConnection, object: &Value) -> Result<(), sqlx::Error> {
    let (Some(kind), Some(id)) = (
        object.get("object").and_then(Value::as_str),
        object.get("id").and_then(Value::as_str),
    ) else {
        return Ok(());
    };
    if resource_path(kind).is_none() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO demo_stripe_objects (object_type, id, customer, created, body) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (object_type, id) DO UPDATE SET customer = excluded.customer, body = excluded.body",
    )
    .bind(kind)
    .bind(id)
    .bind(owner(object))
    .bind(object.get("created").and_then(Value::as_i64).unwrap_or(0))
    .bind(object.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

async fn get(conn: &mut AnyConnection, kind: &str, id: &str) -> Result<Option<Value>, sqlx::Error> {
    let body: Option<String> = sqlx::query_scalar(
        "SELECT body FROM demo_stripe_objects WHERE object_type = $1 AND id = $2",
    )
    .bind(kind)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
}

fn refused(message: String) -> ApiError {
    ApiError::Refused {
        status: 400,
        message,
    }
}

impl SimStripe {
    pub fn new(db: Db) -> Self {
        SimStripe { db }
    }
}

#[async_trait::async_trait]
impl Simulated for SimStripe {
    async fn retrieve(&self, object_type: &str, id: &str) -> Result<Value, ApiError> {
        let mut conn = self.db.pool().acquire().await.map_err(db_err)?;
        get(&mut conn, object_type, id)
            .await
            .map_err(db_err)?
            .ok_or(ApiError::NotFound)
    }

    async fn list_page(
        &self,
        object_type: &str,
        starting_after: Option<&str>,
        customer: Option<&str>,
        limit: u8,
    ) -> Result<(Vec<Value>, bool), ApiError> {
        let mut conn = self.db.pool().acquire().await.map_err(db_err)?;
        let cursor: Option<i64> = match starting_after {
            Some(after) => Some(
                sqlx::query_scalar(
                    "SELECT created FROM demo_stripe_objects WHERE object_type = $1 AND id = $2",
                )
                .bind(object_type)
                .bind(after)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?
                .ok_or_else(|| refused(format!("No such {object_type}: '{after}'")))?,
            ),
            None => None,
        };
        let limit = i64::from(limit.clamp(1, 100));
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM demo_stripe_objects WHERE object_type = $1 AND ($2 IS NULL OR customer = $2) \
             AND ($3 IS NULL OR created < $3 OR (created = $3 AND id < $4)) \
             ORDER BY created DESC, id DESC LIMIT $5",
        )
        .bind(object_type)
        .bind(customer)
        .bind(cursor)
        .bind(starting_after)
        .bind(limit + 1)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        let has_more = bodies.len() as i64 > limit;
        let data = bodies
            .iter()
            .take(limit as usize)
            .filter_map(|b| serde_json::from_str(b).ok())
            .collect();
        Ok((data, has_more))
    }

    /// POST with an Idempotency-Key. Only what Ledgerline sends is simulated: refunds.
    async fn post_idempotent(
        &self,
        path: &str,
        form: &BTreeMap<&str, String>,
        idempotency_key: &str,
    ) -> Result<Value, ApiError> {
        if path != "/refunds" {
            return Err(ApiError::NotFound);
        }
        let id = format!(
            "re_sim_{}",
            &hex::encode(Sha256::digest(idempotency_key.as_bytes()))[..24]
        );
        let now = chrono::Utc::now().timestamp();
        let mut tx = self.db.begin().await.map_err(db_err)?;
        if let Some(first) = get(&mut tx, "refund", &id).await.map_err(db_err)? {
            return Ok(first); // Stripe replays the first answer for a reused key
        }
        let charge_id = form.get("charge").cloned().unwrap_or_default();
        let mut charge = get(&mut tx, "charge", &charge_id)
            .await
            .map_err(db_err)?
            .ok_or_else(|| refused(format!("No such charge: '{charge_id}'")))?;
        let total = charge.get("amount").and_then(Value::as_i64).unwrap_or(0);
        let before = charge
            .get("amount_refunded")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let amount = match form.get("amount") {
            Some(a) => a
                .parse::<i64>()
                .ok()
                .filter(|a| *a > 0)
                .ok_or_else(|| refused("Invalid positive integer: amount".into()))?,
            None => total - before,
        };
        if charge.get("status").and_then(Value::as_str) != Some("succeeded") {
            return Err(refused(format!(
                "Charge {charge_id} has not succeeded and cannot be refunded."
            )));
        }
        if amount > total - before {
            return Err(refused(format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({})",
                total - before
            )));
        }
        charge["amount_refunded"] = json!(before + amount);
        charge["refunded"] = json!(before + amount >= total);
        let metadata: serde_json::Map<String, Value> = form
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
                Some((key.to_string(), json!(v)))
            })
            .collect();
        let refund = json!({
            "id": id, "object": "refund", "amount": amount, "charge": charge_id,
            "currency": charge.get("currency").cloned().unwrap_or(json!("usd")),
            "status": "succeeded", "reason": form.get("reason"), "created": now,
            "payment_intent": null, "metadata": metadata, "livemode": false,
        });
        put(&mut tx, &charge).await.map_err(db_err)?;
        put(&mut tx, &refund).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        self.send_webhook("charge.refunded", &charge, now).await;
        self.send_webhook("refund.created", &refund, now).await;
        Ok(refund)
    }
}

impl SimStripe {
    /// A change made at Stripe (its dashboard, the customer portal): stored, then announced
    /// by webhook as Stripe would.
    pub async fn change(&self, object: &Value, kind: &str, at: i64) -> Result<(), sqlx::Error> {
        put(&mut *self.db.write().await?, object).await?;
        self.send_webhook(kind, object, at).await;
        Ok(())
    }

    /// Delivers the event Stripe would send for a change, through webhook ingest. A failure
    /// is logged only: as with real Stripe, the API call already succeeded.
    async fn send_webhook(&self, kind: &str, object: &Value, now: i64) {
        let id = format!("evt_sim_{}", uuid::Uuid::new_v4().simple());
        let raw = super::events::event(&id, kind, now, object.clone());
        let Ok(event) = EventEnvelope::parse(raw.as_bytes()) else {
            return;
        };
        if let Err(e) = stripe::receive(&self.db, &event, &raw, None, now * 1000).await {
            tracing::warn!(error = %e, event = kind, "simulated Stripe could not deliver a webhook");
        }
    }
}
