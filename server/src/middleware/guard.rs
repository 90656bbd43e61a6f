//! The one permission guard, the outer wall. Runs for every matched route (REST, server
//! function, page), looks up what the route requires in `access_map::ROUTES`, and lets the
//! request through, sends it to sign in, or refuses it with an audit entry. Every server
//! function and REST handler behind it checks the same role table again on its own, and paths
//! no route matched never render a page (`routes::fallback`).

use app::domain::Access;
use app::server::{
    actor::Actor,
    auth::{request_actor, AuthSession},
    error::json_error,
    http::{access_map, request_meta},
    services::audit,
    AppState,
};
use axum::{
    extract::{MatchedPath, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let is_api = path.starts_with("/api/");
    let Some(access) = access_map::access_for(&path) else {
        tracing::error!(%path, "route has no declared permission; refusing it");
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    if access == Access::Public {
        return next.run(req).await;
    }
    let Some(mut auth) = req.extensions().get::<AuthSession>().cloned() else {
        tracing::error!("auth session layer missing");
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    let actor = request_actor(&mut auth, state.config.sessions.absolute_timeout).await;
    if access.allows(actor.role()) {
        return next.run(req).await;
    }
    if actor == Actor::Anonymous {
        return if is_api {
            json_error(StatusCode::UNAUTHORIZED, "authentication required")
        } else {
            let target = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let next = app::api::safe_next(Some(target));
            Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response()
        };
    }
    let (parts, _) = req.into_parts();
    let meta = request_meta::from_parts(&parts);
    let needed = match access {
        Access::Requires(p) => p.as_str(),
        _ => "signed-in",
    };
    audit::permission_denied(
        &state.db,
        &actor,
        &meta,
        &path,
        parts.method.as_str(),
        parts.uri.path(),
        needed,
    )
    .await;
    if is_api {
        json_error(StatusCode::FORBIDDEN, "forbidden")
    } else {
        crate::routes::plain_page::forbidden()
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
