//! Readiness: can this instance serve? Used by `GET /api/ready`, the status panel (through a
//! server function) and `doctor`.

use crate::domain::{Check, Readiness};
use crate::server::db::{Db, MigrationState};
use std::time::Duration;

/// A database that takes longer than this to answer `SELECT 1` is reported as degraded.
const SLOW_DATABASE: Duration = Duration::from_millis(500);

pub async fn readiness(db: &Db, queue_lag_warn: Duration) -> Readiness {
    let checks = vec![
        database_check(db).await,
        migrations_check(db).await,
        audit_chain_check(db).await,
        queue_check(db, queue_lag_warn).await,
        webhooks_check(db).await,
    ];
    Readiness::from_checks(
        checks,
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

pub async fn database_check(db: &Db) -> Check {
    match tokio::time::timeout(Duration::from_secs(3), db.ping()).await {
        Ok(Ok(took)) if took > SLOW_DATABASE => Check::warn(
            "database",
            format!(
                "{} answered slowly ({} ms)",
                db.backend().as_str(),
                took.as_millis()
            ),
        ),
        Ok(Ok(took)) => Check::ok(
            "database",
            format!(
                "{} reachable ({} ms)",
                db.backend().as_str(),
                took.as_millis()
            ),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "database check failed");
            Check::fail("database", format!("{} unreachable", db.backend().as_str()))
        }
        Err(_) => Check::fail(
            "database",
            format!("{} did not answer within 3 s", db.backend().as_str()),
        ),
    }
}

pub async fn migrations_check(db: &Db) -> Check {
    match db.migration_state().await {
        Ok(MigrationState::Current { applied }) => {
            Check::ok("migrations", format!("current ({applied} applied)"))
        }
        Ok(MigrationState::Pending { versions }) => Check::fail(
            "migrations",
            format!(
                "{} pending (run `ledgerline migrate`): {}",
                versions.len(),
                versions
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Ok(MigrationState::Diverged { detail }) => Check::fail("migrations", detail),
        Err(e) => {
            tracing::warn!(error = %e, "migration check failed");
            Check::fail("migrations", "could not read the migrations table")
        }
    }
}

/// The result of the last `audit verify`. A broken chain does not stop serving, so it is a
/// warning (degraded) rather than a failure; it stays visible until a clean verification.
pub async fn audit_chain_check(db: &Db) -> Check {
    match crate::server::services::audit::last_verification(db).await {
        Ok(None) => Check::ok(
            "audit chain",
            "not verified yet (`ledgerline audit verify`)",
        ),
        Ok(Some(v)) if v.ok => Check::ok("audit chain", v.detail),
        Ok(Some(v)) => Check::warn("audit chain", format!("broken: {}", v.detail)),
        Err(e) => {
            tracing::warn!(error = %e, "audit verification lookup failed");
            Check::warn("audit chain", "could not read the last verification")
        }
    }
}

/// Worker liveness (a heartbeat in the last 30 s) and queue lag (age of the oldest job that is
/// due). Degraded when jobs wait longer than the threshold or nobody is there to run them.
pub async fn queue_check(db: &Db, lag_warn: Duration) -> Check {
    let now = chrono::Utc::now().timestamp_millis();
    match crate::server::jobs::liveness(db, now, Duration::from_secs(30)).await {
        Ok((alive, None)) => Check::ok(
            "job queue",
            format!("{alive} live workers, nothing waiting"),
        ),
        Ok((0, Some(age))) => Check::warn(
            "job queue",
            format!("no live worker; oldest job waiting {} s", age / 1000),
        ),
        Ok((alive, Some(age))) if age > lag_warn.as_millis() as i64 => Check::warn(
            "job queue",
            format!(
                "{alive} live workers; oldest job waiting {} s (limit {} s)",
                age / 1000,
                lag_warn.as_secs()
            ),
        ),
        Ok((alive, Some(age))) => Check::ok(
            "job queue",
            format!("{alive} live workers; oldest job waiting {} s", age / 1000),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "queue check failed");
            Check::warn("job queue", "could not read the queue")
        }
    }
}

/// Stripe deliveries over the last 24 h: degraded below 99 % processed, or when any event came
/// from the other Stripe mode than the API key (a misconfigured endpoint).
pub async fn webhooks_check(db: &Db) -> Check {
    use crate::server::stripe::webhooks;
    let now = chrono::Utc::now().timestamp_millis();
    let since = now - 86_400_000;
    let (rate, mismatches) = match (
        webhooks::success_rate(db, since, now).await,
        webhooks::mode_mismatches(db, since).await,
    ) {
        (Ok(r), Ok(m)) => (r, m),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "webhook check failed");
            return Check::warn("stripe webhooks", "could not read the webhook log");
        }
    };
    if mismatches > 0 {
        return Check::warn(
            "stripe webhooks",
            format!("{mismatches} events in 24 h came from the other Stripe mode than the API key"),
        );
    }
    match rate.percent() {
        None => Check::ok("stripe webhooks", "no deliveries to process in 24 h"),
        Some(p) if p < 99.0 => Check::warn(
            "stripe webhooks",
            format!(
                "{p:.1} % of {} events processed in 24 h (below 99 %)",
                rate.considered
            ),
        ),
        Some(p) => Check::ok(
            "stripe webhooks",
            format!("{p:.1} % of {} events processed in 24 h", rate.considered),
        ),
    }
}
