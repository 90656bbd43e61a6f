use serde::Serialize;
use sha2::{Digest, Sha256};

/// The fields that are hashed, in a fixed order. Changing this breaks every existing chain, so
/// it is versioned by the `v` field.
#[derive(Serialize)]
pub(super) struct Canonical<'a> {
    pub v: u8,
    pub seq: i64,
    pub id: &'a str,
    pub at: i64,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: &'a str,
    pub details: &'a str,
    pub prev_hash: &'a str,
}

impl Canonical<'_> {
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("plain struct serializes");
        hex::encode(Sha256::digest(&json))
    }
}

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
pub(super) fn redact(value: &mut serde_json::Value) {
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
