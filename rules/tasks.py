"""Celery tasks for rules: the scheduled sweep (per rule, so each is its own retryable unit) and alert escalation.

Every task is idempotent and acknowledged late (``acks_late``): a worker killed half-way through leaves the message
unacknowledged, the broker hands it to another worker, and the rerun converges on the same alerts, because each
rule is swept in one transaction and alerts are unique per rule × open project.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core import context

_RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 5,
}


def _context(name: str) -> context.RequestContext:
    return context.RequestContext(request_id=f"{name}-{context.new_request_id()[:8]}", channel="task")


@shared_task(name="rules.tasks.sweep_rule", **_RETRY)
def sweep_rule(rule_id: int, today: str | None = None) -> dict | None:
    """Sweep one rule over its pack's jurisdiction."""
    from datetime import date

    from .models import PackStatus, Rule
    from .sweep import sweep_rule as run

    rule = Rule.objects.select_related("pack", "pack__org").filter(pk=rule_id).first()
    if rule is None or rule.pack.status != PackStatus.ACTIVE:
        return None
    with context.bind(_context(f"sweep-{rule_id}")):
        result = run(rule, today=date.fromisoformat(today) if today else None)
    return result.as_dict()


@shared_task(name="rules.tasks.sweep_all", **_RETRY)
def sweep_all(today: str | None = None) -> list[dict]:
    """Sweep every scheduled rule of every active pack, one rule after another."""
    from .models import PackStatus, Rule

    ids = Rule.objects.filter(pack__status=PackStatus.ACTIVE, on_schedule=True).order_by(
        "pack_id", "position"
    )
    return [r for r in (sweep_rule(rule_id, today) for rule_id in ids.values_list("id", flat=True)) if r]


@shared_task(name="rules.tasks.escalate", **_RETRY)
def escalate() -> int:
    """Escalate the alerts nobody acknowledged in time."""
    from .services.alerts import alerts_escalate

    with context.bind(_context("escalate")):
        return len(alerts_escalate())
