"""A clerk runs a project end to end in Chromium: 立项 from the type, payment, daily report, stages, 验收, 结项."""

from __future__ import annotations

import pytest

from projects.models import Project
from tests.browser.steps import start_laojiu_initiation, submit_laojiu_initiation

from .conftest import screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_project_lifecycle_in_the_browser(world, project_type, live_server, page):
    _login(page, live_server, "clerk_a")
    start_laojiu_initiation(page, "翠苑三区老旧小区改造", "翠苑三区")
    submit_laojiu_initiation(page)
    assert page.get_by_text("项目已立项").is_visible()
    project = Project.objects.get(name="翠苑三区老旧小区改造")
    assert project.budget == 6800000

    page.get_by_label("凭证号").fill("PZ-2026-001")
    page.get_by_label("收款人").fill("杭州某建设集团有限公司")
    page.locator("#money").get_by_label("金额（元）").last.fill("680000")
    page.get_by_role("button", name="登记", exact=True).first.click()
    page.wait_for_load_state()
    assert page.get_by_text("支出已登记").is_visible()
    assert page.get_by_text("10.00%").first.is_visible()
    screenshot(page, "project-detail")

    page.get_by_role("link", name="每日简报").click()
    page.get_by_label("今日进展").fill("完成 2 幢楼外墙脚手架搭设")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(f"**/projects/{project.pk}/*")
    for stage in ("执行", "验收"):
        page.get_by_role("button", name=f"进入“{stage}”阶段").click()
        page.wait_for_load_state()
    page.get_by_role("button", name="进入“结项”阶段").click()
    assert page.get_by_text("需先提交").first.is_visible()
    page.get_by_role("link", name="验收申请").click()
    page.get_by_label("验收日期").fill("2026-12-20")
    page.get_by_label("验收结论").select_option("合格")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(f"**/projects/{project.pk}/*")
    page.get_by_role("button", name="进入“结项”阶段").click()
    page.wait_for_load_state()
    project.refresh_from_db()
    assert project.stage == "结项"
    screenshot(page, "project-closed")
