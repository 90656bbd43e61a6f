//! Cross-site request forgery: on top of SameSite=Lax cookies, every state-changing request
//! must come from our own origin, judged by Origin (or Referer when a browser omits Origin).
//! Machine-to-machine endpoints that authenticate by signature or bearer key are exempt.

use app::server::{error::json_error, AppState};
use axum::{
    extract::{Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::Response,
};

const MACHINE_PREFIXES: &[&str] = &["/api/webhooks/", "/api/v1/"];

/// Routes that authenticate by signature or bearer key, never by a staff cookie. The router
/// serves them outside the session layers and this check (startup.rs).
pub fn is_machine_route(path: &str) -> bool {
    MACHINE_PREFIXES.iter().any(|p| path.starts_with(p))
}

pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    if safe || is_machine_route(path) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let allowed = match source {
        Some(src) => same_origin(src, host, &state.config.server.public_url),
        None => false,
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(origin = source.unwrap_or("-"), "cross-site request refused");
        json_error(StatusCode::FORBIDDEN, "cross-site request refused")
    }
}

/// `src` (an Origin or a Referer URL) is ours if its scheme://host[:port] equals our public URL
/// or names the Host the request was sent to.
fn same_origin(src: &str, host: Option<&str>, public_url: &str) -> bool {
    let origin = origin_of(src);
    if origin.is_empty() {
        return false;
    }
    origin == origin_of(public_url)
        || host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"))
}

fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return String::new();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_by_scheme_host_and_port() {
        let public = "https://ops.example.com";
        assert!(same_origin("https://ops.example.com", None, public));
        assert!(
            same_origin("https://ops.example.com/audit?x", None, public),
            "referer form"
        );
        assert!(same_origin(
            "http://127.0.0.1:3000",
            Some("127.0.0.1:3000"),
            public
        ));
        assert!(!same_origin(
            "https://evil.example",
            Some("ops.example.com"),
            public
        ));
        assert!(!same_origin(
            "https://ops.example.com.evil.example",
            None,
            public
        ));
        assert!(!same_origin(
            "http://127.0.0.1:3001",
            Some("127.0.0.1:3000"),
            public
        ));
        assert!(!same_origin("null", Some("127.0.0.1:3000"), public));
    }
}
