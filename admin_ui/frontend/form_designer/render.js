// The design view: one card per section (and one for the fields in none), each an ordered list of field rows that
// drag between lists (SortableJS) or move with the up/down buttons and Alt+↑/↓; the open row shows the field's
// editor, and a group's editor lists its row columns. It is rebuilt from `state` after every structural edit, and
// the focus then returns to the control named by `state.focusKey`.
import Sortable from "sortablejs";
import { DATA, T, TYPES, editable, dis, $ } from "./page.js";
import { esc, fmt } from "./util.js";
import { state, props, required, sections, conf, buckets, applyBuckets, sectionOf, kindOf, options } from "./model.js";
import { expr, mountEditors } from "./dsl_fields.js";
import { applyReport } from "./problems.js";
import { changed } from "./edit.js";

export function typeOptions(current, rows) {
  return DATA.types
    .filter((t) => !(rows && t.name === "group"))
    .map((t) => `<option value="${t.name}"${t.name === current ? " selected" : ""}>${esc(t.zh)}</option>`)
    .join("");
}
function input(key, labelText, value, extra = "") {
  const id = `fm-${key}-${Math.random().toString(36).slice(2, 8)}`;
  return `<div class="fm-prop"><label for="${id}">${esc(labelText)}</label><input id="${id}" data-prop="${key}" data-key="${key}" value="${esc(value)}"${extra}${dis}></div>`;
}

let sortables = [];

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
  const isOpen = state.open === name;
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

export function renderDesign() {
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
  if (state.focusKey) {
    const target = host.querySelector(`[data-key="${CSS.escape(state.focusKey)}"]`);
    if (target) target.focus();
    state.focusKey = null;
  }
}
