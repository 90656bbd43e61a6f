-- The CRM as last read by the import (the CRM backfill and the duplicates/drift scan), so the
-- duplicates and drift pages are queries, not live crawls of the CRM.
CREATE TABLE crm_contacts (
    id TEXT PRIMARY KEY NOT NULL,            -- the CRM's contact id
    email_normalized TEXT,
    ledgerline_id TEXT,                      -- our internal id, when the contact carries one
    properties TEXT NOT NULL,                -- JSON, as last read or pushed
    seen_at BIGINT NOT NULL,                 -- the import run that last saw it (its start time)
    merged_into TEXT                         -- merged away by us into this contact
);
CREATE INDEX crm_contacts_email ON crm_contacts (email_normalized);
CREATE INDEX crm_contacts_ledgerline ON crm_contacts (ledgerline_id);

-- One row: where the import stands. Resumable: the cursor is saved with every page.
CREATE TABLE crm_import (
    id TEXT PRIMARY KEY NOT NULL,            -- always 'contacts'
    cursor TEXT,
    phase TEXT NOT NULL,                     -- importing | done
    contacts BIGINT NOT NULL,                -- read in this run
    linked BIGINT NOT NULL,
    conflicts BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    drifted BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);

-- Mapped fields where the CRM disagrees with the mirror, as of the last scan.
CREATE TABLE crm_drift (
    customer_id TEXT NOT NULL,
    field TEXT NOT NULL,
    ours TEXT,
    theirs TEXT,
    scanned_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, field)
);

-- Every duplicate merged by us, so executing a merge plan twice calls the CRM once.
CREATE TABLE crm_merges (
    duplicate_id TEXT PRIMARY KEY NOT NULL,
    survivor_id TEXT NOT NULL,
    merged_by TEXT,
    at BIGINT NOT NULL
);
