use super::accounts as staff;
use super::password::{self, Lane};
use super::{devices, throttle};
use crate::domain::{Email, Outcome};
use crate::server::actor::RequestMeta;
use crate::server::db::Db;
use crate::server::services::audit;
use crate::server::services::refusals::{Refusals, Source};
use std::net::{IpAddr, Ipv4Addr};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The same message for an unknown email, a wrong password and a deactivated account.
    #[error("Wrong email or password.")]
    BadCredentials,
    #[error("Too many attempts. Try again in {} seconds.", (.0 + 999) / 1000)]
    Throttled(i64),
    #[error(transparent)]
    Busy(#[from] password::Busy),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl crate::server::error::ServiceError for LoginError {
    fn status(&self) -> http::StatusCode {
        match self {
            LoginError::BadCredentials => http::StatusCode::UNAUTHORIZED,
            LoginError::Throttled(_) => http::StatusCode::TOO_MANY_REQUESTS,
            LoginError::Busy(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            LoginError::Db(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn user_message(&self) -> Option<String> {
        match self {
            LoginError::Db(_) => None,
            e => Some(e.to_string()),
        }
    }

    /// Whole seconds for Retry-After, when the caller should wait.
    fn retry_after_secs(&self) -> Option<i64> {
        match self {
            LoginError::Throttled(ms) => Some((ms + 999) / 1000),
            LoginError::Busy(_) => Some(2),
            _ => None,
        }
    }
}

/// The action refused sign-ins are counted under (`refusals::Tally`).
pub const REFUSED: &str = "auth.login";

/// The address a request came from. A request with none (an in-process call) shares one key,
/// which is the safe side.
pub fn client_addr(meta: &RequestMeta) -> IpAddr {
    meta.ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Where a password attempt comes from, as the throttle sees it.
pub struct Attempt<'a> {
    pub meta: &'a RequestMeta,
    /// The email as typed (normalised when it parses), for keys and the audit counts.
    pub shown: &'a str,
    /// The request's known-device token, when it is one of this account's browsers.
    pub device: Option<&'a str>,
    /// The action a refusal is counted under.
    pub refused_as: &'static str,
}

/// Checks `password` against `stored` under every budget and throttle key that applies, with
/// the attempt claimed before the password is checked. Used by sign-in and by password
/// changes, so neither is a way around the other's limits.
///
/// In order: a stranger's address (and its network) must have budget left, in memory, before
/// any write; then the attempt is claimed on its keys in the database (the address, the account
/// here or at this known device, and, for a browser the account has not used, the account from
/// anywhere); then argon2, strangers only while few are queued. Refusals and wrong passwords
/// are counted for the audit log per address and minute.
pub async fn check_password(
    db: &Db,
    refusals: &Refusals,
    at: &Attempt<'_>,
    password: &str,
    stored: Option<String>,
    now: i64,
) -> Result<bool, LoginError> {
    let addr = client_addr(at.meta);
    let source = Source::address(addr).to_string();
    let refuse = |reason: &str, err: LoginError| {
        refusals
            .tally
            .note(at.refused_as, &source, reason, Some(at.shown), now);
        err
    };
    let keys = match at.device {
        // The account's own browser: one key of its own, which no one else can spend.
        Some(device) => vec![throttle::Key::new(
            throttle::ACCOUNT_HERE,
            format!("account:{}|device:{}", at.shown, &device[..16]),
        )],
        None => {
            if let Err(wait) = refusals.password_attempt(addr, now) {
                return Err(refuse(
                    "rate_limited",
                    LoginError::Throttled(wait.0.as_millis() as i64),
                ));
            }
            vec![
                throttle::Key::new(throttle::ADDRESS, format!("ip:{source}")),
                throttle::Key::new(
                    throttle::ACCOUNT_HERE,
                    format!("account:{}|ip:{source}", at.shown),
                ),
                throttle::Key::new(throttle::ACCOUNT, format!("account:{}", at.shown)),
            ]
        }
    };
    let mut tx = db.begin().await?;
    let claim = throttle::claim(&mut tx, &keys, now).await?;
    tx.commit().await?;
    for key in &claim.locked {
        let what = if key.starts_with("ip:") {
            "locked_address"
        } else {
            "locked_account_here"
        };
        refusals.tally.flag(at.refused_as, &source, what, now);
    }
    if claim.wait_ms > 0 {
        return Err(refuse("throttled", LoginError::Throttled(claim.wait_ms)));
    }
    let lane = if at.device.is_some() {
        Lane::Known
    } else {
        Lane::Stranger
    };
    let ok = match password::verify_in(lane, password.to_string(), stored).await {
        Ok(ok) => ok,
        Err(busy) => return Err(refuse("busy", LoginError::Busy(busy))),
    };
    if !ok {
        return Err(refuse("bad_credentials", LoginError::BadCredentials));
    }
    if at.device.is_none() {
        refusals.password_refund(addr, now);
    }
    let mut tx = db.begin().await?;
    throttle::give_back(&mut tx, &keys, &claim).await?;
    tx.commit().await?;
    Ok(true)
}

/// A successful sign-in: who, and the known-device token to set on the browser.
#[derive(Debug)]
pub struct SignedIn {
    pub staff: staff::Staff,
    pub device_token: String,
}

/// Checks a sign-in attempt (see `check_password`) and returns the staff member to start the
/// session with. A success is audited as its own entry and makes this browser a known device.
pub async fn attempt(
    db: &Db,
    refusals: &Refusals,
    meta: &RequestMeta,
    email_raw: &str,
    password: &str,
    device: Option<&str>,
    now: i64,
) -> Result<SignedIn, LoginError> {
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
    let found = match &email {
        Some(e) => staff::find_by_email(db, e).await?,
        None => None,
    };
    let usable = found.filter(|s| s.active);
    let known = match (&usable, device) {
        (Some(s), Some(token)) => devices::is_known(db, token, &s.id, now).await?,
        _ => false,
    };
    let stored = usable.as_ref().and_then(|s| s.password_hash.clone());
    let at = Attempt {
        meta,
        shown: &shown,
        device: device.filter(|_| known),
        refused_as: REFUSED,
    };
    check_password(db, refusals, &at, password, stored, now).await?;
    let Some(staff) = usable else {
        // A right password for no usable account cannot happen (no hash to match); refuse
        // exactly as a wrong one.
        return Err(LoginError::BadCredentials);
    };
    let mut tx = db.begin().await?;
    throttle::reset(
        &mut tx,
        &format!("account:{shown}|ip:{}", Source::address(client_addr(meta))),
    )
    .await?;
    audit::append(
        &mut tx,
        audit::NewEntry::new(&staff.actor(), meta, "auth.login", Outcome::Ok)
            .target("staff", &staff.id),
        now,
    )
    .await?;
    tx.commit().await?;
    let device_token = devices::signed_in(db, &staff.id, device.filter(|_| known), now).await?;
    Ok(SignedIn {
        staff,
        device_token,
    })
}
