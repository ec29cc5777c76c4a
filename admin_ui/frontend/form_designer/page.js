// What the server rendered into the page (admin_ui/templates/admin_ui/form_designer.html): the form's data, the interface
// texts, the endpoints and the CSRF token. Read once, when the bundle starts; nothing here changes afterwards
// except DATA.version (the draft's or published version number, after a save or a publish).
export const root = document.getElementById("form-designer");
export const DATA = JSON.parse(document.getElementById("form-designer-data").textContent);
export const T = JSON.parse(document.getElementById("form-designer-i18n").textContent);
export const URLS = JSON.parse(document.getElementById("form-designer-urls").textContent);
export const csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;
export const editable = DATA.editable;
export const TYPES = Object.fromEntries(DATA.types.map((t) => [t.name, t]));
export const dis = editable ? "" : " disabled"; // appended to every control of a read-only page
export const $ = (id) => document.getElementById(id);
