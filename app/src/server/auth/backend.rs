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

/// A session could not be started or ended. The cause is logged here, under the request's id;
/// callers show only this type's sentence.
#[derive(Debug, thiserror::Error)]
#[error("Something went wrong. Try again in a moment.")]
pub struct SessionError;

/// Starts a session for `staff`: rotates the session id (no fixation) and records the sign-in
/// time for the absolute timeout. Used by sign-in, invite/reset links and password changes.
pub async fn start_session(auth: &mut AuthSession, staff: Staff) -> Result<(), SessionError> {
    let logged = |e: &dyn std::fmt::Display| tracing::error!(error = %e, "session start failed");
    // A new id every time. axum-login cycles it only when the session held no one, so signing
    // in over a live session (a cookie someone planted in this browser, or one's own session
    // restarted after a password change) would keep an id another person may hold a copy of.
    auth.session
        .cycle_id()
        .await
        .map_err(|e| logged(&e))
        .map_err(|_| SessionError)?;
    auth.login(&SessionUser::from(staff))
        .await
        .map_err(|e| logged(&e))
        .map_err(|_| SessionError)?;
    auth.session
        .insert(LOGIN_AT_KEY, chrono::Utc::now().timestamp_millis())
        .await
        .map_err(|e| logged(&e))
        .map_err(|_| SessionError)
}

/// Ends the session; returns who was signed in.
pub async fn end_session(auth: &mut AuthSession) -> Result<Option<Staff>, SessionError> {
    match auth.logout().await {
        Ok(user) => Ok(user.map(|u| u.staff)),
        Err(e) => {
            tracing::error!(error = %e, "session end failed");
            Err(SessionError)
        }
    }
}

/// Who this request acts as: the signed-in staff member, or `Anonymous`. A session older than
/// the absolute timeout is ended here, however recently it was used. The route guard and every
/// server function resolve the caller through this one function.
pub async fn request_actor(
    auth: &mut AuthSession,
    absolute_timeout: std::time::Duration,
) -> crate::server::actor::Actor {
    let Some(user) = auth.user.as_ref() else {
        return crate::server::actor::Actor::Anonymous;
    };
    let actor = user.staff.actor();
    let login_at: Option<i64> = auth.session.get(LOGIN_AT_KEY).await.ok().flatten();
    let max = absolute_timeout.as_millis() as i64;
    let too_old = match login_at {
        Some(at) => chrono::Utc::now().timestamp_millis() - at > max,
        None => true,
    };
    if too_old {
        let _ = auth.logout().await;
        auth.user = None;
        return crate::server::actor::Actor::Anonymous;
    }
    actor
}
