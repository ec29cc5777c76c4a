"""SLA timers: what happens to an approval task left past its 办理时限 (``due_at``, counted in working days).

Celery beat runs :func:`sla_sweep` every few minutes (``workflow.tasks.sla_sweep``). It takes every open task whose
time is up — however long ago: a timer missed while the workers were down fires on the next sweep — and does what the
step's ``on_timeout`` says:

- 提醒: an in-app notification to the approver (催办), once; the task is marked (``timed_out``, ``reminded_at``).
- 升级: the next level takes it up: tasks for the users holding the same role at the parent org of the org the step
  resolved to (the nearest such holders above it; failing them, that org's administrators), through their
  delegations, each recorded as 超时升级 (FlowEvent ESCALATE) and notified. The overdue approver keeps their task;
  whichever of them or the superiors approves first decides: the escalated tasks stand in for the overdue ones of the
  step (see :func:`stand_ins_closed`), so a 会签 or 依次 step does not wait for both.
- 自动通过 / 自动退回: the system approves the task, or returns the request to the applicant, as the approver would
  have; the history shows FlowEvent TIMEOUT “超时自动通过” / “超时自动退回” with no actor (系统).

Each task is handled once (``timed_out``). Each instance is handled in its own transaction with its row locked first
(the order every service locks in), skipping instances another sweep or an approver holds at that moment — they are
picked up by the next sweep — so concurrent sweeps never act twice, and a sweep retried after a lost worker
(``acks_late``) finds only what is still undone.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.services import audit_record
from core.errors import ServiceError
from orgs.models import Org

from . import resolve, runtime
from .definition import Step
from .models import ApprovalTask, FlowEvent, FlowInstance, InstanceStatus, TaskStatus

log = logging.getLogger(__name__)

AUTO_APPROVE = "超时自动通过"
AUTO_RETURN = "超时自动退回"


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0  # overdue tasks taken up by the next level
    approved: int = 0
    returned: int = 0
    # An automatic approval the project refused (the approver is told to act by hand), or an error.
    failed: int = 0
    busy: int = 0  # instances locked by another sweep or an approver at that moment: left for the next sweep

    @property
    def handled(self) -> int:
        return self.reminded + self.escalated + self.approved + self.returned + self.failed

    def as_dict(self) -> dict:
        return {**asdict(self), "handled": self.handled}


def due_tasks(now: datetime | None = None) -> QuerySet[ApprovalTask]:
    """Open tasks of running approvals whose time is up and that no sweep has handled yet."""
    return ApprovalTask.objects.filter(
        status=TaskStatus.OPEN,
        timed_out=False,
        due_at__isnull=False,
        due_at__lte=now or timezone.now(),
        instance__status=InstanceStatus.RUNNING,
    )


def sla_sweep(*, now: datetime | None = None) -> SweepResult:
    """Handle every overdue task (see the module's docstring). Safe to run concurrently and to rerun."""
    now = now or timezone.now()
    plan: dict[int, list[int]] = {}
    for task_id, instance_id in due_tasks(now).order_by("due_at", "id").values_list("id", "instance_id"):
        plan.setdefault(instance_id, []).append(task_id)
    result = SweepResult()
    for instance_id, task_ids in plan.items():
        try:
            outcomes = _sweep_instance(instance_id, task_ids, now)
        except (OperationalError, InterfaceError):
            raise  # the database is gone: let the task retry (what was committed stays done)
        except Exception:
            log.exception("SLA sweep failed on approval %s", instance_id)
            result.failed += 1
            continue
        for outcome in outcomes:  # counted once the instance's transaction committed
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _lock(instance_id: int) -> FlowInstance | None:
    return (
        FlowInstance.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("project__org", "applicant")
        .filter(pk=instance_id)
        .first()
    )


@transaction.atomic
def _sweep_instance(instance_id: int, task_ids: list[int], now: datetime) -> list[str]:
    """Handle the instance's overdue tasks under its lock; what happened to each (SweepResult field names)."""
    instance = _lock(instance_id)
    if instance is None:
        return ["busy"]
    done: list[str] = []
    for task_id in task_ids:
        if instance.status != InstanceStatus.RUNNING:
            break
        task = (
            due_tasks(now)
            .select_related("assignee", "delegated_from")
            .filter(pk=task_id, instance=instance)
            .first()
        )
        if task is None:  # handled meanwhile: approved, cancelled with its step, or by another sweep
            continue
        step = runtime.flow_of(instance).step(task.step)
        try:
            with transaction.atomic():
                outcome = _handle(instance, task, step, now)
        except ServiceError as error:  # e.g. the project refused the stage move an automatic approval implies
            instance = FlowInstance.objects.select_related("project__org", "applicant").get(pk=instance_id)
            task = ApprovalTask.objects.select_related("assignee").get(pk=task_id)
            _failed(instance, task, step, error, now)
            outcome = "failed"
        done.append(outcome)
    return done


def _handle(instance: FlowInstance, task: ApprovalTask, step: Step, now: datetime) -> str:
    action = step.on_timeout
    if action == "自动通过":
        _auto_approve(instance, task, now)
        return "approved"
    if action == "自动退回":
        _auto_return(instance, task, now)
        return "returned"
    if action == "升级":
        return _escalate(instance, task, step, now)
    _remind(instance, task, now)
    return "reminded"


# ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────────────


def _name(user: Any) -> str:
    return user.display_name or user.username


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _notify(user: Any, text: str) -> None:
    from rules.models import Notification

    Notification.objects.create(user=user, text=text[:1000])


def _mark(task: ApprovalTask, now: datetime, **changes: Any) -> None:
    task.timed_out = True
    for key, value in changes.items():
        setattr(task, key, value)
    task.version += 1
    task.save(update_fields=["timed_out", "version", *changes])


def _audit(instance: FlowInstance, action: str, task: ApprovalTask, **after: Any) -> None:
    audit_record(
        actor=None,
        actor_name="system",
        action=f"approval.{action}",
        obj=instance,
        org=instance.project.org,
        after={"status": instance.status, "step": instance.current_step, "task": task.pk, **after},
    )


# ── the four policies ───────────────────────────────────────────────────────────────────────────────────────────


def _remind(instance: FlowInstance, task: ApprovalTask, now: datetime, *, why: str = "") -> None:
    _notify(
        task.assignee,
        f"【超时提醒】{instance.title}：“{task.step_name}”已超过办理时限（{_when(task.due_at)}），请尽快办理",
    )
    _mark(task, now, reminded_at=now)
    note = why or f"超时提醒：{_name(task.assignee)}未在办理时限（{_when(task.due_at)}）前办理，已发送提醒"
    runtime.event(instance, FlowEvent.Action.TIMEOUT, task=task, note=note)
    _audit(instance, "timeout", task, on_timeout="提醒", note=note)


def _close(instance: FlowInstance, task: ApprovalTask, status: str, comment: str, now: datetime) -> None:
    _mark(task, now, status=status, acted_at=now, comment=comment, snapshot=instance.data)


def _auto_approve(instance: FlowInstance, task: ApprovalTask, now: datetime) -> None:
    due = _when(task.due_at)
    _close(instance, task, TaskStatus.APPROVED, f"{AUTO_APPROVE}（办理时限 {due}）", now)
    runtime.event(instance, FlowEvent.Action.TIMEOUT, task=task, note=AUTO_APPROVE)
    _notify(
        task.assignee,
        f"【超时自动通过】{instance.title}：“{task.step_name}”超过办理时限（{due}），系统已自动通过",
    )
    runtime.release(task)
    runtime.settle(instance)
    _audit(instance, "timeout", task, on_timeout="自动通过")


def _auto_return(instance: FlowInstance, task: ApprovalTask, now: datetime) -> None:
    due = _when(task.due_at)
    _close(instance, task, TaskStatus.RETURNED, f"{AUTO_RETURN}（办理时限 {due}）", now)
    runtime.cancel_live(instance, note=AUTO_RETURN)
    instance.status, instance.returned_from = InstanceStatus.RETURNED, task.step
    instance.version += 1
    instance.save(update_fields=["status", "returned_from", "version"])
    runtime.event(instance, FlowEvent.Action.TIMEOUT, task=task, note=AUTO_RETURN)
    _notify(
        instance.applicant,
        f"【超时退回】{instance.title}：“{task.step_name}”超过办理时限（{due}）未办理，已自动退回，可修改后重新提交",
    )
    _audit(instance, "timeout", task, on_timeout="自动退回")


def _failed(
    instance: FlowInstance, task: ApprovalTask, step: Step, error: ServiceError, now: datetime
) -> None:
    log.warning("automatic %s of task %s refused: %s", step.on_timeout, task.pk, error.message)
    why = f"超时{step.on_timeout}未能完成：{error.message}，请{_name(task.assignee)}人工办理"
    _remind(instance, task, now, why=why)


# ── escalation ──────────────────────────────────────────────────────────────────────────────────────────────────


def _matching_bases(instance: FlowInstance, step: Step, holder: Any) -> list[tuple[str, Org]]:
    """(role, org) of the step's approver specs that named ``holder`` — every role spec when none did (a transferred
    or 加签 task, the administrators a roleless step fell back on). A user spec counts as a roleless one at the
    holder's own org, so it escalates to the administrators above."""
    project_org = instance.project.org
    matched: list[tuple[str, Org]] = []
    every: list[tuple[str, Org]] = []
    for spec in step.approvers:
        if spec.user:
            if spec.user == holder.username:
                matched.append(("", holder.org or project_org))
            continue
        org = resolve.target_org(project_org, spec.org)
        if org is None:
            continue
        every.append((spec.role, org))
        if any(u.pk == holder.pk for u in resolve.holders(spec.role, org)):
            matched.append((spec.role, org))
    return matched or every or [("", project_org)]


def _superiors(
    instance: FlowInstance, step: Step, holder: Any, skip: set[int]
) -> tuple[list[Any], Org | None]:
    """Who takes an overdue task up, and at which org: for each matching spec, the holders of its role at the
    parent of its org (climbing while every one found is to be skipped); failing all, the administrators there."""
    found: dict[int, Any] = {}
    where: Org | None = None
    bases = _matching_bases(instance, step, holder)
    for role, org in bases:
        level = Org.objects.get_parent(org)
        while role and level is not None:
            people = [u for u in resolve.holders(role, level) if u.pk not in skip]
            if people:
                for user in people:
                    found.setdefault(user.pk, user)
                where = where or level
                break
            level = Org.objects.get_parent(level)
    if found:
        return list(found.values()), where
    org = bases[0][1]
    above = Org.objects.get_parent(org) or org
    admins = [u for u in resolve.administrators(above) if u.pk not in skip]
    return admins, above


def _escalate(instance: FlowInstance, task: ApprovalTask, step: Step, now: datetime) -> str:
    holder = task.delegated_from or task.assignee
    live = instance.tasks.filter(round=task.round, step=task.step, status__in=runtime.LIVE)
    covered = set()  # who already has this step in hand, themselves or through their delegate
    for assignee_id, origin_id in live.values_list("assignee_id", "delegated_from_id"):
        covered |= {assignee_id, origin_id}
    skip = {instance.applicant_id, holder.pk, task.assignee_id}
    people, org = _superiors(instance, step, holder, skip)
    today = timezone.localdate(now)
    plan = []
    for user in people:
        if user.pk in covered:
            continue
        delegate = resolve.delegate_of(user, today)
        if delegate is not None and delegate.pk in skip:
            delegate = None
        assignee = delegate or user
        if assignee.pk in covered:
            continue
        covered |= {user.pk, assignee.pk}
        plan.append((assignee, user if delegate is not None else None))
    due = _when(task.due_at)
    if not plan:
        if people:
            names = "、".join(_name(u) for u in people)
            why = f"超时未办理，已升级的上级审批人{names}正在办理，已提醒{_name(task.assignee)}"
        else:
            why = f"超时未办理，没有可升级的上级审批人，已提醒{_name(task.assignee)}"
        _remind(instance, task, now, why=why)
        return "reminded"
    _mark(task, now, reminded_at=now)
    level = org.name if org is not None else "上级"
    for assignee, origin in plan:
        new = runtime._task(instance, step, assignee, origin, seq=task.seq, now=now)
        runtime.event(
            instance,
            FlowEvent.Action.ESCALATE,
            task=new,
            note=f"“{step.name}”{_name(task.assignee)}超过办理时限（{due}）未办理，升级至{level}：{_name(assignee)}",
        )
        _notify(assignee, f"【超时升级】{instance.title}：“{step.name}”超过办理时限未办理，已升级由您审批")
    names = "、".join(_name(a) for a, _ in plan)
    _notify(
        task.assignee,
        f"【超时升级】{instance.title}：“{task.step_name}”超过办理时限（{due}），已升级至{level}（{names}）",
    )
    _audit(instance, "escalate", task, on_timeout="升级", to=[a.username for a, _ in plan])
    return "escalated"


def stand_ins_closed(task: ApprovalTask) -> list[ApprovalTask]:
    """After ``task`` was approved, close what its approval settles in an escalated step; the tasks closed.

    Escalated tasks stand in for the overdue tasks of their step: when a superior approves, the overdue tasks (and
    the other superiors') are closed; when an overdue approver approves and no other overdue task of the step is
    left, the superiors' tasks are closed. Steps nobody escalated are untouched.
    """
    if task.status != TaskStatus.APPROVED:
        return []
    escalated = set(
        FlowEvent.objects.filter(
            instance_id=task.instance_id,
            action=FlowEvent.Action.ESCALATE,
            task__round=task.round,
            task__step=task.step,
        ).values_list("task_id", flat=True)
    )
    if not escalated:
        return []
    live = list(
        ApprovalTask.objects.filter(
            instance_id=task.instance_id, round=task.round, step=task.step, status__in=runtime.LIVE
        )
        .exclude(pk=task.pk)
        .select_related("assignee")
    )
    who = _name(task.assignee)
    if task.pk in escalated:
        closing = [t for t in live if t.timed_out or t.pk in escalated]
        note = f"上级审批人{who}已审批"
    elif task.timed_out:
        if any(t.timed_out and t.pk not in escalated for t in live):
            return []
        closing = [t for t in live if t.pk in escalated]
        note = f"{who}已审批，升级的任务不再需要"
    else:
        return []
    if not closing:
        return []
    now = timezone.now()
    for other in closing:
        other.status, other.acted_at, other.comment = TaskStatus.CANCELLED, now, note
        other.version += 1
        other.save(update_fields=["status", "acted_at", "comment", "version"])
    names = "、".join(_name(t.assignee) for t in closing)
    runtime.event(task.instance, FlowEvent.Action.STEP, task=task, note=f"{note}，关闭{names}的任务")
    return closing
