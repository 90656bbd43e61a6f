use super::{password, throttle};
use crate::domain::{Email, Outcome};
use crate::server::actor::RequestMeta;
use crate::server::db::Db;
use crate::server::services::{audit, refusals::Refusals, staff};
use std::net::{IpAddr, Ipv4Addr};

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

impl LoginError {
    pub fn status(&self) -> http::StatusCode {
        match self {
            LoginError::BadCredentials => http::StatusCode::UNAUTHORIZED,
            LoginError::Throttled(_) => http::StatusCode::TOO_MANY_REQUESTS,
            LoginError::Db(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whole seconds for Retry-After, when the caller should wait.
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            LoginError::Throttled(ms) => Some((ms + 999) / 1000),
            _ => None,
        }
    }
}

/// The action refused sign-ins are counted under (`refusals::Tally`).
pub const REFUSED: &str = "auth.login";

/// The address a request came from, as the throttle keys it. A request with none (an
/// in-process call) shares one key, which is the safe side.
pub fn client_addr(meta: &RequestMeta) -> IpAddr {
    meta.ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Checks a sign-in attempt and returns the staff member to start the session with.
///
/// In order: the address's in-memory budget (no write at all when it is spent), then the
/// database throttle claims the attempt on its three keys before the password is checked, then
/// the password. A success is audited as its own entry; refusals and wrong passwords are
/// counted per address and minute (`refusals::Tally`), so guessing cannot grow the audit log
/// by a row a guess.
pub async fn attempt(
    db: &Db,
    refusals: &Refusals,
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
    let addr = client_addr(meta);
    let source = addr.to_string();
    let refuse = |reason: &str, err: LoginError| {
        refusals
            .tally
            .note(REFUSED, &source, reason, Some(&shown), now);
        err
    };
    if let Err(wait) = refusals.sign_in.attempt(addr, now) {
        return Err(refuse(
            "rate_limited",
            LoginError::Throttled(wait.0.as_millis() as i64),
        ));
    }

    let address_key = format!("ip:{source}");
    let here_key = format!("account:{shown}|ip:{source}");
    let account_key = format!("account:{shown}");
    let mut tx = db.begin().await?;
    let address = throttle::claim(&mut tx, &throttle::ADDRESS, &address_key, now).await?;
    let here = throttle::claim(&mut tx, &throttle::ACCOUNT_AT_ADDRESS, &here_key, now).await?;
    let mut wait = address.wait_ms.max(here.wait_ms);
    if wait == 0 {
        wait = throttle::claim(&mut tx, &throttle::ACCOUNT, &account_key, now)
            .await?
            .wait_ms;
    }
    tx.commit().await?;
    for (locked, what) in [
        (address.locked, "locked_address"),
        (here.locked, "locked_account_here"),
    ] {
        if locked {
            refusals.tally.flag(REFUSED, &source, what, now);
        }
    }
    if wait > 0 {
        return Err(refuse("throttled", LoginError::Throttled(wait)));
    }

    let found = match &email {
        Some(e) => staff::find_by_email(db, e).await?,
        None => None,
    };
    let usable = found.filter(|s| s.active);
    let stored = usable.as_ref().and_then(|s| s.password_hash.clone());
    let ok = password::verify(password.to_string(), stored).await;

    match (ok, usable) {
        (true, Some(staff)) => {
            refusals.sign_in.refund(addr, now);
            let mut tx = db.begin().await?;
            throttle::reset(&mut tx, &here_key).await?;
            throttle::give_back(&mut tx, &address_key).await?;
            throttle::give_back(&mut tx, &account_key).await?;
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
        _ => Err(refuse("bad_credentials", LoginError::BadCredentials)),
    }
}
