#!/usr/bin/env node
// Browser tests of Focal's officer app and consoles: Playwright (playwright-core)
// drives Debian's chromium headless against a focald on 127.0.0.1 that
// tests/system/test_web.py started.  Prints one line per test
// ("PASS name", "FAIL name: why", "SKIP name: why") and closes with
// "web: N passed, N failed, N skipped".
//
// Environment (set by test_web.py):
//   FOCAL_URL        https://127.0.0.1:PORT
//   FOCAL_SHOTS      folder for the screenshots (created)
//   FOCAL_PLATE      the planted plate of an armed suspect (default 1-ABC-123)
//   FOCAL_MODE       "dev"  : focald runs --dev-insecure-no-auth: GET /v1/auth/session
//                             names the development principal, the app opens
//                             without a login
//                    "auth" : focald requires login.  FOCAL_USER / FOCAL_PASSWORD /
//                             FOCAL_TOTP_SECRET (officer, admin, auditor; enrolled by
//                             `focal user add --totp`), FOCAL_PATROL_* (an officer,
//                             enrolled), FOCAL_LOW_USER / FOCAL_LOW_PASSWORD (an
//                             officer cleared for `restricted`, not enrolled: the
//                             test enrols in the app from the QR's otpauth URI),
//                             FOCAL_FORBIDDEN (JSON list of values the low user must
//                             never receive) and FOCAL_REDACTED (values the policy
//                             redacts for every officer)
//                    "justify": focald requires login and its policy asks a
//                             justification of every sensitive search (one_in: 1);
//                             FOCAL_USER / FOCAL_PASSWORD / FOCAL_TOTP_SECRET an
//                             officer not logged in before
// Each test runs in the modes it names; in "auth" mode a user logs in through
// the login screen once, and later tests reuse that browser state (its
// session cookie): TOTP codes are single-use, so every fresh login would wait
// for the next 30 s step.
//   CHROMIUM         the browser (default /usr/bin/chromium)
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");

const URL0 = process.env.FOCAL_URL;
const SHOTS = process.env.FOCAL_SHOTS || path.join(__dirname, "..", "out", "screenshots");
const PLATE = process.env.FOCAL_PLATE || "1-ABC-123";
const MODE = process.env.FOCAL_MODE || "dev";
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const SIZES = { phone: { width: 360, height: 640 }, terminal: { width: 1280, height: 800 } };

let browser;
const results = { passed: 0, failed: 0, skipped: 0 };

class Skip extends Error {}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

// --- TOTP (RFC 6238: HMAC-SHA1, 30 s, 6 digits) ----------------------------
function base32(s) {
  const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of s.replace(/=+$/, "").toUpperCase()) {
    const v = alpha.indexOf(ch);
    if (v < 0) throw new Error("bad base32");
    bits += v.toString(2).padStart(5, "0");
  }
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

function totp(secret, t = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 1000 / 30)));
  const h = crypto.createHmac("sha1", base32(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1e6).padStart(6, "0");
}

// A code not used before: servers refuse a replayed code, so wait for the next step.
const usedCodes = new Set();
async function freshTotp(secret) {
  for (;;) {
    const c = totp(secret);
    if (!usedCodes.has(c)) {
      usedCodes.add(c);
      return c;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// --- pages ---------------------------------------------------------------
const states = {}; // who -> Playwright storage state after their login

// who: reuse that user's logged-in browser state (auth mode), if there is one
async function newPage(size = "terminal", extra = {}, who = null) {
  const st = MODE !== "dev" && who && states[who] ? { storageState: states[who] } : {};
  const ctx = await browser.newContext({ viewport: SIZES[size], ignoreHTTPSErrors: true, ...st, ...extra });
  const page = await ctx.newPage();
  page.cspViolations = [];
  page.consoleErrors = [];
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) page.cspViolations.push(m.text());
    if (m.type() === "error") page.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => page.consoleErrors.push(String(e)));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

async function noCspViolations(page) {
  const inPage = await page.evaluate(() => window.__csp || []);
  check(inPage.length === 0 && page.cspViolations.length === 0,
    `CSP violations: ${JSON.stringify([...inPage, ...page.cspViolations])}`);
  const js = page.consoleErrors.filter((e) => !/Failed to load resource/.test(e));
  check(js.length === 0, `console errors: ${JSON.stringify(js)}`);
}

// axe-core, evaluated through the DevTools protocol (the page's CSP would
// rightly refuse an injected script tag).  WCAG 2.0/2.1 A and AA rules and
// axe's best practices (landmarks, unique labels, headings).
async function axe(page, what) {
  const res = await page.evaluate(async (src) => {
    if (!window.axe) (0, eval)(src);
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  }, AXE);
  check(res.length === 0, `axe on ${what}: ${res.join("; ")}`);
}

// keepScroll: the screen as the user left it (the search screen scrolls its
// first warning into view); otherwise from the top.
async function shot(page, name, { keepScroll = false } = {}) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const vp = page.viewportSize();
  if (!keepScroll) await page.evaluate(() => window.scrollTo(0, 0));
  // what the screen shows, and the whole page below it
  await page.screenshot({ path: path.join(SHOTS, `${name}-${vp.width}x${vp.height}.png`) });
  await page.screenshot({ path: path.join(SHOTS, `${name}-${vp.width}x${vp.height}-full.png`), fullPage: true });
}

async function open(page, p = "/") {
  const resp = await page.goto(URL0 + p);
  check(resp.status() === 200, `GET ${p}: ${resp.status()}`);
  return resp;
}

const CREDS = {
  main: [process.env.FOCAL_USER, process.env.FOCAL_PASSWORD, process.env.FOCAL_TOTP_SECRET],
  patrol: [process.env.FOCAL_PATROL_USER, process.env.FOCAL_PATROL_PASSWORD, process.env.FOCAL_PATROL_TOTP_SECRET],
  low: [process.env.FOCAL_LOW_USER, process.env.FOCAL_LOW_PASSWORD, null],
};
const secrets = {};

// Gets past the login screen.  Dev mode: the app opens by itself.  Auth
// mode: a page made with the user's saved state opens by itself too;
// otherwise password + TOTP, enrolling from the QR's otpauth URI on the first
// login; the state is saved for the next tests.
async function login(page, who = "main") {
  await page.waitForSelector("#login-form, #app-main:not([hidden])");
  if (await page.isVisible("#app-main")) {
    check(MODE === "dev" || states[who], "the app opened without a login");
    return;
  }
  check(MODE !== "dev", "development mode shows a login form");
  const [user, password, secret0] = CREDS[who];
  const secret = secrets[who] || secret0;
  await page.fill("#username", user);
  await page.fill("#password", password);
  await page.fill("#totp", secret ? await freshTotp(secret) : "000000");
  await page.click("#login-form button[type=submit]");
  if (!secret) {
    await page.waitForSelector("#enrol-form");
    const uri = await page.textContent("#enrol-uri");
    const qr = await page.getAttribute("#enrol-qr", "src");
    check(qr && qr.startsWith("data:image/png;base64,") && qr.length > 200, "enrolment shows no QR image");
    const m = /[?&]secret=([A-Z2-7=]+)/i.exec(uri || "");
    check(m, `no secret in the otpauth URI ${uri}`);
    await axe(page, "enrolment");
    await shot(page, "enrol");
    secrets[who] = m[1];
    await page.fill("#totp", await freshTotp(m[1]));
    await page.click("#enrol-form button[type=submit]");
    await page.waitForSelector("#recovery, #app-main:not([hidden])");
    if (await page.isVisible("#recovery")) {
      check((await page.locator("#recovery li").count()) >= 5, "fewer than 5 recovery codes shown");
      await page.click("#recovery-done");
    }
  } else {
    secrets[who] = secret;
  }
  await page.waitForSelector("#app-main:not([hidden])");
  states[who] = await page.context().storageState();
}

// A purpose and a reference are given unless purpose is false (then both
// are cleared): a policy may require them.  expectAlert: wait for the first
// alert card, else only for the end of the stream.
async function searchPlate(page, plate = PLATE, { expectAlert = true, purpose = true } = {}) {
  await page.fill("#q", plate);
  if (!(await page.isVisible("#purpose"))) await page.click("#purpose-box summary");
  // the list is the policy's purpose codes (GET /v1/web/settings), when it has some
  const codes = (await page.evaluate(() => fetch("/v1/web/settings").then((r) => r.json()))).purposes;
  const listed = await page.$$eval("#purpose option", (os) => os.map((o) => o.value).filter((v) => v));
  if (codes.length && JSON.stringify(listed) !== JSON.stringify(codes))
    throw new Error("purpose list " + JSON.stringify(listed) + " is not the policy's " + JSON.stringify(codes));
  await page.selectOption("#purpose", purpose ? "intervention" : "");
  await page.fill("#case_ref", purpose ? "TEST-WEB-1" : "");
  await page.click("#search-go");
  if (expectAlert) await page.waitForSelector("#alerts .alert", { timeout: 20000 });
  await searchDone(page);
}

// The search has ended: the final briefing rendered (its summary line), an
// error shown, or the justification prompt open.
async function searchDone(page) {
  await page.waitForFunction(() => document.querySelector("#results").getAttribute("aria-busy") === "false" &&
    (/result\(s\)/.test(document.querySelector("#progress").textContent) ||
     document.querySelector("#search-error").textContent.length > 0 ||
     !document.querySelector("#justify-form").hidden), null, { timeout: 30000 });
}

// The first visible thing in the results is an alert, ranked armed and
// dangerous, with its instruction, above every card and the status line.
async function assertAlertFirst(page) {
  const first = await page.evaluate(() => {
    const visible = (e) => e.offsetParent !== null && e.getBoundingClientRect().height > 0;
    const blocks = [...document.querySelectorAll("#results .alert, #results .card, #results #status, #results #progress")]
      .filter(visible);
    const top = blocks.map((b) => ({ cls: b.className || b.id, y: b.getBoundingClientRect().top }))
      .sort((a, b) => a.y - b.y);
    const a = document.querySelector("#alerts .alert");
    return { top: top[0], rank: a && a.dataset.rank, title: a && a.querySelector("h3").textContent,
      instruction: a && (a.querySelector(".instruction") || {}).textContent };
  });
  check(first.top && first.top.cls === "alert", `first block is ${JSON.stringify(first.top)}, not an alert`);
  check(first.rank === "armed_dangerous", `first alert ranked ${first.rank}`);
  check(/armed and dangerous/i.test(first.title), `alert title ${first.title}`);
  check(first.instruction && first.instruction.length > 5, "the alert has no instruction");
}

// --- tests ---------------------------------------------------------------
const tests = [];
const BOTH = ["dev", "auth"];
const test = (name, fn, { modes = ["auth"], order = 50 } = {}) => tests.push({ name, fn, modes, order });

test("headers_csp_and_types", async () => {
  const page = await newPage();
  for (const [p, type] of [["/", "text/html"], ["/admin/", "text/html"], ["/oversight/", "text/html"],
    ["/css/app.css", "text/css"], ["/js/officer.js", "text/javascript"], ["/icon.svg", "image/svg+xml"]]) {
    const r = await page.request.get(URL0 + p);
    const h = r.headers();
    check(r.status() === 200, `${p}: ${r.status()}`);
    check((h["content-type"] || "").startsWith(type), `${p}: content-type ${h["content-type"]}`);
    check(h["content-security-policy"] === CSP, `${p}: CSP ${h["content-security-policy"]}`);
    check(h["x-content-type-options"] === "nosniff", `${p}: no nosniff`);
    if (type === "text/html") check(h["cache-control"] === "no-store", `${p}: cache-control ${h["cache-control"]}`);
    else check(/no-cache|no-store/.test(h["cache-control"]) && h.etag, `${p}: cache-control ${h["cache-control"]}`);
  }
  const api = await page.request.get(URL0 + "/v1/web/settings");
  check(api.headers()["cache-control"] === "no-store", "API reply not no-store");
  const missing = await page.request.get(URL0 + "/v1/nope");
  check(missing.status() === 404 && (missing.headers()["content-type"] || "").startsWith("application/json"),
    "unknown API path is not a JSON 404");
  await page.context().close();
}, { modes: BOTH });

// --dev-insecure-no-auth: the session endpoint names the development
// principal, the app opens at once, says it runs without login, and searches.
test("dev_mode_opens_app", async () => {
  const page = await newPage("terminal");
  await open(page, "/");
  await page.waitForSelector("#login-form, #app-main:not([hidden])");
  check(!(await page.isVisible("#login-form")), "development mode shows the login form");
  check(/development mode/i.test(await page.textContent("#who")), "the page does not say it runs without login");
  check(!(await page.isVisible("#logout")), "a logout button without a session");
  await searchPlate(page);
  await assertAlertFirst(page);
  await axe(page, "development mode");
  await noCspViolations(page);
  await page.goto(URL0 + "/admin/");
  await page.waitForSelector("#sources tbody tr");
  await page.context().close();
}, { modes: ["dev"] });

test("login_screen_phone_and_terminal", async () => {
  for (const size of ["phone", "terminal"]) {
    const page = await newPage(size);
    await open(page, "/");
    await page.waitForSelector("#login-form");
    check(await page.isVisible("#username") && await page.isVisible("#totp"), "no username/TOTP fields");
    check(await page.getAttribute("#totp", "autocomplete") === "one-time-code", "the TOTP field is not a one-time-code field");
    check(await page.isHidden("#app-main"), "data screen visible before login");
    await axe(page, `login ${size}`);
    await shot(page, "login");
    await noCspViolations(page);
    await page.context().close();
  }
});

test("keyboard_only_search_alert_first", async () => {
  const page = await newPage("terminal");
  await open(page, "/");
  await page.waitForSelector("#login-form");
  // the username field has focus: type, Tab, type, Tab, type, Enter
  check(await page.evaluate(() => document.activeElement.id === "username"), "the username field has no focus");
  const [user, password, secret] = CREDS.patrol;
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Tab");
  await page.keyboard.type(await freshTotp(secret));
  await page.keyboard.press("Enter");
  await page.waitForSelector("#app-main:not([hidden])");
  secrets.patrol = secret;
  states.patrol = await page.context().storageState();
  // the app put the focus in the search box; Tab order from the top: the skip
  // link first, and Enter on it lands in the main content, whose first stop is the box
  check(await page.evaluate(() => document.activeElement.id === "q"), "the search box has no focus after login");
  const first = await page.evaluate(() => [...document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")]
    .find((e) => e.tabIndex >= 0 && e.offsetParent !== null).className);
  check(first === "skip", `the first Tab stop is ${first}, not the skip link`);
  await page.focus("a.skip");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(outline !== "none", "the focused skip link has no visible outline");
  await page.keyboard.press("Enter");
  check(await page.evaluate(() => document.activeElement.id === "main"), "the skip link does not move the focus to the content");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.id === "q"), "Tab after the skip link is not the search box");
  const qOutline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(qOutline !== "none", "the focused search box has no visible outline");
  await page.keyboard.type(PLATE);
  // Tab past the Search button to the purpose fold (open on a terminal)
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.tagName === "SUMMARY"), "Tab does not reach the purpose fold");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.id === "purpose"), "Tab does not reach the purpose");
  await page.keyboard.type("Int"); // selects "Intervention"
  check(await page.evaluate(() => document.activeElement.value === "intervention"), "typing does not pick the purpose");
  await page.keyboard.press("Tab");
  await page.keyboard.type("TEST-WEB-2");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#alerts .alert", { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector("#results").getAttribute("aria-busy") === "false");
  await assertAlertFirst(page);
  const live = await page.evaluate(() => document.getElementById("live-alerts").getAttribute("aria-live"));
  check(live === "assertive", "no assertive live region for alerts");
  await noCspViolations(page);
  await page.context().close();
}, { order: 13 });

test("results_sources_cards_axe_screenshots", async () => {
  for (const size of ["phone", "terminal"]) {
    for (const scheme of ["light", "dark"]) {
      const page = await newPage(size, { colorScheme: scheme }, "main");
      await open(page, "/");
      await login(page);
      await searchPlate(page);
      await assertAlertFirst(page);
      // per-source status: present but folded away
      check(await page.isVisible("#status summary"), "no source status");
      const summary = await page.textContent("#status-summary");
      check(/\d+ of \d+ source answers/.test(summary), `status summary: ${summary}`);
      check(await page.locator("#status-list li").count() >= 3, "fewer than 3 source lines");
      check(!(await page.isVisible("#status-list")), "the source list is not folded");
      // cards with provenance
      const card = page.locator("#entities .card").first();
      check(await card.isVisible(), "no entity card");
      check(await page.locator("#entities .card .src").count() > 0, "no source badges on facts");
      check((await page.textContent("#entities")).includes("1ABC123"), "the vehicle card is missing");
      // touch targets
      const small = await page.evaluate(() => [...document.querySelectorAll("button, a.button, input:not([type=checkbox]), select, summary")]
        .filter((e) => e.offsetParent !== null).filter((e) => e.getBoundingClientRect().height < 44).map((e) => e.id || e.textContent));
      check(small.length === 0, `targets under 44 px: ${small}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      check(!overflow, "the page scrolls sideways");
      await axe(page, `results ${size} ${scheme}`);
      await shot(page, `search-${scheme}`, { keepScroll: true });
      await page.click("#status summary");
      check(await page.isVisible("#status-list"), "the source list does not unfold");
      await noCspViolations(page);
      await page.context().close();
    }
  }
});

test("dark_mode_follows_system_and_toggle", async () => {
  const page = await newPage("terminal", { colorScheme: "dark" });
  await open(page, "/");
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(await bg() === "rgb(13, 16, 20)", `dark system, background ${await bg()}`);
  check(await page.getAttribute("#theme", "aria-pressed") === "true", "toggle not pressed in dark mode");
  await page.click("#theme");
  check(await bg() === "rgb(255, 255, 255)", `toggled to light, background ${await bg()}`);
  await page.click("#theme");
  check(await bg() === "rgb(13, 16, 20)", "toggled back, not dark");
  await page.context().close();
}, { modes: BOTH });

test("idle_lock_hides_data", async () => {
  const page = await newPage("terminal", {}, "main");
  await page.clock.install();
  await open(page, "/");
  await login(page);
  await searchPlate(page);
  const settings = await page.evaluate(() => fetch("/v1/web/settings").then((r) => r.json()));
  await page.clock.fastForward((settings.idle_lock_s + 5) * 1000);
  await page.waitForSelector("#unlock-form");
  check(await page.evaluate(() => document.body.classList.contains("locked")), "body not locked");
  check(!(await page.isVisible("#alerts .alert")), "the alert is still visible when locked");
  check(!(await page.isVisible("#entities")), "results still visible when locked");
  // Tab stays on the lock screen
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    check(await page.evaluate(() => !document.activeElement || document.activeElement === document.body ||
      !!document.activeElement.closest("#lock-view")), "Tab leaves the lock screen");
  }
  await axe(page, "lock screen");
  await shot(page, "locked");
  // a wrong password keeps it locked
  await page.fill("#unlock-password", "not-the-password");
  await page.fill("#totp", "123456");
  await page.click("#unlock-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#unlock-form .error").textContent.length > 0);
  check(!(await page.isVisible("#alerts .alert")), "a wrong password unlocked the app");
  await page.fill("#unlock-password", CREDS.main[1]);
  await page.fill("#totp", await freshTotp(secrets.main || CREDS.main[2]));
  await page.click("#unlock-form button[type=submit]");
  await page.waitForSelector("#alerts .alert", { state: "visible" });
  await noCspViolations(page);
  await page.context().close();
});

test("logout_clears_state", async () => {
  const page = await newPage("terminal", {}, "patrol");
  await open(page, "/");
  await login(page, "patrol");
  await searchPlate(page);
  const calls = [];
  page.on("request", (r) => calls.push(`${r.method()} ${new URL(r.url()).pathname}`));
  const logoutAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/auth/logout");
  await page.click("#logout");
  // allHeaders(): headers() leaves out the security-related ones
  const clearSiteData = (await (await logoutAnswer).allHeaders())["clear-site-data"];
  await page.waitForSelector("#login-form");
  check(calls.includes("POST /v1/auth/logout"), "logout did not call the server");
  check(clearSiteData === '"cache", "cookies", "storage"', `logout answer Clear-Site-Data: ${clearSiteData}`);
  const left = await page.evaluate(async () => ({
    text: document.body.innerText,
    local: localStorage.length, session: sessionStorage.length,
    idb: indexedDB.databases ? (await indexedDB.databases()).length : 0,
    caches: (await caches.keys()).length,
  }));
  check(!left.text.includes("1ABC123") && !/armed and dangerous/i.test(left.text), "results survive the logout");
  check(left.local === 0 && left.session === 0 && left.idb === 0 && left.caches === 0, `storage used: ${JSON.stringify(left)}`);
  await page.goBack().catch(() => null);
  const back = await page.evaluate(() => document.body.innerText);
  check(!/armed and dangerous/i.test(back), "Back shows the results again");
  const cookies = await page.context().cookies();
  check(!cookies.some((c) => c.name === "focal_session" && c.value), "the session cookie survives the logout");
  const s = await page.request.get(URL0 + "/v1/auth/session");
  check(s.status() === 401, `session after logout: ${s.status()}`);
  // the old cookie, replayed from before the logout, is dead on the server
  const ctx2 = await browser.newContext({ ignoreHTTPSErrors: true, storageState: states.patrol });
  const replay = await ctx2.request.get(URL0 + "/v1/auth/session");
  check(replay.status() === 401, `the logged-out session cookie still works: ${replay.status()}`);
  await ctx2.close();
  delete states.patrol;
  await page.context().close();
}, { order: 90 });

// One account as the store has it (GET /v1/admin/users, with the page's session).
async function adminUser(page, username) {
  const r = await page.request.get(URL0 + "/v1/admin/users");
  check(r.status() === 200, `GET /v1/admin/users: ${r.status()}`);
  const u = (await r.json()).users.find((x) => x.username === username);
  check(u, `${username} is not in the store`);
  return u;
}

test("admin_console", async () => {
  for (const size of ["phone", "terminal"]) {
    const page = await newPage(size, {}, "main");
    await open(page, "/admin/");
    await login(page);
    await page.waitForSelector("#sources tbody tr");
    const n = await page.locator("#sources tbody tr").count();
    check(n >= 5, `only ${n} sources listed`);
    check((await page.textContent("#sources")).includes("vehicles"), "the vehicles source is missing");
    // the real accounts, from the user store
    await page.waitForSelector(`#users tbody tr[data-user="${CREDS.low[0]}"]`);
    const low = await page.textContent(`#users tbody tr[data-user="${CREDS.low[0]}"]`);
    check(/restricted/.test(low) && /active/.test(low), `the low user's row: ${low}`);
    if (size === "terminal") {
      // add an account through the console, then disable it
      await page.fill("#new-username", "web-added");
      await page.fill("#new-name", "Added By Console");
      await page.fill("#new-unit", "TEST-WEB");
      await page.check("#add-user input[name=roles][value=officer]");
      await page.selectOption("#new-clearance", "restricted");
      await page.fill("#new-password", "Console-Added-Passphrase-4");
      await page.click("#add-user button[type=submit]");
      await page.waitForSelector('#users tbody tr[data-user="web-added"]');
      check(/added/.test(await page.textContent("#add-user-result")), "no word that the user was added");
      check((await adminUser(page, "web-added")).status === "active", "the added user is not in the store");
      // five wrong passwords lock it (docs/identity.md); the console shows it and unlocks it
      const other = await browser.newContext({ ignoreHTTPSErrors: true });
      for (let i = 0; i < 5; i++)
        await other.request.post(URL0 + "/v1/auth/login", { data: { username: "web-added", password: `wrong-${i}`, totp: "000000" } });
      await other.close();
      check((await adminUser(page, "web-added")).locked === true, "five wrong passwords did not lock the account");
      await page.reload();
      await login(page);
      const row = '#users tbody tr[data-user="web-added"]';
      await page.waitForFunction((r) => /locked/.test((document.querySelector(r) || {}).textContent || ""), row);
      await page.click(`${row} button[data-action=unlock]`);
      await page.waitForFunction((r) => !/locked/.test((document.querySelector(r) || {}).textContent || "locked"), row);
      check((await adminUser(page, "web-added")).locked === false, "Unlock did not reach the store");
      // disable, enable
      await page.click(`${row} button:text("Disable")`);
      await page.waitForFunction((r) => /disabled/.test((document.querySelector(r) || {}).textContent || ""), row);
      check((await adminUser(page, "web-added")).status === "disabled", "Disable did not reach the store");
      await page.click(`${row} button:text("Enable")`);
      await page.waitForFunction((r) => /active/.test((document.querySelector(r) || {}).textContent || ""), row);
      check((await adminUser(page, "web-added")).status === "active", "Enable did not reach the store");
      // roles: officer + auditor
      await page.check(`${row} input[value=auditor]`);
      await page.click(`${row} button[data-action=roles]`);
      await page.waitForFunction((r) => (document.querySelector(`${r} input[value=auditor]`) || {}).checked === true &&
        /roles done/.test(document.querySelector("#live").textContent), row);
      const roles = (await adminUser(page, "web-added")).roles;
      check(JSON.stringify([...roles].sort()) === JSON.stringify(["auditor", "officer"]), `roles after Save roles: ${roles}`);
      // reset MFA of an enrolled user (asks for confirmation first)
      check((await adminUser(page, "web-cop")).mfa_enrolled === true, "web-cop is not enrolled");
      page.once("dialog", (d) => d.accept());
      await page.click('#users tbody tr[data-user="web-cop"] button[data-action="reset-mfa"]');
      await page.waitForFunction(() => /MFA not set up/.test((document.querySelector('#users tbody tr[data-user="web-cop"]') || {}).textContent || ""));
      check((await adminUser(page, "web-cop")).mfa_enrolled === false, "Reset MFA did not reach the store");
    }
    // policy validation: the parser's errors with line:column, then a valid one
    await page.fill("#policy-text", "version: 1\nrules:\n  - bad: [\n");
    await page.click("#policy-form button[type=submit]");
    await page.waitForSelector("#policy-result p");
    check(/line \d+:\d+/.test(await page.textContent("#policy-result")), `no line:column in the policy errors: ${await page.textContent("#policy-result")}`);
    await axe(page, `admin ${size}`);
    await shot(page, "admin");
    await page.fill("#policy-text", "version: 1\nrules:\n  - name: officers\n    effect: allow\n    actions: [search]\n    subject: { roles: [officer] }\n");
    await page.click("#policy-form button[type=submit]");
    await page.waitForFunction(() => /valid\./.test(document.querySelector("#policy-result").textContent));
    await noCspViolations(page);
    await page.context().close();
  }
});

test("oversight_console", async () => {
  for (const size of ["phone", "terminal"]) {
    const page = await newPage(size, {}, "main");
    await open(page, "/oversight/");
    await login(page);
    await page.fill("#subject", PLATE);
    await page.click("#audit-form button[type=submit]");
    await page.waitForFunction(() => document.querySelector("#audit-error").textContent || document.querySelector("#audit-table"));
    check(await page.isVisible("#audit-table"), `no audit results: ${await page.textContent("#audit-error")}`);
    const rows = await page.locator("#audit-table tbody tr").count();
    check(rows >= 1, "the searches of the plate are not in the audit results");
    check((await page.textContent("#audit-table")).includes(CREDS.main[0]), "the searching user is not named");
    const csv = await page.getAttribute("#export-csv", "href");
    check(csv.includes("format=csv"), "no CSV export link");
    const exp = await page.request.get(URL0 + csv);
    check(exp.status() === 200 && /^seq,/.test(await exp.text()), `CSV export: ${exp.status()}`);
    if (size === "terminal") {
      // JSON lines export of the same query: one object a line, the plate's search among them
      const jl = await page.getAttribute("#export-jsonl", "href");
      check(jl.includes("format=jsonl"), "no JSON-lines export link");
      const jr = await page.request.get(URL0 + jl);
      const lines = (await jr.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
      check(jr.status() === 200 && lines.length >= rows, `JSON lines export: ${jr.status()}, ${lines.length} lines for ${rows} rows`);
      check(lines.some((l) => l.user === CREDS.main[0] && /1-?ABC-?123/.test(JSON.stringify(l))),
        "the JSON-lines export lacks the main user's search of the plate");
      // by user only: every row is that user's
      await page.fill("#subject", "");
      await page.fill("#user", CREDS.patrol[0]);
      await page.click("#audit-form button[type=submit]");
      await page.waitForFunction((u) => { const t = document.querySelector("#audit-table");
        return t && t.querySelector("tbody tr") && [...t.querySelectorAll("tbody tr")].every((r) => r.textContent.includes(u)); }, CREDS.patrol[0]);
      const byUser = await page.textContent("#audit-table tbody");
      check(/1-?ABC-?123/.test(byUser), "the patrol officer's search of the plate is not among their lookups");
      // a time window: the last hour has the plate's searches, a window a day ago has none
      const when = await page.evaluate(() => {
        const f = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
        const now = Date.now();
        return { from: f(new Date(now - 3600e3)), to: f(new Date(now + 3600e3)),
          oldFrom: f(new Date(now - 26 * 3600e3)), oldTo: f(new Date(now - 25 * 3600e3)) };
      });
      await page.fill("#user", "");
      await page.fill("#subject", PLATE);
      await page.fill("#from", when.from);
      await page.fill("#to", when.to);
      await page.click("#audit-form button[type=submit]");
      await page.waitForFunction(() => /[?&]from=.*&to=/.test(document.querySelector("#export-jsonl").getAttribute("href")));
      const inWindow = await page.locator("#audit-table tbody tr").count();
      check(inWindow >= 1, "no lookups of the plate in the last hour");
      const jw = new URLSearchParams((await page.getAttribute("#export-jsonl", "href")).split("?")[1]);
      check(jw.get("from") && jw.get("to") && jw.get("from").endsWith("Z"), `the window is not in the query: ${jw}`);
      await page.fill("#from", when.oldFrom);
      await page.fill("#to", when.oldTo);
      await page.click("#audit-form button[type=submit]");
      await page.waitForFunction(() => /^0 lookup/.test((document.querySelector("#audit-table caption") || {}).textContent || ""));
      await page.fill("#from", "");
      await page.fill("#to", "");
    }
    await page.click("#verify");
    await page.waitForFunction(() => !/Verifying/.test(document.querySelector("#verify-result").textContent));
    check(/intact/.test(await page.textContent("#verify-verdict")), `the log does not verify: ${await page.textContent("#verify-result")}`);
    const vr = await page.textContent("#verify-result");
    check(/[0-9a-f]{64}/.test(vr), `no checkpoint root shown: ${vr}`);
    await axe(page, `oversight ${size}`);
    await shot(page, "oversight");
    await noCspViolations(page);
    await page.context().close();
  }
});

// --- keyboard only ----------------------------------------------------------
// Presses Tab (Shift+Tab with back) until the focus is on an element matching
// sel; at every stop the focused element must show a visible focus indicator
// (an outline of 2 px or more, or a box shadow).  Fails when sel is never
// reached: that action is out of reach of a keyboard.
async function tabTo(page, sel, { back = false, max = 300 } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    const st = await page.evaluate((q) => {
      const a = document.activeElement;
      if (!a || a === document.body || a === document.documentElement) return { body: true };
      const cs = getComputedStyle(a);
      // the date-time field's own calendar button lives in the browser's
      // closed shadow tree (the field then does not match :focus) and draws
      // the browser's focus ring, which a page style cannot reach
      const pickerButton = a.matches('input[type="datetime-local"]') && !a.matches(":focus");
      const ring = pickerButton || (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== "none";
      const r = a.getBoundingClientRect();
      return { match: a.matches(q), ring, shown: r.width > 0 && r.height > 0,
        what: a.id || a.getAttribute("aria-label") || (a.textContent || "").trim().slice(0, 30) || a.tagName };
    }, sel);
    if (st.body) continue;
    seen.push(st.what);
    check(st.ring, `no visible focus on "${st.what}"`);
    check(st.shown, `the focus is on "${st.what}", which is not shown`);
    if (st.match) return;
  }
  throw new Error(`Tab never reaches ${sel} (stops: ${seen.slice(-12).join(" | ")})`);
}

// The focus is on sel, and shows.
async function focusedIs(page, sel) {
  return page.evaluate((q) => {
    const a = document.activeElement;
    if (!a || !a.matches(q)) return false;
    const cs = getComputedStyle(a);
    return (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== "none";
  }, sel);
}

// The admin console, first-login MFA enrolment, the lock screen and the
// oversight console by keyboard alone (Tab, Shift+Tab, Enter, Space, typing;
// no click): every action is reached, the focus is always visible, and what
// each action did is in the store.
test("keyboard_only_consoles_enrol_unlock", async () => {
  const kb = { user: "web-kb", password: "Keyboard-Added-Passphrase-2" };
  const admin = await newPage("terminal", {}, "main");
  await open(admin, "/admin/");
  await login(admin);
  await admin.waitForSelector("#users tbody tr");
  // the section links move the focus to their section
  await tabTo(admin, 'a[href="#policy-h"]');
  await admin.keyboard.press("Enter");
  check(await admin.evaluate(() => document.activeElement.id === "policy-h"), "the Policy link does not move the focus");
  // add an account
  await tabTo(admin, "#new-username");
  await admin.keyboard.type(kb.user);
  await tabTo(admin, "#new-name");
  await admin.keyboard.type("Keyboard Only");
  await tabTo(admin, "#new-unit");
  await admin.keyboard.type("TEST-WEB");
  await tabTo(admin, "#new-clearance");
  await admin.keyboard.type("strictly"); // picks "strictly confidential"
  check(await admin.inputValue("#new-clearance") === "strictly_confidential", "typing does not pick the clearance");
  await tabTo(admin, "#new-password");
  await admin.keyboard.type(kb.password);
  await tabTo(admin, "#add-user input[value=officer]");
  check(await admin.isChecked("#add-user input[value=officer]"), "officer is not preset");
  await tabTo(admin, "#add-user button[type=submit]");
  await admin.keyboard.press("Enter");
  await admin.waitForSelector(`#users tbody tr[data-user="${kb.user}"]`);
  check((await adminUser(admin, kb.user)).clearance === "strictly_confidential", "the account was not added as typed");
  const row = `#users tbody tr[data-user="${kb.user}"]`;
  // disable with Enter: the focus stays on the row (now on Enable); enable with Space
  await tabTo(admin, `${row} [data-action=disable]`, { back: true });
  await admin.keyboard.press("Enter");
  await admin.waitForFunction((r) => /disabled/.test(document.querySelector(r).textContent), row);
  check((await adminUser(admin, kb.user)).status === "disabled", "Disable by keyboard did not reach the store");
  check(await focusedIs(admin, `${row} [data-action=enable]`), "the focus is lost after Disable");
  await admin.keyboard.press("Space");
  await admin.waitForFunction((r) => /active/.test(document.querySelector(r).textContent), row);
  check((await adminUser(admin, kb.user)).status === "active", "Enable by keyboard did not reach the store");
  // roles: Space on a checkbox, Enter on Save roles
  await tabTo(admin, `${row} input[value=auditor]`, { back: true });
  await admin.keyboard.press("Space");
  await tabTo(admin, `${row} [data-action=roles]`);
  await admin.keyboard.press("Enter");
  await admin.waitForFunction(() => /roles done/.test(document.querySelector("#live").textContent));
  check((await adminUser(admin, kb.user)).roles.includes("auditor"), "Save roles by keyboard did not reach the store");
  // unlock (a no-op on an unlocked account, but reachable and answered)
  await tabTo(admin, `${row} [data-action=unlock]`);
  await admin.keyboard.press("Enter");
  await admin.waitForFunction(() => /unlock done/.test(document.querySelector("#live").textContent));
  // the sources' Refresh and policy validation
  await tabTo(admin, "#sources-refresh");
  await admin.keyboard.press("Space");
  await tabTo(admin, "#policy-file");
  await tabTo(admin, "#policy-text");
  await admin.keyboard.type("version: 1\nrules:\n  - bad: [\n");
  await tabTo(admin, "#policy-form button[type=submit]");
  await admin.keyboard.press("Enter");
  await admin.waitForSelector("#policy-errors li");
  // first login of the new account, by keyboard: password, then enrolment
  const user = await newPage("terminal");
  await open(user, "/");
  await user.waitForSelector("#login-form");
  check(await focusedIs(user, "#username"), "the login form has no focus");
  await user.keyboard.type(kb.user);
  await user.keyboard.press("Tab");
  await user.keyboard.type(kb.password);
  await user.keyboard.press("Tab");
  await user.keyboard.type("000000");
  await user.keyboard.press("Enter");
  await user.waitForSelector("#enrol-form");
  check(await focusedIs(user, "#totp"), "the enrolment form's code field has no focus");
  const m = /[?&]secret=([A-Z2-7=]+)/i.exec(await user.textContent("#enrol-uri"));
  check(m, "no secret in the otpauth URI");
  await axe(user, "enrolment terminal");
  await shot(user, "enrol");
  await user.keyboard.type(await freshTotp(m[1]));
  await user.keyboard.press("Enter");
  await user.waitForSelector("#recovery");
  check(await focusedIs(user, "#recovery-done"), "the recovery codes' button has no focus");
  await user.keyboard.press("Enter");
  await user.waitForSelector("#app-main:not([hidden])");
  check((await adminUser(admin, kb.user)).mfa_enrolled === true, "the keyboard enrolment did not reach the store");
  // the lock screen, by keyboard, at phone size
  await user.setViewportSize(SIZES.phone);
  await tabTo(user, "#lock-btn", { back: true });
  await user.keyboard.press("Enter");
  await user.waitForSelector("#unlock-form");
  check(await focusedIs(user, "#unlock-password"), "the lock screen's password field has no focus");
  await axe(user, "lock screen phone");
  await shot(user, "locked");
  await user.keyboard.type(kb.password);
  await user.keyboard.press("Tab");
  check(await focusedIs(user, "#totp"), "Tab from the password does not reach the code");
  await user.keyboard.type(await freshTotp(m[1]));
  await user.keyboard.press("Enter");
  await user.waitForSelector("#app-main:not([hidden])");
  check(await user.isHidden("#unlock-form"), "still locked");
  await noCspViolations(user);
  await user.context().close();
  // Reset MFA by keyboard (the console is loaded again: its idle lock may have
  // fallen meanwhile); the confirmation is the browser's own dialog
  await open(admin, "/admin/");
  await login(admin);
  await admin.waitForSelector(row);
  admin.once("dialog", (d) => d.accept());
  await tabTo(admin, `${row} [data-action="reset-mfa"]`, { back: true });
  await admin.keyboard.press("Enter");
  await admin.waitForFunction((r) => /MFA not set up/.test(document.querySelector(r).textContent), row);
  check((await adminUser(admin, kb.user)).mfa_enrolled === false, "Reset MFA by keyboard did not reach the store");
  await noCspViolations(admin);
  await admin.context().close();
  // oversight: a subject, a user, the JSON-lines export, the verification
  // en-US: the date-time fields' parts in the order typed below
  const ov = await newPage("terminal", { acceptDownloads: true, locale: "en-US" }, "main");
  await open(ov, "/oversight/");
  await login(ov);
  await tabTo(ov, "#subject");
  await ov.keyboard.type(PLATE);
  await ov.keyboard.press("Enter");
  await ov.waitForSelector("#audit-table tbody tr");
  await tabTo(ov, "#export-csv");
  await tabTo(ov, "#export-jsonl");
  const dl = ov.waitForEvent("download");
  await ov.keyboard.press("Enter");
  const file = await (await dl).path();
  const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  check(lines.some((l) => /1-?ABC-?123/.test(JSON.stringify(l))), "the downloaded JSON lines lack the plate's search");
  // the same subject by user and time window (yesterday 00:00 to tomorrow
  // 00:00, typed part by part: month day year, Tab, hour minute AM/PM)
  await tabTo(ov, "#user", { back: true });
  await ov.keyboard.type(CREDS.main[0]);
  const day = (n) => {
    const t = new Date(Date.now() + n * 86400e3);
    return [t.getMonth() + 1, t.getDate()].map((v) => String(v).padStart(2, "0")).join("") + t.getFullYear();
  };
  for (const [field, n] of [["#from", -1], ["#to", 1]]) {
    await tabTo(ov, field);
    await ov.keyboard.type(day(n));
    await ov.keyboard.press("Tab");
    await ov.keyboard.type("1200A");
    check(/T00:00$/.test(await ov.inputValue(field)), `${field} typed by keyboard: ${await ov.inputValue(field)}`);
  }
  await tabTo(ov, "#audit-form button[type=submit]");
  await ov.keyboard.press("Enter");
  await ov.waitForFunction(() => /[?&]user=.*&from=.*&to=/.test(document.querySelector("#export-jsonl").getAttribute("href")));
  const inWindow = await ov.textContent("#audit-table tbody");
  check(inWindow.includes(CREDS.main[0]) && /1-?ABC-?123/.test(inWindow), "the main user's search is not in today's window");
  await tabTo(ov, "#verify");
  await ov.keyboard.press("Space");
  await ov.waitForSelector("#verify-verdict");
  check(/intact/.test(await ov.textContent("#verify-verdict")), "the log does not verify");
  await noCspViolations(ov);
  await ov.context().close();
}, { order: 60 });

// An officer (no admin, no auditor role) is refused both consoles: the page
// says which role is missing and the API answers 403.
test("officer_refused_consoles", async () => {
  const page = await newPage("terminal", {}, "low");
  for (const [p, role] of [["/admin/", "admin"], ["/oversight/", "auditor"]]) {
    await open(page, p);
    await login(page, "low");
    const text = await page.textContent("#app-main");
    check(text.includes(`needs the ${role} role`), `${p} as an officer: ${text.slice(0, 200)}`);
    check(!(await page.isVisible("#users, #audit-form")), `${p} shows its forms to an officer`);
  }
  for (const p of ["/v1/admin/users", "/v1/admin/sources", "/v1/audit/status", `/v1/audit/lookups?subject=${PLATE}`]) {
    const r = await page.request.get(URL0 + p);
    check(r.status() === 403, `GET ${p} as an officer: ${r.status()}`);
  }
  check(!(await page.isVisible("a[href='/admin/']")), "an officer is offered the admin console");
  await page.context().close();
});

// The app's side of the identity contract, today: the browser's requests to
// /v1/auth/* are answered by the test as the contract says (page.route), the
// search goes to the real focald.  Checks the first-login enrolment with QR
// and TOTP, recovery codes, the CSRF header on every POST, a wrong code, the
// idle lock asking password + TOTP again, and logout.
test("contract_login_enrol_csrf_lock_logout", async () => {
  const page = await newPage("phone");
  await page.clock.install();
  const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
  const user = { username: "jdoe", name: "Jan Doe", unit: "ANT-PATROL-3", roles: ["officer"], clearance: "restricted" };
  const csrf = "csrf-" + crypto.randomBytes(16).toString("hex");
  const seen = { logins: [], enrol: null, csrfOnSearch: null, logoutCsrf: null };
  let loggedIn = false;
  const json = (route, status, body) => route.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) });
  const ok = { status: "ok", user, csrf_token: csrf, idle_timeout_s: 900, expires_at: "2099-01-01T00:00:00Z" };
  // a 1x1 PNG
  const png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
  await page.route("**/v1/auth/**", async (route) => {
    const r = route.request();
    const p = new URL(r.url()).pathname;
    const body = r.postData() ? JSON.parse(r.postData()) : null;
    if (p === "/v1/auth/session") return loggedIn ? json(route, 200, ok) : json(route, 401, { error: { code: "denied", message: "log in" } });
    if (p === "/v1/auth/login") {
      seen.logins.push(body);
      if (body.password !== "right-password") return json(route, 401, { error: { code: "denied", message: "denied" } });
      if (!seen.enrol) return json(route, 200, { status: "mfa_enrolment", enrolment_token: "enrol-1",
        otpauth_uri: `otpauth://totp/Focal:jdoe?secret=${secret}&issuer=Focal`, qr_png: png });
      if (body.totp !== totp(secret)) return json(route, 401, { error: { code: "denied", message: "denied" } });
      loggedIn = true;
      return json(route, 200, ok);
    }
    if (p === "/v1/auth/mfa/enrol") {
      seen.enrol = body;
      if (body.enrolment_token !== "enrol-1" || body.totp !== totp(secret)) return json(route, 401, { error: { code: "denied", message: "denied" } });
      loggedIn = true;
      return json(route, 200, { ...ok, recovery_codes: ["aaaa-bbbb", "cccc-dddd"] });
    }
    if (p === "/v1/auth/logout") {
      seen.logoutCsrf = r.headers()["x-csrf-token"];
      loggedIn = false;
      return route.fulfill({ status: 204 });
    }
    return json(route, 404, { error: { code: "invalid", message: "no such endpoint" } });
  });
  await page.route("**/v1/search", (route) => {
    seen.csrfOnSearch = route.request().headers()["x-csrf-token"];
    return route.continue();
  });
  await open(page, "/");
  await page.waitForSelector("#login-form");
  check(!(await page.isVisible("#dev-continue")), "the development path shows although a login service answers");
  // a wrong password is refused, the password field is emptied
  await page.fill("#username", "jdoe");
  await page.fill("#password", "wrong");
  await page.fill("#totp", "123456");
  await page.click("#login-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#login-error").textContent.length > 0);
  check(await page.isHidden("#app-main"), "the app opened after a refused login");
  check(await page.inputValue("#password") === "", "the password stays in the field after a refused login");
  // first login: enrolment with the QR and the otpauth URI
  await page.fill("#password", "right-password");
  await page.fill("#totp", "000000");
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#enrol-form");
  check(await page.getAttribute("#enrol-qr", "src") === png, "the QR is not shown");
  check((await page.textContent("#enrol-uri")).includes(secret), "the otpauth URI is not shown");
  await axe(page, "enrolment");
  await shot(page, "enrol");
  await page.fill("#totp", totp(secret));
  await page.click("#enrol-form button[type=submit]");
  await page.waitForSelector("#recovery");
  check((await page.textContent("#recovery")).includes("cccc-dddd"), "recovery codes not shown");
  await page.click("#recovery-done");
  await page.waitForSelector("#app-main:not([hidden])");
  check((await page.textContent("#app-header")).includes("Jan Doe") || page.viewportSize().width < 640, "the user is not named");
  check(!(await page.isVisible("a[href='/admin/']")), "an officer is offered the admin console");
  await searchPlate(page);
  await assertAlertFirst(page);
  check(seen.csrfOnSearch === csrf, `the search sent X-CSRF-Token ${seen.csrfOnSearch}`);
  // idle lock: password + TOTP again through the same login call
  const settings = await page.evaluate(() => fetch("/v1/web/settings").then((r) => r.json()));
  await page.clock.fastForward((settings.idle_lock_s + 5) * 1000);
  await page.waitForSelector("#unlock-form");
  check(!(await page.isVisible("#alerts .alert")), "the alert is visible while locked");
  await page.fill("#unlock-password", "wrong");
  await page.fill("#totp", totp(secret));
  await page.click("#unlock-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#unlock-form .error").textContent.length > 0);
  check(await page.isVisible("#unlock-form"), "a wrong password unlocked the app");
  await page.fill("#unlock-password", "right-password");
  await page.fill("#totp", totp(secret));
  await page.click("#unlock-form button[type=submit]");
  await page.waitForSelector("#alerts .alert", { state: "visible" });
  const last = seen.logins[seen.logins.length - 1];
  check(last.username === "jdoe" && last.password === "right-password", "unlock did not use the login call");
  // logout: the server is told (with the CSRF header), the page forgets everything
  await page.click("#logout");
  await page.waitForSelector("#login-form");
  check(seen.logoutCsrf === csrf, "logout without the CSRF header");
  check(!(await page.content()).includes("1ABC123"), "results survive the logout");
  await noCspViolations(page);
  await page.context().close();
}, { modes: ["dev"] });

// The session's absolute end (expires_at) drops the page's data without
// waiting for a request to fail.
test("contract_session_end_drops_data", async () => {
  const page = await newPage("terminal");
  await page.clock.install();
  const user = { username: "jdoe", name: "Jan Doe", unit: "U", roles: ["officer"], clearance: "restricted" };
  let alive = true;
  const expires = new Date(Date.now() + 120 * 1000).toISOString();
  await page.route("**/v1/auth/session", (route) => route.fulfill(alive
    ? { status: 200, contentType: "application/json", body: JSON.stringify({ user, csrf_token: "c", idle_timeout_s: 3600, expires_at: expires }) }
    : { status: 401, contentType: "application/json", body: JSON.stringify({ error: { code: "denied", message: "ended" } }) }));
  await open(page, "/");
  await page.waitForSelector("#app-main:not([hidden])");
  await searchPlate(page);
  alive = false;
  await page.clock.fastForward(125 * 1000);
  await page.waitForSelector("#login-form");
  check(new URL(page.url()).search === "", "the end-of-session marker stays in the address bar");
  check((await page.textContent("#login-form")).includes("session ended"), "no word that the session ended");
  check(!(await page.content()).includes("1ABC123"), "results survive the end of the session");
  await page.context().close();
}, { modes: ["dev"] });

// --- against the identity backend ------------------------------------------
test("login_wrong_password_refused", async () => {
  const page = await newPage();
  await open(page, "/");
  await page.fill("#username", process.env.FOCAL_USER);
  await page.fill("#password", "not-the-password");
  await page.fill("#totp", "123456");
  await page.click("#login-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#login-error").textContent.length > 0);
  check(await page.isHidden("#app-main"), "the app opened with a wrong password");
  check(await page.inputValue("#password") === "", "the password stays in the field after a refused login");
  await page.context().close();
}, { order: 10 });

test("login_totp_session_cookie_csrf", async () => {
  const page = await newPage();
  const posts = [];
  page.on("request", (r) => { if (r.method() === "POST") posts.push({ path: new URL(r.url()).pathname, csrf: r.headers()["x-csrf-token"] }); });
  await open(page, "/");
  await login(page);
  const cookie = (await page.context().cookies()).find((c) => c.name === "focal_session");
  check(cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === "Strict", `session cookie ${JSON.stringify(cookie)}`);
  check(await page.evaluate(() => !document.cookie.includes("focal_session")), "the session cookie is readable by script");
  check((await page.textContent("#who")).includes("Web Main"), "the user is not named");
  await searchPlate(page);
  await assertAlertFirst(page);
  const s = posts.find((p) => p.path === "/v1/search");
  check(s && s.csrf && s.csrf.length >= 16, "the search was sent without the CSRF header");
  // a search with the cookie but without the CSRF header is refused by the server
  const bare = await page.request.post(URL0 + "/v1/search", { data: { q: PLATE } });
  check(bare.status() === 401 || bare.status() === 403, `search without CSRF: ${bare.status()}`);
  await page.context().close();
}, { order: 11 });

// The first login of a user without an authenticator: the QR (and its
// otpauth URI), a code computed from it, the recovery codes once.
test("first_login_mfa_enrolment_qr", async () => {
  const page = await newPage("phone");
  await open(page, "/");
  await login(page, "low");
  check(secrets.low, "no enrolment happened");
  check(!(await page.isVisible("a[href='/admin/']")), "an officer is offered the admin console");
  await page.context().close();
}, { order: 12 });

// Every fetch the page makes, with its whole body read from a clone as it
// streams (page.on("response") cannot read a streamed body): installed before
// the page's own scripts run.
async function captureFetch(page) {
  await page.addInitScript(() => {
    window.__fetched = [];
    const orig = window.fetch;
    window.fetch = async (...args) => {
      const r = await orig(...args);
      const url = new URL(typeof args[0] === "string" ? args[0] : args[0].url, location.href).pathname;
      const entry = { url, status: r.status, type: r.headers.get("Content-Type") || "", done: false, text: "" };
      window.__fetched.push(entry);
      r.clone().text().then((t) => { entry.text = t; entry.done = true; },
        (e) => { entry.error = String(e); entry.done = true; });
      return r;
    };
  });
}

// The bodies of the page's /v1/search answers, once every one is complete.
async function searchBodies(page) {
  await page.waitForFunction(() => (window.__fetched || []).some((f) => f.url === "/v1/search") &&
    window.__fetched.filter((f) => f.url === "/v1/search").every((f) => f.done), null, { timeout: 30000 });
  return page.evaluate(() => window.__fetched.filter((f) => f.url === "/v1/search"));
}

// v as it may appear in a JSON text: raw UTF-8, or with non-ASCII escaped.
function carries(text, v) {
  const esc = JSON.stringify(v).slice(1, -1);
  const ascii = esc.replace(/[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  return text.includes(v) || text.includes(esc) || text.includes(ascii) || text.toLowerCase().includes(ascii.toLowerCase());
}

// The policy redacts person.birth_place and person.phone for officers, and
// the low user's clearance keeps strictly confidential sources away: none of
// those values reaches the page or any network response — the streamed
// search answer included, read whole in the page.
test("redacted_fields_absent", async () => {
  const forbidden = JSON.parse(process.env.FOCAL_FORBIDDEN || "[]");
  const redacted = JSON.parse(process.env.FOCAL_REDACTED || "[]");
  check(forbidden.length && redacted.length, "no forbidden values given");
  for (const who of ["low", "main"]) {
    const page = await newPage("terminal", {}, who);
    const bodies = [];
    page.on("response", async (r) => { try { bodies.push(await r.text()); } catch { /* the stream: see captureFetch */ } });
    await captureFetch(page);
    await open(page, "/");
    await login(page, who);
    // the low user's clearance keeps the wanted file (the armed suspect) away
    await searchPlate(page, PLATE, { expectAlert: who === "main" });
    if (who === "main") await assertAlertFirst(page);
    check((await page.textContent("#entities")).includes("1ABC123"), `${who}: the vehicle card is missing`);
    const search = await searchBodies(page);
    check(search.length === 1 && search[0].status === 200 && search[0].type.startsWith("text/event-stream"),
      `${who}: the search answer was not captured: ${JSON.stringify(search.map((x) => [x.status, x.type, x.error]))}`);
    const stream = search[0].text;
    // not vacuous: the answer is whole and carries what the page shows
    check(/(^|\n)event: briefing\n/.test(stream) && stream.includes("1ABC123"), `${who}: the captured search answer is incomplete`);
    const text = await page.content();
    for (const f of who === "low" ? forbidden : redacted) {
      check(!text.includes(f), `${who}: the page shows the redacted value ${f}`);
      check(!carries(stream, f), `${who}: the search stream carries the redacted value ${f}`);
      check(!bodies.some((b) => carries(b, f)), `${who}: a network response carries the redacted value ${f}`);
    }
    await page.context().close();
  }
});

// No alert while sources were left out: the briefing does not just say "No
// warnings" but how many sources were not searched and why.  A plate nobody
// knows, searched without purpose nor reference: only the not-sensitive
// sources answer (demo/policy.yaml's purpose binding).
test("no_warnings_names_sources_not_searched", async () => {
  const page = await newPage("terminal", {}, "main");
  await open(page, "/");
  await login(page);
  await searchPlate(page, "9-ZZZ-998", { expectAlert: false, purpose: false });
  check(await page.textContent("#search-error") === "", `the search was refused: ${await page.textContent("#search-error")}`);
  const said = await page.textContent("#no-warnings");
  check(/^No warnings from the sources searched — \d+ sources? not searched: purpose and case reference needed/.test(said),
    `no-warning line: ${said}`);
  check(await page.locator("#alerts .alert").count() === 0, "an alert for an unknown plate");
  await axe(page, "no warnings, sources not searched");
  await noCspViolations(page);
  await page.context().close();
});

// Purpose binding's justification prompt (FOCAL_MODE=justify: the policy asks
// for a justification on every sensitive search, one_in: 1).  The server
// answers 428; the app asks for the justification with the server's reason,
// the focus in the field; the officer types it and the same search goes
// again with it; the alert comes first.
test("justification_prompt", async () => {
  const why = "Driver fled a traffic stop, checking the vehicle before approaching";
  for (const size of ["terminal", "phone"]) {
    const page = await newPage(size, {}, "main");
    const sent = [];
    page.on("request", (r) => { if (new URL(r.url()).pathname === "/v1/search") sent.push(JSON.parse(r.postData())); });
    await open(page, "/");
    await login(page);
    await page.fill("#q", PLATE);
    if (!(await page.isVisible("#purpose"))) await page.click("#purpose-box summary");
    await page.selectOption("#purpose", "intervention");
    await page.fill("#case_ref", "TEST-WEB-J");
    await page.press("#case_ref", "Enter");
    await page.waitForSelector("#justify-form:not([hidden])", { timeout: 20000 });
    check(await page.evaluate(() => document.activeElement.id === "justification"), "the focus is not in the justification field");
    const reason = await page.textContent("#justify-reason");
    check(/justification/i.test(reason) && /10 characters/.test(reason), `the server's reason is not shown: ${reason}`);
    check(await page.locator("#alerts .alert").count() === 0, "an alert before the justification");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(outline !== "none", "the focused justification field has no visible outline");
    await axe(page, `justification prompt ${size}`);
    if (size === "phone") {
      // Cancel (Escape) sends nothing and gives the search box back; the same
      // search asked again is prompted again
      await page.keyboard.press("Escape");
      check(await page.isHidden("#justify-form") && await focusedIs(page, "#q"), "Escape does not cancel the prompt");
      check(/cancelled/.test(await page.textContent("#progress")), "no word that the search was not made");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#justify-form:not([hidden])", { timeout: 20000 });
      check(sent.length === 2, `requests after a cancel: ${sent.length}`);
      sent.shift();
    }
    await shot(page, "justify", { keepScroll: true });
    const box = await page.evaluate(() => { const r = document.querySelector("#justify-form").getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, h: window.innerHeight }; });
    check(box.top >= 0 && box.bottom <= box.h + 1, `the prompt is not in view: ${JSON.stringify(box)}`);
    // too short: kept, still asking, nothing sent
    await page.keyboard.type("because");
    await page.keyboard.press("Tab");
    check(await page.evaluate(() => document.activeElement.id === "justify-go"), "Tab does not reach the justification's button");
    await page.keyboard.press("Enter");
    check(await page.isVisible("#justify-form") && sent.length === 1, "a justification under 10 characters was sent");
    await page.fill("#justification", "");
    await page.focus("#justification");
    await page.keyboard.type(why);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#alerts .alert", { timeout: 20000 });
    await searchDone(page);
    await assertAlertFirst(page);
    check(await page.isHidden("#justify-form"), "the justification prompt stays open");
    check(sent.length === 2 && !("justification" in sent[0]) && sent[1].justification === why &&
      sent[1].q === PLATE && sent[1].purpose === "intervention" && sent[1].case_ref === "TEST-WEB-J",
      `requests sent: ${JSON.stringify(sent)}`);
    await noCspViolations(page);
    await page.context().close();
  }
}, { modes: ["justify"] });

async function main() {
  if (!URL0) throw new Error("FOCAL_URL is not set");
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  // auth mode: logins first, logout last (order), else as written
  const run = tests.map((t, i) => ({ ...t, i })).filter((t) => t.modes.includes(MODE))
    .sort((a, b) => (a.order - b.order) || (a.i - b.i));
  for (const t of run) {
    const t0 = Date.now();
    try {
      await t.fn();
      results.passed++;
      console.log(`PASS ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (e) {
      if (e instanceof Skip) {
        results.skipped++;
        console.log(`SKIP ${t.name}: ${e.message}`);
      } else {
        results.failed++;
        console.log(`FAIL ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)}s): ${String(e.message || e).split("\n")[0]}`);
      }
    }
  }
  await browser.close();
  console.log(`web: ${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`);
  process.exit(results.failed ? 1 : 0);
}

main().catch(async (e) => {
  console.log(`FAIL setup: ${e.stack || e}`);
  console.log(`web: ${results.passed} passed, ${results.failed + 1} failed, ${results.skipped} skipped`);
  if (browser) await browser.close().catch(() => null);
  process.exit(1);
});
