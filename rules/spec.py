"""Rules as values: what a pack file declares and what the engine evaluates, before and after loading.

The engine (on save), the sweep, pack tests and the impact preview all work on :class:`RuleSpec`; a loaded
``rules.models.Rule`` turns into one with :func:`spec_of`. Pack-level indicators (a regulator's own definition of
超支率, say) extend each project type's names for the pack's rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dsl

from .context import RuleContext, context_for

# The operations a rule may block, and the DSL names each one writes. A blocking rule stops an operation only when
# the operation is in its ``block`` list AND writes a name the rule reads (directly or through an indicator), so a
# new rule never freezes unrelated edits of a project that already breaks it.
OPERATIONS: dict[str, frozenset[str]] = {
    "立项": frozenset({"*"}),
    "项目修改": frozenset({"*"}),  # narrowed to the changed names by the caller
    "表单提交": frozenset({"*"}),
    "支出登记": frozenset({"已支出", "支出"}),
    "合同登记": frozenset({"合同金额", "合同"}),
    "预算下达": frozenset({"已下达预算", "预算明细"}),
    "阶段变更": frozenset({"阶段"}),
    "进度填报": frozenset({"实际进度"}),
}
SEVERITIES = ("提示", "预警", "严重")
PLACEHOLDER = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")


def placeholders(template: str) -> list[tuple[str, str]]:
    """The ``(name, format)`` pairs a message template quotes: ``{超支率:%}`` → ``("超支率", "%")``."""
    return [(m.group(1).strip(), (m.group(2) or "").strip()) for m in PLACEHOLDER.finditer(template)]


@dataclass(frozen=True)
class RuleSpec:
    """One rule, as declared. ``when`` is DSL source; ``message`` may quote names: ``{项目名称}超支{超支率:%}``."""

    code: str
    name: str
    when: str
    severity: str = "预警"
    message: str = ""
    types: tuple[str, ...] = ()
    on_save: bool = True
    on_schedule: bool = True
    raise_alert: bool = True
    block: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    email: bool = False
    escalate_after_days: int | None = None
    article: str = ""
    indicators: tuple[tuple[str, str, str], ...] = ()  # the pack's own (name, expr, format), in order

    def applies_to(self, ctx: RuleContext) -> bool:
        """True when the rule names no types, or names the context's type or a type it overrides."""
        return not self.types or not set(self.types).isdisjoint(ctx.type_codes)

    def context(self, type_version: Any | None, form_version: Any | None = None) -> RuleContext:
        """The names this rule may read on projects of ``type_version``: the type's, plus the pack's indicators."""
        return context_for(type_version, form_version, extra=self.indicators)

    def checked(self, ctx: RuleContext) -> dsl.CheckedExpr:
        return ctx.check(self.when)


@dataclass(frozen=True)
class TestCase:
    """An embedded pack test: a record (DSL names → values as written) and the expected verdict per rule code."""

    name: str
    record: Mapping[str, Any]
    expect: Mapping[str, bool]
    type: str = ""
    line: int = 0


@dataclass(frozen=True)
class PackSpec:
    code: str
    name: str
    issuer: str
    version: str
    effective_on: Any
    description: str = ""
    regulation: Mapping[str, Any] = field(default_factory=dict)
    citation: str = ""
    rules: tuple[RuleSpec, ...] = ()
    tests: tuple[TestCase, ...] = ()
    indicators: tuple[tuple[str, str, str], ...] = ()
    checksum: str = ""
    source: str = ""


def spec_of(rule: Any) -> RuleSpec:
    """The spec of a loaded ``rules.models.Rule`` (its pack's indicators included)."""
    pack_indicators = _pack_indicators(rule.pack)
    return RuleSpec(
        code=rule.code,
        name=rule.name,
        when=rule.condition,
        severity=rule.severity,
        message=rule.message,
        types=tuple(rule.types or ()),
        on_save=rule.on_save,
        on_schedule=rule.on_schedule,
        raise_alert=rule.raise_alert,
        block=tuple(rule.block or ()),
        notify=tuple(rule.notify or ()),
        email=rule.email,
        escalate_after_days=rule.escalate_after_days,
        article=rule.article.number if rule.article_id else "",
        indicators=pack_indicators,
    )


def _pack_indicators(pack: Any) -> tuple[tuple[str, str, str], ...]:
    cached = getattr(pack, "_indicators", None)
    if cached is None:
        import yaml

        try:
            document = yaml.safe_load(pack.source) or {}
        except yaml.YAMLError:
            document = {}
        items = document.get("indicators") or [] if isinstance(document, dict) else []
        cached = tuple(
            (str(i["name"]), str(i["expr"]), str(i.get("format", "number")))
            for i in items
            if isinstance(i, dict) and "name" in i and "expr" in i
        )
        pack._indicators = cached
    return cached
