-- Issue 18: the change calendars and freeze windows as view rows, indexed
-- for overlap, so that scheduling a change, starting one and reading the
-- calendar cost the same with ten earlier bookings or ten thousand.
--
-- The authoritative calendars are still the per-service calendar streams
-- and the freeze stream: scheduling appends to each at the version it read,
-- so two schedulings that both saw a free window cannot both book it. These
-- tables are written in the same transaction as those events
-- (`projections::schedules`) and are refilled from the log by a rebuild.

-- GiST over (service, range): the equality on text needs btree_gist, a
-- trusted extension that the database owner may create.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The bookings each service's calendar holds now: one per change booked
-- on it, until the change is released.
CREATE TABLE change_bookings (
    service       text      NOT NULL,
    change_id     uuid      NOT NULL,
    change_number text      NOT NULL,
    during        tstzrange NOT NULL CHECK (NOT isempty(during)),
    PRIMARY KEY (service, change_id)
);
CREATE INDEX change_bookings_overlap ON change_bookings USING gist (service, during);

-- Every freeze window ever declared, lifted ones included.
CREATE TABLE freeze_windows (
    id            uuid PRIMARY KEY,
    service       text,        -- every service when NULL
    during        tstzrange   NOT NULL CHECK (NOT isempty(during)),
    time_zone     text        NOT NULL,
    reason        text        NOT NULL,
    declared_by   text        NOT NULL,
    declared_at   timestamptz NOT NULL,
    lifted_reason text,
    lifted_by     text,
    lifted_at     timestamptz
);
CREATE INDEX freeze_windows_overlap ON freeze_windows USING gist (during);

-- The change calendar read: changes whose window overlaps a range. The
-- B-tree of V5 walks every window that started before the range's end.
CREATE INDEX tickets_change_window_overlap ON tickets USING gist (tstzrange(window_start, window_end))
    WHERE kind = 'change' AND window_start IS NOT NULL;

-- Where a rebuild finds the calendar and freeze events without reading the
-- whole log. The predicate must match `projections::schedules` exactly.
CREATE INDEX events_schedule_streams ON events (stream_id, version)
    WHERE event_type IN ('calendar.booked', 'calendar.released', 'freeze.declared', 'freeze.lifted');

GRANT SELECT, INSERT, UPDATE, DELETE ON change_bookings TO opsledger_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON freeze_windows TO opsledger_app;

-- Backfill from the events already stored. -- backfill:start
INSERT INTO change_bookings (service, change_id, change_number, during)
SELECT p->>'service', (p->'change'->>'id')::uuid, p->'change'->>'number',
       tstzrange((p->>'start')::timestamptz, (p->>'end')::timestamptz, '[)')
FROM (
    SELECT DISTINCT ON (stream_id, envelope->'payload'->'change'->>'id')
           event_type, envelope->'payload' AS p
    FROM (SELECT stream_id, version, event_type, convert_from(stored, 'UTF8')::jsonb AS envelope
          FROM events
          WHERE event_type IN ('calendar.booked', 'calendar.released')) e
    ORDER BY stream_id, envelope->'payload'->'change'->>'id', version DESC
) latest
WHERE event_type = 'calendar.booked';

INSERT INTO freeze_windows (id, service, during, time_zone, reason, declared_by, declared_at)
SELECT (p->>'id')::uuid, p->>'service',
       tstzrange((p->>'start')::timestamptz, (p->>'end')::timestamptz, '[)'),
       p->>'time_zone', p->>'reason', envelope->'metadata'->>'actor', recorded_at
FROM (SELECT recorded_at, convert_from(stored, 'UTF8')::jsonb AS envelope
      FROM events WHERE event_type = 'freeze.declared') d,
     LATERAL (SELECT d.envelope->'payload' AS p) payload;

UPDATE freeze_windows f
SET lifted_reason = l.envelope->'payload'->>'reason',
    lifted_by = l.envelope->'metadata'->>'actor',
    lifted_at = l.recorded_at
FROM (SELECT recorded_at, convert_from(stored, 'UTF8')::jsonb AS envelope
      FROM events WHERE event_type = 'freeze.lifted') l
WHERE f.id = (l.envelope->'payload'->>'id')::uuid;
-- backfill:end
