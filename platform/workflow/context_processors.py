"""The header's 审批 badge: the user's open approval tasks (and how many are overdue), for signed-in users.

Computed lazily through ``selectors.counts`` (two indexed counts): a page that never renders the header pays nothing.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import SimpleLazyObject

from . import selectors


class ApprovalBadge:
    """What the header shows: ``todo`` open tasks, of which ``overdue`` are past their time limit."""

    def __init__(self, user: Any) -> None:
        counts = selectors.counts(user)
        self.todo = counts["todo"]
        self.overdue = counts["overdue"]

    def __bool__(self) -> bool:
        return self.todo > 0


def approval_badge(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"approval_badge": SimpleLazyObject(lambda: ApprovalBadge(user))}
