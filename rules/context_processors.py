"""The header's alert badge: unread notifications plus the alerts waiting for the user, for signed-in users only.

Two cheap counts (each an indexed query), computed lazily: a page that never renders the header pays nothing.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import SimpleLazyObject

from . import selectors


class AlertBadge:
    """What the header shows: ``unread`` notifications, ``todo`` alerts awaiting the user, and their sum."""

    def __init__(self, user: Any) -> None:
        self.visible = selectors.can_see_alerts(user)
        self.unread = selectors.unread_count(user)
        self.todo = selectors.todo_count(user) if self.visible else 0
        self.total = self.unread + self.todo

    def __bool__(self) -> bool:
        return self.visible or self.unread > 0


def alert_badge(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"alert_badge": SimpleLazyObject(lambda: AlertBadge(user))}
