"""Small helpers the approval tests share: submit a project for 立项审批, find an open task, count audit events, read
an API error body."""

from __future__ import annotations

from typing import Any

from audit.models import AuditEvent
from workflow import services as wf
from workflow.models import ApprovalTask, FlowInstance, TaskStatus


def submit(flows: Any, budget: str = "3000000.00") -> FlowInstance:
    """A new project of the ``flows`` fixture's type, submitted for 立项审批 by the clerk."""
    project = flows.project(budget)
    return wf.stage_request(actor=flows.clerk, project=project, to_stage="执行")[1]


def open_task(instance: FlowInstance, username: str) -> ApprovalTask:
    return instance.tasks.get(assignee__username=username, status=TaskStatus.OPEN)


def audited(instance: FlowInstance, action: str) -> int:
    return AuditEvent.objects.filter(action=f"approval.{action}", object_id=str(instance.pk)).count()


def api_error(response: Any, status: int, code: str | None = None) -> dict:
    """The ``{code, message, fields}`` body of an API error, after checking its status (and code)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    if code:
        assert body["code"] == code, body
    return body
