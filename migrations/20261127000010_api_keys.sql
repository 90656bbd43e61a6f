-- Keys the product's backend uses to call Ledgerline's API (support intake). Only a SHA-256 of
-- each key is kept: keys are 256-bit random, so a fast hash is enough and lookup is by index.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,            -- key_…
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,                    -- the key's first characters, to recognise it
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,                    -- space-separated, e.g. "tickets:write"
    created_by TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    revoked_by TEXT
);
