"""Approval operations: one function per action, each permission → validate → write → audit, under the instance lock.

Applicants submit (a stage move, an expenditure, a change), withdraw until an approver acts, resubmit after a
return and urge (催办, rate-limited). Approvers act only on their own open task: 同意, 退回 (to the applicant or a step
already passed, with a reason), 转办 (to another qualified user), 加签 (before or after themselves).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions
from audit.services import audit_record
from core.errors import Conflict, PermissionDenied, ValidationFailed

from . import outcomes, resolve, runtime
from .definition import flow_for
from .models import ApprovalTask, ChangeRequest, FlowEvent, FlowInstance, InstanceStatus, TaskStatus

URGE_EVERY = timedelta(minutes=30)
_MAX_ATTACHMENT = 20 * 1024 * 1024


def _lock(instance: FlowInstance | int) -> FlowInstance:
    pk = instance if isinstance(instance, int) else instance.pk
    return FlowInstance.objects.select_for_update().select_related("project__org", "applicant").get(pk=pk)


def _audit(actor: Any, action: str, instance: FlowInstance, **after: Any) -> None:
    audit_record(
        actor=actor,
        action=f"approval.{action}",
        obj=instance,
        org=instance.project.org,
        after={"status": instance.status, "step": instance.current_step, **after},
    )


def _my_open_task(actor: Any, task: ApprovalTask | int) -> tuple[FlowInstance, ApprovalTask]:
    """Lock the task's instance, then re-read the task: it must be the actor's own and still open."""
    pk = task if isinstance(task, int) else task.pk
    instance_id = ApprovalTask.objects.filter(pk=pk).values_list("instance_id", flat=True).first()
    if instance_id is None:
        raise Conflict("审批任务不存在。", code="task_missing")
    instance = _lock(instance_id)
    fresh = ApprovalTask.objects.select_related("assignee").get(pk=pk)
    if actor is None or fresh.assignee_id != actor.pk:
        raise PermissionDenied("只能处理本人的待办任务。", code="not_your_task")
    if fresh.status != TaskStatus.OPEN or instance.status != InstanceStatus.RUNNING:
        raise Conflict(f"该任务当前状态为“{fresh.get_status_display()}”，不能再处理。", code="task_closed")
    return instance, fresh


def _attachment(task: ApprovalTask, upload: Any) -> str:
    if upload is None:
        return ""
    if getattr(upload, "size", 0) > _MAX_ATTACHMENT:
        raise ValidationFailed("附件过大。", fields={"attachment": ["附件：不能超过 20MB"]})
    task.attachment.save(upload.name, upload, save=False)
    return task.attachment.name


def _close_task(
    task: ApprovalTask, status: str, comment: str, instance: FlowInstance, attachment: str = ""
) -> None:
    task.status, task.acted_at, task.comment, task.snapshot = (
        status,
        timezone.now(),
        comment[:4000],
        instance.data,
    )
    task.version += 1
    fields = ["status", "acted_at", "comment", "snapshot", "version"]
    if attachment:
        fields.append("attachment")
    task.save(update_fields=fields)


# ── applicants ───────────────────────────────────────────────────────────────────────────────────────────────────


def flow_start(
    *, actor: Any, project: Any, transition: str, subject: dict, title: str
) -> FlowInstance | None:
    """Start the type's flow for ``transition`` (None when the type has none). Call inside the request's transaction."""
    if project.type_version_id is None:
        return None
    effective = project.type_version.effective
    raw = next((f for f in effective.get("flows") or [] if f.get("transition") == transition), None)
    if raw is None:
        return None
    if actor is None:
        raise ValidationFailed("审批需要由具体的申请人发起。", fields={"actor": ["申请人：不能为空"]})
    active = FlowInstance.objects.filter(
        project=project,
        transition=transition,
        subject=subject,
        status__in=(InstanceStatus.RUNNING, InstanceStatus.RETURNED),
    )
    if active.exists():
        raise Conflict("该事项已在审批中。", code="approval_running")
    try:
        with transaction.atomic():
            instance = FlowInstance.objects.create(
                project=project,
                transition=transition,
                flow_code=raw["code"],
                flow_name=raw.get("name") or raw["code"],
                definition=raw,
                type_version=project.type_version,
                subject=subject,
                title=title[:300],
                applicant=actor,
                org=project.org,
                data=_snapshot(project, subject),
                started_at=timezone.now(),
            )
    except IntegrityError:  # a concurrent submission of the same request won the partial unique index
        raise Conflict("该事项已在审批中。", code="approval_running") from None
    runtime.event(instance, FlowEvent.Action.SUBMIT, actor=actor, note=title)
    runtime.enter(instance, runtime.first_step(instance))
    _audit(actor, "submit", instance, transition=transition, subject=subject)
    return instance


def _snapshot(project: Any, subject: dict) -> dict:
    return {
        "project": {
            "code": project.code,
            "name": project.name,
            "stage": project.stage,
            "budget": str(project.budget),
            "spent_total": str(project.spent_total),
        },
        "data": project.data,
        "subject": subject,
    }


def needs_approval(project: Any, to_stage: str) -> str:
    """The transition (立项审批/验收审批) governing a move to ``to_stage``, when the type has a flow for it; else ""."""
    from projects.services import project_stages

    if project.type_version_id is None:
        return ""
    codes = [s["code"] for s in project_stages(project)]
    effective = project.type_version.effective
    if project.stage == codes[0] and flow_for(effective, "立项审批"):
        return "立项审批"
    if to_stage == codes[-1] and flow_for(effective, "验收审批"):
        return "验收审批"
    return ""


@transaction.atomic
def stage_request(
    *, actor: Any, project: Any, to_stage: str, note: str = ""
) -> tuple[Any, FlowInstance | None]:
    """Move the project on, or — where the type requires approval for this move — submit it for approval."""
    from projects.services import project_stage_move

    transition = needs_approval(project, to_stage)
    if not transition:
        return project_stage_move(actor=actor, project=project, to_stage=to_stage, note=note), None
    permissions.check(actor, "project.edit", project)
    instance = flow_start(
        actor=actor,
        project=project,
        transition=transition,
        subject={"stage": to_stage},
        title=f"{project.name}：{transition}（{project.stage} → {to_stage}）",
    )
    return project, instance


@transaction.atomic
def change_request_submit(*, actor: Any, project: Any, changes: dict, reason: str) -> ChangeRequest:
    """Ask for a change (budget, name, description); it takes effect when 变更审批 approves it (at once without one)."""
    from projects.services import project_update
    from projects.services.lifecycle import project_fields_check

    permissions.check(actor, "project.edit", project)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = ["变更理由：不能为空"]
    allowed = {"name", "budget", "description", "category"}
    for key in sorted(set(changes) - allowed):
        errors[key] = ["此字段不能通过变更申请修改"]
    if not changes:
        errors["changes"] = ["变更内容：不能为空"]
    checked = project_fields_check({k: v for k, v in changes.items() if k in allowed}, instance=project)
    errors.update(checked["errors"])
    if errors:
        raise ValidationFailed("变更申请未通过校验。", fields=errors)
    clean = {k: str(v) for k, v in checked["clean"].items()}
    _preflight_change(project, checked["clean"])
    change = ChangeRequest.objects.create(
        project=project, changes=clean, reason=reason.strip()[:4000], requested_by=actor
    )
    amount = clean.get("budget")
    instance = flow_start(
        actor=actor,
        project=project,
        transition="变更审批",
        subject={"change": change.pk, "amount": amount},
        title=f"{project.name}：变更审批（{reason.strip()[:40]}）",
    )
    if instance is None:
        project_update(actor=actor, project=project, **checked["clean"])
        change.status, change.applied_at = ChangeRequest.Status.APPLIED, timezone.now()
        change.save(update_fields=["status", "applied_at"])
    return change


def _preflight_change(project: Any, changes: dict) -> None:
    """A change a blocking rule would refuse is refused when it is asked for, not after its approval."""
    import copy

    from rules import engine

    after = copy.copy(project)
    for key, value in changes.items():
        setattr(after, key, value)
    engine.preflight(after, operation="项目修改", touched=engine.names_of_columns(changes))


def change_apply(*, change_id: int, approval: FlowInstance) -> ChangeRequest:
    """变更审批 approved: the change takes effect through the project service (rules and audit included)."""
    from projects.services import project_update

    change = ChangeRequest.objects.select_for_update().get(pk=change_id)
    if change.status != ChangeRequest.Status.PENDING:
        return change
    project_update(actor=None, project=change.project, **change.changes)
    change.status, change.applied_at = ChangeRequest.Status.APPLIED, timezone.now()
    change.save(update_fields=["status", "applied_at"])
    return change


def _acted(instance: FlowInstance) -> bool:
    human = (TaskStatus.APPROVED, TaskStatus.RETURNED, TaskStatus.TRANSFERRED)
    return instance.tasks.filter(round=instance.round, status__in=human).exists()


@transaction.atomic
def instance_withdraw(*, actor: Any, instance: FlowInstance, reason: str = "") -> FlowInstance:
    """The applicant takes the request back, as long as no approver has acted on it yet."""
    instance = _lock(instance)
    if actor is None or instance.applicant_id != actor.pk:
        raise PermissionDenied("只有申请人可以撤回。", code="not_applicant")
    if not instance.is_active:
        raise Conflict(f"审批已{instance.get_status_display()}，不能撤回。", code="invalid_state")
    if instance.status == InstanceStatus.RUNNING and _acted(instance):
        raise Conflict("审批人已经处理，不能撤回；如需修改请联系审批人退回。", code="already_acted")
    runtime.cancel_live(instance, note="申请人已撤回")
    instance.status, instance.finished_at = InstanceStatus.WITHDRAWN, timezone.now()
    instance.version += 1
    instance.save(update_fields=["status", "finished_at", "version"])
    runtime.event(instance, FlowEvent.Action.WITHDRAW, actor=actor, note=reason or "申请人撤回")
    outcomes.withdrawn(instance)
    _audit(actor, "withdraw", instance, reason=reason)
    return instance


@transaction.atomic
def instance_resubmit(*, actor: Any, instance: FlowInstance, note: str = "") -> FlowInstance:
    """After a return to the applicant: submit again, straight back to the step that returned it where configured."""
    instance = _lock(instance)
    if actor is None or instance.applicant_id != actor.pk:
        raise PermissionDenied("只有申请人可以重新提交。", code="not_applicant")
    if instance.status != InstanceStatus.RETURNED:
        raise Conflict("只有被退回的申请可以重新提交。", code="invalid_state")
    flow = runtime.flow_of(instance)
    instance.status, instance.round = InstanceStatus.RUNNING, instance.round + 1
    instance.data = _snapshot(instance.project, instance.subject)
    instance.version += 1
    instance.save(update_fields=["status", "round", "data", "version"])
    runtime.event(instance, FlowEvent.Action.RESUBMIT, actor=actor, note=note or "重新提交")
    target = instance.returned_from if flow.resume_at_returner and instance.returned_from else ""
    runtime.enter(instance, target or runtime.first_step(instance))
    _audit(actor, "resubmit", instance, note=note)
    return instance


@transaction.atomic
def instance_urge(*, actor: Any, instance: FlowInstance) -> int:
    """催办: remind the current approvers (at most once every 30 minutes per task)."""
    from rules.models import Notification

    instance = _lock(instance)
    if actor is None or instance.applicant_id != actor.pk:
        raise PermissionDenied("只有申请人可以催办。", code="not_applicant")
    now = timezone.now()
    tasks = list(instance.tasks.filter(status=TaskStatus.OPEN).select_related("assignee"))
    due = [t for t in tasks if t.reminded_at is None or now - t.reminded_at >= URGE_EVERY]
    if tasks and not due:
        raise Conflict("催办过于频繁，请 30 分钟后再试。", code="rate_limited")
    for task in due:
        Notification.objects.create(
            user=task.assignee, text=f"【催办】{instance.title}：请尽快办理“{task.step_name}”"
        )
        task.reminded_at = now
        task.save(update_fields=["reminded_at"])
    runtime.event(instance, FlowEvent.Action.URGE, actor=actor, note=f"催办 {len(due)} 人")
    _audit(actor, "urge", instance, reminded=len(due))
    return len(due)


# ── approvers ────────────────────────────────────────────────────────────────────────────────────────────────────


@transaction.atomic
def task_approve(
    *, actor: Any, task: ApprovalTask | int, comment: str = "", attachment: Any = None
) -> ApprovalTask:
    """同意: the step goes on when its mode is satisfied; the last step approves the request."""
    instance, task = _my_open_task(actor, task)
    name = _attachment(task, attachment)
    _close_task(task, TaskStatus.APPROVED, comment, instance, name)
    runtime.event(
        instance, FlowEvent.Action.APPROVE, actor=actor, task=task, note=comment or "同意", attachment=name
    )
    runtime.release(task)
    runtime.settle(instance)
    _audit(actor, "approve", instance, task=task.pk, comment=comment)
    return task


def _returnable(instance: FlowInstance, to: str) -> bool:
    """A step already passed in this flow: some task of it was approved (in any round)."""
    return instance.tasks.filter(step=to, status__in=(TaskStatus.APPROVED, TaskStatus.SKIPPED)).exists()


@transaction.atomic
def task_return(
    *, actor: Any, task: ApprovalTask | int, reason: str, to: str = "applicant", attachment: Any = None
) -> ApprovalTask:
    """退回 (reason required): to the applicant, or to a step already passed, which then acts again."""
    if not (reason or "").strip():
        raise ValidationFailed("请填写退回理由。", fields={"reason": ["退回理由：不能为空"]})
    instance, task = _my_open_task(actor, task)
    if to != "applicant" and not _returnable(instance, to):
        raise ValidationFailed("只能退回给申请人或已经办理过的步骤。", fields={"to": [f"步骤“{to}”尚未办理"]})
    name = _attachment(task, attachment)
    _close_task(task, TaskStatus.RETURNED, reason.strip(), instance, name)
    runtime.cancel_live(instance, note="已被退回")
    instance.returned_from = task.step
    target = "申请人" if to == "applicant" else runtime.flow_of(instance).step(to).name
    runtime.event(
        instance,
        FlowEvent.Action.RETURN,
        actor=actor,
        task=task,
        note=f"退回{target}：{reason.strip()}",
        attachment=name,
    )
    if to == "applicant":
        instance.status = InstanceStatus.RETURNED
        instance.version += 1
        instance.save(update_fields=["status", "returned_from", "version"])
    else:
        instance.round += 1
        instance.version += 1
        instance.save(update_fields=["returned_from", "round", "version"])
        runtime.enter(instance, to)
    _audit(actor, "return", instance, task=task.pk, to=to, reason=reason)
    return task


@transaction.atomic
def task_transfer(*, actor: Any, task: ApprovalTask | int, to_user: Any, comment: str = "") -> ApprovalTask:
    """转办: hand one's own open task to another user qualified to approve for the project's org."""
    instance, task = _my_open_task(actor, task)
    _check_candidate(instance, to_user, task)
    _close_task(task, TaskStatus.TRANSFERRED, comment or "转办", instance)
    new = ApprovalTask.objects.create(
        instance=instance,
        step=task.step,
        step_name=task.step_name,
        round=task.round,
        seq=task.seq,
        assignee=to_user,
        status=TaskStatus.OPEN,
        opened_at=timezone.now(),
        due_at=task.due_at,
        added_by=task.added_by,
    )
    ApprovalTask.objects.filter(blocked_by=task).update(blocked_by=new)
    runtime.event(
        instance,
        FlowEvent.Action.TRANSFER,
        actor=actor,
        task=new,
        note=f"转办给{to_user.display_name or to_user.username}：{comment}",
    )
    _audit(actor, "transfer", instance, task=task.pk, to=to_user.username)
    return new


def _check_candidate(instance: FlowInstance, user: Any, task: ApprovalTask) -> None:
    if user is None or not resolve.qualified(user, instance.project.org):
        raise ValidationFailed("该用户无权审批此项目。", fields={"user": ["只能交给有本项目审批权限的用户"]})
    if user.pk == instance.applicant_id:
        raise ValidationFailed("申请人不能审批本人的申请。", fields={"user": ["不能交给申请人"]})
    if instance.tasks.filter(
        round=task.round, step=task.step, assignee=user, status__in=runtime.LIVE
    ).exists():
        raise ValidationFailed("该用户已在本步骤的审批人中。", fields={"user": ["已是本步骤审批人"]})


@transaction.atomic
def task_add_signer(
    *, actor: Any, task: ApprovalTask | int, user: Any, position: str = "after", comment: str = ""
) -> ApprovalTask:
    """加签: ``before`` — ``user`` approves first, then the task comes back; ``after`` — ``user`` approves after me."""
    if position not in ("before", "after"):
        raise ValidationFailed(
            "加签位置不正确。", fields={"position": ["必须是 before（前加签）或 after（后加签）"]}
        )
    instance, task = _my_open_task(actor, task)
    _check_candidate(instance, user, task)
    now = timezone.now()
    step = runtime.flow_of(instance).step(task.step)
    if position == "before":
        added = runtime._task(instance, step, user, None, seq=task.seq, now=now, added_by=actor)
        task.status, task.blocked_by, task.opened_at = TaskStatus.WAITING, added, None
        task.version += 1
        task.save(update_fields=["status", "blocked_by", "opened_at", "version"])
    else:
        added = runtime._task(
            instance, step, user, None, seq=task.seq + 1, now=now, added_by=actor, blocked_by=task
        )
    where = "前" if position == "before" else "后"
    runtime.event(
        instance,
        FlowEvent.Action.ADD_SIGNER,
        actor=actor,
        task=added,
        note=f"{where}加签{user.display_name or user.username}：{comment}",
    )
    _audit(actor, "add_signer", instance, task=task.pk, user=user.username, position=position)
    return added
