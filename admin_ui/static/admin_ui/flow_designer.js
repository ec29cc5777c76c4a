/* The studio's flow designer: each flow as a form beside its diagram. Plain JS, no library.
   Every change (debounced) posts the edited flows to the preview endpoint, which answers with each flow's SVG and
   the publish-time problems; a problem is shown next to the field whose data-path it names. */
(function () {
  "use strict";
  const root = document.getElementById("flow-designer");
  if (!root) return;
  const data = JSON.parse(document.getElementById("flow-designer-data").textContent);
  const T = JSON.parse(document.getElementById("flow-designer-i18n").textContent);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const canEdit = root.dataset.canEdit === "true";
  const flows = data.flows;
  const holders = Array.from(root.querySelectorAll(".fd-flow"));
  let timer = null;
  let seq = 0;

  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  let uid = 0;
  function field(label, path, control, wide) {
    const id = "fd-f" + ++uid;
    control.id = id;
    control.dataset.path = path;
    if (!canEdit) control.disabled = true;
    const wrap = el("div", { className: "fd-field" + (wide ? " wide" : ""), "data-field": path });
    wrap.append(el("label", { for: id, text: label }), control);
    return wrap;
  }

  function input(value, attrs) {
    const node = el("input", Object.assign({ type: "text", autocomplete: "off" }, attrs || {}));
    node.value = value ?? "";
    return node;
  }

  function select(value, options) {
    const node = el("select");
    for (const o of options) {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      const opt = el("option", { value: v, text: label });
      node.append(opt);
    }
    node.value = value ?? "";
    if (node.value !== String(value ?? "") && value) {
      node.append(el("option", { value: value, text: value }));
      node.value = value;
    }
    return node;
  }

  function button(text, action, attrs) {
    const b = el("button", Object.assign({ type: "button", className: "small secondary", text: text }, attrs || {}));
    b.dataset.action = action;
    if (!canEdit) b.disabled = true;
    return b;
  }

  /* The form of one flow ------------------------------------------------------------------------------------- */

  function renderFlow(i) {
    const flow = flows[i];
    const box = holders[i].querySelector(".fd-form");
    const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused ? focused.dataset.path || focused.dataset.key : null;
    const form = el("section", { className: "card fd-flow-form", "aria-label": flow.name || flow.code });
    form.append(el("h2", { text: (flow.name || flow.code) + " · " + (flow.transition || "") }));
    const head = el("div", { className: "fd-grid" });
    head.append(
      field(T.flowName, `flows[${i}].name`, input(flow.name)),
      field(T.transition, `flows[${i}].transition`, select(flow.transition, data.transitions))
    );
    form.append(head, el("p", { className: "fd-problem-slot", "data-slot": `flows[${i}]` }));
    form.append(el("h3", { text: T.steps }), el("p", { className: "fd-problem-slot", "data-slot": `flows[${i}].steps` }));
    const list = el("ol", { className: "fd-steps" });
    const steps = Array.isArray(flow.steps) ? flow.steps : (flow.steps = []);
    steps.forEach((step, j) => list.append(renderStep(i, j, step, steps)));
    form.append(list, button(T.addStep, "add-step", { "data-key": `add-${i}`, className: "small" }));
    box.replaceChildren(form);
    if (focusKey) {
      const again = box.querySelector(`[data-path="${CSS.escape(focusKey)}"], [data-key="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
  }

  function renderStep(i, j, step, steps) {
    const p = `flows[${i}].steps[${j}]`;
    const li = el("li", { className: "fd-step", "data-step": p });
    const title = el("div", { className: "fd-step-head" });
    title.append(el("h4", { text: fmt(T.step, { n: j + 1 }) + "：" + (step.name || step.code || "") }));
    const tools = el("div", { className: "fd-tools" });
    tools.append(
      button(T.up, "up", { "data-key": `up-${i}-${j}`, disabled: j === 0 || !canEdit, "aria-label": `${T.up} ${step.name || ""}` }),
      button(T.down, "down", {
        "data-key": `down-${i}-${j}`,
        disabled: j === steps.length - 1 || !canEdit,
        "aria-label": `${T.down} ${step.name || ""}`,
      }),
      button(T.remove, "remove", { "data-key": `rm-${i}-${j}`, className: "small danger", "aria-label": `${T.remove} ${step.name || ""}` })
    );
    title.append(tools);
    li.append(title, el("p", { className: "fd-problem-slot", "data-slot": p }));
    const grid = el("div", { className: "fd-grid" });
    grid.append(field(T.code, `${p}.code`, input(step.code)), field(T.name, `${p}.name`, input(step.name)));
    grid.append(field(T.mode, `${p}.mode`, select(step.mode || "或签", data.modes)));
    if ((step.mode || "或签") === "比例") grid.append(field(T.ratio, `${p}.ratio`, input(step.ratio, { placeholder: "2/3" })));
    li.append(grid);
    // approvers
    const ap = el("fieldset", { className: "fd-approvers" });
    ap.append(el("legend", { text: T.approvers }), el("p", { className: "fd-problem-slot", "data-slot": `${p}.approvers` }));
    const approvers = Array.isArray(step.approvers) ? step.approvers : (step.approvers = []);
    approvers.forEach((a, k) => {
      const q = `${p}.approvers[${k}]`;
      const row = el("div", { className: "fd-grid fd-approver" });
      const byUser = a.user !== undefined && a.role === undefined;
      row.append(field(T.approverKind, `${q}.@kind`, select(byUser ? "user" : "role", [["role", T.byRole], ["user", T.byUser]])));
      if (byUser) {
        row.append(field(T.user, `${q}.user`, input(a.user)));
      } else {
        row.append(
          field(T.role, `${q}.role`, select(a.role, [["", "—"], ...data.roles.map((r) => [r.code, `${r.name}（${r.code}）`])])),
          field(T.org, `${q}.org`, input(a.org ?? "本单位", { list: "fd-orgs" }))
        );
      }
      row.append(el("p", { className: "fd-problem-slot", "data-slot": q }));
      row.append(button(T.removeApprover, "rm-approver", { "data-key": `rma-${i}-${j}-${k}`, "data-k": k }));
      ap.append(row);
    });
    ap.append(button(T.addApprover, "add-approver", { "data-key": `adda-${i}-${j}` }));
    li.append(ap);
    const grid2 = el("div", { className: "fd-grid" });
    grid2.append(field(T.when, `${p}.when`, input(step.when, { className: "fd-dsl", spellcheck: "false" }), true));
    grid2.append(field(T.sla, `${p}.sla`, input(step.sla, { placeholder: "3工作日" })));
    grid2.append(field(T.onTimeout, `${p}.on_timeout`, select(step.on_timeout || "提醒", data.timeouts)));
    const others = steps.filter((s, n) => n !== j && s.code).map((s) => [s.code, `${s.name || s.code}（${s.code}）`]);
    grid2.append(field(T.next, `${p}.next`, select(step.next || "", [["", T.nextDefault], ...others])));
    li.append(grid2);
    li.dataset.i = i;
    li.dataset.j = j;
    return li;
  }

  /* Editing the model ---------------------------------------------------------------------------------------- */

  function setPath(path, value) {
    // flows[i].steps[j].approvers[k].role — walk the model along the path
    const parts = path.match(/[^.[\]]+/g);
    let node = { flows };
    for (let n = 0; n < parts.length - 1; n++) {
      const key = /^\d+$/.test(parts[n]) ? Number(parts[n]) : parts[n];
      node = node[key];
    }
    const last = parts[parts.length - 1];
    if (last === "@kind") {
      if ((value === "user") === (node.user !== undefined && node.role === undefined)) return false;
      for (const k of ["role", "org", "user"]) delete node[k];
      if (value === "user") node.user = "";
      else Object.assign(node, { role: "", org: "本单位" });
      return true;
    }
    if (last === "name" && parts.length === 5) {
      const head = root.querySelector(`[data-step="${CSS.escape(path.slice(0, -5))}"] h4`);
      if (head) head.textContent = fmt(T.step, { n: Number(parts[3]) + 1 }) + "：" + value;
    }
    const optional = ["when", "sla", "next", "ratio"];
    if (value === "" && optional.includes(last)) delete node[last];
    else node[last] = value;
    return last === "mode";
  }

  function onChange(event) {
    const target = event.target;
    if (!target.dataset || !target.dataset.path) return;
    const structural = setPath(target.dataset.path, target.value);
    const i = Number(target.dataset.path.match(/^flows\[(\d+)\]/)[1]);
    if (structural && event.type === "change") renderFlow(i);
    schedule();
  }

  function onClick(event) {
    const b = event.target.closest("button[data-action]");
    if (!b || !canEdit) return;
    const li = b.closest(".fd-step");
    const box = b.closest(".fd-flow");
    const i = holders.indexOf(box);
    const steps = flows[i].steps;
    const j = li ? Number(li.dataset.j) : -1;
    let focus = null;
    let say = "";
    switch (b.dataset.action) {
      case "up":
      case "down": {
        const to = b.dataset.action === "up" ? j - 1 : j + 1;
        [steps[j], steps[to]] = [steps[to], steps[j]];
        focus = `${b.dataset.action === "up" && to > 0 ? "up" : "down"}-${i}-${to}`;
        if (b.dataset.action === "down" && to === steps.length - 1) focus = `up-${i}-${to}`;
        say = fmt(T.moved, { name: steps[to].name || steps[to].code });
        break;
      }
      case "remove":
        say = fmt(T.removed, { name: steps[j].name || steps[j].code });
        steps.splice(j, 1);
        focus = `add-${i}`;
        break;
      case "add-step": {
        const n = steps.length + 1;
        let code = "step" + n;
        while (steps.some((s) => s.code === code)) code += "x";
        steps.push({ code, name: fmt(T.step, { n }), mode: "或签", approvers: [{ role: "approver", org: "本单位" }] });
        focus = `${i}-new`;
        say = T.added;
        break;
      }
      case "add-approver":
        steps[j].approvers.push({ role: "approver", org: "本单位" });
        focus = b.dataset.key;
        break;
      case "rm-approver":
        steps[j].approvers.splice(Number(b.dataset.k), 1);
        focus = `adda-${i}-${j}`;
        break;
      default:
        return;
    }
    renderFlow(i);
    let target = null;
    if (focus === `${i}-new`) target = holders[i].querySelector(`[data-path="flows[${i}].steps[${steps.length - 1}].code"]`);
    else if (focus) target = holders[i].querySelector(`[data-key="${focus}"]`);
    if (target) target.focus();
    document.getElementById("fd-result").textContent = say;
    schedule();
  }

  /* Preview, problems, save, publish ------------------------------------------------------------------------ */

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const payload = await response.json().catch(() => ({ message: T.failed }));
    return { ok: response.ok, payload };
  }

  function schedule() {
    clearTimeout(timer);
    document.getElementById("fd-summary").textContent = T.checking;
    timer = setTimeout(preview, 350);
  }

  function slotFor(path) {
    // the field the path names, else the nearest enclosing slot (steps[1].approvers[0] → the approver row)
    let p = path;
    while (p) {
      const f = root.querySelector(`[data-field="${CSS.escape(p)}"]`);
      if (f) return f;
      const s = root.querySelector(`[data-slot="${CSS.escape(p)}"]`);
      if (s) return s;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      p = cut > 0 ? p.slice(0, cut) : "";
    }
    return null;
  }

  function showProblems(problems) {
    root.querySelectorAll(".fd-problem").forEach((n) => n.remove());
    root.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    const list = document.getElementById("fd-problems");
    list.replaceChildren();
    for (const pr of problems) {
      const msg = el("span", { className: "fd-problem", role: "alert", "data-problem": pr.path, text: pr.message });
      const slot = slotFor(pr.path);
      if (slot) {
        slot.append(msg);
        const control = slot.querySelector("input, select");
        if (control && slot.classList.contains("fd-field")) {
          control.setAttribute("aria-invalid", "true");
          msg.id = control.id + "-err";
          control.setAttribute("aria-describedby", msg.id);
        }
      }
      const li = el("li", {}, el("span", { className: "pos", text: pr.path }), document.createTextNode(pr.message));
      list.append(li);
    }
    document.getElementById("fd-summary").textContent = problems.length ? fmt(T.problems, { n: problems.length }) : T.ok;
    root.dataset.problems = String(problems.length);
  }

  async function preview() {
    const mine = ++seq;
    let res;
    try {
      res = await post(root.dataset.previewUrl, { flows });
    } catch (e) {
      document.getElementById("fd-summary").textContent = T.failed;
      return;
    }
    if (mine !== seq) return;
    if (!res.ok) {
      document.getElementById("fd-summary").textContent = res.payload.message || T.failed;
      return;
    }
    res.payload.svg.forEach((svg, i) => {
      const target = holders[i] && holders[i].querySelector(".wf-diagram");
      if (target) target.innerHTML = svg; // built escaped on the server (workflow/diagram.py)
    });
    showProblems(res.payload.problems);
    root.dataset.ready = "true";
  }

  function fieldErrors(fields) {
    return Object.entries(fields || {}).flatMap(([path, messages]) => messages.map((message) => ({ path, message })));
  }

  async function save(publish) {
    const out = document.getElementById("fd-result");
    if (publish && !document.getElementById("fd-confirm").checked) {
      out.className = "error";
      out.textContent = T.confirm;
      return;
    }
    out.className = "";
    out.textContent = T.checking;
    const url = publish ? root.dataset.publishUrl : root.dataset.saveUrl;
    const body = publish ? { flows, confirm: true } : { flows };
    let res;
    try {
      res = await post(url, body);
    } catch (e) {
      out.className = "error";
      out.textContent = T.failed;
      return;
    }
    if (!res.ok) {
      out.className = "error";
      out.textContent = res.payload.message || T.failed;
      const errs = fieldErrors(res.payload.fields);
      if (errs.length) showProblems(errs);
      return;
    }
    out.className = "ok";
    out.textContent = fmt(publish ? T.published : T.saved, { n: res.payload.version });
    root.dataset.saved = String(res.payload.version);
  }

  const orgs = el("datalist", { id: "fd-orgs" });
  for (const o of data.orgs) orgs.append(el("option", { value: o }));
  root.append(orgs);
  flows.forEach((_, i) => renderFlow(i));
  root.addEventListener("input", onChange);
  root.addEventListener("change", onChange);
  root.addEventListener("click", onClick);
  const saveButton = document.getElementById("fd-save");
  if (saveButton) saveButton.addEventListener("click", () => save(false));
  const publishButton = document.getElementById("fd-publish");
  if (publishButton) publishButton.addEventListener("click", () => save(true));
  preview();
})();
