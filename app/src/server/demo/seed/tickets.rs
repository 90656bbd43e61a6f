//! Support: a product API key, tickets from about one customer in eight (billing words from
//! those in dunning) through the intake service, and replies from a support agent when the
//! demo has one.

use super::{SeedError, SeedReport};
use crate::domain::Role;
use crate::server::actor::{Actor, RequestMeta};
use crate::server::db::Db;
use crate::server::services::api_keys;
use crate::server::tickets::{self, TicketRequest};
use crate::server::Config;
use rand::rngs::StdRng;
use rand::Rng;

const GENERAL: [(&str, &str); 5] = [
    (
        "How do I export my reports?",
        "I'd like a CSV of last month's numbers. Where is the export?",
    ),
    (
        "Inviting a teammate",
        "The invite email never arrived for my colleague. Can you resend it?",
    ),
    (
        "Dark mode?",
        "Is there a dark mode? My eyes would thank you.",
    ),
    (
        "API rate limits",
        "We hit 429s from your API at about 50 requests a second. What is the limit?",
    ),
    (
        "Login loop on Safari",
        "After signing in, Safari sends me back to the sign-in page.",
    ),
];
const BILLING: [(&str, &str); 4] = [
    (
        "Charged twice this month",
        "My card statement shows two charges for the same invoice. Please refund one.",
    ),
    (
        "Card declined but it works",
        "Your system says my card was declined; it works everywhere else.",
    ),
    (
        "Cancel my subscription",
        "We're moving to another tool. Please cancel at the end of this period.",
    ),
    (
        "Need an invoice with our VAT number",
        "Can you reissue last month's invoice with our VAT number?",
    ),
];

/// `customers` are the seeded ones as (product user id, email, account state), in order.
pub(super) async fn write(
    db: &Db,
    config: &Config,
    customers: &[(String, Option<String>, String)],
    seed: u64,
    rng: &mut StdRng,
    now_ms: i64,
    report: &mut SeedReport,
) -> Result<(), SeedError> {
    let meta = RequestMeta::default();
    let key = match sqlx::query_as::<_, (String, String)>(
        "SELECT id, name FROM api_keys WHERE name = 'Demo product' AND revoked_at IS NULL",
    )
    .fetch_optional(db.pool())
    .await?
    {
        Some((id, name)) => Actor::ApiKey { id, name },
        None => {
            let k = api_keys::create(
                db,
                &Actor::System,
                &meta,
                "Demo product",
                &["tickets:write".into()],
                now_ms,
            )
            .await
            .map_err(|e| match e {
                api_keys::KeyError::Db(e) => SeedError::Db(e),
                other => SeedError::Event("api key".into(), other.to_string()),
            })?;
            Actor::ApiKey {
                id: k.view.id,
                name: k.view.name,
            }
        }
    };
    // The seed runs as the operator's own process.
    let agent = crate::server::services::staff::admin::list(db, &Actor::System)
        .await?
        .into_iter()
        .find(|s| s.active && s.role == Role::Support);
    for (n, (user, email, state)) in customers.iter().enumerate() {
        let dunning = crate::domain::AccountState::parse(state).is_some_and(|s| s.is_dunning());
        if !(dunning || rng.gen_bool(0.12)) {
            continue;
        }
        let (subject, message) = if dunning || rng.gen_bool(0.3) {
            BILLING[rng.gen_range(0..BILLING.len())]
        } else {
            GENERAL[rng.gen_range(0..GENERAL.len())]
        };
        // The product only sends addresses it could deliver to (not the planted "@localhost").
        let email = email
            .as_deref()
            .filter(|e| crate::domain::Email::parse(e).is_ok());
        let body = serde_json::json!({
            "user_id": user, "email": email, "subject": subject, "message": message,
            "context": { "page": "/settings/billing", "app_version": "4.2.0",
                         "errors": if dunning { serde_json::json!([{ "message": "PaymentRequired: card_declined", "code": "E402" }]) } else { serde_json::json!([]) } }
        });
        let request = TicketRequest::parse(body.to_string().as_bytes())
            .map_err(|e| SeedError::Event(format!("ticket {n}"), format!("{:?}", e.0)))?;
        let created = tickets::create(
            db,
            config,
            &key,
            &meta,
            &request,
            Some(&format!("demo-{seed}-{n}")),
            now_ms,
        )
        .await
        .map_err(|e| match e {
            tickets::IntakeError::Db(e) => SeedError::Db(e),
            other => SeedError::Event(format!("ticket {n}"), other.to_string()),
        })?;
        report.tickets += usize::from(!created.replayed);
        if let (Some(agent), false, true) = (&agent, created.replayed, rng.gen_bool(0.5)) {
            let reply =
                "Thanks for writing in — I'm looking into this now and will get back to you today.";
            tickets::inbox::add(
                db,
                &agent.actor(),
                &meta,
                &created.receipt.id,
                false,
                reply,
                now_ms,
            )
            .await
            .map_err(|e| SeedError::Event("reply".into(), e.to_string()))?;
            report.replies += 1;
        }
    }
    Ok(())
}
