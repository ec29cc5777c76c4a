"""The approval runtime through its services: routing by condition, modes, return and resubmission, transfer,
加签, withdrawal, self-approval, empty approver roles, 自动跳过, delegation, and what approval does to the project."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Conflict, PermissionDenied, ValidationFailed
from projects import services as projects
from projects.models import Expenditure, Project
from workflow import services as wf
from workflow.models import ApprovalTask, Delegation, FlowInstance, InstanceStatus, TaskStatus

pytestmark = pytest.mark.django_db


def _open(instance) -> dict[str, ApprovalTask]:
    return {
        t.assignee.username: t
        for t in instance.tasks.filter(status=TaskStatus.OPEN).select_related("assignee")
    }


def _submit(flows, budget="20000000.00"):
    project = flows.project(budget)
    project, instance = wf.stage_request(actor=flows.clerk, project=project, to_stage="执行")
    return project, instance


def test_stage_moves_under_approval_wait_for_it_and_direct_moves_are_refused(flows):
    project, instance = _submit(flows)
    assert instance.status == InstanceStatus.RUNNING and project.stage == "立项"
    with pytest.raises(Conflict) as err:
        projects.project_stage_move(actor=flows.clerk, project=project, to_stage="执行")
    assert err.value.code == "approval_required"
    with pytest.raises(Conflict) as err:
        wf.stage_request(actor=flows.clerk, project=project, to_stage="执行")
    assert err.value.code == "approval_running"


def test_a_big_project_goes_through_the_finance_countersign_and_is_approved(flows):
    project, instance = _submit(flows, "20000000.00")
    assert set(_open(instance)) == {"ks1", "ks2"}  # 或签
    wf.task_approve(actor=flows.ks2, task=_open(instance)["ks2"], comment="同意上报")
    instance.refresh_from_db()
    assert instance.current_step == "czj" and set(_open(instance)) == {"cz1", "cz2"}  # 会签: both
    assert (
        ApprovalTask.objects.get(instance=instance, assignee=flows.ks1, step="ks").status
        == TaskStatus.CANCELLED
    )
    wf.task_approve(actor=flows.cz1, task=_open(instance)["cz1"])
    instance.refresh_from_db()
    assert instance.current_step == "czj" and set(_open(instance)) == {"cz2"}
    wf.task_approve(actor=flows.cz2, task=_open(instance)["cz2"])
    instance.refresh_from_db()
    assert instance.current_step == "ld" and set(_open(instance)) == {"leader_a"}
    wf.task_approve(actor=flows.leader, task=_open(instance)["leader_a"], comment="同意立项")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.APPROVED
    assert Project.objects.get(pk=project.pk).stage == "执行"
    actions = list(instance.events.values_list("action", flat=True))
    assert actions[0] == "submit" and actions[-1] == "finish"
    assert AuditEvent.objects.filter(action="approval.approve", object_id=str(instance.pk)).count() == 4


def test_a_small_project_skips_the_finance_step_and_says_so(flows):
    _project, instance = _submit(flows, "3000000.00")
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    instance.refresh_from_db()
    assert instance.current_step == "ld"
    assert instance.events.filter(action="skip", step="czj", note__contains="预算 > 1000万").exists()


def test_return_to_the_applicant_then_resubmit_goes_straight_back_to_the_returning_step(flows):
    _project, instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    with pytest.raises(ValidationFailed):
        wf.task_return(actor=flows.cz1, task=_open(instance)["cz1"], reason=" ")
    wf.task_return(actor=flows.cz1, task=_open(instance)["cz1"], reason="资金来源说明不完整")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RETURNED and instance.returned_from == "czj"
    assert _open(instance) == {}  # cz2's task was cancelled with the return
    with pytest.raises(PermissionDenied):
        wf.instance_resubmit(actor=flows.ks1, instance=instance)
    wf.instance_resubmit(actor=flows.clerk, instance=instance, note="已补充资金来源说明")
    instance.refresh_from_db()
    assert (
        instance.status == InstanceStatus.RUNNING and instance.current_step == "czj" and instance.round == 2
    )
    assert set(_open(instance)) == {"cz1", "cz2"}


def test_return_to_a_step_already_passed(flows):
    _project, instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    with pytest.raises(ValidationFailed):
        wf.task_return(actor=flows.cz1, task=_open(instance)["cz1"], reason="x", to="ld")  # not passed yet
    wf.task_return(actor=flows.cz1, task=_open(instance)["cz1"], reason="请住建局复核投资估算", to="ks")
    instance.refresh_from_db()
    assert instance.current_step == "ks" and set(_open(instance)) == {"ks1", "ks2"}


def test_only_the_assignee_acts_and_only_once(flows):
    _project, instance = _submit(flows)
    task = _open(instance)["ks1"]
    with pytest.raises(PermissionDenied):
        wf.task_approve(actor=flows.ks2, task=task)
    wf.task_approve(actor=flows.ks1, task=task)
    with pytest.raises(Conflict) as err:
        wf.task_approve(actor=flows.ks1, task=task)  # the double click
    assert err.value.code == "task_closed"


def test_transfer_and_add_signer(flows):
    _project, instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    with pytest.raises(ValidationFailed):
        wf.task_transfer(actor=flows.cz1, task=_open(instance)["cz1"], to_user=flows.world.users["nobody"])
    with pytest.raises(ValidationFailed):
        wf.task_transfer(actor=flows.cz1, task=_open(instance)["cz1"], to_user=flows.clerk)  # the applicant
    new = wf.task_transfer(
        actor=flows.cz1, task=_open(instance)["cz1"], to_user=flows.ks2, comment="出差，请代审"
    )
    assert new.assignee == flows.ks2 and set(_open(instance)) == {"cz2", "ks2"}
    added = wf.task_add_signer(
        actor=flows.cz2, task=_open(instance)["cz2"], user=flows.ks1, position="before"
    )
    assert set(_open(instance)) == {"ks2", "ks1"} and added.added_by == flows.cz2
    wf.task_approve(actor=flows.ks1, task=added)
    assert set(_open(instance)) == {"ks2", "cz2"}  # cz2's task came back after the 加签 approved
    wf.task_approve(actor=flows.ks2, task=new)
    wf.task_approve(actor=flows.cz2, task=_open(instance)["cz2"])
    instance.refresh_from_db()
    assert instance.current_step == "ld"


def test_withdraw_until_an_approver_acts(flows):
    _project, instance = _submit(flows)
    with pytest.raises(PermissionDenied):
        wf.instance_withdraw(actor=flows.ks1, instance=instance)
    wf.instance_withdraw(actor=flows.clerk, instance=instance, reason="材料有误")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.WITHDRAWN and _open(instance) == {}
    _project, second = wf.stage_request(
        actor=flows.clerk, project=Project.objects.get(pk=_project.pk), to_stage="执行"
    )
    wf.task_approve(actor=flows.ks1, task=_open(second)["ks1"])
    with pytest.raises(Conflict) as err:
        wf.instance_withdraw(actor=flows.clerk, instance=second)
    assert err.value.code == "already_acted"


def test_the_applicant_never_approves_their_own_request(flows):
    from accounts.models import Role
    from accounts.services import grant_create

    grant_create(
        actor=None, user=flows.clerk, role=Role.objects.get(code="approver"), org=flows.world.bureau_a
    )
    _project, instance = _submit(flows)
    assert set(_open(instance)) == {"ks1", "ks2"}
    assert instance.events.filter(note__contains="申请人不能审批本人的申请").exists()


def test_nobody_in_the_role_goes_to_the_administrator_and_says_so(flows, config_admin):
    flows.finance.grants.all().delete()
    from accounts.models import Grant

    Grant.objects.filter(user__in=[flows.cz1, flows.cz2]).delete()
    _project, instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    instance.refresh_from_db()
    assert instance.current_step == "czj" and set(_open(instance)) == {config_admin.username}
    assert instance.events.filter(action="no_approver", note__contains="转交管理员").exists()


def test_the_same_person_on_consecutive_steps_approves_once(flows):
    from accounts.models import Role
    from accounts.services import grant_create

    grant_create(actor=None, user=flows.ks1, role=Role.objects.get(code="leader"), org=flows.world.district_a)
    _project, instance = _submit(flows, "3000000.00")
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    instance.refresh_from_db()
    skipped = instance.tasks.get(step="ld", assignee=flows.ks1)
    assert skipped.status == TaskStatus.SKIPPED
    assert set(_open(instance)) == set() or instance.status == InstanceStatus.APPROVED


def test_delegation_routes_new_tasks_to_the_delegate(flows):
    today = timezone.localdate()
    Delegation.objects.create(
        user=flows.cz1, delegate=flows.ks2, starts_on=today, ends_on=today + timedelta(days=7)
    )
    _project, instance = _submit(flows)
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    tasks = _open(instance)
    assert set(tasks) == {"ks2", "cz2"} and tasks["ks2"].delegated_from == flows.cz1
    assert instance.events.filter(note__contains="委托").exists()


def test_an_expenditure_under_approval_counts_only_once_approved(flows):
    project = flows.project("3000000.00")
    row = projects.expenditure_record(
        actor=flows.clerk,
        project=project,
        voucher_no="PZ-1",
        paid_on="2026-06-01",
        payee="某公司",
        amount="600000",
    )
    assert row.approval == Expenditure.Approval.PENDING
    assert Project.objects.get(pk=project.pk).spent_total == Decimal("0.00")
    instance = FlowInstance.objects.get(transition="支出审批")
    assert instance.subject == {"expenditure": row.pk, "amount": "600000.00"}
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    assert set(_open(instance)) == {"cz1", "cz2"}  # 申请金额 > 50万: the finance bureau checks too (或签)
    wf.task_approve(actor=flows.cz2, task=_open(instance)["cz2"])
    row.refresh_from_db()
    assert row.approval == Expenditure.Approval.APPROVED
    assert Project.objects.get(pk=project.pk).spent_total == Decimal("600000.00")


def test_a_withdrawn_expenditure_never_counts(flows):
    project = flows.project("3000000.00")
    row = projects.expenditure_record(
        actor=flows.clerk,
        project=project,
        voucher_no="PZ-2",
        paid_on="2026-06-01",
        payee="某公司",
        amount="1000",
    )
    wf.instance_withdraw(actor=flows.clerk, instance=FlowInstance.objects.get(transition="支出审批"))
    row.refresh_from_db()
    assert row.approval == Expenditure.Approval.WITHDRAWN
    assert Project.objects.get(pk=project.pk).spent_total == Decimal("0.00")


def test_a_change_takes_effect_after_sequential_approval(flows):
    project = flows.project("3000000.00")
    change = wf.change_request_submit(
        actor=flows.clerk, project=project, changes={"budget": "3500000"}, reason="增加加装电梯数量"
    )
    instance = FlowInstance.objects.get(transition="变更审批")
    assert set(_open(instance)) == {"ks1"}  # 依次: ks1 first, ks2 waits
    assert instance.tasks.get(assignee=flows.ks2).status == TaskStatus.WAITING
    wf.task_approve(actor=flows.ks1, task=_open(instance)["ks1"])
    assert set(_open(instance)) == {"ks2"}
    assert Project.objects.get(pk=project.pk).budget == Decimal("3000000.00")
    wf.task_approve(actor=flows.ks2, task=_open(instance)["ks2"])
    change.refresh_from_db()
    assert change.status == "applied" and Project.objects.get(pk=project.pk).budget == Decimal("3500000.00")


def test_urge_is_rate_limited(flows):
    _project, instance = _submit(flows)
    assert wf.instance_urge(actor=flows.clerk, instance=instance) == 2
    with pytest.raises(Conflict) as err:
        wf.instance_urge(actor=flows.clerk, instance=instance)
    assert err.value.code == "rate_limited"


def test_a_blocking_rule_refuses_a_payment_at_submission_not_after_its_approval(flows):
    from rules.engine import RuleBlocked
    from tests.rules.rule_fixtures import make_pack

    make_pack(
        flows.world.city,
        [
            {
                "code": "CZ-02",
                "condition": "超支率 > 10%",
                "block": ["支出登记"],
                "message": "超支{超支率:%}，暂停支出",
            }
        ],
    )
    project = flows.project("1000000.00")
    with pytest.raises(RuleBlocked) as err:
        projects.expenditure_record(
            actor=flows.clerk,
            project=project,
            voucher_no="PZ-9",
            paid_on="2026-06-01",
            payee="某公司",
            amount="1200000",
        )
    assert "超支20.00%，暂停支出" in err.value.message
    assert not Expenditure.objects.filter(project=project).exists()
    assert not FlowInstance.objects.filter(project=project).exists()
    projects.expenditure_record(
        actor=flows.clerk,
        project=project,
        voucher_no="PZ-10",
        paid_on="2026-06-01",
        payee="某公司",
        amount="1050000",
    )  # 5% over: allowed, waits for approval


def test_a_blocking_rule_refuses_a_change_request_when_it_is_asked_for(flows):
    from rules.engine import RuleBlocked
    from tests.rules.rule_fixtures import make_pack

    project = flows.project("1000000.00")
    Project.objects.filter(pk=project.pk).update(spent_total=Decimal("950000.00"))
    make_pack(
        flows.world.city,
        [
            {
                "code": "CZ-02",
                "condition": "超支率 > 10%",
                "block": ["项目修改"],
                "message": "调减后超支{超支率:%}",
            }
        ],
    )
    project = Project.objects.get(pk=project.pk)
    with pytest.raises(RuleBlocked) as err:
        wf.change_request_submit(
            actor=flows.clerk, project=project, changes={"budget": "800000"}, reason="压减投资"
        )
    assert "调减后超支18.75%" in err.value.message
    assert not project.change_requests.exists()
    wf.change_request_submit(
        actor=flows.clerk, project=project, changes={"name": "翠苑一区改造（调整）"}, reason="更名"
    )
