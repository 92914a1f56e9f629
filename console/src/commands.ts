// The commands the ticket page offers: which ones the user's role and the
// ticket's state allow (the same rules as src/domain/complaint/decide.rs,
// src/domain/fault/decide.rs and the permission matrix; the server still
// decides, and its refusal is shown), their fields, and how a filled form
// becomes the command's body.

import { type Answer, type CommandBody, type CommandPath, type Complaint, type Fault, type Role, type TicketDoc, command, may } from "./api";
import { t } from "./i18n";

export type CommandName = keyof typeof t.commands;

export interface Field {
  name: string;
  /** The JSON Pointer of the body member the field fills; where a problem's error lands. */
  pointer: string;
  label: () => string;
  kind: "text" | "textarea" | "select" | "radio" | "number" | "tel" | "email" | "datetime-local" | "lines" | "items";
  required?: boolean;
  max?: number;
  min?: number;
  /** Sent as a number (`number` fields and numeric selects). */
  numeric?: boolean;
  initial?: string;
  options?: () => [string, string][];
}

export interface CommandSpec {
  name: CommandName;
  path: CommandPath;
  key: string;
  fields: Field[];
  /** Commands that commute (a note) need no If-Match. */
  ifMatch: boolean;
}

const text = (name: string, required = false, kind: Field["kind"] = "textarea"): Field => ({
  name,
  pointer: `/${name}`,
  label: () => (t.fields as Record<string, string>)[name] ?? name,
  kind,
  required,
});

const SPECS: CommandSpec[] = [
  { name: "acknowledge", path: "/v1/complaints/{id}/acknowledge", key: "a", ifMatch: true, fields: [text("message")] },
  {
    name: "note",
    path: "/v1/complaints/{id}/notes",
    key: "m",
    ifMatch: false,
    fields: [
      text("body", true),
      {
        name: "visibility",
        pointer: "/visibility",
        label: () => t.fields.visibility,
        kind: "radio",
        required: true,
        options: () => [
          ["internal", t.internal],
          ["complainant", t.toComplainant],
        ],
      },
    ],
  },
  {
    name: "assign",
    path: "/v1/complaints/{id}/assign",
    key: "g",
    ifMatch: true,
    fields: [text("team", false, "text"), text("assignee", false, "text")],
  },
  { name: "wait", path: "/v1/complaints/{id}/wait-on-customer", key: "w", ifMatch: true, fields: [text("reason", true)] },
  { name: "resume", path: "/v1/complaints/{id}/resume", key: "u", ifMatch: true, fields: [text("note")] },
  {
    name: "escalate",
    path: "/v1/complaints/{id}/escalate",
    key: "e",
    ifMatch: true,
    fields: [text("description", true), text("affected_service", true, "text"), text("title", false, "text")],
  },
  {
    name: "resolve",
    path: "/v1/complaints/{id}/resolve",
    key: "r",
    ifMatch: true,
    fields: [text("resolution", true), text("root_cause")],
  },
  {
    name: "satisfaction",
    path: "/v1/complaints/{id}/satisfaction",
    key: "s",
    ifMatch: true,
    fields: [
      {
        name: "rating",
        pointer: "/rating",
        label: () => t.fields.rating,
        kind: "select",
        required: true,
        initial: "5",
        numeric: true,
        options: () => ["5", "4", "3", "2", "1"].map((n) => [n, n] as [string, string]),
      },
      text("comment"),
    ],
  },
  { name: "close", path: "/v1/complaints/{id}/close", key: "c", ifMatch: true, fields: [text("comment")] },
  { name: "reopen", path: "/v1/complaints/{id}/reopen", key: "o", ifMatch: true, fields: [text("reason", true)] },
];

const number = (name: string, required = true, min = 0): Field => ({ ...text(name, required, "number"), min });

const FAULT_SPECS: CommandSpec[] = [
  {
    name: "triage",
    path: "/v1/faults/{id}/triage",
    key: "t",
    ifMatch: true,
    fields: [
      {
        name: "severity",
        pointer: "/severity",
        label: () => t.fields.severity,
        kind: "select",
        required: true,
        numeric: true,
        initial: "3",
        options: () => ["1", "2", "3", "4"].map((n) => [n, (t.severities as Record<string, string>)[n] ?? n] as [string, string]),
      },
      text("evaluator", true, "text"),
      text("technician", false, "text"),
    ],
  },
  {
    name: "evaluate",
    path: "/v1/faults/{id}/evaluate",
    key: "v",
    ifMatch: true,
    fields: [text("nature", true), number("estimated_effort_minutes", true, 1), number("proposed_priority", true, 1)],
  },
  { name: "investigate", path: "/v1/faults/{id}/investigate", key: "i", ifMatch: true, fields: [text("note")] },
  {
    name: "repair",
    path: "/v1/faults/{id}/repairs",
    key: "l",
    ifMatch: false,
    fields: [
      text("technician", true, "text"),
      text("action_taken", true),
      text("started_at", true, "datetime-local"),
      text("ended_at", true, "datetime-local"),
      number("person_minutes", true, 1),
      {
        name: "maintenance_type",
        pointer: "/maintenance_type",
        label: () => t.fields.maintenance_type,
        kind: "select",
        required: true,
        options: () => Object.entries(t.maintenanceTypes),
      },
      text("parts", false, "lines"),
    ],
  },
  { name: "mitigate", path: "/v1/faults/{id}/mitigate", key: "x", ifMatch: true, fields: [text("workaround", true)] },
  {
    name: "resolveFault",
    path: "/v1/faults/{id}/resolve",
    key: "r",
    ifMatch: true,
    fields: [text("resolution", true), text("root_cause", true)],
  },
  { name: "closeFault", path: "/v1/faults/{id}/close", key: "c", ifMatch: true, fields: [text("comment")] },
  { name: "faultNote", path: "/v1/faults/{id}/notes", key: "m", ifMatch: false, fields: [text("body", true)] },
  {
    name: "review",
    path: "/v1/faults/{id}/review",
    key: "p",
    ifMatch: true,
    fields: [text("summary", true), text("root_cause", true), text("contributing_factors", false, "lines"), text("action_items", true, "items")],
  },
  {
    name: "completeItem",
    path: "/v1/faults/{id}/review/completed-items",
    key: "d",
    ifMatch: true,
    fields: [number("item", true, 1), text("note")],
  },
  { name: "reopenFault", path: "/v1/faults/{id}/reopen", key: "o", ifMatch: true, fields: [text("reason", true)] },
  { name: "assignTechnician", path: "/v1/faults/{id}/assign", key: "g", ifMatch: true, fields: [text("technician", true, "text")] },
  {
    name: "voidRepair",
    path: "/v1/faults/{id}/repairs/voided",
    key: "y",
    ifMatch: true,
    fields: [number("repair", true, 1), text("reason", true)],
  },
];

/** The commands `role` may run on `f` as it stands. */
export function faultCommandsFor(f: Fault, role: Role): CommandSpec[] {
  const s = f.status;
  // Who may: the server's matrix (`may`); when: the fault's state.
  const work = may(role, "fault_work");
  const triage = may(role, "fault_triage");
  const allowed: Partial<Record<CommandName, boolean>> = {
    triage: triage && (s === "reported" || s === "triaged" || s === "investigating" || s === "mitigated"),
    evaluate: work && (s === "triaged" || s === "investigating" || s === "mitigated"),
    investigate: work && s === "triaged",
    repair: work && (s === "triaged" || s === "investigating" || s === "mitigated" || s === "resolved"),
    mitigate: work && s === "investigating",
    resolveFault: work && (s === "investigating" || s === "mitigated"),
    closeFault: work && s === "resolved",
    faultNote: work,
    review: work && (s === "resolved" || s === "closed"),
    completeItem: work && !!f.review && f.review.action_items.some((i) => !i.done),
    reopenFault: work && (s === "resolved" || s === "closed"),
    assignTechnician: triage && (s === "triaged" || s === "investigating" || s === "mitigated"),
    voidRepair: work && f.repairs.some((r) => !r.voided),
  };
  return FAULT_SPECS.filter((spec) => allowed[spec.name]);
}

/** The commands `role` may run on `ticket` as it stands. */
export function commandsForTicket(ticket: TicketDoc, role: Role): CommandSpec[] {
  if (ticket.kind === "complaint") return commandsFor(ticket, role);
  if (ticket.kind === "fault") return faultCommandsFor(ticket, role);
  return [];
}

/** The commands `role` may run on `c` as it stands. */
export function commandsFor(c: Complaint, role: Role): CommandSpec[] {
  const s = c.status;
  const open = s === "filed" || s === "acknowledged" || s === "in_progress" || s === "waiting_on_customer";
  // Who may: the server's matrix (`may`); when: the complaint's state.
  const handle = may(role, "complaint_handle");
  const allowed: Partial<Record<CommandName, boolean>> = {
    acknowledge: handle && s === "filed",
    note: may(role, "complaint_note"),
    assign: may(role, "complaint_assign") && open,
    wait: handle && (s === "acknowledged" || s === "in_progress"),
    resume: handle && s === "waiting_on_customer",
    escalate: may(role, "complaint_escalate") && open && !c.escalated_to,
    resolve: handle && (s === "acknowledged" || s === "in_progress" || s === "waiting_on_customer"),
    satisfaction: handle && (s === "resolved" || s === "closed") && !c.satisfaction,
    close: handle && s === "resolved",
    reopen: handle && s === "resolved",
  };
  return SPECS.filter((spec) => allowed[spec.name]).map((spec) =>
    spec.name === "note" && s === "closed"
      ? { ...spec, fields: spec.fields.map((f) => (f.name === "visibility" ? { ...f, options: () => [["internal", t.internal]] as [string, string][] } : f)) }
      : spec,
  );
}

/**
 * The body of a command from its form: empty optional fields left out,
 * numbers as numbers, local date-times as UTC instants, lines as a list.
 * A value that does not convert is sent as typed, for the API to refuse
 * at its field.
 */
export function bodyOf(spec: CommandSpec, data: FormData): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of spec.fields) {
    const raw = String(data.get(field.name) ?? "").trim();
    if (!raw && !field.required) continue;
    if ((field.numeric || field.kind === "number") && raw && Number.isFinite(Number(raw))) {
      body[field.name] = Number(raw);
    } else if (field.kind === "datetime-local" && raw && !Number.isNaN(Date.parse(raw))) {
      body[field.name] = new Date(raw).toISOString().replace(/\.000Z$/, "Z");
    } else if (field.kind === "items") {
      // One action item a line: "description | owner | due date", split at
      // " | " from the right (an actor id holds a bare "|").
      body[field.name] = raw
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => {
          const parts = l.split(" | ");
          const due_on = parts.length > 2 ? (parts.pop() ?? "").trim() : "";
          const owner = parts.length > 1 ? (parts.pop() ?? "").trim() : "";
          return { description: parts.join(" | ").trim(), owner, due_on };
        });
    } else if (field.kind === "lines") {
      body[field.name] = raw.split("\n").map((l) => l.trim()).filter(Boolean);
    } else {
      body[field.name] = raw;
    }
  }
  return body;
}

export function runCommand(spec: CommandSpec, id: string, data: FormData, etag: string): Promise<Answer<TicketDoc>> {
  // The body's shape is the command's: checked by the API, and by the
  // field lists above against the generated types in `typedBodies`.
  return command(spec.path, id, bodyOf(spec, data) as CommandBody<typeof spec.path>, spec.ifMatch ? etag : undefined);
}

/**
 * Examples of every command body, typed against the generated API types:
 * renaming or requiring a member in openapi/openapi.json breaks this
 * check, and so the console's type check, until the field lists follow.
 */
export const typedBodies: { [P in CommandPath]: CommandBody<P> } = {
  "/v1/complaints/{id}/acknowledge": { message: "" },
  "/v1/complaints/{id}/notes": { body: "", visibility: "internal" },
  "/v1/complaints/{id}/assign": { team: "", assignee: "" },
  "/v1/complaints/{id}/wait-on-customer": { reason: "" },
  "/v1/complaints/{id}/resume": { note: "" },
  "/v1/complaints/{id}/escalate": { description: "", affected_service: "", title: "" },
  "/v1/complaints/{id}/resolve": { resolution: "", root_cause: "" },
  "/v1/complaints/{id}/satisfaction": { rating: 5, comment: "" },
  "/v1/complaints/{id}/close": { comment: "" },
  "/v1/complaints/{id}/reopen": { reason: "" },
  "/v1/faults/{id}/triage": { severity: 3, evaluator: "", technician: "" },
  "/v1/faults/{id}/evaluate": { nature: "", estimated_effort_minutes: 1, proposed_priority: 1 },
  "/v1/faults/{id}/investigate": { note: "" },
  "/v1/faults/{id}/repairs": {
    technician: "",
    action_taken: "",
    started_at: "",
    ended_at: "",
    person_minutes: 1,
    maintenance_type: "corrective",
    parts: [],
  },
  "/v1/faults/{id}/mitigate": { workaround: "" },
  "/v1/faults/{id}/resolve": { resolution: "", root_cause: "" },
  "/v1/faults/{id}/close": { comment: "" },
  "/v1/faults/{id}/notes": { body: "" },
  "/v1/faults/{id}/review": {
    summary: "",
    root_cause: "",
    contributing_factors: [],
    action_items: [{ description: "", owner: "", due_on: "" }],
  },
  "/v1/faults/{id}/review/completed-items": { item: 1, note: "" },
  "/v1/faults/{id}/reopen": { reason: "" },
  "/v1/faults/{id}/assign": { technician: "" },
  "/v1/faults/{id}/repairs/voided": { repair: 1, reason: "" },
};
