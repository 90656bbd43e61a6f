//! Duplicate CRM contacts: those sharing a normalized email or our internal id, each group
//! with a proposed survivor and a merge plan. Merging calls the CRM's merge API, is audited,
//! and is idempotent: a duplicate merged once is never sent again.

use super::{contacts, Contact, Crm, CrmError};
use crate::domain::{ContactRef, DuplicateGroup, Outcome, Permission};
use crate::server::actor::{Actor, ReadError, RequestMeta};
use crate::server::db::Db;
use crate::server::services::audit;
use serde_json::json;

/// Each group's key: "email:<address>" or "id:<customer id>".
async fn keys(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT 'email:' || email_normalized FROM crm_contacts WHERE merged_into IS NULL AND email_normalized IS NOT NULL \
         GROUP BY email_normalized HAVING COUNT(*) > 1 \
         UNION ALL \
         SELECT 'id:' || ledgerline_id FROM crm_contacts WHERE merged_into IS NULL AND ledgerline_id IS NOT NULL \
         GROUP BY ledgerline_id HAVING COUNT(*) > 1 ORDER BY 1 LIMIT 500",
    )
    .fetch_all(db.pool())
    .await
}

async fn members(db: &Db, key: &str) -> Result<Vec<Contact>, sqlx::Error> {
    match key.split_once(':') {
        Some(("email", v)) => contacts::contacts_where(db, "email_normalized", v).await,
        Some(("id", v)) => contacts::contacts_where(db, "ledgerline_id", v).await,
        _ => Ok(Vec::new()),
    }
}

/// Customers linked to each contact (by our link or by the contact's ledgerline_id).
async fn owner(db: &Db, c: &Contact) -> Result<Option<String>, sqlx::Error> {
    let linked: Option<String> =
        sqlx::query_scalar("SELECT id FROM customers WHERE crm_contact_id = $1")
            .bind(&c.id)
            .fetch_optional(db.pool())
            .await?;
    Ok(linked.or_else(|| c.ledgerline_id().map(str::to_string)))
}

fn to_ref(c: &Contact, customer_id: Option<String>) -> ContactRef {
    let name = [c.properties.get("firstname"), c.properties.get("lastname")]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    ContactRef {
        id: c.id.clone(),
        email: c.email().map(str::to_string),
        name: (!name.is_empty()).then_some(name),
        ledgerline_id: c.ledgerline_id().map(str::to_string),
        customer_id,
    }
}

/// Numeric ids sort by age in HubSpot (the oldest contact has the smallest id).
fn age(id: &str) -> (usize, &str) {
    (id.len(), id)
}

/// The plan for one group: the survivor is the contact linked to one of our customers (or
/// carrying our id); failing that the oldest. Contacts belonging to a different customer than
/// the survivor's are kept out: merging them would fold two customers into one.
pub async fn plan(db: &Db, key: &str) -> Result<Option<DuplicateGroup>, sqlx::Error> {
    let contacts = members(db, key).await?;
    if contacts.len() < 2 {
        return Ok(None);
    }
    let mut owned = Vec::new();
    for c in &contacts {
        owned.push((c, owner(db, c).await?));
    }
    owned.sort_by(|a, b| {
        let linked = |o: &Option<String>| o.is_none();
        (linked(&a.1), age(&a.0.id)).cmp(&(linked(&b.1), age(&b.0.id)))
    });
    let (survivor, survivor_owner) = owned[0].clone();
    let mut group = DuplicateGroup {
        key: key.to_string(),
        survivor: to_ref(survivor, survivor_owner.clone()),
        merge: Vec::new(),
        kept: Vec::new(),
    };
    for (c, o) in &owned[1..] {
        match (o, &survivor_owner) {
            (Some(other), Some(mine)) if other != mine => group.kept.push((
                to_ref(c, o.clone()),
                format!("belongs to another customer ({other})"),
            )),
            (Some(other), None) => group
                .kept
                .push((to_ref(c, o.clone()), format!("belongs to customer {other}"))),
            _ => group.merge.push(to_ref(c, o.clone())),
        }
    }
    Ok(Some(group))
}

pub async fn groups(db: &Db, actor: &Actor) -> Result<Vec<DuplicateGroup>, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(groups_rows(db).await?)
}

/// Unchecked: for the import job, which counts groups for its own report.
pub(crate) async fn groups_rows(db: &Db) -> Result<Vec<DuplicateGroup>, sqlx::Error> {
    let mut out = Vec::new();
    for key in keys(db).await? {
        if let Some(g) = plan(db, &key).await? {
            out.push(g);
        }
    }
    Ok(out)
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("No such duplicate group: it may have been merged already or the CRM changed since the last scan.")]
    NotFound,
    #[error(
        "Nothing in this group can be merged safely: its contacts belong to different customers."
    )]
    NothingToMerge,
    #[error("No CRM is configured (CRM_PROVIDER).")]
    NotConfigured,
    #[error("The CRM refused the merge: {0}")]
    Crm(#[from] CrmError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(MergeError {
    denied: Denied,
    internal: [Db],
    Self::NotFound => NOT_FOUND,
    Self::Crm(_) => BAD_GATEWAY,
    _ => CONFLICT,
});

/// Executes the group's plan. Contacts merged by an earlier run are skipped (never sent twice);
/// a failure part-way keeps what was merged and can be run again. Audited either way.
/// Returns the contact ids merged by this run.
pub async fn merge(
    db: &Db,
    crm: Option<&dyn Crm>,
    actor: &Actor,
    meta: &RequestMeta,
    key: &str,
) -> Result<Vec<String>, MergeError> {
    actor.require(Permission::CrmMerge)?;
    let crm = crm.ok_or(MergeError::NotConfigured)?;
    let group = plan(db, key).await?.ok_or(MergeError::NotFound)?;
    if group.merge.is_empty() {
        return Err(MergeError::NothingToMerge);
    }
    let survivor = group.survivor.id.clone();
    let mut merged = Vec::new();
    let mut failure = None;
    for dup in &group.merge {
        let done: Option<String> =
            sqlx::query_scalar("SELECT survivor_id FROM crm_merges WHERE duplicate_id = $1")
                .bind(&dup.id)
                .fetch_optional(db.pool())
                .await?;
        if done.is_none() {
            if let Err(e) = crm.merge(&survivor, &dup.id).await {
                failure = Some(e);
                break;
            }
        }
        let now = chrono::Utc::now().timestamp_millis();
        let mut tx = db.begin().await?;
        sqlx::query(
            "INSERT INTO crm_merges (duplicate_id, survivor_id, merged_by, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (duplicate_id) DO NOTHING",
        )
        .bind(&dup.id)
        .bind(&survivor)
        .bind(actor.id())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE crm_contacts SET merged_into = $1 WHERE id = $2")
            .bind(&survivor)
            .bind(&dup.id)
            .execute(&mut *tx)
            .await?;
        // A customer linked to the merged-away contact now has the survivor (same customer).
        sqlx::query("UPDATE customers SET crm_contact_id = $1 WHERE crm_contact_id = $2")
            .bind(&survivor)
            .bind(&dup.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        merged.push(dup.id.clone());
    }
    let (outcome, details) = match &failure {
        None => (
            Outcome::Ok,
            json!({ "group": key, "survivor": survivor, "merged": merged }),
        ),
        Some(e) => (
            Outcome::Failed,
            json!({ "group": key, "survivor": survivor, "merged": merged, "error": e.to_string() }),
        ),
    };
    let mut entry =
        audit::NewEntry::new(actor, meta, "crm.merged", outcome).target("crm_contact", &survivor);
    if let Some(c) = &group.survivor.customer_id {
        entry = entry.customer(c);
    }
    audit::append_now(db, entry.details(details)).await?;
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(merged),
    }
}
