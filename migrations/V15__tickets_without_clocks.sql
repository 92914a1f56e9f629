-- What `serve` looks for at every start-up (the SLA upgrade,
-- `tickets::open_without_clocks`): open tickets with no clock burning or
-- paused. Resolved and closed tickets have no due time either, so without
-- this index every start-up read the whole table to find the few open
-- ones; with it, a store already upgraded finds (almost) nothing at once.
CREATE INDEX tickets_without_clocks ON tickets (created_at, id)
    WHERE sla_due_at IS NULL AND NOT sla_paused AND status NOT IN ('resolved', 'closed');
