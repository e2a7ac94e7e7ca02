-- Support search (engine::orders::search): each key is one indexed equality.
-- (customer_email is indexed since 0002, order_number is unique.)
CREATE INDEX orders_by_phone ON orders (customer_phone) WHERE customer_phone IS NOT NULL;
CREATE INDEX orders_by_customer_ref ON orders (customer_ref) WHERE customer_ref IS NOT NULL;
