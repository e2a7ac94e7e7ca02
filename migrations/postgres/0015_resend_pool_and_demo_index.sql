-- An agent's "re-send via a chosen pool" from the held queue: a masked-link
-- job that names the pool to go through instead of the masked pool.
ALTER TABLE jobs ADD COLUMN pool_id BIGINT;

-- "Includes demo data" on the overview asks whether any demo order exists:
-- with this index that is one probe, not a scan of every order.
CREATE INDEX orders_demo ON orders (id) WHERE demo;

-- "Held now" and "oldest held" on the overview: only the held orders not yet
-- reached, counted from the index alone.
CREATE INDEX orders_held_unreached ON orders (updated_at) WHERE state = 'held' AND reached_at IS NULL;
