-- Sender pools set in rebound.toml ([[pools]]) are 'file': read-only on the
-- Sender pools page and the command line. Everything else is 'ui'.
ALTER TABLE sender_pools ADD COLUMN managed_by TEXT NOT NULL DEFAULT 'ui'
    CHECK (managed_by IN ('ui', 'file'));
