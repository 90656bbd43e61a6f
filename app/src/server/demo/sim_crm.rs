//! The demo's simulated CRM, with HubSpot's behaviour where Ledgerline relies on it: numeric
//! contact ids, an upsert keyed by the unique `ledgerline_id` property, case-insensitive email
//! search, cursor pages in id order, and merges after which only the primary is found.

use crate::domain::Email;
use crate::server::crm::{Contact, ContactPage, Crm, CrmError, Properties, ID_PROPERTY};
use crate::server::db::Db;
use async_trait::async_trait;
use sqlx::AnyConnection;

#[derive(Debug, Clone)]
pub struct SimCrm {
    db: Db,
}

fn db_err(e: sqlx::Error) -> CrmError {
    tracing::warn!(error = %e, "simulated CRM storage failed");
    CrmError::Transient {
        message: "the simulated CRM's storage failed".into(),
        retry_after: None,
    }
}

fn contact(id: String, properties: &str) -> Contact {
    Contact {
        id,
        properties: serde_json::from_str(properties).unwrap_or_default(),
    }
}

const LIVE: &str = "merged_into IS NULL";

async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Contact>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(&format!(
        "SELECT id, properties FROM demo_crm_contacts WHERE id = $1 AND {LIVE}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, p)| contact(id, &p)))
}

/// Writes a contact's properties (and the columns search uses).
async fn store(
    conn: &mut AnyConnection,
    id: &str,
    properties: &Properties,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE demo_crm_contacts SET properties = $1, email = $2, ledgerline_id = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(serde_json::to_string(properties).unwrap_or_default())
    .bind(properties.get("email").map(|e| Email::normalized(e)).filter(|e| !e.is_empty()))
    .bind(properties.get(ID_PROPERTY).filter(|v| !v.is_empty()))
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Properties from name/value pairs, as a person would type them into the CRM.
pub fn props(pairs: &[(&str, &str)]) -> Properties {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Creates a contact, as the CRM's own users (sales, a form) would, and returns its id.
pub async fn create(
    conn: &mut AnyConnection,
    properties: &Properties,
    now: i64,
) -> Result<String, sqlx::Error> {
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 5100) + 1 FROM demo_crm_contacts")
        .fetch_one(&mut *conn)
        .await?;
    let id = (seq * 7).to_string(); // HubSpot ids are numbers with gaps
    sqlx::query(
        "INSERT INTO demo_crm_contacts (seq, id, properties, updated_at) VALUES ($1, $2, '{}', $3)",
    )
    .bind(seq)
    .bind(&id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    store(conn, &id, properties, now).await?;
    Ok(id)
}

/// Changes properties the way a person editing the contact in the CRM would. Returns whether
/// any value changed: setting a property to the value it already holds (a trial customer's
/// stage to "opportunity", which is what the sync pushed) is no edit at all.
pub async fn edit(
    conn: &mut AnyConnection,
    id: &str,
    changes: &Properties,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let Some(mut c) = by_id(conn, id).await? else {
        return Ok(false);
    };
    if changes.iter().all(|(k, v)| c.properties.get(k) == Some(v)) {
        return Ok(false);
    }
    c.properties.extend(changes.clone());
    store(conn, id, &c.properties, now).await?;
    Ok(true)
}

/// HubSpot refuses an email without a top-level domain ("INVALID_EMAIL").
fn check(properties: &Properties) -> Result<(), CrmError> {
    match properties.get("email") {
        Some(e) if !e.is_empty() && !e.rsplit_once('@').is_some_and(|(_, d)| d.contains('.')) => {
            Err(CrmError::Permanent(format!(
                "Property values were not valid: INVALID_EMAIL: Email address {e} is invalid"
            )))
        }
        _ => Ok(()),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl SimCrm {
    pub fn new(db: Db) -> Self {
        SimCrm { db }
    }
}

#[async_trait]
impl Crm for SimCrm {
    async fn search(&self, name: &str, value: &str) -> Result<Vec<Contact>, CrmError> {
        let (column, value) = match name {
            "email" => ("email", Email::normalized(value)),
            ID_PROPERTY => ("ledgerline_id", value.to_string()),
            other => {
                return Err(CrmError::Permanent(format!(
                    "the simulated CRM searches by email or {ID_PROPERTY}, not {other}"
                )))
            }
        };
        let rows: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT id, properties FROM demo_crm_contacts WHERE {column} = $1 AND {LIVE} ORDER BY seq LIMIT 10"
        ))
        .bind(value)
        .fetch_all(self.db.pool())
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(|(id, p)| contact(id, &p)).collect())
    }

    async fn upsert(
        &self,
        ledgerline_id: &str,
        properties: &Properties,
    ) -> Result<Contact, CrmError> {
        check(properties)?;
        let mut tx = self.db.begin().await.map_err(db_err)?;
        let existing: Option<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM demo_crm_contacts WHERE ledgerline_id = $1 AND {LIVE}"
        ))
        .bind(ledgerline_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut wanted = properties.clone();
        wanted.insert(ID_PROPERTY.into(), ledgerline_id.into());
        let id = match existing {
            Some(id) => {
                edit(&mut tx, &id, &wanted, now()).await.map_err(db_err)?;
                id
            }
            None => create(&mut tx, &wanted, now()).await.map_err(db_err)?,
        };
        let c = by_id(&mut tx, &id).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        c.ok_or_else(|| CrmError::Permanent("the upserted contact vanished".into()))
    }

    async fn update(&self, contact_id: &str, properties: &Properties) -> Result<Contact, CrmError> {
        check(properties)?;
        let mut tx = self.db.begin().await.map_err(db_err)?;
        if !edit(&mut tx, contact_id, properties, now())
            .await
            .map_err(db_err)?
        {
            return Err(CrmError::Permanent(format!(
                "contact {contact_id} does not exist"
            )));
        }
        let c = by_id(&mut tx, contact_id).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        c.ok_or_else(|| CrmError::Permanent("the updated contact vanished".into()))
    }

    async fn read(&self, contact_ids: &[String]) -> Result<Vec<Contact>, CrmError> {
        let mut conn = self.db.pool().acquire().await.map_err(db_err)?;
        let mut found = Vec::new();
        for id in contact_ids {
            if let Some(c) = by_id(&mut conn, id).await.map_err(db_err)? {
                found.push(c);
            }
        }
        Ok(found)
    }

    async fn list(&self, after: Option<&str>, limit: u32) -> Result<ContactPage, CrmError> {
        let after: i64 = after.and_then(|a| a.parse().ok()).unwrap_or(0);
        let limit = i64::from(limit.clamp(1, 100));
        let rows: Vec<(i64, String, String)> = sqlx::query_as(&format!(
            "SELECT seq, id, properties FROM demo_crm_contacts WHERE seq > $1 AND {LIVE} ORDER BY seq LIMIT $2"
        ))
        .bind(after)
        .bind(limit + 1)
        .fetch_all(self.db.pool())
        .await
        .map_err(db_err)?;
        let next = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].0.to_string());
        Ok((
            rows.into_iter()
                .take(limit as usize)
                .map(|(_, id, p)| contact(id, &p))
                .collect(),
            next,
        ))
    }

    async fn merge(&self, primary: &str, duplicate: &str) -> Result<Contact, CrmError> {
        let mut tx = self.db.begin().await.map_err(db_err)?;
        let (Some(mut keep), Some(gone)) = (
            by_id(&mut tx, primary).await.map_err(db_err)?,
            by_id(&mut tx, duplicate).await.map_err(db_err)?,
        ) else {
            return Err(CrmError::Permanent(
                "both contacts must exist to be merged".into(),
            ));
        };
        // As HubSpot does: the primary's values win; the duplicate fills what it lacks.
        for (k, v) in gone.properties {
            keep.properties.entry(k).or_insert(v);
        }
        sqlx::query(
            "UPDATE demo_crm_contacts SET merged_into = $1, ledgerline_id = NULL WHERE id = $2",
        )
        .bind(primary)
        .bind(duplicate)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        store(&mut tx, primary, &keep.properties, now())
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(keep)
    }
}
