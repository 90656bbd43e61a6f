//! HubSpot's CRM v3 REST API with a private-app token. Only the calls the sync, the scan and
//! the backfill need; every answer is classified: 429 (with its Retry-After), 5xx and timeouts
//! are transient, other 4xx permanent with HubSpot's own message kept for the job error.

use super::{Contact, ContactPage, Crm, CrmError, Properties, ID_PROPERTY};
use crate::server::secret::Secret;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::time::Duration;

const CONTACTS: &str = "/crm/v3/objects/contacts";
/// When a 429 carries no Retry-After: HubSpot's limits are per 10 seconds.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct HubSpot {
    client: reqwest::Client,
    timeout: Duration,
    base: String,
    token: Secret,
}

impl HubSpot {
    pub fn new(token: Secret, base: &str, timeout: Duration) -> Result<HubSpot, reqwest::Error> {
        Ok(HubSpot {
            client: reqwest::Client::builder().timeout(timeout).build()?,
            timeout,
            base: base.trim_end_matches('/').to_string(),
            token,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, CrmError> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| CrmError::Transient {
            message: if e.is_timeout() {
                format!(
                    "HubSpot did not answer within {} ms",
                    self.timeout.as_millis()
                )
            } else {
                "HubSpot could not be reached".into()
            },
            retry_after: None,
        })?;
        let status = res.status();
        let retry_after = crate::server::http::retry_after(&res);
        let text = res.text().await.map_err(|_| CrmError::Transient {
            message: "HubSpot's answer was cut off".into(),
            retry_after: None,
        })?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|_| {
                CrmError::Permanent("HubSpot answered with something that is not JSON".into())
            });
        }
        let vendor = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| text.chars().take(200).collect());
        let message = format!("HubSpot {}: {vendor}", status.as_u16());
        Err(match status.as_u16() {
            429 => CrmError::Transient {
                message,
                retry_after: Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
            },
            500..=599 => CrmError::Transient {
                message,
                retry_after,
            },
            _ => CrmError::Permanent(message),
        })
    }
}

/// The properties every read asks for: ours plus what identity and drift compare.
fn wanted() -> Vec<&'static str> {
    let mut p = vec!["email", "firstname", "lastname", ID_PROPERTY];
    p.extend(super::mapping::MAPPED);
    p
}

fn contact(v: &Value) -> Result<Contact, CrmError> {
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| CrmError::Permanent("HubSpot returned a contact without an id".into()))?;
    let properties = v
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Contact {
        id: id.to_string(),
        properties,
    })
}

fn results(v: &Value) -> Result<Vec<Contact>, CrmError> {
    v.get("results")
        .and_then(Value::as_array)
        .map(|r| r.iter().map(contact).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

#[async_trait]
impl Crm for HubSpot {
    async fn search(&self, name: &str, value: &str) -> Result<Vec<Contact>, CrmError> {
        let body = json!({
            "filterGroups": [{ "filters": [{ "propertyName": name, "operator": "EQ", "value": value }] }],
            "properties": wanted(),
            "limit": 10,
        });
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("{CONTACTS}/search"),
                Some(body),
            )
            .await?;
        results(&v)
    }

    async fn upsert(
        &self,
        ledgerline_id: &str,
        properties: &Properties,
    ) -> Result<Contact, CrmError> {
        let body = json!({ "inputs": [{ "idProperty": ID_PROPERTY, "id": ledgerline_id, "properties": properties }] });
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("{CONTACTS}/batch/upsert"),
                Some(body),
            )
            .await?;
        results(&v)?
            .into_iter()
            .next()
            .ok_or_else(|| CrmError::Permanent("HubSpot's upsert returned no contact".into()))
    }

    async fn update(&self, contact_id: &str, properties: &Properties) -> Result<Contact, CrmError> {
        let v = self
            .call(
                reqwest::Method::PATCH,
                &format!("{CONTACTS}/{contact_id}"),
                Some(json!({ "properties": properties })),
            )
            .await?;
        contact(&v)
    }

    async fn read(&self, contact_ids: &[String]) -> Result<Vec<Contact>, CrmError> {
        if contact_ids.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<Value> = contact_ids.iter().map(|id| json!({ "id": id })).collect();
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("{CONTACTS}/batch/read"),
                Some(json!({ "properties": wanted(), "inputs": inputs })),
            )
            .await?;
        results(&v)
    }

    async fn list(&self, after: Option<&str>, limit: u32) -> Result<ContactPage, CrmError> {
        let mut path = format!(
            "{CONTACTS}?limit={}&properties={}",
            limit.clamp(1, 100),
            wanted().join(",")
        );
        if let Some(a) = after {
            path += &format!("&after={}", crate::domain::url::enc(a));
        }
        let v = self.call(reqwest::Method::GET, &path, None).await?;
        let next = v
            .pointer("/paging/next/after")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok((results(&v)?, next))
    }

    async fn merge(&self, primary: &str, duplicate: &str) -> Result<Contact, CrmError> {
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("{CONTACTS}/merge"),
                Some(json!({ "primaryObjectId": primary, "objectIdToMerge": duplicate })),
            )
            .await?;
        contact(&v)
    }
}
