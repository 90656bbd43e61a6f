-- Customer search and the customer list at 100,000 customers (BENCHMARKS.md, "Customer 360").
-- A prefix search narrows by an index on the first two characters, then LIKE checks the rest:
-- the same plan on both backends, whatever the database's collation (a plain index cannot
-- serve LIKE 'abc%' on PostgreSQL outside the C collation).
CREATE INDEX customers_email_head ON customers (substr(email_normalized, 1, 2));
CREATE INDEX customers_name_head ON customers (substr(lower(name), 1, 2));
-- The list pages newest change first, optionally within one account state.
CREATE INDEX customers_updated ON customers (updated_at, id);
CREATE INDEX customers_state_updated ON customers (account_state, updated_at, id);
