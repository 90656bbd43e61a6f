-- Facts about this installation (when it was created, which demo seed it holds).
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are BIGINT ms since epoch, UTC.
CREATE TABLE app_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
