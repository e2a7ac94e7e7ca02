-- WhatsApp beside SMS. The customer's consent to business messages on
-- WhatsApp, as the shop sent it at intake (`customer.whatsapp_opt_in`):
-- without it Rebound never sends one.
ALTER TABLE orders ADD COLUMN whatsapp_opt_in BOOLEAN NOT NULL DEFAULT FALSE;

-- WhatsApp messages are rows of `sms_messages` with kind 'whatsapp', so status
-- callbacks, erasure and retention treat them like SMS.
ALTER TABLE sms_messages DROP CONSTRAINT sms_messages_kind_check;
ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_kind_check
    CHECK (kind IN ('sms', 'call', 'whatsapp'));
