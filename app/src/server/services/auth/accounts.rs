//! Staff accounts as stored: lookup and creation (audited in the same transaction). Sign-in
//! reads them here; the changes an admin makes are in `services::staff`.

use super::password;
use crate::domain::{Email, Outcome, Role};
use crate::server::actor::{Actor, RequestMeta};
use crate::server::db::Db;
use crate::server::services::audit;
use sqlx::{any::AnyRow, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub must_reset_password: bool,
    pub session_epoch: i64,
    pub password_hash: Option<String>,
}

impl Staff {
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            id: self.id.clone(),
            email: self.email.clone(),
            role: self.role,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("A staff member with this email already exists.")]
    EmailTaken,
    #[error("{0}")]
    Password(#[from] password::PolicyError),
    #[error("Name must be 1 to 100 characters.")]
    BadName,
    #[error("No such staff member.")]
    NotFound,
    #[error("This link is invalid, already used or expired. Ask an admin for a new one.")]
    BadLink,
    #[error("Too many attempts from your address. Try again in {0} seconds.")]
    Throttled(u64),
    #[error("The current password is not right.")]
    WrongCurrentPassword,
    #[error("Ledgerline needs at least one active admin: make someone else admin first.")]
    LastAdmin,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

crate::service_error!(StaffError {
    denied: Denied,
    internal: [Db, Internal],
    Self::Throttled(_) => TOO_MANY_REQUESTS,
    _ => UNPROCESSABLE_ENTITY,
});

pub(crate) const COLUMNS: &str =
    "id, email, name, role, active, must_reset_password, session_epoch, password_hash";

pub(crate) fn from_row(r: &AnyRow) -> Result<Staff, sqlx::Error> {
    let role: String = r.try_get("role")?;
    Ok(Staff {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: role.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        active: r.try_get::<i64, _>("active")? == 1,
        must_reset_password: r.try_get::<i64, _>("must_reset_password")? == 1,
        session_epoch: r.try_get("session_epoch")?,
        password_hash: r.try_get("password_hash")?,
    })
}

pub async fn find_by_email(db: &Db, email: &Email) -> Result<Option<Staff>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM staff WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Staff>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM staff WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(crate) fn check_name(name: &str) -> Result<String, StaffError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StaffError::BadName);
    }
    Ok(name.to_string())
}

/// Inserts an active account; without a password it waits for an invite link
/// (`must_reset_password`). Returns the new id, or EmailTaken.
pub(crate) async fn insert(
    tx: &mut crate::server::db::Tx,
    email: &Email,
    name: &str,
    role: Role,
    password_hash: Option<&str>,
    now: i64,
) -> Result<String, StaffError> {
    let id = format!("stf_{}", uuid::Uuid::new_v4().simple());
    let inserted = sqlx::query(
        "INSERT INTO staff (id, email, name, role, password_hash, active, must_reset_password, session_epoch, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, 0, $7, $7) ON CONFLICT (email) DO NOTHING",
    )
    .bind(&id)
    .bind(email.as_str())
    .bind(name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(password_hash.is_none() as i64)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StaffError::EmailTaken);
    }
    Ok(id)
}

/// Creates an active staff member with a password (the first admin, from the CLI).
pub async fn create_with_password(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    email: &Email,
    name: &str,
    role: Role,
    password: &str,
) -> Result<Staff, StaffError> {
    let name = check_name(name)?;
    password::check_policy(password)?;
    let hash = password::hash(password.to_string()).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, email, &name, role, Some(&hash), now).await?;
    audit::append(
        &mut tx,
        audit::NewEntry::new(actor, meta, "staff.created", Outcome::Ok)
            .target("staff", &id)
            .details(serde_json::json!({ "email": email.as_str(), "role": role.as_str() })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Staff {
        id,
        email: email.to_string(),
        name,
        role,
        active: true,
        must_reset_password: false,
        session_epoch: 0,
        password_hash: Some(hash),
    })
}
