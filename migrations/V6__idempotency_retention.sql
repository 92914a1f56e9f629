-- Stored responses of idempotent requests are kept for a retention period
-- (24 hours by default) and then pruned in batches by the oldest first;
-- this index keeps each batch from scanning the whole table.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
