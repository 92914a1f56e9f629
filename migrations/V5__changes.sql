-- Changes: their numbers (CHG-2026-000123), and the window a scheduled
-- change occupies, as columns so the change calendar is a range query.
-- The authoritative calendars are the per-service calendar streams; these
-- columns only serve reads.

CREATE SEQUENCE ticket_number_change;
GRANT USAGE ON SEQUENCE ticket_number_change TO opsledger_app;

ALTER TABLE tickets
    ADD COLUMN window_start timestamptz,
    ADD COLUMN window_end timestamptz,
    ADD CONSTRAINT tickets_window_ordered CHECK (window_end > window_start);

-- The change calendar: changes whose window overlaps a range.
CREATE INDEX tickets_change_window ON tickets (window_start, window_end)
    WHERE kind = 'change' AND window_start IS NOT NULL;
