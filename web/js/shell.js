// shell: what the officer app and both consoles share — login with password
// and TOTP, first-login MFA enrolment, the idle lock, logout, theme.
//
// The page's data lives only in this document's memory.  Logout (and a
// session that ends) replaces the document, which is the one sure way to drop
// every rendered answer; pages are served no-store, so neither the HTTP cache
// nor the back/forward cache keeps a copy.

import * as api from "./api.js";
import { $, el, clear, initTheme, announce } from "./dom.js";

const S = { session: null, idleMs: 5 * 60 * 1000, timer: null, locked: false, page: null };

// focald runs with --dev-insecure-no-auth: GET /v1/auth/session answers the
// development principal with "dev": true (never otherwise), and every call
// without credentials runs as it.  The page says so plainly.
const DEV_NOTE =
  "Development mode: this focald runs without login (--dev-insecure-no-auth). " +
  "Never use it with real data.";

// page: {title, requiredRole, onReady(session), onLock(), onUnlock()}
export async function boot(page) {
  S.page = page;
  initTheme($("#theme"));
  $("#logout").addEventListener("click", () => logout());
  $("#lock-btn").addEventListener("click", () => lock(true));
  api.onUnauthorized(() => { if (S.session && !S.session.dev) ended(); });
  if (new URLSearchParams(location.search).has("ended")) {
    history.replaceState(null, "", location.pathname);
    S.endedNote = "Your session ended. Log in again.";
  }
  try {
    const st = await api.call("GET", "/v1/web/settings", undefined, { quiet401: true });
    if (st.status === 200 && st.data && st.data.idle_lock_s > 0) S.idleMs = st.data.idle_lock_s * 1000;
    if (st.status === 200 && st.data && page.onSettings) page.onSettings(st.data);
  } catch { /* defaults */ }
  let res;
  try {
    res = await api.call("GET", "/v1/auth/session", undefined, { quiet401: true });
  } catch {
    res = { status: 0 };
  }
  if (res.status === 200 && res.data && res.data.user) start(res.data);
  else showLogin();
}

function loginView() {
  const v = $("#login-view");
  clear(v).hidden = false;
  $("#app-main").hidden = true;
  return v;
}

function field(id, label, attrs) {
  return el("div", {}, el("label", { for: id, text: label }), el("input", { id, name: id, ...attrs }));
}

function totpAttrs() {
  return { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6,
    required: true, "aria-describedby": "totp-help" };
}

function showLogin({ message = "" } = {}) {
  const v = loginView();
  const err = el("p", { class: "error", id: "login-error", role: "alert" });
  const form = el("form", { class: "login", id: "login-form", novalidate: false },
    el("h2", { text: `Log in to ${S.page.title}` }),
    S.endedNote ? el("p", { class: "note", text: S.endedNote }) : null,
    field("username", "Username", { autocomplete: "username", required: true, autocapitalize: "none",
      spellcheck: "false" }),
    field("password", "Password", { type: "password", autocomplete: "current-password", required: true }),
    field("totp", "Authenticator code", totpAttrs()),
    el("p", { class: "note", id: "totp-help", text: "Six digits from your authenticator app." }),
    err,
    el("button", { type: "submit", text: "Log in" }));
  v.append(form);
  if (message) err.textContent = message;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { username: form.username.value.trim(), password: form.password.value,
      totp: form.totp.value.trim() };
    form.password.value = "";
    form.totp.value = "";
    err.textContent = "";
    const res = await api.call("POST", "/v1/auth/login", body, { quiet401: true }).catch(() => ({ status: 0 }));
    body.password = "";
    if (res.status === 200 && res.data && res.data.status === "mfa_enrolment") return showEnrolment(res.data);
    if (res.status === 200 && res.data && res.data.status === "ok") return start(res.data);
    err.textContent = loginError(res);
    form.password.focus();
  });
  form.username.focus();
}

function loginError(res) {
  if (res.status === 401 || res.status === 403) return "Wrong username, password or code.";
  if (res.status === 429) return "Too many attempts. Wait a moment, then try again.";
  if (res.status === 404) return "This server has no login service.";
  if (res.status === 0) return "The server cannot be reached.";
  return api.errorText(res, "Login failed.");
}

function showEnrolment(d) {
  const v = loginView();
  const err = el("p", { class: "error", role: "alert" });
  const qrOk = typeof d.qr_png === "string" && d.qr_png.startsWith("data:image/png;base64,");
  const form = el("form", { class: "login", id: "enrol-form" },
    el("h2", { text: "Set up your authenticator" }),
    el("p", { text: "Scan this code with your authenticator app, then type the six digits it shows." }),
    qrOk ? el("img", { class: "qr", id: "enrol-qr", src: d.qr_png, alt: "QR code to add Focal to an authenticator app" }) : null,
    el("p", { class: "note", text: "Cannot scan? Enter this address in the app:" }),
    el("p", { class: "uri", id: "enrol-uri", text: d.otpauth_uri || "" }),
    field("totp", "Authenticator code", totpAttrs()),
    el("p", { class: "note", id: "totp-help", text: "Six digits from your authenticator app." }),
    err, el("button", { type: "submit", text: "Confirm" }));
  v.append(form);
  form.totp.focus();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const totp = form.totp.value.trim();
    form.totp.value = "";
    const res = await api.call("POST", "/v1/auth/mfa/enrol", { enrolment_token: d.enrolment_token, totp },
      { quiet401: true }).catch(() => ({ status: 0 }));
    if (res.status === 200 && res.data && res.data.status !== "mfa_enrolment" && res.data.user) {
      if (Array.isArray(res.data.recovery_codes) && res.data.recovery_codes.length) return showRecovery(res.data);
      return start(res.data);
    }
    err.textContent = res.status === 401 ? "That code is not right. Try the next one." : loginError(res);
    form.totp.focus();
  });
}

function showRecovery(d) {
  const v = loginView();
  const box = el("div", { class: "login", id: "recovery" },
    el("h2", { text: "Your recovery codes" }),
    el("p", { text: "Write these down and keep them apart from your phone. Each works once if you lose your authenticator. They are shown only now." }),
    el("ul", { class: "codes" }, d.recovery_codes.map((c) => el("li", { text: c }))),
    el("button", { type: "button", id: "recovery-done", text: "I have written them down",
      onclick: () => { d.recovery_codes = null; start(d); } }));
  v.append(box);
  $("#recovery-done").focus();
}

function start(session) {
  S.session = session;
  api.setCsrf(session.csrf_token);
  const u = session.user || {};
  const roles = u.roles || [];
  $("#login-view").hidden = true;
  clear($("#login-view"));
  const main = $("#app-main");
  main.hidden = false;
  $("#who").textContent = session.dev ? "development mode, no login" : `${u.name || u.username}${u.unit ? " · " + u.unit : ""}`;
  // in development mode there is no session to end
  $("#logout").hidden = !!session.dev;
  $("#lock-btn").hidden = false;
  if (session.idle_timeout_s > 0) S.idleMs = Math.min(S.idleMs, session.idle_timeout_s * 1000);
  expireAt(session.expires_at);
  if (S.page.requiredRole && !roles.includes(S.page.requiredRole)) {
    clear(main).append(el("p", { class: "error", role: "alert",
      text: `This console needs the ${S.page.requiredRole} role, which your account does not have.` }));
    return;
  }
  showViews(session);
  watchIdle();
  S.page.onReady(session);
}

// Links to the other screens this user may use (the server checks anyway).
const VIEWS = [["/", "Search", "officer"], ["/admin/", "Admin", "admin"],
  ["/oversight/", "Oversight", "auditor"]];

function showViews(session) {
  const nav = $("#views");
  if (!nav) return;
  const roles = (session.user && session.user.roles) || [];
  clear(nav);
  for (const [href, text, role] of VIEWS) {
    if (!roles.includes(role)) continue;
    nav.append(el("a", { class: "button secondary", href, text,
      "aria-current": location.pathname === href ? "page" : null }));
  }
}

// When the session's absolute lifetime ends, the page drops its data at once
// rather than at the next request's 401.
function expireAt(when) {
  clearTimeout(S.expiry);
  const ms = Date.parse(when || "") - Date.now();
  if (ms > 0 && ms < 2 ** 31 - 1) S.expiry = setTimeout(ended, ms);
}

// --- idle lock ------------------------------------------------------------
function bump() {
  if (S.locked || !S.session) return;
  clearTimeout(S.timer);
  S.timer = setTimeout(lock, S.idleMs);
}

function watchIdle() {
  for (const t of ["pointerdown", "keydown", "wheel", "touchstart", "input"])
    document.addEventListener(t, bump, { passive: true, capture: true });
  bump();
}

// byUser: the Lock button (else the idle timer, which passes nothing)
export function lock(byUser = false) {
  if (!S.session || S.locked) return;
  S.locked = true;
  clearTimeout(S.timer);
  document.body.classList.add("locked");
  // everything behind the lock screen is out of reach of Tab and screen readers
  for (const sel of ["#app-main", "#app-header", "a.skip"]) $(sel).inert = true;
  const v = $("#lock-view");
  clear(v).hidden = false;
  const u = S.session.user || {};
  const err = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "login", id: "unlock-form" },
    el("h2", { text: "Locked" }),
    el("p", { text: `${byUser === true ? "Focal is locked." : "Focal locked itself after a period without use."} Log in again to go on.` }),
    S.session.dev ? el("p", { class: "note", text: DEV_NOTE }) : [
      el("p", { text: `User: ${u.username || ""}` }),
      field("unlock-password", "Password", { type: "password", autocomplete: "current-password", required: true }),
      field("totp", "Authenticator code", totpAttrs()),
      el("p", { class: "note", id: "totp-help", text: "Six digits from your authenticator app." }),
    ],
    err,
    el("button", { type: "submit", text: "Unlock" }),
    el("button", { type: "button", class: "secondary", text: "Log out", onclick: () => logout() }));
  v.append(form);
  if (S.page.onLock) S.page.onLock();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (S.session.dev) return unlock(S.session);
    const body = { username: u.username, password: form["unlock-password"].value, totp: form.totp.value.trim() };
    form["unlock-password"].value = "";
    form.totp.value = "";
    const res = await api.call("POST", "/v1/auth/login", body, { quiet401: true }).catch(() => ({ status: 0 }));
    body.password = "";
    if (res.status === 200 && res.data && res.data.status === "ok" && res.data.user &&
        res.data.user.username === u.username) return unlock(res.data);
    err.textContent = loginError(res);
  });
  (form.querySelector("input") || form.querySelector("button")).focus();
  announce("Focal is locked.");
}

function unlock(session) {
  S.session = { ...S.session, ...session };
  api.setCsrf(S.session.csrf_token);
  expireAt(S.session.expires_at);
  S.locked = false;
  clear($("#lock-view")).hidden = true;
  document.body.classList.remove("locked");
  for (const sel of ["#app-main", "#app-header", "a.skip"]) $(sel).inert = false;
  if (S.page.onUnlock) S.page.onUnlock();
  bump();
}

// --- logout ---------------------------------------------------------------
export async function logout() {
  try {
    if (S.session && !S.session.dev) await api.call("POST", "/v1/auth/logout", undefined, { quiet401: true });
  } finally {
    wipe("");
  }
}

function ended() { wipe("?ended=1"); }

// Drops everything this document holds and loads a fresh one.
function wipe(hash) {
  S.session = null;
  api.setCsrf(null);
  clearTimeout(S.timer);
  clear($("#app-main"));
  if (S.page && S.page.onClear) S.page.onClear();
  location.replace(location.pathname + hash);
}

export function session() { return S.session; }
