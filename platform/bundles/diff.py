"""A semantic diff of two bundles, in Chinese, for people reviewing a configuration change.

It compares meaning, not text: forms and types are matched by code, fields by name, indicators by name, stages by
code, so reordering keys or reformatting YAML shows no difference, while a changed threshold or an added field does.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .document import Bundle

__all__ = ["bundle_diff", "form_changes", "type_changes"]

_FIELD_ASPECTS = (
    ("x-field", "类型"),
    ("title", "标题"),
    ("type", "数据类型"),
    ("enum", "可选值"),
    ("format", "格式"),
    ("x-scale", "小数位"),
    ("minimum", "最小值"),
    ("exclusiveMinimum", "下限（不含）"),
    ("maximum", "最大值"),
    ("exclusiveMaximum", "上限（不含）"),
    ("minLength", "最少字数"),
    ("maxLength", "最多字数"),
    ("pattern", "格式规则"),
    ("x-disclosure", "公开属性"),
    ("x-sensitivity", "敏感级别"),
    ("description", "说明"),
)
_UI_ASPECTS = (
    ("visible_if", "显示条件"),
    ("required_if", "必填条件"),
    ("computed", "计算公式"),
    ("help", "帮助"),
    ("placeholder", "占位提示"),
    ("display", "显示单位"),
    ("widget", "控件"),
    ("page_size", "每页行数"),
)
_TYPE_KEYS = (
    ("name", "名称"),
    ("category", "项目类别"),
    ("field_map", "台账字段映射"),
    ("public_fields", "公开字段"),
    ("extend_forms", "扩展表单"),
)


def _text(value: Any) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list):
        return "[" + "、".join(_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + "，".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _by(items: Any, key: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get(key) is not None:
            out[item[key]] = item
    return out


def _same(a: Any, b: Any) -> bool:
    """Equality of meaning: 0.05 and 0.050 are the same number, key order never matters."""
    return a == b


def _field_changes(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    parts: list[str] = []
    for key, label in _FIELD_ASPECTS:
        if not _same(old.get(key), new.get(key)):
            parts.append(f"{label} {_text(old.get(key))} → {_text(new.get(key))}")
    known = {k for k, _ in _FIELD_ASPECTS} | {"properties", "items", "required"}
    for key in sorted((set(old) | set(new)) - known):
        if not _same(old.get(key), new.get(key)):
            parts.append(f"{key} {_text(old.get(key))} → {_text(new.get(key))}")
    return parts


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _names(value: Any) -> set[str]:
    """The names of a ``required`` list (anything else, as a mid-edit schema may hold, reads as none)."""
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _schema_diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    old_props = old.get("properties") if isinstance(old.get("properties"), Mapping) else {}
    new_props = new.get("properties") if isinstance(new.get("properties"), Mapping) else {}
    old_req, new_req = _names(old.get("required")), _names(new.get("required"))
    for name, prop in new_props.items():
        if name not in old_props:
            prop = prop if isinstance(prop, Mapping) else {}
            required = "，必填" if name in new_req else ""
            lines.append(
                f"  + 字段 {prefix}{name}（{prop.get('x-field')}，“{_text(prop.get('title', name))}”{required}）"
            )
    for name in old_props:
        if name not in new_props:
            lines.append(f"  - 字段 {prefix}{name}")
    for name, prop in new_props.items():
        before = old_props.get(name)
        if not isinstance(before, Mapping) or not isinstance(prop, Mapping):
            continue
        parts = _field_changes(name, before, prop)
        if (name in old_req) != (name in new_req):
            parts.append(f"必填 {_text(name in old_req)} → {_text(name in new_req)}")
        if parts:
            lines.append(f"  ~ 字段 {prefix}{name}：" + "；".join(parts))
        old_items = before.get("items") if isinstance(before.get("items"), Mapping) else {}
        new_items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        if old_items.get("properties") or new_items.get("properties"):
            lines += _schema_diff(old_items, new_items, f"{prefix}{name}[].")
        elif before.get("properties") or prop.get("properties"):
            lines += _schema_diff(before, prop, f"{prefix}{name}.")
    return lines


def _ui_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    if not _same(old.get("order"), new.get("order")):
        lines.append("  ~ 界面：字段顺序（order）已调整")
    old_sections = [
        (s.get("title"), s.get("fields")) for s in _list(old.get("sections")) if isinstance(s, Mapping)
    ]
    new_sections = [
        (s.get("title"), s.get("fields")) for s in _list(new.get("sections")) if isinstance(s, Mapping)
    ]
    if old_sections != new_sections:
        old_titles = [t for t, _ in old_sections]
        new_titles = [t for t, _ in new_sections]
        added = [t for t in new_titles if t not in old_titles]
        removed = [t for t in old_titles if t not in new_titles]
        detail = "".join(
            [f"；新增分组 {_text(added)}" if added else "", f"；删除分组 {_text(removed)}" if removed else ""]
        )
        lines.append(f"  ~ 界面：分组（sections）已调整{detail}")
    old_fields = old.get("fields") if isinstance(old.get("fields"), Mapping) else {}
    new_fields = new.get("fields") if isinstance(new.get("fields"), Mapping) else {}
    for name in list(dict.fromkeys([*old_fields, *new_fields])):
        before = old_fields.get(name) if isinstance(old_fields.get(name), Mapping) else {}
        after = new_fields.get(name) if isinstance(new_fields.get(name), Mapping) else {}
        parts = [
            f"{label} {_text(before.get(key))} → {_text(after.get(key))}"
            for key, label in _UI_ASPECTS
            if not _same(before.get(key), after.get(key))
        ]
        if not _same(before.get("item"), after.get("item")):
            parts.append("重复组行设置已修改")
        if parts:
            lines.append(f"  ~ 界面 字段 {name}：" + "；".join(parts))
    old_rules = {_text(v.get("rule")): v for v in _list(old.get("validations")) if isinstance(v, Mapping)}
    new_rules = {_text(v.get("rule")): v for v in _list(new.get("validations")) if isinstance(v, Mapping)}
    for rule, item in new_rules.items():
        if rule not in old_rules:
            lines.append(f"  + 校验规则 {rule}（{_text(item.get('message'))}）")
        elif not _same(old_rules[rule], item):
            lines.append(f"  ~ 校验规则 {rule}：提示或关联字段已修改")
    for rule in old_rules:
        if rule not in new_rules:
            lines.append(f"  - 校验规则 {rule}")
    return lines


def _form_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for key, label in (("name", "名称"), ("purpose", "用途"), ("project_type_code", "所属类型")):
        if not _same(old.get(key), new.get(key)):
            lines.append(f"  ~ {label}：{_text(old.get(key))} → {_text(new.get(key))}")
    old_schema = old.get("schema") if isinstance(old.get("schema"), Mapping) else {}
    new_schema = new.get("schema") if isinstance(new.get("schema"), Mapping) else {}
    lines += _schema_diff(old_schema, new_schema)
    rest = {k for k in set(old_schema) | set(new_schema) if k not in ("properties", "required")}
    for key in sorted(rest):
        if not _same(old_schema.get(key), new_schema.get(key)):
            lines.append(f"  ~ schema.{key}：{_text(old_schema.get(key))} → {_text(new_schema.get(key))}")
    old_ui = old.get("ui_schema") if isinstance(old.get("ui_schema"), Mapping) else {}
    new_ui = new.get("ui_schema") if isinstance(new.get("ui_schema"), Mapping) else {}
    lines += _ui_diff(old_ui, new_ui)
    return lines


def _type_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    if not _same(old.get("base"), new.get("base")):
        lines.append(f"  ~ 继承自：{_text(old.get('base'))} → {_text(new.get('base'))}")
    a = old.get("config") if isinstance(old.get("config"), Mapping) else {}
    b = new.get("config") if isinstance(new.get("config"), Mapping) else {}
    for key, label in _TYPE_KEYS:
        if not _same(a.get(key), b.get(key)):
            lines.append(f"  ~ {label}：{_text(a.get(key))} → {_text(b.get(key))}")
    old_stages, new_stages = _by(a.get("stages"), "code"), _by(b.get("stages"), "code")
    for code in new_stages:
        if code not in old_stages:
            lines.append(f"  + 阶段 {code}")
    for code in old_stages:
        if code not in new_stages:
            lines.append(f"  - 阶段 {code}")
    for code, stage in new_stages.items():
        if code in old_stages and not _same(old_stages[code], stage):
            before = old_stages[code]
            lines.append(
                f"  ~ 阶段 {code}：必需表单 {_text(before.get('required_forms') or [])} → "
                f"{_text(stage.get('required_forms') or [])}"
                + (
                    f"；名称 {_text(before.get('name'))} → {_text(stage.get('name'))}"
                    if before.get("name") != stage.get("name")
                    else ""
                )
            )
    if list(old_stages) != list(new_stages) and set(old_stages) == set(new_stages):
        lines.append("  ~ 阶段顺序已调整：" + " → ".join(map(str, new_stages)))
    old_forms = a.get("forms") if isinstance(a.get("forms"), Mapping) else {}
    new_forms = b.get("forms") if isinstance(b.get("forms"), Mapping) else {}
    for role in dict.fromkeys([*old_forms, *new_forms]):
        if old_forms.get(role) != new_forms.get(role):
            lines.append(f"  ~ 表单 {role}：{_text(old_forms.get(role))} → {_text(new_forms.get(role))}")
    old_ind, new_ind = _by(a.get("indicators"), "name"), _by(b.get("indicators"), "name")
    for name, item in new_ind.items():
        if name not in old_ind:
            lines.append(f"  + 指标 {name} = {_text(item.get('expr'))}")
        elif not _same(old_ind[name], item):
            before = old_ind[name]
            parts = []
            if before.get("expr") != item.get("expr"):
                parts.append(f"公式 {_text(before.get('expr'))} → {_text(item.get('expr'))}")
            if before.get("format") != item.get("format"):
                parts.append(f"格式 {_text(before.get('format'))} → {_text(item.get('format'))}")
            lines.append(f"  ~ 指标 {name}：" + ("；".join(parts) or "其他设置已修改"))
    for name in old_ind:
        if name not in new_ind:
            lines.append(f"  - 指标 {name}")
    old_th = a.get("thresholds") if isinstance(a.get("thresholds"), Mapping) else {}
    new_th = b.get("thresholds") if isinstance(b.get("thresholds"), Mapping) else {}
    for name in dict.fromkeys([*old_th, *new_th]):
        if name not in old_th:
            lines.append(f"  + 阈值 {name} = {_text(new_th[name])}")
        elif name not in new_th:
            lines.append(f"  - 阈值 {name}（原为 {_text(old_th[name])}）")
        elif not _same(_number(old_th[name]), _number(new_th[name])):
            lines.append(f"  ~ 阈值 {name}：{_text(old_th[name])} → {_text(new_th[name])}")
    lines += _flows_diff(a.get("flows"), b.get("flows"))
    known = {k for k, _ in _TYPE_KEYS} | {"stages", "forms", "indicators", "thresholds", "flows"}
    for key in sorted((set(a) | set(b)) - known):
        if not _same(a.get(key), b.get(key)):
            lines.append(f"  ~ {key}：{_text(a.get(key))} → {_text(b.get(key))}")
    return lines


_STEP_ASPECTS = (
    ("name", "名称"),
    ("when", "条件"),
    ("approvers", "审批人"),
    ("mode", "方式"),
    ("ratio", "比例"),
    ("sla", "时限"),
    ("on_timeout", "超时处理"),
    ("next", "下一步"),
)
_FLOW_ASPECTS = (
    ("name", "名称"),
    ("transition", "环节"),
    ("no_approver", "无审批人时"),
    ("skip_repeated", "自动跳过重复审批人"),
    ("resume_at_returner", "退回后从退回步骤继续"),
)


def _approvers_text(value: Any) -> str:
    if not isinstance(value, list):
        return _text(value)
    parts = []
    for a in value:
        if isinstance(a, Mapping):
            parts.append(str(a.get("user") or f"{a.get('org') or '本单位'}·{a.get('role') or ''}"))
        else:
            parts.append(str(a))
    return "、".join(parts) or "（无）"


def _step_changes(flow: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    parts = []
    for key, label in _STEP_ASPECTS:
        if not _same(old.get(key), new.get(key)):
            show = _approvers_text if key == "approvers" else _text
            parts.append(f"{label} {show(old.get(key))} → {show(new.get(key))}")
    name = new.get("name") or new.get("code")
    return [f"  ~ 流程 {flow} 步骤 {name}：" + "；".join(parts)] if parts else []


def _flows_diff(old: Any, new: Any) -> list[str]:
    """Flows matched by code, steps by code: what a reviewer of an approval change needs to read."""
    lines: list[str] = []
    old_flows, new_flows = _by(old, "code"), _by(new, "code")
    for code, flow in new_flows.items():
        if code not in old_flows:
            steps = len(flow.get("steps") or []) if isinstance(flow, Mapping) else 0
            lines.append(f"  + 流程 {_text(flow.get('name'))}（{code}，{steps} 个步骤）")
    for code, flow in old_flows.items():
        if code not in new_flows:
            lines.append(f"  - 流程 {_text(flow.get('name'))}（{code}）")
    for code, flow in new_flows.items():
        before = old_flows.get(code)
        if before is None or _same(before, flow):
            continue
        label = _text(flow.get("name"))
        for key, aspect in _FLOW_ASPECTS:
            if not _same(before.get(key), flow.get(key)):
                lines.append(f"  ~ 流程 {label}：{aspect} {_text(before.get(key))} → {_text(flow.get(key))}")
        old_steps, new_steps = _by(before.get("steps"), "code"), _by(flow.get("steps"), "code")
        for step_code, step in new_steps.items():
            if step_code not in old_steps:
                lines.append(f"  + 流程 {label} 步骤 {_text(step.get('name'))}")
            else:
                lines += _step_changes(label, old_steps[step_code], step)
        for step_code, step in old_steps.items():
            if step_code not in new_steps:
                lines.append(f"  - 流程 {label} 步骤 {_text(step.get('name'))}")
        if list(old_steps) != list(new_steps) and set(old_steps) == set(new_steps):
            lines.append(f"  ~ 流程 {label} 步骤顺序：" + " → ".join(map(str, new_steps)))
    return lines


def form_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """How form ``new`` differs from ``old`` (each ``{schema, ui_schema, name…}``), one line per change."""
    return [line.strip() for line in _form_diff(old, new)]


def type_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """How type configuration ``new`` differs from ``old`` (plain configs: stages, indicators, flows …)."""
    return [line.strip() for line in _type_diff({"config": old}, {"config": new})]


def _number(value: Any) -> Any:
    """Thresholds may be written as numbers or as decimal text; compare them as numbers."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def bundle_diff(a: Bundle, b: Bundle) -> list[str]:
    """Lines describing how ``b`` differs from ``a`` (empty when they mean the same configuration)."""
    lines: list[str] = []
    if a.org != b.org:
        lines.append(f"机构：{_text(a.org)} → {_text(b.org)}")
    old_forms, new_forms = _by(a.forms, "code"), _by(b.forms, "code")
    for code, form in new_forms.items():
        if code not in old_forms:
            count = len((form.get("schema") or {}).get("properties") or {})
            lines.append(f"+ 表单 {code}（{_text(form.get('name'))}，{count} 个字段）")
    for code, form in old_forms.items():
        if code not in new_forms:
            lines.append(f"- 表单 {code}（{_text(form.get('name'))}）")
    for code, form in new_forms.items():
        if code in old_forms:
            changes = _form_diff(old_forms[code], form)
            if changes:
                lines.append(f"~ 表单 {code}（{_text(form.get('name'))}）：")
                lines += changes
    old_types, new_types = _by(a.project_types, "code"), _by(b.project_types, "code")
    for code, ptype in new_types.items():
        if code not in old_types:
            lines.append(f"+ 项目类型 {code}（{_text((ptype.get('config') or {}).get('name'))}）")
    for code, ptype in old_types.items():
        if code not in new_types:
            lines.append(f"- 项目类型 {code}（{_text((ptype.get('config') or {}).get('name'))}）")
    for code, ptype in new_types.items():
        if code in old_types:
            changes = _type_diff(old_types[code], ptype)
            if changes:
                lines.append(f"~ 项目类型 {code}（{_text((ptype.get('config') or {}).get('name'))}）：")
                lines += changes
    return lines
