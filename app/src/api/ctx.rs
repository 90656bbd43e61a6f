//! What every server function that acts needs: the app state, who is calling and from where.
//! The guard has already admitted the request; this only collects the facts.

use crate::server::{
    actor::{Actor, RequestMeta},
    auth::AuthSession,
    http::request_meta,
    AppState,
};
use leptos::prelude::*;

pub struct Ctx {
    pub state: AppState,
    pub meta: RequestMeta,
    pub actor: Actor,
    pub auth: AuthSession,
}

pub async fn ctx() -> Result<Ctx, ServerFnError> {
    let state = crate::api::server_context::<AppState>()?;
    let parts = crate::api::server_context::<http::request::Parts>()?;
    let auth: AuthSession = leptos_axum::extract().await?;
    let actor = auth
        .user
        .as_ref()
        .map(|u| u.staff.actor())
        .unwrap_or(Actor::Anonymous);
    Ok(Ctx {
        state,
        meta: request_meta::from_parts(&parts),
        actor,
        auth,
    })
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
