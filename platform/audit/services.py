"""Writing and verifying the audit trail. `audit_record` is called by every other service, inside its transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from core import context

from .chain import GENESIS, canonical, compute_hash, event_fields, jsonable
from .models import AuditEvent

if TYPE_CHECKING:
    from accounts.models import User
    from orgs.models import Org

# Arbitrary constant key for the advisory lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x7A1_2A6


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Any = None,
    org: Org | None = None,
    before: dict | None = None,
    after: dict | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction, so it commits with the write."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
    if org is None and actor is not None and getattr(actor, "org_id", None):
        org = actor.org
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            occurred_at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_name=actor_name or (actor.get_username() if actor is not None else ""),
            org=org,
            action=action,
            object_type=object_type or "",
            object_id=object_id or "",
            object_repr=object_repr or "",
            before=jsonable(before),
            after=jsonable(after),
            request_id=ctx.request_id,
            client_ip=ctx.client_ip,
            channel=ctx.channel,
            prev_hash=last or GENESIS,
        )
        event.hash = compute_hash(event.prev_hash, event_fields(event))
        event.save()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_id": self.first_bad_id,
            "reason": self.reason,
        }


def audit_verify() -> ChainReport:
    """Recompute the whole chain in id order; report the first event whose link or hash does not hold."""
    expected_prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.id, "链接断裂：前一哈希不符（事件被删除或插入）")
        if compute_hash(event.prev_hash, event_fields(event)) != event.hash:
            return ChainReport(False, checked, event.id, "内容被篡改：哈希不符")
        expected_prev = event.hash
        checked += 1
    return ChainReport(True, checked)


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The values of `fields` on `obj`, as the before/after of an audit event (foreign keys by id)."""
    out: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = getattr(obj, field.attname)
    return jsonable(out)


def export_line(event: AuditEvent) -> str:
    """One event as a JSON line carrying every chained field, so an export can be verified offline."""
    data = event_fields(event)
    return (
        json.dumps(
            {"id": event.id, "prev_hash": event.prev_hash, "hash": event.hash, **json.loads(canonical(data))},
            ensure_ascii=False,
        )
        + "\n"
    )
