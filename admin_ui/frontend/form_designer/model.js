// The model: the form's JSON Schema (`state.schema`) and UI schema (`state.ui`) and the pure operations the design
// view applies to them — fields in order, sections, a field's UI configuration (`conf`), add, remove, rename,
// change type, options and bounds, move up/down. Everything here only reads and writes `state`; nothing renders.
import { DATA, T, TYPES } from "./page.js";
import { isObject, clone, fmt, say } from "./util.js";

// The designer's one mutable state, shared by every module (each reads and assigns `state.x`, never a copy).
export const state = {
  schema: clone(DATA.schema || {}),
  ui: clone(DATA.ui_schema || {}),
  open: null, // the field whose editor is expanded
  report: null, // the last answer of check/
  sample: [], // the sample values typed into the preview, as [name, value] pairs
  focusKey: null, // the data-key of the control to focus after the next render
  dirty: false, // an edit not yet autosaved
};
if (!isObject(state.schema)) state.schema = {};
if (!isObject(state.ui)) state.ui = {};
if (!isObject(state.schema.properties)) state.schema.properties = {};

export const props = () => state.schema.properties;
export const required = () => (Array.isArray(state.schema.required) ? state.schema.required : []);
export const sections = () => (Array.isArray(state.ui.sections) ? state.ui.sections : []);
export function conf(name) { return (isObject(state.ui.fields) && isObject(state.ui.fields[name]) && state.ui.fields[name]) || {}; }
export function setConf(name, key, value) {
  state.ui.fields = isObject(state.ui.fields) ? state.ui.fields : {};
  const c = isObject(state.ui.fields[name]) ? state.ui.fields[name] : {};
  if (value === "" || value === null || value === undefined) delete c[key];
  else c[key] = value;
  if (Object.keys(c).length) state.ui.fields[name] = c; else delete state.ui.fields[name];
  if (!Object.keys(state.ui.fields).length) delete state.ui.fields;
}
export function ordered() {
  const names = Object.keys(props());
  const order = (Array.isArray(state.ui.order) ? state.ui.order : []).filter((n) => names.includes(n));
  return order.concat(names.filter((n) => !order.includes(n)));
}
export function buckets() {
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
export function applyBuckets(list) {
  list.forEach((b) => { if (b.index >= 0) state.ui.sections[b.index].fields = b.names.slice(); });
  const flat = list.flatMap((b) => b.names);
  if (Array.isArray(state.ui.order) || !sections().length || list[list.length - 1].names.length) state.ui.order = flat;
}
export function sectionOf(name) { return sections().findIndex((s) => Array.isArray(s.fields) && s.fields.includes(name)); }
export function label(name) { const p = props()[name]; return (p && p.title) || name; }
export function kindOf(prop) { return (prop && prop["x-field"]) || ""; }
export function identifier(text) {
  let name = String(text || "").replace(/[（(][^）)]*[）)]/g, "").replace(/[^\p{L}\p{N}_]/gu, "");
  if (!name || /^[0-9]/.test(name)) name = "字段" + name;
  return name.slice(0, 40);
}
export function uniqueName(base, taken) {
  let name = base;
  for (let i = 2; taken.includes(name); i++) name = base + i;
  return name;
}

export function addField(title, type, sectionIndex) {
  const name = uniqueName(identifier(title), Object.keys(props()));
  const prop = clone(TYPES[type].template);
  prop.title = title;
  props()[name] = prop;
  if (sectionIndex >= 0 && sections()[sectionIndex]) {
    const s = sections()[sectionIndex];
    s.fields = Array.isArray(s.fields) ? s.fields : [];
    s.fields.push(name);
  }
  if (Array.isArray(state.ui.order)) state.ui.order.push(name);
  if (type === "computed") setConf(name, "computed", "");
  return name;
}
export function removeField(name) {
  delete props()[name];
  if (Array.isArray(state.schema.required)) state.schema.required = state.schema.required.filter((n) => n !== name);
  if (Array.isArray(state.ui.order)) state.ui.order = state.ui.order.filter((n) => n !== name);
  sections().forEach((s) => { if (Array.isArray(s.fields)) s.fields = s.fields.filter((n) => n !== name); });
  if (state.ui.fields) { delete state.ui.fields[name]; if (!Object.keys(state.ui.fields).length) delete state.ui.fields; }
  (Array.isArray(state.ui.validations) ? state.ui.validations : []).forEach((v) => {
    if (v && Array.isArray(v.fields)) v.fields = v.fields.filter((n) => n !== name);
  });
}
export function renameField(from, to) {
  to = identifier(to);
  if (!to || to === from || to in props()) return from;
  const rebuilt = {};
  Object.keys(props()).forEach((k) => { rebuilt[k === from ? to : k] = props()[k]; });
  state.schema.properties = rebuilt;
  const swap = (list) => (Array.isArray(list) ? list.map((n) => (n === from ? to : n)) : list);
  if (Array.isArray(state.schema.required)) state.schema.required = swap(state.schema.required);
  if (Array.isArray(state.ui.order)) state.ui.order = swap(state.ui.order);
  sections().forEach((s) => { s.fields = swap(s.fields); });
  if (state.ui.fields && from in state.ui.fields) {
    const fields = {};
    Object.keys(state.ui.fields).forEach((k) => { fields[k === from ? to : k] = state.ui.fields[k]; });
    state.ui.fields = fields;
  }
  (Array.isArray(state.ui.validations) ? state.ui.validations : []).forEach((v) => { if (v) v.fields = swap(v.fields); });
  return to;
}
export function changeType(target, type, name, isRow) {
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
export function options(prop) {
  const source = prop.type === "array" ? prop.items || {} : prop;
  return Array.isArray(source.enum) ? source.enum : [];
}
export function setOptions(prop, text) {
  const values = text.split("\n").map((s) => s.trim()).filter(Boolean);
  if (prop.type === "array") { prop.items = prop.items || { type: "string" }; prop.items.enum = values; } else prop.enum = values;
}
export function setNumber(prop, key, text) {
  if (String(text).trim() === "") delete prop[key];
  else if (!Number.isNaN(Number(text))) prop[key] = Number(text);
}

export function move(name, delta) {
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
