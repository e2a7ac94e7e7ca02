-- Bounces from every source, and the suppression list.
CREATE TABLE bounces (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    order_id    INTEGER REFERENCES orders(id),
    attempt_id  INTEGER REFERENCES delivery_attempts(id),
    matched_by  TEXT    NOT NULL,
    recipient   TEXT,
    reason      TEXT    NOT NULL,
    class       TEXT    NOT NULL,
    hard        BOOLEAN NOT NULL,
    status      TEXT,
    reply_code  INTEGER,
    rule        TEXT    NOT NULL,
    diagnostic  TEXT    NOT NULL,
    raw         TEXT
);
CREATE INDEX bounces_by_order ON bounces (order_id, id);
CREATE INDEX bounces_by_time ON bounces (received_at);

CREATE TABLE suppressions (
    id          INTEGER PRIMARY KEY,
    email       TEXT    NOT NULL UNIQUE,
    reason      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    released_at INTEGER,
    released_by TEXT
);

-- Which classifier rule decided a synchronous rejection (for the rules page).
ALTER TABLE delivery_attempts ADD COLUMN rule TEXT;
