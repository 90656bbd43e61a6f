//! Calls to Stripe's API through async-stripe's client (auth, API version header,
//! Idempotency-Key). Objects come back as JSON and go through the same mappers as webhook
//! snapshots, so one version rule covers both and old API versions (localstripe) still read.

use crate::server::secret::Secret;
use serde_json::Value;
use std::collections::BTreeMap;
use stripe_client_core::{IdempotencyKey, RequestBuilder, RequestStrategy, StripeMethod};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 429: try again later (the job queue backs off).
    #[error("Stripe is rate limiting us (429)")]
    RateLimited,
    #[error("Stripe answered {0}")]
    Server(u16),
    #[error("no such object at Stripe")]
    NotFound,
    /// A request Stripe refuses as is (validation, over-refund…): retrying cannot help.
    #[error("Stripe refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("could not reach Stripe: {0}")]
    Network(String),
    #[error("unexpected answer from Stripe: {0}")]
    Decode(String),
}

impl ApiError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited | ApiError::Server(_) | ApiError::Network(_)
        )
    }
}

fn classify(e: stripe::StripeError) -> ApiError {
    match e {
        stripe::StripeError::Stripe(err, status) => match status {
            429 => ApiError::RateLimited,
            404 => ApiError::NotFound,
            s if s >= 500 => ApiError::Server(s),
            s => ApiError::Refused {
                status: s,
                message: err.message.clone().unwrap_or_else(|| "no message".into()),
            },
        },
        // async-stripe drops the status when an error body is not Stripe's JSON (a proxy's
        // 502 page, say): treat it as a server-side failure worth retrying.
        stripe::StripeError::JSONDeserialize(m) if m.contains("Stripe error") => {
            ApiError::Server(0)
        }
        stripe::StripeError::JSONDeserialize(m) => ApiError::Decode(m),
        stripe::StripeError::Timeout => ApiError::Network("timed out".into()),
        stripe::StripeError::ClientError(m) | stripe::StripeError::ConfigError(m) => {
            ApiError::Network(m)
        }
    }
}

#[derive(Clone)]
pub struct StripeApi {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Live(Box<stripe::Client>),
    /// DEMO_MODE: the in-process simulated account.
    Simulated(crate::server::demo::SimStripe),
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner {
            Inner::Live(_) => "StripeApi",
            Inner::Simulated(_) => "StripeApi(simulated)",
        })
    }
}

/// The list endpoint and single-object path for each mirrored object type.
pub fn resource_path(object_type: &str) -> Option<&'static str> {
    Some(match object_type {
        "customer" => "/customers",
        "subscription" => "/subscriptions",
        "invoice" => "/invoices",
        "charge" => "/charges",
        "refund" => "/refunds",
        "dispute" => "/disputes",
        _ => return None,
    })
}

impl StripeApi {
    /// The client for the configured key, the simulated account in demo mode, or None
    /// (tests without Stripe, a set-up without a key).
    pub fn from_config(config: &crate::server::Config, db: &crate::server::db::Db) -> Option<Self> {
        if config.demo_mode {
            return Some(StripeApi {
                inner: Inner::Simulated(crate::server::demo::SimStripe::new(db.clone())),
            });
        }
        let key = config.stripe.api_key.as_ref()?;
        StripeApi::new(key.secret(), &config.stripe.api_base)
            .map_err(|e| tracing::error!(error = %e, "Stripe API client not available"))
            .ok()
    }

    pub fn new(key: &Secret, base: &str) -> Result<Self, ApiError> {
        let base = if base.ends_with('/') {
            base.to_string()
        } else {
            format!("{base}/")
        };
        let client = stripe::ClientBuilder::new(key.expose())
            .url(base)
            .build()
            .map_err(classify)?;
        Ok(StripeApi {
            inner: Inner::Live(Box::new(client)),
        })
    }

    async fn send(
        client: &stripe::Client,
        req: RequestBuilder,
        strategy: RequestStrategy,
    ) -> Result<Value, ApiError> {
        let raw: miniserde::json::Value = req
            .customize::<miniserde::json::Value>()
            .request_strategy(strategy)
            .send(client)
            .await
            .map_err(classify)?;
        serde_json::from_str(&miniserde::json::to_string(&raw))
            .map_err(|e| ApiError::Decode(e.to_string()))
    }

    /// GET one object, e.g. ("subscription", "sub_1").
    pub async fn retrieve(&self, object_type: &str, id: &str) -> Result<Value, ApiError> {
        let path = resource_path(object_type).ok_or(ApiError::NotFound)?;
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ApiError::NotFound);
        }
        let client = match &self.inner {
            Inner::Live(c) => c,
            Inner::Simulated(sim) => return sim.retrieve(object_type, id).await,
        };
        Self::send(
            client,
            RequestBuilder::new(StripeMethod::Get, format!("{path}/{id}")),
            RequestStrategy::Once,
        )
        .await
    }

    /// One page of a list, oldest cursor first: (objects, has_more).
    pub async fn list_page(
        &self,
        object_type: &str,
        starting_after: Option<&str>,
        customer: Option<&str>,
        limit: u8,
    ) -> Result<(Vec<Value>, bool), ApiError> {
        let path = resource_path(object_type).ok_or(ApiError::NotFound)?;
        let client = match &self.inner {
            Inner::Live(c) => c,
            Inner::Simulated(sim) => {
                return sim
                    .list_page(object_type, starting_after, customer, limit)
                    .await
            }
        };
        // A map: serde_qs writes it as key=value pairs (a Vec of tuples becomes an array).
        let mut query = BTreeMap::from([("limit", limit.to_string())]);
        if let Some(after) = starting_after {
            query.insert("starting_after", after.to_string());
        }
        if let Some(c) = customer {
            query.insert("customer", c.to_string());
        }
        if object_type == "subscription" {
            // The default hides canceled subscriptions; the mirror wants them all.
            query.insert("status", "all".into());
        }
        let page = Self::send(
            client,
            RequestBuilder::new(StripeMethod::Get, path).query(&query),
            RequestStrategy::Once,
        )
        .await?;
        let data = page
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| ApiError::Decode("a list without data".into()))?;
        let has_more = page
            .get("has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok((data, has_more))
    }

    /// POST a form with an Idempotency-Key, so a retry can never act twice.
    pub async fn post_idempotent(
        &self,
        path: &str,
        form: &BTreeMap<&str, String>,
        idempotency_key: &str,
    ) -> Result<Value, ApiError> {
        let client = match &self.inner {
            Inner::Live(c) => c,
            Inner::Simulated(sim) => return sim.post_idempotent(path, form, idempotency_key).await,
        };
        let key = IdempotencyKey::new(idempotency_key)
            .map_err(|e| ApiError::Decode(format!("idempotency key: {e:?}")))?;
        Self::send(
            client,
            RequestBuilder::new(StripeMethod::Post, path).form(form),
            RequestStrategy::Idempotent(key),
        )
        .await
    }
}
