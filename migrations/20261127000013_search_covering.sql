-- The two first-characters indexes of migration 0012 now carry the value and the id, so prefix
-- and typo searches read candidates from the index alone (no table lookups): a typo search at
-- 100,000 customers went from 38 ms to a few on SQLite (BENCHMARKS.md).
DROP INDEX customers_email_head;
DROP INDEX customers_name_head;
CREATE INDEX customers_email_head ON customers (substr(email_normalized, 1, 2), email_normalized, id);
CREATE INDEX customers_name_head ON customers (substr(lower(name), 1, 2), lower(name), id);
