"""The approval API, reading: flow definitions and validation, requests becoming approvals, the boxes, the detail
with its timeline and diagram, and the inbox — scoped (404 outside the user's scope)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.models import Project
from workflow import services as wf
from workflow.models import (
    ApprovalTask,
    FlowInstance,
    InstanceStatus,
)

from .conftest import FLOWS
from .helpers import api_error, open_task, submit

pytestmark = pytest.mark.django_db


# ── schema and definitions ──────────────────────────────────────────────────────────────────────────────────────


def test_schema_documents_every_approval_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/project-types/{code}/flows/": "get",
        "/api/v1/flows/validate/": "post",
        "/api/v1/approvals/": "get",
        "/api/v1/approvals/{id}/": "get",
        "/api/v1/approvals/{id}/withdraw/": "post",
        "/api/v1/approvals/{id}/resubmit/": "post",
        "/api/v1/approvals/{id}/urge/": "post",
        "/api/v1/approval-tasks/": "get",
        "/api/v1/approval-tasks/{id}/approve/": "post",
        "/api/v1/approval-tasks/{id}/return/": "post",
        "/api/v1/approval-tasks/{id}/transfer/": "post",
        "/api/v1/approval-tasks/{id}/add-signer/": "post",
        "/api/v1/projects/{id}/changes/": "post",
        "/api/v1/delegations/": "post",
        "/api/v1/delegations/{id}/": "delete",
    }
    for path, method in expected.items():
        assert method in paths.get(path, {}), path
    box = next(p for p in paths["/api/v1/approvals/"]["get"]["parameters"] if p["name"] == "box")
    assert set(box["schema"]["enum"]) == {"todo", "done", "mine", "all"}
    approve = paths["/api/v1/approval-tasks/{id}/approve/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in approve and "application/json" in approve
    assert (
        "/api/v1/projects/{id}/stage/" in paths
    )  # stage moves (202 with an approval) stay in the project API


def test_type_flows_are_listed_parsed_with_a_diagram(flows, api):
    client = api.as_user(flows.clerk)
    body = client.get("/api/v1/project-types/flowtype/flows/").json()
    assert body["type"] == "flowtype" and body["version"] == 1
    assert [f["transition"] for f in body["flows"]] == ["立项审批", "支出审批", "变更审批"]
    lixiang = body["flows"][0]
    assert [s["code"] for s in lixiang["steps"]] == ["ks", "czj", "ld"]
    czj = lixiang["steps"][1]
    assert czj["mode"] == "会签" and czj["sla_days"] == 3 and czj["when"] == "预算 > 1000万"
    assert czj["approvers"] == [{"role": "approver", "org": "同级财政局", "user": ""}]
    assert czj["following"] == "ld" and lixiang["steps"][2]["following"] == ""
    diagram = lixiang["diagram"]
    assert [n["id"] for n in diagram["nodes"]] == ["start", "ks", "czj", "ld", "end"]
    assert {n["state"] for n in diagram["nodes"]} == {"pending"}
    assert {"source": "ks", "target": "ld", "kind": "skip", "label": "不满足：预算 > 1000万"} in diagram[
        "edges"
    ]
    assert diagram["mermaid"].startswith("flowchart TD")
    api_error(client.get("/api/v1/project-types/nosuch/flows/"), 404, "not_found")


def test_type_without_published_version_has_no_flows(flows, api, config_admin):
    from projects import services
    from tests.project_fixtures import TYPE_CONFIG

    services.project_type_create(
        actor=config_admin, org=flows.world.city, code="draftonly", config=TYPE_CONFIG
    )
    client = api.as_user(config_admin)
    api_error(client.get("/api/v1/project-types/draftonly/flows/"), 409, "not_published")


def test_flows_validate_reports_problems_with_paths(flows, api, config_admin):
    client = api.as_user(config_admin)
    ok = client.post("/api/v1/flows/validate/", {"type": "flowtype", "flows": FLOWS}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json() == {"ok": True, "problems": []}

    broken = copy.deepcopy(FLOWS)
    broken[0]["steps"][0]["approvers"] = [{"role": "nosuchrole"}]
    broken[0]["steps"][1]["when"] = "预算 > 未知字段"
    broken[0]["steps"][2]["mode"] = "随便"
    broken[1]["steps"][0]["next"] = "cw"
    broken[1]["steps"][1]["next"] = "ks"  # a loop
    broken[2]["transition"] = "立项审批"  # a second flow for the same transition
    body = client.post("/api/v1/flows/validate/", {"type": "flowtype", "flows": broken}, format="json").json()
    assert body["ok"] is False
    paths = {p["path"] for p in body["problems"]}
    assert {
        "flows[0].steps[0].approvers[0].role",
        "flows[0].steps[1].when",
        "flows[0].steps[2].mode",
        "flows[1].steps",
        "flows[2].transition",
    } <= paths
    when = next(p for p in body["problems"] if p["path"] == "flows[0].steps[1].when")
    assert "未知字段" in when["message"]
    loop = next(p for p in body["problems"] if p["path"] == "flows[1].steps")
    assert "环" in loop["message"]

    shape = client.post("/api/v1/flows/validate/", {"type": "flowtype", "flows": "x"}, format="json")
    assert shape.json()["ok"] is False and shape.json()["problems"][0]["path"].startswith("flows")
    api_error(client.post("/api/v1/flows/validate/", {"flows": []}, format="json"), 400, "validation_failed")
    api_error(
        client.post("/api/v1/flows/validate/", {"type": "nosuch", "flows": []}, format="json"),
        404,
        "not_found",
    )


# ── requests become approvals ───────────────────────────────────────────────────────────────────────────────────


def test_stage_move_starts_an_approval_that_shows_in_every_box(flows, api):
    project = flows.project("3000000.00")
    clerk = api.as_user(flows.clerk)
    moved = clerk.post(f"/api/v1/projects/{project.pk}/stage/", {"to_stage": "执行"}, format="json")
    assert moved.status_code == 202, moved.content
    approval = moved.json()["approval"]
    assert FlowInstance.objects.get(pk=approval).status == InstanceStatus.RUNNING

    mine = clerk.get("/api/v1/approvals/", {"box": "mine"}).json()
    assert [r["id"] for r in mine["results"]] == [approval]
    row = mine["results"][0]
    assert (
        row["status"] == "running"
        and row["current_step"] == "ks"
        and row["current_step_name"] == "住建局审核"
    )
    assert row["project"]["id"] == project.pk and row["applicant"]["username"] == "clerk_a"
    assert row["task"] is None
    assert clerk.get("/api/v1/approvals/").json()["count"] == 0  # the clerk has nothing to do

    ks1 = api.__class__().as_user(flows.ks1)
    todo = ks1.get("/api/v1/approvals/", {"box": "todo"}).json()
    assert [r["id"] for r in todo["results"]] == [approval]
    assert todo["results"][0]["task"]["step"] == "ks" and todo["results"][0]["task"]["status"] == "open"
    task_id = todo["results"][0]["task"]["id"]
    assert ks1.post(f"/api/v1/approval-tasks/{task_id}/approve/", {}, format="json").status_code == 200
    assert ks1.get("/api/v1/approvals/", {"box": "todo"}).json()["count"] == 0
    done = ks1.get("/api/v1/approvals/", {"box": "done"}).json()
    assert [r["task"]["status"] for r in done["results"]] == ["approved"]
    api_error(ks1.get("/api/v1/approvals/", {"box": "nosuch"}), 400, "validation_failed")


def test_approval_list_filters_and_the_all_box_is_scoped(flows, api):
    small = submit(flows, "3000000.00")
    flows.project("20000000.00")
    project = Project.objects.get(pk=small.project_id)
    regulator = api.as_user(flows.world.users["regulator"])
    everything = regulator.get("/api/v1/approvals/", {"box": "all"}).json()
    assert [r["id"] for r in everything["results"]] == [small.pk]
    assert regulator.get("/api/v1/approvals/", {"box": "all", "status": "approved"}).json()["count"] == 0
    assert regulator.get("/api/v1/approvals/", {"box": "all", "transition": "支出审批"}).json()["count"] == 0
    assert regulator.get("/api/v1/approvals/", {"box": "all", "search": project.code}).json()["count"] == 1
    assert regulator.get("/api/v1/approvals/", {"box": "all", "project": project.pk}).json()["count"] == 1
    api_error(regulator.get("/api/v1/approvals/", {"box": "all", "status": "x"}), 400, "validation_failed")
    api_error(regulator.get("/api/v1/approvals/", {"box": "all", "project": "x"}), 400, "validation_failed")
    other_district = api.__class__().as_user(flows.world.users["clerk_b"])
    assert other_district.get("/api/v1/approvals/", {"box": "all"}).json()["count"] == 0
    ks1 = api.__class__().as_user(flows.ks1)
    assert ks1.get("/api/v1/approvals/", {"box": "todo", "transition": "立项审批"}).json()["count"] == 1
    assert ks1.get("/api/v1/approvals/", {"box": "todo", "transition": "支出审批"}).json()["count"] == 0


def test_approval_detail_has_snapshot_tasks_timeline_and_diagram(flows, api):
    instance = submit(flows, "20000000.00")
    wf.task_approve(actor=flows.ks1, task=open_task(instance, "ks1"), comment="同意上报")
    client = api.as_user(flows.clerk)
    body = client.get(f"/api/v1/approvals/{instance.pk}/").json()
    assert body["definition"]["code"] == "lixiang" and body["definition"]["steps"][1]["code"] == "czj"
    assert body["data"]["project"]["budget"] == "20000000.00"  # money as a string
    assert body["current"]["code"] == "czj" and body["current"]["mode"] == "会签"
    assert len(body["current"]["open_tasks"]) == 2
    by_step = {(t["step"], t["assignee"]["username"]): t for t in body["tasks"]}
    assert by_step[("ks", "ks1")]["status"] == "approved" and by_step[("ks", "ks1")]["comment"] == "同意上报"
    assert by_step[("ks", "ks2")]["status"] == "cancelled"
    assert by_step[("czj", "cz1")]["status"] == "open" and by_step[("czj", "cz1")]["due_at"]
    actions = [e["action"] for e in body["timeline"]]
    assert actions[0] == "submit" and "approve" in actions
    approve = next(e for e in body["timeline"] if e["action"] == "approve")
    assert approve["actor"]["username"] == "ks1" and approve["step_name"] == "住建局审核"
    assert approve["note"] == "同意上报" and approve["action_display"] == "同意"
    states = {n["id"]: n["state"] for n in body["diagram"]["nodes"]}
    assert states == {"start": "done", "ks": "done", "czj": "current", "ld": "pending", "end": "pending"}
    czj = next(n for n in body["diagram"]["nodes"] if n["id"] == "czj")
    assert {a["username"] for a in czj["approvers"]} == {"cz1", "cz2"}
    assert "classDef current" in body["diagram"]["mermaid"]
    assert body["allowed"] == {
        "tasks": [],
        "withdraw": False,  # an approver has acted
        "resubmit": False,
        "urge": True,
        "return_to": [],
    }
    cz1 = api.__class__().as_user(flows.cz1)
    allowed = cz1.get(f"/api/v1/approvals/{instance.pk}/").json()["allowed"]
    assert allowed["tasks"] == [open_task(instance, "cz1").pk] and allowed["return_to"] == ["applicant", "ks"]


def test_a_small_project_shows_the_skipped_step(flows, api):
    instance = submit(flows, "3000000.00")
    wf.task_approve(actor=flows.ks1, task=open_task(instance, "ks1"))
    body = api.as_user(flows.ks1).get(f"/api/v1/approvals/{instance.pk}/").json()
    states = {n["id"]: n["state"] for n in body["diagram"]["nodes"]}
    assert states["czj"] == "skipped" and states["ld"] == "current"
    assert any(e["action"] == "skip" and e["step"] == "czj" for e in body["timeline"])


def test_instances_outside_the_scope_are_not_found(flows, api):
    instance = submit(flows)
    outsider = api.as_user(flows.world.users["clerk_b"])
    api_error(outsider.get(f"/api/v1/approvals/{instance.pk}/"), 404, "not_found")
    api_error(outsider.post(f"/api/v1/approvals/{instance.pk}/withdraw/", {}, format="json"), 404)
    api_error(outsider.post(f"/api/v1/approvals/{instance.pk}/urge/", {}, format="json"), 404)
    api_error(outsider.get("/api/v1/approvals/999999/"), 404, "not_found")
    assert outsider.get("/api/v1/approvals/abc/").status_code == 404


# ── the inbox ───────────────────────────────────────────────────────────────────────────────────────────────────


def test_inbox_puts_overdue_first_then_oldest_with_constant_queries(flows, api):
    instances = [submit(flows) for _ in range(4)]
    now = timezone.now()
    tasks = [open_task(i, "ks1") for i in instances]
    plan = [  # (opened days ago, due in days): 1 and 3 are overdue
        (5, 3),
        (1, -1),
        (4, 3),
        (2, -1),
    ]
    for task, (ago, due) in zip(tasks, plan, strict=True):
        ApprovalTask.objects.filter(pk=task.pk).update(
            opened_at=now - timedelta(days=ago), due_at=now + timedelta(days=due)
        )
    client = api.as_user(flows.ks1)
    body = client.get("/api/v1/approval-tasks/").json()
    assert body["count"] == 4
    assert [r["id"] for r in body["results"]] == [tasks[3].pk, tasks[1].pk, tasks[0].pk, tasks[2].pk]
    row = body["results"][0]
    assert row["overdue"] is True and row["approval"] == instances[3].pk and row["step_name"] == "住建局审核"
    assert row["applicant"]["username"] == "clerk_a" and row["project"]["code"]
    assert row["transition"] == "立项审批" and row["delegated_from"] is None and row["added"] is False
    assert [
        r["id"] for r in client.get("/api/v1/approval-tasks/", {"overdue": "true"}).json()["results"]
    ] == [
        tasks[3].pk,
        tasks[1].pk,
    ]
    assert client.get("/api/v1/approval-tasks/", {"overdue": "false"}).json()["count"] == 2
    assert client.get("/api/v1/approval-tasks/", {"project": instances[0].project_id}).json()["count"] == 1
    api_error(client.get("/api/v1/approval-tasks/", {"overdue": "maybe"}), 400, "validation_failed")
    api_error(client.get("/api/v1/approval-tasks/", {"page_size": 0}), 400, "validation_failed")
    paged = client.get("/api/v1/approval-tasks/", {"page_size": 3, "page": 2}).json()
    assert [r["id"] for r in paged["results"]] == [tasks[2].pk]

    counts = []
    for size in (1, 2, 4):
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/approval-tasks/", {"page_size": size}).status_code == 200
        counts.append(len(captured))
    assert len(set(counts)) == 1, counts
    other = api.__class__().as_user(flows.cz1)
    assert other.get("/api/v1/approval-tasks/").json()["count"] == 0
