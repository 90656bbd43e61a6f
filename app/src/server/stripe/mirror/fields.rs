//! Reading Stripe objects tolerantly: the API version decides where some fields live (a
//! subscription's period moved onto its items), and localstripe speaks an old version.

use serde_json::Value;

pub fn s(o: &Value, k: &str) -> Option<String> {
    o.get(k).and_then(Value::as_str).map(str::to_string)
}

pub fn i(o: &Value, k: &str) -> Option<i64> {
    o.get(k).and_then(Value::as_i64)
}

pub fn b(o: &Value, k: &str) -> bool {
    o.get(k).and_then(Value::as_bool).unwrap_or(false)
}

/// A reference that is either an id or, when expanded, an object with one.
pub fn id_of(o: &Value, k: &str) -> Option<String> {
    match o.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(m)) => m.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// The Stripe customer an object belongs to: its own id for a customer, else its `customer`.
pub fn customer_of(o: &Value) -> Option<String> {
    if s(o, "object").as_deref() == Some("customer") {
        s(o, "id")
    } else {
        id_of(o, "customer")
    }
}

/// The first element of a list object's `data`.
pub fn first_item(o: &Value, k: &str) -> Option<Value> {
    o.get(k)?.get("data")?.as_array()?.first().cloned()
}

/// A comparable version string: zero-padded components, compared as text in SQL so the
/// "never go backwards" check happens inside the upsert itself.
pub fn version(parts: &[i64]) -> String {
    parts
        .iter()
        .map(|p| format!("{:020}", p.max(&0)))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_like_their_numbers() {
        assert!(version(&[1, 9]) < version(&[2, 0]));
        assert!(version(&[2, 10]) > version(&[2, 9]));
        assert!(version(&[1_767_225_600, 0]) < version(&[1_767_225_601, 0]));
    }

    #[test]
    fn references_may_be_expanded() {
        let o = serde_json::json!({ "a": "cus_1", "b": { "id": "cus_2" }, "c": null });
        assert_eq!(id_of(&o, "a").as_deref(), Some("cus_1"));
        assert_eq!(id_of(&o, "b").as_deref(), Some("cus_2"));
        assert_eq!(id_of(&o, "c"), None);
    }
}
