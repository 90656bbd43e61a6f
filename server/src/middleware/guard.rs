//! The one permission guard. Runs for every matched route (REST, server function, page),
//! looks up what the route requires in `access_map::ROUTES`, and lets the request through,
//! sends it to sign in, or refuses it with an audit entry.

use app::domain::{Access, Outcome};
use app::server::{
    auth::{AuthSession, LOGIN_AT_KEY},
    error::json_error,
    http::{access_map, request_meta},
    services::audit,
    AppState,
};
use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, StatusCode},
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
    if auth.user.is_some() && session_too_old(&auth, &state).await {
        let _ = auth.logout().await;
        auth.user = None;
    }
    let role = auth.user.as_ref().map(|u| u.staff.role);
    if access.allows(role) {
        return next.run(req).await;
    }
    let Some(user) = auth.user else {
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
    };
    let (parts, _) = req.into_parts();
    let meta = request_meta::from_parts(&parts);
    let needed = match access {
        Access::Requires(p) => p.as_str(),
        _ => "signed-in",
    };
    let actor = user.staff.actor();
    let entry = audit::NewEntry::new(&actor, &meta, "permission.denied", Outcome::Denied)
        .target("route", &path)
        .details(serde_json::json!({ "method": parts.method.as_str(), "path": parts.uri.path(), "required": needed }));
    if let Err(e) = audit::append_now(&state.db, entry).await {
        tracing::error!(error = %e, "could not audit a permission denial");
    }
    if is_api {
        json_error(StatusCode::FORBIDDEN, "forbidden")
    } else {
        forbidden_page()
    }
}

/// Sessions older than the absolute timeout end even if they were used a minute ago.
async fn session_too_old(auth: &AuthSession, state: &AppState) -> bool {
    let login_at: Option<i64> = auth.session.get(LOGIN_AT_KEY).await.ok().flatten();
    let max = state.config.session_absolute_timeout.as_millis() as i64;
    match login_at {
        Some(at) => chrono::Utc::now().timestamp_millis() - at > max,
        None => true,
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

fn forbidden_page() -> Response {
    let html = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Not allowed · Ledgerline</title><link rel="stylesheet" href="/pkg/ledgerline.css"></head><body><main class="content"><section class="empty-state not-found"><p class="eyebrow">403</p><h1>You do not have access to this page</h1><p>Your role does not include this. Ask an admin if you need it.</p><a class="button" href="/">Back to the overview</a></section></main></body></html>"#;
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}
