use super::{password, throttle};
use crate::domain::{Email, Outcome};
use crate::server::actor::{Actor, RequestMeta};
use crate::server::db::Db;
use crate::server::services::{audit, staff};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The same message for an unknown email, a wrong password and a deactivated account.
    #[error("Wrong email or password.")]
    BadCredentials,
    #[error("Too many attempts. Try again in {} seconds.", (.0 + 999) / 1000)]
    Throttled(i64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Checks a sign-in attempt. Every attempt is audited; failures feed the throttle. The caller
/// starts the session with the returned staff member.
pub async fn attempt(
    db: &Db,
    meta: &RequestMeta,
    email_raw: &str,
    password: &str,
    now: i64,
) -> Result<staff::Staff, LoginError> {
    // An unparseable email still costs a hash check and counts against its key, so it behaves
    // exactly like an unknown account.
    let email = Email::parse(email_raw).ok();
    let shown = email.as_ref().map(|e| e.to_string()).unwrap_or_else(|| {
        email_raw
            .trim()
            .chars()
            .take(100)
            .collect::<String>()
            .to_lowercase()
    });
    let account_key = format!("account:{shown}");
    let ip_key = format!("ip:{}", meta.ip.as_deref().unwrap_or("unknown"));

    let wait = {
        let a = throttle::load(db, &account_key).await?;
        let i = throttle::load(db, &ip_key).await?;
        let wa = a.map(|s| throttle::ACCOUNT.wait_ms(&s, now)).unwrap_or(0);
        let wi = i.map(|s| throttle::IP.wait_ms(&s, now)).unwrap_or(0);
        wa.max(wi)
    };
    if wait > 0 {
        audit::append_now(
            db,
            audit::NewEntry::new(&Actor::Anonymous, meta, "auth.login", Outcome::Denied)
                .details(serde_json::json!({ "email": shown, "reason": "throttled" })),
        )
        .await?;
        return Err(LoginError::Throttled(wait));
    }

    let found = match &email {
        Some(e) => staff::find_by_email(db, e).await?,
        None => None,
    };
    let usable = found.filter(|s| s.active);
    let stored = usable.as_ref().and_then(|s| s.password_hash.clone());
    let ok = password::verify(password.to_string(), stored).await;

    let mut tx = db.begin().await?;
    match (ok, usable) {
        (true, Some(staff)) => {
            throttle::reset(&mut tx, &account_key).await?;
            audit::append(
                &mut tx,
                audit::NewEntry::new(&staff.actor(), meta, "auth.login", Outcome::Ok)
                    .target("staff", &staff.id),
                now,
            )
            .await?;
            tx.commit().await?;
            Ok(staff)
        }
        _ => {
            let account_locked =
                throttle::record_failure(&mut tx, &throttle::ACCOUNT, &account_key, now).await?;
            let ip_locked = throttle::record_failure(&mut tx, &throttle::IP, &ip_key, now).await?;
            audit::append(
                &mut tx,
                audit::NewEntry::new(&Actor::Anonymous, meta, "auth.login", Outcome::Failed)
                    .details(serde_json::json!({ "email": shown, "reason": "bad_credentials" })),
                now,
            )
            .await?;
            for (locked, what) in [(account_locked, "account"), (ip_locked, "ip")] {
                if locked {
                    audit::append(
                        &mut tx,
                        audit::NewEntry::new(
                            &Actor::Anonymous,
                            meta,
                            "auth.lockout",
                            Outcome::Denied,
                        )
                        .details(serde_json::json!({ "email": shown, "scope": what })),
                        now,
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Err(LoginError::BadCredentials)
        }
    }
}
