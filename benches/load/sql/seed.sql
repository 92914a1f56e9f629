-- seed.sql: data for running get.sql, list.sql and history.sql WITHOUT the HTTP benchmark (psql, not pgbench).
--
--   psql -v ON_ERROR_STOP=1 -v tickets=1000 -f benches/load/sql/seed.sql <url of a freshly migrated database>
--   pgbench -n -M prepared -T 3 -c 8 -j 2 -f benches/load/sql/history.sql -D tickets=1000 -D hist_id=<printed id> <url>
--
-- The load benchmark (benches/load/main.rs) does not use this file: it prepares the same data through the HTTP API
-- (a thousand complaints filed by `bench-agent`, then one more complaint followed by 999 internal notes, which is
-- the 1,000-event stream history.sql reads) and passes `-D tickets=1000 -D hist_id=<that id>`.
--
-- This script writes rows of the same shape and size directly: `tickets` complaints numbered CMP-<year>-000001...
-- from the ticket_number_complaint sequence (so the database must be fresh for get.sql to find them), status
-- 'filed', each with its subject key, blind-index rows and filing event; then the history ticket, a complaint with
-- 999 internal notes (1,000 events; its view lists the 999 notes), and prints its id. Ciphertexts, keys and hashes
-- are random: only PostgreSQL's work is representative, the server could not open these values.

\if :{?tickets}
\else
\set tickets 1000
\endif

BEGIN;

CREATE TEMP TABLE seed ON COMMIT DROP AS
SELECT i, u.*, s.*,
       decode(md5(random()::text) || md5(random()::text), 'hex') AS hash
FROM generate_series(1, :tickets + 1) AS i
CROSS JOIN LATERAL (
    SELECT nextval('ticket_number_complaint') AS counter, clock_timestamp() AS ts,
           md5(random()::text || i) || md5(random()::text) || md5(random()::text) || md5(random()::text)
               || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text)
               || md5(random()::text) AS r
) g
CROSS JOIN LATERAL (
    SELECT g.ts,
           encode(m.ms || substring(uuid_send(gen_random_uuid()) FROM 7), 'hex')::uuid AS id,
           encode(m.ms || substring(uuid_send(gen_random_uuid()) FROM 7), 'hex')::uuid AS ev,
           encode(m.ms || substring(uuid_send(gen_random_uuid()) FROM 7), 'hex')::uuid AS subject,
           encode(m.ms || substring(uuid_send(gen_random_uuid()) FROM 7), 'hex')::uuid AS key_id,
           encode(m.ms || substring(uuid_send(gen_random_uuid()) FROM 7), 'hex')::uuid AS rid,
           to_char(g.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
           'CMP-' || to_char(g.ts AT TIME ZONE 'UTC', 'YYYY') || '-'
               || lpad(g.counter::text, greatest(6, length(g.counter::text)), '0') AS number
    FROM (SELECT substring(int8send((extract(epoch FROM g.ts) * 1000)::int8) FROM 3) AS ms) m
) u
CROSS JOIN LATERAL (
    SELECT format('{"customer_ref":%s,"name":%s,"phone":%s}',
                  format(x.sealed, substr(g.r, 1, 38), u.key_id, substr(g.r, 39, 16), u.subject),
                  format(x.sealed, substr(g.r, 55, 30), u.key_id, substr(g.r, 85, 16), u.subject),
                  format(x.sealed, substr(g.r, 101, 43), u.key_id, substr(g.r, 144, 16), u.subject)) AS complainant,
           format(x.sealed, substr(g.r, 160, 110), u.key_id, substr(g.r, 270, 16), u.subject) AS description
    FROM (SELECT '{"ciphertext":"%s","key_id":"%s","nonce":"%s","subject":"%s"}' AS sealed) x
) s
ORDER BY i;

-- The last seeded complaint is the history ticket; the others are plain filings.
CREATE TEMP TABLE notes ON COMMIT DROP AS
SELECT v, seed.id, seed.subject, seed.number,
       encode(substring(int8send((extract(epoch FROM seed.ts) * 1000)::int8) FROM 3)
              || substring(uuid_send(gen_random_uuid()) FROM 7), 'hex')::uuid AS ev,
       encode(substring(int8send((extract(epoch FROM seed.ts) * 1000)::int8) FROM 3)
              || substring(uuid_send(gen_random_uuid()) FROM 7), 'hex')::uuid AS rid,
       seed.at,
       decode(md5(random()::text) || md5(random()::text), 'hex') AS hash
FROM seed, generate_series(2, 1000) AS v
WHERE seed.i = :tickets + 1;

INSERT INTO subject_keys (subject_id, key_id, wrapped_key, master_key_id)
SELECT subject, key_id,
       decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || substr(md5(random()::text), 1, 24),
              'hex'),
       '5f0c3a9e81d2b746'
FROM seed;

INSERT INTO subject_index (kind, digest, subject_id)
SELECT kind, decode(md5(random()::text) || md5(random()::text), 'hex'), subject
FROM seed, unnest(ARRAY['customer_ref', 'phone']) AS kind;

WITH appended AS (
    INSERT INTO events (event_id, stream_id, version, event_type, schema_version, recorded_at, stored, hash)
    SELECT ev, id, 1, 'complaint.filed', 1, ts,
           convert_to(format('{"event_id":"%1$s","metadata":{"actor":"https://idp.bench|bench-agent",'
                             '"correlation_id":"%2$s","idempotency_key":"bench-%3$s","request_id":"%2$s",'
                             '"roles":["agent"]},"payload":%4$s,"recorded_at":"%5$s","schema_version":1,'
                             '"stream_id":"%6$s","type":"complaint.filed","version":1}',
                             ev, rid, i,
                             format('{"category":"broadband","channel":"phone","complainant":%1$s,'
                                    '"description":%2$s,"id":"%3$s","number":"%4$s","priority":"P3",'
                                    '"subject":"%5$s","title":"宽带每晚断线"}',
                                    complainant, description, id, number, subject),
                             at, id), 'UTF8'),
           hash
    FROM seed
    UNION ALL
    SELECT ev, id, v, 'complaint.note_added', 1, at::timestamptz,
           convert_to(format('{"event_id":"%1$s","metadata":{"actor":"https://idp.bench|bench-agent",'
                             '"correlation_id":"%2$s","idempotency_key":"bench-h%3$s","request_id":"%2$s",'
                             '"roles":["agent"]},"payload":{"body":"巡检记录 %4$s","visibility":"internal"},'
                             '"recorded_at":"%5$s","schema_version":1,"stream_id":"%6$s",'
                             '"type":"complaint.note_added","version":%7$s}',
                             ev, rid, v, v - 1, at, id, v), 'UTF8'),
           hash
    FROM notes
    RETURNING seq_id
)
INSERT INTO event_queue (seq_id) SELECT seq_id FROM appended;

INSERT INTO tickets (id, number, kind, status, priority, team, assignee, channel, created_at, updated_at, version, view,
                     head_hash, subject_id)
SELECT seed.id, seed.number, 'complaint', 'filed', 'P3', NULL, NULL, 'phone', seed.ts, seed.ts,
       coalesce(n.version, 1),
       format('{"acknowledged_at":null,"assignee":null,"category":"broadband","channel":"phone","closed_at":null,'
              '"complainant":%1$s,"created_at":"%2$s","created_by":"https://idp.bench|bench-agent",'
              '"description":%3$s,"first_response":null,"id":"%4$s","notes":[%5$s],"number":"%6$s",'
              '"priority":"P3","reopen_count":0,"resolution":null,"satisfaction":null,"status":"filed",'
              '"subject":"%7$s","team":null,"title":"宽带每晚断线","updated_at":"%2$s","version":%8$s,'
              '"waiting_reason":null}',
              seed.complainant, seed.at, seed.description, seed.id, coalesce(n.notes, ''), seed.number, seed.subject,
              coalesce(n.version, 1))::jsonb,
       coalesce(n.head_hash, seed.hash), seed.subject
FROM seed
LEFT JOIN (
    SELECT id, max(v) AS version, (array_agg(hash ORDER BY v DESC))[1] AS head_hash,
           string_agg(format('{"at":"%s","body":"巡检记录 %s","by":"https://idp.bench|bench-agent",'
                             '"visibility":"internal"}', at, v - 1), ',' ORDER BY v) AS notes
    FROM notes GROUP BY id
) n ON n.id = seed.id;

COMMIT;

SELECT t.id AS hist_id, t.version AS events, (SELECT count(*) FROM tickets WHERE status = 'filed') AS filed_tickets
FROM tickets t WHERE t.version = 1000 ORDER BY t.created_at DESC LIMIT 1;
