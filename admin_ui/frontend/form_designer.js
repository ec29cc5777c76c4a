// The form designer (see admin_ui/form_designer.py). Filled in by its editor.
import Sortable from "sortablejs";
window.TaizhangSortable = Sortable;
