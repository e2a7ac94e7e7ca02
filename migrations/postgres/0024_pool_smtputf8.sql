-- A sender pool whose relay path carries SMTPUTF8 (RFC 6531): only then does
-- intake accept a customer address with a non-ASCII local part, and only such
-- pools send it.
ALTER TABLE sender_pools ADD COLUMN smtputf8 BOOLEAN NOT NULL DEFAULT FALSE;
