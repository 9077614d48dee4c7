// officer: the search screen.  One box; the answer streams in (alerts the
// moment any source yields one, a status line per source, then the merged
// briefing).  Alerts are pinned first, in high contrast, with the officer
// instruction; merged entities are cards whose every fact names its sources.
// The JSON shapes are those of docs/briefing.md.

import * as api from "./api.js";
import { boot } from "./shell.js";
import { $, el, clear, announce } from "./dom.js";

const RANK = {
  armed_dangerous: "Armed and dangerous",
  wanted: "Wanted",
  violence_against_police: "Violence against police",
  vulnerable_missing: "Vulnerable or missing person",
  other: "Warning",
};
const RANK_ORDER = ["armed_dangerous", "wanted", "violence_against_police", "vulnerable_missing", "other"];
const RELATION = { owns: "owns", owned_by: "owned by", holds: "holds", held_by: "held by",
  involved_in: "involved in", involves: "involves" };
const STATUS_OK = new Set(["ok", "truncated"]);

let current = null; // {abort, alerts: Map, sources: []}

function label(field) {
  return field.replace(/_/g, " ");
}

function alertKey(a) {
  return JSON.stringify([a.source, a.fields]);
}

function alertCard(a, entityLabels) {
  const f = a.fields || {};
  const who = [];
  for (const id of a.concerns || []) if (entityLabels[id]) who.push(entityLabels[id]);
  const maybe = (a.possibly_concerns || []).map((id) => entityLabels[id]).filter(Boolean);
  const subject = f.subject_name || f.subject_national_number || f.plate || f.serial || "";
  return el("article", { class: "alert", "data-rank": a.rank || "other" },
    el("h3", { text: RANK[a.rank] || RANK.other }),
    f.instruction ? el("p", { class: "instruction", text: f.instruction }) : null,
    f.category ? el("p", { text: f.category }) : null,
    f.reason ? el("p", { text: f.reason }) : null,
    el("p", { class: "meta" },
      who.length ? el("span", { text: `Concerns: ${who.join("; ")}` })
        : subject ? el("span", { text: `Subject: ${subject}${f.subject_birth_date ? ", " + f.subject_birth_date : ""}` }) : null,
      maybe.length ? el("span", { text: `May concern: ${maybe.join("; ")}` }) : null,
      f.reference ? el("span", { text: `Ref. ${f.reference}` }) : null,
      el("span", { text: `Source: ${a.source}` })));
}

function renderAlerts(list, entityLabels = {}) {
  const box = $("#alerts");
  clear(box);
  // the same warning reached twice (directly and through a linked hop) is shown once
  const seen = new Set();
  list = list.filter((a) => { const k = alertKey(a); if (seen.has(k)) return false; seen.add(k); return true; });
  const sorted = [...list].sort((x, y) => RANK_ORDER.indexOf(x.rank) - RANK_ORDER.indexOf(y.rank));
  if (sorted.length) box.append(el("h2", { class: "visually-hidden", text: `${sorted.length} warning(s)` }));
  for (const a of sorted) box.append(alertCard(a, entityLabels));
}

function factsTable(e) {
  const rows = [];
  for (const [field, values] of Object.entries(e.facts || {})) {
    const conflict = (e.conflicts || []).includes(field);
    rows.push(el("tr", {},
      el("th", { scope: "row", text: label(field) }),
      el("td", {}, values.map((v) => el("div", {},
        v.value,
        (v.sources || []).map((s) => el("span", { class: "src", title: `given by ${s}`, text: s })),
        conflict || v.conflict ? el("span", { class: "conflict", text: " conflict" }) : null)))));
  }
  return el("table", { class: "facts" }, el("caption", { class: "visually-hidden", text: `Facts about ${e.label}` }),
    el("tbody", {}, rows));
}

function entityCard(e, labels, possible) {
  const hasAlert = (e.alerts || []).length > 0;
  const related = (e.related || []).map((r) =>
    el("li", { text: `${RELATION[r.relation] || r.relation} ${labels[r.entity] || r.entity}` }));
  const mayBe = (e.may_be || []).map((m) =>
    el("li", { text: `may be ${labels[m.entity] || m.entity}: ${m.explanation || m.reason}` }));
  return el("article", { class: `card${hasAlert ? " has-alert" : ""}${possible ? " possible" : ""}`, id: `entity-${e.id}` },
    el("p", { class: "type", text: e.type }),
    el("h3", { text: e.label || e.id }),
    hasAlert ? el("p", { class: "conflict", text: `${e.alerts.length} warning(s) above concern this ${e.type}` }) : null,
    (e.possible_alerts || []).length ? el("p", { class: "conflict", text: "A warning above may concern this one" }) : null,
    factsTable(e),
    related.length ? el("ul", {}, related) : null,
    mayBe.length ? el("ul", {}, mayBe) : null,
    el("p", { class: "note", text: `Sources: ${(e.sources || []).join(", ")}` }));
}

function renderStatus(sources, final) {
  const ok = sources.filter((s) => STATUS_OK.has(s.status)).length;
  const bad = sources.filter((s) => !STATUS_OK.has(s.status) && s.status !== "skipped");
  const d = $("#status");
  d.hidden = sources.length === 0;
  $("#status-summary").textContent = `${ok} of ${sources.length} source answers received${bad.length ? `, ${bad.length} failed` : ""}${final ? "" : " (searching…)"}`;
  const ul = clear($("#status-list"));
  for (const s of sources) {
    const cls = STATUS_OK.has(s.status) ? "st-ok" : s.status === "skipped" ? "st-other" : "st-bad";
    ul.append(el("li", { "data-source": s.name },
      el("span", { class: cls, text: s.status }), ` ${s.name}`,
      s.hop ? ` (via ${s.hop.via})` : "",
      typeof s.ms === "number" ? ` · ${Math.round(s.ms)} ms` : "",
      s.reason ? ` · ${s.reason}` : ""));
  }
}

// What the policy's reasons mean to an officer (docs/policy.md); a deny
// rule's own reason word is shown as written.
const DENIED = { clearance: "above your clearance", not_permitted: "not permitted by the access policy",
  no_policy: "no access policy loaded" };
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function neededText(required) {
  const words = (required || ["purpose", "case_ref"]).map((r) => (r === "case_ref" ? "case reference" : r));
  return `${words.join(" and ")} needed`;
}

// "No warnings" only when every source that could answer was searched and
// answered; otherwise say what was left out, so that silence is never read as
// "nothing known" (the CLI says the same: src/cli/render.c).
function noWarningsText(b) {
  const sum = b.summary || {};
  const parts = [];
  for (const d of (b.policy && b.policy.denied) || []) {
    const why = d.reason === "needs_purpose" ? neededText(d.required) : DENIED[d.reason] || String(d.reason || "").replace(/_/g, " ");
    parts.push(`${plural(d.source_count, "source", "sources")} not searched: ${why}`);
  }
  if (sum.calls_failed > 0) parts.push(`${plural(sum.calls_failed, "source answer", "source answers")} failed`);
  if (sum.sources_not_searched > 0)
    parts.push(`${plural(sum.sources_not_searched, "source", "sources")} not searched: ${sum.not_searched_reason || "not asked"}`);
  return parts.length ? `No warnings from the sources searched — ${parts.join("; ")}.` : "No warnings.";
}

function renderBriefing(b) {
  const labels = {};
  for (const e of [...(b.entities || []), ...(b.possible_matches || [])]) labels[e.id] = e.label || e.id;
  renderAlerts(b.alerts || [], labels);
  if (!(b.alerts || []).length) $("#alerts").append(el("p", { class: "no-warnings", id: "no-warnings", text: noWarningsText(b) }));
  const ents = clear($("#entities"));
  for (const e of b.entities || []) ents.append(entityCard(e, labels, false));
  $("#entities-box").hidden = !(b.entities || []).length;
  const pos = clear($("#possible"));
  for (const e of b.possible_matches || []) pos.append(entityCard(e, labels, true));
  $("#possible-box").hidden = !(b.possible_matches || []).length;
  renderStatus(b.sources || [], true);
  const n = (b.entities || []).length;
  $("#progress").textContent = `${(b.alerts || []).length} warning(s), ${n} result(s)` +
    `${(b.possible_matches || []).length ? `, ${b.possible_matches.length} possible match(es)` : ""}` +
    ` in ${Math.round(b.elapsed_ms || 0)} ms.`;
  announce($("#progress").textContent);
}

function resetResults() {
  clear($("#alerts"));
  clear($("#entities"));
  clear($("#possible"));
  clear($("#status-list"));
  $("#entities-box").hidden = true;
  $("#possible-box").hidden = true;
  $("#status").hidden = true;
  $("#progress").textContent = "";
  $("#search-error").textContent = "";
}

async function search(ev) {
  ev.preventDefault();
  const form = $("#search-form");
  const q = form.q.value.trim();
  if (!q) return form.q.focus();
  const body = { q };
  if (form.purpose.value) body.purpose = form.purpose.value;
  if (form.case_ref.value.trim()) body.case_ref = form.case_ref.value.trim();
  await runSearch(body);
}

// Sends one search and renders its stream; body as the API takes it
// (docs/api/openapi.yaml, SearchRequest).
async function runSearch(body) {
  if (current) current.abort.abort();
  hideJustify();
  resetResults();
  const run = current = { abort: new AbortController(), alerts: new Map(), sources: [] };
  $("#results").setAttribute("aria-busy", "true");
  $("#progress").textContent = "Searching…";
  try {
    const res = await api.searchStream(body, (name, data) => {
      if (run !== current) return;
      if (name === "alert") {
        const k = alertKey(data);
        if (!run.alerts.has(k)) {
          run.alerts.set(k, data);
          renderAlerts([...run.alerts.values()]);
          // on a phone the form fills the screen: bring the first warning into view
          if (run.alerts.size === 1) {
            const r = $("#alerts").getBoundingClientRect();
            if (r.top < 0 || r.top > window.innerHeight / 2) $("#alerts").scrollIntoView({ block: "start" });
          }
          const f = data.fields || {};
          announce(`Warning: ${RANK[data.rank] || RANK.other}. ${f.instruction || f.category || ""}`, true);
        }
      } else if (name === "source") {
        run.sources.push(data);
        renderStatus(run.sources, false);
      } else if (name === "briefing") {
        renderBriefing(data);
      } else if (name === "error") {
        $("#search-error").textContent = data.message || "The search failed.";
      }
    }, run.abort.signal);
    if (res.status === 428 && run === current) showJustify(body, res);
    else if (res.status !== 200 && run === current) showRefusal(res);
  } catch (e) {
    if (e.name !== "AbortError" && run === current) $("#search-error").textContent = "The search failed: the server cannot be reached.";
  } finally {
    if (run === current) $("#results").setAttribute("aria-busy", "false");
  }
}

// A refused search: when the policy wants a purpose or a reference, point at them.
function showRefusal(res) {
  $("#progress").textContent = "";
  const msg = api.errorText(res, `The search was refused (${res.status}).`);
  $("#search-error").textContent = msg;
  if (/purpose|case_ref|reference/i.test(msg)) $("#purpose-box").open = true;
  if (/purpose/i.test(msg)) $("#purpose").focus();
  else if (/case_ref|reference/i.test(msg)) $("#case_ref").focus();
}

// 428: the policy's justification prompt fell on this search (docs/policy.md,
// "purpose binding").  The officer says why, in free text, and the same
// search goes again with it; nothing was searched meanwhile.
let pending = null;

function showJustify(body, res) {
  pending = { ...body };
  delete pending.justification;
  $("#progress").textContent = "";
  $("#justify-reason").textContent = api.errorText(res, "This search needs a justification.");
  const box = $("#justify-form");
  box.hidden = false;
  const t = $("#justification");
  t.value = "";
  // the whole prompt in view (on a phone it lies below the fold), the focus in its field
  t.focus({ preventScroll: true });
  box.scrollIntoView({ block: "nearest" });
  announce("Justification needed before this search runs.", true);
}

function hideJustify() {
  $("#justify-form").hidden = true;
  $("#justification").value = "";
}

async function sendJustified(ev) {
  ev.preventDefault();
  const text = $("#justification").value.trim();
  if (text.length < 10) {
    $("#justify-reason").textContent = "Say in at least 10 characters why you need this information.";
    return $("#justification").focus();
  }
  if (!pending) return hideJustify();
  const body = { ...pending, justification: text };
  pending = null;
  await runSearch(body);
}

function cancelJustify() {
  pending = null;
  hideJustify();
  $("#progress").textContent = "Search cancelled: no justification given.";
  $("#q").focus();
}

// The purpose codes come from the policy (GET /v1/web/settings), so a
// deployment's own codes need no change here; the page's list is the fallback.
function purposeOptions(settings) {
  const codes = Array.isArray(settings.purposes) ? settings.purposes : [];
  if (!codes.length) return;
  const label = (c) => { const t = String(c).replace(/_/g, " "); return t.charAt(0).toUpperCase() + t.slice(1); };
  clear($("#purpose")).append(el("option", { value: "", text: "(not given)" }),
    ...codes.map((c) => el("option", { value: c, text: label(c) })));
}

boot({
  title: "Focal",
  requiredRole: "officer",
  onSettings: purposeOptions,
  onReady() {
    // open on a vehicle terminal, folded on a phone (one tap away)
    $("#purpose-box").open = window.matchMedia("(min-width: 40rem)").matches;
    $("#search-form").addEventListener("submit", search);
    $("#justify-form").addEventListener("submit", sendJustified);
    $("#justify-cancel").addEventListener("click", cancelJustify);
    $("#justify-form").addEventListener("keydown", (e) => { if (e.key === "Escape") cancelJustify(); });
    $("#q").focus();
  },
  onClear() {
    if (current) current.abort.abort();
    current = null;
    pending = null;
  },
});
