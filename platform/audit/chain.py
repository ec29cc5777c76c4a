"""The hash chain: how an event's fields become its hash. Pure functions, shared by write and verify."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64
CHAINED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_name",
    "org_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "request_id",
    "client_ip",
    "channel",
)


def jsonable(value: Any) -> Any:
    """Plain JSON data (Decimals and dates become strings), exactly as the JSON column will give it back."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def canonical(fields: dict[str, Any]) -> str:
    data = dict(fields)
    stamp: datetime = data["occurred_at"]
    data["occurred_at"] = stamp.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)


def compute_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = prev_hash + "\n" + canonical({name: fields[name] for name in CHAINED_FIELDS})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def event_fields(event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in CHAINED_FIELDS}
