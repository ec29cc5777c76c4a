"""Raising, refreshing and resolving alerts, quoting values in messages, and telling the people concerned.

One open alert per rule × project (``Alert.rule_key`` + a partial unique index): re-firing refreshes the explanation,
the quoted values and the versions in force; a condition that turns false resolves the alert automatically, recorded
as such. New alerts notify the rule's roles in-app and, when the rule asks, by e-mail after the transaction commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.permissions import ancestor_paths
from audit.services import audit_record
from dsl import default_getter
from dsl.values import format_value, to_json

from .models import OPEN_STATUSES, Alert, AlertEvent, AlertStatus, Notification
from .spec import PLACEHOLDER, placeholders


def _shown(value: Any, fmt: str) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, Decimal):
        if fmt == "%":
            return f"{(value * 100).quantize(Decimal('0.01'))}%"
        if fmt == "万元":
            return f"{(value / 10000).quantize(Decimal('0.01')):,}万元"
        if fmt == "元":
            return f"{value.quantize(Decimal('0.01')):,}元"
    text = format_value(value)
    return text.strip("“”") if isinstance(value, str) else text


def read(ctx: Any, record: dict[str, Any], name: str) -> Any:
    found = ctx.catalogue.lookup(name)
    return default_getter(record, found.path) if found is not None else record.get(name)


def render_message(bound: Any, record: dict[str, Any]) -> str:
    """The rule's message with ``{name}`` / ``{name:%}`` / ``{name:万元}`` replaced by the project's values."""
    spec = getattr(bound, "spec", bound)
    template = spec.message or spec.name
    ctx = getattr(bound, "ctx", None)

    def value(match: re.Match) -> str:
        name = match.group(1).strip()
        raw = read(ctx, record, name) if ctx is not None else record.get(name)
        return _shown(raw, (match.group(2) or "").strip())

    return PLACEHOLDER.sub(value, template)[:1000]


def quoted_values(bound: Any, record: dict[str, Any]) -> dict[str, Any]:
    """Every name the rule reads or quotes, with its value (JSON-able), for the alert's 取值 panel."""
    names = list(
        dict.fromkeys([*sorted(bound.compiled.reads), *(n for n, _ in placeholders(bound.spec.message))])
    )
    out = {}
    for name in names:
        value = read(bound.ctx, record, name)
        if isinstance(value, list) and len(value) > 20:
            value = [*value[:20], "…"]
        out[name] = to_json(value)
    return out


def versions_of(bound: Any, project: Any) -> dict[str, Any]:
    pack = bound.rule.pack
    out: dict[str, Any] = {
        "rule_pack": f"{pack.code} v{pack.version}",
        "rule_pack_checksum": pack.checksum[:12],
    }
    if project.type_version_id:
        out["project_type"] = f"{project.type_version.type.code} v{project.type_version.number}"
    if project.form_version_id:
        out["form"] = f"{project.form_version.form.code} v{project.form_version.number}"
    return out


def apply(
    project: Any,
    *,
    fired: Iterable[tuple[Any, dict]],
    cleared: Iterable[tuple[Any, dict]],
    today: date,
    actor: Any = None,
) -> list[Alert]:
    """Raise or refresh an alert for each fired rule, resolve the open alert of each cleared one."""
    fired, cleared = list(fired), list(cleared)
    keys = [b.rule.key for b, _ in fired + cleared]
    existing = {
        a.rule_key: a
        for a in Alert.objects.select_for_update().filter(
            project=project, status__in=OPEN_STATUSES, rule_key__in=keys
        )
    }
    out = []
    for bound, record in fired:
        if bound.spec.raise_alert:
            out.append(fire(bound, project, record, today=today, existing=existing.get(bound.rule.key)))
    for bound, _record in cleared:
        alert = existing.get(bound.rule.key)
        if alert is not None:
            resolve(alert, actor=actor)
    return out


def fire(bound: Any, project: Any, record: dict[str, Any], *, today: date, existing: Alert | None) -> Alert:
    """Raise the alert of ``bound`` on ``project``, or refresh the open one (``existing``)."""
    now = timezone.now()
    fields = {
        "rule": bound.rule,
        "severity": bound.spec.severity,
        "message": render_message(bound, record),
        "trace": bound.compiled.explain(record, today=today).to_dict(),
        "values": quoted_values(bound, record),
        "versions": versions_of(bound, project),
        "last_fired_at": now,
    }
    if existing is not None:
        for key, value in fields.items():
            setattr(existing, key, value)
        existing.fire_count += 1
        existing.version += 1
        existing.save(update_fields=[*fields, "fire_count", "version"])
        return existing
    alert = Alert.objects.create(
        rule_key=bound.rule.key, project=project, org=project.org, fired_at=now, **fields
    )
    AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.FIRED, note=alert.message, at=now)
    audit_record(
        actor=None,
        action="alert.fire",
        obj=alert,
        org=project.org,
        after={
            "rule": bound.rule.key,
            "project": project.code,
            "severity": alert.severity,
            "message": alert.message,
        },
    )
    notify(
        bound.spec.notify, project.org, alert, f"【{alert.severity}】{alert.message}", email=bound.spec.email
    )
    return alert


def resolve(alert: Alert, *, actor: Any = None) -> Alert:
    """The condition no longer holds: close the alert automatically, recorded as such."""
    now = timezone.now()
    alert.status = AlertStatus.RESOLVED
    alert.closed_at = now
    alert.version += 1
    alert.save(update_fields=["status", "closed_at", "version"])
    AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.RESOLVED, note="预警条件已不再成立", at=now)
    audit_record(
        actor=None,
        action="alert.resolve",
        obj=alert,
        org=alert.project.org,
        after={
            "status": alert.status,
            "reason": "条件消除，自动解除",
            "after_write_by": getattr(actor, "username", ""),
        },
    )
    return alert


def recipients(roles: Iterable[str], org: Any) -> list[Any]:
    """Active users holding one of ``roles`` at ``org`` or above it."""
    from accounts.models import User

    roles = list(roles)
    if not roles:
        return []
    return list(
        User.objects.filter(
            is_active=True, grants__role__code__in=roles, grants__org__path__in=ancestor_paths(org.path)
        ).distinct()
    )


def notify(roles: Iterable[str], org: Any, alert: Alert, text: str, *, email: bool = False) -> int:
    """In-app notifications now (in the transaction); e-mails once the transaction has committed."""
    users = recipients(roles, org)
    Notification.objects.bulk_create([Notification(user=u, alert=alert, text=text[:1000]) for u in users])
    addresses = [u.email for u in users if u.email]
    if email and addresses:
        subject = f"[台账预警] {alert.project.name}"
        body = f"{text}\n\n项目：{alert.project.code} {alert.project.name}\n请登录台账系统处理。"
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses, fail_silently=True)
        )
    return len(users)
