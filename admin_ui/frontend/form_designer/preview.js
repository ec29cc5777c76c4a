// The live preview: the staff page the form generates, rendered by the server (preview/) into two frames — a phone
// and a desktop width. Sample values typed into either frame are mirrored into the other and kept in
// `state.sample`; the server's one evaluator answers their visibility, required marks and computed values, applied
// here without reloading the frames. A button with name=op (e.g. adding a group row) re-renders with that op.
import { T, URLS, $ } from "./page.js";
import { later, post } from "./util.js";
import { state } from "./model.js";

export const frames = () => [$("fm-frame-phone"), $("fm-frame-desktop")];
let previewSeq = 0;

export async function preview(op = "") {
  const seq = ++previewSeq;
  $("fm-preview-status").textContent = T.previewUpdating;
  const r = await post(URLS.preview, { schema: state.schema, ui_schema: state.ui, data: state.sample, op });
  if (seq !== previewSeq) return;
  if (!r.ok) { $("fm-preview-status").textContent = r.json.message || T.failed; return; }
  $("fm-preview-status").textContent = "";
  frames().forEach((frame) => { frame.srcdoc = r.json.html; });
}

function pairsOf(doc) {
  const form = doc.querySelector("form");
  if (!form) return [];
  return [...new FormData(form).entries()].filter(([, v]) => typeof v === "string");
}

function mirror(doc, pairs) {
  const values = {};
  pairs.forEach(([k, v]) => { (values[k] = values[k] || []).push(v); });
  doc.querySelectorAll("form [name]").forEach((el) => {
    const list = values[el.name] || [];
    if (el.type === "checkbox" || el.type === "radio") el.checked = list.includes(el.value);
    else if (el.type !== "file") el.value = list[0] ?? "";
  });
}

function applyState(doc, answer) {
  if (!answer) return;
  doc.querySelectorAll(".tzform [data-path]").forEach((el) => {
    const path = el.getAttribute("data-path");
    if (path in answer.visible) el.hidden = !answer.visible[path];
    if (path in answer.required) {
      const labelEl = el.querySelector(":scope > label");
      let mark = labelEl && labelEl.querySelector(".req");
      if (answer.required[path] && labelEl && !mark) {
        mark = doc.createElement("span"); mark.className = "req"; mark.textContent = "*";
        mark.setAttribute("aria-hidden", "true"); labelEl.insertBefore(mark, labelEl.children[0] || null);
      } else if (!answer.required[path] && mark) mark.remove();
    }
  });
  Object.keys(answer.computed).forEach((path) => {
    const out = doc.querySelector(`[data-computed="${CSS.escape(path)}"]`);
    if (out) out.textContent = answer.computed[path];
  });
}

const wide = window.matchMedia("(min-width: 1000px)");
export function fit(frame) {
  const doc = frame.contentDocument;
  const main = doc && doc.querySelector("main");
  if (!main) return;
  const wrap = frame.parentElement;
  const scale = wrap.classList.contains("fm-desktop") ? Math.min(1, wrap.clientWidth / 1024 || 1) : 1;
  let height;
  if (wide.matches) {
    // beside the editor: a device-sized frame that scrolls inside, kept in view while the editor scrolls
    height = Math.max(360, window.innerHeight - 150) / scale;
  } else {
    const bottom = main.getBoundingClientRect().bottom + (doc.defaultView ? doc.defaultView.scrollY : 0);
    height = Math.min(8000, Math.max(300, Math.ceil(bottom) + 16));
  }
  frame.style.height = `${Math.round(height)}px`;
  if (scale !== 1 || wrap.classList.contains("fm-desktop")) {
    frame.style.transform = `scale(${scale})`;
    wrap.style.height = `${Math.ceil(height * scale)}px`;
  }
}

async function sampleChanged(source) {
  state.sample = pairsOf(source.contentDocument);
  frames().forEach((f) => { if (f !== source && f.contentDocument) mirror(f.contentDocument, state.sample); });
  later("state", 250, async () => {
    const seq = previewSeq;
    const r = await post(URLS.preview, { schema: state.schema, ui_schema: state.ui, data: state.sample });
    if (!r.ok || seq !== previewSeq) return;
    frames().forEach((f) => { if (f.contentDocument) { applyState(f.contentDocument, r.json.state); fit(f); } });
  });
}

export function wireFrame(frame) {
  frame.addEventListener("load", () => {
    const doc = frame.contentDocument;
    if (!doc) return;
    doc.addEventListener("input", () => sampleChanged(frame));
    doc.addEventListener("change", () => sampleChanged(frame));
    doc.addEventListener("submit", (event) => event.preventDefault());
    doc.addEventListener("click", (event) => {
      const button = event.target.closest("button[name=op]");
      if (!button) return;
      event.preventDefault();
      state.sample = pairsOf(doc);
      preview(button.value);
    });
    fit(frame);
    frame.dataset.ready = "true";
  });
}
