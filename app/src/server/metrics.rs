//! Prometheus metric names, the recorder, and the counters recorded where things happen (the
//! queue, webhooks). The gauges that describe the database are read at scrape time
//! (`views::metrics`), so every instance reports the shared truth.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

pub const JOBS_ENQUEUED: &str = "ledgerline_jobs_enqueued_total";
pub const JOBS_SUCCEEDED: &str = "ledgerline_jobs_succeeded_total";
/// Attempts that failed and will be retried.
pub const JOBS_FAILED: &str = "ledgerline_jobs_failed_total";
pub const JOBS_DEAD: &str = "ledgerline_jobs_dead_total";
pub const JOB_RUN_SECONDS: &str = "ledgerline_job_run_duration_seconds";
pub const JOBS_DEPTH: &str = "ledgerline_jobs_depth";
pub const JOBS_OLDEST_RUNNABLE_AGE: &str = "ledgerline_jobs_oldest_runnable_age_seconds";
pub const WEBHOOKS_RECEIVED: &str = "ledgerline_stripe_webhooks_received_total";
pub const WEBHOOKS_REFUSED: &str = "ledgerline_stripe_webhooks_refused_total";
pub const WORKERS_ALIVE: &str = "ledgerline_workers_alive";

const RUN_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once; later calls (tests start many apps in one
/// process) share it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(JOB_RUN_SECONDS.into()), RUN_BUCKETS)
                .expect("static, non-empty buckets")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(JOBS_ENQUEUED, "Jobs enqueued, by kind.");
    metrics::describe_counter!(JOBS_SUCCEEDED, "Job runs that succeeded, by kind.");
    metrics::describe_counter!(JOBS_FAILED, "Job runs that failed and will retry, by kind.");
    metrics::describe_counter!(JOBS_DEAD, "Jobs that gave up (dead), by kind.");
    metrics::describe_histogram!(
        JOB_RUN_SECONDS,
        metrics::Unit::Seconds,
        "How long one job run took, by kind."
    );
    metrics::describe_gauge!(JOBS_DEPTH, "Jobs by status right now.");
    metrics::describe_gauge!(
        JOBS_OLDEST_RUNNABLE_AGE,
        metrics::Unit::Seconds,
        "Age of the oldest job that is due and waiting for a worker."
    );
    metrics::describe_counter!(
        WEBHOOKS_RECEIVED,
        "Stripe webhook deliveries accepted, by outcome."
    );
    metrics::describe_counter!(
        WEBHOOKS_REFUSED,
        "Stripe webhook deliveries refused, by reason."
    );
    metrics::describe_gauge!(WORKERS_ALIVE, "Workers with a heartbeat in the last 30 s.");
}

/// A webhook delivery that was accepted: queued, ignored, rejected (mode) or duplicate.
pub fn webhook_received(outcome: &str) {
    metrics::counter!(WEBHOOKS_RECEIVED, "outcome" => outcome.to_string()).increment(1);
}

/// A webhook delivery refused before storage, by reason code.
pub fn webhook_refused(reason: &str) {
    metrics::counter!(WEBHOOKS_REFUSED, "reason" => reason.to_string()).increment(1);
}

pub fn job_enqueued(kind: &str) {
    metrics::counter!(JOBS_ENQUEUED, "kind" => kind.to_string()).increment(1);
}

/// One finished run: `outcome` is succeeded, retry or dead.
pub fn job_ran(kind: &str, outcome: &str, seconds: f64) {
    let name = match outcome {
        "succeeded" => JOBS_SUCCEEDED,
        "retry" => JOBS_FAILED,
        _ => JOBS_DEAD,
    };
    metrics::counter!(name, "kind" => kind.to_string()).increment(1);
    metrics::histogram!(JOB_RUN_SECONDS, "kind" => kind.to_string()).record(seconds);
}
