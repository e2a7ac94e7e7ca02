-- Consecutive soft bounces per recipient: a deferral or a transient bounce adds one, an
-- accepted receipt or an ESP `delivered` event sets it back to 0.
CREATE TABLE soft_bounces (
    email   TEXT    PRIMARY KEY,
    count   INTEGER NOT NULL,
    last_at INTEGER NOT NULL
);
