"""Celery tasks for approvals: the SLA sweep that celery beat runs every few minutes (``CELERY_BEAT_SCHEDULE``).

The sweep is acknowledged late (``acks_late``): a worker killed half-way leaves the message unacknowledged and
another worker reruns it; what was committed stays done (each overdue task is handled once, in its instance's own
transaction) and the rerun finishes the rest.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from core import context

_RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(name="workflow.tasks.sla_sweep", **_RETRY)
def sla_sweep(now: str | None = None) -> dict:
    """Handle every approval task past its SLA (提醒, 升级, 自动通过, 自动退回); ``now`` (ISO) replays a moment."""
    from .timers import sla_sweep as run

    moment = datetime.fromisoformat(now) if now else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    ctx = context.RequestContext(request_id=f"sla-sweep-{context.new_request_id()[:8]}", channel="task")
    with context.bind(ctx):
        return run(now=moment).as_dict()
