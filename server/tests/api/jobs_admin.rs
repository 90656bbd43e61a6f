//! The Jobs page over HTTP: counts and filters, a detail with redacted payload and attempts,
//! retry-now and cancel (jobs.retry only, audited, refused in the wrong state), and /metrics.

use crate::both_backends;
use crate::helpers::{audit_entries, spawn_app, spawn_app_with, Backend, Failing};
use app::domain::{Outcome, Role};
use app::server::jobs::{self, JobError, JobHandler, NewJob, Registry, RetryPolicy};
use app::server::Db;
use async_trait::async_trait;

both_backends!(
    counts_list_and_filters_show_the_queue,
    the_detail_redacts_secrets_and_lists_attempts,
    retry_and_cancel_are_permission_checked_audited_and_state_aware,
    metrics_need_the_bearer_token_and_count_jobs,
);

struct Ok_;

#[async_trait]
impl JobHandler for Ok_ {
    async fn run(&self, _db: &Db, _id: &str, _p: serde_json::Value) -> Result<(), JobError> {
        Ok(())
    }
}

async fn add(db: &Db, kind: &str, payload: serde_json::Value, customer: Option<&str>) -> String {
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = db.begin().await.unwrap();
    let mut job = NewJob::new(kind, payload, now - 1);
    job.customer_id = customer.map(str::to_string);
    let id = jobs::enqueue(&mut tx, job, now).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    id
}

/// Runs every due job once with `registry`.
async fn drain(db: &Db, registry: &Registry) {
    let policy = RetryPolicy::default();
    let now = chrono::Utc::now().timestamp_millis();
    while jobs::run_one(db, registry, "test-worker", &policy, &|| now, 0.5)
        .await
        .unwrap()
        .is_some()
    {}
}

async fn status_of(db: &Db, id: &str) -> (String, i64, i64) {
    sqlx::query_as("SELECT status, attempts, max_attempts FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn counts_list_and_filters_show_the_queue(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let dead = add(db, "test.boom", serde_json::json!({}), Some("cus_a")).await;
    for _ in 0..3 {
        add(db, "test.ok", serde_json::json!({}), Some("cus_b")).await;
    }
    let registry = Registry::new()
        .register("test.boom", Failing(JobError::Permanent("400 bad".into())))
        .register("test.ok", Ok_);
    drain(db, &registry).await;
    let waiting = add(db, "test.ok", serde_json::json!({}), None).await;

    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (status, counts) = app.call_fn(&viewer, "job_counts", &[]).await;
    assert_eq!(status, 200, "customer.read may look: {counts}");
    let count = |kind: &str, st: &str| {
        counts
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == kind && c["status"] == st)
            .map_or(0, |c| c["count"].as_i64().unwrap())
    };
    assert_eq!(count("test.boom", "dead"), 1);
    assert_eq!(count("test.ok", "succeeded"), 3);
    assert_eq!(count("test.ok", "queued"), 1);

    let (_, page) = app
        .call_fn(&viewer, "job_list", &[("status", "dead")])
        .await;
    let ids: Vec<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![dead.as_str()]);
    assert_eq!(page["jobs"][0]["last_error"], "400 bad");

    let (_, page) = app
        .call_fn(&viewer, "job_list", &[("customer_id", "cus_b")])
        .await;
    assert_eq!(page["jobs"].as_array().unwrap().len(), 3);
    let (_, page) = app
        .call_fn(&viewer, "job_list", &[("kind", "test.ok")])
        .await;
    assert_eq!(page["jobs"][0]["id"], waiting, "newest first");

    let (status, body) = app
        .call_fn(&viewer, "job_list", &[("status", "exploded")])
        .await;
    assert_eq!(status, 422, "{body}");

    // The page itself renders the dead job for a viewer, server-side.
    let html = viewer
        .get(app.url("/jobs?status=dead"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&dead), "the list shows the dead job");
    assert!(html.contains("400 bad"));
}

async fn the_detail_redacts_secrets_and_lists_attempts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let id = add(
        db,
        "test.flaky",
        serde_json::json!({ "customer": "cus_1", "api_key": "sk_test_supersecretvalue123", "nested": { "client_secret": "pi_123_secret_456" } }),
        Some("cus_1"),
    )
    .await;
    let registry = Registry::new().register(
        "test.flaky",
        Failing(JobError::transient("HTTP 503 from CRM")),
    );
    drain(db, &registry).await;

    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (status, d) = app.call_fn(&viewer, "job_detail", &[("id", &id)]).await;
    assert_eq!(status, 200, "{d}");
    let payload = d["payload"].as_str().unwrap();
    assert!(payload.contains("cus_1"));
    assert!(!payload.contains("supersecret"), "{payload}");
    assert!(!payload.contains("pi_123_secret_456"), "{payload}");
    assert_eq!(d["job"]["status"], "failed_retrying");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(d["attempts"][0]["outcome"], "retry");
    assert_eq!(d["attempts"][0]["error"], "HTTP 503 from CRM");
    assert!(d["attempts"][0]["duration_ms"].as_i64().unwrap() >= 0);
    assert_eq!(d["can_act"], false, "a viewer cannot act");

    let html = viewer
        .get(app.url(&format!("/jobs/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("HTTP 503 from CRM"));
    assert!(!html.contains("supersecret"));
    assert!(!html.contains("Retry now"), "no actions for a viewer");

    let (admin, _) = app.sign_in(Role::Admin).await;
    let (_, d) = app.call_fn(&admin, "job_detail", &[("id", &id)]).await;
    assert_eq!(d["can_act"], true);
    let (status, _) = app
        .call_fn(&admin, "job_detail", &[("id", "job_missing")])
        .await;
    assert_eq!(status, 404);
}

async fn retry_and_cancel_are_permission_checked_audited_and_state_aware(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let dead = add(db, "test.boom", serde_json::json!({}), Some("cus_9")).await;
    let registry =
        Registry::new().register("test.boom", Failing(JobError::Permanent("404 gone".into())));
    drain(db, &registry).await;
    assert_eq!(status_of(db, &dead).await.0, "dead");

    // Billing staff may read but not act: 403, unchanged, audited as a denial.
    let (billing, _) = app.sign_in(Role::Billing).await;
    let (status, _) = app.call_fn(&billing, "job_retry", &[("id", &dead)]).await;
    assert_eq!(status, 403);
    assert_eq!(status_of(db, &dead).await.0, "dead");

    let (admin, admin_staff) = app.sign_in(Role::Admin).await;
    // A dead job cannot be cancelled: 409 and nothing changes.
    let (status, body) = app.call_fn(&admin, "job_cancel", &[("id", &dead)]).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(status_of(db, &dead).await.0, "dead");

    let (status, body) = app.call_fn(&admin, "job_retry", &[("id", &dead)]).await;
    assert_eq!(status, 200, "{body}");
    let (st, attempts, max) = status_of(db, &dead).await;
    assert_eq!(st, "queued");
    assert_eq!(attempts, 1, "history is kept");
    assert!(max > attempts, "a gave-up job gets a fresh budget");
    // It really runs again.
    let registry = Registry::new().register("test.boom", Ok_);
    drain(db, &registry).await;
    assert_eq!(status_of(db, &dead).await.0, "succeeded");
    let (status, _) = app.call_fn(&admin, "job_retry", &[("id", &dead)]).await;
    assert_eq!(status, 409, "a succeeded job is not re-run");

    // Cancel a waiting job: no worker takes it afterwards.
    let waiting = add(db, "test.boom", serde_json::json!({}), None).await;
    let (status, _) = app.call_fn(&admin, "job_cancel", &[("id", &waiting)]).await;
    assert_eq!(status, 200);
    drain(db, &registry).await;
    assert_eq!(status_of(db, &waiting).await.0, "cancelled");

    let entries = audit_entries(db, "jobs").await;
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.target_id.as_deref().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("jobs.cancelled", waiting.as_str()),
            ("jobs.retried", dead.as_str())
        ],
        "only the changes are recorded, newest first"
    );
    let retried = &entries[1];
    assert_eq!(retried.actor_id.as_deref(), Some(admin_staff.id.as_str()));
    assert_eq!(retried.customer_id.as_deref(), Some("cus_9"));
    assert_eq!(retried.outcome, Outcome::Ok);
    assert!(retried.details.contains("404 gone"));
    let denied = audit_entries(db, "permission.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].target_id.as_deref(), Some("/api/fn/job_retry"));
}

async fn metrics_need_the_bearer_token_and_count_jobs(backend: Backend) {
    let token = "metrics-token-0123456789abcdef";
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("METRICS_TOKEN".into(), token.into());
    })
    .await
    else {
        return;
    };
    // A kind unique to this test and backend: the recorder is shared by the whole process.
    let kind = format!("test.metrics_{}", backend.name());
    let db = &app.state.db;
    add(db, &kind, serde_json::json!({}), None).await;
    add(db, &kind, serde_json::json!({}), None).await;
    let registry = Registry::new().register(
        Box::leak(kind.clone().into_boxed_str()),
        Failing(JobError::Permanent("no".into())),
    );
    drain(db, &registry).await;
    add(db, &kind, serde_json::json!({}), None).await;

    assert_eq!(app.get("/metrics").await.status(), 401);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-0123456789abcdeX")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l.contains(&format!("kind=\"{kind}\"")))
            .unwrap_or_else(|| panic!("{name} for {kind} in:\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(line("ledgerline_jobs_enqueued_total"), "3");
    assert_eq!(line("ledgerline_jobs_dead_total"), "2");
    assert_eq!(line("ledgerline_job_run_duration_seconds_count"), "2");
    assert!(
        text.contains("ledgerline_jobs_depth{status=\"queued\"} 1"),
        "{text}"
    );
    assert!(text.contains("ledgerline_jobs_oldest_runnable_age_seconds"));

    let Some(off) = spawn_app_with(backend, |v| {
        v.remove("METRICS_TOKEN");
    })
    .await
    else {
        return;
    };
    assert_eq!(
        off.get("/metrics").await.status(),
        404,
        "no token, no endpoint"
    );
}
