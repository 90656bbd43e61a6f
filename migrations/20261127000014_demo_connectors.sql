-- DEMO_MODE's simulated connectors keep their state here, so a refund made in the browser, a
-- re-sync and a CRM push behave as they would against the real services, across restarts and
-- between `seed-demo` and the server. Nothing outside demo mode reads or writes these tables.

-- The simulated Stripe account: each object as Stripe's API would return it now.
CREATE TABLE demo_stripe_objects (
    object_type TEXT NOT NULL,               -- customer | subscription | invoice | charge | refund | dispute
    id TEXT NOT NULL,
    customer TEXT,                           -- the Stripe customer it belongs to (list filters)
    created BIGINT NOT NULL,                 -- Stripe's created (seconds): lists are newest first
    body TEXT NOT NULL,                      -- JSON
    PRIMARY KEY (object_type, id)
);
CREATE INDEX demo_stripe_objects_list ON demo_stripe_objects (object_type, customer, created, id);

-- The simulated CRM's contacts, HubSpot-like: numeric ids, a unique ledgerline_id property,
-- merges that leave only the primary.
CREATE TABLE demo_crm_contacts (
    seq BIGINT PRIMARY KEY NOT NULL,
    id TEXT NOT NULL UNIQUE,
    ledgerline_id TEXT UNIQUE,
    email TEXT,                              -- normalized, for search
    properties TEXT NOT NULL,                -- JSON object of strings
    merged_into TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX demo_crm_contacts_email ON demo_crm_contacts (email);
