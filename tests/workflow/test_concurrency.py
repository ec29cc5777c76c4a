"""Approvals under concurrency on PostgreSQL: simultaneous approvers, a double click and a withdrawal racing an
approval can neither skip, duplicate nor resurrect a step (every action locks the instance row first)."""

from __future__ import annotations

import pytest

from core.errors import Conflict
from tests.concurrency import race
from workflow import services as wf
from workflow.models import FlowEvent, InstanceStatus, TaskStatus

from .helpers import open_task, submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_any_of_approvers_at_once_advance_the_step_exactly_once(flows):
    instance = submit(flows, "3000000.00")
    t1, t2 = open_task(instance, "ks1"), open_task(instance, "ks2")
    results, errors = race(
        lambda: wf.task_approve(actor=flows.ks1, task=t1.pk),
        lambda: wf.task_approve(actor=flows.ks2, task=t2.pk),
    )
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict)
    assert instance.tasks.filter(step="ks", status=TaskStatus.APPROVED).count() == 1
    assert instance.tasks.filter(step="ld").count() == 1  # the next step started once
    assert FlowEvent.objects.filter(instance=instance, action="step", step="ld").count() == 1


def test_all_of_approvers_at_once_both_count_and_the_step_advances_once(flows):
    instance = submit(flows, "20000000.00")
    wf.task_approve(actor=flows.ks1, task=open_task(instance, "ks1"))
    c1, c2 = open_task(instance, "cz1"), open_task(instance, "cz2")
    results, errors = race(
        lambda: wf.task_approve(actor=flows.cz1, task=c1.pk),
        lambda: wf.task_approve(actor=flows.cz2, task=c2.pk),
    )
    assert not errors and len(results) == 2
    assert instance.tasks.filter(step="czj", status=TaskStatus.APPROVED).count() == 2
    assert instance.tasks.filter(step="ld").count() == 1


def test_a_double_click_approves_once(flows):
    instance = submit(flows, "3000000.00")
    task = open_task(instance, "ks1")
    results, errors = race(*(lambda: wf.task_approve(actor=flows.ks1, task=task.pk) for _ in range(5)))
    assert len(results) == 1 and len(errors) == 4
    assert all(isinstance(e, Conflict) and e.code == "task_closed" for e in errors)
    assert FlowEvent.objects.filter(instance=instance, action="approve").count() == 1


def test_a_withdrawal_racing_an_approval_has_one_winner(flows):
    for _ in range(3):
        instance = submit(flows, "3000000.00")
        task = open_task(instance, "ks1")
        results, errors = race(
            lambda: wf.task_approve(actor=flows.ks1, task=task.pk),  # noqa: B023
            lambda: wf.instance_withdraw(actor=flows.clerk, instance=instance),  # noqa: B023
        )
        assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict)
        instance.refresh_from_db()
        if instance.status == InstanceStatus.WITHDRAWN:
            assert not instance.tasks.filter(status=TaskStatus.OPEN).exists()  # nothing resurrected
            assert not instance.tasks.filter(status=TaskStatus.APPROVED).exists()
        else:
            assert instance.current_step == "ld"
            wf.task_approve(actor=flows.leader, task=open_task(instance, "leader_a"))
