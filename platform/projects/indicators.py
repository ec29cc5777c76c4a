"""A project as the DSL sees it, and its type's computed indicators (预算执行率, 超支率, 进度偏差 …).

The record's names are those of `projects.config.catalogue`: ledger columns, the money and progress lists,
the 立项 form's fields, the type's thresholds. One builder serves indicators now and rules later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.utils import timezone

import dsl
from forms import storage

from . import config as cfg
from .models import Project
from .services.progress import planned_progress


@dataclass(frozen=True)
class IndicatorValue:
    name: str
    value: Any
    format: str
    expr: str

    @property
    def shown(self) -> str:
        """The value as people read it: 7.31%, ¥1,234.00, 12 天, 是/否."""
        value = self.value
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "是" if value else "否"
        if self.format == "percent" and isinstance(value, Decimal):
            return f"{(value * 100).quantize(Decimal('0.01'))}%"
        if self.format == "money" and isinstance(value, Decimal):
            return f"¥{value:,.2f}"
        if self.format == "days":
            return f"{value} 天"
        if isinstance(value, Decimal):
            return (
                format(value.normalize(), "f") if value == value.to_integral() else f"{value:.4f}".rstrip("0")
            )
        return str(value)


def project_record(project: Project, *, today: date | None = None) -> dict[str, Any]:
    """Everything the project's DSL may read, as typed values (Decimals, dates, lists of row dicts)."""
    today = today or timezone.localdate()
    schema = project.form_version.schema if project.form_version_id else {}
    record: dict[str, Any] = {"data": storage.load(schema, project.data or {})}
    for name, _kind, column in cfg.LEDGER_FIELDS:
        record[name] = (
            planned_progress(project, today) if column == "planned_progress" else getattr(project, column)
        )
    record["年度"] = project.year
    record["支出"] = [
        {"金额": e.amount, "支付日期": e.paid_on, "收款人": e.payee, "凭证号": e.voucher_no}
        for e in project.expenditures.all()
    ]
    record["合同"] = [
        {"金额": c.amount, "签订日期": c.signed_on, "相对方": c.counterparty, "类别": c.kind}
        for c in project.contracts.all()
    ]
    record["预算明细"] = [
        {"金额": b.amount, "年度": b.year, "资金来源": b.fund_source} for b in project.budget_lines.all()
    ]
    effective = project.type_version.effective if project.type_version_id else {}
    for name, value in (effective.get("thresholds") or {}).items():
        record.setdefault(name, Decimal(str(value)))
    return record


@lru_cache(maxsize=256)
def _compiled(
    content_hash: str,
    form_hash: str,
    indicators: tuple[tuple[str, str, str], ...],
    schema_json: str,
    thresholds_json: str,
):
    """Indicators compiled once per (type version, form version): never per request."""
    cat = cfg.catalogue(json.loads(schema_json), json.loads(thresholds_json))
    out = []
    for name, expr, fmt in indicators:
        checked = dsl.check(expr, cat)
        out.append((name, expr, fmt, dsl.compile(checked)))
        cat = cat.extend([dsl.Field(name, dsl.NUMBER, meta={"indicator": name})])
    return out


def project_indicators(project: Project, *, today: date | None = None) -> list[IndicatorValue]:
    """The type's indicators evaluated for this project, in declaration order (later ones may use earlier)."""
    if not project.type_version_id:
        return []
    effective = project.type_version.effective
    items = tuple(
        (i["name"], i["expr"], i.get("format", "number")) for i in effective.get("indicators") or []
    )
    if not items:
        return []
    schema = project.form_version.schema if project.form_version_id else {}
    compiled = _compiled(
        project.type_version.content_hash,
        project.form_version.content_hash if project.form_version_id else "",
        items,
        json.dumps(schema, sort_keys=True, ensure_ascii=False),
        json.dumps(effective.get("thresholds") or {}, sort_keys=True, default=str),
    )
    record = project_record(project, today=today)
    values = []
    for name, expr, fmt, rule in compiled:
        value = rule.evaluate(record, today=today or timezone.localdate())
        record[name] = value
        values.append(IndicatorValue(name, value, fmt, expr))
    return values
