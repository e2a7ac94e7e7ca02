-- Shop API keys, sender pools, orders, delivery attempts, the durable job
-- queue, the order timeline and the development outbox.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE sender_pools (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    role           TEXT    NOT NULL CHECK (role IN ('primary', 'backup', 'masked')),
    from_name      TEXT    NOT NULL,
    from_address   TEXT    NOT NULL,
    relay_url      TEXT    NOT NULL,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    max_per_second INTEGER NOT NULL DEFAULT 50,
    position       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY,
    order_number    TEXT    NOT NULL UNIQUE,
    idempotency_key TEXT    UNIQUE,
    placed_at       INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    subtotal_minor  INTEGER NOT NULL,
    tax_minor       INTEGER NOT NULL,
    shipping_minor  INTEGER NOT NULL,
    discount_minor  INTEGER NOT NULL,
    total_minor     INTEGER NOT NULL,
    items_json      TEXT    NOT NULL,
    customer_email  TEXT    NOT NULL,
    customer_name   TEXT    NOT NULL,
    customer_phone  TEXT,
    account_kind    TEXT    NOT NULL CHECK (account_kind IN ('logged_in', 'social', 'guest')),
    customer_ref    TEXT,
    client_ip       TEXT,
    billing_json    TEXT,
    state           TEXT    NOT NULL,
    state_detail    TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX orders_by_state ON orders (state, updated_at);
CREATE INDEX orders_by_email ON orders (customer_email);

CREATE TABLE delivery_attempts (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES orders(id),
    attempt_no    INTEGER NOT NULL,
    pool_id       INTEGER NOT NULL REFERENCES sender_pools(id),
    message_id    TEXT    NOT NULL,
    verp_token    TEXT    NOT NULL UNIQUE,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    outcome       TEXT,
    smtp_code     INTEGER,
    smtp_text     TEXT,
    reason        TEXT,
    class         TEXT,
    UNIQUE (order_id, attempt_no)
);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    attempt_no  INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    lease_owner TEXT,
    lease_until INTEGER,
    created_at  INTEGER NOT NULL,
    UNIQUE (order_id, kind, attempt_no)
);
CREATE INDEX jobs_due ON jobs (state, due_at);

CREATE TABLE order_events (
    id       INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    at       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    detail   TEXT    NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, id);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    pool_id       INTEGER NOT NULL REFERENCES sender_pools(id),
    order_id      INTEGER REFERENCES orders(id),
    message_id    TEXT    NOT NULL,
    envelope_from TEXT    NOT NULL,
    envelope_to   TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    raw           TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
