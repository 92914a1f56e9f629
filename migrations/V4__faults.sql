-- Faults: their numbers (FLT-2026-000123), their severity as a column so the
-- work queue can be ordered critical first, and whether a fault is linked to
-- a complaint, which is what lets customer-service agents read it.

CREATE SEQUENCE ticket_number_fault;
GRANT USAGE ON SEQUENCE ticket_number_fault TO opsledger_app;

ALTER TABLE tickets
    ADD COLUMN severity smallint CHECK (severity BETWEEN 1 AND 4),
    ADD COLUMN complaint_linked boolean NOT NULL DEFAULT false;

-- The fault queue: open faults, untriaged and critical first, oldest first.
CREATE INDEX tickets_fault_queue ON tickets (severity NULLS FIRST, created_at, id)
    WHERE kind = 'fault' AND status NOT IN ('resolved', 'closed');
-- What an agent may list of faults.
CREATE INDEX tickets_complaint_linked_created ON tickets (created_at DESC, id DESC) WHERE complaint_linked;
