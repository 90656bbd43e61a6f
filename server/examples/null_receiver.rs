//! The ceiling of the ingest benchmark (scripts/bench-ingest.sh): a receiver that reads each
//! POST body and answers 200 without verifying or storing anything, on the same runtime and
//! HTTP stack as Ledgerline (axum on a multi-threaded Tokio). Whatever rate it reaches is the
//! most any receiver can reach with this load process on this machine.
//!
//! null_receiver ADDR   (e.g. 127.0.0.1:4000; GET /health answers too)

use axum::{
    body::Bytes,
    routing::{get, post},
    Json, Router,
};

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).expect("usage: null_receiver ADDR");
    let app =
        Router::new()
            .route(
                "/webhook",
                post(|body: Bytes| async move {
                    Json(serde_json::json!({ "received": !body.is_empty() }))
                }),
            )
            .route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
