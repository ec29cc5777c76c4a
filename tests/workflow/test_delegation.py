"""审批委托 through its services: who may delegate to whom and when, overlaps, cancelling, the audit trail, and the
routing — a step starting, a waiting 依次 task coming round, an SLA escalation — recorded in the history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Conflict, PermissionDenied, ValidationFailed
from workflow import services as wf
from workflow import timers
from workflow.delegation import delegation_cancel, delegation_create, delegations_of, in_force
from workflow.models import ApprovalTask, Delegation, FlowEvent, FlowInstance, TaskStatus

from .helpers import submit

pytestmark = pytest.mark.django_db


def _open(instance) -> dict[str, ApprovalTask]:
    return {
        t.assignee.username: t
        for t in instance.tasks.filter(status=TaskStatus.OPEN).select_related("assignee")
    }


def _submit(flows, budget="20000000.00"):
    return submit(flows, budget)  # a big project: its flow includes the 财政局会签


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def qu(flows):
    """Two approvers at the district, qualified for every project of its bureaus."""
    from tests.factories import UserFactory

    district = flows.world.district_a
    return (
        UserFactory(username="qu1", display_name="孙主任", org=district, roles=("approver",)),
        UserFactory(username="qu2", display_name="周副主任", org=district, roles=("approver",)),
    )


def test_an_approver_delegates_to_a_qualified_colleague_and_it_is_audited(flows, today):
    row = delegation_create(
        actor=flows.ks1, delegate=flows.ks2, starts_on=today, ends_on=today + timedelta(days=5), note="休假"
    )
    assert row.user == flows.ks1 and row.delegate == flows.ks2 and row.active
    event = AuditEvent.objects.get(action="delegation.create")
    assert event.actor == flows.ks1 and event.after["delegate"] == "ks2"
    assert in_force(flows.ks1) == row and delegations_of(flows.ks2) == [row]


def test_the_delegate_must_be_someone_else_who_may_approve_here(flows, today):
    end = today + timedelta(days=3)
    with pytest.raises(ValidationFailed) as err:
        delegation_create(actor=flows.ks1, delegate=flows.ks1, starts_on=today, ends_on=end)
    assert "自己" in err.value.fields["delegate"][0]
    with pytest.raises(ValidationFailed) as err:  # 财政局's approver may not approve for the 住建局
        delegation_create(actor=flows.ks1, delegate=flows.cz1, starts_on=today, ends_on=end)
    assert "审批权限" in err.value.fields["delegate"][0]
    with pytest.raises(ValidationFailed):
        delegation_create(actor=flows.ks1, delegate=flows.world.users["nobody"], starts_on=today, ends_on=end)
    with pytest.raises(PermissionDenied):
        delegation_create(actor=None, delegate=flows.ks2, starts_on=today, ends_on=end)
    assert not Delegation.objects.exists()


def test_dates_are_checked(flows, today):
    with pytest.raises(ValidationFailed) as err:
        delegation_create(
            actor=flows.ks1, delegate=flows.ks2, starts_on=today, ends_on=today - timedelta(days=1)
        )
    assert "ends_on" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        delegation_create(
            actor=flows.ks1, delegate=flows.ks2, starts_on=today - timedelta(days=2), ends_on=today
        )
    assert "starts_on" in err.value.fields
    with pytest.raises(ValidationFailed):
        delegation_create(actor=flows.ks1, delegate=flows.ks2, starts_on="下周一", ends_on=today)
    with pytest.raises(ValidationFailed):
        delegation_create(
            actor=flows.ks1, delegate=flows.ks2, starts_on=today, ends_on=today + timedelta(days=400)
        )
    row = delegation_create(
        actor=flows.ks1,
        delegate=flows.ks2,
        starts_on=today.isoformat(),
        ends_on=str(today + timedelta(days=1)),
    )
    assert row.ends_on == today + timedelta(days=1)


def test_overlapping_and_mutual_delegations_are_refused(flows, qu, today):
    delegation_create(actor=flows.ks1, delegate=flows.ks2, starts_on=today, ends_on=today + timedelta(days=7))
    with pytest.raises(Conflict) as err:
        delegation_create(
            actor=flows.ks1,
            delegate=qu[0],
            starts_on=today + timedelta(days=7),
            ends_on=today + timedelta(days=9),
        )
    assert err.value.code == "delegation_overlap"
    later = delegation_create(
        actor=flows.ks1,
        delegate=qu[0],
        starts_on=today + timedelta(days=8),
        ends_on=today + timedelta(days=9),
    )
    assert later.starts_on == today + timedelta(days=8)
    with pytest.raises(Conflict) as err:
        delegation_create(
            actor=flows.ks2, delegate=flows.ks1, starts_on=today, ends_on=today + timedelta(days=1)
        )
    assert err.value.code == "delegation_cycle"


def test_only_the_delegator_cancels_and_new_tasks_come_back_to_them(flows, today):
    row = delegation_create(
        actor=flows.cz1, delegate=flows.cz2, starts_on=today, ends_on=today + timedelta(days=3)
    )
    with pytest.raises(PermissionDenied):
        delegation_cancel(actor=flows.ks2, delegation=row)
    delegation_cancel(actor=flows.cz1, delegation=row.pk)
    with pytest.raises(Conflict):
        delegation_cancel(actor=flows.cz1, delegation=row)
    assert AuditEvent.objects.filter(action="delegation.cancel", actor=flows.cz1).count() == 1
    instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    assert set(_open(instance)) == {"cz1", "cz2"}


def test_a_step_starting_during_the_range_goes_to_the_delegate(flows, today):
    delegation_create(actor=flows.ks1, delegate=flows.ks2, starts_on=today, ends_on=today + timedelta(days=2))
    instance = _submit(flows)
    tasks = instance.tasks.filter(step="ks").select_related("assignee", "delegated_from")
    assert {(t.assignee.username, getattr(t.delegated_from, "username", None)) for t in tasks} == {
        ("ks2", None),
        ("ks2", "ks1"),  # ks2 signs for themselves and, as delegate, for ks1
    }
    assert instance.events.filter(action="step", note="王科长委托李科员代为审批").exists()


def test_a_delegation_starting_later_does_not_route_today(flows, today):
    delegation_create(
        actor=flows.ks1,
        delegate=flows.ks2,
        starts_on=today + timedelta(days=1),
        ends_on=today + timedelta(days=2),
    )
    instance = _submit(flows)
    assert set(_open(instance)) == {"ks1", "ks2"}


def test_a_waiting_task_that_opens_during_the_range_goes_to_the_delegate(flows, qu, today):
    project = flows.project("3000000.00")
    wf.change_request_submit(
        actor=flows.clerk, project=project, changes={"budget": "3500000"}, reason="加装电梯"
    )
    instance = FlowInstance.objects.get(transition="变更审批")
    waiting = instance.tasks.get(assignee=flows.ks2)
    assert waiting.status == TaskStatus.WAITING
    delegation_create(actor=flows.ks2, delegate=qu[0], starts_on=today, ends_on=today + timedelta(days=2))
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    waiting.refresh_from_db()
    assert (
        waiting.status == TaskStatus.OPEN
        and waiting.assignee == qu[0]
        and waiting.delegated_from == flows.ks2
    )
    assert instance.events.filter(task=waiting, note="李科员委托孙主任代为审批").exists()
    wf.task_approve(actor=qu[0], task=waiting)
    project.refresh_from_db()
    assert str(project.budget) == "3500000.00"


def test_an_sla_escalation_goes_to_the_superiors_delegate(flows, qu, today):
    delegation_create(actor=qu[0], delegate=qu[1], starts_on=today, ends_on=today + timedelta(days=2))
    instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    instance.tasks.filter(status=TaskStatus.OPEN).update(due_at=timezone.now() - timedelta(hours=1))
    timers.sla_sweep()
    # qu1 and qu2 both hold the role above; qu1's share went to qu2 (delegated), who needs no second task.
    escalated = instance.tasks.filter(events__action=FlowEvent.Action.ESCALATE).select_related(
        "delegated_from"
    )
    assert [(t.assignee.username, getattr(t.delegated_from, "username", None)) for t in escalated] == [
        ("qu2", "qu1")
    ]
    assert instance.events.filter(note="孙主任委托周副主任代为审批").exists()
    assert set(_open(instance)) == {"cz1", "cz2", "qu2"}
