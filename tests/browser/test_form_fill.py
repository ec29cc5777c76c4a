"""Staff fill the generated 立项申请 form on a phone: live conditional field, live total, inline errors, submit."""

from __future__ import annotations

import pytest

from forms.models import Submission
from tests.factories import PASSWORD

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_fill_generated_form_on_phone(world, published_form, live_server, page):
    _login(page, live_server, "clerk_a")
    page.goto(f"{live_server.url}/forms/")
    page.get_by_role("link", name="老旧小区改造项目立项申请").click()
    page.wait_for_url("**/fill/")

    lift_count = page.locator('[data-path="加装电梯数量"]')
    assert lift_count.is_hidden()
    page.get_by_label("项目名称").fill("西湖区翠苑一区老旧小区改造工程")
    page.get_by_label("建设单位统一社会信用代码").fill("913301005000000003")
    page.get_by_label("小区名称").fill("翠苑一区")
    page.get_by_label("改造户数").fill("1460")
    page.get_by_label("项目总投资").fill("1280")
    page.get_by_label("联系人").fill("陈静")
    page.get_by_label("联系电话").fill("13800138000")
    page.get_by_label("是", exact=True).check()
    lift_count.wait_for(state="visible")
    page.get_by_label("加装电梯数量（部）").fill("6")

    for source, amount in (("中央补助", "8000000"), ("市县配套", "4800000")):
        page.get_by_role("button", name="＋ 添加一行").click()
        page.wait_for_load_state()
        rows = page.locator(".group-row")
        last = rows.nth(rows.count() - 1)
        last.get_by_label("来源").select_option(source)
        last.get_by_label("金额").fill(amount)
    total = page.locator('[data-computed="资金合计"]')
    page.wait_for_function(
        "document.querySelector('[data-computed=\"资金合计\"]').textContent.includes('12,800,000')"
    )
    assert "12,800,000.00" in total.inner_text()
    screenshot(page, "form-filled")

    page.get_by_role("button", name="提交").click()
    error = page.locator('[data-path="建设单位信用代码"] .field-error')
    error.wait_for()
    assert "统一社会信用代码" in error.inner_text()
    assert Submission.objects.count() == 0
    screenshot(page, "form-error")

    page.get_by_label("建设单位统一社会信用代码").fill("913301005000000002")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/submissions/*/")
    assert page.get_by_text("已提交。").is_visible()
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.data["项目总投资"] == "12800000.00"
    assert submission.data["加装电梯数量"] == 6
    screenshot(page, "form-submitted")
