// The advanced tab: the schema and UI schema as editable JSON. Typing valid JSON (an object) replaces the model and
// re-renders the design view; invalid JSON is reported with its line and column and leaves the model as it was
// (and stops the tab being overwritten by the model until it parses again).
import { T, $ } from "./page.js";
import { isObject, fmt } from "./util.js";
import { state, props } from "./model.js";
import { changed } from "./edit.js";

const invalid = { schema: false, ui: false };
export function syncAdvanced() {
  [["fm-json-schema", "schema", state.schema], ["fm-json-ui", "ui", state.ui]].forEach(([id, key, value]) => {
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
export function onAdvanced(event) {
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
    state.schema = value;
    if (!isObject(state.schema.properties)) state.schema.properties = {};
  } else state.ui = value;
  if (state.open && !(state.open in props())) state.open = null;
  changed(true);
}
