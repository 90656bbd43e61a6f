//! `ApiKey<S>`: the caller of a route that authenticates by API key with scope `S`. Before the
//! handler runs, the extractor has, in this order:
//! 1. spent the address's budget of refused calls (429 after 30 refusals a minute, before any
//!    key is looked up, so guessing keys costs the guesser and not the database);
//! 2. checked the bearer key and its scope (401 with `WWW-Authenticate: Bearer`, or 403);
//! 3. checked the key's own rate limit (429 with Retry-After).
//!
//! Every refusal, here and the handler's later ones (`refused`), is counted per source (the
//! address before a key is known, the key after) and audited once a minute with the count,
//! never a row per request.

use app::domain::Scope;
use app::server::actor::{Actor, RequestMeta};
use app::server::error::json_error;
use app::server::http::request_meta;
use app::server::services::{api_keys, auth::login::client_addr, refusals::Source};
use app::server::AppState;
use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::Response;
use std::marker::PhantomData;

/// The scope a route needs, and the audit action its refusals are counted under.
pub trait RequiredScope: Send + Sync + 'static {
    const SCOPE: Scope;
    const REFUSED: &'static str;
}

/// The support intake API (`POST /api/v1/support/tickets`).
pub struct TicketsWrite;

impl RequiredScope for TicketsWrite {
    const SCOPE: Scope = Scope::TicketsWrite;
    const REFUSED: &'static str = "ticket.intake_refused";
}

pub struct ApiKey<S: RequiredScope> {
    pub actor: Actor,
    pub meta: RequestMeta,
    /// When the request arrived (ms since the epoch, UTC).
    pub now_ms: i64,
    state: AppState,
    key_source: String,
    scope: PhantomData<S>,
}

impl<S: RequiredScope> ApiKey<S> {
    /// Counts a refusal of this key's call (a bad body, a reused Idempotency-Key) for the audit.
    pub fn refused(&self, reason: &str) {
        note(
            &self.state,
            S::REFUSED,
            &self.key_source,
            reason,
            self.now_ms,
        );
    }

    /// The body, at most `limit` bytes; a larger one is refused with 413 and counted.
    pub async fn body(&self, body: Body, limit: usize) -> Result<Bytes, Response> {
        axum::body::to_bytes(body, limit).await.map_err(|_| {
            self.refused("too_large");
            json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The body may be at most {} KiB.", limit / 1024),
            )
        })
    }
}

fn note(state: &AppState, action: &'static str, source: &str, reason: &str, now_ms: i64) {
    state
        .refusals
        .tally
        .note(action, source, reason, None, now_ms);
}

fn too_many(message: &str, secs: u64) -> Response {
    let mut res = json_error(StatusCode::TOO_MANY_REQUESTS, message);
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
}

impl<S: RequiredScope> FromRequestParts<AppState> for ApiKey<S> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let meta = request_meta::from_parts(parts);
        let now = chrono::Utc::now().timestamp_millis();
        let addr = client_addr(&meta);
        let address = Source::address(addr).to_string();
        if let Err(wait) = state.refusals.intake.check(addr, now) {
            note(state, S::REFUSED, &address, "address_rate_limited", now);
            return Err(too_many(
                &format!(
                    "Too many refused calls from this address; retry in {} s.",
                    wait.secs()
                ),
                wait.secs(),
            ));
        }
        let actor = match api_keys::check(&state.db, bearer(parts), S::SCOPE, now).await {
            Ok(actor) => actor,
            Err(api_keys::CheckError::Refused(why)) => {
                state.refusals.intake.strike(addr, now);
                note(state, S::REFUSED, &address, &format!("{why:?}"), now);
                if let api_keys::Refused::Scope(_) = why {
                    return Err(json_error(StatusCode::FORBIDDEN, &why.to_string()));
                }
                let mut res = json_error(StatusCode::UNAUTHORIZED, &why.to_string());
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return Err(res);
            }
            Err(api_keys::CheckError::Db(e)) => {
                tracing::error!(error = %e, "could not check an API key");
                return Err(json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "try again shortly",
                ));
            }
        };
        let key_id = actor.id().unwrap_or_default().to_string();
        let key_source = format!("api_key:{key_id}");
        if let Err(wait) = state.intake_limiter.check(&key_id) {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            note(state, S::REFUSED, &key_source, "rate_limited", now);
            return Err(too_many(
                &format!("Too many requests with this key; retry in {secs} s."),
                secs,
            ));
        }
        Ok(ApiKey {
            actor,
            meta,
            now_ms: now,
            state: state.clone(),
            key_source,
            scope: PhantomData,
        })
    }
}
