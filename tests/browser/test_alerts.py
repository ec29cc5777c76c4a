"""Alerts in Chromium at phone and desktop widths: an overspending payment raises an explained alert, the clerk
acknowledges and submits 整改 with evidence, the city regulator closes it; an unacknowledged alert is escalated to
the city; a blocking rule stops a payment with its message in the form (and 409 through the API); a regulator tests,
previews and loads a rule pack and reads the policy library."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rules.models import Alert, AlertStatus, RulePack
from rules.services.alerts import alerts_escalate
from tests.rules.rule_fixtures import BLOCK_PAYMENTS, OVERSPEND, laojiu_project, make_pack, pay

from .conftest import SCREENSHOTS, screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVER = {**OVERSPEND, "name": "超预算支出预警", "message": "{项目名称}已支出{已支出:万元}，超出预算{超支率:%}"}
BLOCK = {
    **BLOCK_PAYMENTS,
    "name": "严重超预算暂停支出",
    "message": "超出预算{超支率:%}，暂停登记新的支出，须先报批调整概算",
}


PACK = """\
taizhang_pack: 1
pack:
  code: hz-czj-zijin
  name: 杭州市财政资金支出监管规则
  issuer: 杭州市财政局
  version: "2026.1"
  effective: 2026-01-01
  description: 监测市本级及所辖区县财政资金项目的超预算支出和合同额超预算。
  regulation:
    title: 政府投资条例
    issuer: 国务院
    number: 国务院令第712号
    date: 2019-04-14
    effective: 2019-07-01
    articles:
      第二十二条: 政府投资项目所需资金应当按照国家有关规定确保落实到位。政府投资项目不得由施工单位垫资建设。
      第二十三条: 政府投资项目建设投资原则上不得超过经核定的投资概算。
      第三十四条: 项目单位擅自增加投资概算的，责令改正，根据具体情况，暂停、停止拨付资金或者收回已拨付的资金。
  cites: 第二十三条、第三十四条
indicators:
  - {name: 超支率, expr: "if 预算 > 0 and 已支出 > 预算 then (已支出 - 预算) / 预算 else 0", format: percent}
rules:
  - code: ZJ-01
    name: 超预算支出预警
    when: 超支率 > 5%
    severity: 预警
    message: "{项目名称}已支出{已支出:万元}，超出预算{超支率:%}"
    notify: [staff, regulator]
    article: 第二十三条
  - code: ZJ-02
    name: 合同额超预算
    when: 合同金额 > 预算
    severity: 预警
    message: "{项目名称}合同金额{合同金额:万元}超过预算{预算:万元}"
    notify: [staff, regulator]
    article: 第二十三条
tests:
  - name: 超支6%触发预警
    record: {预算: 100万, 已支出: 106万}
    expect: {ZJ-01: true, ZJ-02: false}
  - name: 合同额超预算
    record: {预算: 200万, 合同: [{金额: 150万, 类别: 施工}, {金额: 80万, 类别: 服务}]}
    expect: {ZJ-02: true}
""".encode()


def _viewport_shot(page, name: str) -> None:
    """What the user sees without scrolling (the full page would be too long to read at phone width)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.viewport_name}.png"))


def _logout(page) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/**")


def test_alert_closed_loop_escalation_blocking_and_packs(
    world, project_type, valid_data, live_server, page, api
):
    make_pack(world.city, [OVER, BLOCK])
    first = laojiu_project(world, project_type, valid_data, budget="1000000.00")
    second = laojiu_project(
        world, project_type, valid_data, budget="2000000.00", 项目名称="西湖区翠苑二区老旧小区改造工程"
    )
    pay(world, second, "2140000.00", "PZ-B1")  # 7 % over: an alert nobody will acknowledge

    # The clerk records a payment that overspends the first project: the alert shows on the project page.
    _login(page, live_server, "clerk_a")
    page.goto(f"{live_server.url}/projects/{first.pk}/")
    form = page.locator("#expenditure-form")
    form.get_by_label("凭证号").fill("PZ-A1")
    form.get_by_label("收款人").fill("杭州某建设集团有限公司")
    form.get_by_label("金额（元）").fill("1080000")
    form.get_by_role("button", name="登记").click()
    page.wait_for_load_state()
    panel = page.locator("#alerts")
    assert "超出预算8.00%" in panel.inner_text()
    assert page.locator(".badge-alerts").inner_text() == "1 条未闭环预警"
    page.evaluate("window.scrollTo(0, 0)")
    _viewport_shot(page, "alerts-project")

    # …and in the inbox, severest and oldest first, with the header badge counting what waits for the clerk.
    page.locator("#alert-badge").click()
    page.wait_for_url("**/alerts/")
    rows = page.locator(".alert-row")
    assert rows.count() == 2
    assert "西湖区翠苑二区" in rows.nth(0).inner_text()  # older
    screenshot(page, "alerts-inbox")

    # The alert page explains why it fired.
    page.get_by_role("link", name="西湖区翠苑一区老旧小区改造工程已支出108.00万元，超出预算8.00%").click()
    page.wait_for_url("**/alerts/*/")
    trace = page.locator(".trace")
    assert "超支率 > 5%" in trace.inner_text() and "0.08" in trace.inner_text()
    assert "test-pack v1" in page.locator(".versions").inner_text()
    screenshot(page, "alerts-alert-open")

    # Acknowledge, then a 整改 with missing fields (errors next to the fields), then a complete one with evidence.
    page.get_by_role("button", name="确认预警").click()
    page.wait_for_load_state()
    assert page.get_by_text("预警已确认").is_visible()
    page.get_by_label("原因分析").fill("二期工程量增加，合同变更未及时调整预算")
    page.get_by_role("button", name="提交整改").click()
    page.wait_for_load_state()
    assert page.locator("#e-action").inner_text() == "整改措施：不能为空"
    assert page.get_by_label("原因分析").input_value() == "二期工程量增加，合同变更未及时调整预算"
    screenshot(page, "alerts-rectify-errors")
    page.get_by_label("整改措施").fill("报批调整概算；调整前暂停非必要支出")
    page.get_by_label("整改期限").fill((timezone.localdate() + timedelta(days=15)).isoformat())
    page.get_by_label("佐证材料").set_input_files(
        files=[{"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 evidence"}]
    )
    page.get_by_role("button", name="提交整改").click()
    page.wait_for_load_state()
    assert page.get_by_text("整改信息已提交，等待核销").is_visible()
    alert = Alert.objects.get(project=first)
    assert alert.status == AlertStatus.RECTIFYING and alert.evidence.name.endswith(".pdf")
    _logout(page)

    # The city regulator, who owns the rule, verifies and closes it.
    _login(page, live_server, "regulator")
    page.goto(f"{live_server.url}/alerts/")
    assert page.locator(".alert-row").count() == 1  # its 待处理: only the rectifying alert
    page.locator(".alert-row a").first.click()
    page.wait_for_url("**/alerts/*/")
    page.get_by_label("核销意见").fill("已核实调整概算批复")
    page.get_by_role("button", name="核销关闭").click()
    page.wait_for_load_state()
    assert page.get_by_text("预警已核销关闭").is_visible()
    assert "已核销" in page.locator(".alert-tags").inner_text()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and alert.closed_by == world.users["regulator"]
    screenshot(page, "alerts-alert-closed")

    page.goto(f"{live_server.url}/alerts/notifications/")
    assert "【整改待核销】" in page.locator(".notes").inner_text()
    screenshot(page, "alerts-notifications")

    # Nobody acknowledged the second project's alert: it goes up to the district, then to the city.
    alerts_escalate(now=timezone.now() + timedelta(days=4))
    alerts_escalate(now=timezone.now() + timedelta(days=8))
    escalated = Alert.objects.get(project=second)
    page.goto(f"{live_server.url}/alerts/{escalated.pk}/")
    responsible = page.locator("#responsible").inner_text()
    assert "杭州市" in responsible and "已升级" in responsible
    screenshot(page, "alerts-escalated")

    # A regulator tests, previews and loads a pack; nothing is written before the confirmation.
    page.goto(f"{live_server.url}/rules/packs/upload/")
    page.get_by_label("规则包文件（.yaml）").set_input_files(
        files=[{"name": "hz-czj-zijin.yaml", "mimeType": "application/x-yaml", "buffer": PACK}]
    )
    page.get_by_role("button", name="测试并预览影响").click()
    page.wait_for_load_state()
    assert "项测试全部通过" in page.locator("#tests").inner_text()
    assert "新增预警 2 个" in page.locator("#preview").inner_text()  # both overspent projects
    assert not RulePack.objects.filter(code="hz-czj-zijin").exists()
    screenshot(page, "alerts-pack-preview")
    page.get_by_role("button", name="确认加载 hz-czj-zijin v2026.1 到杭州市").click()
    page.wait_for_url("**/rules/packs/*/")
    assert page.get_by_text("已加载到杭州市").is_visible()
    screenshot(page, "alerts-pack")
    page.get_by_role("link", name="《政府投资条例》第二十三条").first.click()
    page.wait_for_url("**/rules/regulations/*/#article-*")
    assert page.locator(".article:target").is_visible()
    screenshot(page, "alerts-library")
    _logout(page)

    # A blocking rule stops the next payment: its message is shown inside the expenditure form, and the API says 409.
    _login(page, live_server, "clerk_a")
    page.goto(f"{live_server.url}/projects/{first.pk}/")
    page.locator("summary", has_text="登记支出").click()
    form = page.locator("#expenditure-form")
    form.get_by_label("凭证号").fill("PZ-A2")
    form.get_by_label("收款人").fill("杭州某建设集团有限公司")
    form.get_by_label("金额（元）").fill("50000")
    form.get_by_role("button", name="登记").click()
    page.wait_for_load_state()
    blocked = page.locator(".project-form-error")
    assert "超出预算13.00%，暂停登记新的支出" in blocked.inner_text()
    assert form.get_by_label("凭证号").input_value() == "PZ-A2"  # what was typed is kept
    blocked.scroll_into_view_if_needed()
    _viewport_shot(page, "alerts-blocked")
    response = api.as_user(world.users["clerk_a"]).post(
        f"/api/v1/projects/{first.pk}/expenditures/",
        {"voucher_no": "PZ-A3", "paid_on": "2026-05-02", "payee": "某建设集团", "amount": "50000.00"},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "rule_blocked"
