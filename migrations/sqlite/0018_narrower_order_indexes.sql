-- Indexes of `orders` that a delivered receipt has no entry in. Every send's outcome
-- rewrites its order row, and a row whose indexed `state` changes gets a new entry in
-- every index whose condition it meets; most orders are never held and most never reach
-- the customer by another channel, so these two need not list them.
-- The fallback runner's "held orders, oldest first" (it filters `fallback_at` itself):
DROP INDEX orders_fallback_due;
CREATE INDEX orders_held ON orders (updated_at) WHERE state = 'held';
-- Reach by time, for the charts (a range on `reached_at` implies NOT NULL):
DROP INDEX orders_by_reached;
CREATE INDEX orders_by_reached ON orders (reached_at) WHERE reached_at IS NOT NULL;
