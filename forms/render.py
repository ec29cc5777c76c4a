"""A form definition + data → the view model the staff page renders, and a POST → raw input for coercion.

Input names are field paths (`预算金额`, `预算明细[2].金额`, `建设工期.开始`), so one submitted page maps back
onto the JSON document. Rows of a long repeating group that are not on the current page travel in one hidden
JSON input, so paginated editing never drops a row. No DSL evaluation happens here: the live state (visible,
required, computed) comes from `forms.core.state`, the server's one evaluator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from .core.fields import coerce_data, field_type_of

_ROW = re.compile(r"^(?P<group>[^\[\].]+)\[(?P<index>[0-9]{1,5})\]\.(?P<field>[^\[\].]+)$")
OFFPAGE_PREFIX = "__rows__"
DEFAULT_PAGE_SIZE = 20


@dataclass
class FieldView:
    """One input (or group, or computed output) as the template draws it."""

    name: str
    path: str
    label: str
    widget: str
    value: Any = ""
    help: str = ""
    placeholder: str = ""
    required: bool = False
    visible: bool = True
    conditional: bool = False
    errors: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    unit: str = ""
    rows: list[list[FieldView]] = field(default_factory=list)
    row_offset: int = 0
    page: int = 1
    pages: int = 1
    total_rows: int = 0
    offpage_json: str = ""
    disclosure: str = ""
    sensitivity: str = ""

    @property
    def input_id(self) -> str:
        return "f-" + re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]+", "-", self.path)


@dataclass
class SectionView:
    title: str
    fields: list[FieldView]


def _display(prop: Mapping[str, Any], ui: Mapping[str, Any], value: Any) -> Any:
    """A stored value as text in an input: 万元 money divided down, percent shown ×100."""
    if value is None:
        return ""
    kind = prop.get("x-field")
    if kind == "money" and isinstance(value, Decimal | int | str) and str(value) != "":
        amount = Decimal(str(value))
        return format(amount / Decimal(10000), "f") if ui.get("display") == "万元" else format(amount, "f")
    if kind == "percent" and str(value) != "":
        return format((Decimal(str(value)) * 100).normalize(), "f")
    if kind == "yesno":
        return {True: "true", False: "false"}.get(value, "")
    return value


def _options(prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    source = prop.get("items", {}) if prop.get("type") == "array" else prop
    values = source.get("enum") or []
    labels = source.get("x-enum-labels") or {}
    if isinstance(labels, list):
        labels = dict(zip(values, labels, strict=False))
    return [(str(v), str(labels.get(v, v))) for v in values if v is not None]


def _ordered(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> list[str]:
    props = list((schema.get("properties") or {}).keys())
    order = [name for name in ui.get("order", []) if name in props]
    return order + [name for name in props if name not in order]


class Renderer:
    """Builds the view model for one definition, data, live state and errors."""

    def __init__(
        self,
        schema: Mapping[str, Any],
        ui_schema: Mapping[str, Any],
        *,
        data: Mapping[str, Any],
        state: Any = None,
        choices: Mapping[str, list[tuple[str, str]]] | None = None,
        errors: Mapping[str, list[str]] | None = None,
        pages: Mapping[str, int] | None = None,
    ):
        self.schema, self.ui = schema, ui_schema or {}
        self.data, self.state = data or {}, state
        self.errors = errors or {}
        self.pages = pages or {}
        self.choices = choices or {}

    def sections(self) -> list[SectionView]:
        names = _ordered(self.schema, self.ui)
        ui_fields = self.ui.get("fields", {})
        views = {
            name: self._field(
                name,
                name,
                self.schema["properties"][name],
                ui_fields.get(name, {}),
                self.data.get(name),
            )
            for name in names
        }
        sections, placed = [], set()
        for section in self.ui.get("sections", []):
            members = [views[n] for n in section.get("fields", []) if n in views]
            placed.update(v.name for v in members)
            if members:
                sections.append(SectionView(section.get("title", ""), members))
        rest = [views[n] for n in names if n not in placed]
        if rest:
            sections.append(SectionView("", rest))
        return sections

    def _state(self, kind: str, path: str, default: Any) -> Any:
        table = getattr(self.state, kind, None) or {}
        return table.get(path, default)

    def _field(
        self, name: str, path: str, prop: Mapping[str, Any], ui: Mapping[str, Any], value: Any
    ) -> FieldView:
        kind = field_type_of(prop)
        widget = ui.get("widget") or (kind.widget if kind else "text")
        if "computed" in ui:
            widget = "computed"
        required_here = name in (self._parent_required(path) or [])
        view = FieldView(
            name=name,
            path=path,
            label=str(prop.get("title") or name),
            widget=widget,
            help=str(ui.get("help") or prop.get("description") or ""),
            placeholder=str(ui.get("placeholder") or ""),
            required=bool(self._state("required", path, required_here)),
            visible=bool(self._state("visible", path, True)),
            conditional="visible_if" in ui or "required_if" in ui,
            errors=[_without_label(m, str(prop.get("title") or name)) for m in self.errors.get(path, [])],
            options=_options(prop),
            unit=str(ui.get("display") or ""),
            disclosure=str(prop.get("x-disclosure", "")),
            sensitivity=str(prop.get("x-sensitivity", "")),
        )
        if widget == "computed":
            view.value = shown(self._state("computed", path, value))
        elif widget == "group":
            self._group(view, prop, ui, value)
        elif widget == "daterange":
            view.value = value if isinstance(value, Mapping) else {}
        elif widget in ("org", "user", "division"):
            view.options = list(self.choices.get(widget, []))
            view.value = _display(prop, ui, value)
        elif widget == "checkboxes":
            view.value = [str(v) for v in value] if isinstance(value, list) else []
        else:
            view.value = _display(prop, ui, value)
        return view

    def _parent_required(self, path: str) -> list[str]:
        if "[" not in path:
            return list(self.schema.get("required", []))
        group = path.split("[", 1)[0]
        items = (self.schema["properties"].get(group) or {}).get("items", {})
        return list(items.get("required", []))

    def _group(self, view: FieldView, prop: Mapping[str, Any], ui: Mapping[str, Any], value: Any) -> None:
        rows = value if isinstance(value, list) else []
        size = int(ui.get("page_size") or DEFAULT_PAGE_SIZE)
        view.total_rows = len(rows)
        view.pages = max(1, -(-len(rows) // size))
        view.page = min(max(1, self.pages.get(view.name, 1)), view.pages)
        start = (view.page - 1) * size
        view.row_offset = start
        items = prop.get("items", {})
        item_ui = (ui.get("item") or {}).get("fields", {})
        names = _ordered(items, ui.get("item") or {})
        view.rows = [
            [
                self._field(
                    col,
                    f"{view.name}[{start + i}].{col}",
                    items["properties"][col],
                    item_ui.get(col, {}),
                    (row or {}).get(col),
                )
                for col in names
            ]
            for i, row in enumerate(rows[start : start + size])
        ]
        offpage = {str(i): row for i, row in enumerate(rows) if not start <= i < start + size}
        view.offpage_json = json.dumps(offpage, cls=DjangoJSONEncoder, ensure_ascii=False) if offpage else ""


def shown(value: Any) -> str:
    """A computed value as text: money-like decimals with separators and two places."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value == value.quantize(Decimal("0.01")) else format(value, "f")
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _without_label(message: str, label: str) -> str:
    """Under its own field, an error need not repeat the field's name."""
    for sep in ("：", ":"):
        if message.startswith(label + sep):
            return message[len(label) + len(sep) :]
    return message


def parse_post(
    schema: Mapping[str, Any], ui_schema: Mapping[str, Any], post
) -> tuple[dict, dict[str, list[str]]]:
    """A submitted page (a QueryDict) → typed data and per-path coercion errors.

    Plain fields go through `coerce_data`; each row of a repeating group is coerced on its own so errors carry
    the row's path; rows kept off-page return as they were stored, without a second coercion.
    """
    props = schema.get("properties") or {}
    groups = {
        name
        for name, prop in props.items()
        if (field_type_of(prop) or None) and field_type_of(prop).name == "group"
    }
    raw: dict[str, Any] = {}
    rows: dict[str, dict[int, dict[str, Any]]] = {g: {} for g in groups}
    kept: dict[str, dict[int, Any]] = {g: {} for g in groups}
    for key in post:
        match = _ROW.match(key)
        if match and match["group"] in groups:
            rows[match["group"]].setdefault(int(match["index"]), {})[match["field"]] = post.get(key)
        elif key.startswith(OFFPAGE_PREFIX) and key[len(OFFPAGE_PREFIX) :] in groups:
            kept[key[len(OFFPAGE_PREFIX) :]] = _offpage(post.get(key))
        elif "." in key and key.split(".", 1)[0] in props:
            head, tail = key.split(".", 1)
            raw.setdefault(head, {})[tail] = post.get(key)
        elif key in props and key not in groups:
            kind = field_type_of(props[key])
            raw[key] = post.getlist(key) if kind is not None and kind.name == "multichoice" else post.get(key)
    ui_fields = (ui_schema or {}).get("fields", {})
    data, problems = coerce_data(schema, raw, ui_fields=ui_fields)
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.path, []).append(problem.message)
    for group in groups:
        items = props[group].get("items", {})
        item_ui = (ui_fields.get(group) or {}).get("item", {}).get("fields", {})
        merged: dict[int, Any] = dict(kept[group])
        for index, row in rows[group].items():
            value, row_problems = coerce_data(items, row, ui_fields=item_ui)
            for problem in row_problems:
                errors.setdefault(f"{group}[{index}].{problem.path}", []).append(problem.message)
            merged[index] = value
        if merged:
            data[group] = [merged[i] for i in sorted(merged)]
    return data, errors


def _offpage(text: str | None) -> dict[int, Any]:
    try:
        kept = json.loads(text or "{}", parse_float=Decimal)
    except ValueError:
        return {}
    if not isinstance(kept, dict):
        return {}
    return {int(i): row for i, row in kept.items() if str(i).isdigit() and isinstance(row, dict)}
