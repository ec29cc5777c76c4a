"""Type-checking a pack against the project types it will govern, before anything is loaded.

Each rule is checked on every :class:`Target` it applies to: a published project type version (with the 立项 form
version its projects use), or — for a rule that names no types — projects created without a type, which read only
the ledger's own names. Checked: the pack's indicators, each condition (``RuleSpec.context(...).check``), each
message placeholder, and that each blocked operation writes something the rule reads (otherwise the block could
never take effect). Each rule also gets its *verdict*: whether sweeps run it inside the database on every target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dsl

from .context import RuleContext, context_for
from .packs import PackFile
from .packs_read import placeholders
from .spec import OPERATIONS, RuleSpec

__all__ = ["GENERIC", "CheckResult", "Target", "pack_check", "pack_context", "unknown_name", "verdict_of"]

_UNTYPED_HINT = "（未写 types 的规则也适用于未指定类型的项目，只能读台账字段；如只针对部分类型，请写 types）"


@dataclass(frozen=True)
class Target:
    """Projects a pack's rules run on: one type version and 立项 form version, or (both None) untyped projects."""

    label: str
    type_version: Any | None = None
    form_version: Any | None = None
    short: str = "未指定类型"

    @classmethod
    def of(cls, type_version: Any, form_version: Any | None = None) -> Target:
        ptype = type_version.type
        label = f"项目类型“{ptype.name}”（{ptype.code} v{type_version.number}"
        label += f"，立项表单 v{form_version.number}）" if form_version is not None else "）"
        return cls(label, type_version, form_version, f"{ptype.code} v{type_version.number}")


GENERIC = Target("未指定类型的项目")


@dataclass
class CheckResult:
    """What the type-check found: problems (empty: every rule runs everywhere it applies) and per-rule verdicts."""

    problems: list[Any] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, list[str]] = field(default_factory=dict)


def pack_context(pack: PackFile, target: Target) -> tuple[RuleContext | None, Any]:
    """The context the pack's rules read on ``target``, or (None, problem) when a pack indicator does not fit it."""
    indicators = pack.spec.indicators
    try:
        return context_for(target.type_version, target.form_version, extra=indicators), None
    except dsl.DslError:
        pass
    for i in range(len(indicators)):  # find the first indicator that does not check here
        try:
            context_for(target.type_version, target.form_version, extra=indicators[: i + 1])
        except dsl.DslError as error:
            hint = _UNTYPED_HINT if target.type_version is None else ""
            return None, pack.problem(
                f"indicators[{i}].expr",
                f"{target.label}：第{error.line}行第{error.column}列：{error.message}{hint}",
                offset=error.line - 1,
            )
    return None, pack.problem("indicators", f"{target.label}：规则包的指标无法使用")


def _base_context(target: Target) -> RuleContext:
    return context_for(target.type_version, target.form_version)


def unknown_name(name: str, ctx: RuleContext) -> str:
    """The DSL's own message for an unknown name, with its "did you mean" suggestions."""
    try:
        dsl.check(name, ctx.catalogue)
    except dsl.DslNameError as error:
        return error.message
    except dsl.DslError:
        pass
    return f"未知名称「{name}」"


def verdict_of(checked: dsl.CheckedExpr, ctx: RuleContext) -> str | None:
    """Why a rule must run in Python on ``ctx`` (None: the database can run it), per ``rules.sql.verdict``."""
    try:
        from rules.sql import verdict  # the SQL compiler is optional: without it every rule runs in Python
    except ImportError:
        return "数据库编译器（rules.sql）不可用"
    return verdict(checked, ctx)


def _check_rule(
    pack: PackFile, index: int, rule: RuleSpec, ctx: RuleContext, target: Target, found: list[Any]
) -> dsl.CheckedExpr | None:
    where = f"rules[{index}]"
    hint = _UNTYPED_HINT if target.type_version is None else ""
    try:
        checked = rule.checked(ctx)
    except dsl.DslError as error:
        found.append(
            pack.problem(
                f"{where}.when",
                f"{target.label}：第{error.line}行第{error.column}列：{error.message}{hint}",
                offset=error.line - 1,
            )
        )
        return None
    for name, _fmt in placeholders(rule.message):
        if ctx.catalogue.lookup(name) is None:
            message = f"{target.label}：提示语中的 {{{name}}}：{unknown_name(name, ctx)}{hint}"
            found.append(pack.problem(f"{where}.message", message))
    reads = ctx.base_reads(checked.reads)
    for operation in rule.block:
        writes = OPERATIONS.get(operation, frozenset())
        if "*" not in writes and reads.isdisjoint(writes):
            found.append(
                pack.problem(
                    f"{where}.block",
                    f"{target.label}：“{operation}”只改变 {'、'.join(sorted(writes))}，本规则不读取它们，"
                    "阻止不会生效",
                )
            )
    return checked


def pack_check(pack: PackFile, targets: Sequence[Target]) -> CheckResult:
    """Type-check every rule of ``pack`` on every target it applies to (see the module docstring)."""
    result = CheckResult()
    reasons: dict[str, dict[str, list[str]]] = {rule.code: {} for rule in pack.spec.rules}
    seen_codes: set[str] = set()
    for target in targets:
        base = _base_context(target)
        seen_codes.update(base.type_codes)
        applying = [(i, r) for i, r in enumerate(pack.spec.rules) if r.applies_to(base)]
        if not applying:
            continue
        ctx, problem = pack_context(pack, target)
        if ctx is None:
            result.problems.append(problem)
            continue
        for index, rule in applying:
            result.coverage.setdefault(rule.code, []).append(target.label)
            checked = _check_rule(pack, index, rule, ctx, target, result.problems)
            if checked is not None:
                reason = verdict_of(checked, ctx)
                if reason:
                    reasons[rule.code].setdefault(reason, []).append(target.short)
    for index, rule in enumerate(pack.spec.rules):
        missing = [code for code in rule.types if code not in seen_codes]
        if missing:
            result.problems.append(
                pack.problem(
                    f"rules[{index}].types",
                    f"本机构范围内没有已发布的项目类型 {'、'.join(missing)}（可用：{'、'.join(sorted(seen_codes)) or '无'}）",
                )
            )
        result.verdicts[rule.code] = _verdict(reasons[rule.code], len(result.coverage.get(rule.code, ())))
    return result


def _verdict(reasons: dict[str, list[str]], applies: int) -> str:
    """ "" when the database runs the rule everywhere; else why not, naming the targets when not all of them."""
    if not reasons:
        return ""
    parts = [
        reason if len(where) == applies else f"{reason}（{'、'.join(where)}）"
        for reason, where in reasons.items()
    ]
    return ("在 Python 中执行：" + "；".join(parts))[:300]
