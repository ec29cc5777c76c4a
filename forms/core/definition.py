"""A form definition — JSON Schema (data) + UI schema (presentation) + DSL (what JSON Schema cannot say) — and the
checks that decide whether it may be published.

A published definition is immutable and records pin it, so everything that can be checked once is checked here, at
publish time: the schema against the 2020-12 meta-schema, each ``x-field`` against the registry, every UI-schema
reference, every DSL expression against the catalogue, and the safety bounds of :mod:`forms.core.safety`. A
definition that passes never fails later for a reason its administrator could have fixed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator

from forms.core import dsl_adapter
from forms.core.dsl_adapter import Catalogue, Compiled
from forms.core.errors import DefinitionProblem
from forms.core.fields import FIELD_TYPES, base_type, field_type_of
from forms.core.formats import FORMATS
from forms.core.safety import check_schema_safety

__all__ = ["DISCLOSURES", "Analysis", "FormDefinition", "GroupAnalysis", "canonical_json"]

DISCLOSURES = ("主动公开", "依申请公开", "不予公开")
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_UI_TOP_KEYS = frozenset({"order", "sections", "fields", "validations"})
_UI_FIELD_KEYS = frozenset(
    {
        "widget",
        "help",
        "placeholder",
        "display",
        "visible_if",
        "required_if",
        "computed",
        "page_size",
        "item",
        "rows",
    }
)
_UI_ROW_FIELD_KEYS = frozenset({"widget", "help", "placeholder", "display", "computed", "rows"})
_EXTRA_WIDGETS = frozenset({"text", "textarea", "number", "select", "radio", "checkboxes", "tel", "hidden"})
_DISPLAY_UNITS = frozenset({"元", "万元"})
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def canonical_json(value: Any) -> str:
    """Key-order-independent JSON text (Decimals written as numbers), the input of :attr:`content_hash`."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_encode)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value == value.to_integral_value() and abs(value) < 2**53 else str(value)
    raise TypeError(f"不能序列化 {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class GroupAnalysis:
    """What the runtime needs about one repeating group: its row catalogue and row-relative computed fields."""

    name: str
    item_schema: Mapping[str, Any]
    catalogue: Catalogue
    computed: tuple[tuple[str, Compiled], ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    """The result of checking a definition: problems, and the compiled DSL the runtime evaluates."""

    problems: tuple[DefinitionProblem, ...]
    visible_if: Mapping[str, Compiled] = field(default_factory=dict)
    required_if: Mapping[str, Compiled] = field(default_factory=dict)
    #: top-level computed fields, in an order where each comes after the computed fields it reads.
    computed: tuple[tuple[str, Compiled], ...] = ()
    #: (compiled rule, message, fields to attach the error to)
    validations: tuple[tuple[Compiled, str, tuple[str, ...]], ...] = ()
    groups: tuple[GroupAnalysis, ...] = ()


class FormDefinition:
    """An immutable form definition. ``schema`` and ``ui_schema`` are deep-copied on construction; treat them as
    read-only. Two definitions with the same content (in any key order) have the same :attr:`content_hash`,
    compare equal, and share one cached validator."""

    __slots__ = ("_analysis", "_catalogue", "content_hash", "schema", "ui_schema")

    def __init__(self, schema: Mapping[str, Any], ui_schema: Mapping[str, Any] | None = None) -> None:
        self.schema: dict[str, Any] = copy.deepcopy(dict(schema)) if isinstance(schema, Mapping) else schema
        self.ui_schema: dict[str, Any] = (
            copy.deepcopy(dict(ui_schema or {})) if isinstance(ui_schema or {}, Mapping) else ui_schema
        )  # type: ignore[assignment]
        text = canonical_json({"schema": self.schema, "ui_schema": self.ui_schema})
        self.content_hash: str = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._analysis: Analysis | None = None
        self._catalogue: Catalogue | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_analysis", "_catalogue") or not hasattr(self, "content_hash"):
            object.__setattr__(self, name, value)
        else:
            raise AttributeError("FormDefinition is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FormDefinition) and other.content_hash == self.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __repr__(self) -> str:
        return f"FormDefinition({self.content_hash[:12]}…, {len(self.properties())} fields)"

    # -- reading -------------------------------------------------------------------------------------------------

    def properties(self) -> Mapping[str, Any]:
        """The top-level properties (the form's fields), in declaration order."""
        props = self.schema.get("properties") if isinstance(self.schema, Mapping) else None
        return props if isinstance(props, Mapping) else {}

    def label(self, name: str) -> str:
        """The Chinese label of a top-level field: its ``title``, else its name."""
        prop = self.properties().get(name)
        title = prop.get("title") if isinstance(prop, Mapping) else None
        return title if isinstance(title, str) and title else name

    def ui_field(self, name: str) -> Mapping[str, Any]:
        fields = self.ui_schema.get("fields") if isinstance(self.ui_schema, Mapping) else None
        found = fields.get(name) if isinstance(fields, Mapping) else None
        return found if isinstance(found, Mapping) else {}

    def catalogue(self) -> Catalogue:
        """The DSL catalogue built from the schema: every field (and group sub-field, as ``合同.金额``) by type."""
        if self._catalogue is None:
            self._catalogue = dsl_adapter.catalogue_for(
                self.schema if isinstance(self.schema, Mapping) else {}
            )
        return self._catalogue

    # -- checking ------------------------------------------------------------------------------------------------

    def check(self) -> list[DefinitionProblem]:
        """Every reason this definition may not be published (an empty list means it may)."""
        return list(self.analysis().problems)

    def analysis(self) -> Analysis:
        """Problems plus compiled DSL; computed once per definition object."""
        if self._analysis is None:
            self._analysis = _Analyser(self).run()
        return self._analysis


class _Analyser:
    def __init__(self, definition: FormDefinition) -> None:
        self.d = definition
        self.problems: list[DefinitionProblem] = []

    def add(self, path: str, message: str, **extra: Any) -> None:
        self.problems.append(DefinitionProblem(path, message, **extra))

    def run(self) -> Analysis:
        schema, ui = self.d.schema, self.d.ui_schema
        if not isinstance(schema, Mapping):
            self.add("schema", "表单定义的 schema 应为 JSON 对象")
            return Analysis(tuple(self.problems))
        if not isinstance(ui, Mapping):
            self.add("ui_schema", "表单定义的 ui_schema 应为 JSON 对象")
            return Analysis(tuple(self.problems))
        for pointer, message in check_schema_safety(schema):
            self.add(f"schema{pointer}", message)
        for pointer, message in check_schema_safety(ui):
            self.add(f"ui_schema{pointer}", message)
        if self.problems:  # never hand a hostile document to the meta-schema validator or the DSL
            return Analysis(tuple(self.problems))
        self.meta_schema(schema)
        if self.problems:
            return Analysis(tuple(self.problems))
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), Mapping):
            self.add("schema", "表单的 schema 应为 type: object 且带 properties")
            return Analysis(tuple(self.problems))
        self.properties(schema, "schema", top=True)
        self.ui_references(ui)
        return self.dsl(ui)

    def meta_schema(self, schema: Mapping[str, Any]) -> None:
        declared = schema.get("$schema")
        if declared is not None and declared.rstrip("#") != DRAFT_2020_12:
            self.add("schema/$schema", f"只支持 JSON Schema 2020-12（{DRAFT_2020_12}）")
        for error in sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))[:20]:
            path = "/".join(str(p) for p in error.absolute_path)
            self.add(f"schema/{path}".rstrip("/"), f"不符合 JSON Schema 2020-12 元模式：{error.message}")

    def properties(self, schema: Mapping[str, Any], path: str, *, top: bool) -> None:
        props = schema["properties"]
        required = schema.get("required") or []
        for name, prop in props.items():
            where = f"{path}/properties/{name}"
            if not isinstance(prop, Mapping):
                self.add(where, "字段定义应为对象")
                continue
            self.one_property(name, prop, where)
            kind = prop.get("x-field")
            if kind == "computed" and name in required:
                self.add(f"{path}/required", f"计算字段「{name}」由系统计算，不能列为必填")
            if kind == "group" and top and isinstance(prop.get("items"), Mapping):
                items = prop["items"]
                if isinstance(items.get("properties"), Mapping):
                    self.properties(items, f"{where}/items", top=False)
            elif kind == "group" and not top:
                self.add(f"{where}/x-field", "重复组不能嵌套在重复组内")

    def one_property(self, name: str, prop: Mapping[str, Any], where: str) -> None:
        kind = prop.get("x-field")
        if kind is None:
            self.add(f"{where}/x-field", f"字段「{name}」缺少 x-field（字段类型）")
            return
        found = field_type_of(prop)
        if found is None:
            known = "、".join(FIELD_TYPES)
            self.add(f"{where}/x-field", f"未知的字段类型 {kind!r}；可用：{known}")
            return
        for message in found.problems(prop):
            self.add(where, message)
        disclosure = prop.get("x-disclosure")
        if disclosure is not None and disclosure not in DISCLOSURES:
            self.add(f"{where}/x-disclosure", f"公开属性应为 {'、'.join(DISCLOSURES)} 之一")
        sensitivity = prop.get("x-sensitivity")
        if sensitivity is not None and not isinstance(sensitivity, str):
            self.add(f"{where}/x-sensitivity", "x-sensitivity 应为文本，如「个人信息」")
        for sub_path, sub in _walk(prop, where):
            fmt = sub.get("format")
            if isinstance(fmt, str) and fmt not in FORMATS:
                self.add(f"{sub_path}/format", f"未知的格式 {fmt!r}；可用：{'、'.join(FORMATS)}")
            if sub.get("uniqueItems") is True and base_type(sub.get("items") or {}) in ("object", "array"):
                self.add(f"{sub_path}/uniqueItems", "uniqueItems 只能用于由简单值组成的列表")

    def field_names(self) -> Mapping[str, Any]:
        return self.d.properties()

    def ui_references(self, ui: Mapping[str, Any]) -> None:
        props = self.field_names()
        for key in ui:
            if key not in _UI_TOP_KEYS:
                self.add(
                    f"ui_schema/{key}", f"未知的界面配置项 {key!r}；可用：{'、'.join(sorted(_UI_TOP_KEYS))}"
                )
        self.names_list(ui.get("order"), "ui_schema/order", props)
        sections = ui.get("sections")
        if sections is not None:
            if not isinstance(sections, list):
                self.add("ui_schema/sections", "sections 应为列表")
            else:
                for index, section in enumerate(sections):
                    where = f"ui_schema/sections/{index}"
                    if not isinstance(section, Mapping) or not isinstance(section.get("title"), str):
                        self.add(where, "分组应为 {title, fields} 对象")
                        continue
                    self.names_list(section.get("fields"), f"{where}/fields", props)
        fields = ui.get("fields")
        if fields is not None:
            if not isinstance(fields, Mapping):
                self.add("ui_schema/fields", "fields 应为「字段名 → 配置」的对象")
            else:
                for name, conf in fields.items():
                    self.ui_field(name, conf, f"ui_schema/fields/{name}", props, _UI_FIELD_KEYS)
        validations = ui.get("validations")
        if validations is not None:
            if not isinstance(validations, list):
                self.add("ui_schema/validations", "validations 应为列表")
            else:
                for index, rule in enumerate(validations):
                    where = f"ui_schema/validations/{index}"
                    if not isinstance(rule, Mapping) or not isinstance(rule.get("rule"), str):
                        self.add(where, "校验规则应为 {rule, message, fields} 对象")
                        continue
                    if not isinstance(rule.get("message"), str) or not rule["message"].strip():
                        self.add(f"{where}/message", "校验规则需要一条中文提示 message")
                    if "fields" in rule:
                        self.names_list(rule["fields"], f"{where}/fields", props)

    def names_list(self, names: Any, where: str, props: Mapping[str, Any]) -> None:
        if names is None:
            return
        if not isinstance(names, list):
            self.add(where, "应为字段名列表")
            return
        for index, name in enumerate(names):
            if name not in props:
                self.add(f"{where}/{index}", f"引用了不存在的字段 {name!r}")

    def ui_field(
        self, name: str, conf: Any, where: str, props: Mapping[str, Any], allowed: frozenset[str]
    ) -> None:
        if name not in props:
            self.add(where, f"引用了不存在的字段 {name!r}")
            return
        if not isinstance(conf, Mapping):
            self.add(where, "字段的界面配置应为对象")
            return
        prop = props[name]
        for key in conf:
            if key not in allowed:
                hint = "（重复组内暂不支持 visible_if/required_if）" if key in _UI_FIELD_KEYS else ""
                self.add(f"{where}/{key}", f"未知的字段配置项 {key!r}{hint}")
        widget = conf.get("widget")
        if (
            widget is not None
            and widget not in _EXTRA_WIDGETS
            and widget not in {t.widget for t in FIELD_TYPES.values()}
        ):
            self.add(f"{where}/widget", f"未知的控件 {widget!r}")
        display = conf.get("display")
        if display is not None and (display not in _DISPLAY_UNITS or prop.get("x-field") != "money"):
            self.add(f"{where}/display", "display 只用于金额字段，取值「元」或「万元」")
        page_size = conf.get("page_size")
        if page_size is not None and (not isinstance(page_size, int) or not 1 <= page_size <= 500):
            self.add(f"{where}/page_size", "page_size 应为 1–500 的整数")
        if "item" in conf:
            items = prop.get("items") if prop.get("x-field") == "group" else None
            if not isinstance(items, Mapping) or not isinstance(items.get("properties"), Mapping):
                self.add(f"{where}/item", "item 只用于重复组字段")
            elif not isinstance(conf["item"], Mapping):
                self.add(f"{where}/item", "item 应为对象")
            else:
                row_props = items["properties"]
                item = conf["item"]
                for key in item:
                    if key not in ("order", "fields"):
                        self.add(f"{where}/item/{key}", f"未知的配置项 {key!r}")
                self.names_list(item.get("order"), f"{where}/item/order", row_props)
                row_fields = item.get("fields")
                if isinstance(row_fields, Mapping):
                    for row_name, row_conf in row_fields.items():
                        self.ui_field(
                            row_name,
                            row_conf,
                            f"{where}/item/fields/{row_name}",
                            row_props,
                            _UI_ROW_FIELD_KEYS,
                        )
                elif row_fields is not None:
                    self.add(f"{where}/item/fields", "fields 应为对象")

    # -- DSL -----------------------------------------------------------------------------------------------------

    def expression(self, source: Any, catalogue: Catalogue, where: str, *, boolean: bool) -> Compiled | None:
        if not isinstance(source, str) or not source.strip():
            self.add(where, "表达式应为非空文本")
            return None
        compiled, errors = dsl_adapter.check_expression(source, catalogue, boolean=boolean)
        for error in errors:
            self.add(where, error.message, code=error.code, line=error.line, column=error.column)
        return compiled

    def dsl(self, ui: Mapping[str, Any]) -> Analysis:
        catalogue = self.d.catalogue()
        props = self.field_names()
        visible: dict[str, Compiled] = {}
        required: dict[str, Compiled] = {}
        computed: dict[str, Compiled] = {}
        for name, prop in props.items():
            conf = self.d.ui_field(name)
            where = f"ui_schema/fields/{name}"
            for key, target in (("visible_if", visible), ("required_if", required)):
                if key in conf:
                    compiled = self.expression(conf[key], catalogue, f"{where}/{key}", boolean=True)
                    if compiled is not None:
                        target[name] = compiled
            is_computed = prop.get("x-field") == "computed"
            if "computed" in conf and not is_computed:
                self.add(
                    f"{where}/computed", f"字段「{name}」不是计算字段（x-field: computed），不能配置 computed"
                )
            elif is_computed and "computed" not in conf:
                self.add(where, f"计算字段「{name}」需要在界面配置中给出 computed 表达式")
            elif is_computed:
                compiled = self.expression(conf["computed"], catalogue, f"{where}/computed", boolean=False)
                if compiled is not None:
                    self.result_type(compiled, catalogue, name, f"{where}/computed")
                    computed[name] = compiled
        order = self.computed_order(computed)
        rules: list[tuple[Compiled, str, tuple[str, ...]]] = []
        validations = ui.get("validations") if isinstance(ui.get("validations"), list) else []
        for index, rule in enumerate(validations):
            if not isinstance(rule, Mapping) or not isinstance(rule.get("rule"), str):
                continue  # reported by ui_references
            where = f"ui_schema/validations/{index}/rule"
            compiled = self.expression(rule["rule"], catalogue, where, boolean=True)
            if compiled is not None:
                targets = rule.get("fields") if isinstance(rule.get("fields"), list) else []
                message = rule.get("message") if isinstance(rule.get("message"), str) else "不满足校验规则"
                rules.append((compiled, message, tuple(str(t) for t in targets)))
        groups = tuple(
            self.group(name, prop) for name, prop in props.items() if prop.get("x-field") == "group"
        )
        return Analysis(
            tuple(self.problems),
            visible,
            required,
            tuple((name, computed[name]) for name in order),
            tuple(rules),
            groups,
        )

    def result_type(self, compiled: Compiled, catalogue: Catalogue, name: str, where: str) -> None:
        declared = catalogue.lookup(name)
        if declared is not None and not declared.type.accepts(compiled.type):
            self.add(where, f"计算结果的类型是{compiled.type.zh}，但字段「{name}」的类型是{declared.type.zh}")

    def computed_order(self, computed: Mapping[str, Compiled]) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " → ".join([*trail[trail.index(name) :], name])
                self.add(f"ui_schema/fields/{name}/computed", f"计算字段循环引用：{cycle}")
                return
            state[name] = 1
            for dep in sorted(computed[name].reads):
                if dep in computed:
                    visit(dep, [*trail, name])
            state[name] = 2
            order.append(name)

        for name in computed:
            visit(name, [])
        return order

    def group(self, name: str, prop: Mapping[str, Any]) -> GroupAnalysis:
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        catalogue = dsl_adapter.catalogue_for(items)
        row_ui = self.d.ui_field(name).get("item") or {}
        row_fields = row_ui.get("fields") if isinstance(row_ui, Mapping) else None
        row_props = items.get("properties") or {}
        computed: list[tuple[str, Compiled]] = []
        for row_name, row_prop in row_props.items():
            conf = row_fields.get(row_name) if isinstance(row_fields, Mapping) else None
            conf = conf if isinstance(conf, Mapping) else {}
            where = f"ui_schema/fields/{name}/item/fields/{row_name}"
            is_computed = isinstance(row_prop, Mapping) and row_prop.get("x-field") == "computed"
            if is_computed and "computed" not in conf:
                self.add(where, f"计算字段「{name}.{row_name}」需要 computed 表达式（相对于本行）")
            elif "computed" in conf and not is_computed:
                self.add(f"{where}/computed", f"字段「{name}.{row_name}」不是计算字段，不能配置 computed")
            elif is_computed:
                compiled = self.expression(conf["computed"], catalogue, f"{where}/computed", boolean=False)
                if compiled is not None:
                    self.result_type(compiled, catalogue, row_name, f"{where}/computed")
                    if compiled.reads & {n for n, _ in computed} or any(
                        row_props.get(r, {}).get("x-field") == "computed" for r in compiled.reads
                    ):
                        self.add(f"{where}/computed", "行内计算字段暂不能引用其他计算字段")
                    else:
                        computed.append((row_name, compiled))
        return GroupAnalysis(name, items, catalogue, tuple(computed))


def _walk(schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``schema`` and its nested subschemas (items, properties), with their paths; bounded by the safety check."""
    stack: list[tuple[str, Mapping[str, Any]]] = [(path, schema)]
    while stack:
        where, node = stack.pop()
        yield where, node
        items = node.get("items")
        if isinstance(items, Mapping):
            stack.append((f"{where}/items", items))
        props = node.get("properties")
        if isinstance(props, Mapping) and node.get("x-field") != "group":
            for name, sub in props.items():
                if isinstance(sub, Mapping):
                    stack.append((f"{where}/properties/{name}", sub))
