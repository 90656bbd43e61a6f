-- The refund form's one-time key: a double click or a resubmitted form finds the first request
-- instead of making a second one (and refunding twice). NULL for requests made without a form.
ALTER TABLE refund_requests ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX refund_requests_request_key ON refund_requests (requested_by, request_key);
