//! The envelope of a Stripe event: what we need to store, route and deduplicate it. The object
//! inside stays raw JSON here; handlers read the fields they mirror.

use serde::Deserialize;

/// A Stripe event id (`evt_…`), parsed once at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StripeEventId(String);

impl StripeEventId {
    pub fn parse(raw: &str) -> Result<Self, EventError> {
        let ok = raw.starts_with("evt_")
            && raw.len() <= 255
            && raw[4..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && raw.len() > 4;
        ok.then(|| StripeEventId(raw.to_string()))
            .ok_or(EventError::Invalid("id"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the body is not a JSON Stripe event")]
    NotJson,
    #[error("the event's {0} is missing or invalid")]
    Invalid(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventEnvelope {
    pub id: StripeEventId,
    pub kind: String,
    /// Seconds since the epoch, as Stripe sends it. Informational only: Stripe says not to
    /// order events by it.
    pub created: i64,
    pub livemode: bool,
    pub api_version: Option<String>,
    pub account: Option<String>,
    /// `data.object.object`, e.g. `invoice`.
    pub object_type: Option<String>,
    /// `data.object.id`.
    pub object_id: Option<String>,
    /// The Stripe customer the object belongs to (`cus_…`), when it names one.
    pub stripe_customer: Option<String>,
    pub object: serde_json::Value,
}

#[derive(Deserialize)]
struct Raw {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    livemode: bool,
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    account: Option<String>,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: serde_json::Value,
}

impl EventEnvelope {
    pub fn parse(body: &[u8]) -> Result<Self, EventError> {
        let raw: Raw = serde_json::from_slice(body).map_err(|_| EventError::NotJson)?;
        let id = StripeEventId::parse(&raw.id)?;
        let kind_ok = !raw.kind.is_empty()
            && raw.kind.len() <= 100
            && raw
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_' || b.is_ascii_digit());
        if !kind_ok {
            return Err(EventError::Invalid("type"));
        }
        if !raw.data.object.is_object() {
            return Err(EventError::Invalid("data.object"));
        }
        let o = &raw.data.object;
        let str_field = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let object_type = str_field("object");
        let object_id = str_field("id");
        let stripe_customer = super::mirror::fields::customer_of(o);
        Ok(EventEnvelope {
            id,
            kind: raw.kind,
            created: raw.created,
            livemode: raw.livemode,
            api_version: raw.api_version,
            account: raw.account,
            object_type,
            object_id,
            stripe_customer,
            object: raw.data.object,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_envelope_of_stripes_published_example() {
        let body = serde_json::json!({
            "id": "evt_1Pgc76B7WZ01zgkWwyRHS12y", "object": "event", "api_version": null,
            "created": 1234567890, "livemode": false, "type": "invoice.paid",
            "data": { "object": { "id": "in_1", "object": "invoice", "customer": "cus_9" } }
        });
        let e = EventEnvelope::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(e.id.as_str(), "evt_1Pgc76B7WZ01zgkWwyRHS12y");
        assert_eq!(e.kind, "invoice.paid");
        assert_eq!(e.object_type.as_deref(), Some("invoice"));
        assert_eq!(e.stripe_customer.as_deref(), Some("cus_9"));
        assert_eq!(e.api_version, None);
    }

    #[test]
    fn refuses_what_is_not_an_event() {
        for body in [
            "not json",
            "{}",
            r#"{"id":"x_1","type":"a.b","created":1,"livemode":false,"data":{"object":{}}}"#,
            r#"{"id":"evt_1","type":"A B","created":1,"livemode":false,"data":{"object":{}}}"#,
            r#"{"id":"evt_1","type":"a.b","created":1,"livemode":false,"data":{"object":3}}"#,
            r#"{"id":"evt_1;drop","type":"a.b","created":1,"livemode":false,"data":{"object":{}}}"#,
        ] {
            assert!(EventEnvelope::parse(body.as_bytes()).is_err(), "{body}");
        }
    }
}
