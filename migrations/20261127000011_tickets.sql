-- Support tickets opened by the product through the intake API, and their conversation.
-- A ticket is unique per (API key, idempotency key): a retried request finds the first ticket
-- instead of making a second, even when both arrive at once.
CREATE TABLE tickets (
    id TEXT PRIMARY KEY NOT NULL,            -- tkt_…
    number BIGINT NOT NULL UNIQUE,           -- what people quote: #1001
    api_key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,           -- the caller's Idempotency-Key, or "auto:" + body hash
    request_hash TEXT NOT NULL,              -- SHA-256 of the parsed request, to refuse key reuse
    customer_id TEXT,
    product_user_id TEXT,
    email TEXT,
    requester_name TEXT,
    subject TEXT NOT NULL,
    category TEXT,
    queue TEXT NOT NULL,                     -- billing_urgent | general
    priority TEXT NOT NULL,                  -- urgent | high | normal
    route_reasons TEXT NOT NULL,             -- JSON array of sentences
    status TEXT NOT NULL,                    -- received | open | pending | solved
    assignee_id TEXT,
    sla_due_at BIGINT NOT NULL,
    snapshot TEXT NOT NULL,                  -- JSON: the account as it was when the ticket arrived
    helpdesk_id TEXT,                        -- the copy's id in the external help desk
    first_response_at BIGINT,
    solved_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX tickets_idempotency ON tickets (api_key_id, idempotency_key);
CREATE INDEX tickets_inbox ON tickets (status, queue, created_at, id);
CREATE INDEX tickets_due ON tickets (status, sla_due_at);
CREATE INDEX tickets_customer ON tickets (customer_id, created_at);

-- The conversation: the customer's message, staff replies and internal notes, oldest first.
CREATE TABLE ticket_messages (
    id TEXT PRIMARY KEY NOT NULL,            -- tm_…
    ticket_id TEXT NOT NULL,
    kind TEXT NOT NULL,                      -- customer | reply | note
    author TEXT NOT NULL,                    -- the requester's email, or the staff member's
    author_id TEXT,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, created_at, id);

-- Named counters handed out under a row lock (ticket numbers start at 1001).
CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('ticket', 1000);
