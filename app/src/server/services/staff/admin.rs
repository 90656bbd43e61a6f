//! What admins do to staff accounts, and the one-time links that let people set a password.
//! Tokens are 256 random bits, shown once, stored only as SHA-256, valid for 72 hours.

use super::{get, Staff, StaffError, COLUMNS};
use crate::domain::{Email, Outcome, Permission, Role};
use crate::server::actor::{Actor, ReadError, RequestMeta};
use crate::server::db::{Db, Tx};
use crate::server::services::{audit, auth::password, refusals::Refusals};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const LINK_LIFETIME_MS: i64 = 72 * 3_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    Invite,
    Reset,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Invite => "invite",
            TokenPurpose::Reset => "reset",
        }
    }
}

/// A freshly issued link token: give it to the person once; only its hash is kept.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at_ms: i64,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn issue_token(
    tx: &mut Tx,
    staff_id: &str,
    purpose: TokenPurpose,
    created_by: Option<&str>,
    now: i64,
) -> Result<IssuedToken, sqlx::Error> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let expires_at_ms = now + LINK_LIFETIME_MS;
    // A new link replaces every unused one, of either kind: a reset forced because an invite
    // leaked must leave that invite worthless.
    revoke_links(tx, staff_id, now).await?;
    sqlx::query(
        "INSERT INTO staff_tokens (token_hash, staff_id, purpose, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(staff_id)
    .bind(purpose.as_str())
    .bind(created_by)
    .bind(now)
    .bind(expires_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(IssuedToken {
        token,
        expires_at_ms,
    })
}

/// Marks every unused invite or reset link of `staff_id` as used.
async fn revoke_links(tx: &mut Tx, staff_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff_tokens SET used_at = $1 WHERE staff_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<Staff>, ReadError> {
    actor.require(Permission::StaffManage)?;
    Ok(list_rows(db).await?)
}

async fn list_rows(db: &Db) -> Result<Vec<Staff>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM staff ORDER BY email"))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(super::from_row).collect()
}

/// Creates the account without a password and issues an invite link.
pub async fn invite(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    email: &Email,
    name: &str,
    role: Role,
) -> Result<(Staff, IssuedToken), StaffError> {
    actor.require(Permission::StaffManage)?;
    let name = super::check_name(name)?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = db.begin().await?;
    let id = super::insert(&mut tx, email, &name, role, None, now).await?;
    let token = issue_token(&mut tx, &id, TokenPurpose::Invite, actor.id(), now).await?;
    audit::append(
        &mut tx,
        audit::NewEntry::new(actor, meta, "staff.invited", Outcome::Ok)
            .target("staff", &id)
            .details(serde_json::json!({ "email": email.as_str(), "role": role.as_str(), "expires_at_ms": token.expires_at_ms })),
        now,
    )
    .await?;
    tx.commit().await?;
    let staff = get(db, &id).await?.ok_or(StaffError::NotFound)?;
    Ok((staff, token))
}

/// Refuses changes that would leave nobody able to administer Ledgerline.
async fn ensure_other_admin(tx: &mut Tx, id: &str) -> Result<(), StaffError> {
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM staff WHERE role = 'admin' AND active = 1 AND id <> $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    if others == 0 {
        return Err(StaffError::LastAdmin);
    }
    Ok(())
}

pub async fn change_role(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    role: Role,
) -> Result<Staff, StaffError> {
    actor.require(Permission::StaffManage)?;
    let before = get(db, id).await?.ok_or(StaffError::NotFound)?;
    if before.role == role {
        return Ok(before);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = db.begin().await?;
    if before.role == Role::Admin {
        ensure_other_admin(&mut tx, id).await?;
    }
    sqlx::query("UPDATE staff SET role = $1, updated_at = $2 WHERE id = $3")
        .bind(role.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        audit::NewEntry::new(actor, meta, "staff.role_changed", Outcome::Ok)
            .target("staff", id)
            .details(serde_json::json!({ "email": before.email, "before": { "role": before.role.as_str() }, "after": { "role": role.as_str() } })),
        now,
    )
    .await?;
    tx.commit().await?;
    get(db, id).await?.ok_or(StaffError::NotFound)
}

/// Deactivates or reactivates. Deactivation bumps the session epoch, which ends every session
/// the person has at its next request.
pub async fn set_active(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    active: bool,
) -> Result<Staff, StaffError> {
    actor.require(Permission::StaffManage)?;
    let before = get(db, id).await?.ok_or(StaffError::NotFound)?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = db.begin().await?;
    if !active && before.role == Role::Admin {
        ensure_other_admin(&mut tx, id).await?;
    }
    sqlx::query("UPDATE staff SET active = $1, session_epoch = session_epoch + $2, updated_at = $3 WHERE id = $4")
        .bind(active as i64)
        .bind((!active) as i64)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if !active {
        // Reactivation must not bring back a link or a device trusted before.
        revoke_links(&mut tx, id, now).await?;
        crate::server::services::auth::devices::forget_all(&mut tx, id).await?;
    }
    let action = if active {
        "staff.reactivated"
    } else {
        "staff.deactivated"
    };
    audit::append(
        &mut tx,
        audit::NewEntry::new(actor, meta, action, Outcome::Ok)
            .target("staff", id)
            .details(serde_json::json!({ "email": before.email, "before": { "active": before.active }, "after": { "active": active } })),
        now,
    )
    .await?;
    tx.commit().await?;
    get(db, id).await?.ok_or(StaffError::NotFound)
}

/// Clears the password (so it no longer works), ends every session and issues a reset link.
pub async fn force_password_reset(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
) -> Result<IssuedToken, StaffError> {
    actor.require(Permission::StaffManage)?;
    let before = get(db, id).await?.ok_or(StaffError::NotFound)?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE staff SET password_hash = NULL, must_reset_password = 1, session_epoch = session_epoch + 1, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let token = issue_token(&mut tx, id, TokenPurpose::Reset, actor.id(), now).await?;
    audit::append(
        &mut tx,
        audit::NewEntry::new(actor, meta, "staff.password_reset_forced", Outcome::Ok)
            .target("staff", id)
            .details(serde_json::json!({ "email": before.email })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Counted (`refusals::Tally`) when an invite or reset link is refused.
pub const LINK_REFUSED: &str = "staff.link_refused";
/// Counted when a password change is refused for a wrong current password or throttled.
pub const PASSWORD_CHANGE_REFUSED: &str = "staff.password_change_refused";

/// Sets a password from an invite or reset link. An unknown, used or expired token changes
/// nothing. Throttled like sign-in (the address's budget, before any write), and the token is
/// checked before the new password is hashed, so guessing tokens costs no argon2 work.
pub async fn redeem_link(
    db: &Db,
    refusals: &Refusals,
    meta: &RequestMeta,
    token: &str,
    new_password: &str,
) -> Result<Staff, StaffError> {
    let now = chrono::Utc::now().timestamp_millis();
    let addr = crate::server::services::auth::login::client_addr(meta);
    let source = crate::server::services::refusals::Source::address(addr).to_string();
    if let Err(wait) = refusals.password_attempt(addr, now) {
        refusals
            .tally
            .note(LINK_REFUSED, &source, "rate_limited", None, now);
        return Err(StaffError::Throttled(wait.secs()));
    }
    let pending: Option<String> = sqlx::query_scalar(
        "SELECT staff_id FROM staff_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash(token.trim()))
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    if pending.is_none() {
        refusals
            .tally
            .note(LINK_REFUSED, &source, "bad_link", None, now);
        return Err(StaffError::BadLink);
    }
    // The holder of a real link is not guessing: a weak password does not spend their budget.
    refusals.password_refund(addr, now);
    password::check_policy(new_password)?;
    let hash = password::hash(new_password.to_string()).await?;
    let mut tx = db.begin().await?;
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT staff_id, purpose FROM staff_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash(token.trim()))
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((staff_id, purpose)) = row else {
        return Err(StaffError::BadLink);
    };
    // Taken as a condition, so two redemptions racing for one link cannot both win.
    let taken = sqlx::query(
        "UPDATE staff_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(token_hash(token.trim()))
    .execute(&mut *tx)
    .await?;
    if taken.rows_affected() != 1 {
        return Err(StaffError::BadLink);
    }
    // Every other link of this person goes with it.
    revoke_links(&mut tx, &staff_id, now).await?;
    sqlx::query(
        "UPDATE staff SET password_hash = $1, must_reset_password = 0, session_epoch = session_epoch + 1, updated_at = $2 WHERE id = $3 AND active = 1",
    )
    .bind(&hash)
    .bind(now)
    .bind(&staff_id)
    .execute(&mut *tx)
    .await?;
    let staff = super::from_row(
        &sqlx::query(&format!("SELECT {COLUMNS} FROM staff WHERE id = $1"))
            .bind(&staff_id)
            .fetch_one(&mut *tx)
            .await?,
    )?;
    if !staff.active {
        return Err(StaffError::BadLink);
    }
    let action = if purpose == "invite" {
        "staff.invite_accepted"
    } else {
        "staff.password_reset"
    };
    audit::append(
        &mut tx,
        audit::NewEntry::new(&staff.actor(), meta, action, Outcome::Ok).target("staff", &staff_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(staff)
}

/// A signed-in person changes their own password; the current one is required, and checked
/// under the same budgets and throttle keys as sign-in (`login::check_password`), so a stolen
/// session cannot guess it at request speed. The new password's policy is checked first, so a
/// refusal never says whether the current one was right.
pub async fn change_own_password(
    db: &Db,
    refusals: &Refusals,
    meta: &RequestMeta,
    device: Option<&str>,
    id: &str,
    current: &str,
    new_password: &str,
) -> Result<Staff, StaffError> {
    use crate::server::services::auth::{devices, login};
    password::check_policy(new_password)?;
    let staff = get(db, id).await?.ok_or(StaffError::NotFound)?;
    let now = chrono::Utc::now().timestamp_millis();
    let known = match device {
        Some(token) => devices::is_known(db, token, id, now).await?,
        None => false,
    };
    let at = login::Attempt {
        meta,
        shown: &staff.email,
        device: device.filter(|_| known),
        refused_as: PASSWORD_CHANGE_REFUSED,
    };
    let checked =
        login::check_password(db, refusals, &at, current, staff.password_hash.clone(), now).await;
    let right = match checked {
        Ok(right) => right,
        Err(login::LoginError::BadCredentials) => false,
        Err(login::LoginError::Throttled(ms)) => {
            return Err(StaffError::Throttled((ms as u64).div_ceil(1000)))
        }
        Err(login::LoginError::Busy(_)) => return Err(StaffError::Throttled(2)),
        Err(login::LoginError::Db(e)) => return Err(e.into()),
    };
    if !right {
        let actor = staff.actor();
        audit::append_now(
            db,
            audit::NewEntry::new(&actor, meta, "staff.password_changed", Outcome::Failed)
                .target("staff", id)
                .details(serde_json::json!({ "reason": "current password did not match" })),
        )
        .await?;
        return Err(StaffError::WrongCurrentPassword);
    }
    let hash = password::hash(new_password.to_string()).await?;
    let mut tx = db.begin().await?;
    revoke_links(&mut tx, id, now).await?;
    sqlx::query("UPDATE staff SET password_hash = $1, session_epoch = session_epoch + 1, updated_at = $2 WHERE id = $3")
        .bind(&hash)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        audit::NewEntry::new(&staff.actor(), meta, "staff.password_changed", Outcome::Ok)
            .target("staff", id),
        now,
    )
    .await?;
    tx.commit().await?;
    get(db, id).await?.ok_or(StaffError::NotFound)
}
