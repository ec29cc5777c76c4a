"""The unified ledger's query layer: every filter, search (Chinese, code, pinyin initials), sorting, totals and
bad parameters — computed over exactly the set the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from core.errors import ValidationFailed
from projects import services
from projects.ledger import (
    LedgerFilters,
    ledger_filters_parse,
    ledger_page_parse,
    ledger_queryset,
    ledger_totals,
    percent_display,
)
from projects.models import Project
from tests.factories import OrgFactory

pytestmark = pytest.mark.django_db


@dataclass
class Ledger:
    world: Any
    section: Any
    p1: Project  # 翠苑一区 · 执行 · 2025 · overdue · 中央财政 · spent 700 000.75 of 1 000 000
    p2: Project  # 文三路 · 结项 · 2026 · past end but closed · 区县财政 · overspent by 200 000.10
    p3: Project  # 雨污分流 (in a section below the bureau) · 立项 · 2026 · 中央财政 twice
    p4: Project  # typed 老旧小区改造 · 2026
    pb: Project  # district B · 执行 · 2025 · overdue · 中央财政


def _set(project: Project, **columns) -> Project:
    """Test setup only: put a project in a stage/year/schedule without walking the approval flow."""
    Project.objects.filter(pk=project.pk).update(**columns)
    project.refresh_from_db()
    return project


def _money(project: Project, source: str, allocated: str, *spent: str) -> None:
    clerk = project.owner
    line = services.budget_line_add(
        actor=clerk, project=project, year=2026, fund_source=source, amount=allocated
    )
    for i, amount in enumerate(spent):
        services.expenditure_record(
            actor=clerk,
            project=project,
            budget_line=line,
            voucher_no=f"PZ-{project.pk}-{source}-{i}",
            paid_on="2026-03-01",
            payee="杭州某建设集团",
            amount=amount,
        )


@pytest.fixture
def ledger(world, project_type, valid_data) -> Ledger:
    today = timezone.localdate()
    clerk_a = world.users["clerk_a"]
    section = OrgFactory(parent=world.bureau_a, name="西湖区住建局工程科", kind="section", code="330106-gck")
    p1, p2 = world.projects_a
    pb = world.projects_b[0]
    p3 = services.project_create(
        actor=clerk_a, org=section, name="西湖区古荡街道雨污分流", budget="2500000.00"
    )
    p4 = services.project_create_from_type(
        actor=clerk_a, org=world.bureau_a, ptype=project_type, data=valid_data
    )
    _money(p1, "中央财政", "600000.00", "400000.50", "300000.25")
    _money(p2, "区县财政", "1000000.00", "1200000.10")
    _money(p3, "中央财政", "100.00")
    _money(p3, "中央财政", "200.00")
    _money(pb, "中央财政", "500000.00", "100000.00")
    p1 = _set(p1, stage="执行", year=2025, planned_end=today - timedelta(days=10))
    p2 = _set(p2, stage="结项", year=2026, planned_end=today - timedelta(days=30))
    p3 = _set(p3, stage="立项", year=2026, planned_end=today + timedelta(days=90))
    p4 = _set(p4, year=2026, planned_end=today + timedelta(days=30))
    pb = _set(pb, stage="执行", year=2025, planned_end=today - timedelta(days=3))
    return Ledger(world=world, section=section, p1=p1, p2=p2, p3=p3, p4=p4, pb=pb)


def _codes(user, **params) -> set[str]:
    qs = ledger_queryset(user, ledger_filters_parse(params))
    return set(qs.values_list("code", flat=True))


def _names(ledger: Ledger, *projects: Project) -> set[str]:
    return {p.code for p in projects}


def test_leader_sees_every_project_of_her_district_and_none_of_the_other(ledger):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader) == _names(ledger, ledger.p1, ledger.p2, ledger.p3, ledger.p4)
    regulator = ledger.world.users["regulator"]
    assert ledger.pb.code in _codes(regulator)


def test_org_filter_takes_the_subtree(ledger):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader, org="330106-zjj") == _names(ledger, ledger.p1, ledger.p2, ledger.p3, ledger.p4)
    assert _codes(leader, org="330106-gck") == _names(ledger, ledger.p3)


def test_org_filter_outside_scope_is_empty_like_an_unknown_org(ledger):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader, org="330102-zjj") == set()
    assert _codes(leader, org="no-such-org") == set()


def test_type_filter_uses_type_code(ledger):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader, type="laojiu") == _names(ledger, ledger.p4)


def test_stage_and_year_filters(ledger):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader, stage="执行") == _names(ledger, ledger.p1)
    assert _codes(leader, year="2026") == _names(ledger, ledger.p2, ledger.p3, ledger.p4)


def test_fund_source_filter_is_an_exists_without_duplicates(ledger):
    leader = ledger.world.users["leader_a"]
    qs = ledger_queryset(leader, LedgerFilters(fund_source="中央财政"))
    codes = list(qs.values_list("code", flat=True))
    assert sorted(codes) == sorted(_names(ledger, ledger.p1, ledger.p3))  # p3 has two 中央财政 lines
    assert ledger_totals(qs).count == 2


def test_overdue_means_past_planned_end_and_not_in_the_last_stage(ledger):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader, overdue="true") == _names(ledger, ledger.p1)
    assert _codes(leader, overdue="false") == _names(ledger, ledger.p2, ledger.p3, ledger.p4)
    rows = {p.code: p.is_overdue for p in ledger_queryset(leader, LedgerFilters())}
    assert rows[ledger.p1.code] is True and rows[ledger.p2.code] is False


def test_has_alerts_means_an_open_rule_alert(ledger):
    from rules.models import AlertStatus
    from rules.sweep import sweep_rule
    from tests.rules.rule_fixtures import make_pack

    leader = ledger.world.users["leader_a"]
    assert _codes(leader, has_alerts="true") == set()
    pack = make_pack(ledger.world.city, [{"code": "OVER", "condition": "已支出 > 预算"}])
    sweep_rule(pack.rules.get())
    assert _codes(leader, has_alerts="true") == _names(ledger, ledger.p2)
    assert _codes(leader, has_alerts="false") == _names(ledger, ledger.p1, ledger.p3, ledger.p4)
    pack.rules.get().alerts.update(status=AlertStatus.CLOSED)
    assert _codes(leader, has_alerts="true") == set()


@pytest.mark.parametrize("query", ["翠苑", "cyyq", "CYYQ", "cuiyuan"])
def test_search_by_chinese_and_pinyin(ledger, query):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader, search=query) == _names(ledger, ledger.p1, ledger.p4)


def test_search_by_code_and_old_q_alias(ledger):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader, search=ledger.p2.code) == _names(ledger, ledger.p2)
    assert _codes(leader, q="雨污") == _names(ledger, ledger.p3)


def test_search_never_reaches_the_other_district(ledger):
    assert _codes(ledger.world.users["leader_a"], search="上城区") == set()


def test_combined_filters(ledger):
    leader = ledger.world.users["leader_a"]
    assert _codes(leader, stage="执行", year="2025", fund_source="中央财政", overdue="true") == _names(
        ledger, ledger.p1
    )
    assert _codes(leader, stage="执行", year="2026") == set()
    assert _codes(leader, org="330106-zjj", year="2026", search="lao") == _names(ledger, ledger.p4)


@pytest.mark.parametrize(
    ("ordering", "key", "reverse"),
    [
        ("budget", lambda p: (p.budget, p.pk), False),
        ("-budget", lambda p: (p.budget, p.pk), True),
        ("code", lambda p: (p.code, p.pk), False),
        ("-spent_total", lambda p: (p.spent_total, p.pk), True),
        ("name", None, False),
    ],
)
def test_sorting(ledger, ordering, key, reverse):
    leader = ledger.world.users["leader_a"]
    rows = list(ledger_queryset(leader, ledger_filters_parse({"ordering": ordering})))
    if key is None:  # collation order is the database's; check it is what the database says
        expected = list(Project.objects.filter(pk__in=[p.pk for p in rows]).order_by("name", "id"))
    else:
        expected = sorted(rows, key=key, reverse=reverse)
    assert [p.pk for p in rows] == [p.pk for p in expected]


def test_sorting_by_execution_rate_puts_unbudgeted_last(ledger):
    leader = ledger.world.users["leader_a"]
    Project.objects.filter(pk=ledger.p3.pk).update(budget=Decimal("0.00"))
    rows = list(ledger_queryset(leader, LedgerFilters(ordering="-execution_rate")))
    assert [p.pk for p in rows][:2] == [ledger.p2.pk, ledger.p1.pk]  # 120 %, 70 %
    assert rows[-1].pk == ledger.p3.pk and rows[-1].execution_rate is None
    rows = list(ledger_queryset(leader, LedgerFilters(ordering="execution_rate")))
    assert rows[-1].pk == ledger.p3.pk


def test_totals_equal_a_hand_computation(ledger):
    leader = ledger.world.users["leader_a"]
    totals = ledger_totals(ledger_queryset(leader, LedgerFilters()))
    projects = [Project.objects.get(pk=p.pk) for p in (ledger.p1, ledger.p2, ledger.p3, ledger.p4)]
    budget = sum((p.budget for p in projects), Decimal("0"))
    spent = sum((p.spent_total for p in projects), Decimal("0"))
    assert totals.count == 4
    assert totals.budget == budget == Decimal("17300000.00")
    assert totals.allocated == Decimal("1600300.00")
    assert totals.spent == spent == Decimal("1900000.85")
    assert totals.overspend == Decimal("200000.10")
    assert totals.execution_rate == (spent / budget).quantize(Decimal("0.0001"))
    assert percent_display(totals.execution_rate) == "10.98%"


def test_totals_follow_the_filters_and_the_scope(ledger):
    leader = ledger.world.users["leader_a"]
    totals = ledger_totals(ledger_queryset(leader, LedgerFilters(stage="执行")))
    assert (totals.count, totals.budget, totals.spent) == (1, Decimal("1000000.00"), Decimal("700000.75"))
    clerk_b = ledger.world.users["clerk_b"]
    totals = ledger_totals(ledger_queryset(clerk_b, LedgerFilters()))
    assert (totals.count, totals.spent) == (1, Decimal("100000.00"))


def test_totals_of_nothing_are_zero(ledger):
    totals = ledger_totals(ledger_queryset(ledger.world.users["nobody"], LedgerFilters()))
    assert (totals.count, totals.budget, totals.execution_rate) == (0, Decimal("0.00"), None)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "abc"}, "year"),
        ({"year": "１２３４"}, "year"),
        ({"year": "3000"}, "year"),
        ({"overdue": "maybe"}, "overdue"),
        ({"has_alerts": "2"}, "has_alerts"),
        ({"fund_source": "金子"}, "fund_source"),
        ({"ordering": "password"}, "ordering"),
        ({"ordering": "-org__name"}, "ordering"),
        ({"org": "a b;drop"}, "org"),
        ({"search": "x" * 101}, "search"),
        ({"stage": "<script>"}, "stage"),
    ],
)
def test_malformed_parameters_are_named(params, field):
    with pytest.raises(ValidationFailed) as caught:
        ledger_filters_parse(params)
    assert field in caught.value.fields
    assert caught.value.fields[field][0]


def test_unknown_type_and_stage_are_refused(ledger):
    leader = ledger.world.users["leader_a"]
    with pytest.raises(ValidationFailed) as caught:
        ledger_queryset(leader, LedgerFilters(type="nope", stage="未知阶段"))
    assert set(caught.value.fields) == {"type", "stage"}


@pytest.mark.parametrize(("params", "field"), [({"page": "0"}, "page"), ({"page_size": "501"}, "page_size")])
def test_bad_paging(params, field):
    with pytest.raises(ValidationFailed) as caught:
        ledger_page_parse(params, default_size=20)
    assert field in caught.value.fields


def test_filters_round_trip_through_the_query_string():
    filters = ledger_filters_parse(
        {"org": "330106", "year": "2026", "overdue": "是", "search": " cyyq ", "ordering": "budget", "x": "1"}
    )
    assert filters.as_query() == {
        "org": "330106",
        "year": "2026",
        "overdue": "true",
        "search": "cyyq",
        "ordering": "budget",
    }
    assert ledger_filters_parse(filters.as_query()) == filters
