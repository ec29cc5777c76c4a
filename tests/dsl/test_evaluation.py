"""Evaluation: SQL null semantics, exact decimals, 四舍五入, dates, aggregates, accessors, explanations."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl import (
    BOOL,
    NUMBER,
    SKIPPED,
    Catalogue,
    DslEvalError,
    Field,
    check,
    compile,
    compile_expr,
    evaluate,
)
from dsl.functions import round_half_up

from .conftest import TODAY, project

D = Decimal
T, F, N = True, False, None
FLAGS = Catalogue([Field("p", BOOL), Field("q", BOOL), Field("x", NUMBER), Field("y", NUMBER)])


def run(source: str, record: dict[str, Any], catalogue: Catalogue = FLAGS) -> Any:
    compiled = compile(check(source, catalogue))
    value = compiled.evaluate(record, today=TODAY)
    assert compiled.explain(record, today=TODAY).value == value  # the two evaluators always agree
    return value


@pytest.mark.parametrize(
    ("p", "q", "and_", "or_"),
    [
        (T, T, T, T), (T, F, F, T), (T, N, N, T),
        (F, T, F, T), (F, F, F, F), (F, N, F, N),
        (N, T, N, T), (N, F, F, N), (N, N, N, N),
    ],
)  # fmt: skip
def test_and_or_are_three_valued(p: Any, q: Any, and_: Any, or_: Any) -> None:
    assert run("p and q", {"p": p, "q": q}) is and_
    assert run("p or q", {"p": p, "q": q}) is or_
    assert run("p 且 q 且 p", {"p": p, "q": q}) is and_


@pytest.mark.parametrize(("p", "expected"), [(T, F), (F, T), (N, N)])
def test_not_is_three_valued(p: Any, expected: Any) -> None:
    assert run("not p", {"p": p}) is expected


@pytest.mark.parametrize(
    "source",
    [
        "x + 1",
        "x - y",
        "x * 2",
        "x / y",
        "-x",
        "x > 1",
        "x = y",
        "x != 1",
        "not x > 1",
        "x in [1, 2]",
        "abs(x)",
    ],
)
def test_null_propagates_through_arithmetic_and_comparison(source: str) -> None:
    assert run(source, {"x": None, "y": D(2)}) is None


@pytest.mark.parametrize("source", ["x / 0", "x / y", "1 / y", "x / (y - y)"])
def test_division_by_zero_is_null(source: str) -> None:
    assert run(source, {"x": D(5), "y": D(0)}) is None


def test_membership_follows_sql_in() -> None:
    assert run("x in [1, 2]", {"x": D(2)}) is True
    assert run("x in [1, null]", {"x": D(2)}) is None
    assert run("x in [1, null]", {"x": D(1)}) is True
    assert run("x not in [1, null]", {"x": D(2)}) is None
    assert run("x not in [1, 3]", {"x": D(2)}) is True


def test_is_null_is_never_null() -> None:
    assert run("x is null", {}) is True
    assert run("x 不为空", {"x": D(0)}) is True


def test_if_null_takes_the_else_branch() -> None:
    assert run("if p then 1 else 2", {"p": None}) == 2
    assert run("if p then 1 else 2", {"p": True}) == 1


def test_a_condition_fires_only_when_true() -> None:
    assert run("x > 1", {"x": None}) is None


def test_decimal_arithmetic_is_exact() -> None:
    assert run("0.1 + 0.2 = 0.3", {}) is True
    assert run("x * 3", {"x": D("0.1")}) == D("0.3")
    assert run("5% * 100万", {}) == D(50000)


@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=3),
    st.decimals(min_value=-(10**6), max_value=10**6, places=3),
)
def test_sum_of_decimals_is_exact(a: Decimal, b: Decimal) -> None:
    assert run("x + y", {"x": a, "y": b}) == a + b


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [("2.5", 0, "3"), ("-2.5", 0, "-3"), ("0.5", 0, "1"), ("1.005", 2, "1.01"), ("-1.005", 2, "-1.01"),
     ("1234.5", -2, "1.2E+3"), ("2.4999", 0, "2")],
)  # fmt: skip
def test_round_is_half_away_from_zero(value: str, digits: int, expected: str) -> None:
    assert run(f"round(x, {digits})", {"x": D(value)}) == D(expected)


@given(st.integers(-(10**9), 10**9))
def test_round_half_away_from_zero_property(n: int) -> None:
    half = D(n) + D("0.5") if n >= 0 else D(n) - D("0.5")
    assert round_half_up(half) == (D(n + 1) if n >= 0 else D(n - 1))
    assert round_half_up(-half) == -round_half_up(half)  # type: ignore[operator]


def test_date_arithmetic(catalogue: Catalogue) -> None:
    record = project(开工日期=date(2026, 1, 1))
    assert run("今天() - 开工日期", record, catalogue) == timedelta(days=59)
    assert run("开工日期 + 30天", record, catalogue) == date(2026, 1, 31)
    assert run("开工日期 - 1天", record, catalogue) == date(2025, 12, 31)
    assert run("今天() - 开工日期 > 30天", record, catalogue) is True
    assert run("days(今天() - 开工日期)", record, catalogue) == D(59)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 3650))
def test_date_plus_duration_minus_date_round_trips(start: date, days: int) -> None:
    cat = Catalogue.from_json_schema({"properties": {"d": {"type": "string", "format": "date"}}})
    assert run(f"(d + {days}天) - d", {"d": start}, cat) == timedelta(days=days)


def test_today_is_injectable_and_defaults_to_the_real_date(catalogue: Catalogue) -> None:
    compiled = compile(check("今天()", catalogue))
    assert compiled.evaluate({}, today=date(2030, 5, 1)) == date(2030, 5, 1)
    assert compiled.evaluate({}) == date.today()


def test_aggregates_skip_nulls_and_sum_of_empty_is_zero(catalogue: Catalogue) -> None:
    record = project()
    assert run("sum(支出.金额)", record, catalogue) == D(1073100)
    assert run("count(支出.金额)", record, catalogue) == D(2)
    assert run("avg(支出.金额)", record, catalogue) == D(536550)
    assert run("max(支出.日期)", record, catalogue) == date(2026, 2, 15)
    assert run("min(预算, 实际支出, null)", record, catalogue) == D(1000000)
    assert run("sum([])", record, catalogue) == 0
    assert run("sum(支出.金额)", project(支出=[]), catalogue) == 0
    assert run("avg(支出.金额)", project(支出=None), catalogue) is None
    assert run("len(名称)", record, catalogue) == D(8)
    assert run("coalesce(备注, 名称)", record, catalogue) == "老旧小区改造一期"


def test_paths_read_through_objects_and_lists(catalogue: Catalogue) -> None:
    assert run("合同.金额 > 预算", project(), catalogue) is True
    assert run("合同.金额", project(合同=None), catalogue) is None
    assert run("支出.金额", project(), catalogue) == [D(500000), D(573100), None]


def test_a_custom_getter_reads_objects() -> None:
    class Row:
        budget = D(10)

    cat = Catalogue([Field("预算", NUMBER, meta={"column": "budget"})], getter=lambda r, p: r.budget)
    assert compile_expr(check("预算 * 2", cat)).evaluate(Row()) == D(20)


def test_ints_are_exact_and_floats_are_refused() -> None:
    assert run("x + 1", {"x": 2}) == D(3)
    with pytest.raises(DslEvalError) as caught:
        run("x > 1", {"x": 0.1})
    assert caught.value.code == "E601"
    with pytest.raises(DslEvalError) as caught:
        run("x > 1", {"x": "12"})
    assert caught.value.code == "E602"


def test_datetimes_in_date_fields_count_as_their_date(catalogue: Catalogue) -> None:
    assert run("开工日期 = 2026-01-01", project(开工日期=datetime(2026, 1, 1, 9, 30)), catalogue) is True


def test_a_record_that_is_not_a_mapping_is_reported() -> None:
    with pytest.raises(DslEvalError) as caught:
        compile(check("x > 1", FLAGS)).evaluate([1, 2])
    assert caught.value.code == "E604"


def test_out_of_range_dates_are_reported(catalogue: Catalogue) -> None:
    with pytest.raises(DslEvalError) as caught:
        compile(check("开工日期 + 3650000天", catalogue)).evaluate(project())
    assert caught.value.code == "E603"


def test_evaluate_convenience(catalogue: Catalogue) -> None:
    assert evaluate("预算 >= 100万", project(), catalogue) is True


def test_explain_renders_each_sub_expression_in_chinese(catalogue: Catalogue) -> None:
    trace = compile(check('超支率 > 5% 且 类别 = "住建"', catalogue)).explain(project())
    text = trace.render()
    assert text.splitlines()[0] == '超支率 > 5% 且 类别 = "住建" → 是'
    assert "超支率 (0.0731) > 5% (0.05) → 是" in text
    assert '类别 (“住建”) = "住建" → 是' in text
    assert "超支率 (0.0731) > 5% (0.05) → true" in trace.render("en")


def test_explain_marks_short_circuited_operands(catalogue: Catalogue) -> None:
    trace = compile(check('超支率 > 50% 且 类别 = "住建"', catalogue)).explain(project())
    assert trace.value is False
    assert trace.children[1].evaluated is False
    assert "未计算" in trace.render()


def test_trace_to_dict_is_json_ready(catalogue: Catalogue) -> None:
    trace = compile(check("今天() - 开工日期 > 30天", catalogue)).explain(project(), today=TODAY)
    data = trace.to_dict()
    assert data["value"] is True
    assert data["children"][0]["value"] == "P59D"
    assert data["children"][0]["children"][1]["value"] == "2026-01-01"
    assert SKIPPED is not None


@given(
    st.one_of(st.none(), st.decimals(-1000, 1000, places=2)),
    st.one_of(st.none(), st.decimals(-1000, 1000, places=2)),
    st.one_of(st.none(), st.booleans()),
)
def test_compiled_and_explained_evaluation_agree(x: Any, y: Any, p: Any) -> None:
    for source in [
        "x / y > 0.5 and p",
        "not (x > y) or p",
        "if p then x - y else x * y",
        "x in [1, y] or x is null",
    ]:
        run(source, {"x": x, "y": y, "p": p})
