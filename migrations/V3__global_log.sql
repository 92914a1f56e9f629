-- The global log: every committed event gets a contiguous position and
-- extends a global SHA-256 chain over the events' own hashes.
--
-- seq_id order is not commit order, so nothing may discover new events by
-- `seq_id > last seen` (subscribers of other PostgreSQL event stores lost
-- events that way). Instead every append inserts its events' seq_ids into
-- `event_queue` in the same transaction; the sequencer drains the queue
-- and only ever sees committed appends.

CREATE TABLE event_queue (
    seq_id bigint NOT NULL,
    CONSTRAINT event_queue_pkey PRIMARY KEY (seq_id)
);

CREATE TABLE event_log (
    position     bigint      NOT NULL CHECK (position >= 1),
    seq_id       bigint      NOT NULL,
    -- SHA-256(global hash at position - 1 ‖ the event's own chain hash);
    -- position 0 is 32 zero bytes.
    global_hash  bytea       NOT NULL CHECK (octet_length(global_hash) = 32),
    sequenced_at timestamptz NOT NULL,
    CONSTRAINT event_log_pkey PRIMARY KEY (position),
    CONSTRAINT event_log_seq_id_key UNIQUE (seq_id),
    CONSTRAINT event_log_seq_id_fkey FOREIGN KEY (seq_id) REFERENCES events (seq_id)
);

-- One row: the last position and its global hash. Every batch locks it, so
-- batches are serialised and a deposed sequencer can never commit a batch
-- computed from a stale head.
CREATE TABLE event_log_head (
    id        boolean NOT NULL DEFAULT true CHECK (id),
    position  bigint  NOT NULL,
    hash      bytea   NOT NULL CHECK (octet_length(hash) = 32),
    CONSTRAINT event_log_head_pkey PRIMARY KEY (id)
);
INSERT INTO event_log_head (id, position, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- Events appended before this migration (none in a fresh database) are
-- sequenced in seq_id order, which was their order within each stream.
INSERT INTO event_queue (seq_id) SELECT seq_id FROM events;

CREATE TRIGGER event_log_refuse_update_delete
    BEFORE UPDATE OR DELETE ON event_log
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER event_log_refuse_truncate
    BEFORE TRUNCATE ON event_log
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
ALTER TABLE event_log ENABLE ALWAYS TRIGGER event_log_refuse_update_delete;
ALTER TABLE event_log ENABLE ALWAYS TRIGGER event_log_refuse_truncate;

GRANT SELECT, INSERT, DELETE ON event_queue TO opsledger_app;
GRANT SELECT, INSERT ON event_log TO opsledger_app;
GRANT SELECT, UPDATE ON event_log_head TO opsledger_app;
