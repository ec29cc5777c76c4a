"""rules.sql, property-tested: for generated rules and generated projects, the projects the database selects are exactly
the projects for which Python evaluation is true — on PostgreSQL and on SQLite.

Rules are typed ASTs over the 老旧小区改造 catalogue: ledger columns, 计划进度, 立项 form fields (numbers stored as
strings or integers, nested dates, booleans, a list of texts), the threshold, indicators, aggregates over the money
lists, null tests, and/or/not, if, coalesce, arithmetic including division by zero, dates, durations and today().
Projects have nulls, missing and malformed-date JSON keys, and empty lists.

SQLite has no decimal type: it stores whole-yuan amounts as integers and others as doubles, and computes in doubles.
The SQLite run therefore draws only values a double holds exactly (multiples of 0.25, small magnitudes) and keeps
every intermediate result exact: it divides only by 0, 0.5, 2 or 4, rounds only to whole numbers or tens, and leaves
out avg, 计划进度 and the indicators that divide (their quotients are not binary fractions). PostgreSQL computes with
``numeric`` and gets the full generator, including the quotients that Python rounds to 28 significant digits.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal as D
from itertools import count

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import dsl
from dsl import ast as a

TODAYS = (date(2026, 6, 1), date(2026, 1, 15))
_codes = count()
SETTINGS = settings(
    max_examples=int(os.environ.get("SQLH_EXAMPLES", "150")),
    derandomize=not os.environ.get("SQLH_RANDOM"),  # SQLH_RANDOM=1 SQLH_EXAMPLES=2000: a longer hunt
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


# -- rules ---------------------------------------------------------------------------------------------------------


def name(dotted: str) -> a.Name:
    return a.Name(tuple(dotted.split(".")))


def number(value: str) -> a.Expr:
    literal = a.Literal(abs(D(value)), "number")
    return a.Unary("-", literal) if value.startswith("-") else literal


def call(fn: str, *args: a.Expr) -> a.Call:
    return a.Call(fn, tuple(args))


class Rules:
    """Typed expression strategies; ``exact`` restricts them to what SQLite's doubles compute exactly."""

    def __init__(self, exact: bool) -> None:
        self.exact = exact
        numbers = ["0", "1", "2", "3", "4", "0.5", "0.25", "1.25", "100", "-1"]
        self.numbers = numbers if exact else [*numbers, "0.1", "0.05", "7", "1000000", "0.3333"]
        self.number_names = [
            "预算",
            "已支出",
            "已下达预算",
            "合同金额",
            "实际进度",
            "立项年度",
            "项目总投资",
            "改造户数",
            "加装电梯数量",
            "超支预警线",
        ]
        self.aggregates = [
            call("sum", name("支出.金额")),
            call("sum", name("合同.金额")),
            call("count", name("支出")),
            call("sum", name("预算明细.金额")),
            call("max", name("合同.金额")),
            call("min", name("支出.金额")),
            call("len", name("预算明细")),
            call("count", name("合同.金额")),
            call("sum", name("预算明细.年度")),
        ]
        if not exact:
            self.number_names += ["计划进度", "预算执行率", "超支率", "户均投资", "进度偏差"]
            self.aggregates += [call("avg", name("支出.金额")), call("avg", name("预算明细.金额"))]

    def leaf(self, kind: str) -> st.SearchStrategy[a.Expr]:
        if kind == "number":
            return st.one_of(
                st.sampled_from(self.numbers).map(number),
                st.sampled_from(self.number_names).map(name),
                st.sampled_from(self.aggregates),
            )
        if kind == "date":
            fixed = [a.Literal(d, "date") for d in (date(2026, 1, 1), date(2026, 6, 1), date(2025, 12, 31))]
            names = ["计划开工日期", "计划完工日期", "计划工期.开始", "计划工期.结束"]
            found = [call("today"), call("max", name("合同.签订日期")), call("min", name("支出.支付日期"))]
            return st.sampled_from([*fixed, *map(name, names), *found])
        if kind == "duration":
            return st.sampled_from([a.Literal(timedelta(days=n), "duration") for n in (0, 1, 30, 365)])
        if kind == "string":
            texts = [a.Literal(t, "string") for t in ("立项", "执行", "翠苑", "甲公司")]
            return st.sampled_from([*texts, name("阶段"), name("小区名称"), name("项目名称")])
        return st.sampled_from([a.Literal(True, "bool"), a.Literal(False, "bool"), name("是否加装电梯")])

    def expr(self, kind: str, depth: int) -> st.SearchStrategy[a.Expr]:
        if depth <= 0:
            return self.leaf(kind)
        sub = depth - 1
        options = [self.leaf(kind), getattr(self, "_" + kind)(sub)]
        options.append(
            st.builds(a.If, self.expr("bool", sub), self.expr(kind, sub), self.nullable(kind, sub))
        )
        if kind != "bool":
            options.append(
                st.builds(lambda x, y: call("coalesce", x, y), self.nullable(kind, sub), self.expr(kind, sub))
            )
        return st.one_of(*options)

    def nullable(self, kind: str, depth: int) -> st.SearchStrategy[a.Expr]:
        return st.one_of(self.expr(kind, depth), st.just(a.Literal(None, "null")))

    def _number(self, d: int) -> st.SearchStrategy[a.Expr]:
        n = self.expr("number", d)
        arith = st.builds(a.Binary, st.sampled_from(["+", "-", "*"]), n, n)
        divisor = st.sampled_from(["0", "2", "4", "0.5"]).map(number) if self.exact else n
        places = st.sampled_from(["0", "-1"] if self.exact else ["0", "1", "2", "-1", "3"]).map(number)
        return st.one_of(
            arith,
            st.builds(a.Binary, st.just("/"), n, divisor),
            st.builds(a.Unary, st.just("-"), n),
            st.builds(lambda x: call("abs", x), n),
            st.builds(lambda x, p: call("round", x, p), n, places),
            st.builds(lambda f, x, y: call(f, x, y), st.sampled_from(["min", "max"]), n, n),
            st.builds(
                lambda f, *xs: call(f, a.ListExpr(xs)),
                st.sampled_from(["sum", "count", "min"]),
                n,
                n,
                st.just(a.Literal(None, "null")),
            ),
            st.builds(lambda x: call("days", x), self.expr("duration", d)),
            st.builds(lambda x: call("len", x), self.expr("string", d)),
        )

    def _bool(self, d: int) -> st.SearchStrategy[a.Expr]:
        compare = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
        ordered = st.sampled_from(["number", "date", "duration"]).flatmap(
            lambda k: st.builds(a.Compare, compare, self.expr(k, d), self.expr(k, d))
        )
        scalar = st.sampled_from(["number", "date", "string", "bool", "duration"])
        members = st.lists(
            st.sampled_from(self.numbers).map(number) | st.just(a.Literal(None, "null")), max_size=3
        )
        texts = st.sampled_from(["甲公司", "提升类", "基础类", "立项"]).map(lambda t: a.Literal(t, "string"))
        return st.one_of(
            ordered,
            st.builds(
                a.Compare, st.sampled_from(["=", "!="]), self.expr("string", d), self.expr("string", d)
            ),
            st.builds(a.Compare, st.sampled_from(["=", "!="]), self.expr("bool", d), self.expr("bool", d)),
            scalar.flatmap(lambda k: st.builds(a.IsNull, self.expr(k, d), st.booleans())),
            st.builds(a.IsNull, st.sampled_from([name("改造类别"), name("计划工期")]), st.booleans()),
            st.builds(
                a.Logical,
                st.sampled_from(["and", "or"]),
                st.lists(self.expr("bool", d), min_size=2, max_size=3).map(tuple),
            ),
            st.builds(a.Unary, st.just("not"), self.expr("bool", d)),
            st.builds(
                a.InList, self.expr("number", d), members.map(lambda xs: a.ListExpr(tuple(xs))), st.booleans()
            ),
            st.builds(
                a.InList,
                texts | self.expr("string", d),
                st.sampled_from([name("改造类别"), name("支出.收款人")]),
                st.booleans(),
            ),
            st.builds(
                a.InList,
                self.expr("string", d),
                st.lists(texts, min_size=1, max_size=2).map(lambda xs: a.ListExpr(tuple(xs))),
                st.booleans(),
            ),
        )

    def _date(self, d: int) -> st.SearchStrategy[a.Expr]:
        return st.one_of(
            st.builds(a.Binary, st.sampled_from(["+", "-"]), self.expr("date", d), self.expr("duration", d)),
            st.builds(lambda x, y: call("max", x, y), self.expr("date", d), self.expr("date", d)),
        )

    def _duration(self, d: int) -> st.SearchStrategy[a.Expr]:
        return st.one_of(
            st.builds(a.Binary, st.just("-"), self.leaf("date"), self.leaf("date")),
            st.builds(
                a.Binary, st.sampled_from(["+", "-"]), self.expr("duration", d), self.expr("duration", d)
            ),
            st.builds(a.Unary, st.just("-"), self.expr("duration", d)),
            st.builds(lambda x: call("abs", x), self.expr("duration", d)),
        )

    def _string(self, d: int) -> st.SearchStrategy[a.Expr]:
        return self.leaf("string")


# -- projects ------------------------------------------------------------------------------------------------------


def projects(exact: bool) -> st.SearchStrategy[list[dict]]:
    if exact:
        money = st.integers(-40, 4000).map(lambda n: D(n) / 4)
    else:
        money = st.one_of(
            st.sampled_from([D("0"), D("1"), D("2"), D("3"), D("0.1"), D("0.2"), D("100")]),
            st.decimals(min_value=-1000, max_value=10**7, places=2),
        )
    pool = st.sampled_from([D(0), D(1), D(2), D(3), D("0.5"), D(100), D("1.25")]) | money
    day = st.dates(date(2025, 1, 1), date(2027, 6, 30))
    stored_number = st.one_of(pool.map(lambda v: format(v, "f")), st.integers(-5, 300), st.none())
    iso = st.one_of(
        day.map(date.isoformat), st.sampled_from(["2026-02-30", "2026-13-01", "20260301", "不详"])
    )
    data = st.fixed_dictionaries(
        {},
        optional={
            "项目总投资": stored_number,
            "改造户数": st.integers(0, 20) | st.none(),
            "加装电梯数量": st.integers(1, 5),
            "是否加装电梯": st.booleans() | st.none(),
            "小区名称": st.sampled_from(["翠苑", "紫阳"]) | st.none(),
            "计划工期": st.fixed_dictionaries({}, optional={"开始": iso, "结束": iso}),
            "改造类别": st.lists(st.sampled_from(["基础类", "完善类", "提升类"]) | st.none(), max_size=3)
            | st.none(),
        },
    )
    progress = st.sampled_from(
        [D(0), D("0.25"), D("0.5"), D("0.0625"), D(1)] + ([] if exact else [D("0.3333")])
    )
    project = st.fixed_dictionaries(
        {
            "budget": pool,
            "spent_total": pool,
            "allocated_total": pool,
            "contract_total": pool,
            "progress": progress,
            "year": st.one_of(st.none(), st.integers(2019, 2027), st.integers(2024, 2026)),
            "planned_start": st.one_of(st.none(), day, day),
            "planned_end": st.one_of(st.none(), day, day),
            "stage": st.sampled_from(["立项", "执行", "验收"]),
            "name": st.sampled_from(["翠苑改造", "紫阳街道老旧小区整治", "甲公司"]),
            "data": data,
            "支出": st.lists(st.tuples(pool, day, st.sampled_from(["甲公司", "乙公司"])), max_size=3),
            "合同": st.lists(st.tuples(pool, day), max_size=2),
            "预算明细": st.lists(st.tuples(pool, st.integers(2024, 2027)), max_size=2),
        }
    )
    return st.lists(project, min_size=2, max_size=5)


def create(alias: str, org_id: int, spec: dict):
    from projects.models import BudgetLine, Contract, Expenditure, Project

    spec = dict(spec)
    expenditures, contracts, lines = spec.pop("支出"), spec.pop("合同"), spec.pop("预算明细")
    code = f"P{next(_codes)}"
    project = Project.objects.using(alias).create(org_id=org_id, code=code, **spec)
    Expenditure.objects.using(alias).bulk_create(
        Expenditure(project=project, voucher_no=f"V{i}", amount=amount, paid_on=day, payee=payee)
        for i, (amount, day, payee) in enumerate(expenditures)
    )
    Contract.objects.using(alias).bulk_create(
        Contract(
            project=project,
            code=f"C{i}",
            name="合同",
            kind="施工",
            counterparty="乙",
            amount=amount,
            signed_on=day,
        )
        for i, (amount, day) in enumerate(contracts)
    )
    BudgetLine.objects.using(alias).bulk_create(
        BudgetLine(project=project, year=year, fund_source="市级财政", amount=amount)
        for amount, year in lines
    )
    return project


def agree(ctx, alias: str, org_id: int, rules: list[a.Expr], specs: list[dict], today: date) -> None:
    """Create ``specs`` in ``alias`` and check every rule's database selection against Python evaluation.

    The rows stay until the test's transaction is rolled back (deleting them costs more than creating them): each
    example only ever looks at its own ids.
    """
    from django.db import connections

    from projects.models import Project
    from rules.context import project_record
    from rules.sql import NotInDatabase, condition

    ids = [create(alias, org_id, spec).pk for spec in specs]
    rows = (
        Project.objects.using(alias)
        .filter(pk__in=ids)
        .prefetch_related("expenditures", "contracts", "budget_lines")
    )
    records = [(p.pk, project_record(p, ctx, today=today)) for p in rows]
    for tree in rules:
        checked = dsl.check(tree, ctx.catalogue, expect=dsl.BOOL)
        compiled = dsl.compile(checked)
        expected = {pk for pk, record in records if compiled.evaluate(record, today=today) is True}
        try:
            where = condition(checked, ctx, today=today, vendor=connections[alias].vendor)
        except NotInDatabase as reason:
            raise AssertionError(f"{checked.source}: {reason.construct}") from None
        found = set(
            Project.objects.using(alias).filter(pk__in=ids).filter(where).values_list("pk", flat=True)
        )
        assert found == expected, checked.source
        event("fires for " + ("none" if not found else "all" if len(found) == len(ids) else "some"))


@pytest.fixture
def ctx(project_type):
    from rules.context import context_for

    return context_for(project_type.versions.get(status="published"))


def rules_and_projects(exact: bool):
    return st.tuples(
        st.lists(Rules(exact).expr("bool", 3), min_size=1, max_size=3),
        projects(exact),
        st.sampled_from(TODAYS),
    )


@pytest.mark.django_db
@SETTINGS
@given(case=rules_and_projects(exact=False))
def test_postgresql_agrees_with_python(ctx, world, case):
    from django.db import connection

    with connection.cursor() as cursor:  # a compiled rule that blows up fails the test instead of hanging it
        cursor.execute("SET LOCAL statement_timeout = '10s'")
    rules, specs, today = case
    agree(ctx, "default", world.bureau_a.pk, rules, specs, today)


@pytest.fixture
def sqlite_org(db):
    from orgs.models import Org

    return Org.objects.using("sqlite").create(
        path="0001", depth=1, numchild=0, name="测试区", kind="bureau", code="sq"
    )


@pytest.mark.django_db(databases=["default", "sqlite"])
@SETTINGS
@given(case=rules_and_projects(exact=True))
def test_sqlite_agrees_with_python(ctx, sqlite_org, case):
    rules, specs, today = case
    agree(ctx, "sqlite", sqlite_org.pk, rules, specs, today)
