"""What every studio JSON endpoint shares: the login and permission gate, reading the body, and the answer's shape.

An endpoint answers ``200`` with its payload, or a 4xx with ``{code, message, fields}`` (``core.errors``) — never an
HTML page or a 500 — so the editors can show a problem next to the field it names.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts import permissions
from core.errors import PermissionDenied, ServiceError, ValidationFailed

__all__ = [
    "can_view_studio",
    "diagnostic",
    "json_endpoint",
    "json_error",
    "json_ok",
    "lang",
    "read_json",
    "require_studio_view",
]


def can_view_studio(user: Any) -> bool:
    """Whoever may view configuration (or load rule packs) may open the studio; what they may change is checked
    per object by the services."""
    return permissions.can(user, "config.view") or permissions.can(user, "rulepack.manage")


def require_studio_view(user: Any) -> None:
    if not can_view_studio(user):
        raise PermissionDenied(_("您没有“查看配置”的权限。"))


def lang() -> str:
    """The language messages of the DSL checker are given in: ``en`` or ``zh``."""
    return "en" if (get_language() or "").startswith("en") else "zh"


def diagnostic(error: Any) -> dict[str, Any]:
    """One DSL diagnostic (``dsl.diagnose``) as the editors read it: where, what, in the page's language."""
    return {
        "line": error.line,
        "column": error.column,
        "end_line": error.end_line,
        "end_column": error.end_column,
        "code": error.code,
        "message": error.message_in(lang()),
        "suggestions": list(getattr(error, "suggestions", ())),
    }


def json_ok(payload: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})


def json_error(error: ServiceError, **extra: Any) -> JsonResponse:
    return json_ok({**error.as_dict(), **extra}, status=error.status)


def read_json(request: HttpRequest, *, limit: int, decimals: bool = False) -> dict[str, Any]:
    """The request body as a JSON object of at most ``limit`` bytes (numbers as ``Decimal`` when ``decimals``)."""
    if len(request.body) > limit:
        raise ValidationFailed(_("请求体过大。"), code="too_large")
    try:
        text = request.body.decode("utf-8") or "{}"
        body = json.loads(text, parse_float=Decimal) if decimals else json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed(_("请求体不是有效的 JSON。"), code="bad_json") from None
    if not isinstance(body, dict):
        raise ValidationFailed(_("请求体应为 JSON 对象。"), code="bad_json")
    return body


def json_endpoint(
    resolve: Callable[[Any, str], Any] | None = None, *, key: str = "", permission: str | None = "config.view"
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Login and ``permission`` required; ``resolve(user, kwargs[key])`` turns the URL's code into the object the
    view receives (raising ``NotFound`` for what the user may not see); a service error becomes its 4xx JSON."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return json_error(PermissionDenied(_("请先登录。"), code="not_authenticated"))
            try:
                if permission and not permissions.can(request.user, permission):
                    raise PermissionDenied(_("您没有“查看配置”的权限。"))
                if resolve is not None:
                    return view(request, resolve(request.user, kwargs.pop(key)), *args, **kwargs)
                return view(request, *args, **kwargs)
            except ServiceError as error:
                return json_error(error)

        return wrapped

    return decorate
