-- Reputation and risk (engine::risk): what network each order came from and the
-- email-health risk score computed at intake, with its factors.
--
-- network_kind: 'vpn', 'datacenter', 'tor' or 'residential' (residential or unknown:
-- no client IP, or no source knows it). network_name / network_asn: the list label or
-- the ASN organisation. ip_country: ISO 3166-1 alpha-2 when a country database is set.
-- risk_score 0-100 and risk_json (the factors, each with its points) are NULL for
-- orders stored before risk scoring existed. route_pool_id: the pool the routing
-- policy chose for the first attempt of a high-risk order. inline_receipt: the shop
-- should show the receipt on its thank-you page (high risk).
ALTER TABLE orders ADD COLUMN network_kind TEXT NOT NULL DEFAULT 'residential';
ALTER TABLE orders ADD COLUMN network_name TEXT;
ALTER TABLE orders ADD COLUMN network_asn BIGINT;
ALTER TABLE orders ADD COLUMN ip_country TEXT;
ALTER TABLE orders ADD COLUMN risk_score BIGINT;
ALTER TABLE orders ADD COLUMN risk_json TEXT;
ALTER TABLE orders ADD COLUMN route_pool_id BIGINT;
ALTER TABLE orders ADD COLUMN inline_receipt BOOLEAN NOT NULL DEFAULT FALSE;

-- The VPN-flagged orders page: only flagged orders, newest first or riskiest first.
CREATE INDEX orders_flagged ON orders (id) WHERE network_kind <> 'residential';
CREATE INDEX orders_flagged_by_risk ON orders (risk_score, id) WHERE network_kind <> 'residential';

-- The rollups gain the order's network as a dimension (VPN vs non-VPN trends, and the
-- learned bounce propensity per network kind x provider x pool). Rollups are derived
-- data: the table is rebuilt and the watermark reset, so the next refresh recomputes
-- every day from the raw rows.
DROP TABLE stats_daily;
CREATE TABLE stats_daily (
    day                          BIGINT  NOT NULL,
    pool_id                      BIGINT  NOT NULL,
    provider                     TEXT    NOT NULL CHECK (provider IN ('gmail', 'yahoo', 'microsoft', 'other')),
    network                      TEXT    NOT NULL DEFAULT 'residential' CHECK (network IN ('vpn', 'datacenter', 'tor', 'residential')),
    orders                       BIGINT  NOT NULL DEFAULT 0,
    sent                         BIGINT  NOT NULL DEFAULT 0,
    accepted                     BIGINT  NOT NULL DEFAULT 0,
    bounced_recipient_permanent  BIGINT  NOT NULL DEFAULT 0,
    bounced_sender_reputation    BIGINT  NOT NULL DEFAULT 0,
    bounced_transient            BIGINT  NOT NULL DEFAULT 0,
    bounced_content              BIGINT  NOT NULL DEFAULT 0,
    complaints                   BIGINT  NOT NULL DEFAULT 0,
    held                         BIGINT  NOT NULL DEFAULT 0,
    reached                      BIGINT  NOT NULL DEFAULT 0,
    ttr_0                        BIGINT  NOT NULL DEFAULT 0,
    ttr_1                        BIGINT  NOT NULL DEFAULT 0,
    ttr_2                        BIGINT  NOT NULL DEFAULT 0,
    ttr_3                        BIGINT  NOT NULL DEFAULT 0,
    ttr_4                        BIGINT  NOT NULL DEFAULT 0,
    ttr_5                        BIGINT  NOT NULL DEFAULT 0,
    ttr_6                        BIGINT  NOT NULL DEFAULT 0,
    ttr_7                        BIGINT  NOT NULL DEFAULT 0,
    ttr_8                        BIGINT  NOT NULL DEFAULT 0,
    ttr_9                        BIGINT  NOT NULL DEFAULT 0,
    ttr_10                       BIGINT  NOT NULL DEFAULT 0,
    ttr_11                       BIGINT  NOT NULL DEFAULT 0,
    ttr_12                       BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (day, pool_id, provider, network)
);
UPDATE stats_state SET watermark = 0, lease_until = 0;

-- Pool health (engine::delivery::guard): a pool whose rolling bounce or complaint
-- rate crosses the thresholds is demoted (tried after the others) or paused
-- (enabled = FALSE, with the reason). health_since: rates are counted from here, so
-- an admin's resume starts the pool with a clean slate instead of re-pausing it on
-- the traffic that paused it.
ALTER TABLE sender_pools ADD COLUMN health_state TEXT NOT NULL DEFAULT 'ok' CHECK (health_state IN ('ok', 'demoted', 'paused'));
ALTER TABLE sender_pools ADD COLUMN health_reason TEXT;
ALTER TABLE sender_pools ADD COLUMN health_changed_at BIGINT;
ALTER TABLE sender_pools ADD COLUMN health_since BIGINT NOT NULL DEFAULT 0;

-- Spreading and shaping (engine::delivery::pace): one row per pool x recipient
-- provider. next_at is the GCRA "theoretical arrival time" of the next send: a send
-- may go when next_at - now is within the burst allowance, and pushes it on by one
-- interval (times slow_factor while a shaping rule holds the pair slowed). Shared by
-- every process, so the spread holds across them; waiting sends stay in the jobs table.
CREATE TABLE send_pace (
    pool_id     BIGINT NOT NULL REFERENCES sender_pools(id),
    provider    TEXT    NOT NULL,
    next_at     BIGINT NOT NULL DEFAULT 0,
    slow_factor BIGINT NOT NULL DEFAULT 1,
    slow_until  BIGINT NOT NULL DEFAULT 0,
    slow_rule   TEXT,
    slow_reason TEXT,
    PRIMARY KEY (pool_id, provider)
);

-- A send the pacing moved to a later slot keeps that slot: when it falls due it
-- goes without queueing for another (the slot was already counted in next_at).
ALTER TABLE jobs ADD COLUMN slot_at BIGINT;
