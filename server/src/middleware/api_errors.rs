use app::server::error::json_error;
use axum::{
    extract::Request,
    http::{header, StatusCode},
    middleware::Next,
    response::Response,
};

/// Errors made by generic layers (body limit → 413, timeout → 408, a bad method → 405) come as
/// plain text. API clients are promised `{error, request_id}`, so under /api/ such responses
/// are rewritten; pages keep theirs, and so do server functions, whose client decodes
/// Leptos' own error encoding.
pub async fn json_errors_for_api(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_api = path.starts_with("/api/") && !path.starts_with(app::api::SERVER_FN_PREFIX);
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload too large",
        StatusCode::REQUEST_TIMEOUT => "request timed out",
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed",
        StatusCode::NOT_FOUND => "not found",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported media type",
        s if s.is_server_error() => "internal error",
        _ => "bad request",
    };
    let mut out = json_error(status, message);
    // Keep headers such as Retry-After or Allow that tell the client what to do next.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
