//! Drift: mapped fields where the CRM (as last imported) disagrees with what the mirror says
//! now. Scanned after each import; a push (manual, "fix", or any sync) clears the customer's.

use super::mapping::{self, MAPPED};
use crate::domain::DriftRow;
use crate::domain::Permission;
use crate::server::actor::{Actor, ReadError};
use crate::server::db::Db;
use crate::server::Config;

/// Recomputes drift for every linked customer; returns how many customers drifted.
pub async fn scan(db: &Db, config: &Config, now_ms: i64) -> Result<i64, sqlx::Error> {
    let linked: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.id, k.properties FROM customers c JOIN crm_contacts k ON k.id = c.crm_contact_id \
         WHERE k.merged_into IS NULL ORDER BY c.id",
    )
    .fetch_all(db.pool())
    .await?;
    sqlx::query("DELETE FROM crm_drift")
        .execute(&mut *db.write().await?)
        .await?;
    let mut drifted = 0;
    for chunk in linked.chunks(200) {
        let mut rows = Vec::new();
        for (customer, props) in chunk {
            let Some(facts) = mapping::facts(db, config, customer).await? else {
                continue;
            };
            let theirs = super::contacts::parse(String::new(), props).properties;
            let before = rows.len();
            for field in MAPPED {
                let ours = facts.properties.get(field).cloned().unwrap_or_default();
                let their = theirs.get(field).cloned().unwrap_or_default();
                if ours != their {
                    rows.push((customer.clone(), field, ours, their));
                }
            }
            drifted += (rows.len() > before) as i64;
        }
        let mut tx = db.begin().await?;
        for (customer, field, ours, theirs) in rows {
            sqlx::query(
                "INSERT INTO crm_drift (customer_id, field, ours, theirs, scanned_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(customer)
            .bind(field)
            .bind(ours)
            .bind(theirs)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    Ok(drifted)
}

/// The drift report, by customer then field; `customer` narrows it to one.
pub async fn report(
    db: &Db,
    actor: &Actor,
    customer: Option<&str>,
) -> Result<Vec<DriftRow>, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(report_rows(db, customer).await?)
}

async fn report_rows(db: &Db, customer: Option<&str>) -> Result<Vec<DriftRow>, sqlx::Error> {
    type Row = (
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        i64,
    );
    let rows: Vec<Row> =
        sqlx::query_as(
            "SELECT d.customer_id, c.name, d.field, d.ours, d.theirs, d.scanned_at FROM crm_drift d \
             LEFT JOIN customers c ON c.id = d.customer_id WHERE ($1 IS NULL OR d.customer_id = $1) \
             ORDER BY d.customer_id, d.field LIMIT 2000",
        )
        .bind(customer)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(customer_id, customer_name, field, ours, theirs, at)| DriftRow {
                customer_id,
                customer_name,
                field,
                ours: ours.unwrap_or_default(),
                theirs: theirs.unwrap_or_default(),
                scanned_at_ms: at,
            },
        )
        .collect())
}
