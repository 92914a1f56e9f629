-- Issue 20: the SLA queue. Each ticket's clocks live in its view (pinned by
-- `sla.*` events); these columns repeat what a queue needs, written by the
-- same upsert: the earliest `due_at` and `warn_at` of the targets that burn
-- (running, not paused, with a known due time), and whether a running
-- target waits on the customer. `GET /v1/tickets?sla_state=…&sort=due_at`
-- compares them with the request's `now`, so nothing here changes with the
-- clock. Tickets from before clocks were kept have none until upgraded.
ALTER TABLE tickets
    ADD COLUMN sla_due_at  timestamptz,
    ADD COLUMN sla_warn_at timestamptz,
    ADD COLUMN sla_paused  boolean NOT NULL DEFAULT false;

-- "What burns first": ORDER BY sla_due_at ASC NULLS LAST, id ASC is this
-- index's order, so a page after a keyset cursor is an index scan.
CREATE INDEX tickets_sla_due ON tickets (sla_due_at, id);
CREATE INDEX tickets_sla_paused ON tickets (id) WHERE sla_paused;
