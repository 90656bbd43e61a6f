//! The error every HTTP route returns. Users see a short message and the request id; the
//! cause goes to the log under that id and never into the response.

use crate::server::http::RequestId;
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Denied(d) => d.status(),
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e))
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
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        json_error(self.status(), &self.to_string())
    }
}
