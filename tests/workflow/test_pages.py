"""The approval pages through the Django test client: the inbox's tabs and counts, the header badge, who may see an
approval (404 for strangers), every action through POST with its errors shown next to its form, snapshots,
attachments, the diagrams, the project page's panel and the 变更申请 form."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from projects.models import Project
from workflow import diagram
from workflow import services as wf
from workflow.definition import parse
from workflow.models import ApprovalTask, ChangeRequest, FlowInstance, InstanceStatus, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language():
    """A page asked for in English leaves English active in the thread; later tests expect the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _submit(flows, budget: str = "20000000.00", **changes):
    project = flows.project(budget, **changes)
    project, instance = wf.stage_request(actor=flows.clerk, project=project, to_stage="执行")
    return project, instance


def _task(instance, user) -> ApprovalTask:
    return instance.tasks.get(assignee=user, status=TaskStatus.OPEN)


def _html(response) -> str:
    return response.content.decode()


def _text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", _html(response), flags=re.S)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# The inbox and the header ------------------------------------------------------------------------------------


def test_inbox_tabs_show_todo_done_and_mine_with_counts(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.ks1)
    page = _text(client.get("/approvals/"))
    assert instance.title in page and "住建局审核" in page
    assert re.search(r"待办 1 .*已办 0 .*我发起的 0", page)

    client.post(f"/approvals/{instance.pk}/approve/", {"task": _task(instance, flows.ks1).pk})
    assert "没有待办的审批。" in _text(client.get("/approvals/"))
    done = _text(client.get("/approvals/?box=done"))
    assert instance.title in done and "已同意" in done
    assert re.search(r"待办 0 .*已办 1 ", done)

    client.force_login(flows.clerk)
    mine = _text(client.get("/approvals/?box=mine"))
    assert instance.title in mine and "财政局会签" in mine and "赵处长、钱科长" in mine


def test_todo_puts_overdue_first_then_oldest_and_pages(client, flows):
    _submit(flows, 项目名称="先到的项目")
    _b, second = _submit(flows, 项目名称="超时的项目")
    ApprovalTask.objects.filter(instance=second, assignee=flows.ks1).update(
        due_at=timezone.now() - timedelta(days=2)
    )
    client.force_login(flows.ks1)
    page = _html(client.get("/approvals/"))
    assert page.index("超时的项目") < page.index("先到的项目")
    assert "is-overdue" in page and "已超时" in page
    assert 'class="count overdue"' in page  # the header badge says some are overdue
    assert client.get("/approvals/?page=99&box=nonsense").status_code == 200  # tolerant of bad input


def test_the_inbox_pages(client, flows, monkeypatch):
    from workflow import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for name in ("项目一", "项目二", "项目三"):
        _submit(flows, 项目名称=name)
    client.force_login(flows.ks1)
    first = _html(client.get("/approvals/"))
    assert first.count('class="wf-row') == 2 and 'href="?box=todo&amp;page=2"' in first
    second = _html(client.get("/approvals/?box=todo&page=2"))
    assert second.count('class="wf-row') == 1 and "项目三" in second


def test_inbox_query_count_does_not_grow_with_the_rows(client, flows):
    _submit(flows, 项目名称="项目一")
    client.force_login(flows.ks1)
    with CaptureQueriesContext(connection) as one:
        client.get("/approvals/")
    for name in ("项目二", "项目三", "项目四"):
        _submit(flows, 项目名称=name)
    with CaptureQueriesContext(connection) as four:
        client.get("/approvals/")
    assert len(four) == len(one)


def test_header_badge_counts_open_tasks_on_every_page(client, flows):
    _submit(flows)
    client.force_login(flows.ks2)
    html = _html(client.get("/"))
    badge = re.search(r'<a class="nav-link approval-link".*?</a>', html, flags=re.S).group(0)
    assert 'href="/approvals/"' in badge and '<span class="count">1</span>' in badge
    client.force_login(flows.world.users["clerk_b"])
    badge = re.search(r'<a class="nav-link approval-link".*?</a>', _html(client.get("/")), flags=re.S).group(
        0
    )
    assert "count" not in badge


# Who may see an approval -------------------------------------------------------------------------------------


def test_the_applicant_approvers_and_project_viewers_see_it_strangers_get_404(client, flows):
    _project, instance = _submit(flows)
    url = f"/approvals/{instance.pk}/"
    for user in (flows.clerk, flows.ks1, flows.leader):
        client.force_login(user)
        assert client.get(url).status_code == 200, user.username
    for name in ("clerk_b", "nobody"):
        client.force_login(flows.world.users[name])
        assert client.get(url).status_code == 404, name
        assert client.post(f"{url}withdraw/").status_code == 404
    client.force_login(flows.cz1)  # a 财政局 approver, not yet involved, outside the project's org
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_the_page_shows_data_indicators_diagram_timeline_and_only_allowed_actions(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.ks1)
    html = _html(client.get(f"/approvals/{instance.pk}/"))
    text = _text(client.get(f"/approvals/{instance.pk}/"))
    assert "申请内容" in text and "立项 → 执行" in text and "¥20,000,000.00" in text
    assert "翠苑一区" in text  # the 立项 form's data as submitted
    assert "预算执行率" in text and "未闭环预警" in text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram"' in html
    assert 'data-step="ks"' in html and "d-current" in html and "条件：预算 &gt; 1000万" in html
    assert "审批记录" in text and "提交" in text
    for form in ("f-approve", "f-return", "f-transfer", "f-add-signer"):
        assert f'id="{form}"' in html
    assert 'id="f-withdraw"' not in html and 'id="f-resubmit"' not in html
    assert re.search(r'<option value="\d+">用户\d+ · 西湖区</option>', html)  # the leader may take a transfer

    client.force_login(flows.clerk)
    html = _html(client.get(f"/approvals/{instance.pk}/"))
    assert 'id="f-approve"' not in html and 'id="f-withdraw"' in html and 'id="f-urge"' in html


# Acting ------------------------------------------------------------------------------------------------------


def test_approve_with_comment_and_attachment_then_the_snapshot_and_file_are_viewable(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.ks1)
    task = _task(instance, flows.ks1)
    upload = SimpleUploadedFile("意见.pdf", b"%PDF-1.4 approval", content_type="application/pdf")
    response = client.post(
        f"/approvals/{instance.pk}/approve/",
        {"task": task.pk, "comment": "同意上报", "attachment": upload},
    )
    assert response.status_code == 302 and response["Location"] == "/approvals/"
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED and task.comment == "同意上报" and task.attachment
    instance.refresh_from_db()
    assert instance.current_step == "czj"

    page = _html(client.get(f"/approvals/{instance.pk}/"))
    assert f"/approvals/{instance.pk}/tasks/{task.pk}/attachment/" in page
    download = client.get(f"/approvals/{instance.pk}/tasks/{task.pk}/attachment/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 approval"
    snapshot = client.get(f"/approvals/{instance.pk}/tasks/{task.pk}/")
    assert snapshot.status_code == 200 and "翠苑一区" in _text(snapshot)
    unseen = instance.tasks.filter(status=TaskStatus.OPEN).first()  # nobody has acted on it: nothing seen yet
    assert client.get(f"/approvals/{instance.pk}/tasks/{unseen.pk}/").status_code == 404
    client.force_login(flows.world.users["clerk_b"])
    assert client.get(f"/approvals/{instance.pk}/tasks/{task.pk}/attachment/").status_code == 404


def test_return_without_a_reason_is_refused_next_to_the_form_and_keeps_the_input(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.ks1)
    task = _task(instance, flows.ks1)
    response = client.post(
        f"/approvals/{instance.pk}/return/", {"task": task.pk, "reason": "   ", "to": "applicant"}
    )
    assert response.status_code == 400
    html = _html(response)
    form = html[html.index('id="d-return"') : html.index('id="d-transfer"')]
    assert "open" in form[:40] and "请填写退回理由。" in form and "退回理由：不能为空" in form
    assert 'aria-invalid="true"' in form
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_return_to_the_applicant_and_resubmit_goes_back_to_the_returning_step(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.ks1)
    client.post(f"/approvals/{instance.pk}/approve/", {"task": _task(instance, flows.ks1).pk})
    client.force_login(flows.cz1)
    html = _html(client.get(f"/approvals/{instance.pk}/"))
    assert '<option value="ks">住建局审核</option>' in html  # a passed step is a return target
    response = client.post(
        f"/approvals/{instance.pk}/return/",
        {"task": _task(instance, flows.cz1).pk, "reason": "资金来源说明不完整", "to": "applicant"},
    )
    assert response.status_code == 302
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RETURNED

    client.force_login(flows.clerk)
    text = _text(client.get(f"/approvals/{instance.pk}/"))
    assert "已退回申请人" in text and "资金来源说明不完整" in text and "退回至：申请人" in text
    response = client.post(f"/approvals/{instance.pk}/resubmit/", {"note": "已补充"}, follow=True)
    assert "已重新提交。" in _text(response)
    instance.refresh_from_db()
    assert (
        instance.status == InstanceStatus.RUNNING and instance.current_step == "czj" and instance.round == 2
    )


def test_transfer_to_someone_unqualified_is_refused_and_the_comment_is_kept(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.ks1)
    task = _task(instance, flows.ks1)
    response = client.post(
        f"/approvals/{instance.pk}/transfer/",
        {"task": task.pk, "user": flows.world.users["nobody"].pk, "comment": "出差一周，请代为办理"},
    )
    assert response.status_code == 400
    html = _html(response)
    assert "该用户无权审批此项目。" in html and "只能交给有本项目审批权限的用户" in html
    assert ">出差一周，请代为办理</textarea>" in html

    response = client.post(
        f"/approvals/{instance.pk}/transfer/",
        {"task": task.pk, "user": flows.leader.pk, "comment": "请领导直接审"},
        follow=True,
    )
    assert "已转办给" in _text(response)
    assert instance.tasks.filter(assignee=flows.leader, status=TaskStatus.OPEN, step="ks").exists()


def test_add_signer_before_me(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.ks1)
    task = _task(instance, flows.ks1)
    response = client.post(
        f"/approvals/{instance.pk}/add_signer/",
        {"task": task.pk, "user": flows.leader.pk, "position": "before", "comment": "请先过目"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.WAITING
    assert instance.tasks.get(assignee=flows.leader).added_by == flows.ks1
    client.force_login(flows.ks1)
    text = _text(client.get(f"/approvals/{instance.pk}/"))
    assert "前加签" in text and "请先过目" in text


def test_someone_elses_task_or_a_closed_one_is_refused_at_the_top(client, flows):
    _project, instance = _submit(flows)
    task = _task(instance, flows.ks1)
    client.force_login(flows.clerk)  # the applicant may see the approval, not act on ks1's task
    response = client.post(f"/approvals/{instance.pk}/approve/", {"task": task.pk})
    assert response.status_code == 403 and "只能处理本人的待办任务。" in _text(response)
    client.force_login(flows.ks1)
    client.post(f"/approvals/{instance.pk}/approve/", {"task": task.pk})
    response = client.post(f"/approvals/{instance.pk}/approve/", {"task": task.pk})  # the double click
    assert response.status_code in (403, 409)
    assert 'id="top-error"' in _html(response)
    assert client.post(f"/approvals/{instance.pk}/explode/").status_code == 404
    _other, elsewhere = _submit(flows, 项目名称="另一个项目")
    response = client.post(f"/approvals/{instance.pk}/approve/", {"task": _task(elsewhere, flows.ks1).pk})
    assert response.status_code == 409 and _task(elsewhere, flows.ks1)  # not acted on through another page
    assert client.get(f"/approvals/{instance.pk}/approve/").status_code == 405


def test_withdraw_and_urge_by_the_applicant(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.clerk)
    response = client.post(f"/approvals/{instance.pk}/urge/", follow=True)
    assert "已催办 2 人。" in _text(response)
    response = client.post(f"/approvals/{instance.pk}/urge/")
    assert response.status_code == 409 and "催办过于频繁" in _text(response)
    response = client.post(f"/approvals/{instance.pk}/withdraw/", {"reason": "材料有误"}, follow=True)
    assert "申请已撤回。" in _text(response)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.WITHDRAWN
    client.force_login(flows.ks1)
    assert _text(client.get("/approvals/")).count(instance.title) == 0


# Diagrams ----------------------------------------------------------------------------------------------------


def test_the_diagram_marks_a_skipped_condition_and_who_acted(client, flows):
    _project, instance = _submit(flows, "3000000.00")  # under 1000万: no 财政局
    client.force_login(flows.ks2)
    client.post(f"/approvals/{instance.pk}/approve/", {"task": _task(instance, flows.ks2).pk})
    html = _html(client.get(f"/approvals/{instance.pk}/"))
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'class="d-step d-done" data-step="ks"' in svg
    assert 'class="d-step d-skipped" data-step="czj"' in svg and "条件不成立，已跳过" in svg
    assert 'class="d-step d-current" data-step="ld"' in svg
    assert "李科员 · 同意" in svg and "王科长 · 无需办理" in svg
    assert "自动跳过" in _text(client.get(f"/approvals/{instance.pk}/"))  # the timeline says so too


def test_the_diagram_escapes_everything_it_draws():
    flow = parse(
        {
            "code": "x",
            "name": "<b>流程</b>",
            "transition": "立项审批",
            "steps": [
                {
                    "code": "a",
                    "name": '<script>alert("x")</script>',
                    "when": "预算 > 1 & 2 < 3",
                    "approvers": [{"user": "<img src=x onerror=alert(1)>"}],
                }
            ],
        }
    )
    svg = diagram.flow_svg(
        flow,
        states={"a": diagram.StepState("current", (diagram.Person("</text><script>", "open"),))},
        ident='"><script>',
    )
    assert "<script" not in svg and "<img" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; 2 &lt; 3" in svg
    assert 'aria-labelledby="script-t script-d"' in svg


def test_the_diagram_draws_every_mode_and_a_jump():
    flow = parse(
        {
            "code": "j",
            "name": "跳转",
            "transition": "支出审批",
            "steps": [
                {"code": "a", "name": "甲", "approvers": [{"role": "approver"}], "mode": "依次", "next": "c"},
                {
                    "code": "b",
                    "name": "乙",
                    "approvers": [{"role": "approver"}],
                    "mode": "比例",
                    "ratio": "2/3",
                },
                {
                    "code": "c",
                    "name": "丙",
                    "approvers": [{"role": "leader", "org": "上级单位"}],
                    "sla": "3天",
                },
            ],
        }
    )
    svg = diagram.flow_svg(flow, roles={"approver": "审批人", "leader": "领导"})
    assert svg.count("<g class=") == 3 and "比例 2/3" in svg and "依次" in svg and "上级单位 · 领导" in svg
    assert 'stroke-dasharray="4 3"' in svg and "完成后转到“丙”" in svg  # the jump from 甲 to 丙


def test_the_flow_definition_page(client, flows):
    client.force_login(flows.clerk)
    response = client.get("/approvals/flows/flowtype/lixiang/?v=1")
    text = _text(response)
    assert response.status_code == 200
    assert "住建局审核" in text and "财政局会签" in text and "预算 > 1000万" in text and "3 个工作日" in text
    assert client.get("/approvals/flows/flowtype/nope/").status_code == 404
    assert client.get("/approvals/flows/nope/lixiang/").status_code == 404
    client.force_login(flows.world.users["nobody"])
    assert client.get("/approvals/flows/flowtype/lixiang/").status_code == 404


# The project page --------------------------------------------------------------------------------------------


def test_the_project_page_lists_its_approvals_and_links_the_flows(client, flows):
    project, instance = _submit(flows)
    client.force_login(flows.clerk)
    html = _html(client.get(f"/projects/{project.pk}/"))
    panel = html[html.index('id="approvals"') : html.index("</section>", html.index('id="approvals"'))]
    assert f'href="/approvals/{instance.pk}/"' in panel and "审批中" in panel
    assert 'href="/approvals/flows/flowtype/lixiang/?v=1"' in panel and 'id="f-change"' in panel


def test_a_change_request_from_the_project_page_goes_to_approval(client, flows):
    project = flows.project("3000000.00")
    client.force_login(flows.clerk)
    response = client.post(
        f"/approvals/changes/{project.pk}/", {"budget": "3,600,000", "reason": "增加无障碍坡道"}
    )
    instance = FlowInstance.objects.get(project=project, transition="变更审批")
    assert response.status_code == 302 and response["Location"] == f"/approvals/{instance.pk}/"
    change = ChangeRequest.objects.get(project=project)
    assert change.changes == {"budget": "3600000.00"} and change.status == ChangeRequest.Status.PENDING
    text = _text(client.get(f"/approvals/{instance.pk}/"))
    assert "增加无障碍坡道" in text and "¥3,000,000.00 → ¥3,600,000.00" in text
    assert Project.objects.get(pk=project.pk).budget == 3000000


def test_a_change_request_without_a_reason_comes_back_with_what_was_typed(client, flows):
    project = flows.project("3000000.00")
    client.force_login(flows.clerk)
    response = client.post(f"/approvals/changes/{project.pk}/", {"budget": "3600000", "reason": ""})
    assert response.status_code == 400
    html = _html(response)
    assert "变更申请未通过校验。" in html and "变更理由：不能为空" in html and 'value="3600000"' in html
    response = client.post(f"/approvals/changes/{project.pk}/", {"reason": "没有要变的"})
    assert response.status_code == 400 and "变更内容：不能为空" in _html(response)
    client.force_login(flows.ks1)  # an approver may not ask for changes
    assert client.post(f"/approvals/changes/{project.pk}/", {"reason": "x", "name": "y"}).status_code == 403


# English -----------------------------------------------------------------------------------------------------


def test_the_pages_speak_english(client, flows):
    _project, instance = _submit(flows)
    client.force_login(flows.ks1)
    inbox = _text(client.get("/approvals/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "To do" in inbox and "Done" in inbox and "Submitted by me" in inbox
    page = _text(client.get(f"/approvals/{instance.pk}/", HTTP_ACCEPT_LANGUAGE="en"))
    for text in ("Approve", "Return", "Transfer", "Add a signer", "Flow diagram", "History", "Any one"):
        assert text in page, text
    for text in ("同意", "退回", "转办", "加签", "流程图", "审批记录", "申请内容", "或签", "待办", "本单位"):
        assert text not in page, text


def test_an_approver_on_leave_delegates_from_the_delegation_page(flows, client):
    from datetime import timedelta

    from django.utils import timezone

    from workflow.models import Delegation

    client.force_login(flows.cz1)
    page = client.get("/approvals/delegations/")
    assert page.status_code == 200 and "新增委托" in page.content.decode()
    assert "钱科长" in page.content.decode()  # a colleague who may approve for the same org
    today = timezone.localdate()
    bad = client.post(
        "/approvals/delegations/",
        {
            "delegate": flows.cz2.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert bad.status_code == 400 and "结束日期：不能早于开始日期" in bad.content.decode()
    assert (
        "休假"
        in client.post(
            "/approvals/delegations/",
            {
                "delegate": flows.cz2.pk,
                "starts_on": today.isoformat(),
                "ends_on": (today + timedelta(days=5)).isoformat(),
                "note": "休假",
            },
            follow=True,
        ).content.decode()
    )
    row = Delegation.objects.get(user=flows.cz1)
    assert row.delegate == flows.cz2 and row.active
    client.force_login(flows.cz2)
    assert "委托我代为审批" in client.get("/approvals/delegations/").content.decode()
    client.force_login(flows.cz1)
    client.post(f"/approvals/delegations/{row.pk}/end/")
    row.refresh_from_db()
    assert not row.active
