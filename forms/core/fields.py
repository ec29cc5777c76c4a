"""The field-type registry: every ``x-field`` a form property may declare, and what it means.

A field type ties together the five things that must agree for one input on one form: the JSON Schema shape it is
stored as, the widget that edits it, the DSL type rules see, its Chinese name in the designer, and how a string
submitted from an HTML form becomes a JSON value. Types are registered at import and checked at registration
(STYLE rule 11), so a misdeclared type fails at start-up, not on a staff member's phone.

Coercion never raises: :func:`coerce` returns a :class:`Coerced` holding either the value or a Chinese message.
An empty input is ``None`` ("not filled"), which validation treats as absent.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from dsl.types import ANY, BOOL, DATE, NUMBER, STRING, DslType, ListType, ObjectType
from forms.core import field_checks
from forms.core.errors import FieldError

__all__ = [
    "FIELD_TYPES",
    "Coerced",
    "FieldType",
    "base_type",
    "coerce",
    "coerce_data",
    "field_type",
    "field_type_of",
    "register",
]

JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})


class _Invalid(Exception):
    """Internal: a coercer's way of saying "bad input" with a Chinese message; never leaves this module."""


@dataclass(frozen=True, slots=True)
class Coerced:
    """The result of coercing one submitted value: ``value`` when ``error`` is None."""

    value: Any
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


Coercer = Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Any]
Checker = field_checks.Checker


@dataclass(frozen=True, slots=True)
class FieldType:
    """One registered ``x-field``.

    ``json_type`` is the stored JSON type (None for ``computed``, which declares its own); ``format`` the required
    ``format``; ``template`` the property a designer starts from; ``coercer(raw, prop, options)`` turns submitted text
    into a value or raises ``_Invalid``; ``extra_checks(prop)`` adds type-specific consistency problems.
    """

    name: str
    zh: str
    json_type: str | None
    widget: str
    dsl_type: DslType
    coercer: Coercer
    format: str | None = None
    template: Mapping[str, Any] = field(default_factory=dict)
    extra_checks: Checker | None = None

    def problems(self, prop: Mapping[str, Any]) -> list[str]:
        """Why ``prop`` (a property schema declaring this ``x-field``) is inconsistent with this type."""
        found: list[str] = []
        declared = base_type(prop)
        if self.json_type is not None and declared != self.json_type:
            found.append(f"字段类型「{self.zh}」应为 JSON 类型 {self.json_type}，实际为 {prop.get('type')!r}")
        if self.format is not None and prop.get("format") != self.format:
            found.append(f"字段类型「{self.zh}」应声明 format: {self.format}")
        if self.format is None and self.json_type == "string" and "format" in prop:
            found.append(f"字段类型「{self.zh}」不应声明 format（请改用对应的字段类型）")
        if self.extra_checks is not None and not found:
            found.extend(self.extra_checks(prop))
        return found


FIELD_TYPES: Mapping[str, FieldType] = MappingProxyType({})
_registry: dict[str, FieldType] = {}


def register(kind: FieldType) -> FieldType:
    """Add ``kind`` to the registry after checking it; duplicates and malformed types fail loudly at import."""
    global FIELD_TYPES
    if not re.fullmatch(r"[a-z][a-z0-9_]*", kind.name):
        raise ValueError(f"field type name must be a lowercase identifier: {kind.name!r}")
    if kind.name in _registry:
        raise ValueError(f"field type {kind.name!r} is already registered")
    if kind.json_type is not None and kind.json_type not in JSON_TYPES:
        raise ValueError(f"field type {kind.name!r}: unknown JSON type {kind.json_type!r}")
    if not kind.zh or not kind.widget or not callable(kind.coercer):
        raise ValueError(f"field type {kind.name!r} needs a Chinese name, a widget and a coercer")
    template = dict(kind.template)
    if template.get("x-field") != kind.name:
        raise ValueError(f"field type {kind.name!r}: template must declare x-field {kind.name!r}")
    if kind.problems(template):
        raise ValueError(f"field type {kind.name!r}: template is inconsistent: {kind.problems(template)}")
    _registry[kind.name] = kind
    FIELD_TYPES = MappingProxyType(dict(_registry))
    return kind


def field_type(name: str) -> FieldType | None:
    """The registered type called ``name``, or None."""
    return _registry.get(name)


def field_type_of(prop: Mapping[str, Any]) -> FieldType | None:
    """The type a property declares with ``x-field`` (None when absent or unknown)."""
    name = prop.get("x-field")
    return _registry.get(name) if isinstance(name, str) else None


def base_type(prop: Mapping[str, Any]) -> str | None:
    """The property's JSON type with ``null`` removed from a type list (``["number", "null"]`` → ``number``)."""
    declared = prop.get("type")
    if isinstance(declared, list):
        rest = [t for t in declared if t != "null"]
        return rest[0] if len(rest) == 1 else None
    return declared if isinstance(declared, str) else None


# -- coercion helpers ------------------------------------------------------------------------------------------------

_ASCII_DIGITS = re.compile(r"[+-]?[0-9]+", re.ASCII)
_ASCII_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?|[+-]?\.[0-9]+", re.ASCII)
_DATE_INPUT = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?", re.ASCII)
_RANGE_SPLIT = re.compile(r"\s*(?:~|至|到|—|～|\s-\s)\s*")
_LIST_SPLIT = re.compile(r"\s*[,，、;；\n]\s*")
_MAX_NUMBER_CHARS = 40
_TRUE = frozenset({"是", "true", "1", "on", "yes", "y", "对", "有"})
_FALSE = frozenset({"否", "false", "0", "off", "no", "n", "不", "无"})


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _Invalid("应为文本")
    return raw


def _fold(raw: Any) -> str:
    """NFKC: full-width digits, letters and punctuation typed through a Chinese IME become ASCII."""
    return unicodedata.normalize("NFKC", _text(raw)).strip()


def _plain_text(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
    text = _text(raw).strip()
    return text or None


def _multiline(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
    text = _text(raw).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def _integer(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> int | None:
    text = _fold(raw).replace(",", "").replace(" ", "")
    if not text:
        return None
    if len(text) > _MAX_NUMBER_CHARS or not _ASCII_DIGITS.fullmatch(text):
        raise _Invalid("请输入整数")
    return int(text)


def _decimal(text: str, what: str) -> Decimal:
    if len(text) > _MAX_NUMBER_CHARS or not _ASCII_DECIMAL.fullmatch(text):
        raise _Invalid(f"请输入{what}")
    return Decimal(text)


def _money(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> Decimal | None:
    text = _fold(raw).replace(",", "").replace(" ", "").lstrip("¥")
    unit = options.get("display") or options.get("unit") or "元"
    if text.endswith("万元"):
        text, unit = text[:-2], "万元"
    elif text.endswith("元"):
        text, unit = text[:-1], "元"
    if not text:
        return None
    value = _decimal(text, "金额，如 1280000.00")
    if unit == "万元":
        value = value.scaleb(4)
    elif unit != "元":
        raise _Invalid(f"不支持的金额单位：{unit}")
    scale = prop.get("x-scale", 2)
    if not isinstance(scale, int) or isinstance(scale, bool):
        scale = 2
    step = Decimal(1).scaleb(-scale)
    if value != value.quantize(step, rounding="ROUND_DOWN"):
        raise _Invalid(f"金额最多保留 {scale} 位小数（以元计）")
    return value.quantize(step) if unit == "万元" else value


def _percent(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> Decimal | None:
    text = _fold(raw).replace(" ", "").rstrip("%")
    if not text:
        return None
    # Typed as shown on screen (12.5 means 12.5%); stored as a fraction (0.125) so rules can write 超支率 > 5%.
    return _decimal(text, "百分数，如 12.5").scaleb(-2)


def _iso_date(text: str) -> str:
    match = _DATE_INPUT.fullmatch(text)
    if match is None:
        raise _Invalid("日期格式应为 YYYY-MM-DD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        raise _Invalid("日期不存在") from None


def _date(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
    text = _fold(raw)
    return _iso_date(text) if text else None


def _daterange(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, str] | None:
    if isinstance(raw, Mapping):
        parts = [raw.get("开始"), raw.get("结束")]
    elif isinstance(raw, list | tuple):
        if len(raw) != 2:
            raise _Invalid("日期范围应包含开始和结束两个日期")
        parts = list(raw)
    else:
        text = _fold(raw)
        if not text:
            return None
        parts = _RANGE_SPLIT.split(text, maxsplit=1)
        if len(parts) != 2:
            raise _Invalid("日期范围应写成「开始 至 结束」")
    start, end = (_fold(p) for p in parts)
    if not start and not end:
        return None
    if not start or not end:
        raise _Invalid("请同时填写开始和结束日期")
    start, end = _iso_date(start), _iso_date(end)
    if start > end:
        raise _Invalid("开始日期不能晚于结束日期")
    return {"开始": start, "结束": end}


def _enum_values(prop: Mapping[str, Any]) -> list[Any] | None:
    values = prop.get("enum")
    if values is None and isinstance(prop.get("items"), Mapping):
        values = prop["items"].get("enum")
    return list(values) if isinstance(values, list) else None


def _label_to_value(text: str, prop: Mapping[str, Any]) -> str:
    """Accept the stored value or its display label (``x-enum-labels``)."""
    values = _enum_values(prop)
    if values is None or text in values:
        return text
    labels = prop.get("x-enum-labels") or (prop.get("items") or {}).get("x-enum-labels") or {}
    for value, label in labels.items() if isinstance(labels, Mapping) else ():
        if label == text:
            return value
    raise _Invalid(f"「{text}」不是可选项")


def _choice(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
    text = _text(raw).strip()
    return _label_to_value(text, prop) if text else None


def _multichoice(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> list[str] | None:
    if isinstance(raw, list | tuple):
        items = [_text(item).strip() for item in raw]
    else:
        text = _text(raw).strip()
        items = _LIST_SPLIT.split(text) if text else []
    chosen: list[str] = []
    for item in items:
        if item:
            value = _label_to_value(item, prop)
            if value not in chosen:
                chosen.append(value)
    return chosen or None


def _yesno(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = _fold(raw).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Invalid("请选择「是」或「否」")


def _code(upper: bool = False, drop: str = "") -> Coercer:
    """Identifier-like input: folded to ASCII, stripped, optionally upper-cased and with separators removed."""

    def coerce_code(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
        text = _fold(raw)
        for char in drop:
            text = text.replace(char, "")
        if upper:
            text = text.upper()
        return text or None

    return coerce_code


def _mobile(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
    text = _fold(raw).replace(" ", "").replace("-", "")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    return text or None


def _phone(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
    text = _fold(raw).replace(" ", "")
    match = re.fullmatch(r"\((0[0-9]{2,3})\)([0-9-]+)", text, re.ASCII)
    if match:
        text = f"{match[1]}-{match[2]}"
    return text or None


_FILE_KEYS = field_checks.FILE_KEYS


def _file(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _Invalid("文件信息无效") from None
    if not isinstance(raw, Mapping) or any(k not in raw for k in _FILE_KEYS):
        raise _Invalid("文件信息应包含 name、size、content_type、key")
    size = raw["size"]
    if isinstance(size, str) and size.isascii() and size.isdigit():
        size = int(size)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _Invalid("文件大小无效")
    return {
        "name": str(raw["name"]),
        "size": size,
        "content_type": str(raw["content_type"]),
        "key": str(raw["key"]),
    }


def _group(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> list[Any] | None:
    """Rows arrive already split (a list of row mappings); each cell is coerced by its own field type."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, list | tuple):
        raise _Invalid("明细应为多行数据")
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    rows = []
    for index, row in enumerate(raw):
        if not isinstance(row, Mapping):
            raise _Invalid(f"第{index + 1}行数据无效")
        value, problems = coerce_data(items, row)
        if problems:
            first = problems[0]
            raise _Invalid(f"第{index + 1}行「{first.field_label}」：{first.message}")
        if value:
            rows.append(value)
    return rows or None


def _computed(raw: Any, prop: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    return None  # read-only: the server computes it, whatever the browser sent


def coerce(
    kind: str | FieldType,
    raw: Any,
    *,
    prop: Mapping[str, Any] | None = None,
    display: str | None = None,
) -> Coerced:
    """Turn one submitted HTML-form value into the JSON value stored for a field of type ``kind``.

    ``raw`` is a string (a list of strings for ``multichoice``, a mapping or pair for ``daterange``, a mapping for
    ``file``, a list of row mappings for ``group``). ``prop`` is the property schema (enum labels, ``x-scale``);
    ``display`` the UI unit a money input was typed in (``万元`` multiplies by 10 000). Never raises.
    """
    found = kind if isinstance(kind, FieldType) else _registry.get(kind)
    if found is None:
        return Coerced(None, f"未知的字段类型：{kind}")
    options = {"display": display} if display else {}
    try:
        return Coerced(found.coercer(raw, prop or {}, options))
    except _Invalid as problem:
        return Coerced(None, str(problem))
    except (ValueError, TypeError, ArithmeticError, InvalidOperation, RecursionError):
        return Coerced(None, "输入无效")


def coerce_data(
    schema: Mapping[str, Any],
    raw: Mapping[str, Any],
    *,
    ui_fields: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Coerce a whole submitted form (or one group row): each property of ``schema`` by its ``x-field``.

    Values of unknown keys are dropped, empty ones omitted. ``ui_fields`` (the UI schema's ``fields``) supplies the
    display unit of money inputs. Returns the data and one :class:`FieldError` per value that could not be read.
    """
    data: dict[str, Any] = {}
    problems: list[FieldError] = []
    props = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
    for name, prop in props.items():
        if name not in raw or not isinstance(prop, Mapping):
            continue
        kind = field_type_of(prop) or _registry["text"]
        ui = (ui_fields or {}).get(name) or {}
        result = coerce(
            kind, raw[name], prop=prop, display=ui.get("display") if isinstance(ui, Mapping) else None
        )
        if result.error is not None:
            label = prop.get("title") or name
            problems.append(FieldError(name, str(label), result.error, "coerce"))
        elif result.value is not None:
            data[name] = result.value
    return data, problems


def _string(name: str, zh: str, widget: str, coercer: Coercer, fmt: str | None = None) -> FieldType:
    template: dict[str, Any] = {"type": "string", "x-field": name}
    if fmt:
        template["format"] = fmt
    return FieldType(name, zh, "string", widget, STRING, coercer, fmt, template)


_DATE_SCHEMA = {"type": "string", "format": "date"}

for _kind in (
    _string("text", "单行文本", "text", _plain_text),
    _string("textarea", "多行文本", "textarea", _multiline),
    FieldType(
        "integer",
        "整数",
        "integer",
        "number",
        NUMBER,
        _integer,
        template={"type": "integer", "x-field": "integer"},
    ),
    FieldType(
        "money",
        "金额",
        "number",
        "money",
        NUMBER,
        _money,
        template={"type": "number", "x-field": "money", "x-scale": 2},
        extra_checks=field_checks.check_money,
    ),
    FieldType(
        "percent",
        "百分比",
        "number",
        "percent",
        NUMBER,
        _percent,
        template={"type": "number", "x-field": "percent"},
    ),
    FieldType(
        "date",
        "日期",
        "string",
        "date",
        DATE,
        _date,
        "date",
        {"type": "string", "format": "date", "x-field": "date"},
    ),
    FieldType(
        "daterange",
        "日期范围",
        "object",
        "daterange",
        ObjectType({"开始": DATE, "结束": DATE}),
        _daterange,
        template={
            "type": "object",
            "x-field": "daterange",
            "properties": {"开始": dict(_DATE_SCHEMA), "结束": dict(_DATE_SCHEMA)},
            "required": ["开始", "结束"],
            "additionalProperties": False,
        },
        extra_checks=field_checks.check_daterange,
    ),
    FieldType(
        "choice",
        "单选",
        "string",
        "select",
        STRING,
        _choice,
        template={"type": "string", "x-field": "choice", "enum": ["是"]},
        extra_checks=field_checks.check_choice,
    ),
    FieldType(
        "multichoice",
        "多选",
        "array",
        "checkboxes",
        ListType(STRING),
        _multichoice,
        template={
            "type": "array",
            "x-field": "multichoice",
            "items": {"type": "string", "enum": ["是"]},
            "uniqueItems": True,
        },
        extra_checks=field_checks.check_multichoice,
    ),
    FieldType(
        "yesno", "是/否", "boolean", "yesno", BOOL, _yesno, template={"type": "boolean", "x-field": "yesno"}
    ),
    _string("org", "单位", "org", _code()),
    _string("user", "人员", "user", _plain_text),
    _string("division", "行政区划", "division", _code(), "cn-division"),
    FieldType(
        "file",
        "附件",
        "object",
        "file",
        ObjectType({"name": STRING, "size": NUMBER, "content_type": STRING, "key": STRING}),
        _file,
        template={
            "type": "object",
            "x-field": "file",
            "properties": {
                "name": {"type": "string", "maxLength": 255},
                "size": {"type": "integer", "minimum": 0},
                "content_type": {"type": "string", "maxLength": 255},
                "key": {"type": "string", "maxLength": 255},
            },
            "required": list(_FILE_KEYS),
            "additionalProperties": False,
        },
        extra_checks=field_checks.check_file,
    ),
    FieldType(
        "group",
        "重复组",
        "array",
        "group",
        ListType(ANY),
        _group,
        template={"type": "array", "x-field": "group", "items": {"type": "object", "properties": {}}},
        extra_checks=field_checks.check_group,
    ),
    FieldType(
        "computed",
        "计算字段",
        None,
        "computed",
        ANY,
        _computed,
        template={"type": "number", "x-field": "computed", "readOnly": True},
    ),
    _string("uscc", "统一社会信用代码", "text", _code(upper=True, drop=" -"), "cn-uscc"),
    _string("idcard", "居民身份证号", "text", _code(upper=True, drop=" "), "cn-idcard"),
    _string("mobile", "手机号", "tel", _mobile, "cn-mobile"),
    _string("phone", "固定电话", "tel", _phone, "cn-phone"),
    _string("postcode", "邮政编码", "text", _code(drop=" "), "cn-postcode"),
):
    register(_kind)
