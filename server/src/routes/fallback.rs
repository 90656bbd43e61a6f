use app::server::{error::json_error, AppState};
use app::ui::shell;
use axum::{
    extract::{Request, State},
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
};
use leptos::prelude::provide_context;

/// Anything no route matched: a JSON 404 under /api/, else a static file from the site root,
/// else the app's styled "Page not found".
pub async fn fallback(uri: Uri, State(state): State<AppState>, req: Request) -> Response {
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        return json_error(StatusCode::NOT_FOUND, "not found").into_response();
    }
    let context_state = state.clone();
    let handler = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        move || provide_context(context_state.clone()),
        shell,
    );
    handler(uri, State(state), req).await
}
