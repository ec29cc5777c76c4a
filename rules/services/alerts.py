"""The alert's closed loop (闭环): acknowledge → 整改 (cause, corrective action, deadline, evidence) → verified closed by
the rule's owner, or sent back; escalation of alerts nobody acknowledged in time; reading notifications.

Who may do what: the responsible unit (``alert.handle`` over the project's org, or above it after escalation)
acknowledges and records 整改; the rule's owner (``alert.verify`` at the org that loaded the pack) verifies and closes
or sends back. Each step is an ``AlertEvent`` in the alert's timeline and an audit event.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from audit.services import audit_record
from core.errors import Conflict, ValidationFailed
from orgs.models import Org

from .. import alerting
from ..models import Alert, AlertEvent, AlertStatus, Notification

_MAX_EVIDENCE = 20 * 1024 * 1024
_EVIDENCE_TYPES = (".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx", ".zip", ".ofd")


def _locked(alert: Alert, expected_version: int | None) -> Alert:
    fresh = (
        Alert.objects.select_for_update().select_related("project__org", "rule__pack__org").get(pk=alert.pk)
    )
    if expected_version is not None and fresh.version != expected_version:
        raise Conflict(f"预警已被他人处理（当前版本 {fresh.version}），请刷新后重试。", code="stale_version")
    return fresh


def _require_status(alert: Alert, *allowed: str, doing: str) -> None:
    if alert.status not in allowed:
        raise Conflict(f"预警当前状态为“{alert.get_status_display()}”，不能{doing}。", code="invalid_state")


def _step(alert: Alert, kind: str, actor: Any, note: str, audit_action: str, /, **changes: Any) -> Alert:
    before = {"status": alert.status}
    for key, value in changes.items():
        setattr(alert, key, value)
    alert.version += 1
    alert.save(update_fields=[*changes, "version"])
    AlertEvent.objects.create(alert=alert, kind=kind, actor=actor, note=note, at=timezone.now())
    audit_record(
        actor=actor,
        action=audit_action,
        obj=alert,
        org=alert.project.org,
        before=before,
        after={"status": alert.status, "note": note[:500]},
    )
    return alert


@transaction.atomic
def alert_acknowledge(
    *, actor: Any, alert: Alert, note: str = "", expected_version: int | None = None
) -> Alert:
    """The responsible unit has seen the alert and takes it on (stops escalation)."""
    permissions.check(actor, "alert.handle", alert)
    alert = _locked(alert, expected_version)
    _require_status(alert, AlertStatus.OPEN, doing="确认")
    now = timezone.now()
    return _step(
        alert,
        AlertEvent.Kind.ACKNOWLEDGED,
        actor,
        note.strip()[:2000],
        "alert.acknowledge",
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_by=actor,
        acknowledged_at=now,
    )


def _rectify_errors(cause: str, action: str, deadline: Any, evidence: Any) -> tuple[dict, date | None]:
    errors: dict[str, list[str]] = {}
    if not cause.strip():
        errors["cause"] = ["原因分析：不能为空"]
    if not action.strip():
        errors["action"] = ["整改措施：不能为空"]
    day = None
    if isinstance(deadline, date):
        day = deadline
    else:
        try:
            day = date.fromisoformat(str(deadline or "").strip())
        except ValueError:
            errors["deadline"] = ["整改期限：日期格式应为 YYYY-MM-DD"]
    if day is not None and day < timezone.localdate():
        errors["deadline"] = ["整改期限：不能早于今天"]
    if evidence is None:
        errors["evidence"] = ["整改佐证材料：请上传文件（PDF、图片、Office 文档或压缩包）"]
    else:
        name = str(getattr(evidence, "name", "")).lower()
        if not name.endswith(_EVIDENCE_TYPES):
            errors["evidence"] = [f"整改佐证材料：只接受 {'、'.join(_EVIDENCE_TYPES)} 文件"]
        elif getattr(evidence, "size", 0) > _MAX_EVIDENCE:
            errors["evidence"] = ["整改佐证材料：文件不能超过 20MB"]
    return errors, day


@transaction.atomic
def alert_rectify(
    *,
    actor: Any,
    alert: Alert,
    cause: str,
    action: str,
    deadline: Any,
    evidence: Any,
    expected_version: int | None = None,
) -> Alert:
    """The responsible unit records 整改: cause, corrective action, deadline and evidence; the owner then verifies."""
    permissions.check(actor, "alert.handle", alert)
    errors, day = _rectify_errors(cause or "", action or "", deadline, evidence)
    if errors:
        raise ValidationFailed("整改信息未通过校验。", fields=errors)
    alert = _locked(alert, expected_version)
    _require_status(alert, AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, doing="提交整改")
    alert.evidence.save(evidence.name, evidence, save=False)
    changes: dict[str, Any] = {
        "status": AlertStatus.RECTIFYING,
        "cause": cause.strip()[:4000],
        "action": action.strip()[:4000],
        "deadline": day,
        "evidence": alert.evidence,
    }
    if alert.acknowledged_at is None:
        changes.update(acknowledged_by=actor, acknowledged_at=timezone.now())
    alert = _step(
        alert,
        AlertEvent.Kind.RECTIFIED,
        actor,
        f"整改期限 {day}：{action.strip()[:200]}",
        "alert.rectify",
        **changes,
    )
    alerting.notify(["regulator"], alert.rule.pack.org, alert, f"【整改待核销】{alert.message}")
    return alert


def _require_owner(actor: Any, alert: Alert) -> None:
    permissions.check(actor, "alert.verify", alert.rule.pack.org)


@transaction.atomic
def alert_close(*, actor: Any, alert: Alert, note: str = "", expected_version: int | None = None) -> Alert:
    """The rule's owner has verified the 整改 and closes the alert."""
    alert = _locked(alert, expected_version)
    _require_owner(actor, alert)
    _require_status(alert, AlertStatus.RECTIFYING, doing="核销关闭（须先提交整改）")
    return _step(
        alert,
        AlertEvent.Kind.CLOSED,
        actor,
        note.strip()[:2000] or "整改已核实",
        "alert.close",
        status=AlertStatus.CLOSED,
        closed_by=actor,
        closed_at=timezone.now(),
    )


@transaction.atomic
def alert_reject(*, actor: Any, alert: Alert, note: str, expected_version: int | None = None) -> Alert:
    """The owner sends the 整改 back (with a reason): the unit must rectify again."""
    if not (note or "").strip():
        raise ValidationFailed("请填写退回原因。", fields={"note": ["退回原因：不能为空"]})
    alert = _locked(alert, expected_version)
    _require_owner(actor, alert)
    _require_status(alert, AlertStatus.RECTIFYING, doing="退回")
    alert = _step(
        alert,
        AlertEvent.Kind.REJECTED,
        actor,
        note.strip()[:2000],
        "alert.reject",
        status=AlertStatus.ACKNOWLEDGED,
    )
    alerting.notify(
        ["staff"], alert.project.org, alert, f"【整改被退回】{alert.message}：{note.strip()[:200]}"
    )
    return alert


def _escalate_days(alert: Alert) -> int:
    return alert.rule.escalate_after_days or settings.TAIZHANG_ALERT_ESCALATE_DAYS


@transaction.atomic
def alerts_escalate(*, now: Any = None) -> list[Alert]:
    """Move every alert left unacknowledged past its rule's limit one org level up, and tell that level.

    Idempotent: the clock restarts at each escalation, so running it twice in a row changes nothing the second time.
    """
    now = now or timezone.now()
    due = []
    candidates = Alert.objects.select_for_update(skip_locked=True).filter(status=AlertStatus.OPEN)
    for alert in candidates.select_related("org", "project__org", "rule__pack"):
        since = alert.escalated_at or alert.fired_at
        parent = Org.objects.get_parent(alert.org)
        if parent is None or now - since < timedelta(days=_escalate_days(alert)):
            continue
        note = f"超过 {_escalate_days(alert)} 天未确认，由{alert.org.name}升级至{parent.name}"
        _step(
            alert,
            AlertEvent.Kind.ESCALATED,
            None,
            note,
            "alert.escalate",
            org=parent,
            escalation_level=alert.escalation_level + 1,
            escalated_at=now,
        )
        alerting.notify(
            ["regulator", "leader"], parent, alert, f"【预警升级】{alert.message}（{note}）", email=True
        )
        due.append(alert)
    return due


@transaction.atomic
def notifications_read(*, actor: Any, ids: list[int] | None = None) -> int:
    """Mark the actor's notifications read (all of them when ``ids`` is None)."""
    rows = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(id__in=ids)
    return rows.update(read_at=timezone.now())
