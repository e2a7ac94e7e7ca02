-- ESP webhook requests refused for their signature / credentials, counted per provider and
-- reason (bounded: one row per pair, not one per request).
CREATE TABLE webhook_rejections (
    provider TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    rejected INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, reason)
);
