"""Where ``rules.sql`` reads a project's values: ledger columns, 计划进度, 立项 form data (JSON), and the money lists.

Each reader returns a :class:`~rules.sql_values.Val` that reads exactly what ``rules.context.project_record`` gives
Python, with the same nulls: a missing JSON key, a JSON null, a string that is not a number or not a real date all
read as null (never as a database error: PostgreSQL raises on a bad cast, so every cast is guarded).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Count, F, Max, Min, OuterRef, Subquery, Sum
from django.db.models.fields.json import compile_json_path

from projects.models import Project

from .sql_values import BOOL, DATE, NUMBER, STRING, Builder, Digits, Param, Raw, Val

# The money lists as ``project_record`` maps them: DSL name → (related name, {DSL field → model field}).
RELATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "支出": (
        "expenditures",
        {"金额": "amount", "支付日期": "paid_on", "收款人": "payee", "凭证号": "voucher_no"},
    ),
    "合同": (
        "contracts",
        {"金额": "amount", "签订日期": "signed_on", "相对方": "counterparty", "类别": "kind"},
    ),
    "预算明细": ("budget_lines", {"金额": "amount", "年度": "year", "资金来源": "fund_source"}),
}
ROWS_DIGITS = 10  # a list has fewer than 10¹⁰ rows: bounds the digits of its sums and counts
# A decimal number as Python's Decimal reads it, without the spellings PostgreSQL and Python disagree on (spaces,
# underscores, NaN, Infinity); with at most NUMBER_LENGTH characters, PostgreSQL's numeric always holds the value.
NUMBER_TEXT = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$"
NUMBER_LENGTH = 1000
DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
COMPACT_DATE = r"^[0-9]{8}$"


def field_digits(field: models.Field) -> Digits:
    """Digit bounds of a numeric model field."""
    if isinstance(field, models.DecimalField):
        return (field.max_digits - field.decimal_places, field.decimal_places)
    if isinstance(field, models.SmallIntegerField | models.PositiveSmallIntegerField):
        return (5, 0)
    return (19, 0)


def column(b: Builder, name: str, kind: str) -> Val:
    """A ledger column of the project row."""
    field = Project._meta.get_field(name)
    if kind != NUMBER:
        return Val(kind, F(name))
    if isinstance(field, models.DecimalField) or not b.pg:
        return Val(NUMBER, F(name), digits=field_digits(field))
    return b.val(NUMBER, "CAST({0} AS numeric)", F(name), digits=field_digits(field))


def planned_progress(b: Builder, today: date) -> Val:
    """``projects.services.progress.planned_progress`` in SQL: elapsed share of the planned span, clamped to 0..1
    and quantized to 4 places half to even (Decimal's default rounding), null without a valid span.

    With ``e`` elapsed and ``s`` planned days (integers), the quantized value is ``round_half_even(e·10000 / s)``
    / 10000, computed with integer division so both databases give exactly Python's value.
    """
    if b.pg:
        elapsed, span = "({2} - {0})", "({1} - {0})"
        scaled = f"(CAST({elapsed} AS bigint) * 10000)"
        tail = "CAST({q} AS numeric) / 10000"
    else:
        elapsed, span = (
            "CAST(julianday({2}) - julianday({0}) AS INTEGER)",
            "CAST(julianday({1}) - julianday({0}) AS INTEGER)",
        )
        scaled = f"({elapsed} * 10000)"
        tail = "({q} / 10000.0)"
    quotient = f"({scaled} / {span})"
    remainder = f"({scaled} - {quotient} * {span})"
    parity = f"({quotient} - 2 * ({quotient} / 2))"
    even = f"({quotient} + CASE WHEN 2 * {remainder} > {span} THEN 1 WHEN 2 * {remainder} = {span} THEN {parity} ELSE 0 END)"
    template = (
        f"CASE WHEN {{0}} IS NULL OR {{1}} IS NULL OR {{1}} <= {{0}} THEN {{3}} WHEN {elapsed} <= 0 THEN {{4}}"
        f" WHEN {elapsed} >= {span} THEN {{5}} ELSE {tail.format(q=even)} END"
    )
    zero, one = b.literal(NUMBER, Decimal(0)), b.literal(NUMBER, Decimal(1))
    args = (F("planned_start"), F("planned_end"), b.literal(DATE, today), b.null(NUMBER), zero, one)
    return Val(NUMBER, Raw(template, *args, kind=NUMBER), digits=(1, 4))


# -- 立项 form data --------------------------------------------------------------------------------------------------


def parses_strings(schema: Mapping[str, Any]) -> bool:
    """Whether ``forms.storage.load`` turns this node's strings into Decimals (number type, money or percent)."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "number" in kinds or schema.get("x-field") in {"money", "percent"}


def schema_at(schema: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    node: Any = schema
    for key in path:
        node = ((node or {}).get("properties") or {}).get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def json_scalar(b: Builder, path: tuple[str, ...], kind: str, schema: Mapping[str, Any]) -> Val:
    """A scalar stored in ``Project.data`` at ``path``, typed as ``typed_data`` types it."""
    data, where = F("data"), _json_path(b, path)
    if kind == NUMBER:
        return _json_number(b, data, where, parses_strings(schema))
    if kind == DATE:
        return _json_date(b, data, where)
    if b.pg:
        json_type, template = (
            ("string", "{0} #>> {1}") if kind == STRING else ("boolean", "CAST({0} #>> {1} AS boolean)")
        )
        return b.val(
            kind, f"CASE WHEN jsonb_typeof({{0}} #> {{1}}) = '{json_type}' THEN {template} END", data, where
        )
    if kind == STRING:
        return b.val(
            STRING, "CASE WHEN json_type({0}, {1}) = 'text' THEN json_extract({0}, {1}) END", data, where
        )
    return b.val(BOOL, "CASE json_type({0}, {1}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END", data, where)


def _json_path(b: Builder, path: tuple[str, ...]) -> Param:
    if b.pg:
        return Param(list(path), "text[]")
    return Param(
        compile_json_path(list(path))
    )  # keys as Django writes them: JSON-escaped, as SQLite stores them


def _json_number(b: Builder, data: Any, where: Param, strings: bool) -> Val:
    pattern = Param(NUMBER_TEXT, "text" if b.pg else "")
    if b.pg:
        text = (
            f"WHEN 'string' THEN CASE WHEN length(_j.s) <= {NUMBER_LENGTH} AND _j.s ~ {{2}} THEN CAST(_j.s AS numeric) END "
            if strings
            else ""
        )
        template = (
            f"(SELECT CASE _j.t WHEN 'number' THEN CAST(_j.s AS numeric) {text}END"
            " FROM (SELECT jsonb_typeof({0} #> {1}) AS t, {0} #>> {1} AS s OFFSET 0) AS _j)"
        )
    else:
        text = "WHEN _j.t = 'text' AND _j.s REGEXP {2} THEN CAST(_j.s AS NUMERIC) " if strings else ""
        template = (
            f"(SELECT CASE WHEN _j.t IN ('integer', 'real') THEN _j.s {text}END"
            " FROM (SELECT json_type({0}, {1}) AS t, json_extract({0}, {1}) AS s LIMIT -1 OFFSET 0) AS _j)"
        )
    return Val(NUMBER, Raw(template, data, where, pattern, kind=NUMBER), digits=None)


def _json_date(b: Builder, data: Any, where: Param) -> Val:
    """An ISO date string that names a real day (``date.fromisoformat``: also ``YYYYMMDD``); else null."""
    if b.pg:
        text = "CASE WHEN jsonb_typeof({0} #> {1}) = 'string' THEN {0} #>> {1} END"
        parts = (
            "(SELECT CASE WHEN _p.y >= 1 AND _p.m BETWEEN 1 AND 12 AND _p.d BETWEEN 1 AND 31 THEN CASE WHEN _p.d <="
            " CAST(date_part('day', make_date(_p.y, _p.m, 1) + interval '1 month' - interval '1 day') AS integer)"
            " THEN make_date(_p.y, _p.m, _p.d) END END FROM (SELECT CAST(substr(_d.s, 1, 4) AS integer) AS y,"
            " CAST(substr(_d.s, 6, 2) AS integer) AS m, CAST(substr(_d.s, 9, 2) AS integer) AS d OFFSET 0) AS _p)"
        )
        match = "_d.s ~ {2}"
    else:
        text = "CASE WHEN json_type({0}, {1}) = 'text' THEN json_extract({0}, {1}) END"
        parts = "_d.s"
        match = "_d.s REGEXP {2} AND _d.s >= '0001' AND date(julianday(_d.s)) = _d.s"
    compact = "substr(_c.s, 1, 4) || '-' || substr(_c.s, 5, 2) || '-' || substr(_c.s, 7, 2)"
    normal = (
        f"(SELECT CASE WHEN _c.s {'~' if b.pg else 'REGEXP'} {{3}} THEN {compact} ELSE _c.s END AS s"
        f" FROM (SELECT {text} AS s{b.fence}) AS _c)"
    )
    template = f"(SELECT CASE WHEN {match} THEN {parts} END FROM (SELECT {normal} AS s{b.fence}) AS _d)"
    cast = "text" if b.pg else ""
    return Val(DATE, Raw(template, data, where, Param(DATE_TEXT, cast), Param(COMPACT_DATE, cast), kind=DATE))


def json_is_null(b: Builder, path: tuple[str, ...], negated: bool) -> Val:
    """Whether a stored list or object is missing or JSON null."""
    test = "<>" if negated else "="
    if b.pg:
        template = f"(COALESCE(jsonb_typeof({{0}} #> {{1}}), 'null') {test} 'null')"
    else:
        template = f"(COALESCE(json_type({{0}}, {{1}}), 'null') {test} 'null')"
    return b.val(BOOL, template, F("data"), _json_path(b, path))


def json_length(b: Builder, path: tuple[str, ...]) -> Val:
    """``len`` of a stored list (null when it is missing or not a list)."""
    if b.pg:
        template = "CASE WHEN jsonb_typeof({0} #> {1}) = 'array' THEN jsonb_array_length({0} #> {1}) END"
    else:
        template = "CASE WHEN json_type({0}, {1}) = 'array' THEN json_array_length({0}, {1}) END"
    return b.as_number(Raw(template, F("data"), _json_path(b, path), kind=NUMBER), (ROWS_DIGITS, 0))


def json_member(b: Builder, needle: Val, path: tuple[str, ...], negated: bool) -> Val:
    """``text [not] in <stored list of texts>`` with the DSL's nulls: a null item makes a miss unknown."""
    hit, miss = ("FALSE", "TRUE") if negated else ("TRUE", "FALSE")
    if b.pg:
        items = "jsonb_array_elements({0} #> {1}) AS _e(v)"
        test = (
            "CASE WHEN _n.v IS NULL OR jsonb_typeof({0} #> {1}) IS DISTINCT FROM 'array' THEN CAST(NULL AS boolean)"
            f" WHEN EXISTS (SELECT 1 FROM {items} WHERE _e.v = to_jsonb(_n.v)) THEN {hit}"
            f" WHEN EXISTS (SELECT 1 FROM {items} WHERE _e.v = 'null'::jsonb) THEN CAST(NULL AS boolean)"
            f" ELSE {miss} END"
        )
    else:
        hit, miss = ("0", "1") if negated else ("1", "0")
        items = "json_each({0}, {1}) AS _e"
        test = (
            "CASE WHEN _n.v IS NULL OR json_type({0}, {1}) IS NOT 'array' THEN NULL"
            f" WHEN EXISTS (SELECT 1 FROM {items} WHERE _e.type = 'text' AND _e.value = _n.v) THEN {hit}"
            f" WHEN EXISTS (SELECT 1 FROM {items} WHERE _e.type = 'null') THEN NULL ELSE {miss} END"
        )
    template = f"(SELECT {test} FROM (SELECT {{2}} AS v{b.fence}) AS _n)"
    return b.val(BOOL, template, F("data"), _json_path(b, path), needle)


# -- the money lists -------------------------------------------------------------------------------------------------


def _rows(rel: str) -> models.QuerySet:
    related, _columns = RELATIONS[rel]
    model = Project._meta.get_field(related).related_model
    rows = model.objects.filter(project=OuterRef("pk")).order_by()
    if rel == "支出":  # payments waiting for (or withdrawn from) 支出审批 do not count, as in 已支出
        rows = rows.filter(approval__in=model.COUNTED)
    return rows


def _model_field(rel: str, column: str) -> models.Field:
    related, _columns = RELATIONS[rel]
    return Project._meta.get_field(related).related_model._meta.get_field(column)


def rel_aggregate(b: Builder, rel: str, column: str | None, fn: str, kind: str) -> Val:
    """sum/count/min/max over one money list of the project, as a correlated subquery."""
    if fn == "count":
        counted = Subquery(_rows(rel).values("project").annotate(v=Count("pk")).values("v"))
        return b.as_number(Raw("COALESCE({0}, 0)", counted, kind=NUMBER), (ROWS_DIGITS, 0))
    assert column is not None
    aggregate = {"sum": Sum, "min": Min, "max": Max}[fn]
    found = Subquery(_rows(rel).values("project").annotate(v=aggregate(column)).values("v"))
    digits = field_digits(_model_field(rel, column)) if kind == NUMBER else None
    if fn == "sum":
        digits = None if digits is None else (digits[0] + ROWS_DIGITS, digits[1])
        total = Raw("COALESCE({0}, 0)", found, kind=NUMBER)
        return b.val(NUMBER, "CAST({0} AS numeric)" if b.pg else "{0}", total, digits=digits)
    if kind == NUMBER and b.pg:
        return b.val(NUMBER, "CAST({0} AS numeric)", found, digits=digits)
    return Val(kind, Raw("{0}", found, kind=kind), digits=digits)


def rel_member(b: Builder, needle: Val, rel: str, column: str, negated: bool) -> Val:
    """``x [not] in 支出.收款人``: unknown when ``x`` is null, even for an empty list (as in Python)."""
    values = Subquery(_rows(rel).values(column))
    test = "NOT IN" if negated else "IN"
    bound = f"(SELECT {{0}} AS v{b.fence}) AS _n"
    return b.val(
        BOOL,
        f"(SELECT CASE WHEN _n.v IS NULL THEN NULL ELSE _n.v {test} {{1}} END FROM {bound})",
        needle,
        values,
    )
