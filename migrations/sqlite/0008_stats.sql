-- Dashboard rollups (engine::stats): per UTC day, sender pool and recipient mailbox
-- provider, so the overview and the trend charts read a few hundred rows instead of
-- scanning orders, attempts and bounces. Rebuilt day by day by `stats::refresh`.
--
-- `day` is days since 1970-01-01 (UTC). Send counters (sent, accepted, bounced_*,
-- complaints) are dated by the attempt's end / the bounce's arrival and carry the pool
-- that sent (0: a bounce tied to no attempt). Order counters (orders, held, reached,
-- ttr_*) are dated by the order's arrival (a cohort: "of the orders placed that day")
-- and sit on pool 0. ttr_N counts reached orders by minutes from intake to reach, in
-- the buckets of `stats::TTR_EDGES_MIN` (< 1, 1-2, 2-5, 5-10, 10-15, 15-30, 30-60,
-- 60-120, 120-240, 240-720, 720-1440, 1440-4320, >= 4320).
CREATE TABLE stats_daily (
    day                          INTEGER NOT NULL,
    pool_id                      INTEGER NOT NULL,
    provider                     TEXT    NOT NULL CHECK (provider IN ('gmail', 'yahoo', 'microsoft', 'other')),
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
    PRIMARY KEY (day, pool_id, provider)
);

-- Receipt send attempts and how many were accepted, by attempt number (retry success).
CREATE TABLE stats_attempts_daily (
    day        INTEGER NOT NULL,
    attempt_no INTEGER NOT NULL,
    sent       INTEGER NOT NULL,
    accepted   INTEGER NOT NULL,
    PRIMARY KEY (day, attempt_no)
);

-- One row: how far the rollups are up to date, and who is refreshing them now.
CREATE TABLE stats_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    watermark    INTEGER NOT NULL,
    lease_until  INTEGER NOT NULL,
    refreshed_at INTEGER NOT NULL
);
INSERT INTO stats_state (id, watermark, lease_until, refreshed_at) VALUES (1, 0, 0, 0);

-- What a refresh reads by time.
CREATE INDEX orders_by_created ON orders (created_at);
CREATE INDEX orders_by_reached ON orders (reached_at);
CREATE INDEX delivery_attempts_by_finished ON delivery_attempts (finished_at);

-- Generated history (`rebound demo seed`), removable with `rebound demo clear`.
ALTER TABLE orders ADD COLUMN demo BOOLEAN NOT NULL DEFAULT FALSE;
