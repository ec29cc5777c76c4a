// The DSL fields (a field's computed value, visible-if and required-if expressions): a textarea in the rendered HTML, replaced on screen by a CodeMirror
// editor that writes every change back into the (hidden) textarea — so the design view's input handler reads DSL
// values like any other control. The language, highlighting, completion and diagnostic spans come from the
// shared ../dsl_language.js (also used by the rule editor); the server's check/ answers which names an expression
// may use and where its errors are, shown here as lint marks.
import { EditorState, Compartment } from "@codemirror/state";
import { EditorView, keymap, drawSelection } from "@codemirror/view";
import { autocompletion, completionKeymap } from "@codemirror/autocomplete";
import { setDiagnostics } from "@codemirror/lint";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { compileVocabulary, dslLanguage, dslHighlight, dslCompletions, diagnosticRange } from "../dsl_language.js";
import { DATA, T, editable, dis, $ } from "./page.js";
import { esc } from "./util.js";
import { state, props, label } from "./model.js";

// The HTML of one DSL field: its label, the textarea, the slot for the server's diagnostics and the list of names to insert.
export function expr(key, labelText, value, path) {
  const id = `fm-x-${Math.random().toString(36).slice(2, 8)}`;
  return `<div class="fm-prop fm-expr"><label for="${id}">${esc(labelText)}</label>
    <textarea id="${id}" rows="1" class="fm-dsl" data-prop="${key}" data-key="${key}" data-expr="${esc(path)}" spellcheck="false"
      data-label="${esc(labelText)}" aria-describedby="${id}-diag"${dis}>${esc(value)}</textarea>
    <div class="fm-diag" id="${id}-diag" data-diag-for="${esc(path)}"></div>
    ${editable ? `<details class="fm-names" data-names-for="${id}"><summary>${esc(T.insertName)}</summary><div class="fm-name-list"></div></details>` : ""}</div>`;
}

// -- the editors: CodeMirror over the (hidden) textarea, which keeps the value the model reads ---------------------

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

export function mountEditors(host) {
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
export function lintEditors() {
  const byPath = new Map((state.report && state.report.diagnostics ? state.report.diagnostics : []).map((d) => [d.path, d]));
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
export function namesFor(path) {
  const all = (state.report && state.report.names) || Object.keys(props());
  const row = /^ui_schema\/fields\/([^/]+)\/item\//.exec(path);
  if (!row) return all;
  const prefix = `${row[1]}.`;
  return all.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
}
export function onNames(event) {
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
