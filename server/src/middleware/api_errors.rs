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
    let is_fn = path.starts_with(app::api::SERVER_FN_PREFIX);
    let is_api = path.starts_with("/api/") && !is_fn;
    let res = next.run(req).await;
    let status = res.status();
    if is_fn && status == StatusCode::INTERNAL_SERVER_ERROR {
        return bad_arguments_are_a_400(res).await;
    }
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
    keep_headers(&res, &mut out);
    out
}

/// Leptos answers arguments that do not decode (a missing field, a wrong type) with a 500 whose
/// body is serde's message. That is the caller's mistake, and serde's words are our internals:
/// a 400 in Leptos' own error encoding, which the browser bundle still reads, says so plainly.
async fn bad_arguments_are_a_400(res: Response) -> Response {
    const DECODING: [&str; 3] = ["Args|", "MissingArg|", "Deserialization|"];
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    if !DECODING.iter().any(|p| bytes.starts_with(p.as_bytes())) {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    tracing::info!(detail = %String::from_utf8_lossy(&bytes), "server function arguments did not decode");
    let mut out = Response::from_parts(
        parts,
        axum::body::Body::from("Args|The request's fields are missing or malformed."),
    );
    *out.status_mut() = StatusCode::BAD_REQUEST;
    out.headers_mut().remove(header::CONTENT_LENGTH);
    out
}

fn keep_headers(res: &Response, out: &mut Response) {
    // Keep headers such as Retry-After or Allow that tell the client what to do next.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
}
