-- The webhooks page's customer filter index now takes an event in once it has left `received`
-- (processed, failed, ignored, rejected), so acknowledging a delivery no longer writes to it.
-- Its key is random across customers: each new entry dirtied one more page per event, which
-- SQLite writes whole to its WAL at commit; it was a third of the acknowledgement's cost
-- (BENCHMARKS.md, "A committer thread"). Events still waiting for processing are few and are
-- found through stripe_events_status instead (stripe/webhooks.rs).
DROP INDEX stripe_events_customer;
CREATE INDEX stripe_events_customer ON stripe_events (stripe_customer_id, received_at)
    WHERE status <> 'received';
