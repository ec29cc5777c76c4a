"""A project type's configuration as data: defaults, checks, inheritance, and the catalogue its DSL sees.

Pure functions over plain dicts (no Django), so bundles, the studio and the services share one reading.

A configuration::

    name: 老旧小区改造            category: 基本建设
    stages: [{code: 立项, required_forms: [laojiu-lixiang]}, {code: 执行}, {code: 验收}, {code: 结项}]
    forms: {立项申请: laojiu-lixiang, 每日简报: daily-brief}
    field_map: {name: 项目名称, budget: 项目总投资, planned_start: 计划工期.开始, planned_end: 计划工期.结束}
    indicators: [{name: 预算执行率, expr: "已支出 / 预算", format: percent}]
    thresholds: {超支预警线: 0.05}
    public_fields: [项目名称, 项目总投资]

`required_forms` of a stage must each have a submitted record before the project may leave that stage.
An override (a lower org adapting an upper type) writes only what changes, plus `extend_forms` to add
fields to an inherited form.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import dsl

DEFAULT_STAGES = [{"code": "立项"}, {"code": "执行"}, {"code": "验收"}, {"code": "结项"}]
CATEGORIES = ("基本建设", "技术改造", "单纯购置", "信息化", "其他")
FORM_ROLES = ("立项申请", "进度报告", "支出登记", "验收申请", "每日简报")
LEDGER_TARGETS = ("name", "budget", "planned_start", "planned_end", "description", "year")
# A type's configuration keys, in the order a bundle writes them.
CONFIG_KEYS = (
    "name",
    "category",
    "stages",
    "forms",
    "field_map",
    "indicators",
    "thresholds",
    "public_fields",
    "extend_forms",
    "flows",
)
KNOWN_KEYS = frozenset(CONFIG_KEYS)
INDICATOR_FORMATS = ("number", "money", "percent", "days", "bool")

# What every indicator, rule and guard may read about a project, beside its 立项 form fields.
LEDGER_FIELDS: tuple[tuple[str, dsl.DslType, str], ...] = (
    ("预算", dsl.NUMBER, "budget"),
    ("已下达预算", dsl.NUMBER, "allocated_total"),
    ("已支出", dsl.NUMBER, "spent_total"),
    ("合同金额", dsl.NUMBER, "contract_total"),
    ("实际进度", dsl.NUMBER, "progress"),
    ("计划进度", dsl.NUMBER, "planned_progress"),
    ("计划开工日期", dsl.DATE, "planned_start"),
    ("计划完工日期", dsl.DATE, "planned_end"),
    ("立项年度", dsl.NUMBER, "year"),
    ("阶段", dsl.STRING, "stage"),
    ("项目名称", dsl.STRING, "name"),
    ("项目代码", dsl.STRING, "code"),
)
LEDGER_LISTS: tuple[tuple[str, dict[str, dsl.DslType]], ...] = (
    ("支出", {"金额": dsl.NUMBER, "支付日期": dsl.DATE, "收款人": dsl.STRING, "凭证号": dsl.STRING}),
    ("合同", {"金额": dsl.NUMBER, "签订日期": dsl.DATE, "相对方": dsl.STRING, "类别": dsl.STRING}),
    ("预算明细", {"金额": dsl.NUMBER, "年度": dsl.NUMBER, "资金来源": dsl.STRING}),
)


_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
_TEXTS = {"type": "array", "items": _TEXT, "maxItems": 200}
_TEXT_MAP = {"type": "object", "additionalProperties": _TEXT, "maxProperties": 200}
SHAPE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": _TEXT,
        "category": _TEXT,
        "stages": {
            "type": "array",
            "maxItems": 30,
            "items": {
                "type": "object",
                "required": ["code"],
                "additionalProperties": False,
                "properties": {"code": _TEXT, "name": _TEXT, "required_forms": _TEXTS},
            },
        },
        "forms": _TEXT_MAP,
        "field_map": _TEXT_MAP,
        "indicators": {
            "type": "array",
            "maxItems": 200,
            "items": {
                "type": "object",
                "required": ["name", "expr"],
                "additionalProperties": False,
                "properties": {
                    "name": _TEXT,
                    "expr": {"type": "string", "maxLength": 4000},
                    "format": _TEXT,
                    "label": _TEXT,
                },
            },
        },
        "thresholds": {
            "type": "object",
            "maxProperties": 200,
            "additionalProperties": {"type": ["string", "integer", "number"]},
        },
        "public_fields": _TEXTS,
        "extend_forms": {"type": "object", "maxProperties": 10, "additionalProperties": {"type": "object"}},
        "flows": {"type": "array", "maxItems": 20, "items": {"type": "object"}},
    },
}
_SHAPE_NAMES = {
    "type": "类型",
    "required": "必填",
    "additionalProperties": "多余的键",
    "minLength": "不能为空",
    "maxLength": "过长",
    "maxItems": "条目过多",
    "maxProperties": "条目过多",
}


def shape_problems(config: Any) -> list[tuple[str, str]]:
    """Structural problems (wrong JSON types, missing keys) that must be fixed before anything else is read."""
    from jsonschema import Draft202012Validator

    if not isinstance(config, Mapping):
        return [("config", "配置必须是对象（键 → 值）")]
    found = []
    for error in Draft202012Validator(SHAPE).iter_errors(dict(config)):
        path = (
            "".join(
                f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
                for i, p in enumerate(error.absolute_path)
            )
            or "config"
        )
        what = _SHAPE_NAMES.get(str(error.validator), "格式不正确")
        found.append((path, f"配置格式不正确（{what}）：{error.message}"))
    return found


def normalise(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration with defaults filled in (stages, empty maps), in a stable shape."""
    out = copy.deepcopy(dict(config))
    out.setdefault("category", "基本建设")
    out["stages"] = [dict(s) for s in out.get("stages") or DEFAULT_STAGES]
    for stage in out["stages"]:
        stage.setdefault("name", stage.get("code"))
        stage.setdefault("required_forms", [])
    for key in ("forms", "field_map", "thresholds"):
        out.setdefault(key, {})
    out.setdefault("indicators", [])
    out.setdefault("public_fields", [])
    return out


def catalogue(
    form_schema: Mapping[str, Any] | None, thresholds: Mapping[str, Any] | None = None
) -> dsl.Catalogue:
    """Names a project's DSL may use: ledger columns, money and progress lists, 立项 form fields, thresholds."""
    fields = [dsl.Field(name, kind, meta={"column": column}) for name, kind, column in LEDGER_FIELDS]
    for name, columns in LEDGER_LISTS:
        fields.append(dsl.Field(name, dsl.ListType(dsl.ObjectType(columns)), meta={"relation": name}))
    taken = {f.name for f in fields}
    for name in thresholds or {}:
        if name not in taken:
            fields.append(dsl.Field(name, dsl.NUMBER, meta={"threshold": name}))
            taken.add(name)
    if form_schema:
        form_fields = dsl.Catalogue.from_json_schema(dict(form_schema)).fields()
        for item in form_fields:
            if item.name not in taken and "." not in item.name:
                fields.append(
                    dsl.Field(
                        item.name,
                        item.type,
                        path=("data", *item.path),
                        label=item.label,
                        meta={"json": ("data", *item.path)},
                    )
                )
    return dsl.Catalogue(fields)


def problems(
    config: Mapping[str, Any],
    *,
    form_schemas: Mapping[str, Mapping[str, Any]],
    override: bool = False,
    roles: Any = None,
) -> list[tuple[str, str]]:
    """Every (path, Chinese message) wrong with an effective configuration; empty when it may be published."""
    found: list[tuple[str, str]] = shape_problems(config)
    if found:
        return found
    unknown = set(config) - KNOWN_KEYS
    for key in sorted(unknown):
        found.append((key, f"未知的配置项“{key}”"))
    if not str(config.get("name") or "").strip():
        found.append(("name", "类型名称：不能为空"))
    if config.get("category") not in CATEGORIES:
        found.append(("category", f"项目类别：必须是 {'、'.join(CATEGORIES)} 之一"))
    found += _stage_problems(config, form_schemas)
    forms = config.get("forms") or {}
    for role, code in forms.items():
        if role not in FORM_ROLES:
            found.append((f"forms.{role}", f"表单用途：必须是 {'、'.join(FORM_ROLES)} 之一"))
        if code not in form_schemas:
            found.append((f"forms.{role}", f"表单“{code}”不存在或未发布"))
    if "立项申请" not in forms:
        found.append(("forms.立项申请", "必须指定立项申请表单"))
    lixiang = form_schemas.get(forms.get("立项申请", ""), {})
    props = (lixiang or {}).get("properties", {})
    for target, source in (config.get("field_map") or {}).items():
        if target not in LEDGER_TARGETS:
            found.append((f"field_map.{target}", f"台账字段必须是 {'、'.join(LEDGER_TARGETS)} 之一"))
        if str(source).split(".", 1)[0] not in props:
            found.append((f"field_map.{target}", f"立项表单中没有字段“{source}”"))
    if "budget" not in (config.get("field_map") or {}):
        found.append(("field_map.budget", "必须指明立项表单中哪个字段是预算（总投资）"))
    cat = catalogue(lixiang, config.get("thresholds"))
    found += _indicator_problems(config.get("indicators") or [], cat)
    found += _flow_problems(config, cat, roles)
    for name, value in (config.get("thresholds") or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            found.append((f"thresholds.{name}", "阈值必须是数值"))
    for i, name in enumerate(config.get("public_fields") or []):
        if name not in props and name not in {f[0] for f in LEDGER_FIELDS}:
            found.append((f"public_fields[{i}]", f"没有字段“{name}”"))
    return found


def _stage_problems(config: Mapping[str, Any], form_schemas: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    stages = config.get("stages") or []
    if len(stages) < 2:
        found.append(("stages", "至少需要两个阶段"))
    codes = [s.get("code") for s in stages]
    for i, stage in enumerate(stages):
        if not str(stage.get("code") or "").strip():
            found.append((f"stages[{i}].code", "阶段编码：不能为空"))
        elif codes.count(stage["code"]) > 1:
            found.append((f"stages[{i}].code", f"阶段“{stage['code']}”重复"))
        for code in stage.get("required_forms") or []:
            if code not in form_schemas:
                found.append((f"stages[{i}].required_forms", f"表单“{code}”不存在或未发布"))
    return found


def _flow_problems(config: Mapping[str, Any], cat: dsl.Catalogue, roles: Any) -> list[tuple[str, str]]:
    """Approval flows: roles exist, conditions type-check against the type's names, every path ends."""
    from accounts.roles import BUILTIN_ROLES
    from workflow import definition

    flows = config.get("flows")
    if not flows:
        return []
    names = [
        i.get("name") for i in config.get("indicators") or [] if isinstance(i, Mapping) and i.get("name")
    ]
    cat = cat.extend(
        [dsl.Field(str(n), dsl.NUMBER, meta={"indicator": n}) for n in names if cat.lookup(n) is None]
    )
    return definition.problems(flows, catalogue=cat, roles=roles if roles is not None else BUILTIN_ROLES)


def _indicator_problems(indicators: list, cat: dsl.Catalogue) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    names: set[str] = set()
    for i, item in enumerate(indicators):
        where = f"indicators[{i}]"
        name = str(item.get("name") or "")
        if not name:
            found.append((f"{where}.name", "指标名称：不能为空"))
        elif name in names or cat.lookup(name) is not None:
            found.append((f"{where}.name", f"指标名称“{name}”与已有名称重复"))
        if item.get("format", "number") not in INDICATOR_FORMATS:
            found.append((f"{where}.format", f"显示格式必须是 {'、'.join(INDICATOR_FORMATS)} 之一"))
        for error in dsl.diagnose(str(item.get("expr") or ""), cat):
            found.append((f"{where}.expr", f"第{error.line}行第{error.column}列：{error.message}"))
        if name:
            names.add(name)
            cat = cat.extend([dsl.Field(name, dsl.NUMBER, meta={"indicator": name})])
    return found


def merge(base: Mapping[str, Any], delta: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """An override's effective configuration, and for each top-level key whether it was 继承 or 修改/新增.

    Maps (forms, field_map, thresholds) merge key by key; indicators merge by name; lists (stages,
    public_fields) are replaced whole when the override gives them.
    """
    effective = copy.deepcopy(dict(base))
    origin: dict[str, str] = {key: "继承" for key in base}
    for key, value in delta.items():
        if key == "extend_forms":
            continue
        if key in ("forms", "field_map", "thresholds") and isinstance(value, Mapping):
            merged = dict(effective.get(key) or {})
            merged.update(value)
            effective[key] = merged
        elif key == "indicators":
            by_name = {i.get("name"): i for i in effective.get("indicators") or []}
            for item in value:
                by_name[item.get("name")] = item
            effective[key] = list(by_name.values())
        else:
            effective[key] = copy.deepcopy(value)
        origin[key] = "修改" if key in base else "新增"
    return effective, origin


def extend_schema(
    schema: Mapping[str, Any], ui_schema: Mapping[str, Any], extension: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An inherited form plus an override's added fields (`properties`, `required`, `ui`)."""
    new_schema = copy.deepcopy(dict(schema))
    new_ui = copy.deepcopy(dict(ui_schema))
    new_schema.setdefault("properties", {}).update(copy.deepcopy(dict(extension.get("properties") or {})))
    required = list(new_schema.get("required") or [])
    required += [r for r in extension.get("required") or [] if r not in required]
    if required:
        new_schema["required"] = required
    ui_ext = extension.get("ui") or {}
    new_ui.setdefault("fields", {}).update(copy.deepcopy(dict(ui_ext.get("fields") or {})))
    added = list((extension.get("properties") or {}).keys())
    if new_ui.get("sections"):
        new_ui["sections"] = [
            *new_ui["sections"],
            {"title": ui_ext.get("section", "本地补充"), "fields": added},
        ]
    return new_schema, new_ui
