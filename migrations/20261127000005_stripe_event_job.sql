-- The job processing each event (the latest one after a replay), so the webhooks page can show
-- attempts and errors without guessing from dedupe keys.
ALTER TABLE stripe_events ADD COLUMN job_id TEXT;
