-- Sessions are now stored under SHA-256 of their id, never the id itself. Rows written before
-- hold plain ids that no cookie will ever hash to: remove them (everyone signs in once more).
DELETE FROM sessions;
