// The console: one page, routed by the URL's fragment (#/queue,
// #/new, #/ticket/CMP-2026-000001), so the server serves one file and a
// token never needs to travel in a URL.

import {
  ApiFailure,
  type Complaint,
  type Fault,
  type FeedEvent,
  type FileComplaint,
  type Personal,
  type Role,
  type TicketDoc,
  type TicketListQuery,
  type ConsoleConfig,
  consoleConfig,
  currentSession,
  finishSingleSignOn,
  startSingleSignOn,
  devLogin,
  faultQueue,
  fileComplaint,
  reportFault,
  type ReportFault,
  followFeed,
  getTicket,
  listTickets,
  may,
  personalText,
  signOut,
} from "./api";
import { h, replace } from "./dom";
import { LANGS, type Lang, browserLanguage, fill, language, setLanguage, t } from "./i18n";
import { type CommandName, type Field, commandsForTicket, runCommand } from "./commands";
import { type Clocks, type SlaState, type TargetClock, SLA_STATES, clocksOf, dueOrder, nextDue, slaState, targetState } from "./sla";

const app = document.getElementById("app") as HTMLElement;
/** Polite announcements for screen readers (and tests): what just happened. */
const announcer = h("p", { id: "announcer", class: "announcer", role: "status", "aria-live": "polite" });
let main: HTMLElement = h("main", { id: "main", tabindex: "-1" });
/** Stops the live feed of the previous screen. */
let stopFollowing: AbortController | null = null;
/** Keyboard shortcuts of the current screen, by key. */
let screenShortcuts = new Map<string, () => void>();

setLanguage(browserLanguage());

export function announce(text: string): void {
  announcer.textContent = text;
}

// ---------------------------------------------------------------- layout

function layout(): void {
  const s = currentSession();
  const languageSelect = h(
    "select",
    { id: "language", onchange: (e: Event) => switchLanguage((e.target as HTMLSelectElement).value as Lang) },
    LANGS.map((l) => h("option", { value: l.tag, selected: l.tag === language(), lang: l.tag }, l.label)),
  );
  const header = h(
    "header",
    { class: "top" },
    h("a", { class: "skip", href: "#main", onclick: skipToMain }, t.skip),
    h("span", { class: "brand" }, t.appName),
    s
      ? h(
          "nav",
          { "aria-label": t.appName },
          h("a", { href: "#/queue", "aria-keyshortcuts": "q" }, t.queue),
          may(s.role, "complaint_file") ? h("a", { href: "#/new", "aria-keyshortcuts": "f" }, t.newComplaint) : null,
          readsFaults(s.role) ? h("a", { href: "#/faults", "aria-keyshortcuts": "k" }, t.faultQueue) : null,
          reportsFaults(s.role) ? h("a", { href: "#/report" }, t.reportFault) : null,
        )
      : null,
    s
      ? h(
          "form",
          { class: "find", role: "search", onsubmit: findTicket },
          h("label", { for: "find" }, t.find),
          h("input", { id: "find", name: "find", placeholder: t.findPlaceholder, autocomplete: "off", "aria-keyshortcuts": "/" }),
          h("button", { type: "submit" }, t.findButton),
        )
      : null,
    h("span", { class: "spacer" }),
    h("label", { for: "language", class: "inline" }, t.language),
    languageSelect,
    s ? h("span", { class: "who" }, fill(t.signedInAs, { who: s.subject, role: t.roles[s.role] })) : null,
    s ? h("button", { type: "button", onclick: doSignOut }, t.signOut) : null,
  );
  main = h("main", { id: "main", tabindex: "-1" });
  replace(app, header, main, h("footer", {}, announcer, h("p", { class: "help" }, t.shortcuts, ": ", t.shortcutsHelp)));
}

function skipToMain(e: Event): void {
  e.preventDefault();
  main.focus();
}

function switchLanguage(lang: Lang): void {
  setLanguage(lang);
  void route();
  document.getElementById("language")?.focus();
}

function doSignOut(): void {
  signOut();
  location.hash = "#/login";
}

function findTicket(e: Event): void {
  e.preventDefault();
  const input = document.getElementById("find") as HTMLInputElement;
  const number = input.value.trim();
  if (number) location.hash = `#/ticket/${encodeURIComponent(number.toUpperCase())}`;
}

// ---------------------------------------------------------------- routing

async function route(): Promise<void> {
  stopFollowing?.abort();
  stopFollowing = null;
  screenShortcuts = new Map();
  const hash = location.hash || "#/queue";
  if (!currentSession() && hash !== "#/login") {
    sessionAfterLogin = hash;
    location.hash = "#/login";
    return;
  }
  layout();
  const [, screen, arg] = hash.split("/");
  switch (screen) {
    case "login":
      return loginScreen();
    case "new":
      return fileScreen();
    case "faults":
      return faultQueueScreen();
    case "report":
      return reportScreen();
    case "ticket":
      return ticketScreen(decodeURIComponent(arg ?? ""));
    default:
      return queueScreen();
  }
}

let sessionAfterLogin = "#/queue";

window.addEventListener("hashchange", () => void route());
window.addEventListener("keydown", shortcut);

// ---------------------------------------------------------------- login

let config: ConsoleConfig = { dev_login: false, oidc: null, roles_claim: "roles", grants: {} };
/** Why the last single sign-on failed, shown once on the login screen. */
let signOnFailure = "";

function loginScreen(): void {
  document.title = `${t.loginTitle} · ${t.appName}`;
  const roles: Role[] = ["agent", "engineer", "manager", "auditor", "admin"];
  const error = h("p", { class: "error", role: "alert" }, signOnFailure ? fill(t.singleSignOnFailed, { why: signOnFailure }) : "");
  signOnFailure = "";
  const oidc = config.oidc;
  const sso = oidc
    ? h(
        "button",
        {
          type: "button",
          class: "primary",
          id: "single-sign-on",
          onclick: () =>
            void startSingleSignOn(oidc, sessionAfterLogin).catch((e: unknown) => {
              error.textContent = fill(t.singleSignOnFailed, { why: e instanceof Error ? e.message : String(e) });
            }),
        },
        t.singleSignOn,
      )
    : null;
  const form = h(
    "form",
    { class: "card", onsubmit: submit },
    h("p", {}, t.loginIntro),
    h("label", { for: "role" }, t.role),
    h("select", { id: "role", name: "role" }, roles.map((r) => h("option", { value: r }, t.roles[r]))),
    h("label", { for: "user" }, t.user),
    h("input", { id: "user", name: "user", value: "agent-1", autocomplete: "username", required: true, pattern: "[A-Za-z0-9._\\-]{1,64}" }),
    error,
    h("button", { type: "submit", class: "primary" }, t.signIn),
  );
  const roleSelect = form.querySelector("#role") as HTMLSelectElement;
  const user = form.querySelector("#user") as HTMLInputElement;
  roleSelect.addEventListener("change", () => {
    if (/^[a-z]+-1$/.test(user.value)) user.value = `${roleSelect.value}-1`;
  });
  replace(
    main,
    h("h1", {}, t.loginTitle),
    sso ? h("div", { class: "card" }, sso) : null,
    config.dev_login ? form : null,
    !sso && !config.dev_login ? h("p", { class: "error", role: "alert" }, t.devLoginMissing) : null,
    sso && !config.dev_login ? error : null,
  );
  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    try {
      const ok = await devLogin(roleSelect.value as Role, user.value.trim());
      if (!ok) {
        error.textContent = t.devLoginMissing;
        return;
      }
      const home = roleSelect.value === "engineer" ? "#/faults" : "#/queue";
      location.hash = sessionAfterLogin === "#/login" || sessionAfterLogin === "#/queue" ? home : sessionAfterLogin;
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  }
}

// ---------------------------------------------------------------- queue

type Scope = "mine" | "unassigned" | "all";
const filters: {
  scope: Scope;
  team: string;
  assignee: string;
  status: string;
  priority: string;
  channel: string;
  sla_state: string;
  created_from: string;
  created_to: string;
} = {
  scope: "all",
  team: "",
  assignee: "",
  status: "",
  priority: "",
  channel: "",
  sla_state: "",
  created_from: "",
  created_to: "",
};

/** The statuses of a complaint the desk still has to act on. */
const OPEN_STATUSES = ["filed", "acknowledged", "in_progress", "waiting_on_customer", "resolved"];
/** At most this many pages of 200 per status make the queue. */
const QUEUE_PAGES = 10;

async function allPages(query: TicketListQuery): Promise<{ items: TicketDoc[]; truncated: boolean }> {
  const items: TicketDoc[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < QUEUE_PAGES; page++) {
    const answer = await listTickets(cursor ? { ...query, cursor } : query);
    items.push(...answer.body.items);
    cursor = answer.body.next_cursor ?? undefined;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

function queueScreen(): void {
  document.title = `${t.queueTitle} · ${t.appName}`;
  const s = currentSession();
  const liveState = h("span", { class: "live", id: "live-state" }, t.liveOff);
  const table = h("div", { id: "queue-table" }, h("p", {}, t.loading));
  const select = (id: keyof typeof filters, label: string, options: [string, string][]) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${id}` }, label),
      h(
        "select",
        { id: `filter-${id}`, name: id },
        h("option", { value: "" }, t.any),
        options.map(([value, text]) => h("option", { value, selected: filters[id] === value }, text)),
      ),
    );
  const scopes: [Scope, string][] = [
    ["mine", t.scopeMine],
    ["unassigned", t.scopeUnassigned],
    ["all", t.scopeAll],
  ];
  const form = h(
    "form",
    { class: "filters", onsubmit: (e: Event) => (e.preventDefault(), readFilters(), void load()) },
    h(
      "fieldset",
      { class: "scope" },
      h("legend", {}, t.scope),
      scopes.map(([value, text]) =>
        h(
          "label",
          { class: "radio" },
          h("input", {
            type: "radio",
            name: "scope",
            value,
            checked: filters.scope === value,
            onchange: () => (readFilters(), void load()),
          }),
          text,
        ),
      ),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "filter-team" }, t.team),
      h("input", { id: "filter-team", name: "team", value: filters.team }),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "filter-assignee" }, t.assignee),
      h("input", { id: "filter-assignee", name: "assignee", value: filters.assignee }),
    ),
    select(
      "status",
      t.status,
      ["filed", "acknowledged", "in_progress", "waiting_on_customer", "resolved", "closed"].map((v) => [v, t.statuses[v] ?? v]),
    ),
    select("priority", t.priority, ["P1", "P2", "P3", "P4"].map((v) => [v, v])),
    select("channel", t.channel, Object.entries(t.channels)),
    select("sla_state", t.slaState, SLA_STATES.map((v) => [v, t.slaStates[v] ?? v])),
    h(
      "div",
      { class: "field" },
      h("label", { for: "filter-created_from" }, t.createdFrom),
      h("input", { id: "filter-created_from", name: "created_from", type: "date", value: filters.created_from }),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "filter-created_to" }, t.createdTo),
      h("input", { id: "filter-created_to", name: "created_to", type: "date", value: filters.created_to }),
    ),
    h("button", { type: "submit" }, t.apply),
  );
  replace(
    main,
    h("h1", {}, t.queueTitle, " ", liveState),
    h("section", { "aria-label": t.filters }, form),
    h("p", { class: "hint" }, t.sortedBy),
    table,
  );

  function readFilters(): void {
    const data = new FormData(form);
    filters.scope = (data.get("scope") as Scope | null) ?? "all";
    filters.team = String(data.get("team") ?? "").trim();
    filters.assignee = String(data.get("assignee") ?? "").trim();
    filters.created_from = String(data.get("created_from") ?? "");
    filters.created_to = String(data.get("created_to") ?? "");
    filters.status = String(data.get("status") ?? "");
    filters.priority = String(data.get("priority") ?? "");
    filters.channel = String(data.get("channel") ?? "");
    filters.sla_state = String(data.get("sla_state") ?? "");
  }

  let loading: Promise<void> | null = null;
  let again = false;
  async function load(): Promise<void> {
    if (loading) {
      again = true;
      return;
    }
    loading = (async () => {
      try {
        // What burns first comes first from the server too, so a list cut
        // short at QUEUE_PAGES pages keeps the most urgent tickets.
        const query: TicketListQuery = { kind: "complaint", limit: 200, sort: "due_at" };
        if (filters.sla_state) query.sla_state = filters.sla_state as SlaState;
        if (filters.team) query.team = filters.team;
        if (filters.status) query.status = filters.status as TicketListQuery["status"];
        if (filters.priority) query.priority = filters.priority as TicketListQuery["priority"];
        if (filters.channel) query.channel = filters.channel as TicketListQuery["channel"];
        if (filters.assignee) query.assignee = filters.assignee;
        if (filters.scope === "mine" && s) query.assignee = s.actor;
        // Dates are the user's local days: from the start of the first to the end of the last.
        if (filters.created_from) query.created_from = new Date(`${filters.created_from}T00:00`).toISOString();
        if (filters.created_to) query.created_to = new Date(new Date(`${filters.created_to}T00:00`).getTime() + 86_400_000).toISOString();
        // The API filters one status at a time: so every open status is
        // read (up to QUEUE_PAGES pages each, what is due first) and the
        // lists are merged in the same order, dueOrder.
        const statuses = filters.status ? [filters.status] : OPEN_STATUSES;
        const pages = await Promise.all(statuses.map((status) => allPages({ ...query, status: status as TicketListQuery["status"] })));
        const truncated = pages.some((p) => p.truncated);
        const items = pages
          .flatMap((p) => p.items)
          .filter((ticket) => filters.scope !== "unassigned" || (ticket.kind === "complaint" && !ticket.assignee))
          .sort(dueOrder);
        shown = { items, truncated };
        render();
      } catch (failure) {
        replace(table, h("p", { class: "error", role: "alert" }, failure instanceof Error ? failure.message : String(failure)));
      }
    })();
    await loading;
    loading = null;
    if (again) {
      again = false;
      await load();
      announce(t.queueUpdated);
    }
  }

  /** What the queue shows; re-rendered each half minute, as the states are judged from the browser's clock. */
  let shown: { items: TicketDoc[]; truncated: boolean } | null = null;
  function render(): void {
    if (!shown) return;
    const { items, truncated } = shown;
    replace(table, queueTable(items), truncated ? h("p", { class: "hint", role: "note" }, fill(t.truncated, { n: items.length })) : null);
  }

  void load();
  stopFollowing = new AbortController();
  const ticking = window.setInterval(render, 30_000);
  stopFollowing.signal.addEventListener("abort", () => clearInterval(ticking));
  let timer: number | undefined;
  void followFeed(
    (event: FeedEvent) => {
      if (!event.type.startsWith("complaint.")) return;
      clearTimeout(timer);
      timer = window.setTimeout(() => void load().then(() => announce(t.queueUpdated)), 150);
    },
    (connected) => {
      liveState.textContent = connected ? t.live : t.liveOff;
      liveState.classList.toggle("on", connected);
    },
    stopFollowing.signal,
  );
}

function queueTable(items: TicketDoc[]): HTMLElement {
  const now = Date.now();
  if (items.length === 0) return h("p", { id: "queue-empty" }, t.noTickets);
  return h(
    "table",
    { class: "queue" },
    h("caption", { class: "visually-hidden" }, t.queueTitle),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        [t.number, t.title, t.status, t.priority, t.dueAt, t.slaState, t.team, t.assignee, t.age].map((c) => h("th", { scope: "col" }, c)),
      ),
    ),
    h(
      "tbody",
      {},
      items.map((ticket) => {
        const due = nextDue(ticket);
        const state = slaState(ticket, now);
        return h(
          "tr",
          { "data-number": ticket.number, "data-sla": state ?? "" },
          h("td", { class: "nowrap" }, h("a", { href: `#/ticket/${ticket.number}` }, ticket.number)),
          h("td", {}, ticket.title),
          h("td", { class: "nowrap" }, statusLabel(ticket.status)),
          h("td", {}, ticket.kind === "complaint" ? ticket.priority : ""),
          h("td", { class: "nowrap due" }, due ? h("time", { datetime: due }, when(due)) : ""),
          h("td", { class: "nowrap" }, state ? slaBadge(state) : ""),
          h("td", {}, ticket.kind === "complaint" ? (ticket.team ?? "") : ""),
          h("td", {}, ticket.kind === "complaint" ? (ticket.assignee ?? "") : ""),
          h("td", { class: "nowrap" }, h("time", { datetime: ticket.created_at, title: when(ticket.created_at) }, age(ticket.created_at))),
        );
      }),
    ),
  );
}

function slaBadge(state: string): HTMLElement {
  return h("span", { class: `badge sla-${state}` }, t.slaStates[state] ?? state);
}

/** A ticket's clocks: response and resolution, each with its due time and where it stands. */
function clocksSection(c: Clocks | null): HTMLElement {
  const now = Date.now();
  const target = (id: string, label: string, x: TargetClock | null | undefined) => {
    if (!x) return null;
    const state = targetState(x, now);
    const facts: (string | Node)[] = [];
    if (x.due_at) facts.push(h("time", { datetime: x.due_at }, when(x.due_at)));
    if (x.paused) facts.push(t.slaPausedKeeps);
    if (x.calendar_data_missing) facts.push(h("strong", {}, t.slaCalendarMissing));
    if (x.warned_at) facts.push(fill(t.slaWarnedAt, { at: when(x.warned_at) }));
    if (x.breached_at) facts.push(fill(t.slaBreachedAt, { at: when(x.breached_at) }));
    return h(
      "tr",
      { id: `sla-${id}`, "data-state": state },
      h("th", { scope: "row" }, label),
      h("td", {}, slaBadge(state)),
      h("td", {}, facts.flatMap((f, i) => (i ? [" · ", f] : [f]))),
      h("td", { class: "nowrap" }, x.warn_at && !x.stopped_at ? h("time", { datetime: x.warn_at }, when(x.warn_at)) : ""),
      h("td", {}, String(x.cycle)),
      h("td", { class: "nowrap" }, x.stopped_at ? h("time", { datetime: x.stopped_at }, when(x.stopped_at)) : ""),
      h("td", {}, fill(t.slaBusinessMinutes, { n: x.minutes, calendar: x.calendar.code })),
    );
  };
  return h(
    "section",
    { "aria-labelledby": "sla-title", id: "sla" },
    h("h2", { id: "sla-title" }, t.serviceLevel),
    !c
      ? h("p", {}, t.noSla)
      : [
          c.paused_since ? h("p", {}, fill(t.slaPausedSince, { at: when(c.paused_since) })) : null,
          h(
            "table",
            { class: "queue" },
            h("caption", { class: "visually-hidden" }, t.serviceLevel),
            h(
              "thead",
              {},
              h("tr", {}, [t.slaTarget, t.slaState, t.dueAt, t.slaWarnAt, t.slaCycle, t.slaStoppedAt, t.slaBusinessMinutesHead].map((x) => h("th", { scope: "col" }, x))),
            ),
            h("tbody", {}, target("response", t.slaResponse, c.first_response), target("resolution", t.slaResolution, c.resolution)),
          ),
        ],
  );
}

function reportsFaults(role: Role): boolean {
  return may(role, "fault_report");
}

function reportScreen(): void {
  document.title = `${t.reportFault} · ${t.appName}`;
  const fields: Field[] = [
    { name: "title", pointer: "/title", label: () => t.title, kind: "text", required: true, max: 200 },
    { name: "description", pointer: "/description", label: () => t.description, kind: "textarea", required: true },
    { name: "affected_service", pointer: "/affected_service", label: () => t.affectedService, kind: "text", required: true, max: 100 },
    {
      name: "detected_by",
      pointer: "/detected_by",
      label: () => t.detectedBy,
      kind: "select",
      required: true,
      options: () => Object.entries(t.detectedByOptions),
    },
  ];
  const summary = h("div", { class: "error", role: "alert", id: "form-errors" });
  const form = h(
    "form",
    { class: "card wide", novalidate: true, onsubmit: submit },
    summary,
    fields.map((f) => fieldControl(f, "report")),
    h("button", { type: "submit", class: "primary" }, t.report),
  );
  replace(main, h("h1", {}, t.reportFault), form);
  (form.querySelector("input") as HTMLElement | null)?.focus();
  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    clearErrors(form, summary);
    const value = (name: string) => String(new FormData(form).get(name) ?? "").trim();
    const body: ReportFault = {
      title: value("title"),
      description: value("description"),
      affected_service: value("affected_service"),
      detected_by: value("detected_by") as ReportFault["detected_by"],
    };
    try {
      const answer = await reportFault(body);
      announce(fill(t.done, { what: t.reportFault }));
      location.hash = `#/ticket/${answer.body.number}`;
    } catch (failure) {
      showErrors(form, summary, failure);
    }
  }
}

function readsFaults(role: Role): boolean {
  return may(role, "fault_read");
}

/** Open faults in the API's working order: untriaged first, then by severity, oldest first. */
function faultQueueScreen(): void {
  document.title = `${t.faultQueue} · ${t.appName}`;
  const liveState = h("span", { class: "live", id: "live-state" }, t.liveOff);
  const table = h("div", { id: "queue-table" }, h("p", {}, t.loading));
  replace(main, h("h1", {}, t.faultQueue, " ", liveState), h("p", { class: "hint" }, t.faultQueueOrder), table);
  async function load(): Promise<void> {
    try {
      const page = await faultQueue();
      const items = page.body.items.filter((x): x is Fault => x.kind === "fault");
      replace(
        table,
        items.length === 0
          ? h("p", { id: "queue-empty" }, t.noTickets)
          : h(
              "table",
              { class: "queue" },
              h("caption", { class: "visually-hidden" }, t.faultQueue),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  [t.number, t.title, t.status, t.severity, t.affectedService, t.technician, t.age].map((c) => h("th", { scope: "col" }, c)),
                ),
              ),
              h(
                "tbody",
                {},
                items.map((f) =>
                  h(
                    "tr",
                    { "data-number": f.number },
                    h("td", { class: "nowrap" }, h("a", { href: `#/ticket/${f.number}` }, f.number)),
                    h("td", {}, f.title),
                    h("td", { class: "nowrap" }, statusLabel(f.status)),
                    h("td", { class: "nowrap" }, f.severity ? (t.severities[String(f.severity)] ?? String(f.severity)) : "—"),
                    h("td", {}, f.affected_service),
                    h("td", {}, f.technician ?? ""),
                    h("td", { class: "nowrap" }, h("time", { datetime: f.created_at, title: when(f.created_at) }, age(f.created_at))),
                  ),
                ),
              ),
            ),
      );
    } catch (failure) {
      replace(table, h("p", { class: "error", role: "alert" }, failure instanceof Error ? failure.message : String(failure)));
    }
  }
  void load();
  stopFollowing = new AbortController();
  let timer: number | undefined;
  void followFeed(
    (event: FeedEvent) => {
      if (!event.type.startsWith("fault.")) return;
      clearTimeout(timer);
      timer = window.setTimeout(() => void load().then(() => announce(t.queueUpdated)), 150);
    },
    (connected) => {
      liveState.textContent = connected ? t.live : t.liveOff;
      liveState.classList.toggle("on", connected);
    },
    stopFollowing.signal,
  );
}

function statusLabel(status: string): string {
  return t.statuses[status] ?? status;
}

function age(instant: string): string {
  const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(instant)) / 60000));
  if (minutes < 60) return fill(t.minutes, { n: minutes });
  if (minutes < 48 * 60) return fill(t.hours, { n: Math.floor(minutes / 60) });
  return fill(t.days, { n: Math.floor(minutes / 1440) });
}

function when(instant: string | null | undefined): string {
  if (!instant) return "";
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(instant));
}

// ---------------------------------------------------------------- filing

const fileFields: Field[] = [
  { name: "title", pointer: "/title", label: () => t.title, kind: "text", required: true, max: 200 },
  { name: "description", pointer: "/description", label: () => t.description, kind: "textarea", required: true },
  {
    name: "channel",
    pointer: "/channel",
    label: () => t.channel,
    kind: "select",
    required: true,
    options: () => Object.entries(t.channels),
  },
  { name: "category", pointer: "/category", label: () => t.category, kind: "text", required: true, max: 100 },
  {
    name: "priority",
    pointer: "/priority",
    label: () => t.priority,
    kind: "select",
    required: true,
    options: () => ["P3", "P1", "P2", "P4"].map((p) => [p, p] as [string, string]),
  },
];
const complainantFields: Field[] = [
  { name: "name", pointer: "/complainant/name", label: () => t.name, kind: "text", required: true },
  { name: "phone", pointer: "/complainant/phone", label: () => t.phone, kind: "tel" },
  { name: "email", pointer: "/complainant/email", label: () => t.email, kind: "email" },
  { name: "customer_ref", pointer: "/complainant/customer_ref", label: () => t.customerRef, kind: "text" },
];

function fileScreen(): void {
  document.title = `${t.fileTitle} · ${t.appName}`;
  const summary = h("div", { class: "error", role: "alert", id: "form-errors" });
  const form = h(
    "form",
    { class: "card wide", novalidate: true, onsubmit: submit },
    summary,
    fileFields.map((f) => fieldControl(f, "file")),
    h(
      "fieldset",
      { "data-pointer": "/complainant", "aria-describedby": "contact-hint file-complainant-error" },
      h("legend", {}, t.complainant),
      h("p", { class: "hint", id: "contact-hint" }, t.contactHint),
      h("p", { class: "field-error", id: "file-complainant-error" }),
      complainantFields.map((f) => fieldControl(f, "file")),
    ),
    h("button", { type: "submit", class: "primary" }, t.file),
  );
  replace(main, h("h1", {}, t.fileTitle), form);
  (form.querySelector("input,textarea,select") as HTMLElement | null)?.focus();

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    clearErrors(form, summary);
    const value = (name: string) => String(new FormData(form).get(name) ?? "").trim();
    const optional = (name: string) => value(name) || null;
    const body: FileComplaint = {
      title: value("title"),
      description: value("description"),
      channel: value("channel") as FileComplaint["channel"],
      category: value("category"),
      priority: value("priority") as FileComplaint["priority"],
      complainant: {
        name: value("name"),
        phone: optional("phone"),
        email: optional("email"),
        customer_ref: optional("customer_ref"),
      },
    };
    try {
      const answer = await fileComplaint(body);
      announce(fill(t.filed, { number: answer.body.number }));
      location.hash = `#/ticket/${answer.body.number}`;
    } catch (failure) {
      showErrors(form, summary, failure);
    }
  }
}

/** A labelled control whose errors appear under it; `data-pointer` names the body member it fills. */
export function fieldControl(f: Field, prefix: string): HTMLElement {
  const id = `${prefix}-${f.name}`;
  const errorId = `${id}-error`;
  const common = {
    id,
    name: f.name,
    "data-pointer": f.pointer,
    "aria-describedby": errorId,
    required: f.required === true,
  };
  let control: HTMLElement;
  switch (f.kind) {
    case "textarea":
    case "lines":
    case "items":
      control = h("textarea", { ...common, rows: f.kind === "textarea" ? 4 : 3 });
      break;
    case "select":
      control = h(
        "select",
        common,
        f.required ? null : h("option", { value: "" }, "—"),
        (f.options?.() ?? []).map(([v, text]) => h("option", { value: v, selected: v === f.initial }, text)),
      );
      break;
    case "radio":
      return h(
        "fieldset",
        { class: "field", "data-pointer": f.pointer, "aria-describedby": errorId },
        h("legend", {}, f.label()),
        (f.options?.() ?? []).map(([v, text], i) =>
          h("label", { class: "radio" }, h("input", { type: "radio", name: f.name, value: v, checked: f.initial ? v === f.initial : i === 0 }), text),
        ),
        h("p", { class: "field-error", id: errorId }),
      );
    default:
      control = h("input", {
        ...common,
        type: f.kind === "number" ? "number" : f.kind,
        value: f.initial ?? "",
        maxlength: f.max,
        min: f.min,
        inputmode: f.kind === "number" ? "numeric" : undefined,
        autocomplete: "off",
      });
  }
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, f.label(), f.required ? "" : ` ${t.optional}`),
    control,
    h("p", { class: "field-error", id: errorId }),
  );
}

export function clearErrors(form: HTMLElement, summary: HTMLElement): void {
  summary.textContent = "";
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * Shows a refusal: each `errors[].detail` at the control whose
 * `data-pointer` is its pointer (or the nearest one above it, so
 * `/complainant` lands on the complainant's first field), the rest in the
 * summary at the top.
 */
export function showErrors(form: HTMLElement, summary: HTMLElement, failure: unknown): void {
  if (!(failure instanceof ApiFailure)) {
    summary.textContent = failure instanceof Error ? failure.message : String(failure);
    return;
  }
  const problem = failure.problem;
  const unplaced: string[] = [];
  let first: HTMLElement | null = null;
  for (const error of problem?.errors ?? []) {
    const target = controlFor(form, error.pointer);
    if (!target) {
      unplaced.push(error.detail);
      continue;
    }
    const message = document.getElementById((target.getAttribute("aria-describedby") ?? "").split(" ").pop() ?? "");
    if (message) message.textContent = message.textContent ? `${message.textContent} ${error.detail}` : error.detail;
    target.setAttribute("aria-invalid", "true");
    first ??= target;
  }
  summary.textContent = [problem?.errors?.length ? t.fixErrors : problem?.detail ?? failure.message, ...unplaced].join(" ");
  const focusable = first?.matches("fieldset") ? first.querySelector("input") : first;
  (focusable as HTMLElement | null)?.focus();
}

function controlFor(form: HTMLElement, pointer: string): HTMLElement | null {
  for (let p = pointer; p; p = p.slice(0, p.lastIndexOf("/"))) {
    const exact = form.querySelector<HTMLElement>(`[data-pointer="${CSS.escape(p)}"]`);
    if (exact) return exact;
    const under = form.querySelector<HTMLElement>(`[data-pointer^="${CSS.escape(p + "/")}"]`);
    if (under) return under;
  }
  return null;
}

// ---------------------------------------------------------------- ticket

function ticketScreen(id: string): void {
  document.title = `${id} · ${t.appName}`;
  const banner = h("div", { class: "banner", role: "alert", id: "ticket-banner", hidden: true });
  const view = h("div", { id: "ticket-view" }, h("p", {}, t.loading));
  const actions = h("div", { id: "actions" });
  const formArea = h("div", { id: "command-form" });
  replace(main, banner, view, actions, formArea);

  let ticket: TicketDoc | null = null;
  let etag = "";
  /** The command form that is open: its name and the ETag it was opened on. */
  let open: { name: CommandName; basedOn: string } | null = null;

  async function load(): Promise<void> {
    try {
      const answer = await getTicket(id);
      ticket = answer.body;
      etag = answer.etag;
      render();
    } catch (failure) {
      const text =
        failure instanceof ApiFailure && failure.status === 404
          ? fill(t.notFound, { id })
          : failure instanceof Error
            ? failure.message
            : String(failure);
      replace(view, h("h1", {}, id), h("p", { class: "error", role: "alert" }, text));
      replace(actions);
    }
  }

  function render(): void {
    if (!ticket) return;
    document.title = `${ticket.number} · ${ticket.title} · ${t.appName}`;
    replace(view, ticket.kind === "complaint" ? complaintView(ticket) : ticket.kind === "fault" ? faultView(ticket) : h("h1", {}, ticket.number));
    renderActions();
  }

  function renderActions(): void {
    const s = currentSession();
    if (!ticket || !s) {
      replace(actions);
      return;
    }
    const available = commandsForTicket(ticket, s.role);
    screenShortcuts = new Map(available.map((c) => [c.key, () => openForm(c.name)]));
    replace(
      actions,
      h("section", { "aria-labelledby": "actions-title" }, h("h2", { id: "actions-title" }, t.actions),
      available.length === 0
        ? h("p", {}, t.noActions)
        : h(
            "div",
            { class: "toolbar", role: "group", "aria-labelledby": "actions-title" },
            available.map((c) =>
              h(
                "button",
                {
                  type: "button",
                  "data-command": c.name,
                  "aria-keyshortcuts": c.key,
                  "aria-expanded": open?.name === c.name ? "true" : "false",
                  "aria-controls": "command-form",
                  onclick: () => openForm(c.name),
                },
                t.commands[c.name],
                " ",
                h("kbd", { "aria-hidden": "true" }, c.key),
              ),
            ),
          )),
    );
  }

  function openForm(name: CommandName): void {
    const s = currentSession();
    if (!ticket || !s) return;
    const spec = commandsForTicket(ticket, s.role).find((c) => c.name === name);
    if (!spec) return;
    open = { name, basedOn: etag };
    const summary = h("div", { class: "error", role: "alert", id: "command-errors" });
    const form = h(
      "form",
      { class: "card wide", novalidate: true, "aria-label": t.commands[name], onsubmit: submit },
      h("h2", {}, t.commands[name]),
      summary,
      spec.fields.map((f) => fieldControl(f, `cmd-${name}`)),
      spec.name === "assign"
        ? h(
            "button",
            {
              type: "button",
              onclick: () => {
                (form.querySelector("[name=assignee]") as HTMLInputElement).value = s.actor;
              },
            },
            t.fields.assignToMe,
          )
        : null,
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "submit", class: "primary" }, t.commands[name]),
        h("button", { type: "button", onclick: closeForm }, t.cancel),
      ),
    );
    replace(formArea, form);
    // Who logs a repair is, most often, the person at the keyboard.
    const technician = name === "repair" ? form.querySelector<HTMLInputElement>("[name=technician]") : null;
    if (technician && !technician.value) technician.value = s.actor;
    renderActions();
    (form.querySelector("input,textarea,select,button[type=submit]") as HTMLElement | null)?.focus();

    async function submit(e: Event): Promise<void> {
      e.preventDefault();
      if (!ticket || !open) return;
      clearErrors(form, summary);
      const data = new FormData(form);
      try {
        const answer = await runCommand(spec!, ticket.id, data, open.basedOn);
        banner.hidden = true;
        announce(fill(t.done, { what: t.commands[name] }));
        closeForm();
        if (answer.body && "kind" in answer.body && answer.body.id === ticket.id && answer.etag) {
          ticket = answer.body;
          etag = answer.etag;
          render();
        } else {
          await load();
        }
      } catch (failure) {
        if (failure instanceof ApiFailure && failure.status === 412) {
          // Never a lost update: show the ticket as it now stands and
          // keep what the user typed; submitting again is based on it.
          await load();
          banner.textContent = t.changedWhileEditing;
          banner.hidden = false;
          if (open) open.basedOn = etag;
          summary.textContent = t.changedWhileEditing;
          banner.focus();
          return;
        }
        showErrors(form, summary, failure);
      }
    }
  }

  function closeForm(): void {
    open = null;
    replace(formArea);
    renderActions();
  }

  screenEscape = () => {
    if (open) closeForm();
  };

  void load();
  // Follow the ticket live: a change by someone else is shown at once;
  // an open form stays based on the version it was opened on.
  stopFollowing = new AbortController();
  void followFeed(
    (event) => {
      if (!ticket || event.stream_id !== ticket.id || event.version <= (ticket.version ?? 0)) return;
      void load().then(() => {
        if (open) return;
        announce(t.changedElsewhere);
      });
    },
    () => {},
    stopFollowing.signal,
  );
}

let screenEscape: () => void = () => {};

function complaintView(c: Complaint): HTMLElement {
  const personal = (v: Personal | null | undefined) => personalText(v, t.erased);
  const row = (label: string, value: string | Node | null | undefined) =>
    value === null || value === undefined || value === "" ? null : [h("dt", {}, label), h("dd", {}, value)];
  return h(
    "article",
    { class: "ticket", "data-status": c.status },
    h(
      "h1",
      {},
      h("span", { class: "number" }, c.number),
      " ",
      h("span", { class: "title" }, c.title),
    ),
    h("p", { class: "status-line" }, h("span", { class: `badge status-${c.status}`, id: "ticket-status" }, statusLabel(c.status)), " ", c.priority),
    h(
      "section",
      { "aria-labelledby": "details-title" },
      h("h2", { id: "details-title" }, t.details),
      h(
        "dl",
        { class: "details" },
        row(t.description, h("span", { class: "pre", id: "ticket-description" }, personal(c.description))),
        row(t.complainant, [
          personal(c.complainant.name),
          c.complainant.phone ? ` · ${personal(c.complainant.phone)}` : "",
          c.complainant.email ? ` · ${personal(c.complainant.email)}` : "",
          c.complainant.customer_ref ? ` · ${personal(c.complainant.customer_ref)}` : "",
        ].join("")),
        row(t.channel, t.channels[c.channel] ?? c.channel),
        row(t.category, c.category),
        row(t.team, c.team ?? ""),
        row(t.assignee, c.assignee ?? ""),
        row(t.createdAt, when(c.created_at)),
        row(t.createdBy, c.created_by),
        row(t.updatedAt, when(c.updated_at)),
        row(t.firstResponse, c.first_response ? personal(c.first_response) : ""),
        row(
          t.escalatedTo,
          c.escalated_to ? h("a", { href: `#/ticket/${c.escalated_to.number}` }, c.escalated_to.number) : "",
        ),
        row(t.resolution, c.resolution ? c.resolution.resolution : ""),
        row(t.rootCause, c.resolution?.root_cause ?? ""),
        row(t.satisfaction, c.satisfaction ? `${c.satisfaction.rating}/5${c.satisfaction.comment ? ` · ${personal(c.satisfaction.comment)}` : ""}` : ""),
        row(t.version, String(c.version)),
      ),
    ),
    clocksSection(clocksOf(c)),
    h(
      "section",
      { "aria-labelledby": "notes-title" },
      h("h2", { id: "notes-title" }, t.notes),
      c.notes.length === 0
        ? h("p", {}, t.noNotes)
        : h(
            "ol",
            { class: "notes" },
            c.notes.map((n) =>
              h(
                "li",
                { class: `note ${n.visibility}` },
                h("p", { class: "meta" }, `${n.visibility === "internal" ? t.internal : t.toComplainant} · ${n.by} · ${when(n.at)}`),
                h("p", { class: "pre" }, personal(n.body)),
              ),
            ),
          ),
    ),
  );
}

function faultView(f: Fault): HTMLElement {
  const row = (label: string, value: string | Node | null | undefined) =>
    value === null || value === undefined || value === "" ? null : [h("dt", {}, label), h("dd", {}, value)];
  const minutes = f.person_minutes;
  return h(
    "article",
    { class: "ticket", "data-status": f.status },
    h("h1", {}, h("span", { class: "number" }, f.number), " ", h("span", { class: "title" }, f.title)),
    h(
      "p",
      { class: "status-line" },
      h("span", { class: `badge status-${f.status}`, id: "ticket-status" }, statusLabel(f.status)),
      " ",
      f.severity ? (t.severities[String(f.severity)] ?? String(f.severity)) : "",
    ),
    h(
      "section",
      { "aria-labelledby": "details-title" },
      h("h2", { id: "details-title" }, t.details),
      h(
        "dl",
        { class: "details" },
        row(t.description, h("span", { class: "pre", id: "ticket-description" }, f.description)),
        row(t.affectedService, f.affected_service),
        row(t.evaluator, f.evaluator ?? ""),
        row(t.technician, f.technician ?? ""),
        row(
          t.evaluation,
          f.evaluation ? `${f.evaluation.nature} · ${fill(t.minutes, { n: f.evaluation.estimated_effort_minutes })} · P${f.evaluation.proposed_priority}` : "",
        ),
        row(t.workaround, f.workaround ?? ""),
        row(t.resolution, f.resolution ? f.resolution.resolution : ""),
        row(t.rootCause, f.resolution ? f.resolution.root_cause : ""),
        row(t.escalatedFrom, f.escalated_from ? h("a", { href: `#/ticket/${f.escalated_from.number}` }, f.escalated_from.number) : ""),
        row(t.personMinutesTotal, h("span", { id: "person-minutes" }, String(minutes.total))),
        row(t.createdAt, when(f.created_at)),
        row(t.createdBy, f.created_by),
        row(t.version, String(f.version)),
      ),
    ),
    clocksSection(clocksOf(f)),
    h(
      "section",
      { "aria-labelledby": "repairs-title" },
      h("h2", { id: "repairs-title" }, t.repairs),
      f.repairs.length === 0
        ? h("p", {}, t.noRepairs)
        : h(
            "ol",
            { class: "notes", id: "repairs" },
            f.repairs.map((r) =>
              h(
                "li",
                { class: `note${r.voided ? " voided" : ""}` },
                h(
                  "p",
                  { class: "meta" },
                  `${t.maintenanceTypes[r.maintenance_type] ?? r.maintenance_type} · ${r.person_minutes} ${t.personMinutesTotal} · ${r.technician} · ${when(r.started_at)} – ${when(r.ended_at)}`,
                ),
                h("p", { class: "pre" }, `${r.repair}. ${r.action_taken}`),
                r.parts.length ? h("p", {}, r.parts.join(", ")) : null,
              ),
            ),
          ),
    ),
    f.review
      ? h(
          "section",
          { "aria-labelledby": "review-title", id: "review" },
          h("h2", { id: "review-title" }, t.review),
          h(
            "dl",
            { class: "details" },
            h("dt", {}, t.fields.summary),
            h("dd", { class: "pre" }, f.review.summary),
            h("dt", {}, t.rootCause),
            h("dd", { class: "pre" }, f.review.root_cause),
            f.review.contributing_factors.length ? [h("dt", {}, t.contributingFactors), h("dd", {}, f.review.contributing_factors.join("; "))] : null,
          ),
          h("h3", {}, t.actionItems),
          h(
            "ol",
            { class: "notes" },
            f.review.action_items.map((i) =>
              h(
                "li",
                { class: `note${i.done ? " done" : ""}`, "data-item": i.item },
                h("p", {}, `${i.item}. ${i.description}`),
                h(
                  "p",
                  { class: "meta" },
                  `${i.owner} · ${fill(t.due, { date: i.due_on })}${i.done ? ` · ${fill(t.doneBy, { who: i.done.by })}` : ""}`,
                ),
              ),
            ),
          ),
        )
      : null,
    h(
      "section",
      { "aria-labelledby": "notes-title" },
      h("h2", { id: "notes-title" }, t.notes),
      f.notes.length === 0
        ? h("p", {}, t.noNotes)
        : h(
            "ol",
            { class: "notes" },
            f.notes.map((n) => h("li", { class: "note internal" }, h("p", { class: "meta" }, `${n.by} · ${when(n.at)}`), h("p", { class: "pre" }, n.body))),
          ),
    ),
  );
}

// ---------------------------------------------------------------- shortcuts

function shortcut(e: KeyboardEvent): void {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target as HTMLElement | null;
  const typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  if (e.key === "Escape") {
    screenEscape();
    return;
  }
  if (typing || !currentSession()) return;
  const global: Record<string, () => void> = {
    "/": () => document.getElementById("find")?.focus(),
    q: () => (location.hash = "#/queue"),
    f: () => (location.hash = "#/new"),
    k: () => (location.hash = "#/faults"),
    "?": () => announce(`${t.shortcuts}: ${t.shortcutsHelp}`),
  };
  const action = screenShortcuts.get(e.key) ?? global[e.key];
  if (action) {
    e.preventDefault();
    action();
  }
}

/** Loads how to sign in, finishes a return from the identity provider, then shows the screen. */
async function boot(): Promise<void> {
  try {
    config = await consoleConfig();
    const back = await finishSingleSignOn(config);
    if (back !== null) history.replaceState(null, "", `${location.pathname}${back === "#/login" ? "#/queue" : back}`);
  } catch (failure) {
    signOnFailure = failure instanceof Error ? failure.message : String(failure);
    history.replaceState(null, "", `${location.pathname}#/login`);
  }
  await route();
}

void boot();
