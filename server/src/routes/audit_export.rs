use app::domain::{AuditFilter, Outcome, Permission};
use app::server::{
    actor::Actor,
    auth::{request_actor, AuthSession},
    http::request_meta,
    services::audit,
    AppError, AppState,
};
use axum::{
    body::Body,
    extract::{Query, Request, State},
    http::header,
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
pub struct ExportQuery {
    actor: Option<String>,
    action: Option<String>,
    customer_id: Option<String>,
    outcome: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

/// CSV of the audit log under the given filters, streamed in batches so any size exports in
/// constant memory. The export itself is audited before the first byte leaves. Checks
/// audit.export itself: the guard in front is the outer wall, not the only one.
pub async fn export(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, _) = req.into_parts();
    let actor = match parts.extensions.get::<AuthSession>().cloned() {
        Some(mut auth) => request_actor(&mut auth, state.config.sessions.absolute_timeout).await,
        None => Actor::Anonymous,
    };
    actor.require(Permission::AuditExport)?;
    let outcome = match q.outcome.as_deref().filter(|o| !o.is_empty()) {
        None => None,
        Some(o) => Some(
            Outcome::parse(o)
                .ok_or_else(|| AppError::bad_request("outcome must be ok, denied or failed"))?,
        ),
    };
    let filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        customer_id: q.customer_id,
        outcome,
        from_ms: q.from_ms,
        to_ms: q.to_ms,
    };
    let meta = request_meta::from_parts(&parts);
    audit::append_now(
        &state.db,
        audit::NewEntry::new(&actor, &meta, "audit.exported", Outcome::Ok)
            .details(serde_json::json!({ "filter": format!("{filter:?}") })),
    )
    .await?;

    let db = state.db.clone();
    // The header row, then batches by seq cursor (state None = finished or failed).
    let rows = futures::stream::unfold(Some(0i64), move |cursor| {
        let (db, filter, actor) = (db.clone(), filter.clone(), actor.clone());
        async move {
            let after = cursor?;
            match audit::page_after(&db, &actor, &filter, after, audit::EXPORT_BATCH).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows.last().map(|e| e.seq);
                    Some((Ok(audit::write_csv_rows(&rows)), next))
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit export failed mid-stream");
                    Some((Err(std::io::Error::other("export failed")), None))
                }
            }
        }
    });
    // Fused: the compression layer polls once more after the end, which an unfused unfold
    // answers with a panic (and the browser with a broken download).
    let stream = futures::stream::once(async { Ok::<_, std::io::Error>(audit::csv_header()) })
        .chain(rows)
        .fuse();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ledgerline-audit.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
