// The rule editor of the configuration studio (bundled by `npm run build` into admin_ui/static/admin_ui/).
//
// Nothing about the DSL is hard-coded here: keywords (且 或 非 为空 …), functions with their Chinese aliases, the
// catalogue's names and the grammar's literal patterns (numbers with 万/亿/%/天, dates, both quote styles) come from
// /studio/rules/vocabulary/, and diagnostics and the verdict from the server's own checker (/studio/rules/check/).

import { EditorState, StateEffect } from "@codemirror/state";
import { EditorView, keymap, placeholder, drawSelection } from "@codemirror/view";
import { autocompletion, completionKeymap } from "@codemirror/autocomplete";
import { linter, lintGutter, forceLinting } from "@codemirror/lint";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { compileVocabulary, dslLanguage, dslHighlight, dslCompletions, diagnosticRange } from "./dsl_language.js";

const root = document.getElementById("rule-editor");
const i18n = JSON.parse(document.getElementById("rule-editor-i18n").textContent);
const typeSelect = document.getElementById("rule-type");
const verdictLine = document.getElementById("rule-verdict");
const diagnosticsList = document.getElementById("rule-diagnostics");
const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;

let vocabulary = null;
let compiled = null; // the vocabulary as the highlighter and the completion read it

function fmt(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({ message: i18n.failed }));
  if (!response.ok) throw new Error(data.message || i18n.failed);
  return data;
}

// --- highlighting and completion (admin_ui/frontend/dsl_language.js) -------------------------------------------

const getCompiled = () => compiled;
const language = dslLanguage(getCompiled);
const completions = dslCompletions(getCompiled, i18n);

// --- diagnostics ----------------------------------------------------------------------------------------------

function showDiagnostics(result) {
  diagnosticsList.replaceChildren();
  for (const d of result.diagnostics || []) {
    const li = document.createElement("li");
    li.dataset.code = d.code;
    const pos = document.createElement("span");
    pos.className = "pos";
    pos.textContent = `${d.code} ${fmt(i18n.position, d)}`;
    li.append(pos, document.createTextNode(d.message));
    diagnosticsList.append(li);
  }
  verdictLine.className = "verdict";
  verdictLine.textContent = "";
  if (result.verdict) {
    verdictLine.classList.add(result.verdict.in_database ? "in-db" : "in-py");
    verdictLine.textContent = result.verdict.text;
  }
}

async function serverLint(view) {
  const source = view.state.doc.toString();
  if (!vocabulary || !source.trim()) {
    showDiagnostics({ diagnostics: [] });
    return [];
  }
  let result;
  try {
    result = await post(root.dataset.checkUrl, { type: typeSelect.value, source });
  } catch (error) {
    verdictLine.className = "verdict";
    verdictLine.textContent = error.message;
    return [];
  }
  if (view.state.doc.toString() !== source) return []; // typed on meanwhile: the next run will report
  showDiagnostics(result);
  const doc = view.state.doc;
  return result.diagnostics.map((d) => ({
    ...diagnosticRange(doc, d),
    severity: "error",
    message: `${d.code} ${d.message}`,
  }));
}

// --- the editor -----------------------------------------------------------------------------------------------

const textarea = document.getElementById("rule-source");
const view = new EditorView({
  state: EditorState.create({
    doc: textarea.value,
    extensions: [
      history(),
      drawSelection(),
      language,
      dslHighlight,
      autocompletion({ override: [completions], activateOnTyping: true }),
      linter(serverLint, { delay: 300 }),
      lintGutter(),
      placeholder(textarea.placeholder),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ "aria-labelledby": "rule-source-label", "aria-multiline": "true" }),
      keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) textarea.value = update.state.doc.toString();
      }),
    ],
  }),
});
textarea.hidden = true;
textarea.after(view.dom);
view.dom.id = "rule-codemirror";

async function loadType() {
  const type = typeSelect.value;
  const [vocab, projects] = await Promise.all([
    fetch(`${root.dataset.vocabularyUrl}?type=${encodeURIComponent(type)}`, { credentials: "same-origin" }).then((r) =>
      r.json(),
    ),
    fetch(`${root.dataset.projectsUrl}?type=${encodeURIComponent(type)}`, { credentials: "same-origin" }).then((r) =>
      r.json(),
    ),
  ]);
  if (vocab.names) {
    compiled = compileVocabulary(vocab, vocab.names);
    vocabulary = vocab;
  }
  const picker = document.getElementById("try-project");
  picker.replaceChildren();
  for (const p of projects.projects || []) {
    const option = document.createElement("option");
    option.value = p.id;
    option.textContent = `${p.name}（${p.org}）`;
    picker.append(option);
  }
  if (!picker.options.length) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = i18n.noProjects;
    picker.append(option);
  }
  // re-highlight with the new vocabulary and re-check against the new type
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: view.state.doc.toString() } });
  forceLinting(view);
  root.dataset.ready = "true";
}

typeSelect.addEventListener("change", loadType);
loadType();

// --- 试算 and 影响范围 ----------------------------------------------------------------------------------------------

function shown(value) {
  if (value === true) return i18n.yes;
  if (value === false) return i18n.no;
  if (value === null || value === undefined) return i18n.null;
  if (Array.isArray(value)) return "[" + value.map(shown).join(", ") + "]";
  return String(value);
}

function traceTree(node) {
  const li = document.createElement("li");
  const code = document.createElement("code");
  code.textContent = node.text;
  li.append(code, document.createTextNode(` → ${node.evaluated ? shown(node.value) : "—"}`));
  if (node.children && node.children.length) {
    const ul = document.createElement("ul");
    for (const child of node.children) ul.append(traceTree(child));
    li.append(ul);
  }
  return li;
}

function problem(box, text) {
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = text;
  box.replaceChildren(p);
}

function source() {
  return view.state.doc.toString();
}

document.getElementById("try-run").addEventListener("click", async () => {
  const box = document.getElementById("try-result");
  if (!source().trim()) return problem(box, i18n.empty);
  try {
    const data = await post(root.dataset.tryUrl, {
      type: typeSelect.value,
      source: source(),
      project: document.getElementById("try-project").value,
    });
    if (!data.ok) return problem(box, i18n.fixFirst);
    const value = document.createElement("p");
    value.className = "value " + (data.fires ? "fires" : "quiet");
    value.textContent = fmt(i18n.valueLine, { value: shown(data.value), verdict: data.fires ? i18n.fires : i18n.quiet });
    const caption = document.createElement("p");
    caption.className = "muted";
    caption.textContent = `${i18n.trace} · ${data.project.name}`;
    const tree = document.createElement("ul");
    tree.className = "trace";
    tree.append(traceTree(data.trace));
    box.replaceChildren(value, caption, tree);
  } catch (error) {
    problem(box, error.message);
  }
});

document.getElementById("impact-run").addEventListener("click", async () => {
  const box = document.getElementById("impact-result");
  if (!source().trim()) return problem(box, i18n.empty);
  try {
    const data = await post(root.dataset.impactUrl, {
      type: typeSelect.value,
      source: source(),
      org: document.getElementById("impact-org").value,
    });
    if (!data.ok) return problem(box, i18n.fixFirst);
    const head = document.createElement("p");
    head.className = "value";
    head.textContent = data.count ? fmt(i18n.count, { n: data.count }) : i18n.none;
    const list = document.createElement("ul");
    list.className = "hits";
    for (const p of data.projects) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = p.url;
      a.textContent = p.name;
      const org = document.createElement("div");
      org.className = "muted";
      org.textContent = p.org;
      li.append(a, org);
      list.append(li);
    }
    const parts = [head, list];
    if (data.truncated) {
      const more = document.createElement("p");
      more.className = "muted";
      more.textContent = i18n.truncated;
      parts.push(more);
    }
    box.replaceChildren(...parts);
  } catch (error) {
    problem(box, error.message);
  }
});

// --- 发布: the rule as the next version of a policy rule pack ----------------------------------------------------

const publishPanel = document.getElementById("publish-preview") ? document.getElementById("publish-panel") : null;

if (publishPanel) {
  const $ = (id) => document.getElementById(id);
  const packSelect = $("publish-pack");
  const confirmButton = $("publish-confirm");
  const result = $("publish-result");
  let previewed = null; // the body of the last successful preview; confirming sends exactly it

  function showNewFields() {
    for (const el of publishPanel.querySelectorAll(".publish-new")) el.hidden = packSelect.value !== "new";
  }
  showNewFields();

  function stale() {
    previewed = null;
    confirmButton.disabled = true;
    confirmButton.textContent = confirmButton.dataset.label || confirmButton.textContent;
  }
  confirmButton.dataset.label = confirmButton.textContent;
  packSelect.addEventListener("change", () => {
    showNewFields();
    stale();
  });
  publishPanel.addEventListener("input", stale);
  typeSelect.addEventListener("change", stale);
  view.dispatch({
    effects: StateEffect.appendConfig.of(
      EditorView.updateListener.of((update) => {
        if (update.docChanged) stale();
      }),
    ),
  });

  function publishBody() {
    const body = {
      type: typeSelect.value,
      source: source(),
      code: $("publish-code").value,
      name: $("publish-name").value,
      severity: $("publish-severity").value,
      message: $("publish-message").value,
      triggers: [...publishPanel.querySelectorAll("input[name=publish-trigger]:checked")].map((c) => c.value),
    };
    if (packSelect.value === "new") {
      body.org = $("publish-org").value;
      body.pack = $("publish-pack-code").value;
      body.pack_name = $("publish-pack-name").value;
    } else {
      const [org, ...code] = packSelect.value.split("|");
      body.org = org;
      body.pack = code.join("|");
    }
    return body;
  }

  async function send(body) {
    const response = await fetch(root.dataset.publishUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({ message: i18n.failed }));
    return { ok: response.ok, data };
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showProblems(data) {
    const parts = [el("p", "error", data.message || i18n.failed)];
    const rows = data.problems && data.problems.length ? data.problems : null;
    const list = el("ul", "publish-problems");
    if (rows) {
      for (const p of rows) list.append(el("li", "", p.path ? `${p.path}：${p.message}` : p.message));
    } else {
      for (const [field, messages] of Object.entries(data.fields || {})) {
        for (const m of messages) list.append(el("li", "", `${field}：${m}`));
      }
    }
    if (list.children.length) parts.push(list);
    result.replaceChildren(...parts);
  }

  function showPreview(data) {
    const parts = [];
    const pack = data.pack;
    parts.push(el("p", "value", pack.previous ? fmt(i18n.publishNext, pack) : fmt(i18n.publishNew, pack)));
    if (pack.previous && data.changes.length) {
      parts.push(el("p", "muted", fmt(i18n.publishChanges, pack)));
      const changes = el("ul", "publish-changes");
      for (const c of data.changes) changes.append(el("li", "", c));
      parts.push(changes);
    }
    parts.push(el("p", "muted", fmt(i18n.publishTests, data.tests)));
    const impact = el("ul", "publish-impact");
    for (const r of data.impact) {
      const li = el("li", "", fmt(i18n.publishFiring, { ...r, n: r.firing }));
      if (r.newly.length) {
        const hits = el("ul", "hits");
        for (const p of r.newly) {
          const item = el("li");
          const a = el("a", "", p.name);
          a.href = p.url;
          item.append(a, el("span", "muted", ` ${p.org}`));
          hits.append(item);
        }
        li.append(hits);
      }
      impact.append(li);
    }
    parts.push(impact);
    result.replaceChildren(...parts);
  }

  $("publish-preview").addEventListener("click", async () => {
    stale();
    const body = publishBody();
    if (!body.code.trim() || !body.name.trim()) return problem(result, i18n.publishEmpty);
    if (!body.source.trim()) return problem(result, i18n.empty);
    result.replaceChildren(el("p", "muted", i18n.publishPreviewing));
    try {
      const { ok, data } = await send(body);
      if (!ok) return showProblems(data);
      showPreview(data);
      previewed = { ...body, base: data.pack.previous };
      confirmButton.disabled = false;
      confirmButton.textContent = fmt(i18n.publishConfirm, data.pack);
    } catch (error) {
      problem(result, error.message);
    }
  });

  confirmButton.addEventListener("click", async () => {
    if (!previewed) return;
    const body = { ...previewed, confirm: true };
    confirmButton.disabled = true;
    try {
      const { ok, data } = await send(body);
      if (!ok) return showProblems(data);
      previewed = null;
      confirmButton.textContent = confirmButton.dataset.label;
      const done = el("p", "ok", fmt(i18n.publishDone, data.pack));
      const link = el("a", "", i18n.publishView);
      link.href = data.url;
      link.id = "publish-pack-link";
      result.replaceChildren(done, link);
    } catch (error) {
      problem(result, error.message);
    }
  });
}
