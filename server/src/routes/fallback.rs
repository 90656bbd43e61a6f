//! Everything no route matched. The permission guard only runs for matched routes, so nothing
//! here may render a page: it serves a built asset, redirects another spelling of a page's path
//! to the canonical one (which then passes the guard), or answers a 404 that shows nothing.

use super::plain_page;
use app::server::{
    error::json_error,
    http::{access_map, path},
    AppState,
};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, Method, StatusCode},
    response::{IntoResponse, Response},
};
use tower::ServiceExt;
use tower_http::services::ServeDir;

pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let uri = req.uri().clone();
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return json_error(StatusCode::NOT_FOUND, "not found");
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return plain_page::not_found();
    }
    let assets =
        ServeDir::new(&*state.leptos_options.site_root).append_index_html_on_directories(false);
    match assets.oneshot(req).await {
        Ok(res) if res.status() != StatusCode::NOT_FOUND => return res.map(Body::new),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "static file lookup failed"),
    }
    match path::canonical(uri.path(), access_map::pages()) {
        // The same spelling would have matched its route; answer 404 rather than loop.
        Some(canonical) if canonical != uri.path() => {
            let target = match uri.query() {
                Some(q) => format!("{canonical}?{q}"),
                None => canonical,
            };
            (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, target)]).into_response()
        }
        _ => plain_page::not_found(),
    }
}
