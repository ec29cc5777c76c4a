"""What an approval's outcome does to the project: the stage moves, the expenditure becomes payable, the change
takes effect — each through the projects app's own service, so rules, totals and the audit trail behave as for any
other write. Withdrawing an approval releases what it held (the pending expenditure or change is withdrawn)."""

from __future__ import annotations

from typing import Any


def approved(instance: Any) -> None:
    subject = instance.subject or {}
    project = instance.project
    if instance.transition in ("立项审批", "验收审批"):
        from projects.services import project_stage_move

        project_stage_move(
            actor=None,
            project=project,
            to_stage=subject["stage"],
            note=f"{instance.flow_name}通过",
            approval=instance,
        )
    elif instance.transition == "支出审批":
        from projects.services import expenditure_approve

        expenditure_approve(expenditure_id=subject["expenditure"], approval=instance)
    elif instance.transition == "变更审批":
        from .services import change_apply

        change_apply(change_id=subject["change"], approval=instance)


def withdrawn(instance: Any) -> None:
    subject = instance.subject or {}
    if instance.transition == "支出审批":
        from projects.services import expenditure_withdraw

        expenditure_withdraw(expenditure_id=subject["expenditure"])
    elif instance.transition == "变更审批":
        from .models import ChangeRequest

        ChangeRequest.objects.filter(pk=subject["change"], status=ChangeRequest.Status.PENDING).update(
            status=ChangeRequest.Status.WITHDRAWN
        )
