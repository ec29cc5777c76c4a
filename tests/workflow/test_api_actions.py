"""The approval API, acting: every action on a task and on an instance, change requests and delegations — 403 on
someone else's task, 409 on a closed one, and each an audit event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from projects.models import Project
from tests.factories import UserFactory
from workflow import services as wf
from workflow.models import (
    ApprovalTask,
    ChangeRequest,
    FlowEvent,
    FlowInstance,
    TaskStatus,
)

from .helpers import api_error, audited, open_task, submit

pytestmark = pytest.mark.django_db


# ── acting on tasks ─────────────────────────────────────────────────────────────────────────────────────────────


def test_approve_with_comment_and_attachment_through_multipart(flows, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    instance = submit(flows)
    task = open_task(instance, "ks1")
    client = api.as_user(flows.ks1)
    upload = SimpleUploadedFile("审核意见.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(
        f"/api/v1/approval-tasks/{task.pk}/approve/",
        {"comment": "同意，附审核意见", "attachment": upload},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["task"]["status"] == "approved" and body["task"]["comment"] == "同意，附审核意见"
    assert body["task"]["attachment"] and body["approval"]["current_step"] == "ld"
    event = FlowEvent.objects.get(instance=instance, action="approve")
    assert event.attachment and event.note == "同意，附审核意见"
    assert audited(instance, "approve") == 1
    timeline = client.get(f"/api/v1/approvals/{instance.pk}/").json()["timeline"]
    assert next(e for e in timeline if e["action"] == "approve")["attachment"]


def test_only_my_open_task_in_my_scope(flows, api):
    instance = submit(flows)
    task = open_task(instance, "ks1")
    ks2 = api.as_user(flows.ks2)
    api_error(ks2.post(f"/api/v1/approval-tasks/{task.pk}/approve/", {}, format="json"), 403, "not_your_task")
    applicant = api.__class__().as_user(flows.clerk)
    api_error(
        applicant.post(f"/api/v1/approval-tasks/{task.pk}/approve/", {}, format="json"), 403, "not_your_task"
    )
    outsider = api.__class__().as_user(flows.world.users["clerk_b"])
    for verb, payload in (
        ("approve", {}),
        ("return", {"reason": "x"}),
        ("transfer", {"user": "ks2"}),
        ("add-signer", {"user": "ks2"}),
    ):
        api_error(
            outsider.post(f"/api/v1/approval-tasks/{task.pk}/{verb}/", payload, format="json"),
            404,
            "not_found",
        )
    api_error(outsider.post("/api/v1/approval-tasks/999999/approve/", {}, format="json"), 404, "not_found")

    ks1 = api.__class__().as_user(flows.ks1)
    assert ks1.post(f"/api/v1/approval-tasks/{task.pk}/approve/", {}, format="json").status_code == 200
    api_error(ks1.post(f"/api/v1/approval-tasks/{task.pk}/approve/", {}, format="json"), 409, "task_closed")
    cancelled = instance.tasks.get(assignee=flows.ks2, step="ks")
    assert cancelled.status == TaskStatus.CANCELLED
    api_error(
        ks2.post(f"/api/v1/approval-tasks/{cancelled.pk}/approve/", {}, format="json"), 409, "task_closed"
    )
    assert audited(instance, "approve") == 1


def test_return_to_the_applicant_then_resubmit(flows, api):
    instance = submit(flows, "20000000.00")
    wf.task_approve(actor=flows.ks1, task=open_task(instance, "ks1"))
    cz1 = api.as_user(flows.cz1)
    task = open_task(instance, "cz1")
    body = api_error(
        cz1.post(f"/api/v1/approval-tasks/{task.pk}/return/", {"reason": " "}, format="json"),
        400,
        "validation_failed",
    )
    assert "reason" in body["fields"]
    api_error(
        cz1.post(f"/api/v1/approval-tasks/{task.pk}/return/", {"reason": "x", "to": "ld"}, format="json"),
        400,
        "validation_failed",
    )
    returned = cz1.post(
        f"/api/v1/approval-tasks/{task.pk}/return/", {"reason": "资金来源说明不完整"}, format="json"
    )
    assert returned.status_code == 200, returned.content
    assert returned.json()["approval"]["status"] == "returned"
    assert audited(instance, "return") == 1

    clerk = api.__class__().as_user(flows.clerk)
    detail = clerk.get(f"/api/v1/approvals/{instance.pk}/").json()
    assert detail["allowed"]["resubmit"] is True and detail["allowed"]["withdraw"] is True
    assert {n["id"]: n["state"] for n in detail["diagram"]["nodes"]}["czj"] == "returned"
    api_error(cz1.post(f"/api/v1/approvals/{instance.pk}/resubmit/", {}, format="json"), 403, "not_applicant")
    again = clerk.post(f"/api/v1/approvals/{instance.pk}/resubmit/", {"note": "已补充说明"}, format="json")
    assert again.status_code == 200, again.content
    assert again.json()["status"] == "running" and again.json()["current_step"] == "czj"
    assert again.json()["round"] == 2
    api_error(
        clerk.post(f"/api/v1/approvals/{instance.pk}/resubmit/", {}, format="json"), 409, "invalid_state"
    )
    assert audited(instance, "resubmit") == 1


def test_return_to_a_step_already_passed(flows, api):
    instance = submit(flows, "20000000.00")
    wf.task_approve(actor=flows.ks1, task=open_task(instance, "ks1"))
    task = open_task(instance, "cz2")
    response = api.as_user(flows.cz2).post(
        f"/api/v1/approval-tasks/{task.pk}/return/", {"reason": "请复核投资估算", "to": "ks"}, format="json"
    )
    assert response.status_code == 200, response.content
    instance.refresh_from_db()
    assert instance.current_step == "ks" and instance.round == 2
    assert set(instance.tasks.filter(status="open").values_list("assignee__username", flat=True)) == {
        "ks1",
        "ks2",
    }


def test_transfer_and_add_signer(flows, api):
    instance = submit(flows)
    ks3 = UserFactory(username="ks3", display_name="张科员", org=flows.world.bureau_a, roles=("approver",))
    ks1 = api.as_user(flows.ks1)
    task = open_task(instance, "ks1")
    api_error(
        ks1.post(f"/api/v1/approval-tasks/{task.pk}/transfer/", {"user": "ks2"}, format="json"),
        400,
        "validation_failed",
    )  # already an approver of this step
    api_error(
        ks1.post(f"/api/v1/approval-tasks/{task.pk}/transfer/", {"user": "clerk_a"}, format="json"), 400
    )  # the applicant
    api_error(
        ks1.post(f"/api/v1/approval-tasks/{task.pk}/transfer/", {"user": "nosuchuser"}, format="json"), 400
    )
    moved = ks1.post(
        f"/api/v1/approval-tasks/{task.pk}/transfer/",
        {"user": "ks3", "comment": "请张科员办理"},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    new_task = moved.json()["task"]
    assert new_task["assignee"]["username"] == "ks3" and new_task["status"] == "open"
    assert ApprovalTask.objects.get(pk=task.pk).status == TaskStatus.TRANSFERRED
    assert audited(instance, "transfer") == 1

    ks3_client = api.__class__().as_user(ks3)
    api_error(
        ks3_client.post(
            f"/api/v1/approval-tasks/{new_task['id']}/add-signer/",
            {"user": "ks1", "position": "sideways"},
            format="json",
        ),
        400,
        "validation_failed",
    )
    added = ks3_client.post(
        f"/api/v1/approval-tasks/{new_task['id']}/add-signer/",
        {"user": "ks1", "position": "before", "comment": "请王科长先看"},
        format="json",
    )
    assert added.status_code == 200, added.content
    assert (
        added.json()["task"]["assignee"]["username"] == "ks1"
        and added.json()["task"]["added_by"]["username"] == "ks3"
    )
    assert ApprovalTask.objects.get(pk=new_task["id"]).status == TaskStatus.WAITING
    api_error(
        ks3_client.post(f"/api/v1/approval-tasks/{new_task['id']}/approve/", {}, format="json"),
        409,
        "task_closed",
    )  # waiting for the signer added before
    assert audited(instance, "add_signer") == 1
    inbox = ks1.get("/api/v1/approval-tasks/").json()["results"]
    assert [r["added"] for r in inbox] == [True]


def test_withdraw_and_urge(flows, api):
    instance = submit(flows)
    clerk = api.as_user(flows.clerk)
    ks1 = api.__class__().as_user(flows.ks1)
    api_error(ks1.post(f"/api/v1/approvals/{instance.pk}/urge/", {}, format="json"), 403, "not_applicant")
    urged = clerk.post(f"/api/v1/approvals/{instance.pk}/urge/", {}, format="json")
    assert urged.status_code == 200, urged.content
    assert urged.json()["reminded"] == 2 and urged.json()["approval"]["id"] == instance.pk
    api_error(clerk.post(f"/api/v1/approvals/{instance.pk}/urge/", {}, format="json"), 409, "rate_limited")
    assert audited(instance, "urge") == 1

    api_error(ks1.post(f"/api/v1/approvals/{instance.pk}/withdraw/", {}, format="json"), 403, "not_applicant")
    withdrawn = clerk.post(
        f"/api/v1/approvals/{instance.pk}/withdraw/", {"reason": "材料有误"}, format="json"
    )
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["status"] == "withdrawn"
    assert audited(instance, "withdraw") == 1
    api_error(
        clerk.post(f"/api/v1/approvals/{instance.pk}/withdraw/", {}, format="json"), 409, "invalid_state"
    )
    detail = clerk.get(f"/api/v1/approvals/{instance.pk}/").json()
    assert {n["id"]: n["state"] for n in detail["diagram"]["nodes"]}["ks"] == "cancelled"
    assert ks1.get("/api/v1/approval-tasks/").json()["count"] == 0

    acted = submit(flows)
    wf.task_approve(actor=flows.ks1, task=open_task(acted, "ks1"))
    api_error(clerk.post(f"/api/v1/approvals/{acted.pk}/withdraw/", {}, format="json"), 409, "already_acted")


def test_a_whole_approval_through_the_api_moves_the_project(flows, api):
    instance = submit(flows)
    ks2 = api.as_user(flows.ks2)
    assert (
        ks2.post(
            f"/api/v1/approval-tasks/{open_task(instance, 'ks2').pk}/approve/", {}, format="json"
        ).status_code
        == 200
    )
    leader = api.__class__().as_user(flows.leader)
    (row,) = leader.get("/api/v1/approval-tasks/").json()["results"]
    done = leader.post(f"/api/v1/approval-tasks/{row['id']}/approve/", {"comment": "同意立项"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["approval"]["status"] == "approved"
    assert Project.objects.get(pk=instance.project_id).stage == "执行"
    detail = leader.get(f"/api/v1/approvals/{instance.pk}/").json()
    assert detail["timeline"][-1]["action"] == "finish" and detail["current"] is None
    assert {n["id"]: n["state"] for n in detail["diagram"]["nodes"]}["end"] == "done"
    assert audited(instance, "approve") == 2 and audited(instance, "submit") == 1


# ── change requests and expenditures ────────────────────────────────────────────────────────────────────────────


def test_change_request_waits_for_its_approval(flows, api):
    project = flows.project("3000000.00")
    clerk = api.as_user(flows.clerk)
    api_error(
        clerk.post(
            f"/api/v1/projects/{project.pk}/changes/",
            {"changes": {"budget": "3500000.00"}, "reason": ""},
            format="json",
        ),
        400,
        "validation_failed",
    )
    api_error(
        clerk.post(
            f"/api/v1/projects/{project.pk}/changes/",
            {"changes": {"stage": "结项"}, "reason": "x"},
            format="json",
        ),
        400,
        "validation_failed",
    )
    response = clerk.post(
        f"/api/v1/projects/{project.pk}/changes/",
        {"changes": {"budget": "3500000.00"}, "reason": "增加加装电梯"},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["changes"] == {"budget": "3500000.00"} and body["approval"]
    instance = FlowInstance.objects.get(pk=body["approval"])
    assert instance.transition == "变更审批" and audited(instance, "submit") == 1
    listed = clerk.get(f"/api/v1/projects/{project.pk}/changes/").json()
    assert [c["approval"] for c in listed] == [instance.pk]

    first = instance.tasks.get(status=TaskStatus.OPEN)  # 依次: one approver at a time
    wf.task_approve(actor=first.assignee, task=first)
    second = instance.tasks.get(status=TaskStatus.OPEN)
    wf.task_approve(actor=second.assignee, task=second)
    assert ChangeRequest.objects.get(pk=body["id"]).status == ChangeRequest.Status.APPLIED
    assert str(Project.objects.get(pk=project.pk).budget) == "3500000.00"

    outsider = api.__class__().as_user(flows.world.users["clerk_b"])
    api_error(
        outsider.post(
            f"/api/v1/projects/{project.pk}/changes/",
            {"changes": {"name": "x"}, "reason": "x"},
            format="json",
        ),
        404,
    )
    approver = api.__class__().as_user(flows.ks1)
    api_error(
        approver.post(
            f"/api/v1/projects/{project.pk}/changes/",
            {"changes": {"name": "x"}, "reason": "x"},
            format="json",
        ),
        403,
    )


def test_a_change_without_a_flow_applies_at_once(world, api, project_type, valid_data):
    from projects import services

    project = services.project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=valid_data
    )
    response = api.as_user(world.users["clerk_a"]).post(
        f"/api/v1/projects/{project.pk}/changes/",
        {"changes": {"name": "新名称"}, "reason": "更正"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "applied" and response.json()["approval"] is None


def test_an_expenditure_under_approval_is_in_the_approvers_inbox(flows, api):
    project = flows.project("3000000.00")
    clerk = api.as_user(flows.clerk)
    spent = clerk.post(
        f"/api/v1/projects/{project.pk}/expenditures/",
        {"voucher_no": "PZ-1", "paid_on": "2026-04-01", "payee": "某建设集团", "amount": "120000.00"},
        format="json",
    )
    assert spent.status_code == 201, spent.content
    (row,) = api.__class__().as_user(flows.ks1).get("/api/v1/approval-tasks/").json()["results"]
    assert row["transition"] == "支出审批" and row["subject"]["amount"] == "120000.00"


# ── delegations ─────────────────────────────────────────────────────────────────────────────────────────────────


def test_delegations_are_created_listed_and_cancelled(flows, api):
    pytest.importorskip("workflow.delegation")
    client = api.as_user(flows.ks1)
    today = timezone.localdate()
    created = client.post(
        "/api/v1/delegations/",
        {
            "delegate": "ks2",
            "starts_on": str(today),
            "ends_on": str(today + timedelta(days=7)),
            "note": "休假",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["user"]["username"] == "ks1" and body["delegate"]["username"] == "ks2" and body["active"]
    assert [d["id"] for d in client.get("/api/v1/delegations/").json()["results"]] == [body["id"]]
    ks2 = api.__class__().as_user(flows.ks2)
    assert [d["id"] for d in ks2.get("/api/v1/delegations/").json()["results"]] == [body["id"]]
    instance = submit(flows)
    assert instance.tasks.get(assignee=flows.ks2, delegated_from=flows.ks1).status == TaskStatus.OPEN
    audit = AuditEvent.objects.filter(action__startswith="delegation.").values_list("action", flat=True)
    assert list(audit)

    api_error(
        client.post(
            "/api/v1/delegations/",
            {"delegate": "ks2", "starts_on": str(today), "ends_on": str(today - timedelta(days=1))},
            format="json",
        ),
        400,
    )
    api_error(
        client.post("/api/v1/delegations/", {"delegate": "ks2"}, format="json"), 400, "validation_failed"
    )
    outsider = api.__class__().as_user(flows.world.users["clerk_b"])
    api_error(outsider.delete(f"/api/v1/delegations/{body['id']}/"), 404, "not_found")
    assert client.delete(f"/api/v1/delegations/{body['id']}/").status_code == 204
    assert client.get("/api/v1/delegations/").json()["results"][0]["active"] is False
