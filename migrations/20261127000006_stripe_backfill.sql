-- Where each resource's backfill stands, so an interrupted run resumes at its last page.
CREATE TABLE stripe_backfill (
    resource TEXT PRIMARY KEY NOT NULL,      -- customer | subscription | invoice | charge | refund
    cursor TEXT,                             -- the last object id applied (Stripe's starting_after)
    done BIGINT NOT NULL,
    objects BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
