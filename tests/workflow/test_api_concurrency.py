"""The approval API under load on PostgreSQL: 200 approvals of 200 distinct tasks at once (20 threads × 10, each
thread with its own connection) all succeed exactly once; a double submit gets one success and one 409."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEvent
from projects.models import Project
from tests.concurrency import race
from workflow import services as wf
from workflow.models import ApprovalTask, FlowEvent, FlowInstance, InstanceStatus, TaskStatus

pytestmark = pytest.mark.django_db(transaction=True)

INSTANCES = 200
THREADS = 20


def _client(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=User.objects.get(username=username))
    return client


def _submitted(flows, count: int) -> list[FlowInstance]:
    """``count`` projects submitted for 立项审批, each with open tasks for ks1 and ks2 (或签).

    The first goes through the services; the rest copy its rows in three bulk inserts (projects, instances,
    tasks) — what the service would have written — so setting up 200 takes a fraction of a second."""
    first = flows.project("3000000.00")
    template = wf.stage_request(actor=flows.clerk, project=first, to_stage="执行")[1]
    base = Project.objects.get(pk=first.pk)
    fields = [f.attname for f in Project._meta.concrete_fields if f.attname != "id"]
    projects = []
    for i in range(count - 1):
        row = Project(**{name: getattr(base, name) for name in fields})
        row.code = f"B{i:04d}-{base.code}"[:32]
        projects.append(row)
    Project.objects.bulk_create(projects)
    now = timezone.now()
    instances = [
        FlowInstance(
            project=p,
            transition=template.transition,
            flow_code=template.flow_code,
            flow_name=template.flow_name,
            definition=template.definition,
            type_version_id=template.type_version_id,
            subject=template.subject,
            title=f"{p.name}：立项审批",
            applicant_id=template.applicant_id,
            org_id=template.org_id,
            current_step=template.current_step,
            data=template.data,
            started_at=now,
        )
        for p in projects
    ]
    FlowInstance.objects.bulk_create(instances)
    open_tasks = list(template.tasks.filter(status=TaskStatus.OPEN))
    ApprovalTask.objects.bulk_create(
        ApprovalTask(
            instance=instance,
            step=t.step,
            step_name=t.step_name,
            round=1,
            seq=t.seq,
            assignee_id=t.assignee_id,
            status=TaskStatus.OPEN,
            opened_at=now,
            due_at=t.due_at,
        )
        for instance in instances
        for t in open_tasks
    )
    return [template, *instances]


def test_200_concurrent_approvals_of_distinct_tasks_all_succeed(flows):
    instances = _submitted(flows, INSTANCES)
    task_ids = list(
        ApprovalTask.objects.filter(assignee=flows.ks1, status=TaskStatus.OPEN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert len(task_ids) == INSTANCES
    share = INSTANCES // THREADS

    def approver(chunk: list[int]) -> list[int]:
        def work() -> list[int]:
            client = _client("ks1")
            statuses = []
            for pk in chunk:
                response = client.post(
                    f"/api/v1/approval-tasks/{pk}/approve/", {"comment": "同意"}, format="json"
                )
                statuses.append(response.status_code)
            return statuses

        return work

    chunks = [task_ids[i * share : (i + 1) * share] for i in range(THREADS)]
    results, errors = race(*[approver(c) for c in chunks])
    assert not errors, errors[:3]
    statuses = [s for r in results for s in r]
    assert len(statuses) == INSTANCES and set(statuses) == {200}

    pks = [i.pk for i in instances]
    assert ApprovalTask.objects.filter(pk__in=task_ids, status=TaskStatus.APPROVED).count() == INSTANCES
    assert (
        ApprovalTask.objects.filter(instance__in=pks, assignee=flows.ks2, status=TaskStatus.OPEN).count() == 0
    )
    # every instance went on to the leader exactly once (the small budget skips the finance step)
    assert (
        ApprovalTask.objects.filter(instance__in=pks, step="ld", status=TaskStatus.OPEN).count() == INSTANCES
    )
    assert (
        FlowInstance.objects.filter(pk__in=pks, current_step="ld", status=InstanceStatus.RUNNING).count()
        == INSTANCES
    )
    assert FlowEvent.objects.filter(instance__in=pks, action="approve").count() == INSTANCES
    audited = AuditEvent.objects.filter(action="approval.approve", object_id__in=[str(pk) for pk in pks])
    assert audited.count() == INSTANCES


def test_a_double_submitted_approval_gets_one_success_and_one_conflict(flows):
    instance = _submitted(flows, 1)[0]
    task = instance.tasks.get(assignee=flows.ks1, status=TaskStatus.OPEN)

    def approve():
        return _client("ks1").post(f"/api/v1/approval-tasks/{task.pk}/approve/", {}, format="json")

    results, errors = race(approve, approve)
    assert not errors
    assert sorted(r.status_code for r in results) == [200, 409]
    conflict = next(r for r in results if r.status_code == 409).json()
    assert conflict["code"] == "task_closed"
    assert FlowEvent.objects.filter(instance=instance, action="approve").count() == 1
    assert AuditEvent.objects.filter(action="approval.approve", object_id=str(instance.pk)).count() == 1


def test_a_double_submitted_stage_move_starts_one_approval(flows):
    project = flows.project("3000000.00")

    def move():
        return _client("clerk_a").post(
            f"/api/v1/projects/{project.pk}/stage/", {"to_stage": "执行"}, format="json"
        )

    results, errors = race(move, move)
    assert not errors
    assert sorted(r.status_code for r in results) == [202, 409]
    assert next(r for r in results if r.status_code == 409).json()["code"] == "approval_running"
    assert FlowInstance.objects.filter(project=project).count() == 1
