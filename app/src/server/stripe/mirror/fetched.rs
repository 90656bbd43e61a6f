//! Objects read from Stripe's API just now (backfill, re-sync, a refund's answer, the compare
//! panel's dry run) applied to the mirror as the newest state.

use super::objects::to_row_fetched;
use super::{fields, refresh_state, store, Options};
use crate::server::db::Tx;

/// Applies objects fetched from Stripe just now (so they count as the newest state) to the
/// mirror, linking customers, re-deriving their account state and, with a CRM configured,
/// queueing a sync for each customer whose mirror changed.
pub async fn apply_fetched(
    tx: &mut Tx,
    objects: &[serde_json::Value],
    options: &Options,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    // Many objects of a page may belong to one customer: derive each state once, at the end.
    let mut touched = std::collections::BTreeSet::new();
    let mut changed = std::collections::BTreeSet::new();
    for object in objects {
        let row = to_row_fetched(object, now_ms / 1000, &options.user_id_key);
        let stripe_customer = fields::customer_of(object);
        let (written, customer) =
            store(tx, row.as_ref(), stripe_customer.as_deref(), now_ms).await?;
        if written {
            changed.extend(customer.clone());
        }
        touched.extend(customer);
    }
    for c in touched {
        let entry = format!("tl_state_fetch_{c}_{now_ms}");
        refresh_state(tx, &c, now_ms, &entry, now_ms).await?;
    }
    if options.crm_sync {
        for c in changed {
            crate::server::crm::sync_queue::enqueue(tx, &c, "billing", now_ms).await?;
        }
    }
    Ok(())
}
