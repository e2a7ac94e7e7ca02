-- Relay health (delivery::guard::relays), apart from the rate-based health
-- state: since when the pool's relay has given no SMTP answer (NULL: it answers).
ALTER TABLE sender_pools ADD COLUMN relay_down_since INTEGER;
ALTER TABLE sender_pools ADD COLUMN relay_reason TEXT;
