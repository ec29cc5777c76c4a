"""The top bar's link to the studio, for whoever may view configuration (checked only when a page asks)."""

from __future__ import annotations

from typing import Any

from .endpoints import can_view_studio


def studio_link(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)

    def visible() -> bool:
        if user is None or not user.is_authenticated:
            return False
        return can_view_studio(user)

    return {"studio_visible": visible}
