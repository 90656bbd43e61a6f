//! Secret-looking values never leave the server: not into the audit log, not onto a page.

/// Keys whose values never belong in the audit log, whatever a caller passes.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "hash",
];

/// Replaces the value of any key that looks secret, at any depth.
pub fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let lower = k.to_ascii_lowercase();
                if SECRET_KEYS.iter().any(|s| lower.contains(s)) {
                    *v = serde_json::Value::String("[redacted]".into());
                } else {
                    redact(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Stored JSON as staff may read it: pretty, with secret-looking values redacted.
pub fn pretty_redacted(raw: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(mut v) => {
            redact(&mut v);
            serde_json::to_string_pretty(&v).unwrap_or_default()
        }
        Err(_) => "(not valid JSON; hidden)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let mut v = serde_json::json!({
            "email": "a@b.c",
            "new_password": "hunter2hunter2",
            "nested": [{ "Api_Key": "sk_live_x", "role": "admin" }],
        });
        redact(&mut v);
        assert_eq!(v["email"], "a@b.c");
        assert_eq!(v["new_password"], "[redacted]");
        assert_eq!(v["nested"][0]["Api_Key"], "[redacted]");
        assert_eq!(v["nested"][0]["role"], "admin");
    }
}
