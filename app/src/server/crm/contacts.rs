//! The local copy of the CRM's contacts (`crm_contacts`): what the import read and what a sync
//! just pushed. Identity, duplicates, drift and sync read and write it here.

use super::{Contact, Properties, ID_PROPERTY};
use crate::domain::Email;
use crate::server::db::{Db, Tx};

/// Upserts a contact as we now know it (read by the import, or just pushed by a sync).
pub async fn remember(
    tx: &mut Tx,
    contact_id: &str,
    properties: &Properties,
    seen_at: i64,
) -> Result<(), sqlx::Error> {
    let email = properties
        .get("email")
        .map(|e| Email::normalized(e))
        .filter(|e| !e.is_empty());
    let ledgerline = properties.get(ID_PROPERTY).filter(|v| !v.is_empty());
    let json = serde_json::to_string(properties).unwrap_or_default();
    sqlx::query(
        "INSERT INTO crm_contacts (id, email_normalized, ledgerline_id, properties, seen_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET email_normalized = excluded.email_normalized, ledgerline_id = excluded.ledgerline_id, \
         properties = excluded.properties, seen_at = excluded.seen_at, merged_into = NULL",
    )
    .bind(contact_id)
    .bind(email)
    .bind(ledgerline)
    .bind(json)
    .bind(seen_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Imported contacts whose `column` (email_normalized or ledgerline_id) is `value`.
pub async fn contacts_where(
    db: &Db,
    column: &str,
    value: &str,
) -> Result<Vec<Contact>, sqlx::Error> {
    let column = match column {
        "ledgerline_id" => "ledgerline_id",
        _ => "email_normalized",
    };
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT id, properties FROM crm_contacts WHERE {column} = $1 AND merged_into IS NULL ORDER BY id"
    ))
    .bind(value)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|(id, p)| parse(id, &p)).collect())
}

pub fn parse(id: String, properties: &str) -> Contact {
    Contact {
        id,
        properties: serde_json::from_str(properties).unwrap_or_default(),
    }
}
