"""The columns of an import sheet and how one row of text cells becomes 立项 form data.

Pure functions over the form's JSON Schema and UI schema (no Django, no openpyxl), so the template, the
validation and the import read a sheet the same way. Each cell is turned into a typed value by the forms core's
own :func:`forms.core.fields.coerce`, the function behind the staff pages, so a cell accepts what a person may
type into the form: ``1280万元``, ``2026-03-01 至 2026-12-31``, ``基础类、完善类``, ``是``.

A repeating group (资金来源) is one cell: rows separated by ``;`` / ``；`` / a line break, the row's values in the
group's column order separated by ``:`` / ``：`` — ``中央补助:8000000; 市县配套:4800000``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from forms.core.fields import coerce, field_type_of

ORG = "__org__"
CODE = "__code__"
ORG_TITLE = "机构编码"
CODE_TITLE = "项目代码"
ERROR_TITLE = "错误说明"
# Fields a sheet cannot carry: computed values are recomputed by the server; files need an upload.
_SKIPPED_KINDS = frozenset({"computed", "file"})
_GROUP_ROWS = re.compile(r"\s*[;；\n]\s*")
_GROUP_CELLS = re.compile(r"\s*[:：]\s*")

_HINTS: dict[str, str] = {
    "text": "文本",
    "textarea": "文本，可换行",
    "integer": "整数，如 1460",
    "money": "金额，默认单位为元（如 12800000 或 12,800,000.00）；也可写 1280万元",
    "percent": "百分数，如 12.5 或 12.5%",
    "date": "日期，如 2026-03-01 或 2026年3月1日",
    "daterange": "日期范围，写成「开始 至 结束」，如 2026-03-01 至 2026-12-31",
    "choice": "从可选值中选一个",
    "multichoice": "可多选，用顿号、逗号或分号隔开，如 基础类、完善类",
    "yesno": "填「是」或「否」",
    "org": "机构编码",
    "user": "用户名",
    "division": "6 位行政区划代码",
    "uscc": "18 位统一社会信用代码（含校验位）",
    "idcard": "18 位居民身份证号",
    "mobile": "11 位手机号",
    "phone": "固定电话，如 0571-87654321",
    "postcode": "6 位邮政编码",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the import sheet: a top-level 立项 field, or 机构编码 / 项目代码."""

    key: str
    title: str
    kind: str
    required: bool
    prop: Mapping[str, Any] = field(default_factory=dict)
    item_keys: tuple[str, ...] = ()
    help: str = ""

    @property
    def is_field(self) -> bool:
        return self.key not in (ORG, CODE)

    def hint(self) -> str:
        """How to fill the cell, in Chinese: the type and, where the form restricts it, the allowed values."""
        if self.key == ORG:
            return "项目所属单位的机构编码，须在您有“创建项目”权限的范围内（见“机构编码”表）"
        if self.key == CODE:
            return "可不填，系统自动编号；填写时为 4–32 位数字、字母或连字符，不得与已有项目重复"
        if self.kind == "group":
            items = self.prop.get("items") or {}
            titles = [
                str((items.get("properties") or {}).get(k, {}).get("title") or k) for k in self.item_keys
            ]
            example = self.example()
            return f"多行明细写在一个单元格里：每行写成「{':'.join(titles)}」，行与行之间用分号或换行隔开" + (
                f"，如 {example}" if example else ""
            )
        hint = _HINTS.get(self.kind, "文本")
        values = allowed_values(self.prop)
        if values:
            hint += "；可选值：" + "、".join(values)
        return hint

    def example(self) -> str:
        if self.kind != "group":
            return ""
        props = (self.prop.get("items") or {}).get("properties") or {}
        samples = []
        for sample in range(2):
            cells = []
            for key in self.item_keys:
                sub = props.get(key) or {}
                values = allowed_values(sub)
                kind = sub.get("x-field")
                if values:
                    cells.append(values[min(sample, len(values) - 1)])
                elif kind == "money":
                    cells.append(("8000000", "4800000")[sample])
                elif kind in ("integer", "percent"):
                    cells.append(("10", "20")[sample])
                elif kind == "date":
                    cells.append(("2026-03-01", "2026-06-30")[sample])
                else:
                    cells.append(("示例一", "示例二")[sample])
            samples.append(":".join(cells))
        return "; ".join(samples)


def allowed_values(prop: Mapping[str, Any]) -> list[str]:
    """The display labels a choice, multichoice or yes/no cell accepts (empty when free text)."""
    if prop.get("x-field") == "yesno":
        return ["是", "否"]
    values = prop.get("enum")
    labels = prop.get("x-enum-labels")
    if values is None and isinstance(prop.get("items"), Mapping):
        values = prop["items"].get("enum")
        labels = labels or prop["items"].get("x-enum-labels")
    if not isinstance(values, list):
        return []
    labels = labels if isinstance(labels, Mapping) else {}
    return [str(labels.get(v, v)) for v in values]


def _order(schema: Mapping[str, Any], ui_schema: Mapping[str, Any]) -> list[str]:
    props = list((schema.get("properties") or {}).keys())
    ordered: list[str] = []
    for section in ui_schema.get("sections") or []:
        for name in section.get("fields") or []:
            if name in props and name not in ordered:
                ordered.append(name)
    return ordered + [p for p in props if p not in ordered]


def _item_keys(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> tuple[str, ...]:
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    keys = [
        k
        for k, sub in (items.get("properties") or {}).items()
        if isinstance(sub, Mapping) and sub.get("x-field") not in _SKIPPED_KINDS
    ]
    order = ((ui.get("item") or {}) if isinstance(ui, Mapping) else {}).get("order") or []
    return tuple([k for k in order if k in keys] + [k for k in keys if k not in order])


def columns_for(schema: Mapping[str, Any], ui_schema: Mapping[str, Any] | None = None) -> list[Column]:
    """The sheet's columns for a 立项 form: 机构编码, 项目代码, then every top-level field a cell can carry."""
    ui_schema = ui_schema or {}
    ui_fields = ui_schema.get("fields") or {}
    required = set(schema.get("required") or [])
    out = [
        Column(ORG, ORG_TITLE, "org", True),
        Column(CODE, CODE_TITLE, "text", False),
    ]
    props = schema.get("properties") or {}
    for name in _order(schema, ui_schema):
        prop = props[name]
        if not isinstance(prop, Mapping):
            continue
        kind = field_type_of(prop)
        kind_name = kind.name if kind is not None else "text"
        if kind_name in _SKIPPED_KINDS:
            continue
        ui = ui_fields.get(name) or {}
        out.append(
            Column(
                key=name,
                title=str(prop.get("title") or name),
                kind=kind_name,
                required=name in required,
                prop=prop,
                item_keys=_item_keys(prop, ui) if kind_name == "group" else (),
                help=str(ui.get("help") or "") if isinstance(ui, Mapping) else "",
            )
        )
    return out


def normalise_header(text: Any) -> str:
    """Header text as compared: NFKC, no whitespace, no required-marker asterisk."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", folded).rstrip("*")


@dataclass(frozen=True, slots=True)
class HeaderMap:
    """Which sheet column (0-based) holds which :class:`Column`, and what is wrong with the header row."""

    positions: dict[str, int]
    problems: list[str]
    error_column: int | None = None


def map_header(headers: Sequence[Any], columns: Sequence[Column]) -> HeaderMap:
    """Match the header row to the columns by title (or the form's field name); unknown and missing columns are
    problems of the whole file, each naming the column. A 错误说明 column (a corrected error report uploaded
    again) is ignored."""
    lookup: dict[str, Column] = {}
    for column in columns:
        lookup.setdefault(normalise_header(column.title), column)
        if column.is_field:
            lookup.setdefault(normalise_header(column.key), column)
    positions: dict[str, int] = {}
    problems: list[str] = []
    error_column = None
    for index, raw in enumerate(headers):
        text = normalise_header(raw)
        if not text:
            continue
        if text == ERROR_TITLE:
            error_column = index
            continue
        column = lookup.get(text)
        if column is None:
            problems.append(f"第 {_letter(index)} 列「{str(raw).strip()}」不是该项目类型立项表单中的字段")
        elif column.key in positions:
            problems.append(f"「{column.title}」列重复出现（第 {_letter(index)} 列）")
        else:
            positions[column.key] = index
    for column in columns:
        if column.required and column.key not in positions:
            problems.append(f"缺少必填列「{column.title}」")
    return HeaderMap(positions, problems, error_column)


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One data row read from the sheet: its Excel row number, org code, project code, form data and the
    cells that could not be read (column key → Chinese message naming the column)."""

    number: int
    org_code: str
    code: str
    data: dict[str, Any]
    problems: dict[str, str]


def _group_rows(text: str, column: Column) -> list[dict[str, str]] | str:
    rows: list[dict[str, str]] = []
    for index, chunk in enumerate(p for p in _GROUP_ROWS.split(text.strip()) if p.strip()):
        cells = _GROUP_CELLS.split(chunk.strip())
        if len(column.item_keys) == 1:
            cells = [chunk.strip()]
        if len(cells) != len(column.item_keys):
            items = (column.prop.get("items") or {}).get("properties") or {}
            shape = ":".join(str((items.get(k) or {}).get("title") or k) for k in column.item_keys)
            return f"第{index + 1}行「{chunk.strip()}」应写成「{shape}」"
        rows.append(dict(zip(column.item_keys, cells, strict=True)))
    return rows


def parse_row(number: int, cells: Sequence[str], header: HeaderMap, columns: Sequence[Column]) -> ParsedRow:
    """Turn one row of cell texts into 立项 form data with the forms core's coercion; never raises."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    org_code = code = ""
    for column in columns:
        at = header.positions.get(column.key)
        text = cells[at].strip() if at is not None and at < len(cells) else ""
        if column.key == ORG:
            org_code = unicodedata.normalize("NFKC", text)
            continue
        if column.key == CODE:
            code = unicodedata.normalize("NFKC", text)
            continue
        if not text:
            continue
        raw: Any = text
        if column.kind == "group":
            raw = _group_rows(text, column)
            if isinstance(raw, str):
                problems[column.key] = f"{column.title}：{raw}"
                continue
        result = coerce(column.kind, raw, prop=column.prop)
        if result.error is not None:
            problems[column.key] = f"{column.title}：{result.error}"
        elif result.value is not None:
            data[column.key] = result.value
    return ParsedRow(number, org_code, code, data, problems)
