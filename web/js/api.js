// api: every call the browser makes to focald.  Same origin only; the session
// is the HttpOnly cookie focal_session (the page never sees it) plus the CSRF
// token kept here, in memory, and sent on every state-changing request.
// Nothing is written to localStorage, sessionStorage, IndexedDB or caches.

const state = { csrf: null, onUnauthorized: null };

export function setCsrf(token) { state.csrf = token || null; }
export function onUnauthorized(fn) { state.onUnauthorized = fn; }

function headers(method, extra) {
  const h = { Accept: "application/json", ...extra };
  if (method !== "GET" && method !== "HEAD" && state.csrf) h["X-CSRF-Token"] = state.csrf;
  return h;
}

// Returns {status, data} (data: parsed JSON, text, or null); never throws for
// an HTTP status, only for a network failure.
export async function call(method, path, body, { quiet401 = false, raw = false } = {}) {
  const init = { method, headers: headers(method), credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    if (typeof body === "string") {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  const r = await fetch(path, init);
  let data = null;
  const type = r.headers.get("Content-Type") || "";
  if (r.status !== 204) {
    if (!raw && type.startsWith("application/json")) data = await r.json().catch(() => null);
    else data = await r.text();
  }
  if (r.status === 401 && !quiet401 && state.onUnauthorized) state.onUnauthorized();
  return { status: r.status, data };
}

export function errorText(res, fallback) {
  const e = res && res.data && res.data.error;
  if (e && e.message) return e.message;
  return fallback || `the server answered ${res ? res.status : "nothing"}`;
}

// POST /v1/search as a stream of server-sent events, read with fetch (an
// EventSource cannot POST nor send the CSRF header).  onEvent(name, data) for
// each event; resolves when the stream ends.
export async function searchStream(body, onEvent, signal) {
  const r = await fetch("/v1/search", {
    method: "POST", credentials: "same-origin", cache: "no-store", signal,
    headers: headers("POST", { Accept: "text/event-stream", "Content-Type": "application/json" }),
    body: JSON.stringify(body),
  });
  if (r.status !== 200 || !(r.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
    const data = await r.json().catch(() => null);
    if (r.status === 401 && state.onUnauthorized) state.onUnauthorized();
    return { status: r.status, data };
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = "message";
      const lines = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) lines.push(line.slice(5).replace(/^ /, ""));
      }
      if (lines.length === 0) continue;
      let data;
      try { data = JSON.parse(lines.join("\n")); } catch { continue; }
      onEvent(name, data);
    }
  }
  return { status: 200 };
}
