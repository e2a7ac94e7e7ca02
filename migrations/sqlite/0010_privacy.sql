-- Privacy (engine::retention, engine::erasure). The retention pass runs in every worker
-- process but only one at a time: a lease here, like `stats_state`.
CREATE TABLE privacy_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    lease_until INTEGER NOT NULL,
    last_run_at INTEGER NOT NULL
);
INSERT INTO privacy_state (id, lease_until, last_run_at) VALUES (1, 0, 0);

-- When the customer's personal data on this order was erased (`rebound privacy erase`).
ALTER TABLE orders ADD COLUMN erased_at INTEGER;

-- What the retention pass looks for, without scanning rows it already handled.
CREATE INDEX bounces_raw_kept ON bounces (received_at) WHERE raw IS NOT NULL;
CREATE INDEX orders_ip_untruncated ON orders (created_at)
    WHERE client_ip IS NOT NULL AND client_ip NOT LIKE '%/%';
