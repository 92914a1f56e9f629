-- The fault queue pages with a keyset cursor over (severity rank, age, id),
-- where an untriaged fault ranks 0, before severity 1. The index orders by
-- that rank, so the first page and every page after a cursor are index
-- scans (the V4 index, NULLS FIRST, cannot seek to a cursor's rank).
DROP INDEX tickets_fault_queue;
CREATE INDEX tickets_fault_queue ON tickets ((coalesce(severity, 0::smallint)), created_at, id)
    WHERE kind = 'fault' AND status NOT IN ('resolved', 'closed');
