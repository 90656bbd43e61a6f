//! How a customer finds their CRM contact the first time. Our internal id is the key; email is
//! used only when it is safe: normalized (trimmed, lower-cased), held by no other customer of
//! ours, and by exactly one CRM contact that no other customer has claimed. Names never match.
//! Anything else is an identity conflict for a person to resolve.

use super::sync::SyncError;
use super::{Contact, Crm};
use crate::server::db::Db;

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

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn resolve(
    db: &Db,
    crm: &dyn Crm,
    customer_id: &str,
    email: Option<&str>,
) -> Result<Link, SyncError> {
    let Some(email) = email.map(normalize_email).filter(|e| !e.is_empty()) else {
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
