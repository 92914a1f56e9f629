-- The access log's request_id is the server's own id of the request
-- (UUIDv7, new for every request); an X-Request-Id the client sent is kept
-- beside it for correlation only, since any principal can send any id,
-- including one another principal used. Records written before this
-- migration may hold a client's id as their request_id: they are kept as
-- they are (the log is append-only for the server), with no client id.
ALTER TABLE pii_access ADD COLUMN client_request_id text;
