// The form designer (see admin_ui/form_designer.py): edits a form's JSON Schema + UI schema as a list of fields in
// sections, with a live preview of the generated staff page. No DSL is evaluated or checked here: the server's one
// checker answers check/ (problems and per-expression diagnostics with columns) and its one evaluator answers
// preview/ (visibility and computed values for the sample values typed into the preview).
//
// This entry point only wires the page's events to the modules in ./form_designer/, which read top to bottom:
//   page.js       what the server rendered into the page (data, texts, endpoints, CSRF token)
//   util.js       small helpers (clone, fmt, esc, post, debounced timers, the live region, tab lists)
//   model.js      the one shared `state` (schema, ui, open field, last check, sample values …) and the pure
//                 operations on the schema and UI schema (fields, sections, conf, add, remove, rename, move)
//   dsl_fields.js the CodeMirror editors of the DSL fields, over ../dsl_language.js (shared with the rule editor)
//   render.js     the design view (sections, field rows, a field's editor, a group's row columns)
//   edit.js       the design view's input/click/key handlers, and `changed` (re-render, re-check, autosave)
//   problems.js   check/ and its problems and diagnostics on the page
//   preview.js    the phone and desktop preview frames and their sample values
//   advanced.js   the advanced tab (schema and UI schema as JSON)
//   publish.js    autosave, versions, new draft from a version, publish
// Every module reads and assigns the shared state as `state.x` (imported from model.js), never a copy of it.
import { root, DATA, T, $ } from "./form_designer/page.js";
import { fmt, say, tabs } from "./form_designer/util.js";
import { state, sections, addField } from "./form_designer/model.js";
import { onNames } from "./form_designer/dsl_fields.js";
import { typeOptions, renderDesign } from "./form_designer/render.js";
import { onInput, onClick, onKey, changed } from "./form_designer/edit.js";
import { check } from "./form_designer/problems.js";
import { frames, fit, wireFrame, preview } from "./form_designer/preview.js";
import { syncAdvanced, onAdvanced } from "./form_designer/advanced.js";
import { renderVersions, draftFrom, publishOpen, publish, saveOnLeave } from "./form_designer/publish.js";

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
    state.open = b.dataset.open;
    state.focusKey = `edit-${state.open}`;
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
      state.open = name;
      $("fm-new-label").value = "";
      say(fmt(T.added, { name: title }));
      state.focusKey = "title";
      changed(true);
    });
    $("fm-add-section").addEventListener("click", () => {
      state.ui.sections = sections();
      state.ui.sections.push({ title: `${T.newSection}${state.ui.sections.length + 1}`, fields: [] });
      state.focusKey = `section-title-${state.ui.sections.length - 1}`;
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
  window.addEventListener("pagehide", saveOnLeave);
  renderDesign();
  syncAdvanced();
  check();
  preview();
  root.dataset.ready = "true";
}

start();
