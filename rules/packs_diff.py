"""What changed between two versions of a pack: the pack's own fields, its regulation, indicators, rules, tests.

Rules are matched by code and compared field by field; a condition counts as changed only when its meaning as
parsed changes (``超支率>5%`` and ``超支率 > 5%`` are the same), but is shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dsl

from .packs import PackFile
from .spec import RuleSpec

__all__ = ["PackChange", "pack_changes", "rule_changes"]

_PACK_FIELDS = (
    ("name", "名称"),
    ("issuer", "发布机关"),
    ("version", "版本"),
    ("effective_on", "生效日期"),
    ("description", "说明"),
    ("citation", "依据条款"),
)
_REGULATION_FIELDS = (
    ("title", "名称"),
    ("issuer", "发布机关"),
    ("number", "文号"),
    ("issued_on", "发布日期"),
    ("effective_on", "施行日期"),
    ("url", "来源"),
)
_RULE_FIELDS = (
    ("name", "名称"),
    ("when", "条件"),
    ("severity", "级别"),
    ("message", "提示语"),
    ("types", "适用类型"),
    ("triggers", "触发方式"),
    ("raise_alert", "产生预警"),
    ("block", "阻止操作"),
    ("notify", "通知角色"),
    ("email", "发送邮件"),
    ("escalate_after_days", "未确认升级（天）"),
    ("article", "依据条款"),
)
_KINDS = {
    "pack": "规则包",
    "regulation": "依据法规",
    "article": "条款",
    "indicator": "指标",
    "rule": "规则",
    "test": "测试",
}
_CHANGES = {"added": "新增", "removed": "删除", "changed": "修改"}


@dataclass(frozen=True)
class PackChange:
    """One difference: ``kind`` (pack, regulation, article, indicator, rule, test), the item's ``key``, the
    ``change`` (added, removed, changed) and, for a change, the ``field`` with its values before and after."""

    kind: str
    key: str
    change: str
    field: str = ""
    before: Any = None
    after: Any = None

    def __str__(self) -> str:
        what = f"{_KINDS[self.kind]} {self.key}".strip()
        if self.change != "changed":
            sign = "+" if self.change == "added" else "-"
            return f"{sign} {what}（{_CHANGES[self.change]}）"
        return f"~ {what}：{self.field} {_shown(self.before)} → {_shown(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "change": self.change,
            "field": self.field,
            "before": _shown(self.before) if self.before is not None else None,
            "after": _shown(self.after) if self.after is not None else None,
        }


def _shown(value: Any) -> str:
    if value is None or value == "" or value == ():
        return "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, tuple | list):
        return "、".join(str(v) for v in value)
    return f"“{value}”" if isinstance(value, str) else str(value)


def _rule_value(rule: RuleSpec, name: str) -> Any:
    if name == "triggers":
        return tuple(word for word, on in (("保存", rule.on_save), ("定时", rule.on_schedule)) if on)
    return getattr(rule, name)


def _same_condition(a: str, b: str) -> bool:
    try:
        return dsl.print_expr(dsl.parse(a)) == dsl.print_expr(dsl.parse(b))
    except dsl.DslError:
        return a.strip() == b.strip()


def pack_changes(a: PackFile, b: PackFile) -> list[PackChange]:
    """Every difference from ``a`` to ``b``, in file order: pack, regulation, indicators, rules, tests."""
    out: list[PackChange] = []
    old, new = a.spec, b.spec
    if old.code != new.code:
        out.append(PackChange("pack", "", "changed", "编码", old.code, new.code))
    for name, label in _PACK_FIELDS:
        if getattr(old, name) != getattr(new, name):
            out.append(PackChange("pack", old.code, "changed", label, getattr(old, name), getattr(new, name)))
    reg_a, reg_b = dict(old.regulation), dict(new.regulation)
    for name, label in _REGULATION_FIELDS:
        if reg_a.get(name) != reg_b.get(name):
            out.append(PackChange("regulation", "", "changed", label, reg_a.get(name), reg_b.get(name)))
    out += _keyed(
        "article",
        reg_a.get("articles") or {},
        reg_b.get("articles") or {},
        lambda x, y: [] if "".join(x.split()) == "".join(y.split()) else [("条文", x, y)],
    )
    out += _keyed(
        "indicator",
        {n: (e, f) for n, e, f in old.indicators},
        {n: (e, f) for n, e, f in new.indicators},
        lambda x, y: [
            (label, x[i], y[i])
            for i, label in ((0, "公式"), (1, "显示格式"))
            if x[i] != y[i] and not (i == 0 and _same_condition(x[0], y[0]))
        ],
    )
    out += _keyed(
        "rule",
        {r.code: r for r in old.rules},
        {r.code: r for r in new.rules},
        rule_changes,
        label=lambda code, rule: f"{code} {rule.name}",
    )
    out += _keyed("test", {t.name: t for t in old.tests}, {t.name: t for t in new.tests}, _test_fields)
    return out


def _test_fields(a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    found = []
    for name, label in (("type", "类型"), ("today", "今天"), ("record", "记录"), ("expect", "期望")):
        x, y = getattr(a, name, None), getattr(b, name, None)
        x, y = (dict(x), dict(y)) if isinstance(x, dict) or hasattr(x, "items") else (x, y)
        if x != y:
            found.append((label, _compact(x), _compact(y)))
    return found


def _compact(value: Any) -> Any:
    if hasattr(value, "items"):
        return "{" + "，".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return value


def rule_changes(a: RuleSpec, b: RuleSpec) -> list[tuple[str, Any, Any]]:
    """(field label, before, after) for each field of a rule that differs."""
    found = []
    for name, label in _RULE_FIELDS:
        x, y = _rule_value(a, name), _rule_value(b, name)
        if x == y or (name == "when" and _same_condition(x, y)):
            continue
        found.append((label, x, y))
    return found


def _keyed(kind: str, old: dict, new: dict, fields: Any, label: Any = None) -> list[PackChange]:
    """Items matched by key: removed and changed in ``old``'s order, then added in ``new``'s."""
    name = label or (lambda key, _item: str(key))
    out: list[PackChange] = []
    for key, item in old.items():
        if key not in new:
            out.append(PackChange(kind, name(key, item), "removed"))
            continue
        for field_label, before, after in fields(item, new[key]):
            out.append(PackChange(kind, name(key, new[key]), "changed", field_label, before, after))
    for key, item in new.items():
        if key not in old:
            out.append(PackChange(kind, name(key, item), "added"))
    return out
