"""Issue #7's acceptance in Chromium, on a phone and on a desktop: a 立项审批 for a project over 1000万 is submitted
from the project page, returned by 住建局 to the applicant with a reason, resubmitted straight back to 住建局,
approved there, countersigned (会签) by both 财政局 approvers and approved by the leader; the project moves on and
the approval's timeline shows every step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.workflow import conftest as workflow_fixtures
from workflow import services as wf
from workflow.models import ApprovalTask, FlowInstance, InstanceStatus, TaskStatus

from .conftest import SCREENSHOTS, screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
flows = workflow_fixtures.flows  # the approval world of the service tests, a fixture here too


def _as(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    _login(page, live_server, username)


def _approve(page, live_server, username: str, title: str, comment: str = "") -> None:
    """``username`` opens the approval from the header's 审批 link and approves it."""
    _as(page, live_server, username)
    badge = page.locator("#approval-badge")
    assert badge.locator(".count").inner_text().strip() != "0"
    badge.click()
    page.wait_for_url("**/approvals/")
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url("**/approvals/*/")
    if comment:
        page.get_by_label("审批意见").fill(comment)
    page.locator("#f-approve").get_by_role("button", name="同意").click()
    page.wait_for_url("**/approvals/")
    assert page.get_by_text(f"已同意：{title}").is_visible()


def _other_work(flows) -> None:
    """Two more requests in 住建局's inbox, one of them overdue, so the inbox shows what a real one looks like."""
    other = flows.project("3000000.00", 项目名称="西湖区文一路人行道改造")
    wf.change_request_submit(
        actor=flows.clerk, project=other, changes={"budget": "3600000"}, reason="增加无障碍坡道"
    )
    late = flows.project("5000000.00", 项目名称="西湖区古荡新村雨污分流")
    _late, instance = wf.stage_request(actor=flows.clerk, project=late, to_stage="执行")
    ApprovalTask.objects.filter(instance=instance, status=TaskStatus.OPEN).update(
        opened_at=timezone.now() - timedelta(days=4), due_at=timezone.now() - timedelta(days=1)
    )


def test_lixiang_approval_returned_resubmitted_countersigned_and_approved(flows, live_server, page):
    project = flows.project("20000000.00", 项目名称="西湖区翠苑一区老旧小区改造工程")
    _other_work(flows)

    # The applicant submits the 立项审批 from the project page.
    _as(page, live_server, "clerk_a")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_role("button", name="进入“执行”阶段").click()
    page.wait_for_load_state()
    assert page.get_by_text("已提交审批，审批通过后进入下一阶段。").is_visible()
    instance = FlowInstance.objects.get(project=project)
    title = instance.title
    panel = page.locator("#approvals")
    assert panel.get_by_role("link", name=title).is_visible()
    assert panel.get_by_text("待 王科长、李科员 办理").is_visible()

    # 住建局 returns it to the applicant with a reason.
    _as(page, live_server, "ks1")
    assert page.locator("#approval-badge .count").inner_text().strip() == "3"
    page.locator("#approval-badge").click()
    page.wait_for_url("**/approvals/")
    rows = page.locator(".wf-row")
    assert rows.count() == 3
    assert "古荡新村" in rows.first.inner_text()  # the overdue one first
    assert rows.first.get_by_text("已超时").is_visible()
    screenshot(page, "approvals-inbox")
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(f"**/approvals/{instance.pk}/")
    assert page.locator(".flow-diagram").is_visible()
    assert page.get_by_role("heading", name="办理：住建局审核").is_visible()
    screenshot(page, "approvals-acting")
    page.locator("#d-return summary").click()
    page.get_by_label("退回至").select_option("applicant")
    page.locator("#f-return").get_by_role("button", name="退回").click()
    assert page.evaluate("document.querySelector('#return-reason').validity.valueMissing")  # reason required
    page.get_by_label("退回理由").fill("请补充资金来源说明")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    page.locator("#act").screenshot(path=str(SCREENSHOTS / f"approvals-return-{page.viewport_name}.png"))
    page.locator("#f-return").get_by_role("button", name="退回").click()
    page.wait_for_url("**/approvals/")
    assert page.get_by_text(f"已退回：{title}").is_visible()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RETURNED

    # The applicant sees why and resubmits.
    _as(page, live_server, "clerk_a")
    page.goto(f"{live_server.url}/approvals/?box=mine")
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(f"**/approvals/{instance.pk}/")
    assert page.locator("#instance-status").inner_text() == "已退回申请人"
    assert page.locator(".wf-timeline").get_by_text("请补充资金来源说明").is_visible()
    page.locator("#resubmit-note").fill("已补充资金来源说明")
    page.get_by_role("button", name="重新提交").click()
    page.wait_for_url(f"**/approvals/{instance.pk}/")
    assert page.get_by_text("已重新提交。").is_visible()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING and instance.current_step == "ks"  # straight back

    # 住建局 approves; both 财政局 approvers countersign; the leader approves.
    _approve(page, live_server, "ks1", title, "资金来源已补充，同意上报")
    instance.refresh_from_db()
    assert instance.current_step == "czj"
    _approve(page, live_server, "cz1", title)
    instance.refresh_from_db()
    assert instance.current_step == "czj"  # 会签: still waiting for the second
    _approve(page, live_server, "cz2", title, "同意")
    instance.refresh_from_db()
    assert instance.current_step == "ld"
    _approve(page, live_server, "leader_a", title, "同意立项")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.APPROVED

    # The project page shows the new stage; the approval's timeline shows every step.
    _as(page, live_server, "clerk_a")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    assert page.locator(".stages li.current").inner_text() == "执行"
    page.locator("#approvals").get_by_role("link", name=title).click()
    page.wait_for_url(f"**/approvals/{instance.pk}/")
    timeline = page.locator(".wf-timeline")
    text = timeline.inner_text()
    for expected in (
        "提交",
        "退回至：申请人",
        "请补充资金来源说明",
        "重新提交",
        "已补充资金来源说明",
        "资金来源已补充，同意上报",
        "财政局会签",
        "同意立项",
        "审批通过",
    ):
        assert expected in text, expected
    assert timeline.locator(".wf-ev-approved").count() == 5  # ks1, cz1, cz2, leader, and the finish
    assert page.locator(".flow-diagram .d-done").count() == 3
    screenshot(page, "approvals-approved")

    page.get_by_role("link", name="查看流程定义").click()
    page.wait_for_url("**/approvals/flows/flowtype/lixiang/*")
    assert page.get_by_text("预算 > 1000万").first.is_visible()
    screenshot(page, "approvals-flow")

    # The same approval in English.
    page.goto(f"{live_server.url}/approvals/{instance.pk}/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="History").is_visible()
    assert page.locator(".wf-timeline").get_by_text("Returned to: Applicant").is_visible()
    screenshot(page, "approvals-approved-en")
