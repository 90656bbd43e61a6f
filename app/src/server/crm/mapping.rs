//! What Ledgerline writes to a CRM contact, computed from the billing mirror. One function, so
//! the sync, the drift report and the tests agree on every value.

use super::{Properties, ID_PROPERTY};
use crate::domain::{AccountState, Money};
use crate::server::db::Db;
use crate::server::Config;
use sqlx::Row;

/// The billing properties Ledgerline owns on the contact (custom properties, plus HubSpot's
/// lifecycle stage). Contact basics (email, names) are written only when we know them.
pub const MAPPED: [&str; 8] = [
    "lifecyclestage",
    "ledgerline_plan",
    "ledgerline_mrr",
    "ledgerline_billing_status",
    "ledgerline_dunning",
    "ledgerline_last_payment_date",
    "ledgerline_last_payment_status",
    "ledgerline_url",
];

pub struct Facts {
    pub email: Option<String>,
    pub name: Option<String>,
    pub state: AccountState,
    pub properties: Properties,
}

/// The contact properties for `customer_id`, or None if there is no such customer.
pub async fn facts(
    db: &Db,
    config: &Config,
    customer_id: &str,
) -> Result<Option<Facts>, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    facts_on(&mut conn, config, customer_id).await
}

/// `facts` on a given connection — inside a transaction it sees that transaction's writes (the
/// drift panel reads what a re-sync would make of the mirror, then rolls it back).
pub async fn facts_on(
    conn: &mut sqlx::AnyConnection,
    config: &Config,
    customer_id: &str,
) -> Result<Option<Facts>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT name, email, account_state FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let name: Option<String> = row.try_get("name")?;
    let email: Option<String> = row.try_get("email")?;
    let state = AccountState::parse(&row.try_get::<String, _>("account_state")?)
        .unwrap_or(AccountState::None);
    let of_customer = "SELECT id FROM stripe_customers WHERE customer_id = $1";
    let subs = sqlx::query(&format!(
        "SELECT status, plan_name, unit_amount, currency, billing_interval, quantity FROM stripe_subscriptions \
         WHERE stripe_customer_id IN ({of_customer}) ORDER BY COALESCE(stripe_created, 0) DESC, id DESC"
    ))
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    let live = |s: &str| matches!(s, "active" | "trialing" | "past_due" | "unpaid");
    let mut plan = String::new();
    let mut mrr = 0i64;
    let mut currency: Option<String> = None;
    for s in &subs {
        let status: Option<String> = s.try_get("status")?;
        if !status.as_deref().is_some_and(live) {
            continue;
        }
        if plan.is_empty() {
            plan = s
                .try_get::<Option<String>, _>("plan_name")?
                .unwrap_or_default();
        }
        if let (Some(amount), Some(c)) = (
            s.try_get::<Option<i64>, _>("unit_amount")?,
            s.try_get::<Option<String>, _>("currency")?,
        ) {
            let interval: Option<String> = s.try_get("billing_interval")?;
            let quantity: Option<i64> = s.try_get("quantity")?;
            if !crate::domain::billing::MRR_STATUSES.contains(&status.as_deref().unwrap_or("")) {
                continue;
            }
            mrr += crate::domain::billing::monthly_minor(
                amount,
                quantity.unwrap_or(1),
                interval.as_deref().unwrap_or("month"),
                1,
            );
            currency.get_or_insert(c);
        }
    }
    let last: Option<(Option<i64>, Option<String>)> = sqlx::query_as(&format!(
        "SELECT stripe_created, status FROM stripe_charges WHERE stripe_customer_id IN ({of_customer}) \
         ORDER BY COALESCE(stripe_created, 0) DESC, id DESC LIMIT 1"
    ))
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    let stage = config
        .crm
        .lifecycle
        .iter()
        .find(|(s, _)| *s == state)
        .map(|(_, stage)| stage.clone())
        .unwrap_or_else(|| "lead".into());
    let mut p = Properties::new();
    p.insert(ID_PROPERTY.into(), customer_id.into());
    if let Some(e) = &email {
        p.insert("email".into(), e.trim().to_lowercase());
    }
    if let Some(n) = name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        let (first, last) = n.split_once(' ').unwrap_or((n, ""));
        p.insert("firstname".into(), first.into());
        if !last.trim().is_empty() {
            p.insert("lastname".into(), last.trim().into());
        }
    }
    p.insert("lifecyclestage".into(), stage);
    p.insert("ledgerline_plan".into(), plan);
    p.insert(
        "ledgerline_mrr".into(),
        match &currency {
            Some(c) => Money::new(mrr, c.clone()).major().replace(',', ""),
            None => "0".into(),
        },
    );
    p.insert("ledgerline_billing_status".into(), state.as_str().into());
    p.insert("ledgerline_dunning".into(), state.is_dunning().to_string());
    let (date, status) = match last {
        Some((at, status)) => (
            at.map(|ms| crate::domain::time_fmt::utc(ms)[..10].to_string())
                .unwrap_or_default(),
            status.unwrap_or_default(),
        ),
        None => (String::new(), String::new()),
    };
    p.insert("ledgerline_last_payment_date".into(), date);
    p.insert("ledgerline_last_payment_status".into(), status);
    p.insert(
        "ledgerline_url".into(),
        format!(
            "{}/customers/{customer_id}",
            config.server.public_url.trim_end_matches('/')
        ),
    );
    Ok(Some(Facts {
        email,
        name,
        state,
        properties: p,
    }))
}
