"""rules.sql: each DSL construct compiled to SQL selects exactly the projects Python evaluation fires for (PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from itertools import count

import pytest

import dsl

TODAY = date(2026, 6, 1)
_codes = count()


@pytest.fixture
def ctx(project_type):
    from rules.context import context_for

    return context_for(project_type.versions.get(status="published"))


@pytest.fixture
def make(world):
    """``make(**fields)``: a project of bureau_a; ``支出``/``合同``/``预算明细`` take lists of amounts or tuples."""
    from projects.models import BudgetLine, Contract, Expenditure, Project

    def build(支出=(), 合同=(), 预算明细=(), **fields):
        code = fields.pop("code", f"SQL-{next(_codes)}")
        fields.setdefault("budget", D("100"))
        project = Project.objects.create(
            org=world.bureau_a, code=code, name=fields.pop("name", code), **fields
        )
        for i, row in enumerate(支出):
            amount, day, payee = (*row, None, None)[:3] if isinstance(row, tuple) else (row, None, None)
            Expenditure.objects.create(
                project=project,
                voucher_no=f"V{i}",
                paid_on=day or date(2026, 1, 1),
                payee=payee or "甲公司",
                amount=amount,
            )
        for i, row in enumerate(合同):
            amount, day = row if isinstance(row, tuple) else (row, date(2026, 1, 1))
            Contract.objects.create(
                project=project,
                code=f"C{i}",
                name="合同",
                kind="施工",
                counterparty="乙公司",
                amount=amount,
                signed_on=day,
            )
        for i, amount in enumerate(预算明细):
            BudgetLine.objects.create(
                project=project, year=2026, fund_source="市级财政", amount=amount + i * 0
            )
        return project

    return build


def python_value(checked, ctx, project):
    from projects.models import Project
    from rules.context import project_record

    fresh = Project.objects.get(pk=project.pk)
    return dsl.compile(checked).evaluate(project_record(fresh, ctx, today=TODAY), today=TODAY)


def flagged(ctx, source, projects, *, today=TODAY):
    """Codes flagged by the database; asserts Python evaluation fires for exactly the same projects."""
    from django.db import connection

    from projects.models import Project
    from rules.sql import condition

    checked = ctx.check(source)
    where = condition(checked, ctx, today=today, vendor=connection.vendor)
    in_db = set(
        Project.objects.filter(pk__in=[p.pk for p in projects]).filter(where).values_list("code", flat=True)
    )
    in_python = {p.code for p in projects if python_value(checked, ctx, p) is True}
    assert in_db == in_python, source
    return in_db


def codes(*projects):
    return {p.code for p in projects}


pytestmark = pytest.mark.django_db


def test_column_comparison(ctx, make):
    big, small = make(budget=D("2000000")), make(budget=D("10"))
    assert flagged(ctx, "预算 > 100万", [big, small]) == codes(big)
    assert flagged(ctx, '预算 <= 10 且 阶段 = "立项"', [big, small]) == codes(small)


def test_nulls_are_three_valued(ctx, make):
    known, unknown = make(year=2024), make(year=None)
    projects = [known, unknown]
    assert flagged(ctx, "立项年度 is null", projects) == codes(unknown)
    assert flagged(ctx, "立项年度 不为空", projects) == codes(known)
    assert flagged(ctx, "立项年度 > 2020", projects) == codes(known)
    assert flagged(ctx, "not (立项年度 > 2020)", projects) == set()
    assert flagged(ctx, "立项年度 > 2020 or 预算 > 0", projects) == codes(known, unknown)
    assert flagged(ctx, "立项年度 > 2020 and 预算 > 0", projects) == codes(known)
    assert flagged(ctx, "not (立项年度 > 2020 and 预算 < 0)", projects) == codes(known, unknown)


def test_division_by_zero_is_null(ctx, make):
    zero, half = make(budget=D("0"), spent_total=D("5")), make(budget=D("10"), spent_total=D("5"))
    assert flagged(ctx, "已支出 / 预算 >= 0.5", [zero, half]) == codes(half)
    assert flagged(ctx, "(已支出 / 预算) is null", [zero, half]) == codes(zero)
    assert flagged(ctx, "已支出 / 0 is null", [zero, half]) == codes(zero, half)


def test_exact_decimals(ctx, make):
    p = make(budget=D("0.10"), spent_total=D("0.20"))
    assert flagged(ctx, "预算 + 已支出 = 0.3", [p]) == codes(p)
    assert flagged(ctx, "预算 * 3 = 0.3", [p]) == codes(p)


def test_division_rounds_like_python_decimal(ctx, make):
    """2/3·3 rounds back to 2 at 28 significant digits, 1/3·3 stays 0.999…: the database must agree."""
    two, one = make(budget=D("3"), spent_total=D("2")), make(budget=D("3"), spent_total=D("1"))
    assert flagged(ctx, "已支出 / 预算 * 预算 = 已支出", [two, one]) == codes(two)
    assert flagged(ctx, "已支出 / 预算 = 0.6666666666666666666666666667", [two, one]) == codes(two)
    assert flagged(ctx, "已支出 / 预算 + 1 > 1.333333333333333333333333333", [two, one]) == codes(two)


def test_round_half_away_from_zero(ctx, make):
    up, down = make(budget=D("10"), spent_total=D("1.25")), make(budget=D("-10"), spent_total=D("1.25"))
    assert flagged(ctx, "round(已支出 / 预算, 2) = 0.13", [up, down]) == codes(up)
    assert flagged(ctx, "round(已支出 / 预算, 2) = -0.13", [up, down]) == codes(down)
    assert flagged(ctx, "round(预算 * 55, -2) = 600", [up, down]) == codes(up)


def test_planned_progress_matches_python(ctx, make):
    start = TODAY - timedelta(days=1)
    tie = make(
        planned_start=start, planned_end=start + timedelta(days=32)
    )  # 1/32 = 0.03125 → 0.0312 (half even)
    odd = make(
        planned_start=TODAY - timedelta(days=3), planned_end=TODAY + timedelta(days=29)
    )  # 0.09375 → 0.0938
    later = make(planned_start=TODAY + timedelta(days=5), planned_end=TODAY + timedelta(days=50))
    done = make(planned_start=date(2020, 1, 1), planned_end=date(2021, 1, 1))
    undated, reversed_ = make(), make(planned_start=TODAY, planned_end=TODAY - timedelta(days=1))
    projects = [tie, odd, later, done, undated, reversed_]
    assert flagged(ctx, "计划进度 = 0.0312", projects) == codes(tie)
    assert flagged(ctx, "计划进度 = 0.0938", projects) == codes(odd)
    assert flagged(ctx, "计划进度 = 0", projects) == codes(later)
    assert flagged(ctx, "计划进度 = 1", projects) == codes(done)
    assert flagged(ctx, "计划进度 is null", projects) == codes(undated, reversed_)
    assert flagged(ctx, "进度偏差 < -0.05", projects) == codes(odd, done)


def test_dates_and_durations(ctx, make):
    late = make(planned_start=date(2025, 1, 1), planned_end=date(2026, 4, 1))
    on_time = make(planned_start=date(2026, 1, 1), planned_end=date(2026, 12, 31))
    projects = [late, on_time]
    assert flagged(ctx, "今天() - 计划完工日期 > 30天", projects) == codes(late)
    assert flagged(ctx, "计划开工日期 + 400天 < 计划完工日期", projects) == codes(late)
    assert flagged(ctx, "days(计划完工日期 - 计划开工日期) = 364", projects) == codes(on_time)
    assert flagged(ctx, "计划完工日期 - 30天 < 2026-03-15", projects) == codes(late)
    assert flagged(ctx, "abs(计划开工日期 - 计划完工日期) > 365天", projects) == codes(late)
    assert flagged(ctx, "today() > 计划完工日期", projects, today=date(2026, 4, 2)) == codes(late)


def test_aggregates_over_money_lists(ctx, make):
    spent = make(budget=D("100"), 支出=[D("30"), D("40")], 合同=[D("600000")])
    empty = make(budget=D("100"))
    projects = [spent, empty]
    assert flagged(ctx, "sum(支出.金额) > 预算 * 0.5", projects) == codes(spent)
    assert flagged(ctx, "sum(支出.金额) = 0", projects) == codes(empty)
    assert flagged(ctx, "count(合同) = 0", projects) == codes(empty)
    assert flagged(ctx, "count(支出.金额) = 2 and len(支出) = 2", projects) == codes(spent)
    assert flagged(ctx, "max(合同.金额) > 50万", projects) == codes(spent)
    assert flagged(ctx, "max(合同.金额) is null", projects) == codes(empty)
    assert flagged(ctx, "avg(支出.金额) = 35", projects) == codes(spent)
    assert flagged(ctx, "avg(支出.金额) is null", projects) == codes(empty)
    assert flagged(ctx, "min(支出.支付日期) < 2026-02-01", projects) == codes(spent)
    assert flagged(ctx, "sum(预算明细.金额) = 0", projects) == codes(spent, empty)


def test_avg_rounds_like_python(ctx, make):
    thirds = make(支出=[D("1"), D("1"), D("2")])  # 4/3 = 1.333…3 (28 digits); · 3 = 3.999…9, not 4
    assert flagged(ctx, "avg(支出.金额) * 3 = 4", [thirds]) == set()
    assert flagged(ctx, "avg(支出.金额) * 3 < 4", [thirds]) == codes(thirds)


def test_lists_written_in_the_rule(ctx, make):
    a, b = make(budget=D("5"), year=None), make(budget=D("50"), year=2020)
    projects = [a, b]
    assert flagged(ctx, "sum([预算, 立项年度, null]) > 100", projects) == codes(b)
    assert flagged(ctx, "count([预算, 立项年度]) = 1", projects) == codes(a)
    assert flagged(ctx, "max(预算, 立项年度) = 2020", projects) == codes(b)
    assert flagged(ctx, "min([预算, 立项年度]) = 5", projects) == codes(a)
    assert flagged(ctx, "avg([预算, 立项年度]) = 1035", projects) == codes(b)


def test_in(ctx, make):
    a = make(
        stage="执行", 支出=[(D("1"), date(2026, 1, 1), "甲公司")], data={"改造类别": ["基础类", "提升类"]}
    )
    b = make(stage="立项", data={"改造类别": ["基础类", None]})
    c = make(stage="验收", data={})
    projects = [a, b, c]
    assert flagged(ctx, '阶段 in ["执行", "验收"]', projects) == codes(a, c)
    assert flagged(ctx, '阶段 not in ["立项"]', projects) == codes(a, c)
    assert flagged(ctx, '阶段 in ["执行", null]', projects) == codes(a)
    assert flagged(ctx, '阶段 not in ["执行", null]', projects) == set()
    assert flagged(ctx, '"甲公司" in 支出.收款人', projects) == codes(a)
    assert flagged(ctx, '"甲公司" not in 支出.收款人', projects) == codes(b, c)
    assert flagged(ctx, '"提升类" in 改造类别', projects) == codes(a)
    assert flagged(ctx, '"提升类" not in 改造类别', projects) == set()  # b holds a null, c has no list
    assert flagged(ctx, "改造类别 is null", projects) == codes(c)
    assert flagged(ctx, "len(改造类别) = 2", projects) == codes(a, b)
    assert flagged(ctx, "阶段 in [项目名称, 项目代码]", projects) == set()


def test_form_fields(ctx, make):
    as_text = make(
        data={
            "项目总投资": "150.00",
            "改造户数": 10,
            "是否加装电梯": True,
            "计划工期": {"开始": "2026-01-01"},
        }
    )
    as_int = make(
        data={"项目总投资": 150, "改造户数": 0, "是否加装电梯": False, "计划工期": {"开始": "2026-02-30"}}
    )
    missing = make(data={"小区名称": "翠苑一区"})
    projects = [as_text, as_int, missing]
    assert flagged(ctx, "项目总投资 > 100", projects) == codes(as_text, as_int)
    assert flagged(ctx, "项目总投资 is null", projects) == codes(missing)
    assert flagged(ctx, "改造户数 > 5", projects) == codes(as_text)
    assert flagged(ctx, "是否加装电梯 = true", projects) == codes(as_text)
    assert flagged(ctx, "是否加装电梯 = false", projects) == codes(as_int)
    assert flagged(ctx, "计划工期.开始 < 2026-06-01", projects) == codes(as_text)
    assert flagged(ctx, "计划工期.开始 is null", projects) == codes(as_int, missing)
    assert flagged(ctx, '小区名称 = "翠苑一区"', projects) == codes(missing)
    assert flagged(ctx, "计划工期 is not null", projects) == codes(as_text, as_int)
    assert flagged(ctx, "户均投资 > 5", projects) == codes(as_text)  # 100 / 10; 改造户数 0 → null


def test_bad_stored_values_read_as_null_not_as_errors(ctx, make):
    """Strings that are not numbers or not real dates never make PostgreSQL fail a cast; they read as null."""
    from django.db import connection

    from projects.models import Project
    from rules.sql import condition

    bad = make(
        data={
            "项目总投资": "12,000",
            "计划工期": {"开始": "2026-13-01", "结束": "0000-01-01"},
            "改造户数": "x",
        }
    )
    odd = make(data={"项目总投资": "1e3", "计划工期": {"开始": "20260105", "结束": 20260105}})
    checks = {
        "项目总投资 is null": {bad.code},
        "项目总投资 = 1000": {odd.code},
        "计划工期.开始 is null or 计划工期.结束 is null": {bad.code, odd.code},
        "计划工期.开始 = 2026-01-05": {odd.code},
        "改造户数 is null": {bad.code, odd.code},
    }
    for source, expected in checks.items():
        where = condition(ctx.check(source), ctx, today=TODAY, vendor=connection.vendor)
        found = set(
            Project.objects.filter(pk__in=[bad.pk, odd.pk]).filter(where).values_list("code", flat=True)
        )
        assert found == expected, source


def test_indicators_and_thresholds_are_inlined(ctx, make):
    over = make(budget=D("100"), spent_total=D("110"))
    fine = make(budget=D("100"), spent_total=D("101"))
    projects = [over, fine]
    assert flagged(ctx, "超支率 > 超支预警线", projects) == codes(over)
    assert flagged(ctx, "预算执行率 > 1", projects) == codes(over, fine)


def test_if_coalesce_abs_len(ctx, make):
    a, b = make(year=None, budget=D("-5"), name="长名称的项目"), make(year=2020, budget=D("5"), name="短")
    projects = [a, b]
    assert flagged(ctx, "if 立项年度 is null then 预算 < 0 else 预算 > 100", projects) == codes(a)
    assert flagged(ctx, "if 立项年度 > 2000 then false else true", projects) == codes(a)  # if null → else
    assert flagged(ctx, "coalesce(立项年度, 1999) = 1999", projects) == codes(a)
    assert flagged(ctx, "abs(预算) = 5", projects) == codes(a, b)
    assert flagged(ctx, "-预算 > 0", projects) == codes(a)
    assert flagged(ctx, "len(项目名称) = 6", projects) == codes(a)


def test_constant_conditions(ctx, make):
    a = make()
    assert flagged(ctx, "1 + 1 = 2", [a]) == codes(a)
    assert flagged(ctx, "超支预警线 > 1", [a]) == set()
    assert flagged(ctx, "null or false", [a]) == set()
    assert flagged(ctx, "预算 > 0 or true", [a]) == codes(a)


def test_not_in_database(ctx):
    from rules.sql import NotInDatabase, condition, verdict

    cases = {
        "sum(资金来源.金额) > 0": "表单中列表里的字段“资金来源.金额”",
        "round(预算, 立项年度) > 0": "round 的位数不是常数",
        "count(改造类别) > 1": "表单中的列表字段“改造类别”",
    }
    for source, construct in cases.items():
        checked = ctx.check(source)
        assert verdict(checked, ctx) == construct
        with pytest.raises(NotInDatabase) as caught:
            condition(checked, ctx, today=TODAY, vendor="postgresql")
        assert caught.value.construct == construct
    assert verdict(ctx.check("超支率 > 超支预警线 且 sum(支出.金额) > 0"), ctx) is None
