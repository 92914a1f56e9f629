-- Issue 20: one `event_queue` row per append, not per event.
--
-- The sequencer reads the queue in key order and deletes what it
-- sequenced, so between two autovacuums every deleted row is an index entry
-- the next read walks past: with clocks on, a filing appends two events
-- (the filing and its `sla.clocks_pinned`), and the sequencer's read of the
-- queue cost three times what it cost with clocks off (docs/performance.md,
-- "Clocks on against off"). An append now queues one row keyed by its
-- first `seq_id`, with all of its `seq_id`s in order.
--
-- Stream order still holds when the sequencer takes rows in key order and
-- each row's events in `seq_id` order: an append to a stream starts only
-- after the stream's previous append committed, so every `seq_id` it draws
-- is larger than every one the previous append drew.
--
-- Rows queued before this migration have no `seq_ids` and stand for their
-- own `seq_id` alone. An append of more than 100 events queues a row per
-- 100, so that a row always fits in an index entry.
ALTER TABLE event_queue ADD COLUMN seq_ids bigint[];

-- The sequencer must read the queue with an index-only scan: only such a
-- scan keeps its leaf page pinned and so may mark the entries of deleted
-- rows dead as it passes them, which the next scan then skips. A plain
-- index scan on a page that appends keep changing never can, and walked
-- every deleted row since the last autovacuum, in the heap, on every batch
-- (4 ms for 5 rows behind 4,700 deleted ones). The key therefore carries
-- `seq_ids` too.
ALTER TABLE event_queue
    DROP CONSTRAINT event_queue_pkey,
    ADD CONSTRAINT event_queue_pkey PRIMARY KEY (seq_id) INCLUDE (seq_ids);

-- The events waiting for the sequencer, one row each: what readers other
-- than the sequencer (export, `verify`, the lag gauge) count and join.
CREATE VIEW queued_events AS
    SELECT unnest(coalesce(q.seq_ids, ARRAY[q.seq_id])) AS seq_id FROM event_queue q;

GRANT SELECT ON queued_events TO opsledger_app;
