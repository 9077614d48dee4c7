// admin: the administration console — accounts (identity module's
// /v1/admin/users), the health of every source (GET /v1/admin/sources, in
// src/http/web.c) and policy validation (policy module's
// POST /v1/admin/policy/validate).  Admin role.

import * as api from "./api.js";
import { boot } from "./shell.js";
import { $, el, clear, announce } from "./dom.js";

const ROLES = ["officer", "admin", "auditor"];

// GET /v1/admin/users answers {users: [{username, name, unit, roles,
// clearance, status: "active"|"disabled", locked, mfa_enrolled, valid_from,
// valid_until, last_used}]} (src/auth/auth_api.c).
function userList(data) {
  return (data && Array.isArray(data.users) && data.users) || [];
}

const disabled = (u) => u.status === "disabled";

function stateText(u) {
  const s = [];
  s.push(disabled(u) ? "disabled" : "active");
  if (u.locked) s.push("locked");
  if (!u.mfa_enrolled) s.push("MFA not set up");
  if (u.valid_until) s.push(`valid until ${u.valid_until.slice(0, 10)}`);
  return s.join(", ");
}

async function act(u, what, method = "POST", body) {
  const res = await api.call(method, `/v1/admin/users/${encodeURIComponent(u.username)}/${what}`, body);
  const ok = res.status >= 200 && res.status < 300;
  const msg = ok ? `${u.username}: ${what.replace("-", " ")} done.` : `${u.username}: ${api.errorText(res)}`;
  $("#users-error").textContent = ok ? "" : msg;
  announce(msg);
  await loadUsers();
  // the table was rebuilt: keep a keyboard user where they were (Disable
  // becomes Enable), rather than back at the top of the page
  const row = $(`#users tbody tr[data-user="${CSS.escape(u.username)}"]`);
  const again = row && (row.querySelector(`[data-action="${what}"]`) ||
    row.querySelector(`[data-action="${what === "disable" ? "enable" : what === "enable" ? "disable" : what}"]`));
  if (again) again.focus();
}

function rolesEditor(u) {
  const box = el("fieldset", { class: "actions" }, el("legend", { class: "visually-hidden", text: `Roles of ${u.username}` }));
  for (const r of ROLES)
    box.append(el("label", {}, el("input", { type: "checkbox", value: r, checked: (u.roles || []).includes(r) }), ` ${r}`));
  box.append(el("button", { type: "button", class: "secondary", text: "Save roles",
    "aria-label": `Save roles of ${u.username}`, "data-action": "roles",
    onclick: () => act(u, "roles", "PUT", { roles: [...box.querySelectorAll("input:checked")].map((i) => i.value) }) }));
  return box;
}

function userRow(u) {
  const btn = (text, what, cls = "secondary") => el("button", { type: "button", class: cls, text,
    "aria-label": `${text} ${u.username}`, "data-action": what, onclick: () => act(u, what) });
  return el("tr", { "data-user": u.username },
    el("td", { text: u.username }),
    el("td", { text: [u.name, u.unit].filter(Boolean).join(" · ") }),
    el("td", {}, rolesEditor(u)),
    el("td", { text: (u.clearance || "").replace(/_/g, " ") }),
    el("td", { text: stateText(u) }),
    el("td", {}, el("div", { class: "actions" },
      disabled(u) ? btn("Enable", "enable") : btn("Disable", "disable"),
      btn("Unlock", "unlock"),
      el("button", { type: "button", class: "danger", text: "Reset MFA", "aria-label": `Reset MFA of ${u.username}`,
        "data-action": "reset-mfa",
        onclick: () => { if (window.confirm(`Reset the authenticator of ${u.username}? They enrol again at the next login.`)) act(u, "reset-mfa"); } }))));
}

async function loadUsers() {
  const res = await api.call("GET", "/v1/admin/users");
  const body = clear($("#users tbody"));
  if (res.status !== 200) {
    $("#users-error").textContent = api.errorText(res, "Cannot list the users.");
    return;
  }
  for (const u of userList(res.data)) body.append(userRow(u));
}

async function addUser(ev) {
  ev.preventDefault();
  const f = ev.target;
  const body = { username: f.username.value.trim(), name: f.name.value.trim(), unit: f.unit.value.trim(),
    clearance: f.clearance.value, roles: [...f.querySelectorAll("input[name=roles]:checked")].map((i) => i.value) };
  if (f.password.value) body.password = f.password.value;
  f.password.value = "";
  const res = await api.call("POST", "/v1/admin/users", body);
  const out = clear($("#add-user-result"));
  if (res.status >= 200 && res.status < 300) {
    out.append(el("span", { text: `User ${body.username} added.` }),
      body.password ? null : el("span", { text: " No password yet: set one with focal user passwd." }));
    f.reset();
    await loadUsers();
  } else {
    out.append(el("span", { class: "error", text: api.errorText(res, "The user was not added.") }));
  }
}

const num = (v, digits = 0) => el("td", { class: "num", text: typeof v === "number" ? v.toFixed(digits) : "" });

async function loadSources() {
  const res = await api.call("GET", "/v1/admin/sources");
  const body = clear($("#sources tbody"));
  $("#sources-error").textContent = res.status === 200 ? "" : api.errorText(res, "Cannot read the sources.");
  if (res.status !== 200) return;
  for (const s of res.data.sources || []) {
    const c = s.calls || {};
    body.append(el("tr", { "data-source": s.name },
      el("th", { scope: "row", text: s.name }),
      el("td", { text: s.kind }),
      el("td", {}, el("span", { class: `pill ${s.circuit_open ? "st-bad" : "st-ok"}`, text: s.circuit_open ? "open" : "closed" })),
      num(c.ok + (c.truncated || 0)), num(c.timeout), num(c.error + (c.unavailable || 0)),
      num(s.latency_count ? s.latency_mean_ms : undefined, 1), num(s.latency_count ? s.latency_p95_ms : undefined),
      el("td", { text: s.owner })));
  }
}

// Shows the policy module's answer: valid, or errors with line:column.
function showPolicy(res) {
  const out = clear($("#policy-result"));
  const d = res.data || {};
  const errors = d.errors || (d.error ? [d.error] : []);
  if (res.status !== 200)
    return out.append(el("p", { class: "error", text: api.errorText(res, "The policy could not be checked.") }));
  if (d.valid === true && !errors.length)
    return out.append(el("p", { class: "st-ok", text: "The policy is valid." }));
  const more = (d.total || 0) > errors.length ? ` (the first ${errors.length} of ${d.total} shown)` : "";
  out.append(el("p", { class: "error", text: `The policy has ${errors.length === 1 ? "an error" : errors.length + " errors"}${more}:` }),
    el("ul", { id: "policy-errors" }, errors.map((e) => el("li", {},
      e.line ? el("strong", { text: `line ${e.line}${e.column ? ":" + e.column : ""} ` }) : null,
      e.message || String(e)))));
}

async function validatePolicy(ev) {
  ev.preventDefault();
  const file = $("#policy-file").files[0];
  const text = file ? await file.text() : $("#policy-text").value;
  if (file) $("#policy-text").value = text;
  const res = await api.call("POST", "/v1/admin/policy/validate", { policy: text });
  showPolicy(res);
}

boot({
  title: "Focal administration",
  requiredRole: "admin",
  onReady() {
    $("#add-user").addEventListener("submit", addUser);
    $("#sources-refresh").addEventListener("click", loadSources);
    $("#policy-form").addEventListener("submit", validatePolicy);
    loadUsers();
    loadSources();
  },
});
