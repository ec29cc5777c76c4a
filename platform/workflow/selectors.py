"""Reading approvals: the approver's inbox (待办, 已办), the applicant's requests (我发起的), one instance.

Every list is one query for the page plus a constant number of related loads, whatever the page size: the inbox
joins the instance and project and orders on the indexed (assignee, status, opened_at).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from accounts import permissions
from core.errors import NotFound

from .models import ApprovalTask, FlowInstance, TaskStatus

DONE = (TaskStatus.APPROVED, TaskStatus.RETURNED, TaskStatus.TRANSFERRED)
BOXES = ("todo", "done", "mine")


def todo(user: Any) -> QuerySet[ApprovalTask]:
    """待办: my open tasks, overdue first, then oldest first."""
    now = timezone.now()
    return (
        ApprovalTask.objects.filter(assignee=user, status=TaskStatus.OPEN)
        .select_related("instance", "instance__project", "instance__applicant", "delegated_from")
        .annotate(
            overdue=Case(When(due_at__lt=now, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("overdue", "opened_at", "id")
    )


def done(user: Any) -> QuerySet[ApprovalTask]:
    """已办: tasks I acted on, newest first."""
    return (
        ApprovalTask.objects.filter(assignee=user, status__in=DONE)
        .select_related("instance", "instance__project", "instance__applicant")
        .order_by(F("acted_at").desc(nulls_last=True), "-id")
    )


def mine(user: Any) -> QuerySet[FlowInstance]:
    """我发起的: requests I submitted, newest first."""
    return (
        FlowInstance.objects.filter(applicant=user).select_related("project").order_by("-started_at", "-id")
    )


def counts(user: Any) -> dict[str, int]:
    """The header's badge: open tasks (and how many are overdue)."""
    if not getattr(user, "is_authenticated", False):
        return {"todo": 0, "overdue": 0}
    return ApprovalTask.objects.filter(assignee=user, status=TaskStatus.OPEN).aggregate(
        todo=Count("id"), overdue=Count("id", filter=Q(due_at__lt=timezone.now()))
    )


def instance_get(*, user: Any, pk: int) -> FlowInstance:
    """One instance, for its applicant, its approvers, or whoever may view the project (404 otherwise)."""
    instance = (
        FlowInstance.objects.select_related("project", "project__org", "applicant", "type_version")
        .filter(pk=pk)
        .first()
    )
    if instance is None:
        raise NotFound("审批不存在。")
    involved = instance.applicant_id == user.pk or instance.tasks.filter(assignee=user).exists()
    if not involved and not permissions.can(user, "project.view", instance.project):
        raise NotFound("审批不存在。")
    return instance
