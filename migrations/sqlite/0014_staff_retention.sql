-- Retention of staff and webhook data, and rollups that outlive the orders
-- retention deletes (engine::retention, engine::stats).

-- When a staff account was disabled (retention anonymises it after
-- `privacy.disabled_user_days`), and when it did. Accounts disabled before
-- this migration get their date from the first retention pass that sees them.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN anonymised_at INTEGER;

-- What the deleted orders had added to the rollups, per the same key as
-- `stats_daily`. A day is recomputed as live rows plus these, so deleting an
-- order never changes a dashboard number, however often its day is rebuilt.
CREATE TABLE stats_retired_daily (
    day                          INTEGER NOT NULL,
    pool_id                      INTEGER NOT NULL,
    provider                     TEXT    NOT NULL,
    network                      TEXT    NOT NULL,
    orders                       INTEGER NOT NULL DEFAULT 0,
    sent                         INTEGER NOT NULL DEFAULT 0,
    accepted                     INTEGER NOT NULL DEFAULT 0,
    bounced_recipient_permanent  INTEGER NOT NULL DEFAULT 0,
    bounced_sender_reputation    INTEGER NOT NULL DEFAULT 0,
    bounced_transient            INTEGER NOT NULL DEFAULT 0,
    bounced_content              INTEGER NOT NULL DEFAULT 0,
    complaints                   INTEGER NOT NULL DEFAULT 0,
    held                         INTEGER NOT NULL DEFAULT 0,
    reached                      INTEGER NOT NULL DEFAULT 0,
    ttr_0                        INTEGER NOT NULL DEFAULT 0,
    ttr_1                        INTEGER NOT NULL DEFAULT 0,
    ttr_2                        INTEGER NOT NULL DEFAULT 0,
    ttr_3                        INTEGER NOT NULL DEFAULT 0,
    ttr_4                        INTEGER NOT NULL DEFAULT 0,
    ttr_5                        INTEGER NOT NULL DEFAULT 0,
    ttr_6                        INTEGER NOT NULL DEFAULT 0,
    ttr_7                        INTEGER NOT NULL DEFAULT 0,
    ttr_8                        INTEGER NOT NULL DEFAULT 0,
    ttr_9                        INTEGER NOT NULL DEFAULT 0,
    ttr_10                       INTEGER NOT NULL DEFAULT 0,
    ttr_11                       INTEGER NOT NULL DEFAULT 0,
    ttr_12                       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, pool_id, provider, network)
);

-- The same for `stats_attempts_daily`.
CREATE TABLE stats_retired_attempts_daily (
    day        INTEGER NOT NULL,
    attempt_no INTEGER NOT NULL,
    sent       INTEGER NOT NULL,
    accepted   INTEGER NOT NULL,
    PRIMARY KEY (day, attempt_no)
);

-- The same for the risk calibration (engine::risk::calibration): deleted scored
-- orders per arrival day and score decile.
CREATE TABLE stats_retired_risk (
    day        INTEGER NOT NULL,
    decile     INTEGER NOT NULL,
    orders     INTEGER NOT NULL,
    score_sum  INTEGER NOT NULL,
    bounced    INTEGER NOT NULL,
    held       INTEGER NOT NULL,
    PRIMARY KEY (day, decile)
);

-- What the retention pass looks for, without scanning rows it already handled.
CREATE INDEX audit_log_ip_untruncated ON audit_log (at)
    WHERE ip IS NOT NULL AND ip NOT LIKE '%/%';
CREATE INDEX webhook_events_finished ON webhook_events (created_at) WHERE state <> 'pending';
CREATE INDEX login_throttle_by_last_failure ON login_throttle (last_failure_at);
