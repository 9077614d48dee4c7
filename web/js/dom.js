// dom: building the page without innerHTML.  Every value that came from a
// source or a user goes in as text (textContent), so no answer can inject
// markup or script — the CSP is the second wall, not the first.

// el("div", {class: "card", hidden: true}, child, "text", ...): an element.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, String(v));
  }
  append(e, children);
  return e;
}

export function append(parent, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return parent;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);

// Announces text to screen readers through the page's polite live region.
export function announce(text, assertive = false) {
  const region = document.getElementById(assertive ? "live-alerts" : "live");
  if (!region) return;
  region.textContent = "";
  // a fresh text node after a tick is what makes screen readers speak again
  setTimeout(() => { region.textContent = text; }, 50);
}

// Light / dark: follows the system until the user picks; the choice lives in
// memory only (no storage, see docs/web.md), so a new page follows the system.
export function initTheme(button) {
  const root = document.documentElement;
  const systemDark = () => window.matchMedia("(prefers-color-scheme: dark)").matches;
  const isDark = () => (root.dataset.theme ? root.dataset.theme === "dark" : systemDark());
  const show = () => {
    button.setAttribute("aria-pressed", String(isDark()));
    button.textContent = "Dark mode";
  };
  button.addEventListener("click", () => {
    root.dataset.theme = isDark() ? "light" : "dark";
    show();
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", show);
  show();
}

export function fmtTime(s) {
  if (!s) return "";
  const d = new Date(typeof s === "number" ? (s > 1e12 ? s : s * 1000) : s);
  return isNaN(d) ? String(s) : d.toLocaleString();
}
