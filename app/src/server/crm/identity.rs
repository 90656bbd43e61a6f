//! How a customer finds their CRM contact the first time. Our internal id is the key; email is
//! used only when it is safe: normalized (trimmed, lower-cased), held by no other customer of
//! ours, and by exactly one CRM contact that no other customer has claimed. Names never match.
//! Anything else is an identity conflict for a person to resolve.

use super::{contacts, Contact, Crm, SyncError, ID_PROPERTY};
use crate::domain::Email;
use crate::server::db::{Db, Tx};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// No contact has the email (or we have none): the upsert creates one.
    New,
    /// One contact has the email and no other owner: claim it for this customer.
    Claim(String),
    /// Already ours (its ledgerline_id is this customer).
    Known(String),
    Conflict {
        kind: &'static str,
        candidates: Vec<Contact>,
    },
}

/// A person decided this customer is not the CRM contact that shares its email.
pub async fn kept_separate(db: &Db, customer_id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM identity_conflicts WHERE customer_id = $1 AND status = 'kept_separate'",
    )
    .bind(customer_id)
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}

pub async fn resolve(
    db: &Db,
    crm: &dyn Crm,
    customer_id: &str,
    email: Option<&str>,
) -> Result<Link, SyncError> {
    let Some(email) = email.map(Email::normalized).filter(|e| !e.is_empty()) else {
        return Ok(Link::New);
    };
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM customers WHERE email_normalized = $1 AND id <> $2",
    )
    .bind(&email)
    .bind(customer_id)
    .fetch_one(db.pool())
    .await?;
    let found = crm.search("email", &email).await?;
    if others > 0 {
        // Two of our customers share the email: it cannot say which one a contact is.
        return Ok(if found.is_empty() {
            Link::New
        } else {
            Link::Conflict {
                kind: "email_ambiguous",
                candidates: found,
            }
        });
    }
    Ok(match found.as_slice() {
        [] => Link::New,
        [one] => match one.ledgerline_id() {
            Some(id) if id == customer_id => Link::Known(one.id.clone()),
            Some(_) => Link::Conflict {
                kind: "email_taken",
                candidates: found,
            },
            None => Link::Claim(one.id.clone()),
        },
        _ => Link::Conflict {
            kind: "email_ambiguous",
            candidates: found,
        },
    })
}

/// Opens a conflict for a person, unless one of this kind is already open for the customer.
/// Returns whether it is new.
pub async fn open_conflict(
    tx: &mut Tx,
    customer_id: &str,
    kind: &str,
    email: Option<&str>,
    candidates: &[Contact],
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM identity_conflicts WHERE customer_id = $1 AND kind = $2 AND status = 'open'",
    )
    .bind(customer_id)
    .bind(kind)
    .fetch_one(&mut **tx)
    .await?;
    if open > 0 {
        return Ok(false);
    }
    let contacts: Vec<Value> = candidates
        .iter()
        .map(|c| json!({ "contact_id": c.id, ID_PROPERTY: c.ledgerline_id(), "email": c.email() }))
        .collect();
    sqlx::query(
        "INSERT INTO identity_conflicts (id, customer_id, kind, email_normalized, candidates, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $6)",
    )
    .bind(format!("ic_{}", uuid::Uuid::new_v4().simple()))
    .bind(customer_id)
    .bind(kind)
    .bind(email)
    .bind(Value::Array(contacts).to_string())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// What linking the imported contacts did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Linked {
    pub linked: i64,
    pub conflicts: i64,
}

/// Links imported CRM contacts to customers that have none, by the same rules as a sync:
/// first a contact carrying the customer's internal id (when exactly one does), then one
/// sharing its email when that is safe; what is left with a matching email is a conflict.
/// Every newly linked customer gets a sync queued, which writes our id onto the contact.
pub async fn link_imported(db: &Db, now_ms: i64) -> Result<Linked, sqlx::Error> {
    const FREE: &str = "k.merged_into IS NULL AND NOT EXISTS (SELECT 1 FROM customers o WHERE o.crm_contact_id = k.id)";
    let by_id = format!(
        "SELECT c.id, k.id FROM customers c JOIN crm_contacts k ON k.ledgerline_id = c.id \
         WHERE c.crm_contact_id IS NULL AND {FREE} \
         AND (SELECT COUNT(*) FROM crm_contacts k2 WHERE k2.ledgerline_id = c.id AND k2.merged_into IS NULL) = 1"
    );
    let by_email = format!(
        "SELECT c.id, k.id FROM customers c JOIN crm_contacts k ON k.email_normalized = c.email_normalized \
         WHERE c.crm_contact_id IS NULL AND c.email_normalized IS NOT NULL AND k.ledgerline_id IS NULL AND {FREE} \
         AND (SELECT COUNT(*) FROM customers c2 WHERE c2.email_normalized = c.email_normalized) = 1 \
         AND (SELECT COUNT(*) FROM crm_contacts k2 WHERE k2.email_normalized = c.email_normalized AND k2.merged_into IS NULL) = 1 \
         AND NOT EXISTS (SELECT 1 FROM identity_conflicts x WHERE x.customer_id = c.id AND x.status = 'kept_separate')"
    );
    let mut out = Linked::default();
    for sql in [by_id, by_email] {
        let pairs: Vec<(String, String)> = sqlx::query_as(&sql).fetch_all(db.pool()).await?;
        for chunk in pairs.chunks(200) {
            let mut tx = db.begin().await?;
            for (customer, contact) in chunk {
                let done = sqlx::query(
                    "UPDATE customers SET crm_contact_id = $1 WHERE id = $2 AND crm_contact_id IS NULL",
                )
                .bind(contact)
                .bind(customer)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 1 {
                    super::sync_queue::enqueue(&mut tx, customer, "backfill", now_ms).await?;
                    out.linked += 1;
                }
            }
            tx.commit().await?;
        }
    }
    // What still shares an email with a contact that is not theirs needs a person.
    let left: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.id, c.email_normalized FROM customers c WHERE c.crm_contact_id IS NULL AND c.email_normalized IS NOT NULL \
         AND EXISTS (SELECT 1 FROM crm_contacts k WHERE k.email_normalized = c.email_normalized AND k.merged_into IS NULL \
                     AND (k.ledgerline_id IS NULL OR k.ledgerline_id <> c.id)) \
         AND NOT EXISTS (SELECT 1 FROM identity_conflicts x WHERE x.customer_id = c.id AND x.status = 'kept_separate')",
    )
    .fetch_all(db.pool())
    .await?;
    for (customer, email) in left {
        let candidates = contacts::contacts_where(db, "email_normalized", &email).await?;
        let kind = match candidates.as_slice() {
            [one] if one.ledgerline_id().is_some() => "email_taken",
            _ => "email_ambiguous",
        };
        let mut tx = db.begin().await?;
        if open_conflict(&mut tx, &customer, kind, Some(&email), &candidates, now_ms).await? {
            out.conflicts += 1;
        }
        tx.commit().await?;
    }
    Ok(out)
}
