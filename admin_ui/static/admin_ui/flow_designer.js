/* The studio's flow designer: each flow as a form beside its diagram. Plain JS, no library.
   Every change (debounced) posts the edited flows to the preview endpoint, which answers with each flow's SVG and
   the publish-time problems; a problem is shown next to the field whose data-path it names. For those who may edit,
   changes are autosaved into the draft 1.5 s after the last one (a failed save keeps the page as it is and retries),
   and the publish-preview endpoint's diff against the published version is shown above the confirmation. */
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
  const AUTOSAVE_MS = 1500;
  const RETRY_MS = 15000;
  let timer = null;
  let seq = 0;
  let saveTimer = null;
  let saving = false;
  let changeSeq = 0; // bumped by every edit
  let savedSeq = 0; // the edit the draft on the server holds
  let publishSeq = 0;
  const { fmt, el, input, select } = window.TaizhangStudio;
  const button = (text, action, attrs) => window.TaizhangStudio.button(text, action, attrs, canEdit);
  const post = (url, body) => window.TaizhangStudio.postJSON(url, body, csrf, T.failed);

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

  /* The form of one flow ------------------------------------------------------------------------------------- */

  function help(id, text) {
    return el("p", { className: "help fd-help", id, text });
  }

  function helped(wrap, text) {
    // a field with a short explanation under it, read out with the control
    const control = wrap.querySelector("input, select");
    const note = help(control.id + "-help", text);
    control.setAttribute("aria-describedby", note.id);
    wrap.append(note);
    return wrap;
  }

  function check(label, hint, path, checked) {
    const id = "fd-f" + ++uid;
    const box = el("input", { type: "checkbox", id, "aria-describedby": id + "-help" });
    box.dataset.path = path;
    box.checked = checked;
    if (!canEdit) box.disabled = true;
    const wrap = el("div", { className: "fd-field fd-check", "data-field": path });
    wrap.append(el("label", { for: id }, box, document.createTextNode(label)), help(id + "-help", hint));
    return wrap;
  }

  function flowTitle(flow) {
    return (flow.name || flow.code || T.flow) + (flow.transition ? " · " + flow.transition : "");
  }

  function makeHolder() {
    return el(
      "div",
      { className: "fd-flow" },
      el("div", { className: "fd-form" }),
      el("section", { className: "card fd-diagram", "aria-label": T.diagram }, el("div", { className: "wf-diagram" }))
    );
  }

  function renderFlow(i) {
    const flow = flows[i];
    const box = holders[i].querySelector(".fd-form");
    holders[i].dataset.flow = String(i);
    const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused ? focused.dataset.path || focused.dataset.key : null;
    const form = el("section", { className: "card fd-flow-form", "aria-label": flowTitle(flow) });
    const top = el("div", { className: "fd-flow-head" });
    top.append(
      el("h2", { text: flowTitle(flow), "data-title": String(i) }),
      button(T.removeFlow, "remove-flow", {
        "data-key": `rmf-${i}`,
        className: "small danger",
        "aria-label": `${T.removeFlow} ${flow.name || flow.code || ""}`,
      })
    );
    form.append(top);
    const was = box.querySelector(".fd-settings");
    const settings = el("details", { className: "fd-settings", open: was ? was.open : true });
    settings.append(el("summary", { text: T.flowSettings }));
    const head = el("div", { className: "fd-grid" });
    head.append(
      field(T.flowName, `flows[${i}].name`, input(flow.name)),
      helped(field(T.flowCode, `flows[${i}].code`, input(flow.code, { spellcheck: "false" })), T.flowCodeHelp),
      helped(field(T.transition, `flows[${i}].transition`, select(flow.transition, data.transitions)), T.transitionHelp),
      helped(field(T.noApprover, `flows[${i}].no_approver`, select(flow.no_approver || data.noApprover[0], data.noApprover)), T.noApproverHelp),
      check(T.skipRepeated, T.skipRepeatedHelp, `flows[${i}].skip_repeated`, flow.skip_repeated !== false),
      check(T.resumeAtReturner, T.resumeAtReturnerHelp, `flows[${i}].resume_at_returner`, flow.resume_at_returner !== false)
    );
    settings.append(head);
    form.append(settings, el("p", { className: "fd-problem-slot", "data-slot": `flows[${i}]` }));
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

  function renderAll() {
    flows.forEach((_, i) => renderFlow(i));
    const empty = document.getElementById("fd-empty");
    if (empty) empty.hidden = flows.length > 0;
    renderAddBar();
  }

  function unusedTransitions() {
    const used = new Set(flows.map((f) => f && f.transition));
    return data.transitions.filter((t) => !used.has(t));
  }

  function renderAddBar() {
    const bar = document.getElementById("fd-add");
    if (!bar) return;
    const free = unusedTransitions();
    const keep = document.activeElement && bar.contains(document.activeElement) ? document.activeElement.id : null;
    const previous = document.getElementById("fd-add-transition");
    const chosen = previous && free.includes(previous.value) ? previous.value : free[0] || "";
    const pick = select(chosen, free.length ? free : [["", "—"]]);
    pick.id = "fd-add-transition";
    pick.disabled = !canEdit || !free.length;
    const add = el("button", { type: "button", id: "fd-add-flow", className: "small", text: T.addFlow });
    add.dataset.action = "add-flow";
    add.disabled = !canEdit || !free.length;
    const row = el("div", { className: "fd-add-row" });
    row.append(el("div", { className: "fd-field" }, el("label", { for: pick.id, text: T.transition }), pick), add);
    bar.replaceChildren(el("h2", { text: T.addFlow }), row, help("fd-add-help", free.length ? T.transitionHelp : T.noTransitionLeft));
    if (keep) {
      const again = document.getElementById(keep);
      if (again && !again.disabled) again.focus();
      else if (!free.length) document.getElementById("fd-flows").querySelector("button:not([disabled])")?.focus();
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

  function walk(path) {
    // flows[i].steps[j].approvers[k].role → [the object holding it, its key, the parts of the path]
    const parts = path.match(/[^.[\]]+/g);
    let node = { flows };
    for (let n = 0; n < parts.length - 1; n++) {
      const key = /^\d+$/.test(parts[n]) ? Number(parts[n]) : parts[n];
      node = node[key];
    }
    return [node, parts[parts.length - 1], parts];
  }

  function unchanged(path, value) {
    // a text field's "change" on blur repeats what its "input" events already stored
    const [node, last] = walk(path);
    return !last.startsWith("@") && node && (node[last] ?? "") === value;
  }

  function setPath(path, value) {
    const [node, last, parts] = walk(path);
    if (last === "@kind") {
      if ((value === "user") === (node.user !== undefined && node.role === undefined)) return false;
      for (const k of ["role", "org", "user"]) delete node[k];
      if (value === "user") node.user = "";
      else Object.assign(node, { role: "", org: "本单位" });
      return true;
    }
    if (parts.length === 3 && (last === "name" || last === "transition" || last === "code")) {
      node[last] = value;
      const title = root.querySelector(`[data-title="${parts[1]}"]`);
      if (title) title.textContent = flowTitle(node);
      if (last === "transition") renderAddBar();
      return false;
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
    const text = target.tagName === "INPUT" && target.type !== "checkbox";
    if (!text && event.type === "input") return; // a select's or checkbox's "change" follows
    const value = target.type === "checkbox" ? target.checked : target.value;
    if (text && unchanged(target.dataset.path, value)) return;
    const structural = setPath(target.dataset.path, value);
    const i = Number(target.dataset.path.match(/^flows\[(\d+)\]/)[1]);
    if (structural && event.type === "change") renderFlow(i);
    changed();
  }

  function newFlow(transition) {
    const part = data.transitionCodes[transition] || "flow";
    let code = `${data.typeCode}_${part}`;
    while (flows.some((f) => f && f.code === code)) code += "2";
    const step = { code: "step1", name: fmt(T.step, { n: 1 }), mode: "或签", approvers: [{ role: "approver", org: "本单位" }] };
    return { code, name: transition, transition, steps: [step] };
  }

  function flowAction(action, b) {
    const out = document.getElementById("fd-result");
    out.className = "";
    if (action === "add-flow") {
      const transition = document.getElementById("fd-add-transition").value;
      if (!transition) return;
      const flow = newFlow(transition);
      flows.push(flow);
      const holder = makeHolder();
      document.getElementById("fd-flows").append(holder);
      holders.push(holder);
      renderAll();
      const name = holder.querySelector(`[data-path="flows[${flows.length - 1}].name"]`);
      if (name) name.focus();
      out.textContent = fmt(T.flowAdded, { name: flow.name });
    } else {
      const i = Number(b.closest(".fd-flow").dataset.flow);
      const flow = flows[i];
      const name = (flow && (flow.name || flow.code)) || "";
      if (!window.confirm(fmt(T.removeFlowConfirm, { name }))) return;
      flows.splice(i, 1);
      holders[i].remove();
      holders.splice(i, 1);
      renderAll();
      const next = holders[Math.min(i, holders.length - 1)];
      const target = next ? next.querySelector('[data-action="remove-flow"]') : document.getElementById("fd-add-transition");
      if (target) target.focus();
      out.textContent = fmt(T.flowRemoved, { name });
    }
    changed();
  }

  function onClick(event) {
    const b = event.target.closest("button[data-action]");
    if (!b || !canEdit) return;
    if (b.dataset.action === "add-flow" || b.dataset.action === "remove-flow") {
      flowAction(b.dataset.action, b);
      return;
    }
    const li = b.closest(".fd-step");
    const box = b.closest(".fd-flow");
    const i = Number(box.dataset.flow);
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
    changed();
  }

  /* Preview, problems, save, publish ------------------------------------------------------------------------ */

  function schedule() {
    clearTimeout(timer);
    document.getElementById("fd-summary").textContent = T.checking;
    timer = setTimeout(preview, 350);
  }

  function changed() {
    // every edit: redraw and recheck; for editors, autosave and ask for a fresh confirmation of the new diff
    changeSeq++;
    schedule();
    if (!canEdit) return;
    const confirmBox = document.getElementById("fd-confirm");
    if (confirmBox) confirmBox.checked = false;
    scheduleAutosave(AUTOSAVE_MS);
  }

  /* Autosave ------------------------------------------------------------------------------------------------- */

  function autosaveStatus(text, state) {
    const node = document.getElementById("fd-autosave");
    if (!node) return;
    node.textContent = text;
    node.dataset.state = state;
  }

  function scheduleAutosave(delay) {
    clearTimeout(saveTimer);
    autosaveStatus(T.unsaved, "pending");
    saveTimer = setTimeout(autosave, delay);
  }

  function clock() {
    const now = new Date();
    return String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
  }

  async function persist(url, body) {
    // one save at a time; the flows stay in the page whatever happens
    while (saving) await new Promise((r) => setTimeout(r, 100));
    saving = true;
    const mine = changeSeq;
    let res;
    try {
      res = await post(url, body);
    } catch (e) {
      res = { ok: false, payload: { message: T.failed } };
    } finally {
      saving = false;
    }
    if (res.ok) {
      savedSeq = Math.max(savedSeq, mine);
      root.dataset.saved = String(res.payload.version);
      if (savedSeq === changeSeq) autosaveStatus(fmt(T.autosaved, { time: clock() }), "saved");
    }
    return res;
  }

  async function autosave() {
    if (savedSeq === changeSeq) return;
    autosaveStatus(T.autosaving, "saving");
    const res = await persist(root.dataset.saveUrl, { flows });
    if (!res.ok) {
      autosaveStatus(fmt(T.autosaveFailed, { message: (res.payload.message || T.failed).replace(/[。.]$/, "") }), "error");
      clearTimeout(saveTimer);
      saveTimer = setTimeout(autosave, RETRY_MS);
    } else if (savedSeq !== changeSeq) {
      scheduleAutosave(AUTOSAVE_MS);
    }
  }

  /* The diff shown before publishing ----------------------------------------------------------------------- */

  function lines(items, empty) {
    const ul = el("ul", { className: "fd-lines" });
    for (const line of items) ul.append(el("li", { text: line, "data-kind": /^[+~-] /.test(line) ? line[0] : null }));
    if (!items.length) ul.append(el("li", { className: "muted", text: empty }));
    return ul;
  }

  async function publishPreview() {
    const box = document.getElementById("fd-publish-preview");
    if (!box || !root.dataset.publishPreviewUrl) return;
    const mine = ++publishSeq;
    let res;
    try {
      res = await post(root.dataset.publishPreviewUrl, { flows });
    } catch (e) {
      res = { ok: false, payload: { message: T.failed } };
    }
    if (mine !== publishSeq) return;
    if (!res.ok) {
      box.replaceChildren(el("p", { className: "muted", text: res.payload.message || T.failed }));
      return;
    }
    const p = res.payload;
    box.replaceChildren(
      el("h3", { text: p.published ? fmt(T.publishChanges, { n: p.published }) : T.publishChangesNew }),
      lines(p.changes, T.noChanges),
      el("h3", { text: T.affected }),
      lines(p.affected, "")
    );
    box.dataset.changes = String(p.changes.length);
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
    if (canEdit) publishPreview();
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
    clearTimeout(saveTimer);
    out.className = "";
    out.textContent = T.checking;
    const url = publish ? root.dataset.publishUrl : root.dataset.saveUrl;
    const res = await persist(url, publish ? { flows, confirm: true } : { flows });
    if (!res.ok) {
      out.className = "error";
      out.textContent = res.payload.message || T.failed;
      const errs = fieldErrors(res.payload.fields);
      if (errs.length) showProblems(errs);
      if (savedSeq !== changeSeq) scheduleAutosave(RETRY_MS);
      return;
    }
    out.className = "ok";
    out.textContent = fmt(publish ? T.published : T.saved, { n: res.payload.version });
    if (publish) {
      document.getElementById("fd-confirm").checked = false;
      publishPreview();
    }
  }

  const orgs = el("datalist", { id: "fd-orgs" });
  for (const o of data.orgs) orgs.append(el("option", { value: o }));
  root.append(orgs);
  renderAll();
  root.addEventListener("input", onChange);
  root.addEventListener("change", onChange);
  root.addEventListener("click", onClick);
  const saveButton = document.getElementById("fd-save");
  if (saveButton) saveButton.addEventListener("click", () => save(false));
  const publishButton = document.getElementById("fd-publish");
  if (publishButton) publishButton.addEventListener("click", () => save(true));
  window.addEventListener("beforeunload", (event) => {
    // unsaved edits (a save failed or is still waiting): let the browser ask before leaving
    if (canEdit && savedSeq !== changeSeq) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  preview();
})();
