-- Browsers a staff member has signed in from: the cookie holds a random token, this table its
-- SHA-256. Such a browser is exempt from the account-wide sign-in throttle, so a flood from
-- many addresses cannot lock an account's owner out of a browser they use.
CREATE TABLE staff_devices (
    token_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX staff_devices_staff ON staff_devices (staff_id);
