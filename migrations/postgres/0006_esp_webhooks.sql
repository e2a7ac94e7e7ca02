-- ESP webhook requests refused for their signature / credentials, counted per provider and
-- reason (bounded: one row per pair, not one per request).
CREATE TABLE webhook_rejections (
    provider TEXT   NOT NULL,
    reason   TEXT   NOT NULL,
    rejected BIGINT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at  BIGINT NOT NULL,
    PRIMARY KEY (provider, reason)
);
