"""Running a pack's embedded tests: each test record, read as DSL literals, against the rules it names.

A test's record gives values by DSL name, written as a regulator writes them in a rule (``预算: 100万``,
``超支率`` is never given — indicators are computed — ``计划完工日期: 2026-01-31``, ``支出: [{金额: 60万}]``).
Names missing from the record take the value a new project has (0 for the money totals and 实际进度, empty lists,
null otherwise); 已支出, 合同金额 and 已下达预算 default to the sum of their lists when those are given. A test with
``type`` runs on that project type's names; one without runs on the names every project has (and, when loading,
on every type in scope too, for the rules that apply there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import dsl
from dsl.values import format_value
from projects.config import LEDGER_FIELDS, LEDGER_LISTS

from .context import RuleContext
from .packs import PackFile, literal
from .packs_check import GENERIC, Target, pack_context, unknown_name

__all__ = ["CaseResult", "Outcome", "TestReport", "build_record", "run_tests"]

_ZERO_DEFAULTS = ("已下达预算", "已支出", "合同金额", "实际进度")
_TOTALS = {"已支出": "支出", "合同金额": "合同", "已下达预算": "预算明细"}
_EXAMPLES = {
    "number": "100万、5%、1280000.50",
    "date": "2026-03-01",
    "duration": "30天",
    "bool": "true 或 false",
    "string": "文本",
}


@dataclass(frozen=True)
class Outcome:
    """One expectation of one test: did rule ``rule`` fire as expected? ``note`` shows the values it read."""

    rule: str
    expected: bool
    fired: bool | None
    ok: bool
    note: str = ""
    message: str = ""


@dataclass(frozen=True)
class CaseResult:
    """One test run on one target (a test without ``type`` runs on several when a pack is loaded)."""

    index: int
    name: str
    target: str
    outcomes: tuple[Outcome, ...] = ()
    error: str = ""
    error_path: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and all(o.ok for o in self.outcomes)


@dataclass
class TestReport:
    """The outcome of a pack's tests (and, when the file did not parse, why): what ``taizhang pack test`` prints."""

    __test__ = False  # not a pytest test class

    filename: str
    code: str = ""
    version: str = ""
    checksum: str = ""
    cases: list[CaseResult] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)
    pack: PackFile | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems and all(case.ok for case in self.cases)

    @property
    def passed(self) -> int:
        return sum(1 for case in self.cases if case.ok)

    @property
    def failed(self) -> int:
        return sum(1 for case in self.cases if not case.ok)

    def failures(self, pack: PackFile | None = None) -> list[Any]:
        """Parse problems, and each failed test or expectation, as ``file:line: path: message`` problems."""
        out = list(self.problems)
        pack = pack or self.pack
        if pack is None:
            return out
        for case in self.cases:
            where = f"tests[{case.index}]"
            if case.error:
                out.append(
                    pack.problem(
                        case.error_path or where, f"测试“{case.name}”（{case.target}）：{case.error}"
                    )
                )
            for o in case.outcomes:
                if not o.ok:
                    wanted = "触发" if o.expected else "不触发"
                    got = "出错" if o.fired is None else ("触发" if o.fired else "未触发")
                    out.append(
                        pack.problem(
                            f"{where}.expect.{o.rule}",
                            f"测试“{case.name}”（{case.target}）：期望{wanted}，实际{got}"
                            + (f"（{o.note}）" if o.note else ""),
                        )
                    )
        return out


def run_tests(
    pack: PackFile,
    *,
    resolve: Callable[[str], Target | None] | None = None,
    targets: Sequence[Target] = (),
) -> list[CaseResult]:
    """Run every test of ``pack``. ``resolve`` finds the target of a test's ``type`` (None: unknown type);
    ``targets`` are the types in scope that untyped tests also run on (the rules' ``types`` respected there)."""
    results: list[CaseResult] = []
    for index, test in enumerate(pack.spec.tests):
        if test.type:
            target = resolve(test.type) if resolve is not None else None
            if target is None:
                results.append(
                    CaseResult(
                        index,
                        test.name,
                        test.type,
                        error=f"项目类型“{test.type}”不存在或没有已发布的版本",
                        error_path=f"tests[{index}].type",
                    )
                )
                continue
            results.append(_run(pack, index, test, target, mode="typed"))
            continue
        results.append(_run(pack, index, test, GENERIC, mode="generic"))
        for target in targets:
            if target.type_version is not None:
                results.append(_run(pack, index, test, target, mode="scope"))
    return results


def _run(pack: PackFile, index: int, test: Any, target: Target, *, mode: str) -> CaseResult:
    ctx, problem = pack_context(pack, target)
    if ctx is None:
        return CaseResult(index, test.name, target.label, error=problem.message, error_path=problem.path)
    today = getattr(test, "today", None)
    record, errors = build_record(test.record, ctx, today=today or date.today())
    if errors:
        path, message = errors[0]
        more = f"（另有 {len(errors) - 1} 处）" if len(errors) > 1 else ""
        return CaseResult(
            index, test.name, target.label, error=message + more, error_path=f"tests[{index}].record{path}"
        )
    rules = {rule.code: rule for rule in pack.spec.rules}
    outcomes = []
    for code, expected in test.expect.items():
        rule = rules[code]
        if mode != "generic" and not rule.applies_to(ctx):
            if mode == "typed":
                outcomes.append(Outcome(code, expected, False, not expected, "规则不适用于该类型"))
            continue
        outcomes.append(_evaluate(rule, ctx, record, expected, today))
    return CaseResult(index, test.name, target.label, tuple(outcomes))


def _evaluate(rule: Any, ctx: RuleContext, record: dict, expected: bool, today: date | None) -> Outcome:
    try:
        checked = rule.checked(ctx)
    except dsl.DslError as error:
        return Outcome(rule.code, expected, None, False, f"条件无法检查：{error.message}")
    if today is None and _needs_today(checked, ctx):
        return Outcome(
            rule.code, expected, None, False, "条件与今天()有关，请在测试中写 today（如 today: 2026-03-01）"
        )
    try:
        fired = dsl.compile(checked).evaluate(record, today=today or date.today()) is True
    except dsl.DslError as error:
        return Outcome(rule.code, expected, None, False, f"计算出错：{error.message}")
    note = "、".join(f"{name}={_shown(ctx, record, name)}" for name in sorted(checked.reads))
    message = _message(rule, ctx, record) if fired else ""
    return Outcome(rule.code, expected, fired, fired == expected, note, message)


def _message(rule: Any, ctx: RuleContext, record: dict) -> str:
    from types import SimpleNamespace

    from .alerting import render_message  # deferred: alerting imports the models (needs Django apps ready)

    try:
        return render_message(SimpleNamespace(spec=rule, ctx=ctx), record)
    except Exception:  # a message is a courtesy here; the verdict is what the test checks
        return rule.message or rule.name


def _needs_today(checked: dsl.CheckedExpr, ctx: RuleContext) -> bool:
    todo, seen = list(checked.reads), set()
    if checked.uses_today:
        return True
    while todo:
        name = todo.pop()
        indicator = ctx.indicator(name)
        if indicator is None or name in seen:
            continue
        seen.add(name)
        if indicator.checked.uses_today:
            return True
        todo.extend(indicator.checked.reads)
    return False


def _shown(ctx: RuleContext, record: dict, name: str) -> str:
    found = ctx.catalogue.lookup(name)
    value = dsl.default_getter(record, found.path) if found is not None else record.get(name)
    indicator = ctx.indicator(name)
    if isinstance(value, Decimal) and indicator is not None and indicator.format == "percent":
        return f"{(value * 100).normalize():f}%"
    if isinstance(value, list) and len(value) > 5:
        return format_value([*value[:5]]) + "…"
    return format_value(value)


def build_record(
    given: Mapping[str, Any], ctx: RuleContext, *, today: date
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The record a test describes, as ``rules.context.project_record`` would build it for a real project.

    Returns the record and the problems found, each as (path below ``record``, message).
    """
    record: dict[str, Any] = {"data": {}}
    for name, _kind, _column in LEDGER_FIELDS:
        record[name] = Decimal(0) if name in _ZERO_DEFAULTS else None
    for name, _columns in LEDGER_LISTS:
        record[name] = []
    problems: list[tuple[str, str]] = []
    for key, raw in given.items():
        where = f".{key}"
        found = ctx.catalogue.lookup(key)
        if ctx.indicator(key) is not None:
            problems.append((where, f"“{key}”是计算指标，由记录中的其他取值算出，不能直接给值"))
            continue
        if found is None:
            problems.append((where, unknown_name(key, ctx)))
            continue
        if "." in key and isinstance(found.type, dsl.ListType):
            head = key.split(".", 1)[0]
            problems.append((where, f"列表中的取值请写成列表，如 {head}: [{{{key.split('.', 1)[1]}: …}}]"))
            continue
        value = _convert(raw, found.type, where, problems, today)
        _put(record, found.path, value)
    for total, items in _TOTALS.items():
        if total not in given and items in given:
            record[total] = sum(
                (i.get("金额") or Decimal(0) for i in record[items] if isinstance(i, dict)), Decimal(0)
            )
    for name, value in ctx.thresholds.items():
        record.setdefault(name, value)
    for indicator in ctx.indicators:
        try:
            record[indicator.name] = indicator.compiled.evaluate(record, today=today)
        except dsl.DslError as error:
            problems.append(("", f"指标“{indicator.name}”计算出错：{error.message}"))
            record[indicator.name] = None
    return record, problems


def _put(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = record
    for key in path[:-1]:
        nxt = node.get(key)
        if not isinstance(nxt, dict):
            nxt = node[key] = {}
        node = nxt
    node[path[-1]] = value


def _convert(raw: Any, kind: dsl.DslType, where: str, problems: list[tuple[str, str]], today: date) -> Any:
    if raw is None:
        return None
    if isinstance(kind, dsl.ListType):
        if isinstance(raw, str):
            return _literal(raw, kind, where, problems, today)
        if not isinstance(raw, list):
            problems.append((where, f"应为列表，如 [{{金额: 10万}}]（{kind.zh}）"))
            return []
        return [_convert(item, kind.item, f"{where}[{i}]", problems, today) for i, item in enumerate(raw)]
    if isinstance(kind, dsl.ObjectType):
        if not isinstance(raw, dict):
            problems.append((where, f"应为映射，可写：{'、'.join(kind)}"))
            return None
        out = {}
        for key, item in raw.items():
            sub = kind.field(key)
            if sub is None:
                problems.append((f"{where}.{key}", f"没有“{key}”；可写：{'、'.join(kind)}"))
                continue
            out[key] = _convert(item, sub, f"{where}.{key}", problems, today)
        return out
    if kind == dsl.STRING:
        if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
            problems.append((where, "应为文本"))
            return None
        return str(raw)
    if isinstance(raw, bool):
        if kind in (dsl.BOOL, dsl.ANY):
            return raw
        problems.append((where, f"“{raw}”不是{kind.zh}（如 {_EXAMPLES.get(kind.kind, '')}）"))
        return None
    if isinstance(raw, int | Decimal):
        if kind in (dsl.NUMBER, dsl.ANY):
            return Decimal(raw)
        problems.append((where, f"“{raw}”不是{kind.zh}（如 {_EXAMPLES.get(kind.kind, '')}）"))
        return None
    if isinstance(raw, str):
        return _literal(raw, kind, where, problems, today)
    problems.append((where, f"不能识别的取值“{raw}”"))
    return None


def _literal(text: str, kind: dsl.DslType, where: str, problems: list[tuple[str, str]], today: date) -> Any:
    try:
        value, found = literal(text, today=today)
    except dsl.DslError as error:
        if kind == dsl.ANY:
            return text
        problems.append(
            (where, f"“{text}”不是{kind.zh}的写法（如 {_EXAMPLES.get(kind.kind, '')}）：{error.message}")
        )
        return None
    if not kind.accepts(found):
        problems.append(
            (where, f"“{text}”是{found.zh}，这里应为{kind.zh}（如 {_EXAMPLES.get(kind.kind, '')}）")
        )
        return None
    return value
