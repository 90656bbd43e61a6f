//! The one error contract. Each service error enum says, beside its own variants, which HTTP
//! status it is and what a person may read (`ServiceError`). Server functions turn any of them
//! into an answer with `api::ctx::fail`, routes with `AppError`; neither chooses a status.
//! Internal trouble (a database error, say) is logged with the request id and answered with a
//! fixed sentence, so its text never reaches a client.

use crate::server::http::RequestId;
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

pub trait ServiceError: std::error::Error + Send + Sync + 'static {
    fn status(&self) -> StatusCode;

    /// The sentence a person may read, or None for internal trouble: its cause is logged and
    /// the answer says only that something went wrong.
    fn user_message(&self) -> Option<String>;

    /// Whole seconds to wait before trying again (sent as Retry-After).
    fn retry_after_secs(&self) -> Option<i64> {
        None
    }
}

// A read-only service's refusal or a database failure, the most common pair.
crate::service_error!(crate::server::actor::ReadError {
    denied: Denied,
    internal: [Db],
    _ => INTERNAL_SERVER_ERROR,
});

impl ServiceError for crate::server::actor::Denied {
    fn status(&self) -> StatusCode {
        crate::server::actor::Denied::status(*self)
    }
    fn user_message(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// Implements `ServiceError` for an error enum as a table beside it:
///
/// ```ignore
/// service_error!(KeyError {
///     denied: Denied,          // the variant holding an `actor::Denied` (its own 401/403)
///     internal: [Db],          // tuple variants that are internal trouble (500, logged only)
///     Self::NotFound => NOT_FOUND,
///     Self::AlreadyRevoked => CONFLICT,
///     _ => UNPROCESSABLE_ENTITY,
/// });
/// ```
/// Every other variant's sentence (`Display`) is what the user reads.
#[macro_export]
macro_rules! service_error {
    ($ty:ty { $(denied: $denied:ident,)? internal: [$($internal:ident),*], $($pat:pat => $status:ident),+ $(,)? }) => {
        impl $crate::server::error::ServiceError for $ty {
            fn status(&self) -> ::http::StatusCode {
                #[allow(unreachable_patterns)]
                match self {
                    $(Self::$denied(d) => d.status(),)?
                    $(Self::$internal(..) => ::http::StatusCode::INTERNAL_SERVER_ERROR,)*
                    $($pat => ::http::StatusCode::$status,)+
                }
            }
            fn user_message(&self) -> Option<String> {
                match self {
                    $(Self::$internal(..) => None,)*
                    _ => Some(self.to_string()),
                }
            }
        }
    };
}

/// The error every HTTP route returns: any service error, answered as
/// `{ "error": "...", "request_id": "..." }` with the error's own status.
#[derive(Debug)]
pub struct AppError(Box<dyn ServiceError>);

impl<E: ServiceError> From<E> for AppError {
    fn from(e: E) -> Self {
        AppError(Box::new(e))
    }
}

impl AppError {
    /// Input the caller can fix (400), in words.
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::from(BadRequest(message.into()))
    }

    pub fn status(&self) -> StatusCode {
        self.0.status()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadRequest(String);

impl ServiceError for BadRequest {
    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
    fn user_message(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

/// A database failure reached a route directly.
impl ServiceError for sqlx::Error {
    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
    fn user_message(&self) -> Option<String> {
        None
    }
}

/// `{ "error": "...", "request_id": "..." }` with the given status.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    let request_id = RequestId::current().map(|id| id.to_string());
    (
        status,
        Json(serde_json::json!({ "error": message, "request_id": request_id })),
    )
        .into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "request failed");
        }
        let message = self.0.user_message();
        let mut res = json_error(status, message.as_deref().unwrap_or("internal error"));
        if let Some(secs) = self.0.retry_after_secs() {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}
