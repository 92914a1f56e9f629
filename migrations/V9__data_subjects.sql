-- Data subjects (issue 14): an erased subject's stored idempotent
-- responses are kept as tombstones, their sealed values scrubbed, so a
-- retry replays the scrubbed response instead of filing anew. Only the
-- body changes; the event log is untouched.
GRANT UPDATE (body) ON idempotency_keys TO opsledger_app;
