/* What the studio's plain-JS editors (flow designer, type designer) share: building DOM nodes, filling message
   templates, and posting JSON with the CSRF token. Loaded (deferred) before the editor that uses it. */
window.TaizhangStudio = (function () {
  "use strict";

  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  function input(value, attrs) {
    const node = el("input", Object.assign({ type: "text", autocomplete: "off" }, attrs || {}));
    node.value = value ?? "";
    return node;
  }

  /* A select of `options` (values, or [value, label] pairs); a value not among them is kept as an extra option. */
  function select(value, options) {
    const node = el("select");
    for (const o of options) {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      node.append(el("option", { value: v, text: label }));
    }
    if (value && !options.some((o) => String(Array.isArray(o) ? o[0] : o) === String(value))) {
      node.append(el("option", { value, text: value }));
    }
    node.value = value ?? "";
    return node;
  }

  function button(text, action, attrs, enabled) {
    const b = el("button", Object.assign({ type: "button", className: "small secondary", text }, attrs || {}));
    b.dataset.action = action;
    if (!enabled) b.disabled = true;
    return b;
  }

  /* POST `body` as JSON; resolves to {ok, payload} (a body that is not JSON reads as {message: failed}). */
  async function postJSON(url, body, csrf, failed) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const payload = await response.json().catch(() => ({ message: failed }));
    return { ok: response.ok, payload };
  }

  return { fmt, el, input, select, button, postJSON };
})();
