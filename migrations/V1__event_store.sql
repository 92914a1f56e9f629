-- The event store. This migration runs as the role that owns the schema;
-- the server itself runs as a member of `opsledger_app`, which may only
-- INSERT and SELECT on the log.

-- A group role, shared by every database on the cluster. It may exist
-- already (created by an administrator, or by another database on the same
-- cluster); only when it does not must the migrating role be able to create
-- it. Parallel test databases may race to create it, hence the handler.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opsledger_app') THEN
        CREATE ROLE opsledger_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

CREATE TABLE events (
    -- Commit order is NOT seq_id order; nothing may read the log by seq_id
    -- ranges to discover new events (see design.md §3).
    seq_id          bigint GENERATED ALWAYS AS IDENTITY,
    event_id        uuid        NOT NULL,
    stream_id       uuid        NOT NULL,
    version         integer     NOT NULL CHECK (version >= 1),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    recorded_at     timestamptz NOT NULL,
    -- The canonical JSON envelope (RFC 8785), exactly the bytes hashed.
    stored          bytea       NOT NULL,
    -- SHA-256(previous hash of the stream ‖ stored); version 1 follows 32 zero bytes.
    hash            bytea       NOT NULL CHECK (octet_length(hash) = 32),
    CONSTRAINT events_pkey PRIMARY KEY (event_id),
    CONSTRAINT events_seq_id_key UNIQUE (seq_id),
    -- The optimistic-concurrency check: two writers that loaded the same
    -- version cannot both append the next one.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

-- Append-only, enforced by the database itself. ENABLE ALWAYS makes the
-- triggers fire even under session_replication_role = replica; only a
-- superuser or the owner explicitly disabling them gets past, and that is
-- what chain verification detects.
CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Corrections are new events.';
END
$$;

CREATE TRIGGER events_refuse_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_refuse_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
ALTER TABLE events ENABLE ALWAYS TRIGGER events_refuse_update_delete;
ALTER TABLE events ENABLE ALWAYS TRIGGER events_refuse_truncate;

-- Numbers people read aloud on the phone: CMP-2026-000123. A sequence never
-- blocks concurrent filings; a rolled-back filing leaves a gap in the
-- numbers, never a duplicate.
CREATE SEQUENCE ticket_number_complaint;

-- Idempotent POSTs: the first response to (principal, key) is stored in
-- the same transaction as the events it caused.
CREATE TABLE idempotency_keys (
    principal       text        NOT NULL,
    key             text        NOT NULL,
    request_hash    bytea       NOT NULL,
    status          smallint    NOT NULL,
    location        text,
    etag            text,
    body            bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, key)
);

-- The inline projection: the current view of every ticket, written in the
-- append transaction so a client always reads its own write.
CREATE TABLE tickets (
    id          uuid        NOT NULL,
    number      text        NOT NULL,
    kind        text        NOT NULL,
    status      text        NOT NULL,
    priority    text,
    team        text,
    assignee    text,
    channel     text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint      NOT NULL,
    view        jsonb       NOT NULL,
    -- Chain hash of the stream's latest event (version `version`, recorded
    -- at `updated_at`): what the next append chains from. Kept on this row
    -- so a command locks and reads everything it needs in one statement.
    head_hash   bytea       NOT NULL CHECK (octet_length(head_hash) = 32),
    CONSTRAINT tickets_pkey PRIMARY KEY (id),
    CONSTRAINT tickets_number_key UNIQUE (number)
);
-- Lists are newest first with (created_at, id) as the keyset.
CREATE INDEX tickets_created ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_status_created ON tickets (status, created_at DESC, id DESC);
CREATE INDEX tickets_assignee_created ON tickets (assignee, created_at DESC, id DESC) WHERE assignee IS NOT NULL;
CREATE INDEX tickets_team_created ON tickets (team, created_at DESC, id DESC) WHERE team IS NOT NULL;

GRANT SELECT, INSERT ON events TO opsledger_app;
GRANT SELECT, INSERT ON idempotency_keys TO opsledger_app;
GRANT SELECT, INSERT, UPDATE ON tickets TO opsledger_app;
GRANT USAGE ON SEQUENCE ticket_number_complaint TO opsledger_app;
GRANT SELECT ON refinery_schema_history TO opsledger_app;
