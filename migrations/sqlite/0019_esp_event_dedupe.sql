-- ESP webhook events already applied, one row per provider event (for one recipient): a
-- provider retrying after a timeout posts the same event again, and it must be stored once.
-- `event_key` is the SHA-256 (hex) of the provider's event id (SendGrid `sg_event_id`, SES
-- message id + type + recipient + time, ...): ids may name the recipient, hashes do not.
CREATE TABLE esp_events (
    provider    TEXT    NOT NULL,
    event_key   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    hard        BOOLEAN NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, event_key)
);
CREATE INDEX esp_events_received ON esp_events (received_at);

-- Event kinds a provider posted that Rebound does not know, counted per provider and kind
-- (answered 200 so the provider keeps the endpoint; shown on the admin webhooks page).
CREATE TABLE esp_unknown_events (
    provider TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    seen     INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, kind)
);
