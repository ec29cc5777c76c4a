"""Who and where a write comes from, carried alongside the call so services need not take a request.

The web middleware fills it per request; the CLI and Celery tasks fill it with their own origin.
Audit events read it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None = None
    channel: str = "web"  # web | api | cli | task | system


_current: ContextVar[RequestContext | None] = ContextVar("taizhang_request_context", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    return (
        ctx
        if ctx is not None
        else RequestContext(request_id=f"sys-{uuid.uuid4().hex[:12]}", channel="system")
    )


@contextlib.contextmanager
def bind(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex
