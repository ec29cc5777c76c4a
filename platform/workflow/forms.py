"""What the approval pages offer in their forms and how they read what comes back.

The choices here (who may receive a 转办 or 加签, which steps a task may be returned to, which project fields a change
request may touch) mirror what the services accept, so the pages offer only what will work; the services still
decide, and their errors are what the pages show.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.permissions import ancestor_paths
from projects.models.project import Category

from .models import ApprovalTask, FlowInstance, TaskStatus
from .runtime import LIVE, flow_of

MAX_CANDIDATES = 300
# The fields a 变更申请 may change (workflow.services.change_request_submit): form name → label.
CHANGE_FIELDS = {
    "budget": _("预算（元）"),
    "name": _("项目名称"),
    "category": _("项目类别"),
    "description": _("建设内容及规模"),
}


def signer_candidates(instance: FlowInstance, task: ApprovalTask) -> QuerySet[User]:
    """Users who may take over (转办) or join (加签) ``task``: active holders of a role that may approve, granted at
    the project's org or above it (``resolve.qualified``), minus the applicant and the step's current approvers."""
    roles = [r.code for r in Role.objects.all() if "approval.act" in (r.actions or [])]
    busy = instance.tasks.filter(round=task.round, step=task.step, status__in=LIVE).values("assignee_id")
    return (
        User.objects.filter(
            is_active=True,
            grants__role__in=roles,
            grants__org__is_active=True,
            grants__org__path__in=ancestor_paths(instance.project.org.path),
        )
        .exclude(pk=instance.applicant_id)
        .exclude(pk__in=busy)
        .select_related("org")
        .distinct()
        .order_by("org__path", "username")[:MAX_CANDIDATES]
    )


def pick_user(raw: Any) -> User | None:
    """The user a form's select named (None when absent or not a number; the service then reports it)."""
    raw = str(raw or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return None
    return User.objects.filter(pk=int(raw)).first()


@dataclass(frozen=True)
class ReturnTarget:
    code: str
    label: str


def return_targets(instance: FlowInstance, task: ApprovalTask) -> list[ReturnTarget]:
    """Where ``task`` may be returned: the applicant, or a step before it that was already passed."""
    flow = flow_of(instance)
    passed = set(
        instance.tasks.filter(status__in=(TaskStatus.APPROVED, TaskStatus.SKIPPED)).values_list(
            "step", flat=True
        )
    )
    here = flow.index(task.step) if any(s.code == task.step for s in flow.steps) else len(flow.steps)
    targets = [ReturnTarget("applicant", str(_("申请人")))]
    for step in flow.steps[:here]:
        if step.code in passed:
            targets.append(ReturnTarget(step.code, step.name))
    return targets


def _same_amount(current: Any, value: str) -> bool:
    try:
        return current is not None and Decimal(value) == Decimal(str(current))
    except (InvalidOperation, ValueError):
        return False


def category_choices() -> list[tuple[str, str]]:
    return list(Category.choices)


def change_input(post: Any, project: Any) -> dict[str, str]:
    """The fields of a 变更申请 form that differ from the project as it is (blank means "no change")."""
    changes: dict[str, str] = {}
    for key in CHANGE_FIELDS:
        value = str(post.get(key, "") or "").strip()
        if not value:
            continue
        current = getattr(project, key, None)
        if key == "budget":
            value = value.replace(",", "").replace("，", "")
            if _same_amount(current, value):
                continue
        elif str(current if current is not None else "") == value:
            continue
        changes[key] = value
    return changes
