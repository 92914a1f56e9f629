-- get.sql: the database work of ONE `GET /v1/tickets/{id}` (no If-None-Match, by an agent who sees personal data in
-- clear), statement by statement, in the server's order, all autocommit. Run with `pgbench -n -M prepared` and
-- `-D tickets=<n>`: the number of complaints the benchmark filed first (CMP-<year>-000001 ... -<n>; see seed.sql for
-- running without the HTTP benchmark).
--
-- Statement (all autocommit)                              Server function
-- 1 SELECT ... FROM tickets t WHERE t.number = ...         projections::tickets::get (via http::tickets::get_ticket)
-- 2 SELECT ... FROM subject_keys WHERE subject_id = ANY    privacy::keys::subject_keys (via http::tickets::respond,
--                                                          reveal, Privacy::render_all)
-- 3 INSERT INTO pii_access ... unnest(...) (1 row)         privacy::access_log::write (via reveal, AccessLog::record)
--
-- Deviations from the server's exact statements:
-- * Statement 1 names the ticket by number, not by id: a random one of the first `tickets` complaints, whose numbers
--   (CMP-<year>-<counter, at least 6 digits>) pgbench can compute while their UUIDs are unknown to it. It is the
--   statement `tickets::get` issues for `GET /v1/tickets/CMP-...` (TicketLookup::Number), an equivalent lookup through
--   a unique index (tickets_number_key instead of tickets_pkey). The year is the current UTC year: a run that
--   crosses New Year after the tickets were filed finds none (pgbench then fails on `\gset`).
-- * The one-subject arrays of statements 2 and 3 are built in SQL from the row's subject (ARRAY[...]), the access
--   time is now() and the request id a random UUID, where the server binds arrays it built in Rust. The actor and
--   the endpoint are literals.
-- * The server writes the access record on the access-log writer's own connection, together with the records of all
--   requests that queued up meanwhile (one statement and commit per batch); here each request commits its own.

\set n random(1, :tickets)

SELECT t.id, t.number, t.kind, t.status, t.priority, t.team, t.assignee, t.channel, t.created_at, t.updated_at,
       t.version, t.view, t.subject_id, t.severity, t.complaint_linked, t.window_start, t.window_end
    FROM tickets t
    WHERE t.number = 'CMP-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'
                     || lpad(:n::text, greatest(6, length(:n::text)), '0')
\gset

SELECT subject_id, key_id, wrapped_key FROM subject_keys WHERE subject_id = ANY(ARRAY[:subject_id]::uuid[]);

INSERT INTO pii_access (at, actor, subject_id, endpoint, request_id)
    SELECT * FROM unnest(ARRAY[now()], ARRAY['https://idp.bench|bench-agent'], ARRAY[:subject_id]::uuid[],
                         ARRAY['GET /v1/tickets/{id}'], ARRAY[gen_random_uuid()::text]);
