// Small helpers shared by the form designer's modules: plain-value helpers, debounced timers, the JSON POST every
// endpoint answers, the polite live region, and an ARIA tab list.
import { T, csrf, $ } from "./page.js";

export function isObject(value) { return typeof value === "object" && value !== null && !Array.isArray(value); }
export function clone(value) { return JSON.parse(JSON.stringify(value)); }
export function fmt(text, values) { return text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m)); }
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export const timers = {};
export function later(name, ms, fn) { clearTimeout(timers[name]); timers[name] = setTimeout(fn, ms); }

export async function post(url, body) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let json = {};
    try { json = await response.json(); } catch (e) { json = { message: T.failed }; }
    return { ok: response.ok, status: response.status, json };
  } catch (e) {
    return { ok: false, status: 0, json: { message: T.failed } };
  }
}

export function say(text) { $("fm-live").textContent = text; }

export function tabs(ids, onSelect) {
  const buttons = ids.map((id) => $(id));
  const select = (button) => {
    buttons.forEach((b) => {
      const on = b === button;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
      $(b.getAttribute("aria-controls")).hidden = !on;
    });
    if (onSelect) onSelect(button);
  };
  buttons.forEach((b, i) => {
    b.addEventListener("click", () => select(b));
    b.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = buttons[(i + step + buttons.length) % buttons.length];
      next.focus();
      select(next);
    });
  });
}
