//! The internal customer behind a Stripe customer, and its derived account state.

use crate::domain::AccountState;
use crate::server::db::Tx;

/// The internal customer id for `stripe_customer`, creating the internal record (and a
/// placeholder mirror row, replaced by the first real snapshot) when this is the first we hear
/// of it. Safe under concurrent workers: exactly one of them links the pair.
pub async fn link(tx: &mut Tx, stripe_customer: &str, now_ms: i64) -> Result<String, sqlx::Error> {
    // The empty version sorts before every real one, so any snapshot overwrites the placeholder.
    sqlx::query(
        "INSERT INTO stripe_customers (id, deleted, delinquent, livemode, version, updated_at) \
         VALUES ($1, 0, 0, 0, '', $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(stripe_customer)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    // The product's user id is the stronger key: a second Stripe customer for the same product
    // user joins that user's record instead of starting a new one.
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT c.id FROM customers c JOIN stripe_customers s ON s.metadata_user_id = c.product_user_id \
         WHERE s.id = $1 AND s.customer_id IS NULL ORDER BY c.created_at, c.id LIMIT 1",
    )
    .bind(stripe_customer)
    .fetch_optional(&mut **tx)
    .await?;
    let new_id = format!("cust_{}", uuid::Uuid::new_v4().simple());
    let claimed = sqlx::query(
        "UPDATE stripe_customers SET customer_id = $1 WHERE id = $2 AND customer_id IS NULL",
    )
    .bind(existing.as_deref().unwrap_or(&new_id))
    .bind(stripe_customer)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if let (1, Some(id)) = (claimed, &existing) {
        return Ok(id.clone());
    }
    if claimed == 1 {
        sqlx::query(
            "INSERT INTO customers (id, account_state, created_at, updated_at) VALUES ($1, 'none', $2, $2)",
        )
        .bind(&new_id)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        return Ok(new_id);
    }
    sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE id = $1")
        .bind(stripe_customer)
        .fetch_one(&mut **tx)
        .await
}

/// The internal customer linked to `stripe_customer`, if any.
pub async fn internal_id(
    tx: &mut Tx,
    stripe_customer: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    let Some(c) = stripe_customer else {
        return Ok(None);
    };
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "SELECT customer_id FROM stripe_customers WHERE id = $1",
    )
    .bind(c)
    .fetch_optional(&mut **tx)
    .await?
    .flatten())
}

/// What a Stripe customer tells us about who the customer is.
pub struct Contact<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    /// From the metadata key STRIPE_USER_ID_METADATA_KEY names.
    pub product_user_id: Option<&'a str>,
}

/// Copies name and email from the Stripe customer: Stripe is the source of truth for the billing
/// contact, so a change there (customer.updated, a re-sync) updates the internal record — when it
/// is the customer's only live Stripe customer. With several, the first to tell us wins (no
/// flip-flopping between them). The product's user id is an identity key: set once, never
/// overwritten.
pub async fn fill_contact(
    tx: &mut Tx,
    customer_id: &str,
    contact: &Contact<'_>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let normalized = contact.email.map(crate::domain::Email::normalized);
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM stripe_customers WHERE customer_id = $1 AND deleted = 0",
    )
    .bind(customer_id)
    .fetch_one(&mut **tx)
    .await?;
    let sql = if live == 1 {
        "UPDATE customers SET name = COALESCE($1, name), email = COALESCE($2, email), \
         email_normalized = COALESCE($3, email_normalized), product_user_id = COALESCE(product_user_id, $4), \
         updated_at = $5 WHERE id = $6"
    } else {
        "UPDATE customers SET name = COALESCE(name, $1), email = COALESCE(email, $2), \
         email_normalized = COALESCE(email_normalized, $3), product_user_id = COALESCE(product_user_id, $4), \
         updated_at = $5 WHERE id = $6"
    };
    sqlx::query(sql)
        .bind(contact.name)
        .bind(contact.email)
        .bind(normalized)
        .bind(contact.product_user_id)
        .bind(now_ms)
        .bind(customer_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Re-derives the account state; returns (before, after) when it changed.
pub async fn refresh_state(
    tx: &mut Tx,
    customer_id: &str,
    now_ms: i64,
) -> Result<Option<(AccountState, AccountState)>, sqlx::Error> {
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT s.status FROM stripe_subscriptions s JOIN stripe_customers c ON s.stripe_customer_id = c.id \
         WHERE c.customer_id = $1 AND s.status IS NOT NULL",
    )
    .bind(customer_id)
    .fetch_all(&mut **tx)
    .await?;
    let failed_open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM stripe_invoices i JOIN stripe_customers c ON i.stripe_customer_id = c.id \
         WHERE c.customer_id = $1 AND i.status = 'open' AND i.attempt_count > 0 AND i.amount_remaining > 0",
    )
    .bind(customer_id)
    .fetch_one(&mut **tx)
    .await?;
    let after = AccountState::derive(statuses.iter().map(String::as_str), failed_open > 0);
    let before: String = sqlx::query_scalar("SELECT account_state FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_one(&mut **tx)
        .await?;
    let before = AccountState::parse(&before).unwrap_or(AccountState::None);
    if before == after {
        return Ok(None);
    }
    sqlx::query("UPDATE customers SET account_state = $1, updated_at = $2 WHERE id = $3")
        .bind(after.as_str())
        .bind(now_ms)
        .bind(customer_id)
        .execute(&mut **tx)
        .await?;
    Ok(Some((before, after)))
}
