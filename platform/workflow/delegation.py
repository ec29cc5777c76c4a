"""审批委托: an approver on leave hands everything they would receive between two dates to a qualified colleague.

While a delegation is in force, every task that would go to the delegator goes to the delegate instead — when a step
starts, when a waiting task of a 依次 step or a 加签 comes round, and when an overdue task is escalated — and the
history says so (“王科长委托李科员代为审批”). Tasks the delegator already holds stay theirs (they may 转办 them).
Cancelling a delegation stops new routing; tasks already delegated stay with the delegate.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from core.errors import Conflict, PermissionDenied, ValidationFailed

from . import resolve
from .models import Delegation

MAX_DAYS = 366  # a delegation is leave cover, not a permanent proxy: at most a year at a time


def _day(value: Any, field: str, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(
            f"{label}不是有效日期。", fields={field: [f"{label}：请写成 2026-06-01"]}
        ) from None


def _name(user: Any) -> str:
    return user.display_name or user.username


def _fields(row: Delegation) -> dict:
    return {
        "user": row.user.username,
        "delegate": row.delegate.username,
        "starts_on": row.starts_on,
        "ends_on": row.ends_on,
        "note": row.note,
        "active": row.active,
    }


@transaction.atomic
def delegation_create(
    *, actor: Any, delegate: Any, starts_on: Any, ends_on: Any, note: str = ""
) -> Delegation:
    """The actor delegates their own approvals to ``delegate`` from ``starts_on`` to ``ends_on`` (inclusive)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("审批委托须由本人设置。", code="not_authenticated")
    start = _day(starts_on, "starts_on", "开始日期")
    end = _day(ends_on, "ends_on", "结束日期")
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if end < start:
        errors["ends_on"] = ["结束日期：不能早于开始日期"]
    elif start < today:
        errors["starts_on"] = ["开始日期：不能早于今天"]
    elif (end - start).days + 1 > MAX_DAYS:
        errors["ends_on"] = [f"委托期限：一次不能超过 {MAX_DAYS} 天"]
    if len(note or "") > 200:
        errors["note"] = ["事由：不能超过 200 个字"]
    if delegate is None:
        errors["delegate"] = ["代理人：不能为空"]
    elif delegate.pk == actor.pk:
        errors["delegate"] = ["代理人：不能委托给自己"]
    elif actor.org_id is None or not resolve.qualified(delegate, actor.org):
        errors["delegate"] = [f"代理人：{_name(delegate)}没有本单位的审批权限，不能代为审批"]
    if errors:
        raise ValidationFailed("审批委托未通过校验。", fields=errors)
    # Serialise the actor's delegations: two overlapping requests at the same moment cannot both pass the check.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    overlapping = Delegation.objects.filter(
        user=actor, active=True, starts_on__lte=end, ends_on__gte=start
    ).first()
    if overlapping is not None:
        raise Conflict(
            f"与已有委托（{overlapping.starts_on}—{overlapping.ends_on}，委托{_name(overlapping.delegate)}）"
            "时间重叠，请先取消或调整原委托。",
            code="delegation_overlap",
        )
    back = Delegation.objects.filter(
        user=delegate, delegate=actor, active=True, starts_on__lte=end, ends_on__gte=start
    ).first()
    if back is not None:
        raise Conflict(
            f"{_name(delegate)}在 {back.starts_on}—{back.ends_on} 已委托您代为审批，不能互相委托。",
            code="delegation_cycle",
        )
    row = Delegation.objects.create(
        user=actor, delegate=delegate, starts_on=start, ends_on=end, note=(note or "").strip()
    )
    audit_record(actor=actor, action="delegation.create", obj=row, after=_fields(row))
    return row


@transaction.atomic
def delegation_cancel(*, actor: Any, delegation: Delegation | int) -> Delegation:
    """The delegator ends a delegation (in force or still to come); new tasks go to them again from now on."""
    pk = delegation if isinstance(delegation, int) else delegation.pk
    row = Delegation.objects.select_for_update().select_related("user", "delegate").filter(pk=pk).first()
    if row is None:
        raise Conflict("审批委托不存在。", code="delegation_missing")
    if actor is None or row.user_id != actor.pk:
        raise PermissionDenied("只能取消本人设置的委托。", code="not_your_delegation")
    today = timezone.localdate()
    if not row.active or row.ends_on < today:
        raise Conflict("该委托已取消或已结束。", code="delegation_closed")
    before = _fields(row)
    row.active = False
    row.save(update_fields=["active"])
    audit_record(actor=actor, action="delegation.cancel", obj=row, before=before, after=_fields(row))
    return row


def delegations_of(user: Any, *, current_only: bool = False) -> list[Delegation]:
    """The user's delegations (given and received), newest first; only those in force or to come when asked."""
    rows = Delegation.objects.filter(Q(user=user) | Q(delegate=user)).select_related("user", "delegate")
    if current_only:
        rows = rows.filter(active=True, ends_on__gte=timezone.localdate())
    return list(rows.order_by("-starts_on", "-id"))


def in_force(user: Any, day: date | None = None) -> Delegation | None:
    """The delegation of ``user`` in force on ``day`` (today by default), if any."""
    day = day or timezone.localdate()
    return (
        Delegation.objects.filter(user=user, active=True, starts_on__lte=day, ends_on__gte=day)
        .select_related("delegate")
        .order_by("-created_at")
        .first()
    )
