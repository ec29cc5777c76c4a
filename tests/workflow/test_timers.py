"""SLA timers: 提醒, 升级 (to the parent org's approvers, else its administrators), 自动通过 and 自动退回 on timeout, a
timer missed while workers were down, idempotence (a second sweep does nothing), concurrent sweeps, and the Celery
task in eager mode."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import ValidationFailed
from projects.models import Project
from rules.models import Notification
from workflow import services as wf
from workflow import timers
from workflow.models import ApprovalTask, FlowEvent, FlowInstance, InstanceStatus, TaskStatus

from .helpers import submit

pytestmark = pytest.mark.django_db


def _open(instance) -> dict[str, ApprovalTask]:
    return {
        t.assignee.username: t
        for t in instance.tasks.filter(status=TaskStatus.OPEN).select_related("assignee")
    }


def _submit(flows, budget="20000000.00"):
    return submit(flows, budget)  # a big project: its flow includes the 财政局会签


def _overdue(instance, *, days: int = 1, step: str | None = None) -> None:
    rows = instance.tasks.filter(status=TaskStatus.OPEN)
    if step:
        rows = rows.filter(step=step)
    rows.update(due_at=timezone.now() - timedelta(days=days))


def _policy(instance, step: str, on_timeout: str, sla: str = "2工作日") -> None:
    """Set a step's timeout policy in the instance's snapshot of its flow (what the runtime reads)."""
    definition = instance.definition
    for raw in definition["steps"]:
        if raw["code"] == step:
            raw["on_timeout"], raw["sla"] = on_timeout, sla
    FlowInstance.objects.filter(pk=instance.pk).update(definition=definition)
    instance.refresh_from_db()


@pytest.fixture
def district_approver(flows):
    from tests.factories import UserFactory

    return UserFactory(username="qu1", display_name="孙主任", org=flows.world.district_a, roles=("approver",))


# ── 升级 ────────────────────────────────────────────────────────────────────────────────────────────────────────


def test_an_overdue_countersign_escalates_to_the_parent_orgs_approvers_once(flows, district_approver):
    instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    instance.refresh_from_db()
    assert instance.current_step == "czj" and all(t.due_at for t in _open(instance).values())
    _overdue(instance)

    result = timers.sla_sweep()
    # cz1's task went up; cz2's joined it (the same superior).
    assert result.escalated == 1 and result.reminded == 1
    tasks = _open(instance)
    assert set(tasks) == {"cz1", "cz2", "qu1"}
    assert tasks["cz1"].timed_out and tasks["cz2"].timed_out and not tasks["qu1"].timed_out
    assert tasks["qu1"].due_at > timezone.now()  # the superior gets a fresh SLA
    escalation = FlowEvent.objects.get(instance=instance, action=FlowEvent.Action.ESCALATE)
    assert escalation.task == tasks["qu1"] and escalation.actor is None
    assert "超过办理时限" in escalation.note and "升级至西湖区" in escalation.note
    assert Notification.objects.filter(user=district_approver, text__contains="超时升级").exists()
    assert AuditEvent.objects.filter(action="approval.escalate", object_id=str(instance.pk)).count() == 1

    events, count = FlowEvent.objects.count(), ApprovalTask.objects.count()
    again = timers.sla_sweep()
    assert (
        again.handled == 0 and FlowEvent.objects.count() == events and ApprovalTask.objects.count() == count
    )

    wf.task_approve(actor=district_approver, task=tasks["qu1"], comment="同意，请加快办理")
    instance.refresh_from_db()
    assert instance.current_step == "ld"  # the superior's approval stood in for both overdue countersigns
    closed = ApprovalTask.objects.get(instance=instance, assignee=flows.cz1, step="czj")
    assert closed.status == TaskStatus.CANCELLED and "孙主任" in closed.comment


def test_when_the_overdue_approvers_act_themselves_the_escalated_task_is_withdrawn(flows, district_approver):
    instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    _overdue(instance)
    timers.sla_sweep()
    wf.task_approve(actor=flows.cz1, task=_open(instance)["cz1"])
    assert set(_open(instance)) == {"cz2", "qu1"}  # cz2 is still overdue: the superior stays on
    wf.task_approve(actor=flows.cz2, task=_open(instance)["cz2"])
    instance.refresh_from_db()
    assert instance.current_step == "ld"
    assert ApprovalTask.objects.get(assignee=district_approver).status == TaskStatus.CANCELLED


def test_with_nobody_in_the_role_above_escalation_goes_to_the_administrators(flows, config_admin):
    instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    _overdue(instance)
    timers.sla_sweep()
    assert set(_open(instance)) == {"cz1", "cz2", config_admin.username}
    assert FlowEvent.objects.filter(
        instance=instance, action="escalate", task__assignee=config_admin
    ).exists()


def test_escalation_in_a_sequential_step_lets_the_next_approver_in(flows, district_approver):
    project = flows.project("3000000.00")
    wf.change_request_submit(
        actor=flows.clerk, project=project, changes={"budget": "3500000"}, reason="加装电梯"
    )
    instance = FlowInstance.objects.get(transition="变更审批")
    _policy(instance, "ks", "升级")
    _overdue(instance)
    timers.sla_sweep()
    assert set(_open(instance)) == {"ks1", "qu1"}
    wf.task_approve(actor=district_approver, task=_open(instance)["qu1"])
    assert set(_open(instance)) == {"ks2"}  # ks1's place was taken; the chain goes on
    assert ApprovalTask.objects.get(instance=instance, assignee=flows.ks1).status == TaskStatus.CANCELLED


# ── 自动通过, 自动退回, 提醒 ───────────────────────────────────────────────────────────────────────────────────────


def test_auto_approve_on_timeout_is_marked_in_the_history(flows):
    instance = _submit(flows)
    _policy(instance, "ks", "自动通过")
    _overdue(instance)
    result = timers.sla_sweep()
    # 或签: the first automatic approval completed the step and the other task was cancelled.
    assert result.approved == 1
    instance.refresh_from_db()
    assert instance.current_step == "czj" and set(_open(instance)) == {"cz1", "cz2"}
    event = FlowEvent.objects.get(instance=instance, action=FlowEvent.Action.TIMEOUT)
    assert event.note == "超时自动通过" and event.actor is None and event.get_action_display() == "超时"
    task = event.task
    assert task.status == TaskStatus.APPROVED and task.timed_out and "超时自动通过" in task.comment
    assert AuditEvent.objects.filter(action="approval.timeout", actor__isnull=True).exists()


def test_the_last_step_approved_on_timeout_approves_the_request(flows):
    instance = _submit(flows, "3000000.00")
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    instance.refresh_from_db()
    _policy(instance, "ld", "自动通过")
    _overdue(instance)
    timers.sla_sweep()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.APPROVED
    assert Project.objects.get(pk=instance.project_id).stage == "执行"


def test_an_automatic_approval_is_not_the_persons_own_for_skipping_repeats(flows):
    from accounts.models import Role
    from accounts.services import grant_create

    grant_create(actor=None, user=flows.ks1, role=Role.objects.get(code="leader"), org=flows.world.district_a)
    instance = _submit(flows, "3000000.00")
    _policy(instance, "ks", "自动通过")
    _overdue(instance, step="ks")
    instance.tasks.filter(assignee=flows.ks2).update(due_at=timezone.now() + timedelta(days=3))
    timers.sla_sweep()  # ks1's task passed by the system
    instance.refresh_from_db()
    assert instance.current_step == "ld"
    assert instance.tasks.get(step="ld", assignee=flows.ks1).status == TaskStatus.OPEN  # not 自动跳过


def test_auto_return_on_timeout_sends_it_back_to_the_applicant(flows):
    instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    instance.refresh_from_db()
    _policy(instance, "czj", "自动退回")
    _overdue(instance)
    result = timers.sla_sweep()
    assert result.returned == 1
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RETURNED and instance.returned_from == "czj"
    assert _open(instance) == {}
    event = FlowEvent.objects.get(instance=instance, action=FlowEvent.Action.TIMEOUT)
    assert event.note == "超时自动退回" and event.actor is None
    assert Notification.objects.filter(user=flows.clerk, text__contains="超时退回").exists()
    wf.instance_resubmit(actor=flows.clerk, instance=instance, note="请尽快审核")
    instance.refresh_from_db()
    assert instance.current_step == "czj" and set(_open(instance)) == {"cz1", "cz2"}


def test_a_reminder_notifies_the_approver_once(flows):
    instance = _submit(flows)  # 住建局审核: 2工作日, 提醒 (the default)
    _overdue(instance)
    result = timers.sla_sweep()
    assert result.reminded == 2
    for username in ("ks1", "ks2"):
        task = _open(instance)[username]
        assert task.timed_out and task.reminded_at is not None
        assert Notification.objects.filter(user__username=username, text__contains="超时提醒").count() == 1
    assert FlowEvent.objects.filter(instance=instance, action="timeout").count() == 2
    assert timers.sla_sweep().handled == 0
    assert Notification.objects.filter(text__contains="超时提醒").count() == 2


def test_a_timer_missed_while_workers_were_down_fires_on_the_next_sweep(flows):
    instance = _submit(flows)
    _policy(instance, "ks", "自动通过")
    _overdue(instance, days=45)  # the workers were down for weeks
    other = _submit(flows)  # not due yet: untouched
    result = timers.sla_sweep()
    assert result.approved == 1
    instance.refresh_from_db()
    assert instance.current_step == "czj"
    assert not other.tasks.filter(timed_out=True).exists() and set(_open(other)) == {"ks1", "ks2"}


def test_a_refused_automatic_approval_leaves_it_to_the_approver(flows, monkeypatch):
    from workflow import outcomes

    def refuse(instance):
        raise ValidationFailed("项目尚未填写开工日期。")

    monkeypatch.setattr(outcomes, "approved", refuse)
    instance = _submit(flows, "3000000.00")
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    instance.refresh_from_db()
    _policy(instance, "ld", "自动通过")
    _overdue(instance)
    result = timers.sla_sweep()
    assert result.failed == 1
    instance.refresh_from_db()
    task = _open(instance)["leader_a"]
    assert instance.status == InstanceStatus.RUNNING and task.timed_out
    assert FlowEvent.objects.filter(instance=instance, action="timeout", note__contains="开工日期").exists()
    assert timers.sla_sweep().handled == 0


def test_the_celery_task_runs_eagerly_and_is_acknowledged_late(flows):
    from workflow.tasks import sla_sweep

    assert sla_sweep.acks_late and sla_sweep.name == "workflow.tasks.sla_sweep"
    instance = _submit(flows)
    _overdue(instance)
    outcome = sla_sweep.delay().get()
    assert outcome["reminded"] == 2 and outcome["handled"] == 2
    assert sla_sweep.delay().get()["handled"] == 0
    event = AuditEvent.objects.filter(action="approval.timeout").first()
    assert event.channel == "task"


def test_the_beat_schedule_runs_the_sweep():
    from django.conf import settings

    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "workflow.tasks.sla_sweep" in entries


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_handle_each_task_once(flows, district_approver):
    instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    _overdue(instance)
    barrier = threading.Barrier(3)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait()
            results.append(timers.sla_sweep())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.escalated for r in results) == 1 and sum(r.reminded for r in results) == 1
    assert FlowEvent.objects.filter(instance=instance, action="escalate").count() == 1
    assert ApprovalTask.objects.filter(instance=instance, assignee=district_approver).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_instance_an_approver_holds_is_left_for_the_next_sweep(flows):
    from django.db import transaction

    instance = _submit(flows)
    _overdue(instance)
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                FlowInstance.objects.select_for_update().get(pk=instance.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        busy = timers.sla_sweep()
    finally:
        release.set()
        holder.join()
    assert busy.busy == 1 and busy.handled == 0
    assert timers.sla_sweep().reminded == 2
