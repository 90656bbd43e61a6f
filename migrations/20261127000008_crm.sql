-- The CRM side of a customer's identity and the history of every push to it.
-- crm_contact_id is set once a sync (or the CRM backfill) has found or created the contact;
-- crm_pushed holds the properties last accepted by the CRM (JSON), so a sync that would change
-- nothing makes no call and drift is "CRM now" against it.
ALTER TABLE customers ADD COLUMN crm_contact_id TEXT;
ALTER TABLE customers ADD COLUMN crm_pushed TEXT;
ALTER TABLE customers ADD COLUMN crm_synced_at BIGINT;
CREATE UNIQUE INDEX customers_crm_contact ON customers (crm_contact_id);
CREATE INDEX customers_product_user ON customers (product_user_id);

CREATE TABLE crm_syncs (
    id TEXT PRIMARY KEY NOT NULL,            -- cs_…
    customer_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    cause TEXT NOT NULL,                     -- billing | manual | backfill
    result TEXT NOT NULL,                    -- created | updated | unchanged | linked | conflict | failed
    contact_id TEXT,
    changed TEXT NOT NULL,                   -- JSON: property → {before, after}
    error TEXT
);
CREATE INDEX crm_syncs_customer ON crm_syncs (customer_id, at);

-- Links the identity rules refused to make on their own; a person decides (audited).
CREATE TABLE identity_conflicts (
    id TEXT PRIMARY KEY NOT NULL,            -- ic_…
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,                      -- email_ambiguous | email_taken
    email_normalized TEXT,
    candidates TEXT NOT NULL,                -- JSON: CRM contact ids (and their ledgerline ids)
    status TEXT NOT NULL,                    -- open | linked | kept_separate
    resolved_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX identity_conflicts_open ON identity_conflicts (customer_id, kind) WHERE status = 'open';
