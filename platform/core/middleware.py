"""Binds a RequestContext (request id, client address) for the duration of each request."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from . import context
from .errors import ServiceError

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request) -> str | None:
    """The client's address; X-Forwarded-For is believed only for the configured number of proxies."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(parts) >= hops:
            return parts[-hops]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _SAFE_ID.match(given) else context.new_request_id()
        channel = "api" if request.path.startswith("/api/") else "web"
        ctx = context.RequestContext(request_id=request_id, client_ip=client_ip(request), channel=channel)
        request.request_id = request_id
        with context.bind(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class ServiceErrorMiddleware:
    """Pages get the same treatment as the API: a service error becomes its 4xx page, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ServiceError):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                exception.as_dict(), status=exception.status, json_dumps_params={"ensure_ascii": False}
            )
        return render(request, "taizhang/error.html", {"error": exception}, status=exception.status)
