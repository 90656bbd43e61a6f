//! How a page's path may be spelled, decided once. The router matches exact paths and the
//! permission guard runs only for a matched route, so a path that matches nothing must never
//! reach a page. Instead, a request that spells a page differently is sent to the one canonical
//! spelling (which then passes the guard like any other request), and anything else is a plain
//! 404 that renders nothing.
//!
//! The rules, in order:
//! 1. percent-encoded unreserved characters (RFC 3986: letters, digits, `-._~`) are decoded;
//!    every other escape stays as it is (an encoded `/` is part of a segment, not a separator);
//! 2. empty segments go: repeated slashes collapse and a trailing slash is dropped;
//! 3. dot segments are resolved (`/a/./b` is `/a/b`, `/a/../b` is `/b`, nothing climbs above `/`);
//! 4. the fixed words of a page's path match in any letter case; ids (`{id}`) keep theirs,
//!    since Stripe's and our ids are case-sensitive.
//!
//! A path that matches no page after these rules is not found.

/// The canonical spelling of `raw` among `patterns` (axum-style, `{name}` for a segment), or
/// None when it names no page.
pub fn canonical<'a>(raw: &str, patterns: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let decoded = decode_unreserved(raw);
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    patterns
        .into_iter()
        .find_map(|pattern| fit(pattern, &segments))
}

/// `segments` spelled as `pattern` spells them, if they fit it.
fn fit(pattern: &str, segments: &[&str]) -> Option<String> {
    let words: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if words.len() != segments.len() {
        return None;
    }
    let mut out = String::new();
    for (word, segment) in words.iter().zip(segments) {
        out.push('/');
        if word.starts_with('{') && word.ends_with('}') {
            out.push_str(segment);
        } else if word.eq_ignore_ascii_case(segment) {
            out.push_str(word);
        } else {
            return None;
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

fn decode_unreserved(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') => {
                out.push(b);
                i += 3;
            }
            Some(_) => {
                out.push(b'%');
                out.extend(bytes[i + 1..i + 3].to_ascii_uppercase());
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::canonical;

    const PAGES: &[&str] = &["/", "/audit", "/api-keys", "/customers", "/customers/{id}"];

    fn c(raw: &str) -> Option<String> {
        canonical(raw, PAGES.iter().copied())
    }

    #[test]
    fn each_rule_leads_to_the_one_spelling() {
        for (raw, want) in [
            ("/audit", "/audit"),
            ("/audit/", "/audit"),
            ("//audit", "/audit"),
            ("/audit//", "/audit"),
            ("/./audit", "/audit"),
            ("/x/../audit", "/audit"),
            ("/../../audit", "/audit"),
            ("/%61udit", "/audit"),
            ("/%61UDIT/", "/audit"),
            ("/AUDIT", "/audit"),
            ("/Api-Keys", "/api-keys"),
            ("/api%2Dkeys", "/api-keys"),
            ("/customers/cus_AbC/", "/customers/cus_AbC"),
            ("/CUSTOMERS//cus_AbC", "/customers/cus_AbC"),
            ("/customers/cus%5FAbC", "/customers/cus_AbC"),
            ("/customers/%2e%2e/audit", "/audit"),
            ("//", "/"),
            ("/./", "/"),
        ] {
            assert_eq!(c(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn ids_keep_their_case_and_reserved_escapes() {
        assert_eq!(
            c("/customers/a%2fb/").as_deref(),
            Some("/customers/a%2Fb"),
            "an encoded slash is part of the id"
        );
        assert_eq!(c("/customers/CUS_X").as_deref(), Some("/customers/CUS_X"));
    }

    #[test]
    fn anything_else_is_not_a_page() {
        for raw in [
            "/audits",
            "/audit/x",
            "/customers/a/b",
            "/%zz",
            "/audit%",
            "/audit%2",
            "/audit%2F",
            "/api/fn/audit_page",
        ] {
            assert_eq!(c(raw), None, "{raw}");
        }
    }
}
