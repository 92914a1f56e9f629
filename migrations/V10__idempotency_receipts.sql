-- Issue 16: an idempotency record keeps the command's receipt (`body`),
-- free of HTTP; the status, `Location` and `ETag` of an answer are
-- rendered from the receipt, for fresh and replayed answers alike, and for
-- the caller who asks (its masking variant). Records written before this
-- keep their status, location and etag columns, which nothing reads.
ALTER TABLE idempotency_keys ALTER COLUMN status DROP NOT NULL;
