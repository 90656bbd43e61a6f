-- Every Stripe event we accept, stored raw before anything else happens to it. The event id is
-- the primary key, so a redelivery can never be stored (or processed) twice.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY NOT NULL,            -- evt_…
    event_type TEXT NOT NULL,
    created BIGINT NOT NULL,                 -- Stripe's timestamp, seconds (never used for ordering)
    livemode BIGINT NOT NULL,                -- 0 | 1
    api_version TEXT,
    account TEXT,
    object_type TEXT,
    object_id TEXT,
    stripe_customer_id TEXT,
    payload TEXT NOT NULL,                   -- the raw JSON body as received
    status TEXT NOT NULL,                    -- received | processed | failed | ignored | rejected
    status_reason TEXT,
    duplicate_count BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    processed_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stripe_events_received ON stripe_events (received_at, id);
CREATE INDEX stripe_events_status ON stripe_events (status, received_at);
CREATE INDEX stripe_events_customer ON stripe_events (stripe_customer_id, received_at);

-- Internal customers: the primary identity every system links to.
CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,            -- cust_…
    name TEXT,
    email TEXT,
    email_normalized TEXT,
    product_user_id TEXT,
    account_state TEXT NOT NULL,             -- active | trialing | past_due | unpaid | canceled | none
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customers_email ON customers (email_normalized);
CREATE INDEX customers_state ON customers (account_state);

-- The billing mirror. `version` is the object's own progress (see stripe/mirror/objects.rs):
-- an upsert only replaces a row whose version is not newer. Times are ms since the epoch, UTC;
-- money is integer minor units with its currency.
CREATE TABLE stripe_customers (
    id TEXT PRIMARY KEY NOT NULL,            -- cus_…
    customer_id TEXT,
    email TEXT,
    name TEXT,
    currency TEXT,
    delinquent BIGINT NOT NULL,
    deleted BIGINT NOT NULL,
    livemode BIGINT NOT NULL,
    metadata_user_id TEXT,
    stripe_created BIGINT,
    version TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stripe_customers_customer ON stripe_customers (customer_id);

CREATE TABLE stripe_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,            -- sub_…
    stripe_customer_id TEXT,
    status TEXT,
    price_id TEXT,
    product_id TEXT,
    plan_name TEXT,
    unit_amount BIGINT,
    currency TEXT,
    billing_interval TEXT,
    quantity BIGINT,
    current_period_start BIGINT,
    current_period_end BIGINT,
    trial_start BIGINT,
    trial_end BIGINT,
    cancel_at_period_end BIGINT NOT NULL,
    canceled_at BIGINT,
    ended_at BIGINT,
    stripe_created BIGINT,
    version TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stripe_subscriptions_customer ON stripe_subscriptions (stripe_customer_id);

CREATE TABLE stripe_invoices (
    id TEXT PRIMARY KEY NOT NULL,            -- in_…
    stripe_customer_id TEXT,
    subscription_id TEXT,
    number TEXT,
    status TEXT,
    currency TEXT,
    amount_due BIGINT,
    amount_paid BIGINT,
    amount_remaining BIGINT,
    total BIGINT,
    attempt_count BIGINT,
    next_payment_attempt BIGINT,
    hosted_invoice_url TEXT,
    paid_at BIGINT,
    stripe_created BIGINT,
    version TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stripe_invoices_customer ON stripe_invoices (stripe_customer_id, status);

CREATE TABLE stripe_charges (
    id TEXT PRIMARY KEY NOT NULL,            -- ch_… / py_…
    stripe_customer_id TEXT,
    payment_intent_id TEXT,
    invoice_id TEXT,
    amount BIGINT,
    amount_captured BIGINT,
    amount_refunded BIGINT,
    currency TEXT,
    status TEXT,
    paid BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    disputed BIGINT NOT NULL,
    failure_code TEXT,
    failure_message TEXT,
    stripe_created BIGINT,
    version TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stripe_charges_customer ON stripe_charges (stripe_customer_id, stripe_created);

CREATE TABLE stripe_refunds (
    id TEXT PRIMARY KEY NOT NULL,            -- re_…
    charge_id TEXT,
    payment_intent_id TEXT,
    amount BIGINT,
    currency TEXT,
    status TEXT,
    reason TEXT,
    stripe_created BIGINT,
    version TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stripe_refunds_charge ON stripe_refunds (charge_id);

CREATE TABLE stripe_disputes (
    id TEXT PRIMARY KEY NOT NULL,            -- dp_… / du_…
    charge_id TEXT,
    amount BIGINT,
    currency TEXT,
    status TEXT,
    reason TEXT,
    stripe_created BIGINT,
    version TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stripe_disputes_charge ON stripe_disputes (charge_id);

-- The customer timeline, newest first per customer; ids derive from their cause so a
-- reprocessed event cannot add an entry twice.
CREATE TABLE customer_events (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    source TEXT NOT NULL,                    -- billing | crm | ticket | staff | job
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    ref_type TEXT,
    ref_id TEXT,
    amount BIGINT,
    currency TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX customer_events_timeline ON customer_events (customer_id, at, id);
