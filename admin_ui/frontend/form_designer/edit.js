// Editing in the design view: the delegated input/change/click/keydown handlers turn the controls of a field row
// (and of a group's row columns) into model operations, then `changed` re-renders if the structure changed,
// re-syncs the advanced tab and schedules check/, preview/ and the autosave.
import { T, TYPES, editable, $ } from "./page.js";
import { clone, fmt, later, say } from "./util.js";
import {
  state, props, required, sections, conf, setConf, label, kindOf, identifier, uniqueName,
  removeField, renameField, changeType, setOptions, setNumber, move,
} from "./model.js";
import { renderDesign } from "./render.js";
import { check } from "./problems.js";
import { preview } from "./preview.js";
import { syncAdvanced } from "./advanced.js";
import { save } from "./publish.js";

export function onInput(event) {
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
    if (state.open === name) state.open = renamed;
    state.focusKey = "name";
    return changed(true);
  }
  if (key === "title") {
    prop.title = value;
    li.querySelector(".fm-row-label").textContent = value || name;
    const kind = TYPES[kindOf(prop)];
    li.setAttribute("aria-label", `${value || name}（${kind ? kind.zh : ""}）`);
  } else if (key === "type") {
    changeType(props(), value, name, false);
    state.focusKey = "type";
    return changed(true);
  } else if (key === "section") {
    sections().forEach((s) => { if (Array.isArray(s.fields)) s.fields = s.fields.filter((n) => n !== name); });
    const index = Number(value);
    if (index >= 0) { sections()[index].fields = sections()[index].fields || []; sections()[index].fields.push(name); }
    state.focusKey = "section";
    return changed(true);
  } else if (key === "required") {
    const list = required().filter((n) => n !== name);
    if (value) list.push(name);
    if (list.length) state.schema.required = list; else delete state.schema.required;
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
    state.focusKey = `sub-type-${identifier(sub)}`;
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
    state.focusKey = "sub-new-label";
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
      state.focusKey = `${act}-${sub}`;
    }
  }
  setConf(group, "item", Object.keys(it).length ? it : null);
  changed(true);
}

export function onClick(event) {
  const button = event.target.closest("button[data-act]");
  if (!button) return;
  const act = button.dataset.act;
  if (act === "remove-section") {
    state.ui.sections.splice(Number(button.dataset.section), 1);
    if (!state.ui.sections.length) delete state.ui.sections;
    return changed(true);
  }
  const li = button.closest(".fm-row");
  const name = li && li.dataset.name;
  if (!name) return;
  if (act.startsWith("sub-")) return subAct(name, act, button.closest("[data-sub]") || button.closest(".fm-group"));
  if (act === "edit") {
    state.open = state.open === name ? null : name;
    state.focusKey = `edit-${name}`;
    return renderDesign();
  }
  if (act === "remove") {
    const title = label(name);
    removeField(name);
    if (state.open === name) state.open = null;
    say(fmt(T.removed, { name: title }));
    return changed(true);
  }
  if (act === "up" || act === "down") {
    move(name, act === "up" ? -1 : 1);
    state.focusKey = `${act}-${name}`;
    return changed(true);
  }
}

export function onKey(event) {
  if (!editable || !event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
  const li = event.target.closest(".fm-row");
  if (!li || (event.target !== li && !event.target.closest(".fm-row-head"))) return;
  event.preventDefault();
  move(li.dataset.name, event.key === "ArrowUp" ? -1 : 1);
  state.focusKey = `row-${li.dataset.name}`;
  changed(true);
}

export function changed(structural) {
  if (structural) renderDesign();
  syncAdvanced();
  later("check", 250, check);
  later("preview", 350, () => preview());
  if (editable) {
    state.dirty = true;
    $("fm-save-status").textContent = T.unsaved;
    later("save", 1200, save);
    const panel = $("fm-publish-panel");
    if (panel && !panel.hidden) { panel.hidden = true; $("fm-result").textContent = T.publishStale; }
  }
}
