// The complaint commands the ticket page offers: which ones the user's
// role and the complaint's state allow (the same rules as
// src/domain/complaint/decide.rs and the permission matrix; the server
// still decides, and its refusal is shown), their fields, and how a filled
// form becomes the command's body.

import { type Answer, type CommandBody, type CommandPath, type Complaint, type Role, type TicketDoc, command } from "./api";
import { t } from "./i18n";

export type CommandName = keyof typeof t.commands;

export interface Field {
  name: string;
  /** The JSON Pointer of the body member the field fills; where a problem's error lands. */
  pointer: string;
  label: () => string;
  kind: "text" | "textarea" | "select" | "radio" | "number" | "tel" | "email";
  required?: boolean;
  max?: number;
  min?: number;
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
        options: () => ["5", "4", "3", "2", "1"].map((n) => [n, n] as [string, string]),
      },
      text("comment"),
    ],
  },
  { name: "close", path: "/v1/complaints/{id}/close", key: "c", ifMatch: true, fields: [text("comment")] },
  { name: "reopen", path: "/v1/complaints/{id}/reopen", key: "o", ifMatch: true, fields: [text("reason", true)] },
];

const HANDLERS: Role[] = ["agent", "manager", "admin"];
const NOTE_TAKERS: Role[] = ["agent", "engineer", "manager", "admin"];

/** The commands `role` may run on `c` as it stands. */
export function commandsFor(c: Complaint, role: Role): CommandSpec[] {
  const s = c.status;
  const open = s === "filed" || s === "acknowledged" || s === "in_progress" || s === "waiting_on_customer";
  const allowed: Record<CommandName, boolean> = {
    acknowledge: HANDLERS.includes(role) && s === "filed",
    note: NOTE_TAKERS.includes(role),
    assign: HANDLERS.includes(role) && open,
    wait: HANDLERS.includes(role) && (s === "acknowledged" || s === "in_progress"),
    resume: HANDLERS.includes(role) && s === "waiting_on_customer",
    escalate: HANDLERS.includes(role) && open && !c.escalated_to,
    resolve: HANDLERS.includes(role) && (s === "acknowledged" || s === "in_progress" || s === "waiting_on_customer"),
    satisfaction: HANDLERS.includes(role) && (s === "resolved" || s === "closed") && !c.satisfaction,
    close: HANDLERS.includes(role) && s === "resolved",
    reopen: HANDLERS.includes(role) && s === "resolved",
  };
  return SPECS.filter((spec) => allowed[spec.name]).map((spec) =>
    spec.name === "note" && s === "closed"
      ? { ...spec, fields: spec.fields.map((f) => (f.name === "visibility" ? { ...f, options: () => [["internal", t.internal]] as [string, string][] } : f)) }
      : spec,
  );
}

/** The body of a command from its form: empty optional fields left out, the rating a number. */
export function bodyOf(spec: CommandSpec, data: FormData): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of spec.fields) {
    const raw = String(data.get(field.name) ?? "").trim();
    if (!raw && !field.required) continue;
    body[field.name] = field.name === "rating" ? Number(raw) : raw;
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
};
