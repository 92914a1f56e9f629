// Browser tests of the console: Debian's Chromium driven headless by
// playwright-core, against a real server that the Rust test
// (tests/api/console/browser.rs) starts and names in OPSLEDGER_BASE.
//
//   node e2e/run.mjs <scenario>     scenarios: see SCENARIOS below
//
// Environment: OPSLEDGER_BASE (required), CHROMIUM (default
// /usr/bin/chromium), OPSLEDGER_SCREENSHOTS (a directory: save the main
// screens there as PNG). Exits non-zero with the reason on any failure.
// No assertion depends on timing: every wait is for something to appear.

import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const BASE = process.env.OPSLEDGER_BASE;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.OPSLEDGER_SCREENSHOTS || "";
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

if (!BASE) fail("OPSLEDGER_BASE is not set");

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** A development login for `role` straight from the server, as another user's tool would get one. */
async function loginFor(role, subject) {
  const response = await fetch(`${BASE}/console/dev-login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role, subject }),
  });
  check(response.ok, `dev-login ${response.status}`);
  return response.json();
}

async function tokenFor(role, subject) {
  return (await loginFor(role, subject)).token;
}

/** Files a complaint through the API as `subject` (not through the console). */
async function fileByApi(subject, complaint) {
  const token = await tokenFor("agent", subject);
  const response = await fetch(`${BASE}/v1/complaints`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(complaint),
  });
  const body = await response.text();
  check(response.status === 201, `filing by API: ${response.status} ${body}`);
  return JSON.parse(body);
}

const sample = (title) => ({
  title,
  description: "客户反映家中宽带每晚八点后断线，已持续一周。",
  channel: "phone",
  category: "broadband",
  priority: "P2",
  complainant: { name: "张伟", phone: "+86 138 0013 8000" },
});

/** A page in its own browser context (its own memory, so its own login), in `locale`. */
async function newPage(browser, locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1200, height: 900 } });
  // Generous: waits end when what they wait for appears, and a busy
  // machine must not fail a test that would pass.
  context.setDefaultTimeout(120_000);
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => {
    // A refused request (the 422 of an invalid form, say) is logged by
    // the browser as a failed resource; the console shows those itself.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) page.errors.push(m.text());
  });
  // Any Content-Security-Policy violation is recorded by the page itself.
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  return page;
}

async function signIn(page, role, user) {
  await page.goto(`${BASE}/console/`);
  await page.locator("#role").waitFor();
  await page.selectOption("#role", role);
  await page.fill("#user", user);
  await page.locator("form button[type=submit]").click();
  await page.locator("#queue-table table, #queue-empty").first().waitFor();
}

async function submitCommand(page, command, fill) {
  await runCommand(page, command, fill);
  await page.locator("#command-form form").waitFor({ state: "detached" });
}

/** Runs axe-core (from node_modules, evaluated in the page) and fails on any violation. */
async function accessible(page, screen) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`);
  });
  check(result.length === 0, `accessibility of ${screen}:\n  ${result.join("\n  ")}`);
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function runCommand(page, command, fill = {}) {
  await page.locator(`button[data-command=${command}]`).click();
  const form = page.locator("#command-form form");
  await form.waitFor();
  for (const [name, value] of Object.entries(fill)) {
    const control = form.locator(`[name=${name}]`).first();
    const tag = await control.evaluate((el) => el.tagName);
    if (tag === "SELECT") await control.selectOption(value);
    else if ((await control.getAttribute("type")) === "radio") await form.locator(`[name=${name}][value=${value}]`).check();
    else await control.fill(value);
  }
  await form.locator("button[type=submit]").click();
}

async function expectStatus(page, text) {
  await page.locator("#ticket-status", { hasText: text }).waitFor();
}

function clean(page) {
  return page.evaluate(() => window.__violations).then((violations) => {
    check(violations.length === 0, `CSP violations: ${violations.join(", ")}`);
    check(page.errors.length === 0, `errors in the page: ${page.errors.join(" | ")}`);
  });
}

const SCENARIOS = {
  /** An agent files, acknowledges, escalates, resolves and closes a complaint, in Chinese; every page passes axe. */
  async "chinese-lifecycle"(browser) {
    const page = await newPage(browser, "zh-CN");
    await page.goto(`${BASE}/console/`);
    await page.locator("h1", { hasText: "登录" }).waitFor();
    await accessible(page, "login");
    await shot(page, "login");
    await signIn(page, "agent", "agent-1");
    await page.locator("h1", { hasText: "投诉队列" }).waitFor();
    await accessible(page, "queue");

    // File: an empty form is refused, each error at its field.
    await page.keyboard.press("f");
    await page.locator("h1", { hasText: "登记投诉" }).waitFor();
    await accessible(page, "filing form");
    await page.getByRole("button", { name: "提交投诉" }).click();
    await page.locator("#file-title-error:not(:empty)").waitFor();
    check(await page.locator("#file-title").getAttribute("aria-invalid") === "true", "the title is marked invalid");
    await page.locator("#file-name-error:not(:empty)").waitFor();
    await accessible(page, "filing form with errors");
    await shot(page, "file-errors");
    await page.getByLabel("标题").fill("宽带每晚断线");
    await page.getByLabel("描述").fill("客户反映家中宽带每晚八点后断线。");
    await page.getByLabel("类别").fill("宽带");
    await page.getByLabel("姓名").fill("张伟");
    await page.getByLabel(/^电话/).fill("+86 138 0013 8000");
    await page.getByRole("button", { name: "提交投诉" }).click();
    await expectStatus(page, "已登记");
    const number = (await page.locator("h1 .number").textContent()).trim();
    check(/^CMP-\d{4}-\d{6}$/.test(number), `a complaint number, not ${number}`);
    await accessible(page, "ticket");
    await shot(page, "ticket-filed");

    await runCommand(page, "acknowledge", { message: "您好，已收到您的投诉。" });
    await expectStatus(page, "已受理");
    await runCommand(page, "note", { body: "已预约技术人员周二上门", visibility: "complainant" });
    await page.locator(".note", { hasText: "已预约技术人员周二上门" }).waitFor();
    await runCommand(page, "wait", { reason: "等待客户提供光猫序列号" });
    await expectStatus(page, "等待客户");
    await runCommand(page, "resume", { note: "客户已提供序列号" });
    await expectStatus(page, "处理中");
    await page.locator("button[data-command=assign]").click();
    await page.locator("#command-form [name=team]").fill("宽带支持");
    await page.getByRole("button", { name: "分派给我" }).click();
    await page.locator("#command-form button[type=submit]").click();
    await page.locator("dd", { hasText: "宽带支持" }).waitFor();
    // It is in the queue of what is assigned to me, and not among the unassigned.
    const ticketAddress = page.url();
    await page.keyboard.press("q");
    await page.getByLabel("分配给我的").check();
    await page.locator(`tr[data-number="${number}"]`).waitFor();
    await page.getByLabel("未分配的").check();
    await page.locator(`tr[data-number="${number}"]`).waitFor({ state: "detached" });
    await page.getByLabel("全部未关闭").check();
    await page.goto(ticketAddress);
    await expectStatus(page, "处理中");
    await runCommand(page, "escalate", { description: "七区光纤每晚中断", affected_service: "宽带" });
    await page.locator("dd a", { hasText: /^FLT-/ }).waitFor();
    await page.keyboard.press("r");
    await page.locator("#command-form [name=resolution]").fill("更换了光猫");
    await page.locator("#command-form button[type=submit]").click();
    await expectStatus(page, "已解决");
    // The customer disputes it: reopened, then resolved again.
    await runCommand(page, "reopen", { reason: "客户说昨晚又断线了" });
    await expectStatus(page, "处理中");
    await runCommand(page, "resolve", { resolution: "更换了光猫和分光器" });
    await expectStatus(page, "已解决");
    await runCommand(page, "satisfaction", { rating: "5", comment: "很快解决了" });
    await page.locator("dd", { hasText: "5/5" }).waitFor();
    await accessible(page, "ticket with a command form");
    await runCommand(page, "close", {});
    await expectStatus(page, "已关闭");
    await accessible(page, "closed ticket");
    await shot(page, "ticket-closed");

    // Find by number from the header; then the fault it was escalated to.
    await page.keyboard.press("q");
    await page.locator("h1", { hasText: "投诉队列" }).waitFor();
    await page.keyboard.press("/");
    await page.keyboard.type(number);
    const opening = Date.now();
    await page.keyboard.press("Enter");
    await expectStatus(page, "已关闭");
    // Reported, not asserted: how long a ticket takes to open here.
    console.log(`a ticket opened in ${Date.now() - opening} ms`);
    await page.locator("dd a", { hasText: /^FLT-/ }).click();
    await page.locator("h1 .number", { hasText: /^FLT-/ }).waitFor();
    await accessible(page, "fault");
    await clean(page);
  },

  /** Two agents edit one ticket; the second is told the ticket changed, and sees its new state. */
  async conflict(browser) {
    const filed = await fileByApi("agent-3", sample("两人同时处理"));
    const first = await newPage(browser, "en-US");
    const second = await newPage(browser, "en-US");
    await signIn(first, "agent", "agent-1");
    await signIn(second, "agent", "agent-2");
    for (const page of [first, second]) {
      await page.goto(`${BASE}/console/#/ticket/${filed.number}`);
      await expectStatus(page, "Filed");
    }
    // The second agent starts to acknowledge; the first acknowledges before them.
    await second.locator("button[data-command=acknowledge]").click();
    await second.locator("#command-form [name=message]").fill("Hello from agent 2");
    await runCommand(first, "acknowledge", { message: "Hello from agent 1" });
    await expectStatus(first, "Acknowledged");
    await second.locator("#command-form button[type=submit]").click();
    await second.locator("#ticket-banner", { hasText: "changed while you were editing" }).waitFor();
    await expectStatus(second, "Acknowledged");
    check((await second.locator("dd", { hasText: "Hello from agent 1" }).count()) === 1, "the new state shows the first answer");
    await accessible(second, "ticket after a conflict");
    await shot(second, "conflict");
    // The first agent's answer stands: exactly one acknowledgement.
    const token = await tokenFor("auditor", "aud-1");
    const history = await (await fetch(`${BASE}/v1/tickets/${filed.id}/history`, { headers: { Authorization: `Bearer ${token}` } })).json();
    const acks = history.events.filter((e) => e.type === "complaint.acknowledged");
    check(acks.length === 1, `one acknowledgement, not ${acks.length}`);
    await clean(first);
    await clean(second);
  },

  /** A manager triages a fault; an engineer evaluates, investigates, logs a repair, mitigates, resolves and closes it. */
  async "engineer-repair"(browser) {
    const engineer = await loginFor("engineer", "eng-1");
    // The engineer reports the fault in the console.
    const page = await newPage(browser, "zh-CN");
    await page.goto(`${BASE}/console/`);
    await page.locator("#role").waitFor();
    await page.selectOption("#role", "engineer");
    await page.fill("#user", "eng-1");
    await page.locator("form button[type=submit]").click();
    await page.locator("h1", { hasText: "故障队列" }).waitFor();
    await page.getByRole("link", { name: "报告故障" }).click();
    await page.locator("h1", { hasText: "报告故障" }).waitFor();
    await accessible(page, "fault report form");
    await page.getByLabel("标题").fill("七区光纤中断");
    await page.getByLabel("描述").fill("七区每晚光纤中断");
    await page.getByLabel("受影响的服务").fill("broadband");
    await page.getByLabel("发现方式").selectOption("monitoring");
    await page.getByRole("button", { name: "提交故障" }).click();
    await expectStatus(page, "已报告");
    const fault = { number: (await page.locator("h1 .number").textContent()).trim() };

    const manager = await newPage(browser, "zh-CN");
    await signIn(manager, "manager", "mgr-1");
    await manager.keyboard.press("k");
    await manager.locator(`tr[data-number="${fault.number}"]`).waitFor();
    await accessible(manager, "fault queue");
    await manager.locator(`tr[data-number="${fault.number}"] a`).click();
    await expectStatus(manager, "已报告");
    await submitCommand(manager, "triage", { severity: "2", evaluator: engineer.actor, technician: engineer.actor });
    await expectStatus(manager, "已分级");

    // The engineer's page follows the fault live.
    await expectStatus(page, "已分级");
    await submitCommand(page, "evaluate", { nature: "分光器老化", estimated_effort_minutes: "120", proposed_priority: "2" });
    await submitCommand(page, "investigate", {});
    await expectStatus(page, "调查中");
    await page.keyboard.press("l");
    const form = page.locator("#command-form form");
    await form.waitFor();
    check((await form.locator("[name=technician]").inputValue()) === engineer.actor, "the technician is the engineer");
    await accessible(page, "repair form");
    await form.locator("[name=action_taken]").fill("更换七区 7-14 机柜的分光器");
    await form.locator("[name=started_at]").fill("2026-01-10T09:00");
    await form.locator("[name=ended_at]").fill("2026-01-10T10:00");
    await form.locator("[name=person_minutes]").fill("60");
    await form.locator("[name=maintenance_type]").selectOption("corrective");
    await form.locator("[name=parts]").fill("分光器 1x8");
    await shot(page, "repair-form");
    await form.locator("button[type=submit]").click();
    await page.locator("#repairs li", { hasText: "更换七区 7-14 机柜的分光器" }).waitFor();
    check((await page.locator("#person-minutes").textContent()) === "60", "60 person-minutes");
    // A second repair logged in error is voided, and counts no more.
    await submitCommand(page, "repair", {
      action_taken: "误登记", started_at: "2026-01-10T11:00", ended_at: "2026-01-10T11:30",
      person_minutes: "30", maintenance_type: "preventive",
    });
    await page.locator("#person-minutes", { hasText: "90" }).waitFor();
    await submitCommand(page, "voidRepair", { repair: "2", reason: "登记错了工单" });
    await page.locator("#repairs li.voided").waitFor();
    check((await page.locator("#person-minutes").textContent()) === "60", "the voided repair counts no more");
    await submitCommand(page, "mitigate", { workaround: "流量改走六区" });
    await submitCommand(page, "resolveFault", { resolution: "更换了分光器", root_cause: "机柜进水" });
    await expectStatus(page, "已解决");
    // Severity 2 closes only after a post-incident review: refused, said at the form.
    await runCommand(page, "closeFault", {});
    await page.locator("#command-errors:not(:empty)").waitFor();
    await page.keyboard.press("Escape");
    await submitCommand(page, "review", {
      summary: "七区连续一周晚间中断",
      root_cause: "7-14 机柜进水",
      contributing_factors: "机柜密封自 2023 年未检查",
      action_items: `检查七区全部机柜密封 | ${engineer.actor} | 2027-02-01`,
    });
    await page.locator("#review li[data-item='1']").waitFor();
    await submitCommand(page, "completeItem", { item: "1", note: "31 个机柜已全部检查" });
    await page.locator("#review li.done[data-item='1']").waitFor();
    await submitCommand(page, "closeFault", {});
    await expectStatus(page, "已关闭");
    await accessible(page, "closed fault");
    await shot(page, "fault-closed");
    await clean(manager);
    await clean(page);
  },

  /**
   * Outside development mode: the console signs in at the OpenID Connect
   * provider the server names (authorization code with PKCE), then works
   * with the provider's token. The token is never in the address bar.
   */
  async "single-sign-on"(browser) {
    const page = await newPage(browser, "zh-CN");
    const addresses = [];
    page.on("request", (request) => {
      if (request.isNavigationRequest()) addresses.push(request.url());
    });
    await page.goto(`${BASE}/console/#/new`);
    await page.locator("#single-sign-on").waitFor();
    check((await page.locator("#role").count()) === 0, "no development login outside development mode");
    await accessible(page, "single sign-on");
    await shot(page, "single-sign-on");
    await page.locator("#single-sign-on").click();
    // Back from the provider, where the user was going: the filing form.
    await page.locator("h1", { hasText: "登记投诉" }).waitFor();
    check(!page.url().includes("code="), `the code left the address bar: ${page.url()}`);
    check(addresses.some((a) => a.includes("/authorize?") && a.includes("code_challenge_method=S256")), "the provider was asked with PKCE");
    check(!addresses.some((a) => /access_token|eyJ/.test(a)), `no token in any address: ${addresses.join(" ")}`);
    check(await page.evaluate(() => sessionStorage.length === 0 && localStorage.length === 0), "nothing left in storage");
    await page.locator(".who", { hasText: "李娜" }).waitFor();
    // The provider's token works with the API: file a complaint.
    await page.getByLabel("标题").fill("单点登录后登记");
    await page.getByLabel("描述").fill("客户反映网速慢。");
    await page.getByLabel("类别").fill("宽带");
    await page.getByLabel("姓名").fill("王芳");
    await page.getByLabel(/^电话/).fill("+86 139 0000 0000");
    await page.getByRole("button", { name: "提交投诉" }).click();
    await expectStatus(page, "已登记");
    await page.locator("dd", { hasText: "|li.na" }).waitFor();
    await clean(page);
  },

  /** An engineer sees the complainant's personal data masked, with no way to reveal it. */
  async masked(browser) {
    const filed = await fileByApi("agent-1", sample("屏蔽个人信息"));
    const page = await newPage(browser, "en-US");
    await signIn(page, "engineer", "eng-1");
    await page.goto(`${BASE}/console/#/ticket/${filed.number}`);
    await expectStatus(page, "Filed");
    const details = await page.locator("dl.details").innerText();
    check(details.includes("*********8000"), `the phone is masked: ${details}`);
    check(!details.includes("138 0013") && !details.includes("张伟"), "no clear personal data");
    check((await page.locator("#ticket-description").textContent()) === "***", "the description is masked");
    check((await page.getByRole("button", { name: /reveal|show/i }).count()) === 0, "no reveal control");
    // An engineer may add a note, and nothing an agent does.
    check((await page.locator("button[data-command]").count()) === 1, "only the note command");
    await accessible(page, "masked ticket");
    await shot(page, "masked");
    await clean(page);
  },

  /** The queue shows a complaint another user files, without a reload. */
  async "live-queue"(browser) {
    const page = await newPage(browser, "en-US");
    await signIn(page, "agent", "agent-1");
    await page.locator("#live-state.on").waitFor();
    await page.evaluate(() => (window.__sameDocument = true));
    const filed = await fileByApi("agent-9", sample("Filed by a colleague"));
    await page.locator(`tr[data-number="${filed.number}"]`).waitFor();
    check(await page.evaluate(() => window.__sameDocument === true), "the queue updated without reloading");
    await accessible(page, "live queue");
    // The list filters the API has: a priority no ticket has empties the queue.
    await page.selectOption("#filter-priority", "P1");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.locator("#queue-empty").waitFor();
    await page.selectOption("#filter-priority", "");
    await page.fill("#filter-created_from", new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.locator(`tr[data-number="${filed.number}"]`).waitFor();
    await page.fill("#filter-created_from", "");
    await page.getByRole("button", { name: "Apply filters" }).click();
    // The language switches in place, and the API's own words follow it.
    await page.selectOption("#language", "zh-CN");
    await page.locator("h1", { hasText: "投诉队列" }).waitFor();
    await page.locator(`tr[data-number="${filed.number}"]`).waitFor();
    await accessible(page, "queue in Chinese");
    await clean(page);
  },

  /**
   * With SLA clocks on: the queue lists what is due first (a P1 before an
   * older P4, whose response is due later), with the due time and state;
   * the SLA filter; the ticket page shows its clocks, the response met.
   */
  async "sla-queue"(browser) {
    const older = await fileByApi("agent-9", { ...sample("Older, low priority"), priority: "P4" });
    const urgent = await fileByApi("agent-9", { ...sample("Newer, urgent"), priority: "P1" });
    const due = urgent.sla?.first_response?.due_at;
    check(due, `the P1 has a response due time: ${JSON.stringify(urgent.sla)}`);
    const olderDue = older.sla?.first_response?.due_at;
    check(!olderDue || Date.parse(due) < Date.parse(olderDue), `the P1 (${due}) is due before the P4 (${olderDue})`);
    check(older.created_at < urgent.created_at, "the P4 is older");

    const page = await newPage(browser, "en-US");
    await signIn(page, "agent", "agent-1");
    await page.locator(`tr[data-number="${older.number}"]`).waitFor();
    await page.locator(`tr[data-number="${urgent.number}"]`).waitFor();
    const order = await page.locator("#queue-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.number));
    check(order.indexOf(urgent.number) === 0 && order.indexOf(older.number) === 1, `the P1 first, then the older P4: ${order.join(", ")}`);
    const row = page.locator(`tr[data-number="${urgent.number}"]`);
    const dueTime = row.locator("td.due time");
    check((await dueTime.getAttribute("datetime")) === due, "the P1's due instant");
    const shown = (await dueTime.textContent()).trim();
    check(shown.length > 0 && !shown.includes("T"), `its due time, for people: ${shown}`);
    const state = await row.getAttribute("data-sla");
    check(state === "on_track" || state === "at_risk", `the P1's clock burns: ${state}`);
    await row.locator(".badge", { hasText: state === "on_track" ? "On track" : "At risk" }).waitFor();
    await accessible(page, "queue with SLA clocks");
    await shot(page, "queue");

    // The SLA filter: nothing is breached yet; the P1 is among those burning.
    await page.selectOption("#filter-sla_state", "breached");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.locator("#queue-empty").waitFor();
    await page.selectOption("#filter-sla_state", state);
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.locator(`tr[data-number="${urgent.number}"]`).waitFor();
    await page.selectOption("#filter-sla_state", "");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.locator(`tr[data-number="${older.number}"]`).waitFor();

    // In Chinese: the same order, the columns in Chinese.
    await page.selectOption("#language", "zh-CN");
    await page.locator("h1", { hasText: "投诉队列" }).waitFor();
    await page.locator("th", { hasText: "到期" }).waitFor();
    await page.locator(`tr[data-number="${older.number}"]`).waitFor();
    const zhOrder = await page.locator("#queue-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.number));
    check(zhOrder.indexOf(urgent.number) < zhOrder.indexOf(older.number), `in Chinese too: ${zhOrder.join(", ")}`);
    await accessible(page, "queue with SLA clocks in Chinese");
    await shot(page, "queue-zh");
    await page.selectOption("#language", "en");
    await page.locator("h1", { hasText: "Complaint queue" }).waitFor();

    // The ticket shows its clocks; acknowledging meets the response.
    await page.goto(`${BASE}/console/#/ticket/${urgent.number}`);
    await page.locator("#sla-response").waitFor();
    check((await page.locator("#sla-response time").first().getAttribute("datetime")) === due, "the response's due instant on the ticket");
    await page.locator("#sla-resolution").waitFor();
    await accessible(page, "ticket with SLA clocks");
    await runCommand(page, "acknowledge", { message: "We are on it." });
    await page.locator("#sla-response[data-state=met]").waitFor();
    await page.locator("#sla-response .badge", { hasText: "Met" }).waitFor();
    await accessible(page, "ticket with the response met");
    await shot(page, "ticket-sla");
    await clean(page);
  },

  /** Complaint text full of markup and script is shown as text and executes nothing. */
  async "stored-script"(browser) {
    const payloads = [
      `<script>window.__pwned = "script"</script>`,
      `<img src=x onerror="window.__pwned='img'">`,
      `"><svg onload="window.__pwned='svg'"></svg>`,
      `<a href="javascript:window.__pwned='link'">click</a>`,
      `<iframe srcdoc="<script>parent.__pwned='iframe'</script>"></iframe>`,
    ];
    const text = payloads.join("\n");
    const filed = await fileByApi("agent-1", {
      ...sample(`<b onmouseover="window.__pwned='title'">标题</b><script>window.__pwned=1</script>`),
      description: text,
      category: `<img src=x onerror=alert(1)>`,
      complainant: { name: `<svg/onload=alert(1)>`, email: "x@example.cn" },
    });
    const token = await tokenFor("agent", "agent-1");
    await fetch(`${BASE}/v1/complaints/${filed.id}/notes`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ body: text, visibility: "internal" }),
    });
    const page = await newPage(browser, "en-US");
    await signIn(page, "agent", "agent-1");
    await page.locator(`tr[data-number="${filed.number}"]`).waitFor();
    await page.goto(`${BASE}/console/#/ticket/${filed.number}`);
    await page.locator(".note").waitFor();
    check((await page.locator("#ticket-description").textContent()) === text, "the description is shown exactly, as text");
    for (const tag of ["script", "img", "svg", "iframe", "b"]) {
      const count = await page.locator(`main ${tag}`).count();
      check(count === 0, `${count} <${tag}> made from stored text`);
    }
    check(await page.evaluate(() => window.__pwned === undefined), "no stored script ran");
    await page.locator("h1 .title").hover();
    check(await page.evaluate(() => window.__pwned === undefined), "no stored handler ran");
    await shot(page, "stored-script");
    await clean(page);
  },
};

const name = process.argv[2];
const scenario = SCENARIOS[name];
if (!scenario) fail(`no scenario ${name}; one of ${Object.keys(SCENARIOS).join(", ")}`);
const started = Date.now();
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
try {
  await scenario(browser);
  console.log(`ok: ${name} in ${Date.now() - started} ms`);
} catch (e) {
  console.error(`FAIL: ${name}: ${e?.stack || e}`);
  process.exitCode = 1;
  // What each page showed when it failed, for the reader of the log.
  for (const [i, page] of browser.contexts().flatMap((c) => c.pages()).entries()) {
    const text = await page.locator("body").innerText().catch(() => "");
    console.error(`--- page ${i} (${page.url()}):\n${text}`);
  }
} finally {
  await browser.close();
}
