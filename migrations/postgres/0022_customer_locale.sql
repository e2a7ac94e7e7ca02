-- The customer's language for everything they see (BCP 47, e.g. 'id', 'en-US'),
-- as the shop sent it at intake; NULL: the shop's default, then the browser's.
ALTER TABLE orders ADD COLUMN customer_locale TEXT;
