// Problems and diagnostics. No DSL is checked in the browser: check/ runs the server's one checker over the whole
// schema and answers the problems (with the field or path they belong to) and each expression's diagnostics (with
// line and columns). They are shown under the expression (the source with the span marked, and as lint marks in
// its editor), on the field's row, and in the summary list above the design view.
import { T, URLS, editable, $ } from "./page.js";
import { esc, fmt, post } from "./util.js";
import { state, props, label } from "./model.js";
import { lintEditors } from "./dsl_fields.js";

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

export function applyReport() {
  if (!state.report) return;
  const host = $("fm-sections");
  host.querySelectorAll("[data-diag-for]").forEach((el) => { el.innerHTML = ""; });
  host.querySelectorAll("[data-expr]").forEach((el) => el.removeAttribute("aria-invalid"));
  host.querySelectorAll(".fm-row").forEach((el) => el.classList.remove("has-problem"));
  host.querySelectorAll("[data-problems-for]").forEach((el) => { el.innerHTML = ""; });
  (state.report.diagnostics || []).forEach((d) => {
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
  (state.report.problems || []).forEach((p) => {
    if (p.line != null) return; // shown under the expression
    const name = p.field || fieldOfPath(p.path);
    const row = name && host.querySelector(`.fm-row[data-name="${CSS.escape(name)}"]`);
    if (row) row.classList.add("has-problem");
    const list = name && host.querySelector(`[data-problems-for="${CSS.escape(name)}"]`);
    if (list) list.insertAdjacentHTML("beforeend", `<li class="fm-problem">${esc(p.message)}</li>`);
  });
  const problems = state.report.problems || [];
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
export async function check() {
  const seq = ++checkSeq;
  $("fm-summary").textContent = T.checking;
  const r = await post(URLS.check, { schema: state.schema, ui_schema: state.ui });
  if (seq !== checkSeq) return;
  if (!r.ok) { $("fm-summary").textContent = r.json.message || T.failed; return; }
  state.report = r.json;
  applyReport();
}
