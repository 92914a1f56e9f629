// The service-level clocks as the browser reads them. A ticket view
// carries instants only (`due_at`, `warn_at`, …), never a time remaining,
// which changes every second while the view and its ETag stay the same:
// the state (on track, at risk, breached, paused) is computed here, from
// the instants and the browser's clock, the way the server judges its
// `sla_state` filter (src/domain/sla/clock.rs, `queue_columns`).

import type { Schemas, TicketDoc, TicketListQuery } from "./api";

export type Clocks = Schemas["Clocks"];
export type TargetClock = Schemas["TargetClock"];
export type SlaState = NonNullable<TicketListQuery["sla_state"]>;
export const SLA_STATES: SlaState[] = ["on_track", "at_risk", "breached", "paused"];

/** A ticket's clocks, if it has any (a complaint or a fault with clocks pinned). */
export function clocksOf(ticket: TicketDoc): Clocks | null {
  return "sla" in ticket ? (ticket.sla ?? null) : null;
}

function targets(c: Clocks): TargetClock[] {
  return [c.first_response, c.resolution].filter((x): x is TargetClock => !!x);
}

/** Running (not stopped), not paused, with a `due_at`: the targets that burn. */
function burning(c: Clocks): TargetClock[] {
  return targets(c).filter((x) => !x.stopped_at && !x.paused && !!x.due_at);
}

function earliest(instants: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  let bestMs = Infinity;
  for (const i of instants) {
    if (!i) continue;
    const ms = Date.parse(i);
    if (ms < bestMs) [best, bestMs] = [i, ms];
  }
  return best;
}

/** When the ticket's first burning target is due; `null` without a running clock. */
export function nextDue(ticket: TicketDoc): string | null {
  const c = clocksOf(ticket);
  return c ? earliest(burning(c).map((x) => x.due_at)) : null;
}

/** Where the ticket's clocks stand at `now`; `null` without a running clock. */
export function slaState(ticket: TicketDoc, now: number = Date.now()): SlaState | null {
  const c = clocksOf(ticket);
  if (!c) return null;
  const burn = burning(c);
  const due = earliest(burn.map((x) => x.due_at));
  if (due) {
    const warn = earliest(burn.map((x) => x.warn_at));
    if (Date.parse(due) <= now) return "breached";
    if (warn && Date.parse(warn) <= now) return "at_risk";
    return "on_track";
  }
  return targets(c).some((x) => !x.stopped_at && x.paused) ? "paused" : null;
}

/** One target's state: stopped (met or missed), paused, no due time (calendar data missing), or burning. */
export type TargetState = SlaState | "met" | "missed" | "stopped" | "unknown";

export function targetState(x: TargetClock, now: number = Date.now()): TargetState {
  if (x.stopped_at) return x.met === true ? "met" : x.met === false ? "missed" : "stopped";
  if (x.paused) return "paused";
  if (!x.due_at) return "unknown";
  if (Date.parse(x.due_at) <= now) return "breached";
  if (x.warn_at && Date.parse(x.warn_at) <= now) return "at_risk";
  return "on_track";
}

/**
 * The order of the queue: what is due first. Tickets with a burning
 * clock by their earliest `due_at`; after them, tickets without one,
 * oldest first; ties by number. The server sorts each list so
 * (`sort=due_at`); the queue merges several lists with it.
 */
export function dueOrder(a: TicketDoc, b: TicketDoc): number {
  const da = nextDue(a);
  const db = nextDue(b);
  if (da && db) {
    const d = Date.parse(da) - Date.parse(db);
    if (d !== 0) return d;
  } else if (da || db) {
    return da ? -1 : 1;
  }
  return a.created_at.localeCompare(b.created_at) || a.number.localeCompare(b.number);
}
