-- Indexes for what every worker looks for again and again, so that each look
-- costs what it finds, not the whole history (PostgreSQL, timed on the
-- orders of a long-running shop).

-- The email-reach sweep (every 30 s): accepted receipts not yet credited,
-- `state = 'accepted' AND reached_at IS NULL AND updated_at < …`. Through
-- `(state, updated_at)` that range holds every accepted order ever, each read
-- from the table to test `reached_at`: at 10 M orders a sequential scan,
-- 2.1 s a sweep; through this index, 5.7 ms.
CREATE INDEX orders_accepted_unreached ON orders (updated_at)
    WHERE state = 'accepted' AND reached_at IS NULL;
-- No other read ranges over `state` alone (held orders have their own
-- indexes), so new orders, still queued, need no entry here.
DROP INDEX orders_by_state;

-- The fallback runner (every 250 ms): held orders with no decision yet, or
-- whose claim expired. `orders_held` lists every held order ever, each read
-- to test `fallback_at`: at 1 M orders (19 k held) 52–58 ms a round; 0.02 ms.
CREATE INDEX orders_held_undecided ON orders (updated_at)
    WHERE state = 'held' AND (fallback_at IS NULL OR fallback_path = 'pending');

-- Foreign keys with no index of their own. Deleting a parent row (the
-- retention pass deletes old orders with their attempts) makes PostgreSQL
-- look for children through the key, a scan of the whole child table per
-- row without an index: at 1 M orders (4.8 k bounces) the bounces' check
-- alone took 109 ms for a batch of 500 orders, and it grows with both.
-- `engine/tests/schema.rs` keeps every key indexed.
CREATE INDEX bounces_by_attempt ON bounces (attempt_id);
CREATE INDEX notifications_by_order ON notifications (order_id);
CREATE INDEX outbox_by_order ON outbox (order_id);
