"""The ledger in Chromium at phone and desktop widths: filtering refreshes the list and the totals in place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from projects import services
from projects.models import Project
from tests.factories import PASSWORD

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def projects(world):
    clerk = world.users["clerk_a"]
    today = timezone.localdate()
    p1, p2 = world.projects_a
    p3 = services.project_create(
        actor=clerk, org=world.bureau_a, name="西湖区古荡街道雨污分流", budget="2500000.00"
    )
    line = services.budget_line_add(
        actor=clerk, project=p1, year=2026, fund_source="中央财政", amount="600000"
    )
    services.expenditure_record(
        actor=clerk,
        project=p1,
        budget_line=line,
        voucher_no="PZ-1",
        paid_on="2026-03-01",
        payee="某公司",
        amount="700000.75",
    )
    Project.objects.filter(pk=p1.pk).update(stage="执行", year=2025, planned_end=today - timedelta(days=5))
    Project.objects.filter(pk=p2.pk).update(stage="结项", year=2026)
    Project.objects.filter(pk=p3.pk).update(stage="执行", year=2026, planned_end=today + timedelta(days=60))
    return p1, p2, p3


def _sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/projects/")
    page.get_by_label("用户名").fill("leader_a")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/projects/")


def test_filtering_updates_list_and_totals_without_reload(projects, live_server, page):
    p1, p2, _p3 = projects
    _sign_in(page, live_server)
    status = page.locator("#ledger-status")
    assert status.inner_text() == "共 3 个项目"
    assert page.get_by_role("heading", name="统一项目台账").is_visible()
    assert page.get_by_role("link", name=p1.name).is_visible()
    assert page.get_by_text("逾期", exact=True).is_visible()
    screenshot(page, "ledger-all")

    page.evaluate("window.__same_document = true")  # survives only if nothing reloads the page
    page.locator("summary", has_text="更多筛选").click()
    page.get_by_label("阶段").select_option("执行")
    page.wait_for_url("**/projects/?stage=*")
    assert status.inner_text() == "共 2 个项目"
    assert page.get_by_role("link", name=p2.name).count() == 0
    assert page.evaluate("window.__same_document") is True
    budget = page.locator(".ledger-totals div", has_text="预算").first.inner_text()
    assert "350.00 万元" in budget
    export = page.get_by_role("link", name="导出 Excel")
    assert "stage=" in export.get_attribute("href")

    page.get_by_label("搜索项目").fill("cyyq")
    page.wait_for_url("**search=cyyq*")
    assert status.inner_text() == "共 1 个项目"
    assert page.get_by_role("link", name=p1.name).is_visible()
    assert "70.00%" in page.locator(".ledger-totals").inner_text()
    screenshot(page, "ledger-filtered")

    page.reload()  # the filtered view is in the URL: a bookmark shows the same
    assert page.locator("#ledger-status").inner_text() == "共 1 个项目"
    assert page.get_by_label("搜索项目").input_value() == "cyyq"


def test_bad_filter_shows_inline_message(projects, live_server, page):
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/?year=abcd")
    alert = page.get_by_role("alert")
    assert "年度：应为" in alert.inner_text()
    screenshot(page, "ledger-error")
