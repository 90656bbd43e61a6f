//! Browser security headers. The CSP lets only our own origin load code, inline scripts only
//! with this response's nonce (Leptos' hydration bootstrap carries it), and WebAssembly
//! compilation (`'wasm-unsafe-eval'`), which hydration needs and which allows no JS `eval`.

pub fn content_security_policy(nonce: Option<&str>) -> String {
    let script = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; {script}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// HSTS for a year once we are known to be served over https; never on plain http, where the
/// header would be ignored anyway and could break a local setup moved behind TLS later.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";
pub const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_only_way_to_run_inline_script() {
        let csp = content_security_policy(Some("abc123"));
        assert!(csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!content_security_policy(None).contains("nonce-"));
    }
}
