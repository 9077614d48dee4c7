// oversight: the audit console — who looked up whom (identity, plate, user,
// time window), exports of the same query as CSV or JSON lines, and the
// verification of the log against its newest signed checkpoint.  Auditor
// role; endpoints of the audit module (GET /v1/audit/lookups,
// GET /v1/audit/status; src/audit/audit_api.c).

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
    if (form[k].value) p.set(k, new Date(form[k].value).toISOString().replace(/\.\d{3}Z$/, "Z"));
  return p;
}

// {rows: [{seq, ts, type, user, unit, device, addr, purpose, case_ref,
// query, match, search}], count, truncated}
function rows(data) {
  return (data && Array.isArray(data.rows) && data.rows) || [];
}

function cell(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function table(list) {
  const preferred = ["ts", "user", "unit", "type", "purpose", "case_ref", "query", "match", "device", "addr", "seq"];
  const keys = [];
  for (const k of preferred) if (list.some((r) => k in r)) keys.push(k);
  for (const r of list) for (const k of Object.keys(r)) if (!keys.includes(k) && keys.length < 12) keys.push(k);
  return el("table", { class: "data", id: "audit-table" },
    el("caption", { text: `${list.length} lookup(s)` }),
    el("thead", {}, el("tr", {}, keys.map((k) => el("th", { scope: "col", text: k.replace(/_/g, " ") })))),
    el("tbody", {}, list.map((r) => el("tr", {}, keys.map((k) =>
      el("td", { text: k === "ts" ? fmtTime(r[k]) : cell(r[k]) }))))));
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
    err.textContent = api.errorText(res, "The audit search failed.");
    $("#exports").hidden = true;
    return;
  }
  const list = rows(res.data);
  out.append(table(list));
  if (res.data && res.data.truncated) out.append(el("p", { class: "note", text: "Only the first rows are shown: narrow the search." }));
  for (const f of ["csv", "jsonl"]) {
    const q = new URLSearchParams(p);
    q.set("format", f);
    $(`#export-${f}`).href = `/v1/audit/lookups?${q}`;
  }
  $("#exports").hidden = false;
  announce(`${list.length} lookup(s) found.`);
}

// GET /v1/audit/status?full=1: focald verifies the whole log against its
// newest signed checkpoint (full=1: not only what was appended since the last
// check) and says whether its writer is healthy.
async function verify() {
  const out = clear($("#verify-result"));
  out.append(el("p", { text: "Verifying…" }));
  const res = await api.call("GET", "/v1/audit/status?full=1");
  clear(out);
  const d = res.data || {};
  if (res.status !== 200) return out.append(el("p", { class: "error", text: api.errorText(res, "The log cannot be checked.") }));
  const ok = d.ok === true && d.writer_healthy === true;
  const facts = [["Writer", d.writer_healthy ? "healthy" : "NOT healthy"], ["Entries", d.entries],
    ["Signed checkpoints", d.checkpoints], ["Entries not yet signed", d.unsigned_entries],
    ["Verification", d.verification === "full" ? "whole log" : "new entries only"]];
  if (d.checkpoint) facts.push(["Newest checkpoint: entries", d.checkpoint.size],
    ["Newest checkpoint: time", fmtTime(d.checkpoint.time)], ["Newest checkpoint: root", d.checkpoint.root]);
  if (d.error) facts.push(["Problem", d.error]);
  out.append(el("p", { class: ok ? "st-ok" : "error", id: "verify-verdict",
    text: ok ? "The log is intact." : `The log does NOT verify${d.ok ? " (its writer has stopped)" : ""}.` }),
    el("dl", {}, facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { class: k.endsWith("root") ? "uri" : null, text: String(v ?? "") })])));
  announce(ok ? "The log is intact." : "The log does not verify.");
}

boot({
  title: "Focal oversight",
  requiredRole: "auditor",
  onReady() {
    $("#audit-form").addEventListener("submit", search);
    $("#verify").addEventListener("click", verify);
  },
});
