// The form designer (see admin_ui/form_designer.py): edits a form's JSON Schema + UI schema as a list of fields in
// sections, with a live preview of the generated staff page. No DSL is evaluated or checked here: the server's one
// checker answers check/ (problems and per-expression diagnostics with columns) and its one evaluator answers
// preview/ (visibility and computed values for the sample values typed into the preview).
import Sortable from "sortablejs";
import { EditorState, Compartment } from "@codemirror/state";
import { EditorView, keymap, drawSelection } from "@codemirror/view";
import { autocompletion, completionKeymap } from "@codemirror/autocomplete";
import { setDiagnostics } from "@codemirror/lint";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { compileVocabulary, dslLanguage, dslHighlight, dslCompletions, diagnosticRange } from "./dsl_language.js";

const root = document.getElementById("form-designer");
const DATA = JSON.parse(document.getElementById("form-designer-data").textContent);
const T = JSON.parse(document.getElementById("form-designer-i18n").textContent);
const URLS = JSON.parse(document.getElementById("form-designer-urls").textContent);
const csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;
const editable = DATA.editable;
const TYPES = Object.fromEntries(DATA.types.map((t) => [t.name, t]));
const $ = (id) => document.getElementById(id);

let schema = clone(DATA.schema || {});
let ui = clone(DATA.ui_schema || {});
if (!isObject(schema)) schema = {};
if (!isObject(ui)) ui = {};
if (!isObject(schema.properties)) schema.properties = {};
let open = null; // the field whose editor is expanded
let report = null; // the last answer of check/
let sample = []; // the sample values typed into the preview, as [name, value] pairs
let focusKey = null;
const timers = {};
let sortables = [];

function isObject(value) { return typeof value === "object" && value !== null && !Array.isArray(value); }
function clone(value) { return JSON.parse(JSON.stringify(value)); }
function fmt(text, values) { return text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m)); }
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function later(name, ms, fn) { clearTimeout(timers[name]); timers[name] = setTimeout(fn, ms); }

async function post(url, body) {
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

// -- the model ---------------------------------------------------------------------------------------------------

const props = () => schema.properties;
const required = () => (Array.isArray(schema.required) ? schema.required : []);
const sections = () => (Array.isArray(ui.sections) ? ui.sections : []);
function conf(name) { return (isObject(ui.fields) && isObject(ui.fields[name]) && ui.fields[name]) || {}; }
function setConf(name, key, value) {
  ui.fields = isObject(ui.fields) ? ui.fields : {};
  const c = isObject(ui.fields[name]) ? ui.fields[name] : {};
  if (value === "" || value === null || value === undefined) delete c[key];
  else c[key] = value;
  if (Object.keys(c).length) ui.fields[name] = c; else delete ui.fields[name];
  if (!Object.keys(ui.fields).length) delete ui.fields;
}
function ordered() {
  const names = Object.keys(props());
  const order = (Array.isArray(ui.order) ? ui.order : []).filter((n) => names.includes(n));
  return order.concat(names.filter((n) => !order.includes(n)));
}
function buckets() {
  const names = ordered();
  if (!sections().length) return [{ index: -1, title: "", names }];
  const placed = new Set();
  const out = sections().map((s, index) => {
    const members = (Array.isArray(s.fields) ? s.fields : []).filter((n) => names.includes(n) && !placed.has(n));
    members.forEach((n) => placed.add(n));
    return { index, title: s.title || "", names: members };
  });
  out.push({ index: -1, title: T.unsectioned, names: names.filter((n) => !placed.has(n)) });
  return out;
}
function applyBuckets(list) {
  list.forEach((b) => { if (b.index >= 0) ui.sections[b.index].fields = b.names.slice(); });
  const flat = list.flatMap((b) => b.names);
  if (Array.isArray(ui.order) || !sections().length || list[list.length - 1].names.length) ui.order = flat;
}
function sectionOf(name) { return sections().findIndex((s) => Array.isArray(s.fields) && s.fields.includes(name)); }
function label(name) { const p = props()[name]; return (p && p.title) || name; }
function kindOf(prop) { return (prop && prop["x-field"]) || ""; }
function identifier(text) {
  let name = String(text || "").replace(/[（(][^）)]*[）)]/g, "").replace(/[^\p{L}\p{N}_]/gu, "");
  if (!name || /^[0-9]/.test(name)) name = "字段" + name;
  return name.slice(0, 40);
}
function uniqueName(base, taken) {
  let name = base;
  for (let i = 2; taken.includes(name); i++) name = base + i;
  return name;
}

function addField(title, type, sectionIndex) {
  const name = uniqueName(identifier(title), Object.keys(props()));
  const prop = clone(TYPES[type].template);
  prop.title = title;
  props()[name] = prop;
  if (sectionIndex >= 0 && sections()[sectionIndex]) {
    const s = sections()[sectionIndex];
    s.fields = Array.isArray(s.fields) ? s.fields : [];
    s.fields.push(name);
  }
  if (Array.isArray(ui.order)) ui.order.push(name);
  if (type === "computed") setConf(name, "computed", "");
  return name;
}
function removeField(name) {
  delete props()[name];
  if (Array.isArray(schema.required)) schema.required = schema.required.filter((n) => n !== name);
  if (Array.isArray(ui.order)) ui.order = ui.order.filter((n) => n !== name);
  sections().forEach((s) => { if (Array.isArray(s.fields)) s.fields = s.fields.filter((n) => n !== name); });
  if (ui.fields) { delete ui.fields[name]; if (!Object.keys(ui.fields).length) delete ui.fields; }
  (Array.isArray(ui.validations) ? ui.validations : []).forEach((v) => {
    if (v && Array.isArray(v.fields)) v.fields = v.fields.filter((n) => n !== name);
  });
}
function renameField(from, to) {
  to = identifier(to);
  if (!to || to === from || to in props()) return from;
  const rebuilt = {};
  Object.keys(props()).forEach((k) => { rebuilt[k === from ? to : k] = props()[k]; });
  schema.properties = rebuilt;
  const swap = (list) => (Array.isArray(list) ? list.map((n) => (n === from ? to : n)) : list);
  if (Array.isArray(schema.required)) schema.required = swap(schema.required);
  if (Array.isArray(ui.order)) ui.order = swap(ui.order);
  sections().forEach((s) => { s.fields = swap(s.fields); });
  if (ui.fields && from in ui.fields) {
    const fields = {};
    Object.keys(ui.fields).forEach((k) => { fields[k === from ? to : k] = ui.fields[k]; });
    ui.fields = fields;
  }
  (Array.isArray(ui.validations) ? ui.validations : []).forEach((v) => { if (v) v.fields = swap(v.fields); });
  return to;
}
function changeType(target, type, name, isRow) {
  const old = target[name] || {};
  const prop = clone(TYPES[type].template);
  ["title", "description", "x-disclosure", "x-sensitivity"].forEach((k) => { if (old[k] !== undefined) prop[k] = old[k]; });
  target[name] = prop;
  if (!isRow) {
    if (type === "computed") { if (!conf(name).computed) setConf(name, "computed", ""); }
    else setConf(name, "computed", null);
    if (type !== "money") setConf(name, "display", null);
  }
}
function options(prop) {
  const source = prop.type === "array" ? prop.items || {} : prop;
  return Array.isArray(source.enum) ? source.enum : [];
}
function setOptions(prop, text) {
  const values = text.split("\n").map((s) => s.trim()).filter(Boolean);
  if (prop.type === "array") { prop.items = prop.items || { type: "string" }; prop.items.enum = values; } else prop.enum = values;
}
function setNumber(prop, key, text) {
  if (String(text).trim() === "") delete prop[key];
  else if (!Number.isNaN(Number(text))) prop[key] = Number(text);
}

function move(name, delta) {
  const list = buckets();
  let b = list.findIndex((x) => x.names.includes(name));
  let i = list[b].names.indexOf(name);
  list[b].names.splice(i, 1);
  if (delta < 0) {
    if (i > 0) i -= 1;
    else if (b > 0) { b -= 1; i = list[b].names.length; }
  } else if (i < list[b].names.length) i += 1;
  else if (b < list.length - 1) { b += 1; i = 0; }
  list[b].names.splice(i, 0, name);
  applyBuckets(list);
  const position = list.slice(0, b).reduce((n, x) => n + x.names.length, 0) + i + 1;
  say(fmt(T.moved, { name: label(name), n: position }));
}
function say(text) { $("fm-live").textContent = text; }

// -- rendering the design tab ------------------------------------------------------------------------------------

const dis = editable ? "" : " disabled";
function typeOptions(current, rows) {
  return DATA.types
    .filter((t) => !(rows && t.name === "group"))
    .map((t) => `<option value="${t.name}"${t.name === current ? " selected" : ""}>${esc(t.zh)}</option>`)
    .join("");
}
function input(key, labelText, value, extra = "") {
  const id = `fm-${key}-${Math.random().toString(36).slice(2, 8)}`;
  return `<div class="fm-prop"><label for="${id}">${esc(labelText)}</label><input id="${id}" data-prop="${key}" data-key="${key}" value="${esc(value)}"${extra}${dis}></div>`;
}
function expr(key, labelText, value, path) {
  const id = `fm-x-${Math.random().toString(36).slice(2, 8)}`;
  return `<div class="fm-prop fm-expr"><label for="${id}">${esc(labelText)}</label>
    <textarea id="${id}" rows="1" class="fm-dsl" data-prop="${key}" data-key="${key}" data-expr="${esc(path)}" spellcheck="false"
      data-label="${esc(labelText)}" aria-describedby="${id}-diag"${dis}>${esc(value)}</textarea>
    <div class="fm-diag" id="${id}-diag" data-diag-for="${esc(path)}"></div>
    ${editable ? `<details class="fm-names" data-names-for="${id}"><summary>${esc(T.insertName)}</summary><div class="fm-name-list"></div></details>` : ""}</div>`;
}

// -- the DSL editors: CodeMirror over the (hidden) textarea, which keeps the value the model reads ------------------

const VOCABULARY = DATA.vocabulary;
const editors = new Map(); // textarea id → EditorView
const compiledCache = new Map(); // the names an expression may use (joined) → compiled vocabulary
function compiledFor(path) {
  const names = namesFor(path);
  const key = names.join("\n");
  let compiled = compiledCache.get(key);
  if (!compiled) {
    if (compiledCache.size > 50) compiledCache.clear();
    compiled = compileVocabulary(VOCABULARY, names.map((name) => ({ name, label: props()[name] ? label(name) : "" })));
    compiledCache.set(key, compiled);
  }
  return compiled;
}

function mountEditors(host) {
  editors.forEach((view) => view.destroy());
  editors.clear();
  if (!VOCABULARY) return;
  host.querySelectorAll("textarea.fm-dsl").forEach((area) => {
    const path = area.dataset.expr;
    const language = new Compartment();
    const current = { compiled: compiledFor(path) };
    const extensions = [
      history(),
      drawSelection(),
      language.of(dslLanguage(() => current.compiled)),
      dslHighlight,
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({
        "aria-label": area.dataset.label,
        "aria-multiline": "true",
        "aria-describedby": area.getAttribute("aria-describedby"),
        spellcheck: "false",
      }),
      keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]), // no indentWithTab: Tab leaves
    ];
    if (editable) {
      extensions.push(
        autocompletion({ override: [dslCompletions(() => compiledFor(path), T)], activateOnTyping: true }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          area.value = update.state.doc.toString();
          area.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      );
    } else extensions.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
    const view = new EditorView({ state: EditorState.create({ doc: area.value, extensions }) });
    view.dom.dataset.editorFor = area.dataset.prop;
    view.taizhang = { path, language, current };
    area.hidden = true;
    area.after(view.dom);
    const labelEl = host.querySelector(`label[for="${CSS.escape(area.id)}"]`);
    if (labelEl) labelEl.addEventListener("click", (event) => { event.preventDefault(); view.focus(); });
    editors.set(area.id, view);
  });
}

// The server's diagnostics of each expression as CodeMirror lint marks on their exact span.
function lintEditors() {
  const byPath = new Map((report && report.diagnostics ? report.diagnostics : []).map((d) => [d.path, d]));
  editors.forEach((view, id) => {
    const { path, language, current } = view.taizhang;
    const compiled = compiledFor(path);
    if (compiled !== current.compiled) {
      current.compiled = compiled; // the names changed (check/ answered): highlight with the new ones
      view.dispatch({ effects: language.reconfigure(dslLanguage(() => current.compiled)) });
    }
    const d = byPath.get(path);
    const doc = view.state.doc;
    const errors = d && d.errors.length && d.source === doc.toString() ? d.errors : [];
    view.dispatch(setDiagnostics(view.state, errors.map((e) => ({
      ...diagnosticRange(doc, e), severity: "error", message: e.message,
    }))));
    if (d && d.errors.length) view.contentDOM.setAttribute("aria-invalid", "true");
    else view.contentDOM.removeAttribute("aria-invalid");
  });
}

// The names an expression may use: the form's catalogue (from check/), or a group row's own columns.
function namesFor(path) {
  const all = (report && report.names) || Object.keys(props());
  const row = /^ui_schema\/fields\/([^/]+)\/item\//.exec(path);
  if (!row) return all;
  const prefix = `${row[1]}.`;
  return all.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
}
function onNames(event) {
  const details = event.target.closest("details.fm-names");
  if (!details) return;
  const area = $(details.dataset.namesFor);
  if (event.type === "toggle" && details.open) {
    details.querySelector(".fm-name-list").innerHTML = namesFor(area.dataset.expr)
      .map((n) => `<button type="button" class="small secondary" data-insert="${esc(n)}">${esc(n)}</button>`).join("");
  }
  const button = event.type === "click" && event.target.closest("[data-insert]");
  if (!button) return;
  const text = button.dataset.insert;
  const view = editors.get(area.id);
  if (view) {
    const { from, to } = view.state.selection.main;
    view.dispatch({ changes: { from, to, insert: text }, selection: { anchor: from + text.length }, userEvent: "input" });
    view.focus();
    return;
  }
  const start = area.selectionStart ?? area.value.length;
  const end = area.selectionEnd ?? area.value.length;
  area.value = area.value.slice(0, start) + text + area.value.slice(end);
  area.focus();
  area.setSelectionRange(start + text.length, start + text.length);
  area.dispatchEvent(new Event("input", { bubbles: true }));
}

function editorBody(name) {
  const prop = props()[name];
  const c = conf(name);
  const kind = kindOf(prop);
  const base = `ui_schema/fields/${name}`;
  const parts = [
    `<div class="fm-grid">`,
    input("name", T.name, name, ` aria-describedby="fm-name-help-${esc(name)}"`),
    input("title", T.label, prop.title || ""),
    `<div class="fm-prop"><label for="fm-type-${esc(name)}">${esc(T.type)}</label><select id="fm-type-${esc(name)}" data-prop="type" data-key="type"${dis}>${typeOptions(kind)}</select></div>`,
    `<div class="fm-prop"><label for="fm-sec-${esc(name)}">${esc(T.section)}</label><select id="fm-sec-${esc(name)}" data-prop="section" data-key="section"${dis}>
      <option value="-1">${esc(T.noSection)}</option>${sections().map((s, i) => `<option value="${i}"${sectionOf(name) === i ? " selected" : ""}>${esc(s.title || T.section + (i + 1))}</option>`).join("")}</select></div>`,
    `</div><p class="muted fm-hint" id="fm-name-help-${esc(name)}">${esc(T.nameHelp)}</p>`,
    `<div class="fm-grid">`,
    input("help", T.help, c.help || ""),
    kind !== "computed" && kind !== "group" ? input("placeholder", T.placeholder, c.placeholder || "") : "",
    `</div>`,
  ];
  if (kind !== "computed") {
    parts.push(`<label class="fm-checkbox"><input type="checkbox" data-prop="required" data-key="required"${required().includes(name) ? " checked" : ""}${dis}> ${esc(T.required)}</label>`);
  }
  if (kind === "choice" || kind === "multichoice") {
    parts.push(`<div class="fm-prop"><label for="fm-opt-${esc(name)}">${esc(T.options)}</label><textarea id="fm-opt-${esc(name)}" rows="4" data-prop="options" data-key="options"${dis}>${esc(options(prop).join("\n"))}</textarea></div>`);
  }
  if (kind === "money") {
    parts.push(`<div class="fm-grid"><div class="fm-prop"><label for="fm-disp-${esc(name)}">${esc(T.display)}</label><select id="fm-disp-${esc(name)}" data-prop="display" data-key="display"${dis}>
      <option value=""${!c.display ? " selected" : ""}>${esc(T.yuan)}</option><option value="万元"${c.display === "万元" ? " selected" : ""}>${esc(T.wanyuan)}</option></select></div>
      ${input("x-scale", T.scale, prop["x-scale"] ?? "", ' inputmode="numeric"')}</div>`);
  }
  if (["integer", "money", "percent"].includes(kind)) {
    const hint = kind === "percent" ? `<p class="muted fm-hint">${esc(T.percentHint)}</p>` : "";
    parts.push(`<div class="fm-grid">${input("minimum", T.minimum, prop.minimum ?? "", ' inputmode="decimal"')}${input("maximum", T.maximum, prop.maximum ?? "", ' inputmode="decimal"')}</div>${hint}`);
  }
  if (kind === "text" || kind === "textarea") parts.push(`<div class="fm-grid">${input("maxLength", T.maxLength, prop.maxLength ?? "", ' inputmode="numeric"')}</div>`);
  if (kind === "computed") parts.push(expr("computed", T.computed, c.computed || "", `${base}/computed`));
  parts.push(expr("visible_if", T.visibleIf, c.visible_if || "", `${base}/visible_if`));
  if (kind !== "computed" && kind !== "group") parts.push(expr("required_if", T.requiredIf, c.required_if || "", `${base}/required_if`));
  if (kind === "group") parts.push(groupEditor(name, prop, c));
  parts.push(`<ul class="fm-field-problems" data-problems-for="${esc(name)}"></ul>`);
  return parts.join("");
}

function groupEditor(name, prop, c) {
  const items = prop.items && typeof prop.items === "object" ? prop.items : {};
  const rowProps = items.properties && typeof items.properties === "object" ? items.properties : {};
  const item = c.item || {};
  const order = (Array.isArray(item.order) ? item.order : []).filter((n) => n in rowProps);
  const names = order.concat(Object.keys(rowProps).filter((n) => !order.includes(n)));
  const rowReq = Array.isArray(items.required) ? items.required : [];
  const rows = names.map((sub, i) => {
    const p = rowProps[sub] || {};
    const kind = kindOf(p);
    const rc = (item.fields && item.fields[sub]) || {};
    const path = `ui_schema/fields/${name}/item/fields/${sub}/computed`;
    return `<li class="fm-sub" data-sub="${esc(sub)}">
      <div class="fm-grid">${input("name", T.name, sub)}${input("title", T.label, p.title || "")}
        <div class="fm-prop"><label for="fm-st-${esc(name)}-${i}">${esc(T.type)}</label><select id="fm-st-${esc(name)}-${i}" data-prop="type" data-key="sub-type-${esc(sub)}"${dis}>${typeOptions(kind, true)}</select></div></div>
      ${kind !== "computed" ? `<label class="fm-checkbox"><input type="checkbox" data-prop="required" data-key="sub-req-${esc(sub)}"${rowReq.includes(sub) ? " checked" : ""}${dis}> ${esc(T.required)}</label>` : ""}
      ${kind === "choice" || kind === "multichoice" ? `<div class="fm-prop"><label for="fm-so-${esc(name)}-${i}">${esc(T.options)}</label><textarea id="fm-so-${esc(name)}-${i}" rows="3" data-prop="options"${dis}>${esc(options(p).join("\n"))}</textarea></div>` : ""}
      ${kind === "computed" ? expr("computed", T.rowComputed, rc.computed || "", path) : ""}
      ${editable ? `<div class="fm-tools">
        <button type="button" class="small secondary" data-act="sub-up" data-key="sub-up-${esc(sub)}" aria-label="${esc(fmt(T.moveUpLabel, { name: p.title || sub }))}">${esc(T.up)}</button>
        <button type="button" class="small secondary" data-act="sub-down" data-key="sub-down-${esc(sub)}" aria-label="${esc(fmt(T.moveDownLabel, { name: p.title || sub }))}">${esc(T.down)}</button>
        <button type="button" class="small secondary" data-act="sub-remove" aria-label="${esc(fmt(T.removeLabel, { name: p.title || sub }))}">${esc(T.remove)}</button></div>` : ""}
    </li>`;
  });
  return `<fieldset class="fm-group"><legend>${esc(T.subfields)}</legend>
    ${input("page_size", T.pageSize, c.page_size ?? "", ' inputmode="numeric"')}
    <ol class="fm-subs">${rows.join("")}</ol>
    ${editable ? `<div class="fm-sub-add"><label for="fm-sa-${esc(name)}">${esc(T.newFieldLabel)}</label><input id="fm-sa-${esc(name)}" data-key="sub-new-label" maxlength="60">
      <select aria-label="${esc(T.newFieldType)}" data-key="sub-new-type">${typeOptions("text", true)}</select>
      <button type="button" class="small" data-act="sub-add" data-key="sub-add">${esc(T.addSubfield)}</button></div>` : ""}
  </fieldset>`;
}

function row(name) {
  const prop = props()[name] || {};
  const kind = kindOf(prop);
  const c = conf(name);
  const badges = [];
  if (required().includes(name)) badges.push(T.badgeRequired);
  if (c.visible_if || c.required_if) badges.push(T.badgeConditional);
  if (kind === "computed") badges.push(T.badgeComputed);
  const title = prop.title || name;
  const zh = (TYPES[kind] && TYPES[kind].zh) || kind || "?";
  const isOpen = open === name;
  const tools = editable
    ? `<button type="button" class="small secondary" data-act="up" data-key="up-${esc(name)}" aria-label="${esc(fmt(T.moveUpLabel, { name: title }))}">${esc(T.up)}</button>
       <button type="button" class="small secondary" data-act="down" data-key="down-${esc(name)}" aria-label="${esc(fmt(T.moveDownLabel, { name: title }))}">${esc(T.down)}</button>`
    : "";
  return `<li class="fm-row${isOpen ? " open" : ""}" data-name="${esc(name)}" tabindex="0" aria-label="${esc(title)}（${esc(zh)}）" data-key="row-${esc(name)}">
    <div class="fm-row-head">
      ${editable ? `<span class="fm-handle" aria-hidden="true" title="${esc(T.drag)}">⠿</span>` : ""}
      <span class="fm-row-text"><strong class="fm-row-label">${esc(title)}</strong>
        <span class="muted">${esc(zh)}${name !== title ? " · " + esc(name) : ""}</span>
        ${badges.map((b) => `<span class="fm-badge">${esc(b)}</span>`).join("")}</span>
      <span class="fm-tools">${tools}
        <button type="button" class="small" data-act="edit" data-key="edit-${esc(name)}" aria-expanded="${isOpen}" aria-label="${esc(fmt(editable ? T.editLabel : T.viewLabel, { name: title }))}">${esc(isOpen ? T.close : editable ? T.edit : T.view)}</button>
        ${editable ? `<button type="button" class="small secondary" data-act="remove" data-key="remove-${esc(name)}" aria-label="${esc(fmt(T.removeLabel, { name: title }))}">${esc(T.remove)}</button>` : ""}
      </span>
    </div>
    ${isOpen ? `<div class="fm-body">${editorBody(name)}</div>` : ""}
  </li>`;
}

function renderDesign() {
  const host = $("fm-sections");
  sortables.forEach((s) => s.destroy());
  sortables = [];
  host.innerHTML = buckets()
    .map((b) => {
      const head = b.index >= 0
        ? `<div class="fm-bucket-head"><label class="visually-hidden fm-sr" for="fm-sec-title-${b.index}">${esc(T.sectionTitle)}</label>
            <input id="fm-sec-title-${b.index}" class="fm-section-title" data-section-title="${b.index}" data-key="section-title-${b.index}" value="${esc(b.title)}" aria-label="${esc(T.sectionTitle)}"${dis}>
            ${editable ? `<button type="button" class="small secondary" data-act="remove-section" data-section="${b.index}">${esc(T.removeSection)}</button>` : ""}</div>`
        : b.title ? `<h3 class="fm-bucket-title">${esc(b.title)}</h3>` : "";
      const empty = b.names.length ? "" : `<p class="muted fm-empty">${esc(T.emptyList)}</p>`;
      return `<section class="card fm-bucket" data-bucket="${b.index}">${head}${empty}
        <ol class="fm-list" data-bucket="${b.index}">${b.names.map(row).join("")}</ol></section>`;
    })
    .join("");
  mountEditors(host);
  if (editable) {
    host.querySelectorAll(".fm-list").forEach((list) => {
      sortables.push(Sortable.create(list, {
        group: "fm-fields", handle: ".fm-handle", animation: 150, onEnd: () => {
          const list2 = buckets().map((b) => ({ ...b, names: [] }));
          host.querySelectorAll(".fm-list").forEach((ol) => {
            const target = list2.find((x) => String(x.index) === ol.dataset.bucket);
            target.names = [...ol.children].map((li) => li.dataset.name).filter(Boolean);
          });
          applyBuckets(list2);
          changed(true);
        },
      }));
    });
  }
  const sel = $("fm-new-section");
  if (sel) {
    const keep = sel.value;
    sel.innerHTML = `<option value="-1">${esc(T.noSection)}</option>` + sections().map((s, i) => `<option value="${i}">${esc(s.title || T.section + (i + 1))}</option>`).join("");
    sel.value = [...sel.options].some((o) => o.value === keep) ? keep : String(sections().length - 1);
  }
  applyReport();
  if (focusKey) {
    const target = host.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (target) target.focus();
    focusKey = null;
  }
}

// -- editing -----------------------------------------------------------------------------------------------------

function onInput(event) {
  const el = event.target;
  if (el.dataset.sectionTitle !== undefined) {
    sections()[Number(el.dataset.sectionTitle)].title = el.value;
    return changed(false);
  }
  const li = el.closest(".fm-row");
  const key = el.dataset.prop;
  if (!li || !key) return;
  const name = li.dataset.name;
  const sub = el.closest("[data-sub]");
  if (sub) return onSubInput(name, sub.dataset.sub, key, el, event.type);
  const prop = props()[name];
  const value = el.type === "checkbox" ? el.checked : el.value;
  if (key === "name") {
    if (event.type !== "change") return;
    const renamed = renameField(name, value);
    if (open === name) open = renamed;
    focusKey = "name";
    return changed(true);
  }
  if (key === "title") {
    prop.title = value;
    li.querySelector(".fm-row-label").textContent = value || name;
    const kind = TYPES[kindOf(prop)];
    li.setAttribute("aria-label", `${value || name}（${kind ? kind.zh : ""}）`);
  } else if (key === "type") {
    changeType(props(), value, name, false);
    focusKey = "type";
    return changed(true);
  } else if (key === "section") {
    sections().forEach((s) => { if (Array.isArray(s.fields)) s.fields = s.fields.filter((n) => n !== name); });
    const index = Number(value);
    if (index >= 0) { sections()[index].fields = sections()[index].fields || []; sections()[index].fields.push(name); }
    focusKey = "section";
    return changed(true);
  } else if (key === "required") {
    const list = required().filter((n) => n !== name);
    if (value) list.push(name);
    if (list.length) schema.required = list; else delete schema.required;
  } else if (key === "options") setOptions(prop, value);
  else if (["minimum", "maximum", "x-scale", "maxLength"].includes(key)) setNumber(prop, key, value);
  else if (key === "page_size") setConf(name, key, value.trim() === "" || Number.isNaN(Number(value)) ? null : Number(value));
  else if (key === "display") setConf(name, key, value || null);
  else if (["visible_if", "required_if"].includes(key)) setConf(name, key, value.trim() ? value : null);
  else if (key === "computed") setConf(name, key, value);
  else setConf(name, key, value);
  changed(false);
}

function onSubInput(group, sub, key, el, type) {
  const items = props()[group].items = props()[group].items || { type: "object", properties: {} };
  items.properties = items.properties || {};
  const p = items.properties[sub];
  const value = el.type === "checkbox" ? el.checked : el.value;
  const item = () => {
    const c = conf(group);
    const it = c.item && typeof c.item === "object" ? c.item : {};
    return it;
  };
  if (key === "name") {
    if (type !== "change") return;
    const to = identifier(value);
    if (!to || to in items.properties) return changed(true);
    const rebuilt = {};
    Object.keys(items.properties).forEach((k) => { rebuilt[k === sub ? to : k] = items.properties[k]; });
    items.properties = rebuilt;
    if (Array.isArray(items.required)) items.required = items.required.map((n) => (n === sub ? to : n));
    const it = item();
    if (Array.isArray(it.order)) it.order = it.order.map((n) => (n === sub ? to : n));
    if (it.fields && sub in it.fields) { it.fields[to] = it.fields[sub]; delete it.fields[sub]; }
    if (Object.keys(it).length) setConf(group, "item", it);
    return changed(true);
  }
  if (key === "title") p.title = value;
  else if (key === "type") {
    changeType(items.properties, value, sub, true);
    const it = item();
    it.fields = it.fields || {};
    if (value === "computed") it.fields[sub] = { ...(it.fields[sub] || {}), computed: (it.fields[sub] || {}).computed || "" };
    else if (it.fields[sub]) { delete it.fields[sub].computed; if (!Object.keys(it.fields[sub]).length) delete it.fields[sub]; }
    if (!Object.keys(it.fields).length) delete it.fields;
    setConf(group, "item", Object.keys(it).length ? it : null);
    focusKey = `sub-type-${identifier(sub)}`;
    return changed(true);
  } else if (key === "required") {
    const list = (Array.isArray(items.required) ? items.required : []).filter((n) => n !== sub);
    if (value) list.push(sub);
    if (list.length) items.required = list; else delete items.required;
  } else if (key === "options") setOptions(p, value);
  else if (key === "computed") {
    const it = item();
    it.fields = it.fields || {};
    it.fields[sub] = { ...(it.fields[sub] || {}), computed: value };
    setConf(group, "item", it);
  }
  changed(false);
}

function subAct(group, act, li) {
  const items = props()[group].items || { type: "object", properties: {} };
  items.properties = items.properties || {};
  props()[group].items = items;
  const c = conf(group);
  const it = c.item && typeof c.item === "object" ? c.item : {};
  const names = (Array.isArray(it.order) ? it.order.filter((n) => n in items.properties) : []);
  Object.keys(items.properties).forEach((n) => { if (!names.includes(n)) names.push(n); });
  if (act === "sub-add") {
    const labelInput = li.querySelector('[data-key="sub-new-label"]');
    const type = li.querySelector('[data-key="sub-new-type"]').value;
    const title = labelInput.value.trim();
    if (!title) { labelInput.focus(); return; }
    const name = uniqueName(identifier(title), Object.keys(items.properties));
    items.properties[name] = { ...clone(TYPES[type].template), title };
    if (type === "computed") { it.fields = it.fields || {}; it.fields[name] = { computed: "" }; }
    if (Array.isArray(it.order)) it.order.push(name);
    focusKey = "sub-new-label";
    say(fmt(T.added, { name: title }));
  } else {
    const sub = li.dataset.sub;
    const i = names.indexOf(sub);
    if (act === "sub-remove") {
      delete items.properties[sub];
      if (Array.isArray(items.required)) items.required = items.required.filter((n) => n !== sub);
      if (it.fields) delete it.fields[sub];
      if (Array.isArray(it.order)) it.order = it.order.filter((n) => n !== sub);
      say(fmt(T.removed, { name: sub }));
    } else {
      const j = act === "sub-up" ? i - 1 : i + 1;
      if (j < 0 || j >= names.length) return;
      names.splice(i, 1);
      names.splice(j, 0, sub);
      it.order = names;
      focusKey = `${act}-${sub}`;
    }
  }
  setConf(group, "item", Object.keys(it).length ? it : null);
  changed(true);
}

function onClick(event) {
  const button = event.target.closest("button[data-act]");
  if (!button) return;
  const act = button.dataset.act;
  if (act === "remove-section") {
    ui.sections.splice(Number(button.dataset.section), 1);
    if (!ui.sections.length) delete ui.sections;
    return changed(true);
  }
  const li = button.closest(".fm-row");
  const name = li && li.dataset.name;
  if (!name) return;
  if (act.startsWith("sub-")) return subAct(name, act, button.closest("[data-sub]") || button.closest(".fm-group"));
  if (act === "edit") {
    open = open === name ? null : name;
    focusKey = `edit-${name}`;
    return renderDesign();
  }
  if (act === "remove") {
    const title = label(name);
    removeField(name);
    if (open === name) open = null;
    say(fmt(T.removed, { name: title }));
    return changed(true);
  }
  if (act === "up" || act === "down") {
    move(name, act === "up" ? -1 : 1);
    focusKey = `${act}-${name}`;
    return changed(true);
  }
}

function onKey(event) {
  if (!editable || !event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
  const li = event.target.closest(".fm-row");
  if (!li || (event.target !== li && !event.target.closest(".fm-row-head"))) return;
  event.preventDefault();
  move(li.dataset.name, event.key === "ArrowUp" ? -1 : 1);
  focusKey = `row-${li.dataset.name}`;
  changed(true);
}

function changed(structural) {
  if (structural) renderDesign();
  syncAdvanced();
  later("check", 250, check);
  later("preview", 350, () => preview());
  if (editable) {
    dirty = true;
    $("fm-save-status").textContent = T.unsaved;
    later("save", 1200, save);
    const panel = $("fm-publish-panel");
    if (panel && !panel.hidden) { panel.hidden = true; $("fm-result").textContent = T.publishStale; }
  }
}

// -- problems and diagnostics ------------------------------------------------------------------------------------

function fieldOfPath(path) {
  const m = /^(?:schema\/properties|ui_schema\/fields)\/([^/]+)/.exec(path || "");
  return m ? m[1] : "";
}

function markSource(source, error) {
  const lines = String(source).split("\n");
  const line = lines[(error.line || 1) - 1] ?? "";
  const start = Math.max(0, (error.column || 1) - 1);
  const end = Math.max(start + 1, (error.end_line || error.line) === error.line ? (error.end_column || start + 2) - 1 : line.length);
  const before = line.slice(0, start);
  const span = line.slice(start, end) || " ";
  return `<code class="fm-mark">${esc(before)}<mark>${esc(span)}</mark>${esc(line.slice(end))}</code>`;
}

function applyReport() {
  if (!report) return;
  const host = $("fm-sections");
  host.querySelectorAll("[data-diag-for]").forEach((el) => { el.innerHTML = ""; });
  host.querySelectorAll("[data-expr]").forEach((el) => el.removeAttribute("aria-invalid"));
  host.querySelectorAll(".fm-row").forEach((el) => el.classList.remove("has-problem"));
  host.querySelectorAll("[data-problems-for]").forEach((el) => { el.innerHTML = ""; });
  (report.diagnostics || []).forEach((d) => {
    if (!d.errors.length) return;
    const slot = host.querySelector(`[data-diag-for="${CSS.escape(d.path)}"]`);
    const field = d.field && host.querySelector(`.fm-row[data-name="${CSS.escape(d.field)}"]`);
    if (field) field.classList.add("has-problem");
    if (!slot) return;
    const input = host.querySelector(`[data-expr="${CSS.escape(d.path)}"]`);
    if (input) input.setAttribute("aria-invalid", "true");
    slot.innerHTML = d.errors.map((e) =>
      `<div class="fm-diag-item" data-line="${e.line}" data-column="${e.column}" data-end-column="${e.end_column}">${markSource(d.source, e)}
        <p class="fm-diag-msg">${esc(fmt(T.diagAt, { line: e.line, column: e.column, message: e.message }))}</p></div>`).join("");
  });
  lintEditors();
  (report.problems || []).forEach((p) => {
    if (p.line != null) return; // shown under the expression
    const name = p.field || fieldOfPath(p.path);
    const row = name && host.querySelector(`.fm-row[data-name="${CSS.escape(name)}"]`);
    if (row) row.classList.add("has-problem");
    const list = name && host.querySelector(`[data-problems-for="${CSS.escape(name)}"]`);
    if (list) list.insertAdjacentHTML("beforeend", `<li class="fm-problem">${esc(p.message)}</li>`);
  });
  const problems = report.problems || [];
  $("fm-summary").textContent = problems.length ? fmt(T.problems, { n: problems.length }) : editable ? T.ok : T.okReadonly;
  $("fm-summary").className = problems.length ? "fm-bad" : "fm-good";
  $("fm-problems").innerHTML = problems.map((p) => {
    const name = p.field || fieldOfPath(p.path);
    const where = p.line != null ? ` <span class="pos">${esc(fmt(T.position, p))}</span>` : "";
    const link = name && props()[name] ? `<button type="button" class="link" data-open="${esc(name)}">${esc(label(name))}</button>：` : "";
    return `<li data-path="${esc(p.path)}">${link}${esc(p.message)}${where} <span class="pos">${esc(p.path)}</span></li>`;
  }).join("");
}

let checkSeq = 0;
async function check() {
  const seq = ++checkSeq;
  $("fm-summary").textContent = T.checking;
  const r = await post(URLS.check, { schema, ui_schema: ui });
  if (seq !== checkSeq) return;
  if (!r.ok) { $("fm-summary").textContent = r.json.message || T.failed; return; }
  report = r.json;
  applyReport();
}

// -- preview -----------------------------------------------------------------------------------------------------

const frames = () => [$("fm-frame-phone"), $("fm-frame-desktop")];
let previewSeq = 0;

async function preview(op = "") {
  const seq = ++previewSeq;
  $("fm-preview-status").textContent = T.previewUpdating;
  const r = await post(URLS.preview, { schema, ui_schema: ui, data: sample, op });
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

function applyState(doc, state) {
  if (!state) return;
  doc.querySelectorAll(".tzform [data-path]").forEach((el) => {
    const path = el.getAttribute("data-path");
    if (path in state.visible) el.hidden = !state.visible[path];
    if (path in state.required) {
      const labelEl = el.querySelector(":scope > label");
      let mark = labelEl && labelEl.querySelector(".req");
      if (state.required[path] && labelEl && !mark) {
        mark = doc.createElement("span"); mark.className = "req"; mark.textContent = "*";
        mark.setAttribute("aria-hidden", "true"); labelEl.insertBefore(mark, labelEl.children[0] || null);
      } else if (!state.required[path] && mark) mark.remove();
    }
  });
  Object.keys(state.computed).forEach((path) => {
    const out = doc.querySelector(`[data-computed="${CSS.escape(path)}"]`);
    if (out) out.textContent = state.computed[path];
  });
}

const wide = window.matchMedia("(min-width: 1000px)");
function fit(frame) {
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
  sample = pairsOf(source.contentDocument);
  frames().forEach((f) => { if (f !== source && f.contentDocument) mirror(f.contentDocument, sample); });
  later("state", 250, async () => {
    const seq = previewSeq;
    const r = await post(URLS.preview, { schema, ui_schema: ui, data: sample });
    if (!r.ok || seq !== previewSeq) return;
    frames().forEach((f) => { if (f.contentDocument) { applyState(f.contentDocument, r.json.state); fit(f); } });
  });
}

function wireFrame(frame) {
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
      sample = pairsOf(doc);
      preview(button.value);
    });
    fit(frame);
    frame.dataset.ready = "true";
  });
}

// -- advanced (JSON) ---------------------------------------------------------------------------------------------

const invalid = { schema: false, ui: false };
function syncAdvanced() {
  [["fm-json-schema", "schema", schema], ["fm-json-ui", "ui", ui]].forEach(([id, key, value]) => {
    const area = $(id);
    if (invalid[key] || document.activeElement === area) return;
    area.value = JSON.stringify(value, null, 2);
  });
}
function position(text, message) {
  let m = /line (\d+) column (\d+)/.exec(message);
  if (m) return { line: Number(m[1]), column: Number(m[2]) };
  m = /position (\d+)/.exec(message);
  const at = m ? Number(m[1]) : text.length;
  const before = text.slice(0, at).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
function onAdvanced(event) {
  const area = event.target;
  const key = area.id === "fm-json-schema" ? "schema" : "ui";
  const out = $(`${area.id}-error`);
  let value;
  try {
    value = JSON.parse(area.value);
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new SyntaxError(T.notObject);
  } catch (error) {
    invalid[key] = true;
    area.setAttribute("aria-invalid", "true");
    const at = position(area.value, String(error.message));
    out.textContent = fmt(T.jsonError, { line: at.line, column: at.column, message: error.message });
    return;
  }
  invalid[key] = false;
  area.removeAttribute("aria-invalid");
  out.textContent = T.jsonOk;
  if (key === "schema") {
    schema = value;
    if (!isObject(schema.properties)) schema.properties = {};
  } else ui = value;
  if (open && !(open in props())) open = null;
  changed(true);
}

// -- tabs, versions, save and publish ------------------------------------------------------------------------------

function tabs(ids, onSelect) {
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

function renderVersions(rows) {
  $("fm-versions").innerHTML = rows.map((v) => {
    const when = v.when ? ` · ${esc(v.when)} ${esc(v.published_by)}` : "";
    const current = v.number === DATA.version && !DATA.viewing ? ` <span class="fm-badge">${esc(T.current)}</span>` : "";
    const draftFrom = DATA.canEdit && v.status !== "draft"
      ? `<button type="button" class="small secondary" data-draft-from="${v.number}">${esc(T.draftFrom)}</button>` : "";
    return `<li data-version="${v.number}"><span><strong>v${v.number}</strong> ${esc(v.status_label)}${when}${current}</span>
      <span class="fm-tools"><a href="${esc(URLS.version.replace("{n}", v.number))}">${esc(T.view)}</a> ${draftFrom}</span></li>`;
  }).join("");
}

async function draftFrom(number, button) {
  if (button && !button.dataset.armed) {
    button.dataset.armed = "true";
    button.textContent = T.confirmDraftFrom;
    return;
  }
  clearTimeout(timers.save);
  dirty = false; // the draft is about to be replaced: do not send this page's edits after it
  const r = await post(URLS.draftFrom.replace("{n}", number), {});
  if (!r.ok) { $("fm-result").textContent = r.json.message || T.failed; return; }
  window.location.href = r.json.url;
}

let dirty = false;
let saving = false;
let saveAgain = false;
async function save() {
  if (!editable) return;
  if (saving) { saveAgain = true; return; } // one save at a time, so an older body never lands last
  saving = true;
  dirty = false;
  $("fm-save-status").textContent = T.saving;
  const r = await post(URLS.save, { schema, ui_schema: ui });
  saving = false;
  if (saveAgain) { saveAgain = false; save(); }
  if (!r.ok) {
    dirty = true;
    $("fm-save-status").textContent = fmt(T.saveFailed, { message: r.json.message || T.failed });
    return;
  }
  DATA.version = r.json.version;
  const time = new Date().toLocaleTimeString("zh-CN", { hour12: false });
  $("fm-save-status").textContent = fmt(T.saved, { n: r.json.version, time });
  const labelEl = $("fm-version-label");
  if (labelEl) labelEl.textContent = fmt(T.draftLabel, { n: r.json.version });
  renderVersions(r.json.versions);
}

async function publishOpen() {
  const panel = $("fm-publish-panel");
  const r = await post(URLS["publish-preview"], { schema, ui_schema: ui });
  if (!r.ok) { $("fm-result").textContent = r.json.message || T.failed; return; }
  const p = r.json;
  $("fm-changes-h").textContent = p.changes.length
    ? (p.published ? fmt(T.changes, { n: p.published }) : T.changesFirst) : T.noChanges;
  $("fm-changes").innerHTML = p.changes.map((c) => `<li>${esc(c)}</li>`).join("");
  $("fm-affected").innerHTML = p.affected.map((c) => `<li>${esc(c)}</li>`).join("");
  if (!p.ok) {
    report = { ...(report || {}), problems: p.problems };
    applyReport();
    $("fm-result").textContent = T.cannotPublish;
  } else $("fm-result").textContent = "";
  $("fm-confirm").checked = false;
  panel.hidden = false;
  $("fm-confirm").focus();
}

async function publish() {
  if (!$("fm-confirm").checked) { $("fm-result").textContent = T.confirmFirst; return; }
  clearTimeout(timers.save);
  const r = await post(URLS.publish, { schema, ui_schema: ui, confirm: true });
  if (r.ok || r.json.draft) dirty = false;
  if (!r.ok) {
    $("fm-result").textContent = fmt(T.publishFailed, { message: r.json.message || T.failed });
    if (r.json.problems) { report = { ...(report || {}), problems: r.json.problems }; applyReport(); }
    return;
  }
  $("fm-publish-panel").hidden = true;
  $("fm-result").textContent = fmt(T.published, { n: r.json.version });
  $("fm-save-status").textContent = "";
  DATA.version = r.json.version;
  const labelEl = $("fm-version-label");
  if (labelEl) labelEl.textContent = fmt(T.publishedLabel, { n: r.json.version });
  renderVersions(r.json.versions);
}

// -- start -------------------------------------------------------------------------------------------------------

function start() {
  const host = $("fm-sections");
  host.addEventListener("input", onInput);
  host.addEventListener("change", (event) => {
    if (event.target.dataset.prop === "name") onInput(event);
  });
  host.addEventListener("click", onClick);
  host.addEventListener("click", onNames);
  host.addEventListener("toggle", onNames, true);
  host.addEventListener("keydown", onKey);
  $("fm-problems").addEventListener("click", (event) => {
    const b = event.target.closest("[data-open]");
    if (!b) return;
    $("fm-tab-design").click();
    open = b.dataset.open;
    focusKey = `edit-${open}`;
    renderDesign();
  });
  const typeSelect = $("fm-new-type");
  if (typeSelect) typeSelect.innerHTML = typeOptions("text");
  const add = $("fm-add");
  if (add) {
    add.addEventListener("submit", (event) => {
      event.preventDefault();
      const title = $("fm-new-label").value.trim();
      if (!title) { $("fm-new-label").focus(); return; }
      const name = addField(title, typeSelect.value, Number($("fm-new-section").value));
      open = name;
      $("fm-new-label").value = "";
      say(fmt(T.added, { name: title }));
      focusKey = "title";
      changed(true);
    });
    $("fm-add-section").addEventListener("click", () => {
      ui.sections = sections();
      ui.sections.push({ title: `${T.newSection}${ui.sections.length + 1}`, fields: [] });
      focusKey = `section-title-${ui.sections.length - 1}`;
      changed(true);
    });
  }
  ["fm-json-schema", "fm-json-ui"].forEach((id) => $(id).addEventListener("input", onAdvanced));
  tabs(["fm-tab-design", "fm-tab-advanced", "fm-tab-versions"], () => syncAdvanced());
  tabs(["fm-width-phone", "fm-width-desktop"], () => frames().forEach(fit));
  frames().forEach(wireFrame);
  window.addEventListener("resize", () => frames().forEach(fit));
  renderVersions(DATA.versions);
  $("fm-versions").addEventListener("click", (event) => {
    const b = event.target.closest("[data-draft-from]");
    if (b) draftFrom(b.dataset.draftFrom, b);
  });
  const here = $("fm-draft-from-here");
  if (here) here.addEventListener("click", () => draftFrom(here.dataset.number, here));
  if ($("fm-publish-open")) {
    $("fm-publish-open").addEventListener("click", publishOpen);
    $("fm-publish").addEventListener("click", publish);
    $("fm-publish-cancel").addEventListener("click", () => { $("fm-publish-panel").hidden = true; });
  }
  window.addEventListener("pagehide", () => {
    // leaving with an edit not yet autosaved: send it anyway
    if (!editable || !dirty) return;
    fetch(URLS.save, {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ schema, ui_schema: ui }),
    });
  });
  renderDesign();
  syncAdvanced();
  check();
  preview();
  root.dataset.ready = "true";
}

start();
