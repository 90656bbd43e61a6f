-- The durable job queue: side effects (CRM sync, enrichment, refunds, webhook processing) run
-- from here, so a slow third party never holds up a request and nothing is lost or run twice.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,                   -- JSON
    status TEXT NOT NULL,                    -- queued | running | succeeded | failed_retrying | dead | cancelled
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    lease_expires_at BIGINT,
    last_error TEXT,
    dedupe_key TEXT,
    customer_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_runnable ON jobs (status, run_at);
CREATE INDEX jobs_customer ON jobs (customer_id, created_at);
-- A dedupe key is unique among jobs that will still run, so repeated requests coalesce.
CREATE UNIQUE INDEX jobs_dedupe_pending ON jobs (dedupe_key)
    WHERE status IN ('queued', 'running', 'failed_retrying');

CREATE TABLE job_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    attempt BIGINT NOT NULL,
    worker_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,                   -- succeeded | retry | dead
    error TEXT
);
CREATE INDEX job_attempts_job ON job_attempts (job_id, attempt);

CREATE TABLE worker_heartbeats (
    worker_id TEXT PRIMARY KEY NOT NULL,
    started_at BIGINT NOT NULL,
    beat_at BIGINT NOT NULL
);
