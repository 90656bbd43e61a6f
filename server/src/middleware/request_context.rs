use app::server::http::{
    client_addr::{ClientAddr, TrustedProxies},
    request_id::HEADER,
    RequestId,
};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};
use std::{net::SocketAddr, sync::Arc, time::Instant};
use tracing::Instrument;

/// Gives the request its id, runs it inside a span carrying that id (so every log line of the
/// request has it), echoes the id in the response and logs one summary line. It also works out
/// the client's address once (`TRUSTED_PROXIES` decides whether forwarding headers count), for
/// throttling, rate limits and the audit log.
/// Only the path is logged: query strings can carry one-time tokens.
pub async fn request_context(
    State(trusted): State<Arc<TrustedProxies>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    // A request id from the client would be written into audit entries: only our own proxy
    // may hand one on (so a trace spans it); anyone else's is replaced, so an id in the audit
    // log is never one an outsider chose.
    let from_proxy = peer.is_some_and(|p| trusted.trusts(p.ip()));
    let offered = from_proxy
        .then(|| req.headers().get(HEADER).and_then(|v| v.to_str().ok()))
        .flatten();
    let id = RequestId::from_header(offered);
    req.extensions_mut().insert(id.clone());
    if let Some(peer) = peer {
        let client = trusted.client(peer, req.headers());
        req.extensions_mut().insert(ClientAddr(client));
    }
    let span = tracing::info_span!(
        "http",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = Instant::now();
    let mut res = id
        .clone()
        .scope(next.run(req))
        .instrument(span.clone())
        .await;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        res.headers_mut().insert(HEADER, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "served"
        )
    });
    res
}
