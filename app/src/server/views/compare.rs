//! The drift panel: each billing field as the mirror has it, as Stripe has it now and as the
//! CRM contact has it. The Stripe column is computed by the re-sync's own code — fetch, apply
//! inside a transaction, read, roll back — so "differs" means exactly "a re-sync would change
//! this"; the CRM column is the contact read live (or as last read when the CRM cannot be
//! reached), compared with what a push would write.

use crate::domain::{FieldComparison, Permission, SystemsComparison};
use crate::server::actor::{Actor, ReadError};
use crate::server::crm::{mapping, Crm, Properties};
use crate::server::db::Db;
use crate::server::stripe::mirror::{self, apply_fetched};
use crate::server::stripe::{api::StripeApi, resync};
use crate::server::Config;
use std::sync::Arc;

/// (label, contact property) for every compared field, in the order the panel shows them.
const FIELDS: [(&str, &str); 10] = [
    ("Email", "email"),
    ("First name", "firstname"),
    ("Last name", "lastname"),
    ("Plan", "ledgerline_plan"),
    ("Billing status", "ledgerline_billing_status"),
    ("MRR", "ledgerline_mrr"),
    ("Dunning", "ledgerline_dunning"),
    ("Last payment", "ledgerline_last_payment_date"),
    ("Last payment status", "ledgerline_last_payment_status"),
    ("Lifecycle stage", "lifecyclestage"),
];

fn same(property: &str, a: &str, b: &str) -> bool {
    if property == "email" {
        a.trim().eq_ignore_ascii_case(b.trim())
    } else {
        a.trim() == b.trim()
    }
}

enum Side {
    Read(Properties, String),
    Unread(String),
}

async fn stripe_side(
    db: &Db,
    config: &Config,
    api: Option<&StripeApi>,
    customer_id: &str,
    now_ms: i64,
) -> Result<Side, sqlx::Error> {
    let Some(api) = api else {
        return Ok(Side::Unread(
            "Stripe is not configured (STRIPE_API_KEY).".into(),
        ));
    };
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM stripe_customers WHERE customer_id = $1 ORDER BY id")
            .bind(customer_id)
            .fetch_all(db.pool())
            .await?;
    if ids.is_empty() {
        return Ok(Side::Unread("No Stripe customer is linked.".into()));
    }
    let batches = match resync::fetch_all(api, &ids).await {
        Ok(b) => b,
        Err(e) => return Ok(Side::Unread(format!("Stripe could not be read: {e}"))),
    };
    let options = mirror::Options {
        crm_sync: false,
        ..mirror::Options::from_config(config)
    };
    let mut tx = db.begin().await?;
    for (_, objects) in &batches {
        apply_fetched(&mut tx, objects, &options, now_ms).await?;
    }
    let facts = mapping::facts_on(&mut tx, config, customer_id).await?;
    tx.rollback().await?;
    Ok(match facts {
        Some(f) => Side::Read(f.properties, "Read from Stripe just now.".into()),
        None => Side::Unread("The customer is gone.".into()),
    })
}

async fn crm_side(
    db: &Db,
    crm: Option<&Arc<dyn Crm>>,
    customer_id: &str,
) -> Result<Side, sqlx::Error> {
    let contact: Option<String> =
        sqlx::query_scalar("SELECT crm_contact_id FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(db.pool())
            .await?
            .flatten();
    let Some(contact) = contact else {
        return Ok(Side::Unread("No CRM contact is linked yet.".into()));
    };
    if let Some(crm) = crm {
        match crm.read(std::slice::from_ref(&contact)).await {
            Ok(found) => {
                if let Some(c) = found.into_iter().find(|c| c.id == contact) {
                    return Ok(Side::Read(
                        c.properties,
                        "Read from the CRM just now.".into(),
                    ));
                }
                return Ok(Side::Unread(format!(
                    "The CRM has no contact {contact} any more."
                )));
            }
            Err(e) => tracing::warn!(error = %e, "CRM read for the drift panel failed"),
        }
    }
    let last: Option<String> =
        sqlx::query_scalar("SELECT properties FROM crm_contacts WHERE id = $1")
            .bind(&contact)
            .fetch_optional(db.pool())
            .await?;
    Ok(
        match last.and_then(|p| serde_json::from_str::<Properties>(&p).ok()) {
            Some(p) => Side::Read(
                p,
                "The CRM could not be read now; shown as last imported or pushed.".into(),
            ),
            None => Side::Unread("The CRM could not be read.".into()),
        },
    )
}

/// None when there is no such customer. `can_resync` / `can_push` are left for the caller.
pub async fn compare(
    db: &Db,
    actor: &Actor,
    config: &Config,
    stripe: Option<&StripeApi>,
    crm: Option<&Arc<dyn Crm>>,
    customer_id: &str,
    now_ms: i64,
) -> Result<Option<SystemsComparison>, ReadError> {
    actor.require(Permission::CustomerRead)?;
    let Some(ours) = mapping::facts(db, config, customer_id).await? else {
        return Ok(None);
    };
    let stripe = stripe_side(db, config, stripe, customer_id, now_ms).await?;
    let crm = crm_side(db, crm, customer_id).await?;
    let fields = FIELDS
        .iter()
        .map(|(label, property)| {
            let mine = ours.properties.get(*property).cloned().unwrap_or_default();
            let theirs = |side: &Side| match side {
                Side::Read(p, _) => Some(p.get(*property).cloned().unwrap_or_default()),
                Side::Unread(_) => None,
            };
            let (s, c) = (theirs(&stripe), theirs(&crm));
            FieldComparison {
                label: label.to_string(),
                stripe_differs: s.as_deref().is_some_and(|v| !same(property, v, &mine)),
                crm_differs: c.as_deref().is_some_and(|v| !same(property, v, &mine)),
                ours: mine,
                stripe: s,
                crm: c,
            }
        })
        .collect();
    let note = |side: Side| match side {
        Side::Read(_, n) | Side::Unread(n) => n,
    };
    Ok(Some(SystemsComparison {
        fields,
        stripe_note: note(stripe),
        crm_note: note(crm),
        can_resync: false,
        can_push: false,
        checked_at_ms: now_ms,
    }))
}
