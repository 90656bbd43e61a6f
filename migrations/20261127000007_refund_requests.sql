-- Refunds staff ask for. The request id is Stripe's Idempotency-Key, so a double click, a
-- retry or a crash can never refund twice.
CREATE TABLE refund_requests (
    id TEXT PRIMARY KEY NOT NULL,            -- rr_…
    customer_id TEXT,
    charge_id TEXT NOT NULL,
    amount BIGINT NOT NULL,                  -- minor units
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,                    -- duplicate | fraudulent | requested_by_customer
    note TEXT NOT NULL,
    status TEXT NOT NULL,                    -- pending_approval | approved | executed | failed | rejected
    requested_by TEXT NOT NULL,
    requested_by_label TEXT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    stripe_refund_id TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX refund_requests_charge ON refund_requests (charge_id, status);
CREATE INDEX refund_requests_status ON refund_requests (status, created_at);
