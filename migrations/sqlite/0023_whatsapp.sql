-- WhatsApp beside SMS. The customer's consent to business messages on
-- WhatsApp, as the shop sent it at intake (`customer.whatsapp_opt_in`):
-- without it Rebound never sends one.
ALTER TABLE orders ADD COLUMN whatsapp_opt_in BOOLEAN NOT NULL DEFAULT FALSE;

-- WhatsApp messages are rows of `sms_messages` with kind 'whatsapp', so status
-- callbacks, erasure and retention treat them like SMS. SQLite cannot change a
-- CHECK constraint in place: the table is rebuilt with its rows and indexes
-- (nothing references it).
CREATE TABLE sms_messages_new (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER REFERENCES orders(id),
    kind         TEXT    NOT NULL CHECK (kind IN ('sms', 'call', 'whatsapp')),
    to_phone     TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    provider     TEXT    NOT NULL,
    provider_sid TEXT,
    status       TEXT    NOT NULL,
    error        TEXT,
    requested_by TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
INSERT INTO sms_messages_new (id, order_id, kind, to_phone, body, provider, provider_sid,
                              status, error, requested_by, created_at, updated_at)
    SELECT id, order_id, kind, to_phone, body, provider, provider_sid,
           status, error, requested_by, created_at, updated_at FROM sms_messages;
DROP TABLE sms_messages;
ALTER TABLE sms_messages_new RENAME TO sms_messages;
CREATE INDEX sms_messages_by_order ON sms_messages (order_id, id);
CREATE UNIQUE INDEX sms_messages_by_sid ON sms_messages (provider, provider_sid);
