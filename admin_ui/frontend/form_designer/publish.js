// Saving and publishing: every edit autosaves the draft (save/, one request at a time, and once more on leaving the
// page); publishing first shows what changes and which records are affected (publish-preview/) and needs a
// confirmation; the versions list links each version and can start a new draft from a published one.
import { DATA, T, URLS, csrf, editable, $ } from "./page.js";
import { esc, fmt, post, timers } from "./util.js";
import { state } from "./model.js";
import { applyReport } from "./problems.js";

export function renderVersions(rows) {
  $("fm-versions").innerHTML = rows.map((v) => {
    const when = v.when ? ` · ${esc(v.when)} ${esc(v.published_by)}` : "";
    const current = v.number === DATA.version && !DATA.viewing ? ` <span class="fm-badge">${esc(T.current)}</span>` : "";
    const draftFrom = DATA.canEdit && v.status !== "draft"
      ? `<button type="button" class="small secondary" data-draft-from="${v.number}">${esc(T.draftFrom)}</button>` : "";
    return `<li data-version="${v.number}"><span><strong>v${v.number}</strong> ${esc(v.status_label)}${when}${current}</span>
      <span class="fm-tools"><a href="${esc(URLS.version.replace("{n}", v.number))}">${esc(T.view)}</a> ${draftFrom}</span></li>`;
  }).join("");
}

export async function draftFrom(number, button) {
  if (button && !button.dataset.armed) {
    button.dataset.armed = "true";
    button.textContent = T.confirmDraftFrom;
    return;
  }
  clearTimeout(timers.save);
  state.dirty = false; // the draft is about to be replaced: do not send this page's edits after it
  const r = await post(URLS.draftFrom.replace("{n}", number), {});
  if (!r.ok) { $("fm-result").textContent = r.json.message || T.failed; return; }
  window.location.href = r.json.url;
}

let saving = false;
let saveAgain = false;
export async function save() {
  if (!editable) return;
  if (saving) { saveAgain = true; return; } // one save at a time, so an older body never lands last
  saving = true;
  state.dirty = false;
  $("fm-save-status").textContent = T.saving;
  const r = await post(URLS.save, { schema: state.schema, ui_schema: state.ui });
  saving = false;
  if (saveAgain) { saveAgain = false; save(); }
  if (!r.ok) {
    state.dirty = true;
    $("fm-save-status").textContent = fmt(T.saveFailed, { message: r.json.message || T.failed });
    return;
  }
  DATA.version = r.json.version;
  const time = new Date().toLocaleTimeString("zh-CN", { hour12: false });
  $("fm-save-status").textContent = fmt(T.saved, { n: r.json.version, time });
  const labelEl = $("fm-version-label");
  if (labelEl) labelEl.textContent = fmt(T.draftLabel, { n: r.json.version });
  renderVersions(r.json.versions);
}

export async function publishOpen() {
  const panel = $("fm-publish-panel");
  const r = await post(URLS["publish-preview"], { schema: state.schema, ui_schema: state.ui });
  if (!r.ok) { $("fm-result").textContent = r.json.message || T.failed; return; }
  const p = r.json;
  $("fm-changes-h").textContent = p.changes.length
    ? (p.published ? fmt(T.changes, { n: p.published }) : T.changesFirst) : T.noChanges;
  $("fm-changes").innerHTML = p.changes.map((c) => `<li>${esc(c)}</li>`).join("");
  $("fm-affected").innerHTML = p.affected.map((c) => `<li>${esc(c)}</li>`).join("");
  if (!p.ok) {
    state.report = { ...(state.report || {}), problems: p.problems };
    applyReport();
    $("fm-result").textContent = T.cannotPublish;
  } else $("fm-result").textContent = "";
  $("fm-confirm").checked = false;
  panel.hidden = false;
  $("fm-confirm").focus();
}

export async function publish() {
  if (!$("fm-confirm").checked) { $("fm-result").textContent = T.confirmFirst; return; }
  clearTimeout(timers.save);
  const r = await post(URLS.publish, { schema: state.schema, ui_schema: state.ui, confirm: true });
  if (r.ok || r.json.draft) state.dirty = false;
  if (!r.ok) {
    $("fm-result").textContent = fmt(T.publishFailed, { message: r.json.message || T.failed });
    if (r.json.problems) { state.report = { ...(state.report || {}), problems: r.json.problems }; applyReport(); }
    return;
  }
  $("fm-publish-panel").hidden = true;
  $("fm-result").textContent = fmt(T.published, { n: r.json.version });
  $("fm-save-status").textContent = "";
  DATA.version = r.json.version;
  const labelEl = $("fm-version-label");
  if (labelEl) labelEl.textContent = fmt(T.publishedLabel, { n: r.json.version });
  renderVersions(r.json.versions);
}

// Leaving with an edit not yet autosaved: send it anyway (keepalive outlives the page).
export function saveOnLeave() {
  if (!editable || !state.dirty) return;
  fetch(URLS.save, {
    method: "POST", keepalive: true, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ schema: state.schema, ui_schema: state.ui }),
  });
}
