// oversight: the audit console — who looked up whom (identity, plate, user,
// time window), exports of the same query as CSV or JSON lines, and the
// verification of the log's hash chain.  Auditor role; endpoints of the audit
// module (GET /v1/audit/lookups, GET /v1/audit/verify).

import * as api from "./api.js";
import { boot } from "./shell.js";
import { $, el, clear, announce, fmtTime } from "./dom.js";

function query(form) {
  const p = new URLSearchParams();
  const subject = form.subject.value.trim();
  const user = form.user.value.trim();
  if (subject) p.set("subject", subject);
  if (user) p.set("user", user);
  for (const k of ["from", "to"])
    if (form[k].value) p.set(k, new Date(form[k].value).toISOString());
  return p;
}

function rows(data) {
  if (Array.isArray(data)) return data;
  return (data && (data.lookups || data.entries || data.items)) || [];
}

function cell(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function table(list) {
  const preferred = ["time", "ts", "user", "unit", "purpose", "case_ref", "query", "q", "subject", "results", "alerts", "decision", "addr"];
  const keys = [];
  for (const k of preferred) if (list.some((r) => k in r)) keys.push(k);
  for (const r of list) for (const k of Object.keys(r)) if (!keys.includes(k) && keys.length < 12) keys.push(k);
  return el("table", { class: "data", id: "audit-table" },
    el("caption", { text: `${list.length} lookup(s)` }),
    el("thead", {}, el("tr", {}, keys.map((k) => el("th", { scope: "col", text: k.replace(/_/g, " ") })))),
    el("tbody", {}, list.map((r) => el("tr", {}, keys.map((k) =>
      el("td", { text: k === "time" || k === "ts" ? fmtTime(r[k]) : cell(r[k]) }))))));
}

async function search(ev) {
  ev.preventDefault();
  const form = ev.target;
  const p = query(form);
  const err = $("#audit-error");
  err.textContent = "";
  if (!p.has("subject") && !p.has("user")) {
    err.textContent = "Give a subject or a user.";
    return form.subject.focus();
  }
  const res = await api.call("GET", `/v1/audit/lookups?${p}`);
  const out = clear($("#audit-results"));
  if (res.status !== 200) {
    err.textContent = res.status === 404 ? "The audit log is not available on this server." : api.errorText(res, "The audit search failed.");
    $("#exports").hidden = true;
    return;
  }
  const list = rows(res.data);
  out.append(table(list));
  for (const f of ["csv", "jsonl"]) {
    const q = new URLSearchParams(p);
    q.set("format", f);
    $(`#export-${f}`).href = `/v1/audit/lookups?${q}`;
  }
  $("#exports").hidden = false;
  announce(`${list.length} lookup(s) found.`);
}

async function verify() {
  const out = clear($("#verify-result"));
  out.append(el("p", { text: "Verifying…" }));
  const res = await api.call("GET", "/v1/audit/verify");
  clear(out);
  if (res.status === 404) return out.append(el("p", { class: "error", text: "The audit log is not available on this server." }));
  const d = res.data || {};
  const ok = res.status === 200 && (d.ok === true || d.status === "ok" || d.valid === true);
  out.append(el("p", { class: ok ? "st-ok" : "error", text: ok ? "The log is intact." : `The log does NOT verify: ${api.errorText(res, d.message || d.status || "")}` }),
    el("dl", {}, Object.entries(d).filter(([, v]) => typeof v !== "object").map(([k, v]) =>
      [el("dt", { text: k.replace(/_/g, " ") }), el("dd", { text: String(v) })])));
}

boot({
  title: "Focal oversight",
  requiredRole: "auditor",
  onReady() {
    $("#audit-form").addEventListener("submit", search);
    $("#verify").addEventListener("click", verify);
  },
});
