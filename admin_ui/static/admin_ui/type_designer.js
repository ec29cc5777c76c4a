/* The studio's project type designer. Plain JS, no library.
   The page edits `config` (for an override: only the delta). Every change (debounced) posts it to check/, which
   answers with the problems (each with the path of the field it names), each indicator's DSL diagnostics (line and
   column) and the effective configuration key by key with its origin; changes are autosaved to save/. Publishing
   first shows publish-preview/ (the diff and the records affected) and needs the confirmation box. */
(function () {
  "use strict";
  const root = document.getElementById("type-designer");
  if (!root) return;
  const data = JSON.parse(document.getElementById("type-designer-data").textContent);
  const T = JSON.parse(document.getElementById("type-designer-i18n").textContent);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const canEdit = root.dataset.canEdit === "true";
  const override = data.override;
  const base = data.base || {};
  const config = data.config || {};
  const MARKS = { 继承: T.inherited, 修改: T.changed, 新增: T.added, 本级: T.own, 删除: T.removed };
  let checked = data.checked;
  let checkTimer = null;
  let saveTimer = null;
  let checkSeq = 0;
  let uid = 0;

  const { fmt, el, input, select } = window.TaizhangStudio;
  const button = (text, action, attrs) => window.TaizhangStudio.button(text, action, attrs, canEdit);
  const post = (url, body) => window.TaizhangStudio.postJSON(url, body, csrf, T.failed);
  const clone = (v) => JSON.parse(JSON.stringify(v));

  function field(label, path, control, extra) {
    const id = "td-f" + ++uid;
    control.id = id;
    control.dataset.path = path;
    if (!canEdit) control.disabled = true;
    const wrap = el("div", { className: "td-field" + (extra ? " " + extra : ""), "data-field": path });
    wrap.append(el("label", { for: id, text: label }), control, el("div", { className: "td-slot" }));
    return wrap;
  }

  function checks(path, options, chosen, label) {
    const box = el("fieldset", { className: "td-checks", "data-field": path, "data-group": path });
    box.append(el("legend", { text: label }));
    for (const [value, text] of options) {
      const id = "td-f" + ++uid;
      const cb = el("input", { type: "checkbox", id, value, checked: chosen.includes(value) });
      cb.dataset.group = path;
      if (!canEdit) cb.disabled = true;
      box.append(el("label", { className: "td-check", for: id }, cb, document.createTextNode(" " + text)));
    }
    box.append(el("div", { className: "td-slot" }));
    return box;
  }

  /* Paths: "stages[0].code", "forms.立项申请", "thresholds" ------------------------------------------------------ */

  function tokens(path) {
    const out = [];
    path.replace(/([^.[\]]+)|\[(\d+)\]/g, (_, name, index) => out.push(index !== undefined ? Number(index) : name));
    return out;
  }

  function setPath(path, value) {
    const parts = tokens(path);
    let obj = config;
    for (let i = 0; i < parts.length - 1; i++) obj = obj[parts[i]];
    const last = parts[parts.length - 1];
    if (value === "" && typeof last === "string" && !Array.isArray(obj) && obj !== config) delete obj[last];
    else obj[last] = value;
  }

  /* Sections ---------------------------------------------------------------------------------------------------- */

  const has = (key) => !override || Object.prototype.hasOwnProperty.call(config, key);
  const current = (key) => (has(key) ? config[key] : base[key]);
  const lixiang = () => {
    const forms = Object.assign({}, base.forms || {}, config.forms || {});
    return data.forms.find((f) => f.code === forms["立项申请"]);
  };

  function inheritance(key) {
    if (!override) return null;
    const bar = el("div", { className: "td-inherit" });
    if (has(key)) {
      bar.append(el("span", { className: "td-badge td-mark-修改", text: T.changed }), button(T.restore, "restore", { "data-key": key, "data-focus": "restore-" + key, "aria-label": `${T.restore}：${data.labels[key] || key}` }));
      if (data.merged.includes(key)) bar.append(el("p", { className: "muted td-hint", text: T.mergeHint }));
    } else {
      bar.append(el("span", { className: "td-badge td-mark-继承", text: T.inherited }), button(T.editHere, "edit-here", { "data-key": key, "data-focus": "edit-" + key, "aria-label": `${T.editHere}：${data.labels[key] || key}` }));
    }
    return bar;
  }

  function readonly(key) {
    const value = base[key];
    const row = (checked.effective || []).find((r) => r.key === key);
    const box = el("div", { className: "td-readonly-value" }, el("p", { className: "muted", text: T.inheritedValue }));
    if (row && row.items.length) {
      const ul = el("ul", { className: "td-items" });
      row.items.forEach((item) => ul.append(el("li", { text: item.text })));
      box.append(ul);
    } else box.append(el("p", { text: value === undefined || value === null ? "—" : String(value) }));
    return box;
  }

  function block(key, editor, titled) {
    const wrap = el("div", { className: "td-block", "data-block": key });
    if (override && titled) wrap.append(el("h3", { text: data.labels[key] || key }));
    if (override) wrap.append(inheritance(key));
    wrap.append(has(key) ? editor() : readonly(key));
    return wrap;
  }

  function tools(list, i, length, name) {
    const box = el("div", { className: "td-tools" });
    box.append(
      button(T.up, "up", { "data-list": list, "data-index": i, "data-focus": `up-${list}-${i}`, disabled: i === 0 || !canEdit, "aria-label": `${T.up} ${name}` }),
      button(T.down, "down", { "data-list": list, "data-index": i, "data-focus": `down-${list}-${i}`, disabled: i === length - 1 || !canEdit, "aria-label": `${T.down} ${name}` }),
      button(T.remove, "remove", { "data-list": list, "data-index": i, "data-focus": `rm-${list}-${i}`, className: "small danger", "aria-label": `${T.remove} ${name}` })
    );
    return box;
  }

  const renderers = {
    basic() {
      const frag = el("div");
      frag.append(block("name", () => field(data.labels.name, "name", input(config.name)), true));
      frag.append(block("category", () => field(data.labels.category, "category", select(config.category || data.categories[0], data.categories)), true));
      return frag;
    },
    stages() {
      return block("stages", () => {
        const stages = config.stages || (config.stages = []);
        const list = el("ol", { className: "td-list", "data-field": "stages" });
        const forms = data.forms.map((f) => [f.code, f.name]);
        stages.forEach((s, i) => {
          const p = `stages[${i}]`;
          const li = el("li", { className: "td-item-card" });
          li.append(el("div", { className: "td-item-head" }, el("h4", { text: fmt(T.stage, { n: i + 1 }) + "：" + (s.name || s.code || "") }), tools("stages", i, stages.length, s.name || s.code || "")));
          const grid = el("div", { className: "td-grid" });
          grid.append(field(T.stageCode, `${p}.code`, input(s.code)), field(T.stageName, `${p}.name`, input(s.name)));
          li.append(grid, checks(`${p}.required_forms`, forms, s.required_forms || [], T.requiredForms));
          list.append(li);
        });
        const out = el("div", {}, el("div", { className: "td-slot", "data-field": "stages" }), list);
        out.append(button(T.addStage, "add-stage", { "data-focus": "add-stage", className: "small" }));
        return out;
      });
    },
    forms() {
      return block("forms", () => {
        const forms = config.forms || (config.forms = {});
        const grid = el("div", { className: "td-grid" });
        for (const role of data.roles) {
          const options = [["", T.noForm], ...data.forms.map((f) => [f.code, `${f.name}（${f.code}）`])];
          grid.append(field(role, `forms.${role}`, select(forms[role] || "", options)));
        }
        return grid;
      });
    },
    indicators() {
      return block("indicators", () => {
        const items = config.indicators || (config.indicators = []);
        const list = el("ol", { className: "td-list" });
        items.forEach((item, i) => {
          const p = `indicators[${i}]`;
          const li = el("li", { className: "td-item-card", "data-indicator": i });
          li.append(el("div", { className: "td-item-head" }, el("h4", { text: fmt(T.indicator, { n: i + 1 }) + "：" + (item.name || "") }), tools("indicators", i, items.length, item.name || "")));
          const grid = el("div", { className: "td-grid" });
          grid.append(field(T.indicatorName, `${p}.name`, input(item.name)));
          grid.append(field(T.format, `${p}.format`, select(item.format || "number", data.formats.map((f) => [f, T.formats[f] || f]))));
          const expr = input(item.expr, { className: "td-dsl", spellcheck: "false" });
          const exprField = field(T.expr, `${p}.expr`, expr, "wide");
          exprField.append(el("div", { className: "td-diag", "data-diag": i }));
          grid.append(exprField);
          li.append(grid);
          list.append(li);
        });
        return el("div", {}, list, button(T.addIndicator, "add-indicator", { "data-focus": "add-indicator", className: "small" }));
      });
    },
    thresholds() {
      return block("thresholds", () => {
        const map = config.thresholds || (config.thresholds = {});
        const list = el("ul", { className: "td-list td-thresholds" });
        Object.entries(map).forEach(([name, value], i) => {
          const li = el("li", { className: "td-threshold", "data-threshold": i });
          const n = input(name, { "data-threshold-name": "" });
          const v = input(String(value), { inputmode: "decimal", "data-threshold-value": "" });
          li.append(field(T.thresholdName, `thresholds.${name}#name`, n), field(T.thresholdValue, `thresholds.${name}`, v));
          li.append(button(T.remove, "remove-threshold", { "data-name": name, "data-focus": `rmt-${i}`, className: "small danger", "aria-label": `${T.remove} ${name}` }));
          list.append(li);
        });
        return el("div", {}, list, button(T.addThreshold, "add-threshold", { "data-focus": "add-threshold", className: "small" }));
      });
    },
    public_fields() {
      return block("public_fields", () => {
        const form = lixiang();
        if (!form) return el("p", { className: "muted", text: T.noLixiang });
        const options = form.fields.map((f) => [f.name, f.title === f.name ? f.name : `${f.title}（${f.name}）`]);
        const chosen = config.public_fields || (config.public_fields = []);
        for (const name of chosen) if (!options.some((o) => o[0] === name)) options.push([name, name]);
        return el("div", {}, el("p", { className: "muted", text: T.publicHint }), checks("public_fields", options, chosen, data.labels.public_fields));
      });
    },
  };
  const sectionOf = { "name category": "basic", stages: "stages", forms: "forms", indicators: "indicators", thresholds: "thresholds", public_fields: "public_fields" };

  function render(which) {
    const focused = document.activeElement;
    const focusKey = focused && root.contains(focused) ? focused.dataset.focus || focused.dataset.path : null;
    for (const section of root.querySelectorAll(".td-section")) {
      const name = sectionOf[section.dataset.key];
      if (which && which !== name && !(which === "name" && name === "basic")) continue;
      section.querySelector(".td-body").replaceChildren(renderers[name]());
    }
    if (focusKey) {
      const again = root.querySelector(`[data-focus="${CSS.escape(focusKey)}"], [data-path="${CSS.escape(focusKey)}"]`);
      if (again && !again.disabled) again.focus();
    }
    showChecked();
  }

  /* Check results ------------------------------------------------------------------------------------------------ */

  function caret(expr, d) {
    const line = String(expr || "").split("\n")[d.line - 1] || "";
    let pad = "";
    for (const ch of line.slice(0, Math.max(0, d.column - 1))) pad += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? "\u3000" : " ";
    return line + "\n" + pad + "^";
  }

  function placeProblem(path, message) {
    let target = null;
    let probe = path;
    while (probe && !target) {
      target = root.querySelector(`#td-sections [data-field="${CSS.escape(probe)}"]`);
      const cut = probe.search(/(\.[^.[\]]*|\[\d+\])$/);
      if (target || cut <= 0) break;
      probe = probe.slice(0, cut);
    }
    if (!target) return;
    const slot = target.querySelector(":scope > .td-slot") || (target.classList.contains("td-slot") ? target : null);
    (slot || target).append(el("span", { className: "td-problem", text: message }));
    const control = target.querySelector("[data-path], input, select");
    if (control) control.setAttribute("aria-invalid", "true");
  }

  function showChecked() {
    root.querySelectorAll(".td-problem, .td-diag > *").forEach((n) => n.remove());
    root.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    const problems = checked.problems || [];
    const list = document.getElementById("td-problems");
    list.replaceChildren();
    for (const p of problems) {
      const where = p.edit_path === null ? `${p.path} ${T.inheritedProblem}` : p.path;
      list.append(el("li", {}, el("span", { className: "pos", text: where }), document.createTextNode(p.message)));
      if (p.edit_path && !/^indicators\[\d+\]\.expr$/.test(p.edit_path)) placeProblem(p.edit_path, p.message);
    }
    (checked.indicators || []).forEach((diags, i) => {
      const slot = root.querySelector(`[data-diag="${i}"]`);
      if (!slot) return;
      const expr = (config.indicators || [])[i]?.expr;
      for (const d of diags) {
        const box = el("div", { className: "td-problem td-dsl-problem", "data-line": d.line, "data-column": d.column });
        box.append(el("strong", { text: fmt(T.column, d) + "：" }), document.createTextNode(d.message));
        box.append(el("pre", { className: "td-caret", text: caret(expr, d) }));
        slot.append(box);
        const control = root.querySelector(`[data-path="indicators[${i}].expr"]`);
        if (!control) continue;
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", (slot.id = slot.id || "td-diag-" + i));
        box.addEventListener("click", () => {
          // point at the column: select the offending text in the (one-line) expression
          control.focus();
          if (d.line === 1) control.setSelectionRange(d.column - 1, Math.max(d.column, (d.end_line === 1 ? d.end_column : d.column + 1) - 1));
        });
      }
    });
    const summary = document.getElementById("td-summary");
    summary.textContent = problems.length ? fmt(T.problems, { n: problems.length }) : T.ok;
    summary.className = problems.length ? "td-bad" : "td-good";
    renderEffective(checked.effective || []);
  }

  function renderEffective(rows) {
    const dl = document.getElementById("td-effective-list");
    dl.replaceChildren();
    for (const row of rows) {
      const cls = row.changed ? "td-changed" : "";
      dl.append(el("dt", { className: cls, "data-key": row.key }, document.createTextNode(row.label + " "), el("span", { className: `td-badge td-mark-${row.origin}`, text: MARKS[row.origin] || row.origin })));
      const dd = el("dd", { className: cls, "data-key": row.key });
      if (row.value !== null) dd.textContent = row.value;
      else {
        const ul = el("ul", { className: "td-items" });
        for (const item of row.items) {
          const li = el("li", { className: `td-item td-mark-${item.mark}`, text: item.text });
          if (!["继承", "本级"].includes(item.mark)) li.append(" ", el("span", { className: `td-badge td-mark-${item.mark}`, text: MARKS[item.mark] }));
          ul.append(li);
        }
        if (!row.items.length) ul.append(el("li", { className: "muted", text: "—" }));
        dd.append(ul);
      }
      dl.append(dd);
    }
  }

  /* Requests ----------------------------------------------------------------------------------------------------- */

  async function runCheck() {
    const seq = ++checkSeq;
    document.getElementById("td-summary").textContent = T.checking;
    const { ok, payload } = await post(root.dataset.checkUrl, { config });
    if (seq !== checkSeq) return;
    if (ok) {
      checked = payload;
      showChecked();
    } else document.getElementById("td-summary").textContent = payload.message || T.failed;
  }

  async function save() {
    clearTimeout(saveTimer);
    saveTimer = null;
    const status = document.getElementById("td-saved");
    status.textContent = T.saving;
    const { ok, payload } = await post(root.dataset.saveUrl, { config });
    status.textContent = ok ? fmt(T.saved, { n: payload.version }) : payload.message || T.failed;
    status.className = ok ? "muted" : "td-bad";
    const label = document.getElementById("td-version-label");
    if (ok && label) label.textContent = `${T.draft} v${payload.version}`;
    if (ok) renderVersions(payload.versions);
    return ok;
  }

  function changed() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(runCheck, 350);
    if (canEdit) {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(save, 1200);
    }
    const box = document.getElementById("td-publish-box");
    if (box) box.hidden = true;
  }

  function renderVersions(rows) {
    const list = document.querySelector("#td-versions .td-version-list");
    if (!list || !rows) return;
    list.replaceChildren(
      ...rows.map((v) => {
        const li = el("li", { "data-number": v.number });
        li.append(
          el("span", { className: "td-vnum", text: "v" + v.number }),
          el("span", { className: "td-badge" + (v.status === "draft" ? " td-mark-修改" : ""), text: v.status_label }),
          el("span", { className: "muted", text: v.published_at ? `${v.published_at.slice(0, 10)} ${v.published_by}` : v.created_by })
        );
        const actions = el("span", { className: "td-version-actions" });
        actions.append(el("a", { className: "button small secondary", href: root.dataset.versionUrl.replace("999999", v.number), text: T.view }));
        if (canEdit && v.status !== "draft") {
          const form = el("form", { method: "post", action: root.dataset.draftFromUrl.replace("999999", v.number) });
          form.append(el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrf }), el("button", { type: "submit", className: "small secondary", text: T.draftFrom }));
          actions.append(form);
        }
        li.append(actions);
        return li;
      })
    );
  }

  /* Editing ------------------------------------------------------------------------------------------------------ */

  function thresholdsFromRows() {
    const map = {};
    root.querySelectorAll(".td-threshold").forEach((row) => {
      const name = row.querySelector("[data-threshold-name]").value.trim();
      if (name) map[name] = row.querySelector("[data-threshold-value]").value.trim();
    });
    config.thresholds = map;
  }

  root.addEventListener("input", (event) => {
    const target = event.target;
    if (!canEdit || !target.closest("#td-sections")) return;
    if (target.closest(".td-threshold")) thresholdsFromRows();
    else if (target.dataset.group) {
      const boxes = root.querySelectorAll(`input[data-group="${CSS.escape(target.dataset.group)}"]`);
      setPath(target.dataset.group, Array.from(boxes).filter((b) => b.checked).map((b) => b.value));
    } else if (target.dataset.path) {
      setPath(target.dataset.path, target.value);
      const head = /^(stages|indicators)\[\d+\]\.name$/.test(target.dataset.path) && target.closest(".td-item-card")?.querySelector("h4");
      if (head) head.textContent = head.textContent.replace(/：.*$/, "：" + target.value);
      if (target.dataset.path === "forms.立项申请") render("public_fields");
    } else return;
    changed();
  });
  function announce(text) {
    document.getElementById("td-saved").textContent = text;
  }

  root.addEventListener("click", (event) => {
    const b = event.target.closest("button[data-action]");
    if (!b || !canEdit || !b.closest("#td-sections")) return;
    const action = b.dataset.action;
    const list = b.dataset.list;
    const i = Number(b.dataset.index);
    let section = list;
    if (action === "edit-here") {
      config[b.dataset.key] = clone(base[b.dataset.key] ?? (data.merged.includes(b.dataset.key) && b.dataset.key !== "indicators" ? {} : []));
      section = b.dataset.key;
      b.dataset.focus = "restore-" + b.dataset.key;
    } else if (action === "restore") {
      delete config[b.dataset.key];
      section = b.dataset.key;
      b.dataset.focus = "edit-" + b.dataset.key;
    } else if (action === "up" || action === "down") {
      const items = config[list];
      const j = action === "up" ? i - 1 : i + 1;
      [items[i], items[j]] = [items[j], items[i]];
      b.dataset.focus = `${action === "up" ? "up" : "down"}-${list}-${j}`;
      if ((action === "up" && j === 0) || (action === "down" && j === items.length - 1)) b.dataset.focus = `${action === "up" ? "down" : "up"}-${list}-${j}`;
      announce(fmt(T.moved, { name: items[j].name || items[j].code || "" }));
    } else if (action === "remove") {
      const [gone] = config[list].splice(i, 1);
      announce(fmt(T.removedItem, { name: gone.name || gone.code || "" }));
      b.dataset.focus = `add-${list === "stages" ? "stage" : "indicator"}`;
    } else if (action === "add-stage") {
      config.stages.push({ code: "", name: "", required_forms: [] });
      section = "stages";
      b.dataset.focus = `stages[${config.stages.length - 1}].code`;
    } else if (action === "add-indicator") {
      config.indicators.push({ name: "", expr: "", format: "number" });
      section = "indicators";
      b.dataset.focus = `indicators[${config.indicators.length - 1}].name`;
    } else if (action === "add-threshold") {
      let n = 1;
      while (Object.prototype.hasOwnProperty.call(config.thresholds, T.thresholdName + n)) n++;
      config.thresholds[T.thresholdName + n] = "0";
      section = "thresholds";
      b.dataset.focus = `rmt-${Object.keys(config.thresholds).length - 1}`;
    } else if (action === "remove-threshold") {
      delete config.thresholds[b.dataset.name];
      section = "thresholds";
      b.dataset.focus = "add-threshold";
    }
    b.focus();
    const focusKey = b.dataset.focus;
    render(section === "name" || section === "category" ? "basic" : section);
    const again = root.querySelector(`[data-focus="${CSS.escape(focusKey)}"], [data-path="${CSS.escape(focusKey)}"]`);
    if (again && !again.disabled) again.focus();
    changed();
  });

  /* Publishing --------------------------------------------------------------------------------------------------- */

  function result(text, ok) {
    const node = document.getElementById("td-result");
    node.textContent = text;
    node.className = ok ? "ok" : "error";
  }

  const previewButton = document.getElementById("td-preview");
  if (previewButton) {
    previewButton.addEventListener("click", async () => {
      result("", true);
      const { ok, payload } = await post(root.dataset.previewUrl, { config });
      if (!ok) return result(payload.message || T.failed, false);
      const diff = document.getElementById("td-diff");
      diff.replaceChildren();
      if (payload.published === null) diff.append(el("li", { className: "muted", text: payload.against === "base" ? T.firstOverride : T.firstPublish }));
      for (const line of payload.changes) {
        const kind = line[0] === "+" ? "added" : line[0] === "-" ? "removed" : "changed";
        diff.append(el("li", { className: `td-diff-${kind}`, text: line }));
      }
      if (!payload.changes.length && payload.published !== null) diff.append(el("li", { className: "muted", text: T.noChanges }));
      const affected = document.getElementById("td-affected");
      affected.replaceChildren(...payload.affected.map((line) => el("li", { text: line })));
      document.getElementById("td-publish-box").hidden = false;
      document.getElementById("td-confirm").checked = false;
      if (!payload.ok) result(T.notPublished, false);
      diff.scrollIntoView({ block: "nearest" });
    });
    document.getElementById("td-publish").addEventListener("click", async () => {
      if (!document.getElementById("td-confirm").checked) return result(T.confirm, false);
      clearTimeout(saveTimer);
      const { ok, payload } = await post(root.dataset.publishUrl, { config, confirm: true });
      if (!ok) {
        result(payload.message || T.failed, false);
        const fields = payload.fields || {};
        checked = Object.assign({}, checked, {
          problems: Object.entries(fields).flatMap(([path, messages]) => messages.map((m) => ({ path, edit_path: path, message: m }))),
        });
        showChecked();
        return;
      }
      result(fmt(T.published, { n: payload.version }), true);
      const label = document.getElementById("td-version-label");
      if (label) label.textContent = `${T.publishedStatus} v${payload.version}`;
      document.getElementById("td-publish-box").hidden = true;
      renderVersions(payload.versions);
    });
  }

  render();
  root.dataset.ready = "true";
})();
