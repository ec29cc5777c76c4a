"""The approval state machine. Every function here runs with the instance row locked by its caller (a service).

A step starts by resolving its approvers (minus the applicant, through delegations), then opens tasks by mode:
或签/会签/比例 open them all at once, 依次 opens the first and chains the others with ``blocked_by``. Nobody to ask
follows the flow's policy (转管理员 or 自动通过); an approver who just approved the previous step is skipped
(自动跳过). When a step is complete the next applicable step (its ``when`` holds) starts; after the last one the
instance is approved and its outcome applied to the project.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

import dsl

from . import calendar, outcomes, resolve
from .definition import FLOW_FIELDS, Flow, Step, parse
from .models import ApprovalTask, FlowEvent, FlowInstance, InstanceStatus, TaskStatus

LIVE = (TaskStatus.OPEN, TaskStatus.WAITING)


def flow_of(instance: FlowInstance) -> Flow:
    return parse(instance.definition)


def event(
    instance: FlowInstance,
    action: str,
    *,
    actor: Any = None,
    task: Any = None,
    note: str = "",
    step: str = "",
    attachment: str = "",
) -> FlowEvent:
    return FlowEvent.objects.create(
        instance=instance,
        task=task,
        action=action,
        actor=actor,
        note=note[:4000],
        step=step or (task.step if task is not None else instance.current_step),
        attachment=attachment,
        at=timezone.now(),
    )


def applies(instance: FlowInstance, step: Step) -> bool:
    """Does ``step``'s condition hold for the project and the request as they are now?"""
    if not step.when:
        return True
    from rules.context import context_for, project_record

    project = instance.project
    ctx = context_for(project.type_version, project.form_version if project.form_version_id else None)
    checked = dsl.check(step.when, ctx.catalogue.extend(FLOW_FIELDS), expect=dsl.BOOL)
    today = timezone.localdate()
    record = project_record(project, ctx, today=today, needs=ctx.base_reads(checked.reads))
    record["申请金额"] = _amount(instance)
    return dsl.compile(checked).evaluate(record, today=today) is True


def _amount(instance: FlowInstance) -> Any:
    from decimal import Decimal

    value = (instance.subject or {}).get("amount")
    return Decimal(str(value)) if value not in (None, "") else None


def first_step(instance: FlowInstance) -> str:
    flow = flow_of(instance)
    return next_applicable(instance, flow, flow.steps[0].code, include=True)


def next_applicable(instance: FlowInstance, flow: Flow, code: str, *, include: bool = False) -> str:
    """The first step from ``code`` (itself when ``include``) whose condition holds; "" when none is left."""
    current = code if include else flow.following(code)
    while current:
        step = flow.step(current)
        if applies(instance, step):
            return current
        event(
            instance, FlowEvent.Action.SKIP, step=current, note=f"条件“{step.when}”不成立，跳过“{step.name}”"
        )
        current = flow.following(current)
    return ""


def enter(instance: FlowInstance, code: str, *, now: datetime | None = None) -> None:
    """Start step ``code`` (or approve the instance when ``code`` is "")."""
    now = now or timezone.now()
    if not code:
        finish(instance)
        return
    flow = flow_of(instance)
    step = flow.step(code)
    instance.current_step = code
    instance.save(update_fields=["current_step"])
    event(instance, FlowEvent.Action.STEP, step=code, note=f"进入“{step.name}”（{step.mode}）")
    people = _people(instance, flow, step)
    if not people:
        return
    previous = _previous_approvers(instance, code)
    tasks = []
    for seq, (user, delegated_from) in enumerate(people):
        tasks.append(
            _task(instance, step, user, delegated_from, seq=seq if step.mode == "依次" else 0, now=now)
        )
    if step.mode == "依次":
        for before, after in itertools.pairwise(tasks):
            after.status, after.blocked_by, after.opened_at, after.due_at = (
                TaskStatus.WAITING,
                before,
                None,
                None,
            )
            after.save(update_fields=["status", "blocked_by", "opened_at", "due_at"])
    for task in tasks:
        if flow.skip_repeated and task.assignee_id in previous and task.status == TaskStatus.OPEN:
            _skip(instance, task)
    settle(instance)


def _people(instance: FlowInstance, flow: Flow, step: Step) -> list[tuple[Any, Any]]:
    """(assignee, delegated_from) for the step: resolved, applicant removed, delegated; policy when nobody is left."""
    users = resolve.approvers(step.approvers, instance.project.org)
    if any(u.id == instance.applicant_id for u in users):
        users = [u for u in users if u.id != instance.applicant_id]
        event(
            instance, FlowEvent.Action.STEP, step=step.code, note="申请人不能审批本人的申请，已从审批人中排除"
        )
    if not users:
        users = _no_approver(instance, flow, step)
        if not users:
            return []
    today = timezone.localdate()
    out = []
    for user in users:
        delegate = resolve.delegate_of(user, today)
        out.append((delegate, user) if delegate is not None else (user, None))
    return out


def _no_approver(instance: FlowInstance, flow: Flow, step: Step) -> list[Any]:
    if flow.no_approver == "转管理员":
        admins = [u for u in resolve.administrators(instance.project.org) if u.id != instance.applicant_id]
        if admins:
            names = "、".join(u.display_name or u.username for u in admins)
            event(
                instance,
                FlowEvent.Action.NO_APPROVER,
                step=step.code,
                note=f"“{step.name}”无人担任审批角色，转交管理员：{names}",
            )
            return admins
    event(
        instance,
        FlowEvent.Action.NO_APPROVER,
        step=step.code,
        note=f"“{step.name}”无人担任审批角色，按流程设置自动通过",
    )
    enter(instance, next_applicable(instance, flow, step.code))
    return []


def _task(
    instance: FlowInstance,
    step: Step,
    user: Any,
    delegated_from: Any,
    *,
    seq: int,
    now: datetime,
    added_by: Any = None,
    blocked_by: Any = None,
) -> ApprovalTask:
    opened = blocked_by is None
    task = ApprovalTask.objects.create(
        instance=instance,
        step=step.code,
        step_name=step.name,
        round=instance.round,
        seq=seq,
        assignee=user,
        delegated_from=delegated_from,
        added_by=added_by,
        blocked_by=blocked_by,
        status=TaskStatus.OPEN if opened else TaskStatus.WAITING,
        opened_at=now if opened else None,
        due_at=_due(step, now) if opened else None,
    )
    if delegated_from is not None:
        name = delegated_from.display_name or delegated_from.username
        event(
            instance,
            FlowEvent.Action.STEP,
            task=task,
            note=f"{name}委托{user.display_name or user.username}代为审批",
        )
    return task


def _due(step: Step, now: datetime) -> datetime | None:
    return calendar.add_working_days(now, step.sla_days) if step.sla_days else None


def open_task(task: ApprovalTask, *, now: datetime | None = None) -> None:
    """A waiting task's turn has come: open it (with the assignee's delegate, when one is in force today) and start
    its SLA clock."""
    now = now or timezone.now()
    instance = task.instance
    step = flow_of(instance).step(task.step)
    delegate = resolve.delegate_of(task.assignee, timezone.localdate())
    if delegate is not None and delegate.pk != instance.applicant_id:
        holder = task.assignee
        task.delegated_from = task.delegated_from or holder
        task.assignee = delegate
        event(
            instance,
            FlowEvent.Action.STEP,
            task=task,
            note=f"{holder.display_name or holder.username}委托{delegate.display_name or delegate.username}代为审批",
        )
    task.status, task.opened_at, task.due_at = TaskStatus.OPEN, now, _due(step, now)
    task.version += 1
    task.save(update_fields=["status", "opened_at", "due_at", "assignee", "delegated_from", "version"])


def _previous_approvers(instance: FlowInstance, code: str) -> set[int]:
    """Who approved the step completed just before ``code`` in this round (for 自动跳过)."""
    last = (
        instance.tasks.filter(round=instance.round, status=TaskStatus.APPROVED)
        .exclude(step=code)
        .order_by("-acted_at", "-id")
        .first()
    )
    if last is None:
        return set()
    from .timers import AUTO_APPROVE

    automatic = FlowEvent.objects.filter(
        instance=instance, action=FlowEvent.Action.TIMEOUT, note=AUTO_APPROVE, task__isnull=False
    ).values("task_id")  # approved by the system on timeout: the person never saw it
    return set(
        instance.tasks.filter(round=instance.round, step=last.step, status=TaskStatus.APPROVED)
        .exclude(pk__in=automatic)
        .values_list("assignee_id", flat=True)
    )


def _skip(instance: FlowInstance, task: ApprovalTask) -> None:
    task.status, task.acted_at, task.comment = (
        TaskStatus.SKIPPED,
        timezone.now(),
        "同一审批人连续审批，自动跳过",
    )
    task.snapshot = instance.data
    task.version += 1
    task.save(update_fields=["status", "acted_at", "comment", "snapshot", "version"])
    event(
        instance,
        FlowEvent.Action.SKIP,
        task=task,
        note=f"{task.assignee.display_name or task.assignee.username}已审批上一步，本步自动跳过",
    )
    release(task)


def release(task: ApprovalTask) -> None:
    """Open the tasks that were waiting for ``task`` (the next approver of a 依次 step, the one who 加签 before) —
    and, in a step escalated on timeout, for the overdue or stand-in tasks its approval closed (``timers``)."""
    from .timers import stand_ins_closed

    for done in (task, *stand_ins_closed(task)):
        for waiting in ApprovalTask.objects.filter(blocked_by=done, status=TaskStatus.WAITING):
            open_task(waiting)


def step_complete(instance: FlowInstance, step: Step) -> bool:
    tasks = list(instance.tasks.filter(round=instance.round, step=step.code))
    done = [t for t in tasks if t.status in (TaskStatus.APPROVED, TaskStatus.SKIPPED)]
    live = [t for t in tasks if t.status in LIVE]
    if any(t.added_by_id for t in live):  # 加签: an added approver must always approve
        return False
    if step.mode == "或签":
        return bool(done)
    if step.mode == "比例":
        counted = [t for t in tasks if t.status not in (TaskStatus.TRANSFERRED, TaskStatus.CANCELLED)]
        return bool(counted) and len(done) >= step.ratio * len(counted)
    return not live  # 会签 and 依次: everyone has approved


def settle(instance: FlowInstance) -> None:
    """If the current step is complete, close its remaining tasks and go on to the next applicable step."""
    if instance.status != InstanceStatus.RUNNING or not instance.current_step:
        return
    flow = flow_of(instance)
    step = flow.step(instance.current_step)
    if not step_complete(instance, step):
        return
    cancel_live(instance, note="本步骤已完成")
    enter(instance, next_applicable(instance, flow, step.code))


def cancel_live(instance: FlowInstance, *, note: str) -> None:
    instance.tasks.filter(status__in=LIVE).update(
        status=TaskStatus.CANCELLED, comment=note, acted_at=timezone.now()
    )


def finish(instance: FlowInstance) -> None:
    instance.status, instance.current_step, instance.finished_at = InstanceStatus.APPROVED, "", timezone.now()
    instance.save(update_fields=["status", "current_step", "finished_at"])
    event(instance, FlowEvent.Action.FINISH, note="审批通过")
    outcomes.approved(instance)
