-- history.sql: the database work of ONE `GET /v1/tickets/{id}/history` of a ticket with 1,000 events (by an agent who
-- sees personal data in clear), statement by statement, in the server's order, all autocommit. Run with
-- `pgbench -n -M prepared -D hist_id=<uuid>`.
--
-- The ticket: the load benchmark (benches/load/main.rs) files one complaint through the HTTP API and adds 999
-- internal notes to it (POST /v1/complaints/{id}/notes), so its stream holds 1,000 events (one filing of about
-- 1.5 kB, 999 notes of about 0.5 kB) and its view lists the 999 notes; it passes that ticket's id as hist_id.
-- Without the HTTP benchmark, seed.sql writes such a ticket directly and prints its id.
--
-- Statement (all autocommit)                              Server function
-- 1 SELECT id, number, kind, complaint_linked FROM tickets projections::tickets::identify (via http::history::history;
--                                                          not the view)
-- 2 SELECT recorded_at, stored, hash, version, ... FROM   store::read_stream_page (the first page: all 1,000
--   events WHERE stream_id = ... AND version > 0 LIMIT 1001 events, and one more row if there were more)
-- 3 SELECT ... FROM subject_keys WHERE subject_id = ANY    privacy::keys::subject_keys (via http::tickets::reveal,
--                                                          Privacy::render_all; the filing's sealed values)
-- 4 INSERT INTO pii_access ... unnest(...) (1 row)         privacy::access_log::write (via reveal, AccessLog::record)
--
-- Deviations from the server's exact statements:
-- * Statement 1 also reads the row's subject_id, which statements 3 and 4 need (one uuid column more).
-- * The one-subject arrays of statements 3 and 4 are built in SQL from the row's subject (ARRAY[...]), the access
--   time is now() and the request id a random UUID, where the server binds arrays it built in Rust. The actor and
--   the endpoint are literals. (The server takes the subjects from the sealed values in the payloads; here only the
--   filing carries any, all of the ticket's subject.)
-- * pgbench reads results in text format, so the 1,000 envelopes and hashes arrive hex-encoded (twice the bytes);
--   the server reads them in binary. (With bytea_output = escape the run was no faster.)
-- * The server writes the access record on the access-log writer's own connection, together with the records of all
--   requests that queued up meanwhile (one statement and commit per batch); here each request commits its own.

SELECT t.id, t.number, t.kind, t.complaint_linked, t.subject_id FROM tickets t WHERE t.id = :hist_id
\gset

SELECT recorded_at, stored, hash, version, event_id, event_type, schema_version FROM events
    WHERE stream_id = :id AND version > 0 ORDER BY version LIMIT 1001;

SELECT subject_id, key_id, wrapped_key FROM subject_keys WHERE subject_id = ANY(ARRAY[:subject_id]::uuid[]);

INSERT INTO pii_access (at, actor, subject_id, endpoint, request_id)
    SELECT * FROM unnest(ARRAY[now()], ARRAY['https://idp.bench|bench-agent'], ARRAY[:subject_id]::uuid[],
                         ARRAY['GET /v1/tickets/{id}/history'], ARRAY[gen_random_uuid()::text]);
