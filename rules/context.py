"""What a rule may read about a project of one type version, and how to read it.

A :class:`RuleContext` is built once per (project type version, 立项 form version) and cached: the DSL catalogue
(ledger columns, the money lists, thresholds, 立项 form fields, and the type's computed indicators), the thresholds
as exact Decimals, and the indicators compiled in declaration order. Python evaluation (on save, explanations,
pack tests) and the database compiler (sweeps, ``rules.sql``) both start from it, so they read the same names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import dsl
from forms import storage
from projects import config as cfg

# Names a write can change, by operation: a save re-evaluates only rules that read one of them.
LIST_NAMES = tuple(name for name, _ in cfg.LEDGER_LISTS)
LEDGER_NAMES = tuple(name for name, _kind, _column in cfg.LEDGER_FIELDS)
# The project's open alerts, for guards such as "no stage move to 验收 while a 严重 alert is open".
ALERT_FIELDS = (
    dsl.Field("严重预警数", dsl.NUMBER, label="未闭环的严重预警数", meta={"alerts": "严重"}),
    dsl.Field("未闭环预警数", dsl.NUMBER, label="未闭环的预警数", meta={"alerts": "*"}),
)


@dataclass(frozen=True)
class Indicator:
    """A type's computed indicator: ``name`` = ``checked`` (already checked against the names before it)."""

    name: str
    checked: dsl.CheckedExpr
    compiled: dsl.CompiledExpr
    format: str = "number"


@dataclass(frozen=True, eq=False)
class RuleContext:
    """The names rules may use for one project type version, with its thresholds and indicators."""

    key: str
    type_codes: tuple[str, ...]
    catalogue: dsl.Catalogue
    thresholds: Mapping[str, Decimal]
    indicators: tuple[Indicator, ...] = ()
    form_schema: Mapping[str, Any] = field(default_factory=dict)

    @property
    def type_code(self) -> str | None:
        return self.type_codes[0] if self.type_codes else None

    def indicator(self, name: str) -> Indicator | None:
        for item in self.indicators:
            if item.name == name:
                return item
        return None

    def base_reads(self, names: Iterable[str]) -> frozenset[str]:
        """``names`` with every indicator replaced by what it reads, transitively: the stored names a rule depends on.

        List sub-fields (``支出.金额``) are reported as their list (``支出``); form fields as themselves.
        """
        out: set[str] = set()
        todo = list(names)
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            found = self.indicator(name)
            if found is not None:
                todo.extend(found.checked.reads)
                continue
            out.add(name.split(".", 1)[0] if name.split(".", 1)[0] in LIST_NAMES else name)
        return frozenset(out)

    def check(self, source: str) -> dsl.CheckedExpr:
        """Type-check a rule condition against this context (raises :class:`dsl.DslError`)."""
        return dsl.check(source, self.catalogue, expect=dsl.BOOL)


def context_for(
    type_version: Any | None,
    form_version: Any | None = None,
    *,
    extra: tuple[tuple[str, str, str], ...] = (),
) -> RuleContext:
    """The context for a project type version (None: a project created without a type).

    ``extra`` are more indicators (a rule pack's own), evaluated after the type's; one of the same name replaces the
    type's (the regulator's definition wins).
    """
    if type_version is None:
        return _build("", (), "{}", "{}", extra)
    effective = type_version.effective or {}
    schema = form_version.schema if form_version is not None else _lixiang_schema(effective)
    names = {name for name, _expr, _fmt in extra}
    own = tuple(
        (i["name"], i["expr"], i.get("format", "number"))
        for i in effective.get("indicators") or []
        if i["name"] not in names
    )
    return _build(
        f"{type_version.content_hash}:{form_version.content_hash if form_version is not None else ''}",
        _type_codes(type_version.type),
        json.dumps(schema or {}, sort_keys=True, ensure_ascii=False),
        json.dumps(effective.get("thresholds") or {}, sort_keys=True, default=str),
        own + tuple(extra),
    )


def _type_codes(ptype: Any) -> tuple[str, ...]:
    """The type's code and the codes of the types it overrides: a rule for 老旧小区改造 covers local variants too."""
    codes = []
    while ptype is not None and len(codes) < 10:
        codes.append(ptype.code)
        ptype = ptype.base
    return tuple(codes)


def project_context(project: Any, extra: tuple[tuple[str, str, str], ...] = ()) -> RuleContext:
    return context_for(
        project.type_version, project.form_version if project.form_version_id else None, extra=extra
    )


def _lixiang_schema(effective: Mapping[str, Any]) -> Mapping[str, Any]:
    code = (effective.get("forms") or {}).get("立项申请")
    if not code:
        return {}
    from forms.models import FormVersion

    version = (
        FormVersion.objects.filter(form__code=code, status="published")
        .order_by("-number")
        .only("schema")
        .first()
    )
    return version.schema if version is not None else {}


@lru_cache(maxsize=512)
def _build(
    key: str,
    type_codes: tuple[str, ...],
    schema_json: str,
    thresholds_json: str,
    indicators: tuple[tuple[str, str, str], ...],
) -> RuleContext:
    schema = json.loads(schema_json)
    thresholds = {name: Decimal(str(value)) for name, value in json.loads(thresholds_json).items()}
    cat = cfg.catalogue(schema, thresholds).extend(ALERT_FIELDS)
    built: list[Indicator] = []
    for name, expr, fmt in indicators:
        checked = dsl.check(expr, cat)
        built.append(Indicator(name, checked, dsl.compile(checked), fmt))
        cat = cat.extend([dsl.Field(name, checked.type, meta={"indicator": name})])
    return RuleContext(f"{key}|{hash(indicators)}", type_codes, cat, thresholds, tuple(built), schema)


def project_record(
    project: Any,
    ctx: RuleContext,
    *,
    today: date,
    needs: Iterable[str] | None = None,
    adjust: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The project as rules read it: typed values (Decimals, dates), the lists a rule needs, thresholds, indicators.

    ``needs`` (base names, see :meth:`RuleContext.base_reads`) limits which lists are loaded from the database; None
    loads all of them. Indicators are evaluated in declaration order, so later ones may use earlier ones.
    ``adjust`` changes the stored values before indicators are computed: the project as a pending write would
    leave it (a payment awaiting 支出审批), for checking blocking rules ahead of the write.
    """
    from projects.models import Expenditure
    from projects.services.progress import planned_progress

    wanted = set(LIST_NAMES) if needs is None else set(needs)
    record: dict[str, Any] = {"data": typed_data(ctx.form_schema, project.data or {})}
    for name, _kind, column in cfg.LEDGER_FIELDS:
        record[name] = (
            planned_progress(project, today) if column == "planned_progress" else getattr(project, column)
        )
    if "支出" in wanted:
        record["支出"] = [  # only payments that count toward 已支出 (not those waiting for 支出审批)
            {"金额": e.amount, "支付日期": e.paid_on, "收款人": e.payee, "凭证号": e.voucher_no}
            for e in project.expenditures.all()
            if e.approval in Expenditure.COUNTED
        ]
    if "合同" in wanted:
        record["合同"] = [
            {"金额": c.amount, "签订日期": c.signed_on, "相对方": c.counterparty, "类别": c.kind}
            for c in project.contracts.all()
        ]
    if "预算明细" in wanted:
        record["预算明细"] = [
            {"金额": b.amount, "年度": b.year, "资金来源": b.fund_source} for b in project.budget_lines.all()
        ]
    if wanted & {"严重预警数", "未闭环预警数"}:
        record.update(_alert_counts(project))
    for name, value in ctx.thresholds.items():
        record.setdefault(name, value)
    if adjust is not None:
        adjust(record)
    for item in ctx.indicators:
        record[item.name] = item.compiled.evaluate(record, today=today)
    return record


def _alert_counts(project: Any) -> dict[str, Decimal]:
    from rules.models import OPEN_STATUSES, Alert

    severities = list(
        Alert.objects.filter(project=project, status__in=OPEN_STATUSES).values_list("severity", flat=True)
    )
    return {"严重预警数": Decimal(severities.count("严重")), "未闭环预警数": Decimal(len(severities))}


def typed_data(schema: Mapping[str, Any], stored: Any) -> Any:
    """Stored form data as the DSL reads it: numbers as Decimals (``forms.storage``) and ``format: date`` as dates."""
    return _dates(schema, storage.load(dict(schema), stored))


def _dates(schema: Any, value: Any) -> Any:
    if not isinstance(schema, Mapping):
        return value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return {key: _dates(props.get(key, {}), item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates(schema.get("items") or {}, item) for item in value]
    if isinstance(value, str) and schema.get("format") == "date":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value
