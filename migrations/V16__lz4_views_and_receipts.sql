-- Issue 20: a ticket's view and a command's receipt are written on every
-- command, and with service-level clocks in them most cross PostgreSQL's
-- TOAST threshold (about 2 kB of row): each write then compressed them with
-- pglz, and each read of a view decompressed it. pglz was two thirds of
-- what clocks added to a filing in the database (docs/performance.md,
-- "Clocks on against off").
--
-- LZ4 compresses them at about the cost of not compressing at all (one
-- view written 3,000 times: 173–184 µs a row with pglz, 141–149 µs with
-- LZ4, 137–146 µs kept whole in the page with `toast_tuple_target`), and
-- keeps the rows as small as pglz did (1.7 kB against 2.8 kB kept whole),
-- so the log of changes (WAL) does not grow. Values stored before keep the
-- method they were written with; both read back the same. A PostgreSQL
-- built without LZ4 keeps pglz.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE tickets ALTER COLUMN view SET COMPRESSION lz4;
        ALTER TABLE idempotency_keys ALTER COLUMN body SET COMPRESSION lz4;
    END IF;
END
$$;
