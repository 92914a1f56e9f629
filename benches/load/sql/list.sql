-- list.sql: the database work of ONE `GET /v1/tickets?status=filed&limit=50` (first page, by an agent who sees
-- personal data in clear), statement by statement, in the server's order, all autocommit. Run with
-- `pgbench -n -M prepared -D status=filed`. It reads the newest 51 tickets with status 'filed': in the benchmark those the server
-- filed (pgbench's own filings have the status 'pgbench_filed'; see file.sql).
--
-- Statement (all autocommit)                              Server function
-- 1 SELECT ... FROM tickets t WHERE status = ... LIMIT 51  projections::tickets::list (via http::tickets::list)
-- 2 SELECT ... FROM subject_keys WHERE subject_id = ANY    privacy::keys::subject_keys (via http::tickets::reveal,
--                                                          Privacy::render_all; the page's 50 subjects)
-- 3 INSERT INTO pii_access ... (50 rows)                   privacy::access_log::write (via reveal, AccessLog::record)
--
-- Deviations from the server's exact statements:
-- * The server takes the page's subjects from the rows statement 1 returned and binds them (and the other
--   access-log columns) as arrays in statements 2 and 3; pgbench cannot keep more than one row, so statements 2 and
--   3 find the same 50 subjects again with a subquery over the same index range as statement 1 (tickets are not
--   written during the run), and the access records take their time from now(), their request id from a random
--   UUID and the actor and endpoint from literals. Each costs a 50-entry index scan more than the server's, but
--   the requests make the server's three round trips. (Collecting the arrays with an extra `\gset` query and
--   passing them as text parameters, which keeps the server's statement texts, made the run about 20 % slower:
--   an extra round trip and 250 array elements parsed from text.)
-- * The status filter and the limit are parameters, as in the server: `status` comes from `-D status=filed`. (With
--   the status as a literal, the planner saw how rare 'filed' is among the newest tickets and walked the creation-
--   time index past every newer ticket, 20 times slower than the server's plan: the ratio meant nothing.)
-- * The server writes the access records on the access-log writer's own connection, together with the records of
--   all requests that queued up meanwhile (one statement and commit per batch); here each request commits its own.

\set limit 51

SELECT t.id, t.number, t.kind, t.status, t.priority, t.team, t.assignee, t.channel, t.created_at, t.updated_at,
       t.version, t.view, t.subject_id, t.severity, t.complaint_linked, t.window_start, t.window_end
    FROM tickets t WHERE status = :status AND (kind = 'complaint' OR (kind = 'fault' AND complaint_linked)) ORDER BY created_at DESC, id DESC LIMIT :limit;

SELECT subject_id, key_id, wrapped_key FROM subject_keys WHERE subject_id = ANY(ARRAY(
    SELECT DISTINCT p.subject_id
        FROM (SELECT t.subject_id FROM tickets t WHERE status = :status AND (kind = 'complaint' OR (kind = 'fault' AND complaint_linked)) ORDER BY created_at DESC, id DESC LIMIT 50) p));

INSERT INTO pii_access (at, actor, subject_id, endpoint, request_id)
    SELECT now(), 'https://idp.bench|bench-agent', s.subject_id, 'GET /v1/tickets', r.request_id
    FROM (SELECT DISTINCT p.subject_id
          FROM (SELECT t.subject_id FROM tickets t WHERE status = :status AND (kind = 'complaint' OR (kind = 'fault' AND complaint_linked)) ORDER BY created_at DESC, id DESC LIMIT 50) p
         ) s
    CROSS JOIN (SELECT gen_random_uuid()::text AS request_id) r;
