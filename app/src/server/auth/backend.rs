//! axum-login backend: loads the signed-in staff member on every request.

use crate::server::db::Db;
use crate::server::services::staff::{self, Staff};
use axum_login::{AuthUser, AuthnBackend, UserId};
use sha2::{Digest, Sha256};

/// The signed-in staff member as the session layer sees them.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub staff: Staff,
    /// Bound into the session at login. It covers the password hash and the session epoch, so
    /// a password change, a forced reset or a deactivation (which bump the epoch) ends every
    /// existing session at its next request.
    auth_hash: Vec<u8>,
}

impl From<Staff> for SessionUser {
    fn from(staff: Staff) -> Self {
        let mut h = Sha256::new();
        h.update(staff.password_hash.as_deref().unwrap_or("").as_bytes());
        h.update(b"\n");
        h.update(staff.session_epoch.to_string().as_bytes());
        SessionUser {
            auth_hash: h.finalize().to_vec(),
            staff,
        }
    }
}

impl AuthUser for SessionUser {
    type Id = String;
    fn id(&self) -> String {
        self.staff.id.clone()
    }
    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

#[derive(Debug, Clone)]
pub struct StaffBackend {
    db: Db,
}

impl StaffBackend {
    pub fn new(db: Db) -> Self {
        StaffBackend { db }
    }
}

impl AuthnBackend for StaffBackend {
    type User = SessionUser;
    /// Sign-in goes through `services::auth::login::attempt` (throttling, audit); the session
    /// layer only needs `get_user`.
    type Credentials = std::convert::Infallible;
    type Error = sqlx::Error;

    async fn authenticate(
        &self,
        creds: Self::Credentials,
    ) -> Result<Option<SessionUser>, sqlx::Error> {
        match creds {}
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<SessionUser>, sqlx::Error> {
        Ok(staff::get(&self.db, id)
            .await?
            .filter(|s| s.active)
            .map(SessionUser::from))
    }
}

pub type AuthSession = axum_login::AuthSession<StaffBackend>;

/// Session key holding the sign-in time, for the absolute timeout.
pub const LOGIN_AT_KEY: &str = "ll.login_at";

/// Starts a session for `staff`: rotates the session id (no fixation) and records the sign-in
/// time for the absolute timeout. Used by sign-in, invite/reset links and password changes.
pub async fn start_session(auth: &mut AuthSession, staff: Staff) -> Result<(), String> {
    auth.login(&SessionUser::from(staff))
        .await
        .map_err(|e| e.to_string())?;
    auth.session
        .insert(LOGIN_AT_KEY, chrono::Utc::now().timestamp_millis())
        .await
        .map_err(|e| e.to_string())
}
