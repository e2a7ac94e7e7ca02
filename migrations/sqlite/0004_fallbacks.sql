-- Fallbacks: when email failed, how the receipt still reaches the customer.
-- Reach: when the customer got the receipt, by which channel.
ALTER TABLE orders ADD COLUMN reached_at INTEGER;
ALTER TABLE orders ADD COLUMN reached_via TEXT;
-- The fallback decision (NULL until the order needed one).
ALTER TABLE orders ADD COLUMN fallback_at INTEGER;
ALTER TABLE orders ADD COLUMN fallback_path TEXT;
ALTER TABLE orders ADD COLUMN fallback_why TEXT;
CREATE INDEX orders_fallback_due ON orders (state, fallback_at);

-- Secure receipt links: only the SHA-256 of the token is kept.
CREATE TABLE receipt_links (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    token_hash  TEXT    NOT NULL UNIQUE,
    email       TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX receipt_links_by_order ON receipt_links (order_id, id);

-- Every use of a link: open, pdf, fresh-link request.
CREATE TABLE link_uses (
    id         INTEGER PRIMARY KEY,
    link_id    INTEGER NOT NULL REFERENCES receipt_links(id),
    at         INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    ip_prefix  TEXT    NOT NULL,
    user_agent TEXT    NOT NULL
);
CREATE INDEX link_uses_by_link ON link_uses (link_id, id);

-- Account notifications for logged-in customers (read by the shop's API client).
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    customer_ref TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    seen_at      INTEGER
);
CREATE INDEX notifications_by_customer ON notifications (customer_ref, id);

-- The support queue: held orders a person must resolve.
CREATE TABLE support_cases (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL UNIQUE REFERENCES orders(id),
    priority        INTEGER NOT NULL,
    reason          TEXT    NOT NULL,
    opened_at       INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('open', 'resolved')),
    working_by      TEXT,
    working_since   INTEGER,
    resolved_at     INTEGER,
    resolved_by     TEXT,
    resolution_note TEXT
);
CREATE INDEX support_cases_open ON support_cases (status, priority, due_at);

-- Fixed-window rate limits shared by every process (key = what is limited).
CREATE TABLE rate_limits (
    key          TEXT    PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL
);

-- `receipt` or `masked_link` (the fallback re-send through the masked pool).
ALTER TABLE delivery_attempts ADD COLUMN purpose TEXT NOT NULL DEFAULT 'receipt';
