-- Messaging: text messages and calls to customers, and the signed events
-- pushed to the shop's webhook with every delivery try.

-- Every SMS and call Rebound asked a provider for (or kept, with `capture`).
CREATE TABLE sms_messages (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER REFERENCES orders(id),
    kind         TEXT    NOT NULL CHECK (kind IN ('sms', 'call')),
    to_phone     TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    provider     TEXT    NOT NULL,
    provider_sid TEXT,
    status       TEXT    NOT NULL,
    error        TEXT,
    requested_by TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX sms_messages_by_order ON sms_messages (order_id, id);
CREATE UNIQUE INDEX sms_messages_by_sid ON sms_messages (provider, provider_sid);

-- Events for the shop (`receipt.held`, …), delivered by any process.
CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX webhook_events_due ON webhook_events (state, next_attempt_at);

-- Every delivery try of an event.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES webhook_events(id),
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, id);
