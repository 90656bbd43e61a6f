//! What every server function starts with: who is calling, checked against the one role table
//! before anything is read. The route guard checks the same table at the edge; this is the
//! inner wall, so a call made in-process while a page renders on the server (where no guard
//! runs) is refused exactly like an HTTP call.

use crate::domain::{Access, Permission};
use crate::server::{
    actor::{Actor, RequestMeta},
    auth::{request_actor, AuthSession},
    http::request_meta,
    services::audit,
    AppState,
};
use leptos::prelude::*;

pub struct Ctx {
    pub state: AppState,
    pub meta: RequestMeta,
    pub actor: Actor,
    pub auth: AuthSession,
    /// The browser's known-device token (`services::auth::devices`), if it sent one.
    pub device: Option<String>,
}

impl Ctx {
    /// Whether the caller holds `p` (to offer an action; the action checks again).
    pub fn can(&self, p: Permission) -> bool {
        self.actor.require(p).is_ok()
    }
}

/// The caller, who must hold `permission`.
pub async fn require(permission: Permission) -> Result<Ctx, ServerFnError> {
    authorize(Access::Requires(permission)).await
}

/// Any signed-in staff member.
pub async fn signed_in() -> Result<Ctx, ServerFnError> {
    authorize(Access::SignedIn).await
}

/// Anyone (sign-in, an invite link): the caller is still resolved, for the audit entry.
pub async fn public() -> Result<Ctx, ServerFnError> {
    authorize(Access::Public).await
}

async fn authorize(access: Access) -> Result<Ctx, ServerFnError> {
    let state = crate::api::server_context::<AppState>()?;
    let parts = crate::api::server_context::<http::request::Parts>()?;
    let mut auth: AuthSession = leptos_axum::extract().await.map_err(|e| {
        tracing::error!(error = %e, "no auth session for a server function");
        ServerFnError::new("Something went wrong. Try again in a moment.")
    })?;
    let actor = request_actor(&mut auth, state.config.sessions.absolute_timeout).await;
    let meta = request_meta::from_parts(&parts);
    let checked = match access {
        Access::Public => Ok(()),
        Access::SignedIn => actor.require_staff(),
        Access::Requires(p) => actor.require(p),
    };
    if let Err(denied) = checked {
        if let Actor::Staff { .. } = actor {
            let path = parts.uri.path();
            let method = parts.method.as_str();
            audit::permission_denied(
                &state.db,
                &actor,
                &meta,
                path,
                method,
                path,
                denied.required(),
            )
            .await;
        }
        return Err(fail(denied));
    }
    Ok(Ctx {
        device: crate::server::services::auth::devices::from_cookie_header(&parts.headers),
        state,
        meta,
        actor,
        auth,
    })
}

/// Marks this browser as a known device of the account that just signed in.
pub fn set_device_cookie(state: &AppState, token: &str) {
    use crate::server::services::auth::devices;
    if let (Some(res), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&devices::cookie(token, state.config.server.serves_https())),
    ) {
        res.append_header(http::header::SET_COOKIE, value);
    }
}

/// A refusal that says when to come back (429/503 with Retry-After).
pub fn refuse_for(
    status: http::StatusCode,
    message: String,
    retry_after_secs: Option<i64>,
) -> ServerFnError {
    if let (Some(secs), Some(res)) = (
        retry_after_secs,
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        res.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    refuse(status, message)
}

/// The one way a service error becomes a server function's answer: the status and sentence
/// the error names itself (`ServiceError`), Retry-After when it says when to come back;
/// internal trouble goes to the log and the user reads a calm sentence.
pub fn fail<E: crate::server::error::ServiceError>(e: E) -> ServerFnError {
    match e.user_message() {
        Some(message) => refuse_for(e.status(), message, e.retry_after_secs()),
        None => internal("server function", e),
    }
}

/// An error the user can act on, with the HTTP status that says why (422 bad input, 404 gone,
/// 409 wrong state).
pub fn refuse(status: http::StatusCode, message: impl Into<String>) -> ServerFnError {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(status);
    }
    ServerFnError::new(message.into())
}

/// A clear 422 for input the user can fix.
pub fn bad_input(message: String) -> ServerFnError {
    refuse(http::StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// Internal trouble: the cause goes to the log, the user gets a calm sentence.
pub fn internal(what: &str, e: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(error = %e, "{what} failed");
    ServerFnError::new("Something went wrong. Try again in a moment.")
}
