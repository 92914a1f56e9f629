// The API as the console uses it. Paths and bodies are typed from the
// generated src/api-types.ts (openapi-typescript over openapi/openapi.json),
// so a change of the API that breaks the console fails `tsc --noEmit`.
//
// The token lives in this module's memory only: never in a URL, a cookie,
// localStorage or sessionStorage (docs/console.md says why).

import type { components, paths } from "./api-types";
import { language } from "./i18n";

export type Schemas = components["schemas"];
export type Complaint = Schemas["Complaint"];
export type Fault = Schemas["Fault"];
export type TicketDoc = Schemas["TicketDoc"];
export type TicketPage = Schemas["TicketPage"];
export type Problem = Schemas["Problem"];
export type FeedEvent = Schemas["FeedEvent"];
export type FeedPage = Schemas["FeedPage"];
export type Personal = Schemas["Personal"];
export type Role = Schemas["Role"];
export type FileComplaint = Schemas["FileComplaint"];
export type TicketListQuery = NonNullable<paths["/v1/tickets"]["get"]["parameters"]["query"]>;

export interface Session {
  token: string;
  actor: string;
  subject: string;
  role: Role;
  expiresAt: number;
}

let session: Session | null = null;

export function currentSession(): Session | null {
  if (session && session.expiresAt * 1000 <= Date.now()) session = null;
  return session;
}

export function signOut(): void {
  session = null;
}

/** A refused request: its status and the problem document the API sent. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
  }
  get kind(): string {
    return this.problem?.type.replace("urn:opsledger:problem:", "") ?? "";
  }
}

export interface Answer<T> {
  body: T;
  etag: string;
  status: number;
}

function headers(extra: Record<string, string> = {}): Headers {
  const h = new Headers({ Accept: "application/json", "Accept-Language": language(), ...extra });
  const s = currentSession();
  if (s) h.set("Authorization", `Bearer ${s.token}`);
  return h;
}

async function send<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Answer<T>> {
  const init: RequestInit = { method, headers: headers(extra), cache: "no-store" };
  if (body !== undefined) {
    (init.headers as Headers).set("Content-Type", "application/json");
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const etag = response.headers.get("ETag") ?? "";
  if (response.status === 401 && session && path !== "/console/dev-login") {
    // The token expired or was refused: sign in again, then come back here.
    session = null;
    if (location.hash !== "#/login") location.hash = "#/login";
  }
  if (!response.ok) {
    let problem: Problem | null = null;
    try {
      problem = (await response.json()) as Problem;
    } catch {
      problem = null;
    }
    throw new ApiFailure(response.status, problem);
  }
  const text = await response.text();
  return { body: (text ? JSON.parse(text) : null) as T, etag, status: response.status };
}

/** Signs in with the development login; `false` when the server has none. */
export async function devLogin(role: Role, subject: string): Promise<boolean> {
  try {
    const answer = await send<{ token: string; actor: string; subject: string; role: Role; expires_at: number }>(
      "POST",
      "/console/dev-login",
      { role, subject },
    );
    const b = answer.body;
    session = { token: b.token, actor: b.actor, subject: b.subject, role: b.role, expiresAt: b.expires_at };
    return true;
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 404) return false;
    throw e;
  }
}

/** How this server lets the console sign in (`GET /console/config.json`). */
export interface ConsoleConfig {
  dev_login: boolean;
  oidc: { discovery_url: string; client_id: string; scope: string } | null;
  roles_claim: string;
  /** The server's permission matrix: the roles holding each permission. */
  grants: Record<string, Role[]>;
}

let grants: Record<string, Role[]> = {};

export async function consoleConfig(): Promise<ConsoleConfig> {
  const config = (await send<ConsoleConfig>("GET", "/console/config.json")).body;
  grants = config.grants;
  return config;
}

/** Whether `role` holds `permission` in the server's one matrix. */
export function may(role: Role, permission: string): boolean {
  return grants[permission]?.includes(role) ?? false;
}

// Single sign-on: the authorization code flow with PKCE (RFC 7636), the
// console being a public client. What must survive the round trip to the
// provider (the PKCE verifier, the state, where to return) is kept in
// sessionStorage under this key until the provider sends the user back,
// then removed; it is not a token, and the verifier is useless without
// the one-time code. The token itself stays in memory.
const PKCE_KEY = "opsledger.console.pkce";

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function redirectUri(): string {
  return `${location.origin}/console/`;
}

/** Sends the browser to the provider's login; it comes back to /console/ with a code. */
export async function startSingleSignOn(oidc: NonNullable<ConsoleConfig["oidc"]>, returnTo: string): Promise<void> {
  const discovery = (await (await fetch(oidc.discovery_url, { cache: "no-store" })).json()) as {
    authorization_endpoint: string;
    token_endpoint: string;
  };
  const verifier = randomText(32);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const state = randomText(16);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo, tokenEndpoint: discovery.token_endpoint }));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: oidc.client_id,
    redirect_uri: redirectUri(),
    scope: oidc.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

/**
 * Finishes a single sign-on when the provider has sent the browser back
 * with `?code=…&state=…`: takes the code out of the address bar at once,
 * checks the state, exchanges the code and the PKCE verifier for a token,
 * and keeps it in memory. Returns where to go next, or `null` when this
 * load is not a return from the provider.
 */
export async function finishSingleSignOn(config: ConsoleConfig): Promise<string | null> {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  const error = params.get("error");
  if (!code && !error) return null;
  history.replaceState(null, "", location.pathname);
  const stored = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  if (error) throw new Error(error);
  const pending = stored ? (JSON.parse(stored) as { verifier: string; state: string; returnTo: string; tokenEndpoint: string }) : null;
  if (!pending || pending.state !== params.get("state") || !config.oidc || !code) throw new Error("state");
  const response = await fetch(pending.tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      client_id: config.oidc.client_id,
      code_verifier: pending.verifier,
    }),
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`token endpoint ${response.status}`);
  const token = ((await response.json()) as { access_token: string }).access_token;
  const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  let roles: unknown = claims;
  for (const part of config.roles_claim.split(".")) roles = roles && typeof roles === "object" ? (roles as Record<string, unknown>)[part] : undefined;
  const held = Array.isArray(roles) ? roles.map(String) : typeof roles === "string" ? roles.split(" ") : [];
  const role = (["admin", "manager", "agent", "engineer", "auditor", "integration"] as Role[]).find((r) => held.includes(r)) ?? "auditor";
  session = {
    token,
    actor: `${String(claims.iss)}|${String(claims.sub)}`,
    subject: String(claims.name ?? claims.sub),
    role,
    expiresAt: Number(claims.exp),
  };
  return pending.returnTo;
}

export function getTicket(id: string): Promise<Answer<TicketDoc>> {
  return send("GET", `/v1/tickets/${encodeURIComponent(id)}`);
}

export function listTickets(query: TicketListQuery): Promise<Answer<TicketPage>> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  return send("GET", `/v1/tickets?${params}`);
}

export function faultQueue(): Promise<Answer<TicketPage>> {
  return send("GET", "/v1/faults/queue?limit=200");
}

export type ReportFault = Schemas["ReportFault"];

export function reportFault(body: ReportFault): Promise<Answer<Fault>> {
  return send("POST", "/v1/faults", body);
}

export function fileComplaint(body: FileComplaint): Promise<Answer<Complaint>> {
  return send("POST", "/v1/complaints", body);
}

/** The paths of the commands the ticket page offers. */
export type CommandPath =
  | "/v1/complaints/{id}/acknowledge"
  | "/v1/complaints/{id}/notes"
  | "/v1/complaints/{id}/assign"
  | "/v1/complaints/{id}/wait-on-customer"
  | "/v1/complaints/{id}/resume"
  | "/v1/complaints/{id}/escalate"
  | "/v1/complaints/{id}/resolve"
  | "/v1/complaints/{id}/satisfaction"
  | "/v1/complaints/{id}/close"
  | "/v1/complaints/{id}/reopen"
  | "/v1/faults/{id}/triage"
  | "/v1/faults/{id}/evaluate"
  | "/v1/faults/{id}/investigate"
  | "/v1/faults/{id}/repairs"
  | "/v1/faults/{id}/mitigate"
  | "/v1/faults/{id}/resolve"
  | "/v1/faults/{id}/close"
  | "/v1/faults/{id}/notes"
  | "/v1/faults/{id}/review"
  | "/v1/faults/{id}/review/completed-items"
  | "/v1/faults/{id}/reopen"
  | "/v1/faults/{id}/assign"
  | "/v1/faults/{id}/repairs/voided";

export type CommandBody<P extends CommandPath> = paths[P]["post"]["requestBody"] extends
  | { content: { "application/json": infer B } }
  | undefined
  ? B
  : never;

/** Runs a command on ticket `id`, based on the version `etag` names (none for commands that commute). */
export function command<P extends CommandPath>(path: P, id: string, body: CommandBody<P>, etag?: string): Promise<Answer<TicketDoc>> {
  return send("POST", path.replace("{id}", encodeURIComponent(id)), body, etag ? { "If-Match": etag } : {});
}

/**
 * Follows the event feed live: `GET /v1/events/stream` read with fetch
 * (EventSource cannot send an Authorization header, and a token never goes
 * into a URL). Calls `onEvent` for each event, reconnects after a drop, and
 * reports whether it is connected. Stops when `signal` aborts.
 */
export async function followFeed(
  onEvent: (event: FeedEvent) => void,
  onState: (connected: boolean) => void,
  signal: AbortSignal,
): Promise<void> {
  let after: number | null = null;
  while (!signal.aborted) {
    try {
      if (after === null) {
        const head = await send<FeedPage>("GET", "/v1/events?limit=1&after=0");
        after = head.body.head;
      }
      const response = await fetch(`/v1/events/stream?after=${after}`, { headers: headers({ Accept: "text/event-stream" }), signal });
      if (!response.ok || !response.body) throw new ApiFailure(response.status, null);
      onState(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message = parseFrame(frame);
          if (message.id !== null) after = message.id;
          if (message.event === "end") return;
          if (message.data && message.event !== "error") onEvent(JSON.parse(message.data) as FeedEvent);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiFailure && e.status === 401) return;
    }
    onState(false);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function parseFrame(frame: string): { id: number | null; event: string; data: string } {
  let id: number | null = null;
  let event = "message";
  const data: string[] = [];
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = Number(value);
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return { id: Number.isFinite(id) ? id : null, event, data: data.join("\n") };
}

/** Personal data as the caller may see it: clear, masked, or erased. */
export function personalText(value: Personal | null | undefined, erased: string): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if ("erased" in value) return erased;
  return "***";
}
