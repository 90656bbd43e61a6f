-- Staff accounts, their sessions, login throttling and the tamper-evident audit log.
-- Portable SQL (SQLite and PostgreSQL). Times: BIGINT ms since epoch, UTC. Flags: BIGINT 0/1.

CREATE TABLE staff (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,              -- trimmed, lower-cased
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,                      -- NULL until an invite is accepted
    active BIGINT NOT NULL DEFAULT 1,
    must_reset_password BIGINT NOT NULL DEFAULT 0,
    -- Part of every session's auth hash: bumping it ends all of this person's sessions.
    session_epoch BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One-time links (invites and password resets). Only a SHA-256 of the token is stored.
CREATE TABLE staff_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    purpose TEXT NOT NULL,                   -- invite | reset
    created_by TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX staff_tokens_staff ON staff_tokens (staff_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data TEXT NOT NULL,                      -- JSON
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed-login counters per key ("account:EMAIL" or "ip:ADDR").
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,         -- 1, 2, 3… with no gaps: a gap is a deleted row
    id TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,                -- staff | system | webhook | api_key
    actor_id TEXT,
    actor_label TEXT NOT NULL,               -- staff email, "system", "webhook", "api-key:NAME"
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    customer_id TEXT,
    request_id TEXT,
    ip TEXT,
    user_agent TEXT,
    outcome TEXT NOT NULL,                   -- ok | denied | failed
    details TEXT NOT NULL,                   -- JSON
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_label, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_customer ON audit_log (customer_id, seq);
CREATE INDEX audit_log_outcome ON audit_log (outcome, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's head. Appends lock this row first, so concurrent writers queue and the chain
-- never forks.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Results of `audit verify` (and the periodic check), newest last; /api/ready shows the latest.
CREATE TABLE audit_verifications (
    id TEXT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    first_bad_seq BIGINT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_verifications_at ON audit_verifications (at);
